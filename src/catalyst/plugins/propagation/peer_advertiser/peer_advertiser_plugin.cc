#include "catalyst/plugins/propagation/peer_advertiser/peer_advertiser_plugin.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

namespace catalyst::plugins {
namespace {

using state::UpdateItem;

// What each peer is to be told, in batches of at most control::kMaxUpdateItems. A node has few
// peers: a short list, searched from the peer used last (a delta's items mostly go to the same
// peers in turn), not a map keyed by name.
class Outbox {
public:
  explicit Outbox(std::size_t expected) : expected_(expected) {}

  void add(const std::string& peer, UpdateItem item) { itemsOf(peer).push_back(std::move(item)); }

  std::vector<control::Effect> effects() && {
    std::sort(peers_.begin(), peers_.end(),
              [](const PeerItems& a, const PeerItems& b) { return *a.peer < *b.peer; });
    std::vector<control::Effect> out;
    for (PeerItems& p : peers_) {
      std::vector<UpdateItem>& items = p.items;
      if (items.size() <= control::kMaxUpdateItems) { // one batch: the list as it is
        out.emplace_back(control::fx::SendUpdate{*p.peer, std::move(items)});
        continue;
      }
      for (std::size_t i = 0; i < items.size(); i += control::kMaxUpdateItems) {
        const std::size_t end = std::min(items.size(), i + control::kMaxUpdateItems);
        control::fx::SendUpdate send{*p.peer, {}};
        send.items.assign(std::make_move_iterator(items.begin() + static_cast<long>(i)),
                          std::make_move_iterator(items.begin() + static_cast<long>(end)));
        out.emplace_back(std::move(send));
      }
    }
    return out;
  }

private:
  struct PeerItems {
    const std::string* peer;
    std::vector<UpdateItem> items;
  };

  std::vector<UpdateItem>& itemsOf(const std::string& peer) {
    for (std::size_t n = 0; n < peers_.size(); ++n) {
      PeerItems& p = peers_[(last_ + n) % peers_.size()];
      if (*p.peer == peer) {
        last_ = (last_ + n) % peers_.size();
        return p.items;
      }
    }
    last_ = peers_.size();
    peers_.push_back(PeerItems{&peer, {}});
    peers_.back().items.reserve(expected_); // at most one item per operation and peer, mostly
    return peers_.back().items;
  }

  std::size_t expected_;
  std::vector<PeerItems> peers_;
  std::size_t last_ = 0;
};

// The node paths this node advertises: [self], and [self] followed by a best path. Routes
// mostly share their best path's list (state::NodePath), and then share the advertised one too.
class PathMaker {
public:
  explicit PathMaker(const std::string& self) : self_(self) {}

  const state::NodePath& own() {
    if (own_.empty()) {
      own_ = state::NodePath{self_};
    }
    return own_;
  }

