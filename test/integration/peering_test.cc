// Peering between real catalyst-node processes on 127.0.0.1 (peering.md §6): each test builds a
// small network with test::Cluster, then polls the nodes' GET /api/state until what must
// happen has happened (or a deadline passes).

#include <csignal>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/cluster.h"

namespace catalyst::test {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr seconds kDeadline{20};

std::string nodePath(const json::value& route) {
  std::string out;
  for (const json::value& hop : route.at("nodePath").as_array()) {
    out += (out.empty() ? "" : ",") + std::string(hop.as_string());
  }
  return out;
}

// Whether `node` has the best path for `route` of `origin` with this node path ("node-b,node-a").
bool hasPath(const Cluster& c, const std::string& node, const std::string& route,
             const std::string& origin, const std::string& path) {
  json::value r = c.learned(node, route, Cluster::id(origin));
  return r.is_object() && nodePath(r) == path;
}

bool lacks(const Cluster& c, const std::string& node, const std::string& route,
           const std::string& origin) {
  return c.state(node).is_object() && c.learned(node, route, Cluster::id(origin)).is_null();
}

rpc::Value routeArg(const std::string& name, const std::string& health = "up") {
  return rpc::object({{"name", name},
                      {"endpoint", "http://127.0.0.1:9/" + name},
                      {"protocol", "http"},
                      {"healthStatus", health}});
}

class PeeringTest : public ::testing::Test {
protected:
  Cluster c{CATALYST_NODE_BINARY};

  // A - B - C, started.
  void startChain(NodeOptions a, NodeOptions b = {}, NodeOptions cc = {}) {
    c.add("a", std::move(a));
    c.add("b", std::move(b));
    c.add("c", std::move(cc));
    c.link("a", "b");
    c.link("b", "c");
    c.startAll();
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const char* n : {"a", "b", "c", "d"}) {
        try {
          std::cerr << "---- log of " << n << " ----\n" << c.log(n).substr(0, 20000) << "\n";
        } catch (const std::exception&) {
        }
      }
    }
  }
};

TEST_F(PeeringTest, ChainCarriesARouteTwoHopsAndItsWithdrawal) {
  startChain(NodeOptions().withRoutes({"books"}));

  ASSERT_TRUE(
      eventually([&] { return hasPath(c, "c", "books", "a", "node-b,node-a"); }, kDeadline));
  ASSERT_TRUE(hasPath(c, "b", "books", "a", "node-a"));
  const json::value at_c = c.learned("c", "books", "node-a");
  EXPECT_EQ(at_c.at("peer").as_string(), "node-b");
  EXPECT_EQ(at_c.at("originNode").as_string(), "node-a");
  EXPECT_EQ(at_c.at("isStale").as_bool(), false);
  // Nothing returns to its origin.
  EXPECT_EQ(c.learnedCount("a"), 0u);

  const rpc::Value removed =
      c.admin("a", "getDataChannelClient", "removeRoute", rpc::object({{"name", "books"}}));
  ASSERT_TRUE(succeeded(removed)) << removed.debugString();
  EXPECT_TRUE(eventually([&] { return lacks(c, "c", "books", "a"); }, kDeadline));
  EXPECT_TRUE(lacks(c, "b", "books", "a"));
}

TEST_F(PeeringTest, TriangleFallsBackToTheLongerPathAndBack) {
  c.add("a", NodeOptions().withRoutes({"books"}));
  c.add("b");
  c.add("c");
  c.link("a", "b");
  c.link("b", "c");
  c.link("a", "c");
  c.startAll();
  ASSERT_TRUE(eventually([&] { return hasPath(c, "c", "books", "a", "node-a"); }, kDeadline));

  // The direct session goes: C falls back to the path through B.
  ASSERT_TRUE(
      succeeded(c.admin("c", "getNetworkClient", "removePeer", rpc::object({{"name", "node-a"}}))));
  EXPECT_TRUE(
      eventually([&] { return hasPath(c, "c", "books", "a", "node-b,node-a"); }, kDeadline));

  // And back when it returns.
  const rpc::Value added =
      c.admin("c", "getNetworkClient", "addPeer",
              rpc::object({{"name", "node-a"},
                           {"domains", rpc::Array{}},
                           {"endpoint", "ws://127.0.0.1:" + std::to_string(c.port("a")) + "/rpc"},
                           {"peerToken", c.mint("a", "node-c")}}));
  ASSERT_TRUE(succeeded(added)) << added.debugString();
  EXPECT_TRUE(eventually([&] { return hasPath(c, "c", "books", "a", "node-a"); }, kDeadline));
}

