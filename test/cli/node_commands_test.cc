// The node management commands against a scripted ManagementCall (what they send, how they
// print), and callManagement's own failures against sockets that do not answer.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/node_commands.h"
#include "cli/node_rpc.h"
#include "http_test_util.h"

namespace catalyst::cli {
namespace {

using namespace std::chrono_literals;
using test::SilentSocket;

// Records each call and answers with `answer` (or `error`).
struct FakeNode {
  struct Call {
    std::string factory;
    std::string method;
    rpc::Value arg;
  };
  std::vector<Call> calls;
  Result<rpc::Value> answer = rpc::Value(rpc::object({{"success", true}}));

  ManagementCall caller() {
    return [this](std::string_view factory, std::string_view method, rpc::Value arg) {
      calls.push_back({std::string(factory), std::string(method), std::move(arg)});
      return answer;
    };
  }
};

rpc::Value strings(std::vector<std::string> items) {
  rpc::Array out;
  for (std::string& item : items) {
    out.emplace_back(std::move(item));
  }
  return out;
}

// --- arguments checked locally -------------------------------------------------------------

TEST(RouteValueTest, BuildsTheWireRoute) {
  RouteSpec spec{.name = "books",
                 .endpoint = "http://10.0.0.5:8080",
                 .protocol = "http:grpc",
                 .region = "eu",
                 .tags = {"prod", "", "v2"},
                 .health = "down"};
  auto value = routeValue(spec);
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(toJsonText(*value),
            R"({"name":"books","endpoint":"http://10.0.0.5:8080","protocol":"http:grpc",)"
            R"("region":"eu","tags":["prod","v2"],"healthStatus":"down"})");

  auto plain = routeValue(RouteSpec{.name = "films", .endpoint = "tcp://10.0.0.6:9"});
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(toJsonText(*plain),
            R"({"name":"films","endpoint":"tcp://10.0.0.6:9","protocol":"http"})");
}

TEST(RouteValueTest, RefusesBadArgumentsBeforeAnyCall) {
  FakeNode node;
  auto bad_name = runRouteCreate(node.caller(), RouteSpec{.name = "Books!", .endpoint = "x"});
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().message.rfind("NAME 'Books!': ", 0), 0u) << bad_name.error().message;

  auto bad_protocol = runRouteCreate(
      node.caller(), RouteSpec{.name = "books", .endpoint = "x", .protocol = "https"});
  ASSERT_FALSE(bad_protocol);
  EXPECT_EQ(bad_protocol.error().message,
            "--protocol 'https': expected one of http, http:graphql, http:gql, http:grpc, tcp, "
            "udp");

  auto bad_health = runRouteCreate(
      node.caller(), RouteSpec{.name = "books", .endpoint = "x", .health = "sideways"});
  ASSERT_FALSE(bad_health);
  EXPECT_EQ(bad_health.error().message, "--health 'sideways': expected up or down");

  EXPECT_FALSE(runRouteCreate(node.caller(), RouteSpec{.name = "books", .endpoint = ""}));
  EXPECT_FALSE(runRouteCreate(node.caller(),
                              RouteSpec{.name = "books", .endpoint = std::string(3000, 'x')}));
  EXPECT_FALSE(runRouteDelete(node.caller(), "-books"));
  EXPECT_FALSE(runRouteWhy(node.caller(), "", false));
  EXPECT_TRUE(node.calls.empty());
}

TEST(PeerValueTest, BuildsTheWirePeerInfoWithItsToken) {
  PeerSpec spec{.name = "node-b",
                .endpoint = "ws://10.0.0.2:3000/rpc",
                .peer_token = "a.b.c",
                .domains = {"b.example", "c.example"},
                .envoy_address = "10.0.0.2"};
  auto value = peerValue(spec);
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(
      toJsonText(*value),
      R"({"name":"node-b","domains":["b.example","c.example"],)"
      R"("endpoint":"ws://10.0.0.2:3000/rpc","peerToken":"a.b.c","envoyAddress":"10.0.0.2"})");

  auto secure = peerValue(PeerSpec{.name = "b", .endpoint = "WSS://b:443/rpc", .peer_token = "t"});
  ASSERT_TRUE(secure) << secure.error().message;
  EXPECT_EQ(toJsonText(*secure),
            R"({"name":"b","domains":[],"endpoint":"WSS://b:443/rpc","peerToken":"t"})");
}

TEST(PeerValueTest, RefusesBadArgumentsBeforeAnyCall) {
  FakeNode node;
  for (const char* endpoint :
       {"http://10.0.0.2:3000/rpc", "10.0.0.2:3000", "ws://", "ws:///rpc", ""}) {
    auto result = runPeerCreate(
        node.caller(), PeerSpec{.name = "node-b", .endpoint = endpoint, .peer_token = "t"}, false);
    ASSERT_FALSE(result) << endpoint;
    EXPECT_EQ(result.error().message.rfind("ENDPOINT '" + std::string(endpoint) + "': expected", 0),
              0u)
        << result.error().message;
  }
  auto bad_name = runPeerCreate(
      node.caller(), PeerSpec{.name = "node b", .endpoint = "ws://b:1/rpc", .peer_token = "t"},
      false);
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().message.rfind("NAME 'node b': ", 0), 0u);
  auto no_token =
      runPeerCreate(node.caller(), PeerSpec{.name = "node-b", .endpoint = "ws://b:1/rpc"}, true);
  ASSERT_FALSE(no_token);
  EXPECT_EQ(no_token.error().message.rfind("--peer-token: required", 0), 0u);
  EXPECT_FALSE(runPeerDelete(node.caller(), "node_b!"));
  EXPECT_TRUE(node.calls.empty());
}

// --- what each command sends, and what it prints --------------------------------------------

TEST(NodeCommandsTest, MutationsCallTheRightMethodAndConfirm) {
  FakeNode node;
  auto created = runRouteCreate(node.caller(), RouteSpec{.name = "books", .endpoint = "http://x"});
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(*created, "route books created");
  auto deleted = runRouteDelete(node.caller(), "books");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(*deleted, "route books deleted");
  const PeerSpec peer{.name = "node-b", .endpoint = "ws://b:3000/rpc", .peer_token = "t"};
  EXPECT_EQ(*runPeerCreate(node.caller(), peer, false), "peer node-b created");
  EXPECT_EQ(*runPeerCreate(node.caller(), peer, true), "peer node-b updated");
  EXPECT_EQ(*runPeerDelete(node.caller(), "node-b"), "peer node-b deleted");

  ASSERT_EQ(node.calls.size(), 5u);
  EXPECT_EQ(node.calls[0].factory, "getDataChannelClient");
  EXPECT_EQ(node.calls[0].method, "addRoute");
  EXPECT_EQ(node.calls[1].method, "removeRoute");
  EXPECT_EQ(toJsonText(node.calls[1].arg), R"({"name":"books"})");
  EXPECT_EQ(node.calls[2].factory, "getNetworkClient");
  EXPECT_EQ(node.calls[2].method, "addPeer");
  EXPECT_EQ(node.calls[3].method, "updatePeer");
  EXPECT_EQ(node.calls[4].method, "removePeer");
  EXPECT_EQ(toJsonText(node.calls[4].arg), R"({"name":"node-b"})");
}

TEST(NodeCommandsTest, TheNodesRefusalIsTheError) {
  FakeNode node;
  node.answer = failedPrecondition("No state change");
  auto result = runRouteCreate(node.caller(), RouteSpec{.name = "books", .endpoint = "http://x"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "No state change (route books is already as given)");
  auto peer = runPeerCreate(
      node.caller(), PeerSpec{.name = "node-b", .endpoint = "ws://b:1/rpc", .peer_token = "t"},
      false);
  ASSERT_FALSE(peer);
  EXPECT_EQ(peer.error().message, "No state change (peer node-b is already as given)");
  node.answer = failedPrecondition("no local route named 'books'");
  auto gone = runRouteDelete(node.caller(), "books");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message, "no local route named 'books'");
}

TEST(CheckAnswerTest, SuccessFalseIsItsError) {
  auto ok = checkAnswer(rpc::object({{"success", true}, {"peers", rpc::Array{}}}), "listPeers()");
  ASSERT_TRUE(ok);
  auto refused = checkAnswer(rpc::object({{"success", false}, {"error", "No state change"}}), "x");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "No state change");
  auto silent = checkAnswer(rpc::object({{"success", false}}), "addRoute()");
  ASSERT_FALSE(silent);
  EXPECT_EQ(silent.error().message, "addRoute() failed (the node gave no reason)");
  auto odd = checkAnswer(rpc::Value(3), "addRoute()");
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().message, "unexpected answer to addRoute(): 3");
}

TEST(NodeCommandsTest, PeerListAsTableAndJson) {
  FakeNode node;
  rpc::Value connected = rpc::object({{"name", "node-b"},
                                      {"domains", strings({"b.example"})},
                                      {"endpoint", "ws://127.0.0.1:4001/rpc"},
                                      {"connectionStatus", "connected"},
                                      {"outboundConnected", true},
                                      {"advertisedRoutes", 3}});
  rpc::Value failing = rpc::object({{"name", "node-long-name"},
                                    {"domains", rpc::Array{}},
                                    {"endpoint", "ws://127.0.0.1:1/rpc"},
                                    {"connectionStatus", "initializing"},
                                    {"outboundConnected", false},
                                    {"advertisedRoutes", 0},
                                    {"lastError", "connect 127.0.0.1:1: Connection refused"}});
  rpc::Value bare =
      rpc::object({{"name", "c"}, {"domains", rpc::Array{}}, {"connectionStatus", "closed"}});
  node.answer =
      rpc::Value(rpc::object({{"success", true}, {"peers", rpc::Array{connected, failing, bare}}}));

  auto text = runPeerList(node.caller(), false);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text,
            "NAME            ENDPOINT                 STATUS        OUTBOUND  ADVERTISED  LAST "
            "ERROR\n"
            "node-b          ws://127.0.0.1:4001/rpc  connected     yes       3           -\n"
            "node-long-name  ws://127.0.0.1:1/rpc     initializing  no        0           "
            "connect 127.0.0.1:1: Connection refused\n"
            "c               -                        closed        -         -           -\n");

