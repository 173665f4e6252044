// The data-plane benchmark's own programs (scripts/bench-dataplane, docs/benchmarks.md): an echo
// server, two clients that measure what a proxy in front of it costs, and the idle-memory run.
// Each measurement prints one JSON line on stdout.
//
//   dataplane_bench serve [--port P]
//     A TCP echo server on 127.0.0.1:P (0: a port the kernel picks), one thread with epoll.
//     Prints "LISTENING <port>" once it accepts, then runs until killed.
//
//   dataplane_bench latency --port P [--round-trips N] [--size S]
//     One connection to 127.0.0.1:P; N round trips of S bytes (after 1000 unmeasured ones),
//     each timed: {"measure":"latency","round_trips":N,"size":S,"p50_us":..,"p99_us":..,
//     "mean_us":..}.
//
//   dataplane_bench connect --port P [--seconds T] [--size S]
//     For T seconds, one after the other: a new connection, S bytes written and S bytes read
//     back, close. {"measure":"connect","connections":N,"connections_per_second":R,
//     "p50_us":..,"p99_us":..,"errors":E} (p50/p99 of one whole connect-exchange-close).
//
//   dataplane_bench memory --node BINARY [--routes N]
//     One catalyst-node (embedded data plane, a port range of N + 16 ports), idle; then N TCP
//     routes added in one addRoutes call; once every route's listener is up and the node's RSS
//     has settled: {"measure":"memory","routes":N,"rss_idle_kb":..,"rss_kb":..,
//     "bytes_per_route":..,"threads":..}.

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <numeric>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/cluster.h"

namespace catalyst::test {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "dataplane_bench: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

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

void setNoDelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool writeFull(int fd, const char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::send(fd, data + done, size - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool readFull(int fd, char* data, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::recv(fd, data + got, size - got, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// The value at fraction `q` of the sorted samples.
double quantile(std::vector<double>& samples, double q) {
  if (samples.empty()) {
    return 0;
  }
  std::sort(samples.begin(), samples.end());
  const auto at = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1) + 0.5);
  return samples[std::min(at, samples.size() - 1)];
}

// ---- serve --------------------------------------------------------------------------------------

int serve(uint16_t port) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = loopback(port);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, asSockaddr(addr), len) != 0 ||
      ::listen(listener, 4096) != 0 || ::getsockname(listener, asSockaddr(addr), &len) != 0) {
    die(fmt::format("listen on 127.0.0.1:{}", port));
  }
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &ev);
  std::printf("LISTENING %u\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  // Bytes read but not yet written back (the peer's receive window was full): while a connection
  // has some, it is watched for writability instead of input.
  std::unordered_map<int, std::string> pending;
  std::vector<char> buf(1 << 16);
  std::array<epoll_event, 256> events{};
  auto closeConn = [&](int fd) {
    pending.erase(fd);
    ::close(fd);
  };
  for (;;) {
    const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events.at(static_cast<std::size_t>(i)).data.fd;
      if (fd == listener) {
        for (;;) {
          const int conn = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (conn < 0) {
            break;
          }
          setNoDelay(conn);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = conn;
          ::epoll_ctl(epoll, EPOLL_CTL_ADD, conn, &cev);
        }
        continue;
      }
      std::string* out = nullptr;
      if (auto it = pending.find(fd); it != pending.end()) {
        out = &it->second;
      }
      if (out == nullptr) {
        const ssize_t got = ::recv(fd, buf.data(), buf.size(), 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
          continue;
        }
        if (got <= 0) {
          closeConn(fd);
          continue;
        }
        const ssize_t sent = ::send(fd, buf.data(), static_cast<std::size_t>(got), MSG_NOSIGNAL);
        if (sent == got) {
          continue;
        }
        if (sent < 0 && errno != EAGAIN) {
          closeConn(fd);
          continue;
        }
        out = &pending[fd];
        out->assign(buf.data() + std::max<ssize_t>(sent, 0), buf.data() + got);
        epoll_event cev{};
        cev.events = EPOLLOUT;
        cev.data.fd = fd;
        ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &cev);
        continue;
      }
      const ssize_t sent = ::send(fd, out->data(), out->size(), MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN) {
        closeConn(fd);
        continue;
      }
      out->erase(0, static_cast<std::size_t>(std::max<ssize_t>(sent, 0)));
      if (out->empty()) {
        pending.erase(fd);
        epoll_event cev{};
        cev.events = EPOLLIN;
        cev.data.fd = fd;
        ::epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &cev);
      }
    }
  }
}

