#include "cli/http_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include "catalyst/common/version.h"

namespace catalyst::cli {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

// Responses larger than this are refused: a route list of 100 000 routes fits.
constexpr uint64_t kMaxResponseBody = 64 * 1024 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Runs `io` until its pending operations complete or `timeout` passes; false on timeout.
bool runFor(net::io_context& io, std::chrono::milliseconds timeout) {
  io.restart();
  io.run_for(timeout);
  return io.stopped();
}

// After a timeout: lets the cancelled operations complete, so none outlives this call.
void drain(net::io_context& io) {
  io.restart();
  io.run();
}

} // namespace

std::string formatSeconds(std::chrono::milliseconds duration) {
  return fmt::format("{:g}s", static_cast<double>(duration.count()) / 1000.0);
}

std::string Url::hostPort() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

std::string Url::httpOrigin() const { return "http://" + hostPort(); }

Result<Url> parseUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return invalidArgument(fmt::format("invalid URL '{}': {}", text, why));
  };
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return bad("expected http://HOST:PORT or ws://HOST:PORT/rpc");
  }
  Url url;
  url.scheme = lower(text.substr(0, scheme_end));
  if (url.scheme == "https" || url.scheme == "wss") {
    return bad("TLS (https://, wss://) is not supported; use http:// or ws://");
  }
  if (url.scheme != "http" && url.scheme != "ws") {
    return bad("the scheme must be http:// or ws://");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  const std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  url.path = authority_end == std::string_view::npos ? "" : std::string(rest.substr(authority_end));
  if (authority.find('@') != std::string_view::npos) {
    return bad("user names in URLs are not supported; use --token");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return bad("unterminated '[' in the host");
    }
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return bad("unexpected text after ']'");
      }
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (url.host.empty()) {
    return bad("no host");
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return bad("the port must be a number from 1 to 65535");
    }
    url.port = static_cast<uint16_t>(port);
  }
  return url;
}

HttpClient::HttpClient(Url base, HttpClientOptions options)
    : base_(std::move(base)), options_(std::move(options)) {}

Result<HttpClientResponse> HttpClient::get(std::string_view target) const {
  return request("GET", target, {}, {});
}

Result<HttpClientResponse> HttpClient::post(std::string_view target, std::string body,
                                            std::string_view content_type) const {
  return request("POST", target, std::move(body), content_type);
}

Result<HttpClientResponse> HttpClient::request(std::string_view method, std::string_view target,
                                               std::string body,
                                               std::string_view content_type) const {
  const std::string what = fmt::format("{} {}{}", method, base_.httpOrigin(), target);
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown || target.empty() || target.front() != '/') {
    return invalidArgument(fmt::format("{}: not a valid request", what));
  }
  const std::string timeout = formatSeconds(options_.timeout);

  // The io_context goes first: it is destroyed last, after every object bound to it.
  net::io_context io;
  tcp::resolver resolver(io);
  tcp::socket socket(io);
  error_code ec;

  tcp::resolver::results_type endpoints;
  resolver.async_resolve(base_.host, std::to_string(base_.port),
                         [&](const error_code& e, tcp::resolver::results_type results) {
                           ec = e;
                           endpoints = std::move(results);
                         });
  if (!runFor(io, options_.timeout)) {
    // No drain: a resolver stuck in getaddrinfo() cannot be interrupted.
    resolver.cancel();
    return unavailable(fmt::format("cannot resolve '{}': timed out after {}", base_.host, timeout));
  }
  if (ec) {
    return unavailable(fmt::format("cannot resolve '{}': {}", base_.host, ec.message()));
  }

  net::async_connect(socket, endpoints,
                     [&](const error_code& e, const tcp::endpoint& /*endpoint*/) { ec = e; });
  if (!runFor(io, options_.timeout)) {
    socket.close(ec);
    drain(io);
    return unavailable(
        fmt::format("cannot connect to {}: timed out after {}", base_.hostPort(), timeout));
  }
  if (ec) {
    return unavailable(fmt::format("cannot connect to {}: {}", base_.hostPort(), ec.message()));
  }

  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, base_.hostPort());
  request.set(http::field::user_agent, fmt::format("catalyst/{}", kVersion));
  request.set(http::field::accept, "application/json");
  if (!options_.bearer_token.empty()) {
    request.set(http::field::authorization, "Bearer " + options_.bearer_token);
  }
  if (!body.empty()) {
    request.set(http::field::content_type, content_type);
    request.body() = std::move(body);
  }
  request.keep_alive(false);
  request.prepare_payload();

  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  http::async_write(socket, request, [&](const error_code& write_ec, std::size_t /*bytes*/) {
    ec = write_ec;
    if (!write_ec) {
      http::async_read(socket, buffer, parser,
                       [&](const error_code& read_ec, std::size_t /*bytes*/) { ec = read_ec; });
    }
  });
  if (!runFor(io, options_.timeout)) {
    socket.close(ec);
    drain(io);
    return unavailable(fmt::format("{}: no response within {}", what, timeout));
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return unavailable(fmt::format("{}: the connection closed before a full response", what));
  }
  if (ec) {
    return unavailable(fmt::format("{}: {}", what, ec.message()));
  }

  http::response<http::string_body>& response = parser.get();
  HttpClientResponse out;
  out.status = static_cast<int>(response.result_int());
  out.reason = std::string(response.reason());
  out.content_type = std::string(response[http::field::content_type]);
  out.body = std::move(response.body());
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

} // namespace catalyst::cli
