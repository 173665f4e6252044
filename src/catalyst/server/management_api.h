#pragma once

// The management clients of the node's RPC surface (peering.md §2), for operators and the CLI:
//   getNetworkClient(token)     -> {addPeer, updatePeer, removePeer, listPeers}
//   getDataChannelClient(token) -> {addRoute, removeRoute, listRoutes, explainRoute,
//                                   addRoutes}
// addRoutes({routes: Route[]}) is ours (bulk import, at most kMaxBulkRoutes per call): every
// route is checked first and nothing is applied when one is invalid; then each is added as by
// addRoute, and the answer counts them: {success, added, unchanged}.
// Both need an `admin` token. Every method answers {success: true, ...} or {success: false,
// error}; a call that changes nothing answers "No state change", as the reference does.
//
// Peers and routes added (or changed) here are kept in the state directory, in
// runtime-peers.json (mode 0600: it holds peer tokens) and runtime-routes.json, each replaced
// atomically when its part changed, and loaded again by the next start, so a restarted node
// re-dials its peers and re-announces its routes by itself. The config file stays authoritative
// for what it lists: a peer or route of the config changed here keeps the change until the node
// restarts. A file is written at most kPersistDelay after a change (and at shutdown): a node
// killed within that time loses the change.

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "catalyst/auth/token_authority.h"
#include "catalyst/common/logging.h"
#include "catalyst/common/result.h"
#include "catalyst/control/control_loop.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/peering/peering_service.h"
#include "catalyst/rpc/value.h"
#include "catalyst/state/peer.h"
#include "catalyst/state/route.h"

namespace catalyst::server {

// What the run-time files hold.
struct RuntimeState {
  std::map<std::string, state::PeerInfo> peers;
  std::map<std::string, state::Route> routes;
  bool operator==(const RuntimeState&) const = default;
};

// The two files of the run-time state in the state directory, written apart so that a peer
// change does not rewrite a large route table: peers (with their tokens) and routes.
inline constexpr std::string_view kRuntimePeersFile = "runtime-peers.json";
inline constexpr std::string_view kRuntimeRoutesFile = "runtime-routes.json";

// Which parts of the run-time state changed.
struct RuntimeParts {
  bool peers = false;
  bool routes = false;
};

// Reads both files (JSON arrays); an absent file is an empty list; a damaged one is an error
// that names the file (the node then refuses to start rather than forget peers silently).
Result<RuntimeState> loadRuntimeState(const std::filesystem::path& dir);
// Writes the `parts` asked for, each to a temporary file (mode 0600), flushed, then renamed
// over the old one.
Status saveRuntimeState(const std::filesystem::path& dir, const RuntimeState& runtime,
                        RuntimeParts parts = {true, true});

inline constexpr std::size_t kMaxBulkRoutes = 10'000;
inline constexpr std::chrono::milliseconds kPersistDelay{100};

class ManagementApi : public std::enable_shared_from_this<ManagementApi> {
public:
  ManagementApi(event::Dispatcher& dispatcher, control::ControlLoop& loop,
                const auth::TokenAuthority& tokens, const peering::PeeringService& peering,
                std::filesystem::path state_dir, RuntimeState runtime, Logger& logger);

  // The factories' answers.
  rpc::Value networkClient(std::string_view token);
  rpc::Value dataChannelClient(std::string_view token);

  // Writes the run-time files now if a change is waiting (at shutdown).
  void flush();

  // Refusals of the management RPCs, by reason (for /metrics).
  const std::map<std::string, uint64_t>& refusals() const { return refusals_; }

private:
  Result<auth::Claims> checkAdmin(std::string_view token);
  rpc::Promise<rpc::Value> submit(control::Event event, RuntimeParts changes,
                                  std::function<void()> on_success);
  // Marks part of the run-time state out of date; its file is rewritten kPersistDelay later, so a
  // burst of changes (a bulk import, a script adding routes one by one) costs one write, not one
  // per change.
  void persist(RuntimeParts parts);
  void writeNow();

  rpc::Promise<rpc::Value> addPeer(const rpc::Args& args, bool must_exist);
  rpc::Promise<rpc::Value> removePeer(const rpc::Args& args);
  rpc::Value listPeers() const;
  rpc::Promise<rpc::Value> addRoute(const rpc::Args& args);
  rpc::Promise<rpc::Value> addRoutes(const rpc::Args& args);
  rpc::Promise<rpc::Value> removeRoute(const rpc::Args& args);
  rpc::Value listRoutes() const;
  rpc::Value explainRoute(const rpc::Args& args) const;

  event::Dispatcher& dispatcher_;
  control::ControlLoop& loop_;
  const auth::TokenAuthority& tokens_;
  const peering::PeeringService& peering_;
  std::filesystem::path state_dir_;
  RuntimeState runtime_;
  Logger& logger_;
  std::map<std::string, uint64_t> refusals_;
  event::TimerPtr persist_timer_;
  RuntimeParts dirty_;
  rpc::Value network_client_;
  rpc::Value data_channel_client_;
};

} // namespace catalyst::server
