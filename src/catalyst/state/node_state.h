#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include "catalyst/state/local_service.h"
#include "catalyst/state/peer.h"
#include "catalyst/state/port_pool.h"
#include "catalyst/state/route.h"
#include "catalyst/state/state_delta.h"

namespace catalyst::state {

// Who this node is.
struct NodeIdentity {
  std::string name;
  std::vector<std::string> domains;
  std::string endpoint;      // our peering URL
  std::string envoy_address; // our data-plane address, advertised to peers

  bool operator==(const NodeIdentity&) const = default;
};

// The whole control-plane state of a node (seed: Route Table, Peer List, Local Services).
//
// A value type. Only the pipeline changes it, and only through apply(StateDelta): plugins see it
// as `const NodeState&`. Learned routes live in a hash table, so applying a delta costs O(size
// of the delta) whatever the size of the table (the pipeline benchmark holds us to that);
// everything that lists them in order sorts on the way out (learnedKeysSorted()). Peers, local
// routes and services are few and kept ordered.
class NodeState {
public:
  // The candidate paths of one route, one per neighbour, ordered by neighbour name. A route
  // has few (usually one), so a sorted vector: no node or key string per path; and the first
  // is kept in the table entry itself, so a route with one path costs no allocation of its
  // own and a walk of the table no second cache miss per route.
  using Paths = boost::container::small_vector<LearnedPath, 1>;

  // One learned route: every candidate path (Adj-RIB-In) and the chosen one (Loc-RIB).
  struct LearnedRoute {
    // `best` when no path is chosen, and when the chosen neighbour's path was removed by an
    // operation whose delta has not chosen again yet (a delta that removes the best path also
    // selects or clears the best: PathChanges::emit).
    static constexpr int32_t kNoBest = -1;
    static constexpr int32_t kBestGone = -2;

    Paths paths;
    int32_t best = kNoBest; // the index in `paths` of the best path (Loc-RIB)
    // The data-plane port this node allocated for the route (portFor()); kept here rather than
    // in a table of its own so a route's port costs no second key and lookup (fits the padding).
    uint16_t port = 0;
    bool has_port = false;

    // Whether a best path is chosen (it may be gone within a delta).
    bool hasBest() const { return best != kNoBest; }
    // The best path, or nullptr.
    const LearnedPath* bestPath() const {
      return best >= 0 ? &paths[static_cast<std::size_t>(best)] : nullptr;
    }
    // The path `peer` gave, or nullptr.
    const LearnedPath* path(const std::string& peer) const;
    std::optional<uint16_t> allocatedPort() const {
      return has_port ? std::optional<uint16_t>(port) : std::nullopt;
    }
    // The route's key: its first path's name and origin, or, while it has no path (from the
    // removal of its last path to the decision that follows, within one delta), a copy kept
    // for that time. So a route costs no key of its own (64 bytes).
    RouteKeyView key() const {
      if (pathless_key) {
        return RouteKeyView{pathless_key->name, pathless_key->origin_node};
      }
      const LearnedPath& first = paths.front();
      return RouteKeyView{first.route.name, first.origin_node};
    }

    LearnedRoute() = default;
    LearnedRoute(const LearnedRoute& other);
    LearnedRoute& operator=(const LearnedRoute& other);
    LearnedRoute(LearnedRoute&&) noexcept = default;
    LearnedRoute& operator=(LearnedRoute&&) noexcept = default;
    ~LearnedRoute() = default;
    bool operator==(const LearnedRoute& other) const;

  private:
    friend class NodeState;
    std::unique_ptr<RouteKey> pathless_key; // see key()
  };

