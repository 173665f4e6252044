#include "catalyst/plugins/route_table/peer_routes/peer_routes_plugin.h"

#include <algorithm>
#include <memory>

#include <boost/unordered/unordered_flat_set.hpp>
#include <fmt/format.h>

#include "catalyst/control/effect.h"
#include "catalyst/plugins/route_table/path_changes.h"

namespace catalyst::plugins {
namespace {

using control::PhaseOneResult;
using control::Rejection;

// Whether the items name distinct routes. Compared by hash: equal hashes (a repeated route,
// or very rarely two routes) send the batch the general way.
bool distinctRoutes(const std::vector<state::UpdateItem>& items) {
  boost::unordered_flat_set<std::size_t> seen;
  seen.reserve(items.size());
  for (const state::UpdateItem& item : items) {
    if (!seen.insert(state::RouteKeyHash::of(item.route.name, item.origin_node)).second) {
      return false;
    }
  }
  return true;
}

// Loop prevention: an add whose nodePath holds our own id is dropped (and said so).
bool loops(const state::NodeState& s, const state::UpdateItem& item, const std::string& peer,
           PhaseOneResult& r) {
  if (std::find(item.node_path.begin(), item.node_path.end(), s.self().name) ==
      item.node_path.end()) {
    return false;
  }
  r.rejections.push_back(
      {"loop_detected", fmt::format("route '{}' from '{}': nodePath contains this node; dropped",
                                    item.route.name, peer)});
  return true;
}

PhaseOneResult onUpdate(const state::NodeState& s, const control::ev::PeerUpdate& e) {
  PhaseOneResult r;
  const state::Peer* peer = s.findPeer(e.peer);
  if (peer == nullptr) {
    r.rejections.push_back({"unknown_peer", fmt::format("no peer named '{}'", e.peer)});
    return r;
  }
  if (peer->status != state::ConnectionStatus::Connected) {
    r.rejections.push_back(
        {"session_not_established", fmt::format("no established session with '{}'", e.peer)});
    return r;
  }
  if (e.items.size() > control::kMaxUpdateItems) {
    r.rejections.push_back(
        {"oversize_batch", fmt::format("{} items in one update (at most {})", e.items.size(),
                                       control::kMaxUpdateItems)});
    return r;
  }
  for (std::size_t i = 0; i < e.items.size(); ++i) {
    if (auto st = validateUpdateItem(e.items[i], e.peer); !st) {
      r.rejections.push_back(
          {"invalid_update", fmt::format("updates[{}].{}", i, st.error().message)});
      return r;
    }
  }

  // A batch whose items name distinct routes (the usual case: a sender's Adj-RIB-Out sends a
  // route once per batch) needs no merging: each item's change stands alone. Otherwise the
  // items go through PathChanges, which merges changes to one route.
  if (distinctRoutes(e.items)) {
    r.delta.ops.reserve(2 * e.items.size()); // a path and a decision per item at most
    std::vector<const state::NodeState::LearnedRoute*> routes;
    findAllLearned(
        s, e.items.size(),
        [&e](std::size_t i) {
          return state::RouteKeyView{e.items[i].route.name, e.items[i].origin_node};
        },
        routes);
    for (std::size_t i = 0; i < e.items.size(); ++i) {
      const state::UpdateItem& item = e.items[i];
      if (item.action == state::UpdateItem::Action::Remove) {
        if (routes[i] != nullptr) {
          removePathOf(state::RouteKey{item.route.name, item.origin_node}, *routes[i], e.peer,
                       r.delta);
        }
      } else if (!loops(s, item, e.peer, r)) {
        upsertPathOf(routes[i],
                     state::LearnedPath{item.route, e.peer, item.node_path, item.origin_node,
                                        /*is_stale=*/false},
                     r.delta);
      }
    }
    return r;
  }
  PathChanges changes(s);
  changes.reserve(e.items.size());
  for (const state::UpdateItem& item : e.items) {
    const state::RouteKey key{item.route.name, item.origin_node};
    if (item.action == state::UpdateItem::Action::Remove) {
      changes.remove(e.peer, key);
      continue;
    }
    if (loops(s, item, e.peer, r)) {
      continue;
    }
    changes.upsert(state::LearnedPath{item.route, e.peer, item.node_path, item.origin_node,
                                      /*is_stale=*/false});
  }
  std::move(changes).emit(r.delta);
  return r;
}

// One step of removing the paths of `peer` (ev::PeerFlush): those for keys[next...], at most
// kMaxUpdateItems of them; the rest follows as another step.
void flushStep(const state::NodeState& s, const std::string& peer,
               std::shared_ptr<const std::vector<state::RouteKey>> keys, std::size_t next,
               PhaseOneResult& r) {
  const std::size_t end = std::min(keys->size(), next + control::kMaxUpdateItems);
  removePathsOf(s, peer, std::span<const state::RouteKey>(*keys).subspan(next, end - next),
                r.delta);
  if (end < keys->size()) {
    r.follow_ups.emplace_back(control::ev::PeerFlush{peer, std::move(keys), end});
  }
}

PhaseOneResult onFlush(const state::NodeState& s, const control::ev::PeerFlush& e) {
  PhaseOneResult r;
  const state::Peer* peer = s.findPeer(e.peer);
  // Connected again: what was left went at PeerSessionUp. Down again with graceful restart:
  // its paths are stale now, kept for the window. Removed: its paths went with it.
  if (peer == nullptr || peer->status == state::ConnectionStatus::Connected ||
      peer->stale_until.has_value()) {
    return r;
  }
  flushStep(s, e.peer, e.keys, e.next, r);
  return r;
}

// Calls f(key, path) for every path `peer` gives, in one walk of the table (in the order
// keysFrom() lists them).
template <class F> void forEachPathOf(const state::NodeState& s, const std::string& peer, F f) {
  for (const auto& [key, route] : s.learned()) {
    if (const state::LearnedPath* path = route->path(peer)) {
      f(key.owned(), *path);
    }
  }
}

// Removes the stale paths `peer` gives.
void removeStalePathsOf(const state::NodeState& s, const std::string& peer, PathChanges& changes) {
  forEachPathOf(s, peer, [&](const state::RouteKey& key, const state::LearnedPath& path) {
    if (path.is_stale) {
      changes.remove(peer, key);
    }
  });
}

// A new session: paths left by an unfinished flush of the last one go now, before the peer's
// new table arrives (stale paths of a graceful restart stay until its EndOfTable or window).
// Until this event the peer's updates were refused, so its fresh paths are all leftovers.
PhaseOneResult onSessionUp(const state::NodeState& s, const control::ev::PeerSessionUp& e) {
  PhaseOneResult r;
  PathChanges changes(s);
  forEachPathOf(s, e.peer, [&](const state::RouteKey& key, const state::LearnedPath& path) {
    if (!path.is_stale) {
      changes.remove(e.peer, key);
    }
  });
  std::move(changes).emit(r.delta);
  return r;
}

PhaseOneResult onSessionDown(const state::NodeState& s, const control::ev::PeerSessionDown& e) {
  PhaseOneResult r;
  const state::Peer* peer = s.findPeer(e.peer);
  if (peer == nullptr) {
    return r;
  }
  const bool keep_stale =
      e.code == state::CloseCode::TransportError && peer->graceful_restart_time.has_value();
  if (!keep_stale) {
    flushStep(s, e.peer, std::make_shared<const std::vector<state::RouteKey>>(s.keysFrom(e.peer)),
              0, r);
    return r;
  }
  PathChanges changes(s);
  forEachPathOf(s, e.peer, [&](const state::RouteKey&, const state::LearnedPath& path) {
    state::LearnedPath stale = path;
    stale.is_stale = true;
    changes.upsert(std::move(stale));
  });
  std::move(changes).emit(r.delta);
  return r;
}

PhaseOneResult onRemovePeer(const state::NodeState& s, const control::ev::RemovePeer& e) {
  PhaseOneResult r;
  removeAllPathsOf(s, e.name, r.delta);
  return r;
}

// Graceful restart: the peer's full table is in; what is still stale was not re-advertised.
// Only a peer in its stale window has stale paths (they are made with the window and go when
// it closes), so any other peer's end of table costs no walk of the table.
PhaseOneResult onEndOfTable(const state::NodeState& s, const control::ev::PeerEndOfTable& e) {
  PhaseOneResult r;
  const state::Peer* peer = s.findPeer(e.peer);
  if (peer == nullptr || !peer->stale_until) {
    return r;
  }
  PathChanges changes(s);
  removeStalePathsOf(s, e.peer, changes);
  std::move(changes).emit(r.delta);
  return r;
}

PhaseOneResult onTick(const state::NodeState& s, const control::ev::TimerTick& e) {
  PhaseOneResult r;
  PathChanges changes(s);
  for (const auto& [name, peer] : s.peers()) {
    if (!peer.stale_until || *peer.stale_until > e.now) {
      continue;
    }
    removeStalePathsOf(s, name, changes);
  }
  std::move(changes).emit(r.delta);
  return r;
}

} // namespace

Status validateUpdateItem(const state::UpdateItem& item, const std::string& sender) {
  if (auto st = state::validateRoute(item.route); !st) {
    return invalidArgument("route." + st.error().message);
  }
  if (item.node_path.empty() || item.node_path.size() > state::kMaxNodePathLength) {
    return invalidArgument(fmt::format("nodePath: must hold 1-{} node ids (got {})",
                                       state::kMaxNodePathLength, item.node_path.size()));
  }
  for (const std::string& id : item.node_path) {
    if (id.empty() || id.size() > state::kMaxNameLength) {
      return invalidArgument(
          fmt::format("nodePath: node ids must be 1-{} characters", state::kMaxNameLength));
    }
  }
  if (item.node_path.front() != sender) {
    return invalidArgument(
        fmt::format("nodePath[0]: '{}' is not the sender '{}'", item.node_path.front(), sender));
  }
  // A withdrawal names the route by (name, originNode) and comes with the sender's own path
  // ([sender]): the path it had is gone. Only an add carries the whole path to its origin.
  if (item.action == state::UpdateItem::Action::Add && item.origin_node != item.node_path.back()) {
    return invalidArgument(fmt::format("originNode: '{}' is not the last nodePath entry '{}'",
                                       item.origin_node, item.node_path.back()));
  }
  return {};
}

control::PhaseOneResult PeerRoutesPlugin::apply(const state::NodeState& state,
                                                const control::Event& event) const {
  if (const auto* e = std::get_if<control::ev::PeerUpdate>(&event)) {
    return onUpdate(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::PeerSessionDown>(&event)) {
    return onSessionDown(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::RemovePeer>(&event)) {
    return onRemovePeer(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::TimerTick>(&event)) {
    return onTick(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::PeerEndOfTable>(&event)) {
    return onEndOfTable(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::PeerFlush>(&event)) {
    return onFlush(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::PeerSessionUp>(&event)) {
    return onSessionUp(state, *e);
  }
  return {};
}

} // namespace catalyst::plugins
