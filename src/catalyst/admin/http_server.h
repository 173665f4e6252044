#pragma once

// The HTTP/1.1 server of the node's one listen port (/health, /metrics, /api/state, /rpc, ...).
// It runs on the control thread's Dispatcher; Beast lives in the .cc files (see
// http_server_impl.h for the Beast side, used by modules that take over connections).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "catalyst/admin/http_types.h"
#include "catalyst/common/logging.h"
#include "catalyst/common/result.h"
#include "catalyst/event/dispatcher.h"

namespace catalyst::admin {

// What one client may cost the process. Each rejection is counted in HttpServerStats.
struct HttpServerLimits {
  // Request line plus header fields; over it the request is answered 431 and the connection
  // closed.
  uint32_t max_header_bytes = 8 * 1024;
  // Request body (after de-chunking); over it the request is answered 413 and the connection
  // closed. A Content-Length over the limit is refused before the body is read.
  uint64_t max_body_bytes = 1024 * 1024;
  // Time allowed to receive one complete request, counted from when the server starts waiting
  // for it (so it is also the idle timeout of keep-alive connections), and to write one
  // response. On expiry the connection is closed without a response.
  std::chrono::milliseconds request_timeout{30'000};
  // Open connections; a connection accepted over the limit is closed at once.
  uint32_t max_connections = 1024;
};

struct HttpServerOptions {
  std::string address = "127.0.0.1"; // IPv4 or IPv6 literal: "0.0.0.0", "::1"
  uint16_t port = 0;                 // 0: an ephemeral port, see HttpServer::port()
  HttpServerLimits limits{};
};

// Counters of one HttpServer. Monotonic except `connections_active`.
struct HttpServerStats {
  uint64_t connections_accepted = 0; // including those closed at once by the connection limit
  uint64_t connections_active = 0;   // HTTP connections open now (upgraded ones excluded)
  uint64_t requests = 0;             // requests parsed in full
  uint64_t responses_2xx = 0;
  uint64_t responses_3xx = 0;
  uint64_t responses_4xx = 0; // including the rejections below that got a response
  uint64_t responses_5xx = 0;
  uint64_t bad_requests = 0;         // malformed requests, answered 400
  uint64_t rejected_too_large = 0;   // header over the limit (431) or body over it (413)
  uint64_t rejected_timeout = 0;     // a request begun but not complete within request_timeout
  uint64_t idle_timeouts = 0;        // connections closed for sending nothing within it
  uint64_t rejected_connections = 0; // closed at accept by max_connections
  uint64_t upgrades = 0;             // connections handed to an upgrade handler
  uint64_t handler_errors = 0;       // handlers that threw or returned a bad status (500)
  uint64_t handler_timeouts = 0;     // async handlers that did not answer within request_timeout

  bool operator==(const HttpServerStats&) const = default;
};

class HttpServerImpl;

// An HTTP/1.1 server with exact-path routes. Every member must be called on the dispatcher's
// thread; handlers run there too.
//
//   HttpServer server(dispatcher, logger, {.address = "0.0.0.0", .port = 3000});
//   server.addRoute(HttpMethod::Get, "/health", [&](const HttpRequest&) { ... });
//   if (auto status = server.listen(); !status) { ... status.error().message ... }
class HttpServer {
public:
  // `dispatcher` must be made by event::makeDispatcher(). `dispatcher` and `logger` must
  // outlive the server.
  HttpServer(event::Dispatcher& dispatcher, Logger& logger, HttpServerOptions options);

  // Stops the server (see stop()).
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  HttpServer(HttpServer&&) = delete;
  HttpServer& operator=(HttpServer&&) = delete;

  // Serves `method` requests for exactly `path` (which starts with '/'; the query string is
  // not part of it) with `handler`. A GET route also answers HEAD, without the body, unless a
  // HEAD route is added. Routes may be added before or after listen().
  void addRoute(HttpMethod method, std::string path, HttpHandler handler);

  // Like addRoute(), for a handler that answers later through its HttpResponder (see
  // AsyncHttpHandler). A method of a path has one handler, of either form.
  void addAsyncRoute(HttpMethod method, std::string path, AsyncHttpHandler handler);

  // Binds and starts accepting. Fails with Error::Kind::Unavailable, e.g.
  // "listen 127.0.0.1:3000: Address already in use", or InvalidArgument for a bad address.
  Status listen();

  // The port bound by listen() (the ephemeral one if the options said 0); 0 before.
  uint16_t port() const;

  // Closes the listening socket and every open connection, at once; in-flight responses are
  // dropped. Connections already handed to an upgrade handler are not touched. Idempotent;
  // the server cannot listen again afterwards.
  void stop();

  HttpServerStats stats() const;

  // The Beast side (http_server_impl.h), for modules that take over connections.
  HttpServerImpl& impl() { return *impl_; }

private:
  // Shared with the open connections, which keep it alive until their last handler ran.
  std::shared_ptr<HttpServerImpl> impl_;
};

using HttpServerPtr = std::unique_ptr<HttpServer>;

} // namespace catalyst::admin
