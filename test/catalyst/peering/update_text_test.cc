// updateCallFromText() against the general reader it stands in for (updateBatchFromText() over
// the session's tape): whatever the one-pass reader takes, it must read exactly as the general
// one does, and it must decline whatever the general one refuses.

#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalyst/peering/wire.h"
#include "catalyst/rpc/text_data.h"

namespace catalyst::peering {
namespace {

using state::UpdateItem;

constexpr std::size_t kDepth = 64;
constexpr std::size_t kMax = 1000;

const std::string kPeerInfo = R"({"name":"node-a","domains":[["example.local"]]})";

// What the general reader makes of an update call's argument list: nullopt when it (or the
// tape) refuses; the items and endOfRib otherwise.
struct General {
  std::vector<UpdateItem> items;
  bool end_of_rib = false;
};
std::optional<General> general(std::string_view args, std::size_t max_depth = kDepth) {
  rpc::TextTape tape;
  if (!tape.parseArgs(args, max_depth)) {
    return std::nullopt;
  }
  const rpc::TextData arg = tape[0];
  const rpc::TextData update = arg.find("update");
  if (!update.present() || !arg.find("peerInfo").isObject()) {
    return std::nullopt;
  }
  auto items = updateBatchFromText(update, kMax);
  if (!items) {
    return std::nullopt;
  }
  return General{std::move(*items), arg.find("endOfRib").boolean().value_or(false)};
}

std::string call(const std::string& batch, const std::string& extra = "") {
  return R"([{"peerInfo":)" + kPeerInfo + R"(,"update":)" + batch + extra + "}]";
}

std::string encoded(const std::vector<UpdateItem>& items) {
  const rpc::Value v = updateBatchEncoded(std::span<const UpdateItem>(items));
  return v.as<rpc::Encoded>()->text;
}

// The one-pass reader, with a tape and scratch of its own.
struct Fast {
  rpc::TextTape tape;
  std::string scratch;
  std::optional<UpdateCallText> read(std::string_view args, std::size_t max_depth = kDepth) {
    return updateCallFromText(args, max_depth, kMax, tape, scratch);
  }
};

// Both readers on `args`: the one-pass one takes it and reads it as the general one does.
void expectTakenAlike(const std::string& args) {
  Fast reader;
  const std::optional<UpdateCallText> fast = reader.read(args);
  const std::optional<General> slow = general(args);
  ASSERT_TRUE(slow.has_value()) << "the general reader refuses " << args;
  ASSERT_TRUE(fast.has_value()) << "declined: " << args;
  EXPECT_EQ(fast->items, slow->items) << args;
  EXPECT_EQ(fast->end_of_rib, slow->end_of_rib) << args;
  auto caller = peerInfoFromText(fast->caller.find("peerInfo"));
  ASSERT_TRUE(caller) << caller.error().message;
  EXPECT_EQ(caller->name, "node-a");
  for (std::size_t i = 1; i < fast->items.size(); ++i) {
    // Runs of equal paths share one list, as with the general reader.
    EXPECT_EQ(fast->items[i].node_path.sharesWith(fast->items[i - 1].node_path),
              slow->items[i].node_path.sharesWith(slow->items[i - 1].node_path))
        << "item " << i;
  }
}

UpdateItem randomItem(std::mt19937& rng, int i) {
  auto coin = [&rng] { return std::uniform_int_distribution<int>(0, 1)(rng) == 1; };
  UpdateItem item;
  item.route.name = "svc-" + std::to_string(i);
  item.action = std::uniform_int_distribution<int>(0, 5)(rng) == 0 ? UpdateItem::Action::Remove
                                                                   : UpdateItem::Action::Add;
  if (item.action == UpdateItem::Action::Add) {
    if (coin()) {
      item.route.endpoint = "http://10.1.0." + std::to_string(i % 250) + ":8080";
    }
    item.route.protocol =
        static_cast<state::Protocol>(std::uniform_int_distribution<int>(0, 5)(rng));
    if (coin()) {
      item.route.region = "eu-west-" + std::to_string(i % 3);
    }
    if (coin()) {
      item.route.tags = {"v1", "tag-" + std::to_string(i % 7)};
    }
    if (coin()) {
      item.route.envoy_port = static_cast<uint16_t>(10000 + i % 5000);
    }
    if (coin()) {
      item.route.envoy_address = "127.0.0." + std::to_string(1 + i % 9);
    }
    if (coin()) {
      item.route.health_status = coin() ? state::HealthStatus::Up : state::HealthStatus::Down;
    }
    if (coin()) {
      item.route.response_time_ms = static_cast<double>(i % 100);
    }
    if (coin()) {
      item.route.last_checked = "2026-11-28T12:00:00Z";
    }
  }
  // Paths in runs, as a batch has them.
  item.node_path = (i / 4) % 2 == 0 ? state::NodePath{"node-b", "node-a"}
                                    : state::NodePath{"node-b", "node-x", "node-a"};
  item.origin_node = item.node_path.back();
  return item;
}

TEST(UpdateTextTest, OurEncodersBatchesAreTakenAndReadAsTheGeneralReaderReadsThem) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<UpdateItem> items;
    const int n = std::uniform_int_distribution<int>(0, 60)(rng);
    for (int i = 0; i < n; ++i) {
      items.push_back(randomItem(rng, round * 100 + i));
    }
    expectTakenAlike(call(encoded(items)));
    expectTakenAlike(call(encoded(items), R"(,"endOfRib":true)"));
  }
}

