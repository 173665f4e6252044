#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "catalyst/auth/token.h"
#include "catalyst/common/result.h"

namespace catalyst::auth {

// What to put in a new token.
struct MintRequest {
  std::string subject;                  // `sub`: must pass state::validateName
  Role role = Role::Peer;               // `role`
  std::chrono::seconds ttl{7 * 86'400}; // exp = now + ttl; 1 s to kMaxTokenTtl
  int64_t now_unix = 0;                 // wall-clock seconds since the epoch (iat and nbf)
};

// The node's token signer and checker: its ES384 (ECDSA P-384, SHA-384) key pair and its node
// id, the issuer of every token it mints. Tokens are compact JWS (RFC 7515/7519):
//   base64url({"alg":"ES384","typ":"JWT"}) . base64url(payload) . base64url(r || s)
// with payload {"iss","sub","role","iat","nbf","exp","jti"} and r, s 48 bytes each.
//
// A resource type: move-only, owns the key. Both mint() and verify() are const and keep no
// state between calls, so one authority may be used from several threads.
// The time is always passed in (seconds since the Unix epoch, from a TimeSource's
// systemTime()), so tests decide what "now" is.
class TokenAuthority {
public:
  // The key file inside the state directory.
  static constexpr std::string_view kKeyFileName = "node-key.pem";

  // Loads `<state_dir>/node-key.pem` (a PEM private key on curve P-384) or, when there is
  // none, creates it: `state_dir` is created with mode 0700 if missing (its parents with the
  // default mode), the key is written to a temporary file of mode 0600, flushed to disk and
  // then linked to its final name, so a crash never leaves half a key and two processes
  // starting together end up with the same key (the second one loads the first one's).
  // An existing key file is never replaced: when it cannot be read or is not a P-384 private
  // key, the error names the file and says what is wrong. `issuer` is this node's id.
  static Result<TokenAuthority> loadOrCreate(const std::filesystem::path& state_dir,
                                             std::string issuer);

  TokenAuthority(TokenAuthority&&) noexcept;
  TokenAuthority& operator=(TokenAuthority&&) noexcept;
  TokenAuthority(const TokenAuthority&) = delete;
  TokenAuthority& operator=(const TokenAuthority&) = delete;
  ~TokenAuthority();

  // A signed token for `request`: iat = nbf = now, exp = now + ttl, a fresh random jti.
  // InvalidArgument when the subject is not a valid name, the ttl is not in
  // [1 s, kMaxTokenTtl], or now / now + ttl fall outside [0, kMaxNumericDate]; Internal
  // if OpenSSL fails.
  Result<std::string> mint(const MintRequest& request) const;

  // Checks `token` completely and returns its claims, or why it is refused. In order:
  //   - empty: Missing; longer than kMaxTokenBytes: Malformed (before any decoding);
  //   - not three non-empty strict base64url parts, or a header that is not a JSON object
  //     with a string `alg`, or one with `crit`: Malformed;
  //   - `alg` other than exactly "ES384" ("none", "HS256", "es384", ...), a signature that is
  //     not 96 bytes (r || s; a DER signature is refused) or does not verify with this
  //     node's public key: BadSignature;
  //   - a payload that is not a JSON object: Malformed;
  //   - `iss` not a string equal to our issuer: WrongIssuer;
  //   - `sub` missing or not a valid name, `role` not "peer"/"admin", `jti` not a non-empty
  //     string of at most 64 characters, `iat`/`nbf`/`exp` missing or not integers in
  //     [0, kMaxNumericDate]: BadClaims;
  //   - now > exp + kClockSkew: Expired; nbf or iat > now + kClockSkew: NotYetValid.
  // Unknown claims are ignored. Never throws for any input.
  VerifyResult verify(std::string_view token, int64_t now_unix) const;

  // This node's id, the `iss` of its tokens.
  const std::string& issuer() const;
  // Where the key lives.
  const std::filesystem::path& keyPath() const;

private:
  struct Impl;
  explicit TokenAuthority(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

} // namespace catalyst::auth
