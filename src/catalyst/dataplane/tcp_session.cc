#include "catalyst/dataplane/tcp_session.h"

#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace catalyst::dataplane {
namespace {

// Bytes moved per splice(2) call: the default pipe capacity.
constexpr std::size_t kSpliceChunk = 64 * 1024;
// System calls per direction and turn before it yields to the other connections of the worker.
constexpr int kTurns = 16;
// The buffer of a direction in copy mode.
constexpr std::size_t kCopyBuffer = 32 * 1024;
// What a relayed socket waits for, once and for all.
constexpr uint32_t kSocketEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

void closeFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

std::string errorText(int error) { return std::system_category().message(error); }

// send(2) without SIGPIPE, again when interrupted.
ssize_t sendSome(int fd, const char* data, std::size_t size) {
  while (true) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n >= 0 || errno != EINTR) {
      return n;
    }
  }
}

} // namespace

TcpSession::TcpSession(Worker& worker, RouteEntryConstSharedPtr entry, Fd client, uint64_t id)
    : worker_(worker), entry_(std::move(entry)), id_(id) {
  client_.fd = std::move(client);
  entry_->counters->addActive(1);
  up_.from = &client_;
  up_.to = &upstream_;
  up_.to_upstream = true;
  down_.from = &upstream_;
  down_.to = &client_;
}

TcpSession::~TcpSession() {
  closePipes();
  entry_->counters->addActive(-1);
}

void TcpSession::closePipes() {
  for (Direction* d : {&up_, &down_}) {
    closeFd(d->pipe[0]);
    closeFd(d->pipe[1]);
  }
}

void TcpSession::start() {
  if (closed_) {
    return;
  }
  // The client's socket has TCP_NODELAY from the listening socket (Linux passes it on), and is
  // non-blocking (accept4). Writable until a write says otherwise.
  if (const std::error_code ec = worker_.loop().add(client_.fd.get(), kSocketEvents, &client_)) {
    worker_.logger().warn("data plane: route {}: cannot watch connection {}: {}",
                          entry_->route.key.name, id_, ec.message());
    close();
    return;
  }
  client_.writable = true;
  worker_.watchConnect(entry_->instance, id_);
  if (entry_->target_address) {
    addresses_.push_back(*entry_->target_address);
    connectNext();
    return;
  }
  const Target& target = *entry_->target;
  worker_.shared().resolver.resolve(target.host, target.port, SOCK_STREAM, worker_.loop(),
                                    [this, alive = aliveToken()](Resolution resolution) {
                                      if (!alive.expired()) {
                                        onResolved(std::move(resolution));
                                      }
                                    });
}

void TcpSession::onResolved(Resolution resolution) {
  if (closed_) {
    return;
  }
  if (resolution.addresses.empty()) {
    connectFailed(fmt::format("cannot resolve: {}", resolution.error));
    return;
  }
  addresses_ = std::move(resolution.addresses);
  connectNext();
}

void TcpSession::connectNext() {
  while (next_address_ < addresses_.size()) {
    const SocketAddress& address = addresses_[next_address_++];
    upstream_.fd.reset(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    upstream_.readable = false;
    upstream_.writable = false;
    upstream_.peer_closed = false;
    if (!upstream_.fd.valid()) {
      last_error_ = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(upstream_.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(upstream_.fd.get(), address.get(), address.size()) != 0 && errno != EINPROGRESS) {
      last_error_ = errno;
      upstream_.fd.reset();
      continue;
    }
    // Connected (or failed) is told by the first event: EPOLLOUT, or EPOLLERR.
    if (const std::error_code ec =
            worker_.loop().add(upstream_.fd.get(), kSocketEvents, &upstream_)) {
      last_error_ = ec.value();
      upstream_.fd.reset();
      continue;
    }
    return;
  }
  connectFailed(errorText(last_error_ != 0 ? last_error_ : EHOSTUNREACH));
}

void TcpSession::connectDeadline() {
  if (closed_ || connected_) {
    return;
  }
  timed_out_ = true;
  connectFailed(errorText(ETIMEDOUT));
}

void TcpSession::connectFailed(std::string_view why) {
  entry_->counters->addError(ErrorReason::Connect);
  const control::fx::DataPlaneRoute& route = entry_->route;
  if (worker_.mayWarnConnectFailure()) {
    worker_.logger().warn("data plane: route {} (origin {}): cannot connect to {}: {}",
                          route.key.name, route.key.origin_node, entry_->target->toString(), why);
  } else {
    worker_.logger().debug("data plane: route {} (origin {}): cannot connect to {}: {}",
                           route.key.name, route.key.origin_node, entry_->target->toString(), why);
  }
  close();
}

void TcpSession::onEvents(Socket& socket, uint32_t events) {
  if (closed_) {
    return;
  }
  if (socket.upstream && !connected_) {
    if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
      int error = 0;
      socklen_t size = sizeof(error);
      ::getsockopt(upstream_.fd.get(), SOL_SOCKET, SO_ERROR, &error, &size);
      last_error_ = error != 0 ? error : ECONNREFUSED;
      upstream_.fd.reset();
      connectNext(); // the target's next address, if any
      return;
    }
    if ((events & EPOLLOUT) == 0) {
      return;
    }
    connected_ = true;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    socket.readable = true;
  }
  if ((events & (EPOLLRDHUP | EPOLLHUP)) != 0) {
    socket.peer_closed = true;
  }
  if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
    socket.writable = true;
  }
  if (!connected_) {
    return; // the client's events are kept until the target is reached
  }
  pump(up_);
  if (!closed_) {
    pump(down_);
  }
}