  auto json = runPeerList(node.caller(), true);
  ASSERT_TRUE(json);
  EXPECT_EQ(json->rfind(R"([{"name":"node-b","domains":["b.example"],)", 0), 0u) << *json;
  EXPECT_NE(json->find(R"("advertisedRoutes":3})"), std::string::npos) << *json;

  node.answer = rpc::Value(rpc::object({{"success", true}, {"peers", rpc::Array{}}}));
  EXPECT_EQ(*runPeerList(node.caller(), false), "no peers\n");
  EXPECT_EQ(*runPeerList(node.caller(), true), "[]");
  EXPECT_EQ(node.calls.back().method, "listPeers");
}

TEST(NodeCommandsTest, RouteListAsTableAndJson) {
  FakeNode node;
  rpc::Value local = rpc::object({{"name", "books"},
                                  {"endpoint", "http://127.0.0.1:8080"},
                                  {"protocol", "http"},
                                  {"envoyPort", 10000},
                                  {"envoyAddress", "127.0.0.1"}});
  rpc::Value learned =
      rpc::object({{"name", "films"},
                   {"endpoint", "http://10.0.0.9:80"},
                   {"protocol", "http:grpc"},
                   {"envoyPort", 10001},
                   {"envoyAddress", "::1"},
                   {"healthStatus", "down"},
                   {"peer", rpc::object({{"name", "node-b"}, {"domains", rpc::Array{}}})},
                   {"nodePath", strings({"node-b", "node-c"})},
                   {"originNode", "node-c"},
                   {"isStale", true}});
  node.answer = rpc::Value(rpc::object(
      {{"success", true}, {"local", rpc::Array{local}}, {"internal", rpc::Array{learned}}}));

  auto text = runRouteList(node.caller(), false);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "SOURCE      NAME   PROTOCOL   ENDPOINT               NODE PATH        ENVOY    "
                   "        HEALTH  STALE\n"
                   "local       books  http       http://127.0.0.1:8080  -                "
                   "127.0.0.1:10000  -       no\n"
                   "via node-b  films  http:grpc  http://10.0.0.9:80     node-b > node-c  "
                   "[::1]:10001      down    yes\n");

  auto json = runRouteList(node.caller(), true);
  ASSERT_TRUE(json);
  EXPECT_EQ(json->rfind(R"({"local":[{"name":"books",)", 0), 0u) << *json;
  EXPECT_NE(json->find(R"("internal":[{"name":"films",)"), std::string::npos) << *json;
  EXPECT_NE(json->find(R"("nodePath":["node-b","node-c"])"), std::string::npos) << *json;
  EXPECT_NE(json->find(R"("envoyPort":10001,)"), std::string::npos) << *json;
  EXPECT_EQ(json->find("success"), std::string::npos) << *json;

  node.answer = rpc::Value(
      rpc::object({{"success", true}, {"local", rpc::Array{}}, {"internal", rpc::Array{}}}));
  EXPECT_EQ(*runRouteList(node.caller(), false), "no routes\n");
  EXPECT_EQ(*runRouteList(node.caller(), true), R"({"local":[],"internal":[]})");

  node.answer = rpc::Value(rpc::object({{"success", true}}));
  auto missing = runRouteList(node.caller(), true);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "unexpected answer to listRoutes(): no \"local\"");
}

