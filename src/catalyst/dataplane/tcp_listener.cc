#include "catalyst/dataplane/tcp_listener.h"

#include <chrono>

#include <boost/asio/post.hpp>

namespace catalyst::dataplane {
namespace {

// After a failed accept (out of descriptors, say), wait this long before the next one, so the
// loop does not spin while the condition lasts.
constexpr std::chrono::milliseconds kAcceptRetry{50};

} // namespace

TcpListener::TcpListener(Worker& worker, RouteEntryConstSharedPtr entry)
    : worker_(worker), entry_(std::move(entry)), acceptor_(worker.ioContext()),
      retry_(worker.ioContext()) {}

boost::system::error_code TcpListener::open() {
  namespace ip = boost::asio::ip;
  const ip::tcp::endpoint endpoint(worker_.shared().bind_address,
                                   entry_->route.listen_port.value_or(0));
  boost::system::error_code ec;
  if (acceptor_.open(endpoint.protocol(), ec); ec) {
    return ec;
  }
  // Lets a port in TIME_WAIT (a listener just moved or removed) be bound again; a port another
  // socket listens on still fails.
  if (acceptor_.set_option(ip::tcp::acceptor::reuse_address(true), ec); ec) {
    return ec;
  }
  // Accepted sockets inherit it (Linux): one setsockopt per route, not per connection.
  if (acceptor_.set_option(ip::tcp::no_delay(true), ec); ec) {
    return ec;
  }
  if (acceptor_.bind(endpoint, ec); ec) {
    acceptor_.close();
    return ec;
  }
  if (acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec); ec) {
    acceptor_.close();
    return ec;
  }
  port_ = acceptor_.local_endpoint(ec).port();
  accept();
  return {};
}

void TcpListener::accept() {
  // This worker, unless another one has at least two open connections fewer: the next
  // connection is chosen for before it arrives (the socket is created in the chosen worker's
  // io_context), when the one just accepted may still be open here; a client that connects
  // again and again thus stays on this thread (no cross-thread hand-off, no wake-up), and many
  // connections at once spread over the workers.
  Worker* least = &worker_;
  for (Worker* w : worker_.shared().workers) {
    if (w->load() < least->load()) {
      least = w;
    }
  }
  if (least->load() + 1 >= worker_.load()) {
    least = &worker_;
  }
  Worker& target = *least;
  // The accepted socket belongs to the target worker's io_context from the start; it is handed
  // over by a post and used only on that worker's thread.
  acceptor_.async_accept(target.ioContext(),
                         [self = shared_from_this(), &target](const boost::system::error_code& ec,
                                                              boost::asio::ip::tcp::socket client) {
                           self->onAccept(ec, std::move(client), target);
                         });
}

void TcpListener::onAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket client,
                           Worker& target) {
  if (closed_ || ec == boost::asio::error::operation_aborted) {
    return;
  }
  if (ec) {
    entry_->counters->addError(ErrorReason::Accept);
    worker_.logger().warn("data plane: route {} (origin {}): accept failed: {}",
                          entry_->route.key.name, entry_->route.key.origin_node, ec.message());
    retry_.expires_after(kAcceptRetry);
    retry_.async_wait([self = shared_from_this()](const boost::system::error_code& wait_ec) {
      if (!wait_ec && !self->closed_) {
        self->accept();
      }
    });
    return;
  }
  entry_->counters->addConnection();
  target.addLoad();
  if (&target == &worker_) {
    worker_.adopt(entry_, std::move(client));
  } else {
    boost::asio::post(target.ioContext(),
                      [&target, entry = entry_, client = std::move(client)]() mutable {
                        target.adopt(std::move(entry), std::move(client));
                      });
  }
  accept();
}

void TcpListener::close() {
  closed_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
}

} // namespace catalyst::dataplane
