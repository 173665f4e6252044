// The peering benchmark (scripts/bench-peering, docs/benchmarks.md), with real catalyst-node
// processes on 127.0.0.1. Prints one JSON line per measurement.
//
//   peering_bench --node BINARY chain --routes N
//     A (N routes) - B - C. A starts with its routes but without B as a peer; once everything
//     is up, A is told to peer with B (t0). Measures the time until C has all N routes, the
//     time until all are gone from C after A drops B (a full withdrawal), and C's resident
//     memory per route (RSS with the routes minus RSS before, over N).
//
//   peering_bench --node BINARY latency --changes K
//     A - B - C - D - E, and F: a node in this process peering with E. K times, changes the
//     health of one route at A (over one open RPC session to A's data-channel client) and
//     measures until F has the change: five hops. Prints p50, p99 and max.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include "catalyst/common/logging.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/target.h"
#include "catalyst/rpcnet/client.h"
#include "catalyst/server/node.h"

#include "support/cluster.h"

namespace catalyst::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

long rssKb(int pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

// User + system CPU time of a process so far, in ms.
double cpuMs(int pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  long utime = 0;
  long stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) {
      utime = std::stol(field);
    } else if (i == 15) {
      stime = std::stol(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double learned(const Cluster& c, const std::string& node) {
  return c.metric(node, "catalyst_routes{kind=\"learned\"}");
}

// Polls `pred` every millisecond (each poll is a GET /metrics); the time when it first held.
template <class Pred> Clock::time_point until(Pred pred, seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) {
      throw std::runtime_error("timed out");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1)); // the poll interval
  }
  return Clock::now();
}

int chain(const std::string& binary, int routes, bool trace) {
  Cluster c(binary);
  NodeOptions quiet;
  quiet.log_level = "warning";
  c.add("a", quiet);
  c.add("b", quiet);
  c.add("c", quiet);
  c.linkOneWay("b", "a");
  c.link("b", "c");
  c.startAll();
  // A's routes, in bulk (addRoutes), before A knows B.
  constexpr int kChunk = 5000;
  for (int first = 0; first < routes; first += kChunk) {
    rpc::Array chunk;
    for (int i = first; i < std::min(routes, first + kChunk); ++i) {
      chunk.push_back(
          rpc::object({{"name", fmt::format("svc-{}", i)},
                       {"endpoint", fmt::format("http://10.1.{}.{}:8080", i / 250, i % 250)},
                       {"protocol", "http"}}));
    }
    const rpc::Value added = c.admin("a", "getDataChannelClient", "addRoutes",
                                     rpc::object({{"routes", std::move(chunk)}}));
    const rpc::Value* ok = added.find("success");
    if (ok == nullptr || !ok->is<bool>() || !*ok->as<bool>()) {
      throw std::runtime_error("addRoutes: " + added.debugString());
    }
  }
  until([&] { return c.metric("a", "catalyst_routes{kind=\"local\"}") == routes; }, seconds(300));
  until([&] { return c.metric("c", "catalyst_peer_sessions") == 1; }, seconds(30));
  const long rss_before = rssKb(c.process("c").pid());

  const rpc::Value peer = c.peerArg("a", "b");
  std::vector<double> cpu0;
  for (const char* n : {"a", "b", "c"}) {
    cpu0.push_back(cpuMs(c.process(n).pid()));
  }
  const auto t0 = Clock::now();
  const rpc::Value added = c.admin("a", "getNetworkClient", "addPeer", peer);
  const auto t1 = until(
      [&] {
        const double n = learned(c, "c");
        if (trace) { // where the time goes: routes at C against time
          std::cerr << fmt::format("trace {:.1f} ms: {} routes at C\n", ms(Clock::now() - t0), n);
        }
        return n == routes;
      },
      seconds(300));
  const long rss_with = rssKb(c.process("c").pid());
  std::vector<double> cpu;
  for (const char* n : {"a", "b", "c"}) {
    cpu.push_back(cpuMs(c.process(n).pid()) - cpu0[cpu.size()]);
  }

  std::vector<double> wcpu0;
  for (const char* n : {"a", "b", "c"}) {
    wcpu0.push_back(cpuMs(c.process(n).pid()));
  }
  const auto t2 = Clock::now();
  c.admin("a", "getNetworkClient", "removePeer", rpc::object({{"name", "node-b"}}));
  const auto t3 = until([&] { return learned(c, "c") == 0; }, seconds(300));
  if (trace) { // the phases on CLOCK_MONOTONIC (steady_clock), for perf record -k CLOCK_MONOTONIC
    auto mono = [](Clock::time_point t) {
      return std::chrono::duration<double>(t.time_since_epoch()).count();
    };
    std::cerr << fmt::format(
        "trace monotonic: propagation {:.6f},{:.6f} withdrawal {:.6f},{:.6f}\n", mono(t0), mono(t1),
        mono(t2), mono(t3));
  }
  std::vector<double> wcpu;
  for (const char* n : {"a", "b", "c"}) {
    wcpu.push_back(cpuMs(c.process(n).pid()) - wcpu0[wcpu.size()]);
  }

  std::cout << fmt::format("{{\"impl\":\"catalyst\",\"routes\":{},\"propagate_ms\":{:.1f},"
                           "\"withdraw_ms\":{:.1f},\"rss_before_kb\":{},\"rss_with_kb\":{},"
                           "\"bytes_per_route\":{:.1f},\"cpu_ms\":{{\"a\":{:.0f},\"b\":{:.0f},"
                           "\"c\":{:.0f}}},\"withdraw_cpu_ms\":{{\"a\":{:.0f},\"b\":{:.0f},"
                           "\"c\":{:.0f}}}}}",
                           routes, ms(t1 - t0), ms(t3 - t2), rss_before, rss_with,
                           static_cast<double>(rss_with - rss_before) * 1024.0 / routes, cpu[0],
                           cpu[1], cpu[2], wcpu[0], wcpu[1], wcpu[2])
            << std::endl;
  return added.debugString().find("true") == std::string::npos ? 1 : 0;
}

