// Property tests of the pipeline on random event sequences (seeded; the seed is printed on
// failure; set CATALYST_TEST_SEED to replay one):
//   - the committed state always equals the initial state with every committed delta applied
//     in order;
//   - propagation plugins only ever see committed state: the state they get is exactly that,
//     after the change they are shown;
//   - the Loc-RIB always holds the best candidate of every learned route, and nothing else;
//   - no path ever contains this node; plugins never emit operations on absent state.

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalyst/control/pipeline.h"
#include "catalyst/plugins/local_service/service_registry/service_registry_plugin.h"
#include "catalyst/plugins/propagation/data_plane/data_plane_plugin.h"
#include "catalyst/plugins/propagation/peer_advertiser/peer_advertiser_plugin.h"
#include "catalyst/plugins/propagation/process_supervisor/process_supervisor_plugin.h"
#include "catalyst/plugins/route_table/local_routes/local_routes_plugin.h"
#include "catalyst/plugins/route_table/peer_list/peer_list_plugin.h"
#include "catalyst/plugins/route_table/peer_routes/peer_routes_plugin.h"

#include "support/describe.h"

namespace catalyst::control {
namespace {

const state::NodeIdentity kSelf{"self", {"example.local"}, "ws://127.0.0.1:3000/rpc", "127.0.0.1"};

// A propagation plugin that replays every committed change onto its own copy of the initial
// state and checks that the state it is shown is exactly that copy.
class CommittedStateSpy : public PropagationPlugin {
public:
  struct Record {
    state::NodeState shadow{kSelf};
    uint64_t commits_seen = 0;
    uint64_t calls = 0;
    std::vector<std::string> violations;
  };

  explicit CommittedStateSpy(Record& record) : record_(record) {}

  std::string_view name() const override { return "spy"; }
  std::vector<Effect> evaluate(const state::NodeState& committed, const state::StateDelta& change,
                               const Event& event) const override {
    ++record_.calls;
    if (!change.empty()) {
      record_.shadow.apply(change);
      ++record_.commits_seen;
    }
    if (!(committed == record_.shadow)) {
      record_.violations.push_back(std::string("propagation saw uncommitted state after ") +
                                   std::string(eventName(event)) + " " + test::describe(change));
    }
    return {};
  }

private:
  Record& record_;
};

PluginSet builtins(CommittedStateSpy::Record& record) {
  PluginSet p;
  p.route_table.push_back(std::make_unique<plugins::PeerListPlugin>());
  p.route_table.push_back(std::make_unique<plugins::PeerRoutesPlugin>());
  p.route_table.push_back(std::make_unique<plugins::LocalRoutesPlugin>());
  p.local_service.push_back(std::make_unique<plugins::ServiceRegistryPlugin>());
  p.propagation.push_back(std::make_unique<plugins::PeerAdvertiserPlugin>());
  p.propagation.push_back(std::make_unique<CommittedStateSpy>(record));
  p.propagation.push_back(std::make_unique<plugins::DataPlanePlugin>());
  p.propagation.push_back(std::make_unique<plugins::ProcessSupervisorPlugin>());
  return p;
}

class EventGenerator {
public:
  explicit EventGenerator(uint32_t seed) : rng_(seed) {}

  Event next() {
    switch (pick(12)) {
    case 0:
      return ev::AddPeer{peerInfo(anyPeer())};
    case 1:
      return ev::RemovePeer{anyPeer()};
    case 2:
    case 3:
      return ev::PeerSessionUp{
          anyPeer(), chance(3) ? std::optional(std::chrono::milliseconds(1000 * (1 + pick(5))))
                               : std::nullopt};
    case 4: {
      static constexpr state::CloseCode kCodes[] = {
          state::CloseCode::Normal, state::CloseCode::HoldExpired, state::CloseCode::TransportError,
          state::CloseCode::AdminShutdown, state::CloseCode::ProtocolError};
      return ev::PeerSessionDown{anyPeer(), kCodes[pick(5)], now_};
    }
    case 5:
    case 6:
    case 7:
      return update();
    case 8:
      return ev::AddRoute{route(anyRoute()), state::RouteSource::Admin};
    case 9:
      return ev::RemoveRoute{anyRoute()};
    case 10:
      return serviceEvent();
    default:
      now_ += std::chrono::milliseconds(500 * pick(8));
      return ev::TimerTick{now_};
    }
  }

private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool chance(std::size_t one_in) { return pick(one_in) == 0; }

