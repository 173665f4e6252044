#include <array>
#include <string_view>

#include "catalyst/control/effect.h"
#include "catalyst/control/event.h"

namespace catalyst::control {

std::string_view eventName(const Event& event) {
  static constexpr std::array<std::string_view, std::variant_size_v<Event>> kNames{
      "timer_tick",
      "peer_session_up",
      "peer_session_down",
      "peer_update",
      "peer_end_of_table",
      "service_registered",
      "service_deregistered",
      "service_health",
      "process_exited",
      "add_peer",
      "remove_peer",
      "add_route",
      "remove_route",
      "peer_table_wanted",
      "peer_flush"};
  return kNames[event.index()];
}

std::string_view effectName(const Effect& effect) {
  static constexpr std::array<std::string_view, std::variant_size_v<Effect>> kNames{
      "send_update",          "end_of_table",  "connect_peer", "close_peer",
      "configure_data_plane", "start_process", "stop_process", "continue_table"};
  return kNames[effect.index()];
}

} // namespace catalyst::control
