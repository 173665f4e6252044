#include "catalyst/admin/http_server.h"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include "catalyst/admin/http_server_impl.h"
#include "catalyst/admin/http_session.h"
#include "catalyst/common/assert.h"

namespace catalyst::admin {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// After a failed accept (e.g. EMFILE) the next one waits this long, so a full file table does
// not spin the control thread.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

std::string hostPort(std::string_view address, uint16_t port) {
  if (address.find(':') != std::string_view::npos) {
    return fmt::format("[{}]:{}", address, port);
  }
  return fmt::format("{}:{}", address, port);
}

} // namespace

HttpServerImpl::HttpServerImpl(event::DispatcherImpl& dispatcher, Logger& logger,
                               HttpServerOptions options)
    : dispatcher_(dispatcher), logger_(logger), options_(std::move(options)),
      acceptor_(dispatcher.ioContext()), accept_retry_timer_(dispatcher.ioContext()) {}

void HttpServerImpl::addRoute(HttpMethod method, std::string path, HttpHandler handler) {
  CATALYST_ASSERT(handler, "a route has a handler");
  addAsyncRoute(
      method, std::move(path),
      [handler = std::move(handler)](const HttpRequest& request, const HttpResponder& respond) {
        respond(handler(request));
      });
}

void HttpServerImpl::addAsyncRoute(HttpMethod method, std::string path, AsyncHttpHandler handler) {
  CATALYST_ASSERT(dispatcher_.isThreadSafe(), "routes are added on the dispatcher's thread");
  CATALYST_ASSERT(!path.empty() && path.front() == '/', "route paths start with '/'");
  CATALYST_ASSERT(method != HttpMethod::Other, "routes name a method");
  CATALYST_ASSERT(handler, "a route has a handler");
  auto& handlers = routes_[std::move(path)].handlers;
  if (handlers.contains(method)) {
    CATALYST_BUG("a route is added twice; the later one wins");
  }
  handlers[method] = std::move(handler);
}

void HttpServerImpl::addUpgradeRoute(std::string path, UpgradeHandler handler) {
  CATALYST_ASSERT(dispatcher_.isThreadSafe(), "routes are added on the dispatcher's thread");
  CATALYST_ASSERT(!path.empty() && path.front() == '/', "route paths start with '/'");
  CATALYST_ASSERT(handler, "an upgrade route has a handler");
  auto& routes = routes_[std::move(path)];
  if (routes.upgrade) {
    CATALYST_BUG("an upgrade route is added twice; the later one wins");
  }
  routes.upgrade = std::move(handler);
}

const PathRoutes* HttpServerImpl::findRoutes(std::string_view path) const {
  auto it = routes_.find(std::string(path));
  return it == routes_.end() ? nullptr : &it->second;
}

Status HttpServerImpl::listen() {
  CATALYST_ASSERT(dispatcher_.isThreadSafe(), "listen() runs on the dispatcher's thread");
  const std::string where = hostPort(options_.address, options_.port);
  if (stopped_) {
    return unavailable(fmt::format("listen {}: the server was stopped", where));
  }
  if (listening_) {
    return alreadyExists(fmt::format("listen {}: already listening", where));
  }
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(options_.address, ec);
  if (ec) {
    return invalidArgument(
        fmt::format("listen {}: '{}' is not an IP address", where, options_.address));
  }
  const tcp::endpoint endpoint(address, options_.port);
  auto failed = [&](const char* step) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return unavailable(fmt::format("listen {}: {}{}", where, step, ec.message()));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) {
    return failed("socket: ");
  }
  // Lets a restarted node bind while connections of its predecessor sit in TIME_WAIT; a port
  // another process listens on still fails with EADDRINUSE.
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) {
    return failed("setsockopt: ");
  }
  acceptor_.bind(endpoint, ec);
  if (ec) {
    return failed("");
  }
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return failed("");
  }
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) {
    return failed("getsockname: ");
  }
  listening_ = true;
  logger_.info("http: listening address={} port={}", options_.address, port_);
  doAccept();
  return {};
}

void HttpServerImpl::doAccept() {
  acceptor_.async_accept(
      dispatcher_.ioContext(),
      [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
        self->onAccept(ec, std::move(socket));
      });
}

void HttpServerImpl::onAccept(const boost::system::error_code& ec, tcp::socket socket) {
  if (stopped_ || ec == net::error::operation_aborted) {
    return;
  }
  if (ec) {
    logger_.warn("http: accept failed: {}; retrying in {}ms", ec.message(),
                 kAcceptRetryDelay.count());
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code& wait_ec) {
          if (!wait_ec && !self->stopped_) {
            self->doAccept();
          }
        });
    return;
  }
  ++stats_.connections_accepted;
  if (sessions_.size() >= options_.limits.max_connections) {
    ++stats_.rejected_connections;
    logger_.debug("http: connection refused: {} connections open (limit)", sessions_.size());
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    std::make_shared<HttpSession>(shared_from_this(), std::move(socket))->start();
  }
  doAccept();
}

void HttpServerImpl::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_timer_.cancel();
  // close() only cancels: the completions run later, so sessions_ does not change here.
  for (HttpSession* session : sessions_) {
    session->close();
  }
  if (listening_) {
    logger_.info("http: stopped port={} connections_closed={}", port_, sessions_.size());
  }
}

HttpServerStats HttpServerImpl::stats() const {
  CATALYST_ASSERT(dispatcher_.isThreadSafe(), "stats are read on the dispatcher's thread");
  HttpServerStats stats = stats_;
  stats.connections_active = sessions_.size();
  return stats;
}

HttpServer::HttpServer(event::Dispatcher& dispatcher, Logger& logger, HttpServerOptions options)
    : impl_(std::make_shared<HttpServerImpl>(event::asImpl(dispatcher), logger,
                                             std::move(options))) {}

// No thread check: a server may also be destroyed after its dispatcher's loop has ended.
HttpServer::~HttpServer() { impl_->stop(); }

void HttpServer::addRoute(HttpMethod method, std::string path, HttpHandler handler) {
  impl_->addRoute(method, std::move(path), std::move(handler));
}

void HttpServer::addAsyncRoute(HttpMethod method, std::string path, AsyncHttpHandler handler) {
  impl_->addAsyncRoute(method, std::move(path), std::move(handler));
}

Status HttpServer::listen() { return impl_->listen(); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::stop() {
  CATALYST_ASSERT(impl_->dispatcher().isThreadSafe(), "stop() runs on the dispatcher's thread");
  impl_->stop();
}

HttpServerStats HttpServer::stats() const { return impl_->stats(); }

} // namespace catalyst::admin
