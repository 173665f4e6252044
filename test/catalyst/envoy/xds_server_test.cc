// The ADS server against a real xDS client: gRPC's own, in libgrpc 1.51, resolving xds:///svc
// through the server (listener -> route configuration -> EDS cluster -> endpoints) and calling
// a backend. Raw ADS streams, with DiscoveryRequests built from JSON through the ApiSchema, do
// what a well-behaved client never does (stale nonces, malformed bytes).
//
// The binary has its own main(): gRPC's xDS client takes its bootstrap (which names the ADS
// server's address) from GRPC_XDS_BOOTSTRAP_CONFIG when the process's first xds: channel
// creates the process-wide XdsClient, and setenv() is not safe once gRPC's threads may read the
// environment. So main() picks the port every test's server binds, sets the variable, and only
// then lets gRPC start.
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <thread>

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include "catalyst/common/logging.h"
#include "catalyst/envoy/xds_server.h"

#include "ads_client.h"
#include "envoy_check.h"
#include "support/process.h"

namespace catalyst::envoy {
namespace {

namespace json = boost::json;
using envoy::testing::discoveryRequest;
using envoy::testing::RawAdsStream;
using envoy::testing::RequestFields;
using envoy::testing::Response;
using envoy::testing::schema;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// The port of every test's xDS server, chosen by main() (the bootstrap names it).
uint16_t g_xds_port = 0;

constexpr const char* kNode = "test-client"; // the bootstrap's node.id
constexpr const char* kNameMethod = "/catalyst.test.Backend/Name";
constexpr const char* kHealthCheckMethod = "/grpc.health.v1.Health/Check";

// One logger for the binary's servers. CATALYST_XDS_TEST_LOG=debug shows every request and
// response.
const LoggerSharedPtr& testLogger() {
  static const LoggerSharedPtr logger = [] {
    const char* level = std::getenv("CATALYST_XDS_TEST_LOG");
    Result<LogLevel> parsed = parseLogLevel(level != nullptr ? level : "info");
    return makeStderrLogger("xds-test", parsed ? *parsed : LogLevel::Info);
  }();
  return logger;
}

// Polls `done` until it holds or `timeout` passes (support/process.h).
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout = 20s) {
  return test::eventually(done, timeout);
}

// ---- Resources -------------------------------------------------------------------------------

std::string sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// A resource set whose every resource is checked against Envoy's real protos first.
ResourceSet resourceSet(std::string_view type_url, std::string version,
                        const std::vector<std::pair<std::string, std::string>>& resources) {
  ResourceSet set{std::string(type_url), std::move(version), {}};
  for (const auto& [name, json_text] : resources) {
    Status st = schema().check(type_url, json_text);
    EXPECT_TRUE(st) << name << ": " << (st ? "" : st.error().message);
    set.resources.push_back(
        std::make_shared<const Resource>(Resource{name, json_text, sha256(json_text)}));
  }
  return set;
}

std::string listenerJson(const std::string& name, const std::string& route_config) {
  return R"({"name":")" + name + R"(","api_listener":{"api_listener":{)" +
         R"("@type":"type.googleapis.com/envoy.extensions.filters.network.)" +
         R"(http_connection_manager.v3.HttpConnectionManager",)" +
         R"("rds":{"config_source":{"ads":{},"resource_api_version":"V3"},)" +
         R"("route_config_name":")" + route_config + R"("},)" +
         R"("http_filters":[{"name":"router","typed_config":)" +
         R"({"@type":"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}})";
}

