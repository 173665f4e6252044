// The embedded data plane end to end (issue 5), through real catalyst-node processes on
// 127.0.0.1: a chain A - B - C where A publishes a service that runs in this test process (an
// HTTP/1.1 server, a TCP echo, a UDP echo, each on a port the kernel chose). A client connects to
// C's port for the route (its `envoyPort` in C's /api/state: C's egress listener), C forwards to
// B's egress port (the next hop B advertised), B to A's ingress port, A to the service. Every
// test polls (with a deadline) until what must happen has happened.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/cluster.h"

namespace catalyst::test {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr seconds kDeadline{20};

// ---- sockets ----------------------------------------------------------------------------------

// An owned file descriptor.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

private:
  int fd_ = -1;
};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

sockaddr* asSockaddr(sockaddr_in& addr) {
  return reinterpret_cast<sockaddr*>(&addr); // NOLINT: the sockets API
}

uint16_t localPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, asSockaddr(addr), &len);
  return ntohs(addr.sin_port);
}

// A socket of `type` bound to 127.0.0.1 on a port the kernel chose (listening, for TCP).
Fd bindLoopback(int type) {
  Fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_in addr = loopback(0);
  if (!fd || ::bind(fd.get(), asSockaddr(addr), sizeof addr) != 0 ||
      (type == SOCK_STREAM && ::listen(fd.get(), 128) != 0)) {
    throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(errno));
  }
  return fd;
}

// A TCP connection to 127.0.0.1:port; on failure an empty Fd, with the reason in `error`.
Fd connectTcp(uint16_t port, int* error = nullptr) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = loopback(port);
  if (::connect(fd.get(), asSockaddr(addr), sizeof addr) != 0) {
    if (error != nullptr) {
      *error = errno;
    }
    return {};
  }
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int msUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 100));
}

// Writes all of `data` before `deadline`.
bool sendAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, msUntil(deadline)) <= 0) {
      continue;
    }
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads until `size` bytes are in `out` (or up to end of stream when `size` is npos), before
// `deadline`. False on a timeout, an error, or an end of stream before `size` bytes.
bool recvInto(int fd, std::string& out, std::size_t size, Clock::time_point deadline) {
  char buf[65536];
  while (out.size() < size) {
    if (Clock::now() >= deadline) {
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, msUntil(deadline)) <= 0) {
      continue;
    }
    const std::size_t want = std::min(sizeof buf, size - out.size());
    const ssize_t n = ::recv(fd, buf, want, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      continue;
    }
    if (n <= 0) {
      return size == std::string::npos && n == 0;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<std::string> recvExactly(int fd, std::size_t size, Clock::time_point deadline) {
  std::string out;
  if (!recvInto(fd, out, size, deadline)) {
    return std::nullopt;
  }
  return out;
}

// Everything until the peer ends the stream; nullopt on a timeout or an error.
std::optional<std::string> recvToEnd(int fd, Clock::time_point deadline) {
  std::string out;
  if (!recvInto(fd, out, std::string::npos, deadline)) {
    return std::nullopt;
  }
  return out;
}

std::string randomBytes(std::size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string out(size, '\0');
  for (char& c : out) {
    c = static_cast<char>(random() & 0xff);
  }
  return out;
}

// Where two byte strings first differ, for failure messages (not a dump of megabytes).
std::string firstDifference(const std::string& got, const std::string& want) {
  const auto [g, w] = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  return fmt::format("got {} bytes, want {}; first difference at byte {}", got.size(), want.size(),
                     g - got.begin());
}

// ---- services published at A --------------------------------------------------------------------

// A TCP server on 127.0.0.1 (a port the kernel chose): a thread accepts, and each connection gets
// a thread running `handler` (which must return at end of stream). Stopping shuts every
// connection down, so handlers blocked in a read return.
class TcpService {
public:
  using Handler = std::function<void(int fd)>;
  explicit TcpService(Handler handler)
      : handler_(std::move(handler)), listener_(bindLoopback(SOCK_STREAM)),
        port_(localPort(listener_.get())), acceptor_([this] { acceptLoop(); }) {}
  ~TcpService() {
    stop_ = true;
    acceptor_.join();
    const std::lock_guard lock(mutex_);
    for (const Fd& fd : connections_) {
      ::shutdown(fd.get(), SHUT_RDWR);
    }
    for (std::thread& t : threads_) {
      t.join();
    }
  }
  TcpService(const TcpService&) = delete;
  TcpService& operator=(const TcpService&) = delete;
  TcpService(TcpService&&) = delete;
  TcpService& operator=(TcpService&&) = delete;

  uint16_t port() const { return port_; }
  std::size_t accepted() const { return accepted_; }

private:
  void acceptLoop() {
    while (!stop_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ++accepted_;
      const std::lock_guard lock(mutex_);
      connections_.emplace_back(fd);
      threads_.emplace_back([this, fd] { handler_(fd); });
    }
  }

  Handler handler_;
  Fd listener_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> accepted_{0};
  std::mutex mutex_;
  std::vector<Fd> connections_; // closed when the service ends (handlers never close them)
  std::vector<std::thread> threads_;
  std::thread acceptor_; // last: starts once everything above exists
};

// Sends back every byte it reads; at end of stream ends its side too.
void echo(int fd) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    if (!sendAll(fd, std::string_view(buf, static_cast<std::size_t>(n)),
                 Clock::now() + seconds(30))) {
      break;
    }
  }
  ::shutdown(fd, SHUT_WR);
}

