// Fuzz target: the peering wire decoders (peering/wire.h) on any JSON value, as a peer's
// `update`, `open` or `addRoute` argument would reach them after the session evaluated it.
// Beyond not crashing, every record a decoder accepts must survive encode -> decode unchanged.
//
// Input: one JSON document (the argument). Not JSON: ignored.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json.hpp>

#include "catalyst/peering/wire.h"

namespace {

namespace json = boost::json;
using catalyst::rpc::Value;

Value toValue(const json::value& v) {
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
    catalyst::rpc::Array out;
    for (const json::value& e : v.get_array()) {
      out.push_back(toValue(e));
    }
    return out;
  }
  case json::kind::object: {
    catalyst::rpc::Object out;
    for (const auto& [key, value] : v.get_object()) {
      // The string "undefined" stands for JavaScript's undefined (absent optionals).
      out.push_back(catalyst::rpc::Member{
          std::string(key),
          value.is_string() && value.get_string() == "undefined" ? Value() : toValue(value)});
    }
    return out;
  }
  case json::kind::null:
    return nullptr;
  }
  return Value();
}

[[noreturn]] void mismatch() { std::abort(); }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  json::value doc =
      json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec, {}, options);
  if (ec) {
    return 0;
  }
  const Value value = toValue(doc);
  namespace peering = catalyst::peering;

  if (auto items = peering::updateBatchFromValue(value, 1000)) {
    for (const auto& item : *items) {
      auto again = peering::updateItemFromValue(peering::toValue(item));
      if (!again || !(*again == item)) {
        mismatch();
      }
    }
  }
  if (auto route = peering::routeFromValue(value)) {
    auto again = peering::routeFromValue(peering::toValue(*route));
    if (!again || !(*again == *route)) {
      mismatch();
    }
  }
  if (auto info = peering::peerInfoFromValue(value)) {
    auto again =
        peering::peerInfoFromValue(peering::toValue(*info, peering::TokenVisibility::Include));
    if (!again || !(*again == *info)) {
      mismatch();
    }
  }
  return 0;
}
