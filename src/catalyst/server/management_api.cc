#include "catalyst/server/management_api.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include <boost/json.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalyst/peering/wire.h"
#include "catalyst/rpc/plain_json.h"
#include "catalyst/rpc/target.h"

namespace catalyst::server {
namespace {

namespace json = boost::json;

rpc::Value success() { return rpc::object({{"success", true}}); }
rpc::Value failure(std::string error) {
  return rpc::object({{"success", false}, {"error", std::move(error)}});
}

std::string firstRejection(const control::PipelineResult& result) {
  return result.rejections.front().message;
}

} // namespace

namespace {

// Reads one of the runtime files: a JSON array of records, each decoded by `decode`. An absent
// file is an empty list.
template <class Decode> Status loadList(const std::filesystem::path& file, Decode decode) {
  std::ifstream in(file);
  if (!in) {
    return {};
  }
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value doc = json::parse(text.str(), ec);
  if (ec || !doc.is_array()) {
    return invalidArgument(fmt::format("{}: not a JSON array ({})", file.string(),
                                       ec ? ec.message() : std::string("wrong type")));
  }
  for (const json::value& v : doc.get_array()) {
    if (Status st = decode(rpc::fromPlainJson(v)); !st) {
      return invalidArgument(fmt::format("{}: {}", file.string(), st.error().message));
    }
  }
  return {};
}

// Writes `text` to `file` through a temporary file (mode 0600), flushed, then renamed.
Status replaceFile(const std::filesystem::path& file, const std::string& text) {
  const std::filesystem::path temp = file.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return unavailable(fmt::format("{}: {}", temp.string(), std::strerror(errno)));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return unavailable(fmt::format("{}: {}", temp.string(), std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  std::error_code ec;
  std::filesystem::rename(temp, file, ec);
  if (ec) {
    return unavailable(fmt::format("{}: {}", file.string(), ec.message()));
  }
  return {};
}

} // namespace

Result<RuntimeState> loadRuntimeState(const std::filesystem::path& dir) {
  RuntimeState runtime;
  Status peers = loadList(dir / kRuntimePeersFile, [&](const rpc::Value& v) -> Status {
    Result<state::PeerInfo> info = peering::peerInfoFromValue(v, "peers[]");
    if (!info) {
      return info.error();
    }
    runtime.peers.emplace(info->name, *info);
    return {};
  });
  if (!peers) {
    return peers.error();
  }
  Status routes = loadList(dir / kRuntimeRoutesFile, [&](const rpc::Value& v) -> Status {
    Result<state::Route> route = peering::routeFromValue(v, "routes[]");
    if (!route) {
      return route.error();
    }
    runtime.routes.emplace(route->name, *route);
    return {};
  });
  if (!routes) {
    return routes.error();
  }
  return runtime;
}

Status saveRuntimeState(const std::filesystem::path& dir, const RuntimeState& runtime,
                        RuntimeParts parts) {
  if (parts.peers) {
    json::array peers;
    for (const auto& [name, info] : runtime.peers) {
      peers.push_back(rpc::toPlainJson(peering::toValue(info, peering::TokenVisibility::Include)));
    }
    if (Status st = replaceFile(dir / kRuntimePeersFile, json::serialize(peers) + "\n"); !st) {
      return st;
    }
  }
  if (parts.routes) {
    // Written straight to text: a node may hold 100 000 routes added at run time, and a JSON
    // tree of them cost ~2 µs per route on the control thread.
    std::string routes = "[";
    for (const auto& [name, route] : runtime.routes) {
      if (routes.size() > 1) {
        routes.push_back(',');
      }
      peering::appendRoutePlainJson(routes, route);
    }
    routes += "]\n";
    if (Status st = replaceFile(dir / kRuntimeRoutesFile, routes); !st) {
      return st;
    }
  }
  return {};
}

ManagementApi::ManagementApi(event::Dispatcher& dispatcher, control::ControlLoop& loop,
                             const auth::TokenAuthority& tokens,
                             const peering::PeeringService& peering,
                             std::filesystem::path state_dir, RuntimeState runtime, Logger& logger)
    : dispatcher_(dispatcher), loop_(loop), tokens_(tokens), peering_(peering),
      state_dir_(std::move(state_dir)), runtime_(std::move(runtime)), logger_(logger) {}

Result<auth::Claims> ManagementApi::checkAdmin(std::string_view token) {
  const int64_t now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                               dispatcher_.timeSource().systemTime().time_since_epoch())
                               .count();
  auth::VerifyResult claims = tokens_.verify(token, now_unix);
  if (!claims) {
    ++refusals_[std::string(auth::reasonName(claims.error().reason))];
    return permissionDenied("invalid token: " + claims.error().message);
  }
  if (claims->role != auth::Role::Admin) {
    ++refusals_["wrong_role"];
    return permissionDenied(fmt::format("token role '{}' may not manage this node (an 'admin' "
                                        "token is needed)",
                                        auth::toString(claims->role)));
  }
  return *claims;
}

namespace {

// A client object whose members are functions (as the reference's clients are).
template <class Self>
rpc::Value clientObject(
    const std::shared_ptr<Self>& self,
    std::initializer_list<
        std::pair<std::string_view, std::function<rpc::Promise<rpc::Value>(Self&, rpc::Args)>>>
        methods) {
  rpc::Object out;
  std::weak_ptr<Self> weak = self;
  for (const auto& [name, method] : methods) {
    out.push_back(rpc::Member{
        std::string(name), rpc::makeFunctionStub([weak, method = method](rpc::Args args) {
          auto s = weak.lock();
          if (!s) {
            return rpc::Promise<rpc::Value>::resolved(failure("the node is shutting down"));
          }
          return method(*s, std::move(args));
        })});
  }
  return out;
}

using R = rpc::Promise<rpc::Value>;

} // namespace

rpc::Value ManagementApi::networkClient(std::string_view token) {
  if (Result<auth::Claims> claims = checkAdmin(token); !claims) {
    return failure(claims.error().message);
  }
  if (network_client_.isUndefined()) {
    network_client_ = clientObject<ManagementApi>(
        shared_from_this(),
        {{"addPeer", [](ManagementApi& m, rpc::Args a) { return m.addPeer(a, false); }},
         {"updatePeer", [](ManagementApi& m, rpc::Args a) { return m.addPeer(a, true); }},
         {"removePeer", [](ManagementApi& m, rpc::Args a) { return m.removePeer(a); }},
         {"listPeers", [](ManagementApi& m, rpc::Args) { return R::resolved(m.listPeers()); }}});
  }
  return rpc::object({{"success", true}, {"client", network_client_}});
}

rpc::Value ManagementApi::dataChannelClient(std::string_view token) {
  if (Result<auth::Claims> claims = checkAdmin(token); !claims) {
    return failure(claims.error().message);
  }
  if (data_channel_client_.isUndefined()) {
    data_channel_client_ = clientObject<ManagementApi>(
        shared_from_this(),
        {{"addRoute", [](ManagementApi& m, rpc::Args a) { return m.addRoute(a); }},
         {"removeRoute", [](ManagementApi& m, rpc::Args a) { return m.removeRoute(a); }},
         {"listRoutes", [](ManagementApi& m, rpc::Args) { return R::resolved(m.listRoutes()); }},
         {"addRoutes", [](ManagementApi& m, rpc::Args a) { return m.addRoutes(a); }},
         {"explainRoute",
          [](ManagementApi& m, rpc::Args a) { return R::resolved(m.explainRoute(a)); }}});
  }
  return rpc::object({{"success", true}, {"client", data_channel_client_}});
}

rpc::Promise<rpc::Value> ManagementApi::submit(control::Event event, RuntimeParts changes,
                                               std::function<void()> on_success) {
  auto [promise, resolver] = R::make();
  std::weak_ptr<ManagementApi> weak = weak_from_this();
  loop_.submit(std::move(event),
               [weak, resolver = resolver, changes,
                on_success = std::move(on_success)](const control::PipelineResult& result) {
                 if (!result.rejections.empty()) {
                   resolver.resolve(failure(firstRejection(result)));
                   return;
                 }
                 if (auto self = weak.lock()) {
                   on_success();
                   self->persist(changes);
                 }
                 resolver.resolve(success());
               });
  return promise;
}

void ManagementApi::persist(RuntimeParts parts) {
  dirty_.peers = dirty_.peers || parts.peers;
  dirty_.routes = dirty_.routes || parts.routes;
  if (!persist_timer_) {
    std::weak_ptr<ManagementApi> weak = weak_from_this();
    persist_timer_ = dispatcher_.createTimer([weak] {
      if (auto self = weak.lock()) {
        self->writeNow();
      }
    });
  }
  if (!persist_timer_->enabled()) {
    persist_timer_->enable(kPersistDelay);
  }
}

void ManagementApi::flush() {
  if (persist_timer_) {
    persist_timer_->disable();
  }
  writeNow();
}

void ManagementApi::writeNow() {
  if (!dirty_.peers && !dirty_.routes) {
    return;
  }
  const RuntimeParts parts = dirty_;
  dirty_ = {};
  if (Status st = saveRuntimeState(state_dir_, runtime_, parts); !st) {
    logger_.error("cannot keep run-time peers and routes: {}", st.error().message);
  }
}

rpc::Promise<rpc::Value> ManagementApi::addPeer(const rpc::Args& args, bool must_exist) {
  Result<state::PeerInfo> info = peering::peerInfoFromValue(args[0], "peer");
  if (!info) {
    return R::resolved(failure(info.error().message));
  }
  if (must_exist && loop_.state().findPeer(info->name) == nullptr) {
    return R::resolved(failure(fmt::format("no peer named '{}'", info->name)));
  }
  state::PeerInfo copy = *info;
  return submit(control::ev::AddPeer{*info}, RuntimeParts{true, false},
                [this, copy]() { runtime_.peers.insert_or_assign(copy.name, copy); });
}

rpc::Promise<rpc::Value> ManagementApi::removePeer(const rpc::Args& args) {
  const rpc::Value* name = args[0].find("name");
  if (name == nullptr || !name->is<std::string>()) {
    return R::resolved(failure("name: expected a string"));
  }
  std::string n = *name->as<std::string>();
  return submit(control::ev::RemovePeer{n}, RuntimeParts{true, false},
                [this, n]() { runtime_.peers.erase(n); });
}

rpc::Value ManagementApi::listPeers() const {
  std::map<std::string, peering::PeerSessionView> sessions;
  for (peering::PeerSessionView& v : peering_.sessions()) {
    sessions.emplace(v.name, std::move(v));
  }
  rpc::Array peers;
  for (const auto& [name, peer] : loop_.state().peers()) {
    rpc::Value v = peering::toValue(peer.info, peering::TokenVisibility::Omit);
    v.set("connectionStatus", std::string(state::toString(peer.status)));
    if (auto it = sessions.find(name); it != sessions.end()) {
      v.set("outboundConnected", it->second.outbound_up);
      v.set("advertisedRoutes", static_cast<double>(it->second.advertised));
      if (!it->second.last_error.empty()) {
        v.set("lastError", it->second.last_error);
      }
    }
    peers.push_back(std::move(v));
  }
  return rpc::object({{"success", true}, {"peers", std::move(peers)}});
}

rpc::Promise<rpc::Value> ManagementApi::addRoute(const rpc::Args& args) {
  Result<state::Route> route = peering::routeFromValue(args[0], "route");
  if (!route) {
    return R::resolved(failure(route.error().message));
  }
  state::Route copy = *route;
  return submit(control::ev::AddRoute{*route, state::RouteSource::Admin}, RuntimeParts{false, true},
                [this, copy]() { runtime_.routes.insert_or_assign(copy.name, copy); });
}

rpc::Promise<rpc::Value> ManagementApi::addRoutes(const rpc::Args& args) {
  const rpc::Value* list = args[0].find("routes");
  if (list == nullptr || !list->is<rpc::Array>()) {
    return R::resolved(failure("routes: expected an array"));
  }
  const rpc::Array& values = *list->as<rpc::Array>();
  if (values.size() > kMaxBulkRoutes) {
    return R::resolved(failure(
        fmt::format("routes: {} routes in one call (at most {})", values.size(), kMaxBulkRoutes)));
  }
  std::vector<state::Route> routes;
  routes.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    Result<state::Route> route = peering::routeFromValue(values[i], fmt::format("routes[{}]", i));
    if (!route) {
      return R::resolved(failure(route.error().message));
    }
    routes.push_back(std::move(*route));
  }
  struct Tally {
    std::size_t added = 0;
    std::size_t unchanged = 0;
    std::string error;
  };
  auto tally = std::make_shared<Tally>();
  auto [promise, resolver] = R::make();
  std::weak_ptr<ManagementApi> weak = weak_from_this();
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const bool last = i + 1 == routes.size();
    state::Route copy = routes[i];
    loop_.submit(control::ev::AddRoute{std::move(routes[i]), state::RouteSource::Admin},
                 [weak, tally, copy, last, resolver = resolver](const control::PipelineResult& r) {
                   auto self = weak.lock();
                   if (r.rejections.empty()) {
                     ++tally->added;
                     if (self) {
                       self->runtime_.routes.insert_or_assign(copy.name, copy);
                     }
                   } else if (r.rejections.front().reason == "no_state_change") {
                     ++tally->unchanged;
                   } else if (tally->error.empty()) {
                     tally->error = r.rejections.front().message;
                   }
                   if (!last) {
                     return;
                   }
                   if (self) {
                     self->persist(RuntimeParts{false, true}); // once for the whole call
                   }
                   if (!tally->error.empty()) {
                     resolver.resolve(failure(tally->error));
                     return;
                   }
                   resolver.resolve(
                       rpc::object({{"success", true},
                                    {"added", static_cast<double>(tally->added)},
                                    {"unchanged", static_cast<double>(tally->unchanged)}}));
                 });
  }
  if (routes.empty()) {
    resolver.resolve(rpc::object({{"success", true}, {"added", 0}, {"unchanged", 0}}));
  }
  return promise;
}

