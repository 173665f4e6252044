// The WebSocket transport: both sides, one connection class. The opening handshake is HTTP
// (Beast's parser and serializer); after it, frames are ours (websocket_frame.h), so that
// every message queued while a write is in flight leaves in the next single write, and every
// frame that arrived in one read is taken apart in place.

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "catalyst/common/assert.h"
#include "catalyst/common/version.h"
#include "catalyst/event/dispatcher_impl.h"
#include "catalyst/transport/connect.h"
#include "catalyst/transport/url.h"
#include "catalyst/transport/websocket_frame.h"
#include "catalyst/transport/websocket_impl.h"

namespace catalyst::transport {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// The least a read asks for.
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
// A receive or send buffer grown past this by a large message is given back afterwards.
constexpr std::size_t kKeptBufferBytes = std::size_t{256} * 1024;
constexpr uint16_t kCloseAbnormal = 1006; // no close frame: the connection dropped or failed
// RFC 6455 §1.3: appended to the client's key before hashing.
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// The size of a Sec-WebSocket-Key: 16 bytes in base64.
constexpr std::size_t kKeyChars = 24;

// `text` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string truncateUtf8(std::string text, std::size_t max) {
  if (text.size() <= max) {
    return text;
  }
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut; // text[cut] continues a sequence that started before it
  }
  text.resize(cut);
  return text;
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2).
std::string acceptKey(std::string_view key) {
  std::string input(key);
  input.append(kAcceptGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof digest);
}

// 16 random bytes in base64 (RFC 6455 §4.1).
std::string newClientKey() {
  unsigned char nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1) {
    CATALYST_BUG("RAND_bytes failed");
  }
  return base64(nonce, sizeof nonce);
}

bool isClientKey(std::string_view key) {
  if (key.size() != kKeyChars || key.substr(22) != "==") {
    return false;
  }
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  });
}

std::string describe(const beast::error_code& ec) {
  if (ec == net::error::eof) {
    return "the connection was closed without a close frame";
  }
  return ec.message();
}

// Masking keys for a client's frames (RFC 6455 §10.3: unpredictable), drawn from OpenSSL's
// generator a block at a time (its cost per call is mostly fixed).
class MaskSource {
public:
  const uint8_t* next() {
    if (used_ == sizeof block_) {
      if (RAND_bytes(block_, sizeof block_) != 1) {
        CATALYST_BUG("RAND_bytes failed");
      }
      used_ = 0;
    }
    const uint8_t* key = block_ + used_;
    used_ += 4;
    return key;
  }

private:
  uint8_t block_[4096] = {};
  std::size_t used_ = sizeof block_;
};

