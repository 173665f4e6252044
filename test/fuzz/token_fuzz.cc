// Fuzz target: token verification (auth::TokenAuthority::verify), the first thing every peer
// and admin call reaches with bytes anyone may send. Two kinds of input:
//  - as they are: the bytes are the token (splitting, base64url, header checks);
//  - signed: the bytes are a header and a payload in JSON, which the harness signs with the
//    authority's own key (ES384), so that the claim checks behind the signature are reached.
// Beyond not crashing: verify() must not throw, and claims it accepts must hold what
// token_authority.h promises (a valid subject, times within the skew, a jti of 1-64 chars).
//
// Input: byte 0 even: the rest is the token. Byte 0 odd: the rest is
// <header JSON> '\n' <payload JSON>. "Now" is 1 800 000 000 (2027-01-15). With
// TOKEN_FUZZ_VERBOSE set, every verdict is printed (to see what a corpus file reaches).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "catalyst/auth/base64url.h"
#include "catalyst/auth/token.h"
#include "catalyst/auth/token_authority.h"
#include "catalyst/state/route.h"

namespace {

namespace auth = catalyst::auth;

constexpr int64_t kNow = 1'800'000'000;
constexpr std::size_t kCoordinate = 48; // P-384

[[noreturn]] void violated() { std::abort(); }

struct Harness {
  std::optional<auth::TokenAuthority> authority;
  EVP_PKEY* key = nullptr;
};

// One authority for the whole run, with its key in a temporary state directory.
Harness& harness() {
  static Harness h = [] {
    Harness made;
    char dir_template[] = "/tmp/catalyst-token-fuzz-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (dir == nullptr) {
      violated();
    }
    auto loaded = auth::TokenAuthority::loadOrCreate(dir, "fuzz-node");
    if (!loaded) {
      violated();
    }
    made.authority.emplace(std::move(*loaded));
    FILE* pem = std::fopen(made.authority->keyPath().c_str(), "r");
    if (pem == nullptr) {
      violated();
    }
    made.key = PEM_read_PrivateKey(pem, nullptr, nullptr, nullptr);
    std::fclose(pem);
    std::filesystem::remove_all(dir);
    if (made.key == nullptr) {
      violated();
    }
    return made;
  }();
  return h;
}

// ES384 over `input` as a JWS wants it: r || s, 48 bytes each.
std::string sign(EVP_PKEY* key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t der_size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_size, data, input.size()) != 1) {
    violated();
  }
  std::string der(der_size, '\0');
  auto* der_data = reinterpret_cast<unsigned char*>(der.data());
  if (EVP_DigestSign(ctx.get(), der_data, &der_size, data, input.size()) != 1) {
    violated();
  }
  const unsigned char* cursor = der_data;
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der_size)), ECDSA_SIG_free);
  if (!sig) {
    violated();
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kCoordinate, '\0');
  auto* raw_data = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, raw_data, kCoordinate) != static_cast<int>(kCoordinate) ||
      BN_bn2binpad(s, raw_data + kCoordinate, kCoordinate) != static_cast<int>(kCoordinate)) {
    violated();
  }
  return raw;
}

void checkAccepted(const auth::Claims& claims) {
  const int64_t skew = auth::kClockSkew.count();
  if (!catalyst::state::validateName(claims.subject) || claims.id.empty() ||
      claims.id.size() > 64 || kNow > claims.expires_at + skew || claims.not_before > kNow + skew ||
      claims.issued_at > kNow + skew || claims.expires_at > auth::kMaxNumericDate ||
      claims.issued_at < 0) {
    violated();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  Harness& h = harness();
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string token;
  if ((data[0] & 1) == 0) {
    token = std::string(rest);
  } else {
    const std::size_t cut = rest.find('\n');
    if (cut == std::string_view::npos) {
      return 0;
    }
    std::string signing_input = auth::base64UrlEncode(rest.substr(0, cut)) + "." +
                                auth::base64UrlEncode(rest.substr(cut + 1));
    token = signing_input + "." + auth::base64UrlEncode(sign(h.key, signing_input));
  }
  const auth::VerifyResult result = h.authority->verify(token, kNow);
  static const bool verbose = std::getenv("TOKEN_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "token_fuzz: %s\n",
                 result ? ("accepted: " + result->subject).c_str()
                        : result.error().toString().c_str());
  }
  if (result) {
    checkAccepted(*result);
  }
  return 0;
}
