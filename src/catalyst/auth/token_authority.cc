#include "catalyst/auth/token_authority.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalyst/auth/base64url.h"
#include "catalyst/common/assert.h"
#include "catalyst/common/fd.h"
#include "catalyst/state/route.h"

namespace catalyst::auth {
namespace {

namespace bj = boost::json;

constexpr std::string_view kAlgorithm = "ES384";
constexpr std::string_view kHeaderJson = R"({"alg":"ES384","typ":"JWT"})";
constexpr std::string_view kCurveName = "secp384r1"; // P-384
constexpr std::size_t kCoordinateBytes = 48;         // r and s of a P-384 signature
constexpr std::size_t kSignatureBytes = 2 * kCoordinateBytes;
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;
constexpr std::size_t kJtiBytes = 16;
constexpr std::size_t kMaxJtiLength = 64;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct OpensslFree {
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using OpensslBytesPtr = std::unique_ptr<unsigned char, OpensslFree>;

// Secret bytes (a PEM private key) wiped before their memory is released.
class SecretBuffer {
public:
  SecretBuffer() = default;
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;
  ~SecretBuffer() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

  std::string& bytes() { return bytes_; }

private:
  std::string bytes_;
};

// The first error on OpenSSL's thread-local queue, as text; empties the queue, so the next
// OpenSSL user does not see our leftovers.
std::string takeOpensslError() {
  const unsigned long code = ERR_peek_error();
  std::string text = "unknown OpenSSL error";
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    text = reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", code);
  }
  ERR_clear_error();
  return text;
}

Error opensslFailure(std::string_view what) {
  return Error{Error::Kind::Internal, fmt::format("{}: {}", what, takeOpensslError())};
}

std::string errnoText(int error) { return std::strerror(error); }

// Makes sure `dir` is a directory, creating it (mode 0700, parents with the default mode).
Status ensureStateDir(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return unavailable(fmt::format("state directory {}: not a directory", dir.string()));
    }
    return {};
  }
  if (errno != ENOENT) {
    return unavailable(fmt::format("state directory {}: {}", dir.string(), errnoText(errno)));
  }
  if (dir.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) {
      return unavailable(fmt::format("state directory {}: cannot create {}: {}", dir.string(),
                                     dir.parent_path().string(), ec.message()));
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return unavailable(fmt::format("state directory {}: {}", dir.string(), errnoText(errno)));
  }
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return unavailable(fmt::format("state directory {}: not a directory", dir.string()));
  }
  return {};
}

// The key file's bytes; nullopt when it does not exist.
Result<std::optional<std::string>> readKeyFile(const std::filesystem::path& path,
                                               SecretBuffer& buffer) {
  const int raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw_fd < 0) {
    if (errno == ENOENT) {
      return std::optional<std::string>();
    }
    return unavailable(
        fmt::format("key file {}: cannot open: {}", path.string(), errnoText(errno)));
  }
  Fd fd(raw_fd);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return unavailable(fmt::format("key file {}: {}", path.string(), errnoText(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return unavailable(fmt::format("key file {}: not a regular file", path.string()));
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileBytes) {
    return invalidArgument(fmt::format("key file {}: corrupt: {} bytes, more than a key ({} max)",
                                       path.string(), st.st_size, kMaxKeyFileBytes));
  }
  std::string& bytes = buffer.bytes();
  bytes.resize(kMaxKeyFileBytes + 1);
  std::size_t size = 0;
  while (size < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + size, bytes.size() - size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return unavailable(
          fmt::format("key file {}: cannot read: {}", path.string(), errnoText(errno)));
    }
    if (n == 0) {
      break;
    }
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxKeyFileBytes) {
    return invalidArgument(
        fmt::format("key file {}: corrupt: more than {} bytes", path.string(), kMaxKeyFileBytes));
  }
  return std::optional<std::string>(std::string(bytes.data(), size));
}

