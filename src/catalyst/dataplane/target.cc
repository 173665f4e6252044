#include "catalyst/dataplane/target.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace catalyst::dataplane {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<uint16_t> defaultPort(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") {
    return 80;
  }
  if (scheme == "https" || scheme == "wss") {
    return 443;
  }
  return std::nullopt;
}

Result<uint16_t> parsePort(std::string_view text, std::string_view endpoint) {
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 1 ||
      value > 65535) {
    return invalidArgument(fmt::format("endpoint '{}': bad port '{}'", endpoint, text));
  }
  return static_cast<uint16_t>(value);
}

// A host name or IP literal: letters, digits, '.', '-', '_'; in brackets also ':' and '%' (an
// IPv6 address with its zone).
bool validHost(std::string_view host, bool bracketed) {
  return std::all_of(host.begin(), host.end(), [bracketed](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_' ||
           (bracketed && (c == ':' || c == '%'));
  });
}

} // namespace

std::string Target::toString() const {
  return host.find(':') == std::string::npos ? fmt::format("{}:{}", host, port)
                                             : fmt::format("[{}]:{}", host, port);
}

Result<Target> parseServiceEndpoint(std::string_view endpoint) {
  std::string_view rest = endpoint;
  std::string scheme;
  if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
    scheme = lower(rest.substr(0, sep));
    rest.remove_prefix(sep + 3);
  }
  // The authority ends at the path, query or fragment.
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.find('@') != std::string_view::npos) {
    return invalidArgument(fmt::format("endpoint '{}': credentials are not supported", endpoint));
  }
  Target target;
  std::string_view port_text;
  bool has_port = false;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return invalidArgument(fmt::format("endpoint '{}': unclosed '['", endpoint));
    }
    target.host = std::string(rest.substr(1, close - 1));
    if (target.host.find(':') == std::string::npos) {
      return invalidArgument(
          fmt::format("endpoint '{}': brackets are for IPv6 addresses only", endpoint));
    }
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return invalidArgument(fmt::format("endpoint '{}': junk after ']'", endpoint));
      }
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && rest.find(':') != colon) {
      return invalidArgument(
          fmt::format("endpoint '{}': an IPv6 address must be in brackets", endpoint));
    }
    target.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = rest.substr(colon + 1);
    }
  }
  if (target.host.empty()) {
    return invalidArgument(fmt::format("endpoint '{}': no host", endpoint));
  }
  if (!validHost(target.host, rest.starts_with('['))) {
    return invalidArgument(fmt::format("endpoint '{}': bad host '{}'", endpoint, target.host));
  }
  if (has_port) {
    Result<uint16_t> port = parsePort(port_text, endpoint);
    if (!port) {
      return port.error();
    }
    target.port = *port;
  } else if (auto port = defaultPort(scheme)) {
    target.port = *port;
  } else {
    return invalidArgument(fmt::format("endpoint '{}': no port", endpoint));
  }
  return target;
}

Result<Target> routeTarget(const control::fx::DataPlaneRoute& route) {
  using Kind = control::fx::DataPlaneRoute::Kind;
  if (route.kind == Kind::Ingress) {
    if (!route.service_endpoint || route.service_endpoint->empty()) {
      return invalidArgument("the route has no service endpoint");
    }
    return parseServiceEndpoint(*route.service_endpoint);
  }
  if (!route.next_hop_address || route.next_hop_address->empty() || !route.next_hop_port ||
      *route.next_hop_port == 0) {
    return invalidArgument("the next hop advertised no data-plane address and port");
  }
  std::string host = *route.next_hop_address;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  // What a neighbour advertised: a host name or an IP literal, nothing else.
  if (!validHost(host, host.find(':') != std::string::npos)) {
    return invalidArgument(fmt::format("the next hop's address '{}' is not a host name or an "
                                       "IP address",
                                       *route.next_hop_address));
  }
  return Target{std::move(host), *route.next_hop_port};
}

} // namespace catalyst::dataplane
