#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "catalyst/state/node_state.h"

namespace catalyst::test {

// Small builders that keep table-driven tests readable.

inline state::Route route(std::string name, std::string endpoint = "http://127.0.0.1:8080",
                          state::Protocol protocol = state::Protocol::Http) {
  state::Route r;
  r.name = std::move(name);
  r.endpoint = std::move(endpoint);
  r.protocol = protocol;
  return r;
}

inline state::LearnedPath path(std::string peer, std::string name,
                               std::vector<std::string> tail_after_peer = {}, bool stale = false) {
  state::LearnedPath p;
  p.route = route(name);
  p.peer = peer;
  p.node_path.push_back(peer);
  p.node_path.insert(p.node_path.end(), tail_after_peer.begin(), tail_after_peer.end());
  p.origin_node = p.node_path.back();
  p.is_stale = stale;
  return p;
}

inline state::UpdateItem addItem(const state::LearnedPath& p) {
  return state::UpdateItem{state::UpdateItem::Action::Add, p.route, p.node_path, p.origin_node};
}

inline state::UpdateItem removeItem(std::vector<std::string> node_path, std::string name) {
  state::Route r;
  r.name = std::move(name);
  std::string origin = node_path.back();
  return state::UpdateItem{state::UpdateItem::Action::Remove, std::move(r), std::move(node_path),
                           std::move(origin)};
}

inline state::Peer peer(std::string name,
                        state::ConnectionStatus status = state::ConnectionStatus::Connected) {
  state::Peer p;
  p.info.name = std::move(name);
  p.info.endpoint = "ws://127.0.0.1:3000/rpc";
  p.status = status;
  return p;
}

// A NodeState named `self` built by applying operations (the only way to change one).
class StateBuilder {
public:
  explicit StateBuilder(std::string self = "node-b", std::vector<state::PortRange> ports = {})
      : state_(
            state::NodeIdentity{
                std::move(self), {"example.local"}, "ws://127.0.0.1:3000/rpc", "127.0.0.1"},
            state::PortPool(std::move(ports))) {}

  StateBuilder& withPeer(state::Peer p) { return op(state::op::UpsertPeer{std::move(p)}); }
  StateBuilder& withLocal(state::Route r, state::RouteSource source = state::RouteSource::Admin) {
    return op(state::op::UpsertLocalRoute{state::LocalRoute{std::move(r), source}});
  }
  StateBuilder& withService(state::LocalService s) {
    op(state::op::UpsertLocalRoute{state::LocalRoute{s.route, state::RouteSource::Service}});
    return op(state::op::UpsertService{std::move(s)});
  }
  // Adds the path and makes the best of the route's candidates the Loc-RIB choice.
  StateBuilder& withPath(state::LearnedPath p) {
    const state::RouteKey key = p.key();
    op(state::op::UpsertPath{std::move(p)});
    const state::LearnedPath* best = nullptr;
    for (const state::LearnedPath& candidate : *state_.findCandidates(key)) {
      if (best == nullptr || state::preferredOver(candidate, *best)) {
        best = &candidate;
      }
    }
    return op(state::op::SelectBest{key, best->peer});
  }

  state::NodeState build() const { return state_; }

private:
  StateBuilder& op(state::DeltaOp o) {
    state::StateDelta d;
    d.ops.push_back(std::move(o));
    state_.apply(d);
    return *this;
  }

  state::NodeState state_;
};

} // namespace catalyst::test
