#include "socket_test_util.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace catalyst::dataplane::testing {
namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API takes sockaddr*.
int bindTo(int fd, uint16_t port) {
  const sockaddr_in addr = loopback(port);
  return ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
}

uint16_t localPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}
// NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)

// Waits until `fd` is readable; false at the deadline.
bool waitReadable(int fd, Clock::time_point deadline) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n > 0) {
      return true;
    }
    if (n < 0 && errno != EINTR) {
      return false;
    }
  }
}

} // namespace

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    // A pause between checks of state another thread changes, not a wait for it.
    ::poll(nullptr, 0, 1);
  }
  return true;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

// ---------------------------------------------------------------------------------------------

TcpEchoServer::TcpEchoServer() {
  listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_.valid() || bindTo(listener_.get(), 0) != 0 ||
      ::listen(listener_.get(), 128) != 0) {
    throw std::runtime_error(std::string("echo server: ") + std::strerror(errno));
  }
  port_ = localPort(listener_.get());
  acceptor_ = std::thread([this] { acceptLoop(); });
}

TcpEchoServer::~TcpEchoServer() { stop(); }

void TcpEchoServer::stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  ::shutdown(listener_.get(), SHUT_RDWR); // wakes the blocked accept
  acceptor_.join();
  {
    const std::lock_guard lock(mutex_);
    for (int fd : open_) {
      ::shutdown(fd, SHUT_RDWR); // wakes the blocked reads
    }
  }
  for (auto& t : connections_) {
    t.join();
  }
  listener_.reset();
}

void TcpEchoServer::acceptLoop() {
  while (!stopping_) {
    const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      return;
    }
    if (stopping_) {
      ::close(fd);
      return;
    }
    ++accepted_;
    const std::lock_guard lock(mutex_);
    open_.push_back(fd);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void TcpEchoServer::serve(int fd) {
  std::array<char, 65536> buffer{};
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    if (!sendAll(fd, std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
      break;
    }
  }
  ::shutdown(fd, SHUT_WR);
  // Wait for the other side to close too, so the close below sends no reset.
  pollfd p{fd, POLLIN, 0};
  ::poll(&p, 1, 2000);
  const std::lock_guard lock(mutex_);
  open_.erase(std::remove(open_.begin(), open_.end(), fd), open_.end());
  ::close(fd);
}

// ---------------------------------------------------------------------------------------------

UdpEchoServer::UdpEchoServer() {
  socket_ = udpSocket();
  port_ = localPort(socket_.get());
  thread_ = std::thread([this] { loop(); });
}

UdpEchoServer::~UdpEchoServer() {
  stopping_ = true;
  thread_.join();
}

std::size_t UdpEchoServer::sources() const {
  const std::lock_guard lock(mutex_);
  return sources_.size();
}

void UdpEchoServer::loop() {
  std::array<char, 65536> buffer{};
  while (!stopping_) {
    if (!waitReadable(socket_.get(), Clock::now() + std::chrono::milliseconds(50))) {
      continue;
    }
    sockaddr_in from{};
    socklen_t len = sizeof from;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    auto* from_addr = reinterpret_cast<sockaddr*>(&from);
    const ssize_t n = ::recvfrom(socket_.get(), buffer.data(), buffer.size(), 0, from_addr, &len);
    if (n < 0) {
      continue;
    }
    {
      std::array<char, INET_ADDRSTRLEN> ip{};
      ::inet_ntop(AF_INET, &from.sin_addr, ip.data(), ip.size());
      const std::string source =
          std::string(ip.data()) + ":" + std::to_string(ntohs(from.sin_port));
      const std::lock_guard lock(mutex_);
      if (std::find(sources_.begin(), sources_.end(), source) == sources_.end()) {
        sources_.push_back(source);
      }
    }
    ::sendto(socket_.get(), buffer.data(), static_cast<std::size_t>(n), 0, from_addr, len);
  }
}

// ---------------------------------------------------------------------------------------------

std::optional<Fd> tcpConnect(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in addr = loopback(port);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return std::nullopt;
  }
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool refused(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in addr = loopback(port);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
         errno == ECONNREFUSED;
}

bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string readN(int fd, std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string out;
  std::array<char, 65536> buffer{};
  while (out.size() < n && waitReadable(fd, deadline)) {
    const ssize_t got = ::read(fd, buffer.data(), std::min(buffer.size(), n - out.size()));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;
    }
    out.append(buffer.data(), static_cast<std::size_t>(got));
  }
  return out;
}

bool readsEnd(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::array<char, 4096> buffer{};
  while (waitReadable(fd, deadline)) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      return true;
    }
  }
  return false;
}

std::string roundTrip(int fd, std::string_view data) {
  if (!sendAll(fd, data)) {
    return "<send failed>";
  }
  return readN(fd, data.size());
}

uint16_t freePort() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  bindTo(fd.get(), 0);
  return localPort(fd.get());
}

Fd listenOn(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (bindTo(fd.get(), port) != 0 || ::listen(fd.get(), 16) != 0) {
    throw std::runtime_error(std::string("listenOn: ") + std::strerror(errno));
  }
  return fd;
}

Fd udpSocket() {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid() || bindTo(fd.get(), 0) != 0) {
    throw std::runtime_error(std::string("udpSocket: ") + std::strerror(errno));
  }
  return fd;
}

bool udpSend(int fd, uint16_t port, std::string_view data) {
  const sockaddr_in addr = loopback(port);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  return ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&addr),
                  sizeof addr) == static_cast<ssize_t>(data.size());
}

std::optional<std::string> udpReceive(int fd, std::chrono::milliseconds timeout) {
  if (!waitReadable(fd, Clock::now() + timeout)) {
    return std::nullopt;
  }
  std::array<char, 65536> buffer{};
  const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
  if (n < 0) {
    return std::nullopt;
  }
  return std::string(buffer.data(), static_cast<std::size_t>(n));
}

std::string randomBytes(std::size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) {
    c = static_cast<char>(rng() & 0xff);
  }
  return out;
}

} // namespace catalyst::dataplane::testing
