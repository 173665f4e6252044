#pragma once

// Checks of Envoy output for tests: every resource strictly against the real v3 protos, plus
// what the protos cannot say (names unique, every listener's cluster present, ports in range).

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "catalyst/common/result.h"
#include "catalyst/envoy/api_schema.h"
#include "catalyst/envoy/render.h"

namespace catalyst::envoy::testing {

// The schema, loaded once per test binary (loading takes a few milliseconds).
const ApiSchema& schema();

// Every cluster and listener, and both DiscoveryResponses; the first problem found.
Status checkSnapshot(const Snapshot& snapshot);

// The socket_address of a cluster's (first) endpoint.
boost::json::object endpointOf(const boost::json::value& cluster);

// `json` re-indented, two spaces, one member per line (for golden files and diffs).
std::string pretty(std::string_view json);

// Compares `text` with golden/<name>; with CATALYST_UPDATE_GOLDEN=1 in the environment, writes it
// instead. Returns "" when equal, else a description of the difference.
std::string compareGolden(const std::string& name, const std::string& text);

} // namespace catalyst::envoy::testing
