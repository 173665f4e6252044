#include <gtest/gtest.h>

#include "catalyst/state/node_state.h"
#include "catalyst/state/port_pool.h"

#include "support/state_builders.h"

namespace catalyst::state {
namespace {

using test::path;
using test::peer;
using test::route;
using test::StateBuilder;

TEST(PortPoolTest, AllocatesTheLowestFreePortInRangeOrder) {
  PortPool pool({{9000, 9001}, {8000, 8000}});
  EXPECT_EQ(pool.capacity(), 3u);
  EXPECT_EQ(pool.allocate(), 9000);
  EXPECT_EQ(pool.allocate(), 9001);
  EXPECT_EQ(pool.allocate(), 8000);
  EXPECT_EQ(pool.allocate(), std::nullopt) << "exhausted";
  EXPECT_TRUE(pool.release(9001));
  EXPECT_FALSE(pool.release(9001)) << "released twice";
  EXPECT_FALSE(pool.release(7000)) << "not a port of the pool";
  EXPECT_EQ(pool.used(), 2u);
  EXPECT_EQ(pool.allocate(), 9001);
}

TEST(PortPoolTest, ReleasedLowPortsAreReusedFirstAcrossWords) {
  PortPool pool({{10000, 10199}}); // 200 ports: four 64-bit words
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(pool.allocate(), 10000 + i);
  }
  EXPECT_TRUE(pool.release(10150));
  EXPECT_TRUE(pool.release(10070));
  EXPECT_EQ(pool.allocate(), 10070);
  EXPECT_EQ(pool.allocate(), 10150);
  EXPECT_EQ(pool.allocate(), std::nullopt);
}

TEST(PortPoolTest, EmptyPoolAllocatesNothing) {
  PortPool pool;
  EXPECT_EQ(pool.allocate(), std::nullopt);
}

TEST(NodeStatePortsTest, RoutesKeepTheirPortWhileTheyExist) {
  NodeState s = StateBuilder("node-b", {{20000, 20001}})
                    .withPeer(peer("node-a"))
                    .withPeer(peer("node-c"))
                    .withLocal(route("mine"))
                    .withPath(path("node-c", "books", {"node-a"}))
                    .build();
  const RouteKey books{"books", "node-a"};
  EXPECT_EQ(s.portFor({"mine", "node-b"}), 20000);
  EXPECT_EQ(s.portFor(books), 20001);

  // A better path for the same route: same port.
  s.apply(StateDelta{{op::UpsertPath{path("node-a", "books")}, op::SelectBest{books, "node-a"}}});
  EXPECT_EQ(s.portFor(books), 20001);

  // The pool is full: a third route gets none, and it is counted.
  s.apply(StateDelta{{op::UpsertLocalRoute{LocalRoute{route("third"), RouteSource::Admin}}}});
  EXPECT_EQ(s.portFor({"third", "node-b"}), std::nullopt);
  EXPECT_EQ(s.portAllocationFailures(), 1u);

  // Routes that go give their ports back; the next route takes the lowest.
  s.apply(StateDelta{{op::RemoveLocalRoute{"mine"}}});
  EXPECT_EQ(s.portFor({"mine", "node-b"}), std::nullopt);
  s.apply(StateDelta{
      {op::RemovePath{"node-a", books}, op::RemovePath{"node-c", books}, op::ClearBest{books}}});
  EXPECT_EQ(s.portFor(books), std::nullopt);
  EXPECT_EQ(s.ports().used(), 0u);
  s.apply(StateDelta{{op::UpsertLocalRoute{LocalRoute{route("fourth"), RouteSource::Admin}}}});
  EXPECT_EQ(s.portFor({"fourth", "node-b"}), 20000);
}

TEST(NodeStatePortsTest, NoRangeNoPorts) {
  NodeState s = StateBuilder("node-b").withLocal(route("mine")).build();
  EXPECT_EQ(s.portFor({"mine", "node-b"}), std::nullopt);
  EXPECT_EQ(s.portAllocationFailures(), 0u);
}

} // namespace
} // namespace catalyst::state
