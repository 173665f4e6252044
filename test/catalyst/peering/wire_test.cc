// The peering wire records as Cap'n Web values: round trips, the frames captured between two
// reference nodes (peering.md §7), and every refusal with its exact message.

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "catalyst/peering/wire.h"
#include "catalyst/rpc/plain_json.h"
#include "catalyst/rpc/session.h"
#include "catalyst/rpc/target.h"
#include "catalyst/rpc/transport.h"

namespace catalyst::peering {
namespace {

using rpc::Array;
using rpc::Object;
using rpc::Undefined;
using rpc::Value;
using state::UpdateItem;

// ---- builders ----

state::Route fullRoute() {
  state::Route r;
  r.name = "books-api";
  r.endpoint = "http://127.0.0.1:8081/graphql";
  r.protocol = state::Protocol::HttpGraphql;
  r.region = "us-east";
  r.tags = {"v1", "beta"};
  r.envoy_port = 10001;
  r.envoy_address = "10.0.0.2";
  r.health_status = state::HealthStatus::Down;
  r.response_time_ms = 12.5;
  r.last_checked = "2025-01-02T03:04:05.000Z";
  return r;
}

// fullRoute() as the wire spells it, members in the order toValue writes them.
Value fullRouteValue() {
  return rpc::object({
      {"name", "books-api"},
      {"endpoint", "http://127.0.0.1:8081/graphql"},
      {"protocol", "http:graphql"},
      {"region", "us-east"},
      {"tags", Array{"v1", "beta"}},
      {"envoyPort", 10001},
      {"envoyAddress", "10.0.0.2"},
      {"healthStatus", "down"},
      {"responseTimeMs", 12.5},
      {"lastChecked", "2025-01-02T03:04:05.000Z"},
  });
}

Value minimalRouteValue() { return rpc::object({{"name", "books-api"}, {"protocol", "http"}}); }

Value itemValue(Value route = minimalRouteValue()) {
  return rpc::object({{"action", "add"},
                      {"route", std::move(route)},
                      {"nodePath", Array{"node-a"}},
                      {"originNode", "node-a"}});
}

state::PeerInfo fullPeer() {
  state::PeerInfo p;
  p.name = "node-b.example.local";
  p.domains = {"example.local", "other.local"};
  p.endpoint = "ws://127.0.0.1:3001/rpc";
  p.labels = {{"env", "prod"}, {"zone", "a"}};
  p.peer_token = "eyJhbGciOiJFUzM4NCJ9.e30.sig";
  p.envoy_address = "10.0.0.3";
  return p;
}

Value peerValue() { return rpc::object({{"name", "node-b"}, {"domains", Array{"example.local"}}}); }

// `base` with member `key` set to `value` (appended when new).
Value with(Value base, std::string_view key, Value value) {
  base.set(key, std::move(value));
  return base;
}

// `base` without member `key`.
Value without(Value base, std::string_view key) {
  Object& o = *base.as<Object>();
  std::erase_if(o, [&](const rpc::Member& m) { return m.key == key; });
  return base;
}

Array repeated(std::size_t n, const Value& v) { return Array(n, v); }

Value batch(Array items) { return rpc::object({{"updates", std::move(items)}}); }

// The error message of a refused decode; a failure of the test when it was accepted.
template <class T> std::string refusal(const Result<T>& r) {
  if (r) {
    ADD_FAILURE() << "accepted";
    return "(accepted)";
  }
  EXPECT_EQ(r.error().kind, Error::Kind::InvalidArgument);
  return r.error().message;
}

bool hasMember(const Value& v, std::string_view key) { return v.find(key) != nullptr; }

// True when no member anywhere in `v` is undefined (absent fields are left out, not written).
bool noUndefined(const Value& v) {
  if (v.isUndefined()) {
    return false;
  }
  if (const auto* o = v.as<Object>()) {
    for (const rpc::Member& m : *o) {
      if (!noUndefined(m.value)) {
        return false;
      }
    }
  }
  if (const auto* a = v.as<Array>()) {
    for (const Value& e : *a) {
      if (!noUndefined(e)) {
        return false;
      }
    }
  }
  return true;
}

// ---- writing and round trips ----

TEST(WireRouteTest, WritesEveryFieldWithTheWireNames) {
  EXPECT_EQ(toValue(fullRoute()), fullRouteValue());
  EXPECT_TRUE(toValue(fullRoute()).find("envoyPort")->is<double>());
}

TEST(WireRouteTest, EveryFieldRoundTrips) {
  auto back = routeFromValue(toValue(fullRoute()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, fullRoute());
}

TEST(WireRouteTest, EachProtocolAndHealthRoundTrips) {
  for (auto p : {state::Protocol::Http, state::Protocol::HttpGraphql, state::Protocol::HttpGql,
                 state::Protocol::HttpGrpc, state::Protocol::Tcp, state::Protocol::Udp}) {
    for (auto h : {state::HealthStatus::Up, state::HealthStatus::Down}) {
      state::Route r = fullRoute();
      r.protocol = p;
      r.health_status = h;
      auto back = routeFromValue(toValue(r));
      ASSERT_TRUE(back) << back.error().message;
      EXPECT_EQ(*back, r);
    }
  }
}

TEST(WireRouteTest, AbsentOptionalsAreLeftOut) {
  state::Route r;
  r.name = "books-api";
  const Value v = toValue(r);
  EXPECT_EQ(v, minimalRouteValue());
  EXPECT_TRUE(noUndefined(v));
  auto back = routeFromValue(v);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
}

TEST(WireRouteTest, UndefinedMembersCountAsAbsent) {
  Value v = minimalRouteValue();
  for (const char* key : {"endpoint", "region", "tags", "envoyPort", "envoyAddress", "healthStatus",
                          "responseTimeMs", "lastChecked"}) {
    v.set(key, Undefined{});
  }
  auto r = routeFromValue(v);
  ASSERT_TRUE(r) << r.error().message;
  state::Route want;
  want.name = "books-api";
  EXPECT_EQ(*r, want);
}

TEST(WireRouteTest, NullResponseTimeIsAbsent) {
  auto r = routeFromValue(with(minimalRouteValue(), "responseTimeMs", nullptr));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->response_time_ms, std::nullopt);
}

TEST(WireRouteTest, UnknownMembersAreIgnored) {
  Value v = with(fullRouteValue(), "weight", 7);
  v.set("metadata", rpc::object({{"x", Array{1, 2}}}));
  auto r = routeFromValue(v);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, fullRoute());
}

TEST(WireRouteTest, PortBoundsAccepted) {
  auto r = routeFromValue(with(minimalRouteValue(), "envoyPort", 65535));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->envoy_port, 65535);
}

