// The WebSocket transport on Beast: both sides, one connection class (the only Beast WebSocket
// translation unit of the project; it compiles slowly).

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "catalyst/common/assert.h"
#include "catalyst/common/version.h"
#include "catalyst/event/dispatcher_impl.h"
#include "catalyst/transport/connect.h"
#include "catalyst/transport/url.h"
#include "catalyst/transport/websocket_impl.h"

namespace catalyst::transport {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// permessage-deflate is neither offered nor accepted. TODO(perf): offer it (capnweb-wire §2.1).
using Stream = websocket::stream<beast::tcp_stream, /*deflateSupported=*/false>;

// The most a single read appends to the message being received.
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
// A receive buffer grown past this by a large message is given back afterwards.
constexpr std::size_t kKeptBufferBytes = std::size_t{256} * 1024;
// RFC 6455 §5.5: a control frame carries at most 125 bytes, two of them the close code.
constexpr std::size_t kMaxCloseReasonBytes = 123;
constexpr uint16_t kCloseNoStatus = 1005; // the peer's close frame had no code
constexpr uint16_t kCloseAbnormal = 1006; // no close frame: the connection dropped or failed

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

// The codes an endpoint may put in a close frame (RFC 6455 §7.4; 1004-1006 and 1015 are not).
bool isSendableCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

std::string describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) {
    return "timed out";
  }
  if (ec == net::error::eof) {
    return "the connection was closed without a close frame";
  }
  return ec.message();
}

// One WebSocket connection, either side. It lives while an operation of it is pending or its
// WebSocketTransport exists (which holds it); every completion handler holds shared_from_this().
// After detach() (the transport was destroyed) it calls nobody and only lets its operations end.
class WebSocketConnection : public std::enable_shared_from_this<WebSocketConnection> {
public:
  // A server side over an accepted socket.
  WebSocketConnection(event::DispatcherImpl& dispatcher, tcp::socket socket,
                      const WebSocketOptions& options)
      : dispatcher_(dispatcher), options_(options), ws_(std::move(socket)),
        ping_timer_(dispatcher.ioContext()) {}

  // A client side, not connected yet.
  WebSocketConnection(event::DispatcherImpl& dispatcher, const WebSocketOptions& options)
      : dispatcher_(dispatcher), options_(options), ws_(dispatcher.ioContext()),
        ping_timer_(dispatcher.ioContext()) {}

  WebSocketConnection(const WebSocketConnection&) = delete;
  WebSocketConnection& operator=(const WebSocketConnection&) = delete;
  WebSocketConnection(WebSocketConnection&&) = delete;
  WebSocketConnection& operator=(WebSocketConnection&&) = delete;
  ~WebSocketConnection() = default;

  // Server: writes the 101 for `request` (opening handshake), then opens.
  void accept(admin::UpgradeRequest request);

  // Client: connects to `url`, performs the opening handshake, opens, then hands a transport
  // to `done`; or gives `done` the error.
  void dial(Url url, DialCallback done);

  // rpc::MessageTransport, through WebSocketTransport.
  void setHandler(rpc::MessageTransport::Handler& handler);
  void send(std::string message);
  void close(uint16_t code, std::string reason);

  // The transport is gone: no more callbacks; the connection is closed at once.
  void detach();

private:
  enum class State {
    Connecting,  // client: resolving and connecting
    Handshaking, // the opening handshake
    Open,        // messages flow
    Closing,     // our close frame is (being) sent; waiting for the peer's
    Closed,      // onClosed() was delivered or queued
  };

  struct MessageEvent {
    std::string data;
    bool is_text;
  };
  struct TooLargeEvent {
    std::size_t size_so_far;
    std::size_t limit;
  };
  struct ClosedEvent {
    uint16_t code;
    std::string reason;
  };
  using Event = std::variant<MessageEvent, TooLargeEvent, ClosedEvent>;

  void configure(beast::role_type role);
  void onConnect(const Status& status);
  void onClientHandshake(beast::error_code ec);
  void onAccept(beast::error_code ec);
  void open();

  void doRead();
  void onRead(beast::error_code ec, std::size_t bytes);
  void onReadError(beast::error_code ec);
  void onControlFrame(websocket::frame_type kind);

  void doWrite();
  void onWrite(beast::error_code ec, std::size_t bytes);
  void startClose();
  void onClose(beast::error_code ec);

