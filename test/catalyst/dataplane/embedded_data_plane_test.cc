// The embedded data plane over real sockets on 127.0.0.1: echo servers behind ingress and egress
// listeners, chains of two data planes, UDP flows, removal and drain, upserts, bind failures and
// the counters. Every wait polls with a deadline.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "catalyst/common/logging.h"
#include "catalyst/dataplane/embedded_impl.h"

#include "socket_test_util.h"

namespace catalyst::dataplane {
namespace {

using control::fx::ConfigureDataPlane;
using control::fx::DataPlaneRoute;
using namespace std::chrono_literals;
using testing::eventually;
using testing::Fd;

constexpr const char* kSelf = "node-a";

Logger& testLogger() {
  // One logger for the whole test binary; spdlog loggers are thread-safe.
  static const LoggerSharedPtr logger = makeStderrLogger("dataplane-test", LogLevel::Warn);
  return *logger;
}

DataPlaneRoute ingress(const std::string& name, uint16_t listen_port, const std::string& endpoint,
                       state::Protocol protocol = state::Protocol::Tcp) {
  DataPlaneRoute r;
  r.kind = DataPlaneRoute::Kind::Ingress;
  r.key = {name, kSelf};
  r.protocol = protocol;
  r.listen_port = listen_port;
  r.service_endpoint = endpoint;
  return r;
}

DataPlaneRoute egress(const std::string& name, const std::string& origin, uint16_t listen_port,
                      uint16_t next_hop_port) {
  DataPlaneRoute r;
  r.kind = DataPlaneRoute::Kind::Egress;
  r.key = {name, origin};
  r.protocol = state::Protocol::Tcp;
  r.listen_port = listen_port;
  r.next_hop_address = "127.0.0.1";
  r.next_hop_port = next_hop_port;
  return r;
}

ConfigureDataPlane upsert(DataPlaneRoute route) {
  ConfigureDataPlane c;
  c.upserts.push_back(std::move(route));
  return c;
}

ConfigureDataPlane removal(const std::string& name, const std::string& origin = kSelf) {
  ConfigureDataPlane c;
  c.removals.push_back({name, origin});
  return c;
}

std::optional<ListenerStats> find(const DataPlane& dp, const std::string& name) {
  for (ListenerStats& s : dp.stats().listeners) {
    if (s.route.key.name == name) {
      return s;
    }
  }
  return std::nullopt;
}

// The port `name` listens on, once it does; 0 when it never does.
uint16_t waitListening(const DataPlane& dp, const std::string& name) {
  uint16_t port = 0;
  eventually([&] {
    auto s = find(dp, name);
    if (s && s->state == ListenerState::Listening && s->port) {
      port = *s->port;
      return true;
    }
    return false;
  });
  return port;
}

std::string tcpUrl(uint16_t port) { return "tcp://127.0.0.1:" + std::to_string(port); }

EmbeddedOptions options(bool use_splice = true) {
  EmbeddedOptions o;
  o.workers = 2; // connections are handed between workers
  o.use_splice = use_splice;
  o.connect_timeout = 2s;
  o.drain_timeout = 30s;
  return o;
}

std::unique_ptr<EmbeddedDataPlane> started(EmbeddedOptions o) {
  auto dp = std::make_unique<EmbeddedDataPlane>(std::move(o), testLogger());
  const Status st = dp->start();
  EXPECT_TRUE(st) << (st ? "" : st.error().message);
  return dp;
}

// ---------------------------------------------------------------------------------------------
// TCP relay, with splice and with the copy fallback.

class TcpRelayTest : public ::testing::TestWithParam<bool> {};

TEST_P(TcpRelayTest, EchoThroughIngressByteForByte) {
  testing::TcpEchoServer echo;
  auto dp = started(options(GetParam()));
  dp->apply(upsert(ingress("echo", 0, tcpUrl(echo.port()))));
  const uint16_t port = waitListening(*dp, "echo");
  ASSERT_NE(port, 0);

  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_EQ(testing::roundTrip(client->get(), "hello"), "hello");
  EXPECT_EQ(find(*dp, "echo")->counters.spliced, 0U) << "a short exchange is copied, no pipes";

  // 8 MiB each way, written by one thread while this one reads, so neither side's buffers fill.
  const std::string payload = testing::randomBytes(std::size_t{8} << 20, 42);
  std::thread writer([&] { EXPECT_TRUE(testing::sendAll(client->get(), payload)); });
  const std::string back = testing::readN(client->get(), payload.size(), 60s);
  writer.join();
  ASSERT_EQ(back.size(), payload.size());
  EXPECT_TRUE(back == payload) << "the echo differs from what was sent";

  // Half-close: our end of stream reaches the server, whose end of stream comes back.
  ::shutdown(client->get(), SHUT_WR);
  EXPECT_TRUE(testing::readsEnd(client->get()));

  const uint64_t total = payload.size() + 5;
  EXPECT_TRUE(eventually([&] {
    auto s = find(*dp, "echo");
    return s && s->counters.active == 0 && s->counters.bytes_in == total &&
           s->counters.bytes_out == total;
  }));
  const ListenerStats s = *find(*dp, "echo");
  EXPECT_EQ(s.counters.connections, 1U);
  EXPECT_EQ(s.counters.bytes_in, total);
  EXPECT_EQ(s.counters.bytes_out, total);
  EXPECT_EQ(s.counters.errorsTotal(), 0U);
  if (GetParam()) {
    // Bulk data fills the copy buffer: both directions moved to splice.
    EXPECT_EQ(s.counters.spliced, 2U);
  } else {
    EXPECT_EQ(s.counters.spliced, 0U);
  }
  EXPECT_EQ(s.target, "127.0.0.1:" + std::to_string(echo.port()));
  const DataPlaneStats all = dp->stats();
  EXPECT_EQ(all.totals.bytes_in, total);
  EXPECT_EQ(all.totals.connections, 1U);
  EXPECT_EQ(all.workers, 2U);
}

TEST_P(TcpRelayTest, ManyConnectionsAtOnce) {
  testing::TcpEchoServer echo;
  auto dp = started(options(GetParam()));
  dp->apply(upsert(ingress("echo", 0, tcpUrl(echo.port()))));
  const uint16_t port = waitListening(*dp, "echo");
  ASSERT_NE(port, 0);
  std::vector<Fd> clients;
  for (int i = 0; i < 20; ++i) {
    auto c = testing::tcpConnect(port);
    ASSERT_TRUE(c);
    clients.push_back(std::move(*c));
  }
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const std::string message = "message " + std::to_string(i);
    EXPECT_EQ(testing::roundTrip(clients[i].get(), message), message);
  }
  EXPECT_TRUE(eventually([&] { return find(*dp, "echo")->counters.active == 20; }));
  clients.clear();
  EXPECT_TRUE(eventually([&] { return find(*dp, "echo")->counters.active == 0; }));
  EXPECT_EQ(find(*dp, "echo")->counters.connections, 20U);
}

// A request and its end of stream sent back to back often reach the proxy together, before it
// reads: the relay reads only once when a read comes back short, unless the peer has closed, so
// this is where a lost end of stream would show (the client would wait forever for the echo's).
TEST_P(TcpRelayTest, RequestAndEndOfStreamInOneGoAreBothPassedOn) {
  testing::TcpEchoServer echo;
  auto dp = started(options(GetParam()));
  dp->apply(upsert(ingress("echo", 0, tcpUrl(echo.port()))));
  const uint16_t port = waitListening(*dp, "echo");
  ASSERT_NE(port, 0);
  constexpr int kConnections = 100;
  for (int i = 0; i < kConnections; ++i) {
    auto client = testing::tcpConnect(port);
    ASSERT_TRUE(client);
    const std::string request = "request " + std::to_string(i);
    ASSERT_TRUE(testing::sendAll(client->get(), request));
    ::shutdown(client->get(), SHUT_WR);
    EXPECT_EQ(testing::readN(client->get(), request.size()), request);
    ASSERT_TRUE(testing::readsEnd(client->get())) << "connection " << i;
  }
  EXPECT_TRUE(eventually([&] { return find(*dp, "echo")->counters.active == 0; }));
  EXPECT_EQ(find(*dp, "echo")->counters.errorsTotal(), 0U);
}

// The target speaks first and closes at once (a banner, then the end): its data and end of
// stream arrive together, before the client has sent anything.
TEST_P(TcpRelayTest, TargetThatSpeaksFirstAndClosesAtOnce) {
  const uint16_t target_port = testing::freePort();
  Fd listener = testing::listenOn(target_port);
  ASSERT_GE(listener.get(), 0);
  constexpr int kConnections = 50;
  std::thread server([&] {
    for (int i = 0; i < kConnections; ++i) {
      const int fd = ::accept(listener.get(), nullptr, nullptr);
      if (fd < 0) {
        return;
      }
      testing::sendAll(fd, "banner " + std::to_string(i));
      ::close(fd);
    }
  });
  auto dp = started(options(GetParam()));
  dp->apply(upsert(ingress("banner", 0, tcpUrl(target_port))));
  const uint16_t port = waitListening(*dp, "banner");
  ASSERT_NE(port, 0);
  for (int i = 0; i < kConnections; ++i) {
    auto client = testing::tcpConnect(port);
    ASSERT_TRUE(client);
    const std::string banner = "banner " + std::to_string(i);
    EXPECT_EQ(testing::readN(client->get(), banner.size()), banner);
    EXPECT_TRUE(testing::readsEnd(client->get())) << "connection " << i;
  }
  server.join();
  EXPECT_TRUE(eventually([&] { return find(*dp, "banner")->counters.active == 0; }));
}

INSTANTIATE_TEST_SUITE_P(SpliceAndCopy, TcpRelayTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? std::string("Splice") : std::string("Copy");
                         });

