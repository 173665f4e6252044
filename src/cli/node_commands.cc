#include "cli/node_commands.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "catalyst/peering/wire.h"
#include "catalyst/state/peer.h"
#include "catalyst/state/route.h"

namespace catalyst::cli {
namespace {

constexpr std::string_view kNone = "-";

// A string member, or `fallback` when absent, empty or not a string.
std::string text(const rpc::Value& object, std::string_view key,
                 std::string_view fallback = kNone) {
  const rpc::Value* member = object.find(key);
  if (member == nullptr || !member->is<std::string>() || member->as<std::string>()->empty()) {
    return std::string(fallback);
  }
  return *member->as<std::string>();
}

// A boolean member as "yes"/"no", or `fallback`.
std::string yesNo(const rpc::Value& object, std::string_view key,
                  std::string_view fallback = kNone) {
  const rpc::Value* member = object.find(key);
  if (member == nullptr || !member->is<bool>()) {
    return std::string(fallback);
  }
  return *member->as<bool>() ? "yes" : "no";
}

bool flag(const rpc::Value& object, std::string_view key) {
  const rpc::Value* member = object.find(key);
  return member != nullptr && member->is<bool>() && *member->as<bool>();
}

// A number member written as JavaScript would ("3", "2.5"), or `fallback`.
std::string number(const rpc::Value& object, std::string_view key,
                   std::string_view fallback = kNone) {
  const rpc::Value* member = object.find(key);
  if (member == nullptr || !member->is<double>() || !std::isfinite(*member->as<double>())) {
    return std::string(fallback);
  }
  return fmt::format("{}", *member->as<double>());
}

// The elements of an array member (none when absent or not an array).
const rpc::Array& elements(const rpc::Value* array) {
  static const rpc::Array kEmpty;
  if (array == nullptr || !array->is<rpc::Array>()) {
    return kEmpty;
  }
  return *array->as<rpc::Array>();
}

// "node-b > node-a", or `fallback` for an empty or absent path.
std::string nodePath(const rpc::Value& object, std::string_view fallback = kNone) {
  std::string out;
  for (const rpc::Value& hop : elements(object.find("nodePath"))) {
    if (!out.empty()) {
      out += " > ";
    }
    out += hop.is<std::string>() ? *hop.as<std::string>() : hop.debugString();
  }
  return out.empty() ? std::string(fallback) : out;
}

// "10.0.0.1:10000", "[::1]:10000", ":10000" (no address), "10.0.0.1" (no port), or "-".
std::string envoy(const rpc::Value& route) {
  std::string address = text(route, "envoyAddress", "");
  const std::string port = number(route, "envoyPort", "");
  if (address.find(':') != std::string::npos && !port.empty()) {
    address = "[" + address + "]";
  }
  if (port.empty()) {
    return address.empty() ? std::string(kNone) : address;
  }
  return address + ":" + port;
}

// Rows under a header, columns two spaces apart, no trailing blanks.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  std::for_each(rows.begin(), rows.end(), measure);
  std::string out;
  auto write = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line.append(widths[i] - row[i].size() + 2, ' ');
      }
    }
    out += line + "\n";
  };
  write(header);
  std::for_each(rows.begin(), rows.end(), write);
  return out;
}

std::string lower(std::string_view in) {
  std::string out(in);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Status checkName(std::string_view argument, const std::string& name) {
  if (Status st = state::validateName(name); !st) {
    return invalidArgument(fmt::format("{} '{}': {}", argument, name, st.error().message));
  }
  return {};
}

std::string protocolNames() {
  std::string out;
  for (state::Protocol p :
       {state::Protocol::Http, state::Protocol::HttpGraphql, state::Protocol::HttpGql,
        state::Protocol::HttpGrpc, state::Protocol::Tcp, state::Protocol::Udp}) {
    out += out.empty() ? "" : ", ";
    out += state::toString(p);
  }
  return out;
}

// The members of a success answer that a list command prints with --json.
Result<rpc::Value> member(const rpc::Value& answer, std::string_view key, std::string_view what) {
  const rpc::Value* value = answer.find(key);
  if (value == nullptr || value->isUndefined()) {
    return invalidArgument(fmt::format("unexpected answer to {}: no \"{}\"", what, key));
  }
  return *value;
}

// The node's "No state change" to a create, with what it means here.
Error explainNoChange(Error error, std::string_view what) {
  if (error.message == "No state change") {
    error.message += fmt::format(" ({} is already as given)", what);
  }
  return error;
}

} // namespace