std::string routeConfigJson(const std::string& name, const std::string& cluster) {
  return R"({"name":")" + name +
         R"(","virtual_hosts":[{"name":"svc","domains":["*"],"routes":[{"match":{"prefix":""},)" +
         R"("route":{"cluster":")" + cluster + R"("}}]}]})";
}

std::string edsClusterJson(const std::string& name) {
  return R"({"name":")" + name + R"(","type":"EDS","lb_policy":"ROUND_ROBIN",)" +
         R"("eds_cluster_config":{"eds_config":{"ads":{},"resource_api_version":"V3"}}})";
}

std::string endpointsJson(const std::string& cluster, uint16_t port) {
  return R"({"cluster_name":")" + cluster +
         R"(","endpoints":[{"locality":{"region":"local"},"load_balancing_weight":1,)" +
         R"("lb_endpoints":[{"endpoint":{"address":{"socket_address":)" +
         R"({"address":"127.0.0.1","port_value":)" + std::to_string(port) + "}}}}]}]}";
}

// A STATIC cluster: valid for Envoy (and the schema), refused by gRPC's xDS client.
std::string staticClusterJson(const std::string& name, uint16_t port) {
  return R"({"name":")" + name + R"(","type":"STATIC","connect_timeout":"1s",)" +
         R"("load_assignment":)" + endpointsJson(name, port) + "}";
}

struct Versions {
  std::string clusters = "c1";
  std::string endpoints = "e1";
  std::string listeners = "l1";
  std::string routes = "r1";
};

// What gRPC's proxyless client needs for xds:///svc, in make-before-break order (clusters,
// endpoints, listeners, routes): listener svc -> route configuration svc-route -> EDS cluster
// backend -> the endpoint 127.0.0.1:<port>.
XdsSnapshot proxyless(uint16_t backend_port, const Versions& v) {
  XdsSnapshot s;
  s.sets.push_back(
      resourceSet(kClusterTypeUrl, v.clusters, {{"backend", edsClusterJson("backend")}}));
  s.sets.push_back(resourceSet(kClusterLoadAssignmentTypeUrl, v.endpoints,
                               {{"backend", endpointsJson("backend", backend_port)}}));
  s.sets.push_back(
      resourceSet(kListenerTypeUrl, v.listeners, {{"svc", listenerJson("svc", "svc-route")}}));
  s.sets.push_back(resourceSet(kRouteConfigurationTypeUrl, v.routes,
                               {{"svc-route", routeConfigJson("svc-route", "backend")}}));
  return s;
}

// ---- Stats -----------------------------------------------------------------------------------

const XdsStreamStatus* streamOf(const XdsStats& stats, const std::string& node) {
  for (const XdsStreamStatus& s : stats.streams) {
    if (s.node_id == node) {
      return &s;
    }
  }
  return nullptr;
}

std::optional<XdsTypeStatus> typeStatus(const XdsServer& server, const std::string& node,
                                        std::string_view type_url) {
  const XdsStats stats = server.stats();
  if (const XdsStreamStatus* s = streamOf(stats, node)) {
    for (const XdsTypeStatus& t : s->types) {
      if (t.type_url == type_url) {
        return t;
      }
    }
  }
  return std::nullopt;
}

// True when `node` was sent and ACKed exactly these versions.
bool ackedAll(const XdsServer& server, const std::string& node, const Versions& v) {
  const std::map<std::string_view, std::string> want = {
      {kClusterTypeUrl, v.clusters},
      {kClusterLoadAssignmentTypeUrl, v.endpoints},
      {kListenerTypeUrl, v.listeners},
      {kRouteConfigurationTypeUrl, v.routes}};
  for (const auto& [type_url, version] : want) {
    std::optional<XdsTypeStatus> t = typeStatus(server, node, type_url);
    if (!t || t->sent_version != version || t->acked_version != version) {
      return false;
    }
  }
  return true;
}

std::string describe(const XdsStats& stats) {
  std::string out = fmt::format("streams_total={} acks={} nacks={} bad_requests={}\n",
                                stats.streams_total, stats.acks, stats.nacks, stats.bad_requests);
  for (const XdsStreamStatus& s : stats.streams) {
    out += fmt::format("  stream {} node {}\n", s.id, s.node_id);
    for (const XdsTypeStatus& t : s.types) {
      out += fmt::format("    {} sent {} nonce {} acked {} acks {} nacks {} nack {}/{}: {}\n",
                         t.type_url, t.sent_version, t.sent_nonce, t.acked_version, t.acks, t.nacks,
                         t.nack_version.value_or("-"), t.nack_nonce.value_or("-"),
                         t.nack_message.value_or("-"));
    }
  }
  return out;
}

// ---- Backends and client calls ---------------------------------------------------------------

// A gRPC server on 127.0.0.1 answering kNameMethod with its name (and, through gRPC's default
// health service, grpc.health.v1.Health/Check): which backend a call reached, without
// generated code.
class Backend {
public:
  explicit Backend(std::string name) : service_(std::move(name)) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    EXPECT_TRUE(server_ != nullptr && port > 0);
    port_ = static_cast<uint16_t>(port);
  }
  ~Backend() { server_->Shutdown(std::chrono::system_clock::now()); }
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  uint16_t port() const { return port_; }

private:
  class NameReactor final : public grpc::ServerGenericBidiReactor {
  public:
    explicit NameReactor(const std::string& name) : name_(name) { StartRead(&request_); }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        return;
      }
      grpc::Slice slice(name_);
      response_ = grpc::ByteBuffer(&slice, 1);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

  private:
    const std::string& name_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
  };

  class Service final : public grpc::CallbackGenericService {
  public:
    explicit Service(std::string name) : name_(std::move(name)) {}
    grpc::ServerGenericBidiReactor*
    CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
      if (ctx->method() != kNameMethod) {
        return grpc::CallbackGenericService::CreateReactor(ctx);
      }
      return new NameReactor(name_); // deletes itself in OnDone
    }

  private:
    const std::string name_;
  };

  Service service_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
};

