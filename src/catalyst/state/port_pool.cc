#include "catalyst/state/port_pool.h"

#include <bit>

namespace catalyst::state {

namespace {
constexpr std::size_t kBits = 64;
} // namespace

PortPool::PortPool(std::vector<PortRange> ranges) : ranges_(std::move(ranges)) {
  for (const PortRange& r : ranges_) {
    capacity_ += r.size();
  }
  taken_.assign((capacity_ + kBits - 1) / kBits, 0);
}

std::optional<uint16_t> PortPool::allocate() {
  if (used_ == capacity_) {
    return std::nullopt;
  }
  for (std::size_t word = hint_ / kBits; word < taken_.size(); ++word) {
    uint64_t free_bits = ~taken_[word];
    if (word == hint_ / kBits) {
      free_bits &= ~uint64_t{0} << (hint_ % kBits); // below the hint nothing is free
    }
    if (free_bits == 0) {
      continue;
    }
    const std::size_t index = word * kBits + static_cast<std::size_t>(std::countr_zero(free_bits));
    if (index >= capacity_) {
      break;
    }
    taken_[word] |= uint64_t{1} << (index % kBits);
    ++used_;
    hint_ = index + 1;
    return portAt(index);
  }
  return std::nullopt; // unreachable while used_ < capacity_
}

bool PortPool::release(uint16_t port) {
  const std::optional<std::size_t> index = indexOf(port);
  if (!index) {
    return false;
  }
  uint64_t& word = taken_[*index / kBits];
  const uint64_t bit = uint64_t{1} << (*index % kBits);
  if ((word & bit) == 0) {
    return false;
  }
  word &= ~bit;
  --used_;
  if (*index < hint_) {
    hint_ = *index;
  }
  return true;
}

std::optional<std::size_t> PortPool::indexOf(uint16_t port) const {
  std::size_t base = 0;
  for (const PortRange& r : ranges_) {
    if (r.contains(port)) {
      return base + (port - r.first);
    }
    base += r.size();
  }
  return std::nullopt;
}

uint16_t PortPool::portAt(std::size_t index) const {
  for (const PortRange& r : ranges_) {
    if (index < r.size()) {
      return static_cast<uint16_t>(r.first + index);
    }
    index -= r.size();
  }
  return 0; // not reached: index < capacity_
}

} // namespace catalyst::state