TEST(EmbeddedDataPlaneTest, EgressToNextHop) {
  testing::TcpEchoServer next_hop;
  auto dp = started(options());
  dp->apply(upsert(egress("books", "node-c", 0, next_hop.port())));
  const uint16_t port = waitListening(*dp, "books");
  ASSERT_NE(port, 0);
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_EQ(testing::roundTrip(client->get(), "via the next hop"), "via the next hop");
  EXPECT_EQ(next_hop.accepted(), 1);
  const ListenerStats s = *find(*dp, "books");
  EXPECT_EQ(s.route.kind, DataPlaneRoute::Kind::Egress);
  EXPECT_EQ(s.route.key.origin_node, "node-c");
  EXPECT_EQ(s.target, "127.0.0.1:" + std::to_string(next_hop.port()));
}

// Node A's egress dials node B's ingress, which reaches the service: client -> A -> B -> echo.
TEST(EmbeddedDataPlaneTest, ChainOfTwoDataPlanes) {
  testing::TcpEchoServer service;
  auto b = started(options());
  b->apply(upsert(ingress("books", 0, "http://127.0.0.1:" + std::to_string(service.port()) + "/x",
                          state::Protocol::Http)));
  const uint16_t b_port = waitListening(*b, "books");
  ASSERT_NE(b_port, 0);
  auto a = started(options(false));
  DataPlaneRoute learned = egress("books", kSelf, 0, b_port);
  learned.protocol = state::Protocol::Http;
  a->apply(upsert(learned));
  const uint16_t a_port = waitListening(*a, "books");
  ASSERT_NE(a_port, 0);

  auto client = testing::tcpConnect(a_port);
  ASSERT_TRUE(client);
  const std::string payload = testing::randomBytes(std::size_t{1} << 20, 7);
  std::thread writer([&] { EXPECT_TRUE(testing::sendAll(client->get(), payload)); });
  const std::string back = testing::readN(client->get(), payload.size(), 60s);
  writer.join();
  EXPECT_TRUE(back == payload) << "got " << back.size() << " bytes";
  ::shutdown(client->get(), SHUT_WR);
  EXPECT_TRUE(testing::readsEnd(client->get()));
  EXPECT_TRUE(eventually([&] {
    auto sa = find(*a, "books");
    auto sb = find(*b, "books");
    return sa->counters.active == 0 && sb->counters.active == 0;
  }));
  EXPECT_EQ(find(*a, "books")->counters.bytes_in, payload.size());
  EXPECT_EQ(find(*b, "books")->counters.bytes_out, payload.size());
  EXPECT_EQ(service.accepted(), 1);
}

