// Interop with the real JavaScript capnweb@0.12.0 on Node.js, in both directions:
//   - the JS client's scenarios (js/client.mjs) against our C++ server (cpp/interop_server);
//   - our C++ client against the JS server (js/server.mjs), scenario by scenario.
// Real processes, real WebSockets and HTTP on 127.0.0.1.

#include <chrono>
#include <cmath>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/hooks.h"
#include "catalyst/rpcnet/client.h"

#include "support/process.h"

namespace catalyst::rpc {
namespace {

using test::eventually;
using test::Process;

constexpr std::chrono::seconds kDeadline{30};

// Starts a server process that prints `LISTENING <port>` and returns the port (0 on failure).
uint16_t waitForPort(Process& p) {
  uint16_t port = 0;
  eventually(
      [&] {
        std::smatch m;
        const std::string out = p.output();
        if (std::regex_search(out, m, std::regex("LISTENING ([0-9]+)"))) {
          port = static_cast<uint16_t>(std::stoi(m[1]));
          return true;
        }
        return p.waitFor(std::chrono::milliseconds(0)).has_value();
      },
      kDeadline);
  return port;
}

TEST(InteropTest, JsClientScenariosAgainstCppServer) {
  Process server({CATALYST_INTEROP_SERVER});
  const uint16_t port = waitForPort(server);
  ASSERT_NE(port, 0) << server.errors();
  const std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/rpc";
  test::RunResult r =
      test::run({CATALYST_NODE_BINARY, std::string(CATALYST_INTEROP_JS_DIR) + "/client.mjs", url,
                 "--scenario", "all"},
                {}, std::chrono::seconds(120));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok batch-pipeline"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
}

// Our client against the JS server.
class CppClientAgainstJsServer : public ::testing::Test {
protected:
  void SetUp() override {
    server_ = std::make_unique<Process>(std::vector<std::string>{
        CATALYST_NODE_BINARY, std::string(CATALYST_INTEROP_JS_DIR) + "/server.mjs"});
    port_ = waitForPort(*server_);
    ASSERT_NE(port_, 0) << server_->errors();
    std::optional<Result<rpcnet::RpcClientPtr>> connected;
    rpcnet::RpcClientOptions options;
    rpcnet::RpcClient::connect(*dispatcher_, wsUrl(), options,
                               [&](Result<rpcnet::RpcClientPtr> c) { connected = std::move(c); });
    ASSERT_TRUE(runUntil([&] { return connected.has_value(); }));
    ASSERT_TRUE(*connected) << connected->error().message;
    client_ = std::move(**connected);
  }

  void TearDown() override {
    client_.reset();
    if (server_) {
      server_->signal(SIGTERM);
      server_->waitFor(std::chrono::seconds(5));
    }
  }

  std::string wsUrl() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/rpc"; }
  std::string httpUrl() const { return "http://127.0.0.1:" + std::to_string(port_) + "/rpc"; }

  template <class Pred> bool runUntil(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      if (dispatcher_->poll() == 0) {
        struct timespec ts {
          0, 200'000
        };
        nanosleep(&ts, nullptr); // poll step
      }
    }
    return true;
  }

  Settled<Value> await(const Promise<Value>& p) {
    EXPECT_TRUE(runUntil([&] { return p.settled(); })) << "no answer in time";
    return p.settled() ? p.outcome() : Settled<Value>{std::nullopt, Value("timed out")};
  }
  Value value(const Stub& s) {
    Settled<Value> r = await(pull(s));
    EXPECT_TRUE(r.ok()) << r.error.debugString();
    return r.ok() ? *r.value : Value();
  }

