#pragma once

#include "catalyst/control/plugin.h"

namespace catalyst::plugins {

// Route-table plugin: paths learned from neighbours (Adj-RIB-In) and the best path per route
// (Loc-RIB), with the semantics of peering.md §4.
//   PeerUpdate       -> validated as a whole (established session, batch size, every item);
//                       an invalid batch is refused entirely. `add` upserts the sender's path
//                       (dropped when its nodePath holds our own id: loop prevention);
//                       `remove` removes only the sender's path.
//   PeerSessionDown  -> the peer's paths become stale (graceful restart after a transport
//                       error) or are removed, kMaxUpdateItems at a time: the first step now,
//                       the next ones as PeerFlush follow-ups (so the first withdrawals leave
//                       at once; meanwhile the rest stay candidates)
//   PeerFlush        -> the next step, unless the peer is connected again, down with graceful
//                       restart, or removed
//   PeerSessionUp    -> fresh paths still left from an unfinished flush are removed
//   RemovePeer       -> the peer's paths are removed
//   TimerTick        -> stale paths of peers whose stale window ended are removed
// Every touched route gets a fresh best-path decision.
class PeerRoutesPlugin : public control::RouteTablePlugin {
public:
  std::string_view name() const override { return "peer_routes"; }
  control::PhaseOneResult apply(const state::NodeState& state,
                                const control::Event& event) const override;
};

// Checks one received item: route fields, nodePath bounds and that it starts with `sender`.
// The message names the item's field.
Status validateUpdateItem(const state::UpdateItem& item, const std::string& sender);

} // namespace catalyst::plugins
