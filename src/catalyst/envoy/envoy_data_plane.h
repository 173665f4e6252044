#pragma once

// The Envoy data plane modes: the node renders its route table into Envoy resources and hands
// each new snapshot to a sink: files Envoy watches (envoy-files) or an ADS server Envoy streams
// from (envoy-xds). Rendering and publishing run on a thread of their own, so the control
// thread only queues changes; bursts of changes are coalesced into one snapshot.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalyst/common/logging.h"
#include "catalyst/dataplane/dataplane.h"
#include "catalyst/envoy/render.h"

namespace catalyst::envoy {

// Where snapshots go. start() and stop() run on the owner's thread; publish() on the data
// plane's publisher thread, one call at a time; addStats() on the owner's thread.
class SnapshotSink {
public:
  virtual ~SnapshotSink() = default;
  virtual Status start() = 0;
  // Hands `snapshot` to Envoy. A failure leaves what Envoy had before.
  virtual Status publish(const Snapshot& snapshot) = 0;
  // True when Envoy may hold a configuration from before this process started (files from the
  // last run; an Envoy that will reconnect): then the first publish waits for the startup hold,
  // so a restarted node does not replace a full configuration with a partial one.
  virtual bool mayHaveEarlierConfig() const = 0;
  virtual void addStats(dataplane::EnvoyStats& stats) const = 0;
  virtual void stop() = 0;
};

using SnapshotSinkPtr = std::unique_ptr<SnapshotSink>;

// envoy-files: `cds.json` and `lds.json` in `dir`, each a DiscoveryResponse, replaced by
// writing a temporary file in the same directory and rename(2) (Envoy reloads on the move),
// clusters before listeners, and only the ones whose version changed.
class FileSink : public SnapshotSink {
public:
  explicit FileSink(std::string dir);

  Status start() override;
  Status publish(const Snapshot& snapshot) override;
  bool mayHaveEarlierConfig() const override { return had_files_; }
  void addStats(dataplane::EnvoyStats& /*stats*/) const override {}
  void stop() override {}

  // The files' paths.
  std::string clustersPath() const;
  std::string listenersPath() const;

private:
  std::string dir_;
  bool had_files_ = false;
  std::string clusters_version_; // of the file on disk ("" when none)
  std::string listeners_version_;
};

struct EnvoyDataPlaneOptions {
  RenderOptions render;
  // A change waits this long for more before a snapshot is built (bursts of route changes make
  // one snapshot) ...
  std::chrono::milliseconds debounce{5};
  // ... but never longer than this after the first change of the burst.
  std::chrono::milliseconds max_delay{500};
  // See SnapshotSink::mayHaveEarlierConfig.
  std::chrono::milliseconds startup_hold{2000};
};

class EnvoyDataPlane : public dataplane::DataPlane {
public:
  EnvoyDataPlane(EnvoyDataPlaneOptions options, SnapshotSinkPtr sink, Logger& logger);
  ~EnvoyDataPlane() override;

  Status start() override;
  void apply(const control::fx::ConfigureDataPlane& config) override;
  dataplane::DataPlaneStats stats() const override;
  void stop() override;

private:
  struct Route {
    control::fx::DataPlaneRoute route;
    uint64_t generation = 0; // of the apply() that set it
  };
  struct Published {
    uint64_t generation = 0; // every change up to this one is in the published snapshot
    std::map<state::RouteKey, RouteProblem> problems;
    dataplane::EnvoyStats stats;
  };

  void run();
  bool waitForWork(std::unique_lock<std::mutex>& lock);

  EnvoyDataPlaneOptions options_;
  SnapshotSinkPtr sink_;
  Logger& logger_;

  // Owner's thread only.
  std::map<state::RouteKey, Route> routes_;
  uint64_t generation_ = 0;
  bool started_ = false;
  bool stopped_ = false;

  // Shared with the publisher thread.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<control::fx::ConfigureDataPlane> pending_;
  uint64_t pending_generation_ = 0;
  std::chrono::steady_clock::time_point last_change_;
  bool stopping_ = false;
  bool initial_published_ = false;
  Published published_;

  std::chrono::steady_clock::time_point started_at_;
  std::thread publisher_; // last: joined before the rest goes
};

} // namespace catalyst::envoy
