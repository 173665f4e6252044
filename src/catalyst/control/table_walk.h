#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catalyst/state/route.h"

namespace catalyst::control {

// Where the walk of this node's table for a new session stands. A full table does not leave
// in one go: the advertiser sends one batch of it per step, and the session asks for the next
// step (ev::PeerTableWanted) once what it has queued is nearly sent. So the first routes leave
// at once whatever the size of the table, and a session holds about two batches of it at a
// time rather than all of it. Routes that change while the walk is under way reach the peer
// as ordinary updates; the session's Adj-RIB-Out drops what the walk then repeats.
struct TableCursor {
  // The session the walk is for (ev::PeerSessionUp::session): a step that reaches a later
  // session of the same peer is ignored.
  uint64_t session = 0;
  // Local routes go first, in name order: the walk resumes after `after_local` (from the
  // first when empty; names are never empty).
  bool local_done = false;
  std::string after_local;
  // Then learned routes, from the keys of those with a best path taken (sorted) when the local
  // part ended: routes learned later reach the peer as updates, routes gone are skipped.
  std::shared_ptr<const std::vector<state::RouteKey>> learned;
  std::size_t next_learned = 0;

  bool operator==(const TableCursor&) const = default;
};

} // namespace catalyst::control
