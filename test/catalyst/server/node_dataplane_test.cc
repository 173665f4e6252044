// The node wired to its data plane: in the embedded mode the pipeline's ConfigureDataPlane effects
// open and close listeners, and /api/state and /metrics show them; in the Envoy modes nothing
// listens and the section is empty. The node runs on this thread (its dispatcher is polled).

#include <chrono>
#include <filesystem>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "catalyst/common/logging.h"
#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/server/node.h"

#include "socket_test_util.h"
#include "support/process.h"

namespace catalyst::server {
namespace {

namespace dt = dataplane::testing;
namespace json = boost::json;

Logger& testLogger() {
  static const LoggerSharedPtr logger = makeStderrLogger("node-dataplane-test", LogLevel::Warn);
  return *logger;
}

config::NodeConfig nodeConfig(const std::string& state_dir, uint16_t data_port,
                              uint16_t service_port) {
  config::NodeConfig c;
  c.node_id = "node-a";
  c.port = 0;
  c.peering_endpoint = "ws://127.0.0.1:1/rpc";
  c.state_dir = state_dir;
  c.envoy_port_range = {{data_port, data_port}};
  c.dataplane_workers = 2;
  c.dataplane_drain_timeout = std::chrono::milliseconds(0);
  state::Route echo;
  echo.name = "echo";
  echo.endpoint = "tcp://127.0.0.1:" + std::to_string(service_port);
  echo.protocol = state::Protocol::Tcp;
  c.routes = {echo};
  return c;
}

class NodeDataPlaneTest : public ::testing::Test {
protected:
  // Runs the node's callbacks until `condition` holds (or 10 s pass).
  bool pumpUntil(const std::function<bool()>& condition) {
    return dt::eventually([&] {
      dispatcher_->poll();
      return condition();
    });
  }

  // The listener `name` in `state` (which must outlive the pointer).
  static const json::object* listener(const json::value& state, const std::string& name) {
    for (const json::value& l : state.at("dataplane").at("listeners").as_array()) {
      if (l.at("name").as_string() == name) {
        return &l.as_object();
      }
    }
    return nullptr;
  }

