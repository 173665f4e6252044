#pragma once

// The Envoy renderer: the data-plane routes of a node -> Envoy clusters and listeners (v3,
// proto3 JSON), the resources served over ADS or written to cds.json / lds.json. Pure and
// deterministic: the same routes and options give the same bytes, resources sorted by name, one
// content-derived version per resource type. See docs/envoy.md for the shapes.
//
// Per local route N (ingress): listener `ingress_N` on the bind address and the route's port,
// cluster `local_N` -> the service endpoint. Per learned route N whose best path comes from
// neighbour P (egress): listener `egress_N_via_P` on the route's port, cluster
// `remote_N_via_P` -> the address and port P advertised. When two origins publish N and both
// are reached via P, both names get `_from_<origin>` appended. Protocols: `tcp` -> tcp_proxy;
// `udp` -> udp_proxy on a UDP listener; `http*` -> HTTP connection manager and router (websocket
// upgrades and no route timeout for graphql/gql; HTTP/2 both ways and no route timeout for
// grpc). With TLS files, ingress listeners require mTLS, egress listeners accept mTLS from
// peers (tls_inspector) beside plain local clients, and remote clusters dial with mTLS. UDP
// carries no TLS.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalyst/control/effect.h"
#include "catalyst/dataplane/dataplane.h"

namespace catalyst::envoy {

inline constexpr std::string_view kClusterTypeUrl =
    "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kListenerTypeUrl =
    "type.googleapis.com/envoy.config.listener.v3.Listener";

// PEM files Envoy reads (paths as Envoy sees them).
struct TlsFiles {
  std::string certificate_chain;
  std::string private_key;
  std::string trusted_ca; // peers' certificates must chain to one of these
  bool operator==(const TlsFiles&) const = default;
};

struct RenderOptions {
  std::string bind_address = "0.0.0.0"; // where the listeners bind
  std::optional<TlsFiles> tls;
  std::chrono::milliseconds connect_timeout{5000};
  bool operator==(const RenderOptions&) const = default;
};

struct Resource {
  std::string name;
  std::string json;   // the message as proto3 JSON (no "@type")
  std::string digest; // SHA-256 of `json`, raw bytes
};

// Immutable once made; snapshots share them (a snapshot of 10 000 routes copies pointers, not
// JSON).
using ResourceConstSharedPtr = std::shared_ptr<const Resource>;

// All resources of one type, as a state-of-the-world response carries them.
struct ResourceSet {
  std::string type_url;
  // Derived from the content: equal content, equal version. 16 hex digits: the XOR over the
  // resources of the first 64 bits of SHA-256(name, NUL, digest), so one change updates it in
  // constant time.
  std::string version;
  std::vector<ResourceConstSharedPtr> resources; // sorted by name

  // {"version_info", "type_url", "resources": [Any...]}: an envoy.service.discovery.v3.
  // DiscoveryResponse in proto3 JSON, the content of cds.json / lds.json.
  std::string discoveryResponseJson() const;
};

// A route the renderer left out, and why.
struct RouteProblem {
  state::RouteKey key;
  dataplane::ErrorReason reason; // NoListenPort or InvalidTarget
  std::string message;
  bool operator==(const RouteProblem&) const = default;
};

struct Snapshot {
  ResourceSet clusters;
  ResourceSet listeners;
  std::vector<RouteProblem> problems; // ordered by route key
};

// Keeps every route's rendered resources, by name; build() renders only the routes changed
// since the last build, then assembles the sets (pointer copies, linear in the table; no
// re-rendering, no sorting, no hashing of unchanged resources).
class SnapshotBuilder {
public:
  explicit SnapshotBuilder(RenderOptions options);

  // Removals first, then upserts (as the embedded data plane applies them).
  void apply(const control::fx::ConfigureDataPlane& change);
  Snapshot build();

  std::size_t routes() const { return routes_.size(); }

private:
  // A listening port: UDP or not, and the number.
  using PortSlot = std::pair<bool, uint16_t>;

  struct Entry {
    control::fx::DataPlaneRoute route;
    std::string base_name; // before disambiguation: "<name>_via_<peer>" or "<name>"
    std::string suffix;    // "" or "_from_<origin>"
    bool dirty = true;
    ResourceConstSharedPtr cluster;
    ResourceConstSharedPtr listener;
    std::optional<RouteProblem> problem;
    std::optional<PortSlot> claim; // the port it asked for, once rendered that far
  };

  // The resources of one type by name, and their combined version.
  struct Index {
    std::map<std::string, ResourceConstSharedPtr, std::less<>> by_name;
    uint64_t hash = 0; // XOR of resourceHash() over by_name
    void add(const ResourceConstSharedPtr& r);
    void remove(const ResourceConstSharedPtr& r);
    ResourceSet set(std::string_view type_url) const;
  };

  void setSuffix(const state::RouteKey& key);
  void render(const state::RouteKey& key, Entry& entry);
  // Takes the entry's resources out of the sets and gives up its port.
  void retire(const state::RouteKey& key, Entry& entry);

  RenderOptions options_;
  std::map<state::RouteKey, Entry> routes_;
  // Egress routes by base name: more than one -> each name gets its origin appended.
  std::map<std::string, std::vector<state::RouteKey>, std::less<>> by_base_name_;
  std::vector<state::RouteKey> dirty_;
  Index clusters_;
  Index listeners_;
  // Who asked for each port. Two routes never get one port (Envoy would refuse the listener):
  // the smallest route key has it, whatever the order of the changes; the others are left out
  // with a `bind` problem until it is free.
  std::map<PortSlot, std::set<state::RouteKey>> claims_;
  std::vector<state::RouteKey> rerender_; // whose port claim changed during a build
};

// The snapshot of `routes` rendered from scratch.
Snapshot render(const std::vector<control::fx::DataPlaneRoute>& routes,
                const RenderOptions& options);

} // namespace catalyst::envoy
