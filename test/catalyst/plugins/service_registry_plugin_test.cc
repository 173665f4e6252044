// Table-driven tests of the local-service plugin: (state, event) -> (delta, rejections).

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalyst/plugins/local_service/service_registry/service_registry_plugin.h"

#include "support/describe.h"
#include "support/state_builders.h"

namespace catalyst::plugins {
namespace {

using namespace control::ev; // NOLINT(google-build-using-namespace): event names read as a table
using state::LocalRoute;
using state::LocalService;
using state::RouteSource;
namespace op = state::op;
using test::describe;
using test::route;
using test::StateBuilder;

struct Case {
  std::string name;
  std::function<state::NodeState()> state;
  control::Event event;
  std::vector<state::DeltaOp> delta;
  std::vector<std::string> rejections;
};

LocalService service(std::string name, std::vector<std::string> command = {}) {
  LocalService s;
  s.name = name;
  s.route = route(name, "http://127.0.0.1:9000");
  s.command = std::move(command);
  s.process = s.command.empty() ? LocalService::ProcessState::NotManaged
                                : LocalService::ProcessState::Running;
  return s;
}

TEST(ServiceRegistryPluginTest, Table) {
  const LocalService plain = service("books");
  const LocalService managed = service("vpn", {"/usr/bin/wg-quick", "up", "wg0"});
  LocalService healthy = plain;
  healthy.route.health_status = state::HealthStatus::Up;
  healthy.route.response_time_ms = 3.5;
  healthy.route.last_checked = "2026-11-27T18:00:00Z";
  LocalService exited = managed;
  exited.process = LocalService::ProcessState::Exited;
  exited.last_exit_status = 3;
  exited.route.health_status = state::HealthStatus::Down;
  LocalService unnamed = plain;
  unnamed.name = "bad name";

  auto empty = [] { return StateBuilder("node-a").build(); };
  auto has_plain = [=] { return StateBuilder("node-a").withService(plain).build(); };
  auto has_healthy = [=] { return StateBuilder("node-a").withService(healthy).build(); };
  auto has_managed = [=] { return StateBuilder("node-a").withService(managed).build(); };
  auto has_admin_route = [] { return StateBuilder("node-a").withLocal(route("books")).build(); };

  const std::vector<Case> cases = {
      {"register publishes its route",
       empty,
       ServiceRegistered{plain},
       {op::UpsertLocalRoute{LocalRoute{plain.route, RouteSource::Service}},
        op::UpsertService{plain}},
       {}},
      {"register with a command is to run",
       empty,
       ServiceRegistered{managed},
       {op::UpsertLocalRoute{LocalRoute{managed.route, RouteSource::Service}},
        op::UpsertService{managed}},
       {}},
      {"identical register: no state change",
       has_plain,
       ServiceRegistered{plain},
       {},
       {"no_state_change"}},
      {"invalid name refused", empty, ServiceRegistered{unnamed}, {}, {"invalid_service"}},
      {"an admin route of that name exists",
       has_admin_route,
       ServiceRegistered{plain},
       {},
       {"route_exists"}},
      {"health sets the route's health fields",
       has_plain,
       ServiceHealthChanged{"books", state::HealthStatus::Up, 3.5, "2026-11-27T18:00:00Z"},
       {op::UpsertLocalRoute{LocalRoute{healthy.route, RouteSource::Service}},
        op::UpsertService{healthy}},
       {}},
      {"unchanged health changes nothing",
       has_healthy,
       ServiceHealthChanged{"books", state::HealthStatus::Up, 3.5, "2026-11-27T18:00:00Z"},
       {},
       {}},
      {"health of an unknown service",
       empty,
       ServiceHealthChanged{"books", state::HealthStatus::Up, {}, ""},
       {},
       {"unknown_service"}},
      {"process exit takes the route down",
       has_managed,
       ProcessExited{"vpn", 3},
       {op::UpsertLocalRoute{LocalRoute{exited.route, RouteSource::Service}},
        op::UpsertService{exited}},
       {}},
      {"deregister removes route and service",
       has_plain,
       ServiceDeregistered{"books"},
       {op::RemoveLocalRoute{"books"}, op::RemoveService{"books"}},
       {}},
      {"deregister unknown", empty, ServiceDeregistered{"books"}, {}, {"unknown_service"}},
      {"other events are ignored", has_plain, TimerTick{}, {}, {}},
  };

  const ServiceRegistryPlugin plugin;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const state::NodeState before = c.state();
    control::PhaseOneResult r = plugin.apply(before, c.event);
    const state::StateDelta expected{c.delta};
    EXPECT_EQ(r.delta, expected) << "got " << describe(r.delta) << "\nwant " << describe(expected);
    std::vector<std::string> reasons;
    for (const auto& rej : r.rejections) {
      reasons.push_back(rej.reason);
    }
    EXPECT_EQ(reasons, c.rejections);
  }
}

} // namespace
} // namespace catalyst::plugins
