// envoy-files: the node's Envoy reads cds.json and lds.json. These tests run the real
// EnvoyDataPlane with its FileSink on a temp directory and watch the files the way Envoy does
// (inotify: Envoy reloads on IN_MOVED_TO).
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalyst/envoy/envoy_data_plane.h"

#include "envoy_check.h"
#include "support/process.h"

namespace catalyst::envoy {
namespace {

namespace json = boost::json;
using control::fx::ConfigureDataPlane;
using control::fx::DataPlaneRoute;
using envoy::testing::schema;
using state::Protocol;
using namespace std::chrono_literals;

DataPlaneRoute tcpRoute(std::string name, uint16_t port, uint16_t service_port) {
  DataPlaneRoute r;
  r.kind = DataPlaneRoute::Kind::Ingress;
  r.key = {std::move(name), "node-a"};
  r.protocol = Protocol::Tcp;
  r.listen_port = port;
  r.service_endpoint = "tcp://127.0.0.1:" + std::to_string(service_port);
  return r;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ino_t inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The file as Envoy would load it: a DiscoveryResponse of the right type, every resource valid.
::testing::AssertionResult validDiscoveryFile(const std::string& path, std::string_view type_url) {
  const std::string text = readFile(path);
  if (auto st = schema().check("envoy.service.discovery.v3.DiscoveryResponse", text); !st) {
    return ::testing::AssertionFailure() << path << ": " << st.error().message;
  }
  const json::object v = json::parse(text).as_object();
  if (v.at("type_url").as_string() != type_url) {
    return ::testing::AssertionFailure() << path << ": type_url " << v.at("type_url");
  }
  return ::testing::AssertionSuccess();
}

class EnvoyFilesTest : public ::testing::Test {
protected:
  void SetUp() override { logger_ = makeStderrLogger("envoy-files-test", LogLevel::Warn); }

  std::unique_ptr<EnvoyDataPlane> plane(std::chrono::milliseconds hold = 0ms) {
    EnvoyDataPlaneOptions options;
    options.startup_hold = hold;
    options.debounce = 1ms;
    return std::make_unique<EnvoyDataPlane>(options, std::make_unique<FileSink>(dir()), *logger_);
  }
  std::string dir() const { return tmp_.path() + "/envoy"; }
  std::string cds() const { return dir() + "/cds.json"; }
  std::string lds() const { return dir() + "/lds.json"; }

  static uint64_t publishes(const EnvoyDataPlane& p) { return p.stats().envoy->publishes; }

  test::TempDir tmp_;
  LoggerSharedPtr logger_;
};

TEST_F(EnvoyFilesTest, WritesValidFilesAtStartAndOnEveryChange) {
  auto p = plane();
  p->apply(ConfigureDataPlane{{tcpRoute("books", 10001, 8080)}, {}});
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(test::eventually([&] { return publishes(*p) >= 1; }, 5s));
  EXPECT_TRUE(validDiscoveryFile(cds(), kClusterTypeUrl));
  EXPECT_TRUE(validDiscoveryFile(lds(), kListenerTypeUrl));
  EXPECT_NE(readFile(lds()).find("ingress_books"), std::string::npos);

  p->apply(ConfigureDataPlane{{tcpRoute("orders", 10002, 8081)}, {}});
  ASSERT_TRUE(test::eventually(
      [&] { return readFile(lds()).find("ingress_orders") != std::string::npos; }, 5s));
  EXPECT_TRUE(validDiscoveryFile(cds(), kClusterTypeUrl));
  EXPECT_TRUE(validDiscoveryFile(lds(), kListenerTypeUrl));
  // The version in each file is the one /api/state reports.
  ASSERT_TRUE(test::eventually(
      [&] {
        const dataplane::EnvoyStats s = *p->stats().envoy;
        return json::parse(readFile(lds())).at("version_info") == s.listeners_version.c_str() &&
               json::parse(readFile(cds())).at("version_info") == s.clusters_version.c_str();
      },
      5s));
  const dataplane::DataPlaneStats stats = p->stats();
  ASSERT_EQ(stats.listeners.size(), 2U);
  EXPECT_EQ(stats.listeners.at(0).state, dataplane::ListenerState::Configured);
  EXPECT_EQ(stats.listeners.at(0).target, "127.0.0.1:8080");
  // No temporary file is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir())) {
    const std::string name = entry.path().filename();
    EXPECT_TRUE(name == "cds.json" || name == "lds.json") << name;
  }
}

// Clusters first, then listeners; each file appears by a rename (IN_MOVED_TO), never written in
// place, so Envoy never loads a partly written file.
TEST_F(EnvoyFilesTest, ReplacesClustersBeforeListenersByRename) {
  std::filesystem::create_directories(dir());
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_GE(inotify_add_watch(fd, dir().c_str(), IN_MOVED_TO | IN_CLOSE_WRITE), 0);
  auto p = plane();
  ASSERT_TRUE(p->start());
  for (uint16_t i = 0; i < 5; ++i) {
    p->apply(ConfigureDataPlane{{tcpRoute("svc" + std::to_string(i), 10000 + i, 8000 + i)}, {}});
    ASSERT_TRUE(test::eventually(
        [&] {
          return readFile(lds()).find("ingress_svc" + std::to_string(i)) != std::string::npos;
        },
        5s));
  }
  // Read every event: the names closed after writing are only temporary files; the real names
  // only ever appear by a move, cds.json before lds.json each time.
  std::vector<std::string> moved;
  std::array<char, 65536> buf{};
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
      const std::string name = ev->len > 0 ? ev->name : "";
      if ((ev->mask & IN_CLOSE_WRITE) != 0) {
        EXPECT_TRUE(name != "cds.json" && name != "lds.json") << name << " written in place";
      }
      if ((ev->mask & IN_MOVED_TO) != 0) {
        moved.push_back(name);
      }
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  ::close(fd);
  ASSERT_GE(moved.size(), 10U); // five changes (the first may merge with the start), two each
  for (std::size_t i = 0; i + 1 < moved.size(); i += 2) {
    EXPECT_EQ(moved.at(i), "cds.json") << i;
    EXPECT_EQ(moved.at(i + 1), "lds.json") << i;
  }
}

// A reader racing the writer always sees a whole, valid file.
TEST_F(EnvoyFilesTest, AReaderNeverSeesAPartlyWrittenFile) {
  auto p = plane();
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(test::eventually([&] { return publishes(*p) >= 1; }, 5s));
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      boost::system::error_code ec;
      const json::value v = json::parse(readFile(lds()), ec);
      if (ec || !v.is_object() || !v.as_object().contains("resources")) {
        ++bad;
      }
      ++reads;
    }
  });
  ConfigureDataPlane many;
  for (uint16_t i = 0; i < 300; ++i) {
    p->apply(ConfigureDataPlane{{tcpRoute("svc" + std::to_string(i), 10000 + i, 8000)}, {}});
    if (i % 30 == 0) {
      ASSERT_TRUE(test::eventually(
          [&] {
            return readFile(lds()).find("\"ingress_svc" + std::to_string(i) + "\"") !=
                   std::string::npos;
          },
          5s));
    }
  }
  ASSERT_TRUE(test::eventually(
      [&] { return readFile(lds()).find("\"ingress_svc299\"") != std::string::npos; }, 5s));
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 10);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_TRUE(validDiscoveryFile(lds(), kListenerTypeUrl));
}

