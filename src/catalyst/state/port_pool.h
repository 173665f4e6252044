#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace catalyst::state {

// An inclusive range of TCP/UDP ports; a single port is {p, p}.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;

  std::size_t size() const { return static_cast<std::size_t>(last) - first + 1; }
  bool contains(uint16_t port) const { return port >= first && port <= last; }
  bool operator==(const PortRange&) const = default;
};

// The data-plane ports a node may allocate to its routes (CATALYST_ENVOY_PORT_RANGE), and which
// of them are taken. Allocation is deterministic: always the lowest free port in range order,
// so the same sequence of allocations and releases gives the same ports on every run.
//
// A value type of one bit per port (8 KiB for all 65 536 ports); allocate() is amortized O(1)
// for the usual pattern (a hint points at the lowest possibly free port).
class PortPool {
public:
  PortPool() = default;
  explicit PortPool(std::vector<PortRange> ranges);

  // The lowest free port, now taken; nullopt when every port is taken (or none configured).
  std::optional<uint16_t> allocate();
  // Gives `port` back. False (and nothing changes) when it is not a taken port of the pool.
  bool release(uint16_t port);

  std::size_t capacity() const { return capacity_; }
  std::size_t used() const { return used_; }
  const std::vector<PortRange>& ranges() const { return ranges_; }

  bool operator==(const PortPool&) const = default;

private:
  // Index i is the i-th port of the ranges in order.
  std::optional<std::size_t> indexOf(uint16_t port) const;
  uint16_t portAt(std::size_t index) const;

  std::vector<PortRange> ranges_;
  std::vector<uint64_t> taken_; // one bit per index
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  std::size_t hint_ = 0; // no free index below it
};

} // namespace catalyst::state