// Parses a PEM private key and checks that it is a consistent P-384 key.
Result<PkeyPtr> parseKey(const std::string& pem, const std::filesystem::path& path) {
  const auto corrupt = [&](std::string_view what) {
    return invalidArgument(
        fmt::format("key file {}: corrupt or not a P-384 private key: {} (it is never replaced "
                    "automatically: restore it, or move it away to make a new key, which "
                    "invalidates every token the old one signed)",
                    path.string(), what));
  };
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    return opensslFailure("BIO_new_mem_buf");
  }
  // A callback that refuses to supply a passphrase: an encrypted key fails here instead of
  // prompting on the terminal.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) -> int { return -1; };
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    // OpenSSL's reason ("unsupported", "no start line") would not help the reader.
    ERR_clear_error();
    if (pem.find("ENCRYPTED") != std::string::npos) {
      return corrupt("the key is encrypted; the node needs it unencrypted (mode 0600)");
    }
    return corrupt("no PEM private key in it");
  }
  if (EVP_PKEY_is_a(key.get(), "EC") != 1) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return corrupt(fmt::format("a {} key, not EC", type != nullptr ? type : "non-EC"));
  }
  std::array<char, 64> group{};
  std::size_t group_length = 0;
  if (EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), &group_length) != 1) {
    return corrupt(fmt::format("no curve ({})", takeOpensslError()));
  }
  if (std::string_view(group.data(), group_length) != kCurveName) {
    return corrupt(fmt::format("curve {}, not P-384 (secp384r1)",
                               std::string_view(group.data(), group_length)));
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!ctx) {
    return opensslFailure("EVP_PKEY_CTX_new_from_pkey");
  }
  if (EVP_PKEY_check(ctx.get()) != 1) {
    return corrupt(fmt::format("inconsistent key ({})", takeOpensslError()));
  }
  return key;
}

Result<PkeyPtr> generateKey() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  if (!key) {
    return opensslFailure("generating a P-384 key");
  }
  return key;
}

Status writePem(const EVP_PKEY& key, SecretBuffer& out) {
  // A secure-memory BIO: its buffer is wiped when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) {
    return opensslFailure("BIO_new");
  }
  if (PEM_write_bio_PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return opensslFailure("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) {
    return opensslFailure("BIO_get_mem_data");
  }
  out.bytes().assign(data, static_cast<std::size_t>(size));
  return {};
}

