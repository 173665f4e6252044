#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "catalyst/common/result.h"

namespace catalyst::auth {

// The value types of the node's tokens (docs/tokens.md): what a token grants, what it claims,
// and why one was refused. TokenAuthority (token_authority.h) mints and verifies them.

// What a token lets its bearer do.
enum class Role {
  Peer,  // a neighbour node: the peering RPCs, as the node named by the token's subject
  Admin, // an operator: the management RPCs and the CLI
};

// Claim spelling: "peer", "admin".
std::string_view toString(Role role);
// Exact, case-sensitive; nullopt for anything else.
std::optional<Role> parseRole(std::string_view text);

// What a verified token says. A value type. Times are seconds since the Unix epoch.
struct Claims {
  std::string subject; // `sub`: who holds the token (for a peer token, the peer's node id)
  Role role = Role::Peer;
  int64_t issued_at = 0;  // `iat`
  int64_t not_before = 0; // `nbf`
  int64_t expires_at = 0; // `exp`
  std::string id;         // `jti`: 32 hex digits, random per token

  bool operator==(const Claims&) const = default;
};

// Why a token was refused. reasonName() gives the metrics label.
enum class TokenError {
  Missing,      // no token at all (empty)
  Malformed,    // not three base64url parts, too long, or a part that is not a JSON object
  BadSignature, // not ES384, or not signed by this node's key
  Expired,      // now > exp + kClockSkew
  NotYetValid,  // nbf or iat later than now + kClockSkew
  WrongIssuer,  // signed by our key but issued under another node id
  BadClaims,    // a claim missing, of the wrong type or out of bounds (sub, role, jti, times)
};

// "missing", "malformed", "bad_signature", "expired", "not_yet_valid", "wrong_issuer",
// "bad_claims": short, stable, usable as a metrics label.
std::string_view reasonName(TokenError error);

// A refused token: the machine reason plus a message for people ("token expired at
// 1800000000, 31 s ago"). The message never repeats the token, so it can be logged and sent
// back to the caller. This is a separate type (and not catalyst::Error) because callers
// count refusals by `reason`, like control::Rejection.
struct TokenRejection {
  TokenError reason = TokenError::Malformed;
  std::string message;

  // "bad_signature: ..." as one line.
  std::string toString() const;
  bool operator==(const TokenRejection&) const = default;
};

// boost::system::result asks the error type how to throw when value() is called on an error
// (found by argument-dependent lookup, hence Boost's name). Our code never calls value()
// unchecked.
// NOLINTNEXTLINE(readability-identifier-naming)
[[noreturn]] void throw_exception_from_error(const TokenRejection& rejection,
                                             const boost::source_location& loc);

using VerifyResult = boost::system::result<Claims, TokenRejection>;

// Tolerated difference between our clock and the clock that minted or presents a token, in
// both directions (peering.md §3).
inline constexpr std::chrono::seconds kClockSkew{30};
// A longer token is refused before any decoding.
inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;
// The longest lifetime a token may be minted with.
inline constexpr std::chrono::seconds kMaxTokenTtl =
    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::years(10));
// iat, nbf and exp must lie in [0, kMaxNumericDate] (9999-12-31T23:59:59Z), so that time
// arithmetic on them cannot overflow.
inline constexpr int64_t kMaxNumericDate = 253'402'300'799;

// Parses a token lifetime: a positive integer with an optional unit, `s` (the default), `m`,
// `h`, `d` or `w`: "30s", "90", "15m", "12h", "7d", "2w". At most kMaxTokenTtl. Anything else
// (0, a sign, spaces, a fraction, an unknown or upper-case unit, "1h30m", overflow) is an
// InvalidArgument error whose message quotes the input.
Result<std::chrono::seconds> parseTtl(std::string_view text);

// The time checks of TokenAuthority::verify(): Expired when now > exp + kClockSkew, NotYetValid
// when nbf or iat is later than now + kClockSkew; otherwise the claims. For TokenCache, which
// checks the times of a token it verified before on every call.
VerifyResult checkTimes(const Claims& claims, int64_t now_unix);

} // namespace catalyst::auth
