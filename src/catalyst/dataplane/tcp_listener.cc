#include "catalyst/dataplane/tcp_listener.h"

#include <cerrno>
#include <chrono>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

namespace catalyst::dataplane {
namespace {

// After a failed accept (out of descriptors, say), the socket is not watched for this long, so
// the loop does not spin while the condition lasts (it is level-triggered).
constexpr std::chrono::milliseconds kAcceptRetry{50};

constexpr uint32_t kAcceptEvents = EPOLLIN | EPOLLEXCLUSIVE;

std::error_code lastError() { return {errno, std::system_category()}; }

} // namespace

TcpAcceptor::TcpAcceptor(Worker& worker, ListenSocketSharedPtr socket)
    : worker_(worker), socket_(std::move(socket)), retry_(worker.loop()) {}

TcpAcceptor::~TcpAcceptor() { unwatch(); }

std::error_code TcpAcceptor::watch() {
  if (const std::error_code ec = worker_.loop().add(socket_->fd.get(), kAcceptEvents, this)) {
    return ec;
  }
  watching_ = true;
  return {};
}

void TcpAcceptor::unwatch() {
  retry_.cancel();
  if (watching_) {
    worker_.loop().remove(socket_->fd.get());
    watching_ = false;
  }
}

void TcpAcceptor::onEvents(uint32_t events) {
  if (!watching_) {
    return;
  }
  Fd client(::accept4(socket_->fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (client.valid()) {
    RouteEntryConstSharedPtr entry = socket_->entry();
    entry->counters->addConnection();
    worker_.accepted(std::move(entry), std::move(client));
    return;
  }
  const int error = errno;
  if ((events & (EPOLLHUP | EPOLLERR)) != 0 || error == EINVAL) {
    // The listener was closed (shut down) by its home worker; the word to let it go is on its
    // way. Until then, a closed socket would be reported again and again.
    unwatch();
    return;
  }
  if (error == EAGAIN || error == EINTR || error == ECONNABORTED || error == EPROTO) {
    return; // another worker took it, or a connection that went before it was taken
  }
  const RouteEntryConstSharedPtr entry = socket_->entry();
  entry->counters->addError(ErrorReason::Accept);
  worker_.logger().warn("data plane: route {} (origin {}): accept failed: {}",
                        entry->route.key.name, entry->route.key.origin_node,
                        std::system_category().message(error));
  // Level-triggered: while out of descriptors the socket stays readable, so this worker does
  // not watch it until the retry (the others may still take connections).
  unwatch();
  retry_.after(kAcceptRetry, [this] {
    if (const std::error_code ec = watch()) {
      worker_.logger().error("data plane: cannot watch a listener again: {}", ec.message());
    }
  });
}

// ---------------------------------------------------------------------------------------------

TcpListener::TcpListener(Worker& worker, RouteEntryConstSharedPtr entry)
    : worker_(worker), entry_(std::move(entry)) {}

TcpListener::~TcpListener() { close(); }

std::error_code TcpListener::open() {
  SocketAddress address = worker_.shared().bind_address;
  address.setPort(entry_->route.listen_port.value_or(0));
  Fd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return lastError();
  }
  const int one = 1;
  // Lets a port in TIME_WAIT (a listener just moved or removed) be bound again; a port another
  // socket listens on still fails. TCP_NODELAY: accepted sockets inherit it (Linux), one
  // setsockopt per route rather than per connection.
  sockaddr_storage bound{};
  socklen_t size = sizeof(bound);
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
      ::bind(fd.get(), address.get(), address.size()) != 0 || ::listen(fd.get(), SOMAXCONN) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &size) != 0) {
    return lastError();
  }
  port_ = SocketAddress(reinterpret_cast<sockaddr*>(&bound), size).port();
  auto socket = std::make_shared<ListenSocket>();
  socket->fd = std::move(fd);
  socket->setEntry(entry_);
  if (const std::error_code ec = worker_.addAcceptor(socket)) {
    return ec;
  }
  for (Worker* other : worker_.shared().workers) {
    if (other != &worker_) {
      other->postTask([other, socket] {
        if (const std::error_code ec = other->addAcceptor(socket)) {
          other->logger().error("data plane: worker {} cannot watch a listener: {}", other->index(),
                                ec.message());
        }
      });
    }
  }
  socket_ = std::move(socket);
  return {};
}

void TcpListener::setEntry(RouteEntryConstSharedPtr entry) {
  entry_ = std::move(entry);
  if (socket_) {
    socket_->setEntry(entry_);
  }
}

void TcpListener::close() {
  if (!socket_) {
    return;
  }
  // A listening socket that is shut down stops listening: connections not yet accepted are
  // reset, new ones refused. The descriptor itself closes once every worker has let it go.
  ::shutdown(socket_->fd.get(), SHUT_RDWR);
  const ListenSocket* key = socket_.get();
  worker_.removeAcceptor(key);
  for (Worker* other : worker_.shared().workers) {
    if (other != &worker_) {
      other->postTask([other, key] { other->removeAcceptor(key); });
    }
  }
  socket_.reset();
}

} // namespace catalyst::dataplane
