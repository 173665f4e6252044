#pragma once

#include "catalyst/control/plugin.h"

namespace catalyst::plugins {

// Propagation plugin: starts and stops the processes of local services.
//   - a service registered (or re-registered) with a command, to run -> StartProcess
//   - a service removed                                               -> StopProcess
class ProcessSupervisorPlugin : public control::PropagationPlugin {
public:
  std::string_view name() const override { return "process_supervisor"; }
  std::vector<control::Effect> evaluate(const state::NodeState& committed,
                                        const state::StateDelta& change,
                                        const control::Event& event) const override;
};

} // namespace catalyst::plugins
