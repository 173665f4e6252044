#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "catalyst/common/logging.h"
#include "catalyst/control/pipeline.h"
#include "catalyst/event/dispatcher.h"

namespace catalyst::control {

// Carries out the effects of the pipeline (peer messages, data-plane changes, processes).
// Called on the control thread, after the event that caused them is committed.
class EffectHandler {
public:
  virtual ~EffectHandler() = default;
  // Takes the effects: the PipelineResult given to submit()'s `done` no longer holds them.
  virtual void onEffects(std::vector<Effect> effects) = 0;
};

// Counters of the control loop, for /metrics.
struct ControlStats {
  uint64_t events = 0;
  uint64_t commits = 0;
  uint64_t effects = 0;
  uint64_t no_op_ops = 0; // delta operations on absent things: plugin bugs
  std::map<std::string, uint64_t> events_by_kind;
  std::map<std::string, uint64_t> rejections_by_reason;
};

// The single event channel of a node: every event is posted to the control thread's
// dispatcher and handled there, one at a time, by the pipeline; the effects go to the
// EffectHandler. Also produces the periodic timer ticks (time from the dispatcher's
// TimeSource).
class ControlLoop {
public:
  using Done = std::function<void(const PipelineResult&)>;

  // `dispatcher` and `effects` must outlive the loop.
  ControlLoop(event::Dispatcher& dispatcher, Pipeline pipeline, EffectHandler& effects,
              Logger& logger);

  // Queues `event`; `done`, if given, runs on the control thread once it is handled.
  // Thread-safe.
  void submit(Event event, Done done = {});

  // Handles `event` now. Control thread only.
  PipelineResult handleNow(const Event& event);

  // Starts ticking every `interval`. Control thread only.
  void startTicks(std::chrono::milliseconds interval);

  const state::NodeState& state() const { return pipeline_.state(); }
  const ControlStats& stats() const { return stats_; }

private:
  void onTick();

  event::Dispatcher& dispatcher_;
  Pipeline pipeline_;
  EffectHandler& effects_;
  Logger& logger_;
  ControlStats stats_;
  event::TimerPtr tick_timer_;
  std::chrono::milliseconds tick_interval_{1000};
};

} // namespace catalyst::control
