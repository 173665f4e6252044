#include "catalyst/plugins/propagation/peer_advertiser/peer_advertiser_plugin.h"

#include <algorithm>
#include <map>

namespace catalyst::plugins {
namespace {

using state::UpdateItem;

class Outbox {
public:
  void add(const std::string& peer, UpdateItem item) { items_[peer].push_back(std::move(item)); }

  std::vector<control::Effect> effects() && {
    std::vector<control::Effect> out;
    for (auto& [peer, items] : items_) {
      for (std::size_t i = 0; i < items.size(); i += control::kMaxUpdateItems) {
        const std::size_t end = std::min(items.size(), i + control::kMaxUpdateItems);
        control::fx::SendUpdate send{peer, {}};
        send.items.assign(std::make_move_iterator(items.begin() + static_cast<long>(i)),
                          std::make_move_iterator(items.begin() + static_cast<long>(end)));
        out.emplace_back(std::move(send));
      }
    }
    return out;
  }

private:
  std::map<std::string, std::vector<UpdateItem>> items_;
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
state::Route asAdvertised(const state::NodeState& s, const state::RouteKey& key,
                          state::Route route) {
  if (!s.self().envoy_address.empty()) {
    route.envoy_address = s.self().envoy_address;
  } else {
    route.envoy_address.reset();
  }
  route.envoy_port = s.portFor(key);
  return route;
}

UpdateItem localAdd(const state::NodeState& s, const state::Route& route) {
  return UpdateItem{UpdateItem::Action::Add,
                    asAdvertised(s, {route.name, s.self().name}, route),
                    {s.self().name},
                    s.self().name};
}

UpdateItem withdrawal(const state::NodeState& s, const state::RouteKey& key) {
  state::Route route;
  route.name = key.name;
  return UpdateItem{UpdateItem::Action::Remove, std::move(route), {s.self().name}, key.origin_node};
}

// Whether `best` may be sent to `peer` (split horizon and loop prevention).
bool exportable(const state::LearnedPath& best, const std::string& peer) {
  return best.peer != peer &&
         std::find(best.node_path.begin(), best.node_path.end(), peer) == best.node_path.end();
}

UpdateItem learnedAdd(const state::NodeState& s, const state::LearnedPath& best) {
  UpdateItem item{UpdateItem::Action::Add,
                  asAdvertised(s, best.key(), best.route),
                  {s.self().name},
                  best.origin_node};
  item.node_path.insert(item.node_path.end(), best.node_path.begin(), best.node_path.end());
  return item;
}

void fullTable(const state::NodeState& s, const state::Peer& peer, Outbox& out) {
  for (const auto& [name, local] : s.localRoutes()) {
    out.add(peer.info.name, localAdd(s, local.route));
  }
  for (const state::RouteKey& key : s.learnedKeysSorted()) {
    const state::LearnedPath* best = s.findBest(key);
    if (best != nullptr && exportable(*best, peer.info.name)) {
      out.add(peer.info.name, learnedAdd(s, *best));
    }
  }
}

} // namespace

std::vector<control::Effect> PeerAdvertiserPlugin::evaluate(const state::NodeState& committed,
                                                            const state::StateDelta& change,
                                                            const control::Event& event) const {
  Outbox out;
  const std::vector<const state::Peer*> peers = connectedPeers(committed);

  for (const state::DeltaOp& o : change.ops) {
    if (const auto* up = std::get_if<state::op::UpsertLocalRoute>(&o)) {
      for (const state::Peer* p : peers) {
        out.add(p->info.name, localAdd(committed, up->route.route));
      }
    } else if (const auto* rm = std::get_if<state::op::RemoveLocalRoute>(&o)) {
      for (const state::Peer* p : peers) {
        out.add(p->info.name, withdrawal(committed, {rm->name, committed.self().name}));
      }
    } else if (const auto* sel = std::get_if<state::op::SelectBest>(&o)) {
      const state::LearnedPath* best = committed.findBest(sel->key);
      if (best == nullptr) {
        continue; // superseded by a later operation of the same delta
      }
      // Excluded peers get a withdrawal; the session layer's Adj-RIB-Out drops the ones for
      // routes a peer was never sent (peering/adj_rib_out.h).
      for (const state::Peer* p : peers) {
        out.add(p->info.name, exportable(*best, p->info.name) ? learnedAdd(committed, *best)
                                                              : withdrawal(committed, sel->key));
      }
    } else if (const auto* clr = std::get_if<state::op::ClearBest>(&o)) {
      for (const state::Peer* p : peers) {
        out.add(p->info.name, withdrawal(committed, clr->key));
      }
    }
  }

  if (const auto* up = std::get_if<control::ev::PeerSessionUp>(&event)) {
    const state::Peer* peer = committed.findPeer(up->peer);
    if (peer != nullptr && peer->status == state::ConnectionStatus::Connected) {
      fullTable(committed, *peer, out);
      std::vector<control::Effect> effects = std::move(out).effects();
      effects.emplace_back(control::fx::EndOfTable{up->peer});
      return effects;
    }
  }
  return std::move(out).effects();
}

} // namespace catalyst::plugins
