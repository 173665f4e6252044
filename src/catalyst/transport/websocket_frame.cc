#include "catalyst/transport/websocket_frame.h"

#include <cstring>

#include <fmt/format.h>

namespace catalyst::transport::ws {
namespace {

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kReservedBits = 0x70;
constexpr uint8_t kOpcodeBits = 0x0F;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLengthBits = 0x7F;
constexpr uint8_t kLength16 = 126;
constexpr uint8_t kLength64 = 127;

bool isControl(uint8_t opcode) { return (opcode & 0x08) != 0; }

bool isKnownOpcode(uint8_t opcode) {
  switch (static_cast<Opcode>(opcode)) {
  case Opcode::Continuation:
  case Opcode::Text:
  case Opcode::Binary:
  case Opcode::Close:
  case Opcode::Ping:
  case Opcode::Pong:
    return true;
  }
  return false;
}

uint64_t readBigEndian(const unsigned char* p, std::size_t bytes) {
  uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    value = (value << 8) | p[i];
  }
  return value;
}

} // namespace

bool isValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* const end = p + text.size();
  while (p != end) {
    // Eight ASCII bytes at a time.
    while (end - p >= 8) {
      uint64_t word = 0;
      std::memcpy(&word, p, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) {
        break;
      }
      p += 8;
    }
    if (p == end) {
      break;
    }
    const unsigned char lead = *p;
    if (lead < 0x80) {
      ++p;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80; // bounds of the second byte (RFC 3629 §4)
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) {
        low = 0xA0; // no overlong forms
      } else if (lead == 0xED) {
        high = 0x9F; // no surrogates
      }
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) {
        low = 0x90; // no overlong forms
      } else if (lead == 0xF4) {
        high = 0x8F; // nothing past U+10FFFF
      }
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < length || p[1] < low || p[1] > high) {
      return false;
    }
    for (std::size_t i = 2; i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) {
        return false;
      }
    }
    p += length;
  }
  return true;
}

bool isSendableCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

void applyMask(char* data, std::size_t size, const uint8_t (&key)[4]) {
  uint32_t key32 = 0;
  std::memcpy(&key32, key, sizeof key32);
  const uint64_t key64 = (static_cast<uint64_t>(key32) << 32) | key32;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word = 0;
    std::memcpy(&word, data + i, sizeof word);
    word ^= key64;
    std::memcpy(data + i, &word, sizeof word);
  }
  for (; i < size; ++i) {
    data[i] = static_cast<char>(static_cast<uint8_t>(data[i]) ^ key[i % 4]);
  }
}

void appendFrame(std::string& out, Opcode opcode, std::string_view payload, const uint8_t* key) {
  unsigned char header[kMaxHeaderBytes];
  std::size_t n = 0;
  header[n++] = static_cast<unsigned char>(kFin | static_cast<uint8_t>(opcode));
  const uint8_t mask_bit = key != nullptr ? kMaskBit : 0;
  const uint64_t size = payload.size();
  if (size < kLength16) {
    header[n++] = static_cast<unsigned char>(mask_bit | size);
  } else if (size <= 0xFFFF) {
    header[n++] = static_cast<unsigned char>(mask_bit | kLength16);
    header[n++] = static_cast<unsigned char>(size >> 8);
    header[n++] = static_cast<unsigned char>(size);
  } else {
    header[n++] = static_cast<unsigned char>(mask_bit | kLength64);
    for (int shift = 56; shift >= 0; shift -= 8) {
      header[n++] = static_cast<unsigned char>(size >> shift);
    }
  }
  if (key != nullptr) {
    std::memcpy(header + n, key, 4);
    n += 4;
  }
  const std::size_t start = out.size();
  out.append(reinterpret_cast<const char*>(header), n);
  out.append(payload);
  if (key != nullptr) {
    uint8_t k[4];
    std::memcpy(k, key, 4);
    applyMask(out.data() + start + n, payload.size(), k);
  }
}

std::string closePayload(uint16_t code, std::string_view reason) {
  std::string payload;
  if (code == kCloseNoStatus) {
    return payload;
  }
  payload.reserve(2 + reason.size());
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return payload;
}

bool FrameDecoder::fail(FrameEvents& events, uint16_t code, std::string reason) {
  stopped_ = true;
  events.onProtocolError(code, std::move(reason));
  return false;
}

bool FrameDecoder::deliver(std::string_view data, bool is_text, FrameEvents& events) {
  if (is_text && !isValidUtf8(data)) {
    return fail(events, kCloseInvalidPayload, "a text message is not valid UTF-8");
  }
  if (!events.onMessage(data, is_text)) {
    stopped_ = true;
    return false;
  }
  return true;
}