int latency(const std::string& binary, int changes) {
  Cluster c(binary);
  const std::vector<std::string> chain_nodes = {"a", "b", "c", "d", "e"};
  for (const std::string& n : chain_nodes) {
    NodeOptions o;
    o.log_level = "warning";
    if (n == "a") {
      o.routes = {"books"};
    }
    c.add(n, o);
  }
  for (std::size_t i = 0; i + 1 < chain_nodes.size(); ++i) {
    c.link(chain_nodes[i], chain_nodes[i + 1]);
  }
  // F lives in this process; E must know it: declared in the cluster for its port and key.
  c.add("f");
  c.linkOneWay("e", "f");
  for (const std::string& n : chain_nodes) {
    c.start(n);
  }

  RealTimeSource time;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time);
  LoggerSharedPtr logger = makeStderrLogger("bench", LogLevel::Warn);
  config::NodeConfig f;
  f.node_id = Cluster::id("f");
  f.port = c.port("f");
  f.peering_endpoint = fmt::format("ws://127.0.0.1:{}/rpc", f.port);
  f.state_dir = c.stateDir("f");
  state::PeerInfo e;
  e.name = Cluster::id("e");
  e.endpoint = fmt::format("ws://127.0.0.1:{}/rpc", c.port("e"));
  e.peer_token = c.mint("e", f.node_id);
  f.peers.push_back(e);
  server::Node node_f(f, *dispatcher, *logger);
  if (!node_f.start()) {
    throw std::runtime_error("node F did not start");
  }
  const state::RouteKey key{"books", Cluster::id("a")};
  auto health = [&]() -> std::optional<state::HealthStatus> {
    const state::LearnedPath* best = node_f.control().state().findBest(key);
    if (best == nullptr) {
      return std::nullopt;
    }
    return best->route.health_status.value_or(state::HealthStatus::Up);
  };
  auto run = [&](const std::string& what, auto pred) {
    const auto deadline = Clock::now() + seconds(30);
    while (!pred()) {
      dispatcher->poll();
      if (Clock::now() > deadline) {
        throw std::runtime_error("timed out waiting for " + what);
      }
    }
    return Clock::now();
  };
  run("F to learn the route", [&] { return health().has_value(); });

  // One session to A's data-channel client, so each change costs one call.
  rpcnet::RpcClientPtr client;
  rpcnet::RpcClient::connect(*dispatcher, fmt::format("ws://127.0.0.1:{}/rpc", c.port("a")), {},
                             [&](Result<rpcnet::RpcClientPtr> r) {
                               if (r) {
                                 client = std::move(*r);
                               }
                             });
  run("a session with A", [&] { return client != nullptr; });
  rpc::Stub channel =
      client->main().call("getDataChannelClient", {c.adminToken("a")}).get("client");

  std::vector<double> samples;
  for (int i = 0; i < changes + 10; ++i) {
    const bool down = i % 2 == 0;
    rpc::Value route = rpc::object({{"name", "books"},
                                    {"endpoint", "http://127.0.0.1:9/books"},
                                    {"protocol", "http"},
                                    {"healthStatus", down ? "down" : "up"}});
    const auto t0 = Clock::now();
    rpc::Promise<rpc::Value> answer = rpc::pull(channel.call("addRoute", {route}));
    const auto want = down ? state::HealthStatus::Down : state::HealthStatus::Up;
    const auto t1 = run(fmt::format("change {} at F", i), [&] { return health() == want; });
    run(fmt::format("A's answer to change {}", i), [&] { return answer.settled(); });
    if (i >= 10) { // the first ten warm up
      samples.push_back(ms(t1 - t0));
    }
  }
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double p) {
    return samples[std::min(samples.size() - 1,
                            static_cast<std::size_t>(p * static_cast<double>(samples.size())))];
  };
  std::cout << fmt::format("{{\"impl\":\"catalyst\",\"hops\":5,\"changes\":{},\"p50_ms\":{:.3f},"
                           "\"p99_ms\":{:.3f},\"max_ms\":{:.3f}}}",
                           samples.size(), pct(0.5), pct(0.99), samples.back())
            << std::endl;
  client.reset();
  node_f.stop();
  dispatcher->poll();
  return 0;
}

} // namespace
} // namespace catalyst::test

int main(int argc, char** argv) {
  CLI::App app{"peering_bench: route propagation through real catalyst-node processes"};
  std::string binary = "build/bin/catalyst-node";
  app.add_option("--node", binary, "catalyst-node binary")->capture_default_str();
  int routes = 100'000;
  CLI::App* chain = app.add_subcommand("chain", "A - B - C: propagation, withdrawal, memory");
  chain->add_option("--routes", routes)->capture_default_str();
  bool trace = false;
  chain->add_flag("--trace", trace,
                  "Print the routes at C at every poll, and when each phase began and ended on "
                  "CLOCK_MONOTONIC (stderr)");
  int changes = 200;
  CLI::App* latency = app.add_subcommand("latency", "one change across five hops");
  latency->add_option("--changes", changes)->capture_default_str();
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  try {
    if (chain->parsed()) {
      return catalyst::test::chain(binary, routes, trace);
    }
    return catalyst::test::latency(binary, changes);
  } catch (const std::exception& e) {
    std::cerr << "peering_bench: " << e.what() << "\n";
    return 1;
  }
}
