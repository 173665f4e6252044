#include "catalyst/dataplane/tcp_session.h"

#include <cerrno>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <fcntl.h>
#include <unistd.h>

namespace catalyst::dataplane {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// Bytes moved per splice(2) call: the default pipe capacity.
constexpr std::size_t kSpliceChunk = 64 * 1024;
// splice calls per direction before it yields to the other connections of the worker.
constexpr int kSpliceTurns = 16;
// The buffer of a direction in copy mode.
constexpr std::size_t kCopyBuffer = 32 * 1024;

error_code lastError() { return {errno, boost::system::system_category()}; }

void closeFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

} // namespace

TcpSession::TcpSession(Worker& worker, RouteEntryConstSharedPtr entry, asio::ip::tcp::socket client,
                       uint64_t id)
    : worker_(worker), entry_(std::move(entry)), id_(id), client_(std::move(client)),
      upstream_(worker.ioContext()), resolver_(worker.ioContext()) {
  entry_->counters->addActive(1);
  up_.from = &client_;
  up_.to = &upstream_;
  up_.to_upstream = true;
  down_.from = &upstream_;
  down_.to = &client_;
}

TcpSession::~TcpSession() {
  for (Direction* d : {&up_, &down_}) {
    closeFd(d->pipe[0]);
    closeFd(d->pipe[1]);
  }
  entry_->counters->addActive(-1);
  worker_.sessionEnded(entry_->instance, id_);
}

void TcpSession::start() {
  if (closed_) {
    return;
  }
  // The client's socket has TCP_NODELAY from the listening socket (Linux passes it on).
  connect();
}

void TcpSession::connectDeadline() {
  if (closed_ || connected_) {
    return;
  }
  timed_out_ = true;
  resolver_.cancel();
  error_code ignored;
  upstream_.close(ignored); // the pending connect completes with operation_aborted
}

void TcpSession::connect() {
  worker_.watchConnect(weak_from_this());
  const Target& target = *entry_->target;
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(target.host, ec);
  if (!ec) {
    upstream_.async_connect(asio::ip::tcp::endpoint(address, target.port),
                            [self = shared_from_this()](const error_code& connect_ec) {
                              self->onConnected(connect_ec);
                            });
    return;
  }
  resolver_.async_resolve(
      target.host, std::to_string(target.port),
      [self = shared_from_this()](const error_code& resolve_ec,
                                  const asio::ip::tcp::resolver::results_type& results) {
        if (self->closed_) {
          return;
        }
        if (resolve_ec) {
          self->connectFailed(self->timed_out_ ? asio::error::timed_out : resolve_ec);
          return;
        }
        asio::async_connect(self->upstream_, results,
                            [self](const error_code& connect_ec, const asio::ip::tcp::endpoint&) {
                              self->onConnected(connect_ec);
                            });
      });
}

void TcpSession::onConnected(const error_code& ec) {
  if (closed_) {
    return;
  }
  if (ec) {
    connectFailed(timed_out_ ? asio::error::timed_out : ec);
    return;
  }
  connected_ = true;
  relay();
}

void TcpSession::connectFailed(const error_code& ec) {
  entry_->counters->addError(ErrorReason::Connect);
  const control::fx::DataPlaneRoute& route = entry_->route;
  if (worker_.mayWarnConnectFailure()) {
    worker_.logger().warn("data plane: route {} (origin {}): cannot connect to {}: {}",
                          route.key.name, route.key.origin_node, entry_->target->toString(),
                          ec.message());
  } else {
    worker_.logger().debug("data plane: route {} (origin {}): cannot connect to {}: {}",
                           route.key.name, route.key.origin_node, entry_->target->toString(),
                           ec.message());
  }
  close();
}

void TcpSession::relay() {
  error_code ignored;
  upstream_.set_option(asio::ip::tcp::no_delay(true), ignored);
  startDirection(up_);
  startDirection(down_);
}

// Every direction starts by copying: a short exchange (a request, a reply, a handshake) costs
// one read and one write, and no pipes are made. A read that fills the whole buffer means bulk
// data is flowing; the direction then moves to splice (HAProxy's "splice-auto" idea).
void TcpSession::startDirection(Direction& d) {
  d.buffer = std::make_unique<char[]>(kCopyBuffer);
  copyRead(d);
}

