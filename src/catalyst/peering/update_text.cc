// updateCallFromText(): the arguments of a peer's `update` call read in one pass over the
// message text, straight into UpdateItems (wire.h). Only the tight spelling of a valid call is
// taken; anything else declines, and the call is read by the general readers, which give every
// error its message. So this reader needs no messages of its own: it must only never accept
// what they would refuse, nor read anything differently (test/catalyst/peering/
// update_text_test.cc and the peering_wire fuzz target compare the two).

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "catalyst/peering/route_fields.h"
#include "catalyst/peering/wire.h"

namespace catalyst::peering {
namespace {

// The nesting the tape would count for the deepest part of such a call (the argument object
// 2, `update` 3, `updates` 4-5, an item 6, its route 7, `tags` 8-9): with a session limit
// below it the tape decides.
constexpr std::size_t kDepthNeeded = 9;

// A cursor over the text; every reader returns false (or nullopt) to decline.
class Reader {
public:
  explicit Reader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool done() {
    space();
    return p_ == end_;
  }

  // Skips whitespace, then takes `c` if it is next.
  bool take(char c) {
    space();
    if (p_ != end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    space();
    return p_ != end_ && *p_ == c;
  }

  // A string of printable ASCII without escapes (the tape's rule: others decline).
  std::optional<std::string_view> string() {
    if (!take('"')) {
      return std::nullopt;
    }
    const char* const begin = p_;
    p_ = rpc::plainStringEnd(p_, end_); // as TextTape::string reads strings
    if (p_ == end_ || *p_ != '"') {
      return std::nullopt;
    }
    const std::string_view s(begin, static_cast<std::size_t>(p_ - begin));
    ++p_;
    return s;
  }

  // An integer of at most 15 digits, no leading zero, no fraction or exponent (the tape's rule),
  // read as the tape reads it.
  std::optional<double> integer() {
    space();
    const char* const begin = p_;
    if (p_ != end_ && *p_ == '-') {
      ++p_;
    }
    const char* const digits = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      ++p_;
    }
    const auto n = p_ - digits;
    if (n == 0 || n > 15 || (n > 1 && *digits == '0')) {
      return std::nullopt;
    }
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) {
      return std::nullopt;
    }
    int64_t v = 0;
    std::from_chars(begin, p_, v);
    return static_cast<double>(v);
  }

  // `["undefined"]` (an absent value), taken if it is next.
  bool undefined() {
    const char* const at = p_;
    if (take('[') && peek('"')) {
      const std::optional<std::string_view> s = string();
      if (s && *s == "undefined" && take(']')) {
        return true;
      }
    }
    p_ = at;
    return false;
  }

  bool word(std::string_view w) {
    space();
    if (static_cast<std::size_t>(end_ - p_) < w.size() ||
        std::memcmp(p_, w.data(), w.size()) != 0) {
      return false;
    }
    p_ += w.size();
    return true;
  }

  // The text of one object, found by matching brackets and skipping strings (what it holds is
  // checked by whoever reads it).
  std::optional<std::string_view> rawObject() {
    if (!peek('{')) {
      return std::nullopt;
    }
    const char* const begin = p_;
    int depth = 0;
    while (p_ != end_) {
      const char c = *p_;
      if (c == '"') {
        if (!string()) {
          return std::nullopt;
        }
        continue;
      }
      ++p_;
      if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return std::string_view(begin, static_cast<std::size_t>(p_ - begin));
      }
    }
    return std::nullopt;
  }

private:
  void space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }

  const char* p_;
  const char* end_;
};

// Reads `{ "key": value, ... }`, calling member(key) with the reader at each value; keys are
// plain strings, at most `max_members` of them and each only once (`seen` is the caller's set
// of key indexes, which member() fills; a repeat declines).
template <class Member> bool object(Reader& r, Member member) {
  if (!r.take('{')) {
    return false;
  }
  if (r.take('}')) {
    return true;
  }
  do {
    const std::optional<std::string_view> key = r.string();
    if (!key || !r.take(':') || !member(*key)) {
      return false;
    }
  } while (r.take(','));
  return r.take('}');
}

