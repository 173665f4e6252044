#include "catalyst/peering/wire.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "catalyst/peering/route_fields.h"
#include "catalyst/rpc/json_writer.h"

namespace catalyst::peering {
namespace {

using rpc::Value;

// ---- writing ----

void put(rpc::Object& object, std::string_view key, Value value) {
  object.push_back(rpc::Member{std::string(key), std::move(value)});
}

Value stringArray(const std::vector<std::string>& strings) {
  rpc::Array array;
  array.reserve(strings.size());
  for (const std::string& s : strings) {
    array.emplace_back(s);
  }
  return array;
}

rpc::Object routeMembers(const state::Route& route) {
  rpc::Object o;
  o.reserve(14);
  put(o, "name", route.name);
  if (route.endpoint) {
    put(o, "endpoint", *route.endpoint);
  }
  put(o, "protocol", state::toString(route.protocol));
  if (route.region) {
    put(o, "region", *route.region);
  }
  if (!route.tags.empty()) {
    put(o, "tags", stringArray(route.tags));
  }
  if (route.envoy_port) {
    put(o, "envoyPort", static_cast<double>(*route.envoy_port));
  }
  if (route.envoy_address) {
    put(o, "envoyAddress", *route.envoy_address);
  }
  if (route.health_status) {
    put(o, "healthStatus", state::toString(*route.health_status));
  }
  if (route.response_time_ms) {
    put(o, "responseTimeMs", *route.response_time_ms);
  }
  if (route.last_checked) {
    put(o, "lastChecked", *route.last_checked);
  }
  return o;
}

Value internalRoute(const state::Route& route, Value peer,
                    const std::vector<std::string>& node_path, std::string_view origin_node,
                    bool is_stale) {
  rpc::Object o = routeMembers(route);
  put(o, "peer", std::move(peer));
  put(o, "nodePath", stringArray(node_path));
  put(o, "originNode", origin_node);
  put(o, "isStale", is_stale);
  return o;
}

// ---- reading ----

// Where a field is, for error messages: a chain of names and indexes on the stack, spelled out
// ("updates[3].route.name") only when an error is reported. A batch of 1000 items reads ~15 000
// fields, nearly always without an error, so no path string is built for them.
class FieldPath {
public:
  // A root. Explicit, so that a string never turns into a temporary parent that dies before
  // the path that points at it: a root is a named object that outlives its children.
  explicit FieldPath(std::string_view root) : name_(root) {}
  FieldPath(const FieldPath& parent, std::string_view name) : parent_(&parent), name_(name) {}
  FieldPath(const FieldPath& parent, std::size_t index)
      : parent_(&parent), index_(index), is_index_(true) {}

  std::string str() const {
    std::string out;
    append(out);
    return out;
  }

private:
  void append(std::string& out) const {
    if (parent_ != nullptr) {
      parent_->append(out);
    }
    if (is_index_) {
      out += '[';
      out += std::to_string(index_);
      out += ']';
    } else {
      if (!out.empty()) {
        out += '.';
      }
      out.append(name_);
    }
  }