Status writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return unavailable(errnoText(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::string randomHex(std::size_t bytes) {
  std::array<unsigned char, 32> buffer{};
  CATALYST_RELEASE_ASSERT(bytes <= buffer.size(), "randomHex: at most 32 bytes");
  if (RAND_bytes(buffer.data(), static_cast<int>(bytes)) != 1) {
    return {};
  }
  std::string hex;
  hex.reserve(bytes * 2);
  for (std::size_t i = 0; i < bytes; ++i) {
    hex += fmt::format("{:02x}", buffer[i]);
  }
  return hex;
}

// Writes a new key to `path` without ever exposing a partial file under that name. Returns
// false (and no error) when another process created `path` first.
Result<bool> storeNewKey(const std::filesystem::path& path, const std::string& pem) {
  const std::string suffix = randomHex(8);
  if (suffix.empty()) {
    return opensslFailure("RAND_bytes");
  }
  const std::filesystem::path temp =
      path.parent_path() /
      fmt::format(".{}.{}.{}.tmp", path.filename().string(), ::getpid(), suffix);
  const auto fail = [&](std::string_view what, int error) {
    ::unlink(temp.c_str());
    return unavailable(fmt::format("key file {}: {} {}: {}", path.string(), what, temp.string(),
                                   errnoText(error)));
  };
  {
    const int raw_fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (raw_fd < 0) {
      return unavailable(fmt::format("key file {}: cannot create {}: {}", path.string(),
                                     temp.string(), errnoText(errno)));
    }
    Fd fd(raw_fd);
    // The umask may only have removed bits; make the mode exactly owner read/write.
    if (::fchmod(fd.get(), 0600) != 0) {
      return fail("cannot chmod", errno);
    }
    if (auto st = writeAll(fd.get(), pem); !st) {
      ::unlink(temp.c_str());
      return unavailable(fmt::format("key file {}: cannot write {}: {}", path.string(),
                                     temp.string(), st.error().message));
    }
    if (::fsync(fd.get()) != 0) {
      return fail("cannot sync", errno);
    }
    if (!fd.close()) {
      return fail("cannot close", errno);
    }
  }
  // link() rather than rename(): it never replaces a key another process stored meanwhile.
  const bool linked = ::link(temp.c_str(), path.c_str()) == 0;
  const int link_error = errno;
  ::unlink(temp.c_str());
  if (!linked) {
    if (link_error == EEXIST) {
      return false;
    }
    return unavailable(fmt::format("key file {}: cannot link {} to it: {}", path.string(),
                                   temp.string(), errnoText(link_error)));
  }
  // Make the new directory entry durable too.
  const int dir_fd = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                            O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return true;
}

// Signs `input` with ES384 and returns the JOSE form r || s (48 + 48 bytes).
Result<std::string> signRaw(EVP_PKEY& key, std::string_view input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, &key) != 1) {
    return opensslFailure("EVP_DigestSignInit");
  }
  std::size_t der_size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &der_size, data, input.size()) != 1) {
    return opensslFailure("EVP_DigestSign");
  }
  std::string der(der_size, '\0');
  auto* der_data = reinterpret_cast<unsigned char*>(der.data());
  if (EVP_DigestSign(ctx.get(), der_data, &der_size, data, input.size()) != 1) {
    return opensslFailure("EVP_DigestSign");
  }
  const unsigned char* cursor = der_data;
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der_size)));
  if (!sig) {
    return opensslFailure("d2i_ECDSA_SIG");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(kSignatureBytes, '\0');
  auto* raw_data = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, raw_data, kCoordinateBytes) != static_cast<int>(kCoordinateBytes) ||
      BN_bn2binpad(s, raw_data + kCoordinateBytes, kCoordinateBytes) !=
          static_cast<int>(kCoordinateBytes)) {
    return opensslFailure("BN_bn2binpad");
  }
  return raw;
}