// ---- clients ------------------------------------------------------------------------------------

int connectTo(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(port);
  if (fd < 0 || ::connect(fd, asSockaddr(addr), sizeof addr) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  setNoDelay(fd);
  return fd;
}

int latency(uint16_t port, long round_trips, std::size_t size) {
  const int fd = connectTo(port);
  if (fd < 0) {
    die(fmt::format("connect to 127.0.0.1:{}", port));
  }
  std::string request(size, 'x');
  std::string reply(size, '\0');
  auto roundTrip = [&] {
    if (!writeFull(fd, request.data(), size) || !readFull(fd, reply.data(), size)) {
      die("round trip: the connection ended");
    }
  };
  for (int i = 0; i < 1000; ++i) {
    roundTrip();
  }
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(round_trips));
  for (long i = 0; i < round_trips; ++i) {
    const auto t0 = Clock::now();
    roundTrip();
    samples.push_back(micros(Clock::now() - t0));
  }
  ::close(fd);
  const double mean =
      std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  const double p50 = quantile(samples, 0.50);
  const double p99 = quantile(samples, 0.99);
  std::cout << fmt::format("{{\"measure\":\"latency\",\"round_trips\":{},\"size\":{},"
                           "\"p50_us\":{:.2f},\"p99_us\":{:.2f},\"mean_us\":{:.2f}}}",
                           round_trips, size, p50, p99, mean)
            << std::endl;
  return 0;
}

int connectRate(uint16_t port, double seconds, std::size_t size) {
  std::string request(size, 'x');
  std::string reply(size, '\0');
  std::vector<double> samples;
  long errors = 0;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Clock::time_point now = start;
  while (now < end) {
    const auto t0 = now;
    const int fd = connectTo(port);
    bool ok = fd >= 0 && writeFull(fd, request.data(), size) && readFull(fd, reply.data(), size);
    if (fd >= 0) {
      ::close(fd);
    }
    now = Clock::now();
    if (ok) {
      samples.push_back(micros(now - t0));
    } else if (++errors > 100) {
      die("more than 100 failed connections");
    }
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  const std::size_t connections = samples.size();
  const double p50 = quantile(samples, 0.50);
  const double p99 = quantile(samples, 0.99);
  std::cout << fmt::format("{{\"measure\":\"connect\",\"connections\":{},\"size\":{},"
                           "\"connections_per_second\":{:.0f},\"p50_us\":{:.2f},\"p99_us\":{:.2f},"
                           "\"errors\":{}}}",
                           connections, size, static_cast<double>(connections) / elapsed, p50, p99,
                           errors)
            << std::endl;
  return 0;
}

// ---- memory
// ---------------------------------------------------------------------------------------

long statusField(int pid, const std::string& field) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stol(line.substr(field.size() + 1));
    }
  }
  return -1;
}

// Polls the RSS every 100 ms until ten readings in a row are the same (at most 30 s).
long settledRssKb(int pid) {
  long last = -1;
  int same = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (same < 10 && Clock::now() < deadline) {
    const long rss = statusField(pid, "VmRSS");
    same = rss == last ? same + 1 : 0;
    last = rss;
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // the poll interval
  }
  return last;
}