Result<rpc::Value> peerValue(const PeerSpec& spec) {
  if (Status st = checkName("NAME", spec.name); !st) {
    return st.error();
  }
  const std::string scheme = lower(spec.endpoint.substr(0, spec.endpoint.find("://")));
  const std::size_t host = spec.endpoint.find("://");
  if (host == std::string::npos || (scheme != "ws" && scheme != "wss") ||
      host + 3 >= spec.endpoint.size() || spec.endpoint[host + 3] == '/') {
    return invalidArgument(fmt::format(
        "ENDPOINT '{}': expected the peer's peering endpoint, ws://HOST:PORT/rpc or wss://...",
        spec.endpoint));
  }
  if (spec.endpoint.size() > state::kMaxEndpointLength) {
    return invalidArgument(
        fmt::format("ENDPOINT: longer than {} characters", state::kMaxEndpointLength));
  }
  if (spec.peer_token.empty()) {
    return invalidArgument("--peer-token: required (the token that peer minted for this node)");
  }
  state::PeerInfo info;
  info.name = spec.name;
  for (const std::string& domain : spec.domains) {
    if (!domain.empty()) {
      info.domains.push_back(domain);
    }
  }
  info.endpoint = spec.endpoint;
  info.peer_token = spec.peer_token;
  if (!spec.envoy_address.empty()) {
    info.envoy_address = spec.envoy_address;
  }
  return peering::toValue(info, peering::TokenVisibility::Include);
}

Result<rpc::Value> routeValue(const RouteSpec& spec) {
  if (Status st = checkName("NAME", spec.name); !st) {
    return st.error();
  }
  state::Route route;
  route.name = spec.name;
  if (spec.endpoint.empty()) {
    return invalidArgument("ENDPOINT: must not be empty");
  }
  route.endpoint = spec.endpoint;
  const std::optional<state::Protocol> protocol = state::parseProtocol(spec.protocol);
  if (!protocol) {
    return invalidArgument(
        fmt::format("--protocol '{}': expected one of {}", spec.protocol, protocolNames()));
  }
  route.protocol = *protocol;
  if (!spec.region.empty()) {
    route.region = spec.region;
  }
  for (const std::string& tag : spec.tags) {
    if (!tag.empty()) {
      route.tags.push_back(tag);
    }
  }
  if (!spec.health.empty()) {
    const std::optional<state::HealthStatus> health = state::parseHealthStatus(spec.health);
    if (!health) {
      return invalidArgument(fmt::format("--health '{}': expected up or down", spec.health));
    }
    route.health_status = *health;
  }
  if (Status st = state::validateRoute(route); !st) {
    return invalidArgument(st.error().message);
  }
  return peering::toValue(route);
}

Result<std::string> runPeerCreate(const ManagementCall& call, const PeerSpec& spec, bool update) {
  Result<rpc::Value> arg = peerValue(spec);
  if (!arg) {
    return arg.error();
  }
  Result<rpc::Value> answer =
      call(kNetworkClient, update ? "updatePeer" : "addPeer", std::move(*arg));
  if (!answer) {
    return explainNoChange(answer.error(), "peer " + spec.name);
  }
  return fmt::format("peer {} {}", spec.name, update ? "updated" : "created");
}

Result<std::string> runPeerList(const ManagementCall& call, bool json) {
  Result<rpc::Value> answer = call(kNetworkClient, "listPeers", rpc::Value());
  if (!answer) {
    return answer.error();
  }
  Result<rpc::Value> peers = member(*answer, "peers", "listPeers()");
  if (!peers) {
    return peers.error();
  }
  return json ? toJsonText(*peers) : formatPeerTable(*peers);
}

Result<std::string> runPeerDelete(const ManagementCall& call, const std::string& name) {
  if (Status st = checkName("NAME", name); !st) {
    return st.error();
  }
  Result<rpc::Value> answer =
      call(kNetworkClient, "removePeer", rpc::object({{"name", rpc::Value(name)}}));
  if (!answer) {
    return answer.error();
  }
  return fmt::format("peer {} deleted", name);
}

Result<std::string> runRouteCreate(const ManagementCall& call, const RouteSpec& spec) {
  Result<rpc::Value> arg = routeValue(spec);
  if (!arg) {
    return arg.error();
  }
  Result<rpc::Value> answer = call(kDataChannelClient, "addRoute", std::move(*arg));
  if (!answer) {
    return explainNoChange(answer.error(), "route " + spec.name);
  }
  return fmt::format("route {} created", spec.name);
}

Result<std::string> runRouteList(const ManagementCall& call, bool json) {
  Result<rpc::Value> answer = call(kDataChannelClient, "listRoutes", rpc::Value());
  if (!answer) {
    return answer.error();
  }
  if (!json) {
    return formatRouteTable(*answer);
  }
  Result<rpc::Value> local = member(*answer, "local", "listRoutes()");
  if (!local) {
    return local.error();
  }
  Result<rpc::Value> internal = member(*answer, "internal", "listRoutes()");
  if (!internal) {
    return internal.error();
  }
  return toJsonText(rpc::object({{"local", *local}, {"internal", *internal}}));
}

