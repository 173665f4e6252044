#include "catalyst/rpc/plain_json.h"

#include <cmath>
#include <cstdint>

#include <boost/json.hpp>

namespace catalyst::rpc {

namespace json = boost::json;

json::value toPlainJson(const Value& v) {
  if (const auto* b = v.as<bool>()) {
    return *b;
  }
  if (const auto* d = v.as<double>()) {
    // Whole numbers print as such (10001, not Boost.JSON's 1.0001E4 for a double).
    if (std::trunc(*d) == *d && std::abs(*d) < 9.0e15) {
      return static_cast<std::int64_t>(*d);
    }
    return *d;
  }
  if (const auto* s = v.as<std::string>()) {
    return json::string(*s);
  }
  if (const auto* a = v.as<Array>()) {
    json::array out;
    for (const Value& e : *a) {
      out.push_back(toPlainJson(e));
    }
    return out;
  }
  if (const auto* o = v.as<Object>()) {
    json::object out;
    for (const Member& m : *o) {
      if (!m.value.isUndefined()) {
        out[m.key] = toPlainJson(m.value);
      }
    }
    return out;
  }
  return nullptr;
}

Value fromPlainJson(const json::value& v) {
  switch (v.kind()) {
  case json::kind::bool_:
    return v.get_bool();
  case json::kind::int64:
  case json::kind::uint64:
  case json::kind::double_:
    return v.to_number<double>();
  case json::kind::string:
    return std::string(v.get_string());
  case json::kind::array: {
    Array out;
    for (const json::value& e : v.get_array()) {
      out.push_back(fromPlainJson(e));
    }
    return out;
  }
  case json::kind::object: {
    Object out;
    for (const auto& [key, value] : v.get_object()) {
      out.push_back(Member{std::string(key), fromPlainJson(value)});
    }
    return out;
  }
  case json::kind::null:
    return nullptr;
  }
  return Value();
}

} // namespace catalyst::rpc
