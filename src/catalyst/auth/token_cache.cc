#include "catalyst/auth/token_cache.h"

namespace catalyst::auth {

VerifyResult TokenCache::verify(std::string_view token, int64_t now_unix) {
  if (auto it = verified_.find(token); it != verified_.end()) {
    ++hits_;
    return checkTimes(it->second, now_unix);
  }
  VerifyResult result = authority_.verify(token, now_unix);
  if (result) {
    if (verified_.size() >= capacity_) {
      verified_.erase(order_.front());
      order_.pop_front();
    }
    verified_.emplace(token, *result);
    order_.emplace_back(token);
  }
  return result;
}

} // namespace catalyst::auth
