// RFC 6455 framing (websocket_frame.h): the RFC's own examples (§5.7) both ways, every
// protocol violation the decoder must refuse, split delivery, the size cap, UTF-8.

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalyst/transport/websocket_frame.h"

namespace catalyst::transport::ws {
namespace {

// Records events as readable lines.
class Recorder : public FrameEvents {
public:
  bool onMessage(std::string_view data, bool is_text) override {
    events.push_back((is_text ? "text " : "binary ") + std::string(data));
    return keep_going;
  }
  void onPing(std::string_view payload) override {
    events.push_back("ping " + std::string(payload));
  }
  void onPong() override { events.emplace_back("pong"); }
  void onClose(uint16_t code, std::string_view reason) override {
    events.push_back("close " + std::to_string(code) + " " + std::string(reason));
  }
  void onTooLarge(std::size_t size, std::size_t limit) override {
    events.push_back("too large " + std::to_string(size) + " " + std::to_string(limit));
  }
  void onProtocolError(uint16_t close_code, std::string reason) override {
    events.push_back("error " + std::to_string(close_code) + " " + reason);
  }

  std::vector<std::string> events;
  bool keep_going = true;
};

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) {
    out.push_back(static_cast<char>(v));
  }
  return out;
}

// Decodes `wire` in one piece; returns the events, and the bytes consumed through `used`.
std::vector<std::string> decodeAll(std::string wire, bool from_client, std::size_t limit = 1 << 20,
                                   std::size_t* used = nullptr) {
  FrameDecoder decoder(from_client, limit);
  Recorder recorder;
  const std::size_t n = decoder.decode(wire.data(), wire.size(), recorder);
  if (used != nullptr) {
    *used = n;
  }
  return recorder.events;
}

constexpr uint8_t kRfcKey[4] = {0x37, 0xfa, 0x21, 0x3d};

TEST(WebSocketFrameTest, RfcExamplesDecode) {
  // RFC 6455 §5.7.
  EXPECT_EQ(decodeAll(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), false),
            std::vector<std::string>{"text Hello"});
  EXPECT_EQ(
      decodeAll(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}), true),
      std::vector<std::string>{"text Hello"});
  EXPECT_EQ(decodeAll(bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}), false),
            std::vector<std::string>{"text Hello"});
  EXPECT_EQ(decodeAll(bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), false),
            std::vector<std::string>{"ping Hello"});
  EXPECT_EQ(
      decodeAll(bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}), true),
      std::vector<std::string>{"pong"});
  std::string frame256 = bytes({0x82, 0x7E, 0x01, 0x00}) + std::string(256, 'a');
  EXPECT_EQ(decodeAll(frame256, false),
            std::vector<std::string>{"binary " + std::string(256, 'a')});
  std::string frame64k =
      bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + std::string(65536, 'b');
  EXPECT_EQ(decodeAll(frame64k, false),
            std::vector<std::string>{"binary " + std::string(65536, 'b')});
}

