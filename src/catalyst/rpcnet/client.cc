#include "catalyst/rpcnet/client.h"

#include <string_view>
#include <utility>
#include <vector>

#include "catalyst/transport/http_batch.h"

namespace catalyst::rpcnet {

void RpcClient::connect(event::Dispatcher& dispatcher, std::string url, RpcClientOptions options,
                        ConnectCallback done) {
  transport::dialWebSocket(
      dispatcher, std::move(url), options.websocket,
      [options, done = std::move(done)](Result<rpc::MessageTransportPtr> transport) mutable {
        if (!transport) {
          done(transport.error());
          return;
        }
        done(std::unique_ptr<RpcClient>(new RpcClient(std::move(*transport), options)));
      });
}

RpcClient::RpcClient(rpc::MessageTransportPtr transport, const RpcClientOptions& options)
    : transport_(std::move(transport)),
      session_(std::make_unique<rpc::Session>(*transport_, options.local_main, options.session)) {}

RpcClient::~RpcClient() {
  session_.reset(); // before the transport it refers to
}

void RpcClient::close() {
  session_->shutdown("RPC session was shut down by disposing the main stub");
}

namespace {

// Holds what the session sends until the batch is posted.
class BufferTransport : public rpc::MessageTransport {
public:
  void setHandler(Handler& handler) override { handler_ = &handler; }
  void send(std::string message) override {
    if (!sent_) {
      queued_.push_back(std::move(message));
    }
  }
  void close(uint16_t /*code*/, std::string /*reason*/) override { sent_ = true; }

  // The queued messages, joined; nothing is queued after this.
  std::string take() {
    sent_ = true;
    std::string body;
    for (std::size_t i = 0; i < queued_.size(); ++i) {
      if (i != 0) {
        body.push_back('\n');
      }
      body += queued_[i];
    }
    queued_.clear();
    return body;
  }
  Handler& handler() { return *handler_; }

private:
  Handler* handler_ = nullptr;
  std::vector<std::string> queued_;
  bool sent_ = false;
};

} // namespace

class BatchClient::Impl : public std::enable_shared_from_this<Impl> {
public:
  Impl(event::Dispatcher& dispatcher, std::string url, rpc::SessionOptions options,
       transport::BatchOptions batch)
      : dispatcher_(dispatcher), url_(std::move(url)), batch_(batch),
        session_(std::make_unique<rpc::Session>(transport_, rpc::Stub(), options)) {}

  ~Impl() { session_.reset(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  rpc::Stub main() const { return session_->main(); }

  rpc::Promise<bool> send() {
    auto [p, r] = rpc::Promise<bool>::make();
    std::weak_ptr<Impl> weak = weak_from_this();
    transport::postBatch(
        dispatcher_, url_, transport_.take(), batch_, [weak, r = r](Result<std::string> response) {
          auto self = weak.lock();
          if (!self) {
            return;
          }
          if (!response) {
            self->transport_.handler().onClosed(1006, response.error().message);
            r.reject(rpc::makeError("Error", response.error().message));
            return;
          }
          std::string_view body = *response;
          while (!body.empty() && !self->session_->broken()) {
            const std::size_t nl = body.find('\n');
            const std::string_view line = body.substr(0, nl);
            if (!line.empty()) {
              self->transport_.handler().onMessage(line, true);
            }
            body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
          }
          // The session ends with the response (capnweb: "Batch RPC request ended.").
          self->transport_.handler().onClosed(1000, "Batch RPC request ended.");
          r.resolve(true);
        });
    return p;
  }

private:
  event::Dispatcher& dispatcher_;
  std::string url_;
  transport::BatchOptions batch_;
  BufferTransport transport_; // before the session, which refers to it
  std::unique_ptr<rpc::Session> session_;
};

BatchClient::BatchClient(event::Dispatcher& dispatcher, std::string url,
                         rpc::SessionOptions options, transport::BatchOptions batch)
    : impl_(std::make_shared<Impl>(dispatcher, std::move(url), options, batch)) {}

BatchClient::~BatchClient() = default;

rpc::Stub BatchClient::main() const { return impl_->main(); }

rpc::Promise<bool> BatchClient::send() { return impl_->send(); }

} // namespace catalyst::rpcnet
