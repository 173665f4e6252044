// Fuzz target: the peering wire decoders (peering/wire.h) on any JSON value, as a peer's
// `update`, `open` or `addRoute` argument would reach them after the session evaluated it.
// Beyond not crashing, every record a decoder accepts must survive encode -> decode unchanged,
// and the decoders that read the wire in place (updateBatchFromWire, peerInfoFromWire, on the
// same value in Cap'n Web's encoding) must give exactly what the Value ones give, errors
// included. So must the readers of the message text (rpc::TextTape, updateBatchFromText,
// peerInfoFromText) whenever the tape takes the text: on toWire()'s text of the value, and on
// the input itself read as Cap'n Web's encoding (any spacing, repeated keys, prototype keys,
// number forms, `["undefined"]`); and the tape must never take text the JSON parser refuses.
// Whatever the one-pass reader of update calls (updateCallFromText) takes, as the `update` of
// a call or as a whole argument list, the tape takes too and reads alike.
//
// Input: one JSON document (the argument). Not JSON: only the last check.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "catalyst/peering/wire.h"
#include "catalyst/rpc/plain_json.h"
#include "catalyst/rpc/text_data.h"
#include "catalyst/rpc/wire_data.h"

namespace {

namespace json = boost::json;
using catalyst::rpc::Value;

// The string "undefined" as an object member stands for JavaScript's undefined (how reference
// nodes send absent optionals), so the decoders see that case too.
// Prototype keys go, as the session's evaluation drops them.
void markUndefined(Value& v) {
  if (auto* a = v.as<catalyst::rpc::Array>()) {
    for (Value& e : *a) {
      markUndefined(e);
    }
  } else if (auto* o = v.as<catalyst::rpc::Object>()) {
    std::erase_if(
        *o, [](const catalyst::rpc::Member& m) { return catalyst::rpc::isPrototypeKey(m.key); });
    for (catalyst::rpc::Member& m : *o) {
      if (const auto* s = m.value.as<std::string>(); s != nullptr && *s == "undefined") {
        m.value = Value();
      } else {
        markUndefined(m.value);
      }
    }
  }
}

// `v` as Cap'n Web's encoding writes the same value: every array escaped (`[[...]]`), and the
// members markUndefined() makes undefined as `["undefined"]`.
json::value toWire(const json::value& v) {
  if (v.is_array()) {
    json::array inner;
    for (const json::value& e : v.get_array()) {
      inner.push_back(toWire(e));
    }
    json::array outer;
    outer.emplace_back(std::move(inner));
    return outer;
  }
  if (v.is_object()) {
    json::object o;
    for (const auto& kv : v.get_object()) {
      if (kv.value().is_string() && kv.value().get_string() == "undefined") {
        o[kv.key()] = json::array{"undefined"};
      } else {
        o[kv.key()] = toWire(kv.value());
      }
    }
    return o;
  }
  return v;
}

[[noreturn]] void mismatch() { std::abort(); }

template <class T> void expectSame(const catalyst::Result<T>& a, const catalyst::Result<T>& b) {
  if (static_cast<bool>(a) != static_cast<bool>(b)) {
    mismatch();
  }
  if (a ? !(*a == *b) : a.error().message != b.error().message) {
    mismatch();
  }
}

// Under the JSON parser's limit (64), by a margin for the argument list around the value.
constexpr std::size_t kTapeDepth = 60;

// `text` (one value, in Cap'n Web's encoding) read from the text and from `parsed`, its tree.
void expectTextReadsAsWire(std::string_view text, const json::value& parsed) {
  catalyst::rpc::TextTape tape;
  const std::string args = "[" + std::string(text) + "]";
  if (!tape.parseArgs(args, kTapeDepth)) {
    return; // declined: the session parses it
  }
  if (tape.size() != 1 || !catalyst::rpc::WireData::plain(parsed)) {
    mismatch(); // the tape takes plain data only
  }
  namespace peering = catalyst::peering;
  const catalyst::rpc::WireData in_place(parsed);
  expectSame(peering::updateBatchFromWire(in_place, 1000),
             peering::updateBatchFromText(tape[0], 1000));
  expectSame(peering::peerInfoFromWire(in_place), peering::peerInfoFromText(tape[0]));
}

// `args` (an update call's argument list) read in one pass and through the tape.
void expectOnePassReadsAsTape(const std::string& args) {
  catalyst::rpc::TextTape fast_tape;
  std::string scratch;
  namespace peering = catalyst::peering;
  const std::optional<peering::UpdateCallText> fast =
      peering::updateCallFromText(args, kTapeDepth, 1000, fast_tape, scratch);
  if (!fast) {
    return; // declined: read as the tape reads it
  }
  catalyst::rpc::TextTape tape;
  if (!tape.parseArgs(args, kTapeDepth) || !tape[0].find("peerInfo").isObject()) {
    mismatch();
  }
  auto items = peering::updateBatchFromText(tape[0].find("update"), 1000);
  if (!items || !(*items == fast->items) ||
      tape[0].find("endOfRib").boolean().value_or(false) != fast->end_of_rib) {
    mismatch();
  }
  expectSame(peering::peerInfoFromText(tape[0].find("peerInfo")),
             peering::peerInfoFromText(fast->caller.find("peerInfo")));
}

void expectOnePassReadsAsTape(std::string_view update, std::string_view end_of_rib) {
  expectOnePassReadsAsTape(R"([{"peerInfo":{"name":"node-a","domains":[["x"]]},"update":)" +
                           std::string(update) + std::string(end_of_rib) + "}]");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  json::value doc = json::parse(input, ec, {}, options);
  if (ec) {
    // As an argument list ("1,2" is one), what the tape takes must be JSON.
    const std::string args = "[" + std::string(input) + "]";
    catalyst::rpc::TextTape tape;
    boost::system::error_code list_ec;
    json::parse(args, list_ec, {}, options);
    if (list_ec && tape.parseArgs(args, kTapeDepth)) {
      mismatch(); // the tape took what is not JSON
    }
    expectOnePassReadsAsTape(std::string(input));
    return 0;
  }
  expectTextReadsAsWire(input, doc);
  expectOnePassReadsAsTape(std::string(input));
  expectOnePassReadsAsTape(input, "");
  expectOnePassReadsAsTape(input, R"(,"endOfRib":true)");
  Value value = catalyst::rpc::fromPlainJson(doc);
  markUndefined(value);
  namespace peering = catalyst::peering;
  const json::value wire = toWire(doc);
  if (!catalyst::rpc::WireData::plain(wire)) {
    mismatch(); // toWire writes plain data only
  }
  const catalyst::rpc::WireData in_place(wire);
  expectSame(peering::updateBatchFromValue(value, 1000),
             peering::updateBatchFromWire(in_place, 1000));
  expectSame(peering::peerInfoFromValue(value), peering::peerInfoFromWire(in_place));
  expectTextReadsAsWire(json::serialize(wire), wire);
  expectOnePassReadsAsTape(json::serialize(wire), "");

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
