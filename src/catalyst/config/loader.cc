#include "catalyst/config/loader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace catalyst::config {
namespace {

// At most this many problems are listed; the rest are counted in one last line.
constexpr std::size_t kMaxProblems = 100;
// At most this many YAML values are visited (an alias counts each time it is used), so a small
// file of aliases to aliases cannot keep the loader busy.
constexpr std::size_t kMaxVisits = 250'000;

// Where the problems of every source of one load go.
struct Sink {
  std::vector<Problem> problems;
  std::size_t hidden = 0; // problems beyond kMaxProblems, only counted
  std::size_t visits = 0;

  // A problem that ends reading (`always`) is kept even beyond kMaxProblems.
  void add(Problem problem, bool always = false) {
    if (always || problems.size() < kMaxProblems) {
      problems.push_back(std::move(problem));
    } else {
      ++hidden;
    }
  }
};

// Thrown (and caught in load()) when a document needs more than kMaxVisits visits.
struct TooComplex {};

// ---------------------------------------------------------------------------------------------
// Checks on single values, shared by the file and the environment. Each returns the problem in
// words, without saying where it is.

// `text` cut to a readable length, control characters replaced, for echoing input in messages.
std::string printable(std::string_view text) {
  constexpr std::size_t kMaxEcho = 60;
  std::string out;
  for (char c : text.substr(0, kMaxEcho)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (text.size() > kMaxEcho) {
    out += "...";
  }
  return out;
}

std::string echo(std::string_view text) { return "'" + printable(text) + "'"; }

Result<uint16_t> parsePort(std::string_view text) {
  std::string_view digits = text;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
    digits.remove_prefix(1);
  }
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalidArgument("expected an integer, got " + echo(text));
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (negative || ec != std::errc{} || end != digits.data() + digits.size() || value < 1 ||
      value > 65535) {
    return invalidArgument("must be 1-65535 (got " + printable(text) + ")");
  }
  return static_cast<uint16_t>(value);
}

// rpc.max_message_bytes: 1 KiB to 32 MiB.
Result<std::size_t> parseMessageSize(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return invalidArgument("expected an integer, got " + echo(text));
  }
  if (value < kMinRpcMessageBytes || value > kMaxRpcMessageBytes) {
    return invalidArgument("must be " + std::to_string(kMinRpcMessageBytes) + "-" +
                           std::to_string(kMaxRpcMessageBytes) + " (got " + printable(text) + ")");
  }
  return static_cast<std::size_t>(value);
}

// peering.hold_time_ms: 0 (keepalive and expiry off) or 3 ms to 1 day;
// peering.graceful_restart_ms: 1 ms to 1 hour.
Result<std::chrono::milliseconds> parseMillis(std::string_view text, uint64_t min, uint64_t max) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return invalidArgument("expected an integer number of milliseconds, got " + echo(text));
  }
  if (value != 0 && (value < min || value > max)) {
    return invalidArgument("must be 0 or " + std::to_string(min) + "-" + std::to_string(max) +
                           " (got " + printable(text) + ")");
  }
  return std::chrono::milliseconds(value);
}
// dataplane.workers: 1 to 256 threads.
Result<std::size_t> parseWorkers(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return invalidArgument("expected an integer, got " + echo(text));
  }
  if (value < 1 || value > kMaxDataPlaneWorkers) {
    return invalidArgument("must be 1-" + std::to_string(kMaxDataPlaneWorkers) + " (got " +
                           printable(text) + ")");
  }
  return static_cast<std::size_t>(value);
}

// dataplane.drain_timeout_ms: 0 (close at once) to 1 hour.
Result<std::chrono::milliseconds> parseDrainTimeout(std::string_view text) {
  return parseMillis(text, 1, 3'600'000);
}
// dataplane.envoy.startup_hold_ms: 0 (publish at once) to 10 minutes.
Result<std::chrono::milliseconds> parseStartupHold(std::string_view text) {
  return parseMillis(text, 1, 600'000);
}
// dataplane.udp_idle_timeout_ms: 1 ms to 1 day.
Result<std::chrono::milliseconds> parseUdpIdleTimeout(std::string_view text) {
  Result<std::chrono::milliseconds> ms = parseMillis(text, 1, 86'400'000);
  if (ms && ms->count() == 0) {
    return invalidArgument("must be 1-86400000 (got 0)");
  }
  return ms;
}

// A YAML boolean: true or false (in any case).
Result<bool> parseBool(std::string_view text) {
  std::string lowered(text);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lowered == "true") {
    return true;
  }
  if (lowered == "false") {
    return false;
  }
  return invalidArgument("expected true or false (got " + printable(text) + ")");
}

Result<std::chrono::milliseconds> parseHoldTime(std::string_view text) {
  return parseMillis(text, 3, 86'400'000);
}
Result<std::chrono::milliseconds> parseGracefulRestart(std::string_view text) {
  Result<std::chrono::milliseconds> ms = parseMillis(text, 1, 3'600'000);
  if (ms && ms->count() == 0) {
    return invalidArgument("must be 1-3600000 (got 0)");
  }
  return ms;
}

// "ws://host:port/rpc" or "wss://...": where peers dial a node.
Status checkPeeringUrl(std::string_view text) {
  const bool ws = text.starts_with("ws://") || text.starts_with("wss://");
  const auto host_start = text.find("://") + 3;
  if (!ws || host_start >= text.size() || text[host_start] == '/') {
    return invalidArgument("must be a ws:// or wss:// URL such as ws://127.0.0.1:3000/rpc (got " +
                           echo(text) + ")");
  }
  if (text.size() > state::kMaxEndpointLength) {
    return invalidArgument(fmt::format("longer than {} characters", state::kMaxEndpointLength));
  }
  return {};
}

