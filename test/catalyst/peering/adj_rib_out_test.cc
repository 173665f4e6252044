#include <list>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "catalyst/peering/adj_rib_out.h"

#include "support/state_builders.h"

namespace catalyst::peering {
namespace {

using state::UpdateItem;

UpdateItem add(const std::string& name, std::vector<std::string> path = {"node-b", "node-a"}) {
  state::Route r = test::route(name);
  std::string origin = path.back();
  return UpdateItem{UpdateItem::Action::Add, r, std::move(path), std::move(origin)};
}

UpdateItem withdraw(const std::string& name, const std::string& origin = "node-a") {
  state::Route r;
  r.name = name;
  return UpdateItem{UpdateItem::Action::Remove, r, {"node-b"}, origin};
}

std::vector<std::string> names(const std::vector<UpdateItem>& items) {
  std::vector<std::string> out;
  for (const UpdateItem& i : items) {
    out.push_back((i.action == UpdateItem::Action::Add ? "+" : "-") + i.route.name);
  }
  return out;
}

TEST(AdjRibOutTest, NothingIsSentThatChangesNothing) {
  AdjRibOut out;
  EXPECT_TRUE(out.push(add("books")));
  EXPECT_EQ(names(out.take(1000)), (std::vector<std::string>{"+books"}));
  EXPECT_FALSE(out.push(add("books"))) << "the peer has exactly this already";
  EXPECT_FALSE(out.push(withdraw("films"))) << "the peer never had films";
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.suppressed(), 2u);

