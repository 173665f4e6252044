#pragma once

// The URLs transports dial: ws://host:port/path and http://host:port/path. Pure; no Asio.

#include <cstdint>
#include <string>
#include <string_view>

#include "catalyst/common/result.h"

namespace catalyst::transport {

// An absolute URL split into what a client needs to connect and to send its request line.
struct Url {
  std::string scheme; // lower case: "ws", "wss", "http", "https", ...
  std::string host;   // as written, without the brackets of an IPv6 literal: "::1"
  uint16_t port = 0;  // the explicit port, else the scheme's default (80 for ws/http, 443 for
                      // wss/https)
  std::string target; // path and query, at least "/": "/rpc?x=1"; the fragment is dropped

  // "host:port", "[::1]:port" for IPv6: the Host header, and the name in error messages.
  std::string hostPort() const;

  bool operator==(const Url&) const = default;
};

// Parses `url`. Fails with InvalidArgument "invalid URL 'x': <problem>" for anything without a
// scheme and a host, with credentials ("user@host"), or with a bad port.
Result<Url> parseUrl(std::string_view url);

// parseUrl(), and the scheme must be `scheme` ("ws", "http"). Its TLS form (`scheme` + "s")
// is refused as "<scheme>s is not supported yet: <url>", any other as "invalid URL '<url>':
// the scheme must be <scheme>".
Result<Url> parseUrlWithScheme(std::string_view url, std::string_view scheme);

} // namespace catalyst::transport
