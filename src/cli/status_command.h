#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "catalyst/common/result.h"

namespace catalyst::cli {

// The options every command shares (main.cc fills them from flags and the environment).
struct GlobalOptions {
  std::string orchestrator_url = "http://127.0.0.1:3000";
  std::string token{}; // for the commands that need one; /health does not
  std::chrono::milliseconds timeout{5'000};
};

// `catalyst status`: GETs /health from the node and returns what to print on stdout: the line
// of formatHealth(), or with `json` the response body itself. The error is the one-line
// reason for stderr: no connection, timeout, a status other than 200, or a body that is not
// the JSON /health sends.
Result<std::string> runStatus(const GlobalOptions& global, bool json);

// "node node-a version 0.1.0 up 1h 2m" from a /health body
// {"status":"ok","node":"node-a","version":"0.1.0","uptimeSeconds":3725.5}; a status other
// than "ok" is appended: "... up 12s (status draining)".
Result<std::string> formatHealth(std::string_view body);

// "12s", "5m 12s", "3h 5m", "2d 3h": the two largest units, rounded down.
std::string formatUptime(double seconds);

} // namespace catalyst::cli
