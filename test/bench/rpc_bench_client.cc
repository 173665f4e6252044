// Cap'n Web throughput of our C++ client: `add(a, b)` calls over one WebSocket to a server in
// another process (ours or the JavaScript one), the same measurement as
// test/interop/js/bench.mjs makes for the JavaScript client.
//
//   rpc_bench_client (--url ws://127.0.0.1:PORT/rpc | --in-process) [--calls N]
//                    [--mode sequential|pipelined] [--warmup N]
//
// --in-process serves the interop API from this process, on the client's own event loop (one
// thread): no cross-process wake-ups, as bench.mjs --in-process does for JavaScript.
//
// Prints one JSON line: {"impl":"cpp","mode":...,"calls":...,"seconds":...,"callsPerSecond":...}

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

#include "catalyst/admin/http_server.h"
#include "catalyst/common/logging.h"
#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpcnet/client.h"
#include "catalyst/rpcnet/endpoint.h"

#include "support/rpc_test_api.h"

namespace {

using namespace catalyst; // NOLINT(google-build-using-namespace)

// Issues `calls` sequential add() calls, each after the previous answered, as an application
// would write it (a coroutine awaiting each call); settles with whether every answer was right.
rpc::Promise<bool> sequential(rpc::Stub main, int calls) {
  for (int i = 0; i < calls; ++i) {
    rpc::Array args; // not a braced list: GCC 12 miscompiles those inside coroutines
    args.emplace_back(i);
    args.emplace_back(1);
    const rpc::Value answer = co_await rpc::pull(main.call("add", std::move(args)));
    if (answer != rpc::Value(i + 1)) {
      std::cerr << "rpc_bench_client: bad answer: " << answer.debugString() << "\n";
      co_return false;
    }
  }
  co_return true;
}

// Issues all `calls` add() calls at once; runs `done` once all have answered.
void pipelined(const rpc::Stub& main, int calls, std::function<void(bool)> done) {
  auto remaining = std::make_shared<int>(calls);
  auto ok = std::make_shared<bool>(true);
  for (int i = 0; i < calls; ++i) {
    rpc::pull(main.call("add", {i, 1}))
        .then([remaining, ok, done, i](const rpc::Settled<rpc::Value>& s) {
          if (!s.ok() || *s.value != rpc::Value(i + 1)) {
            *ok = false;
          }
          if (--*remaining == 0) {
            done(*ok);
          }
        });
  }
}

} // namespace

int main(int argc, char** argv) {
  std::string url;
  std::string mode = "sequential";
  int calls = 20000;
  int warmup = 1000;
  bool in_process = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--in-process") {
      in_process = true;
    }
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--in-process") {
      --i;
      continue;
    }
    if (arg == "--url") {
      url = argv[i + 1];
    } else if (arg == "--calls") {
      calls = std::atoi(argv[i + 1]);
    } else if (arg == "--mode") {
      mode = argv[i + 1];
    } else if (arg == "--warmup") {
      warmup = std::atoi(argv[i + 1]);
    }
  }
  if ((url.empty() && !in_process) || calls <= 0 || (mode != "sequential" && mode != "pipelined")) {
    std::cerr << "usage: rpc_bench_client --url ws://HOST:PORT/PATH [--calls N] "
                 "[--mode sequential|pipelined] [--warmup N]\n";
    return 2;
  }

  RealTimeSource time_source;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time_source);
  LoggerSharedPtr logger = makeStderrLogger("bench", LogLevel::Warn);
  std::unique_ptr<admin::HttpServer> http;
  std::unique_ptr<rpcnet::RpcEndpoint> endpoint;
  if (in_process) {
    http = std::make_unique<admin::HttpServer>(*dispatcher, *logger,
                                               admin::HttpServerOptions{"127.0.0.1", 0, {}});
    endpoint = std::make_unique<rpcnet::RpcEndpoint>(
        *dispatcher, *http, "/rpc",
        [](const rpcnet::RpcEndpoint::SessionInfo&) {
          return rpc::makeStub(std::make_shared<test::InteropApi>());
        },
        rpcnet::RpcEndpointOptions{}, *logger);
    if (auto st = http->listen(); !st) {
      std::cerr << "rpc_bench_client: " << st.error().message << "\n";
      return 1;
    }
    url = "ws://127.0.0.1:" + std::to_string(http->port()) + "/rpc";
  }
  rpcnet::RpcClientPtr client;
  int exit_code = 1;
  std::chrono::steady_clock::time_point start;
  double seconds = 0;

  rpcnet::RpcClient::connect(*dispatcher, url, {}, [&](Result<rpcnet::RpcClientPtr> c) {
    if (!c) {
      std::cerr << "rpc_bench_client: " << c.error().message << "\n";
      dispatcher->exit();
      return;
    }
    client = std::move(*c);
    rpc::Stub main = client->main();
    sequential(main, warmup).then([&, main](const rpc::Settled<bool>& warm) {
      if (!warm.ok() || !*warm.value) {
        if (!warm.ok()) {
          std::cerr << "rpc_bench_client: " << warm.error.debugString() << "\n";
        }
        dispatcher->exit();
        return;
      }
      start = std::chrono::steady_clock::now();
      auto finish = [&](bool ok) {
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        exit_code = ok ? 0 : 1;
        dispatcher->exit();
      };
      if (mode == "sequential") {
        sequential(main, calls).then([&, finish](const rpc::Settled<bool>& done) {
          if (!done.ok()) {
            std::cerr << "rpc_bench_client: " << done.error.debugString() << "\n";
          }
          finish(done.ok() && *done.value);
        });
      } else {
        pipelined(main, calls, finish);
      }
    });
  });
  dispatcher->run();
  if (exit_code == 0) {
    std::printf("{\"impl\":\"cpp\",\"mode\":\"%s\",\"calls\":%d,\"seconds\":%.6f,"
                "\"callsPerSecond\":%.0f,\"sameProcess\":%s}\n",
                mode.c_str(), calls, seconds, calls / seconds, in_process ? "true" : "false");
  }
  client.reset();
  return exit_code;
}
