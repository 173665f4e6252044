// Fuzz target: the data plane's endpoint parser (dataplane/target.h), which reads a route's
// service endpoint from the config, the CLI or the management API. Beyond not crashing, an
// endpoint it accepts names a host and a port, and the target written back ("host:port",
// "[v6]:port") parses to the same target.
//
// Input: the endpoint text.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "catalyst/common/assert.h"
#include "catalyst/dataplane/target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using catalyst::dataplane::parseServiceEndpoint;
  using catalyst::dataplane::Target;
  const std::string_view endpoint(reinterpret_cast<const char*>(data), size);
  const catalyst::Result<Target> target = parseServiceEndpoint(endpoint);
  if (!target) {
    CATALYST_RELEASE_ASSERT(!target.error().message.empty(), "a refusal says why");
    return 0;
  }
  CATALYST_RELEASE_ASSERT(!target->host.empty() && target->port != 0, "a target is complete");
  const catalyst::Result<Target> again = parseServiceEndpoint(target->toString());
  CATALYST_RELEASE_ASSERT(again.has_value() && *again == *target,
                          "a target written back parses to itself");
  return 0;
}
