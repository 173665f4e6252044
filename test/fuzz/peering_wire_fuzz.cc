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
#include "catalyst/rpc/plain_json.h"

namespace {

namespace json = boost::json;
using catalyst::rpc::Value;

// The string "undefined" as an object member stands for JavaScript's undefined (how reference
// nodes send absent optionals), so the decoders see that case too.
void markUndefined(Value& v) {
  if (auto* a = v.as<catalyst::rpc::Array>()) {
    for (Value& e : *a) {
      markUndefined(e);
    }
  } else if (auto* o = v.as<catalyst::rpc::Object>()) {
    for (catalyst::rpc::Member& m : *o) {
      if (const auto* s = m.value.as<std::string>(); s != nullptr && *s == "undefined") {
        m.value = Value();
      } else {
        markUndefined(m.value);
      }
    }
  }
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
  Value value = catalyst::rpc::fromPlainJson(doc);
  markUndefined(value);
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
