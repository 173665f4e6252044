// The schema is Envoy's real v3 API: these tests show it accepts what Envoy accepts and refuses
// the mistakes Envoy refuses (so a renderer test passing through it means something).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalyst/envoy/api_schema.h"

#include "envoy_check.h"

namespace catalyst::envoy {
namespace {

using envoy::testing::schema;
using ::testing::HasSubstr;

constexpr std::string_view kCluster = "envoy.config.cluster.v3.Cluster";
constexpr std::string_view kListener = "envoy.config.listener.v3.Listener";

TEST(ApiSchemaTest, KnowsTheMessagesTheNodeRendersAndServes) {
  for (std::string_view type :
       {"envoy.config.bootstrap.v3.Bootstrap", "envoy.config.cluster.v3.Cluster",
        "envoy.config.listener.v3.Listener", "envoy.service.discovery.v3.DiscoveryRequest",
        "envoy.service.discovery.v3.DiscoveryResponse",
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
        "envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig",
        "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
        "envoy.config.endpoint.v3.ClusterLoadAssignment"}) {
    EXPECT_TRUE(schema().knows(type)) << type;
  }
  EXPECT_FALSE(schema().knows("envoy.config.cluster.v3.Clusterr"));
}

TEST(ApiSchemaTest, AcceptsAValidCluster) {
  EXPECT_TRUE(schema().check(kCluster, R"({"name":"c","type":"STATIC","connect_timeout":"5s",
      "load_assignment":{"cluster_name":"c","endpoints":[{"lb_endpoints":[{"endpoint":{"address":
      {"socket_address":{"address":"127.0.0.1","port_value":8080}}}}]}]}})"));
}

TEST(ApiSchemaTest, RefusesAnUnknownField) {
  Status st = schema().check(kCluster, R"({"name":"c","conect_timeout":"5s"})");
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message, HasSubstr("conect_timeout"));
}

TEST(ApiSchemaTest, RefusesABadEnumValue) {
  Status st = schema().check(kCluster, R"({"name":"c","type":"STATICC"})");
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message, HasSubstr("STATICC"));
}

TEST(ApiSchemaTest, RefusesABadDuration) {
  EXPECT_FALSE(schema().check(kCluster, R"({"name":"c","connect_timeout":"5 seconds"})"));
}

TEST(ApiSchemaTest, RefusesAnUnknownTypeInANestedAny) {
  Status st = schema().check(kListener, R"({"name":"l","filter_chains":[{"filters":[{"name":"x",
      "typed_config":{"@type":"type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HtpConnectionManager",
      "stat_prefix":"x"}}]}]})");
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message, HasSubstr("HtpConnectionManager"));
}

TEST(ApiSchemaTest, RefusesAnUnknownFieldInsideANestedAny) {
  EXPECT_FALSE(schema().check(kListener, R"({"name":"l","filter_chains":[{"filters":[{"name":"x",
      "typed_config":{"@type":"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
      "stat_prefix":"x","clustr":"c"}}]}]})"));
}

TEST(ApiSchemaTest, RefusesAWrongValueType) {
  EXPECT_FALSE(schema().check(kCluster, R"({"name":["c"]})"));
  EXPECT_FALSE(schema().check(kCluster, "not json"));
  EXPECT_FALSE(schema().check("envoy.config.cluster.v3.NoSuchThing", "{}"));
}

TEST(ApiSchemaTest, RouteTimeoutIsTheRealTimeoutField) {
  // The reference encodes RouteAction.timeout as field 24 (idle_timeout). Through the real
  // protos, "timeout" is field 8: cluster (field 1) "c", then tag (8 << 3 | 2) = 0x42 and a
  // 4-byte Duration {seconds: 0, nanos: 0}.
  Result<std::string> bin =
      schema().toBinary("envoy.config.route.v3.RouteAction", R"({"cluster":"c","timeout":"0s"})");
  ASSERT_TRUE(bin) << bin.error().message;
  EXPECT_EQ(*bin, std::string("\x0a\x01"
                              "c"
                              "\x42\x04\x08\x00\x10\x00",
                              9));
  Result<std::string> back = schema().toJson("envoy.config.route.v3.RouteAction", *bin);
  ASSERT_TRUE(back);
  EXPECT_THAT(*back, HasSubstr(R"("timeout":"0s")"));
  EXPECT_THAT(*back, ::testing::Not(HasSubstr("idle_timeout")));
}

} // namespace
} // namespace catalyst::envoy
