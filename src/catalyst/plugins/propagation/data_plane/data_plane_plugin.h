#pragma once

#include "catalyst/control/plugin.h"

namespace catalyst::plugins {

// Propagation plugin: keeps the data plane in step with the route table. One
// ConfigureDataPlane effect per event that changed routes:
//   - local route added/changed -> ingress listener upsert (to the service endpoint)
//   - local route removed       -> ingress removal
//   - new best path             -> egress listener upsert (to the neighbour's next hop)
//   - no path left              -> egress removal
class DataPlanePlugin : public control::PropagationPlugin {
public:
  std::string_view name() const override { return "data_plane"; }
  std::vector<control::Effect> evaluate(const state::NodeState& committed,
                                        const state::StateDelta& change,
                                        const control::Event& event) const override;
};

} // namespace catalyst::plugins