  void schedulePing(Clock::duration delay);
  void onPingTimer(beast::error_code ec);

  // Ends the connection and reports onClosed(code, reason); later calls do nothing.
  void finish(uint16_t code, std::string reason);

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
  Stream ws_;
  net::steady_timer ping_timer_;
  State state_ = State::Connecting;

  // Dialling.
  Url url_;
  DialCallback dial_done_;
  websocket::response_type handshake_response_;
  // Accepting: the upgrade request must outlive async_accept.
  admin::UpgradeRequest upgrade_request_;

  rpc::MessageTransport::Handler* handler_ = nullptr;
  std::deque<Event> events_; // waiting for the handler
  bool detached_ = false;

  // Receiving: the message being read, and whether reading stopped on an oversize one.
  beast::flat_buffer read_buffer_;
  bool read_stopped_ = false;

  // Sending: one async_write at a time; the front of the queue is the one being written.
  std::deque<std::string> queue_;
  bool writing_ = false;
  // TCP_CORK is set while a backlog of messages is being written, so that they leave in full
  // segments instead of one segment (and one wake-up of the peer) per message.
  bool corked_ = false;
  void setCork(bool on);

  // Closing.
  bool close_requested_ = false;
  uint16_t close_code_ = rpc::kCloseNormal;
  std::string close_reason_;

  // Keepalive: what arrived and when, and the ping awaiting an answer.
  Clock::time_point last_received_{};
  uint64_t frames_received_ = 0;
  uint64_t frames_at_ping_ = 0;
  bool awaiting_pong_ = false;
  bool ping_pending_ = false; // an async_ping is in flight (Beast allows one)
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
  void send(std::string message) override { connection_->send(std::move(message)); }
  void close(uint16_t code, std::string reason) override {
    connection_->close(code, std::move(reason));
  }

private:
  std::shared_ptr<WebSocketConnection> connection_;
};

void WebSocketConnection::configure(beast::role_type role) {
  // Beast's WebSocket timeouts replace the tcp_stream's.
  beast::get_lowest_layer(ws_).expires_never();
  ws_.set_option(websocket::stream_base::timeout{
      options_.handshake_timeout, websocket::stream_base::none(), /*keep_alive_pings=*/false});
  if (role == beast::role_type::server) {
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, fmt::format("catalyst-node/{}", kVersion));
    }));
  } else {
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
      request.set(http::field::user_agent, fmt::format("catalyst-node/{}", kVersion));
    }));
  }
  // The size cap is ours (onRead): Beast's would fail the connection with 1009 itself.
  ws_.read_message_max(0);
  ws_.auto_fragment(false);
  ws_.text(true);
  // Stored in ws_, which this owns: the callback cannot outlive `this`.
  ws_.control_callback(
      [this](websocket::frame_type kind, beast::string_view) { onControlFrame(kind); });
}

void WebSocketConnection::accept(admin::UpgradeRequest request) {
  state_ = State::Handshaking;
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
  configure(beast::role_type::server);
  upgrade_request_ = std::move(request);
  ws_.async_accept(upgrade_request_,
                   beast::bind_front_handler(&WebSocketConnection::onAccept, shared_from_this()));
}

void WebSocketConnection::onAccept(beast::error_code ec) {
  upgrade_request_ = {};
  if (detached_ || state_ == State::Closed) {
    return;
  }
  if (ec) {
    finish(kCloseAbnormal, fmt::format("WebSocket handshake failed: {}", describe(ec)));
    return;
  }
  open();
}

