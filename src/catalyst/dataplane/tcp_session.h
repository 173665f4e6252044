#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "catalyst/dataplane/event_loop.h"
#include "catalyst/dataplane/resolver.h"
#include "catalyst/dataplane/worker.h"

namespace catalyst::dataplane {

// One relayed TCP connection, on one worker: connects to the route's target (as it was when the
// connection was accepted), then copies both directions until both have ended.
//
// Both sockets are non-blocking and registered once, edge-triggered, for reading, writing and
// the peer's end of stream; each keeps what the last event said (readable, writable) until a
// call returns EAGAIN, so no call is made that is known to fail. A read shorter than the buffer
// is taken to have emptied the socket (any later data or end of stream brings a new event), so
// a request costs one read, not a read and a read that finds nothing.
//
// Each direction starts copying through the worker's scratch buffer; when a read fills it (bulk
// data) it moves to splice(2): socket -> pipe -> socket, the bytes never entering user space
// (unless splicing is off or unavailable). Short exchanges so cost no pipes and the fewest system
// calls. An end of stream on one side is passed on as a shutdown(SHUT_WR) to the other
// (half-close); the session ends when both directions have ended, or at once on an error in
// either.
//
// Owned by its worker; it tells the worker when it has ended (sessionEnded), and the worker
// destroys it after the current turn's events.
class TcpSession {
public:
  TcpSession(Worker& worker, RouteEntryConstSharedPtr entry, Fd client, uint64_t id);
  ~TcpSession();
  TcpSession(const TcpSession&) = delete;
  TcpSession& operator=(const TcpSession&) = delete;
  TcpSession(TcpSession&&) = delete;
  TcpSession& operator=(TcpSession&&) = delete;

  // Connects to the target (resolving it first when it is a name), then relays.
  void start();
  // Ends the connection at once: both sockets close. Tells the worker (once).
  void close();

  const RouteEntry& entry() const { return *entry_; }
  // The connect timeout has passed (Worker::watchConnect): a connect still pending fails.
  void connectDeadline();
  // Still resolving or connecting to the target.
  bool connecting() const { return !closed_ && !connected_; }

private:
  // One of the two sockets, with the readiness its events reported.
  struct Socket final : EventLoop::Handler {
    Socket(TcpSession& s, bool is_upstream) : session(s), upstream(is_upstream) {}
    void onEvents(uint32_t events) override { session.onEvents(*this, events); }

    TcpSession& session;
    const bool upstream;
    Fd fd;
    bool readable = false;
    bool writable = false;
    bool peer_closed = false; // EPOLLRDHUP or EPOLLHUP seen: read until the end of stream
  };

  // One direction of the relay.
  struct Direction {
    Socket* from = nullptr;
    Socket* to = nullptr;
    bool to_upstream = false;
    bool splice = false;
    std::array<int, 2> pipe{-1, -1}; // read end, write end
    std::size_t in_pipe = 0;         // bytes spliced into the pipe, not yet out of it
    // Copy mode: held[begin, end) was read and not yet written (the destination was full);
    // made the first time that happens.
    std::unique_ptr<char[]> held;
    std::size_t begin = 0;
    std::size_t end = 0;
    bool last_read_full = false; // the last read filled the scratch buffer: bulk data
    bool eof = false;            // end of stream read
    bool done = false;           // end of stream passed on
    bool yield_pending = false;  // a pump is deferred to the end of the turn
  };

  void onEvents(Socket& socket, uint32_t events);
  void connectNext();
  void onResolved(Resolution resolution);
  void connectFailed(std::string_view why);
  void pump(Direction& d);
  void pumpCopy(Direction& d);
  void pumpSplice(Direction& d);
  // Moves `d` to splice (pipes made); false leaves it copying.
  bool startSplice(Direction& d);
  // Runs pump(d) again after the other connections of the worker had their turn.
  void yield(Direction& d);
  void endOfStream(Direction& d);
  void fail(const Direction& d, int error);
  void closePipes();
  void counted(const Direction& d, std::size_t n);

  Worker& worker_;
  RouteEntryConstSharedPtr entry_;
  const uint64_t id_;
  Socket client_{*this, false};
  Socket upstream_{*this, true};
  std::vector<SocketAddress> addresses_; // the target's, tried in turn
  std::size_t next_address_ = 0;
  int last_error_ = 0; // of the last failed connect
  bool connected_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  // What a task that may run after the session is gone (a resolution's answer, a deferred
  // pump) holds: expired once the session is.
  std::weak_ptr<char> aliveToken();
  std::shared_ptr<char> alive_; // made on first use
  Direction up_;                // client -> upstream
  Direction down_;              // upstream -> client
};

} // namespace catalyst::dataplane
