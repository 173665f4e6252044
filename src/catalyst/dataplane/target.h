#pragma once

// Where a route's connections go: parsed once on the control thread. Pure; no Asio.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catalyst/common/result.h"
#include "catalyst/control/effect.h"

namespace catalyst::dataplane {

struct Target {
  std::string host; // an IP literal (IPv6 without brackets) or a name to resolve
  uint16_t port = 0;

  // "host:port", "[::1]:port" for IPv6.
  std::string toString() const;
  bool operator==(const Target&) const = default;
};

// Parses a local service's endpoint: "scheme://host[:port][/path]" or "host:port". Without a
// port, http and ws default to 80, https and wss to 443; other schemes need one. Fails with
// InvalidArgument naming the problem.
Result<Target> parseServiceEndpoint(std::string_view endpoint);

// The target of a data-plane route: the service endpoint of an ingress, the next hop of an
// egress.
Result<Target> routeTarget(const control::fx::DataPlaneRoute& route);

} // namespace catalyst::dataplane
