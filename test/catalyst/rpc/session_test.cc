// The session engine against frames captured from the real capnweb 0.12.0 library
// (capnweb-wire.md §3), and two C++ sessions talking to each other.

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalyst/rpc/json_writer.h"
#include "catalyst/rpc/session.h"

#include "support/rpc_test_api.h"

namespace catalyst::rpc {
namespace {

// A transport whose frames the test writes and reads itself.
class FrameTransport : public MessageTransport {
public:
  void setHandler(Handler& handler) override { handler_ = &handler; }
  void send(std::string message) override { sent.push_back(std::move(message)); }
  void close(uint16_t code, std::string reason) override {
    if (!closed) {
      closed = std::make_pair(code, std::move(reason));
    }
  }

  void deliver(std::string_view frame, bool is_text = true) { handler_->onMessage(frame, is_text); }
  std::vector<std::string> take() { return std::exchange(sent, {}); }

  std::vector<std::string> sent;
  std::optional<std::pair<uint16_t, std::string>> closed;

private:
  Handler* handler_ = nullptr;
};

class ServerSessionTest : public ::testing::Test {
protected:
  ServerSessionTest() : api_(std::make_shared<test::InteropApi>()), session_(t_, makeStub(api_)) {}

  // Sends the client frames and returns what the server sent back.
  std::vector<std::string> exchange(std::initializer_list<std::string_view> frames) {
    for (std::string_view f : frames) {
      t_.deliver(f);
    }
    return t_.take();
  }

  void expectAbort(std::string_view frame, const std::string& message, bool is_text = true) {
    t_.deliver(frame, is_text);
    const std::vector<std::string> out = t_.take();
    ASSERT_EQ(out.size(), 1u) << frame;
    std::string want = "[\"abort\",[\"error\",\"Error\",";
    json::appendString(want, message);
    EXPECT_EQ(out[0], want + "]]");
    ASSERT_TRUE(t_.closed);
    EXPECT_EQ(t_.closed->first, kCloseRpcAbort);
    EXPECT_EQ(t_.closed->second, message);
    EXPECT_TRUE(session_.broken());
    EXPECT_EQ(session_.stats().protocol_errors, 1u);
    // Nothing more is read or sent.
    t_.deliver(R"(["push",["pipeline",0,["hello"],["x"]]])");
    EXPECT_TRUE(t_.take().empty());
  }

  using V = std::vector<std::string>;
  FrameTransport t_;
  std::shared_ptr<test::InteropApi> api_;
  Session session_;
};

TEST_F(ServerSessionTest, PlainCall) {
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["hello"],["x"]]])", R"(["pull",1])"}),
            V{R"(["resolve",1,"Hello, x!"])"});
  EXPECT_EQ(exchange({R"(["release",1,1])"}), V{});
}

TEST_F(ServerSessionTest, PipelinedChain) {
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["getUser"],[1]]])",
                      R"(["push",["pipeline",1,["getName"],[]]])", R"(["pull",2])"}),
            V{R"(["resolve",2,"user1"])"});
}

TEST_F(ServerSessionTest, PropertyPathsOnPromisesAndPlainValues) {
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["getUser"],[2]]])",
                      R"(["push",["pipeline",1,["profile","tags"]]])", R"(["pull",2])"}),
            V{R"(["resolve",2,[["a","b"]]])"});
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["getUserData"],[3]]])",
                      R"(["push",["pipeline",3,["tags",1]]])", R"(["pull",4])"}),
            V{R"(["resolve",4,"t2"])"});
}

TEST_F(ServerSessionTest, PromiseAsArgument) {
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["hello"],["p"]]])",
                      R"(["push",["pipeline",0,["add"],[["pipeline",1],"!"]]])", R"(["pull",2])"}),
            V{R"(["resolve",2,"Hello, p!!"])"});
}

