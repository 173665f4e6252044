#include "catalyst/config/node_config.h"

#include <array>
#include <utility>

namespace catalyst::config {
namespace {

constexpr std::array<std::pair<DataPlaneMode, std::string_view>, 3> kModeNames{{
    {DataPlaneMode::Embedded, "embedded"},
    {DataPlaneMode::EnvoyXds, "envoy-xds"},
    {DataPlaneMode::EnvoyFiles, "envoy-files"},
}};

} // namespace

std::string_view toString(DataPlaneMode mode) {
  for (const auto& [m, name] : kModeNames) {
    if (m == mode) {
      return name;
    }
  }
  return "unknown";
}

std::optional<DataPlaneMode> parseDataPlaneMode(std::string_view text) {
  for (const auto& [m, name] : kModeNames) {
    if (name == text) {
      return m;
    }
  }
  return std::nullopt;
}

std::vector<uint16_t> expandPorts(const std::vector<PortRange>& ranges) {
  std::vector<uint16_t> ports;
  for (const auto& range : ranges) {
    for (uint32_t port = range.first; port <= range.last; ++port) {
      ports.push_back(static_cast<uint16_t>(port));
    }
  }
  return ports;
}

state::NodeIdentity NodeConfig::identity() const {
  return state::NodeIdentity{node_id, domains, peering_endpoint, envoy_address};
}

state::NodeState NodeConfig::initialState() const {
  return state::NodeState(identity(), state::PortPool(envoy_port_range));
}

std::string NodeConfig::bindAddress() const {
  return dataplane_bind_address.empty() ? envoy_address : dataplane_bind_address;
}

std::string NodeConfig::envoyFilesDir() const {
  return envoy.files_dir.empty() ? state_dir + "/envoy" : envoy.files_dir;
}

std::string NodeConfig::envoyNodeId() const {
  return envoy.node_id.empty() ? node_id : envoy.node_id;
}

} // namespace catalyst::config
