#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "catalyst/state/route.h"

namespace catalyst::peering {

// What one neighbour has been told, and what is waiting to be told (peering.md §4 "No change,
// no message"). The pipeline says what each peer should hear; this drops what would change
// nothing at the peer, coalesces a burst (a route changed twice before the first change left
// is sent once, in its latest form) and hands out batches of at most `max` items.
//
// It remembers a 64-bit digest of each advertised record, not the record, so a node relaying
// 100 000 routes keeps ~100 bytes per route and peer here.
class AdjRibOut {
public:
  // Queues `item` unless the peer already has (or will have, once the queue is sent) exactly
  // this: an add equal to the last advertised record, or a withdrawal of a route it was never
  // sent. Returns false when dropped.
  bool push(state::UpdateItem item);

  bool empty() const { return head_ == queue_.size(); }
  std::size_t queued() const { return queue_.size() - head_; }
  // Routes the peer has (or will have, once the queue is sent).
  std::size_t advertised() const { return digests_.size(); }

  // The next batch, in queue order, at most `max` items; they count as sent.
  std::vector<state::UpdateItem> take(std::size_t max);

  // The session ended: the peer has nothing of ours and nothing is waiting.
  void clear();

  // Items dropped by push() because they changed nothing.
  uint64_t suppressed() const { return suppressed_; }

private:
  std::unordered_map<state::RouteKey, uint64_t, state::RouteKeyHash> digests_;
  std::vector<state::UpdateItem> queue_;
  std::size_t head_ = 0;
  std::unordered_map<state::RouteKey, std::size_t, state::RouteKeyHash> queued_at_;
  uint64_t suppressed_ = 0;
};

// A digest of everything an `add` tells the receiver (route attributes and node path).
uint64_t digest(const state::UpdateItem& item);

} // namespace catalyst::peering
