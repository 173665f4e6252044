// catalyst: the command-line client of a Catalyst Node.

#include <chrono>
#include <cmath>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "catalyst/common/result.h"

#include "cli/node_commands.h"
#include "cli/node_rpc.h"
#include "cli/status_command.h"

namespace {

constexpr const char* kDescription =
    "catalyst: the command-line client of a Catalyst Node.\n"
    "\n"
    "A Catalyst Node makes the services of one site reachable from other sites: nodes peer\n"
    "pairwise and pass routes on, like BGP routers. This tool talks to one node over its listen\n"
    "port, the orchestrator URL (the same port serves /health, /metrics, /api/state and the\n"
    "ws://HOST:PORT/rpc endpoint; ws:// URLs are accepted and reached over HTTP).";

constexpr const char* kFooter =
    "Environment:\n"
    "  CATALYST_ORCHESTRATOR_URL  default of --orchestrator-url\n"
    "  CATALYST_TOKEN             default of --token\n"
    "\n"
    "Exit status: 0 on success; 1 with a one-line reason on stderr otherwise (2 for usage).\n"
    "\n"
    "Examples:\n"
    "  catalyst --orchestrator-url http://10.0.0.5:3000 status\n"
    "  export CATALYST_TOKEN=$(catalyst-node token mint --subject ops --role admin)\n"
    "  catalyst node route create books http://10.0.0.5:8080 -p http\n"
    "  catalyst node route list\n"
    "  catalyst route why books";

// The note every management command's help ends with.
constexpr const char* kAdminNote =
    "Needs an admin token: --token TOKEN or CATALYST_TOKEN (mint one on the node's host with\n"
    "`catalyst-node token mint --subject NAME --role admin`).\n";

std::string footer(const std::string& examples) {
  return std::string(kAdminNote) + "\nExample:\n" + examples;
}

// The commands of `node` and `route`, and where their arguments go.
struct NodeCommands {
  CLI::App* node = nullptr;
  CLI::App* peer_create = nullptr;
  CLI::App* peer_update = nullptr;
  CLI::App* peer_list = nullptr;
  CLI::App* peer_delete = nullptr;
  CLI::App* route_create = nullptr;
  CLI::App* route_list = nullptr;
  CLI::App* route_delete = nullptr;
  CLI::App* route_why = nullptr;

