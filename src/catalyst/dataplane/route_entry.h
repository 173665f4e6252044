#pragma once

// What the control thread hands the workers: immutable route entries, and the few atomics the
// two sides share (counters, a removal flag, listener states). Internal to the data plane.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "catalyst/control/effect.h"
#include "catalyst/dataplane/dataplane.h"
#include "catalyst/dataplane/socket_address.h"
#include "catalyst/dataplane/target.h"

namespace catalyst::dataplane {

// Counters written by workers (relaxed atomics) and read by stats().
class AtomicCounters {
public:
  void addConnection() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void addActive(int64_t delta) { active_.fetch_add(delta, std::memory_order_relaxed); }
  void addBytesIn(uint64_t n) { bytes_in_.fetch_add(n, std::memory_order_relaxed); }
  void addBytesOut(uint64_t n) { bytes_out_.fetch_add(n, std::memory_order_relaxed); }
  void addSpliced() { spliced_.fetch_add(1, std::memory_order_relaxed); }
  void addError(ErrorReason reason) {
    errors_.at(static_cast<std::size_t>(reason)).fetch_add(1, std::memory_order_relaxed);
  }

  Counters load() const;

private:
  std::atomic<uint64_t> connections_{0};
  std::atomic<int64_t> active_{0};
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> bytes_out_{0};
  std::atomic<uint64_t> spliced_{0};
  std::array<std::atomic<uint64_t>, kErrorReasonCount> errors_{};
};

// The counters of one route (kept across its upserts), each event also counted in the data
// plane's totals.
class RouteCounters {
public:
  explicit RouteCounters(std::shared_ptr<AtomicCounters> totals) : totals_(std::move(totals)) {}

  void addConnection() {
    route_.addConnection();
    totals_->addConnection();
  }
  void addActive(int64_t delta) {
    route_.addActive(delta);
    totals_->addActive(delta);
  }
  void addBytesIn(uint64_t n) {
    route_.addBytesIn(n);
    totals_->addBytesIn(n);
  }
  void addBytesOut(uint64_t n) {
    route_.addBytesOut(n);
    totals_->addBytesOut(n);
  }
  void addSpliced() {
    route_.addSpliced();
    totals_->addSpliced();
  }
  void addError(ErrorReason reason) {
    route_.addError(reason);
    totals_->addError(reason);
  }

  Counters load() const { return route_.load(); }

  // Set by the control thread before it posts the route's removal: a connection a worker
  // adopts after that drains at once.
  void markRemoved() { removed_.store(true, std::memory_order_release); }
  bool removed() const { return removed_.load(std::memory_order_acquire); }

private:
  AtomicCounters route_;
  std::shared_ptr<AtomicCounters> totals_;
  std::atomic<bool> removed_{false};
};

// One listener of a route, from its creation until its port or transport changes (then the
// route gets a new one). Written by the worker that owns it, read by stats().
class ListenerStatus {
public:
  void setListening(uint16_t port) {
    port_.store(port, std::memory_order_relaxed);
    error_.store(0, std::memory_order_relaxed);
    state_.store(ListenerState::Listening, std::memory_order_release);
  }
  // `error`: the errno of the failed bind or listen.
  void setFailed(int error) {
    error_.store(error, std::memory_order_relaxed);
    state_.store(ListenerState::Failed, std::memory_order_release);
  }

  ListenerState state() const { return state_.load(std::memory_order_acquire); }
  uint16_t port() const { return port_.load(std::memory_order_relaxed); }
  int error() const { return error_.load(std::memory_order_relaxed); }

private:
  std::atomic<ListenerState> state_{ListenerState::Pending};
  std::atomic<uint16_t> port_{0};
  std::atomic<int> error_{0};
};

enum class Transport { Tcp, Udp };

// Http, HttpGraphql, HttpGql, HttpGrpc and Tcp are all carried as TCP; Udp as UDP.
Transport transportOf(state::Protocol protocol);

// One route as the workers see it. Immutable once posted; an upsert posts a new entry.
struct RouteEntry {
  uint64_t instance = 0; // the route's identity from its add to its removal
  control::fx::DataPlaneRoute route;
  Transport transport = Transport::Tcp;
  std::optional<Target> target;
  // The target's socket address when its host is an IP literal; a name is resolved per
  // connection (or UDP flow).
  std::optional<SocketAddress> target_address;
  std::size_t home = 0; // the worker that owns the listener (all listeners of a port share one)
  std::shared_ptr<RouteCounters> counters;
  // Unset when the route has no listener (no port, no target). The same object across upserts
  // that keep the port and transport: a worker keeps its listener while this stays the same.
  std::shared_ptr<ListenerStatus> listener;
};

using RouteEntryConstSharedPtr = std::shared_ptr<const RouteEntry>;

// One change of the route table, posted to every worker: the entries that are new or changed,
// and the last entries of the routes removed. Each worker applies the changes in order, so the
// cost of an update is that of the change, not of the table.
struct RouteTableUpdate {
  uint64_t version = 0;
  std::vector<RouteEntryConstSharedPtr> upserts;
  std::vector<RouteEntryConstSharedPtr> removals;
};

using RouteTableUpdateConstSharedPtr = std::shared_ptr<const RouteTableUpdate>;

} // namespace catalyst::dataplane
