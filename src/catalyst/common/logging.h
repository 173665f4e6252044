#pragma once

#include <memory>
#include <string_view>

#include <spdlog/logger.h>

#include "catalyst/common/result.h"

namespace catalyst {

// Loggers are objects made in main() and handed to the components that log; there is no
// process-wide default logger in our code.
using Logger = spdlog::logger;
using LoggerSharedPtr = std::shared_ptr<spdlog::logger>;

enum class LogLevel { Trace, Debug, Info, Warn, Error, Off };

// Parses "trace", "debug", "info", "warn" (or "warning"), "error", "off"; case-insensitive.
Result<LogLevel> parseLogLevel(std::string_view text);

// A logger named `name` writing structured one-line records to stderr:
//   2026-11-27T18:00:00.123Z info node: listening address=127.0.0.1 port=3000
LoggerSharedPtr makeStderrLogger(std::string_view name, LogLevel level);

void setLevel(Logger& logger, LogLevel level);

} // namespace catalyst