// "scheme://rest": where a local route's traffic goes.
Status checkServiceUrl(std::string_view text) {
  const auto sep = text.find("://");
  const auto scheme = text.substr(0, sep == std::string_view::npos ? 0 : sep);
  const bool scheme_ok =
      !scheme.empty() && std::isalpha(static_cast<unsigned char>(scheme.front())) != 0 &&
      std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
      });
  if (!scheme_ok || sep + 3 >= text.size()) {
    return invalidArgument("must be a URL such as http://127.0.0.1:8080 (got " + echo(text) + ")");
  }
  return {};
}

// An IPv4 or IPv6 literal, or a host name.
Status checkAddress(std::string_view text) {
  const std::string copy(text);
  std::array<unsigned char, 16> buffer{};
  if (inet_pton(AF_INET, copy.c_str(), buffer.data()) == 1 ||
      inet_pton(AF_INET6, copy.c_str(), buffer.data()) == 1) {
    return {};
  }
  const bool host_ok =
      !text.empty() && text.size() <= 253 && text.front() != '-' && text.front() != '.' &&
      std::all_of(text.begin(), text.end(),
                  [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
                  }) &&
      !std::all_of(text.begin(), text.end(),
                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  if (!host_ok) {
    return invalidArgument("not an IP address or host name: " + echo(text));
  }
  return {};
}

// A JWT in compact form: three base64url parts separated by dots.
Status checkToken(std::string_view text) {
  int dots = 0;
  bool ok = !text.empty() && text.front() != '.' && text.back() != '.';
  for (char c : text) {
    if (c == '.') {
      ++dots;
    } else if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_' &&
               c != '=') {
      ok = false;
    }
  }
  if (!ok || dots != 2) {
    return invalidArgument("must be a JWT (three base64url parts separated by '.')");
  }
  return {};
}

// Envoy's node.id: printable, no spaces or quotes (it goes into JSON and logs).
Status checkEnvoyNodeId(std::string_view text) {
  const bool ok =
      !text.empty() && text.size() <= 253 && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' ||
               c == '_' || c == ':';
      });
  if (!ok) {
    return invalidArgument("must be 1-253 letters, digits, '-', '.', '_' or ':' (got " +
                           echo(text) + ")");
  }
  return {};
}

Status checkStateDir(std::string_view text) {
  if (text.empty()) {
    return invalidArgument("must not be empty");
  }
  return {};
}

Result<DataPlaneMode> parseMode(std::string_view text) {
  if (auto mode = parseDataPlaneMode(text)) {
    return *mode;
  }
  return invalidArgument("unknown data plane mode " + echo(text) +
                         " (expected embedded, envoy-xds or envoy-files)");
}

Result<state::Protocol> parseRouteProtocol(std::string_view text) {
  if (auto protocol = state::parseProtocol(text)) {
    return *protocol;
  }
  return invalidArgument("unknown protocol " + echo(text) +
                         " (expected http, http:graphql, http:gql, http:grpc, tcp or udp)");
}

