#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "catalyst/common/time_source.h"

namespace catalyst::event {

// A one-shot timer owned by its creator; destroying it cancels it.
class Timer {
public:
  virtual ~Timer() = default;

  // (Re)arms the timer to fire once after `delay`; a pending arm is replaced.
  virtual void enable(std::chrono::milliseconds delay) = 0;
  virtual void disable() = 0;
  virtual bool enabled() const = 0;
};

using TimerPtr = std::unique_ptr<Timer>;

// One event loop on one thread (Envoy's Dispatcher). Everything of the control plane runs on
// one Dispatcher: each callback is a transaction, so control-plane state needs no locks.
class Dispatcher {
public:
  virtual ~Dispatcher() = default;

  // Runs `cb` on the dispatcher's thread, after the callbacks already queued. Thread-safe: the
  // only member that may be called from another thread.
  virtual void post(std::function<void()> cb) = 0;

  // A timer whose callback runs on the dispatcher's thread.
  virtual TimerPtr createTimer(std::function<void()> cb) = 0;

  // True on the thread that runs (or last ran) the loop.
  virtual bool isThreadSafe() const = 0;

  virtual const TimeSource& timeSource() const = 0;

  // Runs the loop on the calling thread until exit() is called.
  virtual void run() = 0;

  // Runs every callback that is ready now, without blocking; returns how many ran. For tests.
  virtual std::size_t poll() = 0;

  // Makes run() return once the current callback finishes. Thread-safe.
  virtual void exit() = 0;
};

using DispatcherPtr = std::unique_ptr<Dispatcher>;

// Delivers POSIX signals to a callback on a dispatcher's thread while it exists (Asio's
// signal_set: the handler runs as an ordinary callback, not in signal context).
class SignalWatcher {
public:
  virtual ~SignalWatcher() = default;
};

using SignalWatcherPtr = std::unique_ptr<SignalWatcher>;

// Watches `signals` (e.g. SIGINT, SIGTERM); `cb` gets the signal number, each time one arrives.
// Call on the dispatcher's thread.
SignalWatcherPtr watchSignals(Dispatcher& dispatcher, std::vector<int> signals,
                              std::function<void(int)> cb);

// A Dispatcher over an asio::io_context. `time_source` must outlive it.
DispatcherPtr makeDispatcher(const TimeSource& time_source);

} // namespace catalyst::event
