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

bool AdjRibOut::push(state::UpdateItem&& item) {
  Entry* entry = nullptr;
  if (item.action == state::UpdateItem::Action::Add) {
    const uint64_t d = digest(item);
    auto [it, inserted] = entries_.try_emplace(state::RouteKey{item.route.name, item.origin_node});
    Entry& e = it->second;
    if (e.advertised && e.digest == d) {
      ++suppressed_;
      return false;
    }
    if (!e.advertised) {
      e.advertised = true;
      ++advertised_;
    }
    e.digest = d;
    entry = &e;
  } else {
    auto it = entries_.find(state::RouteKey{item.route.name, item.origin_node});
    if (it == entries_.end() || !it->second.advertised) {
      ++suppressed_;
      return false;
    }
    it->second.advertised = false;
    --advertised_;
    entry = &it->second;
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
  std::size_t queued = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    coming_ = items.size() - i;
    queued += push(std::move(items[i])) ? 1 : 0;
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
  if (sent_withdrawals_ >= std::max<std::size_t>(1024, entries_.size() / 2)) {
    sweep();
  }
  return out;
}

void AdjRibOut::sweep() {
  const uint64_t h = head();
  boost::unordered::erase_if(entries_, [h](const Entries::value_type& kv) {
    return !kv.second.advertised && kv.second.queued < h;
  });
  sent_withdrawals_ = 0;
}

void AdjRibOut::clear() {
  entries_.clear();
  advertised_ = 0;
  base_ += chunks_.size() * chunk_;
  chunks_.clear();
  head_ = 0;
  queued_ = 0;
  sent_withdrawals_ = 0;
}

} // namespace catalyst::peering