  catalyst::cli::PeerSpec peer;
  catalyst::cli::RouteSpec route;
  std::string name; // of delete and why
  bool json = false;
};

void addPeerArguments(CLI::App* command, catalyst::cli::PeerSpec& peer) {
  command->add_option("NAME", peer.name, "The peer's node id (as its config names it)")->required();
  command
      ->add_option("ENDPOINT", peer.endpoint,
                   "The peer's peering endpoint: ws://HOST:PORT/rpc (or wss://)")
      ->required();
  command
      ->add_option("--peer-token", peer.peer_token,
                   "The token the peer minted for this node (`catalyst-node token mint "
                   "--subject <this node's id>` on the peer); presented when dialing it")
      ->required();
  command->add_option("--domains", peer.domains, "The peer's domains, a comma list")
      ->delimiter(',');
}

void addNodeCommands(CLI::App& app, NodeCommands& c) {
  c.node = app.add_subcommand("node", "Manage the node's peers and routes (needs an admin token)");
  c.node->require_subcommand(1);
  c.node->footer(kAdminNote);

  CLI::App* peer = c.node->add_subcommand(
      "peer", "The node's neighbours: add, change, list and remove peers at run time");
  peer->require_subcommand(1);
  peer->footer(kAdminNote);

  c.peer_create = peer->add_subcommand(
      "create", "Add a peer (addPeer): this node dials ENDPOINT and exchanges routes with it");
  addPeerArguments(c.peer_create, c.peer);
  c.peer_create->add_option("--envoy-address", c.peer.envoy_address,
                            "The address of the peer's data plane, if not its endpoint's host");
  c.peer_create->footer(
      footer("  catalyst node peer create node-b ws://10.0.0.2:3000/rpc --peer-token \"$JWT\" "
             "--domains b.example"));

  c.peer_update = peer->add_subcommand(
      "update", "Replace the settings of a peer (updatePeer); the peer must exist");
  addPeerArguments(c.peer_update, c.peer);
  c.peer_update->footer(
      footer("  catalyst node peer update node-b ws://10.0.0.3:3000/rpc --peer-token \"$JWT\""));

  c.peer_list = peer->add_subcommand(
      "list", "List the peers (listPeers): endpoint, session status, whether our outbound "
              "connection is up, how many routes we advertise to it, its last error");
  c.peer_list->add_flag("--json", c.json, "Print the peers array as JSON instead");
  c.peer_list->footer(footer("  catalyst node peer list\n  catalyst node peer list --json"));

  c.peer_delete = peer->add_subcommand(
      "delete", "Remove a peer (removePeer): its session closes and its routes are withdrawn");
  c.peer_delete->add_option("NAME", c.name, "The peer's node id")->required();
  c.peer_delete->footer(footer("  catalyst node peer delete node-b"));

  CLI::App* route = c.node->add_subcommand(
      "route", "The services this node publishes: add, list and remove routes at run time");
  route->require_subcommand(1);
  route->footer(kAdminNote);

  c.route_create = route->add_subcommand(
      "create", "Publish a service (addRoute): NAME is reachable at ENDPOINT behind this node, "
                "and peers learn it");
  c.route_create->add_option("NAME", c.route.name, "The route's name: letters, digits, . _ -")
      ->required();
  c.route_create->add_option("ENDPOINT", c.route.endpoint, "Where the service listens")->required();
  c.route_create
      ->add_option("-p,--protocol", c.route.protocol,
                   "http, http:graphql, http:gql, http:grpc, tcp or udp")
      ->capture_default_str();
  c.route_create->add_option("--region", c.route.region, "A region label");
  c.route_create->add_option("--tags", c.route.tags, "Tags, a comma list")->delimiter(',');
  c.route_create->add_option("--health", c.route.health, "The service's health: up or down");
  c.route_create->footer(
      footer("  catalyst node route create books http://10.0.0.5:8080 -p http --tags prod,eu"));

  c.route_list = route->add_subcommand(
      "list", "List the routes (listRoutes): this node's own, and the best path of each "
              "learned route with the peer it came from and its node path");
  c.route_list->add_flag("--json", c.json, "Print {\"local\": [...], \"internal\": [...]} instead");
  c.route_list->footer(footer("  catalyst node route list\n  catalyst node route list --json"));

  c.route_delete =
      route->add_subcommand("delete", "Withdraw a route this node publishes (removeRoute)");
  c.route_delete->add_option("NAME", c.name, "The route's name")->required();
  c.route_delete->footer(footer("  catalyst node route delete books"));

  CLI::App* why_parent =
      app.add_subcommand("route", "Questions about routes (needs an admin token)");
  why_parent->require_subcommand(1);
  why_parent->footer(kAdminNote);
  c.route_why = why_parent->add_subcommand(
      "why", "Explain route selection for NAME (explainRoute): for each origin node, every "
             "candidate path, the one chosen and why the others lost (shorter nodePath, not "
             "stale, health up, lower neighbour name)");
  c.route_why->add_option("NAME", c.name, "The route's name")->required();
  c.route_why->add_flag("--json", c.json, "Print the explanation as JSON instead");
  c.route_why->footer(
      footer("  catalyst route why books\n"
             "  books (origin node-a): best via node-b [node-b > node-a]; node-c [node-c > "
             "node-x > node-a]: lost to node-b: shorter nodePath (2 < 3)"));
}

// Runs the management command that was parsed, if one was.
std::optional<catalyst::Result<std::string>> runNodeCommand(const NodeCommands& c,
                                                            const catalyst::cli::GlobalOptions& g) {
  namespace cli = catalyst::cli;
  const cli::ManagementCall call = cli::managementCall(g);
  if (c.peer_create->parsed()) {
    return cli::runPeerCreate(call, c.peer, /*update=*/false);
  }
  if (c.peer_update->parsed()) {
    return cli::runPeerCreate(call, c.peer, /*update=*/true);
  }
  if (c.peer_list->parsed()) {
    return cli::runPeerList(call, c.json);
  }
  if (c.peer_delete->parsed()) {
    return cli::runPeerDelete(call, c.name);
  }
  if (c.route_create->parsed()) {
    return cli::runRouteCreate(call, c.route);
  }
  if (c.route_list->parsed()) {
    return cli::runRouteList(call, c.json);
  }
  if (c.route_delete->parsed()) {
    return cli::runRouteDelete(call, c.name);
  }
  if (c.route_why->parsed()) {
    return cli::runRouteWhy(call, c.name, c.json);
  }
  return std::nullopt;
}

int run(int argc, char** argv) {
  CLI::App app(kDescription, "catalyst");
  app.footer(kFooter);
  // Global options may also follow the subcommand: `catalyst status --orchestrator-url URL`.
  app.fallthrough();
  app.failure_message([](const CLI::App* /*app*/, const CLI::Error& e) {
    return std::string("catalyst: ") + e.what() + " (see catalyst --help)\n";
  });

  catalyst::cli::GlobalOptions global;
  app.add_option("--orchestrator-url", global.orchestrator_url,
                 "The node to talk to: http://HOST:PORT, or its peering endpoint "
                 "ws://HOST:PORT/rpc")
      ->envname("CATALYST_ORCHESTRATOR_URL")
      ->capture_default_str();
  app.add_option("--token", global.token,
                 "Bearer token (a JWT from `catalyst-node token mint`) for the commands that "
                 "need one")
      ->envname("CATALYST_TOKEN");
  double timeout_seconds = 5;
  app.add_option("--timeout", timeout_seconds,
                 "Seconds to wait for the connection, then for the response")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            double value = 0;
            return CLI::detail::lexical_cast(text, value) && value > 0 && value <= 86'400
                       ? ""
                       : "must be a number of seconds above 0";
          },
          "SECONDS"))
      ->capture_default_str();

  CLI::App* status = app.add_subcommand(
      "status", "Show the node's name, version and uptime (GET /health). /health needs no token.");
  bool json = false;
  status->add_flag("--json", json, "Print the /health response as JSON instead");
  status->footer("Example:\n  catalyst --orchestrator-url http://10.0.0.5:3000 status");

  NodeCommands node_commands;
  addNodeCommands(app, node_commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints to stdout and exits 0; usage errors print one line to stderr.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  global.timeout = std::chrono::milliseconds(std::llround(timeout_seconds * 1000));

  if (app.get_subcommands().empty()) {
    std::cerr << "catalyst: a command is required (see catalyst --help)\n";
    return 2;
  }
  catalyst::Result<std::string> output = catalyst::invalidArgument("no command");
  if (status->parsed()) {
    output = catalyst::cli::runStatus(global, json);
  } else if (auto node_output = runNodeCommand(node_commands, global)) {
    output = std::move(*node_output);
  }
  if (!output) {
    std::cerr << "catalyst: " << output.error().message << '\n';
    return 1;
  }
  std::cout << *output;
  if (output->empty() || output->back() != '\n') {
    std::cout << '\n';
  }
  std::cout.flush();
  return std::cout ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "catalyst: internal error: " << e.what() << '\n';
    return 1;
  }
}
