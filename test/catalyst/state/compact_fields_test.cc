// The compact field types of learned routes: NodePath (a shared, copy-on-write list of node
// ids) and RareString (an optional string that costs 8 bytes when absent). Both must behave
// exactly like the std types they replace.

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalyst/state/node_path.h"
#include "catalyst/state/rare_string.h"

namespace catalyst::state {
namespace {

TEST(NodePathTest, ReadsLikeAVector) {
  const NodePath path{"node-b", "node-a"};
  EXPECT_EQ(path.size(), 2u);
  EXPECT_FALSE(path.empty());
  EXPECT_EQ(path.front(), "node-b");
  EXPECT_EQ(path.back(), "node-a");
  EXPECT_EQ(path[1], "node-a");
  EXPECT_EQ(std::vector<std::string>(path.begin(), path.end()),
            (std::vector<std::string>{"node-b", "node-a"}));
  const std::vector<std::string>& as_vector = path;
  EXPECT_EQ(as_vector.size(), 2u);
  const NodePath empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_EQ(NodePath(std::vector<std::string>{}), empty);
}

TEST(NodePathTest, CopiesShareAndWritesCopyFirst) {
  NodePath a{"node-b", "node-a"};
  NodePath b = a;
  EXPECT_TRUE(a.sharesWith(b));
  b.push_back("node-x");
  EXPECT_FALSE(a.sharesWith(b));
  EXPECT_EQ(a, (std::vector<std::string>{"node-b", "node-a"})); // untouched
  EXPECT_EQ(b, (std::vector<std::string>{"node-b", "node-a", "node-x"}));
  NodePath c{"node-c"};
  c.insert(c.end(), a.begin(), a.end());
  EXPECT_EQ(c, (std::vector<std::string>{"node-c", "node-b", "node-a"}));
  c.insert(c.begin(), a.begin(), a.begin() + 1);
  EXPECT_EQ(c, (std::vector<std::string>{"node-b", "node-c", "node-b", "node-a"}));
  c.clear();
  EXPECT_TRUE(c.empty());
}

TEST(NodePathTest, EqualityIsByContent) {
  EXPECT_EQ(NodePath({"x", "y"}), NodePath({"x", "y"}));
  EXPECT_FALSE(NodePath({"x", "y"}).sharesWith(NodePath({"x", "y"})));
  EXPECT_NE(NodePath({"x", "y"}), NodePath({"y", "x"}));
  EXPECT_NE(NodePath({"x"}), NodePath());
}

TEST(RareStringTest, BehavesLikeAnOptionalString) {
  RareString absent;
  EXPECT_FALSE(absent.has_value());
  EXPECT_FALSE(absent);
  EXPECT_EQ(absent.value_or("none"), "none");
  EXPECT_THROW((void)absent.value(), std::bad_optional_access);
  EXPECT_EQ(absent, RareString(std::nullopt));
  EXPECT_EQ(absent, std::optional<std::string>());

  RareString region = std::string("eu-west");
  EXPECT_TRUE(region);
  EXPECT_EQ(*region, "eu-west");
  EXPECT_EQ(region->size(), 7u);
  EXPECT_EQ(region, std::optional<std::string>("eu-west"));
  EXPECT_NE(region, absent);

  RareString copy = region; // a deep copy
  *copy = "us-east";
  EXPECT_EQ(*region, "eu-west");
  EXPECT_NE(copy, region);

  const std::optional<std::string> back = copy;
  EXPECT_EQ(back, std::optional<std::string>("us-east"));
  copy.reset();
  EXPECT_FALSE(copy);
  copy.emplace(3, 'z');
  EXPECT_EQ(*copy, "zzz");
  copy = std::nullopt;
  EXPECT_FALSE(copy);
  RareString moved = std::move(region);
  EXPECT_EQ(*moved, "eu-west");
  EXPECT_EQ(sizeof(RareString), sizeof(void*));
}

} // namespace
} // namespace catalyst::state
