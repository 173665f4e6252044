#include "catalyst/dataplane/worker.h"

#include <csignal>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <pthread.h>

#include "catalyst/common/assert.h"
#include "catalyst/dataplane/tcp_listener.h"
#include "catalyst/dataplane/tcp_session.h"
#include "catalyst/dataplane/udp_listener.h"

namespace catalyst::dataplane {
namespace {

// The largest UDP payload (IPv4: 65535 - 20 - 8; IPv6 jumbograms aside).
constexpr std::size_t kMaxDatagram = 65'536;

// Asynchronous signals go to the control thread (its signal_set), never to a worker. SIGPIPE in
// particular: splice(2) into a socket whose peer is gone raises it (send(2) has MSG_NOSIGNAL,
// splice has no such flag); blocked here, the call just fails with EPIPE. Faults still kill.
void blockSignals() {
  sigset_t set;
  sigfillset(&set);
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) {
    sigdelset(&set, fault);
  }
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

} // namespace

Worker::Worker(std::size_t index, const WorkerShared& shared)
    : index_(index), shared_(shared), datagram_buffer_(kMaxDatagram) {
  work_.emplace(io_context_.get_executor());
}

Worker::~Worker() {
  CATALYST_ASSERT(!thread_.joinable(), "a worker is joined before it is destroyed");
  // Normally empty by now (closeAll and runLeftovers); this keeps the order safe regardless:
  // listeners and timers go while the io_context lives, and handlers still queued (which may
  // hold sessions that report to sessions_) run or die before the maps do.
  listeners_.clear();
  for (auto& [instance, sessions] : sessions_) {
    sessions.drain.reset();
  }
  work_.reset();
  io_context_.restart();
  while (io_context_.poll() > 0) {
  }
}

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::run() {
  blockSignals();
  io_context_.run();
}

void Worker::post(RouteTableUpdateConstSharedPtr update) {
  boost::asio::post(io_context_, [this, update = std::move(update)] { onUpdate(*update); });
}

void Worker::shutdown() {
  boost::asio::post(io_context_, [this] {
    closeAll();
    work_.reset();
  });
}

void Worker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::size_t Worker::runLeftovers() {
  CATALYST_ASSERT(!thread_.joinable(), "leftovers run once the thread has ended");
  stopping_ = true;
  io_context_.restart();
  std::size_t ran = 0;
  while (const std::size_t n = io_context_.poll()) {
    ran += n;
  }
  return ran;
}

void Worker::onUpdate(const RouteTableUpdate& update) {
  if (stopping_) {
    return;
  }
  // Closes first, then opens: a port freed by one route and taken by another in the same update
  // is free again by the time it is bound (both listeners live on this worker: see home).
  for (const RouteEntryConstSharedPtr& removed : update.removals) {
    closeListener(removed->instance);
    drain(removed->instance);
  }
  for (const RouteEntryConstSharedPtr& entry : update.upserts) {
    auto it = listeners_.find(entry->instance);
    if (it != listeners_.end() &&
        (entry->home != index_ || it->second->entry()->listener != entry->listener)) {
      closeListener(entry->instance);
    }
  }
  for (const RouteEntryConstSharedPtr& entry : update.upserts) {
    if (!entry->listener || entry->home != index_) {
      continue;
    }
    if (auto it = listeners_.find(entry->instance); it != listeners_.end()) {
      it->second->setEntry(entry); // only the target changed
    } else {
      openListener(entry);
    }
  }
}

void Worker::openListener(const RouteEntryConstSharedPtr& entry) {
  ListenerSharedPtr listener;
  if (entry->transport == Transport::Udp) {
    listener = std::make_shared<UdpListener>(*this, entry);
  } else {
    listener = std::make_shared<TcpListener>(*this, entry);
  }
  const control::fx::DataPlaneRoute& route = entry->route;
  if (const boost::system::error_code ec = listener->open()) {
    entry->counters->addError(ErrorReason::Bind);
    entry->listener->setFailed(ec.value());
    logger().error("data plane: route {} (origin {}) cannot listen on {} {}:{}: {}", route.key.name,
                   route.key.origin_node, entry->transport == Transport::Udp ? "udp" : "tcp",
                   shared_.bind_address.to_string(), route.listen_port.value_or(0), ec.message());
    return;
  }
  entry->listener->setListening(listener->port());
  logger().info("data plane: route {} (origin {}, {}) listening on {}:{} -> {}", route.key.name,
                route.key.origin_node, state::toString(route.protocol),
                shared_.bind_address.to_string(), listener->port(), entry->target->toString());
  listeners_.emplace(entry->instance, std::move(listener));
}

void Worker::closeListener(uint64_t instance) {
  auto it = listeners_.find(instance);
  if (it == listeners_.end()) {
    return;
  }
  it->second->close();
  listeners_.erase(it);
}

void Worker::adopt(RouteEntryConstSharedPtr entry, boost::asio::ip::tcp::socket client) {
  if (stopping_) {
    load_.fetch_sub(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    client.close(ignored);
    return;
  }
  const uint64_t instance = entry->instance;
  const uint64_t id = next_session_id_++;
  // Not make_shared: the deadline sweep's weak_ptr must not keep a dead session's memory.
  std::shared_ptr<TcpSession> session(
      new TcpSession(*this, std::move(entry), std::move(client), id));
  sessions_[instance].by_id.emplace(id, session);
  // Accepted just before the route's removal reached this worker: it drains like the others.
  if (session->entry().counters->removed()) {
    drain(instance);
  }
  session->start();
}

void Worker::sessionEnded(uint64_t instance, uint64_t id) {
  load_.fetch_sub(1, std::memory_order_relaxed);
  auto it = sessions_.find(instance);
  if (it == sessions_.end()) {
    return;
  }
  it->second.by_id.erase(id);
  if (it->second.by_id.empty()) {
    sessions_.erase(it); // cancels a drain timer, if any
  }
}

void Worker::drain(uint64_t instance) {
  auto it = sessions_.find(instance);
  if (it == sessions_.end() || it->second.drain) {
    return; // nothing open here, or draining already
  }
  if (options().drain_timeout.count() <= 0) {
    closeSessions(instance, "its route was removed (no drain timeout)");
    return;
  }
  it->second.drain = std::make_unique<boost::asio::steady_timer>(io_context_);
  it->second.drain->expires_after(options().drain_timeout);
  it->second.drain->async_wait([this, instance](const boost::system::error_code& ec) {
    if (!ec) {
      closeSessions(instance, "the drain timeout of its removed route passed");
    }
  });
}

void Worker::closeSessions(uint64_t instance, std::string_view why) {
  auto it = sessions_.find(instance);
  if (it == sessions_.end()) {
    return;
  }
  // Collected first: a session that ends while being closed leaves the map.
  std::vector<std::shared_ptr<TcpSession>> open;
  for (const auto& [id, weak] : it->second.by_id) {
    if (auto session = weak.lock()) {
      open.push_back(std::move(session));
    }
  }
  if (!open.empty()) {
    logger().info("data plane: closing {} connection(s) of route {} (origin {}): {}", open.size(),
                  open.front()->entry().route.key.name, open.front()->entry().route.key.origin_node,
                  why);
  }
  for (const auto& session : open) {
    session->close();
  }
}

void Worker::closeAll() {
  stopping_ = true;
  if (connect_sweep_) {
    connect_sweep_->cancel();
  }
  connects_.clear();
  for (auto& [instance, listener] : listeners_) {
    listener->close();
  }
  listeners_.clear();
  std::vector<uint64_t> instances;
  instances.reserve(sessions_.size());
  for (auto& [instance, sessions] : sessions_) {
    sessions.drain.reset();
    instances.push_back(instance);
  }
  for (uint64_t instance : instances) {
    closeSessions(instance, "the data plane is stopping");
  }
}

void Worker::watchConnect(std::weak_ptr<TcpSession> session) {
  connects_.emplace_back(std::chrono::steady_clock::now() + options().connect_timeout,
                         std::move(session));
  armConnectSweep();
}

void Worker::armConnectSweep() {
  if (connect_sweep_armed_ || connects_.empty() || stopping_) {
    return;
  }
  if (!connect_sweep_) {
    connect_sweep_.emplace(io_context_);
  }
  // Every quarter of the timeout (4 times a second at most) while connections are pending: a
  // deadline is kept to within that much.
  const auto granularity = std::min<std::chrono::steady_clock::duration>(
      options().connect_timeout / 4, std::chrono::milliseconds(250));
  connect_sweep_->expires_after(granularity);
  connect_sweep_armed_ = true;
  connect_sweep_->async_wait([this](const boost::system::error_code& ec) {
    connect_sweep_armed_ = false;
    if (!ec) {
      sweepConnects();
    }
  });
}

void Worker::sweepConnects() {
  const auto now = std::chrono::steady_clock::now();
  while (!connects_.empty() && connects_.front().first <= now) {
    std::shared_ptr<TcpSession> session = connects_.front().second.lock();
    connects_.pop_front();
    if (session) {
      session->connectDeadline();
    }
  }
  // Entries of sessions that connected (or ended) meanwhile go now rather than at their
  // deadline, so the table holds about a sweep interval's worth of new connections.
  std::erase_if(connects_, [](const auto& entry) {
    const std::shared_ptr<TcpSession> session = entry.second.lock();
    return !session || !session->connecting();
  });
  armConnectSweep();
}

bool Worker::mayWarnConnectFailure() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_connect_warning_ < std::chrono::seconds(1)) {
    return false;
  }
  last_connect_warning_ = now;
  return true;
}

} // namespace catalyst::dataplane
