#pragma once

// Name resolution for the data plane's targets, off the workers' threads. Internal.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalyst/dataplane/event_loop.h"
#include "catalyst/dataplane/socket_address.h"

namespace catalyst::dataplane {

struct Resolution {
  std::vector<SocketAddress> addresses; // in the order getaddrinfo gave them
  std::string error;                    // set when there is no address
};

// One thread, started on the first request, runs getaddrinfo(3) for the workers (it blocks, so
// it cannot run on a worker's thread) and posts each answer to the loop that asked. Owned by the
// data plane; stop() before the loops it posts to are destroyed.
class Resolver {
public:
  using Done = std::function<void(Resolution)>;

  Resolver() = default;
  ~Resolver() { stop(); }
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;
  Resolver(Resolver&&) = delete;
  Resolver& operator=(Resolver&&) = delete;

  // Thread-safe. `done` runs on `reply_to`'s thread, unless the resolver stops first (then it
  // never runs). `socktype`: SOCK_STREAM or SOCK_DGRAM.
  void resolve(std::string host, uint16_t port, int socktype, EventLoop& reply_to, Done done);
  // Waits for the name being resolved now (if any); drops the queued ones. Idempotent.
  void stop();

private:
  struct Request {
    std::string host;
    uint16_t port = 0;
    int socktype = 0;
    EventLoop* reply_to = nullptr;
    Done done;
  };

  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Request> queue_; // guarded by mutex_
  bool stopping_ = false;     // guarded by mutex_
  std::thread thread_;        // started under mutex_
};

} // namespace catalyst::dataplane
