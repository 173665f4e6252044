#pragma once

// RFC 6455 framing without I/O: the encoder that puts messages and control frames into an
// output buffer, and the decoder that takes frames apart in a receive buffer. The WebSocket
// transport (websocket.cc) does the I/O around them; the fuzz target websocket_frame_fuzz
// feeds the decoder arbitrary bytes.
//
// No extension is ever negotiated, so the RSV bits must be clear; text messages must be valid
// UTF-8 (RFC 6455 §8.1); control frames carry at most 125 bytes and are never fragmented;
// lengths use the shortest encoding. Whatever breaks these is a protocol error with the close
// code the RFC names for it (1002, or 1007 for bad UTF-8).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace catalyst::transport::ws {

enum class Opcode : uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseInvalidPayload = 1007; // text that is not UTF-8
inline constexpr uint16_t kCloseNoStatus = 1005;       // a close frame without a code
// The largest payload of a control frame, and of a close frame's reason (two bytes are the code).
inline constexpr std::size_t kMaxControlPayload = 125;
inline constexpr std::size_t kMaxCloseReasonBytes = 123;
// The longest frame header: 2 bytes, an 8-byte length, a 4-byte masking key.
inline constexpr std::size_t kMaxHeaderBytes = 14;

// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool isValidUtf8(std::string_view text);

// The close codes an endpoint may put in a close frame (RFC 6455 §7.4: not 1004-1006 or 1015,
// nothing below 1000, nothing in 1016-2999).
bool isSendableCloseCode(uint16_t code);

// XORs `data` with the 4-byte masking key `key` (in wire order: key[0] masks data[0]).
void applyMask(char* data, std::size_t size, const uint8_t (&key)[4]);

// Appends one whole frame (FIN set) to `out`: `opcode` with `payload`, masked with `key` when
// `key` is not null (a client's frames are masked, a server's never are).
void appendFrame(std::string& out, Opcode opcode, std::string_view payload, const uint8_t* key);

// The payload of a close frame: the code (big-endian) and the reason, or nothing when `code`
// is 1005 (no status). `reason` must already be at most kMaxCloseReasonBytes.
std::string closePayload(uint16_t code, std::string_view reason);

// What the decoder reports. A false return from onMessage() stops decode() at once (the
// handler went away); the rest is decided by the decoder.
class FrameEvents {
public:
  virtual ~FrameEvents() = default;
  // One whole message, reassembled if it came in fragments; unmasked, and valid UTF-8 if
  // `is_text`. The view lives until decode() returns.
  virtual bool onMessage(std::string_view data, bool is_text) = 0;
  virtual void onPing(std::string_view payload) = 0;
  virtual void onPong() = 0;
  // The peer's close frame: its code (1005 when it had none) and reason. Nothing is decoded
  // after it.
  virtual void onClose(uint16_t code, std::string_view reason) = 0;
  // A message longer than the limit began: `size` is its length as its frame headers declare
  // it so far. Its data is skipped from here on, without being buffered, and so is every later
  // message: only control frames are still reported.
  virtual void onTooLarge(std::size_t size, std::size_t limit) = 0;
  // The peer broke the protocol: the close code to fail the connection with, and why. Nothing
  // is decoded after it.
  virtual void onProtocolError(uint16_t close_code, std::string reason) = 0;
};

class FrameDecoder {
public:
  // `from_client`: the frames are a client's, so they must be masked (a server's must not be).
  // `max_message_bytes`: the longest message (all fragments together) that is delivered.
  FrameDecoder(bool from_client, std::size_t max_message_bytes)
      : from_client_(from_client), max_message_bytes_(max_message_bytes) {}

  // Takes apart the frames at the start of data[0, size), unmasking payloads in place, and
  // reports each; returns how many bytes it consumed. What is left is the start of a frame
  // that has not arrived in full: call again with it and the bytes that follow. Data being
  // skipped (after onTooLarge) is consumed as it comes.
  std::size_t decode(char* data, std::size_t size, FrameEvents& events);

  // How many bytes the frame at the start of the unconsumed rest needs in all (header and
  // payload), when its header has arrived; otherwise kMaxHeaderBytes. Never more than
  // kMaxHeaderBytes + max_message_bytes.
  std::size_t bytesWanted() const { return wanted_; }

  // After onClose or onProtocolError, or after onMessage returned false.
  bool stopped() const { return stopped_; }

private:
  bool fail(FrameEvents& events, uint16_t code, std::string reason);
  bool deliver(std::string_view data, bool is_text, FrameEvents& events);

  const bool from_client_;
  const std::size_t max_message_bytes_;
  std::size_t wanted_ = kMaxHeaderBytes;
  bool stopped_ = false;

  // A fragmented message being reassembled.
  bool in_message_ = false;
  bool message_is_text_ = false;
  std::string fragments_;

  // After onTooLarge: every data frame is skipped; `skip_` bytes of the current one remain.
  bool skipping_ = false;
  uint64_t skip_ = 0;
};

} // namespace catalyst::transport::ws
