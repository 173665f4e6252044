// The interop API (test/interop/API.md) served by our C++ implementation, for the JavaScript
// client's scenarios and benchmarks: WebSocket and HTTP batch on /rpc.
//
//   interop_server [--port N]
//
// Prints `LISTENING <port>` once it accepts connections; exits 0 on SIGTERM or SIGINT.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "catalyst/admin/http_server.h"
#include "catalyst/common/logging.h"
#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpcnet/endpoint.h"

#include "support/rpc_test_api.h"

int main(int argc, char** argv) {
  using namespace catalyst; // NOLINT(google-build-using-namespace)
  uint16_t port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else {
      std::cerr << "usage: interop_server [--port N]\n";
      return 2;
    }
  }
  LoggerSharedPtr logger = makeStderrLogger("interop", LogLevel::Warn);
  RealTimeSource time_source;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time_source);
  admin::HttpServer http(*dispatcher, *logger, admin::HttpServerOptions{"127.0.0.1", port, {}});
  auto disposed = std::make_shared<int>(0);
  rpcnet::RpcEndpoint endpoint(
      *dispatcher, http, "/rpc",
      [disposed](const rpcnet::RpcEndpoint::SessionInfo&) {
        return rpc::makeStub(std::make_shared<test::InteropApi>(disposed));
      },
      rpcnet::RpcEndpointOptions{}, *logger);
  if (auto st = http.listen(); !st) {
    std::cerr << "interop_server: " << st.error().message << "\n";
    return 1;
  }
  event::SignalWatcherPtr signals =
      event::watchSignals(*dispatcher, {SIGINT, SIGTERM}, [&](int /*signal*/) {
        endpoint.closeAll("server shutting down");
        http.stop();
        dispatcher->exit();
      });
  std::cout << "LISTENING " << http.port() << std::endl;
  dispatcher->run();
  return 0;
}
