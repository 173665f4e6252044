// Routes whose handlers answer later (HttpServer::addAsyncRoute).

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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

std::string postRequest(std::string_view target, std::string_view body) {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

class HttpServerAsyncTest : public testing::Test {
protected:
  void start(HttpServerLimits limits = {}) {
    http_ = std::make_unique<TestHttpServer>(limits);
    HttpServer& server = http_->server();
    // Keeps the responder; the test answers through answer().
    server.addAsyncRoute(HttpMethod::Post, "/held",
                         [this](const HttpRequest& request, HttpResponder respond) {
                           held_.push_back(std::move(respond));
                           held_bodies_.push_back(request.body);
                         });
    server.addAsyncRoute(HttpMethod::Get, "/held",
                         [this](const HttpRequest&, HttpResponder respond) {
                           held_.push_back(std::move(respond));
                           held_bodies_.emplace_back();
                         });
    // Answers on the next turn of the loop.
    server.addAsyncRoute(
        HttpMethod::Post, "/later", [this](const HttpRequest& request, HttpResponder respond) {
          http_->dispatcher().post([respond = std::move(respond), body = request.body] {
            respond(textResponse(200, "later:" + body));
          });
        });
    server.addAsyncRoute(HttpMethod::Get, "/at-once",
                         [](const HttpRequest&, const HttpResponder& respond) {
                           respond(textResponse(200, "first"));
                           respond(textResponse(200, "second")); // ignored
                         });
    server.addAsyncRoute(HttpMethod::Get, "/throw", [](const HttpRequest&, HttpResponder) {
      throw std::runtime_error("async handler failed");
    });
    server.addAsyncRoute(HttpMethod::Get, "/answer-then-throw",
                         [](const HttpRequest&, const HttpResponder& respond) {
                           respond(textResponse(200, "answered"));
                           throw std::runtime_error("after the answer");
                         });
    server.addAsyncRoute(HttpMethod::Get, "/drop", [](const HttpRequest&, HttpResponder) {
      // Neither answers nor keeps the responder.
    });
    server.addRoute(HttpMethod::Get, "/sync",
                    [](const HttpRequest&) { return textResponse(200, "sync"); });
    http_->start();
    port_ = http_->port();
  }

  std::size_t heldCount() {
    return http_->run([this] { return held_.size(); });
  }

  // Answers the n-th held request with `response`, on the loop's thread.
  void answer(std::size_t n, HttpResponse response) {
    ASSERT_TRUE(waitUntil([&] { return heldCount() > n; }));
    http_->run([&] { held_.at(n)(std::move(response)); });
  }

  HttpServerStats stats() { return http_->stats(); }

  void TearDown() override {
    if (http_) {
      http_->run([this] { held_.clear(); });
    }
  }

  std::unique_ptr<TestHttpServer> http_;
  uint16_t port_ = 0;
  // The loop's thread.
  std::vector<HttpResponder> held_;
  std::vector<std::string> held_bodies_;
};

TEST_F(HttpServerAsyncTest, AnswerGivenLaterIsSent) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(postRequest("/held", "batch body")));
  ASSERT_TRUE(waitUntil([&] { return heldCount() == 1; }));
  EXPECT_EQ(http_->run([this] { return held_bodies_[0]; }), "batch body");
  EXPECT_FALSE(connection.readResponse(false, 50ms)); // not yet
  answer(0, textResponse(200, "done"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "done");

  // The connection is kept alive for the next request.
  ASSERT_TRUE(connection.send(postRequest("/later", "x")));
  response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "later:x");
}

TEST_F(HttpServerAsyncTest, AnswerOnALaterTurnOfTheLoop) {
  start();
  auto response = rawHttpExchange(port_, postRequest("/later", "abc"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "later:abc");
}

TEST_F(HttpServerAsyncTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  RawHttpConnection connection(port_);
  // Three requests in one write: held, then a plain one, then held again.
  ASSERT_TRUE(
      connection.send(postRequest("/held", "1") + getRequest("/sync") + postRequest("/held", "3")));
  ASSERT_TRUE(waitUntil([&] { return heldCount() == 1; }));
  EXPECT_FALSE(connection.readResponse(false, 50ms)); // the plain one waits its turn
  answer(0, textResponse(200, "one"));
  auto first = connection.readResponse();
  auto second = connection.readResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "one");
  EXPECT_EQ(second->body, "sync");
  answer(1, textResponse(200, "three"));
  auto third = connection.readResponse();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->body, "three");
  EXPECT_EQ(http_->run([this] { return held_bodies_[1]; }), "3");
}

TEST_F(HttpServerAsyncTest, OnlyTheFirstAnswerCounts) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(getRequest("/at-once") + getRequest("/sync")));
  auto first = connection.readResponse();
  auto second = connection.readResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "first");
  EXPECT_EQ(second->body, "sync");

  // A held responder called twice, the second time after the next request began.
  ASSERT_TRUE(connection.send(getRequest("/held")));
  answer(0, textResponse(200, "once"));
  auto third = connection.readResponse();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->body, "once");
  ASSERT_TRUE(connection.send(getRequest("/held")));
  ASSERT_TRUE(waitUntil([&] { return heldCount() == 2; }));
  answer(0, textResponse(200, "stale")); // belongs to the previous request: ignored
  EXPECT_FALSE(connection.readResponse(false, 50ms));
  answer(1, textResponse(200, "fresh"));
  auto fourth = connection.readResponse();
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->body, "fresh");
}

