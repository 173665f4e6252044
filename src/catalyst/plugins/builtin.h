#pragma once

#include "catalyst/control/plugin.h"

namespace catalyst::plugins {

// The built-in plugins of a node, in the order they run (docs/architecture.md lists them).
// Registered explicitly by whoever builds a pipeline: the node, tests, benchmarks.
control::PluginSet builtinPlugins();

} // namespace catalyst::plugins
