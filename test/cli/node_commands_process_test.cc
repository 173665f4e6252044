// `catalyst node ...` and `catalyst route why` run as a user runs them, against real
// catalyst-node processes started from the environment, with tokens from
// `catalyst-node token mint`.

#include <algorithm>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/node_rpc.h"
#include "support/cluster.h"
#include "support/process.h"

#ifndef CATALYST_CLI_BINARY
#error "CATALYST_CLI_BINARY must name the catalyst binary"
#endif
#ifndef CATALYST_NODE_BINARY
#error "CATALYST_NODE_BINARY must name the catalyst-node binary"
#endif

namespace catalyst::cli {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using catalyst::test::eventually;
using catalyst::test::freePort;
using catalyst::test::Process;
using catalyst::test::RunResult;
using catalyst::test::TempDir;

// One line, ending in a newline, starting "catalyst: ", and nothing on stdout.
void expectOneLineReason(const RunResult& result) {
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(result.err.rfind("catalyst: ", 0), 0u) << result.err;
  EXPECT_EQ(result.out, "");
}

void expectSuccess(const RunResult& result, const std::string& out) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.out, out);
}

bj::value parseJson(const RunResult& result) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  boost::system::error_code ec;
  bj::value value = bj::parse(result.out, ec);
  EXPECT_FALSE(ec) << result.out;
  return value;
}

// `catalyst ARGS`, with the CLI's environment variables emptied (so ignored).
RunResult catalyst(std::vector<std::string> args) {
  args.insert(args.begin(), CATALYST_CLI_BINARY);
  return catalyst::test::run(std::move(args),
                             {{"CATALYST_ORCHESTRATOR_URL", ""}, {"CATALYST_TOKEN", ""}});
}

// A catalyst-node run from the environment alone, as the README shows, on a free port of
// 127.0.0.1, with its own state directory and one data-plane port.
class Node {
public:
  Node(const TempDir& dir, std::string id)
      : id_(std::move(id)), port_(freePort()), envoy_port_(freePort()),
        state_dir_(dir.path() + "/" + id_) {}

  // Every variable the node reads is set (empty is unset): the test's environment stays out.
  std::map<std::string, std::string> env() const {
    return {{"CATALYST_NODE_ID", id_},
            {"PORT", std::to_string(port_)},
            {"CATALYST_STATE_DIR", state_dir_},
            {"CATALYST_ENVOY_PORT_RANGE", fmt::format("[{}]", envoy_port_)},
            {"CATALYST_ENVOY_ADDRESS", "127.0.0.1"},
            {"CATALYST_DOMAINS", ""},
            {"CATALYST_PEERING_ENDPOINT", ""},
            {"CATALYST_DATAPLANE", ""},
            {"CATALYST_LOG_LEVEL", "debug"}};
  }

  // Starts the node and waits until /health answers.
  void start() {
    process_ = std::make_unique<Process>(std::vector<std::string>{CATALYST_NODE_BINARY}, env());
    const bool up = eventually(
        [&] {
          auto reply = catalyst::test::httpGet(port_, "/health");
          return reply && reply->status == 200;
        },
        20s);
    ASSERT_TRUE(up) << id_ << " did not start: " << process_->errors();
  }

  void stop() {
    process_->signal(SIGTERM);
    ASSERT_TRUE(process_->waitFor(20s).has_value()) << id_ << " did not stop";
  }

  // `catalyst-node token mint --subject SUBJECT --role ROLE` with the node's environment.
  std::string mint(const std::string& subject, const std::string& role) const {
    RunResult result = catalyst::test::run(
        {CATALYST_NODE_BINARY, "token", "mint", "--subject", subject, "--role", role}, env());
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::string token = result.out.substr(0, result.out.find('\n'));
    EXPECT_FALSE(token.empty());
    return token;
  }

  // `catalyst --orchestrator-url URL --token TOKEN ARGS` against this node.
  RunResult cli(const std::string& token, std::vector<std::string> args) const {
    args.insert(args.begin(), {"--orchestrator-url", url(), "--token", token});
    return catalyst(std::move(args));
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  std::string endpoint() const { return fmt::format("ws://127.0.0.1:{}/rpc", port_); }
  const std::string& id() const { return id_; }
  uint16_t envoyPort() const { return envoy_port_; }
  uint16_t port() const { return port_; }
  std::string log() const { return process_ ? process_->errors() : ""; }

private:
  std::string id_;
  uint16_t port_;
  uint16_t envoy_port_;
  std::string state_dir_;
  std::unique_ptr<Process> process_;
};

class NodeCommandsProcessTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(node_.start());
    admin_ = node_.mint("ops", "admin");
  }

  TempDir dir_;
  Node node_{dir_, "node-a"};
  std::string admin_;
};

