// Fuzzes the config loader: the input is the content of a YAML config file, and also the value
// of CATALYST_ENVOY_PORT_RANGE. Bad input must come back as problems; nothing may crash, throw,
// or return a config that breaks NodeConfig's promises.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "catalyst/common/assert.h"
#include "catalyst/config/loader.h"

namespace catalyst::config {
namespace {

void checkOutcome(const ConfigResult& result) {
  if (!result) {
    CATALYST_RELEASE_ASSERT(!result.error().problems.empty(), "an error names its problems");
    for (const auto& problem : result.error().problems) {
      CATALYST_RELEASE_ASSERT(!problem.source.empty() && !problem.message.empty(),
                              "every problem says where and what");
    }
    return;
  }
  const NodeConfig& config = *result;
  CATALYST_RELEASE_ASSERT(!config.node_id.empty(), "a config has a node id");
  CATALYST_RELEASE_ASSERT(config.port != 0, "ports are 1-65535");
  CATALYST_RELEASE_ASSERT(!config.peering_endpoint.empty() && !config.state_dir.empty(),
                          "defaults are filled in");
  for (std::size_t i = 0; i < config.envoy_port_range.size(); ++i) {
    const PortRange& range = config.envoy_port_range[i];
    CATALYST_RELEASE_ASSERT(range.first != 0 && range.first <= range.last, "ranges are ordered");
    for (std::size_t j = 0; j < i; ++j) {
      const PortRange& other = config.envoy_port_range[j];
      CATALYST_RELEASE_ASSERT(range.last < other.first || range.first > other.last,
                              "ranges do not overlap");
    }
  }
  for (const auto& route : config.routes) {
    CATALYST_RELEASE_ASSERT(state::validateRoute(route).has_value(), "routes are valid");
  }
  for (const auto& peer : config.peers) {
    CATALYST_RELEASE_ASSERT(state::validateName(peer.name).has_value() && peer.endpoint,
                            "peers have a name and an endpoint");
  }
}

} // namespace
} // namespace catalyst::config

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace catalyst::config;
  // The cast only reinterprets the bytes as characters.
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  checkOutcome(loadConfigFromString(input, "fuzz.yaml", Env{}));

  const Env env{{"CATALYST_NODE_ID", "fuzz"}, {"CATALYST_ENVOY_PORT_RANGE", std::string(input)}};
  checkOutcome(loadConfig(ConfigSource{std::nullopt, env}));
  return 0;
}
