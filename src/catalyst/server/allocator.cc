#include "catalyst/server/allocator.h"

#include <cstdlib>

#include <fmt/format.h>

#ifdef CATALYST_MIMALLOC
#include <mimalloc.h>
#endif

namespace catalyst::server {

std::string allocatorName() {
#ifdef CATALYST_MIMALLOC
  // Linking libmimalloc replaces malloc by symbol interposition (it comes before libc in the
  // load order). Check that it did rather than assume it: a plain calloc must land in its heap.
  void* probe = std::calloc(1, 64);
  const bool served = mi_is_in_heap_region(probe);
  std::free(probe);
  const int v = mi_version();
  if (!served) {
    return fmt::format("system (mimalloc {}.{}.{} is linked but malloc does not use it)", v / 100,
                       (v / 10) % 10, v % 10);
  }
  return fmt::format("mimalloc {}.{}.{}", v / 100, (v / 10) % 10, v % 10);
#else
  return "system";
#endif
}

} // namespace catalyst::server
