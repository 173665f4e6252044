#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <boost/unordered/unordered_flat_set.hpp>

#include "catalyst/state/route.h"

namespace catalyst::peering {

// What one neighbour has been told, and what is waiting to be told (peering.md §4 "No change,
// no message"). The pipeline says what each peer should hear; this drops what would change
// nothing at the peer, coalesces a burst (a route changed twice before the first change left
// is sent once, in its latest form) and hands out batches of at most `max` items.
//
// It remembers a 64-bit digest of each advertised record, not the record, so a node relaying
// 100 000 routes keeps ~110 bytes per route and peer here.
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
  std::size_t remembered() const { return store_->size(); }

private:
  // What we know of one route: one record for both questions push() asks (what does the peer
  // have, and is a change to it still waiting), so a route costs one key and one lookup.
  // Kept while the route is advertised or an item for it is queued; a withdrawn route's entry
  // stays until the next sweep.
  struct Entry {
    state::RouteKey key;
    uint64_t digest = 0; // of the last add, when `advertised`
    // The number of its latest item in queue order (items are numbered from 1 as they are
    // queued); it is still waiting when that is at least the number of the queue's head, so
    // taking a batch touches no entry.
    uint64_t queued = 0;
    uint32_t hash = 0;       // the high half of the key's RouteKeyHash
    bool advertised = false; // the peer has the route (or will, once the queue is sent)
  };

  // The entries, in order of arrival, in blocks that never move: a new route's entry is
  // written next to the last one rather than into a random slot of a large table (that write
  // missed the cache for nearly every route of a full table).
  class Store {
  public:
    static constexpr std::size_t kBlock = 256; // ~22 KB: a peer told little costs little
    std::size_t size() const { return size_; }
    Entry& operator[](std::size_t i) { return blocks_[i / kBlock][i % kBlock]; }
    const Entry& operator[](std::size_t i) const { return blocks_[i / kBlock][i % kBlock]; }
    // Appends `e`; returns its index.
    uint32_t push(Entry&& e);
    // Keeps the first `n` entries.
    void truncate(std::size_t n) {
      blocks_.resize((n + kBlock - 1) / kBlock);
      size_ = n;
    }
    void clear() { truncate(0); }

  private:
    std::vector<std::unique_ptr<Entry[]>> blocks_;
    std::size_t size_ = 0;
  };

  // The index: an open-addressing set of (entry index, hash) pairs, 8 bytes a slot, so the
  // table a lookup probes stays small enough to stay in cache; the key is compared in the
  // store only when the hashes agree. Rehashing reads no entry.
  struct Slot {
    uint32_t index;
    uint32_t hash;
  };
  struct Probe {
    state::RouteKeyView key;
    uint32_t hash;
  };
  // Finds the first slot with this hash, without reading the store: to prefetch the entry a
  // Probe will compare (see pushAll()).
  struct HashProbe {
    uint32_t hash;
  };
  static std::size_t spread(uint32_t hash) {
    return (static_cast<std::size_t>(hash) << 32) | hash; // high bits place, low bits tag
  }
  struct SlotHash {
    using is_avalanching = void;
    using is_transparent = void;
    std::size_t operator()(const Slot& s) const noexcept { return spread(s.hash); }
    std::size_t operator()(const Probe& p) const noexcept { return spread(p.hash); }
    std::size_t operator()(const HashProbe& p) const noexcept { return spread(p.hash); }
  };
  struct SlotEqual {
    using is_transparent = void;
    const Store* store = nullptr;
    bool operator()(const Slot& a, const Slot& b) const noexcept { return a.index == b.index; }
    bool operator()(const Probe& p, const Slot& s) const noexcept {
      if (p.hash != s.hash) {
        return false;
      }
      const state::RouteKey& k = (*store)[s.index].key;
      return k.name == p.key.name && k.origin_node == p.key.origin_node;
    }
    bool operator()(const Slot& s, const Probe& p) const noexcept { return (*this)(p, s); }
    bool operator()(const HashProbe& p, const Slot& s) const noexcept { return p.hash == s.hash; }
    bool operator()(const Slot& s, const HashProbe& p) const noexcept { return p.hash == s.hash; }
  };
  using Index = boost::unordered_flat_set<Slot, SlotHash, SlotEqual>;

  static uint32_t hashOf(const state::UpdateItem& item) {
    return static_cast<uint32_t>(state::RouteKeyHash::of(item.route.name, item.origin_node) >> 32);
  }
  bool push(state::UpdateItem&& item, uint32_t hash);
  // The entry for `key`, or nullptr.
  Entry* find(const Probe& probe);
  // A new entry for `probe` (not in the store).
  Entry& insert(const Probe& probe);

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

  // The store lives on the heap so the index's SlotEqual can point at it whatever moves.
  std::unique_ptr<Store> store_ = std::make_unique<Store>();
  Index index_{0, SlotHash{}, SlotEqual{store_.get()}};
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
