#include <gtest/gtest.h>

#include "catalyst/admin/http_server.h"

#include "cli/http_client.h"
#include "http_test_util.h"

namespace catalyst::cli {
namespace {

using namespace std::chrono_literals;
using test::SilentSocket;
using test::TestHttpServer;

TEST(ParseUrlTest, AcceptsHttpAndWs) {
  auto url = parseUrl("http://127.0.0.1:3000");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 3000);
  EXPECT_EQ(url->path, "");
  EXPECT_EQ(url->httpOrigin(), "http://127.0.0.1:3000");

  url = parseUrl("WS://node-a.example:4000/rpc");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "ws");
  EXPECT_EQ(url->host, "node-a.example");
  EXPECT_EQ(url->port, 4000);
  EXPECT_EQ(url->path, "/rpc");
  EXPECT_EQ(url->httpOrigin(), "http://node-a.example:4000");

  url = parseUrl("http://[::1]:3000/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->hostPort(), "[::1]:3000");

  url = parseUrl("http://localhost");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 80);
}

TEST(ParseUrlTest, RefusesWhatItCannotReach) {
  struct Case {
    const char* url;
    const char* message;
  };
  const Case cases[] = {
      {"127.0.0.1:3000", "invalid URL '127.0.0.1:3000': expected http://HOST:PORT or "
                         "ws://HOST:PORT/rpc"},
      {"https://n:3000",
       "invalid URL 'https://n:3000': TLS (https://, wss://) is not supported; use http:// or "
       "ws://"},
      {"wss://n:3000/rpc", "invalid URL 'wss://n:3000/rpc': TLS (https://, wss://) is not "
                           "supported; use http:// or ws://"},
      {"ftp://n", "invalid URL 'ftp://n': the scheme must be http:// or ws://"},
      {"http://:3000", "invalid URL 'http://:3000': no host"},
      {"http://n:0", "invalid URL 'http://n:0': the port must be a number from 1 to 65535"},
      {"http://n:65536", "invalid URL 'http://n:65536': the port must be a number from 1 to 65535"},
      {"http://n:30x", "invalid URL 'http://n:30x': the port must be a number from 1 to 65535"},
      {"http://[::1", "invalid URL 'http://[::1': unterminated '[' in the host"},
      {"http://u:p@n:1", "invalid URL 'http://u:p@n:1': user names in URLs are not supported; use "
                         "--token"},
  };
  for (const Case& c : cases) {
    auto url = parseUrl(c.url);
    ASSERT_FALSE(url) << c.url;
    EXPECT_EQ(url.error().kind, Error::Kind::InvalidArgument);
    EXPECT_EQ(url.error().message, c.message);
  }
}

TEST(FormatSecondsTest, Formats) {
  EXPECT_EQ(formatSeconds(5000ms), "5s");
  EXPECT_EQ(formatSeconds(250ms), "0.25s");
}

class HttpClientTest : public testing::Test {
protected:
  HttpClientTest() {
    http_.server().addRoute(admin::HttpMethod::Get, "/health", [](const admin::HttpRequest&) {
      return admin::rawJsonResponse(200, R"({"status":"ok"})");
    });
    http_.server().addRoute(admin::HttpMethod::Post, "/echo",
                            [this](const admin::HttpRequest& request) {
                              last_ = request;
                              return admin::textResponse(201, request.body);
                            });
    http_.start();
  }

  Url url() { return *parseUrl("http://127.0.0.1:" + std::to_string(http_.port())); }

  TestHttpServer http_;
  admin::HttpRequest last_; // written on the loop's thread before the response is sent
};

TEST_F(HttpClientTest, GetsAResponse) {
  const HttpClient client(url(), {});
  auto response = client.get("/health");
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->reason, "OK");
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_EQ(response->body, R"({"status":"ok"})");
}

TEST_F(HttpClientTest, AnyStatusIsAResponse) {
  const HttpClient client(url(), {});
  auto response = client.get("/nope");
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->reason, "Not Found");
}

TEST_F(HttpClientTest, PostsBodyWithTokenAndContentType) {
  const HttpClient client(url(), {.timeout = 5s, .bearer_token = "t0ken"});
  auto response = client.post("/echo", R"({"x":1})");
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"x":1})");
  const admin::HttpRequest seen = http_.run([this] { return last_; });
  EXPECT_EQ(seen.header("authorization"), "Bearer t0ken");
  EXPECT_EQ(seen.header("content-type"), "application/json");
  EXPECT_EQ(seen.header("host"), "127.0.0.1:" + std::to_string(http_.port()));
  EXPECT_EQ(seen.header("user-agent").value_or("").rfind("catalyst/", 0), 0u);
}

TEST(HttpClientFailureTest, ConnectionRefused) {
  const SilentSocket closed(/*listening=*/false);
  const std::string where = "127.0.0.1:" + std::to_string(closed.port());
  const HttpClient client(*parseUrl("http://" + where), {});
  auto response = client.get("/health");
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, Error::Kind::Unavailable);
  EXPECT_EQ(response.error().message, "cannot connect to " + where + ": Connection refused");
}

TEST(HttpClientFailureTest, NoResponseTimesOut) {
  const SilentSocket hung(/*listening=*/true);
  const std::string origin = "http://127.0.0.1:" + std::to_string(hung.port());
  const HttpClient client(*parseUrl(origin), {.timeout = 200ms});
  auto response = client.get("/health");
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message, "GET " + origin + "/health: no response within 0.2s");
}

TEST(HttpClientFailureTest, BadRequestArgumentsAreRefused) {
  const HttpClient client(*parseUrl("http://127.0.0.1:1"), {});
  EXPECT_FALSE(client.get("health"));
  EXPECT_FALSE(client.request("NOT A METHOD", "/", {}, {}));
}

} // namespace
} // namespace catalyst::cli