// Where `text` first nests deeper than `limit`, estimated from above without parsing: per line,
// the leading run of spaces and block entries ("- ", "? "), plus the flow brackets still open.
// A bracket inside a quoted string or a comment may count; a closing one never hides an opening
// one. Returns the 1-based line, or nullopt when the text stays within the limit.
std::optional<int> nestingBeyond(std::string_view text, int limit) {
  int line = 1;
  int flow = 0;
  int prefix = 0;
  bool in_prefix = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\n';
    if (c == '\n') {
      ++line;
      prefix = 0;
      in_prefix = true;
      continue;
    }
    if (in_prefix) {
      if (c == ' ' || ((c == '-' || c == '?') && (next == ' ' || next == '\t' || next == '\n'))) {
        ++prefix;
      } else {
        in_prefix = false;
      }
    }
    if (c == '[' || c == '{') {
      ++flow;
    } else if ((c == ']' || c == '}') && flow > 0) {
      --flow;
    }
    if (prefix + flow > limit) {
      return line;
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Reading YAML nodes with locations.

// How a node's type reads in a message.
std::string describeNode(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Scalar:
    return echo(node.Scalar());
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Map:
    return "a mapping";
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined:
    break;
  }
  return "nothing";
}

int lineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

// A node, the path of the field it is ("peers[1].endpoint") and the line to report it at.
struct Value {
  YAML::Node node;
  std::string path;
  int line = 0;
};

std::string childPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string indexPath(const std::string& parent, std::size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

// Turns YAML nodes into values, reporting every problem of one source (a file, or one
// environment variable holding JSON) into a shared list.
class Reader {
public:
  Reader(std::string source, bool has_lines, Sink& sink)
      : source_(std::move(source)), has_lines_(has_lines), sink_(sink) {}

  void report(int line, std::string field, std::string message) {
    sink_.add(Problem{source_, has_lines_ ? line : 0, std::move(field), std::move(message)});
  }
  void report(const Value& at, std::string message) {
    report(at.line, at.path, std::move(message));
  }
  void report(const Value& at, const Error& error) { report(at, error.message); }

  // The entries of a mapping in document order, each located at its key. Reports keys that are
  // not strings, repeat, or are not in `known`. A null node is an empty mapping.
  std::vector<std::pair<std::string, Value>>
  entries(const Value& map, std::initializer_list<std::string_view> known) {
    std::vector<std::pair<std::string, Value>> out;
    if (map.node.IsNull()) {
      return out;
    }
    if (!map.node.IsMap()) {
      report(map, "expected a mapping, got " + describeNode(map.node));
      return out;
    }
    std::unordered_map<std::string, int> seen; // key -> its line
    // yaml-cpp does not always iterate a mapping in document order; visit the entries by
    // position so "first at line N" names the first one. (Nodes are never assigned: assigning a
    // YAML::Node rewrites the document.)
    std::vector<std::pair<YAML::Node, YAML::Node>> pairs;
    for (const auto& entry : map.node) {
      visit();
      pairs.emplace_back(entry.first, entry.second);
    }
    std::vector<std::size_t> order(pairs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return pairs[a].first.Mark().pos < pairs[b].first.Mark().pos;
    });
    for (std::size_t i : order) {
      const YAML::Node& key = pairs[i].first;
      const YAML::Node& value = pairs[i].second;
      const int line = lineOf(key);
      if (!key.IsScalar()) {
        report(line, map.path, "keys must be strings, got " + describeNode(key));
        continue;
      }
      const std::string& name = key.Scalar();
      const std::string path = childPath(map.path, name);
      if (auto [it, inserted] = seen.emplace(name, line); !inserted) {
        report(line, path, fmt::format("duplicate key (first at line {})", it->second));
        continue;
      }
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        report(line, path, "unknown key (expected " + listOf(known) + ")");
        continue;
      }
      out.emplace_back(name, Value{value, path, line});
    }
    return out;
  }

  // The elements of a list, each located at itself. A null node is an empty list.
  std::optional<std::vector<Value>> list(const Value& value) {
    std::vector<Value> out;
    if (value.node.IsNull()) {
      return out;
    }
    if (!value.node.IsSequence()) {
      report(value, "expected a list, got " + describeNode(value.node));
      return std::nullopt;
    }
    std::size_t index = 0;
    for (const auto& element : value.node) {
      visit();
      const int line = lineOf(element);
      out.push_back(Value{element, indexPath(value.path, index++), line > 0 ? line : value.line});
    }
    return out;
  }

  std::optional<std::string> string(const Value& value) {
    if (!value.node.IsScalar()) {
      report(value, "expected a string, got " + describeNode(value.node));
      return std::nullopt;
    }
    return value.node.Scalar();
  }

  // A string that `check` accepts.
  template <class Check> std::optional<std::string> checked(const Value& value, Check check) {
    auto text = string(value);
    if (!text) {
      return std::nullopt;
    }
    if (auto status = check(*text); !status) {
      report(value, status.error());
      return std::nullopt;
    }
    return text;
  }

  // A string that `parse` turns into a T.
  template <class T, class Parse> std::optional<T> parsed(const Value& value, Parse parse) {
    auto text = string(value);
    if (!text) {
      return std::nullopt;
    }
    Result<T> result = parse(*text);
    if (!result) {
      report(value, result.error());
      return std::nullopt;
    }
    return *result;
  }

  std::optional<uint16_t> port(const Value& value) {
    if (!value.node.IsScalar()) {
      report(value, "expected an integer, got " + describeNode(value.node));
      return std::nullopt;
    }
    return parsed<uint16_t>(value, parsePort);
  }

  std::optional<bool> boolean(const Value& value) {
    bool result = false;
    if (!value.node.IsScalar() || !YAML::convert<bool>::decode(value.node, result)) {
      report(value, "expected true or false, got " + describeNode(value.node));
      return std::nullopt;
    }
    return result;
  }

  // A list of strings that `check` accepts; the whole list is dropped when one is bad.
  template <class Check>
  std::optional<std::vector<std::string>> stringList(const Value& value, Check check) {
    auto elements = list(value);
    if (!elements) {
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& element : *elements) {
      if (auto text = checked(element, check)) {
        out.push_back(std::move(*text));
      } else {
        ok = false;
      }
    }
    return ok ? std::optional(std::move(out)) : std::nullopt;
  }

  // A list of ports and [first, last] ranges, none overlapping another.
  std::optional<std::vector<PortRange>> portRanges(const Value& value) {
    auto elements = list(value);
    if (!elements) {
      return std::nullopt;
    }
    std::vector<PortRange> ranges;
    std::vector<const Value*> where; // the element each range came from
    bool ok = true;
    for (const auto& element : *elements) {
      if (auto range = portRange(element)) {
        ranges.push_back(*range);
        where.push_back(&element);
      } else {
        ok = false;
      }
    }
    // Sweep the ranges by first port; each one overlapping the farthest-reaching range before
    // it is reported at whichever of the two comes later in the list.
    std::vector<std::size_t> order(ranges.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return ranges[a].first < ranges[b].first;
    });
    std::optional<std::size_t> reach; // the range reaching farthest so far
    for (std::size_t i : order) {
      if (reach && ranges[i].first <= ranges[*reach].last) {
        const std::size_t later = std::max(i, *reach);
        const std::size_t earlier = std::min(i, *reach);
        report(*where[later], fmt::format("ports {} overlap {} ({})", describeRange(ranges[later]),
                                          where[earlier]->path, describeRange(ranges[earlier])));
        ok = false;
      }
      if (!reach || ranges[i].last > ranges[*reach].last) {
        reach = i;
      }
    }
    return ok ? std::optional(std::move(ranges)) : std::nullopt;
  }

private:
  void visit() {
    if (++sink_.visits > kMaxVisits) {
      throw TooComplex{};
    }
  }

  static std::string listOf(std::initializer_list<std::string_view> names) {
    std::string out;
    for (auto name : names) {
      out += out.empty() ? "" : ", ";
      out += name;
    }
    return out;
  }

  static std::string describeRange(const PortRange& range) {
    return range.first == range.last ? fmt::format("{}", range.first)
                                     : fmt::format("{}-{}", range.first, range.last);
  }

  std::optional<PortRange> portRange(const Value& value) {
    if (value.node.IsScalar()) {
      auto port = parsed<uint16_t>(value, parsePort);
      return port ? std::optional(PortRange{*port, *port}) : std::nullopt;
    }
    if (!value.node.IsSequence() || value.node.size() != 2) {
      report(value, "expected a port or a [first, last] range, got " + describeNode(value.node));
      return std::nullopt;
    }
    auto bounds = list(value);
    if (!bounds) {
      return std::nullopt;
    }
    auto first = port((*bounds)[0]);
    auto last = port((*bounds)[1]);
    if (!first || !last) {
      return std::nullopt;
    }
    if (*first > *last) {
      report(value, fmt::format("first port {} is greater than last port {}", *first, *last));
      return std::nullopt;
    }
    return PortRange{*first, *last};
  }

  std::string source_;
  bool has_lines_;
  Sink& sink_;
};