struct CallResult {
  grpc::Status status;
  std::string body;
};

// A unary call with an empty request (zero bytes: an empty HealthCheckRequest, say).
CallResult unaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     std::chrono::milliseconds timeout = 1000ms) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status st) { done.set_value(std::move(st)); });
  CallResult result{done.get_future().get(), ""};
  if (result.status.ok()) {
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    for (const grpc::Slice& s : slices) {
      result.body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return result;
}

// The backend a call through `channel` reached, or the error.
std::string whoAnswers(const std::shared_ptr<grpc::Channel>& channel) {
  CallResult r = unaryCall(channel, kNameMethod);
  if (!r.status.ok()) {
    return fmt::format("error {}: {}", static_cast<int>(r.status.error_code()),
                       r.status.error_message());
  }
  return r.body;
}

std::shared_ptr<grpc::Channel> xdsChannel() {
  return grpc::CreateChannel("xds:///svc", grpc::InsecureChannelCredentials());
}

// ---- Tests -----------------------------------------------------------------------------------

class XdsServerTest : public ::testing::Test {
protected:
  void SetUp() override { server_ = startServer(); }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  static std::unique_ptr<XdsServer> startServer() {
    auto server = std::make_unique<XdsServer>(schema(), XdsServerOptions{"127.0.0.1", g_xds_port},
                                              *testLogger());
    Status st = server->start();
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
    return server;
  }

  // Waits until the client ACKed exactly `v` and calls through `channel` reach `backend`.
  void connect(const std::shared_ptr<grpc::Channel>& channel, const Versions& v,
               const std::string& backend) {
    channel->GetState(/*try_to_connect=*/true); // an idle channel does not resolve
    ASSERT_TRUE(eventually([&] { return ackedAll(*server_, kNode, v); }))
        << describe(server_->stats());
    std::string last;
    ASSERT_TRUE(eventually([&] { return (last = whoAnswers(channel)) == backend; })) << last;
  }

  Backend backend1_{"backend-1"};
  Backend backend2_{"backend-2"};
  std::unique_ptr<XdsServer> server_;
};

// 1. The first push is ACKed, type by type, and a call through xds:///svc reaches backend 1.
TEST_F(XdsServerTest, FirstPushIsAckedAndCallsReachTheBackend) {
  const Versions v;
  ASSERT_TRUE(server_->setSnapshot(kNode, proxyless(backend1_.port(), v)));
  auto channel = xdsChannel();
  connect(channel, v, "backend-1");

  const XdsStats stats = server_->stats();
  const XdsStreamStatus* stream = streamOf(stats, kNode);
  ASSERT_NE(stream, nullptr) << describe(stats);
  // gRPC subscribes as it resolves: listener, then its route configuration, cluster, endpoints.
  std::vector<std::string> order;
  for (const XdsTypeStatus& t : stream->types) {
    order.push_back(t.type_url);
    EXPECT_EQ(t.acks, 1U) << t.type_url;
    EXPECT_EQ(t.nacks, 0U) << t.type_url;
    EXPECT_FALSE(t.sent_nonce.empty());
    EXPECT_FALSE(t.nack_version);
  }
  EXPECT_THAT(order, ::testing::ElementsAre(kListenerTypeUrl, kRouteConfigurationTypeUrl,
                                            kClusterTypeUrl, kClusterLoadAssignmentTypeUrl));
  EXPECT_EQ(stats.acks, 4U);
  EXPECT_EQ(stats.nacks, 0U);
  EXPECT_EQ(stats.streams_total, 1U);

  // A real service behind the same route: gRPC's health service, with an empty request.
  CallResult health = unaryCall(channel, kHealthCheckMethod);
  EXPECT_TRUE(health.status.ok()) << health.status.error_message();
}

// 2. A changed snapshot (the endpoint moves to backend 2) is pushed as a new version of the
// endpoints only, ACKed, and calls follow.
TEST_F(XdsServerTest, ChangedSnapshotIsPushedAckedAndFollowed) {
  Versions v;
  ASSERT_TRUE(server_->setSnapshot(kNode, proxyless(backend1_.port(), v)));
  auto channel = xdsChannel();
  connect(channel, v, "backend-1");
  const std::optional<XdsTypeStatus> clusters_before = typeStatus(*server_, kNode, kClusterTypeUrl);
  ASSERT_TRUE(clusters_before);

  v.endpoints = "e2";
  ASSERT_TRUE(server_->setSnapshot(kNode, proxyless(backend2_.port(), v)));
  connect(channel, v, "backend-2");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(whoAnswers(channel), "backend-2");
  }
  // Only the endpoints changed, so only they were sent again.
  const std::optional<XdsTypeStatus> clusters_after = typeStatus(*server_, kNode, kClusterTypeUrl);
  ASSERT_TRUE(clusters_after);
  EXPECT_EQ(clusters_after->sent_nonce, clusters_before->sent_nonce);
  EXPECT_EQ(typeStatus(*server_, kNode, kClusterLoadAssignmentTypeUrl)->acks, 2U);
  EXPECT_EQ(server_->stats().acks, 5U);
}

