#pragma once

// Peering sessions (peering.md §3): for every configured neighbour, the connection we dial to
// it (where we send our routes) and the connection it dials to us (where its routes arrive),
// with their timers, backoff and failure handling. The pipeline decides *what* each neighbour
// should hear (fx::SendUpdate); this carries it there, and turns what neighbours say into
// pipeline events (PeerSessionUp/Down, PeerUpdate). It never blocks the control loop: every
// outbound call is asynchronous and has a deadline.
//
// A session with neighbour P, as the pipeline sees it, is up from the moment P's `open` on
// its connection to us is accepted (ev::PeerSessionUp) until that ends (ev::PeerSessionDown):
// P's connection closes or fails, P sends `close`, nothing is heard from P for the hold time,
// or our established connection to P fails. Whichever half fails, both are closed and dialled
// again, so both sides resynchronize from scratch (full table), and P's routes are withdrawn
// at once (or kept stale for P's graceful-restart window after a transport failure).
//
// Our connection to P: dial P's endpoint, `getIBGPClient(<token P minted for us>)`, `open`,
// then `update` calls with at most 1000 items each, one at a time, from P's Adj-RIB-Out
// (adj_rib_out.h: nothing is sent that would change nothing), and `keepalive` every hold/3.
// A refused dial or `open` (P not up yet, or P not told about us yet) is retried with
// exponential backoff (1 s doubling to 60 s, ±20% jitter); so is every session that ended.
// An `open` arriving from P while we wait to redial makes us dial at once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/auth/token_authority.h"
#include "catalyst/common/logging.h"
#include "catalyst/control/control_loop.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/value.h"
#include "catalyst/rpcnet/client.h"
#include "catalyst/state/peer.h"
#include "catalyst/state/route.h"

namespace catalyst::peering {

struct PeeringOptions {
  // Offered in `open`; a session uses min(ours, theirs); 0 disables keepalive and expiry.
  std::chrono::milliseconds hold_time{90'000};
  // Announced in `open` (gracefulRestartTime) when set: our data plane keeps forwarding while
  // this node restarts (Envoy modes), so peers may keep our routes as stale that long.
  std::optional<std::chrono::milliseconds> graceful_restart_time;
  std::chrono::milliseconds backoff_initial{1'000};
  std::chrono::milliseconds backoff_max{60'000};
  // Every call we make to a peer must be answered within this, or the session is reset.
  std::chrono::milliseconds call_timeout{30'000};
  rpcnet::RpcClientOptions client{};
};

// Counters for /metrics.
struct PeeringStats {
  uint64_t sessions_up = 0;                   // peers' opens accepted (sessions established)
  uint64_t outbound_up = 0;                   // our opens accepted by peers
  uint64_t dial_failures = 0;                 // connect or handshake failed
  uint64_t opens_refused = 0;                 // a peer refused our getIBGPClient or open
  uint64_t updates_sent = 0;                  // update calls
  uint64_t update_items_sent = 0;             //   and their items
  uint64_t updates_refused = 0;               // update calls a peer answered with success: false
  uint64_t updates_received = 0;              // update calls accepted from peers
  uint64_t update_items_received = 0;         //   and their items
  uint64_t update_items_read_in_one_pass = 0; // of items received, read straight from text
  uint64_t keepalives_sent = 0;
  uint64_t keepalives_received = 0;
  std::map<std::string, uint64_t> sessions_ended;   // by close code ("hold_expired", ...)
  std::map<std::string, uint64_t> requests_refused; // peering RPCs refused, by reason
};

// One neighbour's session as /api/state and `catalyst node peer list` show it.
struct PeerSessionView {
  std::string name;
  bool outbound_up = false;   // our open was accepted; our updates flow
  bool session_up = false;    // its open was accepted; its updates are applied
  std::size_t advertised = 0; // routes it has from us (Adj-RIB-Out)
  std::size_t queued = 0;     // items waiting to be sent to it
  std::chrono::milliseconds hold_time{0};
  std::string last_error; // why the last dial, open or session failed
};

class PeeringService {
public:
  // `loop`, `tokens`, `dispatcher` and `logger` must outlive the service. `self` is what we
  // tell peers about us (peerInfo in every call; no token).
  PeeringService(event::Dispatcher& dispatcher, control::ControlLoop& loop,
                 const auth::TokenAuthority& tokens, state::PeerInfo self, PeeringOptions options,
                 Logger& logger);
  ~PeeringService();
  PeeringService(const PeeringService&) = delete;
  PeeringService& operator=(const PeeringService&) = delete;
  PeeringService(PeeringService&&) = delete;
  PeeringService& operator=(PeeringService&&) = delete;

  // How to close a peer's connection to us (RpcEndpoint::closeSession).
  void setInboundCloser(std::function<void(uint64_t connection, const std::string& reason)> f);

  // --- Effects of the pipeline.
  // A peer was added or its record changed: dial it (again, if its endpoint or token changed).
  void connect(const state::PeerInfo& info);
  // Queue `items` for `peer` (sent once our connection to it is established).
  void send(const std::string& peer, std::vector<state::UpdateItem> items);
  // The full table for `peer`'s session `session` is queued: once it has gone out, an `update`
  // with `endOfRib: true` says so (graceful restart; reference nodes ignore the field).
  // Ignored when that session has ended.
  void endOfTable(const std::string& peer, uint64_t session);
  // The walk of our table for `peer` has more: once the session has nearly sent what it has
  // queued, it asks for the next step (ev::PeerTableWanted). Ignored when the cursor's
  // session has ended.
  void continueTable(const std::string& peer, control::TableCursor cursor);
  // A peer was removed: tell it (best effort) and forget it.
  void remove(const std::string& peer, state::CloseCode code, const std::string& reason);
  // Node shutdown: `close(ADMIN_SHUTDOWN)` to every peer, then no more dialling.
  void shutdown();

  // --- The RPC surface: what `getIBGPClient(token)` answers on connection `connection` (an
  // RpcEndpoint session id): {success: true, client: {open, close, update, keepalive}} or
  // {success: false, error}.
  rpc::Value ibgpClient(uint64_t connection, std::string_view token);
  // Connection `connection` (an RpcEndpoint WebSocket session) has ended.
  void connectionClosed(uint64_t connection);

  const PeeringStats& stats() const;
  std::vector<PeerSessionView> sessions() const;

  class Impl;

private:
  std::shared_ptr<Impl> impl_;
};

} // namespace catalyst::peering