// `[[e, ...]]`: calls element() with the reader at each element.
template <class Element> bool array(Reader& r, Element element) {
  if (!r.take('[') || !r.take('[')) {
    return false;
  }
  if (!r.take(']')) {
    do {
      if (!element()) {
        return false;
      }
    } while (r.take(','));
    if (!r.take(']')) {
      return false;
    }
  }
  return r.take(']');
}

// Marks field `index` seen; false when it was already.
bool first(uint32_t& seen, int index) {
  const uint32_t bit = 1U << index;
  if ((seen & bit) != 0) {
    return false;
  }
  seen |= bit;
  return true;
}

bool strings(Reader& r, std::vector<std::string>& out, std::size_t max) {
  return array(r, [&] {
    const std::optional<std::string_view> s = r.string();
    if (!s || out.size() == max) {
      return false;
    }
    out.emplace_back(*s);
    return true;
  });
}

// The bit of `field` in readRoute()'s `present` and `seen`.
constexpr uint32_t bit(RouteField field) { return 1U << static_cast<int>(field); }

// The route member named `key`, or Count: by its length first, then one comparison.
RouteField routeMember(std::string_view key) {
  auto is = [key](RouteField f) {
    return key == kRouteFields[static_cast<std::size_t>(f)] ? f : RouteField::Count;
  };
  switch (key.size()) {
  case 4:
    return key[0] == 'n' ? is(RouteField::Name) : is(RouteField::Tags);
  case 6:
    return is(RouteField::Region);
  case 8:
    return key[0] == 'e' ? is(RouteField::Endpoint) : is(RouteField::Protocol);
  case 9:
    return is(RouteField::EnvoyPort);
  case 11:
    return is(RouteField::LastChecked);
  case 12:
    return key[0] == 'e' ? is(RouteField::EnvoyAddress) : is(RouteField::HealthStatus);
  case 14:
    return is(RouteField::ResponseTimeMs);
  default:
    return RouteField::Count;
  }
}

// A route record; `present` gets bit(f) for each member f it has (a member whose
// value is `["undefined"]`, as the reference sends unset ones, is absent, as the general reader
// takes it).
bool readRoute(Reader& r, state::Route& route, uint32_t& present) {
  uint32_t seen = 0;
  const bool read = object(r, [&](std::string_view key) {
    const RouteField member = routeMember(key);
    if (member == RouteField::Count || (seen & bit(member)) != 0) {
      return false; // other members and repeats: the general reader's
    }
    seen |= bit(member);
    if (r.undefined()) {
      return true;
    }
    present |= bit(member);
    switch (member) {
    case RouteField::Name: {
      const auto s = r.string();
      return s && (route.name.assign(*s), true);
    }
    case RouteField::Endpoint: {
      const auto s = r.string();
      return s && (route.endpoint.emplace(*s), true);
    }
    case RouteField::Protocol: {
      const auto s = r.string();
      const std::optional<state::Protocol> p = s ? state::parseProtocol(*s) : std::nullopt;
      return p && (route.protocol = *p, true);
    }
    case RouteField::Region: {
      const auto s = r.string();
      return s && (route.region = *s, true);
    }
    case RouteField::Tags:
      return strings(r, route.tags, state::kMaxTags);
    case RouteField::EnvoyPort: {
      const auto port = r.integer();
      if (!port || *port < 0 || *port > std::numeric_limits<uint16_t>::max()) {
        return false;
      }
      route.envoy_port = static_cast<uint16_t>(*port);
      return true;
    }
    case RouteField::EnvoyAddress: {
      const auto s = r.string();
      return s && (route.envoy_address.emplace(*s), true);
    }
    case RouteField::HealthStatus: {
      const auto s = r.string();
      route.health_status = s ? state::parseHealthStatus(*s) : std::nullopt;
      return route.health_status.has_value();
    }
    case RouteField::ResponseTimeMs: {
      if (r.word("null")) {
        return true; // "not measured", as the general reader takes it
      }
      const auto ms = r.integer();
      return ms && (route.response_time_ms = *ms, true);
    }
    case RouteField::LastChecked: {
      const auto s = r.string();
      return s && (route.last_checked = *s, true);
    }
    case RouteField::Count:
      break;
    }
    return false; // not reached: Count was declined above
  });
  return read && (present & bit(RouteField::Name)) != 0 && state::validateRoute(route).has_value();
}