// Nothing is rewritten when nothing changed: not on an upsert with the same content, not for
// the type that did not change, not when a restarted node renders what is on disk already.
TEST_F(EnvoyFilesTest, NoRewriteWhenNothingChanged) {
  auto p = plane();
  p->apply(ConfigureDataPlane{{tcpRoute("books", 10001, 8080)}, {}});
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(test::eventually([&] { return publishes(*p) >= 1; }, 5s));
  const ino_t cds_inode = inode(cds());
  const ino_t lds_inode = inode(lds());

  p->apply(ConfigureDataPlane{{tcpRoute("books", 10001, 8080)}, {}}); // the same route again
  ASSERT_TRUE(test::eventually([&] { return publishes(*p) >= 2; }, 5s));
  EXPECT_EQ(inode(cds()), cds_inode);
  EXPECT_EQ(inode(lds()), lds_inode);

  p->apply(ConfigureDataPlane{{tcpRoute("books", 10001, 9090)}, {}}); // new target: clusters
  ASSERT_TRUE(test::eventually([&] { return inode(cds()) != cds_inode; }, 5s));
  ASSERT_TRUE(test::eventually([&] { return publishes(*p) >= 3; }, 5s));
  EXPECT_EQ(inode(lds()), lds_inode);
  p->stop();

  // A new process with the same table finds its versions on disk and leaves the files alone.
  const ino_t cds_now = inode(cds());
  auto again = plane();
  again->apply(ConfigureDataPlane{{tcpRoute("books", 10001, 9090)}, {}});
  ASSERT_TRUE(again->start());
  ASSERT_TRUE(test::eventually([&] { return publishes(*again) >= 1; }, 5s));
  EXPECT_EQ(inode(cds()), cds_now);
  EXPECT_EQ(inode(lds()), lds_inode);
}

