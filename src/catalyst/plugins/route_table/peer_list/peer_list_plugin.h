#pragma once

#include "catalyst/control/plugin.h"

namespace catalyst::plugins {

// Route-table plugin: the peer list. Adds, updates and removes configured neighbours, and
// follows their session state (connected / closed, and the graceful-restart stale window).
//   AddPeer          -> UpsertPeer (new, or changed info; "No state change" when identical)
//   RemovePeer       -> RemovePeer
//   PeerSessionUp    -> status connected, the announced graceful-restart time
//   PeerSessionDown  -> status closed; stale window opened when the peer announced graceful
//                       restart and the session failed at the transport
//   TimerTick        -> stale windows that ended are closed
class PeerListPlugin : public control::RouteTablePlugin {
public:
  std::string_view name() const override { return "peer_list"; }
  control::PhaseOneResult apply(const state::NodeState& state,
                                const control::Event& event) const override;
};

} // namespace catalyst::plugins
