#include "catalyst/plugins/route_table/path_changes.h"

#include <algorithm>
#include <optional>
#include <utility>

namespace catalyst::plugins {

const PathChanges::PeerChange* PathChanges::find(const PeerChanges& changes,
                                                 const std::string& peer) {
  for (const PeerChange& c : changes) {
    if (c.peer == peer) {
      return &c;
    }
  }
  return nullptr;
}

const state::LearnedPath* PathChanges::current(const std::string& peer,
                                               const state::RouteKey& key) const {
  auto by_key = changes_.find(key);
  if (by_key != changes_.end()) {
    if (const PeerChange* change = find(by_key->second, peer)) {
      return change->path ? &*change->path : nullptr;
    }
  }
  return state_.findPath(peer, key);
}

void PathChanges::upsert(state::LearnedPath path) {
  state::RouteKey key = path.key();
  const state::LearnedPath* existing = current(path.peer, key);
  if (existing != nullptr && *existing == path) {
    return;
  }
  auto [it, inserted] = changes_.try_emplace(key);
  if (inserted) {
    order_.push_back(std::move(key));
  }
  for (PeerChange& c : it->second) {
    if (c.peer == path.peer) {
      c.path = std::move(path);
      return;
    }
  }
  std::string peer = path.peer;
  it->second.push_back(PeerChange{std::move(peer), std::move(path)});
}

void PathChanges::remove(const std::string& peer, const state::RouteKey& key) {
  if (current(peer, key) == nullptr) {
    return;
  }
  auto [it, inserted] = changes_.try_emplace(key);
  if (inserted) {
    order_.push_back(key);
  }
  for (PeerChange& c : it->second) {
    if (c.peer == peer) {
      c.path.reset();
      return;
    }
  }
  it->second.push_back(PeerChange{peer, std::nullopt});
}

void PathChanges::emit(state::StateDelta& delta) && {
  std::vector<PeerChange*> upserts;
  for (const state::RouteKey& key : order_) {
    PeerChanges& by_peer = changes_.at(key);
    // One lookup of the route in the state for all that follows.
    auto entry = state_.learned().find(key);
    const state::NodeState::LearnedRoute* route =
        entry == state_.learned().end() ? nullptr : &entry->second;
    auto pathOf = [route](const std::string& peer) -> const state::LearnedPath* {
      if (route == nullptr) {
        return nullptr;
      }
      auto it = route->paths.find(peer);
      return it == route->paths.end() ? nullptr : &it->second;
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
      for (const auto& [peer, path] : route->paths) {
        if (find(by_peer, peer) == nullptr) {
          consider(&path);
        }
      }
    }
    for (const PeerChange& change : by_peer) {
      consider(change.path ? &*change.path : nullptr);
    }
    const state::LearnedPath* best_before =
        route != nullptr && route->best ? pathOf(*route->best) : nullptr;
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
          delta.ops.emplace_back(state::op::UpsertPath{std::move(*change.path)});
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

} // namespace catalyst::plugins