TEST_F(PeeringTest, LoopMeshNeverBringsARouteBackToItsOrigin) {
  c.add("a", NodeOptions().withRoutes({"books"}));
  c.add("b", NodeOptions().withRoutes({"films"}));
  c.add("c", NodeOptions().withRoutes({"music"}));
  c.link("a", "b");
  c.link("b", "c");
  c.link("c", "a");
  c.startAll();
  auto converged = [&] {
    return hasPath(c, "a", "films", "b", "node-b") && hasPath(c, "a", "music", "c", "node-c") &&
           hasPath(c, "b", "books", "a", "node-a") && hasPath(c, "b", "music", "c", "node-c") &&
           hasPath(c, "c", "books", "a", "node-a") && hasPath(c, "c", "films", "b", "node-b");
  };
  ASSERT_TRUE(eventually(converged, kDeadline));
  // Every node knows exactly the other two routes: none of its own came back to it.
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_EQ(c.learnedCount(n), 2u) << n << ": " << json::serialize(c.state(n));
  }
  // B keeps the alternate through C for books (Adj-RIB-In); a route's withdrawal at its origin
  // removes it everywhere, alternates included.
  ASSERT_TRUE(succeeded(
      c.admin("a", "getDataChannelClient", "removeRoute", rpc::object({{"name", "books"}}))));
  EXPECT_TRUE(eventually([&] { return lacks(c, "b", "books", "a") && lacks(c, "c", "books", "a"); },
                         kDeadline));
}

TEST_F(PeeringTest, LateJoinerLearnsEverything) {
  c.add("a", NodeOptions().withRoutes({"books", "films"}));
  c.add("b");
  c.add("c");
  c.link("a", "b");
  c.link("b", "c");
  c.start("a");
  c.start("b");
  ASSERT_TRUE(eventually([&] { return c.learnedCount("b") == 2; }, kDeadline));
  c.start("c");
  EXPECT_TRUE(eventually(
      [&] {
        return hasPath(c, "c", "books", "a", "node-b,node-a") &&
               hasPath(c, "c", "films", "a", "node-b,node-a");
      },
      kDeadline));
}

TEST_F(PeeringTest, ADepartingNodesRoutesAreDroppedDownstream) {
  startChain(NodeOptions().withRoutes({"books"}));
  ASSERT_TRUE(
      eventually([&] { return hasPath(c, "c", "books", "a", "node-b,node-a"); }, kDeadline));
  c.stop("a");
  EXPECT_TRUE(eventually([&] { return lacks(c, "c", "books", "a"); }, kDeadline));
  EXPECT_TRUE(lacks(c, "b", "books", "a"));
}

TEST_F(PeeringTest, KilledTransitNodeIsWithdrawnAtOnceAndResyncsAfterRestart) {
  startChain(NodeOptions().withRoutes({"books"}), NodeOptions().withRoutes({"films"}),
             NodeOptions().withRoutes({"music"}));
  auto converged = [&] {
    return hasPath(c, "c", "books", "a", "node-b,node-a") &&
           hasPath(c, "a", "music", "c", "node-b,node-c") && c.learnedCount("a") == 2 &&
           c.learnedCount("b") == 2 && c.learnedCount("c") == 2;
  };
  ASSERT_TRUE(eventually(converged, kDeadline));

  const auto killed = std::chrono::steady_clock::now();
  c.kill("b");
  // Its embedded data plane died with it: everything through it goes at once.
  ASSERT_TRUE(
      eventually([&] { return c.learnedCount("a") == 0 && c.learnedCount("c") == 0; }, kDeadline));
  const auto gone = std::chrono::steady_clock::now() - killed;
  EXPECT_LT(gone, seconds(1)) << "withdrawn after "
                              << std::chrono::duration_cast<milliseconds>(gone).count() << "ms";

  c.start("b");
  ASSERT_TRUE(eventually(converged, kDeadline));
  // Exactly the expected tables: nothing lost, nothing left over.
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_EQ(c.learnedCount(n), 2u) << n << ": " << json::serialize(c.state(n));
  }
  EXPECT_TRUE(hasPath(c, "b", "books", "a", "node-a"));
  EXPECT_TRUE(hasPath(c, "b", "music", "c", "node-c"));
  EXPECT_TRUE(hasPath(c, "c", "films", "b", "node-b"));
  EXPECT_TRUE(hasPath(c, "a", "films", "b", "node-b"));
}