// 3. A cluster gRPC must refuse (STATIC) is NACKed: recorded and counted, the ACKed version
// stays, calls keep reaching the old backend, and the refused version is not sent again.
TEST_F(XdsServerTest, InvalidClusterIsNackedAndTheOldConfigStays) {
  Versions v;
  ASSERT_TRUE(server_->setSnapshot(kNode, proxyless(backend1_.port(), v)));
  auto channel = xdsChannel();
  connect(channel, v, "backend-1");

  XdsSnapshot bad = proxyless(backend1_.port(), v);
  bad.sets[0] =
      resourceSet(kClusterTypeUrl, "c-bad", {{"backend", staticClusterJson("backend", 1)}});
  const XdsSnapshot bad_again = bad;
  ASSERT_TRUE(server_->setSnapshot(kNode, std::move(bad)));

  ASSERT_TRUE(eventually([&] {
    std::optional<XdsTypeStatus> t = typeStatus(*server_, kNode, kClusterTypeUrl);
    return t && t->nacks == 1;
  })) << describe(server_->stats());
  const XdsTypeStatus clusters = *typeStatus(*server_, kNode, kClusterTypeUrl);
  EXPECT_EQ(clusters.sent_version, "c-bad");
  EXPECT_EQ(clusters.nack_version, "c-bad");
  EXPECT_EQ(clusters.nack_nonce, clusters.sent_nonce);
  ASSERT_TRUE(clusters.nack_message);
  EXPECT_FALSE(clusters.nack_message->empty());
  EXPECT_EQ(clusters.acked_version, "c1");
  EXPECT_EQ(clusters.acks, 1U);
  EXPECT_EQ(server_->stats().nacks, 1U);
  std::cerr << "gRPC's NACK: " << *clusters.nack_message << "\n";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(whoAnswers(channel), "backend-1");
  }

  // The same versions again: nothing is sent (a resend would be NACKed a second time).
  ASSERT_TRUE(server_->setSnapshot(kNode, bad_again));
  EXPECT_EQ(typeStatus(*server_, kNode, kClusterTypeUrl)->sent_nonce, clusters.sent_nonce);

  // A good cluster again, with the endpoint moved: ACKed, followed; still one NACK.
  v.clusters = "c2";
  v.endpoints = "e2";
  ASSERT_TRUE(server_->setSnapshot(kNode, proxyless(backend2_.port(), v)));
  connect(channel, v, "backend-2");
  const XdsTypeStatus after = *typeStatus(*server_, kNode, kClusterTypeUrl);
  EXPECT_EQ(after.nacks, 1U);
  EXPECT_EQ(after.nack_version, "c-bad"); // the last NACK stays on record
  EXPECT_EQ(server_->stats().nacks, 1U);
}

