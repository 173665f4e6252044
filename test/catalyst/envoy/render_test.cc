#include <algorithm>
#include <random>
#include <set>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalyst/envoy/api_schema.h"
#include "catalyst/envoy/render.h"

#include "envoy_check.h"

namespace catalyst::envoy {
namespace {

namespace json = boost::json;
using control::fx::ConfigureDataPlane;
using control::fx::DataPlaneRoute;
using envoy::testing::checkSnapshot;
using envoy::testing::compareGolden;
using envoy::testing::endpointOf;
using envoy::testing::pretty;
using state::Protocol;

DataPlaneRoute ingress(std::string name, Protocol protocol, std::optional<uint16_t> port,
                       std::string endpoint, std::string self = "node-a") {
  DataPlaneRoute r;
  r.kind = DataPlaneRoute::Kind::Ingress;
  r.key = {std::move(name), std::move(self)};
  r.protocol = protocol;
  r.listen_port = port;
  r.service_endpoint = std::move(endpoint);
  return r;
}

DataPlaneRoute egress(std::string name, std::string origin, Protocol protocol,
                      std::optional<uint16_t> port, std::string address, uint16_t next_port,
                      std::string peer) {
  DataPlaneRoute r;
  r.kind = DataPlaneRoute::Kind::Egress;
  r.key = {std::move(name), std::move(origin)};
  r.protocol = protocol;
  r.listen_port = port;
  r.next_hop_address = std::move(address);
  r.next_hop_port = next_port;
  r.next_hop_peer = std::move(peer);
  return r;
}

// A site publishing one route of every protocol (IP and DNS targets).
std::vector<DataPlaneRoute> originRoutes() {
  return {ingress("books", Protocol::Http, 10001, "http://127.0.0.1:8080"),
          ingress("chat", Protocol::HttpGraphql, 10002, "http://chat.internal:4000/graphql"),
          ingress("search", Protocol::HttpGql, 10003, "https://search.internal"),
          ingress("orders", Protocol::HttpGrpc, 10004, "10.0.0.5:50051"),
          ingress("zenoh", Protocol::Tcp, 10005, "tcp://[::1]:7447"),
          ingress("dns", Protocol::Udp, 10006, "udp://127.0.0.1:5353")};
}

// B between A and C: A's routes learned (egress to A's ports) and one of its own.
std::vector<DataPlaneRoute> transitRoutes() {
  return {egress("books", "node-a", Protocol::Http, 20001, "10.0.0.1", 10001, "node-a"),
          egress("orders", "node-a", Protocol::HttpGrpc, 20002, "10.0.0.1", 10004, "node-a"),
          egress("zenoh", "node-a", Protocol::Tcp, 20003, "node-a.example.net", 10005, "node-a"),
          egress("dns", "node-a", Protocol::Udp, 20004, "10.0.0.1", 10006, "node-a"),
          ingress("inventory", Protocol::Http, 20005, "http://127.0.0.1:9000", "node-b")};
}

RenderOptions tlsOptions() {
  RenderOptions o;
  o.tls = TlsFiles{"/etc/catalyst/tls/node.crt", "/etc/catalyst/tls/node.key",
                   "/etc/catalyst/tls/peers-ca.crt"};
  return o;
}

json::object listenerNamed(const Snapshot& s, std::string_view name) {
  for (const ResourceConstSharedPtr& r : s.listeners.resources) {
    if (r->name == name) {
      return json::parse(r->json).as_object();
    }
  }
  ADD_FAILURE() << "no listener " << name;
  return {};
}

json::object clusterNamed(const Snapshot& s, std::string_view name) {
  for (const ResourceConstSharedPtr& r : s.clusters.resources) {
    if (r->name == name) {
      return json::parse(r->json).as_object();
    }
  }
  ADD_FAILURE() << "no cluster " << name;
  return {};
}

std::vector<std::string> names(const ResourceSet& set) {
  std::vector<std::string> out;
  for (const ResourceConstSharedPtr& r : set.resources) {
    out.push_back(r->name);
  }
  return out;
}

TEST(RenderTest, EveryProtocolAtTheOriginPassesEnvoysProtos) {
  for (const RenderOptions& options : {RenderOptions{}, tlsOptions()}) {
    const Snapshot s = render(originRoutes(), options);
    EXPECT_TRUE(s.problems.empty());
    EXPECT_EQ(names(s.listeners),
              (std::vector<std::string>{"ingress_books", "ingress_chat", "ingress_dns",
                                        "ingress_orders", "ingress_search", "ingress_zenoh"}));
    EXPECT_EQ(names(s.clusters),
              (std::vector<std::string>{"local_books", "local_chat", "local_dns", "local_orders",
                                        "local_search", "local_zenoh"}));
    Status st = checkSnapshot(s);
    EXPECT_TRUE(st) << st.error().message;
  }
}

TEST(RenderTest, TransitAndLearnedRoutesPassEnvoysProtos) {
  for (const RenderOptions& options : {RenderOptions{}, tlsOptions()}) {
    const Snapshot s = render(transitRoutes(), options);
    EXPECT_TRUE(s.problems.empty());
    EXPECT_EQ(names(s.listeners),
              (std::vector<std::string>{"egress_books_via_node-a", "egress_dns_via_node-a",
                                        "egress_orders_via_node-a", "egress_zenoh_via_node-a",
                                        "ingress_inventory"}));
    Status st = checkSnapshot(s);
    EXPECT_TRUE(st) << st.error().message;
  }
}

TEST(RenderTest, ProtocolShapes) {
  const Snapshot s = render(originRoutes(), {});
  auto filter = [&](std::string_view listener) {
    return listenerNamed(s, listener)
        .at("filter_chains")
        .at(0)
        .at("filters")
        .at(0)
        .at("typed_config")
        .as_object();
  };
  auto routeAction = [&](std::string_view listener) {
    return filter(listener)
        .at("route_config")
        .at("virtual_hosts")
        .at(0)
        .at("routes")
        .at(0)
        .at("route")
        .as_object();
  };
  // Plain HTTP: the default route timeout stays.
  EXPECT_FALSE(routeAction("ingress_books").contains("timeout"));
  EXPECT_EQ(routeAction("ingress_books").at("cluster"), "local_books");
  // GraphQL: websocket upgrades, no route timeout.
  EXPECT_EQ(filter("ingress_chat").at("upgrade_configs").at(0).at("upgrade_type"), "websocket");
  EXPECT_EQ(routeAction("ingress_chat").at("timeout"), "0s");
  EXPECT_EQ(routeAction("ingress_search").at("timeout"), "0s");
  // gRPC: HTTP/2 downstream and upstream, no route timeout.
  EXPECT_EQ(filter("ingress_orders").at("codec_type"), "HTTP2");
  EXPECT_EQ(routeAction("ingress_orders").at("timeout"), "0s");
  EXPECT_TRUE(clusterNamed(s, "local_orders")
                  .at("typed_extension_protocol_options")
                  .at("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
                  .at("explicit_http_config")
                  .as_object()
                  .contains("http2_protocol_options"));
  // TCP: tcp_proxy.
  EXPECT_EQ(filter("ingress_zenoh").at("cluster"), "local_zenoh");
  // UDP: a UDP listener with udp_proxy, no filter chains.
  const json::object dns = listenerNamed(s, "ingress_dns");
  EXPECT_EQ(dns.at("address").at("socket_address").at("protocol"), "UDP");
  EXPECT_FALSE(dns.contains("filter_chains"));
  // Targets: IP literals are STATIC, names STRICT_DNS; ports from the endpoint or the scheme.
  EXPECT_EQ(clusterNamed(s, "local_books").at("type"), "STATIC");
  EXPECT_EQ(clusterNamed(s, "local_chat").at("type"), "STRICT_DNS");
  auto endpoint = [&](std::string_view cluster) { return endpointOf(clusterNamed(s, cluster)); };
  EXPECT_EQ(endpoint("local_search").at("port_value"), 443);
  EXPECT_EQ(endpoint("local_zenoh").at("address"), "::1");
  EXPECT_EQ(listenerNamed(s, "ingress_books").at("address").at("socket_address").at("port_value"),
            10001);
}

TEST(RenderTest, EgressGoesToTheAddressAndPortTheNeighbourAdvertised) {
  const Snapshot s = render(transitRoutes(), {});
  const json::object books = clusterNamed(s, "remote_books_via_node-a");
  const json::object address = endpointOf(books);
  EXPECT_EQ(address.at("address"), "10.0.0.1");
  EXPECT_EQ(address.at("port_value"), 10001); // the neighbour's port, not ours (20001)
  EXPECT_EQ(listenerNamed(s, "egress_books_via_node-a")
                .at("address")
                .at("socket_address")
                .at("port_value"),
            20001);
  EXPECT_EQ(clusterNamed(s, "remote_zenoh_via_node-a").at("type"), "STRICT_DNS");
}

TEST(RenderTest, TlsOnPeerFacingListenersAndClusters) {
  const Snapshot s = render(transitRoutes(), tlsOptions());
  // Ingress: one chain, mTLS required.
  const json::object inventory = listenerNamed(s, "ingress_inventory");
  const json::array& in = inventory.at("filter_chains").as_array();
  ASSERT_EQ(in.size(), 1U);
  EXPECT_EQ(in.at(0).at("transport_socket").at("typed_config").at("require_client_certificate"),
            true);
  // Egress: mTLS from peers (tls_inspector), plain for local clients.
  const json::object out = listenerNamed(s, "egress_books_via_node-a");
  EXPECT_EQ(out.at("listener_filters").at(0).at("name"), "envoy.filters.listener.tls_inspector");
  ASSERT_EQ(out.at("filter_chains").as_array().size(), 2U);
  EXPECT_EQ(out.at("filter_chains").at(0).at("filter_chain_match").at("transport_protocol"), "tls");
  EXPECT_FALSE(out.at("filter_chains").at(1).as_object().contains("transport_socket"));
  // Remote clusters dial with mTLS (SNI when the next hop is a name); local clusters do not.
  EXPECT_TRUE(clusterNamed(s, "remote_books_via_node-a").contains("transport_socket"));
  EXPECT_EQ(clusterNamed(s, "remote_zenoh_via_node-a")
                .at("transport_socket")
                .at("typed_config")
                .at("sni"),
            "node-a.example.net");
  EXPECT_FALSE(clusterNamed(s, "local_inventory").contains("transport_socket"));
  // No TLS for UDP.
  EXPECT_FALSE(clusterNamed(s, "remote_dns_via_node-a").contains("transport_socket"));
}

// The check is real: a rendered resource with one mistake fails it.
TEST(RenderTest, TheProtoCheckCatchesMistakesInRenderedResources) {
  const Snapshot good = render(originRoutes(), {});
  ASSERT_TRUE(checkSnapshot(good));
  auto broken = [&](std::string_view from, std::string_view to) {
    Snapshot s = good;
    bool replaced = false;
    for (ResourceSet* set : {&s.clusters, &s.listeners}) {
      for (ResourceConstSharedPtr& r : set->resources) {
        if (auto at = r->json.find(from); at != std::string::npos && !replaced) {
          auto copy = std::make_shared<Resource>(*r);
          copy->json.replace(at, from.size(), to);
          r = std::move(copy);
          replaced = true;
        }
      }
    }
    EXPECT_TRUE(replaced) << from;
    return checkSnapshot(s);
  };
  EXPECT_FALSE(broken(R"("connect_timeout")", R"("conect_timeout")"));         // unknown field
  EXPECT_FALSE(broken(R"("ROUND_ROBIN")", R"("ROUND_ROBIM")"));                // bad enum value
  EXPECT_FALSE(broken("v3.HttpConnectionManager", "v3.HtpConnectionManager")); // bad @type
  EXPECT_FALSE(broken(R"("cluster":"local_zenoh")", R"("cluster":"local_zenoh2")")); // dangling
}

TEST(RenderTest, DeterministicWhateverTheInputOrder) {
  std::vector<DataPlaneRoute> routes = transitRoutes();
  for (DataPlaneRoute& r : originRoutes()) {
    r.key.name = "o-" + r.key.name;
    r.listen_port = static_cast<uint16_t>(*r.listen_port + 1000);
    routes.push_back(r);
  }
  const Snapshot a = render(routes, {});
  std::mt19937 rng(7);
  for (int i = 0; i < 5; ++i) {
    std::shuffle(routes.begin(), routes.end(), rng);
    const Snapshot b = render(routes, {});
    EXPECT_EQ(a.clusters.discoveryResponseJson(), b.clusters.discoveryResponseJson());
    EXPECT_EQ(a.listeners.discoveryResponseJson(), b.listeners.discoveryResponseJson());
  }
}

TEST(RenderTest, VersionsFollowTheContentOfEachType) {
  std::vector<DataPlaneRoute> routes = transitRoutes();
  const Snapshot before = render(routes, {});
  EXPECT_EQ(before.clusters.version.size(), 16U);
  EXPECT_NE(before.clusters.version, before.listeners.version);
  // A new next hop port changes the cluster only.
  routes.at(0).next_hop_port = 10009;
  const Snapshot moved = render(routes, {});
  EXPECT_NE(moved.clusters.version, before.clusters.version);
  EXPECT_EQ(moved.listeners.version, before.listeners.version);
  // A new listen port changes the listener only.
  routes.at(0).listen_port = 20009;
  const Snapshot relisten = render(routes, {});
  EXPECT_EQ(relisten.clusters.version, moved.clusters.version);
  EXPECT_NE(relisten.listeners.version, moved.listeners.version);
  // Back to the start: the first versions again.
  routes = transitRoutes();
  EXPECT_EQ(render(routes, {}).clusters.version, before.clusters.version);
  EXPECT_EQ(render(routes, {}).listeners.version, before.listeners.version);
}

TEST(RenderTest, TwoOriginsOfOneNameViaOneNeighbourGetTheirOriginInTheName) {
  SnapshotBuilder builder({});
  builder.apply(ConfigureDataPlane{
      {egress("books", "node-a", Protocol::Http, 20001, "10.0.0.2", 10001, "node-b")}, {}});
  EXPECT_EQ(names(builder.build().listeners), std::vector<std::string>{"egress_books_via_node-b"});
  builder.apply(ConfigureDataPlane{
      {egress("books", "node-x", Protocol::Http, 20002, "10.0.0.2", 10002, "node-b")}, {}});
  const Snapshot both = builder.build();
  EXPECT_EQ(names(both.listeners),
            (std::vector<std::string>{"egress_books_via_node-b_from_node-a",
                                      "egress_books_via_node-b_from_node-x"}));
  EXPECT_TRUE(checkSnapshot(both));
  builder.apply(ConfigureDataPlane{{}, {{"books", "node-a"}}});
  EXPECT_EQ(names(builder.build().listeners), std::vector<std::string>{"egress_books_via_node-b"});
}

TEST(RenderTest, RoutesThatCannotBeRenderedAreLeftOutAndNamed) {
  std::vector<DataPlaneRoute> routes = {
      ingress("noport", Protocol::Http, std::nullopt, "http://127.0.0.1:1"),
      ingress("badtarget", Protocol::Tcp, 10001, "tcp://bad host:1"),
      egress("nohop", "node-a", Protocol::Tcp, 10002, "", 0, "node-a"),
      egress("nopeer", "node-a", Protocol::Tcp, 10003, "10.0.0.1", 1, ""),
      ingress("fine", Protocol::Tcp, 10004, "tcp://127.0.0.1:7")};
  const Snapshot s = render(routes, {});
  EXPECT_EQ(names(s.listeners), std::vector<std::string>{"ingress_fine"});
  ASSERT_EQ(s.problems.size(), 4U);
  EXPECT_EQ(s.problems.at(0).key.name, "badtarget");
  EXPECT_EQ(s.problems.at(0).reason, dataplane::ErrorReason::InvalidTarget);
  EXPECT_EQ(s.problems.at(3).key.name, "noport");
  EXPECT_EQ(s.problems.at(3).reason, dataplane::ErrorReason::NoListenPort);
  EXPECT_TRUE(checkSnapshot(s));
}

// Two routes never get one port (Envoy would refuse the second listener): the smallest route
// key has it, whatever the order of the changes, and the other one is shown as a `bind` problem
// until the port is free.
TEST(RenderTest, TwoRoutesOnOnePortOnlyTheFirstKeyGetsIt) {
  const DataPlaneRoute a = ingress("aaa", Protocol::Tcp, 10001, "tcp://127.0.0.1:1");
  const DataPlaneRoute b = ingress("bbb", Protocol::Tcp, 10001, "tcp://127.0.0.1:2");
  const DataPlaneRoute udp = ingress("ccc", Protocol::Udp, 10001, "udp://127.0.0.1:3");
  for (const auto& order : {std::vector<DataPlaneRoute>{a, b, udp}, {udp, b, a}}) {
    SnapshotBuilder builder({});
    for (const DataPlaneRoute& r : order) {
      builder.apply(ConfigureDataPlane{{r}, {}});
      (void)builder.build(); // one change at a time
    }
    const Snapshot s = builder.build();
    // UDP 10001 and TCP 10001 are different sockets.
    EXPECT_EQ(names(s.listeners), (std::vector<std::string>{"ingress_aaa", "ingress_ccc"}));
    ASSERT_EQ(s.problems.size(), 1U);
    EXPECT_EQ(s.problems.at(0).key.name, "bbb");
    EXPECT_EQ(s.problems.at(0).reason, dataplane::ErrorReason::Bind);
    EXPECT_EQ(s.problems.at(0).message, "port 10001 is taken by route aaa of node-a");
    EXPECT_TRUE(checkSnapshot(s));
    // The port is free again: the other route gets it.
    builder.apply(ConfigureDataPlane{{}, {a.key}});
    const Snapshot after = builder.build();
    EXPECT_EQ(names(after.listeners), (std::vector<std::string>{"ingress_bbb", "ingress_ccc"}));
    EXPECT_TRUE(after.problems.empty());
    // And the same table rendered from scratch is the same.
    EXPECT_EQ(after.listeners.discoveryResponseJson(),
              render({b, udp}, {}).listeners.discoveryResponseJson());
  }
}

// Random changes applied one by one give what rendering the final table from scratch gives.
TEST(RenderTest, IncrementalBuildsEqualRenderingFromScratch) {
  std::mt19937 rng(42);
  SnapshotBuilder builder({});
  std::map<state::RouteKey, DataPlaneRoute> table;
  const std::vector<std::string> peers = {"node-a", "node-b"};
  for (int round = 0; round < 60; ++round) {
    // Random operations on the table; the effect carries each touched route's final state.
    std::set<state::RouteKey> touched;
    for (int i = 0; i < 5; ++i) {
      const std::string name = "svc" + std::to_string(rng() % 8);
      const std::string origin = "origin" + std::to_string(rng() % 3);
      const state::RouteKey key{name, origin};
      touched.insert(key);
      if (rng() % 4 == 0) {
        table.erase(key);
      } else {
        table[key] = egress(name, origin, rng() % 2 ? Protocol::Tcp : Protocol::Http,
                            static_cast<uint16_t>(20000 + rng() % 12), "10.0.0.1",
                            static_cast<uint16_t>(10000 + rng() % 50), peers.at(rng() % 2));
      }
    }
    ConfigureDataPlane change;
    for (const state::RouteKey& key : touched) {
      if (auto it = table.find(key); it != table.end()) {
        change.upserts.push_back(it->second);
      } else {
        change.removals.push_back(key);
      }
    }
    builder.apply(change);
    if (round % 7 == 0) {
      continue; // several changes between builds too
    }
    std::vector<DataPlaneRoute> all;
    for (const auto& [key, r] : table) {
      all.push_back(r);
    }
    const Snapshot incremental = builder.build();
    const Snapshot scratch = render(all, {});
    ASSERT_EQ(incremental.listeners.discoveryResponseJson(),
              scratch.listeners.discoveryResponseJson())
        << "round " << round;
    ASSERT_EQ(incremental.clusters.discoveryResponseJson(),
              scratch.clusters.discoveryResponseJson())
        << "round " << round;
  }
}

// The xDS server encodes with ApiSchema::encode (reflection); it must give the very message
// protobuf's own JSON parser gives, for everything the renderer writes. Compared in canonical
// form (the byte order of the two encodings may differ).
TEST(RenderTest, TheFastEncoderAgreesWithProtobufsParser) {
  const ApiSchema& api = envoy::testing::schema();
  std::size_t compared = 0;
  for (const RenderOptions& options : {RenderOptions{}, tlsOptions()}) {
    std::vector<DataPlaneRoute> all = transitRoutes();
    for (DataPlaneRoute& r : originRoutes()) {
      r.key.name = "o-" + r.key.name;
      r.listen_port = static_cast<uint16_t>(*r.listen_port + 1000);
      all.push_back(r);
    }
    const Snapshot s = render(all, options);
    for (const ResourceSet* set : {&s.clusters, &s.listeners}) {
      for (const ResourceConstSharedPtr& r : set->resources) {
        Result<std::string> fast = api.encode(set->type_url, r->json);
        Result<std::string> slow = api.toBinary(set->type_url, r->json);
        ASSERT_TRUE(fast && slow) << r->name;
        EXPECT_EQ(*api.canonical(set->type_url, *fast), *api.canonical(set->type_url, *slow))
            << r->name;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 44U);
  // Where the fast path does not apply, or the JSON is wrong, the answer is protobuf's.
  Result<std::string> bad = api.encode(kClusterTypeUrl, R"({"name":"c","conect_timeout":"5s"})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("conect_timeout"), std::string::npos);
  EXPECT_FALSE(api.encode(kClusterTypeUrl, R"({"name":"c","type":"STATICC"})"));
  EXPECT_FALSE(api.encode(kClusterTypeUrl, "not json"));
  const std::string with_struct =
      R"({"name":"c","metadata":{"filter_metadata":{"x":{"k":"v","n":1}}}})";
  Result<std::string> fallback = api.encode(kClusterTypeUrl, with_struct);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(*api.canonical(kClusterTypeUrl, *fallback),
            *api.canonical(kClusterTypeUrl, *api.toBinary(kClusterTypeUrl, with_struct)));
}

struct GoldenCase {
  std::string name;
  std::vector<DataPlaneRoute> routes;
  RenderOptions options;
};

TEST(RenderTest, GoldenFiles) {
  const std::vector<GoldenCase> cases = {
      {"origin", originRoutes(), {}},
      {"transit", transitRoutes(), {}},
      {"transit-tls", transitRoutes(), tlsOptions()},
  };
  for (const GoldenCase& c : cases) {
    const Snapshot s = render(c.routes, c.options);
    ASSERT_TRUE(checkSnapshot(s)) << c.name;
    EXPECT_EQ(compareGolden(c.name + ".cds.json", pretty(s.clusters.discoveryResponseJson())), "");
    EXPECT_EQ(compareGolden(c.name + ".lds.json", pretty(s.listeners.discoveryResponseJson())), "");
  }
}

} // namespace
} // namespace catalyst::envoy
