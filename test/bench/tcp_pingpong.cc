// The physical limit of scripts/bench-rpc's sequential mode: blocking TCP round trips between
// two processes on 127.0.0.1 (a forked echo server), with nothing else in the way: no event
// loop, no WebSocket framing, no RPC. Each round trip sends a request the size of a Cap'n Web
// call's frames and gets back a reply the size of its resolve. Prints one JSON line:
//   {"impl":"tcp","mode":"sequential","sameProcess":false,"calls":N,"callsPerSecond":R}
//
//   tcp_pingpong [--calls N]

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// About what one sequential `add(a, b)` call puts on the wire in each direction.
constexpr std::size_t kRequestBytes = 110;
constexpr std::size_t kReplyBytes = 30;

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

void setNoDelay(int fd) {
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    die("setsockopt TCP_NODELAY");
  }
}

// Reads exactly `size` bytes; false at end of stream.
bool readFull(int fd, char* data, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, data + got, size - got);
    if (n <= 0) {
      return false;
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

void writeFull(int fd, const char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) {
      die("write");
    }
    done += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void serve(int listener) {
  const int fd = ::accept(listener, nullptr, nullptr);
  if (fd < 0) {
    die("accept");
  }
  setNoDelay(fd);
  std::array<char, kRequestBytes> request{};
  const std::array<char, kReplyBytes> reply{};
  while (readFull(fd, request.data(), request.size())) {
    writeFull(fd, reply.data(), reply.size());
  }
  ::_exit(0);
}

} // namespace

int main(int argc, char** argv) {
  long calls = 20000;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--calls" && i + 1 < argc) {
      calls = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: tcp_pingpong [--calls N]\n");
      return 2;
    }
  }
  if (calls <= 0) {
    std::fprintf(stderr, "tcp_pingpong: --calls must be positive\n");
    return 2;
  }

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    die("listen on 127.0.0.1");
  }
  const pid_t server = ::fork();
  if (server < 0) {
    die("fork");
  }
  if (server == 0) {
    serve(listener);
  }
  ::close(listener);

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    die("connect");
  }
  setNoDelay(fd);
  const std::array<char, kRequestBytes> request{};
  std::array<char, kReplyBytes> reply{};
  auto roundTrip = [&] {
    writeFull(fd, request.data(), request.size());
    if (!readFull(fd, reply.data(), reply.size())) {
      die("read: the echo server went away");
    }
  };
  for (int i = 0; i < 1000; ++i) { // warm-up, as the RPC clients do
    roundTrip();
  }
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < calls; ++i) {
    roundTrip();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  ::waitpid(server, nullptr, 0);
  std::printf("{\"impl\":\"tcp\",\"mode\":\"sequential\",\"sameProcess\":false,\"calls\":%ld,"
              "\"callsPerSecond\":%.0f}\n",
              calls, static_cast<double>(calls) / seconds);
  return 0;
}
