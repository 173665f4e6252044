#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

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

  // Room for `routes` touched routes without growing (a batch's item count).
  void reserve(std::size_t routes) {
    entries_.reserve(routes);
    index_.reserve(routes);
  }

  // The path `path.peer` gives for `path.key()` becomes `path` (no-op when identical).
  void upsert(state::LearnedPath path);
  // `peer` no longer gives a path for `key` (no-op when it gives none).
  void remove(const std::string& peer, const state::RouteKey& key);

  // Appends the operations to `delta`, moving the new paths into it (this is used up).
  void emit(state::StateDelta& delta) &&;

private:
  struct PeerChange {
    std::string peer;
    std::optional<state::LearnedPath> path; // nullopt: removed
  };
  // One touched route: where it is in the state (looked up once) and the changed path of each
  // peer (a route has few candidate paths).
  struct Touched {
    const state::NodeState::LearnedRoute* before = nullptr; // nullptr: not learned yet
    std::vector<PeerChange> changes;
  };
  struct Entry {
    state::RouteKey key;
    Touched touched;
  };

  // The entry of `key`, created (with its state looked up) on first touch.
  Touched& touch(const state::RouteKey& key);
  // The path `peer` gives in `t` with the changes so far applied.
  static const state::LearnedPath* current(const Touched& t, const std::string& peer);
  static const PeerChange* find(const std::vector<PeerChange>& changes, const std::string& peer);

  const state::NodeState& state_;
  // The touched routes in the order they were first touched (the order of the operations),
  // and where each is in that list: an open-addressing table of small entries, so touching a
  // route allocates nothing of its own (a batch touches up to 1 000).
  std::vector<Entry> entries_;
  boost::unordered_flat_map<state::RouteKey, uint32_t, state::RouteKeyHash> index_;
};

// Appends to `delta` the removal of every path `peer` gives, each followed by the Loc-RIB
// decision for its route: exactly what a PathChanges would emit for remove(peer, key) over
// state.keysFrom(peer), in the same order, but in one walk of the table with no per-route
// bookkeeping. A session end or a removed peer takes most of its routes at once (100 000 in
// the peering benchmark), where the general path was several passes over them.
void removeAllPathsOf(const state::NodeState& state, const std::string& peer,
                      state::StateDelta& delta);

// What PathChanges emits for one remove(peer, key) on its own: the removal of the path `peer`
// gives for `key` (`route` in the state), if any, and the route's Loc-RIB decision.
void removePathOf(const state::RouteKey& key, const state::NodeState::LearnedRoute& route,
                  const std::string& peer, state::StateDelta& delta);

// What PathChanges emits for one upsert(path) on its own, with none of its bookkeeping: for
// a batch whose items name distinct routes, each item's change stands alone.
void upsertPathOf(const state::NodeState& state, state::LearnedPath path, state::StateDelta& delta);
// The same, with the route already looked up (`route`: the path's route in `state`, or
// nullptr when it has none).
void upsertPathOf(const state::NodeState::LearnedRoute* route, state::LearnedPath path,
                  state::StateDelta& delta);

// The learned routes of `n` keys (`keyOf(i)`, a RouteKey or RouteKeyView; nullptr where there is
// none), and the parts of their records that deciding on a path reads asked of the memory: so
// a batch's cache misses overlap. A full table's records are cold when a batch reaches them,
// and waiting for each in turn took ~30% of a withdrawal. A lookup compares the key in the
// record, so each record is asked for a few keys ahead of its lookup, found by hash alone.
template <class KeyOf>
void findAllLearned(const state::NodeState& state, std::size_t n, KeyOf keyOf,
                    std::vector<const state::NodeState::LearnedRoute*>& out) {
  using Table = state::NodeState::LearnedRoutes;
  constexpr std::size_t kAhead = 8;
  const Table& table = state.learned();
  auto viewOf = [&keyOf](std::size_t i) {
    const auto& key = keyOf(i);
    return state::RouteKeyView{key.name, key.origin_node};
  };
  std::vector<std::size_t> hashes(n);
  for (std::size_t i = 0; i < n; ++i) {
    hashes[i] = Table::hashOf(viewOf(i));
  }
  for (std::size_t i = 0; i < std::min(kAhead, n); ++i) {
    table.prefetch(hashes[i]);
  }
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      table.prefetch(hashes[i + kAhead]);
    }
    out[i] = table.findRecord(viewOf(i), hashes[i]);
  }
  for (const state::NodeState::LearnedRoute* route : out) {
    if (route != nullptr && !route->paths.empty()) {
      const state::LearnedPath& first = route->paths.front();
      __builtin_prefetch(&first.peer);
      if (first.route.endpoint) {
        __builtin_prefetch(first.route.endpoint->data()); // freed if the path goes
      }
    }
  }
}

// The same for the routes `keys` names (distinct keys, as NodeState::keysFrom() lists them;
// keys whose route or path is gone are skipped): one step of a session end's flush.
void removePathsOf(const state::NodeState& state, const std::string& peer,
                   std::span<const state::RouteKey> keys, state::StateDelta& delta);

} // namespace catalyst::plugins