TEST(NodeCommandsTest, RouteWhyExplainsEachOrigin) {
  FakeNode node;
  auto candidate = [](std::string peer, std::vector<std::string> path, bool chosen,
                      std::string reason, bool stale = false, std::string health = "up") {
    return rpc::Value(rpc::object({{"peer", std::move(peer)},
                                   {"nodePath", strings(std::move(path))},
                                   {"isStale", stale},
                                   {"healthStatus", std::move(health)},
                                   {"chosen", chosen},
                                   {"reason", std::move(reason)}}));
  };
  rpc::Value local = rpc::object({{"name", "books"},
                                  {"originNode", "node-z"},
                                  {"local", true},
                                  {"reason", "a local route always wins"},
                                  {"route", rpc::object({{"name", "books"}})}});
  rpc::Value learned = rpc::object(
      {{"name", "books"},
       {"originNode", "node-a"},
       {"local", false},
       {"best", "node-b"},
       {"candidates", rpc::Array{
                          candidate("node-a", {"node-a", "node-y", "node-a"}, false,
                                    "lost to node-b: not stale over stale", true, "down"),
                          candidate("node-b", {"node-b", "node-a"}, true, "best path"),
                          candidate("node-c", {"node-c", "node-x", "node-a"}, false,
                                    "lost to node-b: shorter nodePath (2 < 3)"),
                      }}});
  node.answer =
      rpc::Value(rpc::object({{"success", true}, {"routes", rpc::Array{local, learned}}}));

  auto text = runRouteWhy(node.caller(), "books", false);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "books (origin node-z): local route of this node: a local route always wins\n"
                   "books (origin node-a): best via node-b [node-b > node-a]; "
                   "node-a [node-a > node-y > node-a] (stale) (down): lost to node-b: not stale "
                   "over stale; "
                   "node-c [node-c > node-x > node-a]: lost to node-b: shorter nodePath (2 < 3)\n");
  EXPECT_EQ(node.calls.back().method, "explainRoute");
  EXPECT_EQ(toJsonText(node.calls.back().arg), R"({"name":"books"})");

  auto json = runRouteWhy(node.caller(), "books", true);
  ASSERT_TRUE(json);
  EXPECT_EQ(json->rfind(R"([{"name":"books","originNode":"node-z","local":true,)", 0), 0u) << *json;

  node.answer = failedPrecondition("no route named 'books' on this node");
  auto unknown = runRouteWhy(node.caller(), "books", false);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "no route named 'books' on this node");
}

