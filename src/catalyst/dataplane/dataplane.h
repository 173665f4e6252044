#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/common/result.h"
#include "catalyst/control/effect.h"

namespace catalyst::dataplane {

// Why the data plane counted an error, for the per-route counters and the `reason` label of
// catalyst_dataplane_errors_total.
enum class ErrorReason {
  Bind,          // the listener could not bind or listen (port taken, no permission)
  Accept,        // accept() failed (out of file descriptors, ...)
  Connect,       // the target could not be resolved or connected to in time
  NoListenPort,  // the route came without a port (the port range is exhausted or not set)
  InvalidTarget, // no usable target: a bad service endpoint, or an egress without a next hop
  UdpFlowLimit,  // a datagram from a new client was dropped: the route has too many flows
};
inline constexpr std::size_t kErrorReasonCount = 6;

// "bind", "accept", "connect", "no_listen_port", "invalid_target", "udp_flow_limit".
std::string_view toString(ErrorReason reason);

// The counters of one route, or of the whole data plane.
struct Counters {
  // TCP: connections accepted. UDP: flows (client addresses) created.
  uint64_t connections = 0;
  // TCP: connections open now (draining ones included). UDP: flows alive now.
  uint64_t active = 0;
  uint64_t bytes_in = 0;  // client -> upstream
  uint64_t bytes_out = 0; // upstream -> client
  // TCP directions that moved from copying to splice(2) (bulk transfers; a direction whose
  // reads never fill the copy buffer stays copying).
  uint64_t spliced = 0;
  std::array<uint64_t, kErrorReasonCount> errors{};

  uint64_t error(ErrorReason reason) const { return errors.at(static_cast<std::size_t>(reason)); }
  uint64_t errorsTotal() const;
  bool operator==(const Counters&) const = default;
};

// Where a route's listener is.
enum class ListenerState {
  Pending,    // configured; a worker has not bound it yet
  Listening,  // bound and accepting
  Failed,     // the bind failed (`error` says why); the next upsert of the route tries again
  None,       // the route has no listener: no port, or no usable target (`error` says why)
  Configured, // Envoy modes: in the configuration handed to Envoy (Envoy binds it)
};

// "pending", "listening", "failed", "none", "configured".
std::string_view toString(ListenerState state);

// One route of the data plane as it stands.
struct ListenerStats {
  control::fx::DataPlaneRoute route; // as last configured
  ListenerState state = ListenerState::Pending;
  // The port bound when listening (also when the route asked for port 0), else the port asked.
  std::optional<uint16_t> port;
  std::string target;               // "host:port" (ingress: the service; egress: the next hop)
  std::optional<std::string> error; // why there is no listener, when there is none
  Counters counters;                // since the route was added (kept across upserts)
};

// What an Envoy data plane (envoy-files, envoy-xds) handed to Envoy.
struct EnvoyStats {
  std::string clusters_version; // of the last snapshot published; "" before the first
  std::string listeners_version;
  uint64_t publishes = 0; // snapshots published (files written, or set on the xDS server)
  uint64_t failures = 0;  // publishes that failed (e.g. a file could not be written)
  std::optional<std::string> last_error;
  // envoy-xds: what Envoy answered.
  std::size_t streams = 0; // xDS streams open now
  uint64_t acks = 0;       // responses ACKed
  uint64_t nacks = 0;      // responses NACKed (Envoy refused a version and kept its last)
  std::optional<std::string> last_nack; // "type version: message" of the last NACK
  uint64_t bad_requests = 0;            // requests that did not parse (each ended its stream)
};

struct DataPlaneStats {
  std::vector<ListenerStats> listeners; // ordered by route key (name, origin node)
  // Every route since start, removed ones included (their draining connections too). Envoy
  // modes count only what the node sees: routes it could not render (no port, bad target).
  Counters totals;
  std::size_t workers = 0;
  std::optional<EnvoyStats> envoy; // Envoy modes only
};

// The data plane: one listener per route of the route table, forwarding at L4. The node hands it
// the pipeline's ConfigureDataPlane effects; it carries them out on threads of its own.
//
// Thread affinity: every member is called on one thread, the owner's (the node's control
// thread); none blocks on traffic.
class DataPlane {
public:
  virtual ~DataPlane() = default;

  // Starts the worker threads and opens the listeners of the routes applied so far. Fails (and
  // starts nothing) when the bind address cannot be resolved or a thread cannot be started.
  virtual Status start() = 0;

  // Carries out one ConfigureDataPlane effect: `removals` first, then `upserts`. A removed route's
  // listener closes (new connections are refused) and its open connections drain, then are
  // closed after the drain timeout. An upsert of an existing route that changes only its target
  // keeps the listener and the open connections (they keep their upstream); a new port moves the
  // listener. Nothing of another route is disturbed. Problems (no port, bad target, a port
  // taken) are logged, counted and shown in stats(); they never fail the call. Before start()
  // the routes are only recorded; after stop() calls are ignored.
  virtual void apply(const control::fx::ConfigureDataPlane& config) = 0;

  // The routes and their counters. Listener states are those the workers reported so far.
  virtual DataPlaneStats stats() const = 0;

  // Closes every listener and connection and joins the workers. Idempotent.
  virtual void stop() = 0;
};

using DataPlanePtr = std::unique_ptr<DataPlane>;

} // namespace catalyst::dataplane
