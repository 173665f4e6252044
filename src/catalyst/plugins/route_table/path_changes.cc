#include "catalyst/plugins/route_table/path_changes.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace catalyst::plugins {

const PathChanges::PeerChange* PathChanges::find(const std::vector<PeerChange>& changes,
                                                 const std::string& peer) {
  for (const PeerChange& c : changes) {
    if (c.peer == peer) {
      return &c;
    }
  }
  return nullptr;
}

PathChanges::Touched& PathChanges::touch(const state::RouteKey& key) {
  auto [it, inserted] = index_.try_emplace(key, static_cast<uint32_t>(entries_.size()));
  if (!inserted) {
    return entries_[it->second].touched;
  }
  Entry& e = entries_.emplace_back(Entry{key, {}});
  e.touched.before = state_.findLearned(key);
  return e.touched;
}

const state::LearnedPath* PathChanges::current(const Touched& t, const std::string& peer) {
  if (const PeerChange* change = find(t.changes, peer)) {
    return change->path ? &*change->path : nullptr;
  }
  return t.before == nullptr ? nullptr : t.before->path(peer);
}

void PathChanges::upsert(state::LearnedPath path) {
  Touched& t = touch(path.key());
  const state::LearnedPath* existing = current(t, path.peer);
  if (existing != nullptr && *existing == path) {
    return;
  }
  for (PeerChange& c : t.changes) {
    if (c.peer == path.peer) {
      c.path = std::move(path);
      return;
    }
  }
  std::string peer = path.peer;
  t.changes.push_back(PeerChange{std::move(peer), std::move(path)});
}

void PathChanges::remove(const std::string& peer, const state::RouteKey& key) {
  Touched& t = touch(key);
  if (current(t, peer) == nullptr) {
    return;
  }
  for (PeerChange& c : t.changes) {
    if (c.peer == peer) {
      c.path.reset();
      return;
    }
  }
  t.changes.push_back(PeerChange{peer, std::nullopt});
}

void PathChanges::emit(state::StateDelta& delta) && {
  std::size_t changes = 0;
  for (const Entry& entry : entries_) {
    changes += entry.touched.changes.size();
  }
  delta.ops.reserve(delta.ops.size() + changes + entries_.size()); // changes and decisions
  std::vector<PeerChange*> upserts;
  for (Entry& entry : entries_) {
    const state::RouteKey& key = entry.key;
    std::vector<PeerChange>& by_peer = entry.touched.changes;
    const state::NodeState::LearnedRoute* route = entry.touched.before;
    auto pathOf = [route](const std::string& peer) -> const state::LearnedPath* {
      return route == nullptr ? nullptr : route->path(peer);
    };
    upserts.clear();
    bool changed = false;
    for (PeerChange& change : by_peer) {
      const state::LearnedPath* before = pathOf(change.peer);
      if (change.path) {
        if (before == nullptr || *before != *change.path) {
          upserts.push_back(&change);
          changed = true;
        }
      } else if (before != nullptr) {
        changed = true;
      }
    }
    if (!changed) {
      continue;
    }

    // The best of the candidates after the change: the unchanged ones from the state plus
    // the changed ones. Decided before the new paths are moved into the delta.
    const state::LearnedPath* best = nullptr;
    auto consider = [&best](const state::LearnedPath* p) {
      if (p != nullptr && (best == nullptr || state::preferredOver(*p, *best))) {
        best = p;
      }
    };
    if (route != nullptr) {
      for (const state::LearnedPath& path : route->paths) {
        if (find(by_peer, path.peer) == nullptr) {
          consider(&path);
        }
      }
    }
    for (const PeerChange& change : by_peer) {
      consider(change.path ? &*change.path : nullptr);
    }
    const state::LearnedPath* best_before = route != nullptr ? route->bestPath() : nullptr;
    std::optional<state::DeltaOp> decision;
    if (best == nullptr) {
      if (best_before != nullptr) {
        decision = state::op::ClearBest{key};
      }
    } else if (best_before == nullptr || *best_before != *best) {
      decision = state::op::SelectBest{key, best->peer};
    }

    for (PeerChange& change : by_peer) {
      if (change.path) {
        if (std::find(upserts.begin(), upserts.end(), &change) != upserts.end()) {
          delta.ops.emplace_back(std::in_place_type<state::op::UpsertPath>,
                                 std::move(*change.path));
        }
      } else if (pathOf(change.peer) != nullptr) {
        delta.ops.emplace_back(state::op::RemovePath{change.peer, key});
      }
    }
    if (decision) {
      delta.ops.push_back(std::move(*decision));
    }
  }
}

