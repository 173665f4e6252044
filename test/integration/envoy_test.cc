// The Envoy data planes end to end (issue 6), with real catalyst-node processes: a chain
// A - B - C in envoy-files mode, where every node writes cds.json / lds.json for its Envoy. The
// files are checked against Envoy's real v3 protos, and followed as routes come and go. Also
// `catalyst-node envoy bootstrap` as a user runs it.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "catalyst/envoy/render.h"

#include "ads_client.h"
#include "envoy_check.h"
#include "support/cluster.h"

namespace catalyst::test {
namespace {

namespace json = boost::json;
using envoy::testing::endpointOf;
using envoy::testing::schema;
using std::chrono::seconds;

constexpr seconds kDeadline{20};

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The resource named `name` in a DiscoveryResponse file, or null.
json::value resource(const std::string& path, const std::string& name) {
  boost::system::error_code ec;
  const json::value v = json::parse(readFile(path), ec);
  if (ec || !v.is_object()) {
    return nullptr;
  }
  for (const json::value& r : v.at("resources").as_array()) {
    if (r.at("name").as_string() == name) {
      return r;
    }
  }
  return nullptr;
}

// Every resource of the file valid per Envoy's protos (the DiscoveryResponse check covers the
// Any-wrapped resources, strictly).
::testing::AssertionResult valid(const std::string& path) {
  if (auto st = schema().check("envoy.service.discovery.v3.DiscoveryResponse", readFile(path));
      !st) {
    return ::testing::AssertionFailure() << path << ": " << st.error().message;
  }
  return ::testing::AssertionSuccess();
}

class EnvoyFilesProcessTest : public ::testing::Test {
protected:
  Cluster c{CATALYST_NODE_BINARY};

  static NodeOptions node() {
    NodeOptions o;
    o.dataplane = "envoy-files";
    o.data_ports = 8;
    o.log_level = "info";
    return o;
  }
  std::string lds(const std::string& name) const { return c.stateDir(name) + "/envoy/lds.json"; }
  std::string cds(const std::string& name) const { return c.stateDir(name) + "/envoy/cds.json"; }

  void TearDown() override {
    if (HasFailure()) {
      for (const char* n : {"a", "b", "c"}) {
        try {
          std::cerr << "---- " << n << " lds.json: " << readFile(lds(n)).substr(0, 4000) << "\n";
          std::cerr << "---- log of " << n << " ----\n" << c.log(n).substr(0, 10000) << "\n";
        } catch (const std::exception&) {
        }
      }
    }
  }
};

TEST_F(EnvoyFilesProcessTest, EveryNodeOfAChainWritesValidFilesThatFollowTheRoutes) {
  c.add("a", node());
  c.add("b", node());
  c.add("c", node());
  c.link("a", "b");
  c.link("b", "c");
  c.startAll();
  ASSERT_TRUE(succeeded(c.admin("a", "getDataChannelClient", "addRoute",
                                routeArg("books", "http://127.0.0.1:8080", "http"))));

  // A: ingress to the service. B: egress via A to A's advertised port. C: egress via B to B's.
  ASSERT_TRUE(eventually([&] { return resource(lds("c"), "egress_books_via_node-b").is_object(); },
                         kDeadline));
  const std::optional<uint16_t> at_a = c.ingressPort("a", "books");
  const std::optional<uint16_t> at_b = c.egressPort("b", "books", Cluster::id("a"));
  const std::optional<uint16_t> at_c = c.egressPort("c", "books", Cluster::id("a"));
  ASSERT_TRUE(at_a && at_b && at_c);
  ASSERT_TRUE(
      eventually([&] { return resource(lds("a"), "ingress_books").is_object(); }, kDeadline));
  const json::value a_cluster = resource(cds("a"), "local_books");
  ASSERT_TRUE(a_cluster.is_object());
  EXPECT_EQ(endpointOf(a_cluster).at("port_value").to_number<int64_t>(), 8080);
  const json::value b_cluster = resource(cds("b"), "remote_books_via_node-a");
  ASSERT_TRUE(b_cluster.is_object());
  EXPECT_EQ(endpointOf(b_cluster).at("port_value").to_number<int64_t>(), *at_a);
  const json::value c_cluster = resource(cds("c"), "remote_books_via_node-b");
  ASSERT_TRUE(c_cluster.is_object());
  EXPECT_EQ(endpointOf(c_cluster).at("port_value").to_number<int64_t>(), *at_b);
  EXPECT_EQ(resource(lds("c"), "egress_books_via_node-b")
                .at("address")
                .at("socket_address")
                .at("port_value")
                .to_number<int64_t>(),
            *at_c);
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_TRUE(valid(lds(n)));
    EXPECT_TRUE(valid(cds(n)));
  }
  // /api/state and /metrics say what was handed over.
  const json::value state = c.state("c");
  const json::object& envoy = state.at("dataplane").at("envoy").as_object();
  EXPECT_EQ(json::parse(readFile(lds("c"))).at("version_info"), envoy.at("listenersVersion"));
  EXPECT_GE(c.metric("c", "catalyst_envoy_publishes_total"), 1);
  EXPECT_EQ(c.metric("c", "catalyst_envoy_routes{state=\"configured\"}"), 1);

