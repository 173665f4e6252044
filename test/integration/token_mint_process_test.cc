// `catalyst-node token mint` started as a user starts it; its tokens are checked by the auth
// module, as the node will check them.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "catalyst/auth/base64url.h"
#include "catalyst/auth/token_authority.h"

#include "support/process.h"

namespace catalyst::test {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

constexpr int64_t kWeek = 7 * 86'400;

std::string nodeBinary() { return CATALYST_NODE_BINARY; }

int64_t nowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The environment of a node: every variable the config reads is set here (empty is unset), so
// the test's own environment cannot leak in.
std::map<std::string, std::string> nodeEnv(std::map<std::string, std::string> overrides) {
  std::map<std::string, std::string> env = {
      {"CATALYST_NODE_ID", ""},          {"CATALYST_DOMAINS", ""},
      {"CATALYST_PEERING_ENDPOINT", ""}, {"PORT", ""},
      {"CATALYST_STATE_DIR", ""},        {"CATALYST_LOG_LEVEL", ""},
      {"CATALYST_DATAPLANE", ""},        {"CATALYST_ENVOY_ADDRESS", ""},
      {"CATALYST_ENVOY_PORT_RANGE", ""},
  };
  for (auto& [name, value] : overrides) {
    env[name] = value;
  }
  return env;
}

RunResult mint(std::vector<std::string> args, std::map<std::string, std::string> env) {
  args.insert(args.begin(), {nodeBinary(), "token", "mint"});
  return run(std::move(args), nodeEnv(std::move(env)));
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

unsigned modeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// The token of a successful run: one line, three base64url parts. Returns the payload.
bj::object expectToken(const RunResult& result, std::string* token = nullptr) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_FALSE(result.out.empty());
  EXPECT_EQ(result.out.back(), '\n') << result.out;
  const std::string line = result.out.substr(0, result.out.find('\n'));
  EXPECT_EQ(line.size() + 1, result.out.size()) << "more than one line: " << result.out;
  if (token != nullptr) {
    *token = line;
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot = line.find('.');; dot = line.find('.', start)) {
    parts.push_back(line.substr(start, dot - start));
    if (dot == std::string::npos) {
      break;
    }
    start = dot + 1;
  }
  EXPECT_EQ(parts.size(), 3u) << line;
  if (parts.size() != 3) {
    return {};
  }
  for (const std::string& part : parts) {
    EXPECT_FALSE(part.empty());
    EXPECT_EQ(part.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"),
              std::string::npos)
        << part;
  }
  EXPECT_EQ(auth::base64UrlDecode(parts[0]), std::string(R"({"alg":"ES384","typ":"JWT"})"));
  EXPECT_EQ(auth::base64UrlDecode(parts[2]).value_or("").size(), 96u);
  const auto payload = auth::base64UrlDecode(parts[1]);
  EXPECT_TRUE(payload);
  boost::system::error_code ec;
  bj::value value = bj::parse(payload.value_or(""), ec);
  EXPECT_FALSE(ec) << *payload;
  EXPECT_TRUE(value.is_object()) << *payload;
  return value.is_object() ? value.get_object() : bj::object();
}

// A failed run: non-zero, nothing on stdout, one line on stderr that holds `message_part`.
void expectOneLineFailure(const RunResult& result, const std::string& message_part) {
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(result.err.rfind("catalyst-node: token mint: ", 0), 0u) << result.err;
  EXPECT_NE(result.err.find(message_part), std::string::npos) << result.err;
}

TEST(TokenMintProcessTest, MintsAPeerTokenAndCreatesTheKeyOwnerOnly) {
  TempDir dir;
  const fs::path state = fs::path(dir.path()) / "state";
  const int64_t before = nowUnix();
  std::string first;
  const bj::object payload =
      expectToken(mint({"--subject", "node-b"},
                       {{"CATALYST_NODE_ID", "node-a"}, {"CATALYST_STATE_DIR", state.string()}}),
                  &first);
  const int64_t after = nowUnix();
  ASSERT_FALSE(payload.empty());
  EXPECT_EQ(payload.at("iss").as_string(), "node-a");
  EXPECT_EQ(payload.at("sub").as_string(), "node-b");
  EXPECT_EQ(payload.at("role").as_string(), "peer");
  const int64_t iat = payload.at("iat").as_int64();
  EXPECT_GE(iat, before);
  EXPECT_LE(iat, after);
  EXPECT_EQ(payload.at("nbf").as_int64(), iat);
  EXPECT_EQ(payload.at("exp").as_int64(), iat + kWeek) << "the default ttl is 7d";
  EXPECT_EQ(payload.at("jti").as_string().size(), 32u);

  const fs::path key = state / "node-key.pem";
  ASSERT_TRUE(fs::exists(key));
  EXPECT_EQ(modeOf(key), 0600u);
  EXPECT_EQ(modeOf(state), 0700u);
  const std::string pem = readFile(key);

  // A second run reuses the key: both tokens verify against the one key on disk.
  std::string second;
  const bj::object admin =
      expectToken(mint({"--subject", "alice", "--role", "admin", "--ttl", "15m"},
                       {{"CATALYST_NODE_ID", "node-a"}, {"CATALYST_STATE_DIR", state.string()}}),
                  &second);
  ASSERT_FALSE(admin.empty());
  EXPECT_EQ(admin.at("role").as_string(), "admin");
  EXPECT_EQ(admin.at("exp").as_int64() - admin.at("iat").as_int64(), 900);
  EXPECT_NE(admin.at("jti"), payload.at("jti"));
  EXPECT_EQ(readFile(key), pem) << "the key was replaced";

  auto authority = auth::TokenAuthority::loadOrCreate(state, "node-a");
  ASSERT_TRUE(authority) << authority.error().message;
  auto claims = authority->verify(first, nowUnix());
  ASSERT_TRUE(claims) << claims.error().toString();
  EXPECT_EQ(claims->subject, "node-b");
  EXPECT_EQ(claims->role, auth::Role::Peer);
  auto admin_claims = authority->verify(second, nowUnix());
  ASSERT_TRUE(admin_claims) << admin_claims.error().toString();
  EXPECT_EQ(admin_claims->role, auth::Role::Admin);
  // And it expires when it says.
  EXPECT_EQ(authority->verify(second, admin_claims->expires_at + 31).error().reason,
            auth::TokenError::Expired);
}

TEST(TokenMintProcessTest, FindsTheNodeAndStateDirectoryLikeTheNode) {
  TempDir dir;
  const std::string file =
      dir.write("node.yaml", "node:\n  id: node-c\nstate_dir: " + dir.path() + "/from-file\n");
  const bj::object payload = expectToken(mint({"--config", file, "--subject", "node-d"}, {}));
  ASSERT_FALSE(payload.empty());
  EXPECT_EQ(payload.at("iss").as_string(), "node-c");
  EXPECT_TRUE(fs::exists(fs::path(dir.path()) / "from-file" / "node-key.pem"));

  // The environment overrides the file, as for the node.
  std::string token;
  const bj::object env_payload = expectToken(
      mint({"-c", file, "--subject", "node-d"},
           {{"CATALYST_NODE_ID", "node-e"}, {"CATALYST_STATE_DIR", dir.path() + "/from-env"}}),
      &token);
  ASSERT_FALSE(env_payload.empty());
  EXPECT_EQ(env_payload.at("iss").as_string(), "node-e");
  auto authority = auth::TokenAuthority::loadOrCreate(fs::path(dir.path()) / "from-env", "node-e");
  ASSERT_TRUE(authority);
  EXPECT_TRUE(authority->verify(token, nowUnix()));

  // With no state directory configured: ./var/<node id>, relative to where it runs.
  RunResult in_dir =
      run({"/bin/sh", "-c", "cd \"$WORK\" && exec \"$NODE\" token mint --subject node-b"},
          nodeEnv({{"CATALYST_NODE_ID", "node-f"}, {"WORK", dir.path()}, {"NODE", nodeBinary()}}));
  expectToken(in_dir);
  EXPECT_TRUE(fs::exists(fs::path(dir.path()) / "var" / "node-f" / "node-key.pem"));
}

TEST(TokenMintProcessTest, BadArgumentsFailWithOneLineAndTouchNothing) {
  TempDir dir;
  const std::map<std::string, std::string> env = {{"CATALYST_NODE_ID", "node-a"},
                                                  {"CATALYST_STATE_DIR", dir.path() + "/state"}};
  const struct {
    std::vector<std::string> args;
    std::string message_part;
  } cases[] = {
      {{}, "--subject is required"},
      {{"--role", "admin"}, "--subject is required"},
      {{"--subject", "node-b", "--ttl", "0"}, "--ttl: must be above 0"},
      {{"--subject", "node-b", "--ttl", "7x"}, "--ttl: expected a positive whole number"},
      {{"--subject", "node-b", "--ttl", "-1d"}, "--ttl: expected a positive whole number"},
      {{"--subject", "node-b", "--ttl", "11000d"}, "--ttl: must be at most 10 years"},
      {{"--subject", "node-b", "--role", "root"}, "--role: must be peer or admin (got 'root')"},
      {{"--subject", "node-b", "--role", "Admin"}, "--role: must be peer or admin"},
      {{"--subject", "bad name"}, "--subject: character ' ' not allowed"},
      {{"--subject", "-b"}, "--subject: must start and end with a letter or digit"},
      {{"--subject", "line\nbreak"}, "--subject: character '?' not allowed"},
      {{"--subject", "node-b", "surplus"}, "surplus"},
      {{"--subject", "node-b", "--config", dir.path() + "/missing.yaml"}, "missing.yaml"},
  };
  for (const auto& c : cases) {
    std::string shown;
    for (const std::string& arg : c.args) {
      shown += " " + arg;
    }
    SCOPED_TRACE("token mint" + shown);
    expectOneLineFailure(mint(c.args, env), c.message_part);
  }
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "state")) << "a failed mint created state";
}