// The tiny HTTP/1.1 server's answers. GET /hello: a greeting; GET /big: 1 MiB of fixed bytes;
// POST /echo: the request's body. Anything else: 404. Deterministic (no Date), so a test knows
// byte for byte what must arrive.
std::string httpBody(std::string_view method, std::string_view path, const std::string& body) {
  if (method == "GET" && path == "/hello") {
    return "hello from the books service at node A\n";
  }
  if (method == "GET" && path == "/big") {
    return randomBytes(1 << 20, 7);
  }
  if (method == "POST" && path == "/echo") {
    return body;
  }
  return "not found\n";
}

std::string httpResponse(std::string_view method, std::string_view path, const std::string& body,
                         bool close) {
  const std::string out = httpBody(method, path, body);
  const bool found = out != "not found\n";
  return fmt::format("HTTP/1.1 {}\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Length: {}\r\nX-Served-By: dataplane-test\r\n{}\r\n",
                     found ? "200 OK" : "404 Not Found", out.size(),
                     close ? "Connection: close\r\n" : "") +
         out;
}

std::string httpRequest(std::string_view method, std::string_view path, const std::string& body,
                        bool close) {
  return fmt::format("{} {} HTTP/1.1\r\nHost: books.example.local\r\nUser-Agent: dataplane-test\r\n"
                     "Content-Length: {}\r\n{}\r\n",
                     method, path, body.size(), close ? "Connection: close\r\n" : "") +
         body;
}

// An HTTP/1.1 server with keep-alive: reads requests (headers, then Content-Length bytes of
// body) and answers httpResponse(); keeps every request's raw bytes so a test can check what
// arrived.
class HttpService {
public:
  HttpService() : tcp_([this](int fd) { serve(fd); }) {}
  uint16_t port() const { return tcp_.port(); }
  std::string received() const {
    const std::lock_guard lock(mutex_);
    return received_;
  }
  std::size_t requests() const { return requests_; }

private:
  void serve(int fd) {
    std::string buffer;
    for (;;) {
      std::size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!recvInto(fd, buffer, buffer.size() + 1, Clock::now() + seconds(60))) {
          return;
        }
      }
      const std::string head = buffer.substr(0, end + 4);
      const std::size_t sp1 = head.find(' ');
      const std::size_t sp2 = head.find(' ', sp1 + 1);
      const std::string method = head.substr(0, sp1);
      const std::string path = head.substr(sp1 + 1, sp2 - sp1 - 1);
      std::size_t length = 0;
      if (const std::size_t at = head.find("\r\nContent-Length: "); at != std::string::npos) {
        length = std::stoul(head.substr(at + 18));
      }
      const bool close = head.find("\r\nConnection: close\r\n") != std::string::npos;
      if (!recvInto(fd, buffer, end + 4 + length, Clock::now() + seconds(60))) {
        return;
      }
      const std::string body = buffer.substr(end + 4, length);
      {
        const std::lock_guard lock(mutex_);
        received_ += buffer.substr(0, end + 4 + length);
      }
      buffer.erase(0, end + 4 + length);
      ++requests_;
      if (!sendAll(fd, httpResponse(method, path, body, close), Clock::now() + seconds(60))) {
        return;
      }
      if (close) {
        ::shutdown(fd, SHUT_WR);
        return;
      }
    }
  }

  mutable std::mutex mutex_;
  std::string received_;
  std::atomic<std::size_t> requests_{0};
  TcpService tcp_; // last: its threads use the members above
};

