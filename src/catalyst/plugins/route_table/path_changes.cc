#include "catalyst/plugins/route_table/path_changes.h"

#include <utility>

namespace catalyst::plugins {

const state::LearnedPath* PathChanges::current(const std::string& peer,
                                               const state::RouteKey& key) const {
  auto by_key = changes_.find(key);
  if (by_key != changes_.end()) {
    auto by_peer = by_key->second.find(peer);
    if (by_peer != by_key->second.end()) {
      return by_peer->second ? &*by_peer->second : nullptr;
    }
  }
  return state_.findPath(peer, key);
}

void PathChanges::upsert(state::LearnedPath path) {
  const state::RouteKey key = path.key();
  const state::LearnedPath* existing = current(path.peer, key);
  if (existing != nullptr && *existing == path) {
    return;
  }
  std::string peer = path.peer;
  changes_[key].insert_or_assign(std::move(peer), std::move(path));
}

void PathChanges::remove(const std::string& peer, const state::RouteKey& key) {
  if (current(peer, key) == nullptr) {
    return;
  }
  changes_[key].insert_or_assign(peer, std::nullopt);
}

void PathChanges::emit(state::StateDelta& delta) const {
  for (const auto& [key, by_peer] : changes_) {
    bool changed = false;
    for (const auto& [peer, path] : by_peer) {
      const state::LearnedPath* before = state_.findPath(peer, key);
      if (path) {
        if (before == nullptr || *before != *path) {
          delta.ops.emplace_back(state::op::UpsertPath{*path});
          changed = true;
        }
      } else if (before != nullptr) {
        delta.ops.emplace_back(state::op::RemovePath{peer, key});
        changed = true;
      }
    }
    if (!changed) {
      continue;
    }

    // The best of the candidates after the change: the unchanged ones from the state plus
    // the changed ones.
    const state::LearnedPath* best = nullptr;
    auto consider = [&best](const state::LearnedPath* p) {
      if (p != nullptr && (best == nullptr || state::preferredOver(*p, *best))) {
        best = p;
      }
    };
    if (const auto* candidates = state_.findCandidates(key)) {
      for (const auto& [peer, path] : *candidates) {
        if (by_peer.find(peer) == by_peer.end()) {
          consider(&path);
        }
      }
    }
    for (const auto& [peer, path] : by_peer) {
      consider(path ? &*path : nullptr);
    }

    const state::LearnedPath* best_before = state_.findBest(key);
    if (best == nullptr) {
      if (best_before != nullptr) {
        delta.ops.emplace_back(state::op::ClearBest{key});
      }
    } else if (best_before == nullptr || *best_before != *best) {
      delta.ops.emplace_back(state::op::SelectBest{key, best->peer});
    }
  }
}

} // namespace catalyst::plugins