void WebSocketConnection::dial(Url url, DialCallback done) {
  url_ = std::move(url);
  dial_done_ = std::move(done);
  asyncConnect(beast::get_lowest_layer(ws_), url_, options_.handshake_timeout,
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
  configure(beast::role_type::client);
  ws_.async_handshake(
      handshake_response_, url_.hostPort(), url_.target,
      beast::bind_front_handler(&WebSocketConnection::onClientHandshake, shared_from_this()));
}

void WebSocketConnection::onClientHandshake(beast::error_code ec) {
  if (ec) {
    state_ = State::Closed;
    beast::get_lowest_layer(ws_).close();
    std::string why;
    if (ec == websocket::error::upgrade_declined) {
      why = fmt::format("the server answered {} {}", handshake_response_.result_int(),
                        std::string_view(handshake_response_.reason()));
    } else if (ec == beast::error::timeout) {
      why = fmt::format("timed out after {}ms", options_.handshake_timeout.count());
    } else {
      why = describe(ec);
    }
    auto done = std::move(dial_done_);
    done(unavailable(fmt::format("WebSocket handshake with ws://{}{} failed: {}", url_.hostPort(),
                                 url_.target, why)));
    return;
  }
  handshake_response_ = {};
  open();
  auto done = std::move(dial_done_);
  done(rpc::MessageTransportPtr(std::make_unique<WebSocketTransport>(shared_from_this())));
}

void WebSocketConnection::open() {
  state_ = State::Open;
  last_received_ = Clock::now();
  doRead();
  schedulePing(options_.ping_interval);
  if (!queue_.empty()) {
    doWrite();
  } else if (close_requested_) {
    startClose();
  }
}

void WebSocketConnection::doRead() {
  // Read at most one byte past the cap, so an oversize message costs max_message_bytes + 1.
  const std::size_t room = options_.max_message_bytes - read_buffer_.size();
  const std::size_t limit = room >= kReadChunk ? kReadChunk : room + 1;
  ws_.async_read_some(read_buffer_, limit,
                      beast::bind_front_handler(&WebSocketConnection::onRead, shared_from_this()));
}

void WebSocketConnection::onRead(beast::error_code ec, std::size_t /*bytes*/) {
  if (detached_) {
    return;
  }
  if (ec) {
    onReadError(ec);
    return;
  }
  last_received_ = Clock::now();
  ++frames_received_;
  if (read_buffer_.size() > options_.max_message_bytes) {
    // Stop reading: the rest of the message is never buffered. What the session sends
    // (abort, close) still goes out; the closing handshake discards the rest.
    const std::size_t size_so_far = read_buffer_.size();
    read_buffer_ = beast::flat_buffer();
    read_stopped_ = true;
    deliver(TooLargeEvent{size_so_far, options_.max_message_bytes});
    return;
  }
  if (ws_.is_message_done()) {
    const auto data = read_buffer_.cdata();
    deliverMessage(std::string_view(static_cast<const char*>(data.data()), data.size()),
                   ws_.got_text());
    if (detached_) {
      return;
    }
    if (read_buffer_.capacity() > kKeptBufferBytes) {
      read_buffer_ = beast::flat_buffer();
    } else {
      read_buffer_.clear();
    }
  }
  if (state_ == State::Closed) {
    return;
  }
  doRead();
}

void WebSocketConnection::onReadError(beast::error_code ec) {
  if (state_ == State::Closed) {
    return;
  }
  if (ec == websocket::error::closed) {
    if (state_ == State::Closing) {
      // The peer answered our close frame (the read took it before the close operation).
      finish(close_code_, close_reason_);
      return;
    }
    const websocket::close_reason& reason = ws_.reason();
    finish(reason.code == websocket::close_code::none ? kCloseNoStatus : reason.code,
           std::string(reason.reason.data(), reason.reason.size()));
    return;
  }
  if (state_ == State::Closing) {
    if (ec != net::error::operation_aborted) {
      finish(kCloseAbnormal, fmt::format("closing handshake failed: {}", describe(ec)));
    }
    return; // otherwise onClose() reports
  }
  if (ec == websocket::condition::protocol_violation) {
    // The peer broke the protocol; Beast has failed the connection with a close frame.
    finish(kCloseAbnormal, fmt::format("WebSocket protocol error: {}", ec.message()));
    return;
  }
  finish(kCloseAbnormal, fmt::format("WebSocket connection lost: {}", describe(ec)));
}

void WebSocketConnection::onControlFrame(websocket::frame_type kind) {
  // Pings, pongs and close frames all show the peer is alive.
  last_received_ = Clock::now();
  ++frames_received_;
  if (kind == websocket::frame_type::pong && awaiting_pong_ && state_ == State::Open) {
    // The next ping is due a ping_interval from now, not when pong_timeout would have ended.
    awaiting_pong_ = false;
    schedulePing(options_.ping_interval);
  }
}

void WebSocketConnection::setCork(bool on) {
  if (corked_ == on) {
    return;
  }
  corked_ = on;
  const int value = on ? 1 : 0;
  ::setsockopt(beast::get_lowest_layer(ws_).socket().native_handle(), IPPROTO_TCP, TCP_CORK, &value,
               sizeof value);
}

void WebSocketConnection::doWrite() {
  writing_ = true;
  if (queue_.size() > 1) {
    setCork(true);
  }
  ws_.async_write(net::buffer(queue_.front()),
                  beast::bind_front_handler(&WebSocketConnection::onWrite, shared_from_this()));
}

void WebSocketConnection::onWrite(beast::error_code ec, std::size_t /*bytes*/) {
  writing_ = false;
  if (detached_ || state_ == State::Closed) {
    return;
  }
  if (ec) {
    if (ec != net::error::operation_aborted && ec != websocket::error::closed) {
      finish(kCloseAbnormal, fmt::format("WebSocket write failed: {}", describe(ec)));
    }
    return; // otherwise the read reports how the connection ended
  }
  queue_.pop_front();
  if (!queue_.empty()) {
    doWrite();
    return;
  }
  setCork(false); // sends what the cork held
  if (close_requested_) {
    startClose();
  }
}

void WebSocketConnection::startClose() {
  state_ = State::Closing;
  ping_timer_.cancel();
  ws_.async_close(
      websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_),
      beast::bind_front_handler(&WebSocketConnection::onClose, shared_from_this()));
}