// 4. The server goes away and comes back on the same port with a new snapshot: the client
// keeps its last config meanwhile, redials, and gets the current snapshot.
TEST_F(XdsServerTest, ReconnectingClientGetsTheCurrentSnapshot) {
  const Versions v1;
  ASSERT_TRUE(server_->setSnapshot(kNode, proxyless(backend1_.port(), v1)));
  auto channel = xdsChannel();
  connect(channel, v1, "backend-1");
  RawAdsStream raw(g_xds_port);
  ASSERT_TRUE(raw.send(
      discoveryRequest({.type_url = std::string(kClusterTypeUrl), .node_id = "raw-client"})));
  ASSERT_TRUE(eventually([&] { return streamOf(server_->stats(), "raw-client") != nullptr; }));

  server_->stop();
  // Streams end with UNAVAILABLE.
  EXPECT_FALSE(raw.read());
  EXPECT_TRUE(raw.closed());
  EXPECT_EQ(raw.finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(whoAnswers(channel), "backend-1"); // the client keeps what it had

  server_ = startServer();
  Versions v2;
  v2.endpoints = "e2";
  ASSERT_TRUE(server_->setSnapshot(kNode, proxyless(backend2_.port(), v2)));
  connect(channel, v2, "backend-2");
  EXPECT_EQ(server_->stats().streams_total, 1U);
}

// 5a. Requests answering an older response (stale nonce) are ignored, ACK or NACK.
TEST_F(XdsServerTest, StaleNonceIsIgnored) {
  // The default snapshot ("") serves nodes without one of their own.
  Versions v;
  ASSERT_TRUE(server_->setSnapshot("", proxyless(backend1_.port(), v)));
  RawAdsStream raw(g_xds_port);
  const std::string cds(kClusterTypeUrl);
  ASSERT_TRUE(raw.send(discoveryRequest({.type_url = cds, .node_id = "raw-client"})));
  std::optional<Response> r1 = raw.readResponse();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->type_url, cds);
  EXPECT_EQ(r1->version_info, "c1");
  EXPECT_THAT(r1->names, ::testing::ElementsAre("backend"));
  ASSERT_TRUE(raw.send(
      discoveryRequest({.type_url = cds, .version_info = "c1", .response_nonce = r1->nonce})));
  ASSERT_TRUE(eventually([&] {
    std::optional<XdsTypeStatus> t = typeStatus(*server_, "raw-client", cds);
    return t && t->acked_version == "c1";
  }));

  v.clusters = "c2";
  ASSERT_TRUE(server_->setSnapshot("", proxyless(backend2_.port(), v)));
  std::optional<Response> r2 = raw.readResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->type_url, cds); // the only type this stream subscribed to
  EXPECT_EQ(r2->version_info, "c2");
  EXPECT_NE(r2->nonce, r1->nonce);

  // An ACK and a NACK of the first response, then the real ACK. Requests on one stream are
  // handled in order, so once the real ACK shows, the two before it were seen and ignored.
  ASSERT_TRUE(raw.send(
      discoveryRequest({.type_url = cds, .version_info = "c1", .response_nonce = r1->nonce})));
  ASSERT_TRUE(raw.send(discoveryRequest(
      {.type_url = cds, .version_info = "c1", .response_nonce = r1->nonce, .error = "stale"})));
  ASSERT_TRUE(raw.send(
      discoveryRequest({.type_url = cds, .version_info = "c2", .response_nonce = r2->nonce})));
  ASSERT_TRUE(eventually([&] {
    std::optional<XdsTypeStatus> t = typeStatus(*server_, "raw-client", cds);
    return t && t->acked_version == "c2";
  }));
  const XdsTypeStatus t = *typeStatus(*server_, "raw-client", cds);
  EXPECT_EQ(t.acks, 2U);
  EXPECT_EQ(t.nacks, 0U);
  EXPECT_FALSE(t.nack_version);
  EXPECT_EQ(t.sent_nonce, r2->nonce); // nothing sent in answer to the stale requests
  EXPECT_EQ(server_->stats().acks, 2U);
  EXPECT_EQ(server_->stats().nacks, 0U);
}

