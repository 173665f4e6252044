// Fuzzes the Cap'n Web decoder and evaluator: the input is a sequence of messages, one per
// line, fed to a server session (serving the interop API) as if they came from a WebSocket.
// Any input must end in answers, per-call rejections, or an abort with close 3000; nothing may
// crash, leak or hang.
//
// Differentially, a second session gets the same messages with every ["pull",...,
// ["release",... and ["push",... spelled with a space after the bracket, which keeps them off
// the session's fast paths for those messages (they go through the JSON parser): both sessions
// must send exactly the same messages. The API also has `describe`, which answers with what it
// sees of its arguments, and reads them however the session offers: from the message text
// (Target::callText), in place from the parsed message (callRaw), or evaluated (call). So the
// first session's text reading is held to the second's parsed reading, answer for answer.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalyst/common/assert.h"
#include "catalyst/rpc/session.h"

#include "support/rpc_test_api.h"
#include "support/show_plain.h"

namespace catalyst::rpc {
namespace {

class CaptureTransport : public MessageTransport {
public:
  void setHandler(Handler& handler) override { handler_ = &handler; }
  void send(std::string message) override {
    CATALYST_RELEASE_ASSERT(!closed_, "nothing is sent after close");
    sent_.push_back(std::move(message));
  }
  void close(uint16_t code, std::string /*reason*/) override {
    CATALYST_RELEASE_ASSERT(code == kCloseRpcAbort, "sessions close with 3000");
    closed_ = true;
  }
  Handler* handler_ = nullptr;
  std::vector<std::string> sent_;
  bool closed_ = false;
};

template <class ArgList> Promise<Value> described(const ArgList& args, std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += catalyst::test::showPlain(args(i)) + ";";
  }
  return Promise<Value>::resolved(out);
}

class DescribingApi : public catalyst::test::InteropApi {
public:
  Promise<Value> call(std::string_view method, Args args) override {
    if (method == "describe") {
      return described([&args](std::size_t i) { return ValueData(args[i]); }, args.size());
    }
    return InteropApi::call(method, std::move(args));
  }
  bool takesRaw(std::string_view method) const override { return method == "describe"; }
  std::optional<Promise<Value>> callRaw(std::string_view /*method*/,
                                        const WireArgs& args) override {
    return described([&args](std::size_t i) { return args[i]; }, args.size());
  }
  bool takesText(std::string_view method) const override { return method == "describe"; }
  std::optional<Promise<Value>> callText(std::string_view /*method*/,
                                         const TextCall& call) override {
    if (!call.index()) {
      return std::nullopt;
    }
    const TextTape& args = call.tape;
    return described([&args](std::size_t i) { return args[i]; }, args.size());
  }
};

} // namespace
} // namespace catalyst::rpc

// The same message, spelled so that it is not the tight form of ["pull",N], ["release",N,M] or
// a call.
std::string loosened(std::string_view frame) {
  std::string out(frame);
  if (frame.starts_with("[\"pull\",") || frame.starts_with("[\"release\",") ||
      frame.starts_with("[\"push\",")) {
    out.insert(1, " ");
  }
  return out;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace catalyst::rpc; // NOLINT(google-build-using-namespace)
  const std::string_view input(reinterpret_cast<const char*>(data), size); // NOLINT
  SessionOptions options;
  options.max_message_bytes = 4096;
  CaptureTransport transport;
  Session session(transport, makeStub(std::make_shared<DescribingApi>()), options);
  CaptureTransport parsed_transport;
  Session parsed(parsed_transport, makeStub(std::make_shared<DescribingApi>()), options);
  bool mirrored = true;
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) {
      end = input.size();
    }
    const std::string_view frame = input.substr(start, end - start);
    // A frame starting with 0xFF stands for a binary WebSocket message.
    const bool is_text = frame.empty() || static_cast<unsigned char>(frame[0]) != 0xFF;
    transport.handler_->onMessage(frame, is_text);
    // Mirrored while the loosened spelling (one byte longer) is still under the size cap.
    mirrored = mirrored && frame.size() < options.max_message_bytes;
    if (mirrored) {
      parsed_transport.handler_->onMessage(loosened(frame), is_text);
      CATALYST_RELEASE_ASSERT(transport.sent_ == parsed_transport.sent_ &&
                                  transport.closed_ == parsed_transport.closed_,
                              "the fast paths answer as the parser does");
    }
    if (session.broken()) {
      // Broken by our abort (sent last) or by the peer's (nothing sent); closed either way.
      CATALYST_RELEASE_ASSERT(transport.closed_, "a broken session closed its transport");
      break;
    }
    start = end + 1;
  }
  return 0;
}
