#include "catalyst/plugins/builtin.h"

#include <memory>

#include "catalyst/plugins/local_service/service_registry/service_registry_plugin.h"
#include "catalyst/plugins/propagation/data_plane/data_plane_plugin.h"
#include "catalyst/plugins/propagation/peer_advertiser/peer_advertiser_plugin.h"
#include "catalyst/plugins/propagation/peer_sessions/peer_sessions_plugin.h"
#include "catalyst/plugins/propagation/process_supervisor/process_supervisor_plugin.h"
#include "catalyst/plugins/route_table/local_routes/local_routes_plugin.h"
#include "catalyst/plugins/route_table/peer_list/peer_list_plugin.h"
#include "catalyst/plugins/route_table/peer_routes/peer_routes_plugin.h"

namespace catalyst::plugins {

control::PluginSet builtinPlugins() {
  control::PluginSet p;
  p.route_table.push_back(std::make_unique<PeerListPlugin>());
  p.route_table.push_back(std::make_unique<PeerRoutesPlugin>());
  p.route_table.push_back(std::make_unique<LocalRoutesPlugin>());
  p.local_service.push_back(std::make_unique<ServiceRegistryPlugin>());
  p.propagation.push_back(std::make_unique<PeerSessionsPlugin>());
  p.propagation.push_back(std::make_unique<PeerAdvertiserPlugin>());
  p.propagation.push_back(std::make_unique<DataPlanePlugin>());
  p.propagation.push_back(std::make_unique<ProcessSupervisorPlugin>());
  return p;
}

} // namespace catalyst::plugins