// 5b. When clusters and listeners change together, clusters go first (the snapshot's order),
// whatever order the client subscribed in.
TEST_F(XdsServerTest, ClustersArePushedBeforeListeners) {
  Versions v;
  ASSERT_TRUE(server_->setSnapshot("raw-client", proxyless(backend1_.port(), v)));
  RawAdsStream raw(g_xds_port);
  const std::string lds(kListenerTypeUrl);
  const std::string cds(kClusterTypeUrl);
  ASSERT_TRUE(raw.send(
      discoveryRequest({.type_url = lds, .resource_names = {"svc"}, .node_id = "raw-client"})));
  std::optional<Response> l1 = raw.readResponse();
  ASSERT_TRUE(l1);
  EXPECT_EQ(l1->type_url, lds);
  ASSERT_TRUE(raw.send(discoveryRequest({.type_url = cds})));
  std::optional<Response> c1 = raw.readResponse();
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->type_url, cds);
  EXPECT_NE(c1->nonce, l1->nonce);
  ASSERT_TRUE(raw.send(discoveryRequest({.type_url = lds,
                                         .version_info = "l1",
                                         .response_nonce = l1->nonce,
                                         .resource_names = {"svc"}})));
  ASSERT_TRUE(raw.send(
      discoveryRequest({.type_url = cds, .version_info = "c1", .response_nonce = c1->nonce})));
  ASSERT_TRUE(eventually([&] { return server_->stats().acks == 2; }));

  v.clusters = "c2";
  v.listeners = "l2";
  ASSERT_TRUE(server_->setSnapshot("raw-client", proxyless(backend1_.port(), v)));
  std::optional<Response> first = raw.readResponse();
  std::optional<Response> second = raw.readResponse();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->type_url, cds);
  EXPECT_EQ(first->version_info, "c2");
  EXPECT_EQ(second->type_url, lds);
  EXPECT_EQ(second->version_info, "l2");
}

// Listeners and clusters are served whole; endpoints and routes only as named.
TEST_F(XdsServerTest, NamedTypesGetOnlyTheNamedResources) {
  XdsSnapshot s = proxyless(backend1_.port(), Versions{});
  s.sets[1] = resourceSet(kClusterLoadAssignmentTypeUrl, "e1",
                          {{"backend", endpointsJson("backend", backend1_.port())},
                           {"other", endpointsJson("other", backend2_.port())}});
  s.sets[2] = resourceSet(kListenerTypeUrl, "l1",
                          {{"other-svc", listenerJson("other-svc", "svc-route")},
                           {"svc", listenerJson("svc", "svc-route")}});
  ASSERT_TRUE(server_->setSnapshot("raw-client", std::move(s)));
  RawAdsStream raw(g_xds_port);
  const std::string eds(kClusterLoadAssignmentTypeUrl);
  ASSERT_TRUE(raw.send(
      discoveryRequest({.type_url = eds, .resource_names = {"backend"}, .node_id = "raw-client"})));
  std::optional<Response> e = raw.readResponse();
  ASSERT_TRUE(e);
  EXPECT_THAT(e->names, ::testing::ElementsAre("backend"));

  // New names with the current nonce: answered at once, same version.
  ASSERT_TRUE(raw.send(discoveryRequest({.type_url = eds,
                                         .version_info = "e1",
                                         .response_nonce = e->nonce,
                                         .resource_names = {"backend", "other"}})));
  std::optional<Response> e2 = raw.readResponse();
  ASSERT_TRUE(e2);
  EXPECT_EQ(e2->version_info, "e1");
  EXPECT_THAT(e2->names, ::testing::ElementsAre("backend", "other"));

  ASSERT_TRUE(raw.send(
      discoveryRequest({.type_url = std::string(kListenerTypeUrl), .resource_names = {"svc"}})));
  std::optional<Response> l = raw.readResponse();
  ASSERT_TRUE(l);
  EXPECT_THAT(l->names, ::testing::ElementsAre("other-svc", "svc"));
}