TEST(WireUpdateItemTest, AddRoundTrips) {
  const UpdateItem item{UpdateItem::Action::Add, fullRoute(), {"node-b", "node-a"}, "node-a"};
  const Value v = toValue(item);
  EXPECT_EQ(v, rpc::object({{"action", "add"},
                            {"route", fullRouteValue()},
                            {"nodePath", Array{"node-b", "node-a"}},
                            {"originNode", "node-a"}}));
  auto back = updateItemFromValue(v);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, item);
}

TEST(WireUpdateItemTest, RemoveRoundTrips) {
  state::Route r;
  r.name = "books-api";
  const UpdateItem item{UpdateItem::Action::Remove, r, {"node-a"}, "node-a"};
  const Value v = toValue(item);
  EXPECT_EQ(*v.find("action"), Value("remove"));
  // The reference requires `protocol` even on a remove: ours always carries one.
  EXPECT_EQ(*v.find("route"), minimalRouteValue());
  auto back = updateItemFromValue(v);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, item);
}

TEST(WireUpdateItemTest, RemoveNeedsOnlyTheRouteName) {
  Value v = itemValue(rpc::object({{"name", "books-api"}}));
  v.set("action", "remove");
  auto item = updateItemFromValue(v);
  ASSERT_TRUE(item) << item.error().message;
  EXPECT_EQ(item->action, UpdateItem::Action::Remove);
  EXPECT_EQ(item->route.name, "books-api");
  EXPECT_EQ(item->node_path, std::vector<std::string>{"node-a"});
  EXPECT_EQ(item->origin_node, "node-a");
}

TEST(WireUpdateItemTest, RemoveWithTheFullRecordIsCheckedToo) {
  Value v = itemValue(with(fullRouteValue(), "envoyPort", "x"));
  v.set("action", "remove");
  EXPECT_EQ(refusal(updateItemFromValue(v)), "item.route.envoyPort: expected a number");
}

