// The WebSocket transport against itself (dialWebSocket <-> acceptWebSocket behind a real
// admin::HttpServer) and against a raw Beast client on the test's thread, which sends what our
// transport never would: binary and fragmented messages, oversize messages, silence.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <gtest/gtest.h>

#include "catalyst/admin/http_server_impl.h"
#include "catalyst/transport/websocket.h"
#include "catalyst/transport/websocket_impl.h"

#include "http_test_util.h"

namespace catalyst::transport {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using test::TestHttpServer;
using test::waitUntil;

struct Received {
  std::string data;
  bool is_text;
};

struct Closed {
  uint16_t code;
  std::string reason;
};

// Records what a transport reports (on the loop's thread) for the test's thread, and checks
// the contract: nothing after onClosed, which comes once.
class Recorder : public rpc::MessageTransport::Handler {
public:
  // Optional reactions, run on the loop's thread after recording.
  std::function<void(std::string_view, bool)> on_message;
  std::function<void(std::size_t, std::size_t)> on_too_large;
  std::function<void()> on_closed;

  void onMessage(std::string_view message, bool is_text) override {
    {
      std::lock_guard lock(mutex_);
      violations_ += closed_.empty() ? 0 : 1;
      messages_.push_back({std::string(message), is_text});
    }
    if (on_message) {
      on_message(message, is_text);
    }
  }

  void onMessageTooLarge(std::size_t size_so_far, std::size_t limit) override {
    {
      std::lock_guard lock(mutex_);
      violations_ += closed_.empty() ? 0 : 1;
      too_large_.emplace_back(size_so_far, limit);
    }
    if (on_too_large) {
      on_too_large(size_so_far, limit);
    }
  }

  void onClosed(uint16_t code, std::string reason) override {
    {
      std::lock_guard lock(mutex_);
      violations_ += closed_.empty() ? 0 : 1;
      closed_.push_back({code, std::move(reason)});
    }
    if (on_closed) {
      on_closed();
    }
  }

  std::vector<Received> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::size_t messageCount() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  std::vector<std::pair<std::size_t, std::size_t>> tooLarge() const {
    std::lock_guard lock(mutex_);
    return too_large_;
  }
  std::vector<Closed> closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  bool isClosed() const {
    std::lock_guard lock(mutex_);
    return !closed_.empty();
  }
  int violations() const {
    std::lock_guard lock(mutex_);
    return violations_;
  }