TEST_F(ServerSessionTest, CallbackCalledBack) {
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["subscribe"],[["export",-1]]]])", R"(["pull",1])"}),
            (V{R"(["push",["pipeline",-1,[],["event-1"]]])", R"(["pull",1])"}));
  const V out = exchange({R"(["resolve",1,"got event-1"])"});
  // The callback's result is released, the parameter stub is released when the call ends,
  // and the call resolves.
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], R"(["release",1,1])");
  EXPECT_NE(std::find(out.begin(), out.end(), R"(["resolve",1,"callback returned got event-1"])"),
            out.end());
  EXPECT_NE(std::find(out.begin(), out.end(), R"(["release",-1,1])"), out.end());
}

TEST_F(ServerSessionTest, ThrownErrorKeepsNameMessageAndProps) {
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["fail"],[]]])", R"(["pull",1])"}),
            V{R"(["reject",1,["error","TypeError","bad input",null,{"code":"E_BAD"}]])"});
}

TEST_F(ServerSessionTest, ReturnedTargetCalledTwiceThenReleasedIsDisposed) {
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["makeCounter"],[]]])", R"(["pull",1])"}),
            V{R"(["resolve",1,["export",-1]])"});
  EXPECT_EQ(
      exchange({R"(["release",1,1])", R"(["push",["pipeline",-1,["inc"],[]]])", R"(["pull",2])"}),
      V{R"(["resolve",2,1])"});
  EXPECT_EQ(
      exchange({R"(["release",2,1])", R"(["push",["pipeline",-1,["inc"],[]]])", R"(["pull",3])"}),
      V{R"(["resolve",3,2])"});
  EXPECT_EQ(api_->disposed(), 0);
  exchange({R"(["release",3,1])", R"(["release",-1,1])"});
  EXPECT_EQ(api_->disposed(), 1);
}

TEST_F(ServerSessionTest, UnknownMethodAndInstancePropertyAreCallErrors) {
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["nope"],[]]])", R"(["pull",1])"}),
            V{R"(["reject",1,["error","TypeError","'nope' is not a function."]])"});
  EXPECT_FALSE(session_.broken());
}

TEST_F(ServerSessionTest, SpecialValuesRoundTripExactly) {
  const std::vector<std::string> values = {
      R"(["undefined"])",
      R"(null)",
      R"(true)",
      R"(1.5)",
      R"(9007199254740992)",
      R"(["inf"])",
      R"(["-inf"])",
      R"(["nan"])",
      R"(["bigint","12345678901234567890"])",
      R"(["bigint","-5"])",
      R"(["date",1700000000000])",
      R"(["date",null])",
      R"(["bytes","AQID+g"])",
      R"(["bytes","AADAPw","Float32Array"])",
      R"(["bytes","","ArrayBuffer"])",
      R"([[1,[[2,"three"]],null]])",
      R"([[]])",
      R"({"a":{"b":[["x",["undefined"]]]},"u":["undefined"]})",
      R"("tab\tquote\"back\\slash\nnl\u0001 \u00e9 ☃")",
      R"(["error","RangeError","too far",null,{"code":"E_X","n":["nan"]}])",
      R"(["error","Error","with stack","at x"])",
  };
  int64_t id = 0;
  for (const std::string& v : values) {
    ++id;
    const std::string push = R"(["push",["pipeline",0,["echo"],[)" + v + "]]]";
    const std::string pull = R"(["pull",)" + std::to_string(id) + "]";
    const V out = exchange({push, pull});
    ASSERT_EQ(out.size(), 1u) << v;
    std::string want = R"(["resolve",)" + std::to_string(id) + "," + v + "]";
    if (v.find("\\u00e9") != std::string::npos) {
      want = R"(["resolve",)" + std::to_string(id) +
             R"(,"tab\tquote\"back\\slash\nnl\u0001 é ☃"])"; // non-ASCII goes out as UTF-8
    }
    EXPECT_EQ(out[0], want);
  }
  // Keys of Object.prototype are dropped, as JavaScript does.
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["echo"],[{"__proto__":1,"toString":2,"k":3}]]])",
                      R"(["pull",22])"}),
            V{R"(["resolve",22,{"k":3}])"});
}

