// catalyst-node started as a user starts it: a real process, real sockets on 127.0.0.1.

#include <algorithm>
#include <csignal>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpcnet/client.h"

#include "support/process.h"

namespace catalyst::test {
namespace {

constexpr std::chrono::seconds kDeadline{20};

std::string nodeBinary() { return CATALYST_NODE_BINARY; }

// Starts a node and waits until /health answers.
class RunningNode {
public:
  RunningNode(std::vector<std::string> args, std::map<std::string, std::string> env, uint16_t port)
      : port_(port), process_(withBinary(std::move(args)), std::move(env)) {}

  bool healthy() {
    return eventually(
        [this] {
          auto reply = httpGet(port_, "/health");
          return reply && reply->status == 200;
        },
        kDeadline);
  }

  Process& process() { return process_; }
  uint16_t port() const { return port_; }

private:
  static std::vector<std::string> withBinary(std::vector<std::string> args) {
    args.insert(args.begin(), nodeBinary());
    return args;
  }

  uint16_t port_;
  Process process_;
};

TEST(NodeProcessTest, RunsFromTheEnvironmentAloneAnswersHealthAndStopsOnSigterm) {
  TempDir dir;
  const uint16_t port = freePort();
  RunningNode node({},
                   {{"CATALYST_NODE_ID", "node-a.example.local"},
                    {"PORT", std::to_string(port)},
                    {"CATALYST_STATE_DIR", dir.path() + "/state"}},
                   port);
  ASSERT_TRUE(node.healthy()) << node.process().errors();

  auto reply = httpGet(port, "/health");
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->body.find(R"("status":"ok")"), std::string::npos) << reply->body;
  EXPECT_NE(reply->body.find(R"("node":"node-a.example.local")"), std::string::npos);
  EXPECT_NE(reply->body.find(R"("version":")"), std::string::npos);
  EXPECT_NE(reply->body.find(R"("uptimeSeconds":)"), std::string::npos);
  EXPECT_EQ(httpGet(port, "/nope")->status, 404);

  node.process().signal(SIGTERM);
  EXPECT_EQ(node.process().waitFor(kDeadline), 0);
  EXPECT_NE(node.process().errors().find("received SIGTERM, shutting down"), std::string::npos);
  EXPECT_FALSE(httpGet(port, "/health")) << "still answering after shutdown";
}

// The soft "Max open files" limit of process `pid` (/proc/PID/limits), or -1.
long softOpenFileLimit(int pid) {
  std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(line.substr(std::string("Max open files").size()));
      long soft = -1;
      fields >> soft;
      return soft;
    }
  }
  return -1;
}

// Started with a low soft limit (as many systems start processes), the node raises it to the
// hard limit: its data plane needs a descriptor per listener and two per connection.
TEST(NodeProcessTest, RaisesItsOpenFileLimitToTheHardLimit) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  const rlim_t expected = std::min<rlim_t>(saved.rlim_max, rlim_t{1} << 20);
  rlimit low = saved;
  low.rlim_cur = std::min<rlim_t>(1024, expected / 2); // below what the node should reach
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  TempDir dir;
  const uint16_t port = freePort();
  RunningNode node({},
                   {{"CATALYST_NODE_ID", "node-a.example.local"},
                    {"PORT", std::to_string(port)},
                    {"CATALYST_STATE_DIR", dir.path() + "/state"}},
                   port);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0); // the child inherited the low one
  ASSERT_TRUE(node.healthy()) << node.process().errors();
  EXPECT_EQ(softOpenFileLimit(node.process().pid()), static_cast<long>(expected));
  node.process().signal(SIGTERM);
  EXPECT_EQ(node.process().waitFor(kDeadline), 0);
}

TEST(NodeProcessTest, RunsFromAConfigFileAndStopsOnSigint) {
  TempDir dir;
  const uint16_t port = freePort();
  const std::string file = dir.write("node.yaml", "node:\n"
                                                  "  id: node-b\n"
                                                  "listen:\n"
                                                  "  port: " +
                                                      std::to_string(port) +
                                                      "\n"
                                                      "state_dir: " +
                                                      dir.path() +
                                                      "/state\n"
                                                      "routes:\n"
                                                      "  - name: books-api\n"
                                                      "    endpoint: http://127.0.0.1:8080\n");
  RunningNode node({"--config", file}, {}, port);
  ASSERT_TRUE(node.healthy()) << node.process().errors();
  EXPECT_NE(httpGet(port, "/health")->body.find(R"("node":"node-b")"), std::string::npos);
  node.process().signal(SIGINT);
  EXPECT_EQ(node.process().waitFor(kDeadline), 0);
  EXPECT_NE(node.process().errors().find("1 routes configured"), std::string::npos)
      << node.process().errors();
}

