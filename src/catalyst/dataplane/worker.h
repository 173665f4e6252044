#pragma once

// One data-plane worker: a thread running its own event loop. Internal to the data plane.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "catalyst/common/logging.h"
#include "catalyst/dataplane/embedded_impl.h"
#include "catalyst/dataplane/event_loop.h"
#include "catalyst/dataplane/route_entry.h"
#include "catalyst/dataplane/socket_address.h"

namespace catalyst::dataplane {

class Resolver;

// What every worker reads and nobody writes once the workers run.
struct WorkerShared {
  EmbeddedOptions options;
  SocketAddress bind_address; // port 0
  Logger& logger;
  Resolver& resolver;
  std::vector<Worker*> workers; // every worker, by index
};

// A route's listener (TCP listening socket or UDP socket) on the worker that owns it.
class Listener {
public:
  virtual ~Listener() = default;

  // Binds (and listens); returns the failure. Then runs until close().
  virtual std::error_code open() = 0;
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

class TcpSession;
class TcpAcceptor;
struct ListenSocket;
using ListenSocketSharedPtr = std::shared_ptr<ListenSocket>;

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
  // Posts the closing of every listener and connection, and the end of the thread. Thread-safe.
  void shutdown();
  void join();
  // After join(): runs, on the calling thread, what other workers posted too late (connections
  // handed over during the shutdown), until nothing is left. Returns how many tasks ran.
  std::size_t runLeftovers();
  // TCP connections relayed by this worker or on their way to it. Thread-safe.
  std::size_t load() const { return load_.load(std::memory_order_relaxed); }
  // Thread-safe: runs `task` on this worker's thread.
  void postTask(Task task) { loop_.post(std::move(task)); }

  // The members below are called on this worker's thread only.

  EventLoop& loop() { return loop_; }
  std::size_t index() const { return index_; }
  const WorkerShared& shared() const { return shared_; }
  const EmbeddedOptions& options() const { return shared_.options; }
  Logger& logger() const { return shared_.logger; }

  // A connection accepted for `entry` by this worker's acceptor: relays it here, or on the least
  // loaded worker when this one has at least two connections more (the kernel wakes an idle
  // worker for each connection, but connections that arrive together may all find the same
  // one idle; long ones, bulk transfers say, would then share one thread).
  void accepted(RouteEntryConstSharedPtr entry, Fd client);
  // Relays a connection on this worker.
  void adopt(RouteEntryConstSharedPtr entry, Fd client);
  // Watches a TCP route's listening socket (TcpListener::open posts this to every worker).
  std::error_code addAcceptor(ListenSocketSharedPtr socket);
  // Stops watching it; the socket closes once no worker holds it.
  void removeAcceptor(const ListenSocket* socket);
  // Called by a session as it ends (closed, its descriptors too): the worker lets it go once
  // the current turn's events are handled.
  void sessionEnded(uint64_t instance, uint64_t id);
  // A buffer for one read (a datagram, or a TCP read in copy mode), shared by every socket of
  // this worker: what is read is sent on, or copied aside, before the next read. 64 KiB, the
  // largest UDP payload.
  std::span<char> scratch() { return {scratch_.data(), scratch_.size()}; }
  // True at most once per second: whether a connect failure may be logged as a warning now.
  bool mayWarnConnectFailure();
  // Calls connectDeadline() on session `id` of route `instance` once the connect timeout has
  // passed, unless the session is gone by then. One timer per worker sweeps the deadlines (at
  // most 4 times a second, while any are pending), instead of a timer per connection.
  void watchConnect(uint64_t instance, uint64_t id);

private:
  // The sessions of one route instance on this worker.
  struct Sessions {
    std::unordered_map<uint64_t, std::unique_ptr<TcpSession>> by_id;
    std::unique_ptr<Timer> drain; // armed once the route is removed
  };

  void run();
  void onUpdate(const RouteTableUpdate& update);
  void openListener(const RouteEntryConstSharedPtr& entry);
  void closeListener(uint64_t instance);
  // The route `instance` was removed: its sessions here end when the drain timeout passes.
  void drain(uint64_t instance);
  void closeSessions(uint64_t instance, std::string_view why);
  void closeAll();
  TcpSession* findSession(uint64_t instance, uint64_t id);
  void sweepConnects();
  void armConnectSweep();

  const std::size_t index_;
  const WorkerShared& shared_;
  std::atomic<std::size_t> load_{0};
  EventLoop loop_; // before everything that registers with it or holds a Timer
  std::thread thread_;
  bool stopping_ = false;
  uint64_t next_session_id_ = 1;
  std::chrono::steady_clock::time_point last_connect_warning_{};
  std::unordered_map<uint64_t, std::unique_ptr<Listener>> listeners_; // by route instance
  std::unordered_map<uint64_t, Sessions> sessions_;                   // by route instance
  std::unordered_map<const ListenSocket*, std::unique_ptr<TcpAcceptor>> acceptors_;
  std::vector<char> scratch_;
  // Connect deadlines in the order they were set (all sessions use the same timeout, so also
  // in deadline order): deadline, route instance, session id.
  std::deque<std::tuple<std::chrono::steady_clock::time_point, uint64_t, uint64_t>> connects_;
  Timer connect_sweep_{loop_};
};

} // namespace catalyst::dataplane
