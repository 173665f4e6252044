#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "catalyst/common/logging.h"
#include "catalyst/control/control_loop.h"
#include "catalyst/plugins/propagation/data_plane/data_plane_plugin.h"
#include "catalyst/plugins/route_table/local_routes/local_routes_plugin.h"
#include "catalyst/plugins/route_table/peer_list/peer_list_plugin.h"

#include "support/state_builders.h"

namespace catalyst::control {
namespace {

class RecordingEffects : public EffectHandler {
public:
  void onEffects(std::vector<Effect> effects) override { batches.push_back(std::move(effects)); }
  std::vector<std::vector<Effect>> batches;
};

// Records the time of every tick it sees.
class TickRecorder : public RouteTablePlugin {
public:
  explicit TickRecorder(std::vector<MonotonicTime>& ticks) : ticks_(ticks) {}
  std::string_view name() const override { return "tick_recorder"; }
  PhaseOneResult apply(const state::NodeState& /*state*/, const Event& event) const override {
    if (const auto* tick = std::get_if<ev::TimerTick>(&event)) {
      ticks_.push_back(tick->now);
    }
    return {};
  }

private:
  std::vector<MonotonicTime>& ticks_;
};

class ControlLoopTest : public ::testing::Test {
protected:
  ControlLoopTest() : dispatcher_(event::makeDispatcher(time_)) {
    PluginSet plugins;
    plugins.route_table.push_back(std::make_unique<plugins::LocalRoutesPlugin>());
    plugins.route_table.push_back(std::make_unique<plugins::PeerListPlugin>());
    plugins.route_table.push_back(std::make_unique<TickRecorder>(ticks_));
    plugins.propagation.push_back(std::make_unique<plugins::DataPlanePlugin>());
    loop_ = std::make_unique<ControlLoop>(
        *dispatcher_, Pipeline(test::StateBuilder("node-a").build(), std::move(plugins)), effects_,
        *logger_);
  }

  // Runs the dispatcher until `done` holds, or fails after a deadline.
  template <class Pred> void runUntil(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "condition not reached in time";
      dispatcher_->poll();
      std::this_thread::yield();
    }
  }

  SimulatedTimeSource time_;
  LoggerSharedPtr logger_ = makeStderrLogger("test", LogLevel::Off);
  event::DispatcherPtr dispatcher_;
  RecordingEffects effects_;
  std::vector<MonotonicTime> ticks_;
  std::unique_ptr<ControlLoop> loop_;
};

TEST_F(ControlLoopTest, EventsFromOtherThreadsAreHandledInOrderOnTheControlThread) {
  std::vector<uint64_t> generations;
  std::thread producer([this, &generations] {
    for (int i = 0; i < 50; ++i) {
      loop_->submit(
          ev::AddRoute{test::route("r" + std::to_string(i))},
          [&generations](const PipelineResult& r) { generations.push_back(r.generation); });
    }
  });
  producer.join();
  runUntil([&] { return generations.size() == 50; });
  for (std::size_t i = 0; i < generations.size(); ++i) {
    EXPECT_EQ(generations[i], i + 1);
  }
  EXPECT_EQ(loop_->state().localRoutes().size(), 50u);
  ASSERT_EQ(effects_.batches.size(), 50u);
  EXPECT_EQ(loop_->stats().events, 50u);
  EXPECT_EQ(loop_->stats().commits, 50u);
  EXPECT_EQ(loop_->stats().events_by_kind.at("add_route"), 50u);
}

TEST_F(ControlLoopTest, RejectionsAreReportedAndCounted) {
  std::vector<Rejection> got;
  loop_->submit(ev::RemoveRoute{"nope"}, [&got](const PipelineResult& r) { got = r.rejections; });
  runUntil([&] { return !got.empty(); });
  EXPECT_EQ(got.front().reason, "unknown_route");
  EXPECT_EQ(got.front().message, "no local route named 'nope'");
  EXPECT_EQ(loop_->stats().rejections_by_reason.at("unknown_route"), 1u);
  EXPECT_TRUE(effects_.batches.empty());
  EXPECT_EQ(loop_->stats().commits, 0u);
}

TEST_F(ControlLoopTest, TicksCarryTheInjectedClock) {
  dispatcher_->poll(); // binds the dispatcher to this thread
  loop_->startTicks(std::chrono::milliseconds(1));
  runUntil([&] { return ticks_.size() >= 1; });
  time_.advance(std::chrono::seconds(30));
  const std::size_t before = ticks_.size();
  runUntil([&] { return ticks_.size() > before; });
  EXPECT_EQ(ticks_.front(), MonotonicTime{std::chrono::hours(1)});
  EXPECT_EQ(ticks_.back(), MonotonicTime{std::chrono::hours(1)} + std::chrono::seconds(30));
  EXPECT_EQ(loop_->stats().events_by_kind.at("timer_tick"), ticks_.size());
}

} // namespace
} // namespace catalyst::control
