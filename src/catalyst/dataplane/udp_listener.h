#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "catalyst/dataplane/udp_flow.h"
#include "catalyst/dataplane/worker.h"

namespace catalyst::dataplane {

struct UdpEndpointHash {
  std::size_t operator()(const boost::asio::ip::udp::endpoint& endpoint) const noexcept;
};

// The UDP socket of one route, on the route's home worker, and its flows: one per client
// address, each with its own socket connected to the target, so replies find their client.
// Flows idle for options().udp_idle_timeout end; at most options().max_udp_flows_per_route live
// at once. Datagrams that cannot be sent at once (a full socket buffer) are dropped, as UDP may.
//
// Sockets wait for readiness and then read into the worker's one datagram buffer, so a flow
// costs a socket and no buffer of its own.
class UdpListener final : public Listener, public std::enable_shared_from_this<UdpListener> {
public:
  UdpListener(Worker& worker, RouteEntryConstSharedPtr entry);

  boost::system::error_code open() override;
  uint16_t port() const override { return port_; }
  const RouteEntryConstSharedPtr& entry() const override { return entry_; }
  void setEntry(RouteEntryConstSharedPtr entry) override { entry_ = std::move(entry); }
  void close() override;

  // For the flows: a reply to their client, sent from the route's port.
  void sendToClient(const boost::asio::ip::udp::endpoint& client, std::span<const char> datagram,
                    RouteCounters& counters);
  // A flow failed (its target could not be resolved): it leaves the table.
  void flowFailed(const boost::asio::ip::udp::endpoint& client);

private:
  void waitReadable();
  void onReadable();
  void onDatagram(const boost::asio::ip::udp::endpoint& client, std::span<const char> datagram);
  void armSweep();
  void sweep();

  Worker& worker_;
  RouteEntryConstSharedPtr entry_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer sweep_timer_;
  bool sweep_armed_ = false;
  uint16_t port_ = 0;
  bool closed_ = false;
  std::unordered_map<boost::asio::ip::udp::endpoint, std::shared_ptr<UdpFlow>, UdpEndpointHash>
      flows_;
};

} // namespace catalyst::dataplane