// A UDP echo on 127.0.0.1: every datagram goes back to its sender, as is.
class UdpEchoService {
public:
  UdpEchoService()
      : socket_(bindLoopback(SOCK_DGRAM)), port_(localPort(socket_.get())),
        thread_([this] { loop(); }) {}
  ~UdpEchoService() {
    stop_ = true;
    thread_.join();
  }
  UdpEchoService(const UdpEchoService&) = delete;
  UdpEchoService& operator=(const UdpEchoService&) = delete;
  UdpEchoService(UdpEchoService&&) = delete;
  UdpEchoService& operator=(UdpEchoService&&) = delete;

  uint16_t port() const { return port_; }
  std::size_t datagrams() const { return datagrams_; }

private:
  void loop() {
    std::vector<char> buf(65536);
    while (!stop_) {
      pollfd p{socket_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n =
          ::recvfrom(socket_.get(), buf.data(), buf.size(), MSG_DONTWAIT, asSockaddr(from), &len);
      if (n < 0) {
        continue;
      }
      ++datagrams_;
      ::sendto(socket_.get(), buf.data(), static_cast<std::size_t>(n), 0, asSockaddr(from), len);
    }
  }

  Fd socket_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> datagrams_{0};
  std::thread thread_;
};

// ---- clients
// --------------------------------------------------------------------------------------

// One round trip of `message` over an open connection to an echo.
bool echoes(int fd, const std::string& message, seconds timeout = seconds(5)) {
  const auto deadline = Clock::now() + timeout;
  if (!sendAll(fd, message, deadline)) {
    return false;
  }
  const std::optional<std::string> back = recvExactly(fd, message.size(), deadline);
  return back && *back == message;
}

// Whether a new connection to `port` reaches an echo (the whole path is up).
bool reachesEcho(uint16_t port) {
  Fd fd = connectTcp(port);
  return fd && echoes(fd.get(), "ping\n", seconds(1));
}

// Whether a connection to `port` is refused (nothing listens there).
bool refused(uint16_t port) {
  int error = 0;
  Fd fd = connectTcp(port, &error);
  return !fd && error == ECONNREFUSED;
}

// One HTTP exchange on a new connection, closed by the server: the raw response bytes.
std::optional<std::string> httpExchange(uint16_t port, const std::string& request,
                                        seconds timeout = seconds(5)) {
  const auto deadline = Clock::now() + timeout;
  Fd fd = connectTcp(port);
  if (!fd || !sendAll(fd.get(), request, deadline)) {
    return std::nullopt;
  }
  return recvToEnd(fd.get(), deadline);
}

Fd udpClient() {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in any = loopback(0);
  ::bind(fd.get(), asSockaddr(any), sizeof any);
  return fd;
}

// Sends `datagram` to 127.0.0.1:port from `fd` and waits up to `timeout` for one datagram back.
std::optional<std::string> udpRoundTrip(int fd, uint16_t port, const std::string& datagram,
                                        milliseconds timeout) {
  sockaddr_in to = loopback(port);
  if (::sendto(fd, datagram.data(), datagram.size(), 0, asSockaddr(to), sizeof to) !=
      static_cast<ssize_t>(datagram.size())) {
    return std::nullopt;
  }
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
    return std::nullopt;
  }
  std::string buf(65536, '\0');
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
  if (n < 0) {
    return std::nullopt;
  }
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

// Discards datagrams that arrived late (answers to probes that had timed out).
void drainUdp(int fd) {
  char buf[65536];
  while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}

// ---- the tests
// ---------------------------------------------------------------------------------------

class DataPlaneTest : public ::testing::Test {
protected:
  Cluster c{CATALYST_NODE_BINARY};