  RealTimeSource time_;
  event::DispatcherPtr dispatcher_ = event::makeDispatcher(time_);
  test::TempDir dir_;
};

TEST_F(NodeDataPlaneTest, EmbeddedModeCarriesTheRouteAndShowsIt) {
  dt::TcpEchoServer service;
  const uint16_t data_port = dt::freePort();
  Node node(nodeConfig(dir_.path(), data_port, service.port()), *dispatcher_, testLogger());
  ASSERT_TRUE(node.start());
  ASSERT_NE(node.dataPlane(), nullptr);

  ASSERT_TRUE(pumpUntil([&] {
    const json::value state = node.apiState();
    const json::object* l = listener(state, "echo");
    return l != nullptr && l->at("state").as_string() == "listening";
  }));
  auto client = dt::tcpConnect(data_port);
  ASSERT_TRUE(client);
  EXPECT_EQ(dt::roundTrip(client->get(), "through the node"), "through the node");
  client.reset();
  ASSERT_TRUE(pumpUntil([&] {
    const json::value state = node.apiState();
    const json::object* l = listener(state, "echo");
    return l->at("activeConnections").to_number<int64_t>() == 0 &&
           l->at("bytesOut").to_number<int64_t>() == 16;
  }));

  const json::value state = node.apiState();
  // The fields that were there before the data plane stay as they were.
  EXPECT_TRUE(state.as_object().contains("node"));
  EXPECT_TRUE(state.as_object().contains("peers"));
  EXPECT_TRUE(state.as_object().contains("routes"));
  EXPECT_EQ(state.at("dataplane").at("mode").as_string(), "embedded");
  const json::object& l = *listener(state, "echo");
  EXPECT_EQ(l.at("originNode").as_string(), "node-a");
  EXPECT_EQ(l.at("kind").as_string(), "ingress");
  EXPECT_EQ(l.at("protocol").as_string(), "tcp");
  EXPECT_EQ(l.at("port").to_number<int64_t>(), data_port);
  EXPECT_EQ(l.at("target").as_string(), "127.0.0.1:" + std::to_string(service.port()));
  EXPECT_EQ(l.at("connections").to_number<int64_t>(), 1);
  EXPECT_EQ(l.at("bytesIn").to_number<int64_t>(), 16);
  EXPECT_EQ(l.at("errors").to_number<int64_t>(), 0);
  EXPECT_FALSE(l.contains("error"));

  const std::string metrics = node.metrics();
  const std::string labels = R"(route="echo",origin="node-a",kind="ingress")";
  EXPECT_NE(metrics.find("catalyst_dataplane_connections_total{" + labels + "} 1\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("catalyst_dataplane_active_connections{" + labels + "} 0\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("catalyst_dataplane_bytes_total{" + labels +
                         R"(,direction="client_to_upstream"} 16)"),
            std::string::npos);
  EXPECT_NE(metrics.find("catalyst_dataplane_bytes_total{" + labels +
                         R"(,direction="upstream_to_client"} 16)"),
            std::string::npos);
  EXPECT_NE(metrics.find("catalyst_dataplane_listening{" + labels + "} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("catalyst_dataplane_node_connections_total 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("catalyst_dataplane_workers 2\n"), std::string::npos);

  // Removing the route closes its listener.
  node.controlLoop().submit(control::ev::RemoveRoute{"echo"});
  ASSERT_TRUE(pumpUntil([&] {
    const json::value now = node.apiState();
    return listener(now, "echo") == nullptr;
  }));
  EXPECT_TRUE(dt::eventually([&] { return dt::refused(data_port); }));
  node.stop();
}

TEST_F(NodeDataPlaneTest, RouteWithoutPortIsCountedWithoutAListener) {
  dt::TcpEchoServer service;
  config::NodeConfig c = nodeConfig(dir_.path(), dt::freePort(), service.port());
  c.envoy_port_range.clear(); // no port for any route
  Node node(c, *dispatcher_, testLogger());
  ASSERT_TRUE(node.start());
  ASSERT_TRUE(pumpUntil([&] {
    return node.metrics().find(
               "catalyst_dataplane_node_errors_total{reason=\"no_listen_port\"} 1\n") !=
           std::string::npos;
  })) << node.metrics();
  const json::value state = node.apiState();
  EXPECT_EQ(listener(state, "echo"), nullptr);
  EXPECT_EQ(state.at("dataplane").at("errors").at("no_listen_port").to_number<int64_t>(), 1);
  node.stop();
}

// envoy-files: the node opens no listener itself (Envoy does); it writes Envoy's files and
// shows what it handed over.
TEST_F(NodeDataPlaneTest, EnvoyFilesModeWritesFilesAndOpensNoListener) {
  dt::TcpEchoServer service;
  const uint16_t data_port = dt::freePort();
  config::NodeConfig c = nodeConfig(dir_.path(), data_port, service.port());
  c.dataplane = config::DataPlaneMode::EnvoyFiles;
  c.envoy.files_dir = dir_.path() + "/envoy";
  c.envoy.startup_hold = std::chrono::milliseconds(0);
  Node node(c, *dispatcher_, testLogger());
  ASSERT_TRUE(node.start());
  ASSERT_NE(node.dataPlane(), nullptr);
  auto configured = [&] {
    const json::value state = node.apiState();
    const json::object* l = listener(state, "echo");
    return l != nullptr && l->at("state").as_string() == "configured";
  };
  ASSERT_TRUE(pumpUntil(configured)) << json::serialize(node.apiState());
  EXPECT_TRUE(dt::refused(data_port));
  const json::value state = node.apiState();
  EXPECT_EQ(state.at("dataplane").at("mode").as_string(), "envoy-files");
  const json::object& envoy = state.at("dataplane").at("envoy").as_object();
  EXPECT_EQ(envoy.at("filesDir").as_string(), c.envoy.files_dir);
  EXPECT_EQ(envoy.at("listenersVersion").as_string().size(), 16U);
  EXPECT_TRUE(std::filesystem::exists(c.envoy.files_dir + "/cds.json"));
  EXPECT_TRUE(std::filesystem::exists(c.envoy.files_dir + "/lds.json"));
  const std::string metrics = node.metrics();
  EXPECT_NE(metrics.find("catalyst_envoy_routes{state=\"configured\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("catalyst_envoy_publishes_total "), std::string::npos);
  EXPECT_EQ(metrics.find("catalyst_dataplane_connections_total"), std::string::npos);
  node.stop();
}

TEST_F(NodeDataPlaneTest, StopClosesTheDataPlane) {
  dt::TcpEchoServer service;
  const uint16_t data_port = dt::freePort();
  Node node(nodeConfig(dir_.path(), data_port, service.port()), *dispatcher_, testLogger());
  ASSERT_TRUE(node.start());
  ASSERT_TRUE(pumpUntil([&] {
    const json::value state = node.apiState();
    const json::object* l = listener(state, "echo");
    return l != nullptr && l->at("state").as_string() == "listening";
  }));
  auto client = dt::tcpConnect(data_port);
  ASSERT_TRUE(client);
  EXPECT_EQ(dt::roundTrip(client->get(), "x"), "x");
  node.stop();
  EXPECT_TRUE(dt::readsEnd(client->get(), std::chrono::seconds(5)));
  EXPECT_TRUE(dt::refused(data_port));
}

} // namespace
} // namespace catalyst::server
