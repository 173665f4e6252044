#pragma once

#include <cstddef>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "catalyst/dataplane/worker.h"

namespace catalyst::dataplane {

// The TCP listener of one route, on the route's home worker.
//
// One acceptor per route, handing connections to the least loaded worker (itself unless another
// has at least two open connections fewer), rather than an
// SO_REUSEPORT acceptor per worker: a route's port is bound exactly once, so a port that another
// process (or another node on this host) holds fails the bind instead of being silently shared
// with it, a closed listener refuses new connections at once with no accept queue left behind in
// a sibling socket, and a table of many routes costs one descriptor per route, not one per route
// and worker. The price is one post per connection handed to another worker.
class TcpListener final : public Listener, public std::enable_shared_from_this<TcpListener> {
public:
  TcpListener(Worker& worker, RouteEntryConstSharedPtr entry);

  boost::system::error_code open() override;
  uint16_t port() const override { return port_; }
  const RouteEntryConstSharedPtr& entry() const override { return entry_; }
  void setEntry(RouteEntryConstSharedPtr entry) override { entry_ = std::move(entry); }
  void close() override;

private:
  void accept();
  void onAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket client,
                Worker& target);

  Worker& worker_;
  RouteEntryConstSharedPtr entry_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  uint16_t port_ = 0;
  bool closed_ = false;
};

} // namespace catalyst::dataplane
