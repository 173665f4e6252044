#pragma once

#include <string>

namespace catalyst::server {

// Which malloc this process runs on, for `--version` and the start-up log: "mimalloc 2.0.9"
// when catalyst-node was linked with mimalloc (CATALYST_ALLOCATOR, the default outside
// sanitizer builds) and malloc really lands in mimalloc's heap; otherwise "system", with the
// reason when mimalloc was linked but does not serve malloc.
std::string allocatorName();

} // namespace catalyst::server
