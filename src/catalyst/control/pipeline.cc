#include "catalyst/control/pipeline.h"

#include <utility>

namespace catalyst::control {
namespace {

template <class Plugins>
void runPhaseOne(const Plugins& plugins, const state::NodeState& state, const Event& event,
                 PipelineResult& result) {
  for (const auto& plugin : plugins) {
    PhaseOneResult r = plugin->apply(state, event);
    result.committed.append(std::move(r.delta));
    for (auto& rejection : r.rejections) {
      result.rejections.push_back(std::move(rejection));
    }
    for (auto& follow_up : r.follow_ups) {
      result.follow_ups.push_back(std::move(follow_up));
    }
  }
}

} // namespace

Pipeline::Pipeline(state::NodeState initial, PluginSet plugins)
    : state_(std::move(initial)), plugins_(std::move(plugins)) {}

PipelineResult Pipeline::handle(const Event& event) {
  PipelineResult result;
  runPhaseOne(plugins_.route_table, state_, event, result);
  runPhaseOne(plugins_.local_service, state_, event, result);

  if (!result.committed.empty()) {
    result.no_op_ops = state_.apply(result.committed);
  }
  result.generation = state_.generation();

  for (const auto& plugin : plugins_.propagation) {
    std::vector<Effect> effects = plugin->evaluate(state_, result.committed, event);
    if (result.effects.empty()) {
      result.effects = std::move(effects);
      continue;
    }
    for (auto& effect : effects) {
      result.effects.push_back(std::move(effect));
    }
  }
  return result;
}

} // namespace catalyst::control
