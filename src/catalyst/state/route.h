#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/common/hash.h"
#include "catalyst/common/result.h"
#include "catalyst/state/node_path.h"
#include "catalyst/state/rare_string.h"

namespace catalyst::state {

// The protocols a route may carry (peering.md §1). `Udp` is ours; the reference lacks it.
enum class Protocol { Http, HttpGraphql, HttpGql, HttpGrpc, Tcp, Udp };

// Wire spelling: "http", "http:graphql", "http:gql", "http:grpc", "tcp", "udp".
std::string_view toString(Protocol protocol);
std::optional<Protocol> parseProtocol(std::string_view text);

enum class HealthStatus { Up, Down };

std::string_view toString(HealthStatus status);
std::optional<HealthStatus> parseHealthStatus(std::string_view text);

// A service route ("data channel definition", peering.md §1). A value type.
struct Route {
  std::string name;
  std::optional<std::string> endpoint;
  Protocol protocol = Protocol::Http;
  RareString region;
  std::vector<std::string> tags;
  // The data-plane next hop *as advertised by the sender of this record*.
  std::optional<uint16_t> envoy_port;
  std::optional<std::string> envoy_address;
  std::optional<HealthStatus> health_status;
  std::optional<double> response_time_ms;
  RareString last_checked; // ISO-8601

  bool operator==(const Route&) const = default;
};

// Limits of peering.md §1.
inline constexpr std::size_t kMaxNameLength = 253;
inline constexpr std::size_t kMaxEndpointLength = 2048;
inline constexpr std::size_t kMaxTags = 32;
inline constexpr std::size_t kMaxNodePathLength = 64;

// Checks a route name: 1-253 chars of ^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$, case-insensitive.
Status validateName(std::string_view name);

// Checks every field of a route against the limits above. The message names the field.
Status validateRoute(const Route& route);

// Identifies a route in the Loc-RIB: the same name published by two origins is two routes.
struct RouteKey {
  std::string name;
  std::string origin_node;

  auto operator<=>(const RouteKey&) const = default;
  bool operator==(const RouteKey&) const = default;
};

// A RouteKey's strings, held elsewhere: looks a route up without copying its key.
struct RouteKeyView {
  std::string_view name;
  std::string_view origin_node;

  RouteKey owned() const { return RouteKey{std::string(name), std::string(origin_node)}; }
  bool operator==(const RouteKeyView&) const = default;
  friend bool operator==(const RouteKeyView& v, const RouteKey& k) {
    return v.name == k.name && v.origin_node == k.origin_node;
  }
};

// Hashes both strings with common/hash.h (a RouteKey is hashed several times per route on
// its way through a node, so this is on the hot path: std::hash<std::string> cost ~70
// instructions per string). Its output is well mixed in every bit, so the open-addressing
// tables that use it skip their own post-mixing (is_avalanching). Like std::hash, it is not
// keyed: route names come from authenticated peers.
struct RouteKeyHash {
  using is_avalanching = void;
  using is_transparent = void; // RouteKeyView too (with RouteKeyEqual)
  std::size_t operator()(const RouteKey& k) const noexcept { return of(k.name, k.origin_node); }
  std::size_t operator()(const RouteKeyView& k) const noexcept { return of(k.name, k.origin_node); }
  // The hash of RouteKey{name, origin_node}, without making one.
  static std::size_t of(std::string_view name, std::string_view origin_node) noexcept {
    return hash::mix(hash::bytes(name, 0x9e3779b97f4a7c15ULL),
                     hash::bytes(origin_node, 0xc2b2ae3d27d4eb4fULL));
  }
};

// RouteKey equality that also takes a RouteKeyView (for lookups without a key).
struct RouteKeyEqual {
  using is_transparent = void;
  bool operator()(const RouteKey& a, const RouteKey& b) const { return a == b; }
  bool operator()(const RouteKeyView& a, const RouteKey& b) const {
    return a.name == b.name && a.origin_node == b.origin_node;
  }
  bool operator()(const RouteKey& a, const RouteKeyView& b) const { return (*this)(b, a); }
};

// One candidate path learned from a neighbour (an Adj-RIB-In entry).
struct LearnedPath {
  Route route;        // as the neighbour advertised it
  std::string peer;   // the neighbour it came from
  NodePath node_path; // [peer, ..., origin]
  std::string origin_node;
  bool is_stale = false;

  RouteKey key() const { return RouteKey{route.name, origin_node}; }
  bool operator==(const LearnedPath&) const = default;
};

// Best-path order (peering.md §4): true when `a` is preferred over `b`. Deterministic: a total
// order over distinct neighbours, whatever the arrival order.
//   1. shorter nodePath  2. not stale over stale  3. health up (or unknown) over down
//   4. lower neighbour name
bool preferredOver(const LearnedPath& a, const LearnedPath& b);

// Why `winner` beat `loser`, in words ("shorter nodePath (2 < 3)"); for `route why`.
std::string preferenceReason(const LearnedPath& winner, const LearnedPath& loser);

// One change announced to or by a neighbour (peering.md §1 UpdateItem).
struct UpdateItem {
  enum class Action { Add, Remove };
  Action action = Action::Add;
  Route route;
  NodePath node_path; // [sender, ..., origin]
  std::string origin_node;

  bool operator==(const UpdateItem&) const = default;
};

} // namespace catalyst::state
