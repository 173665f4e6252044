// The seam through which rpc/ takes over WebSocket upgrades (http_server_impl.h). A separate
// translation unit: it includes Beast.

#include <optional>

#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "catalyst/admin/http_server_impl.h"

#include "http_test_util.h"

namespace catalyst::admin {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using test::getRequest;
using test::RawHttpConnection;
using test::rawHttpExchange;
using test::TestHttpServer;
using test::waitUntil;

constexpr std::string_view kSwitching = "HTTP/1.1 101 Switching Protocols\r\n"
                                        "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

std::string upgradeRequest(std::string_view target) {
  return "GET " + std::string(target) +
         " HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

class HttpServerUpgradeTest : public testing::Test {
protected:
  HttpServerUpgradeTest() {
    http_.server().addRoute(HttpMethod::Get, "/ok",
                            [](const HttpRequest&) { return rawJsonResponse(200, "{}"); });
    http_.server().addRoute(HttpMethod::Post, "/both", [](const HttpRequest&) {
      return rawJsonResponse(200, R"({"plain":true})");
    });
    // A stand-in for rpc/: answers the handshake by hand and keeps the socket.
    auto take_over = [this](tcp::socket socket, UpgradeRequest request) {
      upgraded_target_ = std::string(request.target());
      upgraded_key_ = std::string(request["Sec-WebSocket-Key"]);
      net::write(socket, net::buffer(kSwitching));
      net::write(socket, net::buffer(std::string_view("hello")));
      upgraded_.emplace(std::move(socket));
    };
    http_.server().impl().addUpgradeRoute("/ws", take_over);
    http_.server().impl().addUpgradeRoute("/both", take_over);
    http_.start();
  }

  ~HttpServerUpgradeTest() override {
    // The socket is bound to the loop's io_context: release it there.
    http_.run([this] { upgraded_.reset(); });
  }

  // Writes `data` on the taken-over socket, on the loop's thread.
  void writeUpgraded(std::string data) {
    http_.run([this, data] {
      ASSERT_TRUE(upgraded_.has_value());
      net::write(*upgraded_, net::buffer(data));
    });
  }

  TestHttpServer http_;
  // Owned by the loop's thread.
  std::optional<tcp::socket> upgraded_;
  std::string upgraded_target_;
  std::string upgraded_key_;
};

TEST_F(HttpServerUpgradeTest, UpgradeRequestIsHandedOverWithItsSocket) {
  RawHttpConnection connection(http_.port());
  ASSERT_TRUE(connection.send(upgradeRequest("/ws?client=1")));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 101);
  EXPECT_EQ(connection.readBytes(5), "hello");

  EXPECT_EQ(http_.run([this] { return upgraded_target_; }), "/ws?client=1");
  EXPECT_EQ(http_.run([this] { return upgraded_key_; }), "dGhlIHNhbXBsZSBub25jZQ==");
  const HttpServerStats stats = http_.stats();
  EXPECT_EQ(stats.upgrades, 1u);
  EXPECT_EQ(stats.requests, 1u);
  // The connection is no longer the server's.
  EXPECT_TRUE(waitUntil([&] { return http_.stats().connections_active == 0; }));
}

TEST_F(HttpServerUpgradeTest, TakenOverSocketOutlivesStopAndTheServer) {
  RawHttpConnection connection(http_.port());
  ASSERT_TRUE(connection.send(upgradeRequest("/ws")));
  ASSERT_TRUE(connection.readResponse());
  ASSERT_EQ(connection.readBytes(5), "hello");

  http_.run([this] { http_.server().stop(); });
  writeUpgraded("after-stop");
  EXPECT_EQ(connection.readBytes(10), "after-stop");

  // The new owner closes it when it likes.
  http_.run([this] { upgraded_.reset(); });
  EXPECT_TRUE(connection.waitForClose());
}

TEST_F(HttpServerUpgradeTest, IdleTimeoutNoLongerAppliesAfterTheHandOver) {
  // The server's request timer is disarmed at hand-over; a short-timeout server shows it.
  std::optional<tcp::socket> kept; // declared first: destroyed after the loop stopped
  TestHttpServer http({.request_timeout = 100ms});
  http.server().impl().addUpgradeRoute("/ws", [&kept](tcp::socket socket, UpgradeRequest) {
    net::write(socket, net::buffer(kSwitching));
    kept.emplace(std::move(socket));
  });
  http.start();
  RawHttpConnection connection(http.port());
  ASSERT_TRUE(connection.send(upgradeRequest("/ws")));
  ASSERT_TRUE(connection.readResponse());
  // Three times the timeout without a close; the idle timeout of a plain connection on the
  // same server fires meanwhile, which proves time went by on the loop.
  RawHttpConnection plain(http.port());
  EXPECT_TRUE(plain.waitForClose());
  EXPECT_FALSE(connection.waitForClose(300ms));
  http.run([&kept] { kept.reset(); });
}

TEST_F(HttpServerUpgradeTest, PlainRequestOnAnUpgradeOnlyPathIs426) {
  auto response = rawHttpExchange(http_.port(), getRequest("/ws"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 426);
  EXPECT_EQ(response->header("upgrade"), "websocket");
  EXPECT_EQ(response->body, R"({"error":"/ws only accepts WebSocket upgrades"})");
}

TEST_F(HttpServerUpgradeTest, PlainRequestOnAPathWithBothIsServedPlainly) {
  auto response =
      rawHttpExchange(http_.port(), "POST /both HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"plain":true})");

  RawHttpConnection connection(http_.port());
  ASSERT_TRUE(connection.send(upgradeRequest("/both")));
  response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 101);
}

TEST_F(HttpServerUpgradeTest, UpgradeWithoutAnUpgradeHandlerIsServedAsPlainHttp) {
  auto response = rawHttpExchange(http_.port(), upgradeRequest("/nope"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"error":"no such path: /nope"})");

  response = rawHttpExchange(http_.port(), upgradeRequest("/ok"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(http_.stats().upgrades, 0u);
}

TEST_F(HttpServerUpgradeTest, DataAfterTheUpgradeRequestIs400) {
  RawHttpConnection connection(http_.port());
  // One send: the bytes after the request arrive with it.
  ASSERT_TRUE(connection.send(upgradeRequest("/ws") + "early frame"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->body, R"({"error":"data sent before the upgrade completed"})");
  EXPECT_EQ(http_.stats().upgrades, 0u);
}

} // namespace
} // namespace catalyst::admin
