#include "catalyst/state/node_state.h"

#include <algorithm>
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
  auto it = learned_.find(key);
  return it == learned_.end() || it->second.paths.empty() ? nullptr : &it->second.paths;
}

const LearnedPath* NodeState::findPath(const std::string& peer, const RouteKey& key) const {
  auto it = learned_.find(key);
  if (it == learned_.end()) {
    return nullptr;
  }
  auto path = it->second.paths.find(peer);
  return path == it->second.paths.end() ? nullptr : &path->second;
}

const LearnedPath* NodeState::findBest(const RouteKey& key) const {
  auto it = learned_.find(key);
  if (it == learned_.end() || !it->second.best) {
    return nullptr;
  }
  auto path = it->second.paths.find(*it->second.best);
  return path == it->second.paths.end() ? nullptr : &path->second;
}

std::vector<RouteKey> NodeState::learnedKeysSorted() const {
  std::vector<RouteKey> keys;
  keys.reserve(learned_.size());
  for (const auto& [key, route] : learned_) {
    if (route.best) {
      keys.push_back(key);
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

const std::unordered_set<RouteKey, RouteKeyHash>*
NodeState::pathsFrom(const std::string& peer) const {
  auto it = paths_by_peer_.find(peer);
  return it == paths_by_peer_.end() ? nullptr : &it->second;
}

std::optional<uint16_t> NodeState::portFor(const RouteKey& key) const {
  auto it = route_ports_.find(key);
  return it == route_ports_.end() ? std::nullopt : std::optional(it->second);
}

void NodeState::allocatePort(const RouteKey& key) {
  if (ports_.capacity() == 0 || route_ports_.count(key) > 0) {
    return;
  }
  if (std::optional<uint16_t> port = ports_.allocate()) {
    route_ports_.emplace(key, *port);
  } else {
    ++port_allocation_failures_;
  }
}

void NodeState::releasePort(const RouteKey& key) {
  auto it = route_ports_.find(key);
  if (it != route_ports_.end()) {
    ports_.release(it->second);
    route_ports_.erase(it);
  }
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
          allocatePort(RouteKey{v.route.route.name, self_.name});
          return true;
        } else if constexpr (std::is_same_v<T, op::RemoveLocalRoute>) {
          if (local_routes_.erase(v.name) == 0) {
            return false;
          }
          releasePort(RouteKey{v.name, self_.name});
          return true;
        } else if constexpr (std::is_same_v<T, op::UpsertService>) {
          services_.insert_or_assign(v.service.name, v.service);
          return true;
        } else if constexpr (std::is_same_v<T, op::RemoveService>) {
          return services_.erase(v.name) > 0;
        } else if constexpr (std::is_same_v<T, op::UpsertPath>) {
          RouteKey key = v.path.key();
          auto [it, inserted] = learned_[key].paths.insert_or_assign(v.path.peer, v.path);
          if (inserted) {
            ++path_count_;
            paths_by_peer_[v.path.peer].insert(std::move(key));
          }
          return true;
        } else if constexpr (std::is_same_v<T, op::RemovePath>) {
          auto it = learned_.find(v.key);
          if (it == learned_.end() || it->second.paths.erase(v.peer) == 0) {
            return false;
          }
          --path_count_;
          // The entry stays while the Loc-RIB still names a neighbour; ClearBest removes it.
          if (it->second.paths.empty() && !it->second.best) {
            learned_.erase(it);
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
          auto it = learned_.find(v.key);
          if (it == learned_.end() || it->second.paths.count(v.peer) == 0) {
            return false;
          }
          if (!it->second.best) {
            ++best_count_;
          }
          it->second.best = v.peer;
          allocatePort(v.key);
          return true;
        } else if constexpr (std::is_same_v<T, op::ClearBest>) {
          auto it = learned_.find(v.key);
          if (it == learned_.end() || !it->second.best) {
            return false;
          }
          it->second.best.reset();
          --best_count_;
          if (it->second.paths.empty()) {
            learned_.erase(it);
          }
          releasePort(v.key);
          return true;
        }
      },
      o);
}

} // namespace catalyst::state
