// Table-driven tests of the route-table plugins: (state, event) -> (delta, rejections).

#include <algorithm>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalyst/plugins/route_table/local_routes/local_routes_plugin.h"
#include "catalyst/plugins/route_table/path_changes.h"
#include "catalyst/plugins/route_table/peer_list/peer_list_plugin.h"
#include "catalyst/plugins/route_table/peer_routes/peer_routes_plugin.h"

#include "support/describe.h"
#include "support/state_builders.h"

namespace catalyst::plugins {
namespace {

using control::Event;
using namespace control::ev; // NOLINT(google-build-using-namespace): event names read as a table
using state::ConnectionStatus;
using state::RouteKey;
using state::StateDelta;
namespace op = state::op;
using test::addItem;
using test::describe;
using test::path;
using test::peer;
using test::removeItem;
using test::route;
using test::StateBuilder;

struct Case {
  std::string name;
  std::function<state::NodeState()> state;
  Event event;
  std::vector<state::DeltaOp> delta;
  std::vector<std::string> rejections; // reasons
};

void runTable(const control::RouteTablePlugin& plugin, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const state::NodeState before = c.state();
    control::PhaseOneResult r = plugin.apply(before, c.event);
    const StateDelta expected{c.delta};
    EXPECT_EQ(r.delta, expected) << "got " << describe(r.delta) << "\nwant " << describe(expected);
    std::vector<std::string> reasons;
    for (const auto& rej : r.rejections) {
      reasons.push_back(rej.reason);
      EXPECT_FALSE(rej.message.empty());
    }
    EXPECT_EQ(reasons, c.rejections);
    // Whatever the plugin returns must apply cleanly to the state it saw.
    state::NodeState after = before;
    EXPECT_EQ(after.apply(r.delta), 0u) << "delta refers to absent state";
  }
}

MonotonicTime at(int seconds) { return MonotonicTime{} + std::chrono::seconds(seconds); }

state::NodeState bWithPeers() {
  return StateBuilder("node-b").withPeer(peer("node-a")).withPeer(peer("node-c")).build();
}

TEST(PeerRoutesPluginTest, Table) {
  const RouteKey books{"books", "node-a"};
  state::LearnedPath via_a = path("node-a", "books");
  state::LearnedPath via_c = path("node-c", "books", {"node-a"});
  state::LearnedPath via_a_down = via_a;
  via_a_down.route.health_status = state::HealthStatus::Down;
  state::LearnedPath via_a_stale = via_a;
  via_a_stale.is_stale = true;

  auto with_both = [=] {
    return StateBuilder("node-b")
        .withPeer(peer("node-a"))
        .withPeer(peer("node-c"))
        .withPath(via_a)
        .withPath(via_c)
        .build();
  };
  auto with_a = [=] {
    return StateBuilder("node-b")
        .withPeer(peer("node-a"))
        .withPeer(peer("node-c"))
        .withPath(via_a)
        .build();
  };
  auto z_via_a = [] {
    return StateBuilder("node-b")
        .withPeer(peer("node-a"))
        .withPeer(peer("node-c"))
        .withPath(path("node-a", "svc", {"node-z"}))
        .build();
  };
  auto z_via_c = [] {
    return StateBuilder("node-b")
        .withPeer(peer("node-a"))
        .withPeer(peer("node-c"))
        .withPath(path("node-c", "svc", {"node-z"}))
        .build();
  };
  auto gr_peer = [=] {
    state::Peer a = peer("node-a");
    a.graceful_restart_time = std::chrono::milliseconds(5000);
    return StateBuilder("node-b").withPeer(a).withPath(via_a).build();
  };
  auto gr_stale = [=] {
    state::Peer a = peer("node-a", ConnectionStatus::Closed);
    a.graceful_restart_time = std::chrono::milliseconds(5000);
    a.stale_until = at(10);
    return StateBuilder("node-b").withPeer(a).withPath(via_a_stale).build();
  };
  const RouteKey films{"films", "node-a"};
  state::LearnedPath films_stale = path("node-a", "films");
  films_stale.is_stale = true;
  auto reconnected_partly = [=] {
    state::Peer a = peer("node-a");
    a.graceful_restart_time = std::chrono::milliseconds(5000);
    a.stale_until = at(10);
    // books came again (fresh); films did not.
    return StateBuilder("node-b").withPeer(a).withPath(via_a).withPath(films_stale).build();
  };
  auto reconnected = [=] {
    state::Peer a = peer("node-a");
    a.graceful_restart_time = std::chrono::milliseconds(5000);
    a.stale_until = at(10);
    return StateBuilder("node-b").withPeer(a).withPath(via_a_stale).build();
  };

  std::vector<std::string> long_path(65, "n");
  long_path[0] = "node-a";
  state::UpdateItem too_long{state::UpdateItem::Action::Add, route("books"), long_path, "n"};
  state::UpdateItem spoofed = addItem(path("node-x", "books"));
  state::UpdateItem bad_origin = addItem(via_a);
  bad_origin.origin_node = "node-z";
  state::UpdateItem sent_withdrawal = removeItem({"node-c"}, "books");
  sent_withdrawal.origin_node = "node-a";
  state::UpdateItem bad_name = addItem(via_a);
  bad_name.route.name = "bad name";

  const std::vector<Case> cases = {
      {"add from a connected peer selects it",
       bWithPeers,
       PeerUpdate{"node-a", {addItem(via_a)}},
       {op::UpsertPath{via_a}, op::SelectBest{books, "node-a"}},
       {}},
      {"identical re-add changes nothing", with_a, PeerUpdate{"node-a", {addItem(via_a)}}, {}, {}},
      {"longer alternate path is stored, best unchanged",
       with_a,
       PeerUpdate{"node-c", {addItem(via_c)}},
       {op::UpsertPath{via_c}},
       {}},
      {"attribute change on the best path is re-selected",
       with_a,
       PeerUpdate{"node-a", {addItem(via_a_down)}},
       {op::UpsertPath{via_a_down}, op::SelectBest{books, "node-a"}},
       {}},
      {"withdrawal of the best falls back to the alternate",
       with_both,
       PeerUpdate{"node-a", {removeItem({"node-a"}, "books")}},
       {op::RemovePath{"node-a", books}, op::SelectBest{books, "node-c"}},
       {}},
      {"withdrawal by one peer keeps the other's path",
       with_both,
       PeerUpdate{"node-c", {removeItem({"node-c", "node-a"}, "books")}},
       {op::RemovePath{"node-c", books}},
       {}},
      {"withdrawal naming only its sender (as we send them) removes that path",
       with_both,
       PeerUpdate{"node-c", {sent_withdrawal}},
       {op::RemovePath{"node-c", books}},
       {}},
      {"last withdrawal clears the route",
       with_a,
       PeerUpdate{"node-a", {removeItem({"node-a"}, "books")}},
       {op::RemovePath{"node-a", books}, op::ClearBest{books}},
       {}},
      {"withdrawal of an unknown route is a no-op",
       bWithPeers,
       PeerUpdate{"node-a", {removeItem({"node-a"}, "books")}},
       {},
       {}},
      {"loop: own id in nodePath is dropped, rest applied",
       bWithPeers,
       PeerUpdate{"node-a",
                  {addItem(path("node-a", "loop", {"node-b", "node-z"})), addItem(via_a)}},
       {op::UpsertPath{via_a}, op::SelectBest{books, "node-a"}},
       {"loop_detected"}},
      {"unknown peer refused",
       bWithPeers,
       PeerUpdate{"node-x", {addItem(path("node-x", "b"))}},
       {},
       {"unknown_peer"}},
      {"peer without session refused",
       [] {
         return StateBuilder("node-b").withPeer(peer("node-a", ConnectionStatus::Closed)).build();
       },
       PeerUpdate{"node-a", {addItem(path("node-a", "books"))}},
       {},
       {"session_not_established"}},
      {"oversize batch refused whole",
       bWithPeers,
       PeerUpdate{"node-a", std::vector<state::UpdateItem>(1001, addItem(via_a))},
       {},
       {"oversize_batch"}},
      {"path longer than 64 refuses the batch",
       bWithPeers,
       PeerUpdate{"node-a", {addItem(via_a), too_long}},
       {},
       {"invalid_update"}},
      {"nodePath[0] spoof refuses the batch",
       bWithPeers,
       PeerUpdate{"node-a", {addItem(via_a), spoofed}},
       {},
       {"invalid_update"}},
      {"originNode not the path's end refused",
       bWithPeers,
       PeerUpdate{"node-a", {bad_origin}},
       {},
       {"invalid_update"}},
      {"invalid route name refused",
       bWithPeers,
       PeerUpdate{"node-a", {bad_name}},
       {},
       {"invalid_update"}},
      {"end of table drops the stale paths that were not advertised again",
       reconnected_partly,
       PeerEndOfTable{"node-a"},
       {op::RemovePath{"node-a", films}, op::ClearBest{films}},
       {}},
      {"end of table with nothing stale changes nothing", with_a, PeerEndOfTable{"node-a"}, {}, {}},
      {"session down without graceful restart removes paths",
       with_both,
       PeerSessionDown{"node-a", state::CloseCode::TransportError, at(1)},
       {op::RemovePath{"node-a", books}, op::SelectBest{books, "node-c"}},
       {}},
      {"hold expiry removes paths even with graceful restart",
       gr_peer,
       PeerSessionDown{"node-a", state::CloseCode::HoldExpired, at(1)},
       {op::RemovePath{"node-a", books}, op::ClearBest{books}},
       {}},
      {"transport error with graceful restart keeps stale paths",
       gr_peer,
       PeerSessionDown{"node-a", state::CloseCode::TransportError, at(1)},
       {op::UpsertPath{via_a_stale}, op::SelectBest{books, "node-a"}},
       {}},
      {"update while the session is down is refused",
       gr_stale,
       PeerUpdate{"node-a", {addItem(via_a)}},
       {},
       {"session_not_established"}},
      {"fresh advertisement replaces a stale path",
       reconnected,
       PeerUpdate{"node-a", {addItem(via_a)}},
       {op::UpsertPath{via_a}, op::SelectBest{books, "node-a"}},
       {}},
      {"tick before the stale window ends keeps stale paths", gr_stale, TimerTick{at(9)}, {}, {}},
      {"tick after the stale window removes stale paths",
       gr_stale,
       TimerTick{at(10)},
       {op::RemovePath{"node-a", books}, op::ClearBest{books}},
       {}},
      {"removing a peer removes its paths",
       with_both,
       RemovePeer{"node-c"},
       {op::RemovePath{"node-c", books}},
       {}},
      {"equal length: the lower neighbour name stays best",
       z_via_a,
       PeerUpdate{"node-c", {addItem(path("node-c", "svc", {"node-z"}))}},
       {op::UpsertPath{path("node-c", "svc", {"node-z"})}},
       {}},
      {"equal length: the lower neighbour name takes over",
       z_via_c,
       PeerUpdate{"node-a", {addItem(path("node-a", "svc", {"node-z"}))}},
       {op::UpsertPath{path("node-a", "svc", {"node-z"})},
        op::SelectBest{{"svc", "node-z"}, "node-a"}},
       {}},
      {"session up removes fresh paths an unfinished flush left, and keeps stale ones",
       [=] {
         state::Peer a = peer("node-a", ConnectionStatus::Closed);
         return StateBuilder("node-b")
             .withPeer(a)
             .withPeer(peer("node-c"))
             .withPath(via_a)
             .withPath(via_c)
             .withPath(path("node-a", "films", {}, /*stale=*/true))
             .build();
       },
       PeerSessionUp{"node-a", std::nullopt, 1},
       {op::RemovePath{"node-a", books}, op::SelectBest{books, "node-c"}},
       {}},
      {"session up with nothing left changes nothing",
       [] {
         return StateBuilder("node-b").withPeer(peer("node-a", ConnectionStatus::Closed)).build();
       },
       PeerSessionUp{"node-a", std::nullopt, 1},
       {},
       {}},
      {"other events are ignored", with_both, AddRoute{route("x")}, {}, {}},
  };
  runTable(PeerRoutesPlugin{}, cases);
}

// A session end removes the peer's paths kMaxUpdateItems at a time: each step is one event
// (PeerFlush, queued by the control loop behind whatever waits), and after the last the table
// is exactly what removing them all at once gives.
TEST(PeerRoutesPluginTest, SessionDownFlushesAStepAtATime) {
  auto build = [](state::Peer a) {
    StateBuilder b("node-b");
    b.withPeer(std::move(a)).withPeer(peer("node-c"));
    for (int i = 0; i < 2500; ++i) {
      b.withPath(path("node-a", "r" + std::to_string(i)));
      if (i % 25 == 0) {
        b.withPath(path("node-c", "r" + std::to_string(i), {"node-x"}));
      }
    }
    return b.build();
  };
  const state::NodeState before = build(peer("node-a", ConnectionStatus::Closed));
  StateDelta all_at_once;
  removeAllPathsOf(before, "node-a", all_at_once);
  state::NodeState want = before;
  ASSERT_EQ(want.apply(all_at_once), 0u);

  state::NodeState s = before;
  Event event = PeerSessionDown{"node-a", state::CloseCode::Normal, at(1)};
  int steps = 0;
  for (; steps < 10; ++steps) {
    control::PhaseOneResult r = PeerRoutesPlugin{}.apply(s, event);
    std::size_t removed = 0;
    for (const state::DeltaOp& o : r.delta.ops) {
      removed += std::holds_alternative<op::RemovePath>(o) ? 1 : 0;
    }
    EXPECT_LE(removed, control::kMaxUpdateItems);
    EXPECT_EQ(s.apply(r.delta), 0u);
    if (r.follow_ups.empty()) {
      break;
    }
    ASSERT_EQ(r.follow_ups.size(), 1u);
    event = r.follow_ups.front();
    ASSERT_TRUE(std::holds_alternative<PeerFlush>(event));
  }
  EXPECT_EQ(steps, 2) << "2500 paths: three steps";
  EXPECT_TRUE(s.keysFrom("node-a").empty());
  EXPECT_EQ(s.learned(), want.learned());
  EXPECT_EQ(s.bestCount(), 100u) << "the routes node-c also gives stay, through node-c";

  // A step does nothing once the peer is connected again, down with graceful restart (its
  // paths are stale, kept for the window) or removed.
  control::PhaseOneResult first =
      PeerRoutesPlugin{}.apply(before, PeerSessionDown{"node-a", state::CloseCode::Normal, at(1)});
  ASSERT_EQ(first.follow_ups.size(), 1u);
  state::Peer restarting = peer("node-a", ConnectionStatus::Closed);
  restarting.stale_until = at(10);
  for (const state::NodeState& later : {build(peer("node-a")), build(restarting),
                                        StateBuilder("node-b").withPeer(peer("node-c")).build()}) {
    control::PhaseOneResult r = PeerRoutesPlugin{}.apply(later, first.follow_ups.front());
    EXPECT_TRUE(r.delta.empty()) << describe(r.delta);
    EXPECT_TRUE(r.follow_ups.empty());
  }
}

// removeAllPathsOf() is the one-walk form of removing a peer's paths through PathChanges: on
// random tables (1-4 candidate paths per route, path lengths, stale and health varied) both
// give the same delta, operation for operation, and it applies cleanly.
TEST(PathChangesTest, RemoveAllPathsOfIsWhatPathChangesEmits) {
  std::mt19937 rng(20261128); // fixed: the same tables every run
  const std::vector<std::string> peers = {"node-a", "node-c", "node-d", "node-e"};
  for (int round = 0; round < 200; ++round) {
    StateBuilder b;
    for (const std::string& p : peers) {
      b.withPeer(peer(p));
    }
    for (int r = 0; r < 30; ++r) {
      for (const std::string& p : peers) {
        if (rng() % 3 != 0) {
          continue;
        }
        std::vector<std::string> tail;
        for (unsigned hops = rng() % 3; hops > 0; --hops) {
          tail.push_back("node-x" + std::to_string(hops));
        }
        tail.push_back("node-o" + std::to_string(r % 2)); // the same name from two origins
        state::LearnedPath lp = path(p, "r" + std::to_string(r), tail, /*stale=*/rng() % 4 == 0);
        if (rng() % 4 == 0) {
          lp.route.health_status = state::HealthStatus::Down;
        }
        b.withPath(std::move(lp));
      }
    }
    const state::NodeState s = b.build();
    const std::string& gone = peers[static_cast<std::size_t>(round) % peers.size()];

    StateDelta expected;
    PathChanges changes(s);
    for (const RouteKey& key : s.keysFrom(gone)) {
      changes.remove(gone, key);
    }
    std::move(changes).emit(expected);
    StateDelta got;
    removeAllPathsOf(s, gone, got);
    ASSERT_EQ(got, expected) << "round " << round << "\ngot " << describe(got) << "\nwant "
                             << describe(expected);
    state::NodeState after = s;
    EXPECT_EQ(after.apply(got), 0u);
    EXPECT_TRUE(after.keysFrom(gone).empty());

    // removePathsOf(), given the keys in steps (as a flush gives them, with a key whose route
    // is gone mixed in), emits the same.
    std::vector<RouteKey> keys = s.keysFrom(gone);
    keys.insert(keys.begin() + static_cast<std::ptrdiff_t>(keys.size() / 2),
                RouteKey{"absent", "node-o0"});
    StateDelta stepwise;
    const std::span<const RouteKey> all(keys);
    for (std::size_t i = 0; i < keys.size(); i += 7) {
      removePathsOf(s, gone, all.subspan(i, std::min<std::size_t>(7, keys.size() - i)), stepwise);
    }
    ASSERT_EQ(stepwise, expected) << "round " << round;
  }
}

// For a batch naming distinct routes, each change stands alone: upsertPathOf() and
// removePathOf() item by item give what PathChanges gives for the batch, op for op (random
// tables as above; adds new, changed, identical or longer; removals of present and absent
// paths; the batch from one peer, as an update is).
TEST(PathChangesTest, DistinctRoutesStandAlone) {
  std::mt19937 rng(20261129); // fixed: the same tables every run
  const std::vector<std::string> peers = {"node-a", "node-c", "node-d"};
  auto randomPath = [&](const std::string& p, int r) {
    std::vector<std::string> tail;
    for (unsigned hops = rng() % 3; hops > 0; --hops) {
      tail.push_back("node-x" + std::to_string(hops));
    }
    tail.push_back("node-o" + std::to_string(r % 2));
    state::LearnedPath lp = path(p, "r" + std::to_string(r), tail, /*stale=*/rng() % 5 == 0);
    if (rng() % 4 == 0) {
      lp.route.health_status = state::HealthStatus::Down;
    }
    return lp;
  };
  for (int round = 0; round < 300; ++round) {
    StateBuilder b;
    for (const std::string& p : peers) {
      b.withPeer(peer(p));
    }
    std::vector<state::LearnedPath> present;
    for (int r = 0; r < 20; ++r) {
      for (const std::string& p : peers) {
        if (rng() % 3 == 0) {
          present.push_back(randomPath(p, r));
          b.withPath(present.back());
        }
      }
    }
    const state::NodeState s = b.build();
    const std::string& from = peers[static_cast<std::size_t>(round) % peers.size()];

    PathChanges changes(s);
    StateDelta got;
    for (int r = 0; r < 20; ++r) { // each route at most once
      const RouteKey key{"r" + std::to_string(r), "node-o" + std::to_string(r % 2)};
      const state::LearnedPath* now = s.findPath(from, key);
      switch (rng() % 4) {
      case 0: { // removal (maybe of nothing)
        changes.remove(from, key);
        if (const state::NodeState::LearnedRoute* route = s.findLearned(key)) {
          removePathOf(key, *route, from, got);
        }
        break;
      }
      case 1: { // the same again, or a fresh one
        state::LearnedPath lp = now != nullptr && rng() % 2 == 0 ? *now : randomPath(from, r);
        changes.upsert(lp);
        upsertPathOf(s, lp, got);
        break;
      }
      case 2: { // an attribute change
        state::LearnedPath lp = now != nullptr ? *now : randomPath(from, r);
        lp.route.health_status = lp.route.health_status == state::HealthStatus::Down
                                     ? state::HealthStatus::Up
                                     : state::HealthStatus::Down;
        changes.upsert(lp);
        upsertPathOf(s, lp, got);
        break;
      }
      default:
        break;
      }
    }
    StateDelta expected;
    std::move(changes).emit(expected);
    ASSERT_EQ(got, expected) << "round " << round << "\ngot " << describe(got) << "\nwant "
                             << describe(expected);
    state::NodeState after = s;
    EXPECT_EQ(after.apply(got), 0u);
  }
}

TEST(PeerListPluginTest, Table) {
  state::Peer a = peer("node-a", ConnectionStatus::Initializing);
  state::Peer a_connected = peer("node-a", ConnectionStatus::Connected);
  state::Peer a_closed = peer("node-a", ConnectionStatus::Closed);
  state::Peer a_gr = a_connected;
  a_gr.graceful_restart_time = std::chrono::milliseconds(5000);
  state::Peer a_gr_down = a_gr;
  a_gr_down.status = ConnectionStatus::Closed;
  a_gr_down.stale_until = at(1) + std::chrono::milliseconds(5000);
  state::Peer a_gr_expired = a_gr_down;
  a_gr_expired.stale_until.reset();
  state::Peer a_moved = a;
  a_moved.info.endpoint = "ws://10.0.0.1:3000/rpc";

  auto empty = [] { return StateBuilder("node-b").build(); };
  auto has_a = [=] { return StateBuilder("node-b").withPeer(a).build(); };
  auto has_a_gr = [=] { return StateBuilder("node-b").withPeer(a_gr).build(); };
  auto has_a_gr_down = [=] { return StateBuilder("node-b").withPeer(a_gr_down).build(); };

  state::PeerInfo self_info = a.info;
  self_info.name = "node-b";
  state::PeerInfo bad_info = a.info;
  bad_info.name = "bad name";

  const std::vector<Case> cases = {
      {"add a peer", empty, AddPeer{a.info}, {op::UpsertPeer{a}}, {}},
      {"add the same peer again: no state change", has_a, AddPeer{a.info}, {}, {"no_state_change"}},
      {"update a peer's info keeps its status",
       has_a,
       AddPeer{a_moved.info},
       {op::UpsertPeer{a_moved}},
       {}},
      {"peering with oneself refused", empty, AddPeer{self_info}, {}, {"invalid_peer"}},
      {"invalid name refused", empty, AddPeer{bad_info}, {}, {"invalid_peer"}},
      {"remove a peer", has_a, RemovePeer{"node-a"}, {op::RemovePeer{"node-a"}}, {}},
      {"remove an unknown peer", empty, RemovePeer{"node-a"}, {}, {"unknown_peer"}},
      {"session up connects",
       has_a,
       PeerSessionUp{"node-a", std::nullopt},
       {op::UpsertPeer{a_connected}},
       {}},
      {"session up records graceful restart",
       has_a,
       PeerSessionUp{"node-a", std::chrono::milliseconds(5000)},
       {op::UpsertPeer{a_gr}},
       {}},
      {"session up for an unknown peer",
       empty,
       PeerSessionUp{"node-a", std::nullopt},
       {},
       {"unknown_peer"}},
      {"session down closes",
       has_a,
       PeerSessionDown{"node-a", state::CloseCode::Normal, at(1)},
       {op::UpsertPeer{a_closed}},
       {}},
      {"transport error opens the stale window",
       has_a_gr,
       PeerSessionDown{"node-a", state::CloseCode::TransportError, at(1)},
       {op::UpsertPeer{a_gr_down}},
       {}},
      {"tick inside the stale window", has_a_gr_down, TimerTick{at(5)}, {}, {}},
      {"tick at the end of the stale window",
       has_a_gr_down,
       TimerTick{at(6)},
       {op::UpsertPeer{a_gr_expired}},
       {}},
      {"end of table closes the stale window",
       has_a_gr_down,
       PeerEndOfTable{"node-a"},
       {op::UpsertPeer{a_gr_expired}},
       {}},
      {"end of table outside a stale window changes nothing",
       has_a,
       PeerEndOfTable{"node-a"},
       {},
       {}},
  };
  runTable(PeerListPlugin{}, cases);
}

TEST(LocalRoutesPluginTest, Table) {
  state::Route books = route("books");
  state::Route books_moved = route("books", "http://10.0.0.9:80");
  state::Route bad = route("no spaces");
  auto empty = [] { return StateBuilder("node-a").build(); };
  auto has_books = [=] { return StateBuilder("node-a").withLocal(books).build(); };
  auto has_service = [=] {
    state::LocalService s;
    s.name = "books";
    s.route = books;
    return StateBuilder("node-a").withService(s).build();
  };
  using state::LocalRoute;
  using state::RouteSource;

  const std::vector<Case> cases = {
      {"add",
       empty,
       AddRoute{books, RouteSource::Admin},
       {op::UpsertLocalRoute{LocalRoute{books, RouteSource::Admin}}},
       {}},
      {"add from config",
       empty,
       AddRoute{books, RouteSource::Config},
       {op::UpsertLocalRoute{LocalRoute{books, RouteSource::Config}}},
       {}},
      {"identical add: no state change",
       has_books,
       AddRoute{books, RouteSource::Admin},
       {},
       {"no_state_change"}},
      {"changed add replaces",
       has_books,
       AddRoute{books_moved, RouteSource::Admin},
       {op::UpsertLocalRoute{LocalRoute{books_moved, RouteSource::Admin}}},
       {}},
      {"invalid route refused", empty, AddRoute{bad, RouteSource::Admin}, {}, {"invalid_route"}},
      {"a service's route cannot be replaced",
       has_service,
       AddRoute{books_moved},
       {},
       {"route_owned_by_service"}},
      {"remove", has_books, RemoveRoute{"books"}, {op::RemoveLocalRoute{"books"}}, {}},
      {"remove unknown", empty, RemoveRoute{"books"}, {}, {"unknown_route"}},
      {"a service's route cannot be removed",
       has_service,
       RemoveRoute{"books"},
       {},
       {"route_owned_by_service"}},
  };
  runTable(LocalRoutesPlugin{}, cases);
}

} // namespace
} // namespace catalyst::plugins
