#include <cerrno>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "catalyst/admin/http_server.h"

#include "http_test_util.h"

namespace catalyst::admin {
namespace {

using namespace std::chrono_literals;
using test::getRequest;
using test::RawHttpConnection;
using test::rawHttpExchange;
using test::TestHttpServer;
using test::waitUntil;

// The "error" member of a JSON error body, or "<not a JSON error>".
std::string errorOf(const std::string& body) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(body, ec);
  if (ec || !value.is_object() || !value.as_object().contains("error") ||
      !value.at("error").is_string()) {
    return "<not a JSON error: " + body + ">";
  }
  return std::string(value.at("error").as_string());
}

class HttpServerTest : public testing::Test {
protected:
  // Makes the server with `limits` and the routes below, listens and starts its loop.
  void start(HttpServerLimits limits = {}) {
    http_ = std::make_unique<TestHttpServer>(limits);
    HttpServer& server = http_->server();
    server.addRoute(HttpMethod::Get, "/ok",
                    [](const HttpRequest&) { return rawJsonResponse(200, R"({"ok":true})"); });
    server.addRoute(HttpMethod::Post, "/echo",
                    [](const HttpRequest& request) { return textResponse(200, request.body); });
    server.addRoute(HttpMethod::Get, "/inspect", [this](const HttpRequest& request) {
      last_request_ = request;
      return rawJsonResponse(200, "{}");
    });
    server.addRoute(HttpMethod::Get, "/throw", [](const HttpRequest&) -> HttpResponse {
      throw std::runtime_error("handler failed");
    });
    server.addRoute(HttpMethod::Get, "/bad-status",
                    [](const HttpRequest&) { return rawJsonResponse(42, "{}"); });
    server.addRoute(HttpMethod::Get, "/teapot", [](const HttpRequest&) {
      HttpResponse response = textResponse(418, "short and stout");
      response.headers.push_back({"X-Kettle", "on"});
      return response;
    });
    server.addRoute(HttpMethod::Get, "/stop", [this](const HttpRequest&) {
      http_->server().stop();
      return rawJsonResponse(200, "{}");
    });
    http_->start();
    port_ = http_->port();
  }

  HttpServerStats stats() { return http_->stats(); }