// ---------------------------------------------------------------------------------------------
// UDP.

TEST(EmbeddedDataPlaneTest, UdpEchoWithTwoClientsAndIdleExpiry) {
  testing::UdpEchoServer echo;
  EmbeddedOptions o = options();
  o.udp_idle_timeout = 300ms;
  auto dp = started(o);
  dp->apply(upsert(
      ingress("dns", 0, "udp://127.0.0.1:" + std::to_string(echo.port()), state::Protocol::Udp)));
  const uint16_t port = waitListening(*dp, "dns");
  ASSERT_NE(port, 0);

  Fd one = testing::udpSocket();
  Fd two = testing::udpSocket();
  ASSERT_TRUE(testing::udpSend(one.get(), port, "from one"));
  ASSERT_TRUE(testing::udpSend(two.get(), port, "from two"));
  EXPECT_EQ(testing::udpReceive(one.get()), "from one");
  EXPECT_EQ(testing::udpReceive(two.get()), "from two");
  ASSERT_TRUE(testing::udpSend(one.get(), port, "again"));
  EXPECT_EQ(testing::udpReceive(one.get()), "again");
  // One upstream socket per client.
  EXPECT_EQ(echo.sources(), 2U);
  // A reply is counted once sent, maybe just after the client got it.
  EXPECT_TRUE(eventually([&] { return find(*dp, "dns")->counters.bytes_out == 21; }));
  ListenerStats s = *find(*dp, "dns");
  EXPECT_EQ(s.counters.connections, 2U);
  EXPECT_EQ(s.counters.active, 2U);
  EXPECT_EQ(s.counters.bytes_in, 21U);

  // Idle flows end; a client heard again gets a new flow.
  EXPECT_TRUE(eventually([&] { return find(*dp, "dns")->counters.active == 0; }));
  ASSERT_TRUE(testing::udpSend(one.get(), port, "back"));
  EXPECT_EQ(testing::udpReceive(one.get()), "back");
  s = *find(*dp, "dns");
  EXPECT_EQ(s.counters.connections, 3U);
  EXPECT_EQ(s.counters.active, 1U);
}