bool TcpSession::startSplice(Direction& d) {
  if (!worker_.options().use_splice || ::pipe2(d.pipe.data(), O_NONBLOCK | O_CLOEXEC) != 0) {
    return false;
  }
  // splice(2) is called directly on the descriptors: they must not block. Asio's own
  // asynchronous operations (the other direction may be copying) work either way.
  error_code ec;
  d.from->non_blocking(true, ec);
  if (!ec) {
    d.to->non_blocking(true, ec);
  }
  if (ec) {
    closeFd(d.pipe[0]);
    closeFd(d.pipe[1]);
    return false;
  }
  d.splice = true;
  d.buffer.reset();
  entry_->counters->addSpliced();
  return true;
}

void TcpSession::copyRead(Direction& d) {
  d.from->async_read_some(asio::buffer(d.buffer.get(), kCopyBuffer),
                          [self = shared_from_this(), &d](const error_code& ec, std::size_t n) {
                            if (self->closed_) {
                              return;
                            }
                            if (ec == asio::error::eof) {
                              self->endOfStream(d);
                              return;
                            }
                            if (ec) {
                              self->fail(d, ec);
                              return;
                            }
                            asio::async_write(
                                *d.to, asio::buffer(d.buffer.get(), n),
                                [self, &d](const error_code& write_ec, std::size_t written) {
                                  if (self->closed_) {
                                    return;
                                  }
                                  self->counted(d, written);
                                  if (write_ec) {
                                    self->fail(d, write_ec);
                                    return;
                                  }
                                  if (written == kCopyBuffer && self->startSplice(d)) {
                                    self->pumpSplice(d);
                                    return;
                                  }
                                  self->copyRead(d);
                                });
                          });
}

void TcpSession::spliceWhenReady(Direction& d, asio::ip::tcp::socket& socket,
                                 asio::socket_base::wait_type wait) {
  socket.async_wait(wait, [self = shared_from_this(), &d](const error_code& ec) {
    if (self->closed_) {
      return;
    }
    if (ec) {
      self->fail(d, ec);
      return;
    }
    self->pumpSplice(d);
  });
}

// socket -> pipe -> socket, until the source would block (wait until readable), the destination
// would block (wait until writable), the stream ends, or kSpliceTurns calls have run (yield).
// The pipe is emptied before more is read, so a read never fails for a full pipe.
void TcpSession::pumpSplice(Direction& d) {
  const int from = d.from->native_handle();
  const int to = d.to->native_handle();
  for (int turn = 0; turn < kSpliceTurns; ++turn) {
    if (d.in_pipe > 0) {
      const ssize_t n =
          ::splice(d.pipe[0], nullptr, to, nullptr, d.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        d.in_pipe -= static_cast<std::size_t>(n);
        counted(d, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno == EAGAIN) {
        spliceWhenReady(d, *d.to, asio::socket_base::wait_write);
        return;
      }
      fail(d, n == 0 ? asio::error::broken_pipe : lastError());
      return;
    }
    const ssize_t n = ::splice(from, nullptr, d.pipe[1], nullptr, kSpliceChunk,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      d.in_pipe = static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) {
      endOfStream(d);
      return;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      spliceWhenReady(d, *d.from, asio::socket_base::wait_read);
      return;
    }
    if (errno == EINVAL || errno == ENOSYS) {
      // This kernel cannot splice these descriptors; nothing is in the pipe yet: copy instead.
      d.splice = false;
      closeFd(d.pipe[0]);
      closeFd(d.pipe[1]);
      startDirection(d);
      return;
    }
    fail(d, lastError());
    return;
  }
  asio::post(worker_.ioContext(), [self = shared_from_this(), &d] {
    if (!self->closed_) {
      self->pumpSplice(d);
    }
  });
}

void TcpSession::endOfStream(Direction& d) {
  d.done = true;
  if (up_.done && down_.done) {
    // Both ends have sent their end of stream and everything they sent was read: closing sends
    // the last FIN itself (no reset: nothing is left unread), one system call fewer.
    close();
    return;
  }
  error_code ignored;
  d.to->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

void TcpSession::fail(const Direction& d, const error_code& ec) {
  worker_.logger().debug("data plane: route {}: connection {} ends ({}): {}",
                         entry_->route.key.name, id_,
                         d.to_upstream ? "client to upstream" : "upstream to client", ec.message());
  close();
}

void TcpSession::counted(const Direction& d, std::size_t n) {
  if (d.to_upstream) {
    entry_->counters->addBytesIn(n);
  } else {
    entry_->counters->addBytesOut(n);
  }
}

void TcpSession::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  error_code ignored;
  resolver_.cancel();
  client_.close(ignored);
  upstream_.close(ignored);
}

} // namespace catalyst::dataplane
