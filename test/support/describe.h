#pragma once

#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>

#include "catalyst/control/effect.h"
#include "catalyst/control/plugin.h"
#include "catalyst/state/state_delta.h"

namespace catalyst::test {

// Short readable forms of deltas and effects, for test failure messages.

inline std::string describeItem(const state::UpdateItem& i) {
  std::ostringstream out;
  out << (i.action == state::UpdateItem::Action::Add ? "add " : "remove ") << i.route.name << " [";
  for (std::size_t k = 0; k < i.node_path.size(); ++k) {
    out << (k != 0U ? "," : "") << i.node_path[k];
  }
  out << "]";
  return out.str();
}

inline std::string describe(const state::DeltaOp& o) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        namespace op = state::op;
        if constexpr (std::is_same_v<T, op::UpsertPeer>) {
          return "UpsertPeer(" + v.peer.info.name + "," +
                 std::string(state::toString(v.peer.status)) + ")";
        } else if constexpr (std::is_same_v<T, op::RemovePeer>) {
          return "RemovePeer(" + v.name + ")";
        } else if constexpr (std::is_same_v<T, op::UpsertLocalRoute>) {
          return "UpsertLocalRoute(" + v.route.route.name + ")";
        } else if constexpr (std::is_same_v<T, op::RemoveLocalRoute>) {
          return "RemoveLocalRoute(" + v.name + ")";
        } else if constexpr (std::is_same_v<T, op::UpsertService>) {
          return "UpsertService(" + v.service.name + ")";
        } else if constexpr (std::is_same_v<T, op::RemoveService>) {
          return "RemoveService(" + v.name + ")";
        } else if constexpr (std::is_same_v<T, op::UpsertPath>) {
          return "UpsertPath(" + v.path.peer + "," + v.path.route.name + "@" + v.path.origin_node +
                 (v.path.is_stale ? ",stale" : "") + ")";
        } else if constexpr (std::is_same_v<T, op::RemovePath>) {
          return "RemovePath(" + v.peer + "," + v.key.name + "@" + v.key.origin_node + ")";
        } else if constexpr (std::is_same_v<T, op::SelectBest>) {
          return "SelectBest(" + v.key.name + "@" + v.key.origin_node + "," + v.peer + ")";
        } else {
          return "ClearBest(" + v.key.name + "@" + v.key.origin_node + ")";
        }
      },
      o);
}

inline std::string describe(const state::StateDelta& d) {
  std::string out = "{";
  for (const auto& o : d.ops) {
    out += " " + describe(o);
  }
  return out + " }";
}

inline std::string describe(const control::Effect& e) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        namespace fx = control::fx;
        if constexpr (std::is_same_v<T, fx::SendUpdate>) {
          std::string out = "SendUpdate(" + v.peer + ":";
          for (const auto& i : v.items) {
            out += " " + describeItem(i);
          }
          return out + ")";
        } else if constexpr (std::is_same_v<T, fx::EndOfTable>) {
          return "EndOfTable(" + v.peer + ")";
        } else if constexpr (std::is_same_v<T, fx::ConnectPeer>) {
          return "ConnectPeer(" + v.info.name + ")";
        } else if constexpr (std::is_same_v<T, fx::ClosePeer>) {
          return "ClosePeer(" + v.peer + ")";
        } else if constexpr (std::is_same_v<T, fx::ConfigureDataPlane>) {
          std::string out = "ConfigureDataPlane(";
          for (const auto& r : v.upserts) {
            out += (r.kind == fx::DataPlaneRoute::Kind::Ingress ? " +in:" : " +out:") + r.key.name +
                   "@" + r.key.origin_node;
            if (r.listen_port) {
              out += ":" + std::to_string(*r.listen_port);
            }
          }
          for (const auto& k : v.removals) {
            out += " -" + k.name + "@" + k.origin_node;
          }
          return out + ")";
        } else if constexpr (std::is_same_v<T, fx::ContinueTable>) {
          return "ContinueTable(" + v.peer + ")";
        } else if constexpr (std::is_same_v<T, fx::StartProcess>) {
          return "StartProcess(" + v.service + ")";
        } else {
          return "StopProcess(" + v.service + ")";
        }
      },
      e);
}

inline std::string describe(const std::vector<control::Effect>& effects) {
  std::string out = "{";
  for (const auto& e : effects) {
    out += " " + describe(e);
  }
  return out + " }";
}

inline std::string describe(const std::vector<control::Rejection>& rejections) {
  std::string out = "{";
  for (const auto& r : rejections) {
    out += " " + r.reason;
  }
  return out + " }";
}

} // namespace catalyst::test