  std::unique_ptr<TestHttpServer> http_;
  uint16_t port_ = 0;
  HttpRequest last_request_; // written on the loop's thread, read after the response arrived
};

TEST_F(HttpServerTest, GetReturnsTheHandlersResponse) {
  start();
  auto response = rawHttpExchange(port_, getRequest("/ok"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"ok":true})");
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_EQ(response->header("content-length"), "11");
  EXPECT_EQ(response->header("server").rfind("catalyst-node/", 0), 0u);
}

TEST_F(HttpServerTest, HandlerStatusContentTypeAndExtraHeadersAreSent) {
  start();
  auto response = rawHttpExchange(port_, getRequest("/teapot"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 418);
  EXPECT_EQ(response->body, "short and stout");
  EXPECT_EQ(response->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response->header("x-kettle"), "on");
}

TEST_F(HttpServerTest, HandlerSeesTargetQueryHeadersAndPeer) {
  start();
  auto response = rawHttpExchange(port_, "GET /inspect?x=1&y=%20 HTTP/1.1\r\nHost: h\r\n"
                                         "X-Test: hello\r\n\r\n");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  const HttpRequest request = http_->run([this] { return last_request_; });
  EXPECT_EQ(request.method, HttpMethod::Get);
  EXPECT_EQ(request.target, "/inspect?x=1&y=%20");
  EXPECT_EQ(request.path, "/inspect");
  EXPECT_EQ(request.query, "x=1&y=%20");
  EXPECT_EQ(request.header("x-test"), "hello");
  EXPECT_EQ(request.header("HOST"), "h");
  EXPECT_FALSE(request.header("x-missing"));
  EXPECT_EQ(request.remote_address, "127.0.0.1");
  EXPECT_NE(request.remote_port, 0);
  EXPECT_TRUE(request.remote_is_loopback);
}

TEST_F(HttpServerTest, UnknownPathIs404WithJsonError) {
  start();
  auto response = rawHttpExchange(port_, getRequest("/nope?x=1"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->header("content-type"), "application/json");
  EXPECT_EQ(errorOf(response->body), "no such path: /nope");
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  start();
  auto response = rawHttpExchange(port_, "DELETE /ok HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->header("allow"), "GET, HEAD");
  EXPECT_EQ(errorOf(response->body), "method DELETE not allowed on /ok");

  response = rawHttpExchange(port_, getRequest("/echo"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->header("allow"), "POST");

  response = rawHttpExchange(port_, "BREW /ok HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
}

TEST_F(HttpServerTest, HeadIsServedByTheGetRouteWithoutBody) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send("HEAD /ok HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto response = connection.readResponse(/*head_request=*/true);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("content-length"), "11");
  // No body bytes followed: the next response on the connection parses cleanly.
  ASSERT_TRUE(connection.send(getRequest("/ok")));
  response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"ok":true})");
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(getRequest("/ok")));
  auto first = connection.readResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  ASSERT_TRUE(connection.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"));
  auto second = connection.readResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "hello");

  const HttpServerStats s = stats();
  EXPECT_EQ(s.connections_accepted, 1u);
  EXPECT_EQ(s.connections_active, 1u);
  EXPECT_EQ(s.requests, 2u);
  EXPECT_EQ(s.responses_2xx, 2u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(getRequest("/nope") +
                              "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" +
                              getRequest("/ok")));
  auto first = connection.readResponse();
  auto second = connection.readResponse();
  auto third = connection.readResponse();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->status, 404);
  EXPECT_EQ(second->body, "abc");
  EXPECT_EQ(third->status, 200);
}

TEST_F(HttpServerTest, Http10WithoutKeepAliveIsClosedAfterTheResponse) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send("GET /ok HTTP/1.0\r\n\r\n"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(connection.waitForClose());
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send("GET /ok HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(connection.waitForClose());
}

TEST_F(HttpServerTest, MalformedRequestIs400AndTheServerKeepsServing) {
  start();
  RawHttpConnection bad(port_);
  ASSERT_TRUE(bad.send("THIS IS NOT HTTP\r\n\r\n"));
  auto response = bad.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(errorOf(response->body).rfind("malformed HTTP request", 0), 0u) << response->body;
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(bad.waitForClose());

  response = rawHttpExchange(port_, getRequest("/ok"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(stats().bad_requests, 1u);
}

TEST_F(HttpServerTest, BadHeaderLineIs400) {
  start();
  auto response = rawHttpExchange(port_, "GET /ok HTTP/1.1\r\nNo colon here\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
}

TEST_F(HttpServerTest, TargetThatIsNotAPathIs400) {
  start();
  auto response = rawHttpExchange(port_, "GET http://h/ok HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(errorOf(response->body), "the request target must be an absolute path");
  EXPECT_EQ(stats().bad_requests, 1u);
}

TEST_F(HttpServerTest, OversizeHeaderIs431) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send("GET /ok HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(10'000, 'a') +
                              "\r\n\r\n"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(errorOf(response->body), "request header larger than 8192 bytes");
  EXPECT_TRUE(connection.waitForClose());
  const HttpServerStats s = stats();
  EXPECT_EQ(s.rejected_too_large, 1u);
  EXPECT_EQ(s.responses_4xx, 1u);
  EXPECT_EQ(s.requests, 0u);
}

TEST_F(HttpServerTest, HeaderJustUnderTheLimitIsAccepted) {
  start();
  const std::string head = "GET /ok HTTP/1.1\r\nHost: h\r\nX-Big: \r\n\r\n";
  auto response = rawHttpExchange(port_, "GET /ok HTTP/1.1\r\nHost: h\r\nX-Big: " +
                                             std::string(8 * 1024 - head.size(), 'a') + "\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerTest, ContentLengthOverTheLimitIs413BeforeTheBodyIsSent) {
  start({.max_body_bytes = 1024});
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(errorOf(response->body), "request body larger than 1024 bytes");
  EXPECT_EQ(stats().rejected_too_large, 1u);
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  start({.max_body_bytes = 1024});
  RawHttpConnection connection(port_);
  const std::string chunk(800, 'x');
  ASSERT_TRUE(connection.send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "320\r\n" +
                              chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(connection.waitForClose());
}

TEST_F(HttpServerTest, BodyAtTheLimitIsDelivered) {
  start({.max_body_bytes = 1024});
  const std::string body(1024, 'b');
  auto response = rawHttpExchange(
      port_, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1024\r\n\r\n" + body);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, body);
}

TEST_F(HttpServerTest, ExpectContinueGets100ThenTheResponse) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
                              "Expect: 100-continue\r\n\r\n"));
  auto interim = connection.readResponse();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(connection.send("ping"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ping");
}

TEST_F(HttpServerTest, IdleConnectionIsClosedAfterTheTimeout) {
  start({.request_timeout = 200ms});
  RawHttpConnection fresh(port_);
  RawHttpConnection kept_alive(port_);
  ASSERT_TRUE(kept_alive.send(getRequest("/ok")));
  ASSERT_TRUE(kept_alive.readResponse());
  EXPECT_TRUE(fresh.waitForClose());
  EXPECT_TRUE(kept_alive.waitForClose());
  EXPECT_TRUE(waitUntil([&] { return stats().connections_active == 0; }));
  const HttpServerStats s = stats();
  EXPECT_EQ(s.idle_timeouts, 2u);
  EXPECT_EQ(s.rejected_timeout, 0u);
}

TEST_F(HttpServerTest, SlowRequestIsClosedAfterTheTimeout) {
  start({.request_timeout = 200ms});
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send("GET /ok HTTP/1.1\r\nHost: h\r\n"));
  EXPECT_TRUE(connection.waitForClose());
  EXPECT_TRUE(waitUntil([&] { return stats().rejected_timeout == 1; }));
  EXPECT_EQ(stats().idle_timeouts, 0u);
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitAreClosed) {
  start({.max_connections = 2});
  RawHttpConnection first(port_);
  RawHttpConnection second(port_);
  ASSERT_TRUE(waitUntil([&] { return stats().connections_active == 2; }));

  RawHttpConnection third(port_);
  ASSERT_TRUE(third.connected());
  EXPECT_TRUE(third.waitForClose());
  EXPECT_EQ(stats().rejected_connections, 1u);

  // The open ones still work; once one closes there is room again.
  ASSERT_TRUE(first.send(getRequest("/ok")));
  auto response = first.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  second.close();
  ASSERT_TRUE(waitUntil([&] { return stats().connections_active == 1; }));
  response = rawHttpExchange(port_, getRequest("/ok"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerTest, HandlerExceptionOrBadStatusIs500) {
  start();
  auto response = rawHttpExchange(port_, getRequest("/throw"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(errorOf(response->body), "internal error");
  response = rawHttpExchange(port_, getRequest("/bad-status"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  const HttpServerStats s = stats();
  EXPECT_EQ(s.handler_errors, 2u);
  EXPECT_EQ(s.responses_5xx, 2u);
}

TEST_F(HttpServerTest, ResponsesAreCountedByStatusClass) {
  start();
  ASSERT_TRUE(rawHttpExchange(port_, getRequest("/ok")));
  ASSERT_TRUE(rawHttpExchange(port_, getRequest("/nope")));
  ASSERT_TRUE(rawHttpExchange(port_, getRequest("/teapot")));
  ASSERT_TRUE(rawHttpExchange(port_, getRequest("/throw")));
  const HttpServerStats s = stats();
  EXPECT_EQ(s.requests, 4u);
  EXPECT_EQ(s.responses_2xx, 1u);
  EXPECT_EQ(s.responses_3xx, 0u);
  EXPECT_EQ(s.responses_4xx, 2u);
  EXPECT_EQ(s.responses_5xx, 1u);
}

TEST_F(HttpServerTest, StopClosesOpenSessionsAndTheListener) {
  start();
  RawHttpConnection kept_alive(port_);
  ASSERT_TRUE(kept_alive.send(getRequest("/ok")));
  ASSERT_TRUE(kept_alive.readResponse());
  RawHttpConnection idle(port_);
  ASSERT_TRUE(waitUntil([&] { return stats().connections_active == 2; }));

  http_->run([this] { http_->server().stop(); });

  EXPECT_TRUE(kept_alive.waitForClose());
  EXPECT_TRUE(idle.waitForClose());
  EXPECT_TRUE(waitUntil([&] { return stats().connections_active == 0; }));
  RawHttpConnection refused(port_);
  EXPECT_FALSE(refused.connected());
  EXPECT_EQ(refused.connectError(), ECONNREFUSED);
}

TEST_F(HttpServerTest, StopFromInsideAHandlerIsSafe) {
  start();
  RawHttpConnection other(port_);
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(getRequest("/stop")));
  EXPECT_TRUE(connection.waitForClose());
  EXPECT_TRUE(other.waitForClose());
  EXPECT_TRUE(waitUntil([&] { return stats().connections_active == 0; }));
}

class HttpServerListenTest : public testing::Test {
protected:
  LoggerSharedPtr logger_ = makeStderrLogger("http-test", LogLevel::Off);
  RealTimeSource time_source_;
  event::DispatcherPtr dispatcher_ = event::makeDispatcher(time_source_);
};

TEST_F(HttpServerListenTest, BusyPortGivesAClearError) {
  HttpServer first(*dispatcher_, *logger_, {.address = "127.0.0.1", .port = 0});
  ASSERT_TRUE(first.listen());
  const uint16_t port = first.port();
  ASSERT_NE(port, 0);

  HttpServer second(*dispatcher_, *logger_, {.address = "127.0.0.1", .port = port});
  const Status status = second.listen();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, Error::Kind::Unavailable);
  EXPECT_EQ(status.error().message,
            "listen 127.0.0.1:" + std::to_string(port) + ": Address already in use");
  EXPECT_EQ(second.port(), 0);
}

TEST_F(HttpServerListenTest, BadAddressGivesAClearError) {
  HttpServer server(*dispatcher_, *logger_, {.address = "localhost", .port = 3000});
  const Status status = server.listen();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, Error::Kind::InvalidArgument);
  EXPECT_EQ(status.error().message, "listen localhost:3000: 'localhost' is not an IP address");
}

TEST_F(HttpServerListenTest, ListenTwiceOrAfterStopFails) {
  HttpServer server(*dispatcher_, *logger_, {});
  ASSERT_TRUE(server.listen());
  EXPECT_FALSE(server.listen());
  server.stop();
  EXPECT_FALSE(server.listen());
}

TEST_F(HttpServerListenTest, ListensOnIpv6Loopback) {
  HttpServer server(*dispatcher_, *logger_, {.address = "::1", .port = 0});
  const Status status = server.listen();
  if (!status) {
    GTEST_SKIP() << "no IPv6 here: " << status.error().message;
  }
  EXPECT_NE(server.port(), 0);
}

TEST(HttpTypesTest, JsonHelpers) {
  const HttpResponse error = jsonError(404, "no \"x\"\n");
  EXPECT_EQ(error.status, 404);
  EXPECT_EQ(error.content_type, "application/json");
  EXPECT_EQ(error.body, R"({"error":"no \"x\"\n"})");

  boost::json::value value = {{"a", 1}};
  EXPECT_EQ(jsonResponse(201, value).body, R"({"a":1})");
  EXPECT_EQ(toString(HttpMethod::Delete), "DELETE");
}

} // namespace
} // namespace catalyst::admin