// One WebSocket connection, either side. It lives while an operation of it is pending or its
// WebSocketTransport exists (which holds it); every completion handler holds shared_from_this().
// After detach() (the transport was destroyed) it calls nobody and only lets its operations end.
class WebSocketConnection : public std::enable_shared_from_this<WebSocketConnection>,
                            private ws::FrameEvents {
public:
  // A server side over an accepted socket.
  WebSocketConnection(event::DispatcherImpl& dispatcher, tcp::socket socket,
                      const WebSocketOptions& options)
      : dispatcher_(dispatcher), options_(options), is_client_(false), stream_(std::move(socket)),
        ping_timer_(dispatcher.ioContext()), deadline_(dispatcher.ioContext()),
        decoder_(/*from_client=*/true, options.max_message_bytes) {}

  // A client side, not connected yet.
  WebSocketConnection(event::DispatcherImpl& dispatcher, const WebSocketOptions& options)
      : dispatcher_(dispatcher), options_(options), is_client_(true),
        stream_(dispatcher.ioContext()), ping_timer_(dispatcher.ioContext()),
        deadline_(dispatcher.ioContext()),
        decoder_(/*from_client=*/false, options.max_message_bytes) {}

  WebSocketConnection(const WebSocketConnection&) = delete;
  WebSocketConnection& operator=(const WebSocketConnection&) = delete;
  WebSocketConnection(WebSocketConnection&&) = delete;
  WebSocketConnection& operator=(WebSocketConnection&&) = delete;
  ~WebSocketConnection() override = default;

  // Server: answers `request` (opening handshake), then opens.
  void accept(const admin::UpgradeRequest& request);

  // Client: connects to `url`, performs the opening handshake, opens, then hands a transport
  // to `done`; or gives `done` the error.
  void dial(Url url, DialCallback done);

  // rpc::MessageTransport, through WebSocketTransport.
  void setHandler(rpc::MessageTransport::Handler& handler);
  void send(std::string_view message);
  void close(uint16_t code, std::string reason);

  // The transport is gone: no more callbacks; the connection is closed at once.
  void detach();

private:
  enum class State {
    Connecting,  // client: resolving and connecting
    Handshaking, // the opening handshake
    Open,        // messages flow
    Closing,     // our close frame is queued or sent; waiting for the peer's
    Closed,      // onClosed() was delivered or queued
  };

  struct MessageEvent {
    std::string data;
    bool is_text;
  };
  struct TooLargeEvent {
    std::size_t size;
    std::size_t limit;
  };
  struct ClosedEvent {
    uint16_t code;
    std::string reason;
  };
  using Event = std::variant<MessageEvent, TooLargeEvent, ClosedEvent>;

  tcp::socket& socket() { return stream_.socket(); }

  // Opening handshake.
  void onAcceptWritten(beast::error_code ec, bool accepted, std::string failure);
  void onConnect(const Status& status);
  void onRequestWritten(beast::error_code ec);
  void onResponse(beast::error_code ec);
  std::string checkResponse() const;
  void failDial(std::string why);
  void startDeadline(std::chrono::milliseconds timeout);
  void open();

  // Reading.
  void doRead();
  void onRead(beast::error_code ec, std::size_t bytes);
  void onReadError(beast::error_code ec);
  // ws::FrameEvents.
  bool onMessage(std::string_view data, bool is_text) override;
  void onPing(std::string_view payload) override;
  void onPong() override;
  void onClose(uint16_t code, std::string_view reason) override;
  void onTooLarge(std::size_t size, std::size_t limit) override;
  void onProtocolError(uint16_t close_code, std::string reason) override;

  // Writing: frames are appended to pending_; flush() writes all of them in one operation.
  void queueFrame(ws::Opcode opcode, std::string_view payload);
  void scheduleFlush();
  void flush();
  void onWrite(beast::error_code ec, std::size_t bytes);
  void startClose();

  void schedulePing(Clock::duration delay);
  void onPingTimer(beast::error_code ec);

  // Ends the connection and reports onClosed(code, reason); later calls do nothing. With
  // `linger`, what is queued (a close frame) is still written before the socket closes,
  // within handshake_timeout.
  void finish(uint16_t code, std::string reason, bool linger = false);
  void closeSocket();

  // Hands an event to the handler now, or queues it until setHandler() or until the events
  // queued before it were delivered.
  void deliverMessage(std::string_view data, bool is_text);
  void deliver(Event event);
  void dispatch(Event& event);
  void drainEvents();

  void assertThread() const {
    CATALYST_ASSERT(dispatcher_.isThreadSafe(), "transports are used on their dispatcher's thread");
  }

  event::DispatcherImpl& dispatcher_;
  const WebSocketOptions options_;
  const bool is_client_;
  beast::tcp_stream stream_; // for asyncConnect; the I/O goes to its socket directly
  net::steady_timer ping_timer_;
  // The limit on a handshake (opening or closing) and on a lingering close.
  net::steady_timer deadline_;
  bool deadline_passed_ = false;
  State state_ = State::Connecting;

  // Opening handshake.
  Url url_;
  DialCallback dial_done_;
  std::string client_key_;
  std::string handshake_out_;
  std::optional<http::response_parser<http::empty_body>> response_parser_;

  rpc::MessageTransport::Handler* handler_ = nullptr;
  std::deque<Event> events_; // waiting for the handler
  bool detached_ = false;

  // Receiving. A client's read buffer may start with frames that arrived with the 101.
  beast::flat_buffer read_buffer_;
  ws::FrameDecoder decoder_;
  bool in_read_ = false;            // frames are being decoded: flush() follows
  bool handshake_leftover_ = false; // read_buffer_ holds bytes that came with the 101

  // Sending: frames queued, and the ones being written (one write at a time).
  std::string pending_;
  std::string writing_;
  bool write_in_flight_ = false;
  bool flush_posted_ = false;
  bool linger_ = false; // closed: the socket closes once what is queued is written
  MaskSource masks_;

  // Closing.
  bool close_requested_ = false;
  uint16_t close_code_ = rpc::kCloseNormal;
  std::string close_reason_;

  // Keepalive: what arrived and when, and the ping awaiting an answer.
  Clock::time_point last_received_{};
  uint64_t reads_ = 0;
  uint64_t reads_at_ping_ = 0;
  bool awaiting_pong_ = false;
};