  bool waitForMessages(std::size_t n, std::chrono::milliseconds timeout = 10s) const {
    return waitUntil([&] { return messageCount() >= n; }, timeout);
  }
  bool waitForClosed(std::chrono::milliseconds timeout = 10s) const {
    return waitUntil([&] { return isClosed(); }, timeout);
  }

private:
  mutable std::mutex mutex_;
  std::vector<Received> messages_;
  std::vector<std::pair<std::size_t, std::size_t>> too_large_;
  std::vector<Closed> closed_;
  int violations_ = 0;
};

// A WebSocket peer on the test's thread, on an io_context of its own; every wait has a
// deadline. Usually a client; listen() and accept() make it a server.
class RawPeer {
public:
  RawPeer() {
    ws_.auto_fragment(false); // one frame per message unless a test fragments it itself
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::ping) {
        ++pings_;
      } else if (kind == websocket::frame_type::pong) {
        ++pongs_;
      }
    });
  }

  // Connects to 127.0.0.1:port and performs the handshake for `target`.
  bool open(uint16_t port, std::string target = "/rpc",
            std::function<void(websocket::request_type&)> decorate = {}) {
    if (decorate) {
      ws_.set_option(websocket::stream_base::decorator(std::move(decorate)));
    }
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                         ec_);
    if (ec_) {
      return false;
    }
    bool done = false;
    ws_.async_handshake(response_, "127.0.0.1:" + std::to_string(port), target,
                        [&](beast::error_code ec) {
                          ec_ = ec;
                          done = true;
                        });
    return run(done) && !ec_;
  }

  // Listens on 127.0.0.1; returns the port.
  uint16_t listen() {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    return acceptor_.local_endpoint().port();
  }

  // Accepts one connection on the port of listen() and answers its handshake.
  bool accept() {
    bool done = false;
    acceptor_.async_accept(beast::get_lowest_layer(ws_).socket(), [&](beast::error_code ec) {
      ec_ = ec;
      done = true;
    });
    if (!run(done) || ec_) {
      return false;
    }
    done = false;
    ws_.async_accept([&](beast::error_code ec) {
      ec_ = ec;
      done = true;
    });
    return run(done) && !ec_;
  }

  const websocket::response_type& handshakeResponse() const { return response_; }

  bool writeText(std::string_view data) { return write(data, true); }
  bool writeBinary(std::string_view data) { return write(data, false); }

  // One frame of a message; the first frame's type makes the message text.
  bool writeFrame(bool fin, std::string_view data) {
    ws_.text(true);
    bool done = false;
    ws_.async_write_some(fin, net::buffer(data), [&](beast::error_code ec, std::size_t) {
      ec_ = ec;
      done = true;
    });
    return run(done) && !ec_;
  }

  bool ping() {
    bool done = false;
    ws_.async_ping({}, [&](beast::error_code ec) {
      ec_ = ec;
      done = true;
    });
    return run(done) && !ec_;
  }

  // One message; nullopt on an error (see error(), closeReason()) or after `timeout`.
  std::optional<std::string> read(std::chrono::milliseconds timeout = 10s) {
    bool done = false;
    buffer_.clear();
    ws_.async_read(buffer_, [&](beast::error_code ec, std::size_t) {
      ec_ = ec;
      done = true;
    });
    if (!run(done, timeout) || ec_) {
      return std::nullopt;
    }
    return beast::buffers_to_string(buffer_.data());
  }

  // Reads until the connection ends; true if it ended with a close frame (closeReason()).
  bool readUntilClosed(std::chrono::milliseconds timeout = 10s) {
    while (read(timeout)) {
    }
    return ec_ == websocket::error::closed;
  }

  // Keeps a read pending for `duration` (answering pings meanwhile); messages are dropped.
  void pump(std::chrono::milliseconds duration) {
    if (!reading_) {
      startBackgroundRead();
    }
    io_.restart();
    io_.run_for(duration);
  }

  void close(uint16_t code, std::string_view reason) {
    bool done = false;
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                    [&](beast::error_code ec) {
                      ec_ = ec;
                      done = true;
                    });
    run(done);
  }

  // Drops the TCP connection without a close frame.
  void drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    io_.restart();
    io_.run_for(100ms); // lets cancelled operations finish
  }

  beast::error_code error() const { return ec_; }
  // The close frame the peer sent.
  uint16_t closeCode() const { return ws_.reason().code; }
  std::string closeReason() const {
    return std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
  }
  int pings() const { return pings_; }
  int pongs() const { return pongs_; }

private:
  bool write(std::string_view data, bool text) {
    ws_.text(text);
    bool done = false;
    ws_.async_write(net::buffer(data), [&](beast::error_code ec, std::size_t) {
      ec_ = ec;
      done = true;
    });
    return run(done) && !ec_;
  }

  void startBackgroundRead() {
    reading_ = true;
    background_.clear();
    ws_.async_read(background_, [this](beast::error_code ec, std::size_t) {
      reading_ = false;
      if (!ec) {
        startBackgroundRead();
      }
    });
  }

  // Runs the io_context until `done`; false if `timeout` passed first.
  bool run(const bool& done, std::chrono::milliseconds timeout = 10s) {
    io_.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_until(deadline);
    }
    if (!done) {
      // Cancel and let the handler run: it refers to `done` on the caller's stack.
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().cancel(ignored);
      acceptor_.cancel(ignored);
      io_.restart();
      for (int i = 0; i < 10 && !done; ++i) {
        io_.run_one_for(1s);
      }
      if (!done) {
        std::fprintf(stderr, "RawPeer: a cancelled operation did not finish\n");
        std::abort();
      }
      ec_ = beast::error::timeout;
      return false;
    }
    return true;
  }

  net::io_context io_;
  tcp::acceptor acceptor_{io_};
  websocket::stream<beast::tcp_stream> ws_{io_};
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  beast::flat_buffer background_;
  beast::error_code ec_;
  bool reading_ = false;
  int pings_ = 0;
  int pongs_ = 0;
};

