#include "catalyst/rpcnet/endpoint.h"

#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "catalyst/transport/websocket_impl.h"

namespace catalyst::rpcnet {
namespace {

// Collects what a batch session sends, for the response body.
class CollectingTransport : public rpc::MessageTransport {
public:
  void setHandler(Handler& handler) override { handler_ = &handler; }
  void send(std::string message) override {
    if (!closed_) {
      sent_.push_back(std::move(message));
    }
  }
  void close(uint16_t /*code*/, std::string /*reason*/) override { closed_ = true; }

  Handler& handler() { return *handler_; }
  std::string body() const {
    std::string out;
    for (std::size_t i = 0; i < sent_.size(); ++i) {
      if (i != 0) {
        out.push_back('\n');
      }
      out += sent_[i];
    }
    return out;
  }

private:
  Handler* handler_ = nullptr;
  std::vector<std::string> sent_;
  bool closed_ = false;
};

struct Batch {
  CollectingTransport transport; // declared first: the session refers to it
  std::unique_ptr<rpc::Session> session;
  event::TimerPtr timeout;
};

struct Connection {
  rpc::MessageTransportPtr transport; // declared first: the session refers to it
  std::unique_ptr<rpc::Session> session;
};

} // namespace

class RpcEndpoint::Impl : public std::enable_shared_from_this<Impl> {
public:
  Impl(event::Dispatcher& dispatcher, MainFactory make_main, RpcEndpointOptions options,
       Logger& logger)
      : dispatcher_(dispatcher), make_main_(std::move(make_main)), options_(options),
        logger_(logger) {}

  void onUpgrade(boost::asio::ip::tcp::socket socket, admin::UpgradeRequest request) {
    if (connections_.size() >= options_.max_sessions) {
      ++stats_.websocket_rejected;
      logger_.warn("rpc: refused a WebSocket session: {} open already", connections_.size());
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
    auto conn = std::make_unique<Connection>();
    conn->transport = transport::acceptWebSocket(dispatcher_, std::move(socket), std::move(request),
                                                 options_.websocket);
    const uint64_t id = next_id_++;
    conn->session = std::make_unique<rpc::Session>(
        *conn->transport, make_main_(SessionInfo{id, true}), options_.session);
    std::weak_ptr<Impl> weak = weak_from_this();
    conn->session->onTransportClosed([this, weak, id]() {
      // Destroyed outside the transport's callback.
      dispatcher_.post([weak, id]() {
        if (auto self = weak.lock()) {
          self->retire(id);
        }
      });
    });
    ++stats_.websocket_sessions;
    connections_.emplace(id, std::move(conn));
  }

  void onBatch(const admin::HttpRequest& request, admin::HttpResponder respond) {
    ++stats_.batches;
    const uint64_t id = next_id_++;
    auto batch = std::make_unique<Batch>();
    batch->session = std::make_unique<rpc::Session>(
        batch->transport, make_main_(SessionInfo{id, false}), options_.session);
    Batch& b = *batch;
    batches_.emplace(id, std::move(batch));

    std::string_view body = request.body;
    while (!body.empty() && !b.session->broken()) {
      const std::size_t nl = body.find('\n');
      std::string_view line = body.substr(0, nl);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      if (!line.empty()) {
        b.transport.handler().onMessage(line, true);
      }
      body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    }

    std::weak_ptr<Impl> weak = weak_from_this();
    b.timeout = dispatcher_.createTimer([weak, id]() {
      if (auto self = weak.lock()) {
        auto it = self->batches_.find(id);
        if (it != self->batches_.end()) {
          ++self->stats_.batch_timeouts;
          it->second->session->abort("batch did not complete in time");
        }
      }
    });
    b.timeout->enable(options_.batch_timeout);
    b.session->drain().then([weak, id, respond](const rpc::Settled<bool>&) {
      auto self = weak.lock();
      if (!self) {
        return;
      }
      auto it = self->batches_.find(id);
      if (it == self->batches_.end()) {
        return;
      }
      admin::HttpResponse response;
      response.status = 200;
      response.content_type.clear(); // as capnweb's nodeHttpBatchRpcResponse: none
      response.body = it->second->transport.body();
      respond(std::move(response));
      if (it->second->session->stats().protocol_errors > 0) {
        ++self->stats_.aborts;
      }
      // The session ends with the response; it is destroyed outside this callback.
      self->dispatcher_.post([weak, id]() {
        if (auto s = weak.lock()) {
          s->batches_.erase(id);
        }
      });
    });
  }

  void retire(uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      return;
    }
    if (it->second->session->stats().protocol_errors > 0) {
      ++stats_.aborts;
    }
    connections_.erase(it);
    if (on_closed_) {
      on_closed_(id);
    }
  }

  void closeSession(uint64_t id, const std::string& reason) {
    auto it = connections_.find(id);
    if (it != connections_.end()) {
      it->second->session->shutdown(reason);
    }
  }

  void onSessionClosed(ClosedCallback cb) { on_closed_ = std::move(cb); }

  void closeAll(const std::string& reason) {
    for (auto& [id, conn] : connections_) {
      conn->session->shutdown(reason);
    }
  }

  RpcEndpointStats stats() const {
    RpcEndpointStats s = stats_;
    s.websocket_active = connections_.size();
    return s;
  }

  ~Impl() {
    // Sessions go before their transports (members of each connection are ordered so).
    connections_.clear();
    batches_.clear();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

private:
  event::Dispatcher& dispatcher_;
  MainFactory make_main_;
  ClosedCallback on_closed_;
  RpcEndpointOptions options_;
  Logger& logger_;
  RpcEndpointStats stats_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::map<uint64_t, std::unique_ptr<Batch>> batches_;
};

RpcEndpoint::RpcEndpoint(event::Dispatcher& dispatcher, admin::HttpServer& server, std::string path,
                         MainFactory make_main, RpcEndpointOptions options, Logger& logger)
    : impl_(std::make_shared<Impl>(dispatcher, std::move(make_main), options, logger)) {
  std::weak_ptr<Impl> weak = impl_;
  server.impl().addUpgradeRoute(
      path, [weak](boost::asio::ip::tcp::socket socket, admin::UpgradeRequest request) {
        if (auto self = weak.lock()) {
          self->onUpgrade(std::move(socket), std::move(request));
        }
      });
  server.addAsyncRoute(admin::HttpMethod::Post, std::move(path),
                       [weak](const admin::HttpRequest& request, admin::HttpResponder respond) {
                         if (auto self = weak.lock()) {
                           self->onBatch(request, std::move(respond));
                         } else {
                           respond(admin::jsonError(503, "RPC endpoint is shut down"));
                         }
                       });
}

RpcEndpoint::~RpcEndpoint() = default;

void RpcEndpoint::closeAll(const std::string& reason) { impl_->closeAll(reason); }

void RpcEndpoint::closeSession(uint64_t id, const std::string& reason) {
  impl_->closeSession(id, reason);
}

void RpcEndpoint::onSessionClosed(ClosedCallback cb) { impl_->onSessionClosed(std::move(cb)); }

RpcEndpointStats RpcEndpoint::stats() const { return impl_->stats(); }

} // namespace catalyst::rpcnet