// What the owner holds. Destroying it detaches the connection.
class WebSocketTransport final : public rpc::MessageTransport {
public:
  explicit WebSocketTransport(std::shared_ptr<WebSocketConnection> connection)
      : connection_(std::move(connection)) {}
  ~WebSocketTransport() override { connection_->detach(); }

  WebSocketTransport(const WebSocketTransport&) = delete;
  WebSocketTransport& operator=(const WebSocketTransport&) = delete;
  WebSocketTransport(WebSocketTransport&&) = delete;
  WebSocketTransport& operator=(WebSocketTransport&&) = delete;

  void setHandler(Handler& handler) override { connection_->setHandler(handler); }
  void send(std::string message) override { connection_->send(message); }
  void close(uint16_t code, std::string reason) override {
    connection_->close(code, std::move(reason));
  }

private:
  std::shared_ptr<WebSocketConnection> connection_;
};

void WebSocketConnection::startDeadline(std::chrono::milliseconds timeout) {
  deadline_passed_ = false;
  deadline_.expires_after(timeout);
  deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      return; // cancelled
    }
    self->deadline_passed_ = true;
    if (self->state_ == State::Closing && !self->detached_) {
      self->finish(kCloseAbnormal, "closing handshake failed: timed out");
      return;
    }
    // The opening handshake or a lingering close: the pending operation ends with
    // operation_aborted and reports.
    self->closeSocket();
  });
}

void WebSocketConnection::accept(const admin::UpgradeRequest& request) {
  state_ = State::Handshaking;
  beast::error_code ignored;
  socket().set_option(tcp::no_delay(true), ignored);
  const std::string server = fmt::format("catalyst-node/{}", kVersion);
  const std::string_view key = request[http::field::sec_websocket_key];
  const std::string_view version = request[http::field::sec_websocket_version];
  std::string failure;
  if (version.empty()) {
    failure = "no Sec-WebSocket-Version";
  } else if (version != "13") {
    failure = fmt::format("unsupported Sec-WebSocket-Version {}", version);
  } else if (key.empty()) {
    failure = "no Sec-WebSocket-Key";
  } else if (!isClientKey(key)) {
    failure = "a malformed Sec-WebSocket-Key";
  }
  if (failure.empty()) {
    // No subprotocol is named (browsers fail a connection that names one they did not
    // offer) and no extension is accepted.
    handshake_out_ = fmt::format("HTTP/1.1 101 Switching Protocols\r\n"
                                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: {}\r\nServer: {}\r\n\r\n",
                                 acceptKey(key), server);
  } else {
    // RFC 6455 §4.4: a version we do not speak gets 426 and the one we do.
    const bool bad_version = !version.empty() && version != "13";
    const std::string body = fmt::format("WebSocket handshake refused: {}\n", failure);
    handshake_out_ =
        fmt::format("HTTP/1.1 {}\r\n{}Server: {}\r\nConnection: close\r\n"
                    "Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{}",
                    bad_version ? "426 Upgrade Required" : "400 Bad Request",
                    bad_version ? "Sec-WebSocket-Version: 13\r\n" : "", server, body.size(), body);
  }
  startDeadline(options_.handshake_timeout);
  net::async_write(socket(), net::buffer(handshake_out_),
                   [self = shared_from_this(), failure](beast::error_code ec, std::size_t) {
                     self->onAcceptWritten(ec, failure.empty(), failure);
                   });
}