  const FieldPath* parent_ = nullptr;
  std::string_view name_;
  std::size_t index_ = 0;
  bool is_index_ = false;
};

Error expected(const FieldPath& path, std::string_view what) {
  return invalidArgument(fmt::format("{}: expected {}", path.str(), what));
}

Error missing(const FieldPath& path) {
  return invalidArgument(fmt::format("{}: required", path.str()));
}

// An untrusted string shown in a message: quoted, and cut (on a UTF-8 boundary) when long.
std::string shown(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  if (text.size() <= kMaxShown) {
    return fmt::format("'{}'", text);
  }
  std::size_t cut = kMaxShown;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return fmt::format("'{}...'", text.substr(0, cut));
}

using rpc::ValueData;

// The members of an object that a record knows, found in one pass over the object (an object
// padded with unknown members costs one pass, not one per field). `Field` is an enum class
// whose last enumerator is `Count`; `names` spells each field as on the wire. A member whose
// value is `undefined` counts as absent.
template <class Field, class Node> class Members {
public:
  static constexpr std::size_t kCount = static_cast<std::size_t>(Field::Count);

  Members(const Node& object, const std::array<std::string_view, kCount>& names) {
    object.forEachMember([&](std::string_view key, const Node& value) {
      if (value.isUndefined()) {
        return;
      }
      for (std::size_t i = 0; i < kCount; ++i) {
        // Lengths first: most names differ in length, and that needs no call to compare.
        if (key.size() == names[i].size() &&
            std::memcmp(key.data(), names[i].data(), key.size()) == 0) {
          found_[i] = value;
          break;
        }
      }
    });
  }

  // The member's value; not present() when it is absent or undefined.
  const Node& operator[](Field field) const { return found_[static_cast<std::size_t>(field)]; }

private:
  std::array<Node, kCount> found_{};
};

template <class Node> Status objectAt(const Node& value, const FieldPath& path) {
  if (value.isUndefined()) {
    return missing(path);
  }
  if (!value.isObject()) {
    return expected(path, "an object");
  }
  return {};
}

// The text of a string member, viewed where the reader keeps it (valid while `value` is).
template <class Node>
Result<std::string_view> stringViewAt(const Node& value, const FieldPath& path) {
  const std::optional<std::string_view> s = value.string();
  if (!s) {
    return expected(path, "a string");
  }
  return *s;
}

template <class Node> Result<std::string> stringAt(const Node& value, const FieldPath& path) {
  const std::optional<std::string_view> s = value.string();
  if (!s) {
    return expected(path, "a string");
  }
  return std::string(*s);
}

template <class Node> Result<std::string> requiredString(const Node& value, const FieldPath& path) {
  if (!value.present()) {
    return missing(path);
  }
  return stringAt(value, path);
}

template <class Node>
Result<std::optional<std::string>> optionalString(const Node& value, const FieldPath& path) {
  if (!value.present()) {
    return std::optional<std::string>{};
  }
  auto s = stringAt(value, path);
  if (!s) {
    return s.error();
  }
  return std::optional<std::string>{std::move(*s)};
}

// An array of at most `max` strings (`unit` names them in the message); its length is checked
// before any element is converted.
template <class Node>
Result<std::vector<std::string>> stringsAt(const Node& value, const FieldPath& path,
                                           std::size_t max, std::string_view unit) {
  if (!value.isArray()) {
    return expected(path, "an array");
  }
  const std::size_t size = value.size();
  if (size > max) {
    return invalidArgument(
        fmt::format("{}: more than {} {} (got {})", path.str(), max, unit, size));
  }
  std::vector<std::string> out;
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    const std::optional<std::string_view> s = value[i].string();
    if (!s) {
      return expected(FieldPath(path, i), "a string");
    }
    out.emplace_back(*s);
  }
  return out;
}

// A nodePath, read as stringsAt() reads it (the same checks, in the same order, with the same
// messages); when its ids are those of `previous` (the item before it in the batch: items of a
// batch mostly share one path, [sender, ..., origin]) it shares previous's list rather than
// building one, so the Adj-RIB-In keeps one list per run of equal paths.
template <class Node>
Result<state::NodePath> nodePathAt(const Node& value, const FieldPath& path,
                                   const state::NodePath* previous) {
  if (!value.isArray()) {
    return expected(path, "an array");
  }
  const std::size_t size = value.size();
  if (size > state::kMaxNodePathLength) {
    return invalidArgument(fmt::format("{}: more than {} node ids (got {})", path.str(),
                                       state::kMaxNodePathLength, size));
  }
  bool same = previous != nullptr && previous->size() == size;
  for (std::size_t i = 0; i < size; ++i) {
    const std::optional<std::string_view> s = value[i].string();
    if (!s) {
      return expected(FieldPath(path, i), "a string");
    }
    same = same && (*previous)[i] == *s;
  }
  if (same) {
    return *previous;
  }
  auto ids = stringsAt(value, path, state::kMaxNodePathLength, "node ids");
  if (!ids) {
    return ids.error();
  }
  return state::NodePath(std::move(*ids));
}

template <class Node> Result<double> numberAt(const Node& value, const FieldPath& path) {
  const std::optional<double> d = value.number();
  if (!d) {
    return expected(path, "a number");
  }
  return *d;
}

enum class RouteNeeds { FullRecord, NameOnly };

template <class Node>
Result<state::Route> readRoute(const Node& value, const FieldPath& path, RouteNeeds needs) {
  if (Status st = objectAt(value, path); !st) {
    return st.error();
  }
  const Members<RouteField, Node> m(value, kRouteFields);
  state::Route route;

  auto name = requiredString(m[RouteField::Name], FieldPath(path, "name"));
  if (!name) {
    return name.error();
  }
  route.name = std::move(*name);

  auto endpoint = optionalString(m[RouteField::Endpoint], FieldPath(path, "endpoint"));
  if (!endpoint) {
    return endpoint.error();
  }
  route.endpoint = std::move(*endpoint);

  if (const Node& v = m[RouteField::Protocol]; v.present()) {
    auto text = stringViewAt(v, FieldPath(path, "protocol"));
    if (!text) {
      return text.error();
    }
    const std::optional<state::Protocol> protocol = state::parseProtocol(*text);
    if (!protocol) {
      return invalidArgument(fmt::format(
          "{}: must be one of http, http:graphql, http:gql, http:grpc, tcp, udp (got {})",
          FieldPath(path, "protocol").str(), shown(*text)));
    }
    route.protocol = *protocol;
  } else if (needs == RouteNeeds::FullRecord) {
    return missing(FieldPath(path, "protocol"));
  }

  auto region = optionalString(m[RouteField::Region], FieldPath(path, "region"));
  if (!region) {
    return region.error();
  }
  route.region = std::move(*region);

  if (const Node& v = m[RouteField::Tags]; v.present()) {
    auto tags = stringsAt(v, FieldPath(path, "tags"), state::kMaxTags, "tags");
    if (!tags) {
      return tags.error();
    }
    route.tags = std::move(*tags);
  }

  if (const Node& v = m[RouteField::EnvoyPort]; v.present()) {
    const FieldPath where(path, "envoyPort");
    auto port = numberAt(v, where);
    if (!port) {
      return port.error();
    }
    if (!(*port >= 0 && *port <= std::numeric_limits<uint16_t>::max()) ||
        std::trunc(*port) != *port) {
      return invalidArgument(
          fmt::format("{}: must be an integer 0-65535 (got {})", where.str(), *port));
    }
    route.envoy_port = static_cast<uint16_t>(*port);
  }

  auto envoy_address = optionalString(m[RouteField::EnvoyAddress], FieldPath(path, "envoyAddress"));
  if (!envoy_address) {
    return envoy_address.error();
  }
  route.envoy_address = std::move(*envoy_address);

  if (const Node& v = m[RouteField::HealthStatus]; v.present()) {
    const FieldPath where(path, "healthStatus");
    auto text = stringViewAt(v, where);
    if (!text) {
      return text.error();
    }
    route.health_status = state::parseHealthStatus(*text);
    if (!route.health_status) {
      return invalidArgument(
          fmt::format("{}: must be \"up\" or \"down\" (got {})", where.str(), shown(*text)));
    }
  }

  // The reference allows null here (`number | null`); null means "not measured".
  if (const Node& v = m[RouteField::ResponseTimeMs]; v.present() && !v.isNull()) {
    const FieldPath where(path, "responseTimeMs");
    auto ms = numberAt(v, where);
    if (!ms) {
      return ms.error();
    }
    if (!std::isfinite(*ms)) {
      return invalidArgument(fmt::format("{}: must be a finite number", where.str()));
    }
    route.response_time_ms = *ms;
  }

  auto last_checked = optionalString(m[RouteField::LastChecked], FieldPath(path, "lastChecked"));
  if (!last_checked) {
    return last_checked.error();
  }
  route.last_checked = std::move(*last_checked);

  if (auto st = state::validateRoute(route); !st) {
    return invalidArgument(FieldPath(path, st.error().message).str());
  }
  return route;
}

enum class ItemField { Action, Route, NodePath, OriginNode, Count };

constexpr std::array<std::string_view, static_cast<std::size_t>(ItemField::Count)> kItemFields{
    "action", "route", "nodePath", "originNode"};

// `previous_path`: the nodePath of the item before, if any (see nodePathAt()).
template <class Node>
Result<state::UpdateItem> readItem(const Node& value, const FieldPath& path,
                                   const state::NodePath* previous_path) {
  if (Status st = objectAt(value, path); !st) {
    return st.error();
  }
  const Members<ItemField, Node> m(value, kItemFields);
  state::UpdateItem item;

  const FieldPath action_path(path, "action");
  if (!m[ItemField::Action].present()) {
    return missing(action_path);
  }
  auto action = stringViewAt(m[ItemField::Action], action_path);
  if (!action) {
    return action.error();
  }
  if (*action == "add") {
    item.action = state::UpdateItem::Action::Add;
  } else if (*action == "remove") {
    item.action = state::UpdateItem::Action::Remove;
  } else {
    return invalidArgument(fmt::format("{}: must be \"add\" or \"remove\" (got {})",
                                       action_path.str(), shown(*action)));
  }

  const FieldPath route_path(path, "route");
  const Node& route_value = m[ItemField::Route];
  if (!route_value.present()) {
    return missing(route_path);
  }
  auto route = readRoute(route_value, route_path,
                         item.action == state::UpdateItem::Action::Remove ? RouteNeeds::NameOnly
                                                                          : RouteNeeds::FullRecord);
  if (!route) {
    return route.error();
  }
  item.route = std::move(*route);

  const FieldPath node_path_path(path, "nodePath");
  const Node& node_path = m[ItemField::NodePath];
  if (!node_path.present()) {
    return missing(node_path_path);
  }
  auto ids = nodePathAt(node_path, node_path_path, previous_path);
  if (!ids) {
    return ids.error();
  }
  item.node_path = std::move(*ids);

  auto origin = requiredString(m[ItemField::OriginNode], FieldPath(path, "originNode"));
  if (!origin) {
    return origin.error();
  }
  item.origin_node = std::move(*origin);
  return item;
}

enum class PeerField { Name, Domains, Endpoint, Labels, PeerToken, EnvoyAddress, Count };

constexpr std::array<std::string_view, static_cast<std::size_t>(PeerField::Count)> kPeerFields{
    "name", "domains", "endpoint", "labels", "peerToken", "envoyAddress"};

} // namespace

