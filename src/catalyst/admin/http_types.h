#pragma once

// Plain HTTP request and response values for the handlers of the admin port. No Asio or Beast
// here: route handlers (health, metrics, state, ...) include only this header.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace catalyst::admin {

// The methods a route can be registered for. Requests with any other method parse as `Other`
// and are answered 405 on a known path.
enum class HttpMethod { Get, Head, Post, Put, Delete, Patch, Options, Other };

// "GET", "HEAD", ...; "OTHER" for HttpMethod::Other.
std::string_view toString(HttpMethod method);

struct HttpHeader {
  std::string name;
  std::string value;

  bool operator==(const HttpHeader&) const = default;
};

// One parsed request, as a handler sees it. A value type.
struct HttpRequest {
  HttpMethod method = HttpMethod::Get;
  std::string target;              // as sent: "/api/state?verbose=1"
  std::string path;                // the target up to '?', not percent-decoded: "/api/state"
  std::string query;               // the target after '?', not decoded (empty if none): "verbose=1"
  std::vector<HttpHeader> headers; // in the order received, names as sent
  std::string body;
  std::string remote_address; // "127.0.0.1", "::1"
  uint16_t remote_port = 0;
  bool remote_is_loopback = false; // also true for IPv4-mapped 127.0.0.0/8 on a v6 socket

  // The value of the first header called `name` (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
};

// What a handler returns. The server adds Content-Length, Connection and Server itself.
struct HttpResponse {
  int status = 200;                              // 200..599; anything else is answered 500
  std::string content_type = "application/json"; // omitted from the response if empty
  std::string body{};
  std::vector<HttpHeader> headers{}; // extra headers, e.g. {"Allow", "GET"}
};

// Serves one request on the dispatcher's thread. It must not block: the control thread runs it.
// An exception thrown by it is caught, logged, counted and answered 500.
using HttpHandler = std::function<HttpResponse(const HttpRequest& request)>;

// Answers the request an AsyncHttpHandler was given. Call it on the dispatcher's thread, at
// once or later. Only the first call counts; a call after the client went away or the server
// stopped does nothing. Copies share one answer, and if the last copy is destroyed without a
// call the request is answered 500 (a handler that forgot to answer).
using HttpResponder = std::function<void(HttpResponse response)>;

// Serves one request that is answered later, e.g. once an RPC batch has run. Runs on the
// dispatcher's thread and must not block; `request` is valid only during the call. While the
// answer is pending the connection reads nothing more: pipelined requests wait, so responses
// keep their order. An answer that does not come within the server's request_timeout closes
// the connection without a response. An exception thrown before `respond` was called is
// caught, logged, counted and answered 500.
using AsyncHttpHandler = std::function<void(const HttpRequest& request, HttpResponder respond)>;

// A response carrying `json`, JSON already serialized.
HttpResponse rawJsonResponse(int status, std::string json);

// A response carrying `value` serialized.
HttpResponse jsonResponse(int status, const boost::json::value& value);

// {"error": message}, the shape of every error the admin port sends.
HttpResponse jsonError(int status, std::string_view message);

// A text/plain (or `content_type`) response.
HttpResponse textResponse(int status, std::string body,
                          std::string content_type = "text/plain; charset=utf-8");

} // namespace catalyst::admin
