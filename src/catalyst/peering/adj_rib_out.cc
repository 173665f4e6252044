#include "catalyst/peering/adj_rib_out.h"

#include <cstring>
#include <string_view>

#include "catalyst/common/hash.h"

namespace catalyst::peering {
namespace {

// Mixes fields into 64 bits: a hash of each field (8 bytes per multiply: common/hash.h),
// combined with its length and position, so "ab"+"c" and "a"+"bc" differ.
class Mixer {
public:
  void u64(uint64_t v) {
    h_ ^= v + 0x9e3779b97f4a7c15ULL + (h_ << 6) + (h_ >> 2);
    h_ *= 0xff51afd7ed558ccdULL;
  }
  void str(std::string_view s) {
    u64(s.size());
    u64(hash::bytes(s, 0x8ebc6af09c88c6e3ULL));
  }
  template <class Optional> void opt(const Optional& v) {
    u64(v.has_value() ? 1 : 0);
    if (v) {
      one(*v);
    }
  }
  void one(const std::string& s) { str(s); }
  void one(uint16_t v) { u64(v); }
  void one(double v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  }
  void one(state::HealthStatus v) { u64(static_cast<uint64_t>(v)); }
  uint64_t value() const { return h_; }

private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

} // namespace

uint64_t digest(const state::UpdateItem& item) {
  Mixer f;
  const state::Route& r = item.route;
  f.str(r.name);
  f.opt(r.endpoint);
  f.u64(static_cast<uint64_t>(r.protocol));
  f.opt(r.region);
  f.u64(r.tags.size());
  for (const std::string& t : r.tags) {
    f.str(t);
  }
  f.opt(r.envoy_port);
  f.opt(r.envoy_address);
  f.opt(r.health_status);
  f.opt(r.response_time_ms);
  f.opt(r.last_checked);
  f.u64(item.node_path.size());
  for (const std::string& n : item.node_path) {
    f.str(n);
  }
  f.str(item.origin_node);
  return f.value();
}

bool AdjRibOut::push(state::UpdateItem item) {
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
  if (entry->queued != kNotQueued) {
    queue_[entry->queued] = std::move(item); // the latest word on this route, in its old place
    return true;
  }
  entry->queued = queue_.size();
  queue_.push_back(std::move(item));
  return true;
}

AdjRibOut::Entry& AdjRibOut::entryOf(const state::UpdateItem& item) {
  auto it = entries_.find(state::RouteKey{item.route.name, item.origin_node});
  return it->second; // a queued item always has its entry
}

std::vector<state::UpdateItem> AdjRibOut::take(std::size_t max) {
  std::vector<state::UpdateItem> out;
  const std::size_t n = std::min(max, queued());
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    state::UpdateItem& item = queue_[head_ + i];
    auto it = entries_.find(state::RouteKey{item.route.name, item.origin_node});
    if (it->second.advertised) {
      it->second.queued = kNotQueued;
    } else {
      entries_.erase(it); // a withdrawal: once sent, nothing is left to know
    }
    out.push_back(std::move(item));
  }
  head_ += n;
  if (head_ == queue_.size()) {
    queue_.clear();
    head_ = 0;
  } else if (head_ >= 1024 && head_ * 2 >= queue_.size()) {
    // Under a steady stream the queue never empties: drop the sent front now and then.
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
    for (std::size_t i = 0; i < queue_.size(); ++i) {
      entryOf(queue_[i]).queued = i;
    }
  }
  return out;
}

void AdjRibOut::clear() {
  entries_.clear();
  advertised_ = 0;
  queue_.clear();
  head_ = 0;
}

} // namespace catalyst::peering