TEST_F(NodeCommandsProcessTest, ListsATableLargerThanOneMegabyte) {
  // 6000 routes with long endpoints: the list answer is ~1.5 MB, over the 1 MiB that a
  // Cap'n Web message or an HTTP batch response may have by default.
  for (int first = 0; first < 6000; first += 3000) {
    catalyst::rpc::Array routes;
    for (int i = first; i < first + 3000; ++i) {
      routes.push_back(catalyst::rpc::object(
          {{"name", fmt::format("svc-{}", i)},
           {"endpoint", fmt::format("http://127.0.0.1:8080/{}/{}", std::string(150, 'p'), i)},
           {"protocol", "http"}}));
    }
    const catalyst::rpc::Value added =
        catalyst::test::batchCall(node_.port(), "getDataChannelClient", admin_, "addRoutes",
                                  catalyst::rpc::object({{"routes", std::move(routes)}}));
    ASSERT_NE(added.find("added"), nullptr) << added.debugString();
  }
  RunResult listed = node_.cli(admin_, {"node", "route", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_GT(listed.out.size(), std::size_t{1} << 20);
  EXPECT_EQ(parseJson(listed).at("local").as_array().size(), 6000u);
}

TEST_F(NodeCommandsProcessTest, RouteCreateListWhyDelete) {
  expectSuccess(node_.cli(admin_, {"node", "route", "create", "books", "http://127.0.0.1:8080"}),
                "route books created\n");

  // The table: the data-plane address and port are what the node advertises for the route.
  const std::string envoy = fmt::format("127.0.0.1:{}", node_.envoyPort());
  const std::size_t envoy_width = std::max<std::size_t>(envoy.size(), 5) + 2;
  expectSuccess(node_.cli(admin_, {"node", "route", "list"}),
                fmt::format("SOURCE  NAME   PROTOCOL  ENDPOINT               NODE PATH  {:<{}}"
                            "HEALTH  STALE\n"
                            "local   books  http      http://127.0.0.1:8080  -          {:<{}}"
                            "-       no\n",
                            "ENVOY", envoy_width, envoy, envoy_width));
  expectSuccess(node_.cli(admin_, {"node", "route", "list", "--json"}),
                fmt::format(R"({{"local":[{{"name":"books","endpoint":"http://127.0.0.1:8080",)"
                            R"("protocol":"http","envoyPort":{},"envoyAddress":"127.0.0.1"}}],)"
                            R"("internal":[]}})"
                            "\n",
                            node_.envoyPort()));

  // The same route again changes nothing: the node says so, and so does the exit code.
  RunResult again =
      node_.cli(admin_, {"node", "route", "create", "books", "http://127.0.0.1:8080"});
  expectOneLineReason(again);
  EXPECT_EQ(again.err, "catalyst: No state change (route books is already as given)\n");

  expectSuccess(node_.cli(admin_, {"route", "why", "books"}),
                "books (origin node-a): local route of this node: a local route always wins\n");
  bj::value why = parseJson(node_.cli(admin_, {"route", "why", "books", "--json"}));
  ASSERT_TRUE(why.is_array()) << why;
  ASSERT_EQ(why.as_array().size(), 1u);
  EXPECT_EQ(why.as_array()[0].at("local"), true);
  EXPECT_EQ(why.as_array()[0].at("originNode"), "node-a");

  RunResult unknown = node_.cli(admin_, {"route", "why", "films"});
  expectOneLineReason(unknown);
  EXPECT_EQ(unknown.err, "catalyst: no route named 'films' on this node\n");

  // Options in any order, a protocol, tags and health; the global options after the command.
  expectSuccess(catalyst({"node", "route", "create", "films", "tcp://127.0.0.1:9000", "-p", "tcp",
                          "--tags", "a,b", "--health", "down", "--region", "eu",
                          "--orchestrator-url", node_.url(), "--token", admin_}),
                "route films created\n");
  bj::value listed = parseJson(node_.cli(admin_, {"node", "route", "list", "--json"}));
  ASSERT_EQ(listed.at("local").as_array().size(), 2u) << listed;
  const bj::value& films = listed.at("local").as_array()[1];
  EXPECT_EQ(films.at("name"), "films");
  EXPECT_EQ(films.at("protocol"), "tcp");
  EXPECT_EQ(films.at("region"), "eu");
  EXPECT_EQ(films.at("tags"), (bj::array{"a", "b"}));
  EXPECT_EQ(films.at("healthStatus"), "down");

  expectSuccess(node_.cli(admin_, {"node", "route", "delete", "books"}), "route books deleted\n");
  expectSuccess(node_.cli(admin_, {"node", "route", "delete", "films"}), "route films deleted\n");
  expectSuccess(node_.cli(admin_, {"node", "route", "list"}), "no routes\n");
  RunResult gone = node_.cli(admin_, {"node", "route", "delete", "books"});
  expectOneLineReason(gone);
  EXPECT_EQ(gone.err, "catalyst: no local route named 'books'\n");
}

TEST_F(NodeCommandsProcessTest, PeerCreateListUpdateDelete) {
  // A peer that is not running: the peer is kept, its session keeps trying.
  const uint16_t absent = freePort();
  const std::string endpoint = fmt::format("ws://127.0.0.1:{}/rpc", absent);
  expectSuccess(node_.cli(admin_, {"node", "peer", "create", "node-b", endpoint, "--peer-token",
                                   "a-token-node-b-minted", "--domains", "b.example,c.example"}),
                "peer node-b created\n");
  RunResult again =
      node_.cli(admin_, {"node", "peer", "create", "node-b", endpoint, "--peer-token",
                         "a-token-node-b-minted", "--domains", "b.example,c.example"});
  expectOneLineReason(again);
  EXPECT_EQ(again.err, "catalyst: No state change (peer node-b is already as given)\n");

  bj::value peers = parseJson(node_.cli(admin_, {"node", "peer", "list", "--json"}));
  ASSERT_TRUE(peers.is_array()) << peers;
  ASSERT_EQ(peers.as_array().size(), 1u) << peers;
  const bj::object& peer = peers.as_array()[0].as_object();
  EXPECT_EQ(peer.at("name"), "node-b");
  EXPECT_EQ(peer.at("endpoint"), bj::value(endpoint));
  EXPECT_EQ(peer.at("domains"), (bj::array{"b.example", "c.example"}));
  EXPECT_NE(peer.at("connectionStatus"), "connected");
  EXPECT_FALSE(peer.contains("peerToken")) << peers; // never shown

  RunResult table = node_.cli(admin_, {"node", "peer", "list"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  const std::string header = table.out.substr(0, table.out.find('\n') + 1);
  EXPECT_EQ(header, fmt::format("NAME    {:<{}}STATUS        OUTBOUND  ADVERTISED  LAST ERROR\n",
                                "ENDPOINT", endpoint.size() + 2));
  const std::string row = table.out.substr(header.size());
  EXPECT_EQ(row.rfind(fmt::format("node-b  {}  initializing  ", endpoint), 0), 0u) << table.out;
  EXPECT_EQ(std::count(row.begin(), row.end(), '\n'), 1) << table.out;

  const std::string moved = fmt::format("ws://127.0.0.1:{}/rpc", freePort());
  expectSuccess(node_.cli(admin_, {"node", "peer", "update", "node-b", moved, "--peer-token",
                                   "another-token"}),
                "peer node-b updated\n");
  peers = parseJson(node_.cli(admin_, {"node", "peer", "list", "--json"}));
  ASSERT_EQ(peers.as_array().size(), 1u) << peers;
  EXPECT_EQ(peers.as_array()[0].at("endpoint"), bj::value(moved));

  RunResult update_unknown = node_.cli(
      admin_, {"node", "peer", "update", "node-c", moved, "--peer-token", "another-token"});
  expectOneLineReason(update_unknown);
  EXPECT_EQ(update_unknown.err, "catalyst: no peer named 'node-c'\n");

  expectSuccess(node_.cli(admin_, {"node", "peer", "delete", "node-b"}), "peer node-b deleted\n");
  expectSuccess(node_.cli(admin_, {"node", "peer", "list"}), "no peers\n");
  expectSuccess(node_.cli(admin_, {"node", "peer", "list", "--json"}), "[]\n");
  RunResult gone = node_.cli(admin_, {"node", "peer", "delete", "node-b"});
  expectOneLineReason(gone);
  EXPECT_EQ(gone.err, "catalyst: no peer named 'node-b'\n");
}

TEST_F(NodeCommandsProcessTest, RefusesWithoutAnAdminToken) {
  // No token at all: said before anything is sent.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"node", "route", "list"},
           {"node", "peer", "list"},
           {"route", "why", "books"},
           {"node", "route", "create", "books", "http://127.0.0.1:8080"}}) {
    std::vector<std::string> full = {"--orchestrator-url", node_.url()};
    full.insert(full.end(), args.begin(), args.end());
    RunResult result = catalyst(full);
    expectOneLineReason(result);
    EXPECT_EQ(result.err, "catalyst: " + std::string(kNoTokenMessage) + "\n");
  }

  // A peer token of this node: valid, but not for management.
  const std::string peer_token = node_.mint("node-b", "peer");
  RunResult as_peer =
      node_.cli(peer_token, {"node", "route", "create", "books", "http://127.0.0.1:8080"});
  expectOneLineReason(as_peer);
  EXPECT_NE(as_peer.err.find("may not manage"), std::string::npos) << as_peer.err;
  expectOneLineReason(node_.cli(peer_token, {"node", "peer", "list"}));

  // Not a token of this node.
  RunResult forged = node_.cli("not.a.token", {"node", "route", "list"});
  expectOneLineReason(forged);
  EXPECT_NE(forged.err.find("invalid token"), std::string::npos) << forged.err;

  // Nothing was changed by the refused calls.
  expectSuccess(node_.cli(admin_, {"node", "route", "list"}), "no routes\n");
}

TEST_F(NodeCommandsProcessTest, TokenAndUrlComeFromTheEnvironment) {
  RunResult result = catalyst::test::run(
      {CATALYST_CLI_BINARY, "node", "route", "create", "books", "http://127.0.0.1:8080"},
      {{"CATALYST_ORCHESTRATOR_URL", node_.endpoint()}, {"CATALYST_TOKEN", admin_}});
  expectSuccess(result, "route books created\n");
}

TEST_F(NodeCommandsProcessTest, ArgumentsAreCheckedBeforeCalling) {
  RunResult bad_protocol = node_.cli(
      admin_, {"node", "route", "create", "books", "http://127.0.0.1:8080", "-p", "https"});
  expectOneLineReason(bad_protocol);
  EXPECT_EQ(bad_protocol.err, "catalyst: --protocol 'https': expected one of http, http:graphql, "
                              "http:gql, http:grpc, tcp, udp\n");
  RunResult bad_name =
      node_.cli(admin_, {"node", "route", "create", "Books_!", "http://127.0.0.1:8080"});
  expectOneLineReason(bad_name);
  EXPECT_EQ(bad_name.err.rfind("catalyst: NAME 'Books_!': ", 0), 0u) << bad_name.err;
  RunResult bad_endpoint = node_.cli(
      admin_, {"node", "peer", "create", "node-b", "http://127.0.0.1:3000", "--peer-token", "t"});
  expectOneLineReason(bad_endpoint);
  EXPECT_EQ(bad_endpoint.err.rfind("catalyst: ENDPOINT 'http://127.0.0.1:3000': expected", 0), 0u)
      << bad_endpoint.err;
  expectSuccess(node_.cli(admin_, {"node", "route", "list"}), "no routes\n");
  expectSuccess(node_.cli(admin_, {"node", "peer", "list"}), "no peers\n");
}

TEST_F(NodeCommandsProcessTest, NodeDownSaysCannotReach) {
  ASSERT_NO_FATAL_FAILURE(node_.stop());
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"node", "route", "list"},
                                             {"node", "peer", "delete", "node-b"},
                                             {"route", "why", "x"}}) {
    RunResult result = node_.cli(admin_, args);
    expectOneLineReason(result);
    EXPECT_EQ(result.err, "catalyst: cannot reach " + node_.url() + "/rpc: Connection refused\n");
  }
}