  static NodeOptions node(std::size_t data_ports = 16) {
    NodeOptions o;
    o.data_ports = data_ports;
    o.log_level = "info";
    return o;
  }

  // A - B - C, started, each with a range of `data_ports` ports.
  void startChain(std::size_t data_ports = 16) {
    c.add("a", node(data_ports));
    c.add("b", node(data_ports));
    c.add("c", node(data_ports));
    c.link("a", "b");
    c.link("b", "c");
    c.startAll();
  }

  // Publishes a route at `at` with the admin API (as `catalyst node route create` does).
  ::testing::AssertionResult publish(const std::string& at, const std::string& name,
                                     const std::string& endpoint, const std::string& protocol) {
    const rpc::Value answer =
        c.admin(at, "getDataChannelClient", "addRoute", routeArg(name, endpoint, protocol));
    if (!succeeded(answer)) {
      return ::testing::AssertionFailure() << "addRoute " << name << ": " << answer.debugString();
    }
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult withdraw(const std::string& at, const std::string& name) {
    const rpc::Value answer =
        c.admin(at, "getDataChannelClient", "removeRoute", rpc::object({{"name", name}}));
    if (!succeeded(answer)) {
      return ::testing::AssertionFailure()
             << "removeRoute " << name << ": " << answer.debugString();
    }
    return ::testing::AssertionSuccess();
  }

  // C's port for the route `name` published at A, once C has learned it with a port.
  std::optional<uint16_t> portAtC(const std::string& name) {
    std::optional<uint16_t> port;
    eventually(
        [&] {
          port = c.egressPort("c", name, Cluster::id("a"));
          return port.has_value();
        },
        kDeadline);
    return port;
  }

  // The "dataplane" section of `node`'s /api/state, for failure messages.
  std::string dataPlaneState(const std::string& name) const {
    const json::value s = c.state(name);
    const json::object* o = s.if_object();
    const json::value* dp = o != nullptr ? o->if_contains("dataplane") : nullptr;
    return dp != nullptr ? json::serialize(*dp) : "(no dataplane section)";
  }

  // The data plane's listener at `name` for the route `route` of `origin`, as /api/state shows
  // it ({name, originNode, kind, protocol, port, target, state, error?, counters}), or null.
  json::value listener(const std::string& name, const std::string& route,
                       const std::string& origin) const {
    const json::value s = c.state(name);
    const json::object* o = s.if_object();
    const json::value* dp = o != nullptr ? o->if_contains("dataplane") : nullptr;
    const json::value* all =
        dp != nullptr && dp->is_object() ? dp->as_object().if_contains("listeners") : nullptr;
    if (all == nullptr || !all->is_array()) {
      return nullptr;
    }
    for (const json::value& l : all->as_array()) {
      if (l.at("name").as_string() == route && l.at("originNode").as_string() == origin) {
        return l;
      }
    }
    return nullptr;
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const char* n : {"a", "b", "c"}) {
        try {
          std::cerr << "---- data plane of " << n << ": " << dataPlaneState(n) << "\n";
          std::cerr << "---- log of " << n << " ----\n" << c.log(n).substr(0, 20000) << "\n";
        } catch (const std::exception&) {
        }
      }
    }
  }
};

