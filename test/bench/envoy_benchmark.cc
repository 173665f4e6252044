// The Envoy renderer at scale: rendering and serializing the resources of 10 000 routes from
// scratch, the cost of one route change against a loaded builder (it must follow the change,
// not the table, except for the linear assembly), the DiscoveryResponse text, and the binary
// encoding an xDS response needs. docs/benchmarks.md has the figures and the command.

#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "catalyst/envoy/api_schema.h"
#include "catalyst/envoy/render.h"
#include "catalyst/envoy/xds_server.h"

#include "ads_client.h"

namespace catalyst::envoy {
namespace {

using control::fx::ConfigureDataPlane;
using control::fx::DataPlaneRoute;

// Half local routes (HTTP to a local service), half learned (TCP via one of 3 neighbours).
std::vector<DataPlaneRoute> routes(std::size_t n) {
  std::vector<DataPlaneRoute> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    DataPlaneRoute r;
    r.listen_port = static_cast<uint16_t>(10000 + i % 50000);
    if (i % 2 == 0) {
      r.kind = DataPlaneRoute::Kind::Ingress;
      r.key = {"service-" + std::to_string(i) + ".example.local", "node-b"};
      r.protocol = state::Protocol::Http;
      r.service_endpoint = "http://10.1.0." + std::to_string(i % 250 + 1) + ":8080";
    } else {
      r.kind = DataPlaneRoute::Kind::Egress;
      r.key = {"service-" + std::to_string(i) + ".example.local", "node-a"};
      r.protocol = state::Protocol::Tcp;
      r.next_hop_peer = "node-" + std::to_string(i % 3);
      r.next_hop_address = "10.0.0." + std::to_string(i % 3 + 1);
      r.next_hop_port = static_cast<uint16_t>(20000 + i % 40000);
    }
    out.push_back(std::move(r));
  }
  return out;
}

void BM_RenderFromScratch(benchmark::State& state) {
  const auto table = routes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    Snapshot s = render(table, {});
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RenderFromScratch)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Render and write both DiscoveryResponse texts (what envoy-files does for a full table).
void BM_RenderAndSerialize(benchmark::State& state) {
  const auto table = routes(static_cast<std::size_t>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    Snapshot s = render(table, {});
    std::string cds = s.clusters.discoveryResponseJson();
    std::string lds = s.listeners.discoveryResponseJson();
    bytes = cds.size() + lds.size();
    benchmark::DoNotOptimize(cds);
    benchmark::DoNotOptimize(lds);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RenderAndSerialize)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// One route's target changes in a table of N: re-render that route, assemble the sets.
void BM_OneChangeOnALoadedBuilder(benchmark::State& state) {
  auto table = routes(static_cast<std::size_t>(state.range(0)));
  SnapshotBuilder builder({});
  builder.apply(ConfigureDataPlane{table, {}});
  benchmark::DoNotOptimize(builder.build());
  uint16_t port = 1;
  for (auto _ : state) {
    DataPlaneRoute changed = table.at(1);
    changed.next_hop_port = port++;
    builder.apply(ConfigureDataPlane{{changed}, {}});
    Snapshot s = builder.build();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_OneChangeOnALoadedBuilder)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// The protobuf binary of every resource of N routes (what an xDS response carries), from the
// rendered JSON through Envoy's descriptor pool.
void BM_EncodeBinary(benchmark::State& state) {
  const Result<ApiSchema> schema = ApiSchema::load();
  if (!schema) {
    state.SkipWithError("no schema");
    return;
  }
  const Snapshot s = render(routes(static_cast<std::size_t>(state.range(0))), {});
  for (auto _ : state) {
    std::size_t bytes = 0;
    for (const ResourceSet* set : {&s.clusters, &s.listeners}) {
      for (const ResourceConstSharedPtr& r : set->resources) {
        Result<std::string> bin = schema->encode(set->type_url, r->json);
        bytes += bin ? bin->size() : 0;
      }
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EncodeBinary)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// From a route change to the push reaching an ADS client on 127.0.0.1: the builder renders the
// change, the server gets the new snapshot (encoding only the changed resources), writes the
// clusters, and the client (subscribed to CDS, ACKing every response) has read them. The node
// adds its debounce (EnvoyDataPlaneOptions::debounce) in front of this.
void BM_ChangeToPush(benchmark::State& state) {
  const Result<ApiSchema> schema = ApiSchema::load();
  auto logger = makeStderrLogger("bench", LogLevel::Warn);
  if (!schema) {
    state.SkipWithError("no schema");
    return;
  }
  XdsServer server(*schema, XdsServerOptions{"127.0.0.1", 0}, *logger);
  if (!server.start()) {
    state.SkipWithError("the xDS server did not start");
    return;
  }
  auto table = routes(static_cast<std::size_t>(state.range(0)));
  SnapshotBuilder builder({});
  builder.apply(ConfigureDataPlane{table, {}});
  auto publish = [&] {
    const Snapshot s = builder.build();
    return server.setSnapshot("", XdsSnapshot{{s.clusters, s.listeners}});
  };
  if (!publish()) {
    state.SkipWithError("setSnapshot failed");
    return;
  }
  testing::RawAdsStream ads(server.port());
  const std::string cds(kClusterTypeUrl);
  ads.send(testing::discoveryRequest({cds, "", "", {}, std::nullopt, "bench"}));
  std::optional<testing::Response> first = ads.readResponse();
  if (!first) {
    state.SkipWithError("no first response");
    return;
  }
  ads.send(testing::discoveryRequest({cds, first->version_info, first->nonce}));
  uint16_t port = 1;
  for (auto _ : state) {
    DataPlaneRoute changed = table.at(1);
    changed.next_hop_port = port++;
    builder.apply(ConfigureDataPlane{{changed}, {}});
    if (!publish()) {
      state.SkipWithError("setSnapshot failed");
      break;
    }
    std::optional<std::string> bytes = ads.read(); // the clusters, with the change
    state.PauseTiming();
    std::optional<testing::Response> r = bytes ? testing::parseResponse(*bytes) : std::nullopt;
    if (!r) {
      state.SkipWithError("no response");
      break;
    }
    ads.send(testing::discoveryRequest({cds, r->version_info, r->nonce}));
    state.ResumeTiming();
  }
  server.stop();
}
BENCHMARK(BM_ChangeToPush)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->UseRealTime();

} // namespace
} // namespace catalyst::envoy

BENCHMARK_MAIN();
