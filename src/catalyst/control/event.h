#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "catalyst/common/time_source.h"
#include "catalyst/control/table_walk.h"
#include "catalyst/state/local_service.h"
#include "catalyst/state/peer.h"
#include "catalyst/state/route.h"

namespace catalyst::control {

// Everything that can happen to a node enters the pipeline as one of these (seed: "a unified
// event channel"): peer messages, timer ticks, local-service events and admin commands.
namespace ev {

// Timer ticks. `now` is the injected clock's time when the tick was taken.
struct TimerTick {
  MonotonicTime now;
};

// Peer messages.
struct PeerSessionUp {
  std::string peer;
  std::optional<std::chrono::milliseconds> graceful_restart_time;
  // Numbers the session among all sessions of this node (the walk of our table for it is
  // tied to it: TableCursor::session).
  uint64_t session = 0;
};
struct PeerSessionDown {
  std::string peer;
  state::CloseCode code = state::CloseCode::TransportError;
  MonotonicTime now;
};
// The peer has sent its whole table since its session came up (its `update` carried
// `endOfRib: true`): paths of it still marked stale were not re-advertised and go.
struct PeerEndOfTable {
  std::string peer;
};
// The session with `peer` has nearly sent what it has queued: the walk of our table for it
// goes on from `cursor` (fx::ContinueTable).
struct PeerTableWanted {
  std::string peer;
  TableCursor cursor;
};
// The paths of `peer`, whose session ended, go a step at a time (like BIRD's table prune),
// so the first withdrawals leave at once whatever the size of the table: this step removes
// the paths for keys[next...], at most kMaxUpdateItems of them. A step finds the peer
// connected again (its leftovers went at PeerSessionUp) or removed (its paths went with it)
// and does nothing.
struct PeerFlush {
  std::string peer;
  std::shared_ptr<const std::vector<state::RouteKey>> keys;
  std::size_t next = 0;
};
struct PeerUpdate {
  std::string peer;
  std::vector<state::UpdateItem> items;
};

// Local-service events.
struct ServiceRegistered {
  state::LocalService service;
};
struct ServiceDeregistered {
  std::string name;
};
struct ServiceHealthChanged {
  std::string name;
  state::HealthStatus status = state::HealthStatus::Up;
  std::optional<double> response_time_ms;
  std::string checked_at; // ISO-8601
};
struct ProcessExited {
  std::string service;
  int exit_status = 0;
};

// Admin commands (config at start-up, CLI, RPC).
struct AddPeer {
  state::PeerInfo info;
};
struct RemovePeer {
  std::string name;
};
struct AddRoute {
  state::Route route;
  state::RouteSource source = state::RouteSource::Admin;
};
struct RemoveRoute {
  std::string name;
};

} // namespace ev

using Event = std::variant<ev::TimerTick, ev::PeerSessionUp, ev::PeerSessionDown, ev::PeerUpdate,
                           ev::PeerEndOfTable, ev::ServiceRegistered, ev::ServiceDeregistered,
                           ev::ServiceHealthChanged, ev::ProcessExited, ev::AddPeer, ev::RemovePeer,
                           ev::AddRoute, ev::RemoveRoute, ev::PeerTableWanted, ev::PeerFlush>;

// A short name for logs and metrics: "timer_tick", "peer_update", ...
std::string_view eventName(const Event& event);

} // namespace catalyst::control
