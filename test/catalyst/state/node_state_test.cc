#include <gtest/gtest.h>

#include "catalyst/state/node_state.h"

#include "support/state_builders.h"

namespace catalyst::state {
namespace {

using test::path;
using test::peer;
using test::StateBuilder;

StateDelta delta(std::initializer_list<DeltaOp> ops) { return StateDelta{ops}; }

TEST(NodeStateTest, ApplyCountsGenerationsAndNoOps) {
  NodeState s = StateBuilder("node-a").build();
  const uint64_t g = s.generation();
  EXPECT_EQ(s.apply(delta({op::RemovePeer{"ghost"}, op::RemoveLocalRoute{"ghost"},
                           op::ClearBest{{"x", "y"}}, op::SelectBest{{"x", "y"}, "p"}})),
            4u);
  EXPECT_EQ(s.generation(), g + 1);
}

TEST(NodeStateTest, PathsAreFoundByRouteAndByPeer) {
  NodeState s = StateBuilder("node-c")
                    .withPeer(peer("node-a"))
                    .withPeer(peer("node-b"))
                    .withPath(path("node-a", "books", {}))
                    .withPath(path("node-b", "books", {"node-a"}))
                    .build();
  const RouteKey key{"books", "node-a"};
  ASSERT_NE(s.findCandidates(key), nullptr);
  EXPECT_EQ(s.findCandidates(key)->size(), 2u);
  EXPECT_EQ(s.findBest(key)->peer, "node-a");
  EXPECT_EQ(s.keysFrom("node-b"), std::vector<state::RouteKey>{key});

  EXPECT_EQ(s.apply(delta({op::RemovePath{"node-a", key}})), 0u);
  EXPECT_TRUE(s.keysFrom("node-a").empty());
  EXPECT_EQ(s.findBest(key), nullptr) << "the Loc-RIB points at a removed path";
  EXPECT_EQ(s.apply(delta({op::SelectBest{key, "node-b"}})), 0u);
  EXPECT_EQ(s.findBest(key)->peer, "node-b");

  EXPECT_EQ(s.apply(delta({op::RemovePath{"node-b", key}, op::ClearBest{key}})), 0u);
  EXPECT_EQ(s.findCandidates(key), nullptr);
  EXPECT_TRUE(s.learned().empty());
  EXPECT_TRUE(s.learnedKeysSorted().empty());
}

TEST(NodeStateTest, UpsertReplacesAndEqualityIsByValue) {
  NodeState a = StateBuilder().withLocal(test::route("books")).build();
  NodeState b = StateBuilder().withLocal(test::route("books")).build();
  EXPECT_EQ(a, b);
  b.apply(delta({op::UpsertLocalRoute{
      LocalRoute{test::route("books", "http://10.0.0.1:1"), RouteSource::Admin}}}));
  EXPECT_NE(a, b);
  EXPECT_EQ(b.findLocalRoute("books")->route.endpoint, "http://10.0.0.1:1");
  EXPECT_EQ(b.localRoutes().size(), 1u);
}

} // namespace
} // namespace catalyst::state
