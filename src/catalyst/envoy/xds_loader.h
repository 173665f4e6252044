#pragma once

// The envoy-xds sink lives in a module, catalyst-xds.so, which catalyst-node loads only in that
// mode: gRPC and protobuf (several MB of resident memory) stay out of every other node.

#include <string>

#include "catalyst/common/logging.h"
#include "catalyst/common/result.h"
#include "catalyst/envoy/envoy_data_plane.h"

namespace catalyst::envoy {

// What the module's entry point, catalyst_envoy_make_xds_sink, receives.
struct XdsSinkConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 18000;
};

// The module's file name, and where catalyst-node looks for it: beside its own executable.
inline constexpr const char* kXdsModuleName = "catalyst-xds.so";
std::string defaultXdsModulePath();

// Loads `module_path` (once per process; it stays loaded) and makes a sink. Fails, naming the
// path and the loader's reason, when the module is missing or broken.
Result<SnapshotSinkPtr> loadXdsSink(const std::string& module_path, const XdsSinkConfig& config,
                                    Logger& logger);

} // namespace catalyst::envoy

// The module's entry point (C linkage, looked up with dlsym). Returns a new sink the caller
// owns, or nullptr.
extern "C" catalyst::envoy::SnapshotSink*
catalyst_envoy_make_xds_sink(const catalyst::envoy::XdsSinkConfig* config,
                             catalyst::Logger* logger);
