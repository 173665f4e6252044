#include "catalyst/server/node.h"

#include <chrono>
#include <filesystem>
#include <system_error>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "catalyst/common/version.h"
#include "catalyst/plugins/builtin.h"

namespace catalyst::server {

void EffectRecorder::onEffects(const std::vector<control::Effect>& effects) {
  for (const control::Effect& e : effects) {
    ++counts_[std::string(control::effectName(e))];
    logger_.debug("effect {} (no peering transport or data plane in this build yet)",
                  control::effectName(e));
  }
}

Node::Node(config::NodeConfig config, event::Dispatcher& dispatcher, Logger& logger)
    : config_(std::move(config)), dispatcher_(dispatcher), logger_(logger),
      started_(dispatcher.timeSource().monotonicTime()), effects_(logger) {
  loop_ = std::make_unique<control::ControlLoop>(
      dispatcher_,
      control::Pipeline(config_.initialState(), plugins::builtinPlugins()), effects_,
      logger_);
  http_ = std::make_unique<admin::HttpServer>(
      dispatcher_, logger_,
      admin::HttpServerOptions{config_.listen_address, config_.port, admin::HttpServerLimits{}});
  addRoutes();
  rpc_ = std::make_unique<rpcnet::RpcEndpoint>(
      dispatcher_, *http_, "/rpc",
      [this]() {
        return rpc::makeStub(std::make_shared<NodeApi>([this]() -> rpc::Value {
          rpc::Object o;
          for (const auto& [key, value] : health()) {
            if (value.is_string()) {
              o.push_back(rpc::Member{std::string(key), std::string(value.as_string())});
            } else if (value.is_number()) {
              o.push_back(rpc::Member{std::string(key), value.to_number<double>()});
            }
          }
          return o;
        }));
      },
      rpcOptions(config_), logger_);
}

rpcnet::RpcEndpointOptions rpcOptions(const config::NodeConfig& config) {
  rpcnet::RpcEndpointOptions options;
  options.websocket.max_message_bytes = config.rpc_max_message_bytes;
  options.session.max_message_bytes = config.rpc_max_message_bytes;
  return options;
}

boost::json::object Node::health() const {
  const std::chrono::duration<double> uptime = dispatcher_.timeSource().monotonicTime() - started_;
  boost::json::object body;
  body["status"] = "ok";
  body["node"] = config_.node_id;
  body["version"] = kVersion;
  body["uptimeSeconds"] = uptime.count();
  return body;
}

rpc::Promise<rpc::Value> NodeApi::call(std::string_view method, rpc::Args args) {
  if (method == "health") {
    return rpc::Promise<rpc::Value>::resolved(health_());
  }
  return Target::call(method, std::move(args));
}

void Node::addRoutes() {
  http_->addRoute(admin::HttpMethod::Get, "/health",
                  [this](const admin::HttpRequest&) { return admin::jsonResponse(200, health()); });
}

Status Node::start() {
  std::error_code ec;
  std::filesystem::create_directories(config_.state_dir, ec);
  if (ec) {
    return unavailable(fmt::format("state directory {}: {}", config_.state_dir, ec.message()));
  }
  if (auto st = http_->listen(); !st) {
    return st;
  }
  for (const state::PeerInfo& peer : config_.peers) {
    loop_->submit(control::ev::AddPeer{peer});
  }
  for (const state::Route& route : config_.routes) {
    loop_->submit(control::ev::AddRoute{route, state::RouteSource::Config});
  }
  loop_->startTicks(std::chrono::seconds(1));
  logger_.info("node {} (catalyst-node {}) listening on http://{}:{} ({} peers, {} routes "
               "configured; state in {})",
               config_.node_id, kVersion, config_.listen_address, http_->port(),
               config_.peers.size(), config_.routes.size(), config_.state_dir);
  return {};
}

void Node::stop() {
  rpc_->closeAll("node shutting down");
  http_->stop();
}

} // namespace catalyst::server