TEST(ToJsonTextTest, WritesPlainJson) {
  rpc::Value value = rpc::object({{"a", 1},
                                  {"b", 2.5},
                                  {"c", rpc::Value()},
                                  {"d", rpc::Array{rpc::Value(), nullptr, false}},
                                  {"e", "x\"y"},
                                  {"f", std::nan("")},
                                  {"g", -0.0},
                                  {"h", 1e21},
                                  {"i", rpc::object({{"j", rpc::Array{}}})}});
  EXPECT_EQ(toJsonText(value), R"({"a":1,"b":2.5,"d":[null,null,false],"e":"x\"y","f":null,)"
                               R"("g":0,"h":1e+21,"i":{"j":[]}})");
}

// --- callManagement's own failures ----------------------------------------------------------

TEST(CallManagementTest, NeedsAToken) {
  GlobalOptions global;
  global.orchestrator_url = "http://127.0.0.1:1";
  auto result = callManagement(global, kDataChannelClient, "listRoutes", rpc::Value());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, kNoTokenMessage);
  EXPECT_NE(result.error().message.find("CATALYST_TOKEN"), std::string::npos);
  EXPECT_NE(result.error().message.find("--token"), std::string::npos);
}

TEST(CallManagementTest, BadUrlIsNamed) {
  GlobalOptions global;
  global.orchestrator_url = "https://node:3000";
  global.token = "t";
  auto result = callManagement(global, kDataChannelClient, "listRoutes", rpc::Value());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message.rfind("--orchestrator-url: invalid URL 'https://node:3000'", 0),
            0u)
      << result.error().message;
}

TEST(CallManagementTest, ConnectionRefusedSaysCannotReach) {
  const SilentSocket closed(/*listening=*/false);
  GlobalOptions global;
  global.orchestrator_url = "ws://127.0.0.1:" + std::to_string(closed.port()) + "/rpc";
  global.token = "t";
  auto result = callManagement(global, kNetworkClient, "listPeers", rpc::Value());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "cannot reach http://127.0.0.1:" +
                                        std::to_string(closed.port()) + "/rpc: Connection refused");
}

TEST(CallManagementTest, SilentNodeTimesOut) {
  const SilentSocket hung(/*listening=*/true);
  GlobalOptions global;
  global.orchestrator_url = "http://127.0.0.1:" + std::to_string(hung.port());
  global.token = "t";
  global.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  auto result = callManagement(global, kNetworkClient, "listPeers", rpc::Value());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "POST http://127.0.0.1:" + std::to_string(hung.port()) +
                                        "/rpc: no response within 0.2s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

} // namespace
} // namespace catalyst::cli