TEST(EmbeddedDataPlaneTest, UdpFlowLimitIsCounted) {
  testing::UdpEchoServer echo;
  EmbeddedOptions o = options();
  o.max_udp_flows_per_route = 1;
  auto dp = started(o);
  dp->apply(
      upsert(ingress("dns", 0, "127.0.0.1:" + std::to_string(echo.port()), state::Protocol::Udp)));
  const uint16_t port = waitListening(*dp, "dns");
  ASSERT_NE(port, 0);
  Fd one = testing::udpSocket();
  Fd two = testing::udpSocket();
  ASSERT_TRUE(testing::udpSend(one.get(), port, "first"));
  EXPECT_EQ(testing::udpReceive(one.get()), "first");
  ASSERT_TRUE(testing::udpSend(two.get(), port, "second"));
  EXPECT_TRUE(
      eventually([&] { return find(*dp, "dns")->counters.error(ErrorReason::UdpFlowLimit) == 1; }));
  EXPECT_EQ(testing::udpReceive(two.get(), 200ms), std::nullopt);
  EXPECT_EQ(find(*dp, "dns")->counters.connections, 1U);
}

// ---------------------------------------------------------------------------------------------
// Changes of the table.

TEST(EmbeddedDataPlaneTest, RemovalRefusesNewConnectionsAndDrainsOpenOnes) {
  testing::TcpEchoServer echo;
  EmbeddedOptions o = options();
  o.drain_timeout = 1500ms;
  auto dp = started(o);
  dp->apply(upsert(ingress("echo", 0, tcpUrl(echo.port()))));
  const uint16_t port = waitListening(*dp, "echo");
  ASSERT_NE(port, 0);
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_EQ(testing::roundTrip(client->get(), "before"), "before");

  const auto removed_at = testing::Clock::now();
  dp->apply(removal("echo"));
  EXPECT_FALSE(find(*dp, "echo"));
  EXPECT_TRUE(eventually([&] { return testing::refused(port); }));
  // Draining: the open connection still carries traffic.
  EXPECT_EQ(testing::roundTrip(client->get(), "during the drain"), "during the drain");
  // Then it is closed, once the drain timeout has passed.
  EXPECT_TRUE(testing::readsEnd(client->get(), 15s));
  EXPECT_GE(testing::Clock::now() - removed_at, 1400ms);
  EXPECT_TRUE(eventually([&] { return dp->stats().totals.active == 0; }));
}