// 5c. Bytes that are no DiscoveryRequest end that stream with INVALID_ARGUMENT and count as a
// bad request; the real client's stream goes on undisturbed.
TEST_F(XdsServerTest, MalformedRequestEndsOnlyItsStream) {
  Versions v;
  ASSERT_TRUE(server_->setSnapshot(kNode, proxyless(backend1_.port(), v)));
  auto channel = xdsChannel();
  connect(channel, v, "backend-1");
  const uint64_t client_stream = streamOf(server_->stats(), kNode)->id;

  {
    RawAdsStream raw(g_xds_port);
    // Field 1 (version_info) claims 5 bytes; 2 follow.
    ASSERT_TRUE(raw.send(std::string("\x0a\x05"
                                     "ab",
                                     4)));
    EXPECT_FALSE(raw.read());
    EXPECT_TRUE(raw.closed());
    const grpc::Status status = raw.finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("malformed"));
  }
  {
    RawAdsStream raw(g_xds_port); // a DiscoveryRequest without type_url
    ASSERT_TRUE(raw.send(discoveryRequest({.node_id = "raw-client"})));
    EXPECT_FALSE(raw.read());
    EXPECT_EQ(raw.finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    RawAdsStream raw(g_xds_port);  // more resource types than Envoy has
    for (int i = 0; i < 40; ++i) { // none answered: the snapshot has no such type
      if (!raw.send(discoveryRequest({.type_url = fmt::format("type.googleapis.com/x.T{}", i),
                                      .node_id = i == 0 ? "raw-client" : ""}))) {
        break; // the server ended the stream
      }
    }
    EXPECT_FALSE(raw.read());
    EXPECT_TRUE(raw.closed());
    EXPECT_EQ(raw.finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_EQ(server_->stats().bad_requests, 3U);
  EXPECT_EQ(unaryCall(grpc::CreateChannel(fmt::format("127.0.0.1:{}", g_xds_port),
                                          grpc::InsecureChannelCredentials()),
                      "/no.such.Service/Method")
                .status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  // The real client's stream is the same one and still works.
  v.endpoints = "e2";
  ASSERT_TRUE(server_->setSnapshot(kNode, proxyless(backend2_.port(), v)));
  connect(channel, v, "backend-2");
  const XdsStats stats = server_->stats();
  ASSERT_NE(streamOf(stats, kNode), nullptr);
  EXPECT_EQ(streamOf(stats, kNode)->id, client_stream);
  EXPECT_EQ(stats.bad_requests, 3U);
}

// A client that does not read stalls its stream's write (HTTP/2 flow control); setSnapshot()
// does not wait for it, and the versions that arrive meanwhile are coalesced: once the client
// reads, it gets the stalled response and then the newest version only.
TEST_F(XdsServerTest, SlowStreamGetsOnlyTheNewestVersion) {
  // ~1 MB of clusters: far beyond the client's flow-control window while it does not read.
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 2000; ++i) {
    const std::string name = fmt::format("cluster-{:04}-{}", i, std::string(400, 'x'));
    many.emplace_back(name, edsClusterJson(name));
  }
  auto snapshot = [&](const std::string& version) {
    XdsSnapshot s;
    s.sets.push_back(resourceSet(kClusterTypeUrl, version, many));
    return s;
  };
  ASSERT_TRUE(server_->setSnapshot("raw-client", snapshot("v1")));
  RawAdsStream raw(g_xds_port, /*small_window=*/true);
  const std::string cds(kClusterTypeUrl);
  ASSERT_TRUE(raw.send(discoveryRequest({.type_url = cds, .node_id = "raw-client"})));
  ASSERT_TRUE(eventually([&] {
    std::optional<XdsTypeStatus> t = typeStatus(*server_, "raw-client", cds);
    return t && t->sent_version == "v1";
  }));

  for (const char* version : {"v2", "v3", "v4"}) {
    ASSERT_TRUE(server_->setSnapshot("raw-client", snapshot(version)));
    // v1's write is still outstanding: nothing newer has started.
    EXPECT_EQ(typeStatus(*server_, "raw-client", cds)->sent_version, "v1");
  }
  std::optional<Response> first = raw.readResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->version_info, "v1");
  EXPECT_EQ(first->names.size(), many.size());
  std::optional<Response> second = raw.readResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->version_info, "v4");
  const XdsTypeStatus t = *typeStatus(*server_, "raw-client", cds);
  EXPECT_EQ(t.sent_version, "v4");
  EXPECT_EQ(t.sent_nonce, second->nonce); // v2 and v3 were never sent
}