rpc::Promise<rpc::Value> ManagementApi::removeRoute(const rpc::Args& args) {
  const rpc::Value* name = args[0].find("name");
  if (name == nullptr || !name->is<std::string>()) {
    return R::resolved(failure("name: expected a string"));
  }
  std::string n = *name->as<std::string>();
  return submit(control::ev::RemoveRoute{n}, RuntimeParts{false, true},
                [this, n]() { runtime_.routes.erase(n); });
}

rpc::Value ManagementApi::listRoutes() const {
  const state::NodeState& s = loop_.state();
  rpc::Array local;
  for (const auto& [name, route] : s.localRoutes()) {
    state::Route shown = route.route;
    shown.envoy_port = s.portFor({name, s.self().name});
    if (!s.self().envoy_address.empty()) {
      shown.envoy_address = s.self().envoy_address;
    }
    local.push_back(peering::toValue(shown));
  }
  rpc::Array internal;
  for (const state::RouteKey& key : s.learnedKeysSorted()) {
    const state::LearnedPath* best = s.findBest(key);
    const state::Peer* peer = s.findPeer(best->peer);
    state::PeerInfo info =
        peer != nullptr ? peer->info : state::PeerInfo{best->peer, {}, {}, {}, {}, {}};
    internal.push_back(peering::internalRouteValue(best->route, info, best->node_path,
                                                   best->origin_node, best->is_stale));
  }
  return rpc::object(
      {{"success", true}, {"local", std::move(local)}, {"internal", std::move(internal)}});
}

