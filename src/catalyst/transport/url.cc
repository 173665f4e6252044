#include "catalyst/transport/url.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace catalyst::transport {
namespace {

bool isSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
}

uint16_t defaultPort(std::string_view scheme) {
  if (scheme == "ws" || scheme == "http") {
    return 80;
  }
  if (scheme == "wss" || scheme == "https") {
    return 443;
  }
  return 0;
}

} // namespace

std::string Url::hostPort() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

Result<Url> parseUrl(std::string_view url) {
  auto invalid = [&](std::string_view problem) {
    return invalidArgument(fmt::format("invalid URL '{}': {}", url, problem));
  };
  if (std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == '\x7f'; })) {
    return invalid("spaces and control characters are not allowed");
  }
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0 ||
      std::isalpha(static_cast<unsigned char>(url.front())) == 0 ||
      !std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(scheme_end),
                   isSchemeChar)) {
    return invalid("expected scheme://host[:port][/path]");
  }
  Url out;
  out.scheme = std::string(url.substr(0, scheme_end));
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  std::string_view rest = url.substr(scheme_end + 3);
  const std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return invalid("credentials in URLs are not supported");
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return invalid("unterminated IPv6 address");
    }
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return invalid("unexpected text after the IPv6 address");
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        return invalid("empty port");
      }
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        return invalid("empty port");
      }
    }
  }
  if (out.host.empty()) {
    return invalid("no host");
  }

  if (port_text.empty()) {
    out.port = defaultPort(out.scheme);
    if (out.port == 0) {
      return invalid(fmt::format("no port, and scheme '{}' has no default", out.scheme));
    }
  } else {
    unsigned long port = 0;
    for (char c : port_text) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0 || port > 65535) {
        return invalid(fmt::format("bad port '{}'", port_text));
      }
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) {
      return invalid(fmt::format("bad port '{}'", port_text));
    }
    out.port = static_cast<uint16_t>(port);
  }

  target = target.substr(0, target.find('#'));
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

Result<Url> parseUrlWithScheme(std::string_view url, std::string_view scheme) {
  Result<Url> parsed = parseUrl(url);
  if (!parsed) {
    return parsed;
  }
  if (parsed->scheme == std::string(scheme) + "s") {
    return invalidArgument(fmt::format("{}s is not supported yet: {}", scheme, url));
  }
  if (parsed->scheme != scheme) {
    return invalidArgument(fmt::format("invalid URL '{}': the scheme must be {}", url, scheme));
  }
  return parsed;
}

} // namespace catalyst::transport
