#include "catalyst/dataplane/worker.h"

#include <csignal>

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
    : index_(index), shared_(shared), scratch_(kMaxDatagram) {}

Worker::~Worker() {
  CATALYST_ASSERT(!thread_.joinable(), "a worker is joined before it is destroyed");
  // Normally empty by now (closeAll and runLeftovers); this keeps the order safe regardless:
  // listeners and sessions close their descriptors and timers while the loop lives, and tasks
  // still queued (which may own sessions that report to sessions_) run or die before the maps.
  closeAll();
  loop_.runPending();
}

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::run() {
  blockSignals();
  loop_.run();
}

void Worker::post(RouteTableUpdateConstSharedPtr update) {
  loop_.post([this, update = std::move(update)] { onUpdate(*update); });
}

void Worker::shutdown() {
  loop_.post([this] {
    closeAll();
    loop_.stop();
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
  return loop_.runPending();
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
  std::unique_ptr<Listener> listener;
  if (entry->transport == Transport::Udp) {
    listener = std::make_unique<UdpListener>(*this, entry);
  } else {
    listener = std::make_unique<TcpListener>(*this, entry);
  }
  const control::fx::DataPlaneRoute& route = entry->route;
  if (const std::error_code ec = listener->open()) {
    entry->counters->addError(ErrorReason::Bind);
    entry->listener->setFailed(ec.value());
    logger().error("data plane: route {} (origin {}) cannot listen on {} {}:{}: {}", route.key.name,
                   route.key.origin_node, entry->transport == Transport::Udp ? "udp" : "tcp",
                   shared_.bind_address.hostString(), route.listen_port.value_or(0), ec.message());
    return;
  }
  entry->listener->setListening(listener->port());
  logger().info("data plane: route {} (origin {}, {}) listening on {}:{} -> {}", route.key.name,
                route.key.origin_node, state::toString(route.protocol),
                shared_.bind_address.hostString(), listener->port(), entry->target->toString());
  listeners_.emplace(entry->instance, std::move(listener));
}

void Worker::closeListener(uint64_t instance) {
  auto it = listeners_.find(instance);
  if (it == listeners_.end()) {
    return;
  }
  it->second->close();
  // Its events may still be in this turn's batch: it goes once they are handled.
  loop_.defer([listener = std::move(it->second)] {});
  listeners_.erase(it);
}

void Worker::accepted(RouteEntryConstSharedPtr entry, Fd client) {
  Worker* least = this;
  for (Worker* w : shared_.workers) {
    if (w->load() < least->load()) {
      least = w;
    }
  }
  if (least->load() + 2 > load()) {
    least = this;
  }
  least->load_.fetch_add(1, std::memory_order_relaxed);
  if (least == this) {
    adopt(std::move(entry), std::move(client));
    return;
  }
  least->postTask([least, entry = std::move(entry), client = std::move(client)]() mutable {
    least->adopt(std::move(entry), std::move(client));
  });
}

void Worker::adopt(RouteEntryConstSharedPtr entry, Fd client) {
  if (stopping_) {
    load_.fetch_sub(1, std::memory_order_relaxed);
    return; // `client` closes
  }
  const uint64_t instance = entry->instance;
  const uint64_t id = next_session_id_++;
  auto owned = std::make_unique<TcpSession>(*this, std::move(entry), std::move(client), id);
  TcpSession& session = *owned;
  sessions_[instance].by_id.emplace(id, std::move(owned));
  // Accepted just before the route's removal reached this worker: it drains like the others.
  if (session.entry().counters->removed()) {
    drain(instance);
  }
  session.start();
}

void Worker::sessionEnded(uint64_t instance, uint64_t id) {
  load_.fetch_sub(1, std::memory_order_relaxed);
  auto it = sessions_.find(instance);
  if (it == sessions_.end()) {
    return;
  }
  if (auto found = it->second.by_id.find(id); found != it->second.by_id.end()) {
    // Its events may still be in this turn's batch (or it is the caller): it goes once they are
    // handled.
    loop_.defer([session = std::move(found->second)] {});
    it->second.by_id.erase(found);
  }
  if (it->second.by_id.empty()) {
    sessions_.erase(it); // cancels a drain timer, if any
  }
}

std::error_code Worker::addAcceptor(ListenSocketSharedPtr socket) {
  if (stopping_) {
    return {};
  }
  const ListenSocket* key = socket.get();
  auto acceptor = std::make_unique<TcpAcceptor>(*this, std::move(socket));
  if (const std::error_code ec = acceptor->watch()) {
    return ec;
  }
  acceptors_.emplace(key, std::move(acceptor));
  return {};
}

void Worker::removeAcceptor(const ListenSocket* socket) {
  auto it = acceptors_.find(socket);
  if (it == acceptors_.end()) {
    return;
  }
  it->second->unwatch();
  // Its events may still be in this turn's batch: it goes once they are handled.
  loop_.defer([acceptor = std::move(it->second)] {});
  acceptors_.erase(it);
}

TcpSession* Worker::findSession(uint64_t instance, uint64_t id) {
  auto it = sessions_.find(instance);
  if (it == sessions_.end()) {
    return nullptr;
  }
  auto found = it->second.by_id.find(id);
  return found == it->second.by_id.end() ? nullptr : found->second.get();
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
  it->second.drain = std::make_unique<Timer>(loop_);
  it->second.drain->after(options().drain_timeout, [this, instance] {
    closeSessions(instance, "the drain timeout of its removed route passed");
  });
}

void Worker::closeSessions(uint64_t instance, std::string_view why) {
  auto it = sessions_.find(instance);
  if (it == sessions_.end()) {
    return;
  }
  // Collected first: a session that ends while being closed leaves the map.
  std::vector<uint64_t> open;
  open.reserve(it->second.by_id.size());
  for (const auto& [id, session] : it->second.by_id) {
    open.push_back(id);
  }
  if (!open.empty()) {
    const RouteEntry& entry = it->second.by_id.begin()->second->entry();
    logger().info("data plane: closing {} connection(s) of route {} (origin {}): {}", open.size(),
                  entry.route.key.name, entry.route.key.origin_node, why);
  }
  for (const uint64_t id : open) {
    if (TcpSession* session = findSession(instance, id)) {
      session->close();
    }
  }
}

void Worker::closeAll() {
  stopping_ = true;
  connect_sweep_.cancel();
  connects_.clear();
  for (auto& [instance, listener] : listeners_) {
    listener->close();
    loop_.defer([owned = std::move(listener)] {});
  }
  listeners_.clear();
  for (auto& [socket, acceptor] : acceptors_) {
    acceptor->unwatch();
    loop_.defer([owned = std::move(acceptor)] {});
  }
  acceptors_.clear();
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

void Worker::watchConnect(uint64_t instance, uint64_t id) {
  connects_.emplace_back(std::chrono::steady_clock::now() + options().connect_timeout, instance,
                         id);
  armConnectSweep();
}

void Worker::armConnectSweep() {
  if (connect_sweep_.armed() || connects_.empty() || stopping_) {
    return;
  }
  // Every quarter of the timeout (4 times a second at most) while connections are pending: a
  // deadline is kept to within that much.
  const auto granularity = std::min<std::chrono::steady_clock::duration>(
      options().connect_timeout / 4, std::chrono::milliseconds(250));
  connect_sweep_.after(granularity, [this] { sweepConnects(); });
}

void Worker::sweepConnects() {
  const auto now = std::chrono::steady_clock::now();
  while (!connects_.empty() && std::get<0>(connects_.front()) <= now) {
    const auto [deadline, instance, id] = connects_.front();
    connects_.pop_front();
    if (TcpSession* session = findSession(instance, id)) {
      session->connectDeadline();
    }
  }
  // Entries of sessions that connected (or ended) meanwhile go now rather than at their
  // deadline, so the table holds about a sweep interval's worth of new connections.
  std::erase_if(connects_, [this](const auto& entry) {
    const TcpSession* session = findSession(std::get<1>(entry), std::get<2>(entry));
    return session == nullptr || !session->connecting();
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
