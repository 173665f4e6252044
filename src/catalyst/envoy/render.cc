#include "catalyst/envoy/render.h"

#include <algorithm>
#include <array>

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "catalyst/dataplane/target.h"

namespace catalyst::envoy {

namespace json = boost::json;
using control::fx::DataPlaneRoute;
using state::Protocol;

namespace {

constexpr std::string_view kTypePrefix = "type.googleapis.com/";

std::string sha256(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return {reinterpret_cast<const char*>(out.data()), out.size()};
}

// An Any in proto3 JSON: {"@type": ..., fields...}.
json::object any(std::string_view message, json::object fields) {
  json::object out;
  out["@type"] = fmt::format("{}{}", kTypePrefix, message);
  for (auto& [key, value] : fields) {
    out[key] = std::move(value);
  }
  return out;
}

bool isIpLiteral(const std::string& host) {
  std::array<unsigned char, 16> buf{};
  return inet_pton(AF_INET, host.c_str(), buf.data()) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buf.data()) == 1;
}

std::string duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) {
    return fmt::format("{}s", d.count() / 1000);
  }
  return fmt::format("{}.{:03}s", d.count() / 1000, d.count() % 1000);
}

json::object socketAddress(const std::string& host, uint16_t port, bool udp) {
  json::object address{{"address", host}, {"port_value", port}};
  if (udp) {
    address["protocol"] = "UDP";
  }
  return json::object{{"socket_address", std::move(address)}};
}

json::object commonTls(const TlsFiles& tls) {
  return json::object{
      {"tls_certificates",
       json::array{json::object{{"certificate_chain", {{"filename", tls.certificate_chain}}},
                                {"private_key", {{"filename", tls.private_key}}}}}},
      {"validation_context", {{"trusted_ca", {{"filename", tls.trusted_ca}}}}}};
}

json::object downstreamTls(const TlsFiles& tls) {
  return json::object{
      {"name", "envoy.transport_sockets.tls"},
      {"typed_config",
       any("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
           {{"common_tls_context", commonTls(tls)}, {"require_client_certificate", true}})}};
}

json::object upstreamTls(const TlsFiles& tls, const std::string& host) {
  json::object context{{"common_tls_context", commonTls(tls)}};
  if (!isIpLiteral(host)) {
    context["sni"] = host;
  }
  return json::object{
      {"name", "envoy.transport_sockets.tls"},
      {"typed_config",
       any("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", std::move(context))}};
}

bool isHttp(Protocol p) {
  return p == Protocol::Http || p == Protocol::HttpGraphql || p == Protocol::HttpGql ||
         p == Protocol::HttpGrpc;
}

json::object cluster(const std::string& name, const DataPlaneRoute& route,
                     const dataplane::Target& target, const RenderOptions& options) {
  const bool udp = route.protocol == Protocol::Udp;
  json::object c;
  c["name"] = name;
  const bool ip = isIpLiteral(target.host);
  c["type"] = ip ? "STATIC" : "STRICT_DNS";
  if (!ip) {
    c["dns_lookup_family"] = "V4_PREFERRED";
  }
  c["connect_timeout"] = duration(options.connect_timeout);
  c["lb_policy"] = "ROUND_ROBIN";
  c["load_assignment"] = json::object{
      {"cluster_name", name},
      {"endpoints",
       json::array{json::object{
           {"lb_endpoints",
            json::array{json::object{
                {"endpoint", {{"address", socketAddress(target.host, target.port, udp)}}}}}}}}}};
  if (route.protocol == Protocol::HttpGrpc) {
    c["typed_extension_protocol_options"] = json::object{
        {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
         any("envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
             {{"explicit_http_config", {{"http2_protocol_options", json::object{}}}}})}};
  }
  if (options.tls && route.kind == DataPlaneRoute::Kind::Egress && !udp) {
    c["transport_socket"] = upstreamTls(*options.tls, target.host);
  }
  return c;
}

