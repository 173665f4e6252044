#pragma once

#include <chrono>
#include <memory>

namespace catalyst {

using MonotonicTime = std::chrono::steady_clock::time_point;
using SystemTime = std::chrono::system_clock::time_point;

// Where every component gets the time from. Injected, so tests run on simulated time.
class TimeSource {
public:
  virtual ~TimeSource() = default;

  // Time for durations and deadlines; never goes backwards.
  virtual MonotonicTime monotonicTime() const = 0;

  // Wall-clock time, for timestamps shown to people and put on the wire.
  virtual SystemTime systemTime() const = 0;
};

using TimeSourcePtr = std::unique_ptr<TimeSource>;

// The real clocks of the machine.
class RealTimeSource : public TimeSource {
public:
  MonotonicTime monotonicTime() const override { return std::chrono::steady_clock::now(); }
  SystemTime systemTime() const override { return std::chrono::system_clock::now(); }
};

// A clock that only moves when told to. For tests.
class SimulatedTimeSource : public TimeSource {
public:
  MonotonicTime monotonicTime() const override { return monotonic_; }
  SystemTime systemTime() const override { return system_; }

  // Moves both clocks forward by `d`.
  void advance(std::chrono::nanoseconds d) {
    monotonic_ += d;
    system_ += std::chrono::duration_cast<SystemTime::duration>(d);
  }

private:
  MonotonicTime monotonic_{std::chrono::hours(1)};
  SystemTime system_{std::chrono::seconds(1'800'000'000)}; // 2027-01-15, fixed for tests.
};

} // namespace catalyst
