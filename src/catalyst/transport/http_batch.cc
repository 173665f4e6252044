#include "catalyst/transport/http_batch.h"

#include <memory>
#include <optional>

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include "catalyst/common/assert.h"
#include "catalyst/common/version.h"
#include "catalyst/event/dispatcher_impl.h"
#include "catalyst/transport/connect.h"
#include "catalyst/transport/url.h"

namespace catalyst::transport {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// One POST; alive while one of its operations is pending.
class BatchCall : public std::enable_shared_from_this<BatchCall> {
public:
  BatchCall(net::io_context& io, Url url, std::string body, const BatchOptions& options,
            BatchCallback done)
      : stream_(io), url_(std::move(url)), options_(options),
        deadline_(Clock::now() + options.timeout), done_(std::move(done)) {
    request_ = http::request<http::string_body>(http::verb::post, url_.target, 11);
    request_.set(http::field::host, url_.hostPort());
    request_.set(http::field::user_agent, fmt::format("catalyst-node/{}", kVersion));
    request_.set(http::field::content_type, kBatchContentType);
    request_.keep_alive(false);
    request_.body() = std::move(body);
    request_.prepare_payload();
  }

  void start() {
    asyncConnect(stream_, url_, options_.timeout,
                 [self = shared_from_this()](const Status& status) { self->onConnect(status); });
  }

private:
  std::string where() const { return fmt::format("http://{}{}", url_.hostPort(), url_.target); }

  void onConnect(const Status& status) {
    if (!status) {
      finish(status.error());
      return;
    }
    stream_.expires_at(deadline_);
    http::async_write(stream_, request_,
                      beast::bind_front_handler(&BatchCall::onWrite, shared_from_this()));
  }

  void onWrite(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      finish(failure(ec));
      return;
    }
    parser_.emplace();
    parser_->body_limit(options_.max_response_bytes);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&BatchCall::onRead, shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      finish(failure(ec));
      return;
    }
    http::response<http::string_body> response = parser_->release();
    const unsigned status = response.result_int();
    if (status < 200 || status > 299) {
      std::string reason(response.reason());
      if (reason.empty()) {
        reason = std::string(http::obsolete_reason(response.result()));
      }
      finish(unavailable(fmt::format("RPC request failed: {} {}", status, reason)));
      return;
    }
    finish(std::move(response.body()));
  }

  Error failure(const beast::error_code& ec) const {
    if (ec == beast::error::timeout) {
      return unavailable(fmt::format("RPC request to {}: timed out after {}ms", where(),
                                     options_.timeout.count()));
    }
    if (ec == http::error::body_limit) {
      return unavailable(fmt::format("RPC response from {} larger than {} bytes", where(),
                                     options_.max_response_bytes));
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
      return unavailable(
          fmt::format("RPC request to {}: the connection closed before a full response", where()));
    }
    return unavailable(fmt::format("RPC request to {}: {}", where(), ec.message()));
  }

  void finish(Result<std::string> result) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    auto done = std::move(done_);
    done(std::move(result));
  }

  beast::tcp_stream stream_;
  const Url url_;
  const BatchOptions options_;
  const Clock::time_point deadline_;
  BatchCallback done_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

} // namespace

void postBatch(event::Dispatcher& dispatcher, std::string url, std::string body,
               BatchOptions options, BatchCallback done) {
  event::DispatcherImpl& impl = event::asImpl(dispatcher);
  CATALYST_ASSERT(impl.isThreadSafe(), "postBatch runs on the dispatcher's thread");
  auto fail = [&](Error error) {
    net::post(impl.ioContext(),
              [done = std::move(done), error = std::move(error)] { done(error); });
  };
  Result<Url> parsed = parseUrlWithScheme(url, "http");
  if (!parsed) {
    fail(parsed.error());
    return;
  }
  std::make_shared<BatchCall>(impl.ioContext(), std::move(*parsed), std::move(body), options,
                              std::move(done))
      ->start();
}

} // namespace catalyst::transport