TEST(WireUpdateItemTest, BatchRoundTrips) {
  const std::vector<UpdateItem> items{
      {UpdateItem::Action::Add, fullRoute(), {"node-b", "node-a"}, "node-a"},
      {UpdateItem::Action::Remove, fullRoute(), {"node-b", "node-c"}, "node-c"},
  };
  const Value v = updateBatchValue(items);
  ASSERT_TRUE(v.find("updates") != nullptr);
  EXPECT_EQ(v.find("updates")->as<Array>()->size(), 2u);
  auto back = updateBatchFromValue(v, 1000);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, items);
}

TEST(WireUpdateItemTest, EmptyBatch) {
  auto back = updateBatchFromValue(batch({}), 1000);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->empty());
}

TEST(WirePeerInfoTest, WithTokenEveryFieldRoundTrips) {
  const Value v = toValue(fullPeer(), TokenVisibility::Include);
  EXPECT_EQ(v, rpc::object({{"name", "node-b.example.local"},
                            {"domains", Array{"example.local", "other.local"}},
                            {"endpoint", "ws://127.0.0.1:3001/rpc"},
                            {"labels", rpc::object({{"env", "prod"}, {"zone", "a"}})},
                            {"peerToken", "eyJhbGciOiJFUzM4NCJ9.e30.sig"},
                            {"envoyAddress", "10.0.0.3"}}));
  auto back = peerInfoFromValue(v);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, fullPeer());
}

TEST(WirePeerInfoTest, ListViewNeverHoldsTheToken) {
  const Value v = toValue(fullPeer(), TokenVisibility::Omit);
  EXPECT_FALSE(hasMember(v, "peerToken"));
  EXPECT_EQ(v.debugString().find("eyJ"), std::string::npos);
  auto back = peerInfoFromValue(v);
  ASSERT_TRUE(back) << back.error().message;
  state::PeerInfo want = fullPeer();
  want.peer_token.reset();
  EXPECT_EQ(*back, want);
}

TEST(WirePeerInfoTest, AbsentOptionalsAreLeftOut) {
  state::PeerInfo p;
  p.name = "node-b";
  const Value v = toValue(p, TokenVisibility::Include);
  // `domains` is required on the wire: an empty list is still written.
  EXPECT_EQ(v, rpc::object({{"name", "node-b"}, {"domains", Array{}}}));
  auto back = peerInfoFromValue(v);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, p);
}

TEST(WirePeerInfoTest, UndefinedLabelValuesAreSkipped) {
  auto p = peerInfoFromValue(
      with(peerValue(), "labels", rpc::object({{"env", "prod"}, {"gone", Undefined{}}})));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->labels, (std::map<std::string, std::string>{{"env", "prod"}}));
}

TEST(WireInternalRouteTest, RouteFieldsPlusPathAttributes) {
  const Value v = internalRouteValue(fullRoute(), "node-b", {"node-b", "node-a"}, "node-a", true);
  Value want = fullRouteValue();
  want.set("peer", "node-b");
  want.set("nodePath", Array{"node-b", "node-a"});
  want.set("originNode", "node-a");
  want.set("isStale", true);
  EXPECT_EQ(v, want);
  EXPECT_EQ(*internalRouteValue(fullRoute(), "node-b", {"node-b"}, "node-b", false).find("isStale"),
            Value(false));
}

TEST(WireInternalRouteTest, PeerViewNeverHoldsTheToken) {
  const Value v = internalRouteValue(fullRoute(), fullPeer(), {"node-b"}, "node-b", false);
  ASSERT_TRUE(hasMember(v, "peer"));
  EXPECT_EQ(*v.find("peer"), toValue(fullPeer(), TokenVisibility::Omit));
  EXPECT_FALSE(hasMember(*v.find("peer"), "peerToken"));
  EXPECT_EQ(v.debugString().find("eyJ"), std::string::npos);
  EXPECT_EQ(*v.find("name"), Value("books-api"));
}

// ---- the frames of peering.md §7 ----

// The captured `open` argument, as the session evaluates it: ["undefined"] is undefined and
// [[...]] is an escaped array.
//   {"peerInfo":{"name":"node-a","domains":[["example.local"]],"envoyAddress":["undefined"]},
//    "holdTime":90000}
Value capturedOpenArg() {
  return rpc::object({{"peerInfo", rpc::object({{"name", "node-a"},
                                                {"domains", Array{"example.local"}},
                                                {"envoyAddress", Undefined{}}})},
                      {"holdTime", 90000}});
}

