#include "catalyst/admin/http_session.h"

#include <algorithm>
#include <exception>

#include <boost/asio/error.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <fmt/format.h>

#include "catalyst/common/assert.h"
#include "catalyst/common/version.h"

namespace catalyst::admin {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// How long, and how much, a closing connection reads and drops (lingerClose()).
constexpr std::chrono::milliseconds kMaxLingerTime{2'000};
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;
constexpr std::size_t kLingerReadSize = 16 * 1024;
// The read that watches a connection while an async handler works.
constexpr std::size_t kWaitReadSize = 4096;

HttpMethod toMethod(http::verb verb) {
  switch (verb) {
  case http::verb::get:
    return HttpMethod::Get;
  case http::verb::head:
    return HttpMethod::Head;
  case http::verb::post:
    return HttpMethod::Post;
  case http::verb::put:
    return HttpMethod::Put;
  case http::verb::delete_:
    return HttpMethod::Delete;
  case http::verb::patch:
    return HttpMethod::Patch;
  case http::verb::options:
    return HttpMethod::Options;
  default:
    return HttpMethod::Other;
  }
}

bool isLoopback(const net::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

// "GET, HEAD, POST": the methods `routes` answers, HEAD included where GET implies it.
std::string allowedMethods(const PathRoutes& routes) {
  std::string allow;
  auto add = [&](HttpMethod method) {
    if (!allow.empty()) {
      allow += ", ";
    }
    allow += toString(method);
  };
  for (const auto& [method, handler] : routes.handlers) {
    add(method);
    if (method == HttpMethod::Get && !routes.handlers.contains(HttpMethod::Head)) {
      add(HttpMethod::Head);
    }
  }
  return allow;
}

} // namespace

HttpSession::HttpSession(std::shared_ptr<HttpServerImpl> server, tcp::socket socket)
    : server_(std::move(server)), stream_(std::move(socket)) {
  beast::error_code ec;
  const tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
  if (!ec) {
    remote_address_ = remote.address().to_string();
    remote_port_ = remote.port();
    remote_is_loopback_ = isLoopback(remote.address());
  }
  server_->addSession(*this);
}

HttpSession::~HttpSession() {
  if (registered_) {
    server_->removeSession(*this);
  }
}

void HttpSession::start() { doRead(); }

void HttpSession::close() { stream_.close(); }

void HttpSession::doRead() {
  const HttpServerLimits& limits = server_->limits();
  parser_.emplace();
  parser_->header_limit(limits.max_header_bytes);
  parser_->body_limit(limits.max_body_bytes);
  stream_.expires_after(limits.request_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&HttpSession::onReadHeader, shared_from_this()));
}

void HttpSession::onReadHeader(beast::error_code ec, std::size_t /*bytes*/) {
  if (server_->stopped()) {
    return;
  }
  if (ec) {
    onReadError(ec);
    return;
  }
  const Request& request = parser_->get();
  if (!parser_->is_done() && beast::iequals(request[http::field::expect], "100-continue")) {
    // The body is within the limits (Beast checked Content-Length): ask for it.
    continue_ = http::response<http::empty_body>(http::status::continue_, request.version());
    http::async_write(
        stream_, continue_,
        beast::bind_front_handler(&HttpSession::onContinueWritten, shared_from_this()));
    return;
  }
  doReadBody();
}

void HttpSession::onContinueWritten(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) {
    fail(ec, "write 100-continue");
    return;
  }
  doReadBody();
}

void HttpSession::doReadBody() {
  if (parser_->is_done()) {
    onRead({}, 0);
    return;
  }
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::onRead, shared_from_this()));
}

void HttpSession::onRead(beast::error_code ec, std::size_t /*bytes*/) {
  if (server_->stopped()) {
    return;
  }
  if (ec) {
    onReadError(ec);
    return;
  }
  handleRequest(parser_->release());
}

