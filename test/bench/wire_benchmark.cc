// A batch of 1000 routes on the peering wire: encoded (updateBatchEncoded), and read from an
// update call's text by the one-pass reader (updateCallFromText) against the general reader it
// stands in for (the session's tape, then updateBatchFromText). And a peer's Adj-RIB-Out taking
// a full table of 100 000 routes and its withdrawal, 1000 items at a time, as a relay's does in
// the peering benchmark's chain. docs/benchmarks.md has the figures and the command.

#include <algorithm>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "catalyst/peering/adj_rib_out.h"
#include "catalyst/peering/wire.h"
#include "catalyst/rpc/text_data.h"

namespace catalyst::peering {
namespace {

// Routes as the peering benchmark's chain carries them (one relay hop).
std::vector<state::UpdateItem> batch(std::size_t n, bool add) {
  std::vector<state::UpdateItem> items;
  const state::NodePath path{"node-b", "node-a"};
  for (std::size_t i = 0; i < n; ++i) {
    state::UpdateItem u;
    u.action = add ? state::UpdateItem::Action::Add : state::UpdateItem::Action::Remove;
    u.route.name = "svc-" + std::to_string(i);
    if (add) {
      u.route.endpoint =
          "http://10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":8080";
      u.route.envoy_address = "127.0.0.1";
    }
    u.node_path = path;
    u.origin_node = "node-a";
    items.push_back(std::move(u));
  }
  return items;
}

std::string callText(const std::vector<state::UpdateItem>& items) {
  const rpc::Value encoded = updateBatchEncoded(std::span<const state::UpdateItem>(items));
  return R"([{"peerInfo":{"name":"node-b","domains":[[]]},"update":)" +
         encoded.as<rpc::Encoded>()->text + "}]";
}

void BM_UpdateBatchEncoded(benchmark::State& state) {
  const auto items = batch(static_cast<std::size_t>(state.range(0)), state.range(1) != 0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(updateBatchEncoded(std::span<const state::UpdateItem>(items)));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UpdateBatchEncoded)->Args({1000, 1})->Args({1000, 0});

void BM_UpdateCallOnePass(benchmark::State& state) {
  const std::string text = callText(batch(static_cast<std::size_t>(state.range(0)), true));
  rpc::TextTape tape;
  std::string scratch;
  for (auto _ : state) {
    auto call = updateCallFromText(text, 64, 1000, tape, scratch);
    if (!call) {
      state.SkipWithError("declined");
      break;
    }
    benchmark::DoNotOptimize(call->items.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_UpdateCallOnePass)->Arg(1000);

// The baseline: what the node did before the one-pass reader, and still does with any other
// spelling.
void BM_UpdateCallTapeAndGeneralReader(benchmark::State& state) {
  const std::string text = callText(batch(static_cast<std::size_t>(state.range(0)), true));
  rpc::TextTape tape;
  for (auto _ : state) {
    if (!tape.parseArgs(text, 64)) {
      state.SkipWithError("declined");
      break;
    }
    auto items = updateBatchFromText(tape[0].find("update"), 1000);
    if (!items) {
      state.SkipWithError("refused");
      break;
    }
    benchmark::DoNotOptimize(items->data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_UpdateCallTapeAndGeneralReader)->Arg(1000);

// Batches of `size` items for routes [0, n).
std::vector<std::vector<state::UpdateItem>> batches(std::size_t n, std::size_t size, bool add) {
  std::vector<state::UpdateItem> all = batch(n, add);
  std::vector<std::vector<state::UpdateItem>> out;
  for (std::size_t i = 0; i < n; i += size) {
    out.emplace_back(
        std::make_move_iterator(all.begin() + static_cast<long>(i)),
        std::make_move_iterator(all.begin() + static_cast<long>(std::min(n, i + size))));
  }
  return out;
}

// Pushes each batch and takes it out again (a session keeps about a batch queued).
void pushAndTake(AdjRibOut& rib, std::vector<std::vector<state::UpdateItem>> in) {
  for (std::vector<state::UpdateItem>& b : in) {
    rib.pushAll(std::move(b));
    while (!rib.empty()) {
      benchmark::DoNotOptimize(rib.take(1000));
    }
  }
}

// range(0) routes advertised to a peer with nothing yet: every push is a new route.
void BM_AdjRibOutAdvertise(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto adds = batches(n, 1000, true);
  for (auto _ : state) {
    state.PauseTiming();
    auto in = adds;
    auto rib = std::make_unique<AdjRibOut>(1000);
    state.ResumeTiming();
    pushAndTake(*rib, std::move(in));
    state.PauseTiming();
    rib.reset(); // not timed
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AdjRibOutAdvertise)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

// range(0) advertised routes withdrawn, in another order than they came (a relay withdraws a
// peer's routes in the order of its Loc-RIB's table).
void BM_AdjRibOutWithdraw(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto adds = batches(n, 1000, true);
  auto removes = batches(n, 1000, false);
  std::mt19937 random(1);
  std::vector<state::UpdateItem> all;
  for (auto& b : removes) {
    all.insert(all.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
  }
  std::shuffle(all.begin(), all.end(), random);
  for (std::size_t i = 0; i < removes.size(); ++i) {
    removes[i].assign(
        std::make_move_iterator(all.begin() + static_cast<long>(i * 1000)),
        std::make_move_iterator(all.begin() + static_cast<long>(std::min(n, (i + 1) * 1000))));
  }
  for (auto _ : state) {
    state.PauseTiming();
    auto rib = std::make_unique<AdjRibOut>(1000);
    pushAndTake(*rib, adds);
    auto in = removes;
    state.ResumeTiming();
    pushAndTake(*rib, std::move(in));
    state.PauseTiming();
    if (rib->advertised() != 0) {
      state.SkipWithError("routes left advertised");
    }
    rib.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AdjRibOutWithdraw)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

} // namespace
} // namespace catalyst::peering

BENCHMARK_MAIN();
