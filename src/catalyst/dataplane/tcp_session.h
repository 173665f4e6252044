#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "catalyst/dataplane/worker.h"

namespace catalyst::dataplane {

// One relayed TCP connection, on one worker: connects to the route's target (as it was when the
// connection was accepted), then copies both directions until both have ended.
//
// Each direction starts copying with async_read_some/async_write through a buffer; when a read
// fills the buffer (bulk data) it moves to splice(2): socket -> pipe -> socket, the bytes never
// entering user space, waiting for readiness with async_wait (unless splicing is off or
// unavailable). Short exchanges so cost no pipes and the fewest system calls. An end of stream
// on one side is passed on
// as a shutdown(SHUT_WR) to the other (half-close); the session ends when both directions have
// ended, or at once on an error in either.
//
// Lives while I/O is pending (every handler holds shared_from_this()); the worker holds it only
// weakly, to close it on drain or shutdown.
class TcpSession : public std::enable_shared_from_this<TcpSession> {
public:
  TcpSession(Worker& worker, RouteEntryConstSharedPtr entry, boost::asio::ip::tcp::socket client,
             uint64_t id);
  ~TcpSession();
  TcpSession(const TcpSession&) = delete;
  TcpSession& operator=(const TcpSession&) = delete;
  TcpSession(TcpSession&&) = delete;
  TcpSession& operator=(TcpSession&&) = delete;

  // Connects to the target, then relays.
  void start();
  // Ends the connection at once: both sockets close, pending I/O is cancelled.
  void close();

  const RouteEntry& entry() const { return *entry_; }
  // The connect timeout has passed (Worker::watchConnect): a connect still pending fails.
  void connectDeadline();
  // Still resolving or connecting to the target.
  bool connecting() const { return !closed_ && !connected_; }

private:
  // One direction of the relay.
  struct Direction {
    boost::asio::ip::tcp::socket* from = nullptr;
    boost::asio::ip::tcp::socket* to = nullptr;
    bool to_upstream = false;
    bool splice = false;
    std::array<int, 2> pipe{-1, -1}; // read end, write end
    std::size_t in_pipe = 0;         // bytes spliced into the pipe, not yet out of it
    std::unique_ptr<char[]> buffer;  // copy mode
    bool done = false;               // end of stream seen and passed on
  };

  void connect();
  void onConnected(const boost::system::error_code& ec);
  void connectFailed(const boost::system::error_code& ec);
  void relay();
  void startDirection(Direction& d);
  // Moves `d` to splice (pipes made, sockets non-blocking); false leaves it copying.
  bool startSplice(Direction& d);
  void copyRead(Direction& d);
  void pumpSplice(Direction& d);
  // Goes on with pumpSplice(d) once `socket` is ready for `wait` (it would have blocked).
  void spliceWhenReady(Direction& d, boost::asio::ip::tcp::socket& socket,
                       boost::asio::socket_base::wait_type wait);
  void endOfStream(Direction& d);
  void fail(const Direction& d, const boost::system::error_code& ec);
  void counted(const Direction& d, std::size_t n);

  Worker& worker_;
  RouteEntryConstSharedPtr entry_;
  const uint64_t id_;
  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket upstream_;
  boost::asio::ip::tcp::resolver resolver_;
  bool connected_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  Direction up_;   // client -> upstream
  Direction down_; // upstream -> client
};

} // namespace catalyst::dataplane
