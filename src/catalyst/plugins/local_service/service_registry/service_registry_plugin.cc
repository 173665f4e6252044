#include "catalyst/plugins/local_service/service_registry/service_registry_plugin.h"

#include <fmt/format.h>

namespace catalyst::plugins {
namespace {

using control::PhaseOneResult;

// The operations that make `service` (and its route) the stored version.
PhaseOneResult store(state::LocalService service) {
  PhaseOneResult r;
  r.delta.ops.emplace_back(
      state::op::UpsertLocalRoute{state::LocalRoute{service.route, state::RouteSource::Service}});
  r.delta.ops.emplace_back(state::op::UpsertService{std::move(service)});
  return r;
}

PhaseOneResult onRegistered(const state::NodeState& s, const control::ev::ServiceRegistered& e) {
  state::LocalService service = e.service;
  if (auto st = state::validateName(service.name); !st) {
    return control::rejected("invalid_service", "name: " + st.error().message);
  }
  service.route.name = service.name;
  if (auto st = state::validateRoute(service.route); !st) {
    return control::rejected("invalid_service", st.error().message);
  }
  if (const state::LocalRoute* route = s.findLocalRoute(service.name);
      route != nullptr && route->source != state::RouteSource::Service) {
    return control::rejected("route_exists",
                             fmt::format("a local route named '{}' exists already", service.name));
  }
  service.process = service.command.empty() ? state::LocalService::ProcessState::NotManaged
                                            : state::LocalService::ProcessState::Running;
  service.last_exit_status.reset();
  if (const state::LocalService* existing = s.findService(service.name);
      existing != nullptr && *existing == service) {
    return control::rejected("no_state_change", "No state change");
  }
  return store(std::move(service));
}

PhaseOneResult onDeregistered(const state::NodeState& s,
                              const control::ev::ServiceDeregistered& e) {
  if (s.findService(e.name) == nullptr) {
    return control::rejected("unknown_service", fmt::format("no local service named '{}'", e.name));
  }
  PhaseOneResult r;
  r.delta.ops.emplace_back(state::op::RemoveLocalRoute{e.name});
  r.delta.ops.emplace_back(state::op::RemoveService{e.name});
  return r;
}

PhaseOneResult onHealth(const state::NodeState& s, const control::ev::ServiceHealthChanged& e) {
  const state::LocalService* existing = s.findService(e.name);
  if (existing == nullptr) {
    return control::rejected("unknown_service", fmt::format("no local service named '{}'", e.name));
  }
  state::LocalService service = *existing;
  service.route.health_status = e.status;
  service.route.response_time_ms = e.response_time_ms;
  service.route.last_checked = e.checked_at;
  if (service == *existing) {
    return {};
  }
  return store(std::move(service));
}

PhaseOneResult onExited(const state::NodeState& s, const control::ev::ProcessExited& e) {
  const state::LocalService* existing = s.findService(e.service);
  if (existing == nullptr) {
    return control::rejected("unknown_service",
                             fmt::format("no local service named '{}'", e.service));
  }
  state::LocalService service = *existing;
  service.process = state::LocalService::ProcessState::Exited;
  service.last_exit_status = e.exit_status;
  service.route.health_status = state::HealthStatus::Down;
  if (service == *existing) {
    return {};
  }
  return store(std::move(service));
}

} // namespace

control::PhaseOneResult ServiceRegistryPlugin::apply(const state::NodeState& state,
                                                     const control::Event& event) const {
  if (const auto* e = std::get_if<control::ev::ServiceRegistered>(&event)) {
    return onRegistered(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::ServiceDeregistered>(&event)) {
    return onDeregistered(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::ServiceHealthChanged>(&event)) {
    return onHealth(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::ProcessExited>(&event)) {
    return onExited(state, *e);
  }
  return {};
}

} // namespace catalyst::plugins
