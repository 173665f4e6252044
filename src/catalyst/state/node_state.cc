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
  if (ops.empty()) {
    ops = std::move(other.ops); // the usual case (one plugin changes something): no op moves
    return;
  }
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

namespace {

// The position of `peer`'s path in `paths` (sorted by peer), or where it would go.
NodeState::Paths::const_iterator lowerBound(const NodeState::Paths& paths,
                                            const std::string& peer) {
  return std::lower_bound(
      paths.begin(), paths.end(), peer,
      [](const LearnedPath& p, const std::string& name) { return p.peer < name; });
}

} // namespace

NodeState::LearnedRoutes::LearnedRoutes(const LearnedRoutes& other) {
  slots_.reserve(other.size());
  for (const Slot& s : other.slots_) {
    slots_.insert(Slot{std::make_unique<LearnedRoute>(*s.record), s.hash});
  }
}

NodeState::LearnedRoutes& NodeState::LearnedRoutes::operator=(const LearnedRoutes& other) {
  if (this != &other) {
    *this = LearnedRoutes(other);
  }
  return *this;
}

NodeState::LearnedRoutes::const_iterator NodeState::LearnedRoutes::begin() const {
  return const_iterator(slots_.begin());
}

NodeState::LearnedRoutes::const_iterator NodeState::LearnedRoutes::end() const {
  return const_iterator(slots_.end());
}

void NodeState::LearnedRoutes::prefetch(std::size_t hash) const {
  if (auto it = slots_.find(HashProbe{hash}); it != slots_.end()) {
    __builtin_prefetch(it->record.get());
  }
}

NodeState::LearnedRoute& NodeState::LearnedRoutes::add(LearnedPath first, std::size_t hash) {
  auto record = std::make_unique<LearnedRoute>();
  record->paths.push_back(std::move(first));
  LearnedRoute& made = *record;
  slots_.insert(Slot{std::move(record), hash});
  return made;
}

bool operator==(const NodeState::LearnedRoutes& a, const NodeState::LearnedRoutes& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (const NodeState::LearnedRoutes::Slot& s : a.slots_) {
    const NodeState::LearnedRoute* other = b.findRecord(s.record->key(), s.hash);
    if (other == nullptr || !(*other == *s.record)) {
      return false;
    }
  }
  return true;
}

NodeState::LearnedRoute::LearnedRoute(const LearnedRoute& other)
    : paths(other.paths), best(other.best), port(other.port), has_port(other.has_port),
      pathless_key(other.pathless_key ? std::make_unique<RouteKey>(*other.pathless_key) : nullptr) {
}

NodeState::LearnedRoute& NodeState::LearnedRoute::operator=(const LearnedRoute& other) {
  if (this != &other) {
    *this = LearnedRoute(other);
  }
  return *this;
}

bool NodeState::LearnedRoute::operator==(const LearnedRoute& other) const {
  return paths == other.paths && best == other.best && port == other.port &&
         has_port == other.has_port && key() == other.key();
}

const LearnedPath* NodeState::LearnedRoute::path(const std::string& peer) const {
  auto it = lowerBound(paths, peer);
  return it != paths.end() && it->peer == peer ? &*it : nullptr;
}

const NodeState::Paths* NodeState::findCandidates(const RouteKey& key) const {
  const LearnedRoute* route = findLearned(key);
  return route == nullptr || route->paths.empty() ? nullptr : &route->paths;
}

const LearnedPath* NodeState::findPath(const std::string& peer, const RouteKey& key) const {
  const LearnedRoute* route = findLearned(key);
  return route == nullptr ? nullptr : route->path(peer);
}

const LearnedPath* NodeState::findBest(const RouteKey& key) const {
  const LearnedRoute* route = findLearned(key);
  return route == nullptr ? nullptr : route->bestPath();
}