TEST(NodeProcessTest, EnvironmentOverridesTheFile) {
  TempDir dir;
  const uint16_t port = freePort();
  const std::string file =
      dir.write("node.yaml", "node:\n  id: from-file\nstate_dir: " + dir.path() + "/s\n");
  RunningNode node({"--config", file},
                   {{"CATALYST_NODE_ID", "from-env"}, {"PORT", std::to_string(port)}}, port);
  ASSERT_TRUE(node.healthy()) << node.process().errors();
  EXPECT_NE(httpGet(port, "/health")->body.find(R"("node":"from-env")"), std::string::npos);
}

TEST(NodeProcessTest, BusyPortIsAClearErrorAndANonZeroExit) {
  TempDir dir;
  const uint16_t port = freePort();
  RunningNode first({},
                    {{"CATALYST_NODE_ID", "first"},
                     {"PORT", std::to_string(port)},
                     {"CATALYST_STATE_DIR", dir.path() + "/1"}},
                    port);
  ASSERT_TRUE(first.healthy()) << first.process().errors();
  RunResult second = run({nodeBinary()}, {{"CATALYST_NODE_ID", "second"},
                                          {"PORT", std::to_string(port)},
                                          {"CATALYST_STATE_DIR", dir.path() + "/2"}});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("Address already in use"), std::string::npos) << second.err;
}

TEST(NodeProcessTest, MissingNodeIdAndBadConfigExitNonZeroWithTheReason) {
  TempDir dir;
  RunResult no_id = run({nodeBinary()}, {{"CATALYST_NODE_ID", ""}, {"PORT", "3999"}});
  EXPECT_NE(no_id.exit_code, 0);
  EXPECT_NE(no_id.err.find("CATALYST_NODE_ID"), std::string::npos) << no_id.err;

  const std::string file = dir.write("bad.yaml", "node:\n  id: a\nlisten:\n  port: 70000\n");
  RunResult bad = run({nodeBinary(), "--config", file}, {{"PORT", ""}});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find(file + ":4: listen.port:"), std::string::npos) << bad.err;
}

