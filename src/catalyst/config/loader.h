#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "catalyst/common/result.h"
#include "catalyst/config/node_config.h"

namespace catalyst::config {

// Environment variables by name. Injected: main() passes the process environment
// (envFromEnviron(environ)), tests pass their own.
using Env = std::map<std::string, std::string>;

// Copies a NULL-terminated "NAME=value" array such as POSIX `environ`.
Env envFromEnviron(const char* const* envp);

// Where a node's config comes from: an optional YAML file, overridden by the environment.
struct ConfigSource {
  std::optional<std::filesystem::path> file; // nullopt: run from the environment alone
  Env env;
};

// One thing wrong with a config, located as precisely as the input allows:
//   "node.yaml:12: peers[1].endpoint: must start with ws:// or wss://"
//   "env PORT: must be 1-65535 (got 0)"
struct Problem {
  std::string source; // the file path, or "env NAME"
  int line = 0;       // 1-based line in `source`; 0 when there is none
  std::string field;  // the field path ("routes[0].name"); empty for the whole source
  std::string message;

  // "source[:line][: field]: message"
  std::string toString() const;
  bool operator==(const Problem&) const = default;
};

// Every problem found in a config (never empty), in the order of the input.
struct ConfigError {
  std::vector<Problem> problems;

  bool operator==(const ConfigError&) const = default;
};

// One problem per line, each ending in '\n'.
std::string formatProblems(const ConfigError& error);

// The whole diagnosis as one catalyst::Error (kind InvalidArgument, message formatProblems()
// without the last newline), for callers that speak Result<T>.
Error toError(const ConfigError& error);

// boost::system::result asks the error type how to throw when value() is called on an error
// (found by argument-dependent lookup, hence Boost's name). Our code never calls value()
// unchecked.
// NOLINTNEXTLINE(readability-identifier-naming)
[[noreturn]] void throw_exception_from_error(const ConfigError& error,
                                             const boost::source_location& loc);

using ConfigResult = boost::system::result<NodeConfig, ConfigError>;

// Files larger than this are refused unread.
inline constexpr std::size_t kMaxConfigFileSize = std::size_t{1} << 20;
// Brackets / indentation levels deeper than this are refused before YAML parsing starts
// (yaml-cpp parses recursively).
inline constexpr int kMaxConfigNesting = 64;

// Reads, merges and validates a config: defaults, then the file (when given), then the
// environment variables of docs/configuration.md. Reports every problem found, not only the
// first. Never throws for bad input.
ConfigResult loadConfig(const ConfigSource& source);

// As loadConfig(), with the YAML text given directly; `source_name` stands for the file name
// in problems. For tests and fuzzing.
ConfigResult loadConfigFromString(std::string_view yaml, std::string_view source_name,
                                  const Env& env);

// `catalyst-node --check-config FILE`: on success prints
// "ok: <path>: node <id>, N peers, M routes" to `out` and returns 0; otherwise prints each
// problem on its own line to `err` and returns 1.
int checkConfigMain(const std::string& path, const Env& env, std::ostream& out, std::ostream& err);

} // namespace catalyst::config
