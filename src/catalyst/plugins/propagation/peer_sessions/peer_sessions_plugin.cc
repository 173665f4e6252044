#include "catalyst/plugins/propagation/peer_sessions/peer_sessions_plugin.h"

namespace catalyst::plugins {

std::vector<control::Effect> PeerSessionsPlugin::evaluate(const state::NodeState& committed,
                                                          const state::StateDelta& change,
                                                          const control::Event& event) const {
  std::vector<control::Effect> out;
  const bool admin = std::holds_alternative<control::ev::AddPeer>(event) ||
                     std::holds_alternative<control::ev::RemovePeer>(event);
  if (!admin) {
    return out;
  }
  for (const state::DeltaOp& o : change.ops) {
    if (const auto* up = std::get_if<state::op::UpsertPeer>(&o)) {
      if (const state::Peer* peer = committed.findPeer(up->peer.info.name)) {
        out.emplace_back(control::fx::ConnectPeer{peer->info});
      }
    } else if (const auto* rm = std::get_if<state::op::RemovePeer>(&o)) {
      out.emplace_back(control::fx::ClosePeer{rm->name, state::CloseCode::Normal, "Peer removed"});
    }
  }
  return out;
}

} // namespace catalyst::plugins
