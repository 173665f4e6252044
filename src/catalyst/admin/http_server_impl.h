#pragma once

// The Asio/Beast side of HttpServer. Include only from .cc files of modules that take over
// connections (rpc/ for the WebSocket upgrade of /rpc): Beast headers are heavy.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "catalyst/admin/http_server.h"
#include "catalyst/event/dispatcher_impl.h"

namespace catalyst::admin {

// A request that asked to switch to WebSocket (GET, HTTP/1.1, "Connection: upgrade",
// "Upgrade: websocket"), parsed in full with the server's limits.
using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Takes over an upgrade request and its connection. It runs on the dispatcher's thread and owns
// the socket from then on: the HttpServer neither reads, writes, times out nor closes it, and
// stop() leaves it open. The socket is bound to the dispatcher's io_context and has no data
// pending: a request followed by more bytes before the 101 was sent is refused with 400.
// The handler answers the handshake itself, e.g. with
// `websocket::stream<beast::tcp_stream>(std::move(socket)).async_accept(request, ...)`.
using UpgradeHandler =
    std::function<void(boost::asio::ip::tcp::socket socket, UpgradeRequest request)>;

class HttpSession;

// The handlers of one path. Plain HttpHandlers are kept wrapped as AsyncHttpHandlers that
// answer at once.
struct PathRoutes {
  std::map<HttpMethod, AsyncHttpHandler> handlers;
  UpgradeHandler upgrade;
};

class HttpServerImpl : public std::enable_shared_from_this<HttpServerImpl> {
public:
  HttpServerImpl(event::DispatcherImpl& dispatcher, Logger& logger, HttpServerOptions options);

  HttpServerImpl(const HttpServerImpl&) = delete;
  HttpServerImpl& operator=(const HttpServerImpl&) = delete;
  HttpServerImpl(HttpServerImpl&&) = delete;
  HttpServerImpl& operator=(HttpServerImpl&&) = delete;
  ~HttpServerImpl() = default;

  // Hands WebSocket upgrade requests for exactly `path` to `handler`. Requests on `path`
  // without an upgrade are served by the HTTP routes of `path`; if it has none they get 426.
  // Upgrade requests on a path with no upgrade handler are served as plain requests (the
  // Upgrade header is ignored, RFC 9110 §7.8), so on an unknown path they get 404.
  void addUpgradeRoute(std::string path, UpgradeHandler handler);

  // HttpServer's members; see there. stop() has no thread check: ~HttpServer may run after
  // the loop ended.
  void addRoute(HttpMethod method, std::string path, HttpHandler handler);
  void addAsyncRoute(HttpMethod method, std::string path, AsyncHttpHandler handler);
  Status listen();
  uint16_t port() const { return port_; }
  void stop();
  HttpServerStats stats() const;

  event::DispatcherImpl& dispatcher() { return dispatcher_; }

  // For HttpSession.
  const HttpServerLimits& limits() const { return options_.limits; }
  HttpServerStats& mutableStats() { return stats_; }
  Logger& logger() { return logger_; }
  bool stopped() const { return stopped_; }
  const PathRoutes* findRoutes(std::string_view path) const;
  void addSession(HttpSession& session) { sessions_.insert(&session); }
  void removeSession(HttpSession& session) { sessions_.erase(&session); }

private:
  void doAccept();
  void onAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);

  event::DispatcherImpl& dispatcher_;
  Logger& logger_;
  const HttpServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_timer_;
  std::unordered_map<std::string, PathRoutes> routes_;
  std::unordered_set<HttpSession*> sessions_; // not owned: each session removes itself
  HttpServerStats stats_;
  uint16_t port_ = 0;
  bool listening_ = false;
  bool stopped_ = false;
};

} // namespace catalyst::admin