TEST_F(ServerSessionTest, StreamIsAnsweredAndReleasedImplicitly) {
  EXPECT_EQ(exchange({R"(["stream",["pipeline",0,["hello"],["s"]]])"}),
            V{R"(["resolve",1,"Hello, s!"])"});
  // The export is gone: a release of it is a protocol error.
  expectAbort(R"(["release",1,1])", "no such export ID: 1");
}

TEST_F(ServerSessionTest, UnsupportedFormsRejectTheCallOnly) {
  EXPECT_EQ(
      exchange({R"(["push",["remap",0,[],[],[["pipeline",0,["hello"],["x"]]]]])", R"(["pull",1])"}),
      V{R"(["reject",1,["error","Error","remap (.map() on a promise) is not supported by this peer"]])"});
  EXPECT_EQ(
      exchange({R"(["push",["pipeline",0,["echo"],[["url","http://x/"]]]])", R"(["pull",2])"}),
      V{R"(["reject",2,["error","TypeError","'url' values are not supported by this peer"]])"});
  EXPECT_EQ(
      exchange({R"(["pipe"])", R"(["stream",["pipeline",3,["write"],["x"]]])"}),
      V{R"(["reject",4,["error","Error","pipes (ReadableStream arguments) are not supported by this peer"]])"});
  EXPECT_FALSE(session_.broken());
  EXPECT_EQ(exchange({R"(["push",["pipeline",0,["hello"],["y"]]])", R"(["pull",5])"}),
            V{R"(["resolve",5,"Hello, y!"])"});
}

TEST_F(ServerSessionTest, AbortOnBinaryFrame) {
  expectAbort("\x01\x02", "binary messages are not part of the protocol", false);
}
TEST_F(ServerSessionTest, AbortOnNonJson) {
  expectAbort("ping", "SyntaxError: message is not valid JSON (syntax error)");
}
TEST_F(ServerSessionTest, AbortOnUnknownMessageType) {
  expectAbort(R"(["frobnicate",1])", R"(bad RPC message: ["frobnicate",1])");
}
TEST_F(ServerSessionTest, AbortOnUnknownPullId) {
  expectAbort(R"(["pull",5])", "no such export ID: 5");
}
TEST_F(ServerSessionTest, AbortOnUnknownReleaseId) {
  expectAbort(R"(["release",99,1])", "no such export ID: 99");
}
TEST_F(ServerSessionTest, AbortOnUnknownPipelineId) {
  expectAbort(R"(["push",["pipeline",9,["x"],[]]])", "no such entry on exports table: 9");
}
TEST_F(ServerSessionTest, AbortOnNegativeReleaseCount) {
  exchange({R"(["push",["pipeline",0,["hello"],["x"]]])"});
  expectAbort(R"(["release",1,2])", "release of export 1 by 2 would make its count negative");
}
// ["pull",N] and ["release",N,M] in their tightest spelling skip the JSON parser; every other
// spelling of the same message goes through it. Both must behave alike.
TEST_F(ServerSessionTest, PullAndReleaseBehaveAlikeInEverySpelling) {
  // Export IDs 1-4, one push each, pulled in four spellings of ["pull",N].
  const std::string pulls[] = {R"(["pull",1])", R"([ "pull" , 2 ])", R"(["pull",3.0])",
                               R"(["pull",4e0])"};
  for (int id = 1; id <= 4; ++id) {
    EXPECT_EQ(exchange({R"(["push",["pipeline",0,["hello"],["x"]]])", pulls[id - 1]}),
              V{"[\"resolve\"," + std::to_string(id) + ",\"Hello, x!\"]"})
        << pulls[id - 1];
  }
  // And released in four spellings of ["release",N,1]: each one goes.
  EXPECT_EQ(exchange({R"(["release",1,1])", R"([ "release" ,2, 1 ])", R"(["release",3,1.0])",
                      R"(["release",4e0,1])"}),
            V{});
  EXPECT_FALSE(session_.broken());
  expectAbort(R"(["pull",4])", "no such export ID: 4");
}
TEST_F(ServerSessionTest, AbortOnUnknownPullIdSpelledLoosely) {
  expectAbort(R"([ "pull", 5 ])", "no such export ID: 5");
}
TEST_F(ServerSessionTest, AbortOnZeroReleaseCount) {
  exchange({R"(["push",["pipeline",0,["hello"],["x"]]])"});
  expectAbort(R"(["release",1,0])", "bad release count: 0");
}
TEST_F(ServerSessionTest, AbortOnZeroReleaseCountSpelledLoosely) {
  exchange({R"(["push",["pipeline",0,["hello"],["x"]]])"});
  expectAbort(R"(["release",1, 0])", "bad release count: 0");
}
TEST_F(ServerSessionTest, NearMissesOfTheShortFormsAreParsedInFull) {
  // A leading zero is not the short form: what the JSON parser makes of it decides (here and
  // in the tests below: trailing bytes, 16 digits, a sign).
  expectAbort(R"(["pull",01])", "SyntaxError: message is not valid JSON (syntax error)");
}
TEST_F(ServerSessionTest, ShortFormWithTrailingBytesIsNotJson) {
  expectAbort(R"(["pull",1]x)", "SyntaxError: message is not valid JSON (extra data)");
}
TEST_F(ServerSessionTest, ShortFormWithAHugeIdIsParsedInFull) {
  expectAbort(R"(["pull",1234567890123456])", "no such export ID: 1234567890123456");
}
TEST_F(ServerSessionTest, ShortFormWithANegativeCountIsParsedInFull) {
  exchange({R"(["push",["pipeline",0,["hello"],["x"]]])"});
  expectAbort(R"(["release",1,-1])", "bad release count: -1");
}

TEST(SessionLimitsTest, APeerThatNeverReleasesIsCutOffAtTheExportLimit) {
  FrameTransport t;
  SessionOptions options;
  options.max_exports = 3; // main, then two unreleased results
  Session session(t, makeStub(std::make_shared<test::InteropApi>()), options);
  t.deliver(R"(["push",["pipeline",0,["hello"],["a"]]])");
  t.deliver(R"(["push",["pipeline",0,["hello"],["b"]]])");
  EXPECT_FALSE(session.broken());
  t.deliver(R"(["release",2,1])"); // releasing makes room
  t.deliver(R"(["push",["pipeline",0,["hello"],["c"]]])");
  EXPECT_FALSE(session.broken());
  t.deliver(R"(["push",["pipeline",0,["hello"],["d"]]])");
  EXPECT_TRUE(session.broken());
  ASSERT_TRUE(t.closed);
  EXPECT_EQ(t.closed->first, kCloseRpcAbort);
  EXPECT_EQ(t.closed->second,
            "too many exports held by the peer (3; at most 3): release what you no longer use");
}

TEST(SessionLimitsTest, APeerIntroducingTooManyCapabilitiesIsCutOff) {
  FrameTransport t;
  SessionOptions options;
  options.max_imports = 2;
  Session session(t, makeStub(std::make_shared<test::InteropApi>()), options);
  // Each echoed export is a new import of ours.
  t.deliver(R"(["push",["pipeline",0,["echo"],[["export",-1]]]])");
  t.deliver(R"(["push",["pipeline",0,["echo"],[["export",-2]]]])");
  EXPECT_FALSE(session.broken());
  t.deliver(R"(["push",["pipeline",0,["echo"],[["export",-2]]]])"); // known: no new entry
  EXPECT_FALSE(session.broken());
  t.deliver(R"(["push",["pipeline",0,["echo"],[["export",-3]]]])");
  EXPECT_TRUE(session.broken());
  ASSERT_TRUE(t.closed);
  EXPECT_EQ(t.closed->second, "too many capabilities introduced by the peer (2; at most 2)");
}

TEST_F(ServerSessionTest, AbortOnNestingPastTheLimit) {
  std::string deep = R"(["push",["pipeline",0,["echo"],[)";
  for (int i = 0; i < 300; ++i) {
    deep += "{\"a\":";
  }
  deep += "1";
  for (int i = 0; i < 300; ++i) {
    deep += "}";
  }
  deep += "]]]";
  expectAbort(deep, "message nested deeper than 256");
}
TEST_F(ServerSessionTest, AbortOnUnknownSpecialValue) {
  expectAbort(R"(["push",["pipeline",0,["echo"],[["frob"]]]])",
              R"(unknown special value: ["frob"])");
}
TEST_F(ServerSessionTest, UnknownResolveIsIgnored) {
  EXPECT_EQ(exchange({R"(["resolve",42,"x"])"}), V{});
  EXPECT_FALSE(session_.broken());
}
TEST_F(ServerSessionTest, PeerAbortEndsTheSession) {
  exchange({R"(["abort",["error","Error","bye"]])"});
  ASSERT_TRUE(t_.closed);
  EXPECT_EQ(t_.closed->first, 3000);
  EXPECT_EQ(t_.closed->second, "bye");
  EXPECT_TRUE(session_.broken());
}

// Two C++ sessions over an in-memory pipe: the C++ client against the C++ server.
class Pipe {
public:
  class End : public MessageTransport {
  public:
    explicit End(std::deque<std::string>& out) : out_(out) {}
    void setHandler(Handler& handler) override { handler_ = &handler; }
    void send(std::string message) override {
      if (!closed_) {
        out_.push_back(std::move(message));
      }
    }
    void close(uint16_t, std::string) override { closed_ = true; }
    Handler* handler_ = nullptr;
    bool closed_ = false;

  private:
    std::deque<std::string>& out_;
  };

  // Delivers queued messages both ways until none is left.
  void pump() {
    while (!to_server_.empty() || !to_client_.empty()) {
      while (!to_server_.empty()) {
        std::string m = std::move(to_server_.front());
        to_server_.pop_front();
        server_end.handler_->onMessage(m, true);
      }
      while (!to_client_.empty()) {
        std::string m = std::move(to_client_.front());
        to_client_.pop_front();
        client_end.handler_->onMessage(m, true);
      }
    }
  }

  std::deque<std::string> to_server_;
  std::deque<std::string> to_client_;
  End client_end{to_server_};
  End server_end{to_client_};
};

template <class T> Settled<T> settle(Pipe& pipe, const Promise<T>& p) {
  pipe.pump();
  EXPECT_TRUE(p.settled());
  return p.settled() ? p.outcome() : Settled<T>{};
}

TEST(SessionPairTest, CppClientAgainstCppServer) {
  Pipe pipe;
  auto api = std::make_shared<test::InteropApi>();
  Session server(pipe.server_end, makeStub(api));
  Session client(pipe.client_end, Stub());
  Stub main = client.main();

  auto hello = settle(pipe, pull(main.call("hello", {"c++"})));
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(*hello.value, Value("Hello, c++!"));

  // Pipelined: getName on the unresolved getUser result.
  auto name = settle(pipe, pull(main.call("getUser", {7}).call("getName", {})));
  EXPECT_EQ(*name.value, Value("user7"));
  auto tags = settle(pipe, pull(main.call("getUser", {2}).get("profile").get("tags")));
  EXPECT_EQ(*tags.value, Value(Array{"a", "b"}));

  // A promise as an argument.
  auto sum = settle(pipe, pull(main.call("add", {Value(main.call("hello", {"p"})), "!"})));
  EXPECT_EQ(*sum.value, Value("Hello, p!!"));

  // A callback called back.
  int calls = 0;
  Stub cb = makeFunctionStub([&calls](Args args) {
    ++calls;
    return Promise<Value>::resolved("got " + args.string(0));
  });
  auto sub = settle(pipe, pull(main.call("subscribe", {cb})));
  EXPECT_EQ(*sub.value, Value("callback returned got event-1"));
  EXPECT_EQ(calls, 1);

  // An error with its props.
  auto fail = settle(pipe, pull(main.call("fail", {})));
  ASSERT_FALSE(fail.ok());
  EXPECT_EQ(fail.error, Value(makeError("TypeError", "bad input", object({{"code", "E_BAD"}}))));

  // A returned target, called twice, released: the owner sees it disposed.
  {
    auto counter = settle(pipe, pull(main.call("makeCounter", {10})));
    ASSERT_TRUE(counter.ok());
    Stub c = *counter.value->as<Stub>();
    EXPECT_EQ(*settle(pipe, pull(c.call("inc", {}))).value, Value(11));
    EXPECT_EQ(*settle(pipe, pull(c.call("inc", {}))).value, Value(12));
    EXPECT_EQ(api->disposed(), 0);
  }
  pipe.pump();
  EXPECT_EQ(api->disposed(), 1);

  // Every call result was released: only main remains exported by the server.
  EXPECT_FALSE(server.broken());
  EXPECT_FALSE(client.broken());
}

// A function that takes its arguments raw (Target::callRaw) gets them off the wire when they
// are plain data, and evaluated otherwise; with raw_calls off, always evaluated. Both answer the
// same way.
class RawCallTest : public ::testing::Test {
protected:
  // What a callee reading kPlainArgs (below) in place sees, through WireArgs or TextTape; an
  // argument that is not an object throws.
  template <class PlainArgs> static void expectPlainArgs(const PlainArgs& args) {
    const auto first = args[0];
    if (!first.isObject()) {
      throw std::runtime_error("not an object");
    }
    const auto list = first.find("list");
    EXPECT_TRUE(list.isArray());
    EXPECT_EQ(list.size(), 2u);
    EXPECT_EQ(list[1].number(), std::optional<double>(2));
    EXPECT_TRUE(first.find("gone").isUndefined());
    EXPECT_FALSE(first.find("gone").present());
    EXPECT_FALSE(first.find("__proto__").present()) << "prototype keys are left out";
    EXPECT_EQ(args[1].string(), std::optional<std::string_view>("x"));
    EXPECT_FALSE(args[2].present());
  }

  Stub mainWith(bool decline) {
    Stub f = makeFunctionStub(
        [this](Args args) {
          ++evaluated;
          return Promise<Value>::resolved("evaluated " + std::to_string(args.size()));
        },
        [this, decline](const WireArgs& args) -> std::optional<Promise<Value>> {
          if (decline) {
            ++declined;
            return std::nullopt;
          }
          ++raw;
          expectPlainArgs(args);
          return Promise<Value>::resolved("raw " + std::to_string(args.size()));
        });
    return makePayloadStub(object({{"f", f}}));
  }

  // Pushes a call of f with `args` (the session's `id`th push) and pulls its result.
  static std::vector<std::string> call(FrameTransport& t, std::string_view args, int id = 1) {
    t.deliver("[\"push\",[\"pipeline\",0,[\"f\"]," + std::string(args) + "]]");
    t.deliver("[\"pull\"," + std::to_string(id) + "]");
    return t.take();
  }

  int evaluated = 0;
  int raw = 0;
  int declined = 0;
};

constexpr std::string_view kPlainArgs =
    R"([{"list":[[1,2]],"gone":["undefined"],"__proto__":{"x":1}},"x"])";

TEST_F(RawCallTest, PlainArgumentsGoRaw) {
  FrameTransport t;
  Session session(t, mainWith(false));
  EXPECT_EQ(call(t, kPlainArgs), std::vector<std::string>{R"(["resolve",1,"raw 2"])"});
  EXPECT_EQ(raw, 1);
  EXPECT_EQ(evaluated, 0);
}

TEST_F(RawCallTest, ArgumentsWithSpecialFormsAreEvaluated) {
  FrameTransport t;
  Session session(t, mainWith(false));
  EXPECT_EQ(call(t, R"([{"when":["date",0]},"x"])"),
            std::vector<std::string>{R"(["resolve",1,"evaluated 2"])"});
  EXPECT_EQ(call(t, R"([["bigint","1"]])", 2),
            std::vector<std::string>{R"(["resolve",2,"evaluated 1"])"});
  EXPECT_EQ(raw, 0);
  EXPECT_EQ(evaluated, 2);
}

TEST_F(RawCallTest, ADecliningCalleeIsCalledWithEvaluatedArguments) {
  FrameTransport t;
  Session session(t, mainWith(true));
  EXPECT_EQ(call(t, kPlainArgs), std::vector<std::string>{R"(["resolve",1,"evaluated 2"])"});
  EXPECT_EQ(declined, 1);
  EXPECT_EQ(evaluated, 1);
}

TEST_F(RawCallTest, WithRawCallsOffEverythingIsEvaluated) {
  FrameTransport t;
  SessionOptions options;
  options.raw_calls = false;
  Session session(t, mainWith(false), options);
  EXPECT_EQ(call(t, kPlainArgs), std::vector<std::string>{R"(["resolve",1,"evaluated 2"])"});
  EXPECT_EQ(raw, 0);
  EXPECT_EQ(evaluated, 1);
}

TEST_F(RawCallTest, AThrowingRawCalleeRejectsTheCall) {
  FrameTransport t;
  Session session(t, mainWith(false));
  const std::vector<std::string> out = call(t, R"(["not an object","x"])");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], R"(["reject",1,["error","Error","not an object"]])");
  EXPECT_FALSE(session.broken());
}

