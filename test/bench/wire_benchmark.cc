// A batch of 1000 routes on the peering wire: encoded (updateBatchEncoded), and read from an
// update call's text by the one-pass reader (updateCallFromText) against the general reader it
// stands in for (the session's tape, then updateBatchFromText). docs/benchmarks.md has the
// figures and the command.

#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

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

} // namespace
} // namespace catalyst::peering

BENCHMARK_MAIN();
