#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "catalyst/dataplane/event_loop.h"
#include "catalyst/dataplane/resolver.h"
#include "catalyst/dataplane/socket_address.h"
#include "catalyst/dataplane/worker.h"

namespace catalyst::dataplane {

class UdpListener;

// One client of a UDP route: its upstream socket, connected to the target. Owned by its
// listener, which closes it before letting it go.
class UdpFlow final : private EventLoop::Handler {
public:
  UdpFlow(Worker& worker, UdpListener& listener, RouteEntryConstSharedPtr entry,
          SocketAddress client);
  ~UdpFlow();
  UdpFlow(const UdpFlow&) = delete;
  UdpFlow& operator=(const UdpFlow&) = delete;
  UdpFlow(UdpFlow&&) = delete;
  UdpFlow& operator=(UdpFlow&&) = delete;

  // Opens the upstream socket (resolving the target first when it is a name) and sends
  // `datagram`, the flow's first.
  void start(std::span<const char> datagram);
  // A datagram from the client.
  void send(std::span<const char> datagram);
  void close();

  std::chrono::steady_clock::time_point lastActive() const { return last_active_; }

private:
  void onEvents(uint32_t events) override;
  void onResolved(Resolution resolution);
  void connectTo(const SocketAddress& target);
  void onReadable();

  Worker& worker_;
  UdpListener& listener_;
  RouteEntryConstSharedPtr entry_;
  SocketAddress client_;
  Fd upstream_;
  std::vector<std::string> pending_; // datagrams held while the target is being resolved
  std::chrono::steady_clock::time_point last_active_;
  bool ready_ = false;
  bool closed_ = false;
  bool yield_pending_ = false;
  // Held by a resolution's answer, which may come after the flow is gone.
  std::shared_ptr<char> alive_;
};

} // namespace catalyst::dataplane
