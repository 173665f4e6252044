#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace catalyst::auth {

// base64url without padding (RFC 7515 §2, RFC 4648 §5), the encoding of every part of a JWT.

// Encodes any bytes: "\xfb\xff" -> "-_8".
std::string base64UrlEncode(std::string_view bytes);

// Decodes strictly: only A-Z a-z 0-9 - _, no padding, no whitespace, and the unused low bits
// of the last character must be zero, so every byte string has exactly one accepted encoding.
// nullopt when `text` is not such an encoding (a length of 4n+1 never is).
std::optional<std::string> base64UrlDecode(std::string_view text);

} // namespace catalyst::auth
