#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "catalyst/admin/http_server.h"
#include "catalyst/common/logging.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/session.h"
#include "catalyst/transport/websocket.h"

namespace catalyst::rpcnet {

struct RpcEndpointOptions {
  transport::WebSocketOptions websocket{};
  rpc::SessionOptions session{};
  // Open WebSocket sessions; an upgrade over the limit is refused (its socket closed).
  std::size_t max_sessions = 1024;
  // An HTTP batch whose pulled results are not all answered by then is aborted.
  std::chrono::milliseconds batch_timeout{30'000};
};

struct RpcEndpointStats {
  uint64_t websocket_sessions = 0; // accepted in all
  uint64_t websocket_active = 0;   // open now
  uint64_t websocket_rejected = 0; // refused by max_sessions
  uint64_t batches = 0;            // HTTP batch requests served
  uint64_t batch_timeouts = 0;
  uint64_t aborts = 0; // sessions that ended with a protocol error
};

// Serves Cap'n Web on one path of an HttpServer: WebSocket sessions (upgrade requests) and
// HTTP batches (POST), each session with its own main object from `make_main`. Runs on the
// server's dispatcher thread. Must outlive nothing: destroying it ends its sessions.
class RpcEndpoint {
public:
  // Which session a main object serves: WebSocket sessions and HTTP batches each get their
  // own id (never reused while the endpoint lives).
  struct SessionInfo {
    uint64_t id = 0;
    bool websocket = true; // false: an HTTP batch
  };
  using MainFactory = std::function<rpc::Stub(const SessionInfo& session)>;
  // Told when a WebSocket session has ended (its connection is closed), with its id.
  using ClosedCallback = std::function<void(uint64_t id)>;

  RpcEndpoint(event::Dispatcher& dispatcher, admin::HttpServer& server, std::string path,
              MainFactory make_main, RpcEndpointOptions options, Logger& logger);
  ~RpcEndpoint();
  RpcEndpoint(const RpcEndpoint&) = delete;
  RpcEndpoint& operator=(const RpcEndpoint&) = delete;
  RpcEndpoint(RpcEndpoint&&) = delete;
  RpcEndpoint& operator=(RpcEndpoint&&) = delete;

  // Ends every open session (close 3000, no abort), as on shutdown.
  void closeAll(const std::string& reason);
  // Ends the WebSocket session `id` (close 3000, no abort), if it is open.
  void closeSession(uint64_t id, const std::string& reason);
  // `cb` is called (on the dispatcher's thread, never from inside closeSession()) for every
  // WebSocket session that ends. One callback; a later call replaces it.
  void onSessionClosed(ClosedCallback cb);

  RpcEndpointStats stats() const;

private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

using RpcEndpointPtr = std::unique_ptr<RpcEndpoint>;

} // namespace catalyst::rpcnet
