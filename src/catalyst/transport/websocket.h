#pragma once

// Cap'n Web over WebSocket (capnweb-wire.md §2.1): rpc::MessageTransports on RFC 6455
// connections, one Cap'n Web message per text message. No Asio or Beast here; the server side
// (taking over an upgraded /rpc connection) is in websocket_impl.h.
//
// What the transports do, on both sides:
//  - Send text messages only, one per send(), in order, with one write outstanding: what is
//    sent while a write is in flight, or in one turn of the loop, leaves together in the next
//    write (one system call for many small messages); messages sent before the handshake
//    completed wait for it. No subprotocol is offered, and the server accepts without one and
//    never names one in its 101 (browsers would fail). permessage-deflate is neither offered
//    nor accepted.
//  - Deliver text and binary messages (is_text = false: the session aborts). Fragmented
//    messages arrive reassembled. Messages that arrive before setHandler() are held (without a
//    bound) and delivered from a later turn of the loop, never from inside setHandler().
//  - A message over max_message_bytes is found by its frame headers and never buffered:
//    onMessageTooLarge() with the size they declare; from then on every data frame is skipped
//    unread (control frames still count), and the transport still sends what the session
//    sends, and close() still works (["abort", ...], then close 3000).
//  - A peer that breaks RFC 6455 (unmasked client frames, reserved bits, bad opcodes or
//    lengths, fragmented control frames, text that is not UTF-8, ...) gets a close frame with
//    1002 (1007 for UTF-8) and is reported as onClosed(1006, "WebSocket protocol error: ...").
//  - Keepalive: when nothing has arrived for ping_interval, a WebSocket ping; if nothing (pong
//    or anything else) arrives within pong_timeout after it, the connection is dropped:
//    onClosed(1006, "no pong within <n>ms"). Peer pings are answered.
//  - close(code, reason) sends what is queued, then a close frame (reason cut to 123 bytes at a
//    UTF-8 boundary; a code a peer may not receive, like 1006, is a bug and becomes 1000), waits
//    up to handshake_timeout for the peer's close frame, then onClosed(code, reason), or
//    onClosed(1006, "closing handshake failed: ...") if none came. After close(), send() does
//    nothing and only onClosed() is reported.
//  - A peer's close is reported with its code (1005 if it gave none) and reason; a dropped
//    connection, protocol error or failed handshake as 1006 with a reason that says what
//    happened ("WebSocket connection lost: ...", "WebSocket protocol error: ...").
//  - onClosed() comes exactly once; nothing follows it. Handlers are never called from inside
//    send() or close().
//  - Destroying the transport closes the connection at once, without a close frame, and nothing
//    is reported after. It may be destroyed from inside its handler's callbacks.
//  - Everything runs on the dispatcher's thread; a transport must be destroyed before its
//    dispatcher.
//
// Client:
//   transport::dialWebSocket(dispatcher, "ws://10.0.0.2:3000/rpc", {},
//       [&](Result<rpc::MessageTransportPtr> transport) {
//         if (!transport) { log(transport.error().message); return; }  // "connect ...: ..."
//         session = makeSession(std::move(*transport));
//       });

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "catalyst/common/result.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/transport.h"

namespace catalyst::transport {

struct WebSocketOptions {
  // The largest message accepted; longer ones get onMessageTooLarge().
  std::size_t max_message_bytes = std::size_t{1} << 20;
  // How long the connection may be silent before a ping is sent; 0 disables keepalive.
  std::chrono::milliseconds ping_interval{30'000};
  // How long a pong may take before the connection is considered dead.
  std::chrono::milliseconds pong_timeout{10'000};
  // Limit on each handshake: connecting (resolve and connect) and the opening handshake when
  // dialling, the opening handshake when accepting, and the closing handshake.
  std::chrono::milliseconds handshake_timeout{10'000};
};

using DialCallback = std::function<void(Result<rpc::MessageTransportPtr> transport)>;

// Connects to `url` (ws://host[:port][/path]; an IP literal or a name) and performs the
// opening handshake, then calls `done` on the dispatcher's thread with an open transport, or
// with the error: InvalidArgument for the URL ("invalid URL '...': ...", "wss is not supported
// yet: ..."), Unavailable for the network ("resolve example.invalid: ...", "connect
// 127.0.0.1:3999: Connection refused", "connect 10.0.0.9:3000: timed out after 10000ms",
// "WebSocket handshake with ws://127.0.0.1:3000/x failed: the server answered 404 Not Found").
// `done` is called exactly once (never from inside this call), unless the dispatcher is
// destroyed first. Call on the dispatcher's thread.
void dialWebSocket(event::Dispatcher& dispatcher, std::string url, WebSocketOptions options,
                   DialCallback done);

} // namespace catalyst::transport