TEST_F(DataPlaneTest, HttpServicePublishedAtAIsReachedThroughCByteForByte) {
  HttpService books;
  startChain();
  ASSERT_TRUE(publish("a", "books", fmt::format("http://127.0.0.1:{}", books.port()), "http"));
  const std::optional<uint16_t> at_c = portAtC("books");
  ASSERT_TRUE(at_c) << json::serialize(c.state("c"));
  const std::optional<uint16_t> at_a = c.ingressPort("a", "books");
  ASSERT_TRUE(at_a) << json::serialize(c.state("a"));

  const std::string hello_request = httpRequest("GET", "/hello", "", true);
  const std::string hello = httpResponse("GET", "/hello", "", true);
  // A's ingress (one hop) and C's egress (through B) both answer, once their listeners are up.
  for (const uint16_t port : {*at_a, *at_c}) {
    std::optional<std::string> got;
    EXPECT_TRUE(eventually(
        [&] {
          got = httpExchange(port, hello_request, seconds(2));
          return got.has_value() && *got == hello;
        },
        kDeadline))
        << "port " << port << ": " << got.value_or("(no answer)");
  }

  // Three requests on one kept-alive connection through C: a small GET, a POST of 256 KiB that
  // comes back as the response body, and a 1 MiB GET that ends the connection.
  const std::string before = books.received(); // the polls' requests
  const std::string body = randomBytes(256 << 10, 1);
  const std::vector<std::pair<std::string, std::string>> exchanges = {
      {httpRequest("GET", "/hello", "", false), httpResponse("GET", "/hello", "", false)},
      {httpRequest("POST", "/echo", body, false), httpResponse("POST", "/echo", body, false)},
      {httpRequest("GET", "/big", "", true), httpResponse("GET", "/big", "", true)}};
  Fd fd = connectTcp(*at_c);
  ASSERT_TRUE(fd);
  const auto deadline = Clock::now() + kDeadline;
  std::string sent;
  for (const auto& [request, response] : exchanges) {
    ASSERT_TRUE(sendAll(fd.get(), request, deadline));
    sent += request;
    const std::optional<std::string> got = recvExactly(fd.get(), response.size(), deadline);
    ASSERT_TRUE(got) << "no complete response to " << request.substr(0, request.find('\r'));
    EXPECT_TRUE(*got == response) << firstDifference(*got, response);
  }
  // The server closed after the last one: so does C, with nothing more.
  const std::optional<std::string> rest = recvToEnd(fd.get(), deadline);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->size(), 0u);
  // And the service got exactly what the client sent.
  const std::string after = books.received();
  ASSERT_GE(after.size(), before.size());
  const std::string arrived = after.substr(before.size());
  EXPECT_TRUE(arrived == sent) << firstDifference(arrived, sent);
}

