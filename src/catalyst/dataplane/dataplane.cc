#include "catalyst/dataplane/dataplane.h"

#include <numeric>

namespace catalyst::dataplane {

std::string_view toString(ErrorReason reason) {
  switch (reason) {
  case ErrorReason::Bind:
    return "bind";
  case ErrorReason::Accept:
    return "accept";
  case ErrorReason::Connect:
    return "connect";
  case ErrorReason::NoListenPort:
    return "no_listen_port";
  case ErrorReason::InvalidTarget:
    return "invalid_target";
  case ErrorReason::UdpFlowLimit:
    return "udp_flow_limit";
  }
  return "unknown";
}

std::string_view toString(ListenerState state) {
  switch (state) {
  case ListenerState::Pending:
    return "pending";
  case ListenerState::Listening:
    return "listening";
  case ListenerState::Failed:
    return "failed";
  case ListenerState::None:
    return "none";
  case ListenerState::Configured:
    return "configured";
  }
  return "unknown";
}

uint64_t Counters::errorsTotal() const {
  return std::accumulate(errors.begin(), errors.end(), uint64_t{0});
}

} // namespace catalyst::dataplane