// A function that also reads its arguments from the message text (Target::callText) gets them
// so when the call is in the tightest spelling and its arguments in the common one
// (rpc/text_data.h); otherwise the message is parsed and the raw or evaluated path answers.
class TextCallTest : public RawCallTest {
protected:
  Stub function(bool decline_text) {
    return makeFunctionStub(
        [this](Args args) {
          ++evaluated;
          return Promise<Value>::resolved("evaluated " + std::to_string(args.size()));
        },
        [this](const WireArgs& args) -> std::optional<Promise<Value>> {
          ++raw;
          return Promise<Value>::resolved("raw " + std::to_string(args.size()));
        },
        [this, decline_text](const TextCall& call) -> std::optional<Promise<Value>> {
          if (decline_text) {
            ++declined;
            return std::nullopt;
          }
          if (!call.index()) {
            return std::nullopt;
          }
          ++text;
          expectPlainArgs(call.tape);
          return Promise<Value>::resolved("text " + std::to_string(call.tape.size()));
        });
  }

  int text = 0;
};

TEST_F(TextCallTest, TheTightestSpellingIsReadFromTheText) {
  FrameTransport t;
  Session session(t, makePayloadStub(object({{"f", function(false)}})));
  EXPECT_EQ(call(t, kPlainArgs), std::vector<std::string>{R"(["resolve",1,"text 2"])"});
  // A function called directly (an empty path), as peers call the stubs we hand out.
  FrameTransport direct;
  Session function_session(direct, function(false));
  direct.deliver("[\"push\",[\"pipeline\",0,[]," + std::string(kPlainArgs) + "]]");
  direct.deliver(R"(["pull",1])");
  EXPECT_EQ(direct.take(), std::vector<std::string>{R"(["resolve",1,"text 2"])"});
  EXPECT_EQ(text, 2);
  EXPECT_EQ(raw + evaluated, 0);
  EXPECT_EQ(session.stats().calls_in_from_text, 1u);
  EXPECT_EQ(session.stats().calls_in, 1u);
}

