#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <unordered_map>

#include "catalyst/dataplane/event_loop.h"
#include "catalyst/dataplane/socket_address.h"
#include "catalyst/dataplane/udp_flow.h"
#include "catalyst/dataplane/worker.h"

namespace catalyst::dataplane {

// The UDP socket of one route, on the route's home worker, and its flows: one per client
// address, each with its own socket connected to the target, so replies find their client.
// Flows idle for options().udp_idle_timeout end; at most options().max_udp_flows_per_route live
// at once. Datagrams that cannot be sent at once (a full socket buffer) are dropped, as UDP may.
//
// Sockets are edge-triggered and read until EAGAIN into the worker's one datagram buffer, so a
// flow costs a socket and no buffer of its own.
class UdpListener final : public Listener, private EventLoop::Handler {
public:
  UdpListener(Worker& worker, RouteEntryConstSharedPtr entry);
  ~UdpListener() override;
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;
  UdpListener(UdpListener&&) = delete;
  UdpListener& operator=(UdpListener&&) = delete;

  std::error_code open() override;
  uint16_t port() const override { return port_; }
  const RouteEntryConstSharedPtr& entry() const override { return entry_; }
  void setEntry(RouteEntryConstSharedPtr entry) override { entry_ = std::move(entry); }
  void close() override;

  // For the flows: a reply to their client, sent from the route's port.
  void sendToClient(const SocketAddress& client, std::span<const char> datagram,
                    RouteCounters& counters);
  // A flow failed (its target could not be resolved or reached): it leaves the table.
  void flowFailed(const SocketAddress& client);

private:
  void onEvents(uint32_t events) override;
  void onReadable();
  void onDatagram(const SocketAddress& client, std::span<const char> datagram);
  // Ends `flow` and lets it go once the current turn's events are handled.
  void retire(std::unique_ptr<UdpFlow> flow);
  void armSweep();
  void sweep();

  Worker& worker_;
  RouteEntryConstSharedPtr entry_;
  Fd socket_;
  Timer sweep_timer_;
  uint16_t port_ = 0;
  bool closed_ = false;
  bool yield_pending_ = false;
  std::unordered_map<SocketAddress, std::unique_ptr<UdpFlow>, SocketAddressHash> flows_;
};

} // namespace catalyst::dataplane
