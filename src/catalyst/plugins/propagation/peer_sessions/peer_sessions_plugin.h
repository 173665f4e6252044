#pragma once

#include "catalyst/control/plugin.h"

namespace catalyst::plugins {

// Propagation plugin: keeps the peering sessions in line with the peer list.
//   - a peer added, or its record changed (AddPeer committed): ConnectPeer, so the node dials
//     it (again, with the new endpoint or token)
//   - a peer removed (RemovePeer committed): ClosePeer with code NORMAL, "Peer removed"
// Session status changes (PeerSessionUp/Down) also upsert peers; they ask for nothing here.
class PeerSessionsPlugin : public control::PropagationPlugin {
public:
  std::string_view name() const override { return "peer_sessions"; }
  std::vector<control::Effect> evaluate(const state::NodeState& committed,
                                        const state::StateDelta& change,
                                        const control::Event& event) const override;
};

} // namespace catalyst::plugins
