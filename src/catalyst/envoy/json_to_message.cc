#include "catalyst/envoy/json_to_message.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace catalyst::envoy::detail {

namespace pb = google::protobuf;
namespace json = boost::json;
using FD = pb::FieldDescriptor;

namespace {

constexpr std::string_view kTypePrefix = "type.googleapis.com/";

template <class T> bool integer(const json::value& v, T& out) {
  if (v.is_int64()) {
    const int64_t i = v.get_int64();
    if (std::cmp_less(i, std::numeric_limits<T>::min()) ||
        std::cmp_greater(i, std::numeric_limits<T>::max())) {
      return false;
    }
    out = static_cast<T>(i);
    return true;
  }
  if (v.is_uint64()) {
    const uint64_t u = v.get_uint64();
    if (std::cmp_greater(u, std::numeric_limits<T>::max())) {
      return false;
    }
    out = static_cast<T>(u);
    return true;
  }
  if (v.is_string()) { // 64-bit integers are strings in proto3 JSON (and any integer may be)
    const json::string& s = v.get_string();
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
  }
  return false;
}

bool number(const json::value& v, double& out) {
  if (v.is_double()) {
    out = v.get_double();
    return true;
  }
  if (v.is_int64()) {
    out = static_cast<double>(v.get_int64());
    return true;
  }
  if (v.is_uint64()) {
    out = static_cast<double>(v.get_uint64());
    return true;
  }
  return false; // "NaN", "Infinity" and numbers in strings: the slow path
}

// "5s", "0.250s", "-1.5s": seconds with up to nine fractional digits.
bool duration(std::string_view text, int64_t& seconds, int32_t& nanos) {
  if (text.size() < 2 || text.back() != 's') {
    return false;
  }
  text.remove_suffix(1);
  bool negative = false;
  if (text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  if (whole.empty()) {
    return false;
  }
  const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc{} || end != whole.data() + whole.size() || seconds > 315'576'000'000) {
    return false;
  }
  nanos = 0;
  if (dot != std::string_view::npos) {
    const std::string_view fraction = text.substr(dot + 1);
    if (fraction.empty() || fraction.size() > 9) {
      return false;
    }
    int32_t scale = 100'000'000;
    for (char c : fraction) {
      if (c < '0' || c > '9') {
        return false;
      }
      nanos += (c - '0') * scale;
      scale /= 10;
    }
  }
  if (negative) {
    seconds = -seconds;
    nanos = -nanos;
  }
  return true;
}

bool isWrapper(std::string_view name) {
  return name == "google.protobuf.DoubleValue" || name == "google.protobuf.FloatValue" ||
         name == "google.protobuf.Int64Value" || name == "google.protobuf.UInt64Value" ||
         name == "google.protobuf.Int32Value" || name == "google.protobuf.UInt32Value" ||
         name == "google.protobuf.BoolValue" || name == "google.protobuf.StringValue";
}

} // namespace

bool JsonToMessage::fill(const json::value& value, pb::Message& message) const {
  bool handled = false;
  if (!fillWellKnown(value, message, handled)) {
    return false;
  }
  if (handled) {
    return true;
  }
  const json::object* object = value.if_object();
  return object != nullptr && fillObject(*object, message);
}

bool JsonToMessage::fillWellKnown(const json::value& value, pb::Message& message,
                                  bool& handled) const {
  const pb::Descriptor* d = message.GetDescriptor();
  const std::string& name = d->full_name();
  if (!name.starts_with("google.protobuf.")) {
    return true;
  }
  handled = true;
  const pb::Reflection* r = message.GetReflection();
  if (name == "google.protobuf.Duration") {
    int64_t seconds = 0;
    int32_t nanos = 0;
    if (!value.is_string() || !duration(value.get_string(), seconds, nanos)) {
      return false;
    }
    if (seconds != 0) {
      r->SetInt64(&message, d->FindFieldByName("seconds"), seconds);
    }
    if (nanos != 0) {
      r->SetInt32(&message, d->FindFieldByName("nanos"), nanos);
    }
    return true;
  }
  if (isWrapper(name)) {
    return setField(message, d->FindFieldByName("value"), value);
  }
  if (name == "google.protobuf.Empty") {
    return value.is_object() && value.get_object().empty();
  }
  if (name == "google.protobuf.Any") {
    const json::object* object = value.if_object();
    const json::value* type = object != nullptr ? object->if_contains("@type") : nullptr;
    if (type == nullptr || !type->is_string()) {
      return false;
    }
    const std::string_view url = type->get_string();
    if (!url.starts_with(kTypePrefix)) {
      return false;
    }
    const pb::Descriptor* inner =
        pool_.FindMessageTypeByName(std::string(url.substr(kTypePrefix.size())));
    if (inner == nullptr || inner->full_name().starts_with("google.protobuf.")) {
      return false; // unknown, or a well-known type inside an Any ({"@type", "value"}): slow path
    }
    std::unique_ptr<pb::Message> packed(factory_.GetPrototype(inner)->New());
    json::object rest;
    for (const auto& [key, v] : *object) {
      if (key != "@type") {
        rest.emplace(key, v);
      }
    }
    if (!fillObject(rest, *packed)) {
      return false;
    }
    std::string bytes;
    if (!packed->SerializeToString(&bytes)) {
      return false;
    }
    r->SetString(&message, d->FindFieldByName("type_url"), std::string(url));
    r->SetString(&message, d->FindFieldByName("value"), std::move(bytes));
    return true;
  }
  return false; // Struct, Value, ListValue, Timestamp, FieldMask: the slow path
}