TEST(TokenMintProcessTest, ConfigAndKeyProblemsFailWithOneLine) {
  TempDir dir;
  expectOneLineFailure(mint({"--subject", "node-b"}, {}), "CATALYST_NODE_ID");
  const std::string bad = dir.write("bad.yaml", "node:\n  id: a\nlisten:\n  port: 70000\n  x: 1\n");
  expectOneLineFailure(mint({"--config", bad, "--subject", "node-b"}, {}),
                       bad + ":4: listen.port:");

  const fs::path state = fs::path(dir.path()) / "corrupt";
  fs::create_directories(state);
  { std::ofstream(state / "node-key.pem") << "-----BEGIN PRIVATE KEY-----\nAAAA\n"; }
  expectOneLineFailure(mint({"--subject", "node-b"}, {{"CATALYST_NODE_ID", "node-a"},
                                                      {"CATALYST_STATE_DIR", state.string()}}),
                       "key file " + (state / "node-key.pem").string() + ": corrupt");
  EXPECT_EQ(readFile(state / "node-key.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n");
}

TEST(TokenMintProcessTest, TopLevelCommandIsUnchanged) {
  RunResult help = run({nodeBinary(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("token mint --config node-a.yaml --subject node-b"), std::string::npos)
      << help.out;
  RunResult mint_help = run({nodeBinary(), "token", "mint", "--help"});
  EXPECT_EQ(mint_help.exit_code, 0);
  EXPECT_NE(mint_help.out.find("--subject"), std::string::npos) << mint_help.out;
  EXPECT_NE(mint_help.out.find("node-key.pem"), std::string::npos) << mint_help.out;
  EXPECT_NE(mint_help.out.find("Examples:"), std::string::npos) << mint_help.out;

  RunResult version = run({nodeBinary(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("catalyst-node ", 0), 0u) << version.out;

  TempDir dir;
  const std::string good = dir.write("good.yaml", "node:\n  id: node-a\n");
  RunResult check = run({nodeBinary(), "--check-config", good}, nodeEnv({}));
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.out.rfind("ok: ", 0), 0u) << check.out;
  // Top-level --config belongs to the node; token mint takes its own.
  RunResult misplaced =
      run({nodeBinary(), "--config", good, "token", "mint", "--subject", "b"}, nodeEnv({}));
  EXPECT_EQ(misplaced.exit_code, 2);
  EXPECT_NE(misplaced.err.find("give --config after 'token mint'"), std::string::npos)
      << misplaced.err;
}

} // namespace
} // namespace catalyst::test
