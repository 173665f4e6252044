// The peering surface refuses what it must (peering.md §3, §4): the test speaks to a real node
// over a real WebSocket as a would-be neighbour and checks that each bad request gets a clear
// error, is counted in /metrics, and changes nothing.

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/target.h"
#include "catalyst/rpcnet/client.h"

#include "support/cluster.h"

namespace catalyst::test {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

// One WebSocket session to a node, driven from the test thread.
class Caller {
public:
  explicit Caller(uint16_t port) : dispatcher_(event::makeDispatcher(time_)) {
    bool done = false;
    rpcnet::RpcClient::connect(*dispatcher_, "ws://127.0.0.1:" + std::to_string(port) + "/rpc", {},
                               [&](Result<rpcnet::RpcClientPtr> c) {
                                 if (c) {
                                   client_ = std::move(*c);
                                 }
                                 done = true;
                               });
    runUntil([&] { return done; });
  }
  ~Caller() {
    client_.reset();
    dispatcher_->poll();
  }
  Caller(const Caller&) = delete;
  Caller& operator=(const Caller&) = delete;
  Caller(Caller&&) = delete;
  Caller& operator=(Caller&&) = delete;

  bool connected() const { return client_ != nullptr; }

  // getIBGPClient(token): the answer.
  rpc::Value getClient(const std::string& token) {
    rpc::Value answer = wait(rpc::pull(client_->main().call("getIBGPClient", {token})));
    if (const rpc::Value* client = answer.find("client")) {
      ibgp_ = *client;
    }
    return answer;
  }

  // Calls function `name` of the IBGP client with `arg`.
  rpc::Value call(const std::string& name, rpc::Value arg) {
    const rpc::Value* fn = ibgp_.find(name);
    if (fn == nullptr || !fn->is<rpc::Stub>()) {
      return rpc::object({{"success", false}, {"error", "no client"}});
    }
    return wait(rpc::pull(fn->as<rpc::Stub>()->call("", {std::move(arg)})));
  }

private:
  template <class Pred> void runUntil(Pred pred) {
    eventually(
        [&] {
          dispatcher_->poll();
          return pred();
        },
        seconds(10));
  }
  rpc::Value wait(rpc::Promise<rpc::Value> p) {
    runUntil([&] { return p.settled(); });
    if (!p.settled()) {
      return rpc::object({{"success", false}, {"error", "no answer"}});
    }
    if (!p.outcome().ok()) {
      return rpc::object({{"success", false}, {"error", p.outcome().error.debugString()}});
    }
    return *p.outcome().value;
  }

  RealTimeSource time_;
  event::DispatcherPtr dispatcher_;
  rpcnet::RpcClientPtr client_;
  rpc::Value ibgp_;
};

std::string errorOf(const rpc::Value& answer) {
  const rpc::Value* ok = answer.find("success");
  if (ok == nullptr || !ok->is<bool>() || *ok->as<bool>()) {
    return "";
  }
  const rpc::Value* e = answer.find("error");
  return e != nullptr && e->is<std::string>() ? *e->as<std::string>() : "?";
}

rpc::Value peerInfo(const std::string& name) {
  return rpc::object({{"name", name}, {"domains", rpc::Array{}}});
}

rpc::Value addItem(const std::string& route, rpc::Array node_path) {
  rpc::Value origin = node_path.back();
  return rpc::object({{"action", "add"},
                      {"route", rpc::object({{"name", route}, {"protocol", "http"}})},
                      {"nodePath", std::move(node_path)},
                      {"originNode", std::move(origin)}});
}

rpc::Value update(const std::string& sender, rpc::Array items) {
  return rpc::object(
      {{"peerInfo", peerInfo(sender)}, {"update", rpc::object({{"updates", std::move(items)}})}});
}

class PeeringSecurityTest : public ::testing::Test {
protected:
  void SetUp() override {
    // B knows one peer, node-a, which is not running: the test speaks as node-a.
    c.add("a");
    c.add("b");
    c.link("a", "b");
    c.start("b");
  }

  std::string tokenFor(const std::string& subject, const std::string& role = "peer") {
    return c.mint("b", subject, role);
  }

  // A session opened as node-a with a valid token.
  std::unique_ptr<Caller> openedAsA() {
    auto caller = std::make_unique<Caller>(c.port("b"));
    EXPECT_EQ(errorOf(caller->getClient(tokenFor("node-a"))), "");
    EXPECT_EQ(errorOf(caller->call("open", rpc::object({{"peerInfo", peerInfo("node-a")}}))), "");
    return caller;
  }

  void expectNothingApplied() {
    EXPECT_EQ(c.learnedCount("b"), 0u) << json::serialize(c.state("b"));
  }

  double refused(const std::string& reason) {
    return c.metric("b", "catalyst_peering_requests_refused_total{reason=\"" + reason + "\"}");
  }

