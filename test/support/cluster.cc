#include "support/cluster.h"

#include <algorithm>
#include <csignal>
#include <mutex>
#include <random>
#include <stdexcept>

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "catalyst/auth/token_authority.h"
#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/target.h"
#include "catalyst/rpcnet/client.h"

namespace catalyst::test {

namespace json = boost::json;

struct Cluster::Node {
  std::string name;
  NodeOptions options;
  uint16_t port = 0;
  std::optional<std::pair<uint16_t, uint16_t>> data_ports;
  std::string state_dir;
  std::vector<std::string> peers;
  std::unique_ptr<Process> process;
};

Cluster::Cluster(std::string binary) : binary_(std::move(binary)) {}

Cluster::~Cluster() {
  for (auto& [name, node] : nodes_) {
    if (node->process) {
      node->process->signal(SIGKILL);
      node->process->waitFor(std::chrono::seconds(5));
    }
  }
}

void Cluster::add(const std::string& name, NodeOptions options) {
  auto node = std::make_unique<Node>();
  node->name = name;
  node->options = std::move(options);
  node->port = freePort();
  if (node->options.data_ports > 0) {
    const uint16_t first = freePortRange(node->options.data_ports);
    node->data_ports.emplace(first, static_cast<uint16_t>(first + node->options.data_ports - 1));
  }
  node->state_dir = dir_.path() + "/" + name;
  nodes_.emplace(name, std::move(node));
}

void Cluster::link(const std::string& a, const std::string& b) {
  nodes_.at(a)->peers.push_back(b);
  nodes_.at(b)->peers.push_back(a);
}

void Cluster::linkOneWay(const std::string& a, const std::string& b) {
  nodes_.at(a)->peers.push_back(b);
}

rpc::Value Cluster::peerArg(const std::string& name, const std::string& peer) const {
  return rpc::object({{"name", id(peer)},
                      {"domains", rpc::Array{}},
                      {"endpoint", fmt::format("ws://127.0.0.1:{}/rpc", port(peer))},
                      {"peerToken", mint(peer, id(name))}});
}

std::string Cluster::mint(const std::string& issuer, const std::string& subject,
                          const std::string& role, std::chrono::seconds ttl,
                          std::optional<int64_t> now_unix) const {
  Result<auth::TokenAuthority> authority =
      auth::TokenAuthority::loadOrCreate(stateDir(issuer), id(issuer));
  if (!authority) {
    throw std::runtime_error(authority.error().message);
  }
  auth::MintRequest request;
  request.subject = subject;
  request.role = *auth::parseRole(role);
  request.ttl = ttl;
  request.now_unix = now_unix.value_or(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  Result<std::string> token = authority->mint(request);
  if (!token) {
    throw std::runtime_error(token.error().message);
  }
  return *token;
}

std::string Cluster::adminToken(const std::string& name) const {
  return mint(name, "operator", "admin");
}

std::string Cluster::writeConfig(const Node& node) const {
  std::string yaml = fmt::format("node:\n  id: {}\n  domains: [example.local]\n"
                                 "  endpoint: ws://127.0.0.1:{}/rpc\n"
                                 "listen:\n  address: 127.0.0.1\n  port: {}\n"
                                 "state_dir: {}\nlog_level: {}\n"
                                 "dataplane:\n  mode: {}\n  address: 127.0.0.1\n",
                                 id(node.name), node.port, node.port, node.state_dir,
                                 node.options.log_level, node.options.dataplane);
  if (node.data_ports) {
    yaml +=
        fmt::format("  port_range: [[{}, {}]]\n", node.data_ports->first, node.data_ports->second);
  }
  yaml += node.options.dataplane_yaml;
  yaml += fmt::format("peering:\n  hold_time_ms: {}\n", node.options.hold_time.count());
  if (node.options.graceful_restart) {
    yaml += fmt::format("  graceful_restart_ms: {}\n", node.options.graceful_restart->count());
  }
  if (!node.peers.empty()) {
    yaml += "peers:\n";
    for (const std::string& peer : node.peers) {
      yaml += fmt::format("  - name: {}\n    endpoint: ws://127.0.0.1:{}/rpc\n    token: {}\n",
                          id(peer), nodes_.at(peer)->port, mint(peer, id(node.name)));
    }
  }
  if (!node.options.routes.empty()) {
    yaml += "routes:\n";
    for (const std::string& route : node.options.routes) {
      yaml += fmt::format("  - {{name: {}, endpoint: 'http://127.0.0.1:9/{}', protocol: http}}\n",
                          route, route);
    }
  }
  yaml += node.options.extra_yaml;
  return dir_.write(node.name + ".yaml", yaml);
}

void Cluster::start(const std::string& name) {
  Node& node = *nodes_.at(name);
  const std::string config = writeConfig(node);
  node.process = std::make_unique<Process>(std::vector<std::string>{binary_, "--config", config});
  const bool up = eventually(
      [&] {
        auto reply = httpGet(node.port, "/health");
        return reply && reply->status == 200;
      },
      std::chrono::seconds(20));
  if (!up) {
    throw std::runtime_error("node " + name + " did not start: " + node.process->errors());
  }
}

void Cluster::startAll() {
  for (auto& [name, node] : nodes_) {
    start(name);
  }
}

void Cluster::stop(const std::string& name) {
  Node& node = *nodes_.at(name);
  node.process->signal(SIGTERM);
  node.process->waitFor(std::chrono::seconds(20));
}

void Cluster::kill(const std::string& name) {
  Node& node = *nodes_.at(name);
  node.process->signal(SIGKILL);
  node.process->waitFor(std::chrono::seconds(20));
}

void Cluster::signal(const std::string& name, int sig) { nodes_.at(name)->process->signal(sig); }

bool Cluster::running(const std::string& name) const {
  const Node& node = *nodes_.at(name);
  return node.process && !node.process->waitFor(std::chrono::milliseconds(0));
}

uint16_t Cluster::port(const std::string& name) const { return nodes_.at(name)->port; }
std::optional<std::pair<uint16_t, uint16_t>> Cluster::dataPorts(const std::string& name) const {
  return nodes_.at(name)->data_ports;
}
std::string Cluster::stateDir(const std::string& name) const { return nodes_.at(name)->state_dir; }
Process& Cluster::process(const std::string& name) { return *nodes_.at(name)->process; }
std::string Cluster::log(const std::string& name) { return nodes_.at(name)->process->errors(); }

json::value Cluster::state(const std::string& name) const {
  auto reply = httpGet(port(name), "/api/state");
  if (!reply || reply->status != 200) {
    return nullptr;
  }
  boost::system::error_code ec;
  json::value v = json::parse(reply->body, ec);
  return ec ? json::value(nullptr) : v;
}

json::value Cluster::learned(const std::string& name, const std::string& route,
                             const std::string& origin) const {
  json::value s = state(name);
  if (!s.is_object()) {
    return nullptr;
  }
  for (const json::value& r : s.at("routes").at("internal").as_array()) {
    if (r.at("name").as_string() == route && r.at("originNode").as_string() == origin) {
      return r;
    }
  }
  return nullptr;
}

std::size_t Cluster::learnedCount(const std::string& name) const {
  json::value s = state(name);
  return s.is_object() ? s.at("routes").at("internal").as_array().size() : 0;
}

json::value Cluster::local(const std::string& name, const std::string& route) const {
  json::value s = state(name);
  if (!s.is_object()) {
    return nullptr;
  }
  for (const json::value& r : s.at("routes").at("local").as_array()) {
    if (r.at("name").as_string() == route) {
      return r;
    }
  }
  return nullptr;
}

namespace {

std::optional<uint16_t> envoyPortOf(const json::value& route) {
  const json::object* r = route.if_object();
  const json::value* port = r != nullptr ? r->if_contains("envoyPort") : nullptr;
  if (port == nullptr || !port->is_number()) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port->to_number<int64_t>());
}

} // namespace

std::optional<uint16_t> Cluster::ingressPort(const std::string& name,
                                             const std::string& route) const {
  return envoyPortOf(local(name, route));
}

std::optional<uint16_t> Cluster::egressPort(const std::string& name, const std::string& route,
                                            const std::string& origin) const {
  return envoyPortOf(learned(name, route, origin));
}

std::string Cluster::metrics(const std::string& name) const {
  auto reply = httpGet(port(name), "/metrics");
  return reply ? reply->body : "";
}

double Cluster::metric(const std::string& name, const std::string& sample) const {
  const std::string text = metrics(name);
  std::size_t at = 0;
  while ((at = text.find(sample, at)) != std::string::npos) {
    const bool line_start = at == 0 || text[at - 1] == '\n';
    const std::size_t after = at + sample.size();
    if (line_start && after < text.size() && text[after] == ' ') {
      return std::stod(text.substr(after + 1, text.find('\n', after) - after - 1));
    }
    at = after;
  }
  return 0;
}

rpc::Value Cluster::admin(const std::string& name, const std::string& factory,
                          const std::string& method, rpc::Value arg) const {
  return batchCall(port(name), factory, adminToken(name), method, std::move(arg));
}

uint16_t freePortRange(std::size_t count) {
  // Below Linux's default ephemeral range (32768-60999: what port 0 and outgoing connections
  // take), from a random start so that tests running in parallel rarely pick the same ports.
  constexpr int kLow = 20000;
  constexpr int kHigh = 32000;
  if (count == 0 || count > 5000) {
    throw std::invalid_argument("freePortRange: 1 to 5000 ports");
  }
  std::random_device seed;
  std::mt19937 random(seed());
  std::uniform_int_distribution<int> first_of(kLow, kHigh - static_cast<int>(count));
  auto free = [](int type, int port) {
    const int fd = ::socket(AF_INET, type, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0; // NOLINT
    ::close(fd);
    return ok;
  };
  // Ranges handed out before in this process are not free yet when nothing has bound them.
  static std::mutex mutex;
  static std::vector<std::pair<int, int>> given;
  const std::lock_guard lock(mutex);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int first = first_of(random);
    const int last = first + static_cast<int>(count) - 1;
    bool all = std::none_of(given.begin(), given.end(),
                            [&](const auto& g) { return first <= g.second && g.first <= last; });
    for (int p = first; all && p < first + static_cast<int>(count); ++p) {
      all = free(SOCK_STREAM, p) && free(SOCK_DGRAM, p);
    }
    if (all) {
      given.emplace_back(first, last);
      return static_cast<uint16_t>(first);
    }
  }
  throw std::runtime_error(fmt::format("no {} consecutive free ports found", count));
}

rpc::Value batchCall(uint16_t port, const std::string& factory, const std::string& token,
                     const std::string& method, rpc::Value arg) {
  RealTimeSource time;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time);
  rpc::Value result;
  {
    rpcnet::BatchClient batch(*dispatcher, fmt::format("http://127.0.0.1:{}/rpc", port));
    rpc::Stub client = batch.main().call(factory, rpc::Array{token});
    rpc::Promise<rpc::Value> factory_answer = rpc::pull(client);
    rpc::Promise<rpc::Value> answer =
        rpc::pull(client.get("client").call(method, rpc::Array{std::move(arg)}));
    rpc::Promise<bool> sent = batch.send();
    const bool done = eventually(
        [&] {
          dispatcher->poll();
          return sent.settled() && factory_answer.settled() && answer.settled();
        },
        std::chrono::seconds(20));
    if (!done) {
      throw std::runtime_error("batch call did not complete");
    }
    if (factory_answer.outcome().ok() && factory_answer.outcome().value->find("success") &&
        factory_answer.outcome().value->find("success")->is<bool>() &&
        !*factory_answer.outcome().value->find("success")->as<bool>()) {
      result = *factory_answer.outcome().value; // the factory refused: its answer says why
    } else if (answer.outcome().ok()) {
      result = *answer.outcome().value;
    } else {
      result = rpc::object(
          {{"success", false}, {"error", "rejected: " + answer.outcome().error.debugString()}});
    }
  }
  dispatcher->poll();
  return result;
}

bool succeeded(const rpc::Value& answer) {
  const rpc::Value* ok = answer.find("success");
  return ok != nullptr && ok->is<bool>() && *ok->as<bool>();
}

rpc::Value routeArg(const std::string& name, const std::string& endpoint,
                    const std::string& protocol) {
  return rpc::object({{"name", name}, {"endpoint", endpoint}, {"protocol", protocol}});
}

} // namespace catalyst::test
