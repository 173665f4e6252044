#include "catalyst/transport/connect.h"

#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <fmt/format.h>

namespace catalyst::transport {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// One resolve-then-connect; alive while one of its operations is pending.
class ConnectOp : public std::enable_shared_from_this<ConnectOp> {
public:
  ConnectOp(beast::tcp_stream& stream, Url url, std::chrono::milliseconds timeout,
            std::function<void(Status)> done)
      : stream_(stream), url_(std::move(url)), timeout_(timeout),
        deadline_(std::chrono::steady_clock::now() + timeout), done_(std::move(done)),
        resolver_(stream.get_executor()), resolve_timer_(stream.get_executor()) {}

  void start() {
    boost::system::error_code ec;
    const net::ip::address address = net::ip::make_address(url_.host, ec);
    if (!ec) {
      connect({tcp::endpoint(address, url_.port)});
      return;
    }
    // The resolver has no deadline of its own.
    resolve_timer_.expires_at(deadline_);
    resolve_timer_.async_wait(
        [self = shared_from_this()](const boost::system::error_code& wait_ec) {
          if (!wait_ec) {
            self->resolve_timed_out_ = true;
            self->resolver_.cancel();
          }
        });
    resolver_.async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this()](const boost::system::error_code& resolve_ec,
                                    const tcp::resolver::results_type& results) {
          self->onResolve(resolve_ec, results);
        });
  }

private:
  void onResolve(const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
    resolve_timer_.cancel();
    if (resolve_timed_out_) {
      finish(unavailable(
          fmt::format("resolve {}: timed out after {}ms", url_.host, timeout_.count())));
      return;
    }
    if (ec) {
      finish(unavailable(fmt::format("resolve {}: {}", url_.host, ec.message())));
      return;
    }
    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : results) {
      endpoints.push_back(entry.endpoint());
    }
    connect(std::move(endpoints));
  }

  void connect(std::vector<tcp::endpoint> endpoints) {
    endpoints_ = std::move(endpoints);
    stream_.expires_at(deadline_);
    stream_.async_connect(
        endpoints_, [self = shared_from_this()](const beast::error_code& ec, const tcp::endpoint&) {
          self->onConnect(ec);
        });
  }

  void onConnect(const beast::error_code& ec) {
    stream_.expires_never();
    if (ec == beast::error::timeout) {
      finish(unavailable(
          fmt::format("connect {}: timed out after {}ms", url_.hostPort(), timeout_.count())));
      return;
    }
    if (ec) {
      finish(unavailable(fmt::format("connect {}: {}", url_.hostPort(), ec.message())));
      return;
    }
    beast::error_code ignored;
    // Cap'n Web messages are small and latency-bound: no Nagle.
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    finish({});
  }

  void finish(Status status) {
    auto done = std::move(done_);
    done(std::move(status));
  }

  beast::tcp_stream& stream_;
  const Url url_;
  const std::chrono::milliseconds timeout_;
  const std::chrono::steady_clock::time_point deadline_;
  std::function<void(Status)> done_;
  tcp::resolver resolver_;
  net::steady_timer resolve_timer_;
  std::vector<tcp::endpoint> endpoints_;
  bool resolve_timed_out_ = false;
};

} // namespace

void asyncConnect(beast::tcp_stream& stream, const Url& url, std::chrono::milliseconds timeout,
                  std::function<void(Status)> done) {
  std::make_shared<ConnectOp>(stream, url, timeout, std::move(done))->start();
}

} // namespace catalyst::transport
