// Table-driven tests of the propagation plugins: (committed state, change, event) -> effects.

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "catalyst/plugins/propagation/data_plane/data_plane_plugin.h"
#include "catalyst/plugins/propagation/peer_advertiser/peer_advertiser_plugin.h"
#include "catalyst/plugins/propagation/peer_sessions/peer_sessions_plugin.h"
#include "catalyst/plugins/propagation/process_supervisor/process_supervisor_plugin.h"

#include "support/describe.h"
#include "support/state_builders.h"

namespace catalyst::plugins {
namespace {

using namespace control::ev; // NOLINT(google-build-using-namespace): event names read as a table
using control::Effect;
using control::fx::ConfigureDataPlane;
using control::fx::ContinueTable;
using control::fx::DataPlaneRoute;
using control::fx::EndOfTable;
using control::fx::SendUpdate;
using state::ConnectionStatus;
using state::RouteKey;
using state::UpdateItem;
namespace op = state::op;
using test::describe;
using test::path;
using test::peer;
using test::route;
using test::StateBuilder;

struct Case {
  std::string name;
  std::function<state::NodeState()> committed;
  std::vector<state::DeltaOp> change;
  control::Event event;
  std::vector<Effect> effects;
};

void runTable(const control::PropagationPlugin& plugin, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<Effect> got = plugin.evaluate(c.committed(), {c.change}, c.event);
    EXPECT_EQ(got, c.effects) << "got " << describe(got) << "\nwant " << describe(c.effects);
  }
}

// What node-b sends for its own route `name`.
UpdateItem ownAdd(const std::string& name) {
  state::Route r = route(name);
  r.envoy_address = "127.0.0.1";
  return UpdateItem{UpdateItem::Action::Add, r, {"node-b"}, "node-b"};
}

// What node-b sends for the best path `p`.
UpdateItem relayed(const state::LearnedPath& p) {
  UpdateItem item{UpdateItem::Action::Add, p.route, {"node-b"}, p.origin_node};
  item.route.envoy_address = "127.0.0.1";
  item.route.envoy_port.reset();
  item.node_path.insert(item.node_path.end(), p.node_path.begin(), p.node_path.end());
  return item;
}

UpdateItem withdraw(const std::string& name, const std::string& origin) {
  state::Route r;
  r.name = name;
  return UpdateItem{UpdateItem::Action::Remove, r, {"node-b"}, origin};
}

TEST(PeerAdvertiserPluginTest, Table) {
  const RouteKey books{"books", "node-a"};
  state::LearnedPath via_a = path("node-a", "books");
  via_a.route.envoy_port = 10001;
  via_a.route.envoy_address = "10.0.0.1";
  state::LearnedPath via_c = path("node-c", "books", {"node-x", "node-a"});

  // node-b with peers node-a, node-c (connected) and node-d (closed), its own route and
  // books via node-a; with `also`, books via node-c too.
  auto abc_plus = [=](std::optional<state::LearnedPath> also) {
    StateBuilder b("node-b");
    b.withPeer(peer("node-a"))
        .withPeer(peer("node-c"))
        .withPeer(peer("node-d", ConnectionStatus::Closed))
        .withLocal(route("mine"))
        .withPath(via_a);
    if (also) {
      b.withPath(*also);
    }
    return b.build();
  };
  auto abc = [=] { return abc_plus(std::nullopt); };
  auto abc_with_c = [=] { return abc_plus(via_c); };
  auto via_c_only = [=] {
    return StateBuilder("node-b")
        .withPeer(peer("node-a"))
        .withPeer(peer("node-c"))
        .withPath(via_c)
        .build();
  };
  auto empty_with_peers = [] {
    return StateBuilder("node-b").withPeer(peer("node-a")).withPeer(peer("node-c")).build();
  };
  auto many_local = [] {
    StateBuilder b("node-b");
    b.withPeer(peer("node-c"));
    for (int i = 0; i < 1001; ++i) {
      b.withLocal(route("r" + std::to_string(i)));
    }
    return b.build();
  };

  std::vector<UpdateItem> first_chunk;
  for (int i = 0; i < 1001; ++i) {
    first_chunk.push_back(ownAdd("r" + std::to_string(i)));
  }
  // Local routes come out in name order: r0, r1, r10, r100, r1000, r101, ...
  std::sort(first_chunk.begin(), first_chunk.end(),
            [](const UpdateItem& x, const UpdateItem& y) { return x.route.name < y.route.name; });
  std::vector<UpdateItem> second_chunk(first_chunk.begin() + 1000, first_chunk.end());
  first_chunk.resize(1000);

  const std::vector<Case> cases = {
      {"local route goes to every connected peer",
       abc,
       {op::UpsertLocalRoute{state::LocalRoute{route("mine"), state::RouteSource::Admin}}},
       AddRoute{route("mine")},
       {SendUpdate{"node-a", {ownAdd("mine")}}, SendUpdate{"node-c", {ownAdd("mine")}}}},
      {"local route removal",
       empty_with_peers,
       {op::RemoveLocalRoute{"mine"}},
       RemoveRoute{"mine"},
       {SendUpdate{"node-a", {withdraw("mine", "node-b")}},
        SendUpdate{"node-c", {withdraw("mine", "node-b")}}}},
      {"new best: relayed with our address; its only source is sent nothing",
       abc,
       {op::UpsertPath{via_a}, op::SelectBest{books, "node-a"}},
       PeerUpdate{},
       {SendUpdate{"node-c", {relayed(via_a)}}}},
      {"best moved to the source after another path went: withdrawn toward it",
       abc,
       {op::RemovePath{"node-c", books}, op::SelectBest{books, "node-a"}},
       PeerUpdate{},
       {SendUpdate{"node-a", {withdraw("books", "node-a")}},
        SendUpdate{"node-c", {relayed(via_a)}}}},
      {"best from the source among other paths: withdrawn toward it",
       abc_with_c,
       {op::UpsertPath{via_a}, op::SelectBest{books, "node-a"}},
       PeerUpdate{},
       {SendUpdate{"node-a", {withdraw("books", "node-a")}},
        SendUpdate{"node-c", {relayed(via_a)}}}},
      {"a peer on the path is excluded (and the source, which gave the only path, told nothing)",
       via_c_only,
       {op::SelectBest{books, "node-c"}},
       PeerUpdate{},
       {SendUpdate{"node-a", {withdraw("books", "node-a")}}}},
      {"no path left: withdrawn everywhere",
       empty_with_peers,
       {op::ClearBest{books}},
       PeerUpdate{},
       {SendUpdate{"node-a", {withdraw("books", "node-a")}},
        SendUpdate{"node-c", {withdraw("books", "node-a")}}}},
      {"its only path gone: withdrawn everywhere but from its source",
       empty_with_peers,
       {op::RemovePath{"node-a", books}, op::ClearBest{books}},
       PeerUpdate{},
       {SendUpdate{"node-c", {withdraw("books", "node-a")}}}},
      {"two paths gone: withdrawn everywhere",
       empty_with_peers,
       {op::RemovePath{"node-a", books}, op::RemovePath{"node-c", books}, op::ClearBest{books}},
       PeerUpdate{},
       {SendUpdate{"node-a", {withdraw("books", "node-a")}},
        SendUpdate{"node-c", {withdraw("books", "node-a")}}}},
      {"removals of another route do not count",
       empty_with_peers,
       {op::RemovePath{"node-a", RouteKey{"films", "node-a"}}, op::ClearBest{books}},
       PeerUpdate{},
       {SendUpdate{"node-a", {withdraw("books", "node-a")}},
        SendUpdate{"node-c", {withdraw("books", "node-a")}}}},
      {"a stored alternate that is not best sends nothing",
       abc,
       {op::UpsertPath{via_c}},
       PeerUpdate{},
       {}},
      {"session up sends that peer the full table",
       abc,
       {op::UpsertPeer{peer("node-c")}},
       PeerSessionUp{"node-c", std::nullopt},
       {SendUpdate{"node-c", {ownAdd("mine"), relayed(via_a)}}, EndOfTable{"node-c"}}},
      {"full table to the source leaves out its own routes",
       abc,
       {},
       PeerSessionUp{"node-a", std::nullopt},
       {SendUpdate{"node-a", {ownAdd("mine")}}, EndOfTable{"node-a"}}},
      {"a full table over 1000 items: the first step, then a cursor for the next",
       many_local,
       {},
       PeerSessionUp{"node-c", {}, 7},
       {SendUpdate{"node-c", first_chunk},
        ContinueTable{"node-c", control::TableCursor{7, false, "r998", nullptr, 0}}}},
      {"the next step goes on after the cursor, and the last ends the table",
       many_local,
       {},
       PeerTableWanted{"node-c", control::TableCursor{7, false, "r998", nullptr, 0}},
       {SendUpdate{"node-c", second_chunk}, EndOfTable{"node-c", 7}}},
      {"a step for a peer whose session has ended sends nothing",
       abc,
       {},
       PeerTableWanted{"node-d", control::TableCursor{7, false, "", nullptr, 0}},
       {}},
      {"an empty table still ends",
       empty_with_peers,
       {},
       PeerSessionUp{"node-a", std::nullopt},
       {EndOfTable{"node-a"}}},
      {"nothing committed, nothing sent", abc, {}, TimerTick{}, {}},
  };
  runTable(PeerAdvertiserPlugin{}, cases);
}

// Walks the table for node-c's session 3 to the end, as the session would ask for it, with
// `between(step)` giving the committed state for each step; returns every item sent.
std::vector<UpdateItem> walk(const std::function<state::NodeState(int step)>& between) {
  std::vector<UpdateItem> sent;
  control::Event event = PeerSessionUp{"node-c", std::nullopt, 3};
  for (int step = 0; step < 100; ++step) {
    const std::vector<Effect> effects = PeerAdvertiserPlugin{}.evaluate(between(step), {}, event);
    EXPECT_FALSE(effects.empty());
    std::size_t items = 0;
    for (const Effect& e : effects) {
      if (const auto* send = std::get_if<SendUpdate>(&e)) {
        EXPECT_EQ(send->peer, "node-c");
        items += send->items.size();
        sent.insert(sent.end(), send->items.begin(), send->items.end());
      }
    }
    EXPECT_LE(items, control::kMaxUpdateItems) << "one step, one batch at most";
    if (const auto* more = std::get_if<ContinueTable>(&effects.back())) {
      EXPECT_EQ(more->cursor.session, 3U);
      event = PeerTableWanted{"node-c", more->cursor};
      continue;
    }
    EXPECT_EQ(effects.back(), Effect(EndOfTable{"node-c", 3}));
    return sent;
  }
  ADD_FAILURE() << "the walk did not end";
  return sent;
}

std::vector<std::string> names(const std::vector<UpdateItem>& items) {
  std::vector<std::string> out;
  for (const UpdateItem& i : items) {
    out.push_back(i.route.name);
  }
  return out;
}

TEST(PeerAdvertiserPluginTest, TableWalkSendsEveryRouteOnceAStepAtATime) {
  // 1500 local and 1500 learned routes (and 10 learned from node-c itself, not for it).
  auto build = [](int skip_learned, bool late_local) {
    StateBuilder b("node-b");
    b.withPeer(peer("node-a")).withPeer(peer("node-c"));
    for (int i = 0; i < 1500; ++i) {
      b.withLocal(route(fmt::format("l{:04}", i)));
      if (i != skip_learned) {
        b.withPath(path("node-a", fmt::format("x{:04}", i)));
      }
    }
    for (int i = 0; i < 10; ++i) {
      b.withPath(path("node-c", fmt::format("c{:04}", i)));
    }
    if (late_local) {
      b.withLocal(route("l9999"));
    }
    return b.build();
  };
  std::vector<std::string> want;
  for (int i = 0; i < 1500; ++i) {
    want.push_back(fmt::format("l{:04}", i));
  }
  for (int i = 0; i < 1500; ++i) {
    want.push_back(fmt::format("x{:04}", i));
  }

  const state::NodeState still = build(-1, false);
  EXPECT_EQ(names(walk([&](int) -> state::NodeState { return still; })), want)
      << "locals in name order, then learned in key order, split horizon kept";

  // Between steps the table changes: a local route added after the cursor is walked (step 1
  // ends the local part and takes the learned keys); a learned route gone before the walk
  // reached it (step 2 on) is skipped.
  const state::NodeState late = build(-1, true);
  const state::NodeState changed = build(1400, true);
  std::vector<std::string> want_changed = want;
  want_changed.insert(want_changed.begin() + 1500, "l9999");
  want_changed.erase(std::find(want_changed.begin(), want_changed.end(), "x1400"));
  EXPECT_EQ(names(walk([&](int step) -> state::NodeState {
              return step == 0 ? still : step == 1 ? late : changed;
            })),
            want_changed);
}

TEST(PeerAdvertiserPluginTest, NextHopIsOurAddressAndTheWePortAllocated) {
  // Ports come from the pool in order: the local route first, then the learned one.
  const RouteKey books{"books", "node-a"};
  state::LearnedPath via_a = path("node-a", "books");
  via_a.route.envoy_port = 10001; // the neighbour's port: our egress forwards there
  via_a.route.envoy_address = "10.0.0.1";
  const state::NodeState committed = StateBuilder("node-b", {{20000, 20009}})
                                         .withPeer(peer("node-a"))
                                         .withPeer(peer("node-c"))
                                         .withLocal(route("mine"))
                                         .withPath(via_a)
                                         .build();
  ASSERT_EQ(committed.portFor({"mine", "node-b"}), 20000);
  ASSERT_EQ(committed.portFor(books), 20001);

  UpdateItem mine = ownAdd("mine");
  mine.route.envoy_port = 20000;
  UpdateItem relayed_books = relayed(via_a);
  relayed_books.route.envoy_port = 20001;
  const std::vector<Effect> got =
      PeerAdvertiserPlugin{}.evaluate(committed, {}, PeerSessionUp{"node-c", std::nullopt});
  const std::vector<Effect> want = {SendUpdate{"node-c", {mine, relayed_books}},
                                    EndOfTable{"node-c"}};
  EXPECT_EQ(got, want) << "got " << describe(got) << "\nwant " << describe(want);
  // The learned path keeps what the neighbour advertised.
  EXPECT_EQ(committed.findBest(books)->route.envoy_port, 10001);

  const std::vector<Effect> dp =
      DataPlanePlugin{}.evaluate(committed, {{op::SelectBest{books, "node-a"}}}, PeerUpdate{});
  const std::vector<Effect> want_dp = {
      ConfigureDataPlane{{DataPlaneRoute{DataPlaneRoute::Kind::Egress, books, state::Protocol::Http,
                                         20001, std::nullopt, "10.0.0.1", 10001, "node-a"}},
                         {}}};
  EXPECT_EQ(dp, want_dp) << "got " << describe(dp) << "\nwant " << describe(want_dp);
}

TEST(DataPlanePluginTest, Table) {
  const RouteKey books{"books", "node-a"};
  state::LearnedPath via_a = path("node-a", "books");
  via_a.route.envoy_port = 10001;
  via_a.route.envoy_address = "10.0.0.1";
  auto committed = [=] {
    return StateBuilder("node-b").withPeer(peer("node-a")).withPath(via_a).build();
  };
  const state::Route mine = route("mine", "http://127.0.0.1:8080", state::Protocol::Tcp);

  const std::vector<Case> cases = {
      {"local route: ingress to the service",
       committed,
       {op::UpsertLocalRoute{state::LocalRoute{mine, state::RouteSource::Admin}}},
       AddRoute{mine},
       {ConfigureDataPlane{{DataPlaneRoute{DataPlaneRoute::Kind::Ingress,
                                           {"mine", "node-b"},
                                           state::Protocol::Tcp,
                                           std::nullopt,
                                           "http://127.0.0.1:8080",
                                           std::nullopt,
                                           std::nullopt,
                                           std::nullopt}},
                           {}}}},
      {"best path: egress to the neighbour's next hop",
       committed,
       {op::UpsertPath{via_a}, op::SelectBest{books, "node-a"}},
       PeerUpdate{},
       {ConfigureDataPlane{
           {DataPlaneRoute{DataPlaneRoute::Kind::Egress, books, state::Protocol::Http, std::nullopt,
                           std::nullopt, "10.0.0.1", 10001, "node-a"}},
           {}}}},
      {"removals",
       committed,
       {op::RemoveLocalRoute{"mine"}, op::ClearBest{books}},
       RemoveRoute{"mine"},
       {ConfigureDataPlane{{}, {{"mine", "node-b"}, books}}}},
      {"peer changes do not touch the data plane",
       committed,
       {op::UpsertPeer{peer("node-x")}},
       AddPeer{},
       {}},
  };
  runTable(DataPlanePlugin{}, cases);
}

TEST(PeerSessionsPluginTest, Table) {
  using control::fx::ClosePeer;
  using control::fx::ConnectPeer;
  auto with_a = [] { return StateBuilder("node-b").withPeer(peer("node-a")).build(); };
  auto without_a = [] { return StateBuilder("node-b").build(); };
  const std::vector<Case> cases = {
      {"a peer added or changed is dialled",
       with_a,
       {op::UpsertPeer{peer("node-a")}},
       AddPeer{peer("node-a").info},
       {ConnectPeer{peer("node-a").info}}},
      {"a removed peer is closed with NORMAL",
       without_a,
       {op::RemovePeer{"node-a"}},
       RemovePeer{"node-a"},
       {ClosePeer{"node-a", state::CloseCode::Normal, "Peer removed"}}},
      {"a refused AddPeer (nothing committed) dials nothing", with_a, {}, AddPeer{}, {}},
      {"session status changes ask for nothing",
       with_a,
       {op::UpsertPeer{peer("node-a")}},
       PeerSessionUp{"node-a", std::nullopt},
       {}},
  };
  runTable(PeerSessionsPlugin{}, cases);
}

TEST(ProcessSupervisorPluginTest, Table) {
  state::LocalService vpn;
  vpn.name = "vpn";
  vpn.route = route("vpn");
  vpn.command = {"/usr/bin/wg-quick", "up", "wg0"};
  vpn.process = state::LocalService::ProcessState::Running;
  state::LocalService plain = vpn;
  plain.command.clear();
  plain.process = state::LocalService::ProcessState::NotManaged;
  auto committed = [] { return StateBuilder("node-a").build(); };

  const std::vector<Case> cases = {
      {"registration with a command starts it",
       committed,
       {op::UpsertService{vpn}},
       ServiceRegistered{vpn},
       {control::fx::StartProcess{"vpn", vpn.command}}},
      {"registration without a command starts nothing",
       committed,
       {op::UpsertService{plain}},
       ServiceRegistered{plain},
       {}},
      {"a health change does not restart it",
       committed,
       {op::UpsertService{vpn}},
       ServiceHealthChanged{"vpn", state::HealthStatus::Up, std::nullopt, ""},
       {}},
      {"removal stops it",
       committed,
       {op::RemoveService{"vpn"}},
       ServiceDeregistered{"vpn"},
       {control::fx::StopProcess{"vpn"}}},
  };
  runTable(ProcessSupervisorPlugin{}, cases);
}

} // namespace
} // namespace catalyst::plugins