TEST_F(PeeringTest, KeepalivesHoldTheSessionAndSilenceExpiresItThenItReconnects) {
  c.add("a", NodeOptions().withHoldTime(milliseconds(600)));
  c.add("b", NodeOptions().withRoutes({"films"}).withHoldTime(milliseconds(600)));
  c.link("a", "b");
  c.startAll();
  ASSERT_TRUE(eventually([&] { return hasPath(c, "a", "films", "b", "node-b"); }, kDeadline));
  // Keepalives every 200 ms keep a 600 ms hold time from expiring.
  ASSERT_TRUE(eventually(
      [&] { return c.metric("a", "catalyst_peering_keepalives_received_total") >= 6; }, kDeadline));
  EXPECT_EQ(c.metric("a", "catalyst_peering_sessions_ended_total{code=\"hold_expired\"}"), 0);
  EXPECT_TRUE(hasPath(c, "a", "films", "b", "node-b"));

  // B freezes (its sockets stay open, nothing is sent): A's hold timer ends the session.
  c.signal("b", SIGSTOP);
  EXPECT_TRUE(eventually([&] { return lacks(c, "a", "films", "b"); }, seconds(5)));
  EXPECT_GE(c.metric("a", "catalyst_peering_sessions_ended_total{code=\"hold_expired\"}"), 1);
  c.signal("b", SIGCONT);
  // B finds its connections closed; both sides redial and resynchronize.
  EXPECT_TRUE(eventually([&] { return hasPath(c, "a", "films", "b", "node-b"); }, kDeadline));
}

TEST_F(PeeringTest, AHealthChangeReachesEveryNodeAtTheSamePathLength) {
  startChain(NodeOptions().withRoutes({"books"}));
  ASSERT_TRUE(
      eventually([&] { return hasPath(c, "c", "books", "a", "node-b,node-a"); }, kDeadline));
  const rpc::Value changed =
      c.admin("a", "getDataChannelClient", "addRoute", routeArg("books", "down"));
  ASSERT_TRUE(succeeded(changed)) << changed.debugString();
  EXPECT_TRUE(eventually(
      [&] {
        json::value r = c.learned("c", "books", "node-a");
        return r.is_object() && r.as_object().contains("healthStatus") &&
               r.at("healthStatus").as_string() == "down";
      },
      kDeadline));
  EXPECT_TRUE(hasPath(c, "c", "books", "a", "node-b,node-a"));
}