Result<std::string> runRouteDelete(const ManagementCall& call, const std::string& name) {
  if (Status st = checkName("NAME", name); !st) {
    return st.error();
  }
  Result<rpc::Value> answer =
      call(kDataChannelClient, "removeRoute", rpc::object({{"name", rpc::Value(name)}}));
  if (!answer) {
    return answer.error();
  }
  return fmt::format("route {} deleted", name);
}

Result<std::string> runRouteWhy(const ManagementCall& call, const std::string& name, bool json) {
  if (Status st = checkName("NAME", name); !st) {
    return st.error();
  }
  Result<rpc::Value> answer =
      call(kDataChannelClient, "explainRoute", rpc::object({{"name", rpc::Value(name)}}));
  if (!answer) {
    return answer.error();
  }
  Result<rpc::Value> routes = member(*answer, "routes", "explainRoute()");
  if (!routes) {
    return routes.error();
  }
  return json ? toJsonText(*routes) : formatExplanation(*routes);
}

std::string formatPeerTable(const rpc::Value& peers) {
  const rpc::Array& list = elements(&peers);
  if (list.empty()) {
    return "no peers\n";
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(list.size());
  for (const rpc::Value& peer : list) {
    rows.push_back({text(peer, "name"), text(peer, "endpoint"), text(peer, "connectionStatus"),
                    yesNo(peer, "outboundConnected"), number(peer, "advertisedRoutes"),
                    text(peer, "lastError")});
  }
  return table({"NAME", "ENDPOINT", "STATUS", "OUTBOUND", "ADVERTISED", "LAST ERROR"}, rows);
}

std::string formatRouteTable(const rpc::Value& answer) {
  std::vector<std::vector<std::string>> rows;
  for (const rpc::Value& route : elements(answer.find("local"))) {
    rows.push_back({"local", text(route, "name"), text(route, "protocol"), text(route, "endpoint"),
                    std::string(kNone), envoy(route), text(route, "healthStatus"),
                    yesNo(route, "isStale", "no")});
  }
  for (const rpc::Value& route : elements(answer.find("internal"))) {
    // `peer` is the neighbour's public view in listRoutes (its name in /api/state).
    std::string peer = text(route, "peer", "");
    if (const rpc::Value* view = route.find("peer"); view != nullptr && view->is<rpc::Object>()) {
      peer = text(*view, "name", "?");
    }
    rows.push_back({"via " + (peer.empty() ? std::string("?") : peer), text(route, "name"),
                    text(route, "protocol"), text(route, "endpoint"), nodePath(route), envoy(route),
                    text(route, "healthStatus"), yesNo(route, "isStale", "no")});
  }
  if (rows.empty()) {
    return "no routes\n";
  }
  return table({"SOURCE", "NAME", "PROTOCOL", "ENDPOINT", "NODE PATH", "ENVOY", "HEALTH", "STALE"},
               rows);
}

std::string formatExplanation(const rpc::Value& routes) {
  std::string out;
  for (const rpc::Value& route : elements(&routes)) {
    std::string line =
        fmt::format("{} (origin {}): ", text(route, "name", "?"), text(route, "originNode", "?"));
    if (flag(route, "local")) {
      line += "local route of this node";
      if (std::string reason = text(route, "reason", ""); !reason.empty()) {
        line += ": " + reason;
      }
      out += line + "\n";
      continue;
    }
    // A candidate: "node-c [node-c > node-a] (stale) (down)".
    auto describe = [](const rpc::Value& candidate) {
      std::string d = fmt::format("{} [{}]", text(candidate, "peer", "?"), nodePath(candidate, ""));
      if (flag(candidate, "isStale")) {
        d += " (stale)";
      }
      if (text(candidate, "healthStatus", "") == "down") {
        d += " (down)";
      }
      return d;
    };
    const rpc::Array& candidates = elements(route.find("candidates"));
    std::vector<std::string> parts;
    for (const rpc::Value& candidate : candidates) {
      if (flag(candidate, "chosen")) {
        parts.insert(parts.begin(), "best via " + describe(candidate));
      }
    }
    if (parts.empty()) {
      parts.emplace_back("no best path");
    }
    for (const rpc::Value& candidate : candidates) {
      if (!flag(candidate, "chosen")) {
        std::string part = describe(candidate);
        if (std::string reason = text(candidate, "reason", ""); !reason.empty()) {
          part += ": " + reason;
        }
        parts.push_back(std::move(part));
      }
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
      line += (i == 0 ? "" : "; ") + parts[i];
    }
    out += line + "\n";
  }
  return out;
}

} // namespace catalyst::cli