// ---------------------------------------------------------------------------------------------
// One layer of settings (the file, or the environment): what it sets, and where.

struct Layer {
  std::optional<std::string> node_id;
  std::optional<std::vector<std::string>> domains;
  std::optional<std::string> peering_endpoint;
  std::optional<std::string> listen_address;
  std::optional<uint16_t> port;
  std::optional<std::string> state_dir;
  std::optional<LogLevel> log_level;
  std::optional<DataPlaneMode> dataplane;
  std::optional<std::string> envoy_address;
  std::optional<std::vector<PortRange>> envoy_port_range;
  std::optional<std::size_t> dataplane_workers;
  std::optional<std::chrono::milliseconds> dataplane_drain_timeout;
  std::optional<std::chrono::milliseconds> dataplane_udp_idle_timeout;
  std::optional<bool> dataplane_splice;
  std::optional<std::string> dataplane_bind_address;
  std::optional<std::string> envoy_files_dir;
  std::optional<std::string> envoy_xds_address;
  std::optional<uint16_t> envoy_xds_port;
  std::optional<std::string> envoy_admin_address;
  std::optional<uint16_t> envoy_admin_port;
  std::optional<std::string> envoy_node_id;
  std::optional<std::chrono::milliseconds> envoy_startup_hold;
  std::optional<DataPlaneTls> dataplane_tls;
  int tls_line = 0;
  std::vector<state::PeerInfo> peers;
  std::vector<int> peer_lines; // the line of each peer's name
  std::vector<state::Route> routes;
  std::optional<bool> admin_loopback_only;
  std::optional<std::size_t> rpc_max_message_bytes;
  std::optional<std::chrono::milliseconds> hold_time;
  std::optional<std::chrono::milliseconds> graceful_restart_time;
  int node_line = 0; // where `node:` is, for "node.id: required"
};

// Reads the YAML sections of docs/configuration.md into a Layer.
class FileReader {
public:
  FileReader(Reader& reader, Layer& layer) : r_(reader), layer_(layer) {}

  void read(const YAML::Node& root) {
    const Value top{root, "", lineOf(root)};
    for (const auto& [key, value] :
         r_.entries(top, {"node", "listen", "state_dir", "log_level", "dataplane", "peers",
                          "routes", "admin", "rpc", "peering"})) {
      if (key == "node") {
        readNode(value);
      } else if (key == "listen") {
        readListen(value);
      } else if (key == "state_dir") {
        layer_.state_dir = r_.checked(value, checkStateDir);
      } else if (key == "log_level") {
        layer_.log_level = r_.parsed<LogLevel>(value, parseLogLevel);
      } else if (key == "dataplane") {
        readDataPlane(value);
      } else if (key == "peers") {
        readPeers(value);
      } else if (key == "routes") {
        readRoutes(value);
      } else if (key == "admin") {
        readAdmin(value);
      } else if (key == "peering") {
        for (const auto& [k, v] : r_.entries(value, {"hold_time_ms", "graceful_restart_ms"})) {
          if (!v.node.IsScalar()) {
            r_.report(v, "expected an integer, got " + describeNode(v.node));
          } else if (k == "hold_time_ms") {
            layer_.hold_time = r_.parsed<std::chrono::milliseconds>(v, parseHoldTime);
          } else {
            layer_.graceful_restart_time =
                r_.parsed<std::chrono::milliseconds>(v, parseGracefulRestart);
          }
        }
      } else if (key == "rpc") {
        for (const auto& [k, v] : r_.entries(value, {"max_message_bytes"})) {
          if (!v.node.IsScalar()) {
            r_.report(v, "expected an integer, got " + describeNode(v.node));
          } else {
            layer_.rpc_max_message_bytes = r_.parsed<std::size_t>(v, parseMessageSize);
          }
        }
      }
    }
  }

private:
  void readNode(const Value& node) {
    layer_.node_line = node.line;
    for (const auto& [key, value] : r_.entries(node, {"id", "domains", "endpoint"})) {
      if (key == "id") {
        layer_.node_id = r_.checked(value, state::validateName);
      } else if (key == "domains") {
        layer_.domains = r_.stringList(value, state::validateName);
      } else if (key == "endpoint") {
        layer_.peering_endpoint = r_.checked(value, checkPeeringUrl);
      }
    }
  }

  void readListen(const Value& listen) {
    for (const auto& [key, value] : r_.entries(listen, {"address", "port"})) {
      if (key == "address") {
        layer_.listen_address = r_.checked(value, checkAddress);
      } else if (key == "port") {
        layer_.port = r_.port(value);
      }
    }
  }

  void readDataPlane(const Value& dataplane) {
    for (const auto& [key, value] : r_.entries(
             dataplane, {"mode", "address", "bind_address", "port_range", "workers",
                         "drain_timeout_ms", "udp_idle_timeout_ms", "splice", "envoy", "tls"})) {
      if (key == "envoy") {
        readEnvoy(value);
      } else if (key == "tls") {
        readTls(value);
      } else if (key == "bind_address") {
        layer_.dataplane_bind_address = r_.checked(value, checkAddress);
      } else if (key == "mode") {
        layer_.dataplane = r_.parsed<DataPlaneMode>(value, parseMode);
      } else if (key == "address") {
        layer_.envoy_address = r_.checked(value, checkAddress);
      } else if (key == "port_range") {
        layer_.envoy_port_range = r_.portRanges(value);
      } else if (key == "splice") {
        if (!value.node.IsScalar()) {
          r_.report(value, "expected true or false, got " + describeNode(value.node));
        } else {
          layer_.dataplane_splice = r_.parsed<bool>(value, parseBool);
        }
      } else if (!value.node.IsScalar()) {
        r_.report(value, "expected an integer, got " + describeNode(value.node));
      } else if (key == "workers") {
        layer_.dataplane_workers = r_.parsed<std::size_t>(value, parseWorkers);
      } else if (key == "drain_timeout_ms") {
        layer_.dataplane_drain_timeout =
            r_.parsed<std::chrono::milliseconds>(value, parseDrainTimeout);
      } else if (key == "udp_idle_timeout_ms") {
        layer_.dataplane_udp_idle_timeout =
            r_.parsed<std::chrono::milliseconds>(value, parseUdpIdleTimeout);
      }
    }
  }

