#pragma once

// One HTTP/1.1 connection of an HttpServer (internal; Beast's http_session idiom). It lives
// exactly while an operation of it is pending: each handler holds shared_from_this().

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "catalyst/admin/http_server_impl.h"

namespace catalyst::admin {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
  // Registers with `server` until destroyed or upgraded.
  HttpSession(std::shared_ptr<HttpServerImpl> server, boost::asio::ip::tcp::socket socket);
  ~HttpSession();

  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;
  HttpSession(HttpSession&&) = delete;
  HttpSession& operator=(HttpSession&&) = delete;

  void start();

  // Closes the connection; pending operations complete with operation_aborted.
  void close();

private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void doRead();
  void onReadHeader(boost::beast::error_code ec, std::size_t bytes);
  void onContinueWritten(boost::beast::error_code ec, std::size_t bytes);
  void doReadBody();
  void onRead(boost::beast::error_code ec, std::size_t bytes);
  void onReadError(boost::beast::error_code ec);

  void handleRequest(Request request);
  // The handler of `request`, or nullptr if it is answered by `refusal()` (404, 405, 426).
  static const AsyncHttpHandler* findHandler(const PathRoutes* routes, HttpMethod method);
  static HttpResponse refusal(const PathRoutes* routes, const HttpRequest& request);
  void callHandler(const AsyncHttpHandler& handler, const HttpRequest& request);
  void upgrade(const UpgradeHandler& handler, Request request);

  // The answer to the request numbered `sequence` (HttpResponder). Stale or repeated answers,
  // and answers after close() or stop(), are dropped.
  void onResponse(uint64_t sequence, HttpResponse response);
  // The last copy of the responder of request `sequence` was destroyed without an answer.
  void onResponderDropped(uint64_t sequence);

  // While an async handler works: reads (and keeps) what the client sends, which notices a
  // client that went away and times out a handler that never answers.
  void doWaitRead();
  void onWaitRead(boost::beast::error_code ec, std::size_t bytes);

  // Writes `response`; closes the connection after it unless `keep_alive`.
  void send(HttpResponse response, unsigned version, bool keep_alive, bool head = false);
  void sendError(int status, std::string_view message);
  void onWrite(boost::beast::error_code ec, std::size_t bytes);

  // Stops sending, then reads and drops what the client still sends until it closes, so that
  // closing does not reset the connection before the client has read our response.
  void lingerClose();
  void doLingerRead();
  void onLingerRead(boost::beast::error_code ec, std::size_t bytes);

  void fail(boost::beast::error_code ec, const char* what);

  class Responder;

  std::shared_ptr<HttpServerImpl> server_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<boost::beast::http::empty_body> continue_;
  Response response_; // the response being written; it must outlive async_write
  std::string remote_address_;
  uint16_t remote_port_ = 0;
  bool remote_is_loopback_ = false;
  bool registered_ = true;
  std::size_t lingered_bytes_ = 0;

  // The request being served: what its response needs, and whether an answer is awaited.
  struct Current {
    uint64_t sequence = 0; // numbers the requests of this connection, from 1
    HttpMethod method = HttpMethod::Get;
    std::string path;
    unsigned version = 11;
    bool keep_alive = true;
    bool head = false;
    bool awaiting = false; // the handler has not answered yet
  };
  Current current_;
  bool wait_read_pending_ = false;
  // An answer that came while doWaitRead() was pending; sent once that read is cancelled.
  std::optional<HttpResponse> ready_response_;
};

} // namespace catalyst::admin
