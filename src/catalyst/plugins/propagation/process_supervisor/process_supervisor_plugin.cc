#include "catalyst/plugins/propagation/process_supervisor/process_supervisor_plugin.h"

namespace catalyst::plugins {

std::vector<control::Effect>
ProcessSupervisorPlugin::evaluate(const state::NodeState& /*committed*/,
                                  const state::StateDelta& change,
                                  const control::Event& event) const {
  std::vector<control::Effect> out;
  // Only a registration starts a process: health changes re-store the service too, and must
  // not restart it.
  const bool registration = std::holds_alternative<control::ev::ServiceRegistered>(event);
  for (const state::DeltaOp& o : change.ops) {
    if (const auto* up = std::get_if<state::op::UpsertService>(&o)) {
      const state::LocalService& s = up->service;
      if (registration && s.process == state::LocalService::ProcessState::Running) {
        out.emplace_back(control::fx::StartProcess{s.name, s.command});
      }
    } else if (const auto* rm = std::get_if<state::op::RemoveService>(&o)) {
      out.emplace_back(control::fx::StopProcess{rm->name});
    }
  }
  return out;
}

} // namespace catalyst::plugins