  const state::NodePath& via(const state::NodePath& tail) {
    if (made_.empty() || !tail.sharesWith(tail_)) {
      std::vector<std::string> ids;
      ids.reserve(tail.size() + 1);
      ids.push_back(self_);
      ids.insert(ids.end(), tail.begin(), tail.end());
      made_ = state::NodePath(std::move(ids));
      tail_ = tail;
    }
    return made_;
  }

private:
  const std::string& self_;
  state::NodePath own_;
  state::NodePath tail_;
  state::NodePath made_;
};

std::vector<const state::Peer*> connectedPeers(const state::NodeState& s) {
  std::vector<const state::Peer*> out;
  for (const auto& [name, peer] : s.peers()) {
    if (peer.status == state::ConnectionStatus::Connected) {
      out.push_back(&peer);
    }
  }
  return out;
}

// Next-hop rewrite: the receiver's traffic for the route enters our data plane, at our
// address and the port we allocated for the route (none when no port range is configured or
// the range is exhausted); what the neighbour advertised to us stays in the learned path.
state::Route asAdvertised(const state::NodeState& s, std::optional<uint16_t> port,
                          state::Route route) {
  if (!s.self().envoy_address.empty()) {
    route.envoy_address = s.self().envoy_address;
  } else {
    route.envoy_address.reset();
  }
  route.envoy_port = port;
  return route;
}

UpdateItem localAdd(const state::NodeState& s, const state::Route& route, PathMaker& paths) {
  return UpdateItem{UpdateItem::Action::Add,
                    asAdvertised(s, s.portFor({route.name, s.self().name}), route), paths.own(),
                    s.self().name};
}

UpdateItem withdrawal(const state::RouteKey& key, PathMaker& paths) {
  state::Route route;
  route.name = key.name;
  return UpdateItem{UpdateItem::Action::Remove, std::move(route), paths.own(), key.origin_node};
}

// Whether `best` may be sent to `peer` (split horizon and loop prevention).
bool exportable(const state::LearnedPath& best, const std::string& peer) {
  return best.peer != peer &&
         std::find(best.node_path.begin(), best.node_path.end(), peer) == best.node_path.end();
}

UpdateItem learnedAdd(const state::NodeState& s, const state::NodeState::LearnedRoute& route,
                      PathMaker& paths) {
  const state::LearnedPath& best = *route.bestPath();
  return UpdateItem{UpdateItem::Action::Add, asAdvertised(s, route.allocatedPort(), best.route),
                    paths.via(best.node_path), best.origin_node};
}

// One step of the walk of our table for `peer` (control/table_walk.h): up to kMaxUpdateItems
// items from `cursor` on, which it moves past them. Returns whether the walk is done.
bool walkTable(const state::NodeState& s, const state::Peer& peer, control::TableCursor& cursor,
               Outbox& out, PathMaker& paths) {
  std::size_t n = 0;
  if (!cursor.local_done) {
    const auto& locals = s.localRoutes();
    auto it = cursor.after_local.empty() ? locals.begin() : locals.upper_bound(cursor.after_local);
    auto last = locals.end();
    for (; it != locals.end() && n < control::kMaxUpdateItems; ++it, ++n) {
      out.add(peer.info.name, localAdd(s, it->second.route, paths));
      last = it;
    }
    if (last != locals.end()) {
      cursor.after_local = last->first;
    }
    if (it != locals.end()) {
      return false;
    }
    cursor.local_done = true;
  }
  if (!cursor.learned) {
    cursor.learned = std::make_shared<const std::vector<state::RouteKey>>(s.learnedKeysSorted());
  }
  const std::vector<state::RouteKey>& keys = *cursor.learned;
  while (cursor.next_learned < keys.size() && n < control::kMaxUpdateItems) {
    const state::NodeState::LearnedRoute* route = s.findLearned(keys[cursor.next_learned++]);
    if (route != nullptr && route->bestPath() != nullptr &&
        exportable(*route->bestPath(), peer.info.name)) {
      out.add(peer.info.name, learnedAdd(s, *route, paths));
      ++n;
    }
  }
  return cursor.next_learned == keys.size();
}

} // namespace

std::vector<control::Effect> PeerAdvertiserPlugin::evaluate(const state::NodeState& committed,
                                                            const state::StateDelta& change,
                                                            const control::Event& event) const {
  // A step of a table walk makes a whole batch for one peer; a delta, an item per operation
  // and peer at most.
  const bool walks = std::holds_alternative<control::ev::PeerSessionUp>(event) ||
                     std::holds_alternative<control::ev::PeerTableWanted>(event);
  Outbox out(walks ? control::kMaxUpdateItems
                   : std::min(change.ops.size(), control::kMaxUpdateItems));
  PathMaker paths(committed.self().name);
  const std::vector<const state::Peer*> peers = connectedPeers(committed);

  // The paths a route lost just before its decision (the route-table plugins put a route's
  // path operations right before its SelectBest or ClearBest). From them and the committed
  // route we can tell when the only path it had came from the peer a withdrawal would go to:
  // split horizon never sent that peer the route, so the withdrawal is not made at all
  // (the Adj-RIB-Out would drop it; making it cost ~15% of a leaf's withdrawal work).
  const state::RouteKey* removed_key = nullptr;
  const std::string* removed_peer = nullptr;
  std::size_t removed = 0;
  auto removalsBefore = [&](const state::RouteKey& key) {
    return removed_key != nullptr && *removed_key == key ? removed : 0;
  };

  for (const state::DeltaOp& o : change.ops) {
    if (const auto* rp = std::get_if<state::op::RemovePath>(&o)) {
      removed = removalsBefore(rp->key) + 1;
      removed_key = &rp->key;
      removed_peer = &rp->peer;
    } else if (const auto* up = std::get_if<state::op::UpsertLocalRoute>(&o)) {
      for (const state::Peer* p : peers) {
        out.add(p->info.name, localAdd(committed, up->route.route, paths));
      }
    } else if (const auto* rm = std::get_if<state::op::RemoveLocalRoute>(&o)) {
      for (const state::Peer* p : peers) {
        out.add(p->info.name, withdrawal({rm->name, committed.self().name}, paths));
      }
    } else if (const auto* sel = std::get_if<state::op::SelectBest>(&o)) {
      const state::NodeState::LearnedRoute* route = committed.findLearned(sel->key);
      if (route == nullptr || route->bestPath() == nullptr) {
        continue; // superseded by a later operation of the same delta
      }
      // Excluded peers get a withdrawal (the Adj-RIB-Out drops those for routes a peer was
      // never sent: peering/adj_rib_out.h), except the source of a route that has only ever
      // had its path: no path was lost and one is left, so any best before was its too.
      const state::LearnedPath& best = *route->bestPath();
      const bool only_ever_from_source = removalsBefore(sel->key) == 0 && route->paths.size() == 1;
      for (const state::Peer* p : peers) {
        if (exportable(best, p->info.name)) {
          out.add(p->info.name, learnedAdd(committed, *route, paths));
        } else if (!(only_ever_from_source && p->info.name == best.peer)) {
          out.add(p->info.name, withdrawal(sel->key, paths));
        }
      }
    } else if (const auto* clr = std::get_if<state::op::ClearBest>(&o)) {
      // One path lost and none left: it was the route's only path, so its peer never had it.
      const std::string* source = removalsBefore(clr->key) == 1 ? removed_peer : nullptr;
      for (const state::Peer* p : peers) {
        if (source == nullptr || p->info.name != *source) {
          out.add(p->info.name, withdrawal(clr->key, paths));
        }
      }
    }
  }

  // The walk of our table for a new session: its first step now, the next ones when the
  // session asks (PeerTableWanted), the last followed by EndOfTable.
  std::optional<control::TableCursor> cursor;
  const state::Peer* walked = nullptr;
  if (const auto* up = std::get_if<control::ev::PeerSessionUp>(&event)) {
    walked = committed.findPeer(up->peer);
    cursor.emplace().session = up->session;
  } else if (const auto* wanted = std::get_if<control::ev::PeerTableWanted>(&event)) {
    walked = committed.findPeer(wanted->peer);
    cursor = wanted->cursor;
  }
  if (walked == nullptr || walked->status != state::ConnectionStatus::Connected) {
    return std::move(out).effects(); // no walk, or the session it was for is gone
  }
  const bool done = walkTable(committed, *walked, *cursor, out, paths);
  std::vector<control::Effect> effects = std::move(out).effects();
  if (done) {
    effects.emplace_back(control::fx::EndOfTable{walked->info.name, cursor->session});
  } else {
    effects.emplace_back(control::fx::ContinueTable{walked->info.name, std::move(*cursor)});
  }
  return effects;
}

} // namespace catalyst::plugins
