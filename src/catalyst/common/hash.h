#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace catalyst::hash {

// Fast, well-mixed, unkeyed 64-bit hashing for in-process tables and digests (route keys are
// hashed several times per route on their way through a node; std::hash<std::string> costs
// ~70 instructions per short string, this ~20). Not for anything an attacker may choose to
// collide with a purpose: callers hash what authenticated peers send, as std::hash would.

// The 128-bit product folded to 64 bits (wyhash's mixer).
inline uint64_t mix(uint64_t a, uint64_t b) noexcept {
  __extension__ using U128 = unsigned __int128;
  const U128 product = static_cast<U128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// `s`, 8 bytes per multiply, from `seed` (different seeds give unrelated hashes).
inline uint64_t bytes(std::string_view s, uint64_t seed) noexcept {
  const char* p = s.data();
  std::size_t n = s.size();
  uint64_t h = seed ^ (n * 0xbf58476d1ce4e5b9ULL);
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);
    h = mix(h ^ word, 0x94d049bb133111ebULL);
  }
  // The last 0-7 bytes by fixed-size loads (as wyhash does): two overlapping 4-byte words, or
  // the first, middle and last bytes; together they hold every byte, and `n` is in `h`
  // already. A memcpy of `n` bytes into a word compiled to a call whose narrow stores the
  // wide load then waited on: it made a table lookup ~3x slower.
  uint64_t tail = 0;
  if (n >= 4) {
    uint32_t first = 0;
    uint32_t last = 0;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    tail = (static_cast<uint64_t>(first) << 32) | last;
  } else if (n > 0) {
    tail = (static_cast<uint64_t>(static_cast<unsigned char>(p[0])) << 16) |
           (static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
           static_cast<unsigned char>(p[n - 1]);
  }
  return mix(h ^ tail, 0xd6e8feb86659fd93ULL);
}

} // namespace catalyst::hash