TEST(NodeProcessTest, CheckConfigPrintsPreciseProblems) {
  TempDir dir;
  const std::string good = dir.write("good.yaml", "node:\n  id: node-a\n");
  RunResult ok = run({nodeBinary(), "--check-config", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("ok: " + good), std::string::npos) << ok.out;

  const std::string bad = dir.write("bad.yaml", "node:\n"
                                                "  id: node-a\n"
                                                "  colour: blue\n"
                                                "routes:\n"
                                                "  - name: books\n"
                                                "  - name: books\n");
  RunResult r = run({nodeBinary(), "--check-config", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ":3: node.colour:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad + ":6: routes[1].name:"), std::string::npos) << r.err;

  RunResult missing = run({nodeBinary(), "--check-config", dir.path() + "/absent.yaml"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_FALSE(missing.err.empty());
}

// Waits (polling `dispatcher`) for `p` to settle.
rpc::Settled<rpc::Value> settle(event::Dispatcher& dispatcher, const rpc::Promise<rpc::Value>& p) {
  eventually(
      [&] {
        dispatcher.poll();
        return p.settled();
      },
      kDeadline);
  return p.settled() ? p.outcome() : rpc::Settled<rpc::Value>{std::nullopt, rpc::Value("timeout")};
}

// A Cap'n Web client of the node on `port` (null, with a test failure, if it cannot connect).
rpcnet::RpcClientPtr connectRpc(event::Dispatcher& dispatcher, uint16_t port) {
  std::optional<Result<rpcnet::RpcClientPtr>> connected;
  rpcnet::RpcClient::connect(dispatcher, "ws://127.0.0.1:" + std::to_string(port) + "/rpc", {},
                             [&](Result<rpcnet::RpcClientPtr> c) { connected = std::move(c); });
  eventually(
      [&] {
        dispatcher.poll();
        return connected.has_value();
      },
      kDeadline);
  if (!connected || !*connected) {
    ADD_FAILURE() << "no RPC connection: "
                  << (connected ? connected->error().message : std::string("timed out"));
    return nullptr;
  }
  return std::move(**connected);
}

TEST(NodeProcessTest, ServesCapnWebOnRpcOverWebSocketAndHttpBatch) {
  TempDir dir;
  const uint16_t port = freePort();
  RunningNode node({},
                   {{"CATALYST_NODE_ID", "node-r"},
                    {"PORT", std::to_string(port)},
                    {"CATALYST_STATE_DIR", dir.path() + "/state"}},
                   port);
  ASSERT_TRUE(node.healthy()) << node.process().errors();

  RealTimeSource time;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time);
  rpcnet::RpcClientPtr client = connectRpc(*dispatcher, port);
  ASSERT_TRUE(client);
  rpc::Settled<rpc::Value> health =
      settle(*dispatcher, rpc::pull(client->main().call("health", {})));
  ASSERT_TRUE(health.ok()) << health.error.debugString();
  EXPECT_EQ(*health.value->find("node"), rpc::Value("node-r"));
  rpc::Settled<rpc::Value> nope = settle(*dispatcher, rpc::pull(client->main().call("nope", {})));
  EXPECT_FALSE(nope.ok());

  rpcnet::BatchClient batch(*dispatcher, "http://127.0.0.1:" + std::to_string(port) + "/rpc");
  rpc::Promise<rpc::Value> status = rpc::pull(batch.main().call("health", {}).get("status"));
  batch.send();
  rpc::Settled<rpc::Value> s = settle(*dispatcher, status);
  ASSERT_TRUE(s.ok()) << s.error.debugString();
  EXPECT_EQ(*s.value, rpc::Value("ok"));

  // SIGTERM ends the WebSocket session: the client sees it closed.
  node.process().signal(SIGTERM);
  EXPECT_EQ(node.process().waitFor(kDeadline), 0);
  EXPECT_TRUE(eventually(
      [&] {
        dispatcher->poll();
        return client->session().broken();
      },
      kDeadline));
}

TEST(NodeProcessTest, RpcMessageSizeCapComesFromTheConfig) {
  TempDir dir;
  const uint16_t port = freePort();
  const std::string file = dir.write(
      "node.yaml", "node: {id: node-cap}\nlisten: {port: " + std::to_string(port) +
                       "}\nstate_dir: " + dir.path() + "/s\nrpc: {max_message_bytes: 2048}\n");
  RunningNode node({"--config", file}, {}, port);
  ASSERT_TRUE(node.healthy()) << node.process().errors();

  RealTimeSource time;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time);
  rpcnet::RpcClientPtr client = connectRpc(*dispatcher, port);
  ASSERT_TRUE(client);
  // Under the cap: answered. Over it: the session is aborted.
  EXPECT_TRUE(
      settle(*dispatcher, rpc::pull(client->main().call("health", {std::string(1000, 'x')}))).ok());
  rpc::Settled<rpc::Value> big =
      settle(*dispatcher, rpc::pull(client->main().call("health", {std::string(4000, 'x')})));
  EXPECT_FALSE(big.ok());
  EXPECT_NE(big.error.debugString().find("over the limit of 2048"), std::string::npos)
      << big.error.debugString();
}

TEST(NodeProcessTest, HelpAndVersion) {
  RunResult help = run({nodeBinary(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--check-config"), std::string::npos);
  RunResult version = run({nodeBinary(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("catalyst-node "), std::string::npos);
#ifdef CATALYST_EXPECT_MALLOC
  // The build's CATALYST_ALLOCATOR, and (for mimalloc) malloc really served by it.
  EXPECT_NE(version.out.find("malloc: " CATALYST_EXPECT_MALLOC), std::string::npos) << version.out;
#endif
  RunResult unknown = run({nodeBinary(), "--frobnicate"});
  EXPECT_NE(unknown.exit_code, 0);
}

} // namespace
} // namespace catalyst::test