class WebSocketTest : public testing::Test {
protected:
  // The server side of one connection; lives on the loop's thread.
  struct ServerPeer {
    rpc::MessageTransportPtr transport;
    Recorder handler;
  };

  // A client made by dialWebSocket.
  struct Client {
    rpc::MessageTransportPtr transport; // the loop's thread only
    Recorder handler;
    std::optional<Error> error;
    std::atomic<bool> done{false};
  };

  WebSocketTest() {
    http_.server().impl().addUpgradeRoute("/rpc", [this](tcp::socket socket,
                                                         admin::UpgradeRequest request) {
      auto peer = std::make_unique<ServerPeer>();
      ServerPeer* raw = peer.get();
      raw->transport = acceptWebSocket(http_.dispatcher(), std::move(socket), std::move(request),
                                       server_options_);
      for (const std::string& message : greeting_) {
        raw->transport->send(message); // before the handshake completed
      }
      if (close_at_once_) {
        raw->transport->close(close_at_once_->code, close_at_once_->reason);
      }
      if (echo_) {
        raw->handler.on_message = [raw](std::string_view message, bool is_text) {
          if (is_text) {
            raw->transport->send(std::string(message));
          }
        };
      }
      raw->handler.on_too_large = [raw](std::size_t size, std::size_t limit) {
        // What an RPC session does: abort, then close 3000.
        raw->transport->send(R"(["abort",["error","Error","message of )" + std::to_string(size) +
                             " bytes over " + std::to_string(limit) + "\"]]");
        raw->transport->close(rpc::kCloseRpcAbort, "message too large");
      };
      if (set_server_handler_) {
        raw->transport->setHandler(raw->handler);
      }
      servers_.push_back(std::move(peer));
    });
  }

  ~WebSocketTest() override {
    if (started_) {
      http_.run([this] {
        for (const auto& peer : servers_) {
          EXPECT_EQ(peer->handler.violations(), 0);
        }
        for (const auto& client : clients_) {
          EXPECT_EQ(client->handler.violations(), 0);
        }
        servers_.clear();
        clients_.clear();
      });
    }
  }

  void start() {
    http_.start();
    started_ = true;
  }

  std::string url(std::string_view path = "/rpc") const {
    return "ws://127.0.0.1:" + std::to_string(http_.port()) + std::string(path);
  }

  std::shared_ptr<Client> dial(const std::string& target, WebSocketOptions options = {}) {
    auto client = std::make_shared<Client>();
    clients_.push_back(client);
    http_.run([&] {
      dialWebSocket(http_.dispatcher(), target, options,
                    [client](Result<rpc::MessageTransportPtr> transport) {
                      if (transport) {
                        client->transport = std::move(*transport);
                        client->transport->setHandler(client->handler);
                      } else {
                        client->error = transport.error();
                      }
                      client->done = true;
                    });
    });
    EXPECT_TRUE(waitUntil([&] { return client->done.load(); }, 15s));
    return client;
  }

  // The error of a dial that must fail.
  std::string dialError(const std::string& target, WebSocketOptions options = {}) {
    auto client = dial(target, options);
    if (!client->error) {
      return "<connected>";
    }
    return client->error->message;
  }

  std::size_t serverCount() {
    return http_.run([this] { return servers_.size(); });
  }

  // The server side of the n-th connection, once it exists.
  ServerPeer& server(std::size_t n = 0) {
    EXPECT_TRUE(waitUntil([&] { return serverCount() > n; }));
    return *http_.run([&] { return servers_.at(n).get(); });
  }

  void send(rpc::MessageTransport& transport, std::string message) {
    http_.run([&] { transport.send(std::move(message)); });
  }

  TestHttpServer http_;
  WebSocketOptions server_options_;
  std::vector<std::string> greeting_;
  std::optional<Closed> close_at_once_;
  bool echo_ = true;
  bool set_server_handler_ = true;
  bool started_ = false;
  // Owned by the loop's thread after start().
  std::vector<std::unique_ptr<ServerPeer>> servers_;
  std::vector<std::shared_ptr<Client>> clients_;
};