  void readEnvoy(const Value& envoy) {
    for (const auto& [key, value] :
         r_.entries(envoy, {"files_dir", "xds_address", "xds_port", "admin_address", "admin_port",
                            "node_id", "startup_hold_ms"})) {
      if (key == "files_dir") {
        layer_.envoy_files_dir = r_.checked(value, checkStateDir);
      } else if (key == "xds_address") {
        layer_.envoy_xds_address = r_.checked(value, checkAddress);
      } else if (key == "xds_port") {
        layer_.envoy_xds_port = r_.port(value);
      } else if (key == "admin_address") {
        layer_.envoy_admin_address = r_.checked(value, checkAddress);
      } else if (key == "admin_port") {
        layer_.envoy_admin_port = r_.port(value);
      } else if (key == "node_id") {
        layer_.envoy_node_id = r_.checked(value, checkEnvoyNodeId);
      } else if (key == "startup_hold_ms") {
        layer_.envoy_startup_hold = r_.parsed<std::chrono::milliseconds>(value, parseStartupHold);
      }
    }
  }

  // All three files, or none.
  void readTls(const Value& tls) {
    layer_.tls_line = tls.line;
    DataPlaneTls files;
    bool ok = true;
    for (const auto& [key, value] :
         r_.entries(tls, {"certificate_chain", "private_key", "trusted_ca"})) {
      auto path = r_.checked(value, checkStateDir);
      ok = ok && path.has_value();
      std::string& field = key == "certificate_chain" ? files.certificate_chain
                           : key == "private_key"     ? files.private_key
                                                      : files.trusted_ca;
      field = path.value_or("");
    }
    for (const auto& [name, field] :
         {std::pair<const char*, const std::string*>{"certificate_chain", &files.certificate_chain},
          {"private_key", &files.private_key},
          {"trusted_ca", &files.trusted_ca}}) {
      if (ok && field->empty()) {
        r_.report(tls, fmt::format("{} is required (a PEM file)", name));
        ok = false;
      }
    }
    if (ok) {
      layer_.dataplane_tls = std::move(files);
    }
  }

  void readAdmin(const Value& admin) {
    for (const auto& [key, value] : r_.entries(admin, {"loopback_only"})) {
      layer_.admin_loopback_only = r_.boolean(value);
    }
  }

  void readPeers(const Value& peers) {
    std::unordered_map<std::string, int> first_line; // peer name -> line
    for (const auto& item : r_.list(peers).value_or(std::vector<Value>{})) {
      if (!item.node.IsMap()) {
        r_.report(item,
                  "expected a mapping with name and endpoint, got " + describeNode(item.node));
        continue;
      }
      state::PeerInfo peer;
      bool ok = true;
      int name_line = item.line;
      bool has_name = false;
      bool has_endpoint = false;
      for (const auto& [key, value] : r_.entries(item, {"name", "endpoint", "token", "domains"})) {
        if (key == "name") {
          has_name = true;
          name_line = value.line;
          auto name = r_.checked(value, state::validateName);
          if (name && !noteUnique(first_line, *name, value, "peer")) {
            name.reset();
          }
          ok = ok && name.has_value();
          peer.name = name.value_or("");
        } else if (key == "endpoint") {
          has_endpoint = true;
          peer.endpoint = r_.checked(value, checkPeeringUrl);
          ok = ok && peer.endpoint.has_value();
        } else if (key == "token") {
          peer.peer_token = r_.checked(value, checkToken);
          ok = ok && peer.peer_token.has_value();
        } else if (key == "domains") {
          auto domains = r_.stringList(value, state::validateName);
          ok = ok && domains.has_value();
          peer.domains = domains.value_or(std::vector<std::string>{});
        }
      }
      ok = requireKey(item, "name", has_name) && ok;
      ok = requireKey(item, "endpoint", has_endpoint) && ok;
      if (ok) {
        layer_.peers.push_back(std::move(peer));
        layer_.peer_lines.push_back(name_line);
      }
    }
  }

  void readRoutes(const Value& routes) {
    std::unordered_map<std::string, int> first_line; // route name -> line
    for (const auto& item : r_.list(routes).value_or(std::vector<Value>{})) {
      if (!item.node.IsMap()) {
        r_.report(item, "expected a mapping with a name, got " + describeNode(item.node));
        continue;
      }
      state::Route route;
      bool ok = true;
      bool has_name = false;                         // a name that is a string
      std::unordered_map<std::string, Value> fields; // for locating validateRoute's findings
      for (const auto& [key, value] :
           r_.entries(item, {"name", "endpoint", "protocol", "region", "tags"})) {
        fields.emplace(key, value);
        if (key == "name") {
          auto name = r_.string(value);
          has_name = name.has_value();
          ok = ok && has_name;
          route.name = name.value_or("");
        } else if (key == "endpoint") {
          route.endpoint = r_.checked(value, checkServiceUrl);
          ok = ok && route.endpoint.has_value();
        } else if (key == "protocol") {
          auto protocol = r_.parsed<state::Protocol>(value, parseRouteProtocol);
          ok = ok && protocol.has_value();
          route.protocol = protocol.value_or(state::Protocol::Http);
        } else if (key == "region") {
          route.region = r_.string(value);
          ok = ok && route.region.has_value();
        } else if (key == "tags") {
          auto tags = r_.stringList(value, [](std::string_view) { return Status{}; });
          ok = ok && tags.has_value();
          route.tags = tags.value_or(std::vector<std::string>{});
        }
      }
      ok = requireKey(item, "name", fields.contains("name")) && ok;
      if (has_name && !validateRouteFields(route, item, fields)) {
        ok = false;
      }
      // Duplicates are looked for among every well-formed name, whatever the other fields.
      if (has_name && state::validateName(route.name) &&
          !noteUnique(first_line, route.name, fields.at("name"), "route")) {
        ok = false;
      }
      if (ok) {
        layer_.routes.push_back(std::move(route));
      }
    }
  }

