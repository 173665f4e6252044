#pragma once

// Resolving and connecting for the client transports (internal; includes Beast's tcp_stream).

#include <chrono>
#include <functional>

#include <boost/beast/core/tcp_stream.hpp>

#include "catalyst/common/result.h"
#include "catalyst/transport/url.h"

namespace catalyst::transport {

// Resolves `url.host` (an IP literal is used as it is), then connects `stream` to the first of
// its addresses that accepts, with TCP_NODELAY set; all within `timeout`. Calls `done` once,
// from a completion handler: success, or Unavailable with "resolve <host>: <why>", "connect
// <host:port>: <why>" or "connect <host:port>: timed out after <n>ms". The stream has no expiry
// set afterwards. `stream` must stay alive until `done` runs (let `done` keep its owner alive).
void asyncConnect(boost::beast::tcp_stream& stream, const Url& url,
                  std::chrono::milliseconds timeout, std::function<void(Status)> done);

} // namespace catalyst::transport
