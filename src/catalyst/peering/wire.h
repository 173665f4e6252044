#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/common/result.h"
#include "catalyst/rpc/text_data.h"
#include "catalyst/rpc/value.h"
#include "catalyst/rpc/wire_data.h"
#include "catalyst/state/peer.h"
#include "catalyst/state/route.h"

namespace catalyst::peering {

// The records of the peering wire surface (peering.md §1-2) as Cap'n Web values, both ways.
// Member names are the reference's, byte for byte.
//
// Writing: absent optionals are left out (never written as `undefined`); an empty `tags` or
// `labels` is absent; `envoyPort` is a number.
//
// Reading (values as the session delivers them, already evaluated):
//   - a member whose value is `undefined` counts as absent: reference nodes send ["undefined"]
//     for every optional they lack (peering.md §7);
//   - unknown members are ignored (reference nodes may add fields);
//   - a value of the wrong type is an error naming its path in the message:
//     `route.envoyPort: expected a number`, `updates[3].nodePath[2]: expected a string`;
//     a missing required member is `<path>: required`;
//   - collections that cost work per element (a batch, a nodePath, tags) are measured before
//     any element is converted;
//   - after conversion the record's own checks run (state::validateRoute for a route,
//     state::validateName for a PeerInfo name), their message prefixed with the field's path.
// The decoders check types, required members, enumerations and collection bounds only. How an
// item relates to its sender (nodePath[0] is the sender, originNode ends the path, nodePath is
// not empty, node id lengths) is plugins::validateUpdateItem's to check.
// Every error is Error::Kind::InvalidArgument. `path` names where the value sits in the
// message; every error message of a decoder starts with it.

// Whether a PeerInfo's `peerToken` is written. The token is sent only to the peer's own
// `addPeer`; every list or view leaves it out (peering.md §1).
enum class TokenVisibility { Omit, Include };

// {name, endpoint?, protocol, region?, tags?, envoyPort?, envoyAddress?, healthStatus?,
//  responseTimeMs?, lastChecked?}
rpc::Value toValue(const state::Route& route);

// {action: "add"|"remove", route, nodePath, originNode}
rpc::Value toValue(const state::UpdateItem& item);

// {updates: [UpdateItem...]}: the `update` argument of the IBGP client's `update` call. The
// caller chunks (at most control::kMaxUpdateItems items per call).
rpc::Value updateBatchValue(std::span<const state::UpdateItem> items);

// The same, already in the Cap'n Web encoding (an rpc::Encoded): what the session would write
// for updateBatchValue(items), byte for byte, without building the Value tree. What the
// peering sessions send.
rpc::Value updateBatchEncoded(std::span<const state::UpdateItem> items);

// toValue(route) as plain JSON text (what rpc::toPlainJson() and boost::json::serialize would
// give, up to the spelling of non-integral numbers; a non-finite number, which JSON cannot
// spell and route validation refuses, is null), appended to `out`; for the state files.
void appendRoutePlainJson(std::string& out, const state::Route& route);

// {name, domains, endpoint?, labels?, peerToken?, envoyAddress?}; `peerToken` only with
// TokenVisibility::Include.
rpc::Value toValue(const state::PeerInfo& peer, TokenVisibility token);

// An InternalRoute: the route's members plus `peer`, `nodePath`, `originNode` and `isStale`.
// This one names the neighbour (`"peer": NAME`), as GET /api/state shows it.
rpc::Value internalRouteValue(const state::Route& route, std::string_view peer,
                              const std::vector<std::string>& node_path,
                              std::string_view origin_node, bool is_stale);

// The same with `peer` as the neighbour's public view (toValue(peer, TokenVisibility::Omit)),
// as the reference's `listRoutes` returns it (peering.md §2: "peer (public peer view)").
rpc::Value internalRouteValue(const state::Route& route, const state::PeerInfo& peer,
                              const std::vector<std::string>& node_path,
                              std::string_view origin_node, bool is_stale);

// A Route. Required: `name`, `protocol`. Checks: `protocol` one of state::parseProtocol's
// names, `healthStatus` "up" or "down", `envoyPort` an integer 0-65535, `tags` at most
// state::kMaxTags strings, `responseTimeMs` a finite number or null (null is absent); then
// state::validateRoute.
Result<state::Route> routeFromValue(const rpc::Value& value, std::string_view path = "route");

// An UpdateItem. Required: `action` ("add" or "remove"), `route`, `nodePath` (at most
// state::kMaxNodePathLength strings), `originNode`. The route of an `add` is read as by
// routeFromValue; the route of a `remove` needs only its `name` (the reference sends the whole
// record; what is there is still checked, and `protocol` defaults to http when absent).
Result<state::UpdateItem> updateItemFromValue(const rpc::Value& value,
                                              std::string_view path = "item");

// The `update` argument of `update` ({updates: UpdateItem[]}): refuses more than `max_items`
// items before converting any, then converts them in order, the first error naming its item
// (`updates[3]....`). All or nothing.
Result<std::vector<state::UpdateItem>> updateBatchFromValue(const rpc::Value& update,
                                                            std::size_t max_items);
// The same, read from the wire's JSON in place (rpc::WireData, plain data only): exactly what
// updateBatchFromValue() gives for the Value the session would have made of it, errors included.
Result<std::vector<state::UpdateItem>> updateBatchFromWire(const rpc::WireData& update,
                                                           std::size_t max_items);
// The same, read from the message text (rpc::TextData: the common spelling only).
Result<std::vector<state::UpdateItem>> updateBatchFromText(const rpc::TextData& update,
                                                           std::size_t max_items);

// The argument list of an `update` call ([{peerInfo, update: {updates}, endOfRib?}]) read in
// one pass over its text, straight into UpdateItems, with no tape or tree: for the bulk of a
// full table. Takes only a valid call in the tight spelling (that of rpc/text_data.h, members
// in any order, no other members) whose batch has at most `max_items` items and whose nesting
// is within `max_depth`; declines (nullopt) anything else, which is then read by the general
// readers above (they say what is wrong). What it takes, it reads exactly as
// updateBatchFromText() does. peerInfo is indexed, not read: `caller` is an argument object
// holding it alone (in `tape`, over a copy of its text in `scratch`), for peerInfoFromText() or
// whatever checks the caller.
struct UpdateCallText {
  rpc::TextData caller;
  std::vector<state::UpdateItem> items;
  bool end_of_rib = false;
};
std::optional<UpdateCallText> updateCallFromText(std::string_view args, std::size_t max_depth,
                                                 std::size_t max_items, rpc::TextTape& tape,
                                                 std::string& scratch);

// A PeerInfo. Required: `name` (state::validateName), `domains` (strings). Optional:
// `endpoint`, `labels` (an object of string values; `undefined` values are skipped),
// `peerToken`, `envoyAddress`.
Result<state::PeerInfo> peerInfoFromValue(const rpc::Value& value,
                                          std::string_view path = "peerInfo");
// The same, read from the wire's JSON in place (see updateBatchFromWire()).
Result<state::PeerInfo> peerInfoFromWire(const rpc::WireData& value,
                                         std::string_view path = "peerInfo");
Result<state::PeerInfo> peerInfoFromText(const rpc::TextData& value,
                                         std::string_view path = "peerInfo");

} // namespace catalyst::peering