// Each resource is converted once while a snapshot holds it; a resource that does not convert
// fails setSnapshot and leaves the served snapshot as it was.
TEST_F(XdsServerTest, ResourcesAreEncodedOnceAndBadOnesAreRefused) {
  Versions v;
  ASSERT_TRUE(server_->setSnapshot("raw-client", proxyless(backend1_.port(), v)));
  EXPECT_EQ(server_->stats().encodings, 4U);
  v.endpoints = "e2";
  ASSERT_TRUE(server_->setSnapshot("raw-client", proxyless(backend2_.port(), v)));
  EXPECT_EQ(server_->stats().encodings, 5U); // only the moved endpoint

  XdsSnapshot bad = proxyless(backend1_.port(), Versions{.clusters = "c9"});
  auto typo = std::make_shared<Resource>(*bad.sets[0].resources[0]);
  typo->json = R"({"name":"backend","typo":1})";
  typo->digest = sha256(typo->json); // the cache trusts digests
  bad.sets[0].resources[0] = typo;
  Status st = server_->setSnapshot("raw-client", std::move(bad));
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message, HasSubstr("typo"));
  XdsSnapshot twice = proxyless(backend1_.port(), v);
  twice.sets.push_back(twice.sets[0]);
  EXPECT_FALSE(server_->setSnapshot("raw-client", std::move(twice)));

  RawAdsStream raw(g_xds_port);
  ASSERT_TRUE(raw.send(discoveryRequest(
      {.type_url = std::string(kClusterLoadAssignmentTypeUrl), .node_id = "raw-client"})));
  std::optional<Response> e = raw.readResponse();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->version_info, "e2");
}

TEST_F(XdsServerTest, BindFailureNamesTheAddress) {
  XdsServer second(schema(), XdsServerOptions{"127.0.0.1", g_xds_port}, *testLogger());
  Status st = second.start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, Error::Kind::Unavailable);
  EXPECT_THAT(st.error().message, HasSubstr(fmt::format("127.0.0.1:{}", g_xds_port)));
  Status again = second.start(); // may be tried again
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, Error::Kind::Unavailable);
  EXPECT_FALSE(server_->start()); // started already
  server_->stop();
  EXPECT_FALSE(server_->start()); // stopped
}

// A free port on 127.0.0.1 for the tests' xDS server (the bootstrap must name it before gRPC
// starts). Another process could take it before the server binds; the first test would fail.
uint16_t reservePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("reservePort");
    std::abort();
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

} // namespace
} // namespace catalyst::envoy

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  using catalyst::envoy::g_xds_port;
  g_xds_port = catalyst::envoy::reservePort();
  const std::string bootstrap = fmt::format(
      R"({{"xds_servers":[{{"server_uri":"127.0.0.1:{}","channel_creds":[{{"type":"insecure"}}],)"
      R"("server_features":["xds_v3"]}}],"node":{{"id":"{}"}}}})",
      g_xds_port, catalyst::envoy::kNode);
  ::setenv("GRPC_XDS_BOOTSTRAP_CONFIG", bootstrap.c_str(), 1);
  // Backends answer grpc.health.v1.Health/Check (a process-wide switch, read at server build).
  grpc::EnableDefaultHealthCheckService(true);
  return RUN_ALL_TESTS();
}
