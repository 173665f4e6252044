#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "catalyst/server/management_api.h"

#include "support/process.h"
#include "support/state_builders.h"

namespace catalyst::server {
namespace {

RuntimeState sample() {
  RuntimeState r;
  state::PeerInfo b;
  b.name = "node-b";
  b.domains = {"b.example"};
  b.endpoint = "ws://10.0.0.2:3000/rpc";
  b.peer_token = "x.y.z";
  r.peers.emplace(b.name, b);
  state::Route books = test::route("books", "http://127.0.0.1:8080", state::Protocol::HttpGraphql);
  books.tags = {"v1"};
  r.routes.emplace(books.name, books);
  return r;
}

TEST(RuntimeStateTest, RoundTripsThroughTwoFiles) {
  test::TempDir dir;
  EXPECT_EQ(*loadRuntimeState(dir.path()), RuntimeState{}) << "no files: nothing kept";
  ASSERT_TRUE(saveRuntimeState(dir.path(), sample()));
  EXPECT_EQ(*loadRuntimeState(dir.path()), sample());
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/runtime-peers.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "it holds peer tokens";
}

TEST(RuntimeStateTest, WritesOnlyThePartAskedFor) {
  test::TempDir dir;
  ASSERT_TRUE(saveRuntimeState(dir.path(), sample()));
  RuntimeState changed = sample();
  changed.routes.clear();
  changed.peers.clear();
  ASSERT_TRUE(saveRuntimeState(dir.path(), changed, RuntimeParts{true, false}));
  const RuntimeState loaded = *loadRuntimeState(dir.path());
  EXPECT_TRUE(loaded.peers.empty());
  EXPECT_EQ(loaded.routes, sample().routes) << "the routes file was not rewritten";
}

TEST(RuntimeStateTest, ADamagedFileIsAnErrorNamingIt) {
  test::TempDir dir;
  dir.write("runtime-routes.json", "[{\"name\": \"bad name\", \"protocol\": \"http\"}]");
  auto loaded = loadRuntimeState(dir.path());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find(dir.path() + "/runtime-routes.json: routes[].name"),
            std::string::npos)
      << loaded.error().message;
  dir.write("runtime-routes.json", "{not json");
  loaded = loadRuntimeState(dir.path());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("runtime-routes.json: not a JSON array"), std::string::npos)
      << loaded.error().message;
}

} // namespace
} // namespace catalyst::server
