#include "catalyst/event/dispatcher_impl.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "catalyst/common/assert.h"

namespace catalyst::event {
namespace {

class TimerImpl : public Timer {
public:
  TimerImpl(boost::asio::io_context& io, std::function<void()> cb)
      : timer_(io), cb_(std::move(cb)) {}

  void enable(std::chrono::milliseconds delay) override {
    timer_.expires_after(delay);
    enabled_ = true;
    // Each arm gets its own generation so a callback of a replaced arm does nothing.
    const uint64_t armed = ++generation_;
    timer_.async_wait([this, armed](const boost::system::error_code& ec) {
      if (ec || armed != generation_) {
        return;
      }
      enabled_ = false;
      cb_();
    });
  }

  void disable() override {
    ++generation_;
    enabled_ = false;
    timer_.cancel();
  }

  bool enabled() const override { return enabled_; }

  ~TimerImpl() override { timer_.cancel(); }
  TimerImpl(const TimerImpl&) = delete;
  TimerImpl& operator=(const TimerImpl&) = delete;
  TimerImpl(TimerImpl&&) = delete;
  TimerImpl& operator=(TimerImpl&&) = delete;

private:
  boost::asio::steady_timer timer_;
  std::function<void()> cb_;
  uint64_t generation_ = 0;
  bool enabled_ = false;
};

class SignalWatcherImpl : public SignalWatcher {
public:
  SignalWatcherImpl(boost::asio::io_context& io, const std::vector<int>& signals,
                    std::function<void(int)> cb)
      : set_(io), cb_(std::move(cb)) {
    for (int s : signals) {
      set_.add(s);
    }
    wait();
  }

  ~SignalWatcherImpl() override {
    boost::system::error_code ignored;
    set_.cancel(ignored);
  }
  SignalWatcherImpl(const SignalWatcherImpl&) = delete;
  SignalWatcherImpl& operator=(const SignalWatcherImpl&) = delete;
  SignalWatcherImpl(SignalWatcherImpl&&) = delete;
  SignalWatcherImpl& operator=(SignalWatcherImpl&&) = delete;

private:
  void wait() {
    set_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) {
        return; // cancelled: the watcher is being destroyed
      }
      wait();
      cb_(signal);
    });
  }

  boost::asio::signal_set set_;
  std::function<void(int)> cb_;
};

} // namespace

SignalWatcherPtr watchSignals(Dispatcher& dispatcher, std::vector<int> signals,
                              std::function<void(int)> cb) {
  CATALYST_ASSERT(dispatcher.isThreadSafe(), "signal watchers are made on the dispatcher's thread");
  return std::make_unique<SignalWatcherImpl>(asImpl(dispatcher).ioContext(), signals,
                                             std::move(cb));
}

DispatcherImpl::DispatcherImpl(const TimeSource& time_source)
    : time_source_(time_source), thread_id_(std::this_thread::get_id()) {}

void DispatcherImpl::post(std::function<void()> cb) {
  boost::asio::post(io_context_, std::move(cb));
}

TimerPtr DispatcherImpl::createTimer(std::function<void()> cb) {
  CATALYST_ASSERT(isThreadSafe(), "timers are created on the dispatcher's thread");
  return std::make_unique<TimerImpl>(io_context_, std::move(cb));
}

bool DispatcherImpl::isThreadSafe() const { return thread_id_ == std::this_thread::get_id(); }

void DispatcherImpl::run() {
  thread_id_ = std::this_thread::get_id();
  auto guard = boost::asio::make_work_guard(io_context_);
  io_context_.restart();
  io_context_.run();
}

std::size_t DispatcherImpl::poll() {
  thread_id_ = std::this_thread::get_id();
  io_context_.restart();
  return io_context_.poll();
}

void DispatcherImpl::exit() { io_context_.stop(); }

DispatcherImpl& asImpl(Dispatcher& dispatcher) {
  auto* impl = dynamic_cast<DispatcherImpl*>(&dispatcher);
  CATALYST_RELEASE_ASSERT(impl != nullptr, "every Dispatcher of this process is a DispatcherImpl");
  return *impl;
}

DispatcherPtr makeDispatcher(const TimeSource& time_source) {
  return std::make_unique<DispatcherImpl>(time_source);
}

} // namespace catalyst::event