TEST(UpdateTextTest, TheReferencesSpellingIsTakenToo) {
  // As a TypeScript node sends it (captured in wire_test.cc): unset members as ["undefined"],
  // members in its own order, whitespace allowed between tokens.
  expectTakenAlike(
      R"([{"peerInfo":)" + kPeerInfo +
      R"(,"update":{"updates":[[{"action":"add","route":{"name":"books-api","protocol":"http:graphql","endpoint":"http://127.0.0.1:8081/graphql","region":"us-east","tags":[["v1"]],"envoyPort":["undefined"],"envoyAddress":["undefined"],"healthStatus":["undefined"],"responseTimeMs":["undefined"],"lastChecked":["undefined"]},"nodePath":[["node-a"]],"originNode":"node-a"}]]}}])");
  expectTakenAlike(
      "[ {\"endOfRib\" : false, \"update\": {\"updates\": [[ {\"originNode\":\"node-a\", "
      "\"nodePath\":[[\"node-a\"]], \"route\": {\"protocol\":\"tcp\",\"name\":\"db\","
      "\"responseTimeMs\":null}, \"action\":\"add\"} ]]},\n\"peerInfo\": " +
      kPeerInfo + "} ]");
  expectTakenAlike(call(R"({"updates":[[]]})", R"(,"endOfRib":["undefined"])"));
  // Corners: -0, null on a removal, empty paths in a row (shared, as the general reader shares
  // them).
  expectTakenAlike(call(
      R"({"updates":[[{"action":"add","route":{"name":"db","protocol":"tcp","responseTimeMs":-0},"nodePath":[[]],"originNode":"node-a"},{"action":"remove","route":{"name":"db2","responseTimeMs":null},"nodePath":[[]],"originNode":"node-a"}]]})"));
  // At the least nesting the session may allow, a route member's ["undefined"] is still read.
  Fast reader;
  const std::string deep = call(
      R"({"updates":[[{"action":"add","route":{"name":"db","protocol":"tcp","tags":["undefined"]},"nodePath":[["node-a"]],"originNode":"node-a"}]]})");
  ASSERT_TRUE(general(deep, 9).has_value());
  const std::optional<UpdateCallText> fast = reader.read(deep, 9);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->items, general(deep, 9)->items);
}

// Calls the general reader takes but the one-pass one leaves to it.
TEST(UpdateTextTest, OtherSpellingsAreDeclinedAndLeftToTheGeneralReader) {
  const std::string item =
      R"({"action":"add","route":{"name":"db","protocol":"tcp"},"nodePath":[["node-a"]],"originNode":"node-a"})";
  const std::vector<std::string> declined{
      // an unknown member (the general reader skips it)
      call(
          R"({"updates":[[{"action":"add","route":{"name":"db","protocol":"tcp","x":1},"nodePath":[["node-a"]],"originNode":"node-a"}]]})"),
      call(R"({"updates":[[)" + item + R"(]],"more":1})"),
      call(R"({"updates":[[)" + item + R"(]]})", R"(,"extra":true)"),
      // endOfRib that is not a boolean (the general reader reads it as false)
      call(R"({"updates":[[)" + item + R"(]]})", R"(,"endOfRib":1)"),
      // a second argument
      R"([{"peerInfo":)" + kPeerInfo + R"(,"update":{"updates":[[]]}},1])",
  };
  for (const std::string& args : declined) {
    EXPECT_TRUE(general(args).has_value()) << args;
    EXPECT_FALSE(Fast().read(args).has_value()) << args;
  }
  // A session limit on nesting below what such a call needs: the tape decides.
  const std::string args = call(R"({"updates":[[)" + item + R"(]]})");
  EXPECT_TRUE(Fast().read(args, 9).has_value());
  EXPECT_FALSE(Fast().read(args, 8).has_value());
}