TEST_F(TextCallTest, AnyOtherSpellingIsParsedFirst) {
  FrameTransport t;
  Session session(t, makePayloadStub(object({{"f", function(false)}})));
  // The message spelled otherwise.
  t.deliver("[\"push\", [\"pipeline\",0,[\"f\"]," + std::string(kPlainArgs) + "]]");
  t.deliver(R"(["pull",1])");
  EXPECT_EQ(t.take(), std::vector<std::string>{R"(["resolve",1,"raw 2"])"});
  // Arguments the tape declines: an escape, a fraction, a repeated key, non-ASCII text.
  int id = 2;
  for (std::string_view args :
       {R"(["a\nb"])", R"([1.5])", R"([{"a":1,"a":2}])", "[\"caf\xc3\xa9\"]"}) {
    EXPECT_EQ(call(t, args, id),
              std::vector<std::string>{"[\"resolve\"," + std::to_string(id) + ",\"raw 1\"]"})
        << args;
    ++id;
  }
  // Special forms: evaluated.
  EXPECT_EQ(call(t, R"([{"when":["date",0]}])", id),
            std::vector<std::string>{"[\"resolve\"," + std::to_string(id) + ",\"evaluated 1\"]"});
  EXPECT_EQ(text, 0);
  EXPECT_EQ(raw, 5);
  EXPECT_EQ(evaluated, 1);
  EXPECT_EQ(session.stats().calls_in_from_text, 0u);
}

