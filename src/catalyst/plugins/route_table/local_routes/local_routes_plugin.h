#pragma once

#include "catalyst/control/plugin.h"

namespace catalyst::plugins {

// Route-table plugin: routes this node publishes itself (config file, CLI / RPC).
//   AddRoute    -> UpsertLocalRoute (validated; "No state change" when identical; a route
//                  registered by a local service cannot be replaced this way)
//   RemoveRoute -> RemoveLocalRoute (not for routes owned by a local service)
class LocalRoutesPlugin : public control::RouteTablePlugin {
public:
  std::string_view name() const override { return "local_routes"; }
  control::PhaseOneResult apply(const state::NodeState& state,
                                const control::Event& event) const override;
};

} // namespace catalyst::plugins