// After a restart, the files of the last run stay until the startup hold has passed, so routes
// still being learned from peers are not dropped from Envoy meanwhile.
TEST_F(EnvoyFilesTest, ARestartedNodeWaitsForTheStartupHoldBeforeReplacingFiles) {
  {
    auto first = plane();
    first->apply(ConfigureDataPlane{{tcpRoute("books", 10001, 8080)}, {}});
    ASSERT_TRUE(first->start());
    ASSERT_TRUE(test::eventually([&] { return publishes(*first) >= 1; }, 5s));
  }
  const auto hold = 300ms;
  auto second = plane(hold);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(second->start()); // with an empty table
  ASSERT_TRUE(test::eventually([&] { return publishes(*second) >= 1; }, 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - started, hold);
  EXPECT_EQ(readFile(lds()).find("ingress_books"), std::string::npos);

  // Without earlier files there is nothing to protect: the first snapshot goes out at once.
  std::filesystem::remove_all(dir());
  auto fresh = plane(10s);
  ASSERT_TRUE(fresh->start());
  ASSERT_TRUE(test::eventually([&] { return publishes(*fresh) >= 1; }, 5s));
}

// A write that fails is counted and reported; Envoy keeps the files it had, and the next change
// publishes again.
TEST_F(EnvoyFilesTest, AFailedWriteIsCountedAndTheNextChangeRecovers) {
  auto p = plane();
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(test::eventually([&] { return publishes(*p) >= 1; }, 5s));
  std::filesystem::remove_all(dir());
  p->apply(ConfigureDataPlane{{tcpRoute("books", 10001, 8080)}, {}});
  ASSERT_TRUE(test::eventually([&] { return p->stats().envoy->failures >= 1; }, 5s));
  const dataplane::DataPlaneStats failed = p->stats();
  ASSERT_TRUE(failed.envoy->last_error);
  EXPECT_NE(failed.envoy->last_error->find(dir()), std::string::npos) << *failed.envoy->last_error;
  EXPECT_EQ(failed.listeners.at(0).state, dataplane::ListenerState::Pending);

  std::filesystem::create_directories(dir());
  p->apply(ConfigureDataPlane{{tcpRoute("orders", 10002, 8081)}, {}});
  ASSERT_TRUE(test::eventually(
      [&] { return readFile(lds()).find("ingress_books") != std::string::npos; }, 5s));
  EXPECT_TRUE(validDiscoveryFile(lds(), kListenerTypeUrl));
}

TEST_F(EnvoyFilesTest, AnUnusableDirectoryFailsStart) {
  const std::string file = tmp_.write("not-a-dir", "x");
  EnvoyDataPlane p(EnvoyDataPlaneOptions{}, std::make_unique<FileSink>(file + "/envoy"), *logger_);
  Status st = p.start();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find(file), std::string::npos) << st.error().message;
}

TEST_F(EnvoyFilesTest, RoutesThatCannotBeRenderedAreReportedNotWritten) {
  auto p = plane();
  DataPlaneRoute noport = tcpRoute("noport", 10001, 8080);
  noport.listen_port.reset();
  p->apply(ConfigureDataPlane{{noport, tcpRoute("fine", 10002, 8080)}, {}});
  ASSERT_TRUE(p->start());
  ASSERT_TRUE(test::eventually([&] { return publishes(*p) >= 1; }, 5s));
  const dataplane::DataPlaneStats s = p->stats();
  ASSERT_EQ(s.listeners.size(), 2U);
  EXPECT_EQ(s.listeners.at(1).route.key.name, "noport");
  EXPECT_EQ(s.listeners.at(1).state, dataplane::ListenerState::None);
  EXPECT_TRUE(s.listeners.at(1).error);
  EXPECT_EQ(s.totals.error(dataplane::ErrorReason::NoListenPort), 1U);
  EXPECT_EQ(readFile(lds()).find("noport"), std::string::npos);
}

} // namespace
} // namespace catalyst::envoy
