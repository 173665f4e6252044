#pragma once

// `catalyst node peer ...`, `catalyst node route ...` and `catalyst route why`: the node's
// management clients (peering.md §2) seen from the command line. Each command checks its
// arguments locally, makes one ManagementCall and returns what to print on stdout; the error
// is the one-line reason for stderr.

#include <string>
#include <vector>

#include "catalyst/common/result.h"
#include "catalyst/rpc/value.h"

#include "cli/node_rpc.h"

namespace catalyst::cli {

// `node peer create|update NAME ENDPOINT --peer-token JWT [--domains a,b] [--envoy-address A]`.
struct PeerSpec {
  std::string name{};
  std::string endpoint{};   // ws://HOST:PORT/rpc or wss://...
  std::string peer_token{}; // minted by that peer, presented when we dial it
  std::vector<std::string> domains{};
  std::string envoy_address{}; // empty: not set
};

// `node route create NAME ENDPOINT [-p PROTOCOL] [--region R] [--tags a,b] [--health up|down]`.
struct RouteSpec {
  std::string name{};
  std::string endpoint{};
  std::string protocol = "http";
  std::string region{};
  std::vector<std::string> tags{};
  std::string health{}; // "up", "down" or empty (not set)
};

// The PeerInfo / Route wire values of a spec, after the local checks (name, endpoint scheme,
// protocol, health, the route's limits). Errors name the argument: "ENDPOINT: ...".
Result<rpc::Value> peerValue(const PeerSpec& spec);
Result<rpc::Value> routeValue(const RouteSpec& spec);

// addPeer (or updatePeer with `update`): "peer NAME created" / "peer NAME updated". The node's
// "No state change" becomes "No state change (peer NAME is already as given)".
Result<std::string> runPeerCreate(const ManagementCall& call, const PeerSpec& spec, bool update);
// listPeers: formatPeerTable(), or with `json` the peers array as JSON.
Result<std::string> runPeerList(const ManagementCall& call, bool json);
// removePeer: "peer NAME deleted".
Result<std::string> runPeerDelete(const ManagementCall& call, const std::string& name);

// addRoute: "route NAME created" (a route of that name is replaced by the new record); the
// node's "No state change" becomes "No state change (route NAME is already as given)".
Result<std::string> runRouteCreate(const ManagementCall& call, const RouteSpec& spec);
// listRoutes: formatRouteTable(), or with `json` {"local": [...], "internal": [...]}.
Result<std::string> runRouteList(const ManagementCall& call, bool json);
// removeRoute: "route NAME deleted".
Result<std::string> runRouteDelete(const ManagementCall& call, const std::string& name);
// explainRoute: formatExplanation(), or with `json` the routes array as JSON.
Result<std::string> runRouteWhy(const ManagementCall& call, const std::string& name, bool json);

// The peers array of listPeers as a table, one row per peer:
//   NAME    ENDPOINT                 STATUS     OUTBOUND  ADVERTISED  LAST ERROR
//   node-b  ws://10.0.0.2:3000/rpc   connected  yes       3           -
// (OUTBOUND and ADVERTISED are "-" for a peer without a session). "no peers" when empty.
std::string formatPeerTable(const rpc::Value& peers);

// The answer of listRoutes as one table, local routes first, then the best learned paths:
//   SOURCE      NAME   PROTOCOL  ENDPOINT         NODE PATH        ENVOY            HEALTH  STALE
//   local       books  http      http://b:8080    -                127.0.0.1:10000  -       no
//   via node-b  films  http      http://f:8080    node-b > node-c  127.0.0.1:10001  up      no
// "no routes" when both are empty.
std::string formatRouteTable(const rpc::Value& answer);

// The routes array of explainRoute, one line per origin of the name:
//   books (origin node-a): local route of this node: a local route always wins
//   books (origin node-a): best via node-b [node-b > node-a]; node-c [node-c > node-x >
//     node-a]: lost to node-b: shorter nodePath (2 < 3)
// (the second is one line). A stale candidate is marked "(stale)", a down one "(down)".
std::string formatExplanation(const rpc::Value& routes);

} // namespace catalyst::cli
