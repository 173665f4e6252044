#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "catalyst/common/result.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/session.h"
#include "catalyst/transport/http_batch.h"
#include "catalyst/transport/websocket.h"

namespace catalyst::rpcnet {

struct RpcClientOptions {
  transport::WebSocketOptions websocket{};
  rpc::SessionOptions session{};
  // What the server may call back: our main object (empty: none).
  rpc::Stub local_main{};
};

// A Cap'n Web session over a WebSocket we dialed. Runs on `dispatcher`'s thread.
class RpcClient {
public:
  using ConnectCallback = std::function<void(Result<std::unique_ptr<RpcClient>>)>;

  // Dials `url` (ws://host:port/path) and hands over a client once the WebSocket is open.
  static void connect(event::Dispatcher& dispatcher, std::string url, RpcClientOptions options,
                      ConnectCallback done);

  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;
  RpcClient(RpcClient&&) = delete;
  RpcClient& operator=(RpcClient&&) = delete;

  // The server's main object.
  rpc::Stub main() const { return session_->main(); }
  rpc::Session& session() { return *session_; }

  // Ends the session as disposing capnweb's main stub does: close 3000, no abort.
  void close();

private:
  RpcClient(rpc::MessageTransportPtr transport, const RpcClientOptions& options);

  rpc::MessageTransportPtr transport_;
  std::unique_ptr<rpc::Session> session_;
};

using RpcClientPtr = std::unique_ptr<RpcClient>;

// One HTTP batch (capnweb's newHttpBatchRpcSession): calls made on main() are queued, send()
// posts them in one request, and the pulled results settle from its response. The session
// ends with the response: results not pulled before send() are rejected.
class BatchClient {
public:
  // `batch` bounds the request (time for the whole exchange, size of the response).
  BatchClient(event::Dispatcher& dispatcher, std::string url, rpc::SessionOptions options = {},
              transport::BatchOptions batch = {});
  ~BatchClient();
  BatchClient(const BatchClient&) = delete;
  BatchClient& operator=(const BatchClient&) = delete;
  BatchClient(BatchClient&&) = delete;
  BatchClient& operator=(BatchClient&&) = delete;

  rpc::Stub main() const;

  // Posts what was queued; settles (true) once the response has been fed to the session, or
  // rejects with the request's failure (every pending call then fails with it too).
  rpc::Promise<bool> send();

private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace catalyst::rpcnet