TEST_F(WebSocketTest, EchoRoundTripBothWays) {
  start();
  auto client = dial(url());
  ASSERT_FALSE(client->error) << client->error->message;
  send(*client->transport, R"(["push",["pipeline",0,["hello"],["x"]]])");
  ASSERT_TRUE(client->handler.waitForMessages(1));
  EXPECT_EQ(client->handler.messages()[0].data, R"(["push",["pipeline",0,["hello"],["x"]]])");
  EXPECT_TRUE(client->handler.messages()[0].is_text);
  EXPECT_EQ(server().handler.messages()[0].data, R"(["push",["pipeline",0,["hello"],["x"]]])");

  // The server side speaks first too.
  send(*server().transport, R"(["resolve",1,"hi"])");
  ASSERT_TRUE(client->handler.waitForMessages(2));
  EXPECT_EQ(client->handler.messages()[1].data, R"(["resolve",1,"hi"])");
  EXPECT_FALSE(client->handler.isClosed());
  EXPECT_FALSE(server().handler.isClosed());
}

TEST_F(WebSocketTest, TenThousandMessagesArriveInOrder) {
  start();
  auto client = dial(url());
  ASSERT_FALSE(client->error);
  constexpr int kCount = 10'000;
  http_.run([&] {
    for (int i = 0; i < kCount; ++i) {
      client->transport->send("[\"pull\"," + std::to_string(i) + "]");
    }
  });
  ASSERT_TRUE(client->handler.waitForMessages(kCount, 30s));
  const std::vector<Received> at_server = server().handler.messages();
  const std::vector<Received> echoed = client->handler.messages();
  ASSERT_EQ(at_server.size(), static_cast<std::size_t>(kCount));
  ASSERT_EQ(echoed.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    const std::string expected = "[\"pull\"," + std::to_string(i) + "]";
    ASSERT_EQ(at_server[static_cast<std::size_t>(i)].data, expected);
    ASSERT_EQ(echoed[static_cast<std::size_t>(i)].data, expected);
  }
}

TEST_F(WebSocketTest, MessagesSentBeforeTheHandshakeCompletedGoOutAfterIt) {
  greeting_ = {"[\"one\"]", "[\"two\"]"};
  start();
  auto client = dial(url());
  ASSERT_FALSE(client->error);
  ASSERT_TRUE(client->handler.waitForMessages(2));
  EXPECT_EQ(client->handler.messages()[0].data, "[\"one\"]");
  EXPECT_EQ(client->handler.messages()[1].data, "[\"two\"]");
}

TEST_F(WebSocketTest, CloseBeforeTheHandshakeCompletedSendsTheQueueThenCloses) {
  greeting_ = {"[\"abort\",[\"error\",\"Error\",\"go away\"]]"};
  close_at_once_ = Closed{rpc::kCloseRpcAbort, "go away"};
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  EXPECT_EQ(raw.read(), "[\"abort\",[\"error\",\"Error\",\"go away\"]]");
  EXPECT_TRUE(raw.readUntilClosed());
  EXPECT_EQ(raw.closeCode(), rpc::kCloseRpcAbort);
  EXPECT_EQ(raw.closeReason(), "go away");
  ASSERT_TRUE(server().handler.waitForClosed());
  EXPECT_EQ(server().handler.closed()[0].code, rpc::kCloseRpcAbort);
  EXPECT_EQ(server().handler.closed()[0].reason, "go away");
}

TEST_F(WebSocketTest, MessagesBeforeSetHandlerAreHeldAndNotDeliveredInsideIt) {
  set_server_handler_ = false;
  start();
  auto client = dial(url());
  ASSERT_FALSE(client->error);
  send(*client->transport, "[\"a\"]");
  send(*client->transport, "[\"b\"]");
  http_.run([&] { client->transport->close(4000, "done"); });
  // The client's close completes once the server has read everything, its close frame too.
  ASSERT_TRUE(client->handler.waitForClosed());
  EXPECT_EQ(client->handler.closed()[0].code, 4000);

  ServerPeer& peer = server();
  const std::size_t delivered_inside = http_.run([&] {
    peer.transport->setHandler(peer.handler);
    return peer.handler.messageCount() + peer.handler.closed().size();
  });
  EXPECT_EQ(delivered_inside, 0u);
  ASSERT_TRUE(peer.handler.waitForClosed());
  ASSERT_EQ(peer.handler.messageCount(), 2u);
  EXPECT_EQ(peer.handler.messages()[0].data, "[\"a\"]");
  EXPECT_EQ(peer.handler.messages()[1].data, "[\"b\"]");
  EXPECT_EQ(peer.handler.closed()[0].code, 4000);
  EXPECT_EQ(peer.handler.closed()[0].reason, "done");
}

