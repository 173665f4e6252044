#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace catalyst::rpc {

// Close codes used by Cap'n Web sessions on a WebSocket.
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseGoingAway = 1001;
inline constexpr uint16_t kCloseRpcAbort = 3000; // what capnweb uses after `abort` or shutdown

// A message channel that carries one Cap'n Web message (one JSON value as UTF-8 text) per
// message: a WebSocket, or one HTTP batch. Owned by whoever made it; used on one thread (the
// dispatcher's), and never calls back into its handler from inside send() or close().
class MessageTransport {
public:
  // What the transport reports. All calls arrive on the transport's thread.
  class Handler {
  public:
    virtual ~Handler() = default;

    // One complete message. `is_text` is false for a binary WebSocket message (which Cap'n Web
    // forbids: the session aborts).
    virtual void onMessage(std::string_view message, bool is_text) = 0;

    // A message over the transport's size cap arrived (it was not read in full); the session
    // aborts. `size` is the least the message's size can be (for a WebSocket, what its frame
    // headers declared when the cap was passed; the data past the cap is never read).
    virtual void onMessageTooLarge(std::size_t size, std::size_t limit) = 0;

    // The transport is closed (by the peer, by an error, or after close()); nothing more
    // arrives and send() does nothing. `code` is the WebSocket close code (1006 when the
    // connection dropped without one). Called exactly once.
    virtual void onClosed(uint16_t code, std::string reason) = 0;
  };

  virtual ~MessageTransport() = default;

  // Sets who is told about messages. Must be called once, before anything arrives is
  // delivered; messages that arrive earlier are held until then.
  virtual void setHandler(Handler& handler) = 0;

  // Queues `message` as one text message. Never blocks; messages go out in order.
  virtual void send(std::string message) = 0;

  // Sends what is queued, then closes with `code` and `reason` (reason truncated to 123 bytes).
  // Idempotent. onClosed() follows once the close completes (or the connection drops).
  virtual void close(uint16_t code, std::string reason) = 0;
};

using MessageTransportPtr = std::unique_ptr<MessageTransport>;

} // namespace catalyst::rpc
