// Per-event cost of the control pipeline against the size of the route table: the cost must
// follow the change, not the table (docs/benchmarks.md has the figures and the command).

#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "catalyst/control/pipeline.h"
#include "catalyst/plugins/builtin.h"

namespace catalyst::control {
namespace {

state::UpdateItem item(std::size_t i, const std::string& sender, bool up = true) {
  state::UpdateItem u;
  u.route.name = "service-" + std::to_string(i) + ".example.local";
  u.route.endpoint = "http://10.0.0.1:8080";
  u.route.protocol = state::Protocol::Http;
  u.route.envoy_address = "10.0.0.1";
  u.route.envoy_port = 10000;
  u.route.health_status = up ? state::HealthStatus::Up : state::HealthStatus::Down;
  u.node_path = {sender, "origin-" + std::to_string(i % 7)};
  u.origin_node = u.node_path.back();
  return u;
}

// A node ("node-b") with three connected peers and `routes` learned routes from node-a,
// loaded through the pipeline itself in batches of 1000.
Pipeline makeLoaded(std::size_t routes) {
  Pipeline p(
      state::NodeState(state::NodeIdentity{"node-b", {}, "ws://127.0.0.1:3000/rpc", "127.0.0.1"}),
      plugins::builtinPlugins());
  for (const char* peer : {"node-a", "node-c", "node-d"}) {
    state::PeerInfo info;
    info.name = peer;
    p.handle(ev::AddPeer{info});
    p.handle(ev::PeerSessionUp{peer, std::nullopt});
  }
  for (std::size_t i = 0; i < routes; i += kMaxUpdateItems) {
    ev::PeerUpdate u{"node-a", {}};
    for (std::size_t k = i; k < std::min(routes, i + kMaxUpdateItems); ++k) {
      u.items.push_back(item(k, "node-a"));
    }
    p.handle(u);
  }
  return p;
}

// One peer update that flips the health of one route: Adj-RIB-In change, best-path decision,
// re-advertisement to two peers, a withdrawal toward the source (split horizon) and a
// data-plane change.
void BM_PeerUpdateOneRoute(benchmark::State& bench) {
  const auto routes = static_cast<std::size_t>(bench.range(0));
  Pipeline p = makeLoaded(routes);
  // Events prepared up front, spread over the table so every lookup is a real one.
  std::vector<Event> events;
  for (std::size_t i = 0; i < 1024; ++i) {
    const std::size_t k = (i * 7919) % routes;
    events.emplace_back(ev::PeerUpdate{"node-a", {item(k, "node-a", false)}});
    events.emplace_back(ev::PeerUpdate{"node-a", {item(k, "node-a", true)}});
  }
  std::size_t n = 0;
  std::size_t effects = 0;
  for (auto _ : bench) {
    PipelineResult r = p.handle(events[n++ % events.size()]);
    effects += r.effects.size();
    benchmark::DoNotOptimize(r);
  }
  if (effects != 4 * static_cast<std::size_t>(bench.iterations())) {
    bench.SkipWithError("every flip must produce three updates and a data-plane change");
  }
  bench.counters["routes"] = static_cast<double>(p.state().learned().size());
}
BENCHMARK(BM_PeerUpdateOneRoute)->Arg(1000)->Arg(100000);

// A local route added and removed through the admin path.
void BM_AdminRouteAddRemove(benchmark::State& bench) {
  const auto routes = static_cast<std::size_t>(bench.range(0));
  Pipeline p = makeLoaded(routes);
  state::Route r;
  r.name = "local-api";
  r.endpoint = "http://127.0.0.1:8080";
  const Event add = ev::AddRoute{r, state::RouteSource::Admin};
  const Event remove = ev::RemoveRoute{r.name};
  for (auto _ : bench) {
    benchmark::DoNotOptimize(p.handle(add));
    benchmark::DoNotOptimize(p.handle(remove));
  }
}
BENCHMARK(BM_AdminRouteAddRemove)->Arg(1000)->Arg(100000);

// A timer tick with nothing to expire: the steady-state cost of the clock.
void BM_IdleTick(benchmark::State& bench) {
  Pipeline p = makeLoaded(static_cast<std::size_t>(bench.range(0)));
  for (auto _ : bench) {
    benchmark::DoNotOptimize(p.handle(ev::TimerTick{}));
  }
}
BENCHMARK(BM_IdleTick)->Arg(1000)->Arg(100000);

} // namespace
} // namespace catalyst::control

BENCHMARK_MAIN();