  // Runs state::validateRoute over `route`, reporting each finding at the field it names. A
  // field found bad is reset and the check repeated, so every bad field is reported.
  bool validateRouteFields(state::Route route, const Value& item,
                           const std::unordered_map<std::string, Value>& fields) {
    bool ok = true;
    for (int round = 0; round < 8; ++round) {
      auto status = state::validateRoute(route);
      if (status) {
        break;
      }
      ok = false;
      const std::string& message = status.error().message;
      const auto colon = message.find(": ");
      const std::string field = colon == std::string::npos ? "" : message.substr(0, colon);
      const auto at = fields.find(field);
      if (at == fields.end()) {
        r_.report(item, message);
        break;
      }
      r_.report(at->second, message.substr(colon + 2));
      if (field == "name") {
        route.name = "x";
      } else if (field == "endpoint") {
        route.endpoint.reset();
      } else if (field == "region") {
        route.region.reset();
      } else if (field == "tags") {
        route.tags.clear();
      } else {
        break;
      }
    }
    return ok;
  }

  bool requireKey(const Value& item, std::string_view key, bool present) {
    if (!present) {
      r_.report(item.line, childPath(item.path, key), "required");
    }
    return present;
  }

  // Records that `name` is taken, or reports where it was first.
  bool noteUnique(std::unordered_map<std::string, int>& first_line, const std::string& name,
                  const Value& at, std::string_view what) {
    auto [it, inserted] = first_line.emplace(name, at.line);
    if (!inserted) {
      r_.report(
          at, fmt::format("duplicate {} name {} (first at line {})", what, echo(name), it->second));
    }
    return inserted;
  }

  Reader& r_;
  Layer& layer_;
};

// ---------------------------------------------------------------------------------------------
// The environment layer.

std::vector<std::string> splitCommaList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      out.emplace_back(item);
    }
  }
  return out;
}

// Records where each document of a YAML stream starts, and nothing else.
class DocumentStarts : public YAML::EventHandler {
public:
  const std::vector<YAML::Mark>& starts() const { return starts_; }

  void OnDocumentStart(const YAML::Mark& mark) override { starts_.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

private:
  std::vector<YAML::Mark> starts_;
};

// Parses `text` (YAML, or JSON as a subset of it; `language` names it in messages) into its
// single document, a null node when there is none. Reports what prevents it.
std::optional<YAML::Node> parseYaml(std::string_view text, std::string_view language,
                                    Reader& reader) {
  if (text.size() > kMaxConfigFileSize) {
    reader.report(0, "", fmt::format("larger than {} bytes", kMaxConfigFileSize));
    return std::nullopt;
  }
  if (auto line = nestingBeyond(text, kMaxConfigNesting)) {
    reader.report(*line, "", fmt::format("nested deeper than {} levels", kMaxConfigNesting));
    return std::nullopt;
  }
  const std::string copy(text);
  try {
    // Count the documents first, stopping at the second. yaml-cpp 0.7 yields empty documents
    // forever, without advancing, when one starts with a stray ',' (so YAML::LoadAll never
    // returns); a second document starting where the first did is that case.
    std::istringstream stream(copy);
    YAML::Parser parser(stream);
    DocumentStarts documents;
    while (documents.starts().size() < 2 && parser.HandleNextDocument(documents)) {
    }
    if (documents.starts().size() == 2) {
      const YAML::Mark& first = documents.starts()[0];
      const YAML::Mark& second = documents.starts()[1];
      const auto pos = static_cast<std::size_t>(second.pos);
      if (second.pos == first.pos && pos < text.size()) {
        reader.report(
            second.line + 1, "",
            fmt::format("invalid {}: unexpected {}", language, echo(text.substr(pos, 1))));
      } else {
        reader.report(second.line + 1, "",
                      fmt::format("more than one {} document (expected one)", language));
      }
      return std::nullopt;
    }
    return YAML::Load(copy);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    reader.report(line, "", fmt::format("invalid {}: {}", language, e.msg));
  }
  return std::nullopt;
}

class EnvReader {
public:
  EnvReader(const Env& env, Layer& layer, Sink& sink) : env_(env), layer_(layer), sink_(sink) {}

  void read() {
    layer_.node_id = checked("CATALYST_NODE_ID", state::validateName);
    layer_.port = parsed<uint16_t>("PORT", parsePort);
    layer_.peering_endpoint = checked("CATALYST_PEERING_ENDPOINT", checkPeeringUrl);
    layer_.state_dir = checked("CATALYST_STATE_DIR", checkStateDir);
    layer_.dataplane = parsed<DataPlaneMode>("CATALYST_DATAPLANE", parseMode);
    layer_.envoy_address = checked("CATALYST_ENVOY_ADDRESS", checkAddress);
    layer_.log_level = parsed<LogLevel>("CATALYST_LOG_LEVEL", parseLogLevel);
    layer_.hold_time = parsed<std::chrono::milliseconds>("CATALYST_HOLD_TIME_MS", parseHoldTime);
    layer_.dataplane_workers = parsed<std::size_t>("CATALYST_DATAPLANE_WORKERS", parseWorkers);
    layer_.dataplane_bind_address = checked("CATALYST_DATAPLANE_BIND_ADDRESS", checkAddress);
    layer_.envoy_xds_port = parsed<uint16_t>("CATALYST_ENVOY_XDS_PORT", parsePort);
    readDomains();
    readPortRange();
  }

private:
  // The value of `name`; unset and empty are alike.
  std::optional<std::string> get(const char* name) const {
    auto it = env_.find(name);
    if (it == env_.end() || it->second.empty()) {
      return std::nullopt;
    }
    return it->second;
  }

