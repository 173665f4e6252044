#include "catalyst/dataplane/embedded_impl.h"

#include <algorithm>
#include <system_error>

#include <fmt/format.h>
#include <netdb.h>

#include "catalyst/common/assert.h"
#include "catalyst/dataplane/resolver.h"
#include "catalyst/dataplane/route_entry.h"
#include "catalyst/dataplane/target.h"
#include "catalyst/dataplane/worker.h"

namespace catalyst::dataplane {
namespace {

std::size_t resolveWorkerCount(std::size_t configured) {
  if (configured > 0) {
    return configured;
  }
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

// The bind address: an IP literal, or a name resolved once, here (its first address).
Result<SocketAddress> resolveBindAddress(const std::string& text) {
  if (std::optional<SocketAddress> literal = SocketAddress::fromLiteral(text, 0)) {
    return *literal;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(text.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return unavailable(fmt::format("data plane: cannot resolve the bind address '{}': {}", text,
                                   rc != 0 ? ::gai_strerror(rc) : "no address"));
  }
  SocketAddress address(found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  address.setPort(0);
  return address;
}

} // namespace

EmbeddedDataPlane::EmbeddedDataPlane(EmbeddedOptions options, Logger& logger)
    : options_(std::move(options)), logger_(logger),
      worker_count_(resolveWorkerCount(options_.workers)), owner_(std::this_thread::get_id()),
      totals_(std::make_shared<AtomicCounters>()) {}

EmbeddedDataPlane::~EmbeddedDataPlane() { stop(); }

void EmbeddedDataPlane::checkThread() const {
  CATALYST_ASSERT(std::this_thread::get_id() == owner_,
                  "the data plane is driven from its owner's thread only");
}

Status EmbeddedDataPlane::start() {
  checkThread();
  if (phase_ != Phase::Created) {
    return failedPrecondition("data plane: started already");
  }
  Result<SocketAddress> address = resolveBindAddress(options_.bind_address);
  if (!address) {
    return address.error();
  }
  resolver_ = std::make_unique<Resolver>();
  shared_ =
      std::make_unique<WorkerShared>(WorkerShared{options_, *address, logger_, *resolver_, {}});
  std::size_t started = 0;
  try {
    // A worker's loop needs an epoll and an eventfd descriptor: out of descriptors, this throws.
    for (std::size_t i = 0; i < worker_count_; ++i) {
      workers_.push_back(std::make_unique<Worker>(i, *shared_));
      shared_->workers.push_back(workers_.back().get());
    }
    for (; started < workers_.size(); ++started) {
      workers_[started]->start();
    }
  } catch (const std::system_error& e) {
    for (std::size_t i = 0; i < started; ++i) {
      workers_[i]->shutdown();
      workers_[i]->join();
    }
    workers_.clear();
    shared_.reset();
    resolver_.reset();
    return unavailable(fmt::format("data plane: cannot start its workers: {}", e.what()));
  }
  phase_ = Phase::Running;
  // What was applied before start.
  auto update = std::make_shared<RouteTableUpdate>();
  update->version = ++version_;
  for (const auto& [key, route] : routes_) {
    update->upserts.push_back(route.entry);
  }
  for (const auto& worker : workers_) {
    worker->post(update);
  }
  logger_.info("data plane: embedded, {} worker(s), listening on {} ({})", worker_count_,
               address->hostString(), options_.use_splice ? "splice" : "copy");
  return {};
}

EmbeddedDataPlane::Route EmbeddedDataPlane::makeRoute(const control::fx::DataPlaneRoute& config,
                                                      const Route* existing) {
  auto entry = std::make_shared<RouteEntry>();
  entry->route = config;
  entry->transport = transportOf(config.protocol);
  const RouteEntry* old = existing != nullptr ? existing->entry.get() : nullptr;
  entry->instance = old != nullptr ? old->instance : next_instance_++;
  entry->counters = old != nullptr ? old->counters : std::make_shared<RouteCounters>(totals_);

  Route route;
  Result<Target> target = routeTarget(config);
  if (!target) {
    route.error = target.error().message;
    entry->counters->addError(ErrorReason::InvalidTarget);
  }
  if (target) {
    entry->target_address = SocketAddress::fromLiteral(target->host, target->port);
    entry->target = *std::move(target);
  }
  // Every listener of a port lives on one worker, so its closes and binds are ordered. Port 0
  // (any port; tests) spreads by instance.
  const uint64_t spread =
      config.listen_port.value_or(0) != 0 ? *config.listen_port : entry->instance;
  entry->home = static_cast<std::size_t>(spread % worker_count_);
  if (!route.error) {
    const bool same_listener = old != nullptr && old->listener &&
                               old->route.listen_port == config.listen_port &&
                               old->transport == entry->transport;
    entry->listener = same_listener ? old->listener : std::make_shared<ListenerStatus>();
  } else {
    logger_.warn("data plane: route {} (origin {}) gets no listener: {}", config.key.name,
                 config.key.origin_node, *route.error);
  }
  route.entry = std::move(entry);
  return route;
}

void EmbeddedDataPlane::apply(const control::fx::ConfigureDataPlane& config) {
  checkThread();
  if (phase_ == Phase::Stopped) {
    return;
  }
  auto update = std::make_shared<RouteTableUpdate>();
  for (const state::RouteKey& key : config.removals) {
    auto it = routes_.find(key);
    if (it == routes_.end()) {
      continue;
    }
    it->second.entry->counters->markRemoved();
    update->removals.push_back(it->second.entry);
    routes_.erase(it);
  }
  // A route without a listen port (no port range configured, or the range is exhausted: the
  // RIB counts that) gets no listener and is not kept: a node holding 100 000 routes without
  // ports must not pay for 100 000 idle entries. Counted node-wide and logged once per change.
  std::size_t without_port = 0;
  const state::RouteKey* first_without_port = nullptr;
  for (const control::fx::DataPlaneRoute& upsert : config.upserts) {
    auto it = routes_.find(upsert.key);
    if (!upsert.listen_port) {
      ++without_port;
      first_without_port = first_without_port != nullptr ? first_without_port : &upsert.key;
      totals_->addError(ErrorReason::NoListenPort);
      if (it != routes_.end()) { // it had a port before: its listener goes
        it->second.entry->counters->markRemoved();
        update->removals.push_back(it->second.entry);
        routes_.erase(it);
      }
      continue;
    }
    Route route = makeRoute(upsert, it != routes_.end() ? &it->second : nullptr);
    update->upserts.push_back(route.entry);
    routes_.insert_or_assign(upsert.key, std::move(route));
  }
  if (without_port > 0) {
    // At most one warning a minute: a full table without ports comes in many batches.
    const auto now = std::chrono::steady_clock::now();
    const auto level = now - last_no_port_warning_ >= std::chrono::minutes(1)
                           ? spdlog::level::warn
                           : spdlog::level::debug;
    if (level == spdlog::level::warn) {
      last_no_port_warning_ = now;
    }
    logger_.log(level,
                "data plane: {} route(s) without a listen port get no listener (e.g. {} from "
                "{}): the port range is exhausted or not configured",
                without_port, first_without_port->name, first_without_port->origin_node);
  }
  if (phase_ != Phase::Running || (update->upserts.empty() && update->removals.empty())) {
    return;
  }
  update->version = ++version_;
  for (const auto& worker : workers_) {
    worker->post(update);
  }
}

DataPlaneStats EmbeddedDataPlane::stats() const {
  checkThread();
  DataPlaneStats out;
  out.workers = worker_count_;
  out.totals = totals_->load();
  out.listeners.reserve(routes_.size());
  for (const auto& [key, route] : routes_) {
    const RouteEntry& entry = *route.entry;
    ListenerStats s;
    s.route = entry.route;
    s.port = entry.route.listen_port;
    s.target = entry.target ? entry.target->toString() : "";
    s.counters = entry.counters->load();
    if (!entry.listener) {
      s.state = ListenerState::None;
      s.error = route.error;
    } else {
      s.state = entry.listener->state();
      if (s.state == ListenerState::Listening) {
        s.port = entry.listener->port();
      } else if (s.state == ListenerState::Failed) {
        s.error = fmt::format("cannot listen on {}:{}: {}", options_.bind_address,
                              entry.route.listen_port.value_or(0),
                              std::system_category().message(entry.listener->error()));
      }
    }
    out.listeners.push_back(std::move(s));
  }
  return out;
}

void EmbeddedDataPlane::stop() {
  checkThread();
  if (phase_ == Phase::Stopped) {
    return;
  }
  const bool was_running = phase_ == Phase::Running;
  phase_ = Phase::Stopped;
  if (!was_running) {
    return;
  }
  for (const auto& worker : workers_) {
    worker->shutdown();
  }
  for (const auto& worker : workers_) {
    worker->join();
  }
  // Answers it gives from now on go to loops that no longer run (runLeftovers below); stopped
  // before the loops go.
  resolver_->stop();
  // Connections handed from one worker to another during the shutdown: closed here, now that no
  // worker thread runs.
  for (bool again = true; again;) {
    again = false;
    for (const auto& worker : workers_) {
      again = worker->runLeftovers() > 0 || again;
    }
  }
  workers_.clear();
  shared_.reset();
  resolver_.reset();
  logger_.info("data plane: stopped");
}

} // namespace catalyst::dataplane