TEST_F(TextCallTest, ADecliningTextCalleeGetsTheParsedArguments) {
  FrameTransport t;
  Session session(t, makePayloadStub(object({{"f", function(true)}})));
  EXPECT_EQ(call(t, kPlainArgs), std::vector<std::string>{R"(["resolve",1,"raw 2"])"});
  EXPECT_EQ(declined, 1);
  EXPECT_EQ(raw, 1);
}

TEST_F(TextCallTest, WithRawCallsOffEverythingIsEvaluated) {
  FrameTransport t;
  SessionOptions options;
  options.raw_calls = false;
  Session session(t, makePayloadStub(object({{"f", function(false)}})), options);
  EXPECT_EQ(call(t, kPlainArgs), std::vector<std::string>{R"(["resolve",1,"evaluated 2"])"});
  EXPECT_EQ(text + raw, 0);
}

TEST_F(TextCallTest, AThrowingTextCalleeRejectsTheCall) {
  FrameTransport t;
  Session session(t, makePayloadStub(object({{"f", function(false)}})));
  const std::vector<std::string> out = call(t, R"(["not an object","x"])");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], R"(["reject",1,["error","Error","not an object"]])");
  EXPECT_FALSE(session.broken());
}

TEST_F(TextCallTest, ProtocolErrorsAreTheParsersToReport) {
  // An unknown export in the tightest spelling: the session aborts as it always did.
  FrameTransport t;
  Session session(t, makePayloadStub(object({{"f", function(false)}})));
  t.deliver("[\"push\",[\"pipeline\",7,[\"f\"]," + std::string(kPlainArgs) + "]]");
  EXPECT_TRUE(session.broken());
  const std::vector<std::string> out = t.take();
  ASSERT_FALSE(out.empty());
  EXPECT_NE(out.back().find("no such entry on exports table: 7"), std::string::npos) << out.back();
  EXPECT_EQ(text, 0);
}

TEST(SessionPairTest, PendingCallsFailWhenTheSessionBreaks) {
  Pipe pipe;
  Session server(pipe.server_end, makeStub(std::make_shared<test::InteropApi>()));
  Session client(pipe.client_end, Stub());
  Promise<Value> pending = pull(client.main().call("hello", {"x"}));
  Value seen;
  client.onBroken([&seen](const Value& e) { seen = e; });
  static_cast<MessageTransport::Handler*>(pipe.client_end.handler_)->onClosed(1001, "going away");
  ASSERT_TRUE(pending.settled());
  EXPECT_FALSE(pending.outcome().ok());
  EXPECT_EQ(pending.outcome().error,
            Value(makeError("Error", "Peer closed WebSocket: 1001 going away")));
  EXPECT_EQ(seen, pending.outcome().error);
  // Later calls fail the same way.
  Promise<Value> later = pull(client.main().call("hello", {"y"}));
  ASSERT_TRUE(later.settled());
  EXPECT_FALSE(later.outcome().ok());
}

} // namespace
} // namespace catalyst::rpc