  std::string anyPeer() {
    static constexpr const char* kPeers[] = {"node-a", "node-b", "node-c", "node-d", "node-x"};
    return kPeers[pick(5)];
  }
  std::string anyNode() {
    static constexpr const char* kNodes[] = {"node-a", "node-b", "node-c", "node-d",
                                             "node-e", "node-f", "self"};
    return kNodes[pick(7)];
  }
  std::string anyRoute() { return "svc-" + std::to_string(pick(6)); }

  state::PeerInfo peerInfo(const std::string& name) {
    state::PeerInfo info;
    info.name = name;
    info.endpoint = "ws://127.0.0.1:" + std::to_string(3000 + pick(3)) + "/rpc";
    return info;
  }

  state::Route route(const std::string& name) {
    state::Route r;
    r.name = name;
    r.endpoint = "http://127.0.0.1:" + std::to_string(8000 + pick(3));
    if (chance(3)) {
      r.health_status = chance(2) ? state::HealthStatus::Up : state::HealthStatus::Down;
    }
    if (chance(4)) {
      r.envoy_port = static_cast<uint16_t>(10000 + pick(3));
    }
    return r;
  }

  Event update() {
    ev::PeerUpdate u;
    u.peer = anyPeer();
    const std::size_t n = 1 + pick(4);
    for (std::size_t i = 0; i < n; ++i) {
      state::UpdateItem item;
      item.action = chance(3) ? state::UpdateItem::Action::Remove : state::UpdateItem::Action::Add;
      item.route = route(anyRoute());
      item.node_path.push_back(chance(15) ? anyPeer() : u.peer); // occasionally spoofed
      const std::size_t extra = pick(3);
      for (std::size_t k = 0; k < extra; ++k) {
        item.node_path.push_back(anyNode()); // may contain "self": a loop
      }
      item.origin_node = item.node_path.back();
      u.items.push_back(std::move(item));
    }
    return u;
  }

  Event serviceEvent() {
    const std::string name = "svc-" + std::to_string(pick(6));
    switch (pick(4)) {
    case 0: {
      state::LocalService s;
      s.name = name;
      s.route = route(name);
      if (chance(2)) {
        s.command = {"/bin/true"};
      }
      return ev::ServiceRegistered{s};
    }
    case 1:
      return ev::ServiceDeregistered{name};
    case 2:
      return ev::ServiceHealthChanged{
          name, chance(2) ? state::HealthStatus::Up : state::HealthStatus::Down,
          static_cast<double>(pick(100)), "2026-11-27T00:00:00Z"};
    default:
      return ev::ProcessExited{name, static_cast<int>(pick(3))};
    }
  }

