#pragma once

// The server side of the WebSocket transport, for the module that serves /rpc. Include only
// from .cc files: it brings in Asio and Beast's HTTP message (through http_server_impl.h).
//
//   server.impl().addUpgradeRoute("/rpc", [&](tcp::socket socket, admin::UpgradeRequest req) {
//     sessions.add(transport::acceptWebSocket(dispatcher, std::move(socket), std::move(req),
//                                             options));
//   });

#include <boost/asio/ip/tcp.hpp>

#include "catalyst/admin/http_server_impl.h"
#include "catalyst/transport/websocket.h"

namespace catalyst::transport {

// Takes over a connection whose upgrade request the HttpServer has read, and returns its
// transport at once; the 101 is written in the background. The transport behaves as one from
// dialWebSocket() (see websocket.h): messages sent meanwhile wait for the handshake, and a
// failed handshake (a bad request gets Beast's 400) is reported as onClosed(1006,
// "WebSocket handshake failed: ..."). `socket` must belong to `dispatcher`'s io_context (as
// HttpServer's do). Call on the dispatcher's thread.
rpc::MessageTransportPtr acceptWebSocket(event::Dispatcher& dispatcher,
                                         boost::asio::ip::tcp::socket socket,
                                         admin::UpgradeRequest request,
                                         const WebSocketOptions& options);

} // namespace catalyst::transport
