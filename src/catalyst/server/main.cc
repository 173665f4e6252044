// catalyst-node: the Catalyst Node daemon.

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "catalyst/common/logging.h"
#include "catalyst/common/time_source.h"
#include "catalyst/common/version.h"
#include "catalyst/config/loader.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/server/node.h"

extern char** environ; // NOLINT: the process environment, read once here

namespace {

int runNode(const catalyst::config::ConfigSource& source) {
  using namespace catalyst;
  auto config = config::loadConfig(source);
  if (!config) {
    std::cerr << config::formatProblems(config.error());
    return 1;
  }
  LoggerSharedPtr logger = makeStderrLogger("node", config->log_level);

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
  app.set_version_flag("--version", std::string("catalyst-node ") + catalyst::kVersion);
  app.footer("Examples:\n"
             "  catalyst-node --config node-a.yaml\n"
             "  CATALYST_NODE_ID=node-a PORT=3000 catalyst-node\n"
             "  catalyst-node --check-config node-a.yaml\n"
             "Stop with SIGINT or SIGTERM; /health on the listen port answers while it runs.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  catalyst::config::Env env = catalyst::config::envFromEnviron(environ);
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