void WebSocketConnection::onAcceptWritten(beast::error_code ec, bool accepted,
                                          std::string failure) {
  handshake_out_ = std::string();
  if (detached_ || state_ == State::Closed) {
    return;
  }
  deadline_.cancel();
  if (ec) {
    finish(kCloseAbnormal,
           fmt::format("WebSocket handshake failed: {}",
                       deadline_passed_
                           ? fmt::format("timed out after {}ms", options_.handshake_timeout.count())
                           : describe(ec)));
    return;
  }
  if (!accepted) {
    finish(kCloseAbnormal, fmt::format("WebSocket handshake failed: {}", failure));
    return;
  }
  open();
}

void WebSocketConnection::dial(Url url, DialCallback done) {
  url_ = std::move(url);
  dial_done_ = std::move(done);
  asyncConnect(stream_, url_, options_.handshake_timeout,
               [self = shared_from_this()](const Status& status) { self->onConnect(status); });
}

void WebSocketConnection::onConnect(const Status& status) {
  if (!status) {
    state_ = State::Closed;
    auto done = std::move(dial_done_);
    done(status.error());
    return;
  }
  state_ = State::Handshaking;
  client_key_ = newClientKey();
  handshake_out_ = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Key: {}\r\n"
                               "Sec-WebSocket-Version: 13\r\nUser-Agent: catalyst-node/{}\r\n\r\n",
                               url_.target, url_.hostPort(), client_key_, kVersion);
  startDeadline(options_.handshake_timeout);
  net::async_write(socket(), net::buffer(handshake_out_),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->onRequestWritten(ec);
                   });
}

void WebSocketConnection::onRequestWritten(beast::error_code ec) {
  handshake_out_ = std::string();
  if (ec) {
    failDial(deadline_passed_
                 ? fmt::format("timed out after {}ms", options_.handshake_timeout.count())
                 : describe(ec));
    return;
  }
  response_parser_.emplace();
  http::async_read_header(socket(), read_buffer_, *response_parser_,
                          [self = shared_from_this()](beast::error_code read_ec, std::size_t) {
                            self->onResponse(read_ec);
                          });
}

std::string WebSocketConnection::checkResponse() const {
  const auto& response = response_parser_->get();
  if (response.result() != http::status::switching_protocols) {
    return fmt::format("the server answered {} {}", response.result_int(),
                       std::string_view(response.reason()));
  }
  if (!http::token_list(response[http::field::upgrade]).exists("websocket") ||
      !http::token_list(response[http::field::connection]).exists("upgrade")) {
    return "the server's 101 does not upgrade to websocket";
  }
  if (response[http::field::sec_websocket_accept] != acceptKey(client_key_)) {
    return "the server's Sec-WebSocket-Accept does not match our key";
  }
  if (response.count(http::field::sec_websocket_protocol) != 0) {
    return "the server named a subprotocol we did not offer";
  }
  if (response.count(http::field::sec_websocket_extensions) != 0) {
    return "the server named an extension we did not offer";
  }
  return {};
}

void WebSocketConnection::onResponse(beast::error_code ec) {
  if (ec) {
    failDial(deadline_passed_
                 ? fmt::format("timed out after {}ms", options_.handshake_timeout.count())
                 : describe(ec));
    return;
  }
  const std::string problem = checkResponse();
  response_parser_.reset();
  if (!problem.empty()) {
    failDial(problem);
    return;
  }
  deadline_.cancel();
  // The frames that came with the 101 are in read_buffer_; doRead() decodes them first.
  handshake_leftover_ = read_buffer_.size() > 0;
  open();
  auto done = std::move(dial_done_);
  done(rpc::MessageTransportPtr(std::make_unique<WebSocketTransport>(shared_from_this())));
}

