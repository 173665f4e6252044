#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "catalyst/rpc/plain_json.h"

namespace catalyst::rpc {
namespace {

TEST(PlainJsonTest, PlainValuesRoundTrip) {
  const Value v = object({{"name", "books"},
                          {"port", 10001},
                          {"up", true},
                          {"none", nullptr},
                          {"tags", Array{"a", "b"}},
                          {"nested", object({{"x", 1.5}})}});
  const boost::json::value j = toPlainJson(v);
  EXPECT_EQ(boost::json::serialize(j),
            R"({"name":"books","port":10001,"up":true,"none":null,"tags":["a","b"],)"
            R"("nested":{"x":1.5E0}})");
  EXPECT_EQ(fromPlainJson(j), v);
}

TEST(PlainJsonTest, UndefinedMembersAreLeftOutAndOtherValuesBecomeNull) {
  const Value v = object({{"gone", Value()}, {"err", makeError("Error", "x")}});
  EXPECT_EQ(boost::json::serialize(toPlainJson(v)), R"({"err":null})");
  EXPECT_EQ(fromPlainJson(boost::json::parse("7")), Value(7));
}

} // namespace
} // namespace catalyst::rpc