// The captured `update` argument, evaluated.
Value capturedUpdateArg() {
  const Value route = rpc::object({
      {"name", "books-api"},
      {"protocol", "http:graphql"},
      {"endpoint", "http://127.0.0.1:8081/graphql"},
      {"region", "us-east"},
      {"tags", Array{"v1"}},
      {"envoyPort", Undefined{}},
      {"envoyAddress", Undefined{}},
      {"healthStatus", Undefined{}},
      {"responseTimeMs", Undefined{}},
      {"lastChecked", Undefined{}},
  });
  const Value item = rpc::object({{"action", "add"},
                                  {"route", route},
                                  {"nodePath", Array{"node-a"}},
                                  {"originNode", "node-a"}});
  return rpc::object({{"peerInfo", *capturedOpenArg().find("peerInfo")},
                      {"update", rpc::object({{"updates", Array{item}}})}});
}

state::PeerInfo capturedPeer() {
  state::PeerInfo p;
  p.name = "node-a";
  p.domains = {"example.local"};
  return p;
}

UpdateItem capturedItem() {
  UpdateItem item;
  item.action = UpdateItem::Action::Add;
  item.route.name = "books-api";
  item.route.protocol = state::Protocol::HttpGraphql;
  item.route.endpoint = "http://127.0.0.1:8081/graphql";
  item.route.region = "us-east";
  item.route.tags = {"v1"};
  item.node_path = {"node-a"};
  item.origin_node = "node-a";
  return item;
}

TEST(WireCapturedFramesTest, OpenPeerInfo) {
  auto peer = peerInfoFromValue(*capturedOpenArg().find("peerInfo"));
  ASSERT_TRUE(peer) << peer.error().message;
  EXPECT_EQ(*peer, capturedPeer());
}

TEST(WireCapturedFramesTest, UpdateBatch) {
  const Value arg = capturedUpdateArg();
  auto peer = peerInfoFromValue(*arg.find("peerInfo"));
  ASSERT_TRUE(peer) << peer.error().message;
  EXPECT_EQ(*peer, capturedPeer());
  auto items = updateBatchFromValue(*arg.find("update"), 1000);
  ASSERT_TRUE(items) << items.error().message;
  EXPECT_EQ(*items, std::vector<UpdateItem>{capturedItem()});
}

// A transport that only delivers the frames the test writes.
class FrameTransport : public rpc::MessageTransport {
public:
  void setHandler(Handler& handler) override { handler_ = &handler; }
  void send(std::string message) override { sent.push_back(std::move(message)); }
  void close(uint16_t /*code*/, std::string /*reason*/) override { closed = true; }
  void deliver(std::string_view frame) { handler_->onMessage(frame, /*is_text=*/true); }

  std::vector<std::string> sent;
  bool closed = false;

private:
  Handler* handler_ = nullptr;
};

// The first argument our session hands to an exported function called with the captured
// frame's argument list (the reference calls `["pipeline",<export>,[],[args]]`).
Value evaluatedArgument(std::string_view captured_args) {
  std::optional<Value> seen;
  FrameTransport transport;
  rpc::Session session(transport, rpc::makeFunctionStub([&seen](rpc::Args args) {
                         seen = args[0];
                         return rpc::Promise<Value>::resolved(rpc::object({{"success", true}}));
                       }));
  transport.deliver(std::string(R"(["push",["pipeline",0,[],)") + std::string(captured_args) +
                    "]]");
  EXPECT_FALSE(transport.closed);
  EXPECT_TRUE(seen.has_value());
  return seen.value_or(Value());
}