TEST(WebSocketFrameTest, RfcExamplesEncode) {
  std::string out;
  appendFrame(out, Opcode::Text, "Hello", nullptr);
  EXPECT_EQ(out, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  appendFrame(out, Opcode::Text, "Hello", kRfcKey);
  EXPECT_EQ(out, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  out.clear();
  appendFrame(out, Opcode::Binary, std::string(256, 'a'), nullptr);
  EXPECT_EQ(out.substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(out.size(), 4u + 256u);
  out.clear();
  appendFrame(out, Opcode::Binary, std::string(65536, 'b'), nullptr);
  EXPECT_EQ(out.substr(0, 10), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  out.clear();
  appendFrame(out, Opcode::Close, closePayload(3000, "bye"), nullptr);
  EXPECT_EQ(out, bytes({0x88, 0x05, 0x0B, 0xB8, 'b', 'y', 'e'}));
  EXPECT_EQ(closePayload(kCloseNoStatus, "ignored"), "");
}

TEST(WebSocketFrameTest, EncodedFramesDecodeBackAtEverySizeBoundary) {
  for (std::size_t size : {0u, 1u, 7u, 8u, 9u, 125u, 126u, 127u, 65535u, 65536u, 100000u}) {
    std::string payload(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
      payload[i] = static_cast<char>('a' + i % 26);
    }
    for (bool masked : {false, true}) {
      std::string wire;
      appendFrame(wire, Opcode::Text, payload, masked ? kRfcKey : nullptr);
      appendFrame(wire, Opcode::Binary, payload, masked ? kRfcKey : nullptr);
      std::size_t used = 0;
      EXPECT_EQ(decodeAll(wire, masked, 1 << 20, &used),
                (std::vector<std::string>{"text " + payload, "binary " + payload}))
          << size << (masked ? " masked" : "");
      EXPECT_EQ(used, wire.size());
    }
  }
}

TEST(WebSocketFrameTest, FramesSplitAnywhereDecodeTheSame) {
  std::string wire;
  appendFrame(wire, Opcode::Text, "[\"push\",1]", kRfcKey);
  appendFrame(wire, Opcode::Ping, "p", kRfcKey);
  appendFrame(wire, Opcode::Binary, std::string(300, 'x'), kRfcKey);
  appendFrame(wire, Opcode::Close, closePayload(1000, "done"), kRfcKey);
  const std::vector<std::string> whole = decodeAll(wire, true);
  ASSERT_EQ(whole.size(), 4u);
  for (std::size_t step = 1; step <= 17; ++step) {
    FrameDecoder decoder(true, 1 << 20);
    Recorder recorder;
    std::string buffer;
    for (std::size_t at = 0; at < wire.size(); at += step) {
      buffer.append(wire, at, step);
      buffer.erase(0, decoder.decode(buffer.data(), buffer.size(), recorder));
      EXPECT_LE(buffer.size(), decoder.bytesWanted());
    }
    EXPECT_TRUE(buffer.empty());
    EXPECT_EQ(recorder.events, whole) << "step " << step;
    EXPECT_TRUE(decoder.stopped()); // after the close frame
  }
}

TEST(WebSocketFrameTest, ControlFramesBetweenFragmentsAreReported) {
  std::string wire = bytes({0x01, 0x02, 'a', 'b'}) + bytes({0x89, 0x01, 'p'}) +
                     bytes({0x00, 0x01, 'c'}) + bytes({0x8A, 0x00}) + bytes({0x80, 0x01, 'd'});
  EXPECT_EQ(decodeAll(wire, false), (std::vector<std::string>{"ping p", "pong", "text abcd"}));
}

TEST(WebSocketFrameTest, CloseFrames) {
  EXPECT_EQ(decodeAll(bytes({0x88, 0x00}), false), std::vector<std::string>{"close 1005 "});
  EXPECT_EQ(decodeAll(bytes({0x88, 0x04, 0x0F, 0xA1, 'o', 'k'}), false),
            std::vector<std::string>{"close 4001 ok"});
  // Nothing after the close frame is decoded.
  std::size_t used = 0;
  EXPECT_EQ(decodeAll(bytes({0x88, 0x02, 0x03, 0xE8, 0x81, 0x01, 'x'}), false, 1 << 20, &used),
            std::vector<std::string>{"close 1000 "});
  EXPECT_EQ(used, 4u);
}

TEST(WebSocketFrameTest, ProtocolViolationsAreRefusedWithTheirCloseCode) {
  struct Case {
    std::string wire;
    bool from_client;
    std::string event;
  };
  const std::vector<Case> cases = {
      {bytes({0xC1, 0x00}), false, "error 1002 reserved bits set (no extension was negotiated)"},
      {bytes({0x83, 0x00}), false, "error 1002 unknown opcode 3"},
      {bytes({0x8B, 0x00}), false, "error 1002 unknown opcode 11"},
      {bytes({0x81, 0x01, 'x'}), true, "error 1002 a client frame is not masked"},
      {bytes({0x81, 0x81, 0, 0, 0, 0, 'x'}), false, "error 1002 a server frame is masked"},
      {bytes({0x09, 0x00}), false, "error 1002 a control frame is fragmented"},
      {bytes({0x89, 0x7E, 0x00, 0x7E}) + std::string(126, 'p'), false,
       "error 1002 a control frame is longer than 125 bytes"},
      {bytes({0x82, 0x7E, 0x00, 0x05}) + "12345", false,
       "error 1002 a frame length is not in its shortest form"},
      {bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}), false,
       "error 1002 a frame length is not in its shortest form"},
      {bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}), false,
       "error 1002 a frame length has its top bit set"},
      {bytes({0x80, 0x01, 'x'}), false,
       "error 1002 a continuation frame without a message to continue"},
      {bytes({0x01, 0x01, 'a', 0x81, 0x01, 'b'}), false,
       "error 1002 a new message began inside a fragmented one"},
      {bytes({0x81, 0x02, 0xC3, 0x28}), false, "error 1007 a text message is not valid UTF-8"},
      {bytes({0x01, 0x01, 0xC3, 0x80, 0x01, 0x28}), false,
       "error 1007 a text message is not valid UTF-8"},
      {bytes({0x88, 0x01, 0x03}), false, "error 1002 a close frame with a 1-byte payload"},
      {bytes({0x88, 0x02, 0x03, 0xEE}), false, "error 1002 a close frame with code 1006"},
      {bytes({0x88, 0x02, 0x03, 0xE7}), false, "error 1002 a close frame with code 999"},
      {bytes({0x88, 0x03, 0x03, 0xE8, 0xFF}), false,
       "error 1007 a close reason is not valid UTF-8"},
  };
  for (const Case& c : cases) {
    FrameDecoder decoder(c.from_client, 1 << 20);
    Recorder recorder;
    std::string wire = c.wire + bytes({0x81, 0x01, 'z'}); // nothing after the error is decoded
    decoder.decode(wire.data(), wire.size(), recorder);
    EXPECT_EQ(recorder.events, std::vector<std::string>{c.event}) << c.event;
    EXPECT_TRUE(decoder.stopped());
  }
}

