#pragma once

// The event loop of a data-plane worker: epoll, edge-triggered, with no speculative I/O of its
// own. Internal to the data plane.
//
// Why not Asio here: Asio's reactor reads speculatively before it waits (a recv that fails with
// EAGAIN on most new operations), switches every socket to non-blocking with an ioctl, and
// checks a finished connect with poll and getsockopt; that is about a third of the system calls
// of a short proxied connection. Here sockets are created non-blocking, registered once for
// everything they will ever wait for, and the owner of a socket keeps its own readiness (what
// the last event said, until a call returns EAGAIN), so a call is made only when it can succeed.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

#include "catalyst/common/fd.h"

namespace catalyst::dataplane {

// A move-only callable taking nothing (std::function needs copyable targets; a task may carry
// an open descriptor or an object it owns).
class Task {
public:
  Task() = default;
  template <typename F>
  requires std::invocable<F&> Task(F f) // NOLINT(google-explicit-constructor): a lambda is a task
      : impl_(std::make_unique<Impl<F>>(std::move(f))) {}

  explicit operator bool() const { return impl_ != nullptr; }
  void operator()() { impl_->run(); }

private:
  struct Base {
    virtual ~Base() = default;
    virtual void run() = 0;
  };
  template <typename F> struct Impl final : Base {
    explicit Impl(F fn) : f(std::move(fn)) {}
    void run() override { f(); }
    F f;
  };
  std::unique_ptr<Base> impl_;
};

class EventLoop {
public:
  // What is told of the events of a registered descriptor.
  class Handler {
  public:
    // `events`: EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR as epoll reported them.
    virtual void onEvents(uint32_t events) = 0;

  protected:
    ~Handler() = default;
  };

  using Clock = std::chrono::steady_clock;
  using TimerId = std::pair<Clock::time_point, uint64_t>;

  // Throws std::system_error when the epoll or eventfd descriptor cannot be made.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  EventLoop(EventLoop&&) = delete;
  EventLoop& operator=(EventLoop&&) = delete;

  // Thread-safe: runs `task` on the loop's thread (or in runPosted() once the loop has ended).
  void post(Task task);

  // The members below are for the loop's thread only.

  // Registers `fd` for `events` (EPOLLET for edge-triggered); `handler` must stay alive until
  // the descriptor is closed or removed. Closing a descriptor removes it.
  std::error_code add(int fd, uint32_t events, Handler* handler);
  void remove(int fd);
  // Runs `task` once the events of the current turn are handled (before the loop waits again).
  // Used to yield, and to destroy an object whose events may still be in the current batch.
  void defer(Task task);
  // Runs `task` once `delay` has passed (to within a millisecond); cancel() before that stops it.
  TimerId runAfter(Clock::duration delay, Task task);
  void cancel(const TimerId& id);

  // Runs until stop(). Throws std::system_error when epoll_wait fails for good.
  void run();
  void stop() { stopped_ = true; }
  // After run() has returned (on any thread, once the loop's thread has ended): runs what was
  // posted or deferred meanwhile, until nothing is left. Returns how many tasks ran.
  std::size_t runPending();

private:
  class Waker final : public Handler {
  public:
    explicit Waker(EventLoop& loop) : loop_(loop) {}
    void onEvents(uint32_t events) override;

  private:
    EventLoop& loop_;
  };

  int timeoutMs();
  void runTimers();
  // Runs the tasks posted from other threads; returns how many ran.
  std::size_t runPosted();
  std::size_t runDeferred();

  Fd epoll_;
  Fd wake_;
  Waker waker_{*this};
  bool stopped_ = false;
  std::vector<Task> deferred_;
  std::map<TimerId, Task> timers_;
  uint64_t next_timer_ = 1;

  std::mutex mutex_;
  std::vector<Task> posted_;  // guarded by mutex_
  bool wake_pending_ = false; // guarded by mutex_: the eventfd was written and not yet read
};

// A one-shot timer owned by one object: cancelled when re-armed or destroyed.
class Timer {
public:
  explicit Timer(EventLoop& loop) : loop_(loop) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  Timer(Timer&&) = delete;
  Timer& operator=(Timer&&) = delete;

  template <typename F> void after(EventLoop::Clock::duration delay, F f) {
    cancel();
    id_ = loop_.runAfter(delay, [this, f = std::move(f)]() mutable {
      armed_ = false;
      f();
    });
    armed_ = true;
  }
  void cancel() {
    if (armed_) {
      loop_.cancel(id_);
      armed_ = false;
    }
  }
  bool armed() const { return armed_; }

private:
  EventLoop& loop_;
  EventLoop::TimerId id_{};
  bool armed_ = false;
};

} // namespace catalyst::dataplane
