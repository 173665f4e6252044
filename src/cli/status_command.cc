#include "cli/status_command.h"

#include <cmath>
#include <cstdint>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "cli/http_client.h"

namespace catalyst::cli {
namespace {

// The first line of `body`, at most 200 characters: enough of an error page for one line.
std::string excerpt(std::string_view body) {
  std::string_view line = body.substr(0, body.find_first_of("\r\n"));
  if (line.size() > 200) {
    return std::string(line.substr(0, 200)) + "...";
  }
  return std::string(line);
}

// What a non-200 response says about itself: the "error" member of our JSON errors, or the
// start of whatever else came.
std::string errorDetail(std::string_view body) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(body, ec);
  if (!ec && value.is_object()) {
    if (const boost::json::value* error = value.as_object().if_contains("error");
        error != nullptr && error->is_string()) {
      return excerpt(std::string_view(error->as_string()));
    }
  }
  return excerpt(body);
}

Result<std::string> stringMember(const boost::json::object& object, std::string_view key) {
  const boost::json::value* member = object.if_contains(key);
  if (member == nullptr || !member->is_string()) {
    return invalidArgument(fmt::format("\"{}\" is missing or not a string", key));
  }
  return std::string(member->as_string());
}

} // namespace

std::string formatUptime(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) {
    seconds = 0;
  }
  const auto total = static_cast<uint64_t>(seconds);
  const uint64_t days = total / 86'400;
  const uint64_t hours = total % 86'400 / 3'600;
  const uint64_t minutes = total % 3'600 / 60;
  const uint64_t secs = total % 60;
  if (days > 0) {
    return fmt::format("{}d {}h", days, hours);
  }
  if (hours > 0) {
    return fmt::format("{}h {}m", hours, minutes);
  }
  if (minutes > 0) {
    return fmt::format("{}m {}s", minutes, secs);
  }
  return fmt::format("{}s", secs);
}

Result<std::string> formatHealth(std::string_view body) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(body, ec);
  if (ec) {
    return invalidArgument(fmt::format("not JSON ({}): {}", ec.message(), excerpt(body)));
  }
  if (!value.is_object()) {
    return invalidArgument("not a JSON object: " + excerpt(body));
  }
  const boost::json::object& health = value.as_object();
  auto node = stringMember(health, "node");
  if (!node) {
    return node.error();
  }
  auto version = stringMember(health, "version");
  if (!version) {
    return version.error();
  }
  const boost::json::value* uptime = health.if_contains("uptimeSeconds");
  if (uptime == nullptr || !uptime->is_number()) {
    return invalidArgument("\"uptimeSeconds\" is missing or not a number");
  }
  std::string line = fmt::format("node {} version {} up {}", *node, *version,
                                 formatUptime(uptime->to_number<double>()));
  if (auto status = stringMember(health, "status"); status && *status != "ok") {
    line += fmt::format(" (status {})", *status);
  }
  return line;
}

Result<std::string> runStatus(const GlobalOptions& global, bool json) {
  auto url = parseUrl(global.orchestrator_url);
  if (!url) {
    return invalidArgument("--orchestrator-url: " + url.error().message);
  }
  // /health needs no token, so none is sent.
  const HttpClient client(*url, HttpClientOptions{.timeout = global.timeout});
  const std::string what = "GET " + url->httpOrigin() + "/health";
  auto response = client.get("/health");
  if (!response) {
    return response.error();
  }
  if (response->status != 200) {
    std::string message = fmt::format("{}: HTTP {} {}", what, response->status, response->reason);
    if (std::string detail = errorDetail(response->body); !detail.empty()) {
      message += ": " + detail;
    }
    return unavailable(std::move(message));
  }
  if (json) {
    boost::system::error_code ec;
    boost::json::parse(response->body, ec);
    if (ec) {
      return invalidArgument(fmt::format("{}: the response is not JSON ({}): {}", what,
                                         ec.message(), excerpt(response->body)));
    }
    return response->body;
  }
  auto line = formatHealth(response->body);
  if (!line) {
    return invalidArgument(fmt::format("{}: unexpected response: {}", what, line.error().message));
  }
  return line;
}

} // namespace catalyst::cli
