#include "envoy_check.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace catalyst::envoy::testing {

namespace json = boost::json;

const ApiSchema& schema() {
  // A function-local static: tests only, and one schema serves every test of the binary.
  static const ApiSchema loaded = [] {
    Result<ApiSchema> s = ApiSchema::load();
    if (!s) {
      std::abort();
    }
    return std::move(*s);
  }();
  return loaded;
}

namespace {

// The clusters a listener sends to: tcp_proxy's and udp_proxy's `cluster`, the HCM routes'.
void collectClusters(const json::value& v, std::set<std::string>& out) {
  if (const json::object* o = v.if_object()) {
    for (const auto& [key, value] : *o) {
      if (key == "cluster" && value.is_string()) {
        out.insert(std::string(value.as_string()));
      } else {
        collectClusters(value, out);
      }
    }
  } else if (const json::array* a = v.if_array()) {
    for (const json::value& e : *a) {
      collectClusters(e, out);
    }
  }
}

} // namespace

Status checkSnapshot(const Snapshot& snapshot) {
  std::set<std::string> clusters;
  for (const ResourceConstSharedPtr& cp : snapshot.clusters.resources) {
    const Resource& c = *cp;
    if (auto st = schema().check(kClusterTypeUrl, c.json); !st) {
      return st;
    }
    if (!clusters.insert(c.name).second) {
      return invalidArgument("duplicate cluster " + c.name);
    }
    if (json::parse(c.json).at("name").as_string() != c.name) {
      return invalidArgument("cluster " + c.name + " carries another name");
    }
  }
  std::set<std::string> listeners;
  std::set<std::string> addresses;
  for (const ResourceConstSharedPtr& lp : snapshot.listeners.resources) {
    const Resource& l = *lp;
    if (auto st = schema().check(kListenerTypeUrl, l.json); !st) {
      return st;
    }
    if (!listeners.insert(l.name).second) {
      return invalidArgument("duplicate listener " + l.name);
    }
    const json::value v = json::parse(l.json);
    if (v.at("name").as_string() != l.name) {
      return invalidArgument("listener " + l.name + " carries another name");
    }
    const json::object& address = v.at("address").at("socket_address").as_object();
    const int64_t port = address.at("port_value").to_number<int64_t>();
    if (port < 1 || port > 65535) {
      return invalidArgument(fmt::format("listener {}: port {}", l.name, port));
    }
    const std::string protocol =
        address.contains("protocol") ? std::string(address.at("protocol").as_string()) : "TCP";
    if (!addresses
             .insert(fmt::format("{}/{}:{}", protocol, address.at("address").as_string(), port))
             .second) {
      return invalidArgument("two listeners on the address of " + l.name);
    }
    std::set<std::string> used;
    collectClusters(v, used);
    if (used.empty()) {
      return invalidArgument("listener " + l.name + " sends nowhere");
    }
    for (const std::string& c : used) {
      if (!clusters.contains(c)) {
        return invalidArgument("listener " + l.name + " sends to a missing cluster " + c);
      }
    }
  }
  for (const ResourceSet* set : {&snapshot.clusters, &snapshot.listeners}) {
    if (auto st = schema().check("envoy.service.discovery.v3.DiscoveryResponse",
                                 set->discoveryResponseJson());
        !st) {
      return st;
    }
  }
  return {};
}

namespace {

void prettyInto(const json::value& v, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (const json::object* o = v.if_object()) {
    if (o->empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& [key, value] : *o) {
      out += first ? "" : ",\n";
      first = false;
      out += inner + json::serialize(json::string(key)) + ": ";
      prettyInto(value, out, indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (const json::array* a = v.if_array()) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const json::value& e : *a) {
      out += first ? "" : ",\n";
      first = false;
      out += inner;
      prettyInto(e, out, indent + 1);
    }
    out += "\n" + pad + "]";
  } else {
    out += json::serialize(v);
  }
}

} // namespace

json::object endpointOf(const json::value& cluster) {
  return cluster.at("load_assignment")
      .at("endpoints")
      .at(0)
      .at("lb_endpoints")
      .at(0)
      .at("endpoint")
      .at("address")
      .at("socket_address")
      .as_object();
}

std::string pretty(std::string_view text) {
  std::string out;
  prettyInto(json::parse(text), out, 0);
  out += '\n';
  return out;
}

std::string compareGolden(const std::string& name, const std::string& text) {
  const std::string path = fmt::format("{}/{}", CATALYST_ENVOY_GOLDEN_DIR, name);
  const char* update = std::getenv("CATALYST_UPDATE_GOLDEN");
  if (update != nullptr && std::string_view(update) == "1") {
    std::ofstream(path, std::ios::binary) << text;
    return "";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fmt::format("{} is missing (CATALYST_UPDATE_GOLDEN=1 writes it)", path);
  }
  std::stringstream want;
  want << in.rdbuf();
  if (want.str() == text) {
    return "";
  }
  return fmt::format("{} differs from the output:\n{}", path, text);
}

} // namespace catalyst::envoy::testing
