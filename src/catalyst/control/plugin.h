#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/control/effect.h"
#include "catalyst/control/event.h"
#include "catalyst/state/node_state.h"
#include "catalyst/state/state_delta.h"

namespace catalyst::control {

// An input a plugin refused, with the reason; the node answers the caller with `message` and
// counts `reason` (a short snake_case label, e.g. "loop_detected", "no_state_change").
struct Rejection {
  std::string reason;
  std::string message;
  bool operator==(const Rejection&) const = default;
};

// What a phase-1 plugin returns: the change it wants, and what it refused.
struct PhaseOneResult {
  state::StateDelta delta;
  std::vector<Rejection> rejections;
  // Events that carry on with the work of this one (ev::PeerFlush): the control loop queues
  // them once this event is committed, behind whatever is already waiting.
  std::vector<Event> follow_ups;
};

// A result that only refuses the input.
inline PhaseOneResult rejected(std::string reason, std::string message) {
  PhaseOneResult r;
  r.rejections.push_back(Rejection{std::move(reason), std::move(message)});
  return r;
}

// Phase 1, kind A (seed: IRouteTablePlugin): how the route table changes given an input.
// A pure function of (state, event); it must not keep state of its own between calls.
class RouteTablePlugin {
public:
  virtual ~RouteTablePlugin() = default;
  virtual std::string_view name() const = 0;
  virtual PhaseOneResult apply(const state::NodeState& state, const Event& event) const = 0;
};

// Phase 1, kind B (seed: ILocalServicePlugin): local resources that are the services.
class LocalServicePlugin {
public:
  virtual ~LocalServicePlugin() = default;
  virtual std::string_view name() const = 0;
  virtual PhaseOneResult apply(const state::NodeState& state, const Event& event) const = 0;
};

// Phase 2 (seed: IPropagationPlugin): what to tell neighbours, the data plane and the process
// supervisor. Sees only committed state: `committed` is the state after `change` was applied,
// and `event` is what caused it.
class PropagationPlugin {
public:
  virtual ~PropagationPlugin() = default;
  virtual std::string_view name() const = 0;
  virtual std::vector<Effect> evaluate(const state::NodeState& committed,
                                       const state::StateDelta& change,
                                       const Event& event) const = 0;
};

using RouteTablePluginPtr = std::unique_ptr<RouteTablePlugin>;
using LocalServicePluginPtr = std::unique_ptr<LocalServicePlugin>;
using PropagationPluginPtr = std::unique_ptr<PropagationPlugin>;

// The plugins of a pipeline, in the order they run. Filled in explicitly at start-up.
struct PluginSet {
  std::vector<RouteTablePluginPtr> route_table;
  std::vector<LocalServicePluginPtr> local_service;
  std::vector<PropagationPluginPtr> propagation;
};

} // namespace catalyst::control
