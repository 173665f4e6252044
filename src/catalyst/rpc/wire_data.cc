#include "catalyst/rpc/wire_data.h"

#include <algorithm>
#include <array>

#include <boost/json.hpp>

namespace catalyst::rpc {
namespace {

namespace bj = boost::json;

constexpr std::array<std::string_view, 13> kPrototypeKeys{
    "__proto__",       "constructor",      "hasOwnProperty",       "isPrototypeOf",
    "toString",        "valueOf",          "propertyIsEnumerable", "toLocaleString",
    "toJSON",          "__defineGetter__", "__defineSetter__",     "__lookupGetter__",
    "__lookupSetter__"};

bool isUndefinedForm(const bj::array& a) {
  return a.size() == 1 && a[0].is_string() && a[0].get_string() == "undefined";
}

} // namespace

bool isPrototypeKey(std::string_view key) {
  constexpr std::size_t kShortest = [] {
    std::size_t n = kPrototypeKeys[0].size();
    for (std::string_view k : kPrototypeKeys) {
      n = std::min(n, k.size());
    }
    return n;
  }();
  if (key.size() < kShortest) { // most keys: no comparison at all
    return false;
  }
  for (std::string_view k : kPrototypeKeys) {
    if (k == key) {
      return true;
    }
  }
  return false;
}

bool WireData::plain(const bj::value& value) {
  switch (value.kind()) {
  case bj::kind::object:
    for (const auto& kv : value.get_object()) {
      if (!plain(kv.value())) {
        return false;
      }
    }
    return true;
  case bj::kind::array: {
    const bj::array& a = value.get_array();
    if (isUndefinedForm(a)) {
      return true;
    }
    if (a.size() != 1 || !a[0].is_array()) {
      return false;
    }
    for (const bj::value& e : a[0].get_array()) {
      if (!plain(e)) {
        return false;
      }
    }
    return true;
  }
  default:
    return true;
  }
}

const Value& ValueData::value() const {
  static const Value kUndefined;
  return value_ == nullptr ? kUndefined : *value_;
}

bool WireArgs::plain(const bj::array& args) {
  for (const bj::value& arg : args) {
    if (!WireData::plain(arg)) {
      return false;
    }
  }
  return true;
}

bool WireData::isUndefined() const {
  return value_ == nullptr || (value_->is_array() && isUndefinedForm(value_->get_array()));
}

std::optional<bool> WireData::boolean() const {
  if (value_ == nullptr || !value_->is_bool()) {
    return std::nullopt;
  }
  return value_->get_bool();
}

std::optional<double> WireData::number() const {
  if (value_ == nullptr) {
    return std::nullopt;
  }
  // As the session's evaluation converts them.
  if (value_->is_int64()) {
    return static_cast<double>(value_->get_int64());
  }
  if (value_->is_uint64()) {
    return static_cast<double>(value_->get_uint64());
  }
  if (value_->is_double()) {
    return value_->get_double();
  }
  return std::nullopt;
}

std::optional<std::string_view> WireData::string() const {
  if (value_ == nullptr || !value_->is_string()) {
    return std::nullopt;
  }
  return std::string_view(value_->get_string());
}

WireData WireData::find(std::string_view key) const {
  if (!isObject() || isPrototypeKey(key)) {
    return {};
  }
  const bj::object& o = value_->get_object();
  auto it = o.find(key);
  return it == o.end() ? WireData() : WireData(it->value());
}

const bj::array* WireData::elements() const {
  if (value_ == nullptr || !value_->is_array()) {
    return nullptr;
  }
  const bj::array& a = value_->get_array();
  return a.size() == 1 && a[0].is_array() ? &a[0].get_array() : nullptr;
}

std::size_t WireData::size() const {
  const bj::array* a = elements();
  return a == nullptr ? 0 : a->size();
}

WireData WireData::operator[](std::size_t i) const {
  const bj::array* a = elements();
  return a == nullptr || i >= a->size() ? WireData() : WireData((*a)[i]);
}

} // namespace catalyst::rpc
