#include "catalyst/state/route.h"

#include <array>
#include <cmath>
#include <functional>
#include <utility>

#include <fmt/format.h>

namespace catalyst::state {
namespace {

constexpr std::array<std::pair<Protocol, std::string_view>, 6> kProtocolNames{{
    {Protocol::Http, "http"},
    {Protocol::HttpGraphql, "http:graphql"},
    {Protocol::HttpGql, "http:gql"},
    {Protocol::HttpGrpc, "http:grpc"},
    {Protocol::Tcp, "tcp"},
    {Protocol::Udp, "udp"},
}};

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool isHealthy(const LearnedPath& p) { return p.route.health_status != HealthStatus::Down; }

} // namespace

std::string_view toString(Protocol protocol) {
  for (const auto& [p, name] : kProtocolNames) {
    if (p == protocol) {
      return name;
    }
  }
  return "unknown";
}

std::optional<Protocol> parseProtocol(std::string_view text) {
  for (const auto& [p, name] : kProtocolNames) {
    if (name == text) {
      return p;
    }
  }
  return std::nullopt;
}

std::string_view toString(HealthStatus status) {
  return status == HealthStatus::Up ? "up" : "down";
}

std::optional<HealthStatus> parseHealthStatus(std::string_view text) {
  if (text == "up") {
    return HealthStatus::Up;
  }
  if (text == "down") {
    return HealthStatus::Down;
  }
  return std::nullopt;
}

Status validateName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return invalidArgument(
        fmt::format("must be 1-{} characters (got {})", kMaxNameLength, name.size()));
  }
  if (!isAlnum(name.front()) || !isAlnum(name.back())) {
    return invalidArgument("must start and end with a letter or digit");
  }
  for (char c : name) {
    if (!isAlnum(c) && c != '.' && c != '_' && c != '-') {
      return invalidArgument(
          fmt::format("character '{}' not allowed (letters, digits, '.', '_', '-')", c));
    }
  }
  return {};
}

Status validateRoute(const Route& route) {
  if (auto st = validateName(route.name); !st) {
    return invalidArgument("name: " + st.error().message);
  }
  if (route.endpoint && route.endpoint->size() > kMaxEndpointLength) {
    return invalidArgument(fmt::format("endpoint: longer than {} characters", kMaxEndpointLength));
  }
  if (route.tags.size() > kMaxTags) {
    return invalidArgument(fmt::format("tags: more than {} tags", kMaxTags));
  }
  if (route.region && route.region->size() > kMaxNameLength) {
    return invalidArgument(fmt::format("region: longer than {} characters", kMaxNameLength));
  }
  for (const auto& tag : route.tags) {
    if (tag.size() > kMaxNameLength) {
      return invalidArgument(
          fmt::format("tags: a tag is longer than {} characters", kMaxNameLength));
    }
  }
  if (route.envoy_port && *route.envoy_port == 0) {
    return invalidArgument("envoyPort: must be 1-65535");
  }
  if (route.response_time_ms && !std::isfinite(*route.response_time_ms)) {
    // The wire readers refuse these already; a route built in code must not reach the state
    // files either, which JSON cannot write them into.
    return invalidArgument("responseTimeMs: must be a finite number");
  }
  if (route.response_time_ms && !(*route.response_time_ms >= 0)) {
    return invalidArgument("responseTimeMs: must be a non-negative number");
  }
  return {};
}

bool preferredOver(const LearnedPath& a, const LearnedPath& b) {
  if (a.node_path.size() != b.node_path.size()) {
    return a.node_path.size() < b.node_path.size();
  }
  if (a.is_stale != b.is_stale) {
    return !a.is_stale;
  }
  if (isHealthy(a) != isHealthy(b)) {
    return isHealthy(a);
  }
  return a.peer < b.peer;
}

std::string preferenceReason(const LearnedPath& winner, const LearnedPath& loser) {
  if (winner.node_path.size() != loser.node_path.size()) {
    return fmt::format("shorter nodePath ({} < {})", winner.node_path.size(),
                       loser.node_path.size());
  }
  if (winner.is_stale != loser.is_stale) {
    return "not stale over stale";
  }
  if (isHealthy(winner) != isHealthy(loser)) {
    return "health up over down";
  }
  return fmt::format("lower neighbour name ({} < {})", winner.peer, loser.peer);
}

} // namespace catalyst::state
