#pragma once

// An ADS server: Envoy's Aggregated Discovery Service, state of the world
// (/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources), served
// with grpc++'s callback API on gRPC's own threads. Messages are built and parsed through the
// ApiSchema's descriptor pool (no generated classes); gRPC and protobuf stay behind this header.
//
// What each client gets is an XdsSnapshot, chosen by the client's node.id (or the default
// snapshot, node id ""). Per stream and per type URL the server keeps the protocol state of
// xds_protocol.rst: the last version and nonce sent, the last version ACKed, the last NACK.
//   - A request naming a nonce other than the latest one sent for its type is stale: ignored.
//   - The first request for a type (empty nonce, or no response sent yet for the type on this
//     stream) subscribes: the current resources are sent, whatever version the client names.
//   - Nonce current, no error_detail: ACK. Nonce current, error_detail set: NACK; it is
//     recorded and counted, and the rejected version is not sent again (only a newer one,
//     or a response to new resource_names).
//   - A change of resource_names (with the current nonce) is answered with a new response.
//   - Listeners and clusters are served whole (all resources of the type); other types (routes,
//     endpoints) only the resources named, when the request names some.
// Snapshot changes are pushed to every stream of the node, in the snapshot's order (clusters
// before listeners), one write at a time per stream; a type whose version changes again
// before its write starts is sent once, at the newest version. setSnapshot() never waits for
// a stream. A request that does not parse, names no type URL, or names a 33rd type on its
// stream ends that stream with INVALID_ARGUMENT (and is counted).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/common/logging.h"
#include "catalyst/common/result.h"
#include "catalyst/envoy/api_schema.h"
#include "catalyst/envoy/render.h"

namespace catalyst::envoy {

inline constexpr std::string_view kRouteConfigurationTypeUrl =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kClusterLoadAssignmentTypeUrl =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

// The gRPC method the server answers (any other method gets UNIMPLEMENTED).
inline constexpr std::string_view kAdsMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

struct XdsServerOptions {
  std::string address = "127.0.0.1"; // IPv4 or IPv6 literal, or a host name
  uint16_t port = 18000;             // 0: any free port (see XdsServer::port())
};

// What one node is served: one ResourceSet per type URL, in push order (e.g. clusters before
// listeners; for proxyless gRPC: clusters, endpoints, listeners, routes), each with its own
// version. A type absent from the snapshot is not answered.
struct XdsSnapshot {
  std::vector<ResourceSet> sets;
};

// The protocol state of one type URL on one stream.
struct XdsTypeStatus {
  std::string type_url;
  std::string sent_version; // of the latest response sent ("" before the first)
  std::string sent_nonce;
  std::string acked_version; // the version_info of the latest ACK ("" before the first)
  // The latest NACK: the version rejected (the one the NACKed nonce carried), that nonce and
  // the client's error_detail.message.
  std::optional<std::string> nack_version;
  std::optional<std::string> nack_nonce;
  std::optional<std::string> nack_message;
  uint64_t acks = 0;
  uint64_t nacks = 0;
};

struct XdsStreamStatus {
  uint64_t id = 0;                  // unique per server, from 1
  std::string node_id;              // from the stream's first request
  std::vector<XdsTypeStatus> types; // in the order the client subscribed
};

struct XdsStats {
  uint64_t streams_total = 0; // streams opened since start
  uint64_t acks = 0;
  uint64_t nacks = 0;
  uint64_t bad_requests = 0; // requests that ended their stream (see the top of this file)
  uint64_t encodings = 0;    // resources converted JSON -> binary (unchanged ones are cached)
  std::vector<XdsStreamStatus> streams; // the open streams, by id
};

class XdsServer {
public:
  // `schema` and `logger` must outlive the server.
  XdsServer(const ApiSchema& schema, XdsServerOptions options, Logger& logger);
  ~XdsServer(); // stop()s
  XdsServer(const XdsServer&) = delete;
  XdsServer& operator=(const XdsServer&) = delete;

  // Binds and starts serving on gRPC's threads. Unavailable (naming the address) when the
  // address cannot be bound (start() may be tried again); FailedPrecondition when started
  // already, or stopped (a stopped server does not restart: make a new one).
  Status start();

  // The bound port (after start()).
  uint16_t port() const;

  // Thread-safe; never waits for a stream. Installs what `node_id` is served ("" is the
  // default for nodes without a snapshot of their own) and pushes the types whose version
  // changed to every open stream of that node subscribed to them. Each resource's JSON is
  // converted to binary once (cached by type and digest while a snapshot holds it).
  // InvalidArgument, and nothing installed, when a resource does not convert or a type URL
  // appears twice.
  Status setSnapshot(const std::string& node_id, XdsSnapshot snapshot);

  // Thread-safe.
  XdsStats stats() const;

  // Idempotent: ends every stream (UNAVAILABLE) and stops serving. The port is free after.
  void stop();

private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

using XdsServerPtr = std::unique_ptr<XdsServer>;

} // namespace catalyst::envoy
