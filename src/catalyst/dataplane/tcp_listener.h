#pragma once

#include <cstddef>
#include <memory>
#include <mutex>

#include "catalyst/dataplane/event_loop.h"
#include "catalyst/dataplane/worker.h"

namespace catalyst::dataplane {

// The listening socket of one TCP route, shared by the workers: every worker's loop watches it
// (an acceptor each, EPOLLEXCLUSIVE, so the kernel wakes one worker that waits per connection,
// not all of them) and relays what it accepts itself. A connection thus lands on a worker that
// is idle, with no hand-off between threads; a client that connects again and again while the
// last connection is still closing is taken by another worker, and the two proceed in parallel.
//
// The socket is bound exactly once (no SO_REUSEPORT copies): a port that another process (or
// another node on this host) holds fails the bind instead of being silently shared, and a table
// of many routes costs one descriptor per route. The descriptor closes when the last worker lets
// it go.
struct ListenSocket {
  Fd fd;

  // The entry new connections use (an upsert that kept the port replaces it). Thread-safe.
  RouteEntryConstSharedPtr entry() const {
    const std::lock_guard lock(mutex);
    return current;
  }
  void setEntry(RouteEntryConstSharedPtr e) {
    const std::lock_guard lock(mutex);
    current = std::move(e);
  }

  mutable std::mutex mutex;
  RouteEntryConstSharedPtr current; // guarded by mutex
};

using ListenSocketSharedPtr = std::shared_ptr<ListenSocket>;

// One worker's watch on a ListenSocket: accepts (level-triggered, one connection per event; under
// load epoll reports the socket again at once, and a lone connection costs no accept that finds
// nothing) and relays the connection on this worker.
class TcpAcceptor final : private EventLoop::Handler {
public:
  TcpAcceptor(Worker& worker, ListenSocketSharedPtr socket);
  ~TcpAcceptor();
  TcpAcceptor(const TcpAcceptor&) = delete;
  TcpAcceptor& operator=(const TcpAcceptor&) = delete;
  TcpAcceptor(TcpAcceptor&&) = delete;
  TcpAcceptor& operator=(TcpAcceptor&&) = delete;

  std::error_code watch();
  // Stops watching (the socket stays open while another worker holds it).
  void unwatch();

private:
  void onEvents(uint32_t events) override;

  Worker& worker_;
  ListenSocketSharedPtr socket_;
  Timer retry_;
  bool watching_ = false;
};

// The TCP listener of one route, on the route's home worker (which opens, binds and closes the
// socket, so those happen in order for a port and bind failures are reported there). It hands
// the socket to every worker's acceptor.
class TcpListener final : public Listener {
public:
  TcpListener(Worker& worker, RouteEntryConstSharedPtr entry);
  ~TcpListener() override;
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  TcpListener(TcpListener&&) = delete;
  TcpListener& operator=(TcpListener&&) = delete;

  std::error_code open() override;
  uint16_t port() const override { return port_; }
  const RouteEntryConstSharedPtr& entry() const override { return entry_; }
  void setEntry(RouteEntryConstSharedPtr entry) override;
  // Stops listening at once (shutdown(2): new connections are refused, even while workers still
  // hold the descriptor) and tells every worker to let the socket go.
  void close() override;

private:
  Worker& worker_;
  RouteEntryConstSharedPtr entry_;
  ListenSocketSharedPtr socket_; // set while open
  uint16_t port_ = 0;
};

} // namespace catalyst::dataplane