  Cluster c{CATALYST_NODE_BINARY};
};

TEST_F(PeeringSecurityTest, AValidPeerIsAccepted) {
  auto a = openedAsA();
  EXPECT_EQ(errorOf(a->call("update", update("node-a", {addItem("books", {"node-a"})}))), "");
  EXPECT_TRUE(eventually([&] { return c.learnedCount("b") == 1; }, seconds(10)));
}

TEST_F(PeeringSecurityTest, ASecondOpenReplacesTheFirstSession) {
  auto first = openedAsA();
  ASSERT_EQ(errorOf(first->call("update", update("node-a", {addItem("books", {"node-a"})}))), "");
  ASSERT_TRUE(eventually([&] { return c.learnedCount("b") == 1; }, seconds(10)));
  // node-a opens again on a new connection (it restarted, or lost the first one unnoticed):
  // the old session ends (its routes go, its connection is closed), the new one starts empty.
  auto second = openedAsA();
  EXPECT_TRUE(eventually([&] { return c.learnedCount("b") == 0; }, seconds(10)));
  EXPECT_NE(errorOf(first->call("keepalive", rpc::object({{"peerInfo", peerInfo("node-a")}}))), "");
  EXPECT_EQ(errorOf(second->call("update", update("node-a", {addItem("films", {"node-a"})}))), "");
  EXPECT_TRUE(eventually([&] { return c.learnedCount("b") == 1; }, seconds(10)));
  EXPECT_EQ(c.metric("b", "catalyst_peering_sessions_ended_total{code=\"transport_error\"}"), 1);
}

TEST_F(PeeringSecurityTest, NoTokenIsRefused) {
  Caller a(c.port("b"));
  ASSERT_TRUE(a.connected());
  EXPECT_NE(errorOf(a.getClient("")).find("invalid token"), std::string::npos);
  EXPECT_EQ(refused("missing"), 1);
}

TEST_F(PeeringSecurityTest, ATokenSignedByAnotherKeyIsRefused) {
  Caller a(c.port("b"));
  // Minted by node-c's key, not B's.
  c.add("c");
  const std::string forged = c.mint("c", "node-a");
  EXPECT_NE(errorOf(a.getClient(forged)).find("invalid token"), std::string::npos);
  EXPECT_EQ(refused("bad_signature") + refused("wrong_issuer"), 1);
}

TEST_F(PeeringSecurityTest, AnExpiredTokenIsRefused) {
  Caller a(c.port("b"));
  const int64_t long_ago = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count() -
                           3600;
  const std::string expired = c.mint("b", "node-a", "peer", seconds(60), long_ago);
  EXPECT_NE(errorOf(a.getClient(expired)).find("invalid token"), std::string::npos);
  EXPECT_EQ(refused("expired"), 1);
}

TEST_F(PeeringSecurityTest, AnAdminTokenMayNotPeer) {
  Caller a(c.port("b"));
  EXPECT_NE(errorOf(a.getClient(tokenFor("node-a", "admin"))).find("may not peer"),
            std::string::npos);
  EXPECT_EQ(refused("wrong_role"), 1);
}

TEST_F(PeeringSecurityTest, PeerInfoMustNameTheTokensSubject) {
  Caller a(c.port("b"));
  ASSERT_EQ(errorOf(a.getClient(tokenFor("node-a"))), "");
  EXPECT_NE(errorOf(a.call("open", rpc::object({{"peerInfo", peerInfo("node-x")}})))
                .find("does not match the token's subject"),
            std::string::npos);
  EXPECT_EQ(refused("subject_mismatch"), 1);
}

TEST_F(PeeringSecurityTest, AnUnknownPeerIsRefused) {
  Caller z(c.port("b"));
  ASSERT_EQ(errorOf(z.getClient(tokenFor("node-z"))), "");
  EXPECT_NE(errorOf(z.call("open", rpc::object({{"peerInfo", peerInfo("node-z")}})))
                .find("is not a peer of this node"),
            std::string::npos);
  EXPECT_EQ(refused("unknown_peer"), 1);
  // Nor may it send updates without a session.
  EXPECT_NE(errorOf(z.call("update", update("node-z", {addItem("books", {"node-z"})})))
                .find("no established session"),
            std::string::npos);
  EXPECT_EQ(refused("session_not_established"), 1);
  expectNothingApplied();
}

TEST_F(PeeringSecurityTest, ASpoofedNodePathRefusesTheWholeBatch) {
  auto a = openedAsA();
  const std::string error = errorOf(a->call(
      "update", update("node-a", {addItem("books", {"node-a"}), addItem("films", {"node-x"})})));
  EXPECT_NE(error.find("nodePath[0]: 'node-x' is not the sender 'node-a'"), std::string::npos)
      << error;
  EXPECT_EQ(c.metric("b", "catalyst_rejections_total{reason=\"invalid_update\"}"), 1);
  expectNothingApplied();
}

TEST_F(PeeringSecurityTest, AnOversizeBatchIsRefused) {
  auto a = openedAsA();
  rpc::Array items;
  for (int i = 0; i < 1001; ++i) {
    items.push_back(addItem("svc-" + std::to_string(i), {"node-a"}));
  }
  EXPECT_NE(errorOf(a->call("update", update("node-a", std::move(items))))
                .find("1001 items in one update (at most 1000)"),
            std::string::npos);
  EXPECT_EQ(refused("oversize_batch"), 1);
  expectNothingApplied();
}

TEST_F(PeeringSecurityTest, APathLongerThan64IsRefused) {
  auto a = openedAsA();
  rpc::Array path{"node-a"};
  for (int i = 1; i < 65; ++i) {
    path.emplace_back("node-" + std::to_string(i));
  }
  EXPECT_NE(errorOf(a->call("update", update("node-a", {addItem("books", std::move(path))})))
                .find("more than 64"),
            std::string::npos);
  EXPECT_EQ(refused("invalid_update"), 1);
  expectNothingApplied();
}

TEST_F(PeeringSecurityTest, ManagementNeedsAnAdminToken) {
  const rpc::Value answer = batchCall(c.port("b"), "getDataChannelClient", tokenFor("node-a"),
                                      "addRoute", rpc::object({{"name", "x"}}));
  EXPECT_NE(errorOf(answer).find("may not manage"), std::string::npos) << answer.debugString();
  EXPECT_EQ(c.metric("b", "catalyst_management_requests_refused_total{reason=\"wrong_role\"}"), 1);
  EXPECT_EQ(c.state("b").at("routes").at("local").as_array().size(), 0u);
}

} // namespace
} // namespace catalyst::test
