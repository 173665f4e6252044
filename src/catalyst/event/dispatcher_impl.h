#pragma once

// The Asio side of the Dispatcher, for the modules that do I/O (admin, peering, proxy, ...).
// Include only from .cc files: Asio headers are heavy.

#include <atomic>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "catalyst/event/dispatcher.h"

namespace catalyst::event {

class DispatcherImpl : public Dispatcher {
public:
  explicit DispatcherImpl(const TimeSource& time_source);

  void post(std::function<void()> cb) override;
  TimerPtr createTimer(std::function<void()> cb) override;
  bool isThreadSafe() const override;
  const TimeSource& timeSource() const override { return time_source_; }
  void run() override;
  std::size_t poll() override;
  void exit() override;

  // The io_context that sockets of this dispatcher's thread are bound to.
  boost::asio::io_context& ioContext() { return io_context_; }

private:
  const TimeSource& time_source_;
  boost::asio::io_context io_context_{1};
  std::atomic<std::thread::id> thread_id_;
};

// The DispatcherImpl behind a Dispatcher made by makeDispatcher().
DispatcherImpl& asImpl(Dispatcher& dispatcher);

} // namespace catalyst::event