void WebSocketConnection::onClose(beast::error_code ec) {
  if (detached_ || state_ == State::Closed) {
    return;
  }
  if (!ec) {
    finish(close_code_, close_reason_);
  } else if (ec != net::error::operation_aborted) {
    finish(kCloseAbnormal, fmt::format("closing handshake failed: {}", describe(ec)));
  }
  // operation_aborted: the pending read took the peer's close frame and reported it.
}

void WebSocketConnection::schedulePing(Clock::duration delay) {
  if (options_.ping_interval.count() <= 0) {
    return;
  }
  ping_timer_.expires_after(delay);
  ping_timer_.async_wait(
      beast::bind_front_handler(&WebSocketConnection::onPingTimer, shared_from_this()));
}

void WebSocketConnection::onPingTimer(beast::error_code ec) {
  if (ec || detached_ || state_ != State::Open) {
    return;
  }
  if (awaiting_pong_) {
    if (frames_received_ == frames_at_ping_) {
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
  frames_at_ping_ = frames_received_;
  if (!ping_pending_) {
    ping_pending_ = true;
    ws_.async_ping({}, [self = shared_from_this()](beast::error_code) {
      // A failed ping shows in the read.
      self->ping_pending_ = false;
    });
  }
  schedulePing(options_.pong_timeout);
}

void WebSocketConnection::finish(uint16_t code, std::string reason) {
  if (state_ == State::Closed) {
    return;
  }
  state_ = State::Closed;
  ping_timer_.cancel();
  queue_.clear();
  // Pending operations end with operation_aborted and find the state Closed.
  beast::get_lowest_layer(ws_).close();
  deliver(ClosedEvent{code, std::move(reason)});
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

void WebSocketConnection::send(std::string message) {
  assertThread();
  if (close_requested_ || state_ == State::Closing || state_ == State::Closed) {
    return;
  }
  queue_.push_back(std::move(message));
  if (state_ == State::Open && !writing_) {
    doWrite();
  }
}

void WebSocketConnection::close(uint16_t code, std::string reason) {
  assertThread();
  if (close_requested_ || state_ == State::Closed) {
    return;
  }
  if (!isSendableCloseCode(code)) {
    CATALYST_BUG("close() with a code a WebSocket peer may not receive; sending 1000");
    code = rpc::kCloseNormal;
  }
  close_requested_ = true;
  close_code_ = code;
  close_reason_ = truncateUtf8(std::move(reason), kMaxCloseReasonBytes);
  // Only onClosed() follows a close().
  events_.clear();
  if (state_ == State::Open && !writing_) {
    startClose();
  }
  // Otherwise open() or the last onWrite() starts it.
}

void WebSocketConnection::detach() {
  detached_ = true;
  handler_ = nullptr;
  events_.clear();
  queue_.clear();
  state_ = State::Closed;
  ping_timer_.cancel();
  beast::get_lowest_layer(ws_).close();
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
      handler_->onMessageTooLarge(too_large->size_so_far, too_large->limit);
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
  connection->accept(std::move(request));
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