TEST_F(DataPlaneTest, TcpEchoPublishedAtAIsReachedThroughCByteForByte) {
  TcpService echo_service(echo);
  startChain();
  ASSERT_TRUE(publish("a", "echo", fmt::format("tcp://127.0.0.1:{}", echo_service.port()), "tcp"));
  const std::optional<uint16_t> port = portAtC("echo");
  ASSERT_TRUE(port) << json::serialize(c.state("c"));
  ASSERT_TRUE(eventually([&] { return reachesEcho(*port); }, kDeadline));

  // 4 MiB in one connection: written by one thread while this one reads (neither side's buffers
  // could hold it all), then a half close: the echo ends its side, and C ends the client's.
  const std::string payload = randomBytes(4 << 20, 42);
  Fd fd = connectTcp(*port);
  ASSERT_TRUE(fd);
  const auto deadline = Clock::now() + seconds(60);
  std::atomic<bool> sent{false};
  std::thread writer([&] {
    sent = sendAll(fd.get(), payload, deadline);
    ::shutdown(fd.get(), SHUT_WR);
  });
  const std::optional<std::string> back = recvToEnd(fd.get(), deadline);
  writer.join();
  EXPECT_TRUE(sent);
  ASSERT_TRUE(back) << "no end of stream before the deadline";
  EXPECT_TRUE(*back == payload) << firstDifference(*back, payload);

  // Four connections at once, each with its own bytes.
  std::vector<std::thread> clients;
  std::atomic<int> good{0};
  for (uint32_t i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      const std::string mine = randomBytes(512 << 10, 100 + i);
      Fd conn = connectTcp(*port);
      if (!conn) {
        return;
      }
      std::thread w([&] { sendAll(conn.get(), mine, deadline); });
      const std::optional<std::string> got = recvExactly(conn.get(), mine.size(), deadline);
      w.join();
      if (got && *got == mine) {
        ++good;
      }
    });
  }
  for (std::thread& t : clients) {
    t.join();
  }
  EXPECT_EQ(good, 4);

  // The bytes went the way the route tables say: C to B's egress port, B to A's ingress port,
  // A to the service; each hop counted them.
  const std::optional<uint16_t> at_b = c.egressPort("b", "echo", Cluster::id("a"));
  const std::optional<uint16_t> at_a = c.ingressPort("a", "echo");
  ASSERT_TRUE(at_b && at_a);
  const std::vector<std::pair<std::string, std::string>> hops = {
      {"c", fmt::format("127.0.0.1:{}", *at_b)},
      {"b", fmt::format("127.0.0.1:{}", *at_a)},
      {"a", fmt::format("127.0.0.1:{}", echo_service.port())}};
  for (const auto& entry : hops) {
    const std::string& hop =
        entry.first; // a lambda may not capture a structured binding (clang 14)
    const std::string& target = entry.second;
    json::value l;
    EXPECT_TRUE(eventually(
        [&] {
          l = listener(hop, "echo", Cluster::id("a"));
          return l.is_object() &&
                 l.at("bytesIn").to_number<double>() >= payload.size() + (2 << 20) &&
                 l.at("bytesOut").to_number<double>() >= payload.size() + (2 << 20);
        },
        kDeadline))
        << hop << ": " << l;
    EXPECT_EQ(l.at("target"), target.c_str()) << hop << ": " << l;
    EXPECT_EQ(l.at("state"), "listening") << hop << ": " << l;
  }
}

TEST_F(DataPlaneTest, UdpEchoPublishedAtAIsReachedThroughC) {
  UdpEchoService echo_service;
  startChain();
  ASSERT_TRUE(publish("a", "dns", fmt::format("udp://127.0.0.1:{}", echo_service.port()), "udp"));
  const std::optional<uint16_t> port = portAtC("dns");
  ASSERT_TRUE(port) << json::serialize(c.state("c"));

  Fd client = udpClient();
  ASSERT_TRUE(eventually(
      [&] {
        const std::optional<std::string> back =
            udpRoundTrip(client.get(), *port, "probe", milliseconds(200));
        return back && *back == "probe";
      },
      kDeadline));
  drainUdp(client.get());

  // Datagrams of many sizes, each back as it was sent; and a second client gets its own.
  Fd other = udpClient();
  int lost = 0;
  int wrong = 0;
  for (uint32_t i = 0; i < 200; ++i) {
    const std::size_t size = i == 199 ? 8192 : 1 + (i * 37) % 1400;
    const std::string datagram = randomBytes(size, i);
    const int from = i % 2 == 0 ? client.get() : other.get();
    const std::optional<std::string> back = udpRoundTrip(from, *port, datagram, milliseconds(2000));
    if (!back) {
      ++lost;
    } else if (*back != datagram) {
      ++wrong;
    }
  }
  EXPECT_EQ(wrong, 0);
  // Loopback drops nothing unless a buffer overflows; one datagram at a time, none should be.
  EXPECT_EQ(lost, 0);
  EXPECT_GE(echo_service.datagrams(), 201u);
}

TEST_F(DataPlaneTest, AfterWithdrawalCsPortRefusesConnections) {
  TcpService echo_service(echo);
  startChain();
  ASSERT_TRUE(publish("a", "echo", fmt::format("tcp://127.0.0.1:{}", echo_service.port()), "tcp"));
  const std::optional<uint16_t> port = portAtC("echo");
  ASSERT_TRUE(port);
  const std::optional<uint16_t> at_a = c.ingressPort("a", "echo");
  ASSERT_TRUE(at_a);
  ASSERT_TRUE(eventually([&] { return reachesEcho(*port); }, kDeadline));

  ASSERT_TRUE(withdraw("a", "echo"));
  EXPECT_TRUE(eventually(
      [&] {
        return c.state("c").is_object() && c.learned("c", "echo", Cluster::id("a")).is_null();
      },
      kDeadline));
  EXPECT_TRUE(eventually([&] { return refused(*port); }, kDeadline))
      << "C's port " << *port << " still accepts connections";
  EXPECT_TRUE(eventually([&] { return refused(*at_a); }, kDeadline))
      << "A's port " << *at_a << " still accepts connections";
}