  void report(const char* name, std::string message) {
    sink_.add(Problem{fmt::format("env {}", name), 0, "", std::move(message)});
  }

  template <class Check> std::optional<std::string> checked(const char* name, Check check) {
    auto text = get(name);
    if (!text) {
      return std::nullopt;
    }
    if (auto status = check(*text); !status) {
      report(name, status.error().message);
      return std::nullopt;
    }
    return text;
  }

  template <class T, class Parse> std::optional<T> parsed(const char* name, Parse parse) {
    auto text = get(name);
    if (!text) {
      return std::nullopt;
    }
    Result<T> result = parse(*text);
    if (!result) {
      report(name, result.error().message);
      return std::nullopt;
    }
    return *result;
  }

  void readDomains() {
    auto text = get("CATALYST_DOMAINS");
    if (!text) {
      return;
    }
    std::vector<std::string> domains = splitCommaList(*text);
    bool ok = true;
    for (const auto& domain : domains) {
      if (auto status = state::validateName(domain); !status) {
        report("CATALYST_DOMAINS", echo(domain) + ": " + status.error().message);
        ok = false;
      }
    }
    if (ok) {
      layer_.domains = std::move(domains);
    }
  }

  void readPortRange() {
    constexpr const char* kName = "CATALYST_ENVOY_PORT_RANGE";
    auto text = get(kName);
    if (!text) {
      return;
    }
    Reader reader(fmt::format("env {}", kName), false, sink_);
    auto root = parseYaml(*text, "JSON", reader);
    if (!root) {
      return;
    }
    if (!root->IsSequence()) {
      reader.report(0, "",
                    "expected a JSON list of ports and [first,last] ranges such as "
                    "[[10000,10099],10200], got " +
                        describeNode(*root));
      return;
    }
    layer_.envoy_port_range = reader.portRanges(Value{*root, "", 0});
  }