  UpdateItem down = add("books");
  down.route.health_status = state::HealthStatus::Down;
  EXPECT_TRUE(out.push(down)) << "an attribute changed: advertised again";
  UpdateItem longer = add("books", {"node-b", "node-x", "node-a"});
  longer.route.health_status = state::HealthStatus::Down;
  EXPECT_TRUE(out.push(longer)) << "the path changed";
  EXPECT_EQ(out.take(1000).size(), 1u) << "two changes before sending: the latest only";
  EXPECT_TRUE(out.push(withdraw("books")));
  EXPECT_EQ(names(out.take(1000)), (std::vector<std::string>{"-books"}));
  EXPECT_EQ(out.advertised(), 0u);
}

TEST(AdjRibOutTest, TheSameNameFromTwoOriginsIsTwoRoutes) {
  AdjRibOut out;
  EXPECT_TRUE(out.push(add("books", {"node-b", "node-a"})));
  EXPECT_TRUE(out.push(add("books", {"node-b", "node-c"})));
  EXPECT_EQ(out.queued(), 2u);
  EXPECT_TRUE(out.push(withdraw("books", "node-c")));
  EXPECT_EQ(names(out.take(1000)), (std::vector<std::string>{"+books", "-books"}));
  EXPECT_EQ(out.advertised(), 1u);
}

TEST(AdjRibOutTest, BatchesKeepQueueOrderAndTheirSize) {
  AdjRibOut out;
  for (int i = 0; i < 2500; ++i) {
    out.push(add("r" + std::to_string(i)));
  }
  EXPECT_EQ(out.take(1000).size(), 1000u);
  // Changes to routes still queued replace them in place; new ones go last.
  out.push(withdraw("r1500"));
  out.push(add("late"));
  std::vector<UpdateItem> second = out.take(1000);
  ASSERT_EQ(second.size(), 1000u);
  EXPECT_EQ(second.front().route.name, "r1000");
  EXPECT_EQ(second[500].action, UpdateItem::Action::Remove);
  std::vector<UpdateItem> third = out.take(1000);
  ASSERT_EQ(third.size(), 501u);
  EXPECT_EQ(third.back().route.name, "late");
  EXPECT_TRUE(out.empty());
}

TEST(AdjRibOutTest, TheSentFrontIsDroppedUnderASteadyStreamAndChangesStillFindTheirPlace) {
  AdjRibOut out;
  for (int i = 0; i < 3000; ++i) {
    out.push(add("r" + std::to_string(i)));
  }
  EXPECT_EQ(out.take(1000).size(), 1000u);
  EXPECT_EQ(out.take(500).size(), 500u); // half the queue is sent: the front is dropped
  UpdateItem down = add("r2000");
  down.route.health_status = state::HealthStatus::Down;
  EXPECT_TRUE(out.push(down));
  EXPECT_TRUE(out.push(withdraw("r2999")));
  EXPECT_TRUE(out.push(add("late")));
  EXPECT_EQ(out.queued(), 1501u) << "two changes to queued routes replaced them in place";
  std::vector<UpdateItem> rest = out.take(2000);
  ASSERT_EQ(rest.size(), 1501u);
  EXPECT_EQ(rest.front().route.name, "r1500");
  EXPECT_EQ(rest[500].route.name, "r2000");
  EXPECT_EQ(rest[500].route.health_status, state::HealthStatus::Down);
  EXPECT_EQ(names({rest[1499], rest[1500]}), (std::vector<std::string>{"-r2999", "+late"}));
  EXPECT_EQ(out.advertised(), 3000u) << "r2999 went, late came";
  EXPECT_FALSE(out.push(down)) << "the peer has it";
}

TEST(AdjRibOutTest, AWithdrawalOvertakingItsQueuedAddIsSentOnceAndForgotten) {
  AdjRibOut out;
  EXPECT_TRUE(out.push(add("books")));
  EXPECT_TRUE(out.push(withdraw("books"))) << "replaces the queued add in its place";
  EXPECT_FALSE(out.push(withdraw("books"))) << "already withdrawn";
  EXPECT_EQ(out.advertised(), 0u);
  EXPECT_EQ(names(out.take(1000)), (std::vector<std::string>{"-books"}));
  EXPECT_FALSE(out.push(withdraw("books")));
  EXPECT_TRUE(out.push(add("books"))) << "announced afresh";
  EXPECT_TRUE(out.push(add("films")));
  EXPECT_EQ(out.advertised(), 2u);
  EXPECT_EQ(names(out.take(1)), (std::vector<std::string>{"+books"}));
  EXPECT_TRUE(out.push(withdraw("books")));
  EXPECT_EQ(names(out.take(1000)), (std::vector<std::string>{"+films", "-books"}));
  EXPECT_EQ(out.advertised(), 1u);
}

TEST(AdjRibOutTest, WithdrawnRoutesAreForgottenInSweepsAndComeBackCleanly) {
  AdjRibOut out;
  for (int i = 0; i < 5000; ++i) {
    out.push(add("r" + std::to_string(i)));
  }
  while (!out.empty()) {
    out.take(1000);
  }
  for (int i = 0; i < 5000; ++i) {
    EXPECT_TRUE(out.push(withdraw("r" + std::to_string(i))));
  }
  EXPECT_EQ(out.take(1000).size(), 1000u);
  EXPECT_EQ(out.remembered(), 5000u) << "too few sent withdrawals for a sweep yet";
  // r1 is withdrawn and sent but still remembered: adding it again queues a new add at the end
  // rather than overwriting the withdrawal's old place.
  EXPECT_TRUE(out.push(add("r1")));
  EXPECT_FALSE(out.push(withdraw("r2"))) << "withdrawn already, remembered or not";
  std::vector<UpdateItem> all;
  bool swept = false;
  while (!out.empty()) {
    for (UpdateItem& item : out.take(1000)) {
      all.push_back(std::move(item));
    }
    if (!swept && out.remembered() < 5000) {
      swept = true;
      // A sweep keeps what is still queued: r4999's withdrawal waits, and an add replaces it.
      const std::size_t queued = out.queued();
      EXPECT_TRUE(out.push(add("r4999")));
      EXPECT_EQ(out.queued(), queued);
    }
  }
  EXPECT_TRUE(swept);
  ASSERT_EQ(all.size(), 4001u);
  EXPECT_EQ(names({all.front(), all[3999], all.back()}),
            (std::vector<std::string>{"-r1000", "+r4999", "+r1"}));
  EXPECT_EQ(out.advertised(), 2u);
  EXPECT_EQ(out.remembered(), 2u) << "every sent withdrawal is forgotten; r1 and r4999 stay";
  EXPECT_FALSE(out.push(add("r1"))) << "the peer has it";
  EXPECT_TRUE(out.push(withdraw("r1")));
  EXPECT_FALSE(out.push(withdraw("r3"))) << "forgotten routes are not withdrawn again";
  EXPECT_EQ(names(out.take(1000)), (std::vector<std::string>{"-r1"}));
}

// Random pushes and takes against a plain model (a map of what the peer has and a list of what
// waits), with chunks smaller and larger than the batches taken.
TEST(AdjRibOutTest, RandomPushesAndTakesMatchAPlainModel) {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{1000}}) {
    std::mt19937 rng(static_cast<unsigned>(chunk));
    AdjRibOut out(chunk);
    std::map<std::string, int> has; // the model: route -> its health "version"
    std::list<std::pair<std::string, UpdateItem>> waiting;
    std::map<std::string, std::list<std::pair<std::string, UpdateItem>>::iterator> queued;
    for (int step = 0; step < 20000; ++step) {
      const std::string name = "r" + std::to_string(std::uniform_int_distribution<int>(0, 40)(rng));
      const int op = std::uniform_int_distribution<int>(0, 9)(rng);
      if (op < 5) {
        const int version = std::uniform_int_distribution<int>(0, 1)(rng);
        UpdateItem item = add(name);
        item.route.health_status =
            version == 0 ? state::HealthStatus::Up : state::HealthStatus::Down;
        const bool changes = has.count(name) == 0 || has[name] != version;
        ASSERT_EQ(out.push(item), changes) << "step " << step;
        if (changes) {
          has[name] = version;
          if (queued.count(name) > 0) {
            queued[name]->second = item;
          } else {
            queued[name] = waiting.insert(waiting.end(), {name, item});
          }
        }
      } else if (op < 8) {
        const bool changes = has.count(name) > 0;
        ASSERT_EQ(out.push(withdraw(name)), changes) << "step " << step;
        if (changes) {
          has.erase(name);
          if (queued.count(name) > 0) {
            queued[name]->second = withdraw(name);
          } else {
            queued[name] = waiting.insert(waiting.end(), {name, withdraw(name)});
          }
        }
      } else {
        const std::size_t max = std::uniform_int_distribution<std::size_t>(1, 12)(rng);
        std::vector<UpdateItem> got = out.take(max);
        std::vector<UpdateItem> want;
        while (want.size() < max && !waiting.empty()) {
          queued.erase(waiting.front().first);
          want.push_back(waiting.front().second);
          waiting.pop_front();
        }
        ASSERT_EQ(names(got), names(want)) << "step " << step << ", chunk " << chunk;
        ASSERT_EQ(got, want) << "step " << step << ", chunk " << chunk;
      }
      if (step % 4999 == 4998) { // the session ends
        out.clear();
        has.clear();
        waiting.clear();
        queued.clear();
      }
      ASSERT_EQ(out.queued(), waiting.size()) << "step " << step;
      ASSERT_EQ(out.advertised(), has.size()) << "step " << step;
    }
  }
}