bool readItem(Reader& r, state::UpdateItem& item, const state::NodePath* previous) {
  uint32_t seen = 0;
  uint32_t route_present = 0;
  std::optional<std::string_view> action;
  const bool read = object(r, [&](std::string_view key) {
    if (key == "action") {
      action = r.string();
      return first(seen, 0) && action && (*action == "add" || *action == "remove");
    }
    if (key == "route") {
      return first(seen, 1) && readRoute(r, item.route, route_present);
    }
    if (key == "nodePath") {
      std::array<std::string_view, state::kMaxNodePathLength> ids;
      std::size_t n = 0;
      const bool listed = first(seen, 2) && array(r, [&] {
                            const std::optional<std::string_view> s = r.string();
                            return s && n < ids.size() && (ids[n++] = *s, true);
                          });
      if (!listed) {
        return false;
      }
      // Items of a batch mostly share one path: share the list (as nodePathAt() does).
      if (previous != nullptr && std::equal(ids.begin(), ids.begin() + static_cast<long>(n),
                                            previous->begin(), previous->end())) {
        item.node_path = *previous;
      } else {
        item.node_path = state::NodePath(
            std::vector<std::string>(ids.begin(), ids.begin() + static_cast<long>(n)));
      }
      return true;
    }
    if (key == "originNode") {
      const auto s = r.string();
      return first(seen, 3) && s && (item.origin_node.assign(*s), true);
    }
    return false;
  });
  if (!read || seen != 0xFU) {
    return false;
  }
  if (*action == "add") {
    item.action = state::UpdateItem::Action::Add;
    // An added route's record is whole (a removal's needs only its name).
    return (route_present & bit(RouteField::Protocol)) != 0;
  }
  item.action = state::UpdateItem::Action::Remove;
  return true;
}

} // namespace

std::optional<UpdateCallText> updateCallFromText(std::string_view args, std::size_t max_depth,
                                                 std::size_t max_items, rpc::TextTape& tape,
                                                 std::string& scratch) {
  // The tape's limits: its nesting (see kDepthNeeded) and its 32-bit offsets.
  if (max_depth < kDepthNeeded || args.size() >= std::numeric_limits<uint32_t>::max()) {
    return std::nullopt;
  }
  Reader r(args);
  UpdateCallText call;
  std::string_view peer_info;
  uint32_t seen = 0;
  if (!r.take('[')) {
    return std::nullopt;
  }
  const bool read = object(r, [&](std::string_view key) {
    if (key == "peerInfo") {
      const std::optional<std::string_view> text = r.rawObject();
      return first(seen, 0) && text && (peer_info = *text, true);
    }
    if (key == "update") {
      if (!first(seen, 1)) {
        return false;
      }
      uint32_t update_seen = 0;
      const bool updates = object(r, [&](std::string_view update_key) {
        if (update_key != "updates" || !first(update_seen, 0)) {
          return false;
        }
        return array(r, [&] {
          if (call.items.size() == max_items) {
            return false; // the general reader refuses the batch, and says why
          }
          if (call.items.empty()) {
            // An item takes 80 bytes at the least: room for all without moving any.
            call.items.reserve(std::min(max_items, args.size() / 80 + 1));
          }
          state::UpdateItem& next = call.items.emplace_back();
          const state::NodePath* previous =
              call.items.size() > 1 ? &call.items[call.items.size() - 2].node_path : nullptr;
          return readItem(r, next, previous);
        });
      });
      return updates && update_seen == 1U;
    }
    if (key == "endOfRib") {
      if (!first(seen, 2)) {
        return false;
      }
      if (r.word("true")) {
        call.end_of_rib = true;
        return true;
      }
      return r.word("false") || r.undefined();
    }
    return false;
  });
  if (!read || (seen & 3U) != 3U || !r.take(']') || !r.done()) {
    return std::nullopt;
  }
  // peerInfo at the depth it has in the call, so the tape's limit counts the same.
  scratch.assign(R"([{"peerInfo":)");
  scratch.append(peer_info);
  scratch.append("}]");
  if (!tape.parseArgs(scratch, max_depth)) {
    return std::nullopt;
  }
  call.caller = tape[0];
  return call;
}

} // namespace catalyst::peering