// The network filter that carries a TCP-based route to `cluster`.
json::object networkFilter(const std::string& listener, const std::string& cluster,
                           const DataPlaneRoute& route) {
  if (!isHttp(route.protocol)) {
    return json::object{
        {"name", "envoy.filters.network.tcp_proxy"},
        {"typed_config", any("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                             {{"stat_prefix", listener}, {"cluster", cluster}})}};
  }
  const bool streaming = route.protocol != Protocol::Http;
  json::object action{{"cluster", cluster}};
  if (streaming) {
    action["timeout"] = "0s"; // long-lived streams: no route timeout
  }
  json::object hcm;
  hcm["stat_prefix"] = listener;
  if (route.protocol == Protocol::HttpGrpc) {
    hcm["codec_type"] = "HTTP2";
  }
  if (route.protocol == Protocol::HttpGraphql || route.protocol == Protocol::HttpGql) {
    hcm["upgrade_configs"] = json::array{json::object{{"upgrade_type", "websocket"}}};
  }
  hcm["route_config"] =
      json::object{{"name", listener},
                   {"virtual_hosts",
                    json::array{json::object{
                        {"name", route.kind == DataPlaneRoute::Kind::Ingress ? "local" : "remote"},
                        {"domains", json::array{"*"}},
                        {"routes", json::array{json::object{{"match", {{"prefix", "/"}}},
                                                            {"route", std::move(action)}}}}}}}};
  hcm["http_filters"] = json::array{
      json::object{{"name", "envoy.filters.http.router"},
                   {"typed_config", any("envoy.extensions.filters.http.router.v3.Router", {})}}};
  return json::object{
      {"name", "envoy.filters.network.http_connection_manager"},
      {"typed_config",
       any("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
           std::move(hcm))}};
}

json::object listener(const std::string& name, const std::string& cluster,
                      const DataPlaneRoute& route, uint16_t port, const RenderOptions& options) {
  json::object l;
  l["name"] = name;
  if (route.protocol == Protocol::Udp) {
    l["address"] = socketAddress(options.bind_address, port, true);
    l["udp_listener_config"] = json::object{};
    json::object route_action{{"cluster", cluster}};
    json::object action{{"name", "route"},
                        {"typed_config", any("envoy.extensions.filters.udp.udp_proxy.v3.Route",
                                             std::move(route_action))}};
    json::object on_no_match{{"action", std::move(action)}};
    json::object proxy{{"stat_prefix", name},
                       {"matcher", json::object{{"on_no_match", std::move(on_no_match)}}}};
    l["listener_filters"] = json::array{json::object{
        {"name", "envoy.filters.udp_listener.udp_proxy"},
        {"typed_config",
         any("envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig", std::move(proxy))}}};
    return l;
  }
  l["address"] = socketAddress(options.bind_address, port, false);
  const json::object filter = networkFilter(name, cluster, route);
  json::array chains;
  if (!options.tls) {
    chains.push_back(json::object{{"filters", json::array{filter}}});
  } else if (route.kind == DataPlaneRoute::Kind::Ingress) {
    // Only peers dial an ingress port: mTLS required.
    chains.push_back(json::object{{"filters", json::array{filter}},
                                  {"transport_socket", downstreamTls(*options.tls)}});
  } else {
    // An egress port serves local clients (plain) and, on a transit node, the next node's data
    // plane (mTLS): tls_inspector tells them apart.
    l["listener_filters"] = json::array{
        json::object{{"name", "envoy.filters.listener.tls_inspector"},
                     {"typed_config",
                      any("envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", {})}}};
    chains.push_back(json::object{{"filter_chain_match", {{"transport_protocol", "tls"}}},
                                  {"filters", json::array{filter}},
                                  {"transport_socket", downstreamTls(*options.tls)}});
    chains.push_back(json::object{{"filters", json::array{filter}}});
  }
  l["filter_chains"] = std::move(chains);
  return l;
}

ResourceConstSharedPtr resource(std::string name, const json::object& body) {
  auto r = std::make_shared<Resource>();
  r->name = std::move(name);
  r->json = json::serialize(body);
  r->digest = sha256(r->json);
  return r;
}

// A resource's share of its set's version: the first 64 bits of SHA-256(name, NUL, digest).
uint64_t resourceHash(const Resource& r) {
  std::string input = r.name;
  input.push_back('\0');
  input += r.digest;
  const std::string digest = sha256(input);
  uint64_t h = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    h = (h << 8) | static_cast<unsigned char>(digest[i]);
  }
  return h;
}

} // namespace

std::string ResourceSet::discoveryResponseJson() const {
  std::string out;
  std::size_t size = 128;
  for (const ResourceConstSharedPtr& r : resources) {
    size += r->json.size() + type_url.size() + 16;
  }
  out.reserve(size);
  out += R"({"version_info":")";
  out += version;
  out += R"(","type_url":")";
  out += type_url;
  out += R"(","resources":[)";
  bool first = true;
  for (const ResourceConstSharedPtr& r : resources) {
    if (!first) {
      out += ',';
    }
    first = false;
    // An Any: the message's fields after "@type" (the JSON always starts with '{').
    out += R"({"@type":")";
    out += type_url;
    out += '"';
    if (r->json.size() > 2) {
      out += ',';
    }
    out.append(r->json, 1);
  }
  out += "]}";
  return out;
}

