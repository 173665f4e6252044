#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/common/logging.h"
#include "catalyst/state/node_state.h"
#include "catalyst/state/peer.h"
#include "catalyst/state/port_pool.h"
#include "catalyst/state/route.h"

namespace catalyst::config {

// Who serves the data plane of a node.
enum class DataPlaneMode {
  Embedded,   // our own proxy workers (the default)
  EnvoyXds,   // an Envoy fed over xDS by this node
  EnvoyFiles, // an Envoy reading the files this node writes
};

// The config / environment spelling: "embedded", "envoy-xds", "envoy-files".
std::string_view toString(DataPlaneMode mode);
std::optional<DataPlaneMode> parseDataPlaneMode(std::string_view text);

// An inclusive range of TCP ports; a single port is {p, p}.
using PortRange = state::PortRange;

// The ports of `ranges` in order: {[8000,8000],[9000,9002]} -> 8000, 9000, 9001, 9002.
std::vector<uint16_t> expandPorts(const std::vector<PortRange>& ranges);

// Bounds of rpc.max_message_bytes.
inline constexpr std::size_t kMinRpcMessageBytes = 1024;
inline constexpr std::size_t kMaxRpcMessageBytes = std::size_t{32} << 20;

// Bounds of dataplane.workers.
inline constexpr std::size_t kMaxDataPlaneWorkers = 256;

// PEM files for TLS between data planes (paths as the data plane sees them).
struct DataPlaneTls {
  std::string certificate_chain; // this node's certificate (chain)
  std::string private_key;
  std::string trusted_ca; // peers' data-plane certificates must chain to one of these
  bool operator==(const DataPlaneTls&) const = default;
};

// The Envoy data plane: where this node serves xDS or writes files, and what the bootstrap it
// prints (`catalyst-node envoy bootstrap`) tells Envoy.
struct EnvoySettings {
  // dataplane.envoy.files_dir: where envoy-files writes cds.json and lds.json; default
  // <state_dir>/envoy.
  std::string files_dir;
  std::string xds_address = "127.0.0.1";   // dataplane.envoy.xds_address: the ADS server binds here
  uint16_t xds_port = 18000;               // dataplane.envoy.xds_port / CATALYST_ENVOY_XDS_PORT
  std::string admin_address = "127.0.0.1"; // dataplane.envoy.admin_address (bootstrap)
  uint16_t admin_port = 9901;              // dataplane.envoy.admin_port (bootstrap)
  // dataplane.envoy.node_id: Envoy's node.id (the xDS server's snapshot key); default: node.id.
  std::string node_id;
  // dataplane.envoy.startup_hold_ms: after a restart, how long the node gathers its table (peers'
  // routes) before it replaces the configuration Envoy kept; 0 publishes at once.
  std::chrono::milliseconds startup_hold{2000};
  bool operator==(const EnvoySettings&) const = default;
};

// Everything a node needs to start: the YAML file and the environment, merged and validated by
// loadConfig() (loader.h). A value type; every field holds its final value, defaults included.
struct NodeConfig {
  std::string node_id;              // node.id / CATALYST_NODE_ID (required)
  std::vector<std::string> domains; // node.domains / CATALYST_DOMAINS
  // node.endpoint / CATALYST_PEERING_ENDPOINT; default ws://127.0.0.1:<port>/rpc
  std::string peering_endpoint;
  std::string listen_address = "127.0.0.1"; // listen.address
  uint16_t port = 3000;                     // listen.port / PORT
  std::string state_dir;                    // state_dir / CATALYST_STATE_DIR; default ./var/<id>
  LogLevel log_level = LogLevel::Info;      // log_level / CATALYST_LOG_LEVEL
  DataPlaneMode dataplane = DataPlaneMode::Embedded; // dataplane.mode / CATALYST_DATAPLANE
  // dataplane.address / CATALYST_ENVOY_ADDRESS: the data-plane address advertised to peers.
  std::string envoy_address = "127.0.0.1";
  // dataplane.bind_address / CATALYST_DATAPLANE_BIND_ADDRESS: where the data plane's listeners
  // bind; default: envoy_address. Set it when the advertised address is not local (NAT).
  std::string dataplane_bind_address;
  // dataplane.port_range / CATALYST_ENVOY_PORT_RANGE: in config order; no two ranges overlap.
  std::vector<PortRange> envoy_port_range;
  // dataplane.workers / CATALYST_DATAPLANE_WORKERS: the embedded data plane's worker threads,
  // 1-256; 0 (unset) means one per hardware thread.
  std::size_t dataplane_workers = 0;
  // dataplane.drain_timeout_ms: how long connections of a removed route may keep going in the
  // embedded data plane; 0 closes them at once.
  std::chrono::milliseconds dataplane_drain_timeout{30'000};
  // dataplane.udp_idle_timeout_ms: a UDP flow of the embedded data plane idle this long ends.
  std::chrono::milliseconds dataplane_udp_idle_timeout{60'000};
  // dataplane.splice: the embedded data plane relays bulk TCP transfers with splice(2) instead
  // of copying them through a buffer.
  bool dataplane_splice = false;
  EnvoySettings envoy;                       // dataplane.envoy
  std::optional<DataPlaneTls> dataplane_tls; // dataplane.tls (Envoy modes only)
  std::vector<state::PeerInfo> peers;        // peers; peer_token holds the JWT we present to each
  std::vector<state::Route> routes;          // routes: the local routes this node publishes
  bool admin_loopback_only = true; // admin.loopback_only: /metrics, /api/state from loopback
  // rpc.max_message_bytes: a Cap'n Web message longer than this ends its session (abort).
  std::size_t rpc_max_message_bytes = std::size_t{1} << 20;
  // peering.hold_time_ms / CATALYST_HOLD_TIME_MS: offered in `open`; 0 disables keepalive and
  // hold expiry (peering.md §3).
  std::chrono::milliseconds hold_time{90'000};
  // peering.graceful_restart_ms: announced to peers in the Envoy modes, whose data plane keeps
  // forwarding while the node restarts (peering.md §3).
  std::chrono::milliseconds graceful_restart_time{120'000};

  // This node as the control plane's state knows it.
  state::NodeIdentity identity() const;
  // The defaults loadConfig() fills in, for a config built in code: dataplane_bind_address or
  // envoy_address; envoy.files_dir or <state_dir>/envoy; envoy.node_id or node_id.
  std::string bindAddress() const;
  std::string envoyFilesDir() const;
  std::string envoyNodeId() const;
  // The control plane's initial state: this identity and the data-plane port pool.
  state::NodeState initialState() const;

  bool operator==(const NodeConfig&) const = default;
};

} // namespace catalyst::config
