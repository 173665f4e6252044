// catalyst-node: the Catalyst Node daemon.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <sys/resource.h>

#include "catalyst/auth/token.h"
#include "catalyst/auth/token_authority.h"
#include "catalyst/common/logging.h"
#include "catalyst/common/time_source.h"
#include "catalyst/common/version.h"
#include "catalyst/config/loader.h"
#include "catalyst/envoy/bootstrap.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/server/allocator.h"
#include "catalyst/server/node.h"
#include "catalyst/state/route.h"

extern char** environ; // NOLINT: the process environment, read once here

namespace {

// Every data-plane listener holds a descriptor, every relayed TCP connection two (four more
// while it splices), every peer session one: the soft limit many systems start a process with
// (1024) is too few for a node with many routes. Raise it to the hard limit, as HAProxy and
// nginx do, and say what it is.
void raiseOpenFileLimit(catalyst::Logger& logger) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  // An unlimited hard limit still stops at the kernel's fs.nr_open (1 << 20 by default).
  const rlim_t target = std::min<rlim_t>(limit.rlim_max, rlim_t{1} << 20);
  if (limit.rlim_cur < target) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      logger.warn("cannot raise the open-file limit from {} to {}", before, target);
      ::getrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  if (limit.rlim_cur < 4096) {
    logger.warn("the open-file limit is {}: with many routes or connections the data plane "
                "will run out of descriptors (raise the hard limit, e.g. LimitNOFILE= in a "
                "systemd unit or ulimit -Hn)",
                limit.rlim_cur);
  } else {
    logger.debug("open-file limit: {}", limit.rlim_cur);
  }
}

int runNode(const catalyst::config::ConfigSource& source) {
  using namespace catalyst;
  auto config = config::loadConfig(source);
  if (!config) {
    std::cerr << config::formatProblems(config.error());
    return 1;
  }
  LoggerSharedPtr logger = makeStderrLogger("node", config->log_level);
  raiseOpenFileLimit(*logger);
  logger->debug("malloc: {}", server::allocatorName());

  RealTimeSource time_source;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time_source);
  server::Node node(*config, *dispatcher, *logger);
  if (auto st = node.start(); !st) {
    logger->error("cannot start: {}", st.error().message);
    std::cerr << "catalyst-node: " << st.error().message << "\n";
    return 1;
  }
  event::SignalWatcherPtr signals =
      event::watchSignals(*dispatcher, {SIGINT, SIGTERM}, [&](int signal) {
        logger->info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
        node.stop();
        dispatcher->exit();
      });
  dispatcher->run();
  logger->info("stopped");
  logger->flush();
  return 0;
}

// `catalyst-node token mint`'s options.
struct MintOptions {
  std::string config_file;
  std::string subject;
  std::string role = "peer";
  std::string ttl = "7d";
};

// `message` made safe to print as one line: control characters become '?'.
std::string oneLine(std::string message) {
  for (char& c : message) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return message;
}

// The node's config for a subcommand (as the node would load it: the file, if any, and the
// environment), or its problems on one line.
boost::system::result<catalyst::config::NodeConfig, std::string>
loadForCommand(const std::string& config_file, catalyst::config::Env env) {
  catalyst::config::ConfigSource source;
  if (!config_file.empty()) {
    source.file = config_file;
  }
  source.env = std::move(env);
  auto config = catalyst::config::loadConfig(source);
  if (!config) {
    std::string problems;
    for (const catalyst::config::Problem& problem : config.error().problems) {
      problems += (problems.empty() ? "" : "; ") + problem.toString();
    }
    return boost::system::result<catalyst::config::NodeConfig, std::string>(
        boost::system::in_place_error, std::move(problems));
  }
  return std::move(*config);
}

int mintFailed(std::string_view message) {
  std::cerr << "catalyst-node: token mint: " << oneLine(std::string(message)) << "\n";
  return 1;
}