TEST_F(DataPlaneTest, OneLongLivedConnectionSurvivesAHundredUnrelatedRouteChanges) {
  TcpService echo_service(echo);
  startChain(32);
  const std::string endpoint = fmt::format("tcp://127.0.0.1:{}", echo_service.port());
  ASSERT_TRUE(publish("a", "echo", endpoint, "tcp"));
  const std::optional<uint16_t> port = portAtC("echo");
  ASSERT_TRUE(port);
  ASSERT_TRUE(eventually([&] { return reachesEcho(*port); }, kDeadline));

  Fd fd = connectTcp(*port);
  ASSERT_TRUE(fd);
  ASSERT_TRUE(echoes(fd.get(), randomBytes(64 << 10, 1)));

  // While the routes change, the connection carries 1 KiB round trips without a pause.
  std::atomic<bool> churning{true};
  std::atomic<int> round_trips{0};
  std::atomic<int> failures{0};
  std::thread traffic([&] {
    for (uint32_t i = 0; churning && failures == 0; ++i) {
      if (echoes(fd.get(), randomBytes(1024, 1000 + i))) {
        ++round_trips;
      } else {
        ++failures;
      }
    }
  });

  // 100 additions and 100 removals of other routes at A (at most 5 at a time), each reaching C.
  const std::string origin = Cluster::id("a");
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(publish("a", fmt::format("churn-{}", i), endpoint, "tcp"));
    if (i >= 5) {
      EXPECT_TRUE(withdraw("a", fmt::format("churn-{}", i - 5)));
    }
    if (i % 25 == 24) { // C follows
      EXPECT_TRUE(
          eventually([&] { return !c.learned("c", fmt::format("churn-{}", i), origin).is_null(); },
                     kDeadline));
    }
  }
  // A churn route works through C too: the changes reached C's data plane, not only its table.
  const std::optional<uint16_t> churn_port = portAtC("churn-99");
  ASSERT_TRUE(churn_port);
  EXPECT_TRUE(eventually([&] { return reachesEcho(*churn_port); }, kDeadline));
  for (int i = 95; i < 100; ++i) {
    EXPECT_TRUE(withdraw("a", fmt::format("churn-{}", i)));
  }
  EXPECT_TRUE(
      eventually([&] { return c.learnedCount("c") == 1 && c.learnedCount("b") == 1; }, kDeadline));
  EXPECT_TRUE(eventually([&] { return refused(*churn_port); }, kDeadline));

  churning = false;
  traffic.join();
  EXPECT_EQ(failures, 0) << "after " << round_trips << " round trips";
  EXPECT_GT(round_trips, 0);
  RecordProperty("round_trips_during_churn", round_trips.load());
  // The same connection still works, and the route kept its port at C.
  EXPECT_TRUE(echoes(fd.get(), randomBytes(256 << 10, 2), seconds(10)));
  EXPECT_EQ(c.egressPort("c", "echo", origin), port);
  // One connection through the chain the whole time (plus the polls' short ones).
  EXPECT_TRUE(reachesEcho(*port));
}

