#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalyst/state/node_state.h"
#include "catalyst/state/state_delta.h"

namespace catalyst::plugins {

// Collects changes to Adj-RIB-In paths on top of a state, then turns them into delta
// operations: the path upserts/removals, followed by the Loc-RIB decision for every touched
// route (SelectBest when the best path is new or its attributes changed, ClearBest when no
// path is left). Cost follows the number of touched routes and their candidate paths.
// Operations come out in the order the routes were first touched.
class PathChanges {
public:
  explicit PathChanges(const state::NodeState& state) : state_(state) {}

  // The path `path.peer` gives for `path.key()` becomes `path` (no-op when identical).
  void upsert(state::LearnedPath path);
  // `peer` no longer gives a path for `key` (no-op when it gives none).
  void remove(const std::string& peer, const state::RouteKey& key);

  // Appends the operations to `delta`, moving the new paths into it (this is used up).
  void emit(state::StateDelta& delta) &&;

private:
  // The path `peer` gives for `key` with the changes so far applied.
  const state::LearnedPath* current(const std::string& peer, const state::RouteKey& key) const;

  struct PeerChange {
    std::string peer;
    std::optional<state::LearnedPath> path; // nullopt: removed
  };
  using PeerChanges = std::vector<PeerChange>; // a route has few candidate paths

  static const PeerChange* find(const PeerChanges& changes, const std::string& peer);

  const state::NodeState& state_;
  // The touched routes in the order they were first touched (the order of the operations),
  // and per route the changed path of each peer.
  std::vector<state::RouteKey> order_;
  std::unordered_map<state::RouteKey, PeerChanges, state::RouteKeyHash> changes_;
};

} // namespace catalyst::plugins
