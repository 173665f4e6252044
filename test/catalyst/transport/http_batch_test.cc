// postBatch() against an admin::HttpServer whose POST /rpc is an async route, next to the
// WebSocket upgrade of the same path.

#include <future>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include "catalyst/admin/http_server_impl.h"
#include "catalyst/transport/http_batch.h"
#include "catalyst/transport/websocket.h"
#include "catalyst/transport/websocket_impl.h"

#include "http_test_util.h"

namespace catalyst::transport {
namespace {

using namespace std::chrono_literals;
using test::TestHttpServer;
using test::waitUntil;

class HttpBatchTest : public testing::Test {
protected:
  HttpBatchTest() {
    admin::HttpServer& server = http_.server();
    // Answers on a later turn of the loop, as a batch that waits for its calls would.
    server.addAsyncRoute(
        admin::HttpMethod::Post, "/rpc",
        [this](const admin::HttpRequest& request, admin::HttpResponder respond) {
          last_content_type_ = std::string(request.header("content-type").value_or(""));
          http_.dispatcher().post([respond = std::move(respond), body = request.body] {
            admin::HttpResponse response;
            response.content_type = ""; // as capnweb's server: none
            response.body = "echo:" + body;
            respond(std::move(response));
          });
        });
    server.addAsyncRoute(admin::HttpMethod::Post, "/fail",
                         [](const admin::HttpRequest&, const admin::HttpResponder& respond) {
                           respond(admin::textResponse(500, "boom"));
                         });
    server.addAsyncRoute(admin::HttpMethod::Post, "/big",
                         [](const admin::HttpRequest&, const admin::HttpResponder& respond) {
                           respond(admin::textResponse(200, std::string(100, 'b')));
                         });
    server.addAsyncRoute(admin::HttpMethod::Post, "/never",
                         [this](const admin::HttpRequest&, admin::HttpResponder respond) {
                           kept_ = std::move(respond); // answered never
                         });
    server.impl().addUpgradeRoute("/rpc", [this](boost::asio::ip::tcp::socket socket,
                                                 admin::UpgradeRequest request) {
      upgraded_ = acceptWebSocket(http_.dispatcher(), std::move(socket), std::move(request), {});
    });
    http_.start();
  }

  ~HttpBatchTest() override {
    http_.run([this] {
      upgraded_.reset();
      websocket_.reset();
      kept_ = nullptr;
    });
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(http_.port()) + std::string(path);
  }

  Result<std::string> post(const std::string& target, std::string body, BatchOptions options = {}) {
    std::promise<Result<std::string>> promise;
    std::future<Result<std::string>> result = promise.get_future();
    http_.run([&] {
      postBatch(
          http_.dispatcher(), target, std::move(body), options,
          [&promise](Result<std::string> response) { promise.set_value(std::move(response)); });
    });
    if (result.wait_for(15s) != std::future_status::ready) {
      ADD_FAILURE() << "postBatch did not finish";
      std::abort(); // the callback still refers to `promise`
    }
    return result.get();
  }

  std::string postError(const std::string& target, std::string body = "",
                        BatchOptions options = {}) {
    Result<std::string> result = post(target, std::move(body), options);
    return result ? "<succeeded: " + *result + ">" : result.error().message;
  }

  TestHttpServer http_;
  std::string last_content_type_; // the loop's thread
  admin::HttpResponder kept_;
  rpc::MessageTransportPtr upgraded_;
  rpc::MessageTransportPtr websocket_;
};

TEST_F(HttpBatchTest, PostsTheBatchAndReturnsTheResponseBody) {
  const std::string batch = "[\"push\",[\"pipeline\",0,[\"hello\"],[\"batch\"]]]\n[\"pull\",1]";
  Result<std::string> response = post(url("/rpc"), batch);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(*response, "echo:" + batch);
  EXPECT_EQ(http_.run([this] { return last_content_type_; }), "text/plain;charset=UTF-8");
}

TEST_F(HttpBatchTest, EmptyBatch) {
  Result<std::string> response = post(url("/rpc"), "");
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(*response, "echo:");
}

TEST_F(HttpBatchTest, TheSamePathServesWebSocketsToo) {
  std::atomic<bool> done{false};
  std::string error;
  http_.run([&] {
    dialWebSocket(http_.dispatcher(), "ws://127.0.0.1:" + std::to_string(http_.port()) + "/rpc", {},
                  [&](Result<rpc::MessageTransportPtr> transport) {
                    if (transport) {
                      websocket_ = std::move(*transport);
                    } else {
                      error = transport.error().message;
                    }
                    done = true;
                  });
  });
  ASSERT_TRUE(waitUntil([&] { return done.load(); }));
  EXPECT_EQ(error, "");
  Result<std::string> response = post(url("/rpc"), "[\"pull\",1]");
  ASSERT_TRUE(response);
  EXPECT_EQ(*response, "echo:[\"pull\",1]");
}

TEST_F(HttpBatchTest, Non2xxIsAnErrorWithStatusAndReason) {
  EXPECT_EQ(postError(url("/fail")), "RPC request failed: 500 Internal Server Error");
  EXPECT_EQ(postError(url("/nope")), "RPC request failed: 404 Not Found");
}

TEST_F(HttpBatchTest, ResponseOverTheLimitIsAnError) {
  EXPECT_EQ(postError(url("/big"), "", {.max_response_bytes = 10}),
            "RPC response from " + url("/big") + " larger than 10 bytes");
  EXPECT_TRUE(post(url("/big"), "", {.max_response_bytes = 100}));
}

TEST_F(HttpBatchTest, ServerThatNeverAnswersTimesOut) {
  EXPECT_EQ(postError(url("/never"), "", {.timeout = 200ms}),
            "RPC request to " + url("/never") + ": timed out after 200ms");
}

TEST_F(HttpBatchTest, ConnectAndUrlErrorsAreClear) {
  test::SilentSocket closed_port(/*listening=*/false);
  const std::string port = std::to_string(closed_port.port());
  EXPECT_EQ(postError("http://127.0.0.1:" + port + "/rpc"),
            "connect 127.0.0.1:" + port + ": Connection refused");
  EXPECT_EQ(postError("https://127.0.0.1:3000/rpc"),
            "https is not supported yet: https://127.0.0.1:3000/rpc");
  EXPECT_EQ(postError("ws://127.0.0.1:3000/rpc"),
            "invalid URL 'ws://127.0.0.1:3000/rpc': the scheme must be http");
  EXPECT_EQ(postError("rpc"), "invalid URL 'rpc': expected scheme://host[:port][/path]");
}

TEST_F(HttpBatchTest, ServerThatAcceptsButNeverAnswersTimesOut) {
  test::SilentSocket hung(/*listening=*/true);
  const std::string target = "http://127.0.0.1:" + std::to_string(hung.port()) + "/rpc";
  EXPECT_EQ(postError(target, "", {.timeout = 200ms}),
            "RPC request to " + target + ": timed out after 200ms");
}

} // namespace
} // namespace catalyst::transport
