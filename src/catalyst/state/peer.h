#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/common/time_source.h"

namespace catalyst::state {

// What a node knows of a neighbour (peering.md §1 PeerInfo). A value type.
struct PeerInfo {
  std::string name;
  std::vector<std::string> domains;
  std::optional<std::string> endpoint; // its peering URL, ws://host:port/rpc
  std::map<std::string, std::string> labels;
  // The JWT *we present to that peer* (minted by the peer). Never shown by any view or list.
  std::optional<std::string> peer_token;
  std::optional<std::string> envoy_address;

  bool operator==(const PeerInfo&) const = default;
};

enum class ConnectionStatus { Initializing, Connected, Closed };

// "initializing", "connected", "closed" (the /api/state spelling).
std::string_view toString(ConnectionStatus status);

// Why a peering session ended (peering.md §1 close codes).
enum class CloseCode : int {
  Normal = 1,
  HoldExpired = 2,
  TransportError = 3,
  AdminShutdown = 4,
  ProtocolError = 5,
};

// A configured neighbour and the state of our session with it.
struct Peer {
  PeerInfo info;
  ConnectionStatus status = ConnectionStatus::Initializing;
  // Set while the peer's paths are kept as stale after its session failed (graceful restart);
  // they are withdrawn when the time passes.
  std::optional<MonotonicTime> stale_until;
  // The graceful-restart window the peer announced in `open`, if any.
  std::optional<std::chrono::milliseconds> graceful_restart_time;

  bool operator==(const Peer&) const = default;
};

} // namespace catalyst::state