  // The learned routes by key: open addressing (a lookup probes one metadata group and one
  // slot, where a node-based table walked a bucket chain: two or three cache misses per route
  // at 100 000 routes) over 16-byte slots, each the record's address and its key's hash. The
  // key lives in the record (the record is read after a lookup anyway), so growing the table
  // moves 16 bytes per route and reads no record, and records keep their address. Iterating
  // gives {key, record} pairs, as a map would.
  class LearnedRoutes {
  private:
    struct Slot {
      std::unique_ptr<LearnedRoute> record;
      std::size_t hash;
    };
    struct HashProbe {
      std::size_t hash;
    };
    struct Probe {
      RouteKeyView key;
      std::size_t hash;
    };
    struct SlotHash {
      using is_avalanching = void; // RouteKeyHash mixes every bit
      using is_transparent = void;
      std::size_t operator()(const Slot& s) const noexcept { return s.hash; }
      std::size_t operator()(const Probe& p) const noexcept { return p.hash; }
      std::size_t operator()(const HashProbe& p) const noexcept { return p.hash; }
    };
    struct SlotEqual {
      using is_transparent = void;
      bool operator()(const Slot& a, const Slot& b) const noexcept { return a.record == b.record; }
      bool operator()(const Probe& p, const Slot& s) const noexcept {
        return p.hash == s.hash && s.record->key() == p.key;
      }
      bool operator()(const Slot& s, const Probe& p) const noexcept { return (*this)(p, s); }
      bool operator()(const HashProbe& p, const Slot& s) const noexcept { return p.hash == s.hash; }
      bool operator()(const Slot& s, const HashProbe& p) const noexcept { return p.hash == s.hash; }
    };
    using Slots = boost::unordered_flat_set<Slot, SlotHash, SlotEqual>;

  public:
    struct Entry {
      RouteKeyView first;
      const LearnedRoute* second;
    };
    class const_iterator {
    public:
      using value_type = Entry;
      using difference_type = std::ptrdiff_t;
      using iterator_category = std::forward_iterator_tag;

      const_iterator() = default;
      Entry operator*() const { return Entry{it_->record->key(), it_->record.get()}; }
      struct Arrow {
        Entry entry;
        const Entry* operator->() const { return &entry; }
      };
      Arrow operator->() const { return Arrow{**this}; }
      const_iterator& operator++() {
        ++it_;
        return *this;
      }
      const_iterator operator++(int) {
        const_iterator before = *this;
        ++it_;
        return before;
      }
      friend bool operator==(const const_iterator& a, const const_iterator& b) {
        return a.it_ == b.it_;
      }

    private:
      friend class LearnedRoutes;
      explicit const_iterator(Slots::const_iterator it) : it_(it) {}
      Slots::const_iterator it_;
    };

    LearnedRoutes() = default;
    LearnedRoutes(const LearnedRoutes& other);
    LearnedRoutes& operator=(const LearnedRoutes& other);
    LearnedRoutes(LearnedRoutes&&) noexcept = default;
    LearnedRoutes& operator=(LearnedRoutes&&) noexcept = default;
    ~LearnedRoutes() = default;

    std::size_t size() const { return slots_.size(); }
    bool empty() const { return slots_.empty(); }
    const_iterator begin() const;
    const_iterator end() const;

    static std::size_t hashOf(const RouteKeyView& key) {
      return RouteKeyHash::of(key.name, key.origin_node);
    }
    // The record for `key` (hashOf(key)), or nullptr.
    const LearnedRoute* findRecord(const RouteKeyView& key, std::size_t hash) const {
      auto it = slots_.find(Probe{key, hash});
      return it == slots_.end() ? nullptr : it->record.get();
    }
    // Asks for the record of the first route whose hash is `hash` (most likely the one), so a
    // batch of lookups can overlap their cache misses: the key compare reads the record.
    void prefetch(std::size_t hash) const;
    friend bool operator==(const LearnedRoutes& a, const LearnedRoutes& b);

  private:
    friend class NodeState; // the only writer (apply())

    // A new record (for a key not in the table) holding `first` as its only path.
    LearnedRoute& add(LearnedPath first, std::size_t hash);
    LearnedRoute* findMutable(const RouteKeyView& key, std::size_t hash) {
      return const_cast<LearnedRoute*>(findRecord(key, hash));
    }
    LearnedRoute* findMutable(const RouteKeyView& key) { return findMutable(key, hashOf(key)); }
    void erase(const RouteKeyView& key) { slots_.erase(Probe{key, hashOf(key)}); }

