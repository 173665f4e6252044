#include "catalyst/dataplane/udp_listener.h"

#include <algorithm>
#include <functional>
#include <string_view>

namespace catalyst::dataplane {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using boost::system::error_code;

// Datagrams read per readiness wake-up before the socket yields to the rest of the worker.
constexpr int kReadsPerWakeup = 64;

// How often idle flows are looked for: a quarter of the idle timeout, within [5 ms, 1 s].
std::chrono::milliseconds sweepInterval(std::chrono::milliseconds idle) {
  return std::clamp(idle / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
}

} // namespace

std::size_t UdpEndpointHash::operator()(const udp::endpoint& endpoint) const noexcept {
  const asio::ip::address& address = endpoint.address();
  std::size_t h = std::hash<uint16_t>{}(endpoint.port());
  auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  if (address.is_v4()) {
    mix(address.to_v4().to_uint());
  } else {
    const auto bytes = address.to_v6().to_bytes();
    mix(std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())));
    mix(address.to_v6().scope_id());
  }
  return h;
}

// ---------------------------------------------------------------------------------------------

UdpListener::UdpListener(Worker& worker, RouteEntryConstSharedPtr entry)
    : worker_(worker), entry_(std::move(entry)), socket_(worker.ioContext()),
      sweep_timer_(worker.ioContext()) {}

error_code UdpListener::open() {
  const udp::endpoint endpoint(worker_.shared().bind_address,
                               entry_->route.listen_port.value_or(0));
  error_code ec;
  // No SO_REUSEADDR: on UDP it would let two sockets share the port, hiding a conflict.
  if (socket_.open(endpoint.protocol(), ec); ec) {
    return ec;
  }
  if (socket_.bind(endpoint, ec); ec) {
    socket_.close();
    return ec;
  }
  if (socket_.non_blocking(true, ec); ec) {
    socket_.close();
    return ec;
  }
  port_ = socket_.local_endpoint(ec).port();
  waitReadable();
  return {};
}

void UdpListener::waitReadable() {
  socket_.async_wait(asio::socket_base::wait_read,
                     [self = shared_from_this()](const error_code& ec) {
                       if (!ec && !self->closed_) {
                         self->onReadable();
                       }
                     });
}

void UdpListener::onReadable() {
  const std::span<char> buffer = worker_.datagramBuffer();
  for (int i = 0; i < kReadsPerWakeup && !closed_; ++i) {
    udp::endpoint client;
    error_code ec;
    const std::size_t n =
        socket_.receive_from(asio::buffer(buffer.data(), buffer.size()), client, 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      break;
    }
    if (ec) {
      continue; // e.g. ECONNREFUSED left by an ICMP error of an earlier reply
    }
    onDatagram(client, {buffer.data(), n});
  }
  if (!closed_) {
    waitReadable();
  }
}

void UdpListener::onDatagram(const udp::endpoint& client, std::span<const char> datagram) {
  if (auto it = flows_.find(client); it != flows_.end()) {
    // The flow keeps the target it started with; a new target is for new flows.
    std::shared_ptr<UdpFlow> flow = it->second;
    flow->send(datagram);
    return;
  }
  if (flows_.size() >= worker_.options().max_udp_flows_per_route) {
    entry_->counters->addError(ErrorReason::UdpFlowLimit);
    return;
  }
  auto flow = std::make_shared<UdpFlow>(worker_, *this, entry_, client);
  flows_.emplace(client, flow);
  entry_->counters->addConnection();
  armSweep();
  flow->start(datagram);
}

void UdpListener::sendToClient(const udp::endpoint& client, std::span<const char> datagram,
                               RouteCounters& counters) {
  if (closed_) {
    return;
  }
  error_code ec;
  const std::size_t n =
      socket_.send_to(asio::buffer(datagram.data(), datagram.size()), client, 0, ec);
  if (!ec) {
    counters.addBytesOut(n);
  }
}

void UdpListener::flowFailed(const udp::endpoint& client) {
  if (auto it = flows_.find(client); it != flows_.end()) {
    const std::shared_ptr<UdpFlow> flow = it->second; // outlives the erase
    flows_.erase(it);
    flow->close();
  }
}

void UdpListener::armSweep() {
  if (sweep_armed_ || closed_) {
    return;
  }
  sweep_armed_ = true;
  sweep_timer_.expires_after(sweepInterval(worker_.options().udp_idle_timeout));
  sweep_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    self->sweep_armed_ = false;
    if (!ec && !self->closed_) {
      self->sweep();
    }
  });
}

void UdpListener::sweep() {
  const auto now = std::chrono::steady_clock::now();
  const auto idle = worker_.options().udp_idle_timeout;
  for (auto it = flows_.begin(); it != flows_.end();) {
    if (now - it->second->lastActive() >= idle) {
      it->second->close();
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
  error_code ignored;
  socket_.close(ignored);
  sweep_timer_.cancel();
  for (auto& [client, flow] : flows_) {
    flow->close();
  }
  flows_.clear();
}

} // namespace catalyst::dataplane
