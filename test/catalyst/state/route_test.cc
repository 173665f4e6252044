#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalyst/common/hash.h"
#include "catalyst/state/route.h"

#include "support/state_builders.h"

namespace catalyst::state {
namespace {

using test::path;

TEST(RouteTest, ProtocolNamesRoundTrip) {
  for (auto p : {Protocol::Http, Protocol::HttpGraphql, Protocol::HttpGql, Protocol::HttpGrpc,
                 Protocol::Tcp, Protocol::Udp}) {
    EXPECT_EQ(parseProtocol(toString(p)), p);
  }
  EXPECT_EQ(parseProtocol("HTTP"), std::nullopt);
  EXPECT_EQ(parseProtocol("sctp"), std::nullopt);
}

TEST(RouteTest, NameValidation) {
  struct Case {
    std::string name;
    bool ok;
  };
  const Case cases[] = {
      {"books-api", true},
      {"a", true},
      {"Books.API_v2", true},
      {"", false},
      {"-books", false},
      {"books-", false},
      {"books api", false},
      {"bööks", false},
      {std::string(253, 'a'), true},
      {std::string(254, 'a'), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(validateName(c.name).has_value(), c.ok) << "name '" << c.name << "'";
  }
}

TEST(RouteTest, RouteValidationNamesTheField) {
  Route r = test::route("books");
  EXPECT_TRUE(validateRoute(r));

  Route long_endpoint = r;
  long_endpoint.endpoint = std::string(2049, 'x');
  EXPECT_EQ(validateRoute(long_endpoint).error().message, "endpoint: longer than 2048 characters");

  Route many_tags = r;
  many_tags.tags.assign(33, "t");
  EXPECT_EQ(validateRoute(many_tags).error().message, "tags: more than 32 tags");

  Route bad_name = r;
  bad_name.name = "x y";
  EXPECT_EQ(validateRoute(bad_name).error().message.substr(0, 6), "name: ");

  Route port_zero = r;
  port_zero.envoy_port = 0;
  EXPECT_FALSE(validateRoute(port_zero));

  // JSON cannot spell these, so they must not reach the state files.
  for (const double bad :
       {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    Route odd_time = r;
    odd_time.response_time_ms = bad;
    EXPECT_EQ(validateRoute(odd_time).error().message, "responseTimeMs: must be a finite number");
  }
  Route negative_time = r;
  negative_time.response_time_ms = -1;
  EXPECT_EQ(validateRoute(negative_time).error().message,
            "responseTimeMs: must be a non-negative number");
}

TEST(RouteTest, BestPathRules) {
  // 1. shorter nodePath wins, whatever the names.
  EXPECT_TRUE(preferredOver(path("z", "r", {"o"}), path("a", "r", {"x", "o"})));
  // 2. not stale over stale.
  EXPECT_TRUE(preferredOver(path("z", "r", {"o"}), path("a", "r", {"o"}, /*stale=*/true)));
  // 3. health up (or unknown) over down.
  LearnedPath down = path("a", "r", {"o"});
  down.route.health_status = HealthStatus::Down;
  EXPECT_TRUE(preferredOver(path("z", "r", {"o"}), down));
  // 4. lowest neighbour name.
  EXPECT_TRUE(preferredOver(path("a", "r", {"o"}), path("b", "r", {"o"})));
  EXPECT_FALSE(preferredOver(path("b", "r", {"o"}), path("a", "r", {"o"})));
  // Irreflexive.
  EXPECT_FALSE(preferredOver(path("a", "r", {"o"}), path("a", "r", {"o"})));

  EXPECT_EQ(preferenceReason(path("z", "r", {"o"}), path("a", "r", {"x", "o"})),
            "shorter nodePath (2 < 3)");
  EXPECT_EQ(preferenceReason(path("a", "r", {"o"}), path("b", "r", {"o"})),
            "lower neighbour name (a < b)");
}

} // namespace
} // namespace catalyst::state

namespace catalyst::state {
namespace {

// The open-addressing tables take RouteKeyHash's output as it is (is_avalanching): similar
// keys must spread over every bit, or lookups degrade into long probes.
TEST(RouteKeyHashTest, SimilarKeysSpreadOverEveryBit) {
  const RouteKeyHash hash;
  std::set<std::size_t> seen;
  std::vector<int> low(1 << 12, 0);
  std::vector<int> high(1 << 12, 0);
  int n = 0;
  for (const char* origin : {"node-a", "node-b", "a-much-longer-origin-node-name"}) {
    for (int i = 0; i < 40000; ++i, ++n) {
      const std::size_t h = hash(RouteKey{"svc-" + std::to_string(i), origin});
      seen.insert(h);
      ++low[h & 0xfff];
      ++high[h >> 52];
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n)) << "no 64-bit collisions";
  // 120 000 keys over 4096 buckets: ~29 each; a poor mix piles them up.
  EXPECT_LT(*std::max_element(low.begin(), low.end()), 70);
  EXPECT_LT(*std::max_element(high.begin(), high.end()), 70);
  EXPECT_NE(hash(RouteKey{"ab", "c"}), hash(RouteKey{"a", "bc"}));
  EXPECT_NE(hash(RouteKey{"books", "node-a"}), hash(RouteKey{"node-a", "books"}));
  EXPECT_EQ(hash(RouteKey{"books", "node-a"}), hash(RouteKey{"books", "node-a"}));
}

// hash::bytes reads a string's last 0-7 bytes with fixed-size loads: every byte must still
// count, at every length and position, and the length too.
TEST(HashBytesTest, EveryByteAndTheLengthCount) {
  std::set<uint64_t> seen;
  int n = 0;
  for (std::size_t length = 0; length <= 24; ++length) {
    const std::string base(length, 'a');
    EXPECT_TRUE(seen.insert(hash::bytes(base, 7)).second) << "length " << length;
    ++n;
    for (std::size_t i = 0; i < length; ++i) {
      for (char c : {'b', '\0', '\xff'}) {
        std::string changed = base;
        changed[i] = c;
        EXPECT_TRUE(seen.insert(hash::bytes(changed, 7)).second)
            << "length " << length << ", byte " << i << " = " << static_cast<int>(c);
        ++n;
      }
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  EXPECT_NE(hash::bytes("abc", 1), hash::bytes("abc", 2)) << "the seed counts";
}

} // namespace
} // namespace catalyst::state
