#include "catalyst/envoy/xds_loader.h"

#include <filesystem>
#include <system_error>

#include <dlfcn.h>
#include <fmt/format.h>

namespace catalyst::envoy {

std::string defaultXdsModulePath() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return kXdsModuleName;
  }
  return (exe.parent_path() / kXdsModuleName).string();
}

Result<SnapshotSinkPtr> loadXdsSink(const std::string& module_path, const XdsSinkConfig& config,
                                    Logger& logger) {
  // Never closed: the sink's code lives there for as long as the process may use it.
  void* module = ::dlopen(module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) {
    const char* why = ::dlerror();
    return failedPrecondition(fmt::format("envoy-xds needs the module {}: {}", module_path,
                                          why != nullptr ? why : "cannot load it"));
  }
  using Make = SnapshotSink* (*)(const XdsSinkConfig*, Logger*);
  void* symbol = ::dlsym(module, "catalyst_envoy_make_xds_sink");
  if (symbol == nullptr) {
    return failedPrecondition(fmt::format(
        "{}: not a catalyst xDS module (no catalyst_envoy_make_xds_sink)", module_path));
  }
  // POSIX guarantees a data pointer from dlsym converts to a function pointer.
  const auto make = reinterpret_cast<Make>(symbol);
  SnapshotSink* sink = make(&config, &logger);
  if (sink == nullptr) {
    return failedPrecondition(fmt::format("{}: could not make the xDS sink", module_path));
  }
  return SnapshotSinkPtr(sink);
}

} // namespace catalyst::envoy