TEST(WebSocketFrameTest, BinaryIsNotCheckedForUtf8) {
  EXPECT_EQ(decodeAll(bytes({0x82, 0x02, 0xC3, 0x28}), false),
            std::vector<std::string>{"binary " + bytes({0xC3, 0x28})});
}

TEST(WebSocketFrameTest, OversizeMessagesAreSkippedWithoutBufferingAndControlFramesStillCount) {
  FrameDecoder decoder(false, 10);
  Recorder recorder;
  // Exactly at the cap: delivered.
  std::string wire = bytes({0x81, 0x0A}) + "0123456789";
  // Over it by its header: reported before any of its data has arrived.
  wire += bytes({0x82, 0x7E, 0x03, 0xE8});
  std::size_t used = decoder.decode(wire.data(), wire.size(), recorder);
  EXPECT_EQ(used, wire.size());
  EXPECT_EQ(recorder.events, (std::vector<std::string>{"text 0123456789", "too large 1000 10"}));
  // Its data is consumed as it comes; later messages are skipped too; a ping still counts.
  std::string rest = std::string(1000, 'x') + bytes({0x81, 0x01, 'y', 0x89, 0x01, 'p'});
  used = 0;
  for (std::size_t at = 0; at < rest.size(); at += 333) {
    std::string piece = rest.substr(at, 333);
    EXPECT_EQ(decoder.decode(piece.data(), piece.size(), recorder), piece.size());
  }
  EXPECT_EQ(recorder.events,
            (std::vector<std::string>{"text 0123456789", "too large 1000 10", "ping p"}));
  // Fragments add up: 6 + 6 is over 10.
  FrameDecoder fragments(false, 10);
  Recorder second;
  std::string parts = bytes({0x01, 0x06}) + "abcdef" + bytes({0x80, 0x06}) + "ghijkl";
  fragments.decode(parts.data(), parts.size(), second);
  EXPECT_EQ(second.events, std::vector<std::string>{"too large 12 10"});
}

TEST(WebSocketFrameTest, BytesWantedCoversTheFrameBeingAssembled) {
  FrameDecoder decoder(false, 1 << 20);
  Recorder recorder;
  std::string wire = bytes({0x82, 0x7E, 0x01, 0x00}) + std::string(10, 'a');
  EXPECT_EQ(decoder.decode(wire.data(), wire.size(), recorder), 0u);
  EXPECT_EQ(decoder.bytesWanted(), 4u + 256u);
  EXPECT_TRUE(recorder.events.empty());
}

TEST(WebSocketFrameTest, AFalseFromOnMessageStopsAtOnce) {
  FrameDecoder decoder(false, 1 << 20);
  Recorder recorder;
  recorder.keep_going = false;
  std::string wire = bytes({0x81, 0x01, 'a', 0x81, 0x01, 'b'});
  EXPECT_EQ(decoder.decode(wire.data(), wire.size(), recorder), 3u);
  EXPECT_EQ(recorder.events, std::vector<std::string>{"text a"});
  EXPECT_TRUE(decoder.stopped());
}

TEST(WebSocketFrameTest, Utf8Validation) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ascii, longer than eight bytes"));
  EXPECT_TRUE(isValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));     // é € 😀
  EXPECT_TRUE(isValidUtf8("\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf")); // U+D7FF U+E000 U+10FFFF
  EXPECT_FALSE(isValidUtf8("\x80"));                                    // a lone continuation
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));                                // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xe0\x80\xaf"));                            // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xf0\x80\x80\xaf"));                        // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));                            // surrogate U+D800
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));                        // U+110000
  EXPECT_FALSE(isValidUtf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(isValidUtf8("abcdefgh\xc3"));     // cut short after an ASCII run
  EXPECT_FALSE(isValidUtf8("\xe2\x82"));         // cut short
  EXPECT_FALSE(isValidUtf8("\xe2\x28\xa1"));     // bad continuation
  EXPECT_FALSE(isValidUtf8("\xf0\x9f\x98\x28")); // bad last continuation
}

TEST(WebSocketFrameTest, MaskIsItsOwnInverseAtAnyAlignment) {
  std::string data = "The quick brown fox jumps over the lazy dog";
  for (std::size_t offset = 0; offset < 8; ++offset) {
    std::string copy = data;
    applyMask(copy.data() + offset, copy.size() - offset, kRfcKey);
    EXPECT_NE(copy, data);
    applyMask(copy.data() + offset, copy.size() - offset, kRfcKey);
    EXPECT_EQ(copy, data);
  }
}

} // namespace
} // namespace catalyst::transport::ws
