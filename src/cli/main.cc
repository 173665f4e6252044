// catalyst: the command-line client of a Catalyst Node.

#include <chrono>
#include <cmath>
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "catalyst/common/result.h"

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
    "Example:\n"
    "  catalyst --orchestrator-url http://10.0.0.5:3000 status";

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
