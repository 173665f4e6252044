#include "catalyst/dataplane/event_loop.h"

#include <array>
#include <cerrno>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace catalyst::dataplane {
namespace {

// Events taken per epoll_wait.
constexpr int kMaxEvents = 256;

std::system_error lastSystemError(const char* what) {
  return {errno, std::system_category(), what};
}

} // namespace

EventLoop::EventLoop() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!epoll_.valid()) {
    throw lastSystemError("epoll_create1");
  }
  wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_.valid()) {
    throw lastSystemError("eventfd");
  }
  if (const std::error_code ec = add(wake_.get(), EPOLLIN, &waker_)) {
    throw std::system_error(ec, "epoll_ctl");
  }
}

EventLoop::~EventLoop() {
  // Tasks and timers still queued are destroyed without running (what they own is released).
  // Destroying one may queue another (an object it owned lets go of one of its own): until
  // nothing is left, and never while a container is being cleared.
  while (true) {
    std::vector<Task> deferred = std::exchange(deferred_, {});
    std::map<TimerId, Task> timers = std::exchange(timers_, {});
    std::vector<Task> posted;
    {
      const std::lock_guard lock(mutex_);
      posted.swap(posted_);
    }
    if (deferred.empty() && timers.empty() && posted.empty()) {
      return;
    }
  }
}

std::error_code EventLoop::add(int fd, uint32_t events, Handler* handler) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = handler;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return {errno, std::system_category()};
  }
  return {};
}

void EventLoop::remove(int fd) { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::post(Task task) {
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    posted_.push_back(std::move(task));
    wake = !std::exchange(wake_pending_, true);
  }
  if (wake) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof(one));
  }
}

void EventLoop::Waker::onEvents(uint32_t /*events*/) {
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(loop_.wake_.get(), &count, sizeof(count));
  loop_.runPosted();
}

void EventLoop::defer(Task task) { deferred_.push_back(std::move(task)); }

EventLoop::TimerId EventLoop::runAfter(Clock::duration delay, Task task) {
  const TimerId id{Clock::now() + delay, next_timer_++};
  timers_.emplace(id, std::move(task));
  return id;
}

void EventLoop::cancel(const TimerId& id) { timers_.erase(id); }

int EventLoop::timeoutMs() {
  if (!deferred_.empty() || stopped_) {
    return 0;
  }
  if (timers_.empty()) {
    return -1;
  }
  const auto left = timers_.begin()->first.first - Clock::now();
  if (left <= Clock::duration::zero()) {
    return 0;
  }
  // Rounded up: a timer never fires early.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 60'000 ? 60'000 : static_cast<int>(ms);
}

void EventLoop::runTimers() {
  if (timers_.empty()) {
    return;
  }
  const Clock::time_point now = Clock::now();
  // Timers armed by a timer's task wait for the next turn, even when already due.
  const uint64_t last = next_timer_;
  while (!timers_.empty() && timers_.begin()->first.first <= now &&
         timers_.begin()->first.second < last) {
    auto node = timers_.extract(timers_.begin());
    node.mapped()();
  }
}

std::size_t EventLoop::runPosted() {
  std::vector<Task> tasks;
  {
    const std::lock_guard lock(mutex_);
    tasks.swap(posted_);
    wake_pending_ = false;
  }
  for (Task& task : tasks) {
    task();
  }
  return tasks.size();
}

std::size_t EventLoop::runDeferred() {
  std::size_t ran = 0;
  // A deferred task may defer another: that one runs in the next turn, after new events.
  std::vector<Task> tasks;
  tasks.swap(deferred_);
  for (Task& task : tasks) {
    task();
    ++ran;
  }
  return ran;
}

void EventLoop::run() {
  std::array<epoll_event, kMaxEvents> events{};
  while (!stopped_) {
    const int n = ::epoll_wait(epoll_.get(), events.data(), kMaxEvents, timeoutMs());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw lastSystemError("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      static_cast<Handler*>(events[static_cast<std::size_t>(i)].data.ptr)
          ->onEvents(events[static_cast<std::size_t>(i)].events);
    }
    runTimers();
    runDeferred();
  }
}

std::size_t EventLoop::runPending() {
  std::size_t ran = 0;
  while (true) {
    const std::size_t n = runPosted() + runDeferred();
    if (n == 0) {
      return ran;
    }
    ran += n;
  }
}

} // namespace catalyst::dataplane
