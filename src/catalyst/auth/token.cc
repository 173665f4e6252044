#include "catalyst/auth/token.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace catalyst::auth {

std::string_view toString(Role role) {
  switch (role) {
  case Role::Peer:
    return "peer";
  case Role::Admin:
    return "admin";
  }
  return "unknown";
}

std::optional<Role> parseRole(std::string_view text) {
  if (text == "peer") {
    return Role::Peer;
  }
  if (text == "admin") {
    return Role::Admin;
  }
  return std::nullopt;
}

std::string_view reasonName(TokenError error) {
  switch (error) {
  case TokenError::Missing:
    return "missing";
  case TokenError::Malformed:
    return "malformed";
  case TokenError::BadSignature:
    return "bad_signature";
  case TokenError::Expired:
    return "expired";
  case TokenError::NotYetValid:
    return "not_yet_valid";
  case TokenError::WrongIssuer:
    return "wrong_issuer";
  case TokenError::BadClaims:
    return "bad_claims";
  }
  return "unknown";
}

std::string TokenRejection::toString() const {
  return fmt::format("{}: {}", reasonName(reason), message);
}

void throw_exception_from_error(const TokenRejection& rejection,
                                const boost::source_location& loc) {
  throw std::logic_error(fmt::format("{}:{}: value() on a refused token: {}", loc.file_name(),
                                     loc.line(), rejection.toString()));
}

Result<std::chrono::seconds> parseTtl(std::string_view text) {
  const auto bad = [&] {
    return invalidArgument(
        fmt::format("ttl: expected a positive whole number with an optional unit s, m, h, d or w "
                    "(30s, 15m, 12h, 7d, 2w; a plain number is seconds), got '{}'",
                    text));
  };
  const auto too_long = [&] {
    return invalidArgument(
        fmt::format("ttl: must be at most 10 years ({} s), got '{}'", kMaxTokenTtl.count(), text));
  };
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || text.size() - digits > 1) {
    return bad();
  }
  int64_t unit = 1;
  if (digits < text.size()) {
    switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86'400;
      break;
    case 'w':
      unit = 7 * 86'400;
      break;
    default:
      return bad();
    }
  }
  // Stop as soon as the number passes the bound, so no digit string can overflow.
  const int64_t max = kMaxTokenTtl.count();
  int64_t count = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    count = count * 10 + (text[i] - '0');
    if (count > max) {
      return too_long();
    }
  }
  if (count == 0) {
    return invalidArgument(fmt::format("ttl: must be above 0, got '{}'", text));
  }
  if (count > max / unit) {
    return too_long();
  }
  return std::chrono::seconds(count * unit);
}

VerifyResult checkTimes(const Claims& claims, int64_t now_unix) {
  // kClockSkew either way. The claims lie in [0, kMaxNumericDate]; clamping `now` to a wider
  // range changes no outcome and keeps the arithmetic from overflowing.
  const int64_t skew = kClockSkew.count();
  now_unix = std::clamp(now_unix, -kMaxNumericDate, 2 * kMaxNumericDate);
  if (now_unix > claims.expires_at + skew) {
    return TokenRejection{TokenError::Expired,
                          fmt::format("token expired at {} ({} s ago)", claims.expires_at,
                                      now_unix - claims.expires_at)};
  }
  for (auto [name, value] :
       {std::pair{"nbf", claims.not_before}, std::pair{"iat", claims.issued_at}}) {
    if (value - skew > now_unix) {
      return TokenRejection{TokenError::NotYetValid,
                            fmt::format("token not valid before {} ({}, {} s from now)", value,
                                        name, value - now_unix)};
    }
  }
  return claims;
}

} // namespace catalyst::auth
