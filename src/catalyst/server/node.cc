#include "catalyst/server/node.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <system_error>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "catalyst/common/version.h"
#include "catalyst/dataplane/embedded_impl.h"
#include "catalyst/envoy/envoy_data_plane.h"
#include "catalyst/envoy/xds_loader.h"
#include "catalyst/peering/wire.h"
#include "catalyst/plugins/builtin.h"
#include "catalyst/rpc/plain_json.h"

namespace catalyst::server {

void EffectRouter::onEffects(std::vector<control::Effect> effects) {
  for (control::Effect& e : effects) {
    ++counts_[std::string(control::effectName(e))];
    if (const auto* configure = std::get_if<control::fx::ConfigureDataPlane>(&e)) {
      if (dataplane_ != nullptr) {
        dataplane_->apply(*configure);
      } else {
        logger_.debug("effect {} (no embedded data plane in this mode)", control::effectName(e));
      }
      continue;
    }
    if (peering_ == nullptr) {
      continue;
    }
    if (auto* send = std::get_if<control::fx::SendUpdate>(&e)) {
      peering_->send(send->peer, std::move(send->items));
    } else if (const auto* eot = std::get_if<control::fx::EndOfTable>(&e)) {
      peering_->endOfTable(eot->peer, eot->session);
    } else if (auto* more = std::get_if<control::fx::ContinueTable>(&e)) {
      peering_->continueTable(more->peer, std::move(more->cursor));
    } else if (const auto* connect = std::get_if<control::fx::ConnectPeer>(&e)) {
      peering_->connect(connect->info);
    } else if (const auto* close = std::get_if<control::fx::ClosePeer>(&e)) {
      peering_->remove(close->peer, close->code, close->reason);
    } else {
      logger_.debug("effect {} (no process supervision in this build yet)", control::effectName(e));
    }
  }
}

Node::Node(config::NodeConfig config, event::Dispatcher& dispatcher, Logger& logger)
    : config_(std::move(config)), dispatcher_(dispatcher), logger_(logger),
      started_(dispatcher.timeSource().monotonicTime()), effects_(logger) {
  loop_ = std::make_unique<control::ControlLoop>(
      dispatcher_, control::Pipeline(config_.initialState(), plugins::builtinPlugins()), effects_,
      logger_);
  http_ = std::make_unique<admin::HttpServer>(
      dispatcher_, logger_,
      admin::HttpServerOptions{config_.listen_address, config_.port, admin::HttpServerLimits{}});
  addRoutes();
}

rpc::Stub Node::makeMain(const rpcnet::RpcEndpoint::SessionInfo& session) {
  NodeApi::Factories f;
  f.health = [this]() -> rpc::Value {
    rpc::Object o;
    for (const auto& [key, value] : health()) {
      if (value.is_string()) {
        o.push_back(rpc::Member{std::string(key), std::string(value.as_string())});
      } else if (value.is_number()) {
        o.push_back(rpc::Member{std::string(key), value.to_number<double>()});
      }
    }
    return o;
  };
  const uint64_t id = session.id;
  const bool websocket = session.websocket;
  f.ibgp = [this, id, websocket](std::string_view token) -> rpc::Value {
    if (!websocket) {
      return rpc::object(
          {{"success", false}, {"error", "peering needs a WebSocket session, not an HTTP batch"}});
    }
    return peering_->ibgpClient(id, token);
  };
  f.network = [this](std::string_view token) { return management_->networkClient(token); };
  f.data_channel = [this](std::string_view token) { return management_->dataChannelClient(token); };
  return rpc::makeStub(std::make_shared<NodeApi>(std::move(f)));
}

peering::PeeringOptions peeringOptions(const config::NodeConfig& config) {
  peering::PeeringOptions options;
  options.hold_time = config.hold_time;
  if (config.dataplane != config::DataPlaneMode::Embedded) {
    // Envoy keeps forwarding while this process restarts: peers may keep our routes a while.
    options.graceful_restart_time = config.graceful_restart_time;
  }
  options.client.websocket.max_message_bytes = config.rpc_max_message_bytes;
  options.client.session.max_message_bytes = config.rpc_max_message_bytes;
  return options;
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
  using R = rpc::Promise<rpc::Value>;
  if (method == "health") {
    return R::resolved(factories_.health());
  }
  const std::function<rpc::Value(std::string_view)>* factory = nullptr;
  if (method == "getIBGPClient") {
    factory = &factories_.ibgp;
  } else if (method == "getNetworkClient") {
    factory = &factories_.network;
  } else if (method == "getDataChannelClient") {
    factory = &factories_.data_channel;
  }
  if (factory == nullptr) {
    return Target::call(method, std::move(args));
  }
  const rpc::Value& token = args[0];
  return R::resolved((*factory)(token.is<std::string>() ? *token.as<std::string>() : ""));
}

void Node::addRoutes() {
  http_->addRoute(admin::HttpMethod::Get, "/health",
                  [this](const admin::HttpRequest&) { return admin::jsonResponse(200, health()); });
  auto guarded = [this](auto render) {
    return [this, render](const admin::HttpRequest& request) -> admin::HttpResponse {
      if (config_.admin_loopback_only && !request.remote_is_loopback) {
        return admin::jsonError(403, "only answered on loopback (admin.loopback_only)");
      }
      if (!peering_) {
        return admin::jsonError(503, "the node is starting");
      }
      return render();
    };
  };
  http_->addRoute(admin::HttpMethod::Get, "/api/state",
                  guarded([this] { return admin::jsonResponse(200, apiState()); }));
  http_->addRoute(admin::HttpMethod::Get, "/metrics", guarded([this] {
                    return admin::textResponse(200, metrics(),
                                               "text/plain; version=0.0.4; charset=utf-8");
                  }));
}

boost::json::value Node::apiState() const {
  const state::NodeState& s = loop_->state();
  boost::json::object node;
  node["name"] = s.self().name;
  boost::json::array domains;
  for (const std::string& d : s.self().domains) {
    domains.emplace_back(d);
  }
  node["domains"] = std::move(domains);
  node["endpoint"] = s.self().endpoint;

  boost::json::array peers;
  for (const auto& [name, peer] : s.peers()) {
    boost::json::object p;
    p["name"] = name;
    if (peer.info.endpoint) {
      p["endpoint"] = *peer.info.endpoint;
    }
    boost::json::array pd;
    for (const std::string& d : peer.info.domains) {
      pd.emplace_back(d);
    }
    p["domains"] = std::move(pd);
    p["connectionStatus"] = state::toString(peer.status);
    peers.push_back(std::move(p));
  }

  boost::json::array local;
  for (const auto& [name, route] : s.localRoutes()) {
    state::Route shown = route.route;
    shown.envoy_port = s.portFor({name, s.self().name});
    shown.envoy_address = s.self().envoy_address;
    local.push_back(rpc::toPlainJson(peering::toValue(shown)));
  }
  boost::json::array internal;
  for (const state::RouteKey& key : s.learnedKeysSorted()) {
    const state::LearnedPath* best = s.findBest(key);
    // As this node advertises it: our data-plane address and the port we allocated.
    state::Route shown = best->route;
    shown.envoy_port = s.portFor(key);
    shown.envoy_address = s.self().envoy_address;
    internal.push_back(rpc::toPlainJson(peering::internalRouteValue(
        shown, best->peer, best->node_path, best->origin_node, best->is_stale)));
  }
  boost::json::object routes;
  routes["local"] = std::move(local);
  routes["internal"] = std::move(internal);

  boost::json::object out;
  out["node"] = std::move(node);
  out["peers"] = std::move(peers);
  out["routes"] = std::move(routes);
  out["dataplane"] = dataPlaneState();
  return out;
}

namespace {

std::string_view kindName(control::fx::DataPlaneRoute::Kind kind) {
  return kind == control::fx::DataPlaneRoute::Kind::Ingress ? "ingress" : "egress";
}

// A Prometheus label value: backslash, double quote and newline escaped.
std::string labelValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

} // namespace

boost::json::object Node::dataPlaneState() const {
  boost::json::object out;
  out["mode"] = config::toString(config_.dataplane);
  boost::json::array listeners;
  if (dataplane_) {
    const dataplane::DataPlaneStats stats = dataplane_->stats();
    out["workers"] = stats.workers;
    // Node-wide error counts by reason: also those of routes that have no entry (no port).
    boost::json::object errors;
    for (std::size_t r = 0; r < dataplane::kErrorReasonCount; ++r) {
      errors[dataplane::toString(static_cast<dataplane::ErrorReason>(r))] =
          stats.totals.errors.at(r);
    }
    out["errors"] = std::move(errors);
    if (stats.envoy) {
      const dataplane::EnvoyStats& e = *stats.envoy;
      boost::json::object envoy;
      envoy["clustersVersion"] = e.clusters_version;
      envoy["listenersVersion"] = e.listeners_version;
      envoy["publishes"] = e.publishes;
      envoy["publishFailures"] = e.failures;
      envoy["lastError"] = e.last_error ? boost::json::value(*e.last_error) : nullptr;
      if (config_.dataplane == config::DataPlaneMode::EnvoyFiles) {
        envoy["filesDir"] = config_.envoyFilesDir();
      } else {
        envoy["xdsStreams"] = e.streams;
        envoy["acks"] = e.acks;
        envoy["nacks"] = e.nacks;
        envoy["lastNack"] = e.last_nack ? boost::json::value(*e.last_nack) : nullptr;
        envoy["badRequests"] = e.bad_requests;
      }
      out["envoy"] = std::move(envoy);
    }
    for (const dataplane::ListenerStats& l : stats.listeners) {
      boost::json::object o;
      o["name"] = l.route.key.name;
      o["originNode"] = l.route.key.origin_node;
      o["kind"] = kindName(l.route.kind);
      o["protocol"] = state::toString(l.route.protocol);
      if (l.port) {
        o["port"] = *l.port;
      } else {
        o["port"] = nullptr;
      }
      o["target"] = l.target;
      o["state"] = dataplane::toString(l.state);
      o["connections"] = l.counters.connections;
      o["activeConnections"] = l.counters.active;
      o["bytesIn"] = l.counters.bytes_in;
      o["bytesOut"] = l.counters.bytes_out;
      o["errors"] = l.counters.errorsTotal();
      if (l.error) {
        o["error"] = *l.error;
      }
      listeners.push_back(std::move(o));
    }
  }
  out["listeners"] = std::move(listeners);
  return out;
}

// Envoy modes: Envoy counts the traffic (its admin /stats); the node shows what it handed over.
void Node::envoyMetrics(const dataplane::DataPlaneStats& stats, std::string& out) const {
  const dataplane::EnvoyStats& e = *stats.envoy;
  auto metric = [&out](std::string_view name, std::string_view type, std::string_view help,
                       uint64_t value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  metric("catalyst_envoy_publishes_total", "counter",
         "Snapshots of clusters and listeners handed to Envoy.", e.publishes);
  metric("catalyst_envoy_publish_failures_total", "counter",
         "Snapshots that could not be handed over (Envoy kept the previous one).", e.failures);
  out += "# HELP catalyst_envoy_resource_version The version last handed over, by type.\n"
         "# TYPE catalyst_envoy_resource_version gauge\n";
  out += fmt::format("catalyst_envoy_resource_version{{type=\"clusters\",version=\"{}\"}} 1\n",
                     labelValue(e.clusters_version));
  out += fmt::format("catalyst_envoy_resource_version{{type=\"listeners\",version=\"{}\"}} 1\n",
                     labelValue(e.listeners_version));
  std::map<std::string_view, uint64_t> by_state;
  for (std::string_view state : {"pending", "configured", "none"}) {
    by_state[state] = 0;
  }
  for (const dataplane::ListenerStats& l : stats.listeners) {
    ++by_state[dataplane::toString(l.state)];
  }
  out += "# HELP catalyst_envoy_routes Routes of the data plane by state (none: not rendered, "
         "see /api/state).\n# TYPE catalyst_envoy_routes gauge\n";
  for (const auto& [state, n] : by_state) {
    out += fmt::format("catalyst_envoy_routes{{state=\"{}\"}} {}\n", state, n);
  }
  out += "# HELP catalyst_dataplane_errors Routes left out of Envoy's configuration now, by "
         "reason.\n# TYPE catalyst_dataplane_errors gauge\n";
  for (std::size_t r = 0; r < dataplane::kErrorReasonCount; ++r) {
    out += fmt::format("catalyst_dataplane_errors{{reason=\"{}\"}} {}\n",
                       dataplane::toString(static_cast<dataplane::ErrorReason>(r)),
                       stats.totals.errors.at(r));
  }
  if (config_.dataplane == config::DataPlaneMode::EnvoyXds) {
    metric("catalyst_envoy_xds_streams", "gauge", "Open ADS streams.", e.streams);
    metric("catalyst_envoy_xds_acks_total", "counter", "xDS responses Envoy ACKed.", e.acks);
    metric("catalyst_envoy_xds_nacks_total", "counter",
           "xDS responses Envoy NACKed (it kept its previous version).", e.nacks);
    metric("catalyst_envoy_xds_bad_requests_total", "counter",
           "xDS requests that did not parse (each ended its stream).", e.bad_requests);
  }
}

void Node::dataPlaneMetrics(std::string& out) const {
  if (!dataplane_) {
    return;
  }
  const dataplane::DataPlaneStats stats = dataplane_->stats();
  auto family = [&out](std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  if (stats.envoy) {
    envoyMetrics(stats, out);
    return;
  }
  std::vector<std::string> labels; // route="...",origin="...",kind="..." per listener
  labels.reserve(stats.listeners.size());
  for (const dataplane::ListenerStats& l : stats.listeners) {
    labels.push_back(fmt::format("route=\"{}\",origin=\"{}\",kind=\"{}\"",
                                 labelValue(l.route.key.name), labelValue(l.route.key.origin_node),
                                 kindName(l.route.kind)));
  }
  using L = dataplane::ListenerStats;
  auto perRoute = [&](std::string_view name, std::string_view type, std::string_view help,
                      const std::function<uint64_t(const L&)>& value) {
    family(name, type, help);
    for (std::size_t i = 0; i < stats.listeners.size(); ++i) {
      out += fmt::format("{}{{{}}} {}\n", name, labels[i], value(stats.listeners[i]));
    }
  };
  perRoute("catalyst_dataplane_listening", "gauge",
           "1 when the route's listener is bound, else 0 (see /api/state for why).",
           [](const L& l) { return l.state == dataplane::ListenerState::Listening ? 1U : 0U; });
  perRoute("catalyst_dataplane_connections_total", "counter",
           "Connections accepted (UDP: flows created), by route.",
           [](const L& l) { return l.counters.connections; });
  perRoute("catalyst_dataplane_active_connections", "gauge",
           "Connections open now (UDP: flows alive), by route.",
           [](const L& l) { return l.counters.active; });
  family("catalyst_dataplane_bytes_total", "counter", "Bytes relayed, by route and direction.");
  for (std::size_t i = 0; i < stats.listeners.size(); ++i) {
    const dataplane::Counters& c = stats.listeners[i].counters;
    out += fmt::format("catalyst_dataplane_bytes_total{{{},direction=\"client_to_upstream\"}} {}\n",
                       labels[i], c.bytes_in);
    out += fmt::format("catalyst_dataplane_bytes_total{{{},direction=\"upstream_to_client\"}} {}\n",
                       labels[i], c.bytes_out);
  }
  family("catalyst_dataplane_errors_total", "counter",
         "Data-plane errors by route and reason (reasons that occurred).");
  for (std::size_t i = 0; i < stats.listeners.size(); ++i) {
    for (std::size_t r = 0; r < dataplane::kErrorReasonCount; ++r) {
      const uint64_t n = stats.listeners[i].counters.errors.at(r);
      if (n > 0) {
        out += fmt::format("catalyst_dataplane_errors_total{{{},reason=\"{}\"}} {}\n", labels[i],
                           dataplane::toString(static_cast<dataplane::ErrorReason>(r)), n);
      }
    }
  }
  // Node-wide totals: every route since start, removed ones included.
  const dataplane::Counters& t = stats.totals;
  family("catalyst_dataplane_node_connections_total", "counter",
         "Connections accepted (UDP: flows created) by the whole data plane.");
  out += fmt::format("catalyst_dataplane_node_connections_total {}\n", t.connections);
  family(
      "catalyst_dataplane_node_active_connections", "gauge",
      "Connections open now (UDP: flows alive) in the whole data plane, draining ones included.");
  out += fmt::format("catalyst_dataplane_node_active_connections {}\n", t.active);
  family("catalyst_dataplane_node_bytes_total", "counter",
         "Bytes relayed by the whole data plane, by direction.");
  out += fmt::format("catalyst_dataplane_node_bytes_total{{direction=\"client_to_upstream\"}} {}\n",
                     t.bytes_in);
  out += fmt::format("catalyst_dataplane_node_bytes_total{{direction=\"upstream_to_client\"}} {}\n",
                     t.bytes_out);
  family("catalyst_dataplane_node_spliced_total", "counter",
         "TCP directions that moved from copying to splice(2): bulk transfers.");
  out += fmt::format("catalyst_dataplane_node_spliced_total {}\n", t.spliced);
  family("catalyst_dataplane_node_errors_total", "counter",
         "Errors of the whole data plane, by reason.");
  for (std::size_t r = 0; r < dataplane::kErrorReasonCount; ++r) {
    out += fmt::format("catalyst_dataplane_node_errors_total{{reason=\"{}\"}} {}\n",
                       dataplane::toString(static_cast<dataplane::ErrorReason>(r)), t.errors.at(r));
  }
  family("catalyst_dataplane_workers", "gauge", "Worker threads of the embedded data plane.");
  out += fmt::format("catalyst_dataplane_workers {}\n", stats.workers);
}

std::string Node::metrics() const {
  std::string out;
  auto family = [&out](std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  auto sample = [&out](std::string_view name, double value, std::string_view labels = {}) {
    out += labels.empty() ? fmt::format("{} {}\n", name, value)
                          : fmt::format("{}{{{}}} {}\n", name, labels, value);
  };
  auto labelled = [&](std::string_view name, std::string_view type, std::string_view help,
                      std::string_view label, const std::map<std::string, uint64_t>& counts) {
    family(name, type, help);
    for (const auto& [key, value] : counts) {
      sample(name, static_cast<double>(value), fmt::format("{}=\"{}\"", label, key));
    }
  };
  const state::NodeState& s = loop_->state();
  const peering::PeeringStats& p = peering_->stats();

  std::size_t connected = 0;
  for (const auto& [name, peer] : s.peers()) {
    connected += peer.status == state::ConnectionStatus::Connected ? 1 : 0;
  }
  const std::size_t best = s.bestCount();
  const std::size_t paths = s.pathCount();
  family("catalyst_peers", "gauge", "Configured peers.");
  sample("catalyst_peers", static_cast<double>(s.peers().size()));
  family("catalyst_peer_sessions", "gauge", "Peers whose session is established.");
  sample("catalyst_peer_sessions", static_cast<double>(connected));
  family("catalyst_routes", "gauge", "Routes in the Loc-RIB, by kind.");
  sample("catalyst_routes", static_cast<double>(s.localRoutes().size()), "kind=\"local\"");
  sample("catalyst_routes", static_cast<double>(best), "kind=\"learned\"");
  family("catalyst_route_paths", "gauge", "Candidate paths from all peers (Adj-RIB-In).");
  sample("catalyst_route_paths", static_cast<double>(paths));
  family("catalyst_ports_allocated", "gauge", "Data-plane ports allocated to routes.");
  sample("catalyst_ports_allocated", static_cast<double>(s.ports().used()));
  family("catalyst_port_allocation_failures_total", "counter",
         "Routes that found the port range exhausted.");
  sample("catalyst_port_allocation_failures_total",
         static_cast<double>(s.portAllocationFailures()));

  family("catalyst_peering_sessions_established_total", "counter",
         "Peer sessions established (the peer's open accepted).");
  sample("catalyst_peering_sessions_established_total", static_cast<double>(p.sessions_up));
  family("catalyst_peering_outbound_established_total", "counter",
         "Our connections to peers established (our open accepted).");
  sample("catalyst_peering_outbound_established_total", static_cast<double>(p.outbound_up));
  labelled("catalyst_peering_sessions_ended_total", "counter", "Peer sessions ended, by code.",
           "code", p.sessions_ended);
  family("catalyst_peering_dial_failures_total", "counter", "Failed dials to peers.");
  sample("catalyst_peering_dial_failures_total", static_cast<double>(p.dial_failures));
  family("catalyst_peering_opens_refused_total", "counter",
         "getIBGPClient or open calls a peer refused.");
  sample("catalyst_peering_opens_refused_total", static_cast<double>(p.opens_refused));
  family("catalyst_peering_updates_sent_total", "counter", "update calls sent to peers.");
  sample("catalyst_peering_updates_sent_total", static_cast<double>(p.updates_sent));
  family("catalyst_peering_update_items_sent_total", "counter", "Update items sent to peers.");
  sample("catalyst_peering_update_items_sent_total", static_cast<double>(p.update_items_sent));
  family("catalyst_peering_updates_refused_by_peer_total", "counter",
         "update calls a peer answered with success: false.");
  sample("catalyst_peering_updates_refused_by_peer_total", static_cast<double>(p.updates_refused));
  family("catalyst_peering_updates_received_total", "counter", "update calls applied.");
  sample("catalyst_peering_updates_received_total", static_cast<double>(p.updates_received));
  family("catalyst_peering_update_items_received_total", "counter",
         "Update items received in applied update calls.");
  sample("catalyst_peering_update_items_received_total",
         static_cast<double>(p.update_items_received));
  family("catalyst_peering_update_items_read_in_one_pass_total", "counter",
         "Update items read in one pass from their call's text (the tight spelling; other "
         "calls are indexed or parsed first).");
  sample("catalyst_peering_update_items_read_in_one_pass_total",
         static_cast<double>(p.update_items_read_in_one_pass));
  family("catalyst_peering_keepalives_sent_total", "counter", "keepalive calls sent.");
  sample("catalyst_peering_keepalives_sent_total", static_cast<double>(p.keepalives_sent));
  family("catalyst_peering_keepalives_received_total", "counter", "keepalive calls received.");
  sample("catalyst_peering_keepalives_received_total", static_cast<double>(p.keepalives_received));
  labelled("catalyst_peering_requests_refused_total", "counter",
           "Peering RPCs refused (bad token, wrong role, identity, session, batch), by reason.",
           "reason", p.requests_refused);
  labelled("catalyst_management_requests_refused_total", "counter",
           "Management RPCs refused (bad token, wrong role), by reason.", "reason",
           management_->refusals());

  const control::ControlStats& c = loop_->stats();
  labelled("catalyst_events_total", "counter", "Events handled by the pipeline, by kind.", "kind",
           c.events_by_kind);
  labelled("catalyst_rejections_total", "counter",
           "Inputs the pipeline's plugins refused (nothing applied), by reason.", "reason",
           c.rejections_by_reason);
  labelled("catalyst_effects_total", "counter", "Effects the pipeline asked for, by kind.", "kind",
           effects_.countsByKind());
  const rpcnet::RpcEndpointStats r = rpc_->stats();
  family("catalyst_rpc_websocket_sessions", "gauge", "Open Cap'n Web WebSocket sessions.");
  sample("catalyst_rpc_websocket_sessions", static_cast<double>(r.websocket_active));
  family("catalyst_rpc_aborted_sessions_total", "counter",
         "Cap'n Web sessions ended by a protocol error.");
  sample("catalyst_rpc_aborted_sessions_total", static_cast<double>(r.aborts));
  dataPlaneMetrics(out);
  return out;
}

namespace {

envoy::RenderOptions renderOptions(const config::NodeConfig& config) {
  envoy::RenderOptions options;
  options.bind_address = config.bindAddress();
  if (config.dataplane_tls) {
    options.tls =
        envoy::TlsFiles{config.dataplane_tls->certificate_chain, config.dataplane_tls->private_key,
                        config.dataplane_tls->trusted_ca};
  }
  return options;
}

} // namespace

Status Node::startDataPlane() {
  if (dataplane_) {
    return {};
  }
  dataplane::DataPlanePtr plane;
  switch (config_.dataplane) {
  case config::DataPlaneMode::Embedded: {
    dataplane::EmbeddedOptions options;
    options.bind_address = config_.bindAddress();
    options.workers = config_.dataplane_workers;
    options.drain_timeout = config_.dataplane_drain_timeout;
    options.udp_idle_timeout = config_.dataplane_udp_idle_timeout;
    options.use_splice = config_.dataplane_splice;
    plane = std::make_unique<dataplane::EmbeddedDataPlane>(std::move(options), logger_);
    break;
  }
  case config::DataPlaneMode::EnvoyFiles: {
    envoy::EnvoyDataPlaneOptions options;
    options.render = renderOptions(config_);
    options.startup_hold = config_.envoy.startup_hold;
    plane = std::make_unique<envoy::EnvoyDataPlane>(
        std::move(options), std::make_unique<envoy::FileSink>(config_.envoyFilesDir()), logger_);
    break;
  }
  case config::DataPlaneMode::EnvoyXds: {
    envoy::EnvoyDataPlaneOptions options;
    options.render = renderOptions(config_);
    options.startup_hold = config_.envoy.startup_hold;
    Result<envoy::SnapshotSinkPtr> sink = envoy::loadXdsSink(
        envoy::defaultXdsModulePath(),
        envoy::XdsSinkConfig{config_.envoy.xds_address, config_.envoy.xds_port}, logger_);
    if (!sink) {
      return sink.error();
    }
    plane = std::make_unique<envoy::EnvoyDataPlane>(std::move(options), std::move(*sink), logger_);
    break;
  }
  }
  if (auto st = plane->start(); !st) {
    return st;
  }
  dataplane_ = std::move(plane);
  effects_.setDataPlane(dataplane_.get());
  return {};
}

Status Node::start() {
  // The key and the run-time state (peer tokens) live here: a directory we create is ours
  // alone (TokenAuthority would do the same; it comes first so the HTTP side can fail early).
  std::error_code ec;
  if (std::filesystem::create_directories(config_.state_dir, ec)) {
    std::filesystem::permissions(config_.state_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  if (ec) {
    return unavailable(fmt::format("state directory {}: {}", config_.state_dir, ec.message()));
  }
  Result<auth::TokenAuthority> tokens =
      auth::TokenAuthority::loadOrCreate(config_.state_dir, config_.node_id);
  if (!tokens) {
    return tokens.error();
  }
  tokens_ = std::make_unique<auth::TokenAuthority>(std::move(*tokens));
  Result<RuntimeState> runtime = loadRuntimeState(config_.state_dir);
  if (!runtime) {
    return runtime.error();
  }
  state::PeerInfo self;
  self.name = config_.node_id;
  self.domains = config_.domains;
  self.endpoint = config_.peering_endpoint;
  self.envoy_address = config_.envoy_address;
  peering_ = std::make_unique<peering::PeeringService>(dispatcher_, *loop_, *tokens_, self,
                                                       peeringOptions(config_), logger_);
  management_ = std::make_shared<ManagementApi>(dispatcher_, *loop_, *tokens_, *peering_,
                                                config_.state_dir, *runtime, logger_);
  effects_.setPeering(peering_.get());
  rpc_ = std::make_unique<rpcnet::RpcEndpoint>(
      dispatcher_, *http_, "/rpc",
      [this](const rpcnet::RpcEndpoint::SessionInfo& session) { return makeMain(session); },
      rpcOptions(config_), logger_);
  rpc_->onSessionClosed([this](uint64_t id) { peering_->connectionClosed(id); });
  peering_->setInboundCloser(
      [this](uint64_t id, const std::string& reason) { rpc_->closeSession(id, reason); });
  if (auto st = http_->listen(); !st) {
    return st;
  }
  // Before the first event: the routes below reach the data plane as effects.
  if (auto st = startDataPlane(); !st) {
    return st;
  }
  for (const state::PeerInfo& peer : config_.peers) {
    loop_->submit(control::ev::AddPeer{peer});
  }
  for (const state::Route& route : config_.routes) {
    loop_->submit(control::ev::AddRoute{route, state::RouteSource::Config});
  }
  // What was added at run time before the last stop.
  for (const auto& [name, peer] : runtime->peers) {
    loop_->submit(control::ev::AddPeer{peer});
  }
  for (const auto& [name, route] : runtime->routes) {
    loop_->submit(control::ev::AddRoute{route, state::RouteSource::Admin});
  }
  loop_->startTicks(std::chrono::seconds(1));
  logger_.info("node {} (catalyst-node {}) listening on http://{}:{} ({} peers, {} routes "
               "configured; state in {})",
               config_.node_id, kVersion, config_.listen_address, http_->port(),
               config_.peers.size(), config_.routes.size(), config_.state_dir);
  return {};
}

void Node::stop() {
  if (management_) {
    management_->flush();
  }
  if (peering_) {
    effects_.setPeering(nullptr);
    peering_->shutdown();
  }
  if (rpc_) {
    rpc_->closeAll("node shutting down");
  }
  http_->stop();
  effects_.setDataPlane(nullptr);
  if (dataplane_) {
    dataplane_->stop();
  }
}

Node::~Node() {
  // Sessions first: their objects call into peering and management.
  rpc_.reset();
  effects_.setPeering(nullptr);
  effects_.setDataPlane(nullptr);
  if (dataplane_) {
    dataplane_->stop();
  }
}

} // namespace catalyst::server