// Prints a new token to stdout. The node id and state directory come from the config file
// and the environment exactly as for runNode(); the key is created on first use.
int runTokenMint(const MintOptions& options, catalyst::config::Env env) {
  using namespace catalyst;
  // Check the arguments before anything touches the disk.
  if (auto st = state::validateName(options.subject); !st) {
    return mintFailed("--subject: " + st.error().message + " (got '" + options.subject + "')");
  }
  const std::optional<auth::Role> role = auth::parseRole(options.role);
  if (!role) {
    return mintFailed("--role: must be peer or admin (got '" + options.role + "')");
  }
  auto ttl = auth::parseTtl(options.ttl);
  if (!ttl) {
    return mintFailed("--" + ttl.error().message);
  }
  auto config = loadForCommand(options.config_file, std::move(env));
  if (!config) {
    return mintFailed(config.error());
  }
  auto authority = auth::TokenAuthority::loadOrCreate(config->state_dir, config->node_id);
  if (!authority) {
    return mintFailed(authority.error().message);
  }
  const RealTimeSource clock;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock.systemTime().time_since_epoch())
          .count();
  auto token = authority->mint(auth::MintRequest{options.subject, *role, *ttl, now});
  if (!token) {
    return mintFailed(token.error().message);
  }
  std::cout << *token << '\n';
  std::cout.flush();
  return std::cout ? 0 : mintFailed("cannot write to stdout");
}

int bootstrapFailed(std::string_view message) {
  std::cerr << "catalyst-node: envoy bootstrap: " << oneLine(std::string(message)) << "\n";
  return 1;
}

