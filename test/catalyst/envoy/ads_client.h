#pragma once

// A raw ADS client for tests: a bidi StreamAggregatedResources stream driven synchronously over
// a completion queue, with DiscoveryRequests built from JSON and DiscoveryResponses read back
// through Envoy's real protos (the ApiSchema). It does what Envoy does, and what a
// well-behaved client never does (stale nonces, malformed bytes).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "catalyst/envoy/xds_server.h"

#include "envoy_check.h"

namespace catalyst::envoy::testing {

constexpr std::string_view kDiscoveryRequest = "envoy.service.discovery.v3.DiscoveryRequest";
constexpr std::string_view kDiscoveryResponse = "envoy.service.discovery.v3.DiscoveryResponse";

struct RequestFields {
  std::string type_url{};
  std::string version_info{};
  std::string response_nonce{};
  std::vector<std::string> resource_names{};
  std::optional<std::string> error{}; // a NACK
  std::string node_id{};              // sent when not empty
};

// A DiscoveryRequest, built from JSON through Envoy's real protos.
inline std::string discoveryRequest(const RequestFields& f) {
  namespace json = boost::json;
  json::object o;
  if (!f.node_id.empty()) {
    o["node"] = json::object{{"id", f.node_id}};
  }
  o["type_url"] = f.type_url;
  o["version_info"] = f.version_info;
  o["response_nonce"] = f.response_nonce;
  json::array names;
  for (const std::string& n : f.resource_names) {
    names.emplace_back(n);
  }
  o["resource_names"] = std::move(names);
  if (f.error) {
    o["error_detail"] = json::object{{"code", 3}, {"message", *f.error}};
  }
  Result<std::string> binary = schema().toBinary(kDiscoveryRequest, json::serialize(o));
  EXPECT_TRUE(binary) << (binary ? "" : binary.error().message);
  return binary ? *binary : "";
}

struct Response {
  std::string version_info;
  std::string type_url;
  std::string nonce;
  std::vector<std::string> names; // of the resources, in order
};

// A DiscoveryResponse, read back through Envoy's real protos (nested Anys included).
inline std::optional<Response> parseResponse(const std::string& bytes) {
  Result<std::string> text = schema().toJson(kDiscoveryResponse, bytes);
  EXPECT_TRUE(text) << (text ? "" : text.error().message);
  if (!text) {
    return std::nullopt;
  }
  namespace json = boost::json;
  const json::object o = json::parse(*text).as_object();
  auto str = [&o](const char* key) {
    return o.contains(key) ? std::string(o.at(key).as_string()) : std::string();
  };
  Response r{str("version_info"), str("type_url"), str("nonce"), {}};
  if (o.contains("resources")) {
    for (const json::value& any : o.at("resources").as_array()) {
      EXPECT_EQ(any.at("@type").as_string(), r.type_url);
      const json::object& res = any.as_object();
      r.names.emplace_back(res.contains("name") ? res.at("name").as_string()
                                                : res.at("cluster_name").as_string());
    }
  }
  return r;
}

// A bidi ADS stream driven synchronously over a completion queue.
class RawAdsStream {
public:
  // `small_window`: the client's HTTP/2 flow-control window stays small (no BDP probing), so
  // a large response stalls until the client reads.
  explicit RawAdsStream(uint16_t port, bool small_window = false)
      : channel_(grpc::CreateCustomChannel(fmt::format("127.0.0.1:{}", port),
                                           grpc::InsecureChannelCredentials(),
                                           channelArguments(small_window))),
        stub_(channel_) {
    call_ = stub_.PrepareCall(&ctx_, std::string(kAdsMethod), &cq_);
    call_->StartCall(tag(Op::Start));
    bool ok = false;
    EXPECT_TRUE(await(Op::Start, std::chrono::seconds(5), ok) && ok)
        << "the ADS stream did not start";
  }

  ~RawAdsStream() {
    ctx_.TryCancel();
    if (!finished_) {
      (void)finish();
    }
    cq_.Shutdown();
    void* t = nullptr;
    bool ok = false;
    while (cq_.Next(&t, &ok)) {
    }
  }
  RawAdsStream(const RawAdsStream&) = delete;
  RawAdsStream& operator=(const RawAdsStream&) = delete;

  bool send(const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    call_->Write(buffer, tag(Op::Write));
    bool ok = false;
    return await(Op::Write, std::chrono::seconds(5), ok) && ok;
  }

  // The next response; nullopt on timeout or when the server ended the stream (closed()).
  std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    if (!read_pending_) {
      call_->Read(&in_, tag(Op::Read));
      read_pending_ = true;
    }
    bool ok = false;
    if (!await(Op::Read, timeout, ok)) {
      return std::nullopt;
    }
    read_pending_ = false;
    if (!ok) {
      closed_ = true;
      return std::nullopt;
    }
    std::vector<grpc::Slice> slices;
    (void)in_.Dump(&slices);
    std::string out;
    for (const grpc::Slice& s : slices) {
      out.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return out;
  }

  std::optional<Response> readResponse() {
    std::optional<std::string> bytes = read();
    return bytes ? parseResponse(*bytes) : std::nullopt;
  }

  bool closed() const { return closed_; }

  // The stream's final status (after the server ended it, or after a cancel).
  grpc::Status finish() {
    finished_ = true;
    grpc::Status status;
    call_->Finish(&status, tag(Op::Finish));
    bool ok = false;
    if (!await(Op::Finish, std::chrono::seconds(5), ok)) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Finish timed out");
    }
    return status;
  }

private:
  enum class Op : std::intptr_t { Start = 1, Write, Read, Finish };

  static grpc::ChannelArguments channelArguments(bool small_window) {
    grpc::ChannelArguments args;
    if (small_window) {
      args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
      args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 * 1024);
    }
    return args;
  }

  static void* tag(Op op) { return reinterpret_cast<void*>(static_cast<std::intptr_t>(op)); }

  // Waits for `op` to complete, keeping other completions for later.
  bool await(Op op, std::chrono::milliseconds timeout, bool& ok) {
    const auto deadline = std::chrono::system_clock::now() + timeout;
    while (!done_.contains(op)) {
      void* t = nullptr;
      bool event_ok = false;
      if (cq_.AsyncNext(&t, &event_ok, deadline) != grpc::CompletionQueue::GOT_EVENT) {
        return false;
      }
      done_[static_cast<Op>(reinterpret_cast<std::intptr_t>(t))] = event_ok;
    }
    ok = done_.at(op);
    done_.erase(op);
    return true;
  }

  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  grpc::CompletionQueue cq_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  grpc::ByteBuffer in_;
  std::map<Op, bool> done_;
  bool read_pending_ = false;
  bool closed_ = false;
  bool finished_ = false;
};

} // namespace catalyst::envoy::testing
