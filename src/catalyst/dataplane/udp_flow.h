#pragma once

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "catalyst/dataplane/worker.h"

namespace catalyst::dataplane {

class UdpListener;

// One client of a UDP route: its upstream socket, connected to the target.
class UdpFlow : public std::enable_shared_from_this<UdpFlow> {
public:
  // `listener` outlives the flow's open state: it closes its flows before it goes.
  UdpFlow(Worker& worker, UdpListener& listener, RouteEntryConstSharedPtr entry,
          boost::asio::ip::udp::endpoint client);
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
  void connectTo(const boost::asio::ip::udp::endpoint& target);
  void waitReadable();
  void onReadable();

  Worker& worker_;
  UdpListener& listener_;
  RouteEntryConstSharedPtr entry_;
  boost::asio::ip::udp::endpoint client_;
  boost::asio::ip::udp::socket upstream_;
  boost::asio::ip::udp::resolver resolver_;
  std::vector<std::string> pending_; // datagrams held while the target is being resolved
  std::chrono::steady_clock::time_point last_active_;
  bool ready_ = false;
  bool closed_ = false;
};

} // namespace catalyst::dataplane
