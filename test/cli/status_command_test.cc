#include <gtest/gtest.h>

#include "catalyst/admin/http_server.h"

#include "cli/status_command.h"
#include "http_test_util.h"

namespace catalyst::cli {
namespace {

using namespace std::chrono_literals;
using test::SilentSocket;
using test::TestHttpServer;

TEST(FormatUptimeTest, UsesTheTwoLargestUnits) {
  EXPECT_EQ(formatUptime(0), "0s");
  EXPECT_EQ(formatUptime(12.5), "12s");
  EXPECT_EQ(formatUptime(59.99), "59s");
  EXPECT_EQ(formatUptime(60), "1m 0s");
  EXPECT_EQ(formatUptime(312), "5m 12s");
  EXPECT_EQ(formatUptime(3725.5), "1h 2m");
  EXPECT_EQ(formatUptime(2 * 86'400 + 3 * 3'600 + 59), "2d 3h");
  EXPECT_EQ(formatUptime(-1), "0s");
  EXPECT_EQ(formatUptime(std::nan("")), "0s");
}

TEST(FormatHealthTest, PrintsNameVersionUptime) {
  auto line =
      formatHealth(R"({"status":"ok","node":"node-a","version":"0.1.0","uptimeSeconds":12.5})");
  ASSERT_TRUE(line) << line.error().message;
  EXPECT_EQ(*line, "node node-a version 0.1.0 up 12s");

  line = formatHealth(R"({"node":"b","version":"1","uptimeSeconds":3600})");
  ASSERT_TRUE(line) << line.error().message;
  EXPECT_EQ(*line, "node b version 1 up 1h 0m");
}

TEST(FormatHealthTest, ShowsAStatusOtherThanOk) {
  auto line =
      formatHealth(R"({"status":"draining","node":"node-a","version":"0.1.0","uptimeSeconds":1})");
  ASSERT_TRUE(line) << line.error().message;
  EXPECT_EQ(*line, "node node-a version 0.1.0 up 1s (status draining)");
}

TEST(FormatHealthTest, RefusesBodiesThatAreNotHealth) {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {"[1]", "not a JSON object: [1]"},
      {R"({"version":"1","uptimeSeconds":1})", R"("node" is missing or not a string)"},
      {R"({"node":7,"version":"1","uptimeSeconds":1})", R"("node" is missing or not a string)"},
      {R"({"node":"a","uptimeSeconds":1})", R"("version" is missing or not a string)"},
      {R"({"node":"a","version":"1","uptimeSeconds":"long"})",
       R"("uptimeSeconds" is missing or not a number)"},
  };
  for (const Case& c : cases) {
    auto line = formatHealth(c.body);
    ASSERT_FALSE(line) << c.body;
    EXPECT_EQ(line.error().message, c.message);
  }
  auto line = formatHealth("<html>");
  ASSERT_FALSE(line);
  EXPECT_EQ(line.error().message.rfind("not JSON (", 0), 0u) << line.error().message;
}

// runStatus against a real HttpServer serving /health from `health_`.
class RunStatusTest : public testing::Test {
protected:
  RunStatusTest() {
    http_.server().addRoute(admin::HttpMethod::Get, "/health",
                            [this](const admin::HttpRequest&) { return health_; });
    http_.start();
    global_.orchestrator_url = "http://127.0.0.1:" + std::to_string(http_.port());
  }

  void setHealth(admin::HttpResponse response) {
    http_.run([this, response] { health_ = response; });
  }

  TestHttpServer http_;
  admin::HttpResponse health_ = admin::rawJsonResponse(
      200, R"({"status":"ok","node":"node-a","version":"0.1.0","uptimeSeconds":12.5})");
  GlobalOptions global_;
};

TEST_F(RunStatusTest, PrintsTheHealthLine) {
  auto output = runStatus(global_, /*json=*/false);
  ASSERT_TRUE(output) << output.error().message;
  EXPECT_EQ(*output, "node node-a version 0.1.0 up 12s");
}

TEST_F(RunStatusTest, JsonPrintsTheBody) {
  auto output = runStatus(global_, /*json=*/true);
  ASSERT_TRUE(output) << output.error().message;
  EXPECT_EQ(*output, R"({"status":"ok","node":"node-a","version":"0.1.0","uptimeSeconds":12.5})");
}

TEST_F(RunStatusTest, WsUrlReachesTheSamePort) {
  global_.orchestrator_url = "ws://127.0.0.1:" + std::to_string(http_.port()) + "/rpc";
  auto output = runStatus(global_, /*json=*/false);
  ASSERT_TRUE(output) << output.error().message;
}

TEST_F(RunStatusTest, Non200IsAnErrorCarryingTheServersReason) {
  setHealth(admin::jsonError(503, "draining"));
  auto output = runStatus(global_, /*json=*/false);
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().message,
            "GET " + global_.orchestrator_url + "/health: HTTP 503 Service Unavailable: draining");
}

TEST_F(RunStatusTest, BodyThatIsNotJsonIsAnError) {
  setHealth(admin::textResponse(200, "all good\n"));
  auto output = runStatus(global_, /*json=*/false);
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().message.rfind(
                "GET " + global_.orchestrator_url + "/health: unexpected response: not JSON", 0),
            0u)
      << output.error().message;
  output = runStatus(global_, /*json=*/true);
  ASSERT_FALSE(output);
  EXPECT_NE(output.error().message.find("the response is not JSON"), std::string::npos);
}

TEST(RunStatusFailureTest, BadUrlIsAnError) {
  auto output = runStatus({.orchestrator_url = "https://n:1"}, false);
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().message.rfind("--orchestrator-url: invalid URL 'https://n:1'", 0), 0u);
}

TEST(RunStatusFailureTest, UnreachableNodeIsAnError) {
  const SilentSocket closed(/*listening=*/false);
  auto output =
      runStatus({.orchestrator_url = "http://127.0.0.1:" + std::to_string(closed.port())}, false);
  ASSERT_FALSE(output);
  EXPECT_NE(output.error().message.find("Connection refused"), std::string::npos);
}

} // namespace
} // namespace catalyst::cli
