#include "http_test_util.h"

#include <algorithm>
#include <cctype>
#include <cerrno>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace catalyst::test {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n..." (without the final blank line).
std::optional<RawHttpResponse> parseHead(std::string_view head) {
  RawHttpResponse response;
  std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) {
    return std::nullopt;
  }
  response.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  response.reason = std::string(status_line.size() > 13 ? status_line.substr(13) : "");
  while (line_end != std::string_view::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    response.headers[lower(line.substr(0, colon))] = std::string(trim(line.substr(colon + 1)));
  }
  return response;
}

} // namespace

void DispatcherThread::start() {
  thread_ = std::thread([this] { dispatcher_.run(); });
}

void DispatcherThread::stop() {
  if (thread_.joinable()) {
    dispatcher_.exit();
    thread_.join();
  }
}

TestHttpServer::TestHttpServer(admin::HttpServerLimits limits)
    : // Warn: the rejections the tests provoke log at debug level.
      logger_(makeStderrLogger("http-test", LogLevel::Warn)),
      dispatcher_(event::makeDispatcher(time_source_)),
      server_(std::make_unique<admin::HttpServer>(
          *dispatcher_, *logger_,
          admin::HttpServerOptions{.address = "127.0.0.1", .port = 0, .limits = limits})),
      loop_(*dispatcher_) {}

TestHttpServer::~TestHttpServer() {
  if (started_) {
    loop_.run([this] { server_.reset(); });
  }
  loop_.stop();
}

void TestHttpServer::start() {
  if (auto status = server_->listen(); !status) {
    std::fprintf(stderr, "TestHttpServer: %s\n", status.error().message.c_str());
    std::abort();
  }
  port_ = server_->port();
  started_ = true;
  loop_.start();
}

admin::HttpServerStats TestHttpServer::stats() {
  return loop_.run([this] { return server_->stats(); });
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return condition();
    }
    std::this_thread::yield();
  }
  return true;
}

std::string RawHttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

RawHttpConnection::RawHttpConnection(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    connect_errno_ = errno;
    return;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    connect_errno_ = errno;
    close();
  }
}

RawHttpConnection::~RawHttpConnection() { close(); }

void RawHttpConnection::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool RawHttpConnection::send(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
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

RawHttpConnection::Fill RawHttpConnection::fill(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0) {
    return Fill::Closed;
  }
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Fill::Timeout;
    }
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready == 0) {
      return Fill::Timeout;
    }
    char chunk[16 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return Fill::Closed;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return Fill::Data;
  }
}

std::optional<RawHttpResponse> RawHttpConnection::readResponse(bool head_request,
                                                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (fill(deadline) != Fill::Data) {
      return std::nullopt;
    }
  }
  std::optional<RawHttpResponse> response =
      parseHead(std::string_view(buffer_).substr(0, head_end));
  buffer_.erase(0, head_end + 4);
  if (!response) {
    return std::nullopt;
  }
  const std::string length = response->header("content-length");
  const std::size_t body_size =
      head_request || length.empty() ? 0 : std::strtoull(length.c_str(), nullptr, 10);
  while (buffer_.size() < body_size) {
    if (fill(deadline) != Fill::Data) {
      return std::nullopt;
    }
  }
  response->body = buffer_.substr(0, body_size);
  buffer_.erase(0, body_size);
  return response;
}

std::optional<std::string> RawHttpConnection::readBytes(std::size_t n,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffer_.size() < n) {
    if (fill(deadline) != Fill::Data) {
      return std::nullopt;
    }
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

bool RawHttpConnection::waitForClose(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    switch (fill(deadline)) {
    case Fill::Data:
      buffer_.clear();
      break;
    case Fill::Closed:
      return true;
    case Fill::Timeout:
      return false;
    }
  }
}

SilentSocket::SilentSocket(bool listening) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      (listening && ::listen(fd_, 16) != 0) ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("SilentSocket");
    std::abort();
  }
  port_ = ntohs(address.sin_port);
}

SilentSocket::~SilentSocket() { ::close(fd_); }

std::optional<RawHttpResponse> rawHttpExchange(uint16_t port, std::string_view request) {
  RawHttpConnection connection(port);
  if (!connection.connected() || !connection.send(request)) {
    return std::nullopt;
  }
  return connection.readResponse();
}

std::string getRequest(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

} // namespace catalyst::test