    Slots slots_;
  };

  NodeState() = default;
  explicit NodeState(NodeIdentity self, PortPool ports = {})
      : self_(std::move(self)), ports_(std::move(ports)) {}

  const NodeIdentity& self() const { return self_; }
  const std::map<std::string, Peer>& peers() const { return peers_; }
  const std::map<std::string, LocalRoute>& localRoutes() const { return local_routes_; }
  const std::map<std::string, LocalService>& services() const { return services_; }
  // Every learned route, unordered.
  const LearnedRoutes& learned() const { return learned_; }
  // Learned routes with a best path (the learned part of the Loc-RIB), and candidate paths from
  // all peers (Adj-RIB-In): counts kept by apply(), O(1).
  std::size_t bestCount() const { return best_count_; }
  std::size_t pathCount() const { return path_count_; }
  // The keys of every learned route with a best path, sorted. O(n log n): for full dumps.
  std::vector<RouteKey> learnedKeysSorted() const;
  // The data-plane port this node allocated for `key` (a local route's ingress, a learned
  // route's egress), or nullopt. apply() allocates one from the pool when a local route is
  // added or a learned route gets its first best path, and gives it back when the route goes;
  // the port stays the same while the route exists, whatever path is best. Nothing is
  // allocated when the pool is empty (no port range configured).
  std::optional<uint16_t> portFor(const RouteKey& key) const;
  const PortPool& ports() const { return ports_; }
  // Routes that found the pool exhausted (they are advertised without a port).
  uint64_t portAllocationFailures() const { return port_allocation_failures_; }

  // Number of deltas committed so far.
  uint64_t generation() const { return generation_; }

  const Peer* findPeer(const std::string& name) const;
  const LocalRoute* findLocalRoute(const std::string& name) const;
  const LocalService* findService(const std::string& name) const;
  // The candidate paths for `key`, or nullptr when no neighbour has one.
  const Paths* findCandidates(const RouteKey& key) const;
  // The path `peer` gave for `key`, or nullptr.
  const LearnedPath* findPath(const std::string& peer, const RouteKey& key) const;
  // The best path for `key`, or nullptr when the route is not learned.
  const LearnedPath* findBest(const RouteKey& key) const;
  // The learned route `key` (its paths, best path and port), or nullptr: one lookup for
  // callers that need more than one of them.
  const LearnedRoute* findLearned(const RouteKey& key) const;
  const LearnedRoute* findLearned(const RouteKeyView& key) const;
  // The keys of every route `peer` gives a path for. O(learned routes): a walk of the table,
  // for session ends and stale sweeps, which touch most of a peer's routes anyway; no index
  // per path is kept (it cost ~100 bytes per path).
  std::vector<RouteKey> keysFrom(const std::string& peer) const;

  // Applies every operation of `delta` in order and counts one generation. Operations that
  // refer to something absent are no-ops, so apply() never fails. Returns the number of
  // operations that were no-ops (a plugin bug if non-zero; the pipeline reports it).
  std::size_t apply(const StateDelta& delta);

  bool operator==(const NodeState&) const = default;

private:
  bool applyOne(const DeltaOp& op);
  void allocateLocalPort(const std::string& name);
  void releaseLocalPort(const std::string& name);
  void allocateLearnedPort(LearnedRoute& route);
  void releaseLearnedPort(LearnedRoute& route);

  NodeIdentity self_;
  std::map<std::string, Peer> peers_;
  std::map<std::string, LocalRoute> local_routes_;
  std::map<std::string, LocalService> services_;
  LearnedRoutes learned_;
  PortPool ports_;
  std::unordered_map<std::string, uint16_t> local_ports_; // by local route name
  uint64_t port_allocation_failures_ = 0;
  std::size_t best_count_ = 0;
  std::size_t path_count_ = 0;
  uint64_t generation_ = 0;
};

using NodeStatePtr = std::unique_ptr<NodeState>;

} // namespace catalyst::state
