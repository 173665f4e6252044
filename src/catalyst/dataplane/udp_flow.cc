#include "catalyst/dataplane/udp_flow.h"

#include <boost/asio/ip/udp.hpp>

#include "catalyst/dataplane/udp_listener.h"

namespace catalyst::dataplane {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using boost::system::error_code;

// Datagrams read per readiness wake-up before the socket yields to the rest of the worker.
constexpr int kReadsPerWakeup = 64;
// Datagrams held while the target's name is resolved; more are dropped.
constexpr std::size_t kMaxPending = 16;

} // namespace

UdpFlow::UdpFlow(Worker& worker, UdpListener& listener, RouteEntryConstSharedPtr entry,
                 udp::endpoint client)
    : worker_(worker), listener_(listener), entry_(std::move(entry)), client_(std::move(client)),
      upstream_(worker.ioContext()), resolver_(worker.ioContext()),
      last_active_(std::chrono::steady_clock::now()) {
  entry_->counters->addActive(1);
}

UdpFlow::~UdpFlow() { close(); }

void UdpFlow::start(std::span<const char> datagram) {
  const Target& target = *entry_->target;
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(target.host, ec);
  if (!ec) {
    connectTo(udp::endpoint(address, target.port));
    send(datagram);
    return;
  }
  pending_.emplace_back(datagram.data(), datagram.size());
  resolver_.async_resolve(target.host, std::to_string(target.port),
                          [self = shared_from_this()](const error_code& resolve_ec,
                                                      const udp::resolver::results_type& results) {
                            if (self->closed_) {
                              return;
                            }
                            if (resolve_ec || results.empty()) {
                              self->entry_->counters->addError(ErrorReason::Connect);
                              self->worker_.logger().debug(
                                  "data plane: route {}: cannot resolve {}: {}",
                                  self->entry_->route.key.name, self->entry_->target->host,
                                  resolve_ec.message());
                              self->listener_.flowFailed(self->client_);
                              return;
                            }
                            self->connectTo(*results.begin());
                            std::vector<std::string> pending = std::move(self->pending_);
                            for (const std::string& held : pending) {
                              self->send({held.data(), held.size()});
                            }
                          });
}

void UdpFlow::connectTo(const udp::endpoint& target) {
  error_code ec;
  upstream_.open(target.protocol(), ec);
  if (!ec) {
    upstream_.connect(target, ec);
  }
  if (!ec) {
    upstream_.non_blocking(true, ec);
  }
  if (ec) {
    entry_->counters->addError(ErrorReason::Connect);
    worker_.logger().debug("data plane: route {}: cannot reach {}: {}", entry_->route.key.name,
                           target.address().to_string(), ec.message());
    listener_.flowFailed(client_);
    return;
  }
  ready_ = true;
  waitReadable();
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
  error_code ec;
  const std::size_t n = upstream_.send(asio::buffer(datagram.data(), datagram.size()), 0, ec);
  if (ec == asio::error::connection_refused) {
    // An ICMP error of an earlier datagram surfaced here; this one may go through.
    ec.clear();
    const std::size_t again = upstream_.send(asio::buffer(datagram.data(), datagram.size()), 0, ec);
    if (!ec) {
      entry_->counters->addBytesIn(again);
    }
    return;
  }
  if (!ec) {
    entry_->counters->addBytesIn(n);
  }
}

void UdpFlow::waitReadable() {
  upstream_.async_wait(asio::socket_base::wait_read,
                       [self = shared_from_this()](const error_code& ec) {
                         if (!ec && !self->closed_) {
                           self->onReadable();
                         }
                       });
}

void UdpFlow::onReadable() {
  const std::span<char> buffer = worker_.datagramBuffer();
  for (int i = 0; i < kReadsPerWakeup && !closed_; ++i) {
    error_code ec;
    const std::size_t n = upstream_.receive(asio::buffer(buffer.data(), buffer.size()), 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      break;
    }
    if (ec) {
      continue; // ECONNREFUSED: the target has no socket on its port (yet); keep the flow
    }
    last_active_ = std::chrono::steady_clock::now();
    listener_.sendToClient(client_, {buffer.data(), n}, *entry_->counters);
  }
  if (!closed_) {
    waitReadable();
  }
}

void UdpFlow::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  error_code ignored;
  resolver_.cancel();
  upstream_.close(ignored);
  entry_->counters->addActive(-1);
}

} // namespace catalyst::dataplane
