#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include "catalyst/admin/http_server.h"
#include "catalyst/common/logging.h"
#include "catalyst/common/result.h"
#include "catalyst/config/node_config.h"
#include "catalyst/control/control_loop.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/target.h"
#include "catalyst/rpcnet/endpoint.h"

namespace catalyst::server {

// Carries out the pipeline's effects. Today it records them: the peering transport, the data
// plane and process supervision, which will carry them out, are not built yet. Counts every
// effect by kind so /metrics and tests can see what the pipeline decided.
class EffectRecorder : public control::EffectHandler {
public:
  explicit EffectRecorder(Logger& logger) : logger_(logger) {}

  void onEffects(const std::vector<control::Effect>& effects) override;

  const std::map<std::string, uint64_t>& countsByKind() const { return counts_; }

private:
  Logger& logger_;
  std::map<std::string, uint64_t> counts_;
};

// One Catalyst node: the control loop with the built-in plugins, and the HTTP endpoints of its
// listen port. The composition root: everything a node is made of is created and wired here,
// explicitly. Runs on `dispatcher`'s thread.
class Node {
public:
  // `dispatcher` and `logger` must outlive the node.
  Node(config::NodeConfig config, event::Dispatcher& dispatcher, Logger& logger);

  // Prepares the state directory, listens, loads the configured peers and routes into the
  // pipeline and starts the clock. Fails with a one-line reason (busy port, unwritable state
  // directory).
  Status start();

  // Ends the RPC sessions, stops listening and closes open connections. Idempotent.
  void stop();

  // The port the node listens on (after start()).
  uint16_t port() const { return http_->port(); }

  const config::NodeConfig& config() const { return config_; }
  const control::ControlLoop& control() const { return *loop_; }

  // What GET /health and the RPC `health()` answer.
  boost::json::object health() const;

private:
  void addRoutes();

  config::NodeConfig config_;
  event::Dispatcher& dispatcher_;
  Logger& logger_;
  MonotonicTime started_;
  EffectRecorder effects_;
  std::unique_ptr<control::ControlLoop> loop_;
  admin::HttpServerPtr http_;
  rpcnet::RpcEndpointPtr rpc_;
};

// The main object a node serves on /rpc (Cap'n Web). Peering's factories (getIBGPClient, ...)
// are not served yet; today it answers `health()` with what GET /health says.
class NodeApi : public rpc::Target {
public:
  explicit NodeApi(std::function<rpc::Value()> health) : health_(std::move(health)) {}
  rpc::Promise<rpc::Value> call(std::string_view method, rpc::Args args) override;

private:
  std::function<rpc::Value()> health_;
};

using NodePtr = std::unique_ptr<Node>;

// The limits of the node's /rpc endpoint, from its config.
rpcnet::RpcEndpointOptions rpcOptions(const config::NodeConfig& config);

} // namespace catalyst::server