TEST_F(PeeringTest, TenThousandRoutesArriveCompleteInChunks) {
  std::vector<std::string> routes;
  for (int i = 0; i < 10'000; ++i) {
    routes.push_back("svc-" + std::to_string(i));
  }
  c.add("a", NodeOptions().withRoutes(routes));
  c.add("b");
  c.add("c");
  c.link("a", "b");
  c.link("b", "c");
  c.startAll();
  ASSERT_TRUE(eventually([&] { return c.learnedCount("c") == 10'000; }, seconds(60)))
      << c.learnedCount("c") << " routes at C";
  EXPECT_TRUE(hasPath(c, "c", "svc-9999", "a", "node-b,node-a"));
  // At most 1000 items per update call: at least ten calls carried them to C.
  EXPECT_EQ(c.metric("c", "catalyst_peering_update_items_received_total"), 10'000);
  EXPECT_GE(c.metric("c", "catalyst_peering_updates_received_total"), 10);
  // Between our nodes every update call is in the tight spelling, read in one pass.
  EXPECT_EQ(c.metric("c", "catalyst_peering_update_items_read_in_one_pass_total"), 10'000);
  EXPECT_EQ(c.metric("c", "catalyst_rejections_total{reason=\"oversize_batch\"}"), 0);
}

TEST_F(PeeringTest, GracefulRestartPeerKeepsItsRoutesStaleForItsWindow) {
  // B runs an Envoy data plane (it keeps forwarding while B restarts) and announces a 3 s
  // graceful-restart window to its peers.
  c.add("a", NodeOptions().withRoutes({"books"}));
  NodeOptions b;
  b.dataplane = "envoy-files";
  b.graceful_restart = milliseconds(3000);
  c.add("b", b);
  c.add("c");
  c.link("a", "b");
  c.link("b", "c");
  c.startAll();
  ASSERT_TRUE(
      eventually([&] { return hasPath(c, "c", "books", "a", "node-b,node-a"); }, kDeadline));

  c.kill("b");
  auto stale = [&] {
    json::value r = c.learned("c", "books", "node-a");
    return r.is_object() && r.at("isStale").as_bool();
  };
  ASSERT_TRUE(eventually(stale, kDeadline)) << json::serialize(c.state("c"));
  // A's own route at A's neighbour B is another matter: A does not forward through B.
  c.start("b");
  EXPECT_TRUE(eventually(
      [&] {
        json::value r = c.learned("c", "books", "node-a");
        return r.is_object() && !r.at("isStale").as_bool();
      },
      kDeadline));

  // Without a restart, the stale route goes when the window ends.
  c.kill("b");
  ASSERT_TRUE(eventually(stale, kDeadline));
  EXPECT_TRUE(eventually([&] { return lacks(c, "c", "books", "a"); }, seconds(10)));
}

TEST_F(PeeringTest, AfterAGracefulRestartWhatWasNotAdvertisedAgainGoesAtTheEndOfTheTable) {
  c.add("a", NodeOptions().withRoutes({"books", "films"}));
  NodeOptions b;
  b.dataplane = "envoy-files";
  b.graceful_restart = milliseconds(60'000); // far longer than this test
  c.add("b", b);
  c.add("c");
  c.link("a", "b");
  c.link("b", "c");
  c.startAll();
  ASSERT_TRUE(eventually(
      [&] {
        return hasPath(c, "c", "books", "a", "node-b,node-a") &&
               hasPath(c, "c", "films", "a", "node-b,node-a");
      },
      kDeadline));
  c.kill("b");
  auto staleAtC = [&](const std::string& route) {
    json::value r = c.learned("c", route, "node-a");
    return r.is_object() && r.at("isStale").as_bool();
  };
  ASSERT_TRUE(eventually([&] { return staleAtC("books") && staleAtC("films"); }, kDeadline));
  // While B is down, A stops publishing films: B will not learn it again.
  ASSERT_TRUE(succeeded(
      c.admin("a", "getDataChannelClient", "removeRoute", rpc::object({{"name", "films"}}))));
  c.start("b");
  // B's full table to C ends with endOfRib: books is fresh again, films goes at once, long
  // before the 60 s window would have taken it.
  EXPECT_TRUE(eventually(
      [&] {
        json::value books = c.learned("c", "books", "node-a");
        return books.is_object() && !books.at("isStale").as_bool() && lacks(c, "c", "films", "a");
      },
      kDeadline))
      << json::serialize(c.state("c"));
  EXPECT_EQ(c.metric("c", "catalyst_events_total{kind=\"peer_end_of_table\"}") >= 1, true);
}

TEST_F(PeeringTest, PeersAndRoutesAddedAtRunTimeSurviveARestart) {
  c.add("a");
  c.add("b");
  c.linkOneWay("b", "a"); // A's config knows no peer and no route
  c.startAll();
  ASSERT_TRUE(succeeded(c.admin("a", "getNetworkClient", "addPeer", c.peerArg("a", "b"))));
  ASSERT_TRUE(succeeded(c.admin("a", "getDataChannelClient", "addRoute", routeArg("books"))));
  ASSERT_TRUE(eventually([&] { return hasPath(c, "b", "books", "a", "node-a"); }, kDeadline));
  // Written shortly after the change (changes are coalesced), with the peer's token:
  // readable by the node's user only.
  struct stat st {};
  ASSERT_TRUE(eventually(
      [&] { return ::stat((c.stateDir("a") + "/runtime-peers.json").c_str(), &st) == 0; },
      kDeadline));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(c.stateDir("b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "the state directory is the node's alone";

  c.stop("a");
  ASSERT_TRUE(eventually([&] { return lacks(c, "b", "books", "a"); }, kDeadline));
  c.start("a"); // the same config: no peers, no routes
  EXPECT_TRUE(eventually([&] { return hasPath(c, "b", "books", "a", "node-a"); }, kDeadline));
  const json::value peers = c.state("a").at("peers");
  ASSERT_EQ(peers.as_array().size(), 1u);
  EXPECT_EQ(peers.as_array()[0].at("name").as_string(), "node-b");
  // No view shows a token.
  EXPECT_EQ(json::serialize(c.state("a")).find("eyJ"), std::string::npos);
  const rpc::Value listed = c.admin("a", "getNetworkClient", "listPeers", rpc::Value());
  EXPECT_EQ(listed.debugString().find("eyJ"), std::string::npos) << listed.debugString();

  // Removed at run time: gone after a restart too.
  ASSERT_TRUE(succeeded(
      c.admin("a", "getDataChannelClient", "removeRoute", rpc::object({{"name", "books"}}))));
  c.stop("a");
  c.start("a");
  EXPECT_TRUE(eventually(
      [&] { return c.state("a").at("peers").as_array().size() == 1 && c.learnedCount("b") == 0; },
      kDeadline));
  EXPECT_EQ(c.state("a").at("routes").at("local").as_array().size(), 0u);
}

} // namespace
} // namespace catalyst::test