rpc::Value toValue(const state::Route& route) { return routeMembers(route); }

rpc::Value toValue(const state::UpdateItem& item) {
  rpc::Object o;
  o.reserve(4);
  put(o, "action", item.action == state::UpdateItem::Action::Add ? "add" : "remove");
  put(o, "route", toValue(item.route));
  put(o, "nodePath", stringArray(item.node_path));
  put(o, "originNode", item.origin_node);
  return o;
}

namespace {

// What toValue() builds, written directly as text: in the Cap'n Web encoding (what the
// session's devaluation would write: arrays escaped as [[...]], non-finite numbers as
// ["inf"]) for updateBatchEncoded(), or as plain JSON (what rpc::toPlainJson() and
// boost::json::serialize would write, except that non-finite numbers are null, which reads
// back as absent) for appendRoutePlainJson(). Member order is toValue()'s.
enum class Style { CapnWeb, Plain };

void encodeNumber(std::string& out, double d, Style style) {
  if (std::isfinite(d)) {
    rpc::json::appendNumber(out, d);
  } else if (style == Style::Plain) {
    out += "null"; // JSON has no spelling for them (Boost.JSON writes "Infinity", unreadable)
  } else if (std::isnan(d)) {
    out += "[\"nan\"]";
  } else {
    out += d > 0 ? "[\"inf\"]" : "[\"-inf\"]";
  }
}

// `key` is the member's quoted name with its separators, e.g. `,"endpoint":`.
void encodeMember(std::string& out, std::string_view key, std::string_view text) {
  out += key;
  rpc::json::appendString(out, text);
}

void encodeStrings(std::string& out, const std::vector<std::string>& strings, Style style) {
  out += style == Style::CapnWeb ? "[[" : "[";
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    rpc::json::appendString(out, strings[i]);
  }
  out += style == Style::CapnWeb ? "]]" : "]";
}