  // Withdrawal at A reaches every node's files.
  ASSERT_TRUE(succeeded(
      c.admin("a", "getDataChannelClient", "removeRoute", rpc::object({{"name", "books"}}))));
  EXPECT_TRUE(eventually(
      [&] {
        return resource(lds("c"), "egress_books_via_node-b").is_null() &&
               resource(cds("c"), "remote_books_via_node-b").is_null() &&
               resource(lds("b"), "egress_books_via_node-a").is_null() &&
               resource(lds("a"), "ingress_books").is_null();
      },
      kDeadline));
  EXPECT_TRUE(valid(lds("c")));
}

// envoy-xds: the node serves its Envoy over ADS. A raw ADS client (what Envoy does: CDS, then
// LDS, ACK each) gets the node's resources, follows a change, and a NACK shows in the node's
// /api/state and /metrics.
TEST_F(EnvoyFilesProcessTest, XdsModeServesTheRouteTableOverAds) {
  using envoy::testing::discoveryRequest;
  using envoy::testing::RawAdsStream;
  using envoy::testing::RequestFields;
  using envoy::testing::Response;
  const uint16_t xds_port = freePort();
  NodeOptions a = node();
  a.dataplane = "envoy-xds";
  a.dataplane_yaml = fmt::format("  envoy:\n    xds_port: {}\n    startup_hold_ms: 0\n", xds_port);
  c.add("a", a);
  c.startAll();
  ASSERT_TRUE(succeeded(c.admin("a", "getDataChannelClient", "addRoute",
                                routeArg("books", "http://127.0.0.1:8080", "http"))));
  ASSERT_TRUE(
      eventually([&] { return c.metric("a", "catalyst_envoy_routes{state=\"configured\"}") == 1; },
                 kDeadline));

  RawAdsStream ads(xds_port);
  const std::string cds_type(envoy::kClusterTypeUrl);
  const std::string lds_type(envoy::kListenerTypeUrl);
  ASSERT_TRUE(ads.send(discoveryRequest({cds_type, "", "", {}, std::nullopt, "node-a"})));
  std::optional<Response> clusters = ads.readResponse();
  ASSERT_TRUE(clusters);
  EXPECT_EQ(clusters->names, std::vector<std::string>{"local_books"});
  ASSERT_TRUE(ads.send(discoveryRequest({cds_type, clusters->version_info, clusters->nonce})));
  ASSERT_TRUE(ads.send(discoveryRequest({lds_type, "", ""})));
  std::optional<Response> listeners = ads.readResponse();
  ASSERT_TRUE(listeners);
  EXPECT_EQ(listeners->names, std::vector<std::string>{"ingress_books"});
  ASSERT_TRUE(ads.send(discoveryRequest({lds_type, listeners->version_info, listeners->nonce})));
  ASSERT_TRUE(eventually(
      [&] {
        const json::value s = c.state("a");
        const json::object& e = s.at("dataplane").at("envoy").as_object();
        return e.at("acks").to_number<int64_t>() == 2 &&
               e.at("xdsStreams").to_number<int64_t>() == 1;
      },
      kDeadline))
      << json::serialize(c.state("a").at("dataplane"));
  // The versions Envoy got are the ones the node reports.
  const json::value state = c.state("a");
  EXPECT_EQ(state.at("dataplane").at("envoy").at("clustersVersion").as_string(),
            clusters->version_info.c_str());
  EXPECT_EQ(state.at("dataplane").at("envoy").at("listenersVersion").as_string(),
            listeners->version_info.c_str());

  // A new route: clusters first, then listeners, each a new version.
  ASSERT_TRUE(succeeded(c.admin("a", "getDataChannelClient", "addRoute",
                                routeArg("films", "tcp://127.0.0.1:7070", "tcp"))));
  std::optional<Response> clusters2 = ads.readResponse();
  ASSERT_TRUE(clusters2);
  EXPECT_EQ(clusters2->type_url, cds_type);
  EXPECT_EQ(clusters2->names, (std::vector<std::string>{"local_books", "local_films"}));
  EXPECT_NE(clusters2->version_info, clusters->version_info);
  ASSERT_TRUE(ads.send(discoveryRequest({cds_type, clusters2->version_info, clusters2->nonce})));
  std::optional<Response> listeners2 = ads.readResponse();
  ASSERT_TRUE(listeners2);
  EXPECT_EQ(listeners2->type_url, lds_type);
  EXPECT_EQ(listeners2->names, (std::vector<std::string>{"ingress_books", "ingress_films"}));

  // Envoy refuses it: the NACK is recorded and shown.
  ASSERT_TRUE(ads.send(discoveryRequest(
      {lds_type, listeners->version_info, listeners2->nonce, {}, std::string("port taken")})));
  EXPECT_TRUE(
      eventually([&] { return c.metric("a", "catalyst_envoy_xds_nacks_total") == 1; }, kDeadline))
      << c.metrics("a");
  const json::value nacked = c.state("a");
  const std::string last_nack(nacked.at("dataplane").at("envoy").at("lastNack").as_string());
  EXPECT_NE(last_nack.find("port taken"), std::string::npos) << last_nack;
  EXPECT_NE(last_nack.find(listeners2->version_info), std::string::npos) << last_nack;

  // Bytes that are no DiscoveryRequest end that stream, counted; the node serves on.
  RawAdsStream bad(xds_port);
  ASSERT_TRUE(bad.send(std::string("\xff\xff\xff garbage", 12)));
  EXPECT_FALSE(bad.read().has_value());
  EXPECT_TRUE(eventually(
      [&] { return c.metric("a", "catalyst_envoy_xds_bad_requests_total") == 1; }, kDeadline));
  EXPECT_EQ(c.state("a").at("dataplane").at("envoy").at("badRequests").to_number<int64_t>(), 1);
  RawAdsStream after(xds_port);
  ASSERT_TRUE(after.send(discoveryRequest({cds_type, "", "", {}, std::nullopt, "node-a"})));
  std::optional<Response> still = after.readResponse();
  ASSERT_TRUE(still);
  EXPECT_EQ(still->version_info, clusters2->version_info);
}

// The xDS support is a module beside the binary; without it, envoy-xds fails to start with a
// clear reason (and the other modes do not need it).
TEST(EnvoyXdsModuleProcessTest, WithoutTheModuleEnvoyXdsFailsClearly) {
  TempDir dir;
  const std::string binary = dir.path() + "/catalyst-node";
  std::filesystem::copy_file(CATALYST_NODE_BINARY, binary);
  std::filesystem::permissions(binary, std::filesystem::perms::owner_all);
  const std::map<std::string, std::string> env = {{"CATALYST_NODE_ID", "node-m"},
                                                  {"CATALYST_STATE_DIR", dir.path() + "/state"},
                                                  {"PORT", std::to_string(freePort())},
                                                  {"CATALYST_DATAPLANE", "envoy-xds"}};
  RunResult xds = run({binary}, env, std::chrono::seconds(20));
  EXPECT_NE(xds.exit_code, 0);
  EXPECT_NE(xds.err.find("envoy-xds needs the module " + dir.path() + "/catalyst-xds.so"),
            std::string::npos)
      << xds.err;
}

TEST(EnvoyBootstrapProcessTest, PrintsAValidBootstrapForEachEnvoyMode) {
  TempDir dir;
  const std::string files_config = dir.write(
      "files.yaml", fmt::format("node: {{id: node-a}}\nstate_dir: {}/state\n"
                                "dataplane:\n  mode: envoy-files\n  envoy:\n    admin_port: 9911\n",
                                dir.path()));
  RunResult files = run({CATALYST_NODE_BINARY, "envoy", "bootstrap", "--config", files_config});
  ASSERT_EQ(files.exit_code, 0) << files.err;
  Status st = schema().check("envoy.config.bootstrap.v3.Bootstrap", files.out);
  EXPECT_TRUE(st) << st.error().message << "\n" << files.out;
  const json::value b = json::parse(files.out);
  EXPECT_EQ(b.at("dynamic_resources").at("lds_config").at("path_config_source").at("path"),
            (dir.path() + "/state/envoy/lds.json").c_str());
  EXPECT_EQ(b.at("admin").at("address").at("socket_address").at("port_value"), 9911);

  RunResult xds =
      run({CATALYST_NODE_BINARY, "envoy", "bootstrap"}, {{"CATALYST_NODE_ID", "node-b"},
                                                         {"CATALYST_DATAPLANE", "envoy-xds"},
                                                         {"CATALYST_ENVOY_XDS_PORT", "18123"}});
  ASSERT_EQ(xds.exit_code, 0) << xds.err;
  st = schema().check("envoy.config.bootstrap.v3.Bootstrap", xds.out);
  EXPECT_TRUE(st) << st.error().message << "\n" << xds.out;
  EXPECT_NE(xds.out.find("\"port_value\":18123"), std::string::npos) << xds.out;
  EXPECT_NE(xds.out.find("\"id\":\"node-b\""), std::string::npos) << xds.out;

  RunResult embedded =
      run({CATALYST_NODE_BINARY, "envoy", "bootstrap"}, {{"CATALYST_NODE_ID", "node-c"}});
  EXPECT_EQ(embedded.exit_code, 1);
  EXPECT_EQ(embedded.out, "");
  EXPECT_EQ(embedded.err, "catalyst-node: envoy bootstrap: the node's data plane is embedded: set "
                          "dataplane.mode (or CATALYST_DATAPLANE) to envoy-xds or envoy-files\n");
}

} // namespace
} // namespace catalyst::test
