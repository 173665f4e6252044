#include <set>
#include <string>

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

// A route whose last path is removed keeps its entry (and key) until its decision: a lookup by
// key finds it, a copy of the state has it, and a path coming back or the ClearBest ends it.
TEST(NodeStateTest, ARouteWithoutPathsKeepsItsKeyUntilItsDecision) {
  NodeState s = StateBuilder("node-c")
                    .withPeer(peer("node-a"))
                    .withPath(path("node-a", "books", {}))
                    .withPath(path("node-a", "films", {}))
                    .build();
  const RouteKey books{"books", "node-a"};
  EXPECT_EQ(s.apply(delta({op::RemovePath{"node-a", books}})), 0u);
  const NodeState::LearnedRoute* left = s.findLearned(books);
  ASSERT_NE(left, nullptr);
  EXPECT_TRUE(left->paths.empty());
  EXPECT_TRUE(left->key() == books);
  const NodeState copy = s;
  EXPECT_EQ(copy, s);
  ASSERT_NE(copy.findLearned(books), nullptr);
  EXPECT_TRUE(copy.findLearned(books)->key() == books);
  std::size_t seen = 0;
  for (const auto& [key, route] : s.learned()) {
    seen += key == books ? 1 : 0;
  }
  EXPECT_EQ(seen, 1u);

  // The path comes back before the decision: the route is whole again.
  EXPECT_EQ(s.apply(delta(
                {op::UpsertPath{path("node-a", "books", {})}, op::SelectBest{books, "node-a"}})),
            0u);
  ASSERT_NE(s.findBest(books), nullptr);
  EXPECT_TRUE(s.findLearned(books)->key() == books);
  EXPECT_NE(copy, s);

  // Gone for good: removed with its decision, found no more, the other route untouched.
  EXPECT_EQ(s.apply(delta({op::RemovePath{"node-a", books}, op::ClearBest{books}})), 0u);
  EXPECT_EQ(s.findLearned(books), nullptr);
  EXPECT_EQ(s.learned().size(), 1u);
  ASSERT_NE(s.findBest({"films", "node-a"}), nullptr);
  EXPECT_EQ(s.bestCount(), 1u);
  EXPECT_EQ(s.pathCount(), 1u);
}

// The learned-route table: copies are deep, equality is by value whatever the order of
// insertion, and a walk gives every route once with its own key.
TEST(NodeStateTest, LearnedTableCopiesAreDeepAndCompareByValue) {
  StateBuilder forward("node-c");
  StateBuilder backward("node-c");
  forward.withPeer(peer("node-a"));
  backward.withPeer(peer("node-a"));
  constexpr int kRoutes = 300; // a few growths of the table
  for (int i = 0; i < kRoutes; ++i) {
    forward.withPath(path("node-a", "svc-" + std::to_string(i), {}));
    backward.withPath(path("node-a", "svc-" + std::to_string(kRoutes - 1 - i), {}));
  }
  const NodeState a = forward.build();
  NodeState b = backward.build();
  EXPECT_EQ(a.learned(), b.learned());
  EXPECT_EQ(a, b);

  std::set<std::string> names;
  for (const auto& [key, route] : a.learned()) {
    ASSERT_TRUE(route->key() == key);
    ASSERT_EQ(a.findLearned(key), route);
    ASSERT_EQ(route->bestPath()->route.name, key.name);
    names.insert(std::string(key.name));
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kRoutes));

  NodeState copy = b; // then b changes: the copy must not
  const RouteKey key{"svc-7", "node-a"};
  const NodeState::LearnedRoute* before = b.findLearned(key);
  EXPECT_EQ(b.apply(delta({op::RemovePath{"node-a", key}, op::ClearBest{key}})), 0u);
  EXPECT_EQ(b.findLearned(key), nullptr);
  ASSERT_NE(copy.findLearned(key), nullptr);
  EXPECT_NE(copy.findLearned(key), before) << "a copy shares a record";
  EXPECT_EQ(copy.learned(), a.learned());
  EXPECT_NE(copy.learned(), b.learned());
  EXPECT_NE(copy, b);

  // Same keys, one record different: not equal.
  NodeState c = a;
  EXPECT_EQ(c.apply(delta({op::UpsertPath{path("node-a", "svc-9", {}, /*stale=*/true)}})), 0u);
  EXPECT_EQ(c.learned().size(), a.learned().size());
  EXPECT_NE(c.learned(), a.learned());
}

} // namespace
} // namespace catalyst::state