void encodeRoute(std::string& out, const state::Route& route, Style style) {
  out += "{\"name\":";
  rpc::json::appendString(out, route.name);
  if (route.endpoint) {
    encodeMember(out, ",\"endpoint\":", *route.endpoint);
  }
  encodeMember(out, ",\"protocol\":", state::toString(route.protocol));
  if (route.region) {
    encodeMember(out, ",\"region\":", *route.region);
  }
  if (!route.tags.empty()) {
    out += ",\"tags\":";
    encodeStrings(out, route.tags, style);
  }
  if (route.envoy_port) {
    out += ",\"envoyPort\":";
    encodeNumber(out, static_cast<double>(*route.envoy_port), style);
  }
  if (route.envoy_address) {
    encodeMember(out, ",\"envoyAddress\":", *route.envoy_address);
  }
  if (route.health_status) {
    encodeMember(out, ",\"healthStatus\":", state::toString(*route.health_status));
  }
  if (route.response_time_ms) {
    out += ",\"responseTimeMs\":";
    encodeNumber(out, *route.response_time_ms, style);
  }
  if (route.last_checked) {
    encodeMember(out, ",\"lastChecked\":", *route.last_checked);
  }
  out.push_back('}');
}

} // namespace

void appendRoutePlainJson(std::string& out, const state::Route& route) {
  encodeRoute(out, route, Style::Plain);
}

