// The real `catalyst` binary, run as a user would, against an HttpServer in this process.

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

#include "catalyst/admin/http_server.h"

#include "http_test_util.h"
#include "support/process.h"

#ifndef CATALYST_CLI_BINARY
#error "CATALYST_CLI_BINARY must name the catalyst binary"
#endif

namespace catalyst::cli {
namespace {

using namespace std::chrono_literals;
using ProcessResult = catalyst::test::RunResult;
using test::SilentSocket;
using test::TestHttpServer;

constexpr const char* kHealth =
    R"({"status":"ok","node":"node-a","version":"0.1.0","uptimeSeconds":12.5})";

// Runs the binary with `args`. The environment is the test's, with `env` on top and with
// CATALYST_ORCHESTRATOR_URL emptied (so ignored) unless `env` sets it.
ProcessResult catalyst(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), CATALYST_CLI_BINARY);
  env.emplace("CATALYST_ORCHESTRATOR_URL", "");
  return catalyst::test::run(std::move(args), std::move(env));
}

// One line, ending in a newline, starting "catalyst: ".
void expectOneLineReason(const ProcessResult& result) {
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(result.err.rfind("catalyst: ", 0), 0u) << result.err;
  EXPECT_EQ(result.out, "");
}

class CatalystBinaryTest : public ::testing::Test {
protected:
  CatalystBinaryTest() {
    http_.server().addRoute(admin::HttpMethod::Get, "/health",
                            [this](const admin::HttpRequest&) { return health_; });
    http_.start();
    url_ = "http://127.0.0.1:" + std::to_string(http_.port());
  }

  void setHealth(admin::HttpResponse response) {
    http_.run([this, response] { health_ = response; });
  }

  TestHttpServer http_;
  admin::HttpResponse health_ = admin::rawJsonResponse(200, kHealth);
  std::string url_;
};

TEST_F(CatalystBinaryTest, StatusPrintsNameVersionAndUptime) {
  const ProcessResult result = catalyst({"--orchestrator-url", url_, "status"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "node node-a version 0.1.0 up 12s\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(CatalystBinaryTest, StatusJsonPrintsTheHealthDocument) {
  const ProcessResult result = catalyst({"--orchestrator-url", url_, "status", "--json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, std::string(kHealth) + "\n");
}

TEST_F(CatalystBinaryTest, UrlComesFromTheEnvironment) {
  const ProcessResult result = catalyst({"status"}, {{"CATALYST_ORCHESTRATOR_URL", url_}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "node node-a version 0.1.0 up 12s\n");
}

TEST_F(CatalystBinaryTest, FlagBeatsTheEnvironmentAndMayFollowTheCommand) {
  const ProcessResult result = catalyst({"status", "--orchestrator-url", url_},
                                        {{"CATALYST_ORCHESTRATOR_URL", "http://127.0.0.1:1"}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_F(CatalystBinaryTest, WsUrlIsReachedOverHttp) {
  const ProcessResult result = catalyst(
      {"--orchestrator-url", "ws://127.0.0.1:" + std::to_string(http_.port()) + "/rpc", "status"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "node node-a version 0.1.0 up 12s\n");
}

TEST_F(CatalystBinaryTest, Non200FailsWithOneLine) {
  setHealth(admin::jsonError(503, "draining"));
  const ProcessResult result = catalyst({"--orchestrator-url", url_, "status"});
  EXPECT_EQ(result.exit_code, 1);
  expectOneLineReason(result);
  EXPECT_EQ(result.err,
            "catalyst: GET " + url_ + "/health: HTTP 503 Service Unavailable: draining\n");
}

TEST_F(CatalystBinaryTest, BadJsonFailsWithOneLine) {
  setHealth(admin::rawJsonResponse(200, "{\"node\": \n oops"));
  ProcessResult result = catalyst({"--orchestrator-url", url_, "status"});
  EXPECT_EQ(result.exit_code, 1);
  expectOneLineReason(result);
  result = catalyst({"--orchestrator-url", url_, "status", "--json"});
  EXPECT_EQ(result.exit_code, 1);
  expectOneLineReason(result);
}

TEST(CatalystBinaryFailureTest, ConnectionRefusedFailsWithOneLine) {
  const SilentSocket closed(/*listening=*/false);
  const std::string where = "127.0.0.1:" + std::to_string(closed.port());
  const ProcessResult result = catalyst({"--orchestrator-url", "http://" + where, "status"});
  EXPECT_EQ(result.exit_code, 1);
  expectOneLineReason(result);
  EXPECT_EQ(result.err, "catalyst: cannot connect to " + where + ": Connection refused\n");
}

TEST(CatalystBinaryFailureTest, SilentNodeTimesOut) {
  const SilentSocket hung(/*listening=*/true);
  const std::string url = "http://127.0.0.1:" + std::to_string(hung.port());
  const ProcessResult result = catalyst({"--orchestrator-url", url, "--timeout", "0.2", "status"});
  EXPECT_EQ(result.exit_code, 1);
  expectOneLineReason(result);
  EXPECT_EQ(result.err, "catalyst: GET " + url + "/health: no response within 0.2s\n");
}

TEST(CatalystBinaryFailureTest, TlsUrlIsRefused) {
  const ProcessResult result = catalyst({"--orchestrator-url", "https://node:3000", "status"});
  EXPECT_EQ(result.exit_code, 1);
  expectOneLineReason(result);
}

TEST(CatalystBinaryFailureTest, DefaultUrlIsLocalPort3000) {
  // Whatever listens on 3000 here (usually nothing), a failure names the default.
  const ProcessResult result = catalyst({"status", "--timeout", "0.5"});
  if (result.exit_code != 0) {
    EXPECT_NE(result.err.find("127.0.0.1:3000"), std::string::npos) << result.err;
  }
}

TEST(CatalystBinaryUsageTest, HelpDescribesTheTool) {
  const ProcessResult result = catalyst({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("command-line client of a Catalyst Node"), std::string::npos);
  EXPECT_NE(result.out.find("--orchestrator-url"), std::string::npos);
  EXPECT_NE(result.out.find("CATALYST_TOKEN"), std::string::npos);
  EXPECT_NE(result.out.find("status"), std::string::npos);
}

TEST(CatalystBinaryUsageTest, UsageErrorsFailWithOneLine) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"bogus"}, {"status", "--bogus"}, {"--timeout", "0", "status"}}) {
    const ProcessResult result = catalyst(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    expectOneLineReason(result);
  }
}

} // namespace
} // namespace catalyst::cli
