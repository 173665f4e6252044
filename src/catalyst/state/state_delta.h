#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "catalyst/state/local_service.h"
#include "catalyst/state/peer.h"
#include "catalyst/state/route.h"

namespace catalyst::state {

// The operations a delta is made of. Each names exactly what changes, so a delta's cost (and
// the cost of reacting to it) follows the change, never the size of the table.
namespace op {

struct UpsertPeer {
  Peer peer;
  bool operator==(const UpsertPeer&) const = default;
};
struct RemovePeer {
  std::string name;
  bool operator==(const RemovePeer&) const = default;
};
struct UpsertLocalRoute {
  LocalRoute route;
  bool operator==(const UpsertLocalRoute&) const = default;
};
struct RemoveLocalRoute {
  std::string name;
  bool operator==(const RemoveLocalRoute&) const = default;
};
struct UpsertService {
  LocalService service;
  bool operator==(const UpsertService&) const = default;
};
struct RemoveService {
  std::string name;
  bool operator==(const RemoveService&) const = default;
};
// Adds or replaces the path `path.peer` gave for `path.key()` (Adj-RIB-In).
struct UpsertPath {
  UpsertPath() = default;
  // So the op can be made in place in a delta (emplace_back(std::in_place_type<UpsertPath>,
  // path)) by compilers without C++20's parenthesized aggregate initialization (clang 14).
  UpsertPath(LearnedPath p) : path(std::move(p)) {} // NOLINT(google-explicit-constructor)
  LearnedPath path;
  bool operator==(const UpsertPath&) const = default;
};
struct RemovePath {
  std::string peer;
  RouteKey key;
  bool operator==(const RemovePath&) const = default;
};
// Makes `peer`'s path the best one for `key` (Loc-RIB).
struct SelectBest {
  RouteKey key;
  std::string peer;
  bool operator==(const SelectBest&) const = default;
};
struct ClearBest {
  RouteKey key;
  bool operator==(const ClearBest&) const = default;
};

} // namespace op

using DeltaOp = std::variant<op::UpsertPeer, op::RemovePeer, op::UpsertLocalRoute,
                             op::RemoveLocalRoute, op::UpsertService, op::RemoveService,
                             op::UpsertPath, op::RemovePath, op::SelectBest, op::ClearBest>;

// An ordered list of operations on NodeState: what phase-1 plugins return and what the
// pipeline commits.
struct StateDelta {
  std::vector<DeltaOp> ops;

  bool empty() const { return ops.empty(); }
  void append(StateDelta&& other);
  bool operator==(const StateDelta&) const = default;
};

} // namespace catalyst::state
