#pragma once

// Test helpers for code served over HTTP: a Dispatcher run on its own thread, and a raw
// blocking HTTP/1.1 client on POSIX sockets (so tests can also send what no library would).
// No Asio or Beast here.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include "catalyst/admin/http_server.h"
#include "catalyst/common/logging.h"
#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"

namespace catalyst::test {

using namespace std::chrono_literals;

// Runs a Dispatcher's loop on a thread of its own. Make the objects that live on the
// dispatcher on the test's thread first, then start(); afterwards reach them through run().
class DispatcherThread {
public:
  explicit DispatcherThread(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  ~DispatcherThread() { stop(); }

  DispatcherThread(const DispatcherThread&) = delete;
  DispatcherThread& operator=(const DispatcherThread&) = delete;
  DispatcherThread(DispatcherThread&&) = delete;
  DispatcherThread& operator=(DispatcherThread&&) = delete;

  void start();

  // Makes the loop return and joins the thread. Idempotent.
  void stop();

  // Runs `fn` on the dispatcher's thread and returns what it returns. Aborts the test process
  // if the loop does not run it within 30 s (a hung loop would hang the test anyway).
  template <class F> std::invoke_result_t<F> run(F fn) {
    using R = std::invoke_result_t<F>;
    std::packaged_task<R()> task(std::move(fn));
    std::future<R> result = task.get_future();
    dispatcher_.post([&task] { task(); });
    if (result.wait_for(30s) != std::future_status::ready) {
      std::fprintf(stderr, "DispatcherThread::run: the loop did not run the task in 30 s\n");
      std::abort();
    }
    return result.get();
  }

private:
  event::Dispatcher& dispatcher_;
  std::thread thread_;
};

// An HttpServer on 127.0.0.1, port 0, with its dispatcher running on a thread of its own.
//
//   TestHttpServer http({.request_timeout = 200ms});
//   http.server().addRoute(...);       // before start(): on the test's thread
//   http.start();
//   http.run([&] { ... });             // after start(): on the loop's thread
class TestHttpServer {
public:
  explicit TestHttpServer(admin::HttpServerLimits limits = {});
  // Destroys the server on the loop's thread, then stops the loop.
  ~TestHttpServer();

  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;
  TestHttpServer(TestHttpServer&&) = delete;
  TestHttpServer& operator=(TestHttpServer&&) = delete;

  // Listens (aborting the test process if it cannot) and starts the loop.
  void start();

  template <class F> std::invoke_result_t<F> run(F fn) { return loop_.run(std::move(fn)); }

  admin::HttpServer& server() { return *server_; }
  event::Dispatcher& dispatcher() { return *dispatcher_; }
  Logger& logger() { return *logger_; }
  uint16_t port() const { return port_; }
  admin::HttpServerStats stats();

private:
  LoggerSharedPtr logger_;
  RealTimeSource time_source_;
  event::DispatcherPtr dispatcher_;
  std::unique_ptr<admin::HttpServer> server_;
  DispatcherThread loop_;
  uint16_t port_ = 0;
  bool started_ = false;
};

// Calls `condition` until it returns true or `timeout` passes; returns its last answer.
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s);

struct RawHttpResponse {
  int status = 0;
  std::string reason;
  std::map<std::string, std::string> headers; // names lower-cased
  std::string body;

  // The value of header `name` (lower case), or "" if absent.
  std::string header(const std::string& name) const;
};

// One client connection to 127.0.0.1:port, blocking, with a deadline on every wait.
class RawHttpConnection {
public:
  explicit RawHttpConnection(uint16_t port);
  ~RawHttpConnection();

  RawHttpConnection(const RawHttpConnection&) = delete;
  RawHttpConnection& operator=(const RawHttpConnection&) = delete;
  RawHttpConnection(RawHttpConnection&&) = delete;
  RawHttpConnection& operator=(RawHttpConnection&&) = delete;

  bool connected() const { return fd_ >= 0; }
  // errno of a failed connect.
  int connectError() const { return connect_errno_; }

  // Sends all of `data`; false if the connection failed.
  bool send(std::string_view data);

  // Reads one response: status line, headers, and a Content-Length body (none if absent, or if
  // `head_request`). nullopt if the connection closed or `timeout` passed first.
  std::optional<RawHttpResponse> readResponse(bool head_request = false,
                                              std::chrono::milliseconds timeout = 5s);

  // Reads exactly `n` bytes (after any response already read); nullopt on close or timeout.
  std::optional<std::string> readBytes(std::size_t n, std::chrono::milliseconds timeout = 5s);

  // True if the peer closes the connection (EOF or reset) within `timeout`; what arrives
  // before is dropped.
  bool waitForClose(std::chrono::milliseconds timeout = 5s);

  void close();

private:
  enum class Fill { Data, Closed, Timeout };
  // Appends what arrives to buffer_, waiting until `deadline` at most.
  Fill fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  int connect_errno_ = 0;
  std::string buffer_;
};

// A TCP socket bound to 127.0.0.1 that never accepts. If `listening`, connections to it
// succeed (the kernel completes them) and then hear nothing: a server that hangs. If not,
// connections to its port are refused, and no other test can take the port meanwhile.
class SilentSocket {
public:
  explicit SilentSocket(bool listening);
  ~SilentSocket();

  SilentSocket(const SilentSocket&) = delete;
  SilentSocket& operator=(const SilentSocket&) = delete;
  SilentSocket(SilentSocket&&) = delete;
  SilentSocket& operator=(SilentSocket&&) = delete;

  uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Sends `request` on a new connection and reads one response.
std::optional<RawHttpResponse> rawHttpExchange(uint16_t port, std::string_view request);

// "GET <target> HTTP/1.1" with a Host header and nothing else.
std::string getRequest(std::string_view target);

} // namespace catalyst::test