// The bytes of peering.md §7, through our session: the hand-built values above are what the
// session delivers, and they decode.
TEST(WireCapturedFramesTest, ThroughTheSession) {
  const Value open = evaluatedArgument(
      R"([{"peerInfo":{"name":"node-a","domains":[["example.local"]],"envoyAddress":["undefined"]},"holdTime":90000}])");
  EXPECT_EQ(open, capturedOpenArg());

  const Value update = evaluatedArgument(
      R"([{"peerInfo":{"name":"node-a","domains":[["example.local"]],"envoyAddress":["undefined"]},"update":{"updates":[[{"action":"add","route":{"name":"books-api","protocol":"http:graphql","endpoint":"http://127.0.0.1:8081/graphql","region":"us-east","tags":[["v1"]],"envoyPort":["undefined"],"envoyAddress":["undefined"],"healthStatus":["undefined"],"responseTimeMs":["undefined"],"lastChecked":["undefined"]},"nodePath":[["node-a"]],"originNode":"node-a"}]]}}])");
  EXPECT_EQ(update, capturedUpdateArg());
  ASSERT_TRUE(update.find("update") != nullptr);
  auto items = updateBatchFromValue(*update.find("update"), 1000);
  ASSERT_TRUE(items) << items.error().message;
  EXPECT_EQ(*items, std::vector<UpdateItem>{capturedItem()});

  const Value keepalive = evaluatedArgument(
      R"([{"peerInfo":{"name":"node-a","domains":[["example.local"]],"envoyAddress":["undefined"]}}])");
  ASSERT_TRUE(keepalive.find("peerInfo") != nullptr);
  auto peer = peerInfoFromValue(*keepalive.find("peerInfo"));
  ASSERT_TRUE(peer) << peer.error().message;
  EXPECT_EQ(*peer, capturedPeer());
}

// What our session writes for `value` (as the resolution of a call).
std::string written(const Value& value) {
  FrameTransport transport;
  rpc::Session session(transport, rpc::makeFunctionStub([&value](rpc::Args) {
                         return rpc::Promise<Value>::resolved(value);
                       }));
  transport.deliver(R"(["push",["pipeline",0,[],[]]])");
  transport.deliver(R"(["pull",1])");
  EXPECT_EQ(transport.sent.size(), 1u);
  return transport.sent.empty() ? std::string() : transport.sent[0];
}

TEST(WireEncodedTest, UpdateBatchEncodedIsWhatTheSessionWritesForTheValue) {
  std::vector<UpdateItem> items;
  UpdateItem full = capturedItem();
  full.route.endpoint = "http://127.0.0.1:8081/\"quoted\"\n\u00e9";
  full.route.tags = {"v1", "a\\b"};
  full.route.envoy_port = 10001;
  full.route.envoy_address = "10.0.0.1";
  full.route.health_status = state::HealthStatus::Down;
  full.route.response_time_ms = 12.5;
  full.route.last_checked = "2026-11-27T00:00:00Z";
  full.node_path = {"node-b", "node-a"};
  items.push_back(full);
  UpdateItem remove = capturedItem();
  remove.action = UpdateItem::Action::Remove;
  remove.route = state::Route{};
  remove.route.name = "gone";
  items.push_back(remove);
  UpdateItem minimal = capturedItem();
  minimal.route.endpoint.reset();
  minimal.route.region.reset();
  minimal.route.tags.clear();
  minimal.route.protocol = state::Protocol::Udp;
  minimal.route.response_time_ms = 0.0;
  items.push_back(minimal);

  for (std::size_t n : {std::size_t{0}, std::size_t{1}, items.size()}) {
    const std::span<const UpdateItem> some(items.data(), n);
    EXPECT_EQ(written(updateBatchEncoded(some)), written(updateBatchValue(some))) << n << " items";
  }
}

TEST(WireEncodedTest, RoutePlainJsonIsWhatThePlainJsonTreeGives) {
  std::vector<state::Route> routes;
  state::Route full = fullRoute();
  full.endpoint = "http://127.0.0.1:8081/\"quoted\"\n\u00e9";
  full.tags = {"v1", "a\\b"};
  full.response_time_ms = 12.5;
  routes.push_back(full);
  state::Route minimal;
  minimal.name = "films";
  minimal.protocol = state::Protocol::Udp;
  routes.push_back(minimal);
  state::Route edges = minimal;
  edges.response_time_ms = std::numeric_limits<double>::infinity();
  edges.envoy_port = 65535;
  routes.push_back(edges);
  edges.response_time_ms = 0.1 + 0.2; // no short spelling
  routes.push_back(edges);

  for (const state::Route& r : routes) {
    std::string text;
    appendRoutePlainJson(text, r);
    if (r.response_time_ms && std::isinf(*r.response_time_ms)) {
      // Boost.JSON would write "Infinity", which no JSON reader takes back.
      EXPECT_NE(text.find(R"("responseTimeMs":null)"), std::string::npos) << text;
      EXPECT_NO_THROW(boost::json::parse(text));
      continue;
    }
    const boost::json::value tree = rpc::toPlainJson(toValue(r));
    EXPECT_EQ(boost::json::parse(text), tree) << text;
    if (!r.response_time_ms || std::trunc(*r.response_time_ms) == *r.response_time_ms) {
      EXPECT_EQ(text, boost::json::serialize(tree)) << "byte for byte";
    }
  }
}

// ---- refusals, one message each ----

struct Refusal {
  Value input;
  std::string message;
};

TEST(WireRouteTest, WrongTypePerField) {
  const Refusal cases[] = {
      {with(minimalRouteValue(), "name", 1), "route.name: expected a string"},
      {with(minimalRouteValue(), "endpoint", true), "route.endpoint: expected a string"},
      {with(minimalRouteValue(), "protocol", Array{"http"}), "route.protocol: expected a string"},
      {with(minimalRouteValue(), "region", nullptr), "route.region: expected a string"},
      {with(minimalRouteValue(), "tags", "v1"), "route.tags: expected an array"},
      {with(minimalRouteValue(), "tags", Array{"v1", 2}), "route.tags[1]: expected a string"},
      {with(minimalRouteValue(), "envoyPort", "10001"), "route.envoyPort: expected a number"},
      {with(minimalRouteValue(), "envoyPort", rpc::BigInt{"10001"}),
       "route.envoyPort: expected a number"},
      {with(minimalRouteValue(), "envoyAddress", 10), "route.envoyAddress: expected a string"},
      {with(minimalRouteValue(), "healthStatus", true), "route.healthStatus: expected a string"},
      {with(minimalRouteValue(), "responseTimeMs", "12"),
       "route.responseTimeMs: expected a number"},
      {with(minimalRouteValue(), "lastChecked", rpc::Date{0.0}),
       "route.lastChecked: expected a string"},
  };
  for (const Refusal& c : cases) {
    EXPECT_EQ(refusal(routeFromValue(c.input)), c.message) << c.input.debugString();
  }
}

TEST(WireRouteTest, BadProtocol) {
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "protocol", "ftp"))),
            "route.protocol: must be one of http, http:graphql, http:gql, http:grpc, tcp, udp "
            "(got 'ftp')");
  // Case matters, as in the reference's enum.
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "protocol", "HTTP"))),
            "route.protocol: must be one of http, http:graphql, http:gql, http:grpc, tcp, udp "
            "(got 'HTTP')");
}