  const Env& env_;
  Layer& layer_;
  Sink& sink_;
};

void readEnvironment(const Env& env, Layer& layer, Sink& sink) {
  sink.visits = 0;
  try {
    EnvReader(env, layer, sink).read();
  } catch (const YAML::Exception& e) {
    sink.add(Problem{"env CATALYST_ENVOY_PORT_RANGE", 0, "", "cannot read: " + e.msg}, true);
  } catch (const TooComplex&) {
    sink.add(Problem{"env CATALYST_ENVOY_PORT_RANGE", 0, "",
                     fmt::format("more than {} values", kMaxVisits)},
             true);
  }
}

// ---------------------------------------------------------------------------------------------
// Putting it together.

template <class T> void overrideWith(T& target, const std::optional<T>& value) {
  if (value) {
    target = *value;
  }
}

// Loads `yaml` (when given, named `source_name`) and `env` into a NodeConfig.
ConfigResult load(const std::optional<std::string_view>& yaml, const std::string& source_name,
                  const Env& env) {
  Sink sink;
  Layer file;
  bool file_read = false; // the file was read as a mapping to the end, so its node.id is known
  if (yaml) {
    Reader reader(source_name, true, sink);
    try {
      if (auto root = parseYaml(*yaml, "YAML", reader)) {
        if (root->IsNull()) {
          reader.report(1, "", "empty config (expected a mapping such as 'node: {id: my-node}')");
        } else if (!root->IsMap()) {
          reader.report(std::max(lineOf(*root), 1), "",
                        "expected a mapping of sections (node, listen, ...) at the top, got " +
                            describeNode(*root));
        } else {
          file_read = true;
          FileReader(reader, file).read(*root);
        }
      }
    } catch (const YAML::Exception& e) {
      file_read = false;
      reader.report(e.mark.is_null() ? 0 : e.mark.line + 1, "", "cannot read YAML: " + e.msg);
    } catch (const TooComplex&) {
      file_read = false;
      sink.add(Problem{source_name, 0, "",
                       fmt::format("more than {} values (aliases count each time they are used)",
                                   kMaxVisits)},
               true);
    }
  }
  Layer environment;
  readEnvironment(env, environment, sink);
  std::vector<Problem>& problems = sink.problems;

  NodeConfig config;
  for (const Layer* layer : {&file, &environment}) {
    overrideWith(config.node_id, layer->node_id);
    overrideWith(config.domains, layer->domains);
    overrideWith(config.peering_endpoint, layer->peering_endpoint);
    overrideWith(config.listen_address, layer->listen_address);
    overrideWith(config.port, layer->port);
    overrideWith(config.state_dir, layer->state_dir);
    overrideWith(config.log_level, layer->log_level);
    overrideWith(config.dataplane, layer->dataplane);
    overrideWith(config.envoy_address, layer->envoy_address);
    overrideWith(config.envoy_port_range, layer->envoy_port_range);
    overrideWith(config.dataplane_workers, layer->dataplane_workers);
    overrideWith(config.dataplane_drain_timeout, layer->dataplane_drain_timeout);
    overrideWith(config.dataplane_udp_idle_timeout, layer->dataplane_udp_idle_timeout);
    overrideWith(config.dataplane_splice, layer->dataplane_splice);
    overrideWith(config.dataplane_bind_address, layer->dataplane_bind_address);
    overrideWith(config.envoy.files_dir, layer->envoy_files_dir);
    overrideWith(config.envoy.xds_address, layer->envoy_xds_address);
    overrideWith(config.envoy.xds_port, layer->envoy_xds_port);
    overrideWith(config.envoy.admin_address, layer->envoy_admin_address);
    overrideWith(config.envoy.admin_port, layer->envoy_admin_port);
    overrideWith(config.envoy.node_id, layer->envoy_node_id);
    overrideWith(config.envoy.startup_hold, layer->envoy_startup_hold);
    if (layer->dataplane_tls) {
      config.dataplane_tls = layer->dataplane_tls;
    }
    overrideWith(config.admin_loopback_only, layer->admin_loopback_only);
    overrideWith(config.rpc_max_message_bytes, layer->rpc_max_message_bytes);
    overrideWith(config.hold_time, layer->hold_time);
    overrideWith(config.graceful_restart_time, layer->graceful_restart_time);
  }
  config.peers = std::move(file.peers);
  config.routes = std::move(file.routes);

  // A node id is required; a bad one was reported already.
  const bool id_reported = std::any_of(problems.begin(), problems.end(), [](const Problem& p) {
    return p.field == "node" || p.field == "node.id" || p.source == "env CATALYST_NODE_ID";
  });
  if (config.node_id.empty() && !id_reported && (file_read || !yaml)) {
    if (yaml) {
      sink.add(Problem{source_name, std::max(file.node_line, 1), "node.id",
                       "required (set it here or in CATALYST_NODE_ID)"});
    } else {
      sink.add(Problem{"env CATALYST_NODE_ID", 0, "", "required when no config file is given"});
    }
  }
  if (config.dataplane_tls && config.dataplane == DataPlaneMode::Embedded) {
    sink.add(Problem{source_name, file.tls_line, "dataplane.tls",
                     "needs an Envoy data plane (mode envoy-xds or envoy-files); the embedded "
                     "data plane does not do TLS"});
  }
  for (std::size_t i = 0; i < config.peers.size(); ++i) {
    if (!config.node_id.empty() && config.peers[i].name == config.node_id) {
      sink.add(Problem{source_name, file.peer_lines[i], indexPath("peers", i) + ".name",
                       "is this node's own id " + echo(config.node_id)});
    }
  }

  if (!problems.empty()) {
    // File problems first, in line order; then the environment's.
    std::stable_sort(problems.begin(), problems.end(), [&](const Problem& a, const Problem& b) {
      const bool a_env = a.source != source_name;
      const bool b_env = b.source != source_name;
      return a_env != b_env ? b_env : (!a_env && a.line < b.line);
    });
    if (sink.hidden > 0) {
      problems.push_back(
          Problem{problems.back().source, 0, "", fmt::format("{} more problems", sink.hidden)});
    }
    return ConfigError{std::move(problems)};
  }

  if (config.peering_endpoint.empty()) {
    config.peering_endpoint = fmt::format("ws://127.0.0.1:{}/rpc", config.port);
  }
  if (config.state_dir.empty()) {
    config.state_dir = "./var/" + config.node_id;
  }
  config.dataplane_bind_address = config.bindAddress();
  config.envoy.files_dir = config.envoyFilesDir();
  config.envoy.node_id = config.envoyNodeId();
  return config;
}

// The content of `path`, or the problem that prevented reading it.
Result<std::string> readFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return unavailable("cannot read: is a directory");
  }
  // fopen rather than ifstream: a failure leaves its reason in errno. Owned at once.
  // NOLINTBEGIN(cppcoreguidelines-owning-memory)
  const auto close = [](std::FILE* f) { std::fclose(f); };
  std::unique_ptr<std::FILE, decltype(close)> file(std::fopen(path.c_str(), "rb"), close);
  // NOLINTEND(cppcoreguidelines-owning-memory)
  if (!file) {
    return unavailable("cannot read: " + std::generic_category().message(errno));
  }
  std::string content;
  std::array<char, 65536> buffer{};
  while (true) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    content.append(buffer.data(), n);
    if (content.size() > kMaxConfigFileSize) {
      return invalidArgument(fmt::format("larger than {} bytes", kMaxConfigFileSize));
    }
    if (n < buffer.size()) {
      if (std::ferror(file.get()) != 0) {
        return unavailable("cannot read: " + std::generic_category().message(errno));
      }
      break;
    }
  }
  return content;
}

} // namespace

std::string Problem::toString() const {
  std::string out = source;
  if (line > 0) {
    out += fmt::format(":{}", line);
  }
  if (!field.empty()) {
    out += ": " + field;
  }
  out += ": " + message;
  return out;
}

std::string formatProblems(const ConfigError& error) {
  std::string out;
  for (const auto& problem : error.problems) {
    out += problem.toString() + "\n";
  }
  return out;
}

Error toError(const ConfigError& error) {
  std::string message = formatProblems(error);
  if (!message.empty()) {
    message.pop_back();
  }
  return invalidArgument(std::move(message));
}

void throw_exception_from_error(const ConfigError& error, const boost::source_location&) {
  throw std::invalid_argument(toError(error).message);
}

Env envFromEnviron(const char* const* envp) {
  Env env;
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    std::string_view entry(*envp);
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos) {
      env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
  }
  return env;
}

ConfigResult loadConfigFromString(std::string_view yaml, std::string_view source_name,
                                  const Env& env) {
  return load(yaml, std::string(source_name), env);
}

ConfigResult loadConfig(const ConfigSource& source) {
  if (!source.file) {
    return load(std::nullopt, "", source.env);
  }
  const std::string name = source.file->string();
  auto content = readFile(*source.file);
  if (!content) {
    // The environment's own problems are worth knowing at the same time.
    Sink sink;
    sink.add(Problem{name, 0, "", content.error().message});
    Layer environment;
    readEnvironment(source.env, environment, sink);
    return ConfigError{std::move(sink.problems)};
  }
  return load(std::string_view(*content), name, source.env);
}

int checkConfigMain(const std::string& path, const Env& env, std::ostream& out, std::ostream& err) {
  auto config = loadConfig(ConfigSource{std::filesystem::path(path), env});
  if (!config) {
    err << formatProblems(config.error());
    return 1;
  }
  out << fmt::format("ok: {}: node {}, {} peers, {} routes\n", path, config->node_id,
                     config->peers.size(), config->routes.size());
  return 0;
}

} // namespace catalyst::config
