#include "catalyst/common/logging.h"

#include <algorithm>
#include <cctype>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>

namespace catalyst {

Result<LogLevel> parseLogLevel(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "trace") {
    return LogLevel::Trace;
  }
  if (lower == "debug") {
    return LogLevel::Debug;
  }
  if (lower == "info") {
    return LogLevel::Info;
  }
  if (lower == "warn" || lower == "warning") {
    return LogLevel::Warn;
  }
  if (lower == "error") {
    return LogLevel::Error;
  }
  if (lower == "off") {
    return LogLevel::Off;
  }
  return invalidArgument("unknown log level '" + std::string(text) +
                         "' (expected trace, debug, info, warn, error or off)");
}

void setLevel(Logger& logger, LogLevel level) {
  switch (level) {
  case LogLevel::Trace:
    logger.set_level(spdlog::level::trace);
    break;
  case LogLevel::Debug:
    logger.set_level(spdlog::level::debug);
    break;
  case LogLevel::Info:
    logger.set_level(spdlog::level::info);
    break;
  case LogLevel::Warn:
    logger.set_level(spdlog::level::warn);
    break;
  case LogLevel::Error:
    logger.set_level(spdlog::level::err);
    break;
  case LogLevel::Off:
    logger.set_level(spdlog::level::off);
    break;
  }
}

LoggerSharedPtr makeStderrLogger(std::string_view name, LogLevel level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(std::string(name), std::move(sink));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %n: %v", spdlog::pattern_time_type::utc);
  setLevel(*logger, level);
  logger->flush_on(spdlog::level::warn);
  return logger;
}

} // namespace catalyst