TEST_F(DataPlaneTest, AnExhaustedPortRangeGivesAClearErrorAndACounterNotACrash) {
  TcpService echo_service(echo);
  c.add("a", node(1)); // one port, two routes
  c.startAll();
  const std::string endpoint = fmt::format("tcp://127.0.0.1:{}", echo_service.port());
  ASSERT_TRUE(publish("a", "first", endpoint, "tcp"));
  // The second route is published (the control plane keeps it), without a port.
  EXPECT_TRUE(publish("a", "second", endpoint, "tcp"));

  const uint16_t only = c.dataPorts("a")->first;
  ASSERT_TRUE(eventually([&] { return !c.local("a", "second").is_null(); }, kDeadline));
  EXPECT_EQ(c.ingressPort("a", "first"), only);
  EXPECT_EQ(c.ingressPort("a", "second"), std::nullopt) << json::serialize(c.local("a", "second"));
  // Counted: by the port allocator, and by the data plane.
  EXPECT_GE(c.metric("a", "catalyst_port_allocation_failures_total"), 1);
  EXPECT_TRUE(eventually(
      [&] {
        return c.metric("a", "catalyst_dataplane_node_errors_total{reason=\"no_listen_port\"}") >=
               1;
      },
      kDeadline))
      << c.metrics("a");
  // Said clearly, in the node's log: which route got no listener, and why.
  EXPECT_TRUE(eventually(
      [&] {
        const std::string log = c.log("a");
        return log.find("warning") != std::string::npos &&
               log.find("without a listen port") != std::string::npos &&
               log.find("second from node-a") != std::string::npos &&
               log.find("port range is exhausted") != std::string::npos;
      },
      kDeadline))
      << c.log("a");
  // The data plane keeps no listener for it (or, if it lists the route, says why it has none).
  const json::value second = listener("a", "second", "node-a");
  if (second.is_object()) {
    EXPECT_NE(second.at("state"), "listening") << second;
    EXPECT_NE(json::serialize(second).find("port range"), std::string::npos) << second;
  }
  const json::value first = listener("a", "first", "node-a");
  ASSERT_TRUE(first.is_object()) << dataPlaneState("a");
  EXPECT_EQ(first.at("port"), only) << first;
  EXPECT_EQ(first.at("state"), "listening") << first;
  // Not a crash: the node answers, and the route that got the port carries traffic.
  EXPECT_TRUE(c.running("a"));
  EXPECT_TRUE(eventually([&] { return reachesEcho(only); }, kDeadline));
  EXPECT_EQ(httpGet(c.port("a"), "/health").value_or(HttpReply{}).status, 200);
}

TEST_F(DataPlaneTest, AnExhaustedRangeAtATransitNodeBreaksOnlyTheRouteThatDidNotFit) {
  TcpService echo_service(echo);
  c.add("a", node());
  c.add("b", node(1)); // B can forward one route only
  c.add("c", node());
  c.link("a", "b");
  c.link("b", "c");
  c.startAll();
  const std::string endpoint = fmt::format("tcp://127.0.0.1:{}", echo_service.port());
  ASSERT_TRUE(publish("a", "first", endpoint, "tcp"));
  const std::optional<uint16_t> first = portAtC("first");
  ASSERT_TRUE(first);
  ASSERT_TRUE(eventually([&] { return reachesEcho(*first); }, kDeadline));

  ASSERT_TRUE(publish("a", "second", endpoint, "tcp"));
  ASSERT_TRUE(
      eventually([&] { return !c.learned("c", "second", Cluster::id("a")).is_null(); }, kDeadline));
  EXPECT_GE(c.metric("b", "catalyst_port_allocation_failures_total"), 1);
  // C cannot reach the second route through B (B has no port for it), and says so.
  if (const std::optional<uint16_t> second = c.egressPort("c", "second", Cluster::id("a"))) {
    EXPECT_FALSE(reachesEcho(*second));
  }
  EXPECT_TRUE(eventually(
      [&] {
        const json::value l = listener("c", "second", "node-a");
        return l.is_object() && l.at("state") != "listening" && l.as_object().contains("error");
      },
      kDeadline))
      << dataPlaneState("c");
  EXPECT_GE(c.metric("c", "catalyst_dataplane_node_errors_total{reason=\"invalid_target\"}") +
                c.metric("c", "catalyst_dataplane_node_errors_total{reason=\"no_listen_port\"}"),
            1)
      << c.metrics("c");
  // Nothing else is disturbed: the first route still works, every node is up.
  EXPECT_TRUE(reachesEcho(*first));
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_TRUE(c.running(n)) << n;
  }
}

} // namespace
} // namespace catalyst::test
