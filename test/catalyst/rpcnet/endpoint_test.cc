// The /rpc endpoint over real WebSockets on 127.0.0.1, against a raw Beast client that sends
// what a well-behaved peer never would. Every protocol violation ends that session with an
// `abort` and close code 3000, while the server goes on serving its other sessions. (The asan
// preset runs these too: nothing may leak.)

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "catalyst/admin/http_server.h"
#include "catalyst/common/logging.h"
#include "catalyst/rpc/json_writer.h"
#include "catalyst/rpcnet/endpoint.h"

#include "http_test_util.h"
#include "support/rpc_test_api.h"

namespace catalyst::rpcnet {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

constexpr std::size_t kCap = 4096;

// A blocking WebSocket client on the test's thread, with a receive timeout so that a missing
// answer fails the test instead of hanging it.
class RawClient {
public:
  explicit RawClient(uint16_t port) : ws_(io_) {
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    ws_.next_layer().connect(ep);
    timeval tv{10, 0};
    ::setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws_.handshake("127.0.0.1", "/rpc");
  }

  void sendText(const std::string& s) {
    ws_.text(true);
    ws_.write(net::buffer(s));
  }
  void sendBinary(const std::string& s) {
    ws_.binary(true);
    ws_.write(net::buffer(s));
  }

  // The next message, or nullopt when the peer closed (then closeCode() is set).
  std::optional<std::string> read() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws_.read(buffer, ec);
    if (ec) {
      return std::nullopt;
    }
    return beast::buffers_to_string(buffer.data());
  }
  uint16_t closeCode() const { return static_cast<uint16_t>(ws_.reason().code); }
  std::string closeReason() const { return std::string(ws_.reason().reason.c_str()); }

  // Calls hello(name) and returns the raw answer.
  std::string hello(const std::string& name, int id) {
    sendText(R"(["push",["pipeline",0,["hello"],[")" + name + R"("]]])");
    sendText(R"(["pull",)" + std::to_string(id) + "]");
    return read().value_or("<closed>");
  }

private:
  net::io_context io_;
  websocket::stream<tcp::socket> ws_;
};

class RpcEndpointTest : public ::testing::Test {
protected:
  void SetUp() override {
    loop_.start();
    port_ = loop_.run([this] {
      http_ = std::make_unique<admin::HttpServer>(*dispatcher_, *logger_,
                                                  admin::HttpServerOptions{"127.0.0.1", 0, {}});
      RpcEndpointOptions options;
      options.websocket.max_message_bytes = kCap;
      options.session.max_message_bytes = kCap;
      endpoint_ = std::make_unique<RpcEndpoint>(
          *dispatcher_, *http_, "/rpc",
          [](const RpcEndpoint::SessionInfo&) {
            return rpc::makeStub(std::make_shared<test::InteropApi>());
          },
          options, *logger_);
      EXPECT_TRUE(http_->listen());
      return http_->port();
    });
  }

  void TearDown() override {
    loop_.run([this] {
      endpoint_.reset();
      http_.reset();
      return 0;
    });
    loop_.stop();
  }

  // Sends `frame` on a fresh connection and checks the abort and the close, while another
  // session keeps working before and after.
  void expectAbort(const std::string& frame, const std::string& message, bool binary = false) {
    RawClient bystander(port_);
    EXPECT_EQ(bystander.hello("a", 1), R"(["resolve",1,"Hello, a!"])");

    RawClient bad(port_);
    if (binary) {
      bad.sendBinary(frame);
    } else {
      bad.sendText(frame);
    }
    std::optional<std::string> got = bad.read();
    ASSERT_TRUE(got) << "closed without an abort";
    std::string want = R"(["abort",["error","Error",)";
    rpc::json::appendString(want, message);
    EXPECT_EQ(*got, want + "]]");
    EXPECT_FALSE(bad.read()) << "a message after the abort";
    EXPECT_EQ(bad.closeCode(), 3000);

    EXPECT_EQ(bystander.hello("b", 2), R"(["resolve",2,"Hello, b!"])");
    EXPECT_TRUE(test::waitUntil(
        [this] { return loop_.run([this] { return endpoint_->stats().aborts; }) >= 1; }));
  }

  SimulatedTimeSource time_;
  LoggerSharedPtr logger_ = makeStderrLogger("test", LogLevel::Off);
  event::DispatcherPtr dispatcher_ = event::makeDispatcher(time_);
  test::DispatcherThread loop_{*dispatcher_};
  std::unique_ptr<admin::HttpServer> http_;
  std::unique_ptr<RpcEndpoint> endpoint_;
  uint16_t port_ = 0;
};

TEST_F(RpcEndpointTest, ServesCallsOverWebSocket) {
  RawClient c(port_);
  EXPECT_EQ(c.hello("x", 1), R"(["resolve",1,"Hello, x!"])");
  c.sendText(R"(["release",1,1])");
  EXPECT_EQ(c.hello("y", 2), R"(["resolve",2,"Hello, y!"])");
}

TEST_F(RpcEndpointTest, BinaryFrame) {
  expectAbort("[\"pull\",1]", "binary messages are not part of the protocol", true);
}
TEST_F(RpcEndpointTest, NonJsonText) {
  expectAbort("ping", "SyntaxError: message is not valid JSON (syntax error)");
}
TEST_F(RpcEndpointTest, UnknownMessageType) {
  expectAbort(R"(["frobnicate",1])", R"(bad RPC message: ["frobnicate",1])");
}
TEST_F(RpcEndpointTest, UnknownIdInPull) { expectAbort(R"(["pull",5])", "no such export ID: 5"); }
TEST_F(RpcEndpointTest, UnknownIdInRelease) {
  expectAbort(R"(["release",99,1])", "no such export ID: 99");
}
TEST_F(RpcEndpointTest, UnknownIdInPipeline) {
  expectAbort(R"(["push",["pipeline",9,["x"],[]]])", "no such entry on exports table: 9");
}
TEST_F(RpcEndpointTest, ReleaseCountGoingNegative) {
  expectAbort(R"(["release",0,2])", "release of export 0 by 2 would make its count negative");
}
TEST_F(RpcEndpointTest, NestingPastTheLimit) {
  std::string deep = R"(["push",["pipeline",0,["echo"],[)";
  deep += std::string(300, '[') + std::string(300, ']') + "]]]";
  expectAbort(deep, "message nested deeper than 256");
}
TEST_F(RpcEndpointTest, MessagePastTheSizeCap) {
  const std::string big =
      R"(["push",["pipeline",0,["echo"],[")" + std::string(2 * kCap, 'x') + R"("]]])";
  // The transport stops reading at the cap: how much it had is part of the message.
  RawClient bystander(port_);
  EXPECT_EQ(bystander.hello("a", 1), R"(["resolve",1,"Hello, a!"])");
  RawClient bad(port_);
  bad.sendText(big);
  std::optional<std::string> got = bad.read();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->rfind(R"(["abort",["error","Error","message of at least )", 0), 0u) << *got;
  EXPECT_NE(got->find("over the limit of 4096"), std::string::npos) << *got;
  EXPECT_FALSE(bad.read());
  EXPECT_EQ(bad.closeCode(), 3000);
  EXPECT_EQ(bystander.hello("b", 2), R"(["resolve",2,"Hello, b!"])");
}

} // namespace
} // namespace catalyst::rpcnet
