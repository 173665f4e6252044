#pragma once

// A small blocking HTTP/1.1 client for the CLI's calls to a node. Beast stays in the .cc.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "catalyst/common/result.h"

namespace catalyst::cli {

// Where a node listens. "ws://" URLs (the peering endpoint, e.g. ws://host:3000/rpc) are taken
// as their HTTP twin: same host and port.
struct Url {
  std::string scheme; // "http" or "ws", lower case
  std::string host;   // a name or an IP literal, without the brackets of IPv6
  uint16_t port = 80;
  std::string path; // what followed the authority ("/rpc"), possibly empty

  // "http://host:port" ("http://[::1]:3000"): the origin HTTP requests go to.
  std::string httpOrigin() const;
  // "host:port" ("[::1]:3000").
  std::string hostPort() const;
};

// Parses "http://HOST[:PORT][/PATH]" or "ws://...". Fails with InvalidArgument for anything
// else, including https:// and wss:// (the CLI speaks no TLS yet).
Result<Url> parseUrl(std::string_view text);

struct HttpClientOptions {
  // For connecting, then again for sending the request and receiving the whole response.
  std::chrono::milliseconds timeout{5'000};
  // Sent as "Authorization: Bearer <token>" if not empty.
  std::string bearer_token{};
};

struct HttpClientResponse {
  int status = 0;
  std::string reason{};       // "OK", "Not Found", as the server sent it
  std::string content_type{}; // empty if absent
  std::string body{};
};

// One request per connection; every failure is a one-line Error (Kind::Unavailable), e.g.
// "cannot connect to 127.0.0.1:3000: Connection refused" or
// "GET http://127.0.0.1:3000/health: no response within 5s". A response of any status is a
// success here: callers judge the status.
class HttpClient {
public:
  HttpClient(Url base, HttpClientOptions options);

  Result<HttpClientResponse> get(std::string_view target) const;
  Result<HttpClientResponse> post(std::string_view target, std::string body,
                                  std::string_view content_type = "application/json") const;

  // `method` is "GET", "POST", ...; `target` starts with '/'. `content_type` is sent only with
  // a non-empty body.
  Result<HttpClientResponse> request(std::string_view method, std::string_view target,
                                     std::string body, std::string_view content_type) const;

  const Url& base() const { return base_; }

private:
  Url base_;
  HttpClientOptions options_;
};

// "5s", "0.25s": how the CLI writes durations in messages.
std::string formatSeconds(std::chrono::milliseconds duration);

} // namespace catalyst::cli