TEST(EmbeddedDataPlaneTest, RemovalWithoutDrainTimeoutClosesAtOnce) {
  testing::TcpEchoServer echo;
  EmbeddedOptions o = options();
  o.drain_timeout = 0ms;
  auto dp = started(o);
  dp->apply(upsert(ingress("echo", 0, tcpUrl(echo.port()))));
  const uint16_t port = waitListening(*dp, "echo");
  ASSERT_NE(port, 0);
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_EQ(testing::roundTrip(client->get(), "x"), "x");
  dp->apply(removal("echo"));
  EXPECT_TRUE(testing::readsEnd(client->get(), 5s));
  EXPECT_TRUE(testing::refused(port));
}

TEST(EmbeddedDataPlaneTest, OpenConnectionSurvivesHundredUnrelatedChanges) {
  testing::TcpEchoServer echo;
  testing::TcpEchoServer other;
  auto dp = started(options());
  dp->apply(upsert(ingress("kept", 0, tcpUrl(echo.port()))));
  const uint16_t port = waitListening(*dp, "kept");
  ASSERT_NE(port, 0);
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_EQ(testing::roundTrip(client->get(), "before"), "before");

  for (int i = 0; i < 100; ++i) {
    const std::string name = "churn-" + std::to_string(i % 7);
    if (i % 3 == 2) {
      dp->apply(removal(name));
    } else {
      dp->apply(upsert(ingress(name, 0, tcpUrl(i % 2 == 0 ? other.port() : echo.port()))));
    }
    EXPECT_EQ(testing::roundTrip(client->get(), "ping " + std::to_string(i)),
              "ping " + std::to_string(i));
  }
  EXPECT_EQ(testing::roundTrip(client->get(), "after"), "after");
  const ListenerStats s = *find(*dp, "kept");
  EXPECT_EQ(s.state, ListenerState::Listening);
  EXPECT_EQ(s.port, port);
  EXPECT_EQ(s.counters.connections, 1U);
  EXPECT_EQ(s.counters.active, 1U);
  EXPECT_EQ(echo.accepted(), 1);
}

