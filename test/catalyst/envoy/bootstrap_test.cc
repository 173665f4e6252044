#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "catalyst/envoy/bootstrap.h"

#include "envoy_check.h"

namespace catalyst::envoy {
namespace {

namespace json = boost::json;
using envoy::testing::compareGolden;
using envoy::testing::endpointOf;
using envoy::testing::pretty;
using envoy::testing::schema;

constexpr std::string_view kBootstrap = "envoy.config.bootstrap.v3.Bootstrap";

BootstrapOptions xds() {
  BootstrapOptions o;
  o.source = BootstrapOptions::Source::Xds;
  o.node_id = "node-a";
  return o;
}

BootstrapOptions files() {
  BootstrapOptions o;
  o.source = BootstrapOptions::Source::Files;
  o.node_id = "node-a";
  o.files_dir = "/var/lib/catalyst/node-a/envoy";
  return o;
}

TEST(BootstrapTest, XdsBootstrapPassesEnvoysProtos) {
  const std::string text = renderBootstrap(xds());
  Status st = schema().check(kBootstrap, text);
  EXPECT_TRUE(st) << st.error().message;
  const json::object b = json::parse(text).as_object();
  EXPECT_EQ(b.at("node").at("id"), "node-a");
  EXPECT_EQ(b.at("admin").at("address").at("socket_address").at("address"), "127.0.0.1");
  EXPECT_EQ(b.at("dynamic_resources").at("ads_config").at("api_type"), "GRPC");
  const json::object& cluster = b.at("static_resources").at("clusters").at(0).as_object();
  EXPECT_EQ(cluster.at("name"), "xds_cluster");
  EXPECT_TRUE(cluster.at("typed_extension_protocol_options")
                  .at("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
                  .at("explicit_http_config")
                  .as_object()
                  .contains("http2_protocol_options"));
  EXPECT_EQ(compareGolden("bootstrap-xds.json", pretty(text)), "");
}

TEST(BootstrapTest, FilesBootstrapPassesEnvoysProtos) {
  const std::string text = renderBootstrap(files());
  Status st = schema().check(kBootstrap, text);
  EXPECT_TRUE(st) << st.error().message;
  const json::object b = json::parse(text).as_object();
  EXPECT_EQ(b.at("dynamic_resources").at("cds_config").at("path_config_source").at("path"),
            "/var/lib/catalyst/node-a/envoy/cds.json");
  EXPECT_EQ(b.at("dynamic_resources").at("lds_config").at("path_config_source").at("path"),
            "/var/lib/catalyst/node-a/envoy/lds.json");
  EXPECT_FALSE(b.contains("static_resources"));
  EXPECT_EQ(compareGolden("bootstrap-files.json", pretty(text)), "");
}

TEST(BootstrapTest, AWildcardXdsAddressIsDialledOnLoopbackAndNamesUseDns) {
  BootstrapOptions o = xds();
  o.xds_address = "0.0.0.0";
  json::object c =
      json::parse(renderBootstrap(o)).at("static_resources").at("clusters").at(0).as_object();
  EXPECT_EQ(c.at("type"), "STATIC");
  EXPECT_EQ(endpointOf(c).at("address"), "127.0.0.1");
  o.xds_address = "catalyst-node.local";
  const std::string text = renderBootstrap(o);
  EXPECT_TRUE(schema().check(kBootstrap, text));
  c = json::parse(text).at("static_resources").at("clusters").at(0).as_object();
  EXPECT_EQ(c.at("type"), "STRICT_DNS");
}

// The check is strict for bootstraps too.
TEST(BootstrapTest, TheProtoCheckRefusesABrokenBootstrap) {
  std::string text = renderBootstrap(xds());
  text.replace(text.find("connect_timeout"), 15, "conect_timeout");
  EXPECT_FALSE(schema().check(kBootstrap, text));
  text = renderBootstrap(xds());
  text.replace(text.find("\"GRPC\""), 6, "\"GRPCX\"");
  EXPECT_FALSE(schema().check(kBootstrap, text));
}

} // namespace
} // namespace catalyst::envoy
