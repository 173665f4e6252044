#include "catalyst/dataplane/route_entry.h"

namespace catalyst::dataplane {

Counters AtomicCounters::load() const {
  Counters out;
  out.connections = connections_.load(std::memory_order_relaxed);
  const int64_t active = active_.load(std::memory_order_relaxed);
  out.active = active > 0 ? static_cast<uint64_t>(active) : 0;
  out.bytes_in = bytes_in_.load(std::memory_order_relaxed);
  out.bytes_out = bytes_out_.load(std::memory_order_relaxed);
  out.spliced = spliced_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kErrorReasonCount; ++i) {
    out.errors.at(i) = errors_.at(i).load(std::memory_order_relaxed);
  }
  return out;
}

Transport transportOf(state::Protocol protocol) {
  return protocol == state::Protocol::Udp ? Transport::Udp : Transport::Tcp;
}

} // namespace catalyst::dataplane
