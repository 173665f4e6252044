#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalyst/common/logging.h"
#include "catalyst/dataplane/dataplane.h"
#include "catalyst/state/route.h"

namespace catalyst::dataplane {

struct EmbeddedOptions {
  // Where the listeners bind: an IP literal or a name resolved once by start().
  std::string bind_address = "127.0.0.1";
  // Worker threads; 0 means one per hardware thread (at least one).
  std::size_t workers = 0;
  // How long a connection may take to reach its target (resolution included).
  std::chrono::milliseconds connect_timeout{5000};
  // How long the connections of a removed route may keep going before they are closed; 0 closes
  // them at once.
  std::chrono::milliseconds drain_timeout{30'000};
  // A UDP flow that carried nothing for this long ends (its upstream socket is closed).
  std::chrono::milliseconds udp_idle_timeout{60'000};
  // At most this many UDP flows per route; a datagram from another new client is dropped and
  // counted (ErrorReason::UdpFlowLimit).
  std::size_t max_udp_flows_per_route = 10'000;
  // Relay bulk TCP transfers with splice(2) through a pipe per direction (no copy to user space);
  // false copies through a buffer. A connection whose pipes cannot be made copies too. Off by
  // default: on the kernel measured (Linux 6.18, loopback), copying through 32 KiB was faster
  // (docs/benchmarks.md).
  bool use_splice = false;
};

class AtomicCounters;
class Resolver;
class Worker;
struct WorkerShared;
struct RouteEntry;

// The embedded data plane: a fast L4 proxy on worker threads of its own.
//
// The control thread (the owner) keeps the route table. Each apply() turns the effect into
// immutable RouteEntry values (one per changed route) and posts one immutable RouteTableUpdate
// to every worker; workers never write shared state except atomic counters and listener states.
// Each worker runs its own event loop (epoll). A route's listener lives on one worker, chosen by
// its port (so that closing and binding the same port always happen in order, on one thread), and
// hands each connection it accepts to the least loaded worker (itself unless another has at least
// two open connections fewer), which relays it.
class EmbeddedDataPlane final : public DataPlane {
public:
  // `logger` must outlive the data plane; workers log through it (spdlog loggers are
  // thread-safe).
  EmbeddedDataPlane(EmbeddedOptions options, Logger& logger);
  ~EmbeddedDataPlane() override;
  EmbeddedDataPlane(const EmbeddedDataPlane&) = delete;
  EmbeddedDataPlane& operator=(const EmbeddedDataPlane&) = delete;
  EmbeddedDataPlane(EmbeddedDataPlane&&) = delete;
  EmbeddedDataPlane& operator=(EmbeddedDataPlane&&) = delete;

  Status start() override;
  void apply(const control::fx::ConfigureDataPlane& config) override;
  DataPlaneStats stats() const override;
  void stop() override;

  std::size_t workerCount() const { return worker_count_; }

private:
  enum class Phase { Created, Running, Stopped };

  // A route as the control thread keeps it.
  struct Route {
    std::shared_ptr<const RouteEntry> entry;
    std::optional<std::string> error; // why the route has no listener (a bad target)
  };

  Route makeRoute(const control::fx::DataPlaneRoute& config, const Route* existing);
  void checkThread() const;

  EmbeddedOptions options_;
  Logger& logger_;
  std::size_t worker_count_;
  std::thread::id owner_;
  Phase phase_ = Phase::Created;
  std::shared_ptr<AtomicCounters> totals_;
  std::map<state::RouteKey, Route> routes_;
  uint64_t next_instance_ = 1;
  uint64_t version_ = 0;
  std::chrono::steady_clock::time_point last_no_port_warning_{};
  std::unique_ptr<Resolver> resolver_;           // from start(); names of targets
  std::unique_ptr<WorkerShared> shared_;         // from start()
  std::vector<std::unique_ptr<Worker>> workers_; // from start()
};

} // namespace catalyst::dataplane
