#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "catalyst/config/loader.h"
#include "catalyst/config/node_config.h"

namespace catalyst::config {
namespace {

using ::testing::ElementsAre;

// A directory of its own under the system temp dir, removed with everything in it.
class TempDir {
public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name =
        std::string("catalyst-config-test-") + info->name() + "-" + std::to_string(::getpid());
    for (char& c : name) {
      if (c == '/') {
        c = '_';
      }
    }
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `content` to `name` in the directory; returns the file's path.
  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out << content;
    return file.string();
  }

private:
  std::filesystem::path path_;
};

std::vector<std::string> lines(const ConfigError& error) {
  std::vector<std::string> out;
  for (const auto& problem : error.problems) {
    out.push_back(problem.toString());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Broken configs: each is reported with its exact message, and --check-config exits non-zero.

struct BrokenCase {
  std::string name;
  std::string yaml;
  Env env;
  // "{file}" stands for the config file's path.
  std::vector<std::string> expected;
};

std::ostream& operator<<(std::ostream& out, const BrokenCase& c) { return out << c.name; }

// Long messages are split into adjacent literals, which the missing-comma check mistakes.
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
std::vector<BrokenCase> brokenCases() {
  return {
      {"MissingNodeId",
       "listen:\n  port: 3000\n",
       {},
       {"{file}:1: node.id: required (set it here or in CATALYST_NODE_ID)"}},
      {"MissingNodeIdInNodeSection",
       "log_level: info\nnode:\n  domains: [example.local]\n",
       {},
       {"{file}:2: node.id: required (set it here or in CATALYST_NODE_ID)"}},
      {"NodeIdWithoutValue",
       "node:\n  id:\n",
       {},
       {"{file}:2: node.id: expected a string, got nothing"}},
      {"PortZero",
       "node: {id: a}\nlisten:\n  port: 0\n",
       {},
       {"{file}:3: listen.port: must be 1-65535 (got 0)"}},
      {"PortTooLarge",
       "node: {id: a}\nlisten:\n  port: 70000\n",
       {},
       {"{file}:3: listen.port: must be 1-65535 (got 70000)"}},
      {"PortNegative",
       "node: {id: a}\nlisten:\n  port: -1\n",
       {},
       {"{file}:3: listen.port: must be 1-65535 (got -1)"}},
      {"PortHuge",
       "node: {id: a}\nlisten:\n  port: 123456789012345678901234567890\n",
       {},
       {"{file}:3: listen.port: must be 1-65535 (got 123456789012345678901234567890)"}},
      {"PortNotANumber",
       "node: {id: a}\nlisten:\n  port: abc\n",
       {},
       {"{file}:3: listen.port: expected an integer, got 'abc'"}},
      {"PortIsAMapping",
       "node: {id: a}\nlisten:\n  port: {value: 3000}\n",
       {},
       {"{file}:3: listen.port: expected an integer, got a mapping"}},
      {"UnknownTopLevelKey",
       "node: {id: a}\nnodes: {id: b}\n",
       {},
       {"{file}:2: nodes: unknown key (expected node, listen, state_dir, log_level, dataplane, "
        "peers, routes, admin, rpc, peering)"}},
      {"UnknownNestedKey",
       "node: {id: a}\nlisten:\n  adress: 0.0.0.0\n",
       {},
       {"{file}:3: listen.adress: unknown key (expected address, port)"}},
      {"UnknownRouteKey",
       "node: {id: a}\nroutes:\n  - name: books\n    colour: red\n",
       {},
       {"{file}:4: routes[0].colour: unknown key (expected name, endpoint, protocol, region, "
        "tags)"}},
      {"DomainsNotAList",
       "node:\n  id: a\n  domains: 5\n",
       {},
       {"{file}:3: node.domains: expected a list, got '5'"}},
      {"AddressIsAMapping",
       "node: {id: a}\nlisten:\n  address: {host: x}\n",
       {},
       {"{file}:3: listen.address: expected a string, got a mapping"}},
      {"SectionIsAScalar", "node: a\n", {}, {"{file}:1: node: expected a mapping, got 'a'"}},
      {"MalformedYaml",
       "node:\n  id: a\nlisten: [3000\n",
       {},
       {"{file}:4: invalid YAML: end of sequence flow not found"}},
      {"MalformedIndentation",
       "node:\n  id: a\nlisten:\n  port: 3000\n address: 0.0.0.0\n",
       {},
       {"{file}:5: invalid YAML: end of map not found"}},
      {"MalformedMapValue",
       "node:\n  id: a\n  domains [a]\nlisten: {}\n",
       {},
       {"{file}:4: invalid YAML: illegal map value"}},
      {"DuplicateRouteNames",
       "node: {id: a}\nroutes:\n  - name: books\n    endpoint: http://127.0.0.1:8080\n"
       "  - name: books\n",
       {},
       {"{file}:5: routes[1].name: duplicate route name 'books' (first at line 3)"}},
      {"DuplicatePeerNames",
       "node: {id: a}\npeers:\n  - name: b\n    endpoint: ws://b/rpc\n  - name: b\n"
       "    endpoint: ws://b2/rpc\n",
       {},
       {"{file}:5: peers[1].name: duplicate peer name 'b' (first at line 3)"}},
      {"DuplicateKey",
       "node: {id: a}\nlisten:\n  port: 3000\n  port: 3001\n",
       {},
       {"{file}:4: listen.port: duplicate key (first at line 3)"}},
      {"DuplicateSection",
       "node: {id: a}\nlog_level: info\nnode: {id: b}\n",
       {},
       {"{file}:3: node: duplicate key (first at line 1)"}},
      {"InvalidNodeId",
       "node:\n  id: -a\n",
       {},
       {"{file}:2: node.id: must start and end with a letter or digit"}},
      {"InvalidRouteName",
       "node: {id: a}\nroutes:\n  - name: my books\n",
       {},
       {"{file}:3: routes[0].name: character ' ' not allowed (letters, digits, '.', '_', '-')"}},
      {"InvalidPeerName",
       "node: {id: a}\npeers:\n  - name: b!c\n    endpoint: ws://b/rpc\n",
       {},
       {"{file}:3: peers[0].name: character '!' not allowed (letters, digits, '.', '_', '-')"}},
      {"InvalidProtocol",
       "node: {id: a}\nroutes:\n  - name: books\n    protocol: htp\n",
       {},
       {"{file}:4: routes[0].protocol: unknown protocol 'htp' (expected http, http:graphql, "
        "http:gql, http:grpc, tcp or udp)"}},
      {"InvalidLogLevel",
       "node: {id: a}\nlog_level: loud\n",
       {},
       {"{file}:2: log_level: unknown log level 'loud' (expected trace, debug, info, warn, error "
        "or off)"}},
      {"InvalidDataPlaneMode",
       "node: {id: a}\ndataplane:\n  mode: envoy\n",
       {},
       {"{file}:3: dataplane.mode: unknown data plane mode 'envoy' (expected embedded, "
        "envoy-xds or envoy-files)"}},
      {"InvalidBoolean",
       "node: {id: a}\nadmin:\n  loopback_only: maybe\n",
       {},
       {"{file}:3: admin.loopback_only: expected true or false, got 'maybe'"}},
      {"RpcMessageSizeTooSmall",
       "node: {id: a}\nrpc:\n  max_message_bytes: 10\n",
       {},
       {"{file}:3: rpc.max_message_bytes: must be 1024-33554432 (got 10)"}},
      {"RpcMessageSizeNotANumber",
       "node: {id: a}\nrpc:\n  max_message_bytes: big\n",
       {},
       {"{file}:3: rpc.max_message_bytes: expected an integer, got 'big'"}},
      {"HoldTimeTooShort",
       "node: {id: a}\npeering:\n  hold_time_ms: 2\n",
       {},
       {"{file}:3: peering.hold_time_ms: must be 0 or 3-86400000 (got 2)"}},
      {"HoldTimeNotANumber",
       "node: {id: a}\npeering:\n  hold_time_ms: soon\n",
       {},
       {"{file}:3: peering.hold_time_ms: expected an integer number of milliseconds, got 'soon'"}},
      {"GracefulRestartZero",
       "node: {id: a}\npeering:\n  graceful_restart_ms: 0\n",
       {},
       {"{file}:3: peering.graceful_restart_ms: must be 1-3600000 (got 0)"}},
      {"UnknownPeeringKey",
       "node: {id: a}\npeering:\n  hold: 5\n",
       {},
       {"{file}:3: peering.hold: unknown key (expected hold_time_ms, graceful_restart_ms)"}},
      {"DataPlaneWorkersZero",
       "node: {id: a}\ndataplane:\n  workers: 0\n",
       {},
       {"{file}:3: dataplane.workers: must be 1-256 (got 0)"}},
      {"DataPlaneWorkersNotANumber",
       "node: {id: a}\ndataplane:\n  workers: [2]\n",
       {},
       {"{file}:3: dataplane.workers: expected an integer, got a list"}},
      {"DataPlaneWorkersFromEnvironment",
       "node: {id: a}\n",
       {{"CATALYST_DATAPLANE_WORKERS", "many"}},
       {"env CATALYST_DATAPLANE_WORKERS: expected an integer, got 'many'"}},
      {"DrainTimeoutTooLong",
       "node: {id: a}\ndataplane:\n  drain_timeout_ms: 3600001\n",
       {},
       {"{file}:3: dataplane.drain_timeout_ms: must be 0 or 1-3600000 (got 3600001)"}},
      {"UdpIdleTimeoutZero",
       "node: {id: a}\ndataplane:\n  udp_idle_timeout_ms: 0\n",
       {},
       {"{file}:3: dataplane.udp_idle_timeout_ms: must be 1-86400000 (got 0)"}},
      {"SpliceNotABoolean",
       "node: {id: a}\ndataplane:\n  splice: yes\n",
       {},
       {"{file}:3: dataplane.splice: expected true or false (got yes)"}},
      {"UnknownDataPlaneKey",
       "node: {id: a}\ndataplane:\n  threads: 2\n",
       {},
       {"{file}:3: dataplane.threads: unknown key (expected mode, address, bind_address, "
        "port_range, workers, drain_timeout_ms, udp_idle_timeout_ms, splice, envoy, tls)"}},
      {"TlsWithTheEmbeddedDataPlane",
       "node: {id: a}\ndataplane:\n  tls:\n    certificate_chain: a.crt\n    private_key: a.key\n"
       "    trusted_ca: ca.crt\n",
       {},
       {"{file}:3: dataplane.tls: needs an Envoy data plane (mode envoy-xds or envoy-files); the "
        "embedded data plane does not do TLS"}},
      {"TlsWithoutTheKey",
       "node: {id: a}\ndataplane:\n  mode: envoy-files\n  tls:\n    certificate_chain: a.crt\n"
       "    trusted_ca: ca.crt\n",
       {},
       {"{file}:4: dataplane.tls: private_key is required (a PEM file)"}},
      {"UnknownEnvoyKey",
       "node: {id: a}\ndataplane:\n  envoy:\n    xds: 1\n",
       {},
       {"{file}:4: dataplane.envoy.xds: unknown key (expected files_dir, xds_address, xds_port, "
        "admin_address, admin_port, node_id, startup_hold_ms)"}},
      {"BadEnvoyNodeId",
       "node: {id: a}\ndataplane:\n  envoy:\n    node_id: \"a b\"\n",
       {},
       {"{file}:4: dataplane.envoy.node_id: must be 1-253 letters, digits, '-', '.', '_' or ':' "
        "(got 'a b')"}},
      {"BadXdsPortFromEnvironment",
       "node: {id: a}\n",
       {{"CATALYST_ENVOY_XDS_PORT", "70000"}},
       {"env CATALYST_ENVOY_XDS_PORT: must be 1-65535 (got 70000)"}},
      {"HoldTimeFromEnvironment",
       "node: {id: a}\n",
       {{"CATALYST_HOLD_TIME_MS", "1"}},
       {"env CATALYST_HOLD_TIME_MS: must be 0 or 3-86400000 (got 1)"}},
      {"PeerWithoutEndpoint",
       "node: {id: a}\npeers:\n  - name: b\n",
       {},
       {"{file}:3: peers[0].endpoint: required"}},
      {"PeerEndpointNotWebSocket",
       "node: {id: a}\npeers:\n  - name: b\n    endpoint: http://b:3000/rpc\n",
       {},
       {"{file}:4: peers[0].endpoint: must be a ws:// or wss:// URL such as "
        "ws://127.0.0.1:3000/rpc (got 'http://b:3000/rpc')"}},
      {"PeerTokenNotAJwt",
       "node: {id: a}\npeers:\n  - name: b\n    endpoint: ws://b/rpc\n    token: secret\n",
       {},
       {"{file}:5: peers[0].token: must be a JWT (three base64url parts separated by '.')"}},
      {"PeerIsThisNode",
       "node: {id: a}\npeers:\n  - name: a\n    endpoint: ws://a/rpc\n",
       {},
       {"{file}:3: peers[0].name: is this node's own id 'a'"}},
      {"RouteNotAMapping",
       "node: {id: a}\nroutes:\n  - books\n",
       {},
       {"{file}:3: routes[0]: expected a mapping with a name, got 'books'"}},
      {"RouteEndpointNotAUrl",
       "node: {id: a}\nroutes:\n  - name: books\n    endpoint: 127.0.0.1:8080\n",
       {},
       {"{file}:4: routes[0].endpoint: must be a URL such as http://127.0.0.1:8080 (got "
        "'127.0.0.1:8080')"}},
      {"TooManyTags",
       "node: {id: a}\nroutes:\n  - name: books\n    tags: [" +
           [] {
             std::string tags;
             for (int i = 0; i < 33; ++i) {
               tags += (i == 0 ? "t" : ", t") + std::to_string(i);
             }
             return tags;
           }() +
           "]\n",
       {},
       {"{file}:4: routes[0].tags: more than 32 tags"}},
      {"PortRangeOverlap",
       "node: {id: a}\ndataplane:\n  port_range:\n    - [10000, 10099]\n    - 10200\n"
       "    - [10050, 10060]\n",
       {},
       {"{file}:6: dataplane.port_range[2]: ports 10050-10060 overlap dataplane.port_range[0] "
        "(10000-10099)"}},
      {"PortRangeReversed",
       "node: {id: a}\ndataplane:\n  port_range: [[10099, 10000]]\n",
       {},
       {"{file}:3: dataplane.port_range[0]: first port 10099 is greater than last port 10000"}},
      {"PortRangeOutOfRange",
       "node: {id: a}\ndataplane:\n  port_range: [0, [65535, 65536]]\n",
       {},
       {"{file}:3: dataplane.port_range[0]: must be 1-65535 (got 0)",
        "{file}:3: dataplane.port_range[1][1]: must be 1-65535 (got 65536)"}},
      {"PortRangeBadElement",
       "node: {id: a}\ndataplane:\n  port_range: [[1, 2, 3], {a: 1}]\n",
       {},
       {"{file}:3: dataplane.port_range[0]: expected a port or a [first, last] range, got a list",
        "{file}:3: dataplane.port_range[1]: expected a port or a [first, last] range, got a "
        "mapping"}},
      {"EmptyFile",
       "",
       {},
       {"{file}:1: empty config (expected a mapping such as 'node: {id: my-node}')"}},
      {"CommentsOnly",
       "# nothing here\n",
       {},
       {"{file}:1: empty config (expected a mapping such as 'node: {id: my-node}')"}},
      {"TopLevelList",
       "- node\n- listen\n",
       {},
       {"{file}:1: expected a mapping of sections (node, listen, ...) at the top, got a list"}},
      {"TopLevelScalar",
       "hello\n",
       {},
       {"{file}:1: expected a mapping of sections (node, listen, ...) at the top, got 'hello'"}},
      {"TwoDocuments",
       "node: {id: a}\n---\nnode: {id: b}\n",
       {},
       {"{file}:2: more than one YAML document (expected one)"}},
      {"StrayComma", ",a\n", {}, {"{file}:1: invalid YAML: unexpected ','"}},
      {"TooDeep",
       std::string(100, '[') + std::string(100, ']') + "\n",
       {},
       {"{file}:1: nested deeper than 64 levels"}},
      {"EveryProblemReported",
       "node:\n  domains: [ok.example, bad domain]\nlisten:\n  port: 0\nlog_level: loud\n"
       "routes:\n  - name: a\n  - name: a\n",
       {},
       {"{file}:1: node.id: required (set it here or in CATALYST_NODE_ID)",
        "{file}:2: node.domains[1]: character ' ' not allowed (letters, digits, '.', '_', '-')",
        "{file}:4: listen.port: must be 1-65535 (got 0)",
        "{file}:5: log_level: unknown log level 'loud' (expected trace, debug, info, warn, "
        "error or off)",
        "{file}:8: routes[1].name: duplicate route name 'a' (first at line 7)"}},
      {"BadEnvironment",
       "node: {id: a}\n",
       {{"PORT", "0"},
        {"CATALYST_NODE_ID", "a b"},
        {"CATALYST_PEERING_ENDPOINT", "http://x"},
        {"CATALYST_DOMAINS", "ok.example, bad/domain"},
        {"CATALYST_DATAPLANE", "envoy"},
        {"CATALYST_ENVOY_ADDRESS", "not an address"},
        {"CATALYST_ENVOY_PORT_RANGE", "[[10000,10099],[10050,10060]]"},
        {"CATALYST_LOG_LEVEL", "loud"}},
       {"env CATALYST_NODE_ID: character ' ' not allowed (letters, digits, '.', '_', '-')",
        "env PORT: must be 1-65535 (got 0)",
        "env CATALYST_PEERING_ENDPOINT: must be a ws:// or wss:// URL such as "
        "ws://127.0.0.1:3000/rpc (got 'http://x')",
        "env CATALYST_DATAPLANE: unknown data plane mode 'envoy' (expected embedded, envoy-xds "
        "or envoy-files)",
        "env CATALYST_ENVOY_ADDRESS: not an IP address or host name: 'not an address'",
        "env CATALYST_LOG_LEVEL: unknown log level 'loud' (expected trace, debug, info, warn, "
        "error or off)",
        "env CATALYST_DOMAINS: 'bad/domain': character '/' not allowed (letters, digits, '.', "
        "'_', '-')",
        "env CATALYST_ENVOY_PORT_RANGE: [1]: ports 10050-10060 overlap [0] (10000-10099)"}},
      {"EnvPortRangeNotJson",
       "node: {id: a}\n",
       {{"CATALYST_ENVOY_PORT_RANGE", "[[10000,10099]"}},
       {"env CATALYST_ENVOY_PORT_RANGE: invalid JSON: end of sequence flow not found"}},
      {"EnvPortRangeNotAList",
       "node: {id: a}\n",
       {{"CATALYST_ENVOY_PORT_RANGE", "10000-10099"}},
       {"env CATALYST_ENVOY_PORT_RANGE: expected a JSON list of ports and [first,last] ranges "
        "such as [[10000,10099],10200], got '10000-10099'"}},
      {"EnvPortNotANumber",
       "node: {id: a}\n",
       {{"PORT", "http"}},
       {"env PORT: expected an integer, got 'http'"}},
  };
}
// NOLINTEND(bugprone-suspicious-missing-comma)

std::string expand(const std::string& pattern, const std::string& file) {
  std::string out = pattern;
  for (auto at = out.find("{file}"); at != std::string::npos; at = out.find("{file}")) {
    out.replace(at, 6, file);
  }
  return out;
}

class BrokenConfigTest : public ::testing::TestWithParam<BrokenCase> {
protected:
  TempDir dir_;
};

TEST_P(BrokenConfigTest, ReportsExactProblems) {
  const BrokenCase& c = GetParam();
  const std::string file = dir_.write("node.yaml", c.yaml);
  std::vector<std::string> expected;
  for (const auto& line : c.expected) {
    expected.push_back(expand(line, file));
  }

  auto result = loadConfig(ConfigSource{file, c.env});
  ASSERT_FALSE(result) << "loaded a broken config";
  EXPECT_EQ(lines(result.error()), expected);

  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(checkConfigMain(file, c.env, out, err), 1);
  EXPECT_EQ(out.str(), "");
  std::string expected_err;
  for (const auto& line : expected) {
    expected_err += line + "\n";
  }
  EXPECT_EQ(err.str(), expected_err);
}

INSTANTIATE_TEST_SUITE_P(Table, BrokenConfigTest, ::testing::ValuesIn(brokenCases()),
                         [](const auto& test_info) { return test_info.param.name; });

// ---------------------------------------------------------------------------------------------
// Files that cannot be read.

class ConfigFileTest : public ::testing::Test {
protected:
  TempDir dir_;
};

TEST_F(ConfigFileTest, FileNotFound) {
  const std::string file = (dir_.path() / "missing.yaml").string();
  auto result = loadConfig(ConfigSource{file, {}});
  ASSERT_FALSE(result);
  EXPECT_THAT(lines(result.error()),
              ElementsAre(file + ": cannot read: No such file or directory"));

  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(checkConfigMain(file, {}, out, err), 1);
  EXPECT_EQ(err.str(), file + ": cannot read: No such file or directory\n");
}

TEST_F(ConfigFileTest, FileIsADirectory) {
  const std::string path = dir_.path().string();
  auto result = loadConfig(ConfigSource{path, {}});
  ASSERT_FALSE(result);
  EXPECT_THAT(lines(result.error()), ElementsAre(path + ": cannot read: is a directory"));
}

TEST_F(ConfigFileTest, FileUnreadable) {
  // A directory cannot be read as a file, whoever runs the test (CI runs as root, which reads
  // files whatever their mode).
  const std::string dir = (dir_.path() / "a-directory.yaml").string();
  std::filesystem::create_directories(dir);
  auto result = loadConfig(ConfigSource{dir, {}});
  ASSERT_FALSE(result);
  ASSERT_EQ(lines(result.error()).size(), 1u);
  EXPECT_THAT(lines(result.error())[0], ::testing::StartsWith(dir + ": "));
}

TEST_F(ConfigFileTest, FileTooLarge) {
  const std::string file =
      dir_.write("big.yaml", "node: {id: a}\n# " + std::string(kMaxConfigFileSize, 'x') + "\n");
  auto result = loadConfig(ConfigSource{file, {}});
  ASSERT_FALSE(result);
  EXPECT_THAT(lines(result.error()), ElementsAre(file + ": larger than 1048576 bytes"));
}

TEST_F(ConfigFileTest, UnreadableFileStillReportsEnvironmentProblems) {
  const std::string file = (dir_.path() / "missing.yaml").string();
  auto result = loadConfig(ConfigSource{file, {{"PORT", "0"}}});
  ASSERT_FALSE(result);
  EXPECT_THAT(lines(result.error()), ElementsAre(file + ": cannot read: No such file or directory",
                                                 "env PORT: must be 1-65535 (got 0)"));
}

// ---------------------------------------------------------------------------------------------
// Valid configs.

constexpr const char* kFullConfig = R"(# A node with everything set.
node:
  id: node-a
  domains: [example.local, a.example.local]
  endpoint: wss://node-a.example.local/rpc
listen:
  address: 0.0.0.0
  port: 3100
state_dir: /var/lib/catalyst/node-a
log_level: debug
dataplane:
  mode: envoy-xds
  address: 10.0.0.1
  bind_address: 0.0.0.0
  port_range: [[10000, 10099], 10200]
  workers: 3
  drain_timeout_ms: 0
  udp_idle_timeout_ms: 1500
  splice: true
  envoy:
    files_dir: /var/lib/catalyst/envoy-files
    xds_address: 0.0.0.0
    xds_port: 18001
    admin_address: 0.0.0.0
    admin_port: 9902
    node_id: envoy-a
    startup_hold_ms: 0
  tls:
    certificate_chain: /etc/catalyst/a.crt
    private_key: /etc/catalyst/a.key
    trusted_ca: /etc/catalyst/ca.crt
peers:
  - name: node-b
    endpoint: ws://10.0.0.2:3000/rpc
    token: eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJub2RlLWEifQ.c2ln
    domains: [b.example.local]
  - name: node-c
    endpoint: ws://10.0.0.3:3000/rpc
routes:
  - name: books-api
    endpoint: http://127.0.0.1:8081/graphql
    protocol: http:graphql
    region: us-east
    tags: [v1, public]
  - name: echo
    endpoint: tcp://127.0.0.1:7
    protocol: tcp
admin:
  loopback_only: false
rpc:
  max_message_bytes: 65536
peering:
  hold_time_ms: 30000
  graceful_restart_ms: 5000
)";

TEST_F(ConfigFileTest, FullConfig) {
  const std::string file = dir_.write("node.yaml", kFullConfig);
  auto result = loadConfig(ConfigSource{file, {}});
  ASSERT_TRUE(result) << formatProblems(result.error());
  const NodeConfig& config = *result;

  EXPECT_EQ(config.node_id, "node-a");
  EXPECT_THAT(config.domains, ElementsAre("example.local", "a.example.local"));
  EXPECT_EQ(config.peering_endpoint, "wss://node-a.example.local/rpc");
  EXPECT_EQ(config.listen_address, "0.0.0.0");
  EXPECT_EQ(config.port, 3100);
  EXPECT_EQ(config.state_dir, "/var/lib/catalyst/node-a");
  EXPECT_EQ(config.log_level, LogLevel::Debug);
  EXPECT_EQ(config.dataplane, DataPlaneMode::EnvoyXds);
  EXPECT_EQ(config.envoy_address, "10.0.0.1");
  EXPECT_THAT(config.envoy_port_range,
              ElementsAre(PortRange{10000, 10099}, PortRange{10200, 10200}));
  EXPECT_EQ(config.dataplane_workers, 3u);
  EXPECT_EQ(config.dataplane_drain_timeout, std::chrono::milliseconds(0));
  EXPECT_EQ(config.dataplane_udp_idle_timeout, std::chrono::milliseconds(1500));
  EXPECT_TRUE(config.dataplane_splice);
  EXPECT_EQ(config.dataplane_bind_address, "0.0.0.0");
  EXPECT_EQ(config.envoy,
            (config::EnvoySettings{"/var/lib/catalyst/envoy-files", "0.0.0.0", 18001, "0.0.0.0",
                                   9902, "envoy-a", std::chrono::milliseconds(0)}));
  EXPECT_EQ(
      config.dataplane_tls,
      (config::DataPlaneTls{"/etc/catalyst/a.crt", "/etc/catalyst/a.key", "/etc/catalyst/ca.crt"}));
  EXPECT_FALSE(config.admin_loopback_only);
  EXPECT_EQ(config.rpc_max_message_bytes, 65536u);
  EXPECT_EQ(config.hold_time, std::chrono::milliseconds(30000));
  EXPECT_EQ(config.graceful_restart_time, std::chrono::milliseconds(5000));

  state::PeerInfo b;
  b.name = "node-b";
  b.endpoint = "ws://10.0.0.2:3000/rpc";
  b.peer_token = "eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJub2RlLWEifQ.c2ln";
  b.domains = {"b.example.local"};
  state::PeerInfo c;
  c.name = "node-c";
  c.endpoint = "ws://10.0.0.3:3000/rpc";
  EXPECT_THAT(config.peers, ElementsAre(b, c));

  state::Route books;
  books.name = "books-api";
  books.endpoint = "http://127.0.0.1:8081/graphql";
  books.protocol = state::Protocol::HttpGraphql;
  books.region = "us-east";
  books.tags = {"v1", "public"};
  state::Route echo;
  echo.name = "echo";
  echo.endpoint = "tcp://127.0.0.1:7";
  echo.protocol = state::Protocol::Tcp;
  EXPECT_THAT(config.routes, ElementsAre(books, echo));

  const state::NodeIdentity identity = config.identity();
  EXPECT_EQ(identity.name, "node-a");
  EXPECT_EQ(identity.endpoint, "wss://node-a.example.local/rpc");
  EXPECT_EQ(identity.envoy_address, "10.0.0.1");

  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(checkConfigMain(file, {}, out, err), 0);
  EXPECT_EQ(out.str(), "ok: " + file + ": node node-a, 2 peers, 2 routes\n");
  EXPECT_EQ(err.str(), "");
}

// The example of docs/configuration.md (its first ```yaml block) is a valid config.
TEST(ConfigDocTest, ExampleLoads) {
  std::ifstream doc(CATALYST_CONFIG_DOC);
  ASSERT_TRUE(doc) << "cannot open " << CATALYST_CONFIG_DOC;
  std::stringstream text;
  text << doc.rdbuf();
  const std::string markdown = text.str();
  const auto begin = markdown.find("```yaml\n");
  ASSERT_NE(begin, std::string::npos);
  const auto end = markdown.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  auto result =
      loadConfigFromString(markdown.substr(begin + 8, end - begin - 8), "configuration.md", {});
  ASSERT_TRUE(result) << formatProblems(result.error());
  EXPECT_EQ(result->node_id, "node-a");
  EXPECT_EQ(result->peers.size(), 1U);
  EXPECT_EQ(result->routes.size(), 2U);
}

TEST_F(ConfigFileTest, Defaults) {
  const std::string file = dir_.write("node.yaml", "node:\n  id: node-a\n");
  auto result = loadConfig(ConfigSource{file, {}});
  ASSERT_TRUE(result) << formatProblems(result.error());
  const NodeConfig& config = *result;
  EXPECT_EQ(config.node_id, "node-a");
  EXPECT_TRUE(config.domains.empty());
  EXPECT_EQ(config.listen_address, "127.0.0.1");
  EXPECT_EQ(config.port, 3000);
  EXPECT_EQ(config.peering_endpoint, "ws://127.0.0.1:3000/rpc");
  EXPECT_EQ(config.state_dir, "./var/node-a");
  EXPECT_EQ(config.log_level, LogLevel::Info);
  EXPECT_EQ(config.dataplane, DataPlaneMode::Embedded);
  EXPECT_EQ(config.envoy_address, "127.0.0.1");
  EXPECT_TRUE(config.envoy_port_range.empty());
  EXPECT_EQ(config.dataplane_workers, 0u); // one per hardware thread
  EXPECT_EQ(config.dataplane_drain_timeout, std::chrono::seconds(30));
  EXPECT_EQ(config.dataplane_udp_idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(config.dataplane_bind_address, "127.0.0.1"); // the advertised address
  EXPECT_EQ(config.envoy, (config::EnvoySettings{"./var/node-a/envoy", "127.0.0.1", 18000,
                                                 "127.0.0.1", 9901, "node-a"}));
  EXPECT_FALSE(config.dataplane_tls);
  EXPECT_TRUE(config.peers.empty());
  EXPECT_TRUE(config.routes.empty());
  EXPECT_TRUE(config.admin_loopback_only);
}

TEST_F(ConfigFileTest, EmptySectionsAreAllowed) {
  const std::string file = dir_.write(
      "node.yaml", "node:\n  id: a\nlisten:\npeers:\nroutes: []\ndataplane:\n  port_range:\n");
  auto result = loadConfig(ConfigSource{file, {}});
  ASSERT_TRUE(result) << formatProblems(result.error());
  EXPECT_EQ(result->port, 3000);
  EXPECT_TRUE(result->peers.empty());
}

TEST_F(ConfigFileTest, JsonIsYaml) {
  const std::string file = dir_.write(
      "node.json", R"({"node": {"id": "a"}, "listen": {"port": 4000}, "routes": [{"name": "x"}]})");
  auto result = loadConfig(ConfigSource{file, {}});
  ASSERT_TRUE(result) << formatProblems(result.error());
  EXPECT_EQ(result->port, 4000);
  ASSERT_EQ(result->routes.size(), 1U);
  EXPECT_EQ(result->routes[0].protocol, state::Protocol::Http);
}

TEST(ConfigEnvTest, EnvironmentOnly) {
  const Env env{
      {"CATALYST_NODE_ID", "node-e"},
      {"PORT", "4100"},
      {"CATALYST_DOMAINS", "example.local, e.example.local,"},
      {"CATALYST_STATE_DIR", "/tmp/state-e"},
      {"CATALYST_DATAPLANE", "envoy-files"},
      {"CATALYST_ENVOY_ADDRESS", "192.168.1.5"},
      {"CATALYST_ENVOY_PORT_RANGE", "[[10000,10099],10200]"},
      {"CATALYST_LOG_LEVEL", "WARN"},
      {"CATALYST_DATAPLANE_WORKERS", "4"},
      {"HOME", "/root"},
  };
  auto result = loadConfig(ConfigSource{std::nullopt, env});
  ASSERT_TRUE(result) << formatProblems(result.error());
  const NodeConfig& config = *result;
  EXPECT_EQ(config.node_id, "node-e");
  EXPECT_EQ(config.port, 4100);
  EXPECT_EQ(config.peering_endpoint, "ws://127.0.0.1:4100/rpc");
  EXPECT_THAT(config.domains, ElementsAre("example.local", "e.example.local"));
  EXPECT_EQ(config.state_dir, "/tmp/state-e");
  EXPECT_EQ(config.dataplane, DataPlaneMode::EnvoyFiles);
  EXPECT_EQ(config.envoy_address, "192.168.1.5");
  EXPECT_THAT(config.envoy_port_range,
              ElementsAre(PortRange{10000, 10099}, PortRange{10200, 10200}));
  EXPECT_EQ(config.log_level, LogLevel::Warn);
  EXPECT_EQ(config.dataplane_workers, 4u);
}

TEST(ConfigEnvTest, EnvironmentOnlyWithoutNodeId) {
  auto result = loadConfig(ConfigSource{std::nullopt, {{"PORT", "3000"}}});
  ASSERT_FALSE(result);
  EXPECT_THAT(lines(result.error()),
              ElementsAre("env CATALYST_NODE_ID: required when no config file is given"));
}

TEST(ConfigEnvTest, EmptyValuesAreUnset) {
  auto result = loadConfig(ConfigSource{std::nullopt, {{"CATALYST_NODE_ID", "a"}, {"PORT", ""}}});
  ASSERT_TRUE(result) << formatProblems(result.error());
  EXPECT_EQ(result->port, 3000);

  auto missing = loadConfig(ConfigSource{std::nullopt, {{"CATALYST_NODE_ID", ""}}});
  ASSERT_FALSE(missing);
  EXPECT_THAT(lines(missing.error()),
              ElementsAre("env CATALYST_NODE_ID: required when no config file is given"));
}

TEST_F(ConfigFileTest, EnvironmentOverridesFile) {
  const std::string file = dir_.write("node.yaml", R"(node:
  id: from-file
  domains: [file.example]
listen:
  port: 4000
state_dir: /file/state
log_level: debug
dataplane:
  mode: embedded
  address: 10.0.0.1
  port_range: [9000]
routes:
  - name: books
)");
  const Env env{
      {"CATALYST_NODE_ID", "from-env"},    {"PORT", "5000"},
      {"CATALYST_DOMAINS", "env.example"}, {"CATALYST_LOG_LEVEL", "error"},
      {"CATALYST_DATAPLANE", "envoy-xds"}, {"CATALYST_ENVOY_PORT_RANGE", "[[10000, 10001]]"},
  };
  auto result = loadConfig(ConfigSource{file, env});
  ASSERT_TRUE(result) << formatProblems(result.error());
  const NodeConfig& config = *result;
  EXPECT_EQ(config.node_id, "from-env");
  EXPECT_EQ(config.port, 5000);
  // Computed after the override, from the final port.
  EXPECT_EQ(config.peering_endpoint, "ws://127.0.0.1:5000/rpc");
  EXPECT_THAT(config.domains, ElementsAre("env.example"));
  EXPECT_EQ(config.log_level, LogLevel::Error);
  EXPECT_EQ(config.dataplane, DataPlaneMode::EnvoyXds);
  EXPECT_THAT(config.envoy_port_range, ElementsAre(PortRange{10000, 10001}));
  // Not overridden: kept from the file.
  EXPECT_EQ(config.state_dir, "/file/state");
  EXPECT_EQ(config.envoy_address, "10.0.0.1");
  ASSERT_EQ(config.routes.size(), 1U);

  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(checkConfigMain(file, env, out, err), 0);
  EXPECT_EQ(out.str(), "ok: " + file + ": node from-env, 0 peers, 1 routes\n");
}

TEST_F(ConfigFileTest, EnvironmentSuppliesMissingNodeId) {
  const std::string file = dir_.write("node.yaml", "listen:\n  port: 4000\n");
  auto result = loadConfig(ConfigSource{file, {{"CATALYST_NODE_ID", "b"}}});
  ASSERT_TRUE(result) << formatProblems(result.error());
  EXPECT_EQ(result->node_id, "b");
  EXPECT_EQ(result->state_dir, "./var/b");
  EXPECT_EQ(result->peering_endpoint, "ws://127.0.0.1:4000/rpc");
}

TEST(ConfigEnvTest, PeeringEndpointOverride) {
  auto result = loadConfig(ConfigSource{
      std::nullopt,
      {{"CATALYST_NODE_ID", "a"}, {"CATALYST_PEERING_ENDPOINT", "ws://a.example:8443/rpc"}}});
  ASSERT_TRUE(result) << formatProblems(result.error());
  EXPECT_EQ(result->peering_endpoint, "ws://a.example:8443/rpc");
}

// ---------------------------------------------------------------------------------------------
// Port ranges.

TEST(ConfigPortRangeTest, ParsesPortsAndRanges) {
  auto result = loadConfigFromString(
      "node: {id: a}\ndataplane:\n  port_range: [8000, [9000, 9010], 10000, [65535, 65535]]\n",
      "inline.yaml", {});
  ASSERT_TRUE(result) << formatProblems(result.error());
  EXPECT_THAT(result->envoy_port_range,
              ElementsAre(PortRange{8000, 8000}, PortRange{9000, 9010}, PortRange{10000, 10000},
                          PortRange{65535, 65535}));
  EXPECT_EQ(expandPorts(result->envoy_port_range).size(), 14U);
}

TEST(ConfigPortRangeTest, ExpandsInOrder) {
  EXPECT_THAT(expandPorts({PortRange{9000, 9002}, PortRange{8000, 8000}}),
              ElementsAre(9000, 9001, 9002, 8000));
  EXPECT_EQ(PortRange({10000, 10099}).size(), 100U);
  EXPECT_TRUE(PortRange({10000, 10099}).contains(10099));
  EXPECT_FALSE(PortRange({10000, 10099}).contains(10100));
}

TEST(ConfigPortRangeTest, AdjacentRangesDoNotOverlap) {
  auto result = loadConfigFromString("node: {id: a}\ndataplane: {port_range: [[1, 9], [10, 20]]}",
                                     "inline.yaml", {});
  ASSERT_TRUE(result) << formatProblems(result.error());
}

TEST(ConfigPortRangeTest, EnvironmentJson) {
  auto result = loadConfig(ConfigSource{
      std::nullopt, {{"CATALYST_NODE_ID", "a"}, {"CATALYST_ENVOY_PORT_RANGE", "[[10000,10099]]"}}});
  ASSERT_TRUE(result) << formatProblems(result.error());
  EXPECT_THAT(result->envoy_port_range, ElementsAre(PortRange{10000, 10099}));
}

TEST(ConfigPortRangeTest, EnvironmentErrorsNameTheElement) {
  auto result = loadConfig(ConfigSource{
      std::nullopt, {{"CATALYST_NODE_ID", "a"}, {"CATALYST_ENVOY_PORT_RANGE", "[10, [20, 0]]"}}});
  ASSERT_FALSE(result);
  EXPECT_THAT(lines(result.error()),
              ElementsAre("env CATALYST_ENVOY_PORT_RANGE: [1][1]: must be 1-65535 (got 0)"));
}

// ---------------------------------------------------------------------------------------------
// Bounds and helpers.

TEST(ConfigLimitsTest, ManyProblemsAreCapped) {
  std::string yaml = "node: {id: a}\nroutes:\n";
  for (int i = 0; i < 150; ++i) {
    yaml += "  - name: bad name\n";
  }
  auto result = loadConfigFromString(yaml, "many.yaml", {});
  ASSERT_FALSE(result);
  ASSERT_EQ(result.error().problems.size(), 101U);
  EXPECT_EQ(result.error().problems.back().toString(), "many.yaml: 50 more problems");
}

TEST(ConfigLimitsTest, AliasesCannotMultiplyWork) {
  // A list of 1000 tags used by 300 routes: 300 000 values from 12 kB.
  std::string yaml = "node: {id: a}\nroutes:\n  - {name: r0, tags: &t [x";
  for (int i = 1; i < 1000; ++i) {
    yaml += ", x";
  }
  yaml += "]}\n";
  for (int i = 1; i < 300; ++i) {
    yaml += "  - {name: r" + std::to_string(i) + ", tags: *t}\n";
  }
  auto result = loadConfigFromString(yaml, "aliases.yaml", {});
  ASSERT_FALSE(result);
  EXPECT_THAT(lines(result.error()),
              ::testing::Contains(
                  "aliases.yaml: more than 250000 values (aliases count each time they are used)"));
}

TEST(ConfigLimitsTest, DeepBlockNestingIsRefused) {
  std::string yaml;
  for (int i = 0; i < 40; ++i) {
    yaml += "- ";
  }
  yaml += "x\n";
  auto result = loadConfigFromString(yaml, "deep.yaml", {});
  ASSERT_FALSE(result);
  EXPECT_THAT(lines(result.error()), ElementsAre("deep.yaml:1: nested deeper than 64 levels"));
}

TEST(ConfigProblemTest, Formats) {
  EXPECT_EQ((Problem{"a.yaml", 3, "peers[1].endpoint", "bad"}).toString(),
            "a.yaml:3: peers[1].endpoint: bad");
  EXPECT_EQ((Problem{"a.yaml", 2, "", "invalid YAML: x"}).toString(), "a.yaml:2: invalid YAML: x");
  EXPECT_EQ((Problem{"env PORT", 0, "", "bad"}).toString(), "env PORT: bad");
  const ConfigError error{{Problem{"a.yaml", 1, "x", "one"}, Problem{"env PORT", 0, "", "two"}}};
  EXPECT_EQ(formatProblems(error), "a.yaml:1: x: one\nenv PORT: two\n");
  EXPECT_EQ(toError(error).message, "a.yaml:1: x: one\nenv PORT: two");
  EXPECT_EQ(toError(error).kind, Error::Kind::InvalidArgument);
}

TEST(ConfigEnvTest, FromEnviron) {
  const std::array<const char*, 4> envp{"PORT=3001", "CATALYST_NODE_ID=a=b", "NOEQUALS", nullptr};
  const Env env = envFromEnviron(envp.data());
  EXPECT_EQ(env, (Env{{"PORT", "3001"}, {"CATALYST_NODE_ID", "a=b"}}));
  EXPECT_TRUE(envFromEnviron(nullptr).empty());
}

TEST(ConfigDataPlaneModeTest, RoundTrips) {
  for (auto mode : {DataPlaneMode::Embedded, DataPlaneMode::EnvoyXds, DataPlaneMode::EnvoyFiles}) {
    EXPECT_EQ(parseDataPlaneMode(toString(mode)), mode);
  }
  EXPECT_EQ(parseDataPlaneMode("envoy"), std::nullopt);
}

} // namespace
} // namespace catalyst::config
