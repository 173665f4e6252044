#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include "catalyst/admin/http_server.h"
#include "catalyst/auth/token_authority.h"
#include "catalyst/common/logging.h"
#include "catalyst/common/result.h"
#include "catalyst/config/node_config.h"
#include "catalyst/control/control_loop.h"
#include "catalyst/dataplane/dataplane.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/peering/peering_service.h"
#include "catalyst/rpc/target.h"
#include "catalyst/rpcnet/endpoint.h"
#include "catalyst/server/management_api.h"

namespace catalyst::server {

// Carries out the pipeline's effects: peer messages and sessions go to the PeeringService,
// data-plane configuration to the embedded data plane (in the Envoy modes it is counted and
// logged only, as are process start/stop: not built yet). Counts every effect by kind for
// /metrics.
class EffectRouter : public control::EffectHandler {
public:
  explicit EffectRouter(Logger& logger) : logger_(logger) {}

  void onEffects(std::vector<control::Effect> effects) override;

  // Set once the node has started; effects before that are only counted.
  void setPeering(peering::PeeringService* peering) { peering_ = peering; }
  // Set once the embedded data plane runs; unset in the other modes.
  void setDataPlane(dataplane::DataPlane* dataplane) { dataplane_ = dataplane; }

  const std::map<std::string, uint64_t>& countsByKind() const { return counts_; }

private:
  Logger& logger_;
  peering::PeeringService* peering_ = nullptr;
  dataplane::DataPlane* dataplane_ = nullptr;
  std::map<std::string, uint64_t> counts_;
};

// One Catalyst node: the control loop with the built-in plugins, and the HTTP endpoints of its
// listen port. The composition root: everything a node is made of is created and wired here,
// explicitly. Runs on `dispatcher`'s thread.
class Node {
public:
  // `dispatcher` and `logger` must outlive the node.
  Node(config::NodeConfig config, event::Dispatcher& dispatcher, Logger& logger);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  Node(Node&&) = delete;
  Node& operator=(Node&&) = delete;

  // Prepares the state directory, listens, loads the configured peers and routes into the
  // pipeline and starts the clock. Fails with a one-line reason (busy port, unwritable state
  // directory).
  Status start();

  // Ends the RPC sessions, stops listening and closes open connections (the data plane's too).
  // Idempotent.
  void stop();

  // The port the node listens on (after start()).
  uint16_t port() const { return http_->port(); }

  const config::NodeConfig& config() const { return config_; }
  const control::ControlLoop& control() const { return *loop_; }
  // Events go in here (the admin API, tests).
  control::ControlLoop& controlLoop() { return *loop_; }
  // After start().
  const peering::PeeringService& peering() const { return *peering_; }
  const auth::TokenAuthority& tokens() const { return *tokens_; }
  // The embedded data plane, after start() in the embedded mode; null otherwise.
  const dataplane::DataPlane* dataPlane() const { return dataplane_.get(); }

  // What GET /health and the RPC `health()` answer.
  boost::json::object health() const;
  // GET /api/state (architecture.md): this node, its peers and its Loc-RIB; never tokens.
  boost::json::value apiState() const;
  // GET /metrics, Prometheus text format.
  std::string metrics() const;

private:
  void addRoutes();
  Status startDataPlane();
  void envoyMetrics(const dataplane::DataPlaneStats& stats, std::string& out) const;
  boost::json::object dataPlaneState() const;
  void dataPlaneMetrics(std::string& out) const;
  rpc::Stub makeMain(const rpcnet::RpcEndpoint::SessionInfo& session);

  config::NodeConfig config_;
  event::Dispatcher& dispatcher_;
  Logger& logger_;
  MonotonicTime started_;
  EffectRouter effects_;
  std::unique_ptr<control::ControlLoop> loop_;
  admin::HttpServerPtr http_;
  std::unique_ptr<auth::TokenAuthority> tokens_;     // from start()
  std::unique_ptr<peering::PeeringService> peering_; // from start()
  std::shared_ptr<ManagementApi> management_;        // from start()
  dataplane::DataPlanePtr dataplane_;                // from start(), embedded mode only
  rpcnet::RpcEndpointPtr rpc_;                       // last: its sessions call the above
};

// The main object a node serves on /rpc (Cap'n Web), one per session: the factories of
// peering.md §2, each taking a token, and `health()`.
//   getIBGPClient(token)         -> {success, client: {open, close, update, keepalive}}
//   getNetworkClient(token)      -> {success, client: {addPeer, updatePeer, removePeer,
//                                                      listPeers}}
//   getDataChannelClient(token)  -> {success, client: {addRoute, removeRoute, listRoutes,
//                                                      explainRoute}}
class NodeApi : public rpc::Target {
public:
  struct Factories {
    std::function<rpc::Value()> health;
    std::function<rpc::Value(std::string_view token)> ibgp;
    std::function<rpc::Value(std::string_view token)> network;
    std::function<rpc::Value(std::string_view token)> data_channel;
  };
  explicit NodeApi(Factories factories) : factories_(std::move(factories)) {}
  rpc::Promise<rpc::Value> call(std::string_view method, rpc::Args args) override;

private:
  Factories factories_;
};

using NodePtr = std::unique_ptr<Node>;

// The peering timers and limits, from its config.
peering::PeeringOptions peeringOptions(const config::NodeConfig& config);

// The limits of the node's /rpc endpoint, from its config.
rpcnet::RpcEndpointOptions rpcOptions(const config::NodeConfig& config);

} // namespace catalyst::server
