#include "catalyst/plugins/route_table/peer_list/peer_list_plugin.h"

#include <fmt/format.h>

namespace catalyst::plugins {
namespace {

using control::PhaseOneResult;

PhaseOneResult upsert(state::Peer peer) {
  PhaseOneResult r;
  r.delta.ops.emplace_back(state::op::UpsertPeer{std::move(peer)});
  return r;
}

PhaseOneResult onAddPeer(const state::NodeState& s, const control::ev::AddPeer& e) {
  if (auto st = state::validateName(e.info.name); !st) {
    return control::rejected("invalid_peer", "name: " + st.error().message);
  }
  if (e.info.name == s.self().name) {
    return control::rejected("invalid_peer", "a node cannot peer with itself");
  }
  if (e.info.endpoint && e.info.endpoint->size() > state::kMaxEndpointLength) {
    return control::rejected("invalid_peer", "endpoint: too long");
  }
  state::Peer peer;
  if (const state::Peer* existing = s.findPeer(e.info.name)) {
    if (existing->info == e.info) {
      return control::rejected("no_state_change", "No state change");
    }
    peer = *existing;
  }
  peer.info = e.info;
  return upsert(std::move(peer));
}

PhaseOneResult onRemovePeer(const state::NodeState& s, const control::ev::RemovePeer& e) {
  if (s.findPeer(e.name) == nullptr) {
    return control::rejected("unknown_peer", fmt::format("no peer named '{}'", e.name));
  }
  PhaseOneResult r;
  r.delta.ops.emplace_back(state::op::RemovePeer{e.name});
  return r;
}

PhaseOneResult onSessionUp(const state::NodeState& s, const control::ev::PeerSessionUp& e) {
  const state::Peer* existing = s.findPeer(e.peer);
  if (existing == nullptr) {
    return control::rejected("unknown_peer", fmt::format("no peer named '{}'", e.peer));
  }
  state::Peer peer = *existing;
  peer.status = state::ConnectionStatus::Connected;
  peer.graceful_restart_time = e.graceful_restart_time;
  if (peer == *existing) {
    return {};
  }
  return upsert(std::move(peer));
}

PhaseOneResult onSessionDown(const state::NodeState& s, const control::ev::PeerSessionDown& e) {
  const state::Peer* existing = s.findPeer(e.peer);
  if (existing == nullptr) {
    return control::rejected("unknown_peer", fmt::format("no peer named '{}'", e.peer));
  }
  state::Peer peer = *existing;
  peer.status = state::ConnectionStatus::Closed;
  if (e.code == state::CloseCode::TransportError && peer.graceful_restart_time) {
    peer.stale_until = e.now + *peer.graceful_restart_time;
  } else {
    peer.stale_until.reset();
  }
  if (peer == *existing) {
    return {};
  }
  return upsert(std::move(peer));
}

PhaseOneResult onEndOfTable(const state::NodeState& s, const control::ev::PeerEndOfTable& e) {
  const state::Peer* existing = s.findPeer(e.peer);
  if (existing == nullptr || !existing->stale_until) {
    return {};
  }
  state::Peer peer = *existing;
  peer.stale_until.reset();
  return upsert(std::move(peer));
}

PhaseOneResult onTick(const state::NodeState& s, const control::ev::TimerTick& e) {
  PhaseOneResult r;
  for (const auto& [name, peer] : s.peers()) {
    if (peer.stale_until && *peer.stale_until <= e.now) {
      state::Peer updated = peer;
      updated.stale_until.reset();
      r.delta.ops.emplace_back(state::op::UpsertPeer{std::move(updated)});
    }
  }
  return r;
}

} // namespace

control::PhaseOneResult PeerListPlugin::apply(const state::NodeState& state,
                                              const control::Event& event) const {
  if (const auto* e = std::get_if<control::ev::AddPeer>(&event)) {
    return onAddPeer(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::RemovePeer>(&event)) {
    return onRemovePeer(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::PeerSessionUp>(&event)) {
    return onSessionUp(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::PeerSessionDown>(&event)) {
    return onSessionDown(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::TimerTick>(&event)) {
    return onTick(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::PeerEndOfTable>(&event)) {
    return onEndOfTable(state, *e);
  }
  return {};
}

} // namespace catalyst::plugins