rpc::Value updateBatchEncoded(std::span<const state::UpdateItem> items) {
  std::string out;
  out.reserve(64 + items.size() * 256);
  out += "{\"updates\":[[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const state::UpdateItem& item = items[i];
    if (i != 0) {
      out.push_back(',');
    }
    out += item.action == state::UpdateItem::Action::Add ? "{\"action\":\"add\",\"route\":"
                                                         : "{\"action\":\"remove\",\"route\":";
    encodeRoute(out, item.route, Style::CapnWeb);
    out += ",\"nodePath\":";
    encodeStrings(out, item.node_path, Style::CapnWeb);
    out += ",\"originNode\":";
    rpc::json::appendString(out, item.origin_node);
    out.push_back('}');
  }
  out += "]]}";
  return rpc::Encoded{std::move(out)};
}

rpc::Value updateBatchValue(std::span<const state::UpdateItem> items) {
  rpc::Array updates;
  updates.reserve(items.size());
  for (const state::UpdateItem& item : items) {
    updates.push_back(toValue(item));
  }
  rpc::Object o;
  put(o, "updates", std::move(updates));
  return o;
}

rpc::Value toValue(const state::PeerInfo& peer, TokenVisibility token) {
  rpc::Object o;
  o.reserve(6);
  put(o, "name", peer.name);
  put(o, "domains", stringArray(peer.domains));
  if (peer.endpoint) {
    put(o, "endpoint", *peer.endpoint);
  }
  if (!peer.labels.empty()) {
    rpc::Object labels;
    labels.reserve(peer.labels.size());
    for (const auto& [key, value] : peer.labels) {
      put(labels, key, value);
    }
    put(o, "labels", std::move(labels));
  }
  if (peer.peer_token && token == TokenVisibility::Include) {
    put(o, "peerToken", *peer.peer_token);
  }
  if (peer.envoy_address) {
    put(o, "envoyAddress", *peer.envoy_address);
  }
  return o;
}

rpc::Value internalRouteValue(const state::Route& route, std::string_view peer,
                              const std::vector<std::string>& node_path,
                              std::string_view origin_node, bool is_stale) {
  return internalRoute(route, peer, node_path, origin_node, is_stale);
}

rpc::Value internalRouteValue(const state::Route& route, const state::PeerInfo& peer,
                              const std::vector<std::string>& node_path,
                              std::string_view origin_node, bool is_stale) {
  return internalRoute(route, toValue(peer, TokenVisibility::Omit), node_path, origin_node,
                       is_stale);
}

namespace {

template <class Node>
Result<std::vector<state::UpdateItem>> readUpdateBatch(const Node& update, std::size_t max_items) {
  const FieldPath update_path("update");
  if (Status st = objectAt(update, update_path); !st) {
    return st.error();
  }
  const FieldPath updates_path("updates");
  const Node updates = update.find("updates");
  if (!updates.present()) {
    return missing(updates_path);
  }
  if (!updates.isArray()) {
    return expected(updates_path, "an array");
  }
  const std::size_t size = updates.size();
  if (size > max_items) {
    return invalidArgument(
        fmt::format("updates: {} items in one update (at most {})", size, max_items));
  }
  std::vector<state::UpdateItem> items;
  items.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    auto item = readItem(updates[i], FieldPath(updates_path, i),
                         items.empty() ? nullptr : &items.back().node_path);
    if (!item) {
      return item.error();
    }
    items.push_back(std::move(*item));
  }
  return items;
}