TEST(WireRouteTest, LongValuesAreCutInMessages) {
  const std::string long_protocol(1000, 'x');
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "protocol", long_protocol))),
            "route.protocol: must be one of http, http:graphql, http:gql, http:grpc, tcp, udp "
            "(got '" +
                std::string(64, 'x') + "...')");
}

TEST(WireRouteTest, BadHealthStatus) {
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "healthStatus", "sideways"))),
            "route.healthStatus: must be \"up\" or \"down\" (got 'sideways')");
}

TEST(WireRouteTest, EnvoyPortOutOfRange) {
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "envoyPort", 70000))),
            "route.envoyPort: must be an integer 0-65535 (got 70000)");
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "envoyPort", -1))),
            "route.envoyPort: must be an integer 0-65535 (got -1)");
  EXPECT_EQ(refusal(routeFromValue(
                with(minimalRouteValue(), "envoyPort", std::numeric_limits<double>::quiet_NaN()))),
            "route.envoyPort: must be an integer 0-65535 (got nan)");
}

TEST(WireRouteTest, EnvoyPortNotAnInteger) {
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "envoyPort", 1.5))),
            "route.envoyPort: must be an integer 0-65535 (got 1.5)");
}

TEST(WireRouteTest, EnvoyPortZeroIsRefusedByRouteValidation) {
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "envoyPort", 0))),
            "route.envoyPort: must be 1-65535");
}

TEST(WireRouteTest, ResponseTimeMustBeFinite) {
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "responseTimeMs",
                                        std::numeric_limits<double>::infinity()))),
            "route.responseTimeMs: must be a finite number");
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "responseTimeMs", -1))),
            "route.responseTimeMs: must be a non-negative number");
}

TEST(WireRouteTest, TooManyTagsRefusedBeforeTheirElements) {
  // 33 entries that are not even strings: the count is the error, not the first element.
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "tags", repeated(33, 7)))),
            "route.tags: more than 32 tags (got 33)");
  EXPECT_TRUE(routeFromValue(with(minimalRouteValue(), "tags", repeated(32, "t"))));
}

TEST(WireRouteTest, NotAnObject) {
  EXPECT_EQ(refusal(routeFromValue(Value("books-api"))), "route: expected an object");
  EXPECT_EQ(refusal(routeFromValue(Value(Array{}))), "route: expected an object");
  EXPECT_EQ(refusal(routeFromValue(Value(nullptr))), "route: expected an object");
  EXPECT_EQ(refusal(routeFromValue(Value())), "route: required");
}