void WebSocketConnection::failDial(std::string why) {
  state_ = State::Closed;
  deadline_.cancel();
  closeSocket();
  pending_.clear();
  auto done = std::move(dial_done_);
  done(unavailable(fmt::format("WebSocket handshake with ws://{}{} failed: {}", url_.hostPort(),
                               url_.target, why)));
}

void WebSocketConnection::open() {
  state_ = State::Open;
  last_received_ = Clock::now();
  schedulePing(options_.ping_interval);
  if (close_requested_) {
    startClose(); // after what was queued before it
  }
  flush();
  doRead();
}

void WebSocketConnection::doRead() {
  if (std::exchange(handshake_leftover_, false)) {
    // Frames that arrived with the 101: decode them from a completion, not from here.
    net::post(dispatcher_.ioContext(),
              [self = shared_from_this()] { self->onRead(beast::error_code(), 0); });
    return;
  }
  const std::size_t wanted = decoder_.bytesWanted();
  const std::size_t have = read_buffer_.size();
  const std::size_t room = std::max(kReadChunk, wanted > have ? wanted - have : 0);
  socket().async_read_some(read_buffer_.prepare(room),
                           [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                             self->onRead(ec, bytes);
                           });
}

void WebSocketConnection::onRead(beast::error_code ec, std::size_t bytes) {
  if (detached_) {
    return;
  }
  if (ec) {
    onReadError(ec);
    return;
  }
  read_buffer_.commit(bytes);
  last_received_ = Clock::now();
  ++reads_;
  in_read_ = true;
  const auto data = read_buffer_.data();
  const std::size_t used = decoder_.decode(static_cast<char*>(data.data()), data.size(), *this);
  in_read_ = false;
  if (detached_) {
    return;
  }
  read_buffer_.consume(used);
  if (read_buffer_.size() == 0 && read_buffer_.capacity() > kKeptBufferBytes) {
    read_buffer_ = beast::flat_buffer();
  }
  flush();
  if ((state_ == State::Open || state_ == State::Closing) && !decoder_.stopped()) {
    doRead();
  }
}

void WebSocketConnection::onReadError(beast::error_code ec) {
  if (state_ == State::Closed) {
    return;
  }
  if (state_ == State::Closing) {
    finish(kCloseAbnormal, fmt::format("closing handshake failed: {}", describe(ec)));
    return;
  }
  finish(kCloseAbnormal, fmt::format("WebSocket connection lost: {}", describe(ec)));
}

bool WebSocketConnection::onMessage(std::string_view data, bool is_text) {
  deliverMessage(data, is_text);
  return !detached_;
}

void WebSocketConnection::onPing(std::string_view payload) {
  if (state_ == State::Open) {
    queueFrame(ws::Opcode::Pong, payload);
  }
}

void WebSocketConnection::onPong() {
  if (awaiting_pong_ && state_ == State::Open) {
    // The next ping is due a ping_interval from now, not when pong_timeout would have ended.
    awaiting_pong_ = false;
    schedulePing(options_.ping_interval);
  }
}

void WebSocketConnection::onClose(uint16_t code, std::string_view reason) {
  if (state_ == State::Closing) {
    // The peer answered our close frame: both are sent, the connection is done.
    finish(close_code_, close_reason_);
    return;
  }
  if (state_ != State::Open) {
    return;
  }
  // Answer with the same code (RFC 6455 §5.5.1), then close once it is written.
  queueFrame(ws::Opcode::Close, ws::closePayload(code, {}));
  finish(code, std::string(reason), /*linger=*/true);
}

void WebSocketConnection::onTooLarge(std::size_t size, std::size_t limit) {
  // Its data, and all data after it, is skipped; the session aborts and closes.
  deliver(TooLargeEvent{size, limit});
}

void WebSocketConnection::onProtocolError(uint16_t close_code, std::string reason) {
  if (state_ == State::Open) {
    queueFrame(ws::Opcode::Close, ws::closePayload(close_code, {}));
  }
  finish(kCloseAbnormal, fmt::format("WebSocket protocol error: {}", reason), /*linger=*/true);
}

void WebSocketConnection::queueFrame(ws::Opcode opcode, std::string_view payload) {
  ws::appendFrame(pending_, opcode, payload, is_client_ ? masks_.next() : nullptr);
}