TEST(NodeCommandsUsageTest, UsageErrorsExit2WithOneLine) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"node"},
           {"node", "peer"},
           {"node", "route", "create", "books"},
           {"node", "peer", "create", "node-b", "ws://127.0.0.1:1/rpc"}, // no --peer-token
           {"node", "route", "list", "--bogus"},
           {"route"},
           {"route", "why"}}) {
    RunResult result = catalyst(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    expectOneLineReason(result);
  }
}

TEST(NodeCommandsUsageTest, HelpExplainsEachCommandWithAnExample) {
  const std::map<std::vector<std::string>, std::string> commands = {
      {{"node", "peer", "create"}, "catalyst node peer create node-b ws://"},
      {{"node", "peer", "update"}, "catalyst node peer update node-b"},
      {{"node", "peer", "list"}, "catalyst node peer list"},
      {{"node", "peer", "delete"}, "catalyst node peer delete node-b"},
      {{"node", "route", "create"}, "catalyst node route create books http://"},
      {{"node", "route", "list"}, "catalyst node route list"},
      {{"node", "route", "delete"}, "catalyst node route delete books"},
      {{"route", "why"}, "catalyst route why books"},
  };
  for (const auto& [command, example] : commands) {
    std::vector<std::string> args = command;
    args.emplace_back("--help");
    RunResult result = catalyst(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find(example), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("CATALYST_TOKEN"), std::string::npos) << result.out;
  }
  RunResult top = catalyst({"--help"});
  EXPECT_NE(top.out.find("node"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("route"), std::string::npos) << top.out;
}

// Three nodes peered with each other through the CLI alone: a route published at node-a is
// learned by node-c from node-a directly and through node-b, and `route why` at node-c says
// which path won and why.
TEST(NodeCommandsPeeringTest, PeersConfiguredByTheCliExchangeRoutes) {
  TempDir dir;
  Node a(dir, "node-a");
  Node b(dir, "node-b");
  Node c(dir, "node-c");
  std::map<std::string, Node*> nodes = {{"node-a", &a}, {"node-b", &b}, {"node-c", &c}};
  std::map<std::string, std::string> admin;
  for (auto& [id, node] : nodes) {
    ASSERT_NO_FATAL_FAILURE(node->start());
    admin[id] = node->mint("ops", "admin");
  }
  for (auto& [id, node] : nodes) {
    for (auto& [other_id, other] : nodes) {
      if (id == other_id) {
        continue;
      }
      // `other` mints the token `node` presents when it dials `other`.
      expectSuccess(node->cli(admin[id], {"node", "peer", "create", other_id, other->endpoint(),
                                          "--peer-token", other->mint(id, "peer")}),
                    "peer " + other_id + " created\n");
    }
  }
  const bool connected = eventually(
      [&] {
        for (auto& [id, node] : nodes) {
          RunResult list = node->cli(admin[id], {"node", "peer", "list", "--json"});
          boost::system::error_code ec;
          bj::value peers = bj::parse(list.out, ec);
          if (ec || !peers.is_array() || peers.as_array().size() != 2) {
            return false;
          }
          for (const bj::value& peer : peers.as_array()) {
            if (peer.at("connectionStatus") != "connected") {
              return false;
            }
          }
        }
        return true;
      },
      30s);
  ASSERT_TRUE(connected) << a.log() << b.log() << c.log();

  expectSuccess(a.cli(admin["node-a"], {"node", "route", "create", "books", "http://10.0.0.1:80"}),
                "route books created\n");
  const std::string expected =
      "books (origin node-a): best via node-a [node-a]; node-b [node-b > node-a]: lost to "
      "node-a: shorter nodePath (1 < 2)\n";
  RunResult why;
  const bool learned = eventually(
      [&] {
        why = c.cli(admin["node-c"], {"route", "why", "books"});
        return why.out == expected;
      },
      30s);
  EXPECT_TRUE(learned) << why.out << why.err << c.log();

  RunResult table = c.cli(admin["node-c"], {"node", "route", "list"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  const std::string row = table.out.substr(table.out.find('\n') + 1);
  EXPECT_EQ(row.rfind("via node-a  books  http      http://10.0.0.1:80  node-a     ", 0), 0u)
      << table.out;

  RunResult peers = a.cli(admin["node-a"], {"node", "peer", "list"});
  EXPECT_EQ(peers.exit_code, 0) << peers.err;
  EXPECT_NE(peers.out.find("connected  yes"), std::string::npos) << peers.out;
}

} // namespace
} // namespace catalyst::cli