bool JsonToMessage::fillObject(const json::object& object, pb::Message& message) const {
  const pb::Descriptor* d = message.GetDescriptor();
  const pb::Reflection* r = message.GetReflection();
  for (const auto& [key, value] : object) {
    const std::string name(key);
    const FD* field = d->FindFieldByName(name);
    if (field == nullptr) {
      field = d->FindFieldByCamelcaseName(name);
    }
    if (field == nullptr) {
      return false; // unknown field
    }
    if (value.is_null()) {
      continue;
    }
    if (const pb::OneofDescriptor* oneof = field->real_containing_oneof();
        oneof != nullptr && r->HasOneof(message, oneof)) {
      return false; // a oneof set twice
    }
    if (field->is_map()) {
      const json::object* entries = value.if_object();
      if (entries == nullptr) {
        return false;
      }
      const FD* key_field = field->message_type()->map_key();
      const FD* value_field = field->message_type()->map_value();
      if (key_field->cpp_type() != FD::CPPTYPE_STRING) {
        return false;
      }
      for (const auto& [k, v] : *entries) {
        pb::Message* entry = r->AddMessage(&message, field, &factory_);
        entry->GetReflection()->SetString(entry, key_field, std::string(k));
        if (!setField(*entry, value_field, v)) {
          return false;
        }
      }
    } else if (field->is_repeated()) {
      const json::array* items = value.if_array();
      if (items == nullptr) {
        return false;
      }
      for (const json::value& item : *items) {
        if (!addField(message, field, item)) {
          return false;
        }
      }
    } else if (!setField(message, field, value)) {
      return false;
    }
  }
  return true;
}

bool JsonToMessage::setField(pb::Message& message, const FD* field,
                             const json::value& value) const {
  const pb::Reflection* r = message.GetReflection();
  switch (field->cpp_type()) {
  case FD::CPPTYPE_STRING:
    if (field->type() == FD::TYPE_BYTES || !value.is_string()) {
      return false; // bytes are base64: the slow path
    }
    r->SetString(&message, field, std::string(value.get_string()));
    return true;
  case FD::CPPTYPE_BOOL:
    if (!value.is_bool()) {
      return false;
    }
    r->SetBool(&message, field, value.get_bool());
    return true;
  case FD::CPPTYPE_INT32: {
    int32_t v = 0;
    if (!integer(value, v)) {
      return false;
    }
    r->SetInt32(&message, field, v);
    return true;
  }
  case FD::CPPTYPE_INT64: {
    int64_t v = 0;
    if (!integer(value, v)) {
      return false;
    }
    r->SetInt64(&message, field, v);
    return true;
  }
  case FD::CPPTYPE_UINT32: {
    uint32_t v = 0;
    if (!integer(value, v)) {
      return false;
    }
    r->SetUInt32(&message, field, v);
    return true;
  }
  case FD::CPPTYPE_UINT64: {
    uint64_t v = 0;
    if (!integer(value, v)) {
      return false;
    }
    r->SetUInt64(&message, field, v);
    return true;
  }
  case FD::CPPTYPE_DOUBLE:
  case FD::CPPTYPE_FLOAT: {
    double v = 0;
    if (!number(value, v)) {
      return false;
    }
    if (field->cpp_type() == FD::CPPTYPE_DOUBLE) {
      r->SetDouble(&message, field, v);
    } else {
      r->SetFloat(&message, field, static_cast<float>(v));
    }
    return true;
  }
  case FD::CPPTYPE_ENUM: {
    const pb::EnumValueDescriptor* e = nullptr;
    if (value.is_string()) {
      e = field->enum_type()->FindValueByName(std::string(value.get_string()));
    } else if (int32_t n = 0; integer(value, n)) {
      e = field->enum_type()->FindValueByNumber(n);
    }
    if (e == nullptr) {
      return false;
    }
    r->SetEnum(&message, field, e);
    return true;
  }
  case FD::CPPTYPE_MESSAGE:
    return fill(value, *r->MutableMessage(&message, field, &factory_));
  }
  return false;
}

bool JsonToMessage::addField(pb::Message& message, const FD* field,
                             const json::value& value) const {
  const pb::Reflection* r = message.GetReflection();
  if (field->cpp_type() == FD::CPPTYPE_MESSAGE) {
    return fill(value, *r->AddMessage(&message, field, &factory_));
  }
  switch (field->cpp_type()) {
  case FD::CPPTYPE_STRING:
    if (field->type() == FD::TYPE_BYTES || !value.is_string()) {
      return false;
    }
    r->AddString(&message, field, std::string(value.get_string()));
    return true;
  case FD::CPPTYPE_ENUM: {
    const pb::EnumValueDescriptor* e =
        value.is_string() ? field->enum_type()->FindValueByName(std::string(value.get_string()))
                          : nullptr;
    if (e == nullptr) {
      return false;
    }
    r->AddEnum(&message, field, e);
    return true;
  }
  case FD::CPPTYPE_BOOL:
    if (!value.is_bool()) {
      return false;
    }
    r->AddBool(&message, field, value.get_bool());
    return true;
  case FD::CPPTYPE_UINT32: {
    uint32_t v = 0;
    if (!integer(value, v)) {
      return false;
    }
    r->AddUInt32(&message, field, v);
    return true;
  }
  default:
    return false; // other repeated scalars: the slow path
  }
}

} // namespace catalyst::envoy::detail
