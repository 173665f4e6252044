#include "catalyst/plugins/route_table/local_routes/local_routes_plugin.h"

#include <fmt/format.h>

namespace catalyst::plugins {
namespace {

using control::PhaseOneResult;

PhaseOneResult onAdd(const state::NodeState& s, const control::ev::AddRoute& e) {
  if (auto st = state::validateRoute(e.route); !st) {
    return control::rejected("invalid_route", st.error().message);
  }
  if (e.source == state::RouteSource::Service) {
    return control::rejected("invalid_route", "service routes are registered by their service");
  }
  if (const state::LocalRoute* existing = s.findLocalRoute(e.route.name)) {
    if (existing->source == state::RouteSource::Service) {
      return control::rejected(
          "route_owned_by_service",
          fmt::format("route '{}' belongs to the local service of that name", e.route.name));
    }
    if (existing->route == e.route) {
      return control::rejected("no_state_change", "No state change");
    }
  }
  PhaseOneResult r;
  r.delta.ops.emplace_back(state::op::UpsertLocalRoute{state::LocalRoute{e.route, e.source}});
  return r;
}

PhaseOneResult onRemove(const state::NodeState& s, const control::ev::RemoveRoute& e) {
  const state::LocalRoute* existing = s.findLocalRoute(e.name);
  if (existing == nullptr) {
    return control::rejected("unknown_route", fmt::format("no local route named '{}'", e.name));
  }
  if (existing->source == state::RouteSource::Service) {
    return control::rejected(
        "route_owned_by_service",
        fmt::format("route '{}' belongs to the local service of that name", e.name));
  }
  PhaseOneResult r;
  r.delta.ops.emplace_back(state::op::RemoveLocalRoute{e.name});
  return r;
}

} // namespace

control::PhaseOneResult LocalRoutesPlugin::apply(const state::NodeState& state,
                                                 const control::Event& event) const {
  if (const auto* e = std::get_if<control::ev::AddRoute>(&event)) {
    return onAdd(state, *e);
  }
  if (const auto* e = std::get_if<control::ev::RemoveRoute>(&event)) {
    return onRemove(state, *e);
  }
  return {};
}

} // namespace catalyst::plugins
