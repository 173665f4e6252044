#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "catalyst/rpc/text_data.h"
#include "catalyst/rpc/wire_data.h"

#include "support/show_plain.h"

namespace catalyst::rpc {
namespace {

// The arguments `args` (a JSON array of values in Cap'n Web's encoding) as WireData reads them
// from the parsed text, and whether the tape took them and read them the same.
void expectTakenAndSame(std::string_view args) {
  SCOPED_TRACE(std::string(args));
  TextTape tape;
  ASSERT_TRUE(tape.parseArgs(args, 60));
  const boost::json::value parsed = boost::json::parse(args);
  const WireArgs wire(parsed.as_array());
  ASSERT_TRUE(wire.plain());
  ASSERT_EQ(tape.size(), wire.size());
  for (std::size_t i = 0; i <= wire.size(); ++i) { // one past the end: absent in both
    EXPECT_EQ(test::showPlain(tape[i]), test::showPlain(wire[i])) << "argument " << i;
  }
}

TEST(TextTapeTest, ReadsPlainDataAsWireDataDoes) {
  expectTakenAndSame("[]");
  expectTakenAndSame(R"([null,true,false,0,-0,7,-42,123456789012345,"","text"])");
  expectTakenAndSame(R"([{"a":1,"b":[[1,[[2,3]],{"c":["undefined"]}]],"d":{}}])");
  expectTakenAndSame(R"([[[]],["undefined"],{"__proto__":1,"toJSON":2,"constructor":3,"k":4}])");
  expectTakenAndSame(" [ { \"a\" : [ [ 1 , 2 ] ] ,\n\t\"b\" : [ \"undefined\" ] } , \"x\" ] ");
  // Strings long enough for the word-at-a-time scan, with every kind of printable byte.
  expectTakenAndSame(
      R"(["http://10.1.39.249:8080/path?q=1&r=[x]#frag {ok} ~!@$%^*()_+-=|;':,./<>",)"
      R"("0123456789abcdef0123456789abcdef"])");
  // Lookups: a member, a missing one, a prototype key (never found), an index past the end.
  TextTape tape;
  ASSERT_TRUE(tape.parseArgs(R"([{"k":[[5,6]],"toString":1}])", 60));
  EXPECT_EQ(tape[0].find("k")[1].number(), std::optional<double>(6));
  EXPECT_FALSE(tape[0].find("nope").present());
  EXPECT_FALSE(tape[0].find("toString").present());
  EXPECT_FALSE(tape[0].find("k")[2].present());
  EXPECT_FALSE(tape[0].find("k")[0].isObject());
}

TEST(TextTapeTest, DeclinesAllButTheCommonSpelling) {
  const std::vector<std::string_view> declined = {
      // Escapes, control characters and non-ASCII text in strings.
      R"(["a\"b"])", R"(["a\\b"])", R"(["\u0041"])", "[\"a\tb\"]", "[\"caf\xc3\xa9\"]",
      R"([{"k\n":1}])",
      // Numbers: fractions, exponents, leading zeros, more than 15 digits, bare signs.
      "[1.5]", "[1e3]", "[1E3]", "[01]", "[-01]", "[1234567890123456]", "[-]", "[+1]",
      // A repeated key.
      R"([{"a":1,"a":2}])", R"([{"a":{"b":1,"b":1}}])",
      // Special forms and arrays that are not escaped.
      R"([["date",0]])", R"([["export",1]])", "[[1]]", "[[[1],[2]]]", R"([["undefined",1]])",
      "[[\"bigint\",\"1\"]]",
      // Not JSON, or more than one value.
      "[", "]", "[1,]", "[,1]", "[1 2]", "[1]x", "x[1]", "[{\"a\" 1}]", "[{\"a\":}]", "[{,}]",
      "[tru]", "[nul]", "[\"open]", "{}"};
  for (std::string_view text : declined) {
    TextTape tape;
    EXPECT_FALSE(tape.parseArgs(text, 60)) << text;
  }
}

TEST(TextTapeTest, DeclinesObjectsOfManyMembers) {
  // The repeated-key check is quadratic: a big object goes to the session's parser.
  auto object = [](int members) {
    std::string text = "[{";
    for (int i = 0; i < members; ++i) {
      text += fmt::format("{}\"k{}\":{}", i == 0 ? "" : ",", i, i);
    }
    return text + "}]";
  };
  TextTape tape;
  const std::string most = object(32); // the tape reads from it: it must outlive the reading
  EXPECT_TRUE(tape.parseArgs(most, 60));
  EXPECT_EQ(tape[0].find("k31").number(), std::optional<double>(31));
  const std::string one_more = object(33);
  EXPECT_FALSE(tape.parseArgs(one_more, 60));
  const std::string huge = object(100000);
  EXPECT_FALSE(tape.parseArgs(huge, 60));
}

TEST(TextTapeTest, DeclinesWhatIsNestedDeeperThanTheLimit) {
  // Objects count one level each, escaped arrays two (the escape is an array too).
  TextTape tape;
  EXPECT_TRUE(tape.parseArgs(R"([{"a":{"b":{}}}])", 4));
  EXPECT_FALSE(tape.parseArgs(R"([{"a":{"b":{}}}])", 3));
  EXPECT_TRUE(tape.parseArgs("[[[[[]]]]]", 5));
  EXPECT_FALSE(tape.parseArgs("[[[[[]]]]]", 4));
  // Deep enough to overflow a stack if the limit were not checked before each level.
  std::string deep = "[";
  for (int i = 0; i < 100000; ++i) {
    deep += i % 2 == 0 ? R"({"a":)" : "[[";
  }
  EXPECT_FALSE(tape.parseArgs(deep, 256));
}

} // namespace
} // namespace catalyst::rpc
