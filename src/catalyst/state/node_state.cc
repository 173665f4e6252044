#include "catalyst/state/node_state.h"

#include <type_traits>

namespace catalyst::state {

std::string_view toString(ConnectionStatus status) {
  switch (status) {
  case ConnectionStatus::Initializing:
    return "initializing";
  case ConnectionStatus::Connected:
    return "connected";
  case ConnectionStatus::Closed:
    return "closed";
  }
  return "unknown";
}

void StateDelta::append(StateDelta&& other) {
  ops.reserve(ops.size() + other.ops.size());
  for (auto& o : other.ops) {
    ops.push_back(std::move(o));
  }
}

const Peer* NodeState::findPeer(const std::string& name) const {
  auto it = peers_.find(name);
  return it == peers_.end() ? nullptr : &it->second;
}

const LocalRoute* NodeState::findLocalRoute(const std::string& name) const {
  auto it = local_routes_.find(name);
  return it == local_routes_.end() ? nullptr : &it->second;
}

const LocalService* NodeState::findService(const std::string& name) const {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : &it->second;
}

const NodeState::PathsByPeer* NodeState::findCandidates(const RouteKey& key) const {
  auto it = adj_rib_in_.find(key);
  return it == adj_rib_in_.end() ? nullptr : &it->second;
}

const LearnedPath* NodeState::findPath(const std::string& peer, const RouteKey& key) const {
  const PathsByPeer* candidates = findCandidates(key);
  if (candidates == nullptr) {
    return nullptr;
  }
  auto it = candidates->find(peer);
  return it == candidates->end() ? nullptr : &it->second;
}

const LearnedPath* NodeState::findBest(const RouteKey& key) const {
  auto it = loc_rib_.find(key);
  return it == loc_rib_.end() ? nullptr : findPath(it->second, key);
}

const std::set<RouteKey>* NodeState::pathsFrom(const std::string& peer) const {
  auto it = paths_by_peer_.find(peer);
  return it == paths_by_peer_.end() ? nullptr : &it->second;
}

std::size_t NodeState::apply(const StateDelta& delta) {
  std::size_t no_ops = 0;
  for (const DeltaOp& o : delta.ops) {
    if (!applyOne(o)) {
      ++no_ops;
    }
  }
  ++generation_;
  return no_ops;
}

bool NodeState::applyOne(const DeltaOp& o) {
  return std::visit(
      [this](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, op::UpsertPeer>) {
          peers_.insert_or_assign(v.peer.info.name, v.peer);
          return true;
        } else if constexpr (std::is_same_v<T, op::RemovePeer>) {
          return peers_.erase(v.name) > 0;
        } else if constexpr (std::is_same_v<T, op::UpsertLocalRoute>) {
          local_routes_.insert_or_assign(v.route.route.name, v.route);
          return true;
        } else if constexpr (std::is_same_v<T, op::RemoveLocalRoute>) {
          return local_routes_.erase(v.name) > 0;
        } else if constexpr (std::is_same_v<T, op::UpsertService>) {
          services_.insert_or_assign(v.service.name, v.service);
          return true;
        } else if constexpr (std::is_same_v<T, op::RemoveService>) {
          return services_.erase(v.name) > 0;
        } else if constexpr (std::is_same_v<T, op::UpsertPath>) {
          RouteKey key = v.path.key();
          paths_by_peer_[v.path.peer].insert(key);
          adj_rib_in_[std::move(key)].insert_or_assign(v.path.peer, v.path);
          return true;
        } else if constexpr (std::is_same_v<T, op::RemovePath>) {
          auto it = adj_rib_in_.find(v.key);
          if (it == adj_rib_in_.end() || it->second.erase(v.peer) == 0) {
            return false;
          }
          if (it->second.empty()) {
            adj_rib_in_.erase(it);
          }
          auto index = paths_by_peer_.find(v.peer);
          if (index != paths_by_peer_.end()) {
            index->second.erase(v.key);
            if (index->second.empty()) {
              paths_by_peer_.erase(index);
            }
          }
          return true;
        } else if constexpr (std::is_same_v<T, op::SelectBest>) {
          if (findPath(v.peer, v.key) == nullptr) {
            return false;
          }
          loc_rib_.insert_or_assign(v.key, v.peer);
          return true;
        } else if constexpr (std::is_same_v<T, op::ClearBest>) {
          return loc_rib_.erase(v.key) > 0;
        }
      },
      o);
}

} // namespace catalyst::state