// Whether `raw` (r || s, 96 bytes) is a valid ES384 signature of `input` by `key`.
bool verifyRaw(EVP_PKEY& key, std::string_view input, std::string_view raw) {
  const auto* raw_data = reinterpret_cast<const unsigned char*>(raw.data());
  BnPtr r(BN_bin2bn(raw_data, kCoordinateBytes, nullptr));
  BnPtr s(BN_bin2bn(raw_data + kCoordinateBytes, kCoordinateBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  (void)r.release(); // owned by sig now
  (void)s.release();
  unsigned char* der_raw = nullptr;
  const int der_size = i2d_ECDSA_SIG(sig.get(), &der_raw);
  OpensslBytesPtr der(der_raw);
  if (der_size <= 0) {
    ERR_clear_error();
    return false;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, &key) == 1 &&
      EVP_DigestVerify(ctx.get(), der.get(), static_cast<std::size_t>(der_size),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string_view view(const bj::string& s) { return {s.data(), s.size()}; }

TokenRejection reject(TokenError reason, std::string message) {
  return TokenRejection{reason, std::move(message)};
}

// A JSON object, or nullopt.
std::optional<bj::object> parseObject(std::string_view text) {
  boost::system::error_code ec;
  bj::parse_options options;
  options.max_depth = 16;
  bj::value value = bj::parse(text, ec, {}, options);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  return std::move(value.get_object());
}

// A NumericDate claim: an integer in [0, kMaxNumericDate].
boost::system::result<int64_t, TokenRejection> numericDate(const bj::object& payload,
                                                           std::string_view name) {
  const bj::value* value = payload.if_contains(name);
  if (value == nullptr) {
    return reject(TokenError::BadClaims, fmt::format("claim '{}' is missing", name));
  }
  const int64_t* number = value->if_int64();
  if (number == nullptr || *number < 0 || *number > kMaxNumericDate) {
    return reject(TokenError::BadClaims,
                  fmt::format("claim '{}' must be a whole number of seconds since the epoch, "
                              "0 to {}",
                              name, kMaxNumericDate));
  }
  return *number;
}

} // namespace

struct TokenAuthority::Impl {
  PkeyPtr key;
  std::string issuer;
  std::filesystem::path key_path;
  std::string encoded_header = base64UrlEncode(kHeaderJson);
};

TokenAuthority::TokenAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TokenAuthority::TokenAuthority(TokenAuthority&&) noexcept = default;
TokenAuthority& TokenAuthority::operator=(TokenAuthority&&) noexcept = default;
TokenAuthority::~TokenAuthority() = default;

const std::string& TokenAuthority::issuer() const { return impl_->issuer; }
const std::filesystem::path& TokenAuthority::keyPath() const { return impl_->key_path; }

Result<TokenAuthority> TokenAuthority::loadOrCreate(const std::filesystem::path& state_dir,
                                                    std::string issuer) {
  if (auto st = state::validateName(issuer); !st) {
    return invalidArgument("token issuer (node id): " + st.error().message);
  }
  if (auto st = ensureStateDir(state_dir); !st) {
    return st.error();
  }
  auto impl = std::make_unique<Impl>();
  impl->issuer = std::move(issuer);
  impl->key_path = state_dir / kKeyFileName;

  // Two rounds at most: when another process stores its key between our read and our store,
  // we load that one.
  for (int round = 0; round < 2; ++round) {
    SecretBuffer file;
    auto existing = readKeyFile(impl->key_path, file);
    if (!existing) {
      return existing.error();
    }
    if (*existing) {
      SecretBuffer pem;
      pem.bytes() = std::move(**existing);
      auto key = parseKey(pem.bytes(), impl->key_path);
      if (!key) {
        return key.error();
      }
      impl->key = std::move(*key);
      return TokenAuthority(std::move(impl));
    }
    auto key = generateKey();
    if (!key) {
      return key.error();
    }
    SecretBuffer pem;
    if (auto st = writePem(**key, pem); !st) {
      return st.error();
    }
    auto stored = storeNewKey(impl->key_path, pem.bytes());
    if (!stored) {
      return stored.error();
    }
    if (*stored) {
      impl->key = std::move(*key);
      return TokenAuthority(std::move(impl));
    }
  }
  return unavailable(fmt::format("key file {}: appeared and vanished while being created",
                                 impl->key_path.string()));
}

Result<std::string> TokenAuthority::mint(const MintRequest& request) const {
  if (auto st = state::validateName(request.subject); !st) {
    return invalidArgument("subject: " + st.error().message);
  }
  if (request.ttl.count() <= 0 || request.ttl > kMaxTokenTtl) {
    return invalidArgument(fmt::format("ttl: must be 1 to {} seconds (got {})",
                                       kMaxTokenTtl.count(), request.ttl.count()));
  }
  if (request.now_unix < 0 || request.now_unix > kMaxNumericDate - request.ttl.count()) {
    return invalidArgument(fmt::format("now ({}) + ttl ({} s) is not a time a token can carry",
                                       request.now_unix, request.ttl.count()));
  }
  const std::string jti = randomHex(kJtiBytes);
  if (jti.empty()) {
    return opensslFailure("RAND_bytes");
  }
  bj::object payload;
  payload["iss"] = impl_->issuer;
  payload["sub"] = request.subject;
  payload["role"] = std::string(toString(request.role));
  payload["iat"] = request.now_unix;
  payload["nbf"] = request.now_unix;
  payload["exp"] = request.now_unix + request.ttl.count();
  payload["jti"] = jti;
  std::string token = impl_->encoded_header;
  token += '.';
  token += base64UrlEncode(bj::serialize(payload));
  auto signature = signRaw(*impl_->key, token);
  if (!signature) {
    return signature.error();
  }
  token += '.';
  token += base64UrlEncode(*signature);
  return token;
}

VerifyResult TokenAuthority::verify(std::string_view token, int64_t now_unix) const {
  if (token.empty()) {
    return reject(TokenError::Missing, "no token");
  }
  if (token.size() > kMaxTokenBytes) {
    return reject(TokenError::Malformed, fmt::format("token is {} bytes, more than the {} allowed",
                                                     token.size(), kMaxTokenBytes));
  }
  // Structure: three base64url parts.
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return reject(TokenError::Malformed,
                  "not a JWT: expected three base64url parts separated by '.'");
  }
  const std::string_view signing_input = token.substr(0, second_dot);
  const std::array<std::string_view, 3> parts = {
      token.substr(0, first_dot), token.substr(first_dot + 1, second_dot - first_dot - 1),
      token.substr(second_dot + 1)};
  constexpr std::array<std::string_view, 3> kPartNames = {"header", "payload", "signature"};
  std::array<std::string, 3> decoded;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto bytes = base64UrlDecode(parts[i]);
    if (!bytes || (i < 2 && bytes->empty())) {
      return reject(TokenError::Malformed,
                    fmt::format("not a JWT: the {} is not base64url", kPartNames[i]));
    }
    decoded[i] = std::move(*bytes);
  }

  // Header: exactly ES384, and nothing we would have to understand.
  const auto header = parseObject(decoded[0]);
  if (!header) {
    return reject(TokenError::Malformed, "not a JWT: the header is not a JSON object");
  }
  const bj::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    return reject(TokenError::Malformed, "not a JWT: the header has no 'alg'");
  }
  if (header->contains("crit")) {
    return reject(TokenError::Malformed, "the header has critical extensions ('crit')");
  }
  if (view(alg->get_string()) != kAlgorithm) {
    std::string shown(view(alg->get_string()).substr(0, 16));
    for (char& c : shown) {
      if (c < 0x20 || c > 0x7e) {
        c = '?';
      }
    }
    return reject(TokenError::BadSignature,
                  fmt::format("algorithm '{}' refused: only ES384 is accepted", shown));
  }

  // Signature: r || s by our key.
  if (decoded[2].size() != kSignatureBytes) {
    return reject(TokenError::BadSignature,
                  fmt::format("signature is {} bytes; ES384 takes {} (r || s)", decoded[2].size(),
                              kSignatureBytes));
  }
  if (!verifyRaw(*impl_->key, signing_input, decoded[2])) {
    return reject(TokenError::BadSignature, "signature does not verify with this node's key");
  }

  // Claims.
  const auto payload = parseObject(decoded[1]);
  if (!payload) {
    return reject(TokenError::Malformed, "the payload is not a JSON object");
  }
  const bj::value* iss = payload->if_contains("iss");
  if (iss == nullptr || !iss->is_string() || view(iss->get_string()) != impl_->issuer) {
    return reject(TokenError::WrongIssuer, fmt::format("not issued by {}", impl_->issuer));
  }
  Claims claims;
  const bj::value* sub = payload->if_contains("sub");
  if (sub == nullptr || !sub->is_string()) {
    return reject(TokenError::BadClaims, "claim 'sub' is missing or not a string");
  }
  if (auto st = state::validateName(view(sub->get_string())); !st) {
    return reject(TokenError::BadClaims, "claim 'sub': " + st.error().message);
  }
  claims.subject = view(sub->get_string());
  const bj::value* role = payload->if_contains("role");
  const std::optional<Role> parsed_role =
      role != nullptr && role->is_string() ? parseRole(view(role->get_string())) : std::nullopt;
  if (!parsed_role) {
    return reject(TokenError::BadClaims, "claim 'role' must be \"peer\" or \"admin\"");
  }
  claims.role = *parsed_role;
  const bj::value* jti = payload->if_contains("jti");
  if (jti == nullptr || !jti->is_string() || jti->get_string().empty() ||
      jti->get_string().size() > kMaxJtiLength) {
    return reject(TokenError::BadClaims,
                  fmt::format("claim 'jti' must be a string of 1 to {} characters", kMaxJtiLength));
  }
  claims.id = view(jti->get_string());
  for (auto [name, field] :
       {std::pair{"iat", &claims.issued_at}, std::pair{"nbf", &claims.not_before},
        std::pair{"exp", &claims.expires_at}}) {
    auto value = numericDate(*payload, name);
    if (!value) {
      return value.error();
    }
    *field = *value;
  }

  return checkTimes(claims, now_unix);
}

} // namespace catalyst::auth
