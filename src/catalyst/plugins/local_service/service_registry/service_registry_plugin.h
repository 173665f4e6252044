#pragma once

#include "catalyst/control/plugin.h"

namespace catalyst::plugins {

// Local-service plugin: services this node runs or fronts, and the local routes they register
// (seed: "Config says 'Start VPN' -> Spawn process -> Register 'VPN Service' in Local Table").
//   ServiceRegistered    -> UpsertService (process to run when it has a command) and its
//                           local route
//   ServiceDeregistered  -> RemoveService and its local route
//   ServiceHealthChanged -> the route's healthStatus, responseTimeMs and lastChecked
//   ProcessExited        -> the service's process is exited; its route goes down
class ServiceRegistryPlugin : public control::LocalServicePlugin {
public:
  std::string_view name() const override { return "service_registry"; }
  control::PhaseOneResult apply(const state::NodeState& state,
                                const control::Event& event) const override;
};

} // namespace catalyst::plugins