TEST_F(HttpServerAsyncTest, HeadOnAnAsyncGetRouteHasNoBody) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send("HEAD /held HTTP/1.1\r\nHost: h\r\n\r\n"));
  answer(0, textResponse(200, "twelve bytes"));
  auto response = connection.readResponse(/*head_request=*/true);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("content-length"), "12");
  ASSERT_TRUE(connection.send(getRequest("/sync")));
  response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "sync"); // no stray body bytes before it
}

TEST_F(HttpServerAsyncTest, ThrowingDroppingOrBadStatusIs500) {
  start();
  auto response = rawHttpExchange(port_, getRequest("/throw"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  response = rawHttpExchange(port_, getRequest("/drop"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(getRequest("/held")));
  answer(0, textResponse(99, "bad"));
  response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  response = rawHttpExchange(port_, getRequest("/answer-then-throw"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "answered");
  const HttpServerStats s = stats();
  EXPECT_EQ(s.handler_errors, 4u);
  EXPECT_EQ(s.responses_5xx, 3u);
}

TEST_F(HttpServerAsyncTest, DroppedHeldResponderIs500) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(getRequest("/held")));
  ASSERT_TRUE(waitUntil([&] { return heldCount() == 1; }));
  http_->run([this] { held_.clear(); });
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
}

TEST_F(HttpServerAsyncTest, ClientThatLeavesIsNoticedAndALateAnswerIsANoOp) {
  start();
  {
    RawHttpConnection connection(port_);
    ASSERT_TRUE(connection.send(getRequest("/held")));
    ASSERT_TRUE(waitUntil([&] { return heldCount() == 1; }));
  }
  // The connection closes while the handler works, not only when it answers.
  EXPECT_TRUE(waitUntil([&] { return stats().connections_active == 0; }));
  answer(0, textResponse(200, "nobody listens"));
  http_->run([this] { held_.clear(); });
  auto response = rawHttpExchange(port_, getRequest("/sync"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "sync");
  EXPECT_EQ(stats().responses_2xx, 1u);
}

TEST_F(HttpServerAsyncTest, AnswerAfterStopIsANoOp) {
  start();
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(getRequest("/held")));
  ASSERT_TRUE(waitUntil([&] { return heldCount() == 1; }));
  http_->run([this] { http_->server().stop(); });
  EXPECT_TRUE(connection.waitForClose());
  answer(0, textResponse(200, "too late"));
  http_->run([this] { held_.clear(); });
  EXPECT_EQ(stats().responses_2xx, 0u);
}

TEST_F(HttpServerAsyncTest, HandlerThatNeverAnswersTimesOut) {
  start({.request_timeout = 100ms});
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(getRequest("/held")));
  EXPECT_TRUE(connection.waitForClose());
  // Beast's timer closes the socket before the session's handler runs and counts it.
  EXPECT_TRUE(waitUntil([&] { return stats().handler_timeouts == 1; }));
  answer(0, textResponse(200, "too late"));
  EXPECT_EQ(stats().responses_2xx, 0u);
}

TEST_F(HttpServerAsyncTest, PipeliningBehindAPendingAnswerIsBounded) {
  start({.max_header_bytes = 1024, .max_body_bytes = 1024});
  RawHttpConnection connection(port_);
  ASSERT_TRUE(connection.send(getRequest("/held")));
  ASSERT_TRUE(waitUntil([&] { return heldCount() == 1; }));
  connection.send(std::string(8 * 1024, 'x')); // may fail once the server closes
  EXPECT_TRUE(connection.waitForClose());
  EXPECT_EQ(stats().rejected_too_large, 1u);
}

TEST(HttpServerAsyncLifetimeTest, AnswerAfterTheServerIsDestroyedIsANoOp) {
  LoggerSharedPtr logger = makeStderrLogger("http-test", LogLevel::Off);
  RealTimeSource time_source;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time_source);
  HttpResponder held; // the loop's thread
  auto server = std::make_unique<HttpServer>(*dispatcher, *logger, HttpServerOptions{});
  server->addAsyncRoute(
      HttpMethod::Get, "/held",
      [&held](const HttpRequest&, HttpResponder respond) { held = std::move(respond); });
  ASSERT_TRUE(server->listen());
  const uint16_t port = server->port();
  test::DispatcherThread loop(*dispatcher);
  loop.start();
  RawHttpConnection connection(port);
  ASSERT_TRUE(connection.send(getRequest("/held")));
  ASSERT_TRUE(waitUntil([&] { return loop.run([&held] { return static_cast<bool>(held); }); }));
  loop.run([&] {
    server.reset();
    held(textResponse(200, "late"));
    held = nullptr;
  });
  EXPECT_TRUE(connection.waitForClose());
  loop.stop();
}

} // namespace
} // namespace catalyst::admin