void SnapshotBuilder::Index::add(const ResourceConstSharedPtr& r) {
  ResourceConstSharedPtr& slot = by_name[r->name];
  if (slot) {
    hash ^= resourceHash(*slot); // names are unique; never reached, but the hash stays right
  }
  slot = r;
  hash ^= resourceHash(*r);
}

void SnapshotBuilder::Index::remove(const ResourceConstSharedPtr& r) {
  if (auto it = by_name.find(r->name); it != by_name.end() && it->second == r) {
    by_name.erase(it);
    hash ^= resourceHash(*r);
  }
}

ResourceSet SnapshotBuilder::Index::set(std::string_view type_url) const {
  ResourceSet out;
  out.type_url = std::string(type_url);
  out.version = fmt::format("{:016x}", hash);
  out.resources.reserve(by_name.size());
  for (const auto& [name, r] : by_name) {
    out.resources.push_back(r);
  }
  return out;
}

SnapshotBuilder::SnapshotBuilder(RenderOptions options) : options_(std::move(options)) {}

void SnapshotBuilder::retire(const state::RouteKey& key, Entry& entry) {
  if (entry.cluster) {
    clusters_.remove(entry.cluster);
    listeners_.remove(entry.listener);
  }
  entry.cluster.reset();
  entry.listener.reset();
  if (!entry.claim) {
    return;
  }
  auto it = claims_.find(*entry.claim);
  entry.claim.reset();
  if (it == claims_.end()) {
    return;
  }
  const bool owned = !it->second.empty() && *it->second.begin() == key;
  it->second.erase(key);
  if (it->second.empty()) {
    claims_.erase(it);
  } else if (owned) {
    rerender_.push_back(*it->second.begin()); // the port is free for the next one
  }
}

void SnapshotBuilder::apply(const control::fx::ConfigureDataPlane& change) {
  auto unlink = [this](const state::RouteKey& key, const Entry& entry) {
    if (entry.route.kind != DataPlaneRoute::Kind::Egress) {
      return;
    }
    auto it = by_base_name_.find(entry.base_name);
    if (it == by_base_name_.end()) {
      return;
    }
    std::erase(it->second, key);
    if (it->second.empty()) {
      by_base_name_.erase(it);
    } else {
      for (const state::RouteKey& other : it->second) {
        dirty_.push_back(other); // may lose its suffix
      }
    }
  };
  for (const state::RouteKey& key : change.removals) {
    if (auto it = routes_.find(key); it != routes_.end()) {
      unlink(key, it->second);
      retire(key, it->second);
      routes_.erase(it);
    }
  }
  for (const DataPlaneRoute& route : change.upserts) {
    auto [it, added] = routes_.try_emplace(route.key);
    Entry& entry = it->second;
    if (!added) {
      if (entry.route == route) {
        continue;
      }
      unlink(route.key, entry);
    }
    entry.route = route;
    entry.dirty = true;
    dirty_.push_back(route.key);
    if (route.kind == DataPlaneRoute::Kind::Egress) {
      entry.base_name = fmt::format("{}_via_{}", route.key.name, route.next_hop_peer.value_or(""));
      auto& group = by_base_name_[entry.base_name];
      group.push_back(route.key);
      for (const state::RouteKey& other : group) {
        dirty_.push_back(other); // may gain a suffix
      }
    } else {
      entry.base_name = route.key.name;
    }
  }
}

