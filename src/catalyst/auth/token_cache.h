#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "catalyst/auth/token.h"
#include "catalyst/auth/token_authority.h"

namespace catalyst::auth {

// Remembers tokens that verified, so that the ECDSA check (~0.5 ms of CPU) runs once per token
// rather than on every call that presents it: a peer presents the same token with every update
// batch. A token seen before, byte for byte, skips only the signature and claim parsing; its
// times are checked on every call, exactly as TokenAuthority::verify() checks them (an expired
// token is refused however it was remembered), and callers check role and subject every time.
// Only tokens that verified are remembered, at most `capacity` of them, the oldest forgotten
// first. Not thread-safe: one per thread (the control thread's services each hold one).
class TokenCache {
public:
  static constexpr std::size_t kDefaultCapacity = 64;

  explicit TokenCache(const TokenAuthority& authority, std::size_t capacity = kDefaultCapacity)
      : authority_(authority), capacity_(capacity == 0 ? 1 : capacity) {}

  // What TokenAuthority::verify(token, now_unix) returns.
  VerifyResult verify(std::string_view token, int64_t now_unix);

  // How many tokens are remembered, and how many calls were answered from memory.
  std::size_t size() const { return verified_.size(); }
  uint64_t hits() const { return hits_; }

private:
  const TokenAuthority& authority_;
  const std::size_t capacity_;
  // Looked up by the token as presented, without copying it (a token is ~400 bytes).
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_map<std::string, Claims, Hash, std::equal_to<>> verified_;
  std::deque<std::string> order_; // oldest first
  uint64_t hits_ = 0;
};

} // namespace catalyst::auth
