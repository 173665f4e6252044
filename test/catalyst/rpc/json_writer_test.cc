#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "catalyst/rpc/json_writer.h"

namespace catalyst::rpc::json {
namespace {

// appendString's output for `s` must parse back to `s`, and every character that JSON requires
// escaped must be escaped (in the spelling RFC 8259 prefers). The writer scans eight bytes at a
// time, so each special character is tried at every position of strings of 0-40 bytes.
std::string reference(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (c < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
      } else {
        out.push_back(ch);
      }
    }
  }
  out += "\"";
  return out;
}

TEST(JsonWriterTest, AppendStringEscapesEverySpecialCharacterAtEveryPosition) {
  const std::string specials = std::string("\"\\\n\r\t\b\f\x01\x1f", 9) + std::string(1, '\0');
  for (std::size_t length = 0; length <= 40; ++length) {
    const std::string plain(length, 'a');
    std::string out = "prefix";
    appendString(out, plain);
    ASSERT_EQ(out, "prefix" + reference(plain));
    for (std::size_t at = 0; at < length; ++at) {
      for (const char special : specials) {
        std::string s = plain;
        s[at] = special;
        std::string got;
        appendString(got, s);
        ASSERT_EQ(got, reference(s)) << "length " << length << " at " << at;
        ASSERT_EQ(boost::json::parse(got).as_string(), s);
      }
    }
  }
}

TEST(JsonWriterTest, AppendStringPassesUtf8AndPrintableBytesThrough) {
  // Bytes >= 0x80 and 0x20-0x7e other than '"' and '\\' need no escape; near misses of the
  // word-wise test (0x1f/0x20, 0x21/0x22/0x23, 0x5b/0x5c/0x5d, 0x7f, 0xa0, 0xa2, 0xdc) included.
  const std::string s =
      "\x20\x21\x23\x5b\x5d\x7f caf\xc3\xa9 \xe2\x98\x83 \xc2\xa0\xc2\xa2\xc3\x9c";
  for (std::size_t shift = 0; shift < 8; ++shift) {
    const std::string t = std::string(shift, 'x') + s;
    std::string got;
    appendString(got, t);
    EXPECT_EQ(got, "\"" + t + "\"");
  }
}

} // namespace
} // namespace catalyst::rpc::json
