#pragma once

// The bootstrap of a node's Envoy (envoy.config.bootstrap.v3.Bootstrap, proto3 JSON; Envoy reads
// it with `envoy -c bootstrap.json`): its node id, its admin listener, and where its listeners
// and clusters come from: this node's ADS server (envoy-xds) or the cds.json / lds.json files
// this node writes (envoy-files).

#include <cstdint>
#include <string>

namespace catalyst::envoy {

struct BootstrapOptions {
  enum class Source { Xds, Files };
  Source source = Source::Xds;
  std::string node_id;              // Envoy's node.id: the xDS server's snapshot key
  std::string cluster = "catalyst"; // Envoy's node.cluster
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 9901;
  // Xds: where Envoy dials the ADS server. A wildcard (0.0.0.0, ::) becomes the loopback
  // address of its family: the node and its Envoy run on one host.
  std::string xds_address = "127.0.0.1";
  uint16_t xds_port = 18000;
  std::string files_dir; // Files: the directory of cds.json and lds.json, as Envoy sees it
};

// The bootstrap as one line of JSON.
std::string renderBootstrap(const BootstrapOptions& options);

} // namespace catalyst::envoy