// Prints the bootstrap of this node's Envoy, from the same config and environment as the node.
int runEnvoyBootstrap(const std::string& config_file, catalyst::config::Env env) {
  using namespace catalyst;
  auto config = loadForCommand(config_file, std::move(env));
  if (!config) {
    return bootstrapFailed(config.error());
  }
  if (config->dataplane == config::DataPlaneMode::Embedded) {
    return bootstrapFailed("the node's data plane is embedded: set dataplane.mode (or "
                           "CATALYST_DATAPLANE) to envoy-xds or envoy-files");
  }
  envoy::BootstrapOptions options;
  options.source = config->dataplane == config::DataPlaneMode::EnvoyXds
                       ? envoy::BootstrapOptions::Source::Xds
                       : envoy::BootstrapOptions::Source::Files;
  options.node_id = config->envoy.node_id;
  options.admin_address = config->envoy.admin_address;
  options.admin_port = config->envoy.admin_port;
  options.xds_address = config->envoy.xds_address;
  options.xds_port = config->envoy.xds_port;
  // Envoy runs in a directory of its own: give it an absolute path.
  std::error_code ec;
  options.files_dir = std::filesystem::absolute(config->envoy.files_dir, ec).lexically_normal();
  if (ec) {
    return bootstrapFailed(config->envoy.files_dir + ": " + ec.message());
  }
  std::cout << envoy::renderBootstrap(options) << '\n';
  std::cout.flush();
  return std::cout ? 0 : bootstrapFailed("cannot write to stdout");
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"catalyst-node: a Catalyst Node, a BGP-style router for layer 4-7 services.\n"
               "Runs a node from a YAML config file and/or CATALYST_* environment variables\n"
               "(see docs/configuration.md); with no --config it runs from the environment "
               "alone\n(CATALYST_NODE_ID is then required).",
               "catalyst-node"};
  std::string config_file;
  std::string check_file;
  app.add_option("-c,--config", config_file, "YAML config file of the node")
      ->check(CLI::ExistingFile);
  app.add_option("--check-config", check_file,
                 "Validate FILE (with the environment's overrides) and exit: 0 when valid, "
                 "1 with 'file:line: field: problem' lines otherwise");
  app.set_version_flag("--version", std::string("catalyst-node ") + catalyst::kVersion +
                                        "\nmalloc: " + catalyst::server::allocatorName());
  app.footer("Examples:\n"
             "  catalyst-node --config node-a.yaml\n"
             "  CATALYST_NODE_ID=node-a PORT=3000 catalyst-node\n"
             "  catalyst-node --check-config node-a.yaml\n"
             "  catalyst-node token mint --config node-a.yaml --subject node-b\n"
             "  catalyst-node envoy bootstrap --config node-a.yaml\n"
             "Stop with SIGINT or SIGTERM; /health on the listen port answers while it runs.\n"
             "`catalyst-node token mint --help` explains tokens.");

  CLI::App* token = app.add_subcommand("token", "Tokens signed by this node (see: token mint)");
  token->require_subcommand(1);
  token->footer("Example:\n  catalyst-node token mint --config node-a.yaml --subject node-b\n"
                "`catalyst-node token mint --help` explains the options.");
  CLI::App* mint = token->add_subcommand(
      "mint", "Print a new token (an ES384 JWT signed by this node's key) and a newline");
  MintOptions mint_options;
  mint->add_option("-c,--config", mint_options.config_file,
                   "YAML config file of the node (as for running it)")
      ->check(CLI::ExistingFile);
  mint->add_option("--subject", mint_options.subject,
                   "Who the token is for (its 'sub'): for a peer token, the node id of the peer "
                   "that will present it; a name of letters, digits, '.', '_', '-'")
      ->required();
  mint->add_option("--role", mint_options.role, "peer or admin")->capture_default_str();
  mint->add_option("--ttl", mint_options.ttl,
                   "Lifetime: a number with a unit s, m, h, d or w (30s, 15m, 12h, 7d, 2w; a plain "
                   "number is seconds), at most 10 years")
      ->capture_default_str();
  mint->footer(
      "The token is signed with this node's key, <state_dir>/node-key.pem, created (mode 0600)\n"
      "on first use; its issuer is this node's id. The node id and state directory come from\n"
      "--config and the environment (CATALYST_NODE_ID, CATALYST_STATE_DIR, ...) exactly as when\n"
      "the node runs, so run it with the node's own config and environment. See docs/tokens.md.\n"
      "Exit status: 0 with the token on stdout; otherwise non-zero with one line on stderr.\n"
      "\n"
      "Examples:\n"
      "  # on node-a: a token that node-b presents when it peers with node-a (peers[].token\n"
      "  # in node-b's config)\n"
      "  catalyst-node token mint --config node-a.yaml --subject node-b\n"
      "  # an admin token for the catalyst CLI, valid 12 hours\n"
      "  CATALYST_NODE_ID=node-a catalyst-node token mint --subject alice --role admin --ttl 12h");

  CLI::App* envoy_cmd =
      app.add_subcommand("envoy", "Envoy as this node's data plane (see: envoy bootstrap)");
  envoy_cmd->require_subcommand(1);
  CLI::App* bootstrap = envoy_cmd->add_subcommand(
      "bootstrap", "Print the bootstrap (JSON) of this node's Envoy and a newline");
  std::string bootstrap_config;
  bootstrap
      ->add_option("-c,--config", bootstrap_config,
                   "YAML config file of the node (as for running it)")
      ->check(CLI::ExistingFile);
  bootstrap->footer(
      "The bootstrap follows the node's dataplane.mode: envoy-xds points Envoy's ADS at the\n"
      "node's xDS server (dataplane.envoy.xds_address/xds_port, over HTTP/2); envoy-files points\n"
      "its CDS and LDS at cds.json and lds.json in dataplane.envoy.files_dir, which the node\n"
      "replaces atomically. Admin listener: dataplane.envoy.admin_address/admin_port; node.id:\n"
      "dataplane.envoy.node_id (default: the node's id). See docs/envoy.md.\n"
      "\n"
      "Example:\n"
      "  catalyst-node envoy bootstrap --config node-a.yaml > envoy.json && envoy -c envoy.json");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version print as usual. Usage errors under `token` are one line (the top-level
    // command keeps CLI11's own messages).
    if (envoy_cmd->parsed() && e.get_exit_code() != static_cast<int>(CLI::ExitCodes::Success)) {
      std::cerr << "catalyst-node: envoy" << (bootstrap->parsed() ? " bootstrap" : "") << ": "
                << oneLine(e.what()) << " (see catalyst-node envoy"
                << (bootstrap->parsed() ? " bootstrap" : "") << " --help)\n";
      return 2;
    }
    if (token->parsed() && e.get_exit_code() != static_cast<int>(CLI::ExitCodes::Success)) {
      std::cerr << "catalyst-node: token" << (mint->parsed() ? " mint" : "") << ": "
                << oneLine(e.what()) << " (see catalyst-node token"
                << (mint->parsed() ? " mint" : "") << " --help)\n";
      return 2;
    }
    return app.exit(e);
  }

  catalyst::config::Env env = catalyst::config::envFromEnviron(environ);
  if (mint->parsed()) {
    if (!check_file.empty() || !config_file.empty()) {
      std::cerr << "catalyst-node: token mint: give --config after 'token mint' "
                   "(--check-config does not apply)\n";
      return 2;
    }
    return runTokenMint(mint_options, std::move(env));
  }
  if (bootstrap->parsed()) {
    if (!check_file.empty() || !config_file.empty()) {
      std::cerr << "catalyst-node: envoy bootstrap: give --config after 'envoy bootstrap'\n";
      return 2;
    }
    return runEnvoyBootstrap(bootstrap_config, std::move(env));
  }
  if (!check_file.empty()) {
    return catalyst::config::checkConfigMain(check_file, env, std::cout, std::cerr);
  }
  catalyst::config::ConfigSource source;
  if (!config_file.empty()) {
    source.file = config_file;
  }
  source.env = std::move(env);
  return runNode(source);
}