void SnapshotBuilder::setSuffix(const state::RouteKey& key) {
  Entry& entry = routes_.at(key);
  std::string suffix;
  if (entry.route.kind == DataPlaneRoute::Kind::Egress) {
    auto it = by_base_name_.find(entry.base_name);
    if (it != by_base_name_.end() && it->second.size() > 1) {
      suffix = fmt::format("_from_{}", key.origin_node);
    }
  }
  if (suffix != entry.suffix) {
    entry.suffix = std::move(suffix);
    entry.dirty = true;
  }
}

void SnapshotBuilder::render(const state::RouteKey& key, Entry& entry) {
  retire(key, entry);
  entry.problem.reset();
  const DataPlaneRoute& route = entry.route;
  auto problem = [&](dataplane::ErrorReason reason, std::string message) {
    entry.problem = RouteProblem{key, reason, std::move(message)};
  };
  if (!route.listen_port || *route.listen_port == 0) {
    problem(dataplane::ErrorReason::NoListenPort, "no port was allocated for the route");
    return;
  }
  if (route.kind == DataPlaneRoute::Kind::Egress &&
      (!route.next_hop_peer || route.next_hop_peer->empty())) {
    problem(dataplane::ErrorReason::InvalidTarget, "the best path names no neighbour");
    return;
  }
  Result<dataplane::Target> target = dataplane::routeTarget(route);
  if (!target) {
    problem(dataplane::ErrorReason::InvalidTarget, target.error().message);
    return;
  }
  const PortSlot slot{route.protocol == state::Protocol::Udp, *route.listen_port};
  std::set<state::RouteKey>& claimants = claims_[slot];
  claimants.insert(key);
  entry.claim = slot;
  if (const state::RouteKey& owner = *claimants.begin(); owner != key) {
    problem(dataplane::ErrorReason::Bind, fmt::format("port {} is taken by route {} of {}",
                                                      slot.second, owner.name, owner.origin_node));
    return;
  }
  if (claimants.size() > 1) {
    rerender_.push_back(*std::next(claimants.begin())); // the previous owner gives it up
  }
  const bool ingress = route.kind == DataPlaneRoute::Kind::Ingress;
  const std::string stem = entry.base_name + entry.suffix;
  const std::string cluster_name = fmt::format("{}_{}", ingress ? "local" : "remote", stem);
  const std::string listener_name = fmt::format("{}_{}", ingress ? "ingress" : "egress", stem);
  entry.cluster = resource(cluster_name, cluster(cluster_name, route, *target, options_));
  entry.listener = resource(
      listener_name, listener(listener_name, cluster_name, route, *route.listen_port, options_));
  clusters_.add(entry.cluster);
  listeners_.add(entry.listener);
}

Snapshot SnapshotBuilder::build() {
  std::sort(dirty_.begin(), dirty_.end());
  dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
  for (const state::RouteKey& key : dirty_) {
    if (routes_.contains(key)) {
      setSuffix(key);
    }
  }
  dirty_.clear();
  for (auto& [key, entry] : routes_) {
    if (entry.dirty) {
      render(key, entry);
      entry.dirty = false;
    }
  }
  // Routes whose port changed hands meanwhile (each round settles one claimant per port).
  while (!rerender_.empty()) {
    std::vector<state::RouteKey> keys;
    keys.swap(rerender_);
    for (const state::RouteKey& key : keys) {
      if (auto it = routes_.find(key); it != routes_.end()) {
        render(key, it->second);
      }
    }
  }
  Snapshot snapshot;
  for (const auto& [key, entry] : routes_) {
    if (entry.problem) {
      snapshot.problems.push_back(*entry.problem);
    }
  }
  snapshot.clusters = clusters_.set(kClusterTypeUrl);
  snapshot.listeners = listeners_.set(kListenerTypeUrl);
  return snapshot;
}

Snapshot render(const std::vector<DataPlaneRoute>& routes, const RenderOptions& options) {
  SnapshotBuilder builder(options);
  builder.apply(control::fx::ConfigureDataPlane{routes, {}});
  return builder.build();
}

} // namespace catalyst::envoy
