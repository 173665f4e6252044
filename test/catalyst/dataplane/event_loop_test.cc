// The workers' event loop: descriptors edge-triggered, tasks posted from other threads, deferred
// tasks, timers, and what is left once the loop has ended. Every wait polls with a deadline.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "catalyst/dataplane/event_loop.h"

#include "socket_test_util.h"

namespace catalyst::dataplane {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

// Runs a loop on its own thread until destroyed.
class LoopThread {
public:
  LoopThread() : thread_([this] { loop.run(); }) {}
  ~LoopThread() {
    loop.post([this] { loop.stop(); });
    thread_.join();
  }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;
  LoopThread(LoopThread&&) = delete;
  LoopThread& operator=(LoopThread&&) = delete;

  EventLoop loop;

private:
  std::thread thread_;
};

TEST(EventLoopTest, PostedTasksRunOnTheLoopThreadInOrder) {
  std::atomic<int> ran{0};
  std::vector<int> order; // written on the loop thread only
  std::thread::id loop_thread;
  {
    LoopThread t;
    t.loop.post([&] { loop_thread = std::this_thread::get_id(); });
    for (int i = 0; i < 1000; ++i) {
      t.loop.post([&, i] {
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);
        order.push_back(i);
        ++ran;
      });
    }
    EXPECT_TRUE(eventually([&] { return ran.load() == 1000; }));
  }
  ASSERT_EQ(order.size(), 1000U);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  }
  EXPECT_NE(loop_thread, std::this_thread::get_id());
}

// A pipe's read end, edge-triggered: one event per arrival, none for data already reported.
class PipeReader final : public EventLoop::Handler {
public:
  void onEvents(uint32_t events) override {
    if ((events & EPOLLIN) != 0) {
      ++events_seen;
    }
  }
  std::atomic<int> events_seen{0};
};

TEST(EventLoopTest, RegisteredDescriptorsReportEdges) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);
  PipeReader reader;
  LoopThread t;
  std::atomic<bool> added{false};
  t.loop.post([&] {
    EXPECT_FALSE(t.loop.add(read_end.get(), EPOLLIN | EPOLLET, &reader));
    added = true;
  });
  ASSERT_TRUE(eventually([&] { return added.load(); }));
  ASSERT_EQ(::write(write_end.get(), "a", 1), 1);
  EXPECT_TRUE(eventually([&] { return reader.events_seen.load() == 1; }));
  ASSERT_EQ(::write(write_end.get(), "b", 1), 1);
  EXPECT_TRUE(eventually([&] { return reader.events_seen.load() == 2; }));
  // A descriptor already registered cannot be added twice: the error is returned.
  std::atomic<bool> checked{false};
  t.loop.post([&] {
    EXPECT_TRUE(t.loop.add(read_end.get(), EPOLLIN, &reader));
    t.loop.remove(read_end.get());
    checked = true;
  });
  ASSERT_TRUE(eventually([&] { return checked.load(); }));
}

TEST(EventLoopTest, DeferredTasksRunAfterTheCurrentTaskAndInOrder) {
  LoopThread t;
  std::vector<std::string> log;
  std::atomic<bool> done{false};
  t.loop.post([&] {
    t.loop.defer([&] {
      log.push_back("first deferred");
      // Deferred from a deferred task: runs in a later turn, after the ones queued already.
      t.loop.defer([&] {
        log.push_back("deferred again");
        done = true;
      });
    });
    t.loop.defer([&] { log.push_back("second deferred"); });
    log.push_back("task");
  });
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  EXPECT_EQ(log, (std::vector<std::string>{"task", "first deferred", "second deferred",
                                           "deferred again"}));
}

TEST(EventLoopTest, TimersFireInDeadlineOrderNeverEarlyAndCancelledOnesNever) {
  LoopThread t;
  std::vector<int> fired;
  std::atomic<bool> done{false};
  const auto start = EventLoop::Clock::now();
  EventLoop::Clock::time_point first_at{};
  t.loop.post([&] {
    t.loop.runAfter(30ms, [&] {
      fired.push_back(30);
      done = true;
    });
    t.loop.runAfter(10ms, [&] {
      fired.push_back(10);
      first_at = EventLoop::Clock::now();
    });
    const EventLoop::TimerId cancelled = t.loop.runAfter(20ms, [&] { fired.push_back(20); });
    t.loop.cancel(cancelled);
  });
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  EXPECT_EQ(fired, (std::vector<int>{10, 30}));
  EXPECT_GE(first_at - start, 10ms);
}

TEST(EventLoopTest, ATimerObjectIsCancelledWhenRearmedOrDestroyed) {
  LoopThread t;
  std::atomic<int> fired{0};
  std::atomic<bool> done{false};
  t.loop.post([&] {
    auto timer = std::make_unique<Timer>(t.loop);
    timer->after(5ms, [&] { fired += 100; }); // replaced below
    timer->after(5ms, [&] { fired += 1; });
    EXPECT_TRUE(timer->armed());
    auto doomed = std::make_unique<Timer>(t.loop);
    doomed->after(1ms, [&] { fired += 1000; });
    doomed.reset();
    t.loop.runAfter(50ms, [&, timer = std::move(timer)] {
      EXPECT_FALSE(timer->armed());
      done = true;
    });
  });
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  EXPECT_EQ(fired.load(), 1);
}

TEST(EventLoopTest, WhatIsPostedAfterTheLoopEndedRunsInRunPending) {
  EventLoop loop;
  std::thread runner([&] { loop.run(); });
  loop.post([&] { loop.stop(); });
  runner.join();
  int ran = 0;
  loop.post([&] {
    ++ran;
    loop.defer([&] { ++ran; });
  });
  EXPECT_EQ(loop.runPending(), 2U);
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(loop.runPending(), 0U);
}

TEST(EventLoopTest, TasksLeftAtDestructionAreDestroyedWithoutRunning) {
  auto owned = std::make_shared<int>(1);
  bool ran = false;
  {
    EventLoop loop;
    loop.post([&ran, owned] { ran = true; });
    loop.defer([&ran, owned] { ran = true; });
    loop.runAfter(1h, [&ran, owned] { ran = true; });
    EXPECT_EQ(owned.use_count(), 4);
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(owned.use_count(), 1);
}

TEST(EventLoopTest, FdClosesWhatItHolds) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    Fd a(fds[0]);
    Fd b(std::move(a));
    EXPECT_FALSE(a.valid()); // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(b.get(), fds[0]);
    Fd c(fds[1]);
    EXPECT_EQ(::close(c.release()), 0);
  }
  EXPECT_EQ(::close(fds[0]), -1) << "closed by its owner";
}

} // namespace
} // namespace catalyst::dataplane
