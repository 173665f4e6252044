#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

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
  // `batch`: the size of the batches take() is usually asked for; the queue is kept in chunks
  // of that many items, so a full chunk is handed out whole (nothing moved) and a long queue
  // grows without moving what it holds.
  explicit AdjRibOut(std::size_t batch = 1000) : chunk_(std::max<std::size_t>(batch, 1)) {}

  // Queues `item` unless the peer already has (or will have, once the queue is sent) exactly
  // this: an add equal to the last advertised record, or a withdrawal of a route it was never
  // sent. Returns false when dropped.
  bool push(state::UpdateItem&& item);
  bool push(const state::UpdateItem& item) { return push(state::UpdateItem(item)); }
  // push() for each of `items` in order; a chunk it starts has room for the items to come (a
  // lone change does not reserve a whole batch). Returns how many were queued.
  std::size_t pushAll(std::vector<state::UpdateItem>&& items);

  bool empty() const { return queued_ == 0; }
  std::size_t queued() const { return queued_; }
  // Routes the peer has (or will have, once the queue is sent).
  std::size_t advertised() const { return advertised_; }

  // The next batch, in queue order, at most `max` items; they count as sent.
  std::vector<state::UpdateItem> take(std::size_t max);

  // The session ended: the peer has nothing of ours and nothing is waiting.
  void clear();

  // Items dropped by push() because they changed nothing.
  uint64_t suppressed() const { return suppressed_; }

  // Routes remembered: advertised, queued, or withdrawn and not yet forgotten (withdrawn routes
  // are forgotten in sweeps, once as many withdrawals were sent as half of this; see take()).
  std::size_t remembered() const { return entries_.size(); }

private:
  // What we know of one route: one table for both questions push() asks (what does the peer
  // have, and is a change to it still waiting), so a route costs one key and one lookup.
  // Kept while the route is advertised or an item for it is queued; a withdrawn route's entry
  // stays until the next sweep.
  struct Entry {
    uint64_t digest = 0;     // of the last add, when `advertised`
    bool advertised = false; // the peer has the route (or will, once the queue is sent)
    // The number of its latest item in queue order (items are numbered from 1 as they are
    // queued); it is still waiting when that is at least the number of the queue's head, so
    // taking a batch touches no entry.
    uint64_t queued = 0;
  };
  // Open addressing: a lookup costs one probe of a metadata group and the slot, where a
  // node-based table walked a bucket chain (two or three cache misses per route at 100 000).
  using Entries = boost::unordered_flat_map<state::RouteKey, Entry, state::RouteKeyHash>;

  // The number of the next item take() hands out.
  uint64_t head() const { return base_ + head_; }
  // The queued item numbered `n`.
  state::UpdateItem& at(uint64_t n) {
    const uint64_t i = n - base_;
    return chunks_[static_cast<std::size_t>(i / chunk_)][static_cast<std::size_t>(i % chunk_)];
  }
  // Drops the front chunk, sent.
  void popChunk();
  // Forgets withdrawn routes whose withdrawal was sent.
  void sweep();

  Entries entries_;
  std::size_t advertised_ = 0;
  // The queue: chunks of `chunk_` items (all full but the last); the item at index j of chunk
  // i is numbered base_ + i * chunk_ + j. Numbers are never reused: dropping a chunk that is
  // not full skips the rest of its numbers.
  std::size_t chunk_;
  std::deque<std::vector<state::UpdateItem>> chunks_;
  uint64_t base_ = 1;    // the number of the first item of the front chunk
  std::size_t head_ = 0; // the index in the front chunk of the next item to send
  std::size_t queued_ = 0;
  std::size_t sent_withdrawals_ = 0; // since the last sweep
  std::size_t coming_ = 0;           // items pushAll() has still to push, this one included
  uint64_t suppressed_ = 0;
};

// A digest of everything an `add` tells the receiver (route attributes and node path).
uint64_t digest(const state::UpdateItem& item);

} // namespace catalyst::peering
