// Seeded randomized peering test (peering.md §4): five nodes in one process (each a real
// server::Node with its own port, sessions over real WebSockets on 127.0.0.1, all on one
// dispatcher), a random topology, then random route adds, removes, attribute changes and
// session flaps. After quiescence every node's Loc-RIB must equal what a small reference
// model computes from the final topology and routes: for each route, the shortest path to its
// origin, ties broken by the lowest neighbour name, with the origin's attributes.
//
// The seed is printed; CATALYST_TEST_SEED=<seed> replays one run.

#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "catalyst/auth/token_authority.h"
#include "catalyst/common/logging.h"
#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/server/node.h"

#include "support/process.h"

namespace catalyst::test {
namespace {

using std::chrono::seconds;

constexpr int kNodes = 5;

std::string nodeId(int i) { return fmt::format("node-{}", static_cast<char>('a' + i)); }

struct Expected {
  std::string peer;
  std::vector<std::string> node_path;
  state::Route route; // the origin's record
};

// The reference model: per node, per (route, origin), the path it must have chosen.
std::map<int, std::map<state::RouteKey, Expected>>
model(const std::set<std::pair<int, int>>& links,
      const std::map<int, std::map<std::string, state::Route>>& local) {
  std::map<int, std::set<int>> adj;
  for (const auto& [a, b] : links) {
    adj[a].insert(b);
    adj[b].insert(a);
  }
  std::map<int, std::map<state::RouteKey, Expected>> out;
  for (const auto& [origin, routes] : local) {
    // BFS distances to the origin.
    std::map<int, int> dist{{origin, 0}};
    std::deque<int> queue{origin};
    while (!queue.empty()) {
      const int v = queue.front();
      queue.pop_front();
      for (int n : adj[v]) {
        if (dist.emplace(n, dist[v] + 1).second) {
          queue.push_back(n);
        }
      }
    }
    // Paths, nearest first: each node goes through its lowest-named neighbour one step closer.
    std::map<int, std::vector<std::string>> path{{origin, {}}};
    std::vector<int> order;
    for (const auto& [v, d] : dist) {
      order.push_back(v);
    }
    std::sort(order.begin(), order.end(), [&](int x, int y) { return dist[x] < dist[y]; });
    std::map<int, int> via;
    for (int v : order) {
      if (v == origin) {
        continue;
      }
      int best = -1;
      for (int n : adj[v]) {
        if (dist[n] == dist[v] - 1 && (best < 0 || nodeId(n) < nodeId(best))) {
          best = n;
        }
      }
      via[v] = best;
      path[v] = {nodeId(best)};
      path[v].insert(path[v].end(), path[best].begin(), path[best].end());
      if (path[v].back() != nodeId(origin)) {
        path[v].push_back(nodeId(origin)); // best == origin: its path is empty
      }
    }
    for (const auto& [name, route] : routes) {
      for (const auto& [v, p] : path) {
        if (v != origin) {
          out[v][state::RouteKey{name, nodeId(origin)}] = Expected{nodeId(via[v]), p, route};
        }
      }
    }
  }
  return out;
}

TEST(PeeringRandomTest, LocRibMatchesTheReferenceModelAfterRandomChanges) {
  const char* env_seed = std::getenv("CATALYST_TEST_SEED");
  const uint64_t seed =
      env_seed != nullptr ? std::strtoull(env_seed, nullptr, 10) : std::random_device{}();
  std::cout << "seed: " << seed << " (CATALYST_TEST_SEED replays)\n";
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };

  // A connected random topology: a random spanning tree plus a few extra links.
  std::set<std::pair<int, int>> links;
  for (int i = 1; i < kNodes; ++i) {
    const int j = static_cast<int>(rng() % static_cast<uint64_t>(i));
    links.emplace(std::min(i, j), std::max(i, j));
  }
  for (int k = 0; k < 4; ++k) {
    const int i = static_cast<int>(rng() % kNodes);
    const int j = static_cast<int>(rng() % kNodes);
    if (i != j) {
      links.emplace(std::min(i, j), std::max(i, j));
    }
  }

  TempDir dir;
  RealTimeSource time;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time);
  LoggerSharedPtr logger = makeStderrLogger("random", LogLevel::Warn);
  std::vector<uint16_t> ports;
  std::vector<std::string> dirs;
  for (int i = 0; i < kNodes; ++i) {
    ports.push_back(freePort());
    dirs.push_back(dir.path() + "/" + nodeId(i));
  }
  auto mint = [&](int issuer, int subject) {
    auto authority =
        auth::TokenAuthority::loadOrCreate(dirs[static_cast<std::size_t>(issuer)], nodeId(issuer));
    auth::MintRequest request;
    request.subject = nodeId(subject);
    request.now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    return *authority->mint(request);
  };
  // PeerInfo as node `from` configures node `to`.
  auto peerInfo = [&](int from, int to) {
    state::PeerInfo info;
    info.name = nodeId(to);
    info.endpoint = fmt::format("ws://127.0.0.1:{}/rpc", ports[static_cast<std::size_t>(to)]);
    info.peer_token = mint(to, from);
    return info;
  };