std::size_t listening(const Cluster& c) {
  const std::string text = c.metrics("a");
  std::size_t count = 0;
  std::size_t at = 0;
  const std::string family = "\ncatalyst_dataplane_listening{";
  while ((at = text.find(family, at)) != std::string::npos) {
    const std::size_t eol = text.find('\n', at + 1);
    if (text.compare(eol - 2, 2, " 1") == 0) {
      ++count;
    }
    at = eol;
  }
  return count;
}

int memory(const std::string& binary, std::size_t routes) {
  Cluster c(binary);
  NodeOptions options;
  options.log_level = "warning";
  options.data_ports = routes + 16;
  c.add("a", options);
  c.start("a");
  const int pid = c.process("a").pid();
  const long idle = settledRssKb(pid);

  rpc::Array list;
  for (std::size_t i = 0; i < routes; ++i) {
    list.push_back(rpc::object({{"name", fmt::format("svc-{}", i)},
                                {"endpoint", fmt::format("tcp://127.0.0.1:{}", 9)},
                                {"protocol", "tcp"}}));
  }
  const rpc::Value added =
      c.admin("a", "getDataChannelClient", "addRoutes", rpc::object({{"routes", std::move(list)}}));
  const rpc::Value* ok = added.find("success");
  if (ok == nullptr || !ok->is<bool>() || !*ok->as<bool>()) {
    throw std::runtime_error("addRoutes: " + added.debugString());
  }
  const bool up = eventually([&] { return listening(c) == routes; }, std::chrono::seconds(60));
  if (!up) {
    throw std::runtime_error(fmt::format("only {} of {} listeners up", listening(c), routes));
  }
  const long rss = settledRssKb(pid);
  std::cout << fmt::format("{{\"measure\":\"memory\",\"routes\":{},\"rss_idle_kb\":{},"
                           "\"rss_kb\":{},\"bytes_per_route\":{:.0f},\"threads\":{}}}",
                           routes, idle, rss,
                           static_cast<double>(rss - idle) * 1024.0 / static_cast<double>(routes),
                           statusField(pid, "Threads"))
            << std::endl;
  c.stop("a");
  return 0;
}

} // namespace
} // namespace catalyst::test

int main(int argc, char** argv) {
  using namespace catalyst::test;
  CLI::App app{"the data-plane benchmark's echo server and clients (scripts/bench-dataplane)"};
  app.require_subcommand(1);
  uint16_t port = 0;
  long round_trips = 20000;
  std::size_t size = 1;
  double seconds = 2;
  std::string node;
  std::size_t routes = 1000;

  CLI::App* serve_cmd = app.add_subcommand("serve", "a TCP echo server on 127.0.0.1");
  serve_cmd->add_option("--port", port, "0: any");
  CLI::App* latency_cmd = app.add_subcommand("latency", "round trips over one connection");
  latency_cmd->add_option("--port", port)->required();
  latency_cmd->add_option("--round-trips", round_trips)->check(CLI::PositiveNumber);
  latency_cmd->add_option("--size", size)->check(CLI::Range(1, 1 << 20));
  CLI::App* connect_cmd = app.add_subcommand("connect", "new connections per second");
  connect_cmd->add_option("--port", port)->required();
  connect_cmd->add_option("--seconds", seconds)->check(CLI::PositiveNumber);
  connect_cmd->add_option("--size", size)->check(CLI::Range(1, 1 << 20));
  CLI::App* memory_cmd = app.add_subcommand("memory", "RSS of an idle node with N routes");
  memory_cmd->add_option("--node", node, "catalyst-node binary")->required();
  memory_cmd->add_option("--routes", routes)->check(CLI::Range(1, 4000));
  CLI11_PARSE(app, argc, argv);

  try {
    if (*serve_cmd) {
      return serve(port);
    }
    if (*latency_cmd) {
      return latency(port, round_trips, size);
    }
    if (*connect_cmd) {
      return connectRate(port, seconds, size);
    }
    return memory(node, routes);
  } catch (const std::exception& e) {
    std::cerr << "dataplane_bench: " << e.what() << "\n";
    return 1;
  }
}
