#include "catalyst/peering/adj_rib_out.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "catalyst/common/hash.h"

namespace catalyst::peering {
uint64_t digest(const state::UpdateItem& item) {
  // The small fields and which optional ones are present, packed in one word; then each
  // string hashed with the hash so far as its seed (common/hash.h mixes in its length, so
  // "ab"+"c" and "a"+"bc" differ, and the order of fields counts).
  const state::Route& r = item.route;
  const uint64_t small =
      static_cast<uint64_t>(r.protocol) | (r.endpoint ? 1ULL << 4 : 0) |
      (r.region ? 1ULL << 5 : 0) | (r.envoy_address ? 1ULL << 6 : 0) |
      (r.response_time_ms ? 1ULL << 7 : 0) | (r.last_checked ? 1ULL << 8 : 0) |
      (r.envoy_port ? (1ULL << 9) | (static_cast<uint64_t>(*r.envoy_port) << 16) : 0) |
      (r.health_status ? (2ULL + static_cast<uint64_t>(*r.health_status)) << 10 : 0) |
      (static_cast<uint64_t>(r.tags.size()) << 32) |
      (static_cast<uint64_t>(item.node_path.size()) << 48);
  uint64_t h = hash::mix(small ^ 0xcbf29ce484222325ULL, 0x9e3779b97f4a7c15ULL);
  auto str = [&h](std::string_view s) { h = hash::bytes(s, h); };
  str(r.name);
  if (r.endpoint) {
    str(*r.endpoint);
  }
  if (r.region) {
    str(*r.region);
  }
  for (const std::string& t : r.tags) {
    str(t);
  }
  if (r.envoy_address) {
    str(*r.envoy_address);
  }
  if (r.response_time_ms) {
    uint64_t bits = 0;
    std::memcpy(&bits, &*r.response_time_ms, sizeof bits);
    h = hash::mix(h ^ bits, 0xff51afd7ed558ccdULL);
  }
  if (r.last_checked) {
    str(*r.last_checked);
  }
  for (const std::string& n : item.node_path) {
    str(n);
  }
  str(item.origin_node);
  return h;
}

uint32_t AdjRibOut::Store::push(Entry&& e) {
  if (size_ % kBlock == 0 && size_ / kBlock == blocks_.size()) {
    blocks_.push_back(std::make_unique<Entry[]>(kBlock));
  }
  (*this)[size_] = std::move(e);
  return static_cast<uint32_t>(size_++);
}

AdjRibOut::Entry* AdjRibOut::find(const Probe& probe) {
  auto it = index_.find(probe);
  return it == index_.end() ? nullptr : &(*store_)[it->index];
}

AdjRibOut::Entry& AdjRibOut::insert(const Probe& probe) {
  Entry e;
  e.key = state::RouteKey{std::string(probe.key.name), std::string(probe.key.origin_node)};
  e.hash = probe.hash;
  const uint32_t index = store_->push(std::move(e));
  index_.insert(Slot{index, probe.hash});
  return (*store_)[index];
}

bool AdjRibOut::push(state::UpdateItem&& item) {
  const uint32_t hash = hashOf(item);
  return push(std::move(item), hash);
}

bool AdjRibOut::push(state::UpdateItem&& item, uint32_t hash) {
  const Probe probe{state::RouteKeyView{item.route.name, item.origin_node}, hash};
  Entry* entry = nullptr;
  if (item.action == state::UpdateItem::Action::Add) {
    const uint64_t d = digest(item);
    Entry* e = find(probe);
    if (e == nullptr) {
      e = &insert(probe);
    } else if (e->advertised && e->digest == d) {
      ++suppressed_;
      return false;
    }
    if (!e->advertised) {
      e->advertised = true;
      ++advertised_;
    }
    e->digest = d;
    entry = e;
  } else {
    Entry* e = find(probe);
    if (e == nullptr || !e->advertised) {
      ++suppressed_;
      return false;
    }
    e->advertised = false;
    --advertised_;
    entry = e;
  }
  if (entry->queued >= head()) {
    at(entry->queued) = std::move(item); // the latest word on this route, in its old place
    return true;
  }
  if (chunks_.empty() || chunks_.back().size() == chunk_) {
    chunks_.emplace_back().reserve(std::min(chunk_, std::max<std::size_t>(coming_, 1)));
  }
  entry->queued = base_ + (chunks_.size() - 1) * chunk_ + chunks_.back().size();
  chunks_.back().push_back(std::move(item));
  ++queued_;
  return true;
}

std::size_t AdjRibOut::pushAll(std::vector<state::UpdateItem>&& items) {
  // The entries of routes already known are scattered over the store (a withdrawal of a whole
  // table comes in another order than the table went out): each is prefetched a few items
  // ahead, found through the index by its hash alone.
  constexpr std::size_t kAhead = 8;
  std::vector<uint32_t> hashes(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    hashes[i] = hashOf(items[i]);
  }
  auto prefetch = [&](std::size_t i) {
    if (i < items.size()) {
      if (auto it = index_.find(HashProbe{hashes[i]}); it != index_.end()) {
        __builtin_prefetch(&(*store_)[it->index]);
      }
    }
  };
  for (std::size_t i = 0; i < std::min(kAhead, items.size()); ++i) {
    prefetch(i);
  }
  std::size_t queued = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    prefetch(i + kAhead);
    coming_ = items.size() - i;
    queued += push(std::move(items[i]), hashes[i]) ? 1 : 0;
  }
  coming_ = 0;
  return queued;
}