void WebSocketConnection::scheduleFlush() {
  // While frames are being decoded, onRead() flushes after them: one write for every answer
  // to one read. Otherwise, later in this turn of the loop, so that what is sent in the same
  // turn leaves together.
  if (in_read_ || flush_posted_ || write_in_flight_ || state_ == State::Connecting ||
      state_ == State::Handshaking) {
    return;
  }
  flush_posted_ = true;
  net::post(dispatcher_.ioContext(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

void WebSocketConnection::flush() {
  if (write_in_flight_ || pending_.empty() || detached_ || !socket().is_open() ||
      state_ == State::Connecting || state_ == State::Handshaking ||
      (state_ == State::Closed && !linger_)) {
    return;
  }
  std::swap(pending_, writing_);
  write_in_flight_ = true;
  net::async_write(socket(), net::buffer(writing_),
                   [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                     self->onWrite(ec, bytes);
                   });
}

void WebSocketConnection::onWrite(beast::error_code ec, std::size_t /*bytes*/) {
  write_in_flight_ = false;
  if (writing_.capacity() > kKeptBufferBytes) {
    writing_ = std::string();
  } else {
    writing_.clear();
  }
  if (detached_) {
    return;
  }
  if (state_ == State::Closed) {
    if (linger_ && (ec || pending_.empty())) {
      closeSocket();
    } else {
      flush();
    }
    return;
  }
  if (ec) {
    if (ec != net::error::operation_aborted) {
      finish(kCloseAbnormal, fmt::format("WebSocket write failed: {}", describe(ec)));
    }
    return; // otherwise the read reports how the connection ended
  }
  flush();
}

void WebSocketConnection::startClose() {
  state_ = State::Closing;
  ping_timer_.cancel();
  queueFrame(ws::Opcode::Close, ws::closePayload(close_code_, close_reason_));
  startDeadline(options_.handshake_timeout);
  scheduleFlush();
}

void WebSocketConnection::schedulePing(Clock::duration delay) {
  if (options_.ping_interval.count() <= 0) {
    return;
  }
  ping_timer_.expires_after(delay);
  ping_timer_.async_wait(
      [self = shared_from_this()](beast::error_code ec) { self->onPingTimer(ec); });
}

void WebSocketConnection::onPingTimer(beast::error_code ec) {
  if (ec || detached_ || state_ != State::Open) {
    return;
  }
  if (awaiting_pong_) {
    if (reads_ == reads_at_ping_) {
      finish(kCloseAbnormal, fmt::format("no pong within {}ms", options_.pong_timeout.count()));
      return;
    }
    awaiting_pong_ = false;
  }
  const Clock::duration silent = Clock::now() - last_received_;
  if (silent < options_.ping_interval) {
    schedulePing(options_.ping_interval - silent);
    return;
  }
  awaiting_pong_ = true;
  reads_at_ping_ = reads_;
  queueFrame(ws::Opcode::Ping, {});
  scheduleFlush();
  schedulePing(options_.pong_timeout);
}

void WebSocketConnection::finish(uint16_t code, std::string reason, bool linger) {
  if (state_ == State::Closed) {
    return;
  }
  state_ = State::Closed;
  ping_timer_.cancel();
  deadline_.cancel();
  if (linger && socket().is_open() && (write_in_flight_ || !pending_.empty())) {
    // What is queued ends with a close frame: write it, then close (within a time limit).
    linger_ = true;
    startDeadline(options_.handshake_timeout);
    flush();
  } else {
    // Pending operations end with operation_aborted and find the state Closed.
    closeSocket();
  }
  deliver(ClosedEvent{code, std::move(reason)});
}

void WebSocketConnection::closeSocket() {
  pending_.clear();
  beast::error_code ignored;
  if (socket().is_open()) {
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }
  deadline_.cancel();
  ping_timer_.cancel();
}

void WebSocketConnection::setHandler(rpc::MessageTransport::Handler& handler) {
  assertThread();
  CATALYST_ASSERT(handler_ == nullptr, "a transport's handler is set once");
  handler_ = &handler;
  if (!events_.empty()) {
    // Not from inside setHandler().
    net::post(dispatcher_.ioContext(), [self = shared_from_this()] { self->drainEvents(); });
  }
}

void WebSocketConnection::send(std::string_view message) {
  assertThread();
  if (close_requested_ || state_ == State::Closing || state_ == State::Closed) {
    return;
  }
  queueFrame(ws::Opcode::Text, message);
  scheduleFlush();
}

void WebSocketConnection::close(uint16_t code, std::string reason) {
  assertThread();
  if (close_requested_ || state_ == State::Closed) {
    return;
  }
  if (!ws::isSendableCloseCode(code)) {
    CATALYST_BUG("close() with a code a WebSocket peer may not receive; sending 1000");
    code = rpc::kCloseNormal;
  }
  close_requested_ = true;
  close_code_ = code;
  close_reason_ = truncateUtf8(std::move(reason), ws::kMaxCloseReasonBytes);
  // Only onClosed() follows a close().
  events_.clear();
  if (state_ == State::Open) {
    startClose();
  }
  // Otherwise open() starts it.
}

void WebSocketConnection::detach() {
  detached_ = true;
  handler_ = nullptr;
  events_.clear();
  state_ = State::Closed;
  linger_ = false;
  closeSocket();
}

void WebSocketConnection::deliverMessage(std::string_view data, bool is_text) {
  if (close_requested_) {
    return;
  }
  if (handler_ != nullptr && events_.empty()) {
    handler_->onMessage(data, is_text);
    return;
  }
  events_.emplace_back(MessageEvent{std::string(data), is_text});
}

void WebSocketConnection::deliver(Event event) {
  if (detached_) {
    return;
  }
  if (handler_ != nullptr && events_.empty()) {
    dispatch(event);
    return;
  }
  events_.push_back(std::move(event));
}

void WebSocketConnection::dispatch(Event& event) {
  if (auto* message = std::get_if<MessageEvent>(&event)) {
    if (!close_requested_) {
      handler_->onMessage(message->data, message->is_text);
    }
  } else if (auto* too_large = std::get_if<TooLargeEvent>(&event)) {
    if (!close_requested_) {
      handler_->onMessageTooLarge(too_large->size, too_large->limit);
    }
  } else if (auto* closed = std::get_if<ClosedEvent>(&event)) {
    handler_->onClosed(closed->code, std::move(closed->reason));
  }
}

void WebSocketConnection::drainEvents() {
  // The handler may destroy the transport (detach() clears handler_ and events_).
  while (handler_ != nullptr && !events_.empty()) {
    Event event = std::move(events_.front());
    events_.pop_front();
    dispatch(event);
  }
}

} // namespace

rpc::MessageTransportPtr acceptWebSocket(event::Dispatcher& dispatcher, tcp::socket socket,
                                         admin::UpgradeRequest request,
                                         const WebSocketOptions& options) {
  event::DispatcherImpl& impl = event::asImpl(dispatcher);
  CATALYST_ASSERT(impl.isThreadSafe(), "acceptWebSocket runs on the dispatcher's thread");
  auto connection = std::make_shared<WebSocketConnection>(impl, std::move(socket), options);
  connection->accept(request);
  return std::make_unique<WebSocketTransport>(std::move(connection));
}

void dialWebSocket(event::Dispatcher& dispatcher, std::string url, WebSocketOptions options,
                   DialCallback done) {
  event::DispatcherImpl& impl = event::asImpl(dispatcher);
  CATALYST_ASSERT(impl.isThreadSafe(), "dialWebSocket runs on the dispatcher's thread");
  auto fail = [&](Error error) {
    net::post(impl.ioContext(),
              [done = std::move(done), error = std::move(error)] { done(error); });
  };
  Result<Url> parsed = parseUrlWithScheme(url, "ws");
  if (!parsed) {
    fail(parsed.error());
    return;
  }
  std::make_shared<WebSocketConnection>(impl, options)->dial(std::move(*parsed), std::move(done));
}

} // namespace catalyst::transport