TEST(WireRouteTest, MissingName) {
  EXPECT_EQ(refusal(routeFromValue(without(minimalRouteValue(), "name"))), "route.name: required");
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "name", Undefined{}))),
            "route.name: required");
}

TEST(WireRouteTest, MissingProtocol) {
  EXPECT_EQ(refusal(routeFromValue(without(minimalRouteValue(), "protocol"))),
            "route.protocol: required");
}

TEST(WireRouteTest, RouteValidationNamesTheFieldPath) {
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "name", "books api"))),
            "route.name: character ' ' not allowed (letters, digits, '.', '_', '-')");
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "name", ""))),
            "route.name: must be 1-253 characters (got 0)");
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "endpoint", std::string(2049, 'e')))),
            "route.endpoint: longer than 2048 characters");
  // The path given by the caller prefixes the message.
  EXPECT_EQ(refusal(routeFromValue(with(minimalRouteValue(), "name", "-x"), "args[0]")),
            "args[0].name: must start and end with a letter or digit");
}

TEST(WireUpdateItemTest, WrongTypePerField) {
  const Refusal cases[] = {
      {with(itemValue(), "action", 1), "item.action: expected a string"},
      {with(itemValue(), "route", "books-api"), "item.route: expected an object"},
      {with(itemValue(), "nodePath", "node-a"), "item.nodePath: expected an array"},
      {with(itemValue(), "nodePath", Array{"node-b", "node-a", 3}),
       "item.nodePath[2]: expected a string"},
      {with(itemValue(), "originNode", Array{"node-a"}), "item.originNode: expected a string"},
      {itemValue(with(minimalRouteValue(), "envoyPort", "1")),
       "item.route.envoyPort: expected a number"},
  };
  for (const Refusal& c : cases) {
    EXPECT_EQ(refusal(updateItemFromValue(c.input)), c.message) << c.input.debugString();
  }
}

TEST(WireUpdateItemTest, BadAction) {
  EXPECT_EQ(refusal(updateItemFromValue(with(itemValue(), "action", "update"))),
            "item.action: must be \"add\" or \"remove\" (got 'update')");
  EXPECT_EQ(refusal(updateItemFromValue(with(itemValue(), "action", "ADD"))),
            "item.action: must be \"add\" or \"remove\" (got 'ADD')");
}

TEST(WireUpdateItemTest, NodePathOver64RefusedBeforeItsElements) {
  EXPECT_EQ(refusal(updateItemFromValue(with(itemValue(), "nodePath", repeated(65, "n")))),
            "item.nodePath: more than 64 node ids (got 65)");
  // Not one of the 65 entries is a string: the count is what is reported.
  EXPECT_EQ(refusal(updateItemFromValue(with(itemValue(), "nodePath", repeated(65, 1)))),
            "item.nodePath: more than 64 node ids (got 65)");
  EXPECT_TRUE(updateItemFromValue(with(itemValue(), "nodePath", repeated(64, "n"))));
}

TEST(WireUpdateItemTest, NotAnObject) {
  EXPECT_EQ(refusal(updateItemFromValue(Value(3))), "item: expected an object");
  EXPECT_EQ(refusal(updateItemFromValue(Value(3), "updates[0]")), "updates[0]: expected an object");
}

TEST(WireUpdateItemTest, MissingMembers) {
  EXPECT_EQ(refusal(updateItemFromValue(without(itemValue(), "action"))), "item.action: required");
  EXPECT_EQ(refusal(updateItemFromValue(without(itemValue(), "route"))), "item.route: required");
  EXPECT_EQ(refusal(updateItemFromValue(with(itemValue(), "route", Undefined{}))),
            "item.route: required");
  EXPECT_EQ(refusal(updateItemFromValue(without(itemValue(), "nodePath"))),
            "item.nodePath: required");
  EXPECT_EQ(refusal(updateItemFromValue(without(itemValue(), "originNode"))),
            "item.originNode: required");
  EXPECT_EQ(refusal(updateItemFromValue(itemValue(rpc::object({{"protocol", "http"}})))),
            "item.route.name: required");
  // An `add` needs the whole record; a `remove` only the name.
  EXPECT_EQ(refusal(updateItemFromValue(itemValue(rpc::object({{"name", "books-api"}})))),
            "item.route.protocol: required");
  Value remove = itemValue(rpc::object({{"endpoint", "http://x"}}));
  remove.set("action", "remove");
  EXPECT_EQ(refusal(updateItemFromValue(remove)), "item.route.name: required");
}

