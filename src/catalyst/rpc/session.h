#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "catalyst/rpc/promise.h"
#include "catalyst/rpc/target.h"
#include "catalyst/rpc/transport.h"
#include "catalyst/rpc/value.h"

namespace catalyst::rpc {

struct SessionOptions {
  // Messages deeper than this abort the session (capnweb's own limit).
  int max_depth = 256;
  // Messages longer than this abort the session. The WebSocket transport enforces its own cap
  // before a message is even read; this one covers every transport.
  std::size_t max_message_bytes = 1 << 20;
  // A push (or stream, or pipe) arriving while the export table holds this many entries (the
  // peer's unreleased call results plus the capabilities we sent it) aborts the session.
  std::size_t max_exports = 100'000;
  // A message introducing a capability while this many imports are held aborts the session.
  std::size_t max_imports = 100'000;
  // Calls whose arguments are plain data go to callees that take them raw (Target::callRaw)
  // without being evaluated into Values. False evaluates every call (tests compare the two).
  bool raw_calls = true;
};

// Counters of one session.
struct SessionStats {
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t calls_in = 0;           // pushes and streams received
  uint64_t calls_in_from_text = 0; // of which read straight from the text (Target::callText)
  uint64_t calls_out = 0;          // pushes sent
  uint64_t exports = 0;            // capabilities we exported
  uint64_t protocol_errors = 0;
};

class SessionCore;

// One Cap'n Web RPC session over a MessageTransport (capnweb-wire.md): the import and export
// tables, the evaluation of received expressions, and the devaluation of what we send.
//
// Runs on the transport's thread. `main` (may be empty) is what the peer's import 0 reaches;
// main() is the peer's. A protocol violation by the peer sends `abort` and closes the
// transport with 3000; an application error is a per-call `reject`.
class Session {
public:
  // `transport` must outlive the session; the session becomes its handler.
  Session(MessageTransport& transport, Stub main, SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;

  // The peer's main object (its export 0).
  Stub main() const;

  // Settles when every result the peer pulled has been answered (HTTP batch servers).
  Promise<bool> drain();

  // Ends the session: with an `abort` carrying `message` (protocol error), or quietly (close
  // 3000 with no abort, as disposing capnweb's main stub does).
  void abort(const std::string& message);
  void shutdown(const std::string& reason);

  // True once the session is over (aborted, shut down, or the transport closed).
  bool broken() const;
  // Called once when the session ends, with the error every pending call was rejected with.
  void onBroken(std::function<void(const Value& error)> cb);
  // Called once the transport has reported its close (after an abort went out). The owner of
  // the transport may destroy it (and this session) from then on, outside this callback.
  void onTransportClosed(std::function<void()> cb);

  const SessionStats& stats() const;

private:
  std::shared_ptr<SessionCore> core_;
};

using SessionPtr = std::unique_ptr<Session>;

} // namespace catalyst::rpc