void HttpSession::onReadError(beast::error_code ec) {
  HttpServerStats& stats = server_->mutableStats();
  Logger& logger = server_->logger();
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    // The client closed between requests, or in the middle of one: nobody to answer.
    stream_.close();
    return;
  }
  if (ec == beast::error::timeout) {
    if (parser_->got_some()) {
      ++stats.rejected_timeout;
      logger.debug("http: {}: request not complete within {}ms; closing", remote_address_,
                   server_->limits().request_timeout.count());
    } else {
      ++stats.idle_timeouts;
    }
    stream_.close();
    return;
  }
  if (ec == http::error::header_limit) {
    ++stats.rejected_too_large;
    logger.debug("http: {}: header over {} bytes", remote_address_,
                 server_->limits().max_header_bytes);
    sendError(431, fmt::format("request header larger than {} bytes",
                               server_->limits().max_header_bytes));
    return;
  }
  if (ec == http::error::body_limit) {
    ++stats.rejected_too_large;
    logger.debug("http: {}: body over {} bytes", remote_address_, server_->limits().max_body_bytes);
    sendError(413,
              fmt::format("request body larger than {} bytes", server_->limits().max_body_bytes));
    return;
  }
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
    ++stats.bad_requests;
    logger.debug("http: {}: malformed request: {}", remote_address_, ec.message());
    sendError(400, fmt::format("malformed HTTP request: {}", ec.message()));
    return;
  }
  fail(ec, "read");
  stream_.close();
}

