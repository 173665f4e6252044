#include "catalyst/dataplane/resolver.h"

#include <netdb.h>

namespace catalyst::dataplane {
namespace {

Resolution lookUp(const std::string& host, uint16_t port, int socktype) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  Resolution out;
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    out.error = ::gai_strerror(rc);
    return out;
  }
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET || a->ai_family == AF_INET6) {
      out.addresses.emplace_back(a->ai_addr, a->ai_addrlen);
    }
  }
  ::freeaddrinfo(found);
  if (out.addresses.empty()) {
    out.error = "no IPv4 or IPv6 address";
  }
  return out;
}

} // namespace

void Resolver::resolve(std::string host, uint16_t port, int socktype, EventLoop& reply_to,
                       Done done) {
  const std::lock_guard lock(mutex_);
  if (stopping_) {
    return;
  }
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { run(); });
  }
  queue_.push_back(Request{std::move(host), port, socktype, &reply_to, std::move(done)});
  wake_.notify_one();
}

void Resolver::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Resolver::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) {
      return;
    }
    Request request = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Resolution result = lookUp(request.host, request.port, request.socktype);
    request.reply_to->post([done = std::move(request.done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
    lock.lock();
  }
}

} // namespace catalyst::dataplane