std::size_t FrameDecoder::decode(char* data, std::size_t size, FrameEvents& events) {
  std::size_t used = 0;
  while (!stopped_) {
    if (skip_ > 0) {
      const std::size_t skipped = static_cast<std::size_t>(std::min<uint64_t>(skip_, size - used));
      skip_ -= skipped;
      used += skipped;
      if (skip_ > 0) {
        break;
      }
    }
    wanted_ = kMaxHeaderBytes;
    const std::size_t available = size - used;
    if (available < 2) {
      break;
    }
    auto* p = reinterpret_cast<unsigned char*>(data + used);
    const bool fin = (p[0] & kFin) != 0;
    const uint8_t opcode = p[0] & kOpcodeBits;
    const bool masked = (p[1] & kMaskBit) != 0;
    if ((p[0] & kReservedBits) != 0) {
      fail(events, kCloseProtocolError, "reserved bits set (no extension was negotiated)");
      break;
    }
    if (!isKnownOpcode(opcode)) {
      fail(events, kCloseProtocolError, fmt::format("unknown opcode {}", opcode));
      break;
    }
    if (masked != from_client_) {
      fail(events, kCloseProtocolError,
           from_client_ ? "a client frame is not masked" : "a server frame is masked");
      break;
    }
    const uint8_t length7 = p[1] & kLengthBits;
    const std::size_t length_bytes = length7 == kLength16 ? 2 : length7 == kLength64 ? 8 : 0;
    const std::size_t header_size = 2 + length_bytes + (masked ? 4 : 0);
    if (available < header_size) {
      break;
    }
    uint64_t length = length7;
    if (length_bytes > 0) {
      length = readBigEndian(p + 2, length_bytes);
      if ((length_bytes == 2 && length < kLength16) || (length_bytes == 8 && length <= 0xFFFF)) {
        fail(events, kCloseProtocolError, "a frame length is not in its shortest form");
        break;
      }
      if (length >> 63 != 0) {
        fail(events, kCloseProtocolError, "a frame length has its top bit set");
        break;
      }
    }
    if (isControl(opcode)) {
      if (!fin) {
        fail(events, kCloseProtocolError, "a control frame is fragmented");
        break;
      }
      if (length > kMaxControlPayload) {
        fail(events, kCloseProtocolError, "a control frame is longer than 125 bytes");
        break;
      }
    } else if (skipping_) {
      // After a message over the limit: data is consumed unread.
      used += header_size;
      skip_ = length;
      continue;
    } else if (opcode == static_cast<uint8_t>(Opcode::Continuation)) {
      if (!in_message_) {
        fail(events, kCloseProtocolError, "a continuation frame without a message to continue");
        break;
      }
    } else if (in_message_) {
      fail(events, kCloseProtocolError, "a new message began inside a fragmented one");
      break;
    }
    if (!isControl(opcode)) {
      const uint64_t total = (in_message_ ? fragments_.size() : 0) + length;
      if (total > max_message_bytes_) {
        skipping_ = true;
        in_message_ = false;
        fragments_ = std::string();
        used += header_size;
        skip_ = length;
        events.onTooLarge(static_cast<std::size_t>(total), max_message_bytes_);
        continue;
      }
    }
    const std::size_t frame_size = header_size + static_cast<std::size_t>(length);
    if (available < frame_size) {
      wanted_ = frame_size;
      break;
    }
    char* payload = data + used + header_size;
    const std::size_t payload_size = static_cast<std::size_t>(length);
    if (masked) {
      uint8_t key[4];
      std::memcpy(key, p + header_size - 4, 4);
      applyMask(payload, payload_size, key);
    }
    used += frame_size;
    const std::string_view view(payload, payload_size);
    switch (static_cast<Opcode>(opcode)) {
    case Opcode::Ping:
      events.onPing(view);
      break;
    case Opcode::Pong:
      events.onPong();
      break;
    case Opcode::Close: {
      if (payload_size == 1) {
        fail(events, kCloseProtocolError, "a close frame with a 1-byte payload");
        break;
      }
      uint16_t code = kCloseNoStatus;
      std::string_view reason;
      if (payload_size >= 2) {
        code = static_cast<uint16_t>(readBigEndian(reinterpret_cast<unsigned char*>(payload), 2));
        reason = view.substr(2);
        if (!isSendableCloseCode(code)) {
          fail(events, kCloseProtocolError, fmt::format("a close frame with code {}", code));
          break;
        }
        if (!isValidUtf8(reason)) {
          fail(events, kCloseInvalidPayload, "a close reason is not valid UTF-8");
          break;
        }
      }
      stopped_ = true;
      events.onClose(code, reason);
      break;
    }
    case Opcode::Text:
    case Opcode::Binary:
      if (fin) {
        deliver(view, opcode == static_cast<uint8_t>(Opcode::Text), events);
      } else {
        in_message_ = true;
        message_is_text_ = opcode == static_cast<uint8_t>(Opcode::Text);
        fragments_.assign(view);
      }
      break;
    case Opcode::Continuation:
      fragments_.append(view);
      if (fin) {
        in_message_ = false;
        const std::string message = std::move(fragments_);
        fragments_ = std::string();
        deliver(message, message_is_text_, events);
      }
      break;
    }
  }
  return used;
}

} // namespace catalyst::transport::ws