TEST(AdjRibOutTest, PushAllQueuesInOrderAndSaysHowMany) {
  AdjRibOut out(4);
  std::vector<UpdateItem> batch;
  for (int i = 0; i < 6; ++i) {
    batch.push_back(add("r" + std::to_string(i)));
  }
  batch.push_back(add("r0")); // the same again: changes nothing
  EXPECT_EQ(out.pushAll(std::move(batch)), 6u);
  EXPECT_EQ(out.pushAll({withdraw("r5"), add("late")}), 2u);
  EXPECT_EQ(names(out.take(10)),
            (std::vector<std::string>{"+r0", "+r1", "+r2", "+r3", "+r4", "-r5", "+late"}));
}

TEST(AdjRibOutTest, ClearForgetsWhatThePeerHad) {
  AdjRibOut out;
  out.push(add("books"));
  out.take(1000);
  out.clear();
  EXPECT_TRUE(out.push(add("books"))) << "a new session starts from nothing";
  EXPECT_FALSE(out.push(withdraw("films")));
}

TEST(AdjRibOutTest, DigestSeesEveryAttribute) {
  const UpdateItem base = add("books");
  std::vector<UpdateItem> variants(9, base);
  variants[0].route.endpoint = "http://other";
  variants[1].route.protocol = state::Protocol::Tcp;
  variants[2].route.region = "eu";
  variants[3].route.tags = {"v2"};
  variants[4].route.envoy_port = 10001;
  variants[5].route.envoy_address = "10.0.0.1";
  variants[6].route.response_time_ms = 3.5;
  variants[7].route.last_checked = "2026-11-27T00:00:00Z";
  variants[8].node_path = {"node-b", "node-x", "node-a"};
  for (const UpdateItem& v : variants) {
    EXPECT_NE(digest(v), digest(base));
  }
  UpdateItem split_a = base;
  split_a.route.tags = {"ab", "c"};
  UpdateItem split_b = base;
  split_b.route.tags = {"a", "bc"};
  EXPECT_NE(digest(split_a), digest(split_b));

  // Values that differ only in which field holds them, or in a small field's value.
  UpdateItem up = base;
  up.route.health_status = state::HealthStatus::Up;
  UpdateItem down = base;
  down.route.health_status = state::HealthStatus::Down;
  EXPECT_NE(digest(up), digest(base));
  EXPECT_NE(digest(up), digest(down));
  UpdateItem in_region = base;
  in_region.route.region = "x";
  UpdateItem in_checked = base;
  in_checked.route.last_checked = "x";
  EXPECT_NE(digest(in_region), digest(in_checked));
  UpdateItem port_1 = variants[4];
  port_1.route.envoy_port = 10002;
  EXPECT_NE(digest(port_1), digest(variants[4]));
  EXPECT_EQ(digest(add("books")), digest(base)) << "equal items, equal digests";
}

} // namespace
} // namespace catalyst::peering