rpc::Value ManagementApi::explainRoute(const rpc::Args& args) const {
  const rpc::Value* name = args[0].find("name");
  if (name == nullptr || !name->is<std::string>()) {
    return failure("name: expected a string");
  }
  const std::string& n = *name->as<std::string>();
  const state::NodeState& s = loop_.state();
  rpc::Array routes;
  if (const state::LocalRoute* local = s.findLocalRoute(n)) {
    routes.push_back(rpc::object({{"name", n},
                                  {"originNode", s.self().name},
                                  {"local", true},
                                  {"reason", "a local route always wins"},
                                  {"route", peering::toValue(local->route)}}));
  }
  for (const auto& [key, learned] : s.learned()) {
    if (key.name != n || learned->paths.empty()) {
      continue;
    }
    const state::LearnedPath* best = learned->bestPath();
    rpc::Array candidates;
    for (const state::LearnedPath& path : learned->paths) {
      const std::string& peer = path.peer;
      const bool chosen = best != nullptr && best->peer == peer;
      std::string why = chosen ? "best path" : "";
      if (!chosen && best != nullptr) {
        why = "lost to " + best->peer + ": " + state::preferenceReason(*best, path);
      }
      rpc::Array node_path;
      for (const std::string& hop : path.node_path) {
        node_path.emplace_back(hop);
      }
      candidates.push_back(rpc::object(
          {{"peer", peer},
           {"nodePath", std::move(node_path)},
           {"isStale", path.is_stale},
           {"healthStatus", std::string(state::toString(
                                path.route.health_status.value_or(state::HealthStatus::Up)))},
           {"chosen", chosen},
           {"reason", why}}));
    }
    routes.push_back(rpc::object({{"name", n},
                                  {"originNode", key.origin_node},
                                  {"local", false},
                                  {"best", best != nullptr ? rpc::Value(best->peer) : rpc::Value()},
                                  {"candidates", std::move(candidates)}}));
  }
  if (routes.empty()) {
    return failure(fmt::format("no route named '{}' on this node", n));
  }
  return rpc::object({{"success", true}, {"routes", std::move(routes)}});
}

} // namespace catalyst::server
