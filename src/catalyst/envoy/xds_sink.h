#pragma once

// envoy-xds: snapshots go to the node's ADS server, which pushes them to Envoy.

#include <optional>
#include <string>

#include "catalyst/envoy/api_schema.h"
#include "catalyst/envoy/envoy_data_plane.h"
#include "catalyst/envoy/xds_server.h"

namespace catalyst::envoy {

class XdsSink : public SnapshotSink {
public:
  XdsSink(XdsServerOptions options, Logger& logger);

  // Loads the schema and starts the server (fails when its address cannot be bound).
  Status start() override;
  // The clusters, then the listeners, as the default snapshot: every Envoy that connects gets
  // it, whatever its node.id.
  Status publish(const Snapshot& snapshot) override;
  // An Envoy that kept its configuration across this node's restart reconnects to it.
  bool mayHaveEarlierConfig() const override { return true; }
  void addStats(dataplane::EnvoyStats& stats) const override;
  void stop() override;

  uint16_t port() const { return server_ ? server_->port() : 0; }

private:
  XdsServerOptions options_;
  Logger& logger_;
  std::optional<ApiSchema> schema_;
  XdsServerPtr server_; // after schema_: it refers to it
};

} // namespace catalyst::envoy