TEST(WireUpdateItemTest, RouteValidationNamesTheItemPath) {
  EXPECT_EQ(refusal(updateItemFromValue(itemValue(with(minimalRouteValue(), "name", "a b")))),
            "item.route.name: character ' ' not allowed (letters, digits, '.', '_', '-')");
}

TEST(WireBatchTest, TooManyItemsRefusedBeforeAnyConversion) {
  // max + 1 items that are not even objects: the count is the error.
  EXPECT_EQ(refusal(updateBatchFromValue(batch(repeated(4, "garbage")), 3)),
            "updates: 4 items in one update (at most 3)");
  EXPECT_EQ(refusal(updateBatchFromValue(batch(repeated(1001, 0)), 1000)),
            "updates: 1001 items in one update (at most 1000)");
  EXPECT_TRUE(updateBatchFromValue(batch(repeated(3, itemValue())), 3));
}

TEST(WireBatchTest, ErrorsNameTheItem) {
  Array items = repeated(5, itemValue());
  items[3] = with(itemValue(), "nodePath", Array{"node-a", "node-b", nullptr});
  EXPECT_EQ(refusal(updateBatchFromValue(batch(items), 1000)),
            "updates[3].nodePath[2]: expected a string");

  items = repeated(2, itemValue());
  items[1] = itemValue(with(minimalRouteValue(), "name", "bad name"));
  EXPECT_EQ(refusal(updateBatchFromValue(batch(items), 1000)),
            "updates[1].route.name: character ' ' not allowed (letters, digits, '.', '_', '-')");

  items = repeated(2, itemValue());
  items[0] = "x";
  EXPECT_EQ(refusal(updateBatchFromValue(batch(items), 1000)), "updates[0]: expected an object");
}

TEST(WireBatchTest, BadShape) {
  EXPECT_EQ(refusal(updateBatchFromValue(Value(Array{}), 1000)), "update: expected an object");
  EXPECT_EQ(refusal(updateBatchFromValue(Value(), 1000)), "update: required");
  EXPECT_EQ(refusal(updateBatchFromValue(rpc::object({}), 1000)), "updates: required");
  EXPECT_EQ(refusal(updateBatchFromValue(rpc::object({{"updates", Undefined{}}}), 1000)),
            "updates: required");
  EXPECT_EQ(refusal(updateBatchFromValue(rpc::object({{"updates", itemValue()}}), 1000)),
            "updates: expected an array");
}

TEST(WirePeerInfoTest, WrongTypePerField) {
  const Refusal cases[] = {
      {with(peerValue(), "name", 1), "peerInfo.name: expected a string"},
      {with(peerValue(), "domains", "example.local"), "peerInfo.domains: expected an array"},
      {with(peerValue(), "domains", Array{false}), "peerInfo.domains[0]: expected a string"},
      {with(peerValue(), "endpoint", 3000), "peerInfo.endpoint: expected a string"},
      {with(peerValue(), "labels", Array{"env"}), "peerInfo.labels: expected an object"},
      {with(peerValue(), "labels", rpc::object({{"env", 1}})),
       "peerInfo.labels.env: expected a string"},
      {with(peerValue(), "peerToken", rpc::Bytes{"jwt"}), "peerInfo.peerToken: expected a string"},
      {with(peerValue(), "envoyAddress", nullptr), "peerInfo.envoyAddress: expected a string"},
  };
  for (const Refusal& c : cases) {
    EXPECT_EQ(refusal(peerInfoFromValue(c.input)), c.message) << c.input.debugString();
  }
}

TEST(WirePeerInfoTest, RequiredMembersAndName) {
  EXPECT_EQ(refusal(peerInfoFromValue(without(peerValue(), "name"))), "peerInfo.name: required");
  EXPECT_EQ(refusal(peerInfoFromValue(without(peerValue(), "domains"))),
            "peerInfo.domains: required");
  EXPECT_EQ(refusal(peerInfoFromValue(with(peerValue(), "name", "node a"))),
            "peerInfo.name: character ' ' not allowed (letters, digits, '.', '_', '-')");
  EXPECT_EQ(refusal(peerInfoFromValue(Value("node-b"))), "peerInfo: expected an object");
  EXPECT_EQ(refusal(peerInfoFromValue(Value(1), "args[0]")), "args[0]: expected an object");
}

} // namespace
} // namespace catalyst::peering