template <class Node>
Result<state::PeerInfo> readPeerInfo(const Node& value, std::string_view root) {
  const FieldPath path(root);
  if (Status st = objectAt(value, path); !st) {
    return st.error();
  }
  const Members<PeerField, Node> m(value, kPeerFields);
  state::PeerInfo peer;

  const FieldPath name_path(path, "name");
  auto name = requiredString(m[PeerField::Name], name_path);
  if (!name) {
    return name.error();
  }
  if (auto st = state::validateName(*name); !st) {
    return invalidArgument(fmt::format("{}: {}", name_path.str(), st.error().message));
  }
  peer.name = std::move(*name);

  const FieldPath domains_path(path, "domains");
  const Node& domains = m[PeerField::Domains];
  if (!domains.present()) {
    return missing(domains_path);
  }
  auto domain_list =
      stringsAt(domains, domains_path, std::numeric_limits<std::size_t>::max(), "domains");
  if (!domain_list) {
    return domain_list.error();
  }
  peer.domains = std::move(*domain_list);

  auto endpoint = optionalString(m[PeerField::Endpoint], FieldPath(path, "endpoint"));
  if (!endpoint) {
    return endpoint.error();
  }
  peer.endpoint = std::move(*endpoint);

  if (const Node& v = m[PeerField::Labels]; v.present()) {
    const FieldPath labels_path(path, "labels");
    if (!v.isObject()) {
      return expected(labels_path, "an object");
    }
    Status failed;
    v.forEachMember([&](std::string_view key, const Node& label) {
      if (!failed || label.isUndefined()) {
        return;
      }
      auto text =
          stringAt(label, FieldPath(labels_path, key.size() <= 64 ? std::string(key) : shown(key)));
      if (!text) {
        failed = text.error();
        return;
      }
      peer.labels.insert_or_assign(std::string(key), std::move(*text));
    });
    if (!failed) {
      return failed.error();
    }
  }

  auto token = optionalString(m[PeerField::PeerToken], FieldPath(path, "peerToken"));
  if (!token) {
    return token.error();
  }
  peer.peer_token = std::move(*token);

  auto envoy_address = optionalString(m[PeerField::EnvoyAddress], FieldPath(path, "envoyAddress"));
  if (!envoy_address) {
    return envoy_address.error();
  }
  peer.envoy_address = std::move(*envoy_address);
  return peer;
}

} // namespace

Result<state::Route> routeFromValue(const rpc::Value& value, std::string_view path) {
  const FieldPath root(path);
  return readRoute(ValueData(value), root, RouteNeeds::FullRecord);
}

Result<state::UpdateItem> updateItemFromValue(const rpc::Value& value, std::string_view path) {
  const FieldPath root(path);
  return readItem(ValueData(value), root, nullptr);
}

Result<std::vector<state::UpdateItem>> updateBatchFromValue(const rpc::Value& update,
                                                            std::size_t max_items) {
  return readUpdateBatch(ValueData(update), max_items);
}

Result<std::vector<state::UpdateItem>> updateBatchFromWire(const rpc::WireData& update,
                                                           std::size_t max_items) {
  return readUpdateBatch(update, max_items);
}

Result<state::PeerInfo> peerInfoFromValue(const rpc::Value& value, std::string_view root) {
  return readPeerInfo(ValueData(value), root);
}

Result<state::PeerInfo> peerInfoFromWire(const rpc::WireData& value, std::string_view root) {
  return readPeerInfo(value, root);
}

Result<std::vector<state::UpdateItem>> updateBatchFromText(const rpc::TextData& update,
                                                           std::size_t max_items) {
  return readUpdateBatch(update, max_items);
}

Result<state::PeerInfo> peerInfoFromText(const rpc::TextData& value, std::string_view root) {
  return readPeerInfo(value, root);
}

} // namespace catalyst::peering
