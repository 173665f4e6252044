#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalyst/state/route.h"

namespace catalyst::state {

// Who put a local route in the table.
enum class RouteSource {
  Config,  // the node's config file
  Admin,   // the CLI / RPC (`node route create`)
  Service, // a local service registered it
};

// A route published by this node (origin = self).
struct LocalRoute {
  Route route;
  RouteSource source = RouteSource::Admin;

  bool operator==(const LocalRoute&) const = default;
};

// A local resource that *is* a service (seed: Local Service Configurator): it registers a local
// route, its health sets that route's healthStatus, and, when it has a command, the node
// supervises its process.
struct LocalService {
  std::string name;
  Route route;                      // the route it publishes (route.name == name)
  std::vector<std::string> command; // argv of the process to run; empty: not managed by us
  enum class ProcessState { NotManaged, Starting, Running, Exited };
  ProcessState process = ProcessState::NotManaged;
  std::optional<int> last_exit_status;

  bool operator==(const LocalService&) const = default;
};

} // namespace catalyst::state