  std::mt19937 rng_;
  MonotonicTime now_{std::chrono::hours(1)};
};

// Every route in Adj-RIB-In has its best candidate in the Loc-RIB; nothing else is there.
std::string locRibProblem(const state::NodeState& s) {
  std::size_t best_count = 0;
  std::size_t path_count = 0;
  for (const auto& [key, entry] : s.learned()) {
    best_count += entry->hasBest() ? 1 : 0;
    path_count += entry->paths.size();
  }
  if (best_count != s.bestCount() || path_count != s.pathCount()) {
    return "counts out of step: " + std::to_string(s.bestCount()) + " best and " +
           std::to_string(s.pathCount()) + " paths counted, " + std::to_string(best_count) +
           " and " + std::to_string(path_count) + " present";
  }
  for (const auto& [key, entry] : s.learned()) {
    if (entry->paths.empty()) {
      return "a learned route without paths: " + std::string(key.name);
    }
    const state::LearnedPath* best = nullptr;
    for (const state::LearnedPath& path : entry->paths) {
      if (std::find(path.node_path.begin(), path.node_path.end(), s.self().name) !=
          path.node_path.end()) {
        return "a stored path contains this node: " + std::string(key.name);
      }
      if (best == nullptr || state::preferredOver(path, *best)) {
        best = &path;
      }
    }
    const state::LearnedPath* chosen = s.findBest(key.owned());
    if (chosen == nullptr || chosen->peer != best->peer) {
      return "Loc-RIB for " + std::string(key.name) + "@" + std::string(key.origin_node) +
             " is not the best candidate";
    }
  }
  return {};
}

uint32_t baseSeed() {
  if (const char* env = std::getenv("CATALYST_TEST_SEED")) {
    return static_cast<uint32_t>(std::strtoul(env, nullptr, 10));
  }
  return std::random_device{}();
}

TEST(PipelinePropertyTest, CommittedStateIsTheDeltasAppliedInOrder) {
  const uint32_t base = baseSeed();
  constexpr int kRuns = 20;
  constexpr int kEvents = 1500;
  for (int run = 0; run < kRuns; ++run) {
    const uint32_t seed = base + static_cast<uint32_t>(run);
    SCOPED_TRACE("seed " + std::to_string(seed) +
                 " (replay: CATALYST_TEST_SEED=" + std::to_string(seed) + ")");
    CommittedStateSpy::Record record;
    Pipeline pipeline(state::NodeState(kSelf), builtins(record));
    state::NodeState replay(kSelf);
    EventGenerator gen(seed);
    uint64_t commits = 0;

    for (int i = 0; i < kEvents; ++i) {
      const Event event = gen.next();
      const PipelineResult result = pipeline.handle(event);
      ASSERT_TRUE(record.violations.empty()) << record.violations.front();
      ASSERT_EQ(result.no_op_ops, 0u)
          << "event " << i << " " << eventName(event) << " " << test::describe(result.committed);
      if (!result.committed.empty()) {
        replay.apply(result.committed);
        ++commits;
      }
      ASSERT_EQ(record.calls, static_cast<uint64_t>(i) + 1);
      ASSERT_EQ(record.commits_seen, commits);
      ASSERT_EQ(result.generation, commits);
      ASSERT_TRUE(pipeline.state() == replay) << "event " << i << " " << eventName(event);
      const std::string problem = locRibProblem(pipeline.state());
      ASSERT_TRUE(problem.empty()) << "event " << i << " " << eventName(event) << ": " << problem;
    }
    EXPECT_GT(commits, static_cast<uint64_t>(kEvents / 10)) << "the generator made too few changes";
  }
}

// Phase-1 plugins all see the state from before the event, never each other's deltas.
TEST(PipelinePropertyTest, PhaseOnePluginsSeeTheStateBeforeTheEvent) {
  struct Recorder : RouteTablePlugin {
    explicit Recorder(std::vector<uint64_t>& seen) : seen_(seen) {}
    std::string_view name() const override { return "recorder"; }
    PhaseOneResult apply(const state::NodeState& s, const Event& /*event*/) const override {
      seen_.push_back(s.generation());
      PhaseOneResult r;
      state::Route route;
      route.name = "r" + std::to_string(seen_.size());
      r.delta.ops.emplace_back(
          state::op::UpsertLocalRoute{state::LocalRoute{route, state::RouteSource::Admin}});
      return r;
    }
    std::vector<uint64_t>& seen_;
  };
  std::vector<uint64_t> seen;
  PluginSet p;
  p.route_table.push_back(std::make_unique<Recorder>(seen));
  p.route_table.push_back(std::make_unique<Recorder>(seen));
  Pipeline pipeline(state::NodeState(kSelf), std::move(p));
  pipeline.handle(ev::TimerTick{});
  pipeline.handle(ev::TimerTick{});
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 0, 1, 1}));
  EXPECT_EQ(pipeline.state().generation(), 2u) << "one commit per event, not per plugin";
  EXPECT_EQ(pipeline.state().localRoutes().size(), 4u);
}

} // namespace
} // namespace catalyst::control
