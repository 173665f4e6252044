#pragma once

#include <cstdint>
#include <vector>

#include "catalyst/control/plugin.h"

namespace catalyst::control {

// What one event did.
struct PipelineResult {
  state::StateDelta committed;       // the delta that was applied (empty: nothing changed)
  std::vector<Effect> effects;       // for the node to carry out, in order
  std::vector<Rejection> rejections; // inputs the plugins refused
  uint64_t generation = 0;           // the state's generation after this event
  std::size_t no_op_ops = 0;         // delta operations that referred to something absent
  std::vector<Event> follow_ups;     // for the loop to queue (PhaseOneResult::follow_ups)
};

// The seed's control loop, without I/O: for each event,
//   phase 1: every route-table plugin, then every local-service plugin, sees (event, current
//            state) and returns a delta; all of them see the same, uncommitted state;
//   commit:  the deltas are applied in plugin order, as one new generation;
//   phase 2: every propagation plugin sees the committed state and the committed delta and
//            returns effects.
// An event that changes nothing commits nothing, but phase 2 still runs (a tick may make a
// plugin act). Cost per event follows the size of the change, not the size of the table.
// Owns the state; not thread-safe (runs on the control thread).
class Pipeline {
public:
  Pipeline(state::NodeState initial, PluginSet plugins);

  PipelineResult handle(const Event& event);

  const state::NodeState& state() const { return state_; }

private:
  state::NodeState state_;
  PluginSet plugins_;
};

} // namespace catalyst::control