void TcpSession::pump(Direction& d) {
  if (d.done) {
    return;
  }
  if (d.splice) {
    pumpSplice(d);
  } else {
    pumpCopy(d);
  }
}

// Every direction starts by copying: a short exchange (a request, a reply, a handshake) costs
// one read and one write, and no pipes are made. Reads go to the worker's scratch buffer and are
// written at once; only what the destination cannot take yet is copied aside, into a buffer of
// the direction made the first time that happens, so an idle connection holds no buffer. A read
// that fills the whole buffer means bulk data is flowing; once it is written the direction moves
// to splice (HAProxy's "splice-auto" idea).
void TcpSession::pumpCopy(Direction& d) {
  for (int turn = 0; turn < kTurns; ++turn) {
    if (d.begin < d.end) {
      if (!d.to->writable) {
        return;
      }
      const ssize_t n = sendSome(d.to->fd.get(), d.held.get() + d.begin, d.end - d.begin);
      if (n < 0) {
        if (errno == EAGAIN) {
          d.to->writable = false;
          return;
        }
        fail(d, errno);
        return;
      }
      counted(d, static_cast<std::size_t>(n));
      d.begin += static_cast<std::size_t>(n);
      if (d.begin < d.end) {
        d.to->writable = false; // the socket's buffer is full: wait for EPOLLOUT
        return;
      }
      d.begin = d.end = 0;
      if (d.last_read_full && startSplice(d)) {
        pumpSplice(d);
        return;
      }
      continue;
    }
    if (d.eof) {
      endOfStream(d);
      return;
    }
    if (!d.from->readable) {
      return;
    }
    const std::span<char> scratch = worker_.scratch().first(kCopyBuffer);
    const ssize_t n = ::recv(d.from->fd.get(), scratch.data(), scratch.size(), 0);
    if (n == 0) {
      d.eof = true;
      continue;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        d.from->readable = false;
        return;
      }
      fail(d, errno);
      return;
    }
    const auto got = static_cast<std::size_t>(n);
    d.last_read_full = got == scratch.size();
    // Short: the socket is empty now; more data (or its end) brings a new event. Unless the
    // peer has closed already: its end of stream is read next.
    if (!d.last_read_full && !d.from->peer_closed) {
      d.from->readable = false;
    }
    std::size_t written = 0;
    if (d.to->writable) {
      const ssize_t w = sendSome(d.to->fd.get(), scratch.data(), got);
      if (w < 0 && errno != EAGAIN) {
        fail(d, errno);
        return;
      }
      written = w > 0 ? static_cast<std::size_t>(w) : 0;
      counted(d, written);
    }
    if (written < got) {
      d.to->writable = false; // wait for EPOLLOUT with the rest set aside
      if (!d.held) {
        d.held = std::make_unique_for_overwrite<char[]>(kCopyBuffer);
      }
      std::memcpy(d.held.get(), scratch.data() + written, got - written);
      d.begin = 0;
      d.end = got - written;
      return;
    }
    if (d.last_read_full && startSplice(d)) {
      pumpSplice(d);
      return;
    }
  }
  yield(d);
}

bool TcpSession::startSplice(Direction& d) {
  if (!worker_.options().use_splice || ::pipe2(d.pipe.data(), O_NONBLOCK | O_CLOEXEC) != 0) {
    return false;
  }
  d.splice = true;
  d.held.reset();
  entry_->counters->addSpliced();
  return true;
}

// socket -> pipe -> socket, until the source would block, the destination would block, the
// stream ends, or kTurns calls have run (yield). The pipe is emptied before more is read, so a
// read never fails for a full pipe.
void TcpSession::pumpSplice(Direction& d) {
  for (int turn = 0; turn < kTurns; ++turn) {
    if (d.in_pipe > 0) {
      if (!d.to->writable) {
        return;
      }
      const ssize_t n = ::splice(d.pipe[0], nullptr, d.to->fd.get(), nullptr, d.in_pipe,
                                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        d.in_pipe -= static_cast<std::size_t>(n);
        counted(d, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno == EAGAIN) {
        d.to->writable = false;
        return;
      }
      fail(d, n == 0 ? EPIPE : errno);
      return;
    }
    if (!d.from->readable) {
      return;
    }
    const ssize_t n = ::splice(d.from->fd.get(), nullptr, d.pipe[1], nullptr, kSpliceChunk,
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
      d.from->readable = false;
      return;
    }
    if (errno == EINVAL || errno == ENOSYS) {
      // This kernel cannot splice these descriptors; nothing is in the pipe yet: copy instead.
      d.splice = false;
      closeFd(d.pipe[0]);
      closeFd(d.pipe[1]);
      pumpCopy(d);
      return;
    }
    fail(d, errno);
    return;
  }
  yield(d);
}

std::weak_ptr<char> TcpSession::aliveToken() {
  if (!alive_) {
    alive_ = std::make_shared<char>();
  }
  return alive_;
}

void TcpSession::yield(Direction& d) {
  if (d.yield_pending) {
    return;
  }
  d.yield_pending = true;
  worker_.loop().defer([this, &d, alive = aliveToken()] {
    if (alive.expired()) {
      return;
    }
    d.yield_pending = false;
    if (!closed_) {
      pump(d);
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
  ::shutdown(d.to->fd.get(), SHUT_WR);
}

void TcpSession::fail(const Direction& d, int error) {
  worker_.logger().debug(
      "data plane: route {}: connection {} ends ({}): {}", entry_->route.key.name, id_,
      d.to_upstream ? "client to upstream" : "upstream to client", errorText(error));
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
  client_.fd.reset();
  upstream_.fd.reset();
  closePipes();
  worker_.sessionEnded(entry_->instance, id_);
}

} // namespace catalyst::dataplane