  std::vector<std::unique_ptr<server::Node>> nodes;
  for (int i = 0; i < kNodes; ++i) {
    config::NodeConfig config;
    config.node_id = nodeId(i);
    config.port = ports[static_cast<std::size_t>(i)];
    config.peering_endpoint = fmt::format("ws://127.0.0.1:{}/rpc", config.port);
    config.state_dir = dirs[static_cast<std::size_t>(i)];
    for (const auto& [a, b] : links) {
      if (a == i || b == i) {
        config.peers.push_back(peerInfo(i, a == i ? b : a));
      }
    }
    nodes.push_back(std::make_unique<server::Node>(config, *dispatcher, *logger));
    ASSERT_TRUE(nodes.back()->start());
  }
  auto run = [&](auto pred, std::chrono::milliseconds timeout) {
    return eventually(
        [&] {
          dispatcher->poll();
          return pred();
        },
        timeout);
  };

  // Random changes, with the loop turning in between so they interleave with propagation.
  std::map<int, std::map<std::string, state::Route>> local;
  const std::vector<std::string> names = {"books", "films", "music", "games"};
  for (int step = 0; step < 120; ++step) {
    const int node = static_cast<int>(rng() % kNodes);
    auto& mine = local[node];
    const std::string& name = names[rng() % names.size()];
    if (chance(15)) {
      // A session flap: one side removes the other, then adds it back.
      auto it = links.begin();
      std::advance(it, static_cast<long>(rng() % links.size()));
      const auto [a, b] = *it;
      nodes[static_cast<std::size_t>(a)]->controlLoop().submit(control::ev::RemovePeer{nodeId(b)});
      dispatcher->poll();
      nodes[static_cast<std::size_t>(a)]->controlLoop().submit(
          control::ev::AddPeer{peerInfo(a, b)});
    } else if (mine.count(name) > 0 && chance(40)) {
      mine.erase(name);
      nodes[static_cast<std::size_t>(node)]->controlLoop().submit(control::ev::RemoveRoute{name});
    } else {
      state::Route r;
      r.name = name;
      r.endpoint = fmt::format("http://127.0.0.1:{}/{}", 8000 + node, name);
      r.health_status = chance(30) ? state::HealthStatus::Down : state::HealthStatus::Up;
      r.tags = {fmt::format("v{}", rng() % 3)};
      mine[name] = r;
      nodes[static_cast<std::size_t>(node)]->controlLoop().submit(
          control::ev::AddRoute{r, state::RouteSource::Admin});
    }
    const auto pause = std::chrono::milliseconds(rng() % 20);
    run([] { return false; }, pause);
  }

  const auto expected = model(links, local);
  auto matches = [&](int i, std::string* why) {
    const state::NodeState& s = nodes[static_cast<std::size_t>(i)]->control().state();
    const auto& want =
        expected.count(i) > 0 ? expected.at(i) : std::map<state::RouteKey, Expected>{};
    const std::vector<state::RouteKey> keys = s.learnedKeysSorted();
    if (keys.size() != want.size()) {
      *why = fmt::format("{} has {} learned routes, the model {}", nodeId(i), keys.size(),
                         want.size());
      return false;
    }
    for (const auto& [key, w] : want) {
      const state::LearnedPath* best = s.findBest(key);
      if (best == nullptr) {
        *why = fmt::format("{} lacks {}@{}", nodeId(i), key.name, key.origin_node);
        return false;
      }
      if (best->peer != w.peer || best->node_path != w.node_path ||
          best->route.health_status != w.route.health_status || best->route.tags != w.route.tags ||
          best->route.endpoint != w.route.endpoint || best->is_stale) {
        *why = fmt::format("{}: {}@{} via {} [{}] health {} tags {}; the model: via {} [{}] "
                           "health {} tags {}",
                           nodeId(i), key.name, key.origin_node, best->peer,
                           fmt::join(best->node_path, ","),
                           best->route.health_status == state::HealthStatus::Down ? "down" : "up",
                           fmt::join(best->route.tags, ","), w.peer, fmt::join(w.node_path, ","),
                           w.route.health_status == state::HealthStatus::Down ? "down" : "up",
                           fmt::join(w.route.tags, ","));
        return false;
      }
    }
    return true;
  };
  std::string why;
  const bool converged = run(
      [&] {
        for (int i = 0; i < kNodes; ++i) {
          if (!matches(i, &why)) {
            return false;
          }
        }
        return true;
      },
      seconds(30));
  std::string topology;
  for (const auto& [a, b] : links) {
    topology += fmt::format(" {}-{}", nodeId(a), nodeId(b));
  }
  EXPECT_TRUE(converged) << why << "\ntopology:" << topology;

  for (auto& n : nodes) {
    n->stop();
  }
  dispatcher->poll();
  nodes.clear();
  dispatcher->poll();
}

} // namespace
} // namespace catalyst::test
