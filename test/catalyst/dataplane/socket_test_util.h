#pragma once

// Plain blocking sockets on 127.0.0.1 for the data-plane tests: echo servers on threads of their
// own, and client helpers that wait with deadlines (poll(2)), never with sleeps.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace catalyst::dataplane::testing {

using Clock = std::chrono::steady_clock;

// Waits until `condition` holds, checking every millisecond or so; false when `timeout` passed.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

// An owned file descriptor.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset(other.release());
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

private:
  int fd_ = -1;
};

// A TCP server on 127.0.0.1 that echoes what each connection sends and passes an end of stream
// on (shutdown(SHUT_WR)); one thread per connection.
class TcpEchoServer {
public:
  TcpEchoServer();
  ~TcpEchoServer();
  TcpEchoServer(const TcpEchoServer&) = delete;
  TcpEchoServer& operator=(const TcpEchoServer&) = delete;
  TcpEchoServer(TcpEchoServer&&) = delete;
  TcpEchoServer& operator=(TcpEchoServer&&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  // Closes the listener and every connection.
  void stop();

private:
  void acceptLoop();
  void serve(int fd);

  Fd listener_;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> open_; // guarded by mutex_
  std::vector<std::thread> connections_;
};

// A UDP server on 127.0.0.1 that sends every datagram back to its sender.
class UdpEchoServer {
public:
  UdpEchoServer();
  ~UdpEchoServer();
  UdpEchoServer(const UdpEchoServer&) = delete;
  UdpEchoServer& operator=(const UdpEchoServer&) = delete;
  UdpEchoServer(UdpEchoServer&&) = delete;
  UdpEchoServer& operator=(UdpEchoServer&&) = delete;

  uint16_t port() const { return port_; }
  // Distinct source addresses (ip:port) seen so far.
  std::size_t sources() const;

private:
  void loop();

  Fd socket_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> sources_; // guarded by mutex_
  std::thread thread_;
};

// A blocking TCP connect to 127.0.0.1:port; nullopt when refused (or failed otherwise).
std::optional<Fd> tcpConnect(uint16_t port);
// True when a connection to 127.0.0.1:port is refused now.
bool refused(uint16_t port);
// Sends all of `data` (MSG_NOSIGNAL); false on error.
bool sendAll(int fd, std::string_view data);
// Reads exactly `n` bytes, or what came before the end of stream, an error or the deadline.
std::string readN(int fd, std::size_t n,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
// True when the peer ended the stream (read returns 0) or reset it, before the deadline.
bool readsEnd(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Sends `data` and reads its echo back.
std::string roundTrip(int fd, std::string_view data);
// A port that was free a moment ago (bound to 0, then closed).
uint16_t freePort();
// A TCP socket listening on 127.0.0.1:port (to hold a port).
Fd listenOn(uint16_t port);

// A UDP socket bound to 127.0.0.1:0.
Fd udpSocket();
bool udpSend(int fd, uint16_t port, std::string_view data);
// The next datagram, or nullopt at the deadline.
std::optional<std::string> udpReceive(int fd,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

// `n` pseudo-random bytes from `seed`.
std::string randomBytes(std::size_t n, uint32_t seed);

} // namespace catalyst::dataplane::testing
