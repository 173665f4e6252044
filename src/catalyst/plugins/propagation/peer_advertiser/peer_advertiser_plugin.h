#pragma once

#include "catalyst/control/plugin.h"

namespace catalyst::plugins {

// Propagation plugin: tells connected neighbours about committed route changes.
//   - a local route added, changed or removed: to every connected peer, with nodePath [self]
//   - a new best path (new route, other neighbour, or changed attributes): advertised to every
//     connected peer except the neighbour it came from and any peer on its path (split
//     horizon), with nodePath [self, ...path]; those excluded peers get a withdrawal instead,
//     unless the delta shows the peer cannot have had it (it gave the route's only path)
//   - a route with no path left: withdrawn from every connected peer
//   - a session coming up: the full table for that peer, a step of kMaxUpdateItems items at a
//     time (control/table_walk.h): the first step now, each next one when the session asks for
//     it (PeerTableWanted, answered by ContinueTable or, after the last step, EndOfTable)
// Advertised records carry this node's data-plane address as envoyAddress. Items are grouped
// per peer and chunked to at most kMaxUpdateItems per SendUpdate.
class PeerAdvertiserPlugin : public control::PropagationPlugin {
public:
  std::string_view name() const override { return "peer_advertiser"; }
  std::vector<control::Effect> evaluate(const state::NodeState& committed,
                                        const state::StateDelta& change,
                                        const control::Event& event) const override;
};

} // namespace catalyst::plugins
