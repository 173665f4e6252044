#pragma once

// The members of a route record on the wire (peering.md §1), shared by the general readers
// (wire.cc) and the one-pass reader (update_text.cc). Internal to the peering_wire library.

#include <array>
#include <cstddef>
#include <string_view>

namespace catalyst::peering {

enum class RouteField {
  Name,
  Endpoint,
  Protocol,
  Region,
  Tags,
  EnvoyPort,
  EnvoyAddress,
  HealthStatus,
  ResponseTimeMs,
  LastChecked,
  Count,
};

inline constexpr std::array<std::string_view, static_cast<std::size_t>(RouteField::Count)>
    kRouteFields{
        "name",      "endpoint",     "protocol",     "region",         "tags",
        "envoyPort", "envoyAddress", "healthStatus", "responseTimeMs", "lastChecked",
    };

} // namespace catalyst::peering
