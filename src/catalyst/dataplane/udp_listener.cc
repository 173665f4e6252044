#include "catalyst/dataplane/udp_listener.h"

#include <algorithm>
#include <cerrno>

#include <sys/epoll.h>
#include <sys/socket.h>

namespace catalyst::dataplane {
namespace {

// Datagrams read per readiness wake-up before the socket yields to the rest of the worker.
constexpr int kReadsPerWakeup = 64;

// How often idle flows are looked for: a quarter of the idle timeout, within [5 ms, 1 s].
std::chrono::milliseconds sweepInterval(std::chrono::milliseconds idle) {
  return std::clamp(idle / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
}

std::error_code lastError() { return {errno, std::system_category()}; }

} // namespace

UdpListener::UdpListener(Worker& worker, RouteEntryConstSharedPtr entry)
    : worker_(worker), entry_(std::move(entry)), sweep_timer_(worker.loop()) {}

UdpListener::~UdpListener() { close(); }

std::error_code UdpListener::open() {
  SocketAddress address = worker_.shared().bind_address;
  address.setPort(entry_->route.listen_port.value_or(0));
  // No SO_REUSEADDR: on UDP it would let two sockets share the port, hiding a conflict.
  socket_.reset(::socket(address.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket_.valid()) {
    return lastError();
  }
  sockaddr_storage bound{};
  socklen_t size = sizeof(bound);
  if (::bind(socket_.get(), address.get(), address.size()) != 0 ||
      ::getsockname(socket_.get(), reinterpret_cast<sockaddr*>(&bound), &size) != 0) {
    const std::error_code ec = lastError();
    socket_.reset();
    return ec;
  }
  port_ = SocketAddress(reinterpret_cast<sockaddr*>(&bound), size).port();
  if (const std::error_code ec = worker_.loop().add(socket_.get(), EPOLLIN | EPOLLET, this)) {
    socket_.reset();
    return ec;
  }
  return {};
}

void UdpListener::onEvents(uint32_t /*events*/) {
  if (!closed_) {
    onReadable();
  }
}

void UdpListener::onReadable() {
  const std::span<char> buffer = worker_.scratch();
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    if (closed_) {
      return;
    }
    sockaddr_storage from{};
    socklen_t size = sizeof(from);
    const ssize_t n = ::recvfrom(socket_.get(), buffer.data(), buffer.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &size);
    if (n < 0) {
      if (errno == EAGAIN) {
        return; // empty: the next datagram brings an event
      }
      continue; // e.g. ECONNREFUSED left by an ICMP error of an earlier reply, or EINTR
    }
    onDatagram(SocketAddress(reinterpret_cast<sockaddr*>(&from), size),
               {buffer.data(), static_cast<std::size_t>(n)});
  }
  // Not empty yet, and edge-triggered: go on after the other sockets of the worker had a turn.
  // The listener is destroyed by a task deferred after this one (Worker::closeListener).
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

void UdpListener::onDatagram(const SocketAddress& client, std::span<const char> datagram) {
  if (auto it = flows_.find(client); it != flows_.end()) {
    // The flow keeps the target it started with; a new target is for new flows.
    it->second->send(datagram);
    return;
  }
  if (flows_.size() >= worker_.options().max_udp_flows_per_route) {
    entry_->counters->addError(ErrorReason::UdpFlowLimit);
    return;
  }
  auto owned = std::make_unique<UdpFlow>(worker_, *this, entry_, client);
  UdpFlow& flow = *owned;
  flows_.emplace(client, std::move(owned));
  entry_->counters->addConnection();
  armSweep();
  flow.start(datagram);
}

void UdpListener::sendToClient(const SocketAddress& client, std::span<const char> datagram,
                               RouteCounters& counters) {
  if (closed_) {
    return;
  }
  const ssize_t n =
      ::sendto(socket_.get(), datagram.data(), datagram.size(), 0, client.get(), client.size());
  if (n >= 0) {
    counters.addBytesOut(static_cast<std::size_t>(n));
  }
}

void UdpListener::retire(std::unique_ptr<UdpFlow> flow) {
  flow->close();
  worker_.loop().defer([flow = std::move(flow)] {});
}

void UdpListener::flowFailed(const SocketAddress& client) {
  if (auto it = flows_.find(client); it != flows_.end()) {
    std::unique_ptr<UdpFlow> flow = std::move(it->second);
    flows_.erase(it);
    retire(std::move(flow)); // the caller may be the flow itself
  }
}

void UdpListener::armSweep() {
  if (sweep_timer_.armed() || closed_) {
    return;
  }
  sweep_timer_.after(sweepInterval(worker_.options().udp_idle_timeout), [this] {
    if (!closed_) {
      sweep();
    }
  });
}

void UdpListener::sweep() {
  const auto now = std::chrono::steady_clock::now();
  const auto idle = worker_.options().udp_idle_timeout;
  for (auto it = flows_.begin(); it != flows_.end();) {
    if (now - it->second->lastActive() >= idle) {
      retire(std::move(it->second));
      it = flows_.erase(it);
    } else {
      ++it;
    }
  }
  if (!flows_.empty()) {
    armSweep();
  }
}

void UdpListener::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  socket_.reset();
  sweep_timer_.cancel();
  for (auto& [client, flow] : flows_) {
    retire(std::move(flow));
  }
  flows_.clear();
}

} // namespace catalyst::dataplane
