#pragma once

// The client half of Cap'n Web HTTP batch (capnweb-wire.md §2.2): one POST carrying the
// batch's messages joined by '\n', answered with the server's messages joined by '\n'. This
// file only moves the bytes; batching and the session are rpc/'s. No Asio or Beast here.
//
// The server half is an admin::AsyncHttpHandler on POST /rpc, next to the WebSocket upgrade
// route of the same path (websocket_impl.h).
//
//   transport::postBatch(dispatcher, "http://127.0.0.1:3000/rpc", std::move(body), {},
//       [&](Result<std::string> response) {
//         if (!response) { reject(response.error().message); return; } // "RPC request failed: 500
//         feed(*response);                                             //  Internal Server Error"
//       });

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "catalyst/common/result.h"
#include "catalyst/event/dispatcher.h"

namespace catalyst::transport {

// The Content-Type of a batch request, as fetch() sends it for a string body.
inline constexpr std::string_view kBatchContentType = "text/plain;charset=UTF-8";

struct BatchOptions {
  // The whole exchange: resolve, connect, send the request, receive the response.
  std::chrono::milliseconds timeout{30'000};
  // The largest response body accepted.
  std::size_t max_response_bytes = std::size_t{1} << 20;
};

using BatchCallback = std::function<void(Result<std::string> response_body)>;

// POSTs `body` to `url` (http://host[:port][/path]) on a connection of its own (HTTP/1.1,
// "Connection: close", Content-Type kBatchContentType) and calls `done` with the response body
// if the status is 2xx. Errors: InvalidArgument for the URL ("invalid URL '...': ...",
// "https is not supported yet: ..."); Unavailable otherwise: "RPC request failed: 500 Internal
// Server Error" (the words of capnweb's JS client), "connect 127.0.0.1:3999: Connection
// refused", "RPC request to http://...: timed out after 30000ms", "RPC response from http://...
// larger than 1048576 bytes". `done` is called exactly once on the dispatcher's thread (never
// from inside this call), unless the dispatcher is destroyed first. Call on the dispatcher's
// thread.
void postBatch(event::Dispatcher& dispatcher, std::string url, std::string body,
               BatchOptions options, BatchCallback done);

} // namespace catalyst::transport
