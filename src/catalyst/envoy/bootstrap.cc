#include "catalyst/envoy/bootstrap.h"

#include <array>

#include <arpa/inet.h>
#include <boost/json.hpp>

namespace catalyst::envoy {

namespace json = boost::json;

namespace {

json::object socketAddress(const std::string& address, uint16_t port) {
  return json::object{{"socket_address", {{"address", address}, {"port_value", port}}}};
}

std::string dialable(const std::string& address) {
  if (address == "0.0.0.0") {
    return "127.0.0.1";
  }
  if (address == "::" || address == "[::]") {
    return "::1";
  }
  return address;
}

bool isIpLiteral(const std::string& host) {
  std::array<unsigned char, 16> buf{};
  return inet_pton(AF_INET, host.c_str(), buf.data()) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buf.data()) == 1;
}

json::object configSource(json::object how) {
  how["resource_api_version"] = "V3";
  return how;
}

} // namespace

std::string renderBootstrap(const BootstrapOptions& options) {
  json::object bootstrap;
  bootstrap["node"] = json::object{{"id", options.node_id}, {"cluster", options.cluster}};
  bootstrap["admin"] =
      json::object{{"address", socketAddress(options.admin_address, options.admin_port)}};
  json::object dynamic;
  if (options.source == BootstrapOptions::Source::Files) {
    // Envoy reloads a path config source when a file is moved onto the path (rename(2)), which
    // is how the node replaces them.
    auto file = [&](const char* name) {
      return configSource({{"path_config_source", {{"path", options.files_dir + "/" + name}}}});
    };
    dynamic["cds_config"] = file("cds.json");
    dynamic["lds_config"] = file("lds.json");
    bootstrap["dynamic_resources"] = std::move(dynamic);
    return json::serialize(bootstrap);
  }
  dynamic["cds_config"] = configSource({{"ads", json::object{}}});
  dynamic["lds_config"] = configSource({{"ads", json::object{}}});
  dynamic["ads_config"] =
      json::object{{"api_type", "GRPC"},
                   {"transport_api_version", "V3"},
                   {"grpc_services",
                    json::array{json::object{{"envoy_grpc", {{"cluster_name", "xds_cluster"}}}}}}};
  bootstrap["dynamic_resources"] = std::move(dynamic);
  const std::string host = dialable(options.xds_address);
  json::object xds;
  xds["name"] = "xds_cluster";
  xds["type"] = isIpLiteral(host) ? "STATIC" : "STRICT_DNS";
  xds["connect_timeout"] = "5s";
  // gRPC needs HTTP/2 to the xDS server.
  xds["typed_extension_protocol_options"] = json::object{
      {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
       {{"@type", "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"},
        {"explicit_http_config", {{"http2_protocol_options", json::object{}}}}}}};
  xds["load_assignment"] = json::object{
      {"cluster_name", "xds_cluster"},
      {"endpoints",
       json::array{json::object{
           {"lb_endpoints",
            json::array{json::object{
                {"endpoint", {{"address", socketAddress(host, options.xds_port)}}}}}}}}}};
  bootstrap["static_resources"] = json::object{{"clusters", json::array{std::move(xds)}}};
  return json::serialize(bootstrap);
}

} // namespace catalyst::envoy
