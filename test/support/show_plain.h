#pragma once

#include <string>
#include <string_view>

namespace catalyst::test {

// Everything the plain-data reading interface (rpc::WireData, rpc::TextData, rpc::ValueData)
// shows of a value, in one short canonical text: two readers of the same value must give the
// same text. Special values (evaluated only) show as "?".
template <class Data> std::string showPlain(const Data& d) {
  if (!d.present()) {
    return d.isUndefined() ? "undefined" : "?";
  }
  if (d.isNull()) {
    return "null";
  }
  if (auto b = d.boolean()) {
    return *b ? "true" : "false";
  }
  if (auto n = d.number()) {
    return std::to_string(*n);
  }
  if (auto s = d.string()) {
    return "'" + std::string(*s) + "'";
  }
  if (d.isArray()) {
    std::string out = "[";
    for (std::size_t i = 0; i < d.size(); ++i) {
      out += showPlain(d[i]) + ",";
    }
    return out + "]";
  }
  if (d.isObject()) {
    std::string out = "{";
    d.forEachMember([&out](std::string_view key, const Data& v) {
      out += std::string(key) + ":" + showPlain(v) + ",";
    });
    return out + "}";
  }
  return "?";
}

} // namespace catalyst::test