TEST_F(WebSocketTest, BinaryMessageIsDeliveredAsNotText) {
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  ASSERT_TRUE(raw.writeBinary(std::string("\x00\x01\x02", 3)));
  ASSERT_TRUE(server().handler.waitForMessages(1));
  EXPECT_EQ(server().handler.messages()[0].data, std::string("\x00\x01\x02", 3));
  EXPECT_FALSE(server().handler.messages()[0].is_text);
}

TEST_F(WebSocketTest, FragmentedMessageIsReassembled) {
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  ASSERT_TRUE(raw.writeFrame(false, "[\"pu"));
  ASSERT_TRUE(raw.writeFrame(false, "sh\","));
  ASSERT_TRUE(raw.writeFrame(true, "1]"));
  ASSERT_TRUE(server().handler.waitForMessages(1));
  EXPECT_EQ(server().handler.messages()[0].data, "[\"push\",1]");
  EXPECT_TRUE(server().handler.messages()[0].is_text);
  EXPECT_EQ(raw.read(), "[\"push\",1]"); // echoed whole
}

TEST_F(WebSocketTest, OversizeMessageIsReportedAndTheAbortAndCloseStillGoOut) {
  server_options_.max_message_bytes = 1000;
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  ASSERT_TRUE(raw.writeText("[\"ok\"]")); // under the cap: fine
  EXPECT_EQ(raw.read(), "[\"ok\"]");
  ASSERT_TRUE(raw.writeText(std::string(100'000, 'x')));

  // The frame header declares the size: the data past the cap is never buffered.
  EXPECT_EQ(raw.read(), R"(["abort",["error","Error","message of 100000 bytes over 1000"]])");
  EXPECT_TRUE(raw.readUntilClosed());
  EXPECT_EQ(raw.closeCode(), rpc::kCloseRpcAbort);
  EXPECT_EQ(raw.closeReason(), "message too large");

  ServerPeer& peer = server();
  ASSERT_TRUE(peer.handler.waitForClosed());
  EXPECT_EQ(peer.handler.tooLarge(),
            (std::vector<std::pair<std::size_t, std::size_t>>{{100'000, 1000}}));
  EXPECT_EQ(peer.handler.messageCount(), 1u);
  EXPECT_EQ(peer.handler.closed()[0].code, rpc::kCloseRpcAbort);
  EXPECT_EQ(peer.handler.closed()[0].reason, "message too large");
}

TEST_F(WebSocketTest, MessageExactlyAtTheCapIsDelivered) {
  server_options_.max_message_bytes = 70'000; // more than one read
  start();
  auto client = dial(url());
  ASSERT_FALSE(client->error);
  send(*client->transport, std::string(70'000, 'y'));
  ASSERT_TRUE(server().handler.waitForMessages(1));
  EXPECT_EQ(server().handler.messages()[0].data.size(), 70'000u);
  EXPECT_TRUE(server().handler.tooLarge().empty());
}

TEST_F(WebSocketTest, PeerCloseCodeAndReasonAreReported) {
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  raw.close(4001, "bye now");
  EXPECT_FALSE(raw.error()) << raw.error().message();
  ASSERT_TRUE(server().handler.waitForClosed());
  EXPECT_EQ(server().handler.closed()[0].code, 4001);
  EXPECT_EQ(server().handler.closed()[0].reason, "bye now");
}

TEST_F(WebSocketTest, CloseWithoutACodeIsReportedAs1005) {
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  raw.close(0, ""); // close_code::none: an empty close frame
  ASSERT_TRUE(server().handler.waitForClosed());
  EXPECT_EQ(server().handler.closed()[0].code, 1005);
}

TEST_F(WebSocketTest, LocalCloseReachesThePeerAndLongReasonsAreCutAtACharacter) {
  start();
  auto client = dial(url());
  ASSERT_FALSE(client->error);
  std::string reason(121, 'r');
  reason += "\xc3\xa9\xc3\xa9"; // two 2-byte characters: 125 bytes, cut after the first
  const std::size_t closed_inside = http_.run([&] {
    client->transport->close(rpc::kCloseRpcAbort, reason);
    client->transport->close(1000, "again"); // idempotent
    client->transport->send("[\"late\"]");   // dropped after close()
    return client->handler.closed().size();
  });
  EXPECT_EQ(closed_inside, 0u); // never called back from inside close()
  const std::string expected = std::string(121, 'r') + "\xc3\xa9";
  ASSERT_TRUE(client->handler.waitForClosed());
  EXPECT_EQ(client->handler.closed()[0].code, rpc::kCloseRpcAbort);
  EXPECT_EQ(client->handler.closed()[0].reason, expected);
  ASSERT_TRUE(server().handler.waitForClosed());
  EXPECT_EQ(server().handler.closed()[0].code, rpc::kCloseRpcAbort);
  EXPECT_EQ(server().handler.closed()[0].reason, expected);
  EXPECT_EQ(server().handler.messageCount(), 0u);
}

TEST_F(WebSocketTest, CloseFlushesQueuedMessagesFirst) {
  start();
  auto client = dial(url());
  ASSERT_FALSE(client->error);
  http_.run([&] {
    for (int i = 0; i < 100; ++i) {
      client->transport->send("[" + std::to_string(i) + "]");
    }
    client->transport->close(1000, "");
  });
  ASSERT_TRUE(server().handler.waitForClosed());
  ASSERT_EQ(server().handler.messageCount(), 100u);
  EXPECT_EQ(server().handler.messages()[99].data, "[99]");
  EXPECT_EQ(server().handler.closed()[0].code, 1000);
}

TEST_F(WebSocketTest, ConnectionDropIsReportedOnceAs1006) {
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  ASSERT_TRUE(raw.writeText("[1]"));
  ASSERT_TRUE(server().handler.waitForMessages(1));
  raw.drop();
  ASSERT_TRUE(server().handler.waitForClosed());
  EXPECT_EQ(server().handler.closed()[0].code, 1006);
  EXPECT_NE(server().handler.closed()[0].reason.find("WebSocket connection lost"),
            std::string::npos)
      << server().handler.closed()[0].reason;
  // Sending to a closed transport does nothing; nothing more is reported.
  ServerPeer& peer = server();
  send(*peer.transport, "[2]");
  http_.run([&] { peer.transport->close(1000, ""); });
  auto other = dial(url()); // a round trip through the loop
  ASSERT_FALSE(other->error);
  EXPECT_EQ(server().handler.closed().size(), 1u);
}

TEST_F(WebSocketTest, ServerNeverNamesASubprotocol) {
  start();
  RawPeer plain;
  ASSERT_TRUE(plain.open(http_.port()));
  EXPECT_EQ(plain.handshakeResponse().result_int(), 101);
  EXPECT_EQ(plain.handshakeResponse().count(http::field::sec_websocket_protocol), 0u);

  RawPeer asking;
  ASSERT_TRUE(asking.open(http_.port(), "/rpc", [](websocket::request_type& request) {
    request.set(http::field::sec_websocket_protocol, "capnweb");
  }));
  EXPECT_EQ(asking.handshakeResponse().result_int(), 101);
  EXPECT_EQ(asking.handshakeResponse().count(http::field::sec_websocket_protocol), 0u);
}

TEST_F(WebSocketTest, ClientOffersNoSubprotocol) {
  std::string offered = "<none seen>";
  http_.server().impl().addUpgradeRoute(
      "/inspect", [this, &offered](tcp::socket socket, admin::UpgradeRequest request) {
        offered = std::string(request[http::field::sec_websocket_protocol]);
        auto peer = std::make_unique<ServerPeer>();
        peer->transport = acceptWebSocket(http_.dispatcher(), std::move(socket), std::move(request),
                                          server_options_);
        peer->transport->setHandler(peer->handler);
        servers_.push_back(std::move(peer));
      });
  start();
  auto client = dial(url("/inspect"));
  ASSERT_FALSE(client->error);
  EXPECT_EQ(http_.run([&] { return offered; }), "");
}

TEST_F(WebSocketTest, PeerPingsAreAnswered) {
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  ASSERT_TRUE(raw.ping());
  ASSERT_TRUE(raw.writeText("[\"after ping\"]"));
  EXPECT_EQ(raw.read(), "[\"after ping\"]");
  EXPECT_EQ(raw.pongs(), 1);
}

TEST_F(WebSocketTest, KeepalivePingsAnAnsweringPeerAndKeepsIt) {
  server_options_.ping_interval = 50ms;
  server_options_.pong_timeout = 200ms;
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  EXPECT_TRUE(waitUntil(
      [&] {
        raw.pump(20ms);
        return raw.pings() >= 4;
      },
      10s));
  EXPECT_FALSE(server().handler.isClosed());
}

TEST_F(WebSocketTest, KeepaliveDropsAPeerThatStopsAnswering) {
  server_options_.ping_interval = 50ms;
  server_options_.pong_timeout = 100ms;
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  // The raw client reads nothing from here on, so it answers no ping.
  ASSERT_TRUE(server().handler.waitForClosed());
  EXPECT_EQ(server().handler.closed()[0].code, 1006);
  EXPECT_EQ(server().handler.closed()[0].reason, "no pong within 100ms");
}

TEST_F(WebSocketTest, DialedClientPingsAndKeepsAnAnsweringServer) {
  start();
  RawPeer raw_server;
  const uint16_t port = raw_server.listen();
  std::shared_ptr<Client> client;
  std::thread dialer([&] {
    client = dial("ws://127.0.0.1:" + std::to_string(port) + "/", {.ping_interval = 30ms});
  });
  const bool accepted = raw_server.accept();
  dialer.join();
  ASSERT_TRUE(accepted);
  ASSERT_FALSE(client->error);
  EXPECT_TRUE(waitUntil(
      [&] {
        raw_server.pump(20ms);
        return raw_server.pings() >= 4;
      },
      10s));
  EXPECT_FALSE(client->handler.isClosed());
}

TEST_F(WebSocketTest, DialedClientDropsAServerThatStopsAnswering) {
  start();
  RawPeer raw_server;
  const uint16_t port = raw_server.listen();
  std::shared_ptr<Client> client;
  std::thread dialer([&] {
    client = dial("ws://127.0.0.1:" + std::to_string(port) + "/",
                  {.ping_interval = 30ms, .pong_timeout = 60ms});
  });
  const bool accepted = raw_server.accept();
  dialer.join();
  ASSERT_TRUE(accepted);
  ASSERT_FALSE(client->error);
  // The raw server reads nothing from here on.
  ASSERT_TRUE(client->handler.waitForClosed());
  EXPECT_EQ(client->handler.closed()[0].code, 1006);
  EXPECT_EQ(client->handler.closed()[0].reason, "no pong within 60ms");
}

TEST_F(WebSocketTest, DestroyingTheTransportMidFlightIsSafe) {
  start();
  auto client = dial(url());
  ASSERT_FALSE(client->error);
  http_.run([&] {
    for (int i = 0; i < 1000; ++i) {
      client->transport->send(std::string(1000, 'z'));
    }
    client->transport.reset(); // no close frame: the server sees the connection drop
  });
  ASSERT_TRUE(server().handler.waitForClosed());
  EXPECT_EQ(server().handler.closed()[0].code, 1006);
  EXPECT_TRUE(client->handler.closed().empty()); // no callbacks after destruction
}

TEST_F(WebSocketTest, DestroyingTheTransportFromItsOwnHandlerIsSafe) {
  echo_ = false;
  start();
  auto client = dial(url());
  ASSERT_FALSE(client->error);
  ServerPeer& peer = server();
  http_.run([&] {
    peer.handler.on_message = [&peer](std::string_view, bool) { peer.transport.reset(); };
    for (int i = 0; i < 10; ++i) {
      client->transport->send("[" + std::to_string(i) + "]");
    }
  });
  ASSERT_TRUE(client->handler.waitForClosed());
  EXPECT_EQ(client->handler.closed()[0].code, 1006);
  EXPECT_EQ(peer.handler.messageCount(), 1u);
  EXPECT_TRUE(peer.handler.closed().empty());
}

TEST_F(WebSocketTest, DestroyingTheTransportBeforeTheHandshakeCompletedIsSafe) {
  http_.server().impl().addUpgradeRoute("/gone", [this](tcp::socket socket,
                                                        admin::UpgradeRequest request) {
    rpc::MessageTransportPtr transport =
        acceptWebSocket(http_.dispatcher(), std::move(socket), std::move(request), server_options_);
    transport.reset();
  });
  start();
  RawPeer raw;
  if (raw.open(http_.port(), "/gone")) { // the 101 may have gone out at once
    EXPECT_FALSE(raw.read());
  }
  // The server carries on.
  auto client = dial(url());
  EXPECT_FALSE(client->error);
}

TEST_F(WebSocketTest, BadUpgradeRequestGets400AndIsReportedAsAFailedHandshake) {
  start();
  test::RawHttpConnection connection(http_.port());
  // No Sec-WebSocket-Key: the HttpServer hands it over, Beast refuses it.
  ASSERT_TRUE(connection.send("GET /rpc HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
                              "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  auto response = connection.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  ASSERT_TRUE(server().handler.waitForClosed());
  EXPECT_EQ(server().handler.closed()[0].code, 1006);
  EXPECT_EQ(server().handler.closed()[0].reason.rfind("WebSocket handshake failed: ", 0), 0u)
      << server().handler.closed()[0].reason;
}

TEST_F(WebSocketTest, DialErrorsAreClear) {
  start();
  test::SilentSocket closed_port(/*listening=*/false);
  const std::string refused = "ws://127.0.0.1:" + std::to_string(closed_port.port()) + "/rpc";
  EXPECT_EQ(dialError(refused),
            "connect 127.0.0.1:" + std::to_string(closed_port.port()) + ": Connection refused");
  EXPECT_EQ(dialError("not a url"),
            "invalid URL 'not a url': spaces and control characters are not allowed");
  EXPECT_EQ(dialError("127.0.0.1:3000"),
            "invalid URL '127.0.0.1:3000': expected scheme://host[:port][/path]");
  EXPECT_EQ(dialError("wss://127.0.0.1:3000/rpc"),
            "wss is not supported yet: wss://127.0.0.1:3000/rpc");
  EXPECT_EQ(dialError("http://127.0.0.1:3000/rpc"),
            "invalid URL 'http://127.0.0.1:3000/rpc': the scheme must be ws");
  EXPECT_EQ(dialError(url("/nope")),
            "WebSocket handshake with ws://127.0.0.1:" + std::to_string(http_.port()) +
                "/nope failed: the server answered 404 Not Found");
  EXPECT_EQ(dialError("ws://name.invalid:3000/rpc").rfind("resolve name.invalid: ", 0), 0u);
}

TEST_F(WebSocketTest, HandshakeWithAServerThatSaysNothingTimesOut) {
  start();
  test::SilentSocket hung(/*listening=*/true);
  EXPECT_EQ(dialError("ws://127.0.0.1:" + std::to_string(hung.port()) + "/rpc",
                      {.handshake_timeout = 200ms}),
            "WebSocket handshake with ws://127.0.0.1:" + std::to_string(hung.port()) +
                "/rpc failed: timed out after 200ms");
}

TEST_F(WebSocketTest, ClosingHandshakeTimesOutWhenThePeerNeverAnswers) {
  server_options_.handshake_timeout = 200ms;
  start();
  RawPeer raw;
  ASSERT_TRUE(raw.open(http_.port()));
  // The raw client reads nothing, so it never answers the close frame.
  ServerPeer& peer = server();
  http_.run([&] { peer.transport->close(1001, "going away"); });
  ASSERT_TRUE(peer.handler.waitForClosed());
  EXPECT_EQ(peer.handler.closed()[0].code, 1006);
  EXPECT_EQ(peer.handler.closed()[0].reason, "closing handshake failed: timed out");
}

} // namespace
} // namespace catalyst::transport
