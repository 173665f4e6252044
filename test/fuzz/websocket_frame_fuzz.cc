// Fuzz target: the WebSocket frame decoder (transport/websocket_frame.h) on arbitrary bytes, as
// a peer's socket would deliver them. Beyond not crashing:
//  - the events must not depend on how the bytes were split into reads (the input is decoded
//    whole, then again in pieces of sizes taken from the input);
//  - the unconsumed rest never exceeds what bytesWanted() says the decoder waits for;
//  - every message delivered, encoded again with appendFrame, decodes to the same message.
//
// Input: byte 0: bit 0 = the frames are a client's (masked); bits 1-7 pick the size limit.
// Byte 1: the seed of the piece sizes. The rest: the bytes on the wire.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "catalyst/transport/websocket_frame.h"

namespace {

namespace ws = catalyst::transport::ws;

class Recorder : public ws::FrameEvents {
public:
  bool onMessage(std::string_view data, bool is_text) override {
    events.push_back((is_text ? "t" : "b") + std::string(data));
    messages.emplace_back(std::string(data), is_text);
    return true;
  }
  void onPing(std::string_view payload) override { events.push_back("p" + std::string(payload)); }
  void onPong() override { events.emplace_back("o"); }
  void onClose(uint16_t code, std::string_view reason) override {
    events.push_back("c" + std::to_string(code) + std::string(reason));
  }
  void onTooLarge(std::size_t size, std::size_t limit) override {
    events.push_back("l" + std::to_string(size) + "/" + std::to_string(limit));
  }
  void onProtocolError(uint16_t close_code, std::string reason) override {
    events.push_back("e" + std::to_string(close_code) + reason);
  }

  std::vector<std::string> events;
  std::vector<std::pair<std::string, bool>> messages;
};

[[noreturn]] void mismatch() { std::abort(); }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const bool from_client = (data[0] & 1) != 0;
  const std::size_t limit = std::size_t{1} << ((data[0] >> 1) % 21); // 1 B .. 1 MiB
  uint32_t seed = data[1] | 1u;
  const std::string wire(reinterpret_cast<const char*>(data + 2), size - 2);

  // Whole.
  ws::FrameDecoder whole_decoder(from_client, limit);
  Recorder whole;
  std::string buffer = wire;
  whole_decoder.decode(buffer.data(), buffer.size(), whole);

  // In pieces.
  ws::FrameDecoder piece_decoder(from_client, limit);
  Recorder pieces;
  buffer.clear();
  for (std::size_t at = 0; at < wire.size() && !piece_decoder.stopped();) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t step = 1 + (seed >> 16) % 97;
    buffer.append(wire, at, step);
    at += step;
    buffer.erase(0, piece_decoder.decode(buffer.data(), buffer.size(), pieces));
    if (!piece_decoder.stopped() && buffer.size() > piece_decoder.bytesWanted()) {
      mismatch(); // the decoder left more than it asked for
    }
  }
  if (pieces.events != whole.events) {
    mismatch();
  }

  // Every delivered message survives encode -> decode.
  static const uint8_t kKey[4] = {0x12, 0x34, 0x56, 0x78};
  for (const auto& [message, is_text] : whole.messages) {
    std::string again;
    ws::appendFrame(again, is_text ? ws::Opcode::Text : ws::Opcode::Binary, message,
                    from_client ? kKey : nullptr);
    ws::FrameDecoder decoder(from_client, limit);
    Recorder back;
    if (decoder.decode(again.data(), again.size(), back) != again.size() ||
        back.messages.size() != 1 || back.messages[0].first != message ||
        back.messages[0].second != is_text) {
      mismatch();
    }
  }
  return 0;
}
