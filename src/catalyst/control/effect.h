#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "catalyst/control/table_walk.h"
#include "catalyst/state/peer.h"
#include "catalyst/state/route.h"

namespace catalyst::control {

// What phase-2 plugins ask the node to do. Plugins never do I/O; the node carries effects out.
namespace fx {

// Send `items` to `peer` in one `update` call (at most kMaxUpdateItems items).
struct SendUpdate {
  std::string peer;
  std::vector<state::UpdateItem> items;
  bool operator==(const SendUpdate&) const = default;
};

// The full table sent to `peer` for session `session` is complete (queued before this).
struct EndOfTable {
  std::string peer;
  uint64_t session = 0;
  bool operator==(const EndOfTable&) const = default;
};

// The walk of our table for `peer` has more to send: ask for the next step from `cursor`
// (ev::PeerTableWanted) once the session has nearly sent what it has queued.
struct ContinueTable {
  std::string peer;
  TableCursor cursor;
  bool operator==(const ContinueTable&) const = default;
};

// Start (or restart, when its record changed) the session with `peer`: dial it.
struct ConnectPeer {
  state::PeerInfo info;
  bool operator==(const ConnectPeer&) const = default;
};

// End the session with `peer`: it was removed.
struct ClosePeer {
  std::string peer;
  state::CloseCode code = state::CloseCode::Normal;
  std::string reason;
  bool operator==(const ClosePeer&) const = default;
};

// One listener of the data plane.
struct DataPlaneRoute {
  enum class Kind {
    Ingress, // a local route: peers connect here and reach the local service
    Egress,  // a learned route: local clients connect here and reach the next hop
  };
  Kind kind = Kind::Ingress;
  state::RouteKey key;
  state::Protocol protocol = state::Protocol::Http;
  // The port this node allocated for the route (NodeState::portFor), where the listener goes;
  // unset when none could be allocated.
  std::optional<uint16_t> listen_port;
  // Ingress: the local service's endpoint. Egress: unset.
  std::optional<std::string> service_endpoint;
  // Egress: the next hop's data-plane address and port, as the neighbour advertised them.
  std::optional<std::string> next_hop_address;
  std::optional<uint16_t> next_hop_port;
  // Egress: the neighbour the best path came from (Envoy names its listener and cluster after
  // it: egress_<name>_via_<peer>).
  std::optional<std::string> next_hop_peer;
  bool operator==(const DataPlaneRoute&) const = default;
};

// Changes to the data plane: listeners to add or replace, listeners to remove.
struct ConfigureDataPlane {
  std::vector<DataPlaneRoute> upserts;
  std::vector<state::RouteKey> removals;
  bool operator==(const ConfigureDataPlane&) const = default;
};

// Start or stop the process of a local service.
struct StartProcess {
  std::string service;
  std::vector<std::string> argv;
  bool operator==(const StartProcess&) const = default;
};
struct StopProcess {
  std::string service;
  bool operator==(const StopProcess&) const = default;
};

} // namespace fx

using Effect =
    std::variant<fx::SendUpdate, fx::EndOfTable, fx::ConnectPeer, fx::ClosePeer,
                 fx::ConfigureDataPlane, fx::StartProcess, fx::StopProcess, fx::ContinueTable>;

// At most this many items go in one `update` call (peering.md §1).
inline constexpr std::size_t kMaxUpdateItems = 1000;

std::string_view effectName(const Effect& effect);

} // namespace catalyst::control
