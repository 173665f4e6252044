// The entry point of catalyst-xds.so (see xds_loader.h).

#include "catalyst/envoy/xds_loader.h"
#include "catalyst/envoy/xds_sink.h"

extern "C" __attribute__((visibility("default"))) catalyst::envoy::SnapshotSink*
catalyst_envoy_make_xds_sink(const catalyst::envoy::XdsSinkConfig* config,
                             catalyst::Logger* logger) {
  if (config == nullptr || logger == nullptr) {
    return nullptr;
  }
  return new catalyst::envoy::XdsSink(
      catalyst::envoy::XdsServerOptions{config->address, config->port}, *logger);
}