  RealTimeSource time_;
  event::DispatcherPtr dispatcher_ = event::makeDispatcher(time_);
  std::unique_ptr<Process> server_;
  uint16_t port_ = 0;
  rpcnet::RpcClientPtr client_;
};

TEST_F(CppClientAgainstJsServer, PlainCall) {
  EXPECT_EQ(value(client_->main().call("hello", {"c++"})), Value("Hello, c++!"));
  EXPECT_EQ(value(client_->main().call("add", {2, 3})), Value(5));
}

TEST_F(CppClientAgainstJsServer, PipelinedChain) {
  Stub user = client_->main().call("getUser", {1}); // not awaited
  EXPECT_EQ(value(user.call("getName", {})), Value("user1"));
  EXPECT_EQ(value(client_->main().call("makeCounter", {10}).call("inc", {})), Value(11));
}

TEST_F(CppClientAgainstJsServer, PropertyPathOnAPromise) {
  EXPECT_EQ(value(client_->main().call("getUser", {2}).get("profile").get("tags")),
            Value(Array{"a", "b"}));
  EXPECT_EQ(value(client_->main().call("getUserData", {3}).get("tags").at(1)), Value("t2"));
  EXPECT_EQ(value(client_->main().call("getUserData", {3}).get("name")), Value("user3"));
}

TEST_F(CppClientAgainstJsServer, PromiseAsArgument) {
  Stub hello = client_->main().call("hello", {"p"});
  EXPECT_EQ(value(client_->main().call("add", {Value(hello), "!"})), Value("Hello, p!!"));
  Stub user = client_->main().call("getUser", {8});
  EXPECT_EQ(value(client_->main().call("nameOf", {Value(user)})), Value("user8"));
}

TEST_F(CppClientAgainstJsServer, CallbackCalledBack) {
  std::vector<std::string> seen;
  Stub cb = makeFunctionStub([&seen](Args args) {
    seen.push_back(args.string(0));
    return Promise<Value>::resolved("got " + args.string(0));
  });
  EXPECT_EQ(value(client_->main().call("subscribe", {cb})), Value("callback returned got event-1"));
  EXPECT_EQ(seen, std::vector<std::string>{"event-1"});
  Stub twice =
      makeFunctionStub([](Args args) { return Promise<Value>::resolved(args.number(0) * 10); });
  EXPECT_EQ(value(client_->main().call("callTwice", {twice})), Value(Array{10, 20}));
}

TEST_F(CppClientAgainstJsServer, ReturnedTargetCalledTwiceThenReleased) {
  const double before = *value(client_->main().call("disposedCount", {})).as<double>();
  {
    Value counter = value(client_->main().call("makeCounter", {}));
    ASSERT_TRUE(counter.is<Stub>());
    Stub c = *counter.as<Stub>();
    EXPECT_EQ(value(c.call("inc", {})), Value(1));
    EXPECT_EQ(value(c.call("inc", {})), Value(2));
  } // last reference gone: released
  EXPECT_TRUE(runUntil([&] {
    Settled<Value> n = await(pull(client_->main().call("disposedCount", {})));
    return n.ok() && *n.value->as<double>() >= before + 1;
  })) << "the JS server never saw the Counter disposed";
}

TEST_F(CppClientAgainstJsServer, ThrownErrorKeepsNameMessageAndProps) {
  Settled<Value> r = await(pull(client_->main().call("fail", {})));
  ASSERT_FALSE(r.ok());
  const ErrorValue* e = r.error.as<ErrorValue>();
  ASSERT_NE(e, nullptr) << r.error.debugString();
  EXPECT_EQ(e->name, "TypeError");
  EXPECT_EQ(e->message, "bad input");
  ASSERT_NE(Value(e->props).find("code"), nullptr);
  EXPECT_EQ(*Value(e->props).find("code"), Value("E_BAD"));
  // The session goes on.
  EXPECT_EQ(value(client_->main().call("hello", {"after"})), Value("Hello, after!"));
}

TEST_F(CppClientAgainstJsServer, SpecialValuesRoundTripExactly) {
  auto bytes = [](std::string data, BytesKind kind) { return Value(Bytes{std::move(data), kind}); };
  const std::vector<Value> values = {
      Value(),
      Value(nullptr),
      Value(true),
      Value(1.5),
      Value(9007199254740992.0),
      Value(HUGE_VAL),
      Value(-HUGE_VAL),
      Value(std::nan("")),
      Value(BigInt{"12345678901234567890"}),
      Value(BigInt{"-98765432109876543210"}),
      Value(Date{1700000000000.0}),
      Value(Date{std::nullopt}),
      bytes(std::string("\x01\x02\x03\xfa", 4), BytesKind::Uint8Array),
      bytes(std::string("\x00\x00\xc0\x3f", 4), BytesKind::Float32Array),
      bytes(std::string("\xff\x7f", 2), BytesKind::Int16Array),
      bytes(std::string(8, '\x01'), BytesKind::BigInt64Array),
      bytes(std::string("\x01\x02", 2), BytesKind::ArrayBuffer),
      bytes(std::string("\x01\x02", 2), BytesKind::DataView),
      Value(Array{1, Array{2, "three"}, nullptr}),
      Value(Array{}),
      Value(object({{"a", object({{"b", Array{"x", Value()}}})}, {"n", std::nan("")}})),
      Value("tab\tquote\"back\\slash\nnl\x01 \xc3\xa9 \xe2\x98\x83"),
      Value(makeError("RangeError", "too far", object({{"code", "E_X"}}))),
  };
  for (const Value& v : values) {
    EXPECT_EQ(value(client_->main().call("echo", {v})), v) << v.debugString();
  }
}

TEST_F(CppClientAgainstJsServer, HttpBatchWithPipelinedCalls) {
  rpcnet::BatchClient batch(*dispatcher_, httpUrl());
  Promise<Value> name = pull(batch.main().call("getUser", {42}).call("getName", {}));
  Promise<Value> hello = pull(batch.main().call("hello", {"batch"}));
  Promise<bool> sent = batch.send();
  ASSERT_TRUE(runUntil([&] { return sent.settled(); }));
  ASSERT_TRUE(sent.outcome().ok()) << sent.outcome().error.debugString();
  ASSERT_TRUE(name.settled() && name.outcome().ok());
  EXPECT_EQ(*name.outcome().value, Value("user42"));
  ASSERT_TRUE(hello.settled() && hello.outcome().ok());
  EXPECT_EQ(*hello.outcome().value, Value("Hello, batch!"));
}

} // namespace
} // namespace catalyst::rpc
