#pragma once

// A network of real catalyst-node processes on 127.0.0.1 for peering and data-plane tests: each
// node gets a port, a state directory, a YAML config and, when asked, a data-plane port range;
// link() configures two nodes as peers of each other, with tokens minted by each side's own key
// (as `catalyst-node token mint` does).

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "catalyst/rpc/value.h"

#include "support/process.h"

namespace catalyst::test {

struct NodeOptions {
  std::vector<std::string> routes; // local routes in the config: http://127.0.0.1:9/<name>
  std::chrono::milliseconds hold_time{90'000};
  std::string dataplane = "embedded";
  std::string log_level = "debug";
  std::optional<std::chrono::milliseconds> graceful_restart; // peering.graceful_restart_ms
  std::string extra_yaml;                                    // appended to the config as is
  std::string dataplane_yaml; // appended to the dataplane section (indent each line by 2)
  // When > 0, the node gets a data-plane port range of this many consecutive ports, free when
  // the node is declared (dataplane.port_range); none otherwise.
  std::size_t data_ports = 0;

  NodeOptions& withRoutes(std::vector<std::string> names) {
    routes = std::move(names);
    return *this;
  }
  NodeOptions& withHoldTime(std::chrono::milliseconds ms) {
    hold_time = ms;
    return *this;
  }
  NodeOptions& withDataPlane(std::string mode) {
    dataplane = std::move(mode);
    return *this;
  }
  NodeOptions& withDataPorts(std::size_t count) {
    data_ports = count;
    return *this;
  }
};

class Cluster {
public:
  explicit Cluster(std::string binary);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  Cluster(Cluster&&) = delete;
  Cluster& operator=(Cluster&&) = delete;

  // Declares a node (not started). Names are short ("a"); node ids are "node-a".
  void add(const std::string& name, NodeOptions options = {});
  // Makes `a` and `b` peers of each other (both configs list the other, with a token the
  // other minted). Before start().
  void link(const std::string& a, const std::string& b);
  // Only `a`'s config lists `b` (`b` may add `a` at run time).
  void linkOneWay(const std::string& a, const std::string& b);
  // The PeerInfo value (for addPeer) of `peer` as `name` would configure it.
  rpc::Value peerArg(const std::string& name, const std::string& peer) const;

  // Writes the config and starts the node; waits until /health answers.
  void start(const std::string& name);
  void startAll();
  // SIGTERM and wait; or SIGKILL.
  void stop(const std::string& name);
  void kill(const std::string& name);
  void signal(const std::string& name, int sig);
  bool running(const std::string& name) const;

  static std::string id(const std::string& name) { return "node-" + name; }
  uint16_t port(const std::string& name) const;
  // The node's data-plane port range (first, last), when it has one (NodeOptions::data_ports).
  std::optional<std::pair<uint16_t, uint16_t>> dataPorts(const std::string& name) const;
  std::string stateDir(const std::string& name) const;
  Process& process(const std::string& name);
  // The token `issuer` mints for `subject` (any node id), with `role` ("peer", "admin") and
  // `ttl`, at `now_unix` (default: now).
  std::string mint(const std::string& issuer, const std::string& subject,
                   const std::string& role = "peer",
                   std::chrono::seconds ttl = std::chrono::hours(1),
                   std::optional<int64_t> now_unix = std::nullopt) const;
  std::string adminToken(const std::string& name) const;

  // GET /api/state, parsed (null when the node does not answer).
  boost::json::value state(const std::string& name) const;
  // The best learned route `route` of origin node `origin` at `name`, or null.
  boost::json::value learned(const std::string& name, const std::string& route,
                             const std::string& origin) const;
  std::size_t learnedCount(const std::string& name) const;
  // The local route `route` at `name` as /api/state shows it, or null.
  boost::json::value local(const std::string& name, const std::string& route) const;
  // The data-plane port `name` allocated for its local route `route` (its ingress), or for the
  // learned route `route` of `origin` (its egress); nullopt while it has none.
  std::optional<uint16_t> ingressPort(const std::string& name, const std::string& route) const;
  std::optional<uint16_t> egressPort(const std::string& name, const std::string& route,
                                     const std::string& origin) const;
  std::string metrics(const std::string& name) const;
  // The value of one sample of /metrics ("catalyst_rejections_total{reason=\"x\"}"); 0 if absent.
  double metric(const std::string& name, const std::string& sample) const;

  // Calls `method` on the client of `factory` ("getDataChannelClient", "getNetworkClient")
  // with an admin token, over an HTTP batch; returns the answer ({success, ...}).
  rpc::Value admin(const std::string& name, const std::string& factory, const std::string& method,
                   rpc::Value arg) const;

  // Output of the node's stderr (its log), for failure messages.
  std::string log(const std::string& name);

private:
  struct Node;
  std::string writeConfig(const Node& node) const;

  std::string binary_;
  TempDir dir_;
  std::map<std::string, std::unique_ptr<Node>> nodes_;
};

// `count` consecutive ports of 127.0.0.1 that are free for TCP and UDP a moment ago, below the
// kernel's ephemeral range (so no outgoing connection takes one meanwhile); the first one.
uint16_t freePortRange(std::size_t count);

// Calls getX(token).client.method(arg) on ws://127.0.0.1:port/rpc over an HTTP batch.
rpc::Value batchCall(uint16_t port, const std::string& factory, const std::string& token,
                     const std::string& method, rpc::Value arg);

// True when an admin call answered {success: true}.
bool succeeded(const rpc::Value& answer);

// The argument of addRoute: {name, endpoint, protocol}.
rpc::Value routeArg(const std::string& name, const std::string& endpoint,
                    const std::string& protocol);

} // namespace catalyst::test
