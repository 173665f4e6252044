#include <string>

#include <gtest/gtest.h>

#include "catalyst/auth/base64url.h"

namespace catalyst::auth {
namespace {

struct Vector {
  std::string bytes;
  std::string text;
};

// RFC 4648 §10, without padding, plus the two characters where base64url differs.
const Vector kVectors[] = {
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
    {"\xfb\xff", "-_8"},
    {std::string("\0\0\0", 3), "AAAA"},
};

TEST(Base64UrlTest, EncodesAndDecodesTheRfcVectors) {
  for (const Vector& v : kVectors) {
    EXPECT_EQ(base64UrlEncode(v.bytes), v.text);
    EXPECT_EQ(base64UrlDecode(v.text), v.bytes) << v.text;
  }
}

TEST(Base64UrlTest, RoundTripsEveryByteAtEveryLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
  }
  for (std::size_t length = 0; length <= bytes.size(); ++length) {
    const std::string part = bytes.substr(bytes.size() - length);
    const std::string text = base64UrlEncode(part);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos) << text;
    EXPECT_EQ(base64UrlDecode(text), part) << length;
  }
}

TEST(Base64UrlTest, RefusesAnythingButTheOneCanonicalForm) {
  for (const char* bad : {
           "Zg==",   // padding
           "Zm9v+A", // standard-alphabet character
           "Zm9v/A", // standard-alphabet character
           "Zm 9v",  // space
           "Zm9v\n", // newline
           "A",      // 4n+1 characters encode nothing
           "Zm9vY",  // 4n+1
           "Zh",     // 'f' with non-zero unused bits
           "Zm9",    // 'fo' with non-zero unused bits
           "Zm9vYg.",
       }) {
    EXPECT_EQ(base64UrlDecode(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(base64UrlDecode(std::string("Zm\0v", 4)), std::nullopt);
}

} // namespace
} // namespace catalyst::auth
