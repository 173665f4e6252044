#pragma once

// One data-plane worker: a thread running its own io_context. Internal to the data plane; Asio
// headers stay in this module's .cc files and internal headers.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "catalyst/common/logging.h"
#include "catalyst/dataplane/embedded_impl.h"
#include "catalyst/dataplane/route_entry.h"

namespace catalyst::dataplane {

// What every worker reads and nobody writes once the workers run.
struct WorkerShared {
  EmbeddedOptions options;
  boost::asio::ip::address bind_address;
  Logger& logger;
  std::vector<Worker*> workers; // every worker, by index
};

// A route's listener (TCP acceptor or UDP socket) on the worker that owns it.
class Listener {
public:
  virtual ~Listener() = default;

  // Binds (and listens); returns the failure. Then runs until close().
  virtual boost::system::error_code open() = 0;
  // The port bound, after a successful open().
  virtual uint16_t port() const = 0;
  // The entry the listener serves now.
  virtual const RouteEntryConstSharedPtr& entry() const = 0;
  // The route changed but kept its port and transport: new connections use `entry`.
  virtual void setEntry(RouteEntryConstSharedPtr entry) = 0;
  // Stops listening at once. TCP connections already accepted carry on (they belong to their
  // worker); UDP flows end, since their replies leave through the closed socket.
  virtual void close() = 0;
};

using ListenerSharedPtr = std::shared_ptr<Listener>;

class TcpSession;

class Worker {
public:
  Worker(std::size_t index, const WorkerShared& shared);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  Worker(Worker&&) = delete;
  Worker& operator=(Worker&&) = delete;

  // Starts the thread. Throws std::system_error when it cannot be started.
  void start();
  // Posts `update` to the worker's thread. Thread-safe.
  void post(RouteTableUpdateConstSharedPtr update);
  // Posts the closing of every listener and connection; the thread ends when nothing is left.
  // Thread-safe.
  void shutdown();
  void join();
  // After join(): runs, on the calling thread, what other workers posted too late (connections
  // handed over during the shutdown), until nothing is left. Returns how many handlers ran.
  std::size_t runLeftovers();
  // TCP connections handed to this worker and not yet ended (a listener on any worker picks
  // the least loaded worker). Thread-safe.
  std::size_t load() const { return load_.load(std::memory_order_relaxed); }
  void addLoad() { load_.fetch_add(1, std::memory_order_relaxed); }

  // The members below are called on this worker's thread only.

  boost::asio::io_context& ioContext() { return io_context_; }
  std::size_t index() const { return index_; }
  const WorkerShared& shared() const { return shared_; }
  const EmbeddedOptions& options() const { return shared_.options; }
  Logger& logger() const { return shared_.logger; }

  // A connection accepted for `entry` (by a listener on any worker): relays it on this worker.
  void adopt(RouteEntryConstSharedPtr entry, boost::asio::ip::tcp::socket client);
  // Called by a session as it ends.
  void sessionEnded(uint64_t instance, uint64_t id);
  // A receive buffer for one datagram, shared by the UDP sockets of this worker (each datagram
  // is forwarded before the next one is read).
  std::span<char> datagramBuffer() { return {datagram_buffer_.data(), datagram_buffer_.size()}; }
  // True at most once per second: whether a connect failure may be logged as a warning now.
  bool mayWarnConnectFailure();
  // Calls session->connectDeadline() once the connect timeout has passed, unless the session
  // is gone by then. One timer per worker sweeps the deadlines (at most 4 times a second, while
  // any are pending), instead of a timer, and its timerfd update, per connection.
  void watchConnect(std::weak_ptr<TcpSession> session);

private:
  // The sessions of one route instance on this worker.
  struct Sessions {
    std::unordered_map<uint64_t, std::weak_ptr<TcpSession>> by_id;
    std::unique_ptr<boost::asio::steady_timer> drain; // armed once the route is removed
  };

  void run();
  void onUpdate(const RouteTableUpdate& update);
  void openListener(const RouteEntryConstSharedPtr& entry);
  void closeListener(uint64_t instance);
  // The route `instance` was removed: its sessions here end when the drain timeout passes.
  void drain(uint64_t instance);
  void closeSessions(uint64_t instance, std::string_view why);
  void closeAll();
  void sweepConnects();
  void armConnectSweep();

  const std::size_t index_;
  std::atomic<std::size_t> load_{0};
  const WorkerShared& shared_;
  boost::asio::io_context io_context_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  bool stopping_ = false;
  uint64_t next_session_id_ = 1;
  std::chrono::steady_clock::time_point last_connect_warning_{};
  std::unordered_map<uint64_t, ListenerSharedPtr> listeners_; // by route instance
  std::unordered_map<uint64_t, Sessions> sessions_;           // by route instance
  std::vector<char> datagram_buffer_;
  // Connect deadlines in the order they were set (all sessions use the same timeout, so also
  // in deadline order), swept by connect_sweep_.
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::weak_ptr<TcpSession>>> connects_;
  std::optional<boost::asio::steady_timer> connect_sweep_;
  bool connect_sweep_armed_ = false;
};

} // namespace catalyst::dataplane