void AdjRibOut::popChunk() {
  chunks_.pop_front();
  base_ += chunk_;
  head_ = 0;
}

std::vector<state::UpdateItem> AdjRibOut::take(std::size_t max) {
  std::vector<state::UpdateItem> out;
  if (queued_ == 0 || max == 0) {
    return out;
  }
  while (out.size() < max && out.size() < queued_) {
    std::vector<state::UpdateItem>& front = chunks_.front();
    if (out.empty() && head_ == 0 && front.size() <= max) {
      out = std::move(front); // a whole chunk: handed out as it is
      popChunk();
      continue;
    }
    if (out.empty()) {
      out.reserve(std::min(max, queued_));
    }
    const std::size_t n = std::min(max - out.size(), front.size() - head_);
    out.insert(out.end(), std::make_move_iterator(front.begin() + static_cast<long>(head_)),
               std::make_move_iterator(front.begin() + static_cast<long>(head_ + n)));
    head_ += n;
    if (head_ == front.size()) {
      popChunk();
    }
  }
  queued_ -= out.size();
  for (const state::UpdateItem& item : out) {
    if (item.action == state::UpdateItem::Action::Remove) {
      ++sent_withdrawals_;
    }
  }
  // Withdrawn routes are forgotten in sweeps rather than by a lookup per sent withdrawal. A
  // sweep waits for as many sent withdrawals as half the table, so it costs O(1) per
  // withdrawal and the table holds at most about twice what it must.
  if (sent_withdrawals_ >= std::max<std::size_t>(1024, store_->size() / 2)) {
    sweep();
  }
  return out;
}

void AdjRibOut::sweep() {
  // The entries kept move down in place, in their order; the index is made anew for them.
  const uint64_t h = head();
  Store& store = *store_;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < store.size(); ++i) {
    Entry& e = store[i];
    if (e.advertised || e.queued >= h) {
      if (i != kept) {
        store[kept] = std::move(e);
      }
      ++kept;
    }
  }
  store.truncate(kept);
  index_.clear();
  for (std::size_t i = 0; i < kept; ++i) {
    index_.insert(Slot{static_cast<uint32_t>(i), store[i].hash});
  }
  sent_withdrawals_ = 0;
}

void AdjRibOut::clear() {
  index_.clear();
  store_->clear();
  advertised_ = 0;
  base_ += chunks_.size() * chunk_;
  chunks_.clear();
  head_ = 0;
  queued_ = 0;
  sent_withdrawals_ = 0;
}

} // namespace catalyst::peering