TEST(EmbeddedDataPlaneTest, UpsertOfTargetKeepsListenerAndOldConnections) {
  testing::TcpEchoServer first;
  testing::TcpEchoServer second;
  auto dp = started(options());
  const uint16_t port = testing::freePort();
  dp->apply(upsert(ingress("svc", port, tcpUrl(first.port()))));
  ASSERT_EQ(waitListening(*dp, "svc"), port);
  auto old_client = testing::tcpConnect(port);
  ASSERT_TRUE(old_client);
  EXPECT_EQ(testing::roundTrip(old_client->get(), "old"), "old");
  EXPECT_EQ(first.accepted(), 1);

  dp->apply(upsert(ingress("svc", port, tcpUrl(second.port()))));
  EXPECT_EQ(find(*dp, "svc")->target, "127.0.0.1:" + std::to_string(second.port()));
  // New connections go to the new target once the listener's worker has the change (those
  // accepted before that still went to the first).
  EXPECT_TRUE(eventually([&] {
    auto c = testing::tcpConnect(port);
    return c && testing::roundTrip(c->get(), "new") == "new" && second.accepted() >= 1;
  }));
  const int first_accepted = first.accepted();
  const int second_accepted = second.accepted();
  for (int i = 0; i < 10; ++i) { // whichever worker accepts them
    auto c = testing::tcpConnect(port);
    ASSERT_TRUE(c);
    EXPECT_EQ(testing::roundTrip(c->get(), "new"), "new");
  }
  EXPECT_TRUE(eventually([&] { return second.accepted() == second_accepted + 10; }));
  EXPECT_EQ(first.accepted(), first_accepted);
  // The old one keeps its upstream.
  EXPECT_EQ(testing::roundTrip(old_client->get(), "still old"), "still old");
  EXPECT_EQ(find(*dp, "svc")->state, ListenerState::Listening);
  EXPECT_EQ(find(*dp, "svc")->counters.error(ErrorReason::Bind), 0U);
}

// Every worker watches a TCP listener and holds its socket, so the socket may outlive the route
// by a moment; it stops listening at once all the same, and its port can be taken again at once,
// by the same route or another one, over and over.
TEST(EmbeddedDataPlaneTest, RemovedListenerRefusesAtOnceAndItsPortCanBeTakenAgainAtOnce) {
  testing::TcpEchoServer echo;
  EmbeddedOptions o = options();
  o.workers = 4;
  auto dp = started(o);
  const uint16_t port = testing::freePort();
  for (int i = 0; i < 20; ++i) {
    const std::string name = "svc" + std::to_string(i % 2);
    dp->apply(upsert(ingress(name, port, tcpUrl(echo.port()))));
    ASSERT_EQ(waitListening(*dp, name), port) << "round " << i;
    auto client = testing::tcpConnect(port);
    ASSERT_TRUE(client) << "round " << i;
    EXPECT_EQ(testing::roundTrip(client->get(), "x"), "x");
    dp->apply(removal(name));
    EXPECT_TRUE(eventually([&] { return testing::refused(port); })) << "round " << i;
  }
}

TEST(EmbeddedDataPlaneTest, UpsertOfPortMovesListener) {
  testing::TcpEchoServer echo;
  auto dp = started(options());
  const uint16_t old_port = testing::freePort();
  dp->apply(upsert(ingress("svc", old_port, tcpUrl(echo.port()))));
  ASSERT_EQ(waitListening(*dp, "svc"), old_port);
  auto client = testing::tcpConnect(old_port);
  ASSERT_TRUE(client);
  EXPECT_EQ(testing::roundTrip(client->get(), "a"), "a");

  uint16_t new_port = testing::freePort();
  while (new_port == old_port) {
    new_port = testing::freePort();
  }
  dp->apply(upsert(ingress("svc", new_port, tcpUrl(echo.port()))));
  EXPECT_EQ(waitListening(*dp, "svc"), new_port);
  EXPECT_TRUE(eventually([&] { return testing::refused(old_port); }));
  auto moved = testing::tcpConnect(new_port);
  ASSERT_TRUE(moved);
  EXPECT_EQ(testing::roundTrip(moved->get(), "b"), "b");
  EXPECT_EQ(testing::roundTrip(client->get(), "c"), "c"); // accepted on the old port, still open
  EXPECT_EQ(find(*dp, "svc")->counters.connections, 2U);
}

