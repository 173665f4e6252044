#pragma once

#include <cstdio>
#include <cstdlib>

// Assertion macros. Each use carries a one-line reason.
//
// CATALYST_ASSERT(cond, reason): a debug-only invariant; compiled out in release builds.
// CATALYST_RELEASE_ASSERT(cond, reason): an unrecoverable state; aborts in every build.
// CATALYST_BUG(reason): code that must be unreachable. Aborts in debug builds; in release builds
//   it logs to stderr and the caller carries on (the call site must leave things consistent).
//
// Never assert on what the outside world controls (config, peers, files): those are errors
// returned as Result and counted.

namespace catalyst::detail {

[[noreturn]] inline void assertFailed(const char* expr, const char* reason, const char* file,
                                      int line) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s (%s)\n", file, line, expr, reason);
  std::abort();
}

inline void bugReached(const char* reason, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: BUG: %s\n", file, line, reason);
#ifndef NDEBUG
  std::abort();
#endif
}

} // namespace catalyst::detail

#define CATALYST_RELEASE_ASSERT(cond, reason)                                                      \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      ::catalyst::detail::assertFailed(#cond, reason, __FILE__, __LINE__);                         \
    }                                                                                              \
  } while (false)

#ifdef NDEBUG
#define CATALYST_ASSERT(cond, reason)                                                              \
  do {                                                                                             \
    (void)sizeof(cond);                                                                            \
  } while (false)
#else
#define CATALYST_ASSERT(cond, reason) CATALYST_RELEASE_ASSERT(cond, reason)
#endif

#define CATALYST_BUG(reason) ::catalyst::detail::bugReached(reason, __FILE__, __LINE__)