void removePathOf(const state::RouteKey& key, const state::NodeState::LearnedRoute& route,
                  const std::string& peer, state::StateDelta& delta) {
  const state::LearnedPath* gone = route.path(peer);
  if (gone == nullptr) {
    return;
  }
  delta.ops.emplace_back(state::op::RemovePath{peer, key});
  const state::LearnedPath* best = nullptr;
  for (const state::LearnedPath& p : route.paths) {
    if (&p != gone && (best == nullptr || state::preferredOver(p, *best))) {
      best = &p;
    }
  }
  const state::LearnedPath* best_before = route.bestPath();
  if (best == nullptr) {
    if (best_before != nullptr) {
      delta.ops.emplace_back(state::op::ClearBest{key});
    }
  } else if (best_before == nullptr || *best_before != *best) {
    delta.ops.emplace_back(state::op::SelectBest{key, best->peer});
  }
}

void upsertPathOf(const state::NodeState& state, state::LearnedPath path,
                  state::StateDelta& delta) {
  const state::NodeState::LearnedRoute* route =
      state.findLearned(state::RouteKeyView{path.route.name, path.origin_node});
  upsertPathOf(route, std::move(path), delta);
}

void upsertPathOf(const state::NodeState::LearnedRoute* route, state::LearnedPath path,
                  state::StateDelta& delta) {
  const state::LearnedPath* existing = route != nullptr ? route->path(path.peer) : nullptr;
  if (existing != nullptr && *existing == path) {
    return;
  }
  // The best after the change: the route's other paths and the new one (a total order, so
  // the order they are looked at in does not matter).
  const state::LearnedPath* best = &path;
  if (route != nullptr) {
    for (const state::LearnedPath& p : route->paths) {
      if (&p != existing && state::preferredOver(p, *best)) {
        best = &p;
      }
    }
  }
  const state::LearnedPath* best_before = route != nullptr ? route->bestPath() : nullptr;
  std::optional<std::string> select;
  if (best_before == nullptr || *best_before != *best) {
    select = best->peer;
  }
  state::RouteKey key = path.key();
  delta.ops.emplace_back(std::in_place_type<state::op::UpsertPath>, std::move(path));
  if (select) {
    delta.ops.emplace_back(state::op::SelectBest{std::move(key), std::move(*select)});
  }
}

void removeAllPathsOf(const state::NodeState& state, const std::string& peer,
                      state::StateDelta& delta) {
  for (const auto& [key, route] : state.learned()) {
    if (route->path(peer) != nullptr) {
      removePathOf(key.owned(), *route, peer, delta);
    }
  }
}

void removePathsOf(const state::NodeState& state, const std::string& peer,
                   std::span<const state::RouteKey> keys, state::StateDelta& delta) {
  delta.ops.reserve(delta.ops.size() + 2 * keys.size()); // a removal and a decision each
  std::vector<const state::NodeState::LearnedRoute*> routes;
  findAllLearned(
      state, keys.size(), [&keys](std::size_t i) -> const state::RouteKey& { return keys[i]; },
      routes);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (routes[i] != nullptr) {
      removePathOf(keys[i], *routes[i], peer, delta);
    }
  }
}

} // namespace catalyst::plugins