void HttpSession::handleRequest(Request request) {
  HttpServerStats& stats = server_->mutableStats();
  ++stats.requests;
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  const HttpMethod method = toMethod(request.method());

  const std::string_view target = request.target();
  if (target.empty() || target.front() != '/') {
    ++stats.bad_requests;
    sendError(400, "the request target must be an absolute path");
    return;
  }
  const std::size_t query_start = target.find('?');
  const std::string_view path = target.substr(0, query_start);
  const PathRoutes* routes = server_->findRoutes(path);

  if (routes != nullptr && routes->upgrade && beast::websocket::is_upgrade(request)) {
    upgrade(routes->upgrade, std::move(request));
    return;
  }

  HttpRequest plain;
  plain.method = method;
  plain.target = std::string(target);
  plain.path = std::string(path);
  if (query_start != std::string_view::npos) {
    plain.query = std::string(target.substr(query_start + 1));
  }
  plain.headers.reserve(static_cast<std::size_t>(std::distance(request.begin(), request.end())));
  for (const auto& field : request) {
    plain.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  plain.body = std::move(request.body());
  plain.remote_address = remote_address_;
  plain.remote_port = remote_port_;
  plain.remote_is_loopback = remote_is_loopback_;

  current_ = Current{.sequence = current_.sequence + 1,
                     .method = method,
                     .path = plain.path,
                     .version = version,
                     .keep_alive = keep_alive,
                     .head = method == HttpMethod::Head,
                     .awaiting = false};
  const AsyncHttpHandler* handler = findHandler(routes, method);
  if (handler == nullptr) {
    send(refusal(routes, plain), version, keep_alive, current_.head);
    return;
  }
  // Copied: the handler may add routes, which could move the one running.
  callHandler(AsyncHttpHandler(*handler), plain);
}

const AsyncHttpHandler* HttpSession::findHandler(const PathRoutes* routes, HttpMethod method) {
  if (routes == nullptr) {
    return nullptr;
  }
  auto it = routes->handlers.find(method);
  if (it == routes->handlers.end() && method == HttpMethod::Head) {
    it = routes->handlers.find(HttpMethod::Get);
  }
  return it == routes->handlers.end() ? nullptr : &it->second;
}

HttpResponse HttpSession::refusal(const PathRoutes* routes, const HttpRequest& request) {
  if (routes == nullptr) {
    return jsonError(404, fmt::format("no such path: {}", request.path));
  }
  if (routes->handlers.empty()) {
    HttpResponse response =
        jsonError(426, fmt::format("{} only accepts WebSocket upgrades", request.path));
    response.headers.push_back({"Upgrade", "websocket"});
    response.headers.push_back({"Connection", "Upgrade"});
    return response;
  }
  HttpResponse response = jsonError(
      405, fmt::format("method {} not allowed on {}", toString(request.method), request.path));
  response.headers.push_back({"Allow", allowedMethods(*routes)});
  return response;
}

// The state behind the HttpResponder of one request, shared by its copies.
class HttpSession::Responder {
public:
  Responder(std::weak_ptr<HttpSession> session, uint64_t sequence)
      : session_(std::move(session)), sequence_(sequence) {}

  ~Responder() {
    if (!answered_) {
      if (auto session = session_.lock()) {
        session->onResponderDropped(sequence_);
      }
    }
  }

  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  Responder(Responder&&) = delete;
  Responder& operator=(Responder&&) = delete;

  void respond(HttpResponse response) {
    if (answered_) {
      return;
    }
    answered_ = true;
    if (auto session = session_.lock()) {
      session->onResponse(sequence_, std::move(response));
    }
  }

private:
  // Not owning: the connection may close before the answer comes.
  std::weak_ptr<HttpSession> session_;
  const uint64_t sequence_;
  bool answered_ = false;
};

void HttpSession::callHandler(const AsyncHttpHandler& handler, const HttpRequest& request) {
  current_.awaiting = true;
  const uint64_t sequence = current_.sequence;
  {
    // The handler gets a copy; this one answers for it if it throws. Once every copy is gone
    // without an answer, the Responder answers 500.
    HttpResponder respond = [responder = std::make_shared<Responder>(weak_from_this(), sequence)](
                                HttpResponse response) { responder->respond(std::move(response)); };
    try {
      handler(request, respond);
    } catch (const std::exception& e) {
      ++server_->mutableStats().handler_errors;
      server_->logger().error("http: handler of {} {} threw: {}", toString(request.method),
                              request.path, e.what());
      respond(jsonError(500, "internal error"));
    }
  }
  if (current_.sequence == sequence && current_.awaiting && !server_->stopped()) {
    // The answer comes later: until then, watch the connection.
    stream_.expires_after(server_->limits().request_timeout);
    doWaitRead();
  }
}

void HttpSession::onResponse(uint64_t sequence, HttpResponse response) {
  if (sequence != current_.sequence || !current_.awaiting || server_->stopped()) {
    return;
  }
  CATALYST_ASSERT(server_->dispatcher().isThreadSafe(), "answers come on the dispatcher's thread");
  current_.awaiting = false;
  if (response.status < 200 || response.status > 599) {
    ++server_->mutableStats().handler_errors;
    server_->logger().error("http: handler of {} {} returned status {}", toString(current_.method),
                            current_.path, response.status);
    response = jsonError(500, "internal error");
  }
  if (wait_read_pending_) {
    // The next request must not be read while that read is pending: stop it first, and
    // onWaitRead() sends the response.
    ready_response_ = std::move(response);
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
    return;
  }
  send(std::move(response), current_.version, current_.keep_alive, current_.head);
}

void HttpSession::onResponderDropped(uint64_t sequence) {
  if (sequence != current_.sequence || !current_.awaiting || server_->stopped()) {
    return;
  }
  ++server_->mutableStats().handler_errors;
  server_->logger().error("http: handler of {} {} dropped the request without an answer",
                          toString(current_.method), current_.path);
  onResponse(sequence, jsonError(500, "internal error"));
}

void HttpSession::doWaitRead() {
  wait_read_pending_ = true;
  stream_.async_read_some(buffer_.prepare(kWaitReadSize),
                          beast::bind_front_handler(&HttpSession::onWaitRead, shared_from_this()));
}

void HttpSession::onWaitRead(beast::error_code ec, std::size_t bytes) {
  wait_read_pending_ = false;
  buffer_.commit(bytes);
  if (server_->stopped()) {
    return;
  }
  if (ready_response_) {
    HttpResponse response = std::move(*ready_response_);
    ready_response_.reset();
    send(std::move(response), current_.version, current_.keep_alive, current_.head);
    return;
  }
  if (ec == beast::error::timeout) {
    ++server_->mutableStats().handler_timeouts;
    server_->logger().warn("http: {}: handler of {} {} did not answer within {}ms; closing",
                           remote_address_, toString(current_.method), current_.path,
                           server_->limits().request_timeout.count());
    stream_.close();
    return;
  }
  if (ec) {
    // The client went away, or the connection failed: nobody to answer. The responder finds
    // the session gone.
    if (ec != net::error::eof) {
      fail(ec, "read while the handler works");
    }
    stream_.close();
    return;
  }
  const HttpServerLimits& limits = server_->limits();
  if (buffer_.size() > limits.max_header_bytes + limits.max_body_bytes) {
    // More pipelined behind the pending request than the next request may hold.
    ++server_->mutableStats().rejected_too_large;
    server_->logger().debug("http: {}: {} bytes pipelined behind a pending request; closing",
                            remote_address_, buffer_.size());
    stream_.close();
    return;
  }
  doWaitRead();
}

void HttpSession::upgrade(const UpgradeHandler& handler, Request request) {
  if (buffer_.size() != 0) {
    // Bytes after the upgrade request would be lost in the hand-over; a WebSocket client
    // waits for the 101 before it sends anything.
    ++server_->mutableStats().bad_requests;
    sendError(400, "data sent before the upgrade completed");
    return;
  }
  ++server_->mutableStats().upgrades;
  // From here on the socket belongs to the handler: the connection is no longer ours to count,
  // time out, or close on stop().
  server_->removeSession(*this);
  registered_ = false;
  stream_.expires_never();
  const UpgradeHandler take_over = handler; // the handler may change the routes
  try {
    take_over(stream_.release_socket(), std::move(request));
  } catch (const std::exception& e) {
    ++server_->mutableStats().handler_errors;
    server_->logger().error("http: upgrade handler threw: {}", e.what());
  }
}

void HttpSession::send(HttpResponse response, unsigned version, bool keep_alive, bool head) {
  HttpServerStats& stats = server_->mutableStats();
  switch (response.status / 100) {
  case 2:
    ++stats.responses_2xx;
    break;
  case 3:
    ++stats.responses_3xx;
    break;
  case 4:
    ++stats.responses_4xx;
    break;
  default:
    ++stats.responses_5xx;
    break;
  }
  response_ = Response(static_cast<http::status>(response.status), version);
  response_.set(http::field::server, fmt::format("catalyst-node/{}", kVersion));
  if (!response.content_type.empty()) {
    response_.set(http::field::content_type, response.content_type);
  }
  for (HttpHeader& header : response.headers) {
    response_.insert(header.name, header.value);
  }
  response_.keep_alive(keep_alive);
  if (head) {
    response_.content_length(response.body.size());
  } else {
    response_.body() = std::move(response.body);
    response_.prepare_payload();
  }
  stream_.expires_after(server_->limits().request_timeout);
  http::async_write(stream_, response_,
                    beast::bind_front_handler(&HttpSession::onWrite, shared_from_this()));
}

void HttpSession::sendError(int status, std::string_view message) {
  // After a protocol error the rest of the stream cannot be trusted: answer, then close.
  const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
  send(jsonError(status, message), version, /*keep_alive=*/false);
}

void HttpSession::onWrite(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) {
    fail(ec, "write");
    stream_.close();
    return;
  }
  if (!response_.keep_alive()) {
    lingerClose();
    return;
  }
  response_ = {};
  doRead();
}

void HttpSession::lingerClose() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    stream_.close();
    return;
  }
  buffer_.clear();
  stream_.expires_after(std::min(kMaxLingerTime, server_->limits().request_timeout));
  doLingerRead();
}

void HttpSession::doLingerRead() {
  stream_.async_read_some(
      buffer_.prepare(kLingerReadSize),
      beast::bind_front_handler(&HttpSession::onLingerRead, shared_from_this()));
}

void HttpSession::onLingerRead(beast::error_code ec, std::size_t bytes) {
  lingered_bytes_ += bytes;
  if (ec || lingered_bytes_ > kMaxLingerBytes) {
    // EOF (the client read our response and closed), a timeout, or too much: done either way.
    stream_.close();
    return;
  }
  doLingerRead();
}

void HttpSession::fail(beast::error_code ec, const char* what) {
  if (server_->stopped() || ec == net::error::operation_aborted) {
    return;
  }
  if (ec == net::error::connection_reset || ec == net::error::broken_pipe ||
      ec == beast::error::timeout) {
    server_->logger().debug("http: {}: {}: {}", remote_address_, what, ec.message());
    return;
  }
  server_->logger().warn("http: {}: {}: {}", remote_address_, what, ec.message());
}

} // namespace catalyst::admin