// ---------------------------------------------------------------------------------------------
// Problems: counted and shown, never fatal.

TEST(EmbeddedDataPlaneTest, BindFailureOnTakenPortIsReportedAndCounted) {
  testing::TcpEchoServer echo;
  const Fd holder = testing::listenOn(0);
  const uint16_t taken = [&] {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    ::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }();
  auto dp = started(options());
  dp->apply(upsert(ingress("clash", taken, tcpUrl(echo.port()))));
  dp->apply(upsert(ingress("fine", 0, tcpUrl(echo.port()))));
  EXPECT_TRUE(eventually([&] { return find(*dp, "clash")->state == ListenerState::Failed; }));
  const ListenerStats s = *find(*dp, "clash");
  ASSERT_TRUE(s.error);
  EXPECT_NE(s.error->find(std::to_string(taken)), std::string::npos) << *s.error;
  EXPECT_NE(s.error->find("in use"), std::string::npos) << *s.error;
  EXPECT_EQ(s.counters.error(ErrorReason::Bind), 1U);
  EXPECT_EQ(dp->stats().totals.error(ErrorReason::Bind), 1U);

  // The other route is unaffected.
  const uint16_t port = waitListening(*dp, "fine");
  ASSERT_NE(port, 0);
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_EQ(testing::roundTrip(client->get(), "ok"), "ok");
}

TEST(EmbeddedDataPlaneTest, RouteWithoutPortOrTargetHasNoListener) {
  auto dp = started(options());
  DataPlaneRoute no_hop = egress("no-hop", "node-z", 0, 1);
  no_hop.next_hop_port.reset();
  DataPlaneRoute bad = ingress("bad", 0, "tcp://127.0.0.1");
  ConfigureDataPlane c;
  c.upserts = {no_hop, bad};
  dp->apply(c);
  for (const char* name : {"no-hop", "bad"}) {
    const auto s = find(*dp, name);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(s->state, ListenerState::None) << name;
    EXPECT_TRUE(s->error) << name;
  }
  EXPECT_EQ(find(*dp, "no-hop")->counters.error(ErrorReason::InvalidTarget), 1U);
  EXPECT_EQ(find(*dp, "bad")->counters.error(ErrorReason::InvalidTarget), 1U);
}

// A route without a listen port (the range is exhausted or not configured) is counted node-wide
// and not kept; one that had a port and loses it loses its listener.
TEST(EmbeddedDataPlaneTest, RouteWithoutPortIsCountedAndNotKept) {
  auto dp = started(options());
  DataPlaneRoute no_port = ingress("no-port", 0, "tcp://127.0.0.1:9");
  no_port.listen_port.reset();
  dp->apply(upsert(no_port));
  EXPECT_FALSE(find(*dp, "no-port"));
  EXPECT_EQ(dp->stats().totals.error(ErrorReason::NoListenPort), 1U);

  const uint16_t port = testing::freePort();
  dp->apply(upsert(ingress("no-port", port, "tcp://127.0.0.1:9")));
  ASSERT_EQ(waitListening(*dp, "no-port"), port);
  dp->apply(upsert(no_port));
  EXPECT_FALSE(find(*dp, "no-port"));
  EXPECT_EQ(dp->stats().totals.error(ErrorReason::NoListenPort), 2U);
  EXPECT_TRUE(eventually([&] { return testing::refused(port); }));
}

TEST(EmbeddedDataPlaneTest, ConnectFailureIsCountedAndClosesTheClient) {
  const uint16_t closed = testing::freePort(); // nobody listens there
  auto dp = started(options());
  dp->apply(upsert(ingress("down", 0, tcpUrl(closed))));
  const uint16_t port = waitListening(*dp, "down");
  ASSERT_NE(port, 0);
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_TRUE(testing::readsEnd(client->get()));
  EXPECT_TRUE(eventually([&] {
    auto s = find(*dp, "down");
    return s->counters.error(ErrorReason::Connect) == 1 && s->counters.active == 0;
  }));
  EXPECT_EQ(find(*dp, "down")->counters.connections, 1U);
}