// Calls the general reader refuses (or the tape declines): never taken.
TEST(UpdateTextTest, WhatTheGeneralReaderRefusesIsNeverTaken) {
  auto with = [](const std::string& route,
                 const std::string& rest = R"("nodePath":[["node-a"]],"originNode":"node-a")",
                 const std::string& action = "add") {
    return call(R"({"updates":[[{"action":")" + action + R"(","route":)" + route + "," + rest +
                "}]]}");
  };
  std::string long_path = R"("nodePath":[[)";
  for (int i = 0; i < 65; ++i) {
    long_path += (i ? ",\"n" : "\"n") + std::to_string(i) + "\"";
  }
  long_path += R"(]],"originNode":"n64")";
  std::string many_tags = R"({"name":"db","protocol":"tcp","tags":[[)";
  for (int i = 0; i < 33; ++i) {
    many_tags += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  }
  many_tags += "]]}";
  std::string oversize = R"({"updates":[[)";
  for (std::size_t i = 0; i <= kMax; ++i) {
    oversize +=
        (i ? "," : "") +
        std::string(
            R"({"action":"remove","route":{"name":"db"},"nodePath":[["node-a"]],"originNode":"node-a"})");
  }
  oversize += "]]}";
  const std::vector<std::string> refused{
      with(R"({"name":"-bad-","protocol":"tcp"})"),
      with(R"({"name":"db"})"), // an add without its protocol
      with(R"({"name":"db","protocol":"smtp"})"),
      with(R"({"name":"db","protocol":"tcp","envoyPort":0})"),
      with(R"({"name":"db","protocol":"tcp","envoyPort":70000})"),
      with(R"({"name":"db","protocol":"tcp","envoyPort":-1})"),
      with(R"({"name":"db","protocol":"tcp","envoyPort":"80"})"),
      with(R"({"name":"db","protocol":"tcp","healthStatus":"sideways"})"),
      with(R"({"name":"db","protocol":"tcp","responseTimeMs":-3})"),
      with(R"({"name":["undefined"],"protocol":"tcp"})"),
      with(R"({"protocol":"tcp"})"),
      with(many_tags),
      with(R"({"name":"db","protocol":"tcp"})", long_path),
      with(R"({"name":"db","protocol":"tcp"})", R"("nodePath":[["node-a"]])"),
      with(R"({"name":"db","protocol":"tcp"})", R"("nodePath":"node-a","originNode":"node-a")"),
      with(R"({"name":"db","protocol":"tcp"})", R"("nodePath":[["node-a"]],"originNode":7)"),
      with(R"({"name":"db","protocol":"tcp"})", R"("nodePath":[["node-a"]],"originNode":"node-a")",
           "frob"),
      call(R"({})"),
      call(R"({"updates":5})"),
      call(oversize),
      R"([{"update":{"updates":[[]]}}])", // no peerInfo
      R"([{"peerInfo":5,"update":{"updates":[[]]}}])",
      // repeated members: which one counts is the session parser's business
      with(R"({"name":"db","name":"db2","protocol":"tcp"})"),
      // escapes, non-ASCII text, fractions: the tape declines them
      with(R"({"name":"d\u0062","protocol":"tcp"})"),
      with(R"({"name":"db","protocol":"tcp","region":"caf)"
           "\xc3\xa9"
           R"("})"),
      with(R"({"name":"db","protocol":"tcp","responseTimeMs":1.5})"),
      with(R"({"name":"db","protocol":"tcp","envoyPort":080})"),
      // not JSON
      call(R"({"updates":[[)"),
      call(R"({"updates":[[]]})") + " x",
  };
  for (const std::string& args : refused) {
    EXPECT_FALSE(general(args).has_value()) << "the general reader takes " << args;
    EXPECT_FALSE(Fast().read(args).has_value()) << args;
  }
}

// Random edits of valid calls: whatever the one-pass reader still takes, the general one takes
// and reads alike.
TEST(UpdateTextTest, MutatedCallsAreReadAlikeOrDeclined) {
  std::mt19937 rng(11);
  std::vector<UpdateItem> items;
  for (int i = 0; i < 6; ++i) {
    items.push_back(randomItem(rng, i));
  }
  const std::string base = call(encoded(items), R"(,"endOfRib":true)");
  const std::string alphabet = "{}[],:\"0a-_ .\\un9";
  int taken = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string args = base;
    const int edits = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int e = 0; e < edits && !args.empty(); ++e) {
      const std::size_t at = std::uniform_int_distribution<std::size_t>(0, args.size() - 1)(rng);
      const char c =
          alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
      switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
      case 0:
        args.erase(at, 1);
        break;
      case 1:
        args.insert(at, 1, c);
        break;
      default:
        args[at] = c;
      }
    }
    Fast reader;
    const std::optional<UpdateCallText> fast = reader.read(args);
    if (!fast) {
      continue;
    }
    ++taken;
    const std::optional<General> slow = general(args);
    ASSERT_TRUE(slow.has_value()) << "taken but refused by the general reader: " << args;
    ASSERT_EQ(fast->items, slow->items) << args;
    ASSERT_EQ(fast->end_of_rib, slow->end_of_rib) << args;
  }
  EXPECT_GT(taken, 100) << "the edits should leave some calls valid (inside strings, say)";
}

} // namespace
} // namespace catalyst::peering
