#include "catalyst/dataplane/udp_flow.h"

#include <cerrno>
#include <system_error>

#include <sys/epoll.h>
#include <sys/socket.h>

#include "catalyst/dataplane/udp_listener.h"

namespace catalyst::dataplane {
namespace {

// Datagrams read per readiness wake-up before the socket yields to the rest of the worker.
constexpr int kReadsPerWakeup = 64;
// Datagrams held while the target's name is resolved; more are dropped.
constexpr std::size_t kMaxPending = 16;

} // namespace

UdpFlow::UdpFlow(Worker& worker, UdpListener& listener, RouteEntryConstSharedPtr entry,
                 SocketAddress client)
    : worker_(worker), listener_(listener), entry_(std::move(entry)), client_(client),
      last_active_(std::chrono::steady_clock::now()) {
  entry_->counters->addActive(1);
}

UdpFlow::~UdpFlow() { close(); }

void UdpFlow::start(std::span<const char> datagram) {
  if (entry_->target_address) {
    connectTo(*entry_->target_address);
    send(datagram);
    return;
  }
  pending_.emplace_back(datagram.data(), datagram.size());
  alive_ = std::make_shared<char>();
  const Target& target = *entry_->target;
  worker_.shared().resolver.resolve(
      target.host, target.port, SOCK_DGRAM, worker_.loop(),
      [this, alive = std::weak_ptr<char>(alive_)](Resolution resolution) {
        if (!alive.expired()) {
          onResolved(std::move(resolution));
        }
      });
}

void UdpFlow::onResolved(Resolution resolution) {
  if (closed_) {
    return;
  }
  if (resolution.addresses.empty()) {
    entry_->counters->addError(ErrorReason::Connect);
    worker_.logger().debug("data plane: route {}: cannot resolve {}: {}", entry_->route.key.name,
                           entry_->target->host, resolution.error);
    listener_.flowFailed(client_);
    return;
  }
  connectTo(resolution.addresses.front());
  std::vector<std::string> pending = std::move(pending_);
  for (const std::string& held : pending) {
    send({held.data(), held.size()});
  }
}

void UdpFlow::connectTo(const SocketAddress& target) {
  upstream_.reset(::socket(target.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  std::error_code ec;
  if (!upstream_.valid() || ::connect(upstream_.get(), target.get(), target.size()) != 0) {
    ec = {errno, std::system_category()};
  } else {
    ec = worker_.loop().add(upstream_.get(), EPOLLIN | EPOLLET, this);
  }
  if (ec) {
    upstream_.reset();
    entry_->counters->addError(ErrorReason::Connect);
    worker_.logger().debug("data plane: route {}: cannot reach {}: {}", entry_->route.key.name,
                           target.hostString(), ec.message());
    listener_.flowFailed(client_);
    return;
  }
  ready_ = true;
}

void UdpFlow::send(std::span<const char> datagram) {
  if (closed_) {
    return;
  }
  last_active_ = std::chrono::steady_clock::now();
  if (!ready_) {
    if (pending_.size() < kMaxPending) {
      pending_.emplace_back(datagram.data(), datagram.size());
    }
    return;
  }
  ssize_t n = ::send(upstream_.get(), datagram.data(), datagram.size(), 0);
  if (n < 0 && errno == ECONNREFUSED) {
    // An ICMP error of an earlier datagram surfaced here; this one may go through.
    n = ::send(upstream_.get(), datagram.data(), datagram.size(), 0);
  }
  if (n >= 0) {
    entry_->counters->addBytesIn(static_cast<std::size_t>(n));
  }
}

void UdpFlow::onEvents(uint32_t /*events*/) {
  if (!closed_) {
    onReadable();
  }
}

void UdpFlow::onReadable() {
  const std::span<char> buffer = worker_.scratch();
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    if (closed_) {
      return;
    }
    const ssize_t n = ::recv(upstream_.get(), buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN) {
        return; // empty: the next datagram brings an event
      }
      continue; // ECONNREFUSED: the target has no socket on its port (yet); keep the flow
    }
    last_active_ = std::chrono::steady_clock::now();
    listener_.sendToClient(client_, {buffer.data(), static_cast<std::size_t>(n)},
                           *entry_->counters);
  }
  // Not empty yet, and edge-triggered: go on after the other sockets of the worker had a turn.
  // The flow is destroyed by a task deferred after this one (UdpListener::retire).
  if (!yield_pending_) {
    yield_pending_ = true;
    worker_.loop().defer([this] {
      yield_pending_ = false;
      if (!closed_) {
        onReadable();
      }
    });
  }
}

void UdpFlow::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  alive_.reset();
  upstream_.reset();
  entry_->counters->addActive(-1);
}

} // namespace catalyst::dataplane