// A target whose accept queue is full drops our SYNs: the connect times out, is counted, and the
// client's connection is closed.
TEST(EmbeddedDataPlaneTest, ConnectTimeoutIsCountedAndClosesTheClient) {
  Fd stuck(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast)
  ASSERT_EQ(::bind(stuck.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(stuck.get(), 0), 0);
  socklen_t len = sizeof addr;
  ::getsockname(stuck.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<Fd> fillers; // never accepted: they fill the queue
  for (int i = 0; i < 4; ++i) {
    Fd f(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ::connect(f.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    fillers.push_back(std::move(f));
  }
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
  EmbeddedOptions o = options();
  o.connect_timeout = 300ms;
  auto dp = started(o);
  dp->apply(upsert(ingress("stuck", 0, tcpUrl(ntohs(addr.sin_port)))));
  const uint16_t port = waitListening(*dp, "stuck");
  ASSERT_NE(port, 0);
  const auto start = testing::Clock::now();
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_TRUE(testing::readsEnd(client->get()));
  EXPECT_GE(testing::Clock::now() - start, 250ms);
  EXPECT_TRUE(eventually([&] {
    auto s = find(*dp, "stuck");
    return s->counters.error(ErrorReason::Connect) == 1 && s->counters.active == 0;
  }));
}

TEST(EmbeddedDataPlaneTest, TargetNamesAreResolved) {
  testing::TcpEchoServer echo;
  auto dp = started(options());
  dp->apply(upsert(ingress("named", 0, "tcp://localhost:" + std::to_string(echo.port()))));
  const uint16_t port = waitListening(*dp, "named");
  ASSERT_NE(port, 0);
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  // localhost may resolve to ::1 first, where the echo server (IPv4) is not: the next address is
  // tried.
  EXPECT_EQ(testing::roundTrip(client->get(), "by name"), "by name");
}

// ---------------------------------------------------------------------------------------------
// Lifetime.

TEST(EmbeddedDataPlaneTest, StopClosesListenersAndConnections) {
  testing::TcpEchoServer echo;
  auto dp = started(options());
  dp->apply(upsert(ingress("echo", 0, tcpUrl(echo.port()))));
  const uint16_t port = waitListening(*dp, "echo");
  ASSERT_NE(port, 0);
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_EQ(testing::roundTrip(client->get(), "x"), "x");
  dp->stop();
  EXPECT_TRUE(testing::readsEnd(client->get(), 5s));
  EXPECT_TRUE(testing::refused(port));
  dp->stop();                                                 // idempotent
  dp->apply(upsert(ingress("late", 0, tcpUrl(echo.port())))); // ignored
  EXPECT_FALSE(find(*dp, "late"));
}

TEST(EmbeddedDataPlaneTest, RoutesAppliedBeforeStartOpenAtStart) {
  testing::TcpEchoServer echo;
  EmbeddedDataPlane dp(options(), testLogger());
  dp.apply(upsert(ingress("early", 0, tcpUrl(echo.port()))));
  EXPECT_EQ(find(dp, "early")->state, ListenerState::Pending);
  ASSERT_TRUE(dp.start());
  const uint16_t port = waitListening(dp, "early");
  ASSERT_NE(port, 0);
  auto client = testing::tcpConnect(port);
  ASSERT_TRUE(client);
  EXPECT_EQ(testing::roundTrip(client->get(), "x"), "x");
}

TEST(EmbeddedDataPlaneTest, UnresolvableBindAddressFailsStart) {
  EmbeddedOptions o = options();
  o.bind_address = "no-such-host.invalid";
  EmbeddedDataPlane dp(o, testLogger());
  const Status st = dp.start();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("no-such-host.invalid"), std::string::npos);
}

} // namespace
} // namespace catalyst::dataplane