std::vector<RouteKey> NodeState::learnedKeysSorted() const {
  std::vector<RouteKey> keys;
  keys.reserve(learned_.size());
  for (const auto& [key, route] : learned_) {
    if (route->hasBest()) {
      keys.push_back(key.owned());
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::vector<RouteKey> NodeState::keysFrom(const std::string& peer) const {
  // The records are cold and each is one or two cache misses away from its slot: the walk asks
  // for the record 16 slots ahead and for its first path's neighbour 8 ahead (by then the
  // record's first line is there to say where that is), so the misses overlap.
  constexpr int kAhead = 8;
  std::vector<RouteKey> keys;
  auto far = learned_.begin();
  auto near = learned_.begin();
  for (int i = 0; i < 2 * kAhead && far != learned_.end(); ++i, ++far) {
    __builtin_prefetch(&*far->second);
  }
  for (int i = 0; i < kAhead && near != learned_.end(); ++i, ++near) {
    if (!near->second->paths.empty()) {
      __builtin_prefetch(&near->second->paths.front().peer);
    }
  }
  for (const auto& [key, route] : learned_) {
    if (far != learned_.end()) {
      __builtin_prefetch(&*far->second);
      ++far;
    }
    if (near != learned_.end()) {
      if (!near->second->paths.empty()) {
        __builtin_prefetch(&near->second->paths.front().peer);
      }
      ++near;
    }
    if (route->path(peer) != nullptr) {
      keys.push_back(key.owned());
    }
  }
  return keys;
}

const NodeState::LearnedRoute* NodeState::findLearned(const RouteKey& key) const {
  return findLearned(RouteKeyView{key.name, key.origin_node});
}

const NodeState::LearnedRoute* NodeState::findLearned(const RouteKeyView& key) const {
  return learned_.findRecord(key, LearnedRoutes::hashOf(key));
}

std::optional<uint16_t> NodeState::portFor(const RouteKey& key) const {
  // A learned route never has this node as its origin (loop prevention drops those).
  if (key.origin_node == self_.name) {
    auto it = local_ports_.find(key.name);
    return it == local_ports_.end() ? std::nullopt : std::optional(it->second);
  }
  const LearnedRoute* route = findLearned(key);
  return route == nullptr ? std::nullopt : route->allocatedPort();
}

void NodeState::allocateLocalPort(const std::string& name) {
  if (ports_.capacity() == 0 || local_ports_.count(name) > 0) {
    return;
  }
  if (std::optional<uint16_t> port = ports_.allocate()) {
    local_ports_.emplace(name, *port);
  } else {
    ++port_allocation_failures_;
  }
}

void NodeState::releaseLocalPort(const std::string& name) {
  auto it = local_ports_.find(name);
  if (it != local_ports_.end()) {
    ports_.release(it->second);
    local_ports_.erase(it);
  }
}

void NodeState::allocateLearnedPort(LearnedRoute& route) {
  if (ports_.capacity() == 0 || route.has_port) {
    return;
  }
  if (std::optional<uint16_t> port = ports_.allocate()) {
    route.port = *port;
    route.has_port = true;
  } else {
    ++port_allocation_failures_;
  }
}

void NodeState::releaseLearnedPort(LearnedRoute& route) {
  if (route.has_port) {
    ports_.release(route.port);
    route.port = 0;
    route.has_port = false;
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
          allocateLocalPort(v.route.route.name);
          return true;
        } else if constexpr (std::is_same_v<T, op::RemoveLocalRoute>) {
          if (local_routes_.erase(v.name) == 0) {
            return false;
          }
          releaseLocalPort(v.name);
          return true;
        } else if constexpr (std::is_same_v<T, op::UpsertService>) {
          services_.insert_or_assign(v.service.name, v.service);
          return true;
        } else if constexpr (std::is_same_v<T, op::RemoveService>) {
          return services_.erase(v.name) > 0;
        } else if constexpr (std::is_same_v<T, op::UpsertPath>) {
          const RouteKeyView key{v.path.route.name, v.path.origin_node};
          const std::size_t hash = LearnedRoutes::hashOf(key);
          LearnedRoute* route = learned_.findMutable(key, hash);
          if (route == nullptr) {
            learned_.add(v.path, hash);
            ++path_count_;
            return true;
          }
          Paths& paths = route->paths;
          auto at = lowerBound(paths, v.path.peer);
          const auto index = static_cast<int32_t>(at - paths.begin());
          if (at != paths.end() && at->peer == v.path.peer) {
            paths[static_cast<std::size_t>(index)] = v.path;
          } else {
            paths.insert(at, v.path);
            ++path_count_;
            if (route->best >= index) {
              ++route->best; // the best path moved up one place
            }
          }
          route->pathless_key.reset(); // the path holds the key again
          return true;
        } else if constexpr (std::is_same_v<T, op::RemovePath>) {
          const RouteKeyView key{v.key.name, v.key.origin_node};
          LearnedRoute* route = learned_.findMutable(key);
          if (route == nullptr) {
            return false;
          }
          Paths& paths = route->paths;
          auto at = lowerBound(paths, v.peer);
          if (at == paths.end() || at->peer != v.peer) {
            return false;
          }
          const auto index = static_cast<int32_t>(at - paths.begin());
          if (paths.size() == 1) { // the last path held the key: keep a copy while the route stays
            route->pathless_key = std::make_unique<RouteKey>(v.key);
          }
          paths.erase(at);
          --path_count_;
          int32_t& best = route->best;
          if (best == index) {
            best = LearnedRoute::kBestGone;
          } else if (best > index) {
            --best;
          }
          // The entry stays while the Loc-RIB still names a neighbour; ClearBest removes it.
          if (paths.empty() && !route->hasBest()) {
            learned_.erase(key);
          }
          return true;
        } else if constexpr (std::is_same_v<T, op::SelectBest>) {
          LearnedRoute* route = learned_.findMutable(RouteKeyView{v.key.name, v.key.origin_node});
          if (route == nullptr || route->path(v.peer) == nullptr) {
            return false;
          }
          if (!route->hasBest()) {
            ++best_count_;
          }
          const Paths& paths = route->paths;
          route->best = static_cast<int32_t>(lowerBound(paths, v.peer) - paths.begin());
          allocateLearnedPort(*route);
          return true;
        } else if constexpr (std::is_same_v<T, op::ClearBest>) {
          const RouteKeyView key{v.key.name, v.key.origin_node};
          LearnedRoute* route = learned_.findMutable(key);
          if (route == nullptr || !route->hasBest()) {
            return false;
          }
          route->best = LearnedRoute::kNoBest;
          --best_count_;
          releaseLearnedPort(*route);
          if (route->paths.empty()) {
            learned_.erase(key);
          }
          return true;
        }
      },
      o);
}

} // namespace catalyst::state
