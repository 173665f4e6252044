#include "catalyst/envoy/envoy_data_plane.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "catalyst/dataplane/target.h"

namespace catalyst::envoy {

namespace {

std::string errnoText(int error) { return std::strerror(error); }

// Writes `content` to `path` so that readers see the old file or the new one, never a part:
// a temporary file in the same directory, fsync, rename(2) over `path`, fsync of the directory.
Status replaceFile(const std::string& dir, const std::string& name, const std::string& content) {
  const std::string path = dir + "/" + name;
  const std::string temp = fmt::format("{}/.{}.tmp", dir, name);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return unavailable(fmt::format("{}: {}", temp, errnoText(errno)));
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return unavailable(fmt::format("{}: {}", temp, errnoText(error)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return unavailable(fmt::format("{}: {}", temp, errnoText(error)));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return unavailable(fmt::format("rename to {}: {}", path, errnoText(error)));
  }
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

// The version_info of a DiscoveryResponse file, or "" (missing, unreadable, not ours).
std::string fileVersion(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return "";
  }
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text.str(), ec);
  if (ec || !v.is_object()) {
    return "";
  }
  const boost::json::value* version = v.as_object().if_contains("version_info");
  return version != nullptr && version->is_string() ? std::string(version->as_string()) : "";
}

} // namespace

FileSink::FileSink(std::string dir) : dir_(std::move(dir)) {}

std::string FileSink::clustersPath() const { return dir_ + "/cds.json"; }
std::string FileSink::listenersPath() const { return dir_ + "/lds.json"; }

Status FileSink::start() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return unavailable(fmt::format("Envoy files directory {}: {}", dir_, ec.message()));
  }
  clusters_version_ = fileVersion(clustersPath());
  listeners_version_ = fileVersion(listenersPath());
  had_files_ = !clusters_version_.empty() || !listeners_version_.empty();
  return {};
}

Status FileSink::publish(const Snapshot& snapshot) {
  // Clusters first: new listeners may send to new clusters. A failure stops here, so Envoy
  // never gets listeners whose clusters it lacks.
  if (snapshot.clusters.version != clusters_version_) {
    if (auto st = replaceFile(dir_, "cds.json", snapshot.clusters.discoveryResponseJson()); !st) {
      return st;
    }
    clusters_version_ = snapshot.clusters.version;
  }
  if (snapshot.listeners.version != listeners_version_) {
    if (auto st = replaceFile(dir_, "lds.json", snapshot.listeners.discoveryResponseJson()); !st) {
      return st;
    }
    listeners_version_ = snapshot.listeners.version;
  }
  return {};
}

EnvoyDataPlane::EnvoyDataPlane(EnvoyDataPlaneOptions options, SnapshotSinkPtr sink, Logger& logger)
    : options_(std::move(options)), sink_(std::move(sink)), logger_(logger) {}

EnvoyDataPlane::~EnvoyDataPlane() { stop(); }

Status EnvoyDataPlane::start() {
  if (started_ || stopped_) {
    return {};
  }
  if (auto st = sink_->start(); !st) {
    return st;
  }
  started_ = true;
  started_at_ = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    // The routes applied before start() go out in the first snapshot.
    control::fx::ConfigureDataPlane all;
    for (const auto& [key, route] : routes_) {
      all.upserts.push_back(route.route);
    }
    pending_.push_back(std::move(all));
    pending_generation_ = generation_;
    last_change_ = started_at_;
  }
  publisher_ = std::thread([this] { run(); });
  return {};
}

void EnvoyDataPlane::apply(const control::fx::ConfigureDataPlane& config) {
  if (stopped_) {
    return;
  }
  ++generation_;
  for (const state::RouteKey& key : config.removals) {
    routes_.erase(key);
  }
  for (const control::fx::DataPlaneRoute& route : config.upserts) {
    routes_[route.key] = Route{route, generation_};
  }
  if (!started_) {
    return;
  }
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(config);
    pending_generation_ = generation_;
    last_change_ = std::chrono::steady_clock::now();
  }
  wake_.notify_one();
}

// Waits until there is something to publish and the burst is over (or stop). Returns false on
// stop.
bool EnvoyDataPlane::waitForWork(std::unique_lock<std::mutex>& lock) {
  using Clock = std::chrono::steady_clock;
  wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
  const Clock::time_point burst_start = Clock::now();
  while (!stopping_) {
    Clock::time_point due =
        std::min(last_change_ + options_.debounce, burst_start + options_.max_delay);
    if (!initial_published_ && sink_->mayHaveEarlierConfig()) {
      due = std::max(due, started_at_ + options_.startup_hold);
    }
    if (Clock::now() >= due) {
      return true;
    }
    wake_.wait_until(lock, due);
  }
  return false;
}

void EnvoyDataPlane::run() {
  SnapshotBuilder builder(options_.render);
  std::unique_lock lock(mutex_);
  while (waitForWork(lock)) {
    std::vector<control::fx::ConfigureDataPlane> changes;
    changes.swap(pending_);
    const uint64_t generation = pending_generation_;
    lock.unlock();

    for (const control::fx::ConfigureDataPlane& change : changes) {
      builder.apply(change);
    }
    const Snapshot snapshot = builder.build();
    const Status published = sink_->publish(snapshot);
    if (!published) {
      logger_.error("envoy: could not publish clusters {} / listeners {}: {}",
                    snapshot.clusters.version, snapshot.listeners.version,
                    published.error().message);
    } else {
      logger_.debug("envoy: published {} clusters (version {}), {} listeners (version {})",
                    snapshot.clusters.resources.size(), snapshot.clusters.version,
                    snapshot.listeners.resources.size(), snapshot.listeners.version);
    }

    lock.lock();
    initial_published_ = true;
    dataplane::EnvoyStats& s = published_.stats;
    if (published) {
      ++s.publishes;
      s.clusters_version = snapshot.clusters.version;
      s.listeners_version = snapshot.listeners.version;
      published_.generation = generation;
      published_.problems.clear();
      for (const RouteProblem& p : snapshot.problems) {
        published_.problems.emplace(p.key, p);
      }
    } else {
      ++s.failures;
      s.last_error = published.error().message;
      // Try again with the next change; until then Envoy keeps what it had.
    }
  }
}

dataplane::DataPlaneStats EnvoyDataPlane::stats() const {
  dataplane::DataPlaneStats out;
  std::lock_guard lock(mutex_);
  out.envoy = published_.stats;
  sink_->addStats(*out.envoy);
  out.listeners.reserve(routes_.size());
  for (const auto& [key, r] : routes_) {
    dataplane::ListenerStats l;
    l.route = r.route;
    l.port = r.route.listen_port;
    if (Result<dataplane::Target> target = dataplane::routeTarget(r.route)) {
      l.target = target->toString();
    }
    if (r.generation > published_.generation) {
      l.state = dataplane::ListenerState::Pending;
    } else if (auto p = published_.problems.find(key); p != published_.problems.end()) {
      l.state = dataplane::ListenerState::None;
      l.error = p->second.message;
      l.counters.errors.at(static_cast<std::size_t>(p->second.reason)) = 1;
    } else {
      l.state = dataplane::ListenerState::Configured;
    }
    for (std::size_t i = 0; i < dataplane::kErrorReasonCount; ++i) {
      out.totals.errors.at(i) += l.counters.errors.at(i);
    }
    out.listeners.push_back(std::move(l));
  }
  return out;
}

void EnvoyDataPlane::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (publisher_.joinable()) {
    publisher_.join();
  }
  if (started_) {
    sink_->stop();
  }
}

} // namespace catalyst::envoy
