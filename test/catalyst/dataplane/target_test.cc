#include <gtest/gtest.h>

#include "catalyst/dataplane/target.h"

namespace catalyst::dataplane {
namespace {

using control::fx::DataPlaneRoute;

Target parsed(std::string_view endpoint) {
  Result<Target> t = parseServiceEndpoint(endpoint);
  EXPECT_TRUE(t) << endpoint << ": " << (t ? "" : t.error().message);
  return t ? *t : Target{};
}

TEST(TargetTest, ServiceEndpoints) {
  EXPECT_EQ(parsed("http://127.0.0.1:8080"), (Target{"127.0.0.1", 8080}));
  EXPECT_EQ(parsed("http://books.internal/graphql?x=1"), (Target{"books.internal", 80}));
  EXPECT_EQ(parsed("HTTPS://books.internal"), (Target{"books.internal", 443}));
  EXPECT_EQ(parsed("tcp://127.0.0.1:9000"), (Target{"127.0.0.1", 9000}));
  EXPECT_EQ(parsed("udp://127.0.0.1:9001"), (Target{"127.0.0.1", 9001}));
  EXPECT_EQ(parsed("127.0.0.1:7"), (Target{"127.0.0.1", 7}));
  EXPECT_EQ(parsed("http://[::1]:8080/x"), (Target{"::1", 8080}));
  EXPECT_EQ(parsed("ws://[::1]"), (Target{"::1", 80}));
}

TEST(TargetTest, BadServiceEndpoints) {
  for (const char* bad :
       {"tcp://127.0.0.1", "127.0.0.1", "http://:80", "http://host:0", "http://host:65536",
        "http://host:x", "http://user@host:1", "http://[::1", "http://::1:80", "", "http://[[]",
        "tcp://ex ample:80", "tcp://[a]b]:80", "tcp://host\n:80", "tcp://[host%1]:80"}) {
    EXPECT_FALSE(parseServiceEndpoint(bad)) << bad;
  }
}

TEST(TargetTest, ToStringBracketsIpv6) {
  EXPECT_EQ((Target{"127.0.0.1", 80}).toString(), "127.0.0.1:80");
  EXPECT_EQ((Target{"::1", 80}).toString(), "[::1]:80");
}

TEST(TargetTest, RouteTargets) {
  DataPlaneRoute ingress;
  ingress.kind = DataPlaneRoute::Kind::Ingress;
  EXPECT_FALSE(routeTarget(ingress));
  ingress.service_endpoint = "http://10.0.0.1:81";
  EXPECT_EQ(*routeTarget(ingress), (Target{"10.0.0.1", 81}));

  DataPlaneRoute egress;
  egress.kind = DataPlaneRoute::Kind::Egress;
  egress.next_hop_address = "10.0.0.2";
  EXPECT_FALSE(routeTarget(egress));
  egress.next_hop_port = 10001;
  EXPECT_EQ(*routeTarget(egress), (Target{"10.0.0.2", 10001}));
  egress.next_hop_address = "[fd00::1]";
  EXPECT_EQ(*routeTarget(egress), (Target{"fd00::1", 10001}));
  egress.next_hop_address = "node-b.example.com";
  EXPECT_EQ(*routeTarget(egress), (Target{"node-b.example.com", 10001}));
  // A neighbour's advertised address is a host name or an IP literal, nothing else.
  for (const char* bad : {"evil host", "a/b", "x:y]", "[::1"}) {
    egress.next_hop_address = bad;
    EXPECT_FALSE(routeTarget(egress)) << bad;
  }
}

} // namespace
} // namespace catalyst::dataplane
