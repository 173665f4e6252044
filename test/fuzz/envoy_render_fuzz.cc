// Fuzz target: the Envoy renderer (envoy/render.h). Whatever routes reach it (names and node ids
// as the control plane validates them; endpoints, next hops and ports as anyone may send them),
// it must not crash, and everything it renders must be valid Envoy configuration: every
// cluster, listener and DiscoveryResponse passes the strict check against Envoy's real protos,
// names are unique and every listener's cluster exists (envoy_check.h). The xDS server's fast
// encoder (ApiSchema::encode) gives the same message as protobuf's JSON parser. Rendering the
// same routes again, in reverse order, gives the same bytes.
//
// Input: lines, six per route: kind ("i" ingress, else egress), protocol (a digit: 0 http,
// 1 http:graphql, 2 http:gql, 3 http:grpc, 4 tcp, 5 udp), name, origin node, endpoint (ingress)
// or next-hop address (egress), port ("listen_port,next_hop_port"). Egress routes come via the
// neighbour "node-n<digit of the protocol line>". At most 16 routes; a leading "T" line turns TLS
// on.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/common/assert.h"
#include "catalyst/envoy/api_schema.h"
#include "catalyst/envoy/render.h"
#include "catalyst/state/route.h"

#include "envoy_check.h"

namespace {

using catalyst::control::fx::DataPlaneRoute;

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty() && out.size() < 1 + 16 * 6) {
    const auto end = text.find('\n');
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 1);
  }
  return out;
}

std::optional<uint16_t> number(std::string_view text) {
  if (text.empty() || text.size() > 5) {
    return std::nullopt;
  }
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value <= 65535 ? std::optional<uint16_t>(static_cast<uint16_t>(value)) : std::nullopt;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace catalyst;
  std::vector<std::string_view> in =
      lines(std::string_view(reinterpret_cast<const char*>(data), size));
  envoy::RenderOptions options;
  std::size_t at = 0;
  if (!in.empty() && in.front() == "T") {
    options.tls = envoy::TlsFiles{"/etc/c.crt", "/etc/c.key", "/etc/ca.crt"};
    at = 1;
  }
  std::vector<DataPlaneRoute> routes;
  for (; at + 6 <= in.size(); at += 6) {
    DataPlaneRoute r;
    r.kind = in[at] == "i" ? DataPlaneRoute::Kind::Ingress : DataPlaneRoute::Kind::Egress;
    const char p = in[at + 1].empty() ? '0' : in[at + 1].front();
    static constexpr state::Protocol kProtocols[] = {
        state::Protocol::Http,     state::Protocol::HttpGraphql, state::Protocol::HttpGql,
        state::Protocol::HttpGrpc, state::Protocol::Tcp,         state::Protocol::Udp};
    r.protocol = kProtocols[static_cast<unsigned char>(p) % 6];
    r.key = {std::string(in[at + 2]), std::string(in[at + 3])};
    // The control plane only lets valid names through.
    if (!state::validateName(r.key.name) || !state::validateName(r.key.origin_node)) {
      continue;
    }
    const std::string_view ports = in[at + 5];
    const auto comma = ports.find(',');
    r.listen_port = number(ports.substr(0, comma));
    if (r.kind == DataPlaneRoute::Kind::Ingress) {
      r.service_endpoint = std::string(in[at + 4]);
    } else {
      r.next_hop_address = std::string(in[at + 4]);
      if (comma != std::string_view::npos) {
        r.next_hop_port = number(ports.substr(comma + 1));
      }
      r.next_hop_peer = "node-n" + std::string(1, static_cast<char>('0' + p % 10));
    }
    routes.push_back(std::move(r));
  }
  const envoy::Snapshot snapshot = envoy::render(routes, options);
  const Status valid = envoy::testing::checkSnapshot(snapshot);
  CATALYST_RELEASE_ASSERT(valid.has_value(), "rendered configuration is valid Envoy config");
  // The xDS server's fast encoder gives the message protobuf's parser gives.
  const envoy::ApiSchema& api = envoy::testing::schema();
  for (const envoy::ResourceSet* set : {&snapshot.clusters, &snapshot.listeners}) {
    for (const envoy::ResourceConstSharedPtr& r : set->resources) {
      const Result<std::string> fast = api.encode(set->type_url, r->json);
      const Result<std::string> slow = api.toBinary(set->type_url, r->json);
      CATALYST_RELEASE_ASSERT(fast && slow &&
                                  *api.canonical(set->type_url, *fast) ==
                                      *api.canonical(set->type_url, *slow),
                              "the fast encoder agrees with protobuf's JSON parser");
    }
  }
  std::vector<DataPlaneRoute> reversed(routes.rbegin(), routes.rend());
  // Two routes with one key: the last one wins, so only distinct keys are order-free.
  std::set<state::RouteKey> keys;
  for (const DataPlaneRoute& r : routes) {
    keys.insert(r.key);
  }
  if (keys.size() == routes.size()) {
    const envoy::Snapshot again = envoy::render(reversed, options);
    CATALYST_RELEASE_ASSERT(
        again.listeners.discoveryResponseJson() == snapshot.listeners.discoveryResponseJson() &&
            again.clusters.discoveryResponseJson() == snapshot.clusters.discoveryResponseJson(),
        "rendering does not depend on the order of the routes");
  }
  return 0;
}
