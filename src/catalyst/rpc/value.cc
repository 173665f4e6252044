#include "catalyst/rpc/value.h"

#include <array>
#include <cmath>
#include <utility>

#include "catalyst/rpc/json_writer.h"

namespace catalyst::rpc {
namespace {

constexpr std::array<std::pair<BytesKind, std::string_view>, 13> kBytesKinds{{
    {BytesKind::Uint8Array, "Uint8Array"},
    {BytesKind::ArrayBuffer, "ArrayBuffer"},
    {BytesKind::DataView, "DataView"},
    {BytesKind::Int8Array, "Int8Array"},
    {BytesKind::Uint8ClampedArray, "Uint8ClampedArray"},
    {BytesKind::Int16Array, "Int16Array"},
    {BytesKind::Uint16Array, "Uint16Array"},
    {BytesKind::Int32Array, "Int32Array"},
    {BytesKind::Uint32Array, "Uint32Array"},
    {BytesKind::BigInt64Array, "BigInt64Array"},
    {BytesKind::BigUint64Array, "BigUint64Array"},
    {BytesKind::Float32Array, "Float32Array"},
    {BytesKind::Float64Array, "Float64Array"},
}};

bool sameNumber(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    return std::isnan(a) && std::isnan(b);
  }
  return a == b && std::signbit(a) == std::signbit(b);
}

void debug(const Value& v, std::string& out);

void debugObject(const Object& o, std::string& out) {
  out.push_back('{');
  for (std::size_t i = 0; i < o.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    json::appendString(out, o[i].key);
    out.push_back(':');
    debug(o[i].value, out);
  }
  out.push_back('}');
}

void debug(const Value& v, std::string& out) {
  const auto& var = v.variant();
  if (v.isUndefined()) {
    out += "undefined";
  } else if (v.isNull()) {
    out += "null";
  } else if (const bool* b = std::get_if<bool>(&var)) {
    out += *b ? "true" : "false";
  } else if (const double* d = std::get_if<double>(&var)) {
    if (std::isnan(*d)) {
      out += "NaN";
    } else if (std::isinf(*d)) {
      out += *d > 0 ? "Infinity" : "-Infinity";
    } else {
      json::appendNumber(out, *d);
    }
  } else if (const std::string* s = std::get_if<std::string>(&var)) {
    json::appendString(out, *s);
  } else if (const Array* a = std::get_if<Array>(&var)) {
    out.push_back('[');
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i != 0) {
        out.push_back(',');
      }
      debug((*a)[i], out);
    }
    out.push_back(']');
  } else if (const Object* o = std::get_if<Object>(&var)) {
    debugObject(*o, out);
  } else if (const BigInt* n = std::get_if<BigInt>(&var)) {
    out += n->decimal + "n";
  } else if (const Encoded* enc = std::get_if<Encoded>(&var)) {
    out += enc->text;
  } else if (const Date* dt = std::get_if<Date>(&var)) {
    out += "Date(";
    if (dt->ms) {
      json::appendNumber(out, *dt->ms);
    } else {
      out += "invalid";
    }
    out += ")";
  } else if (const Bytes* by = std::get_if<Bytes>(&var)) {
    out += std::string(toString(by->kind)) + "(" + json::base64Encode(by->data) + ")";
  } else if (const ErrorValue* e = std::get_if<ErrorValue>(&var)) {
    out += e->name + "(";
    json::appendString(out, e->message);
    if (!e->props.empty()) {
      out += ",";
      debugObject(e->props, out);
    }
    out += ")";
  } else {
    out += "<stub>";
  }
}

} // namespace

std::string_view toString(BytesKind kind) {
  for (const auto& [k, name] : kBytesKinds) {
    if (k == kind) {
      return name;
    }
  }
  return "Uint8Array";
}

std::optional<BytesKind> parseBytesKind(std::string_view text) {
  for (const auto& [k, name] : kBytesKinds) {
    if (name == text) {
      return k;
    }
  }
  return std::nullopt;
}

std::size_t elementSize(BytesKind kind) {
  switch (kind) {
  case BytesKind::Int16Array:
  case BytesKind::Uint16Array:
    return 2;
  case BytesKind::Int32Array:
  case BytesKind::Uint32Array:
  case BytesKind::Float32Array:
    return 4;
  case BytesKind::BigInt64Array:
  case BytesKind::BigUint64Array:
  case BytesKind::Float64Array:
    return 8;
  default:
    return 1;
  }
}

bool Date::operator==(const Date& other) const {
  if (ms.has_value() != other.ms.has_value()) {
    return false;
  }
  return !ms || sameNumber(*ms, *other.ms);
}

bool ErrorValue::operator==(const ErrorValue& other) const {
  return name == other.name && message == other.message && stack == other.stack &&
         props == other.props;
}

bool Value::operator==(const Value& other) const {
  if (v_.index() != other.v_.index()) {
    return false;
  }
  if (const double* d = std::get_if<double>(&v_)) {
    return sameNumber(*d, std::get<double>(other.v_));
  }
  return v_ == other.v_;
}

const Value* Value::find(std::string_view key) const {
  const Object* o = as<Object>();
  if (o == nullptr) {
    return nullptr;
  }
  for (const Member& m : *o) {
    if (m.key == key) {
      return &m.value;
    }
  }
  return nullptr;
}

Value& Value::set(std::string_view key, Value value) {
  Object& o = std::get<Object>(v_);
  for (Member& m : o) {
    if (m.key == key) {
      m.value = std::move(value);
      return m.value;
    }
  }
  o.push_back(Member{std::string(key), std::move(value)});
  return o.back().value;
}

std::string Value::debugString() const {
  std::string out;
  debug(*this, out);
  return out;
}

Object object(std::initializer_list<std::pair<std::string_view, Value>> members) {
  Object o;
  o.reserve(members.size());
  for (const auto& [k, v] : members) {
    o.push_back(Member{std::string(k), v});
  }
  return o;
}

ErrorValue makeError(std::string name, std::string message, Object props) {
  ErrorValue e;
  e.name = std::move(name);
  e.message = std::move(message);
  e.props = std::move(props);
  return e;
}

} // namespace catalyst::rpc
