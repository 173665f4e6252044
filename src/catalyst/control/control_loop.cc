#include "catalyst/control/control_loop.h"

#include <utility>

#include "catalyst/common/assert.h"

namespace catalyst::control {

ControlLoop::ControlLoop(event::Dispatcher& dispatcher, Pipeline pipeline, EffectHandler& effects,
                         Logger& logger)
    : dispatcher_(dispatcher), pipeline_(std::move(pipeline)), effects_(effects), logger_(logger) {}

void ControlLoop::submit(Event event, Done done) {
  dispatcher_.post([this, event = std::move(event), done = std::move(done)]() {
    PipelineResult result = handleNow(event);
    if (done) {
      done(result);
    }
  });
}

PipelineResult ControlLoop::handleNow(const Event& event) {
  CATALYST_ASSERT(dispatcher_.isThreadSafe(), "the pipeline runs on the control thread only");
  PipelineResult result = pipeline_.handle(event);

  ++stats_.events;
  ++stats_.events_by_kind[std::string(eventName(event))];
  if (!result.committed.empty()) {
    ++stats_.commits;
  }
  stats_.effects += result.effects.size();
  for (const Rejection& r : result.rejections) {
    ++stats_.rejections_by_reason[r.reason];
    logger_.debug("{} rejected: {}: {}", eventName(event), r.reason, r.message);
  }
  if (result.no_op_ops > 0) {
    stats_.no_op_ops += result.no_op_ops;
    logger_.warn("{}: {} delta operation(s) referred to absent state", eventName(event),
                 result.no_op_ops);
  }
  if (!result.effects.empty()) {
    effects_.onEffects(std::move(result.effects));
  }
  for (Event& follow_up : result.follow_ups) {
    submit(std::move(follow_up));
  }
  result.follow_ups.clear();
  return result;
}

void ControlLoop::startTicks(std::chrono::milliseconds interval) {
  tick_interval_ = interval;
  tick_timer_ = dispatcher_.createTimer([this]() { onTick(); });
  tick_timer_->enable(tick_interval_);
}

void ControlLoop::onTick() {
  handleNow(ev::TimerTick{dispatcher_.timeSource().monotonicTime()});
  tick_timer_->enable(tick_interval_);
}

} // namespace catalyst::control
