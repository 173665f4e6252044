#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalyst/auth/base64url.h"
#include "catalyst/auth/token_authority.h"
#include "catalyst/auth/token_cache.h"

namespace catalyst::auth {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr int64_t kNow = 1'800'000'000; // 2027-01-15, as SimulatedTimeSource starts
constexpr std::string_view kEs384Header = R"({"alg":"ES384","typ":"JWT"})";

// A directory of its own under the system temp dir, removed with everything in it.
class TempDir {
public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            (std::string("catalyst-auth-test-") + info->name() + "-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

private:
  fs::path path_;
};

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

unsigned modeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TokenAuthority load(const fs::path& dir, std::string issuer = "node-a") {
  auto authority = TokenAuthority::loadOrCreate(dir, std::move(issuer));
  EXPECT_TRUE(authority) << authority.error().message;
  return std::move(*authority);
}

std::string mintOk(const TokenAuthority& authority, MintRequest request) {
  auto token = authority.mint(request);
  EXPECT_TRUE(token) << token.error().message;
  return token ? *token : std::string();
}

MintRequest request(std::string subject = "node-b", Role role = Role::Peer,
                    seconds ttl = seconds(3600), int64_t now = kNow) {
  return MintRequest{std::move(subject), role, ttl, now};
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) {
      return parts;
    }
    start = dot + 1;
  }
}

// --- An independent ES384 signer and checker, written against OpenSSL directly. ---------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

PkeyPtr readPem(const fs::path& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return nullptr;
  }
  PkeyPtr key(PEM_read_PrivateKey(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  return key;
}

enum class SignatureForm { Jose, Der };

std::string derSign(EVP_PKEY* key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha384(), nullptr, key), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &size, data, input.size()), 1);
  std::string der(size, '\0');
  EXPECT_EQ(
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &size, data, input.size()),
      1);
  EVP_MD_CTX_free(ctx);
  der.resize(size);
  return der;
}

std::string derToJose(const std::string& der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size()));
  EXPECT_NE(sig, nullptr);
  std::string raw(96, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  EXPECT_EQ(BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 48), 48);
  EXPECT_EQ(BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 48, 48), 48);
  ECDSA_SIG_free(sig);
  return raw;
}

// header.payload.signature, signed with the private key in `key_file`.
std::string signCompact(const fs::path& key_file, std::string_view header, std::string_view payload,
                        SignatureForm form = SignatureForm::Jose) {
  PkeyPtr key = readPem(key_file);
  EXPECT_TRUE(key) << key_file;
  const std::string input = base64UrlEncode(header) + "." + base64UrlEncode(payload);
  const std::string der = derSign(key.get(), input);
  return input + "." + base64UrlEncode(form == SignatureForm::Der ? der : derToJose(der));
}

// Whether `token` carries a JOSE ES384 signature by the key in `key_file`.
bool independentlyVerifies(const fs::path& key_file, const std::string& token) {
  const std::vector<std::string> parts = split(token);
  if (parts.size() != 3) {
    return false;
  }
  auto raw = base64UrlDecode(parts[2]);
  if (!raw || raw->size() != 96) {
    return false;
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw->data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 48, nullptr), BN_bin2bn(bytes + 48, 48, nullptr));
  unsigned char* der = nullptr;
  const int der_size = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  PkeyPtr key = readPem(key_file);
  const std::string input = parts[0] + "." + parts[1];
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      key && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha384(), nullptr, key.get()) == 1 &&
      EVP_DigestVerify(ctx, der, static_cast<std::size_t>(der_size),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return ok;
}

// The claims a valid peer token of node-a for node-b carries; tests change one thing each.
bj::object validClaims() {
  return bj::object{{"iss", "node-a"},
                    {"sub", "node-b"},
                    {"role", "peer"},
                    {"iat", kNow},
                    {"nbf", kNow},
                    {"exp", kNow + 3600},
                    {"jti", "0123456789abcdef0123456789abcdef"}};
}

class TokenAuthorityTest : public ::testing::Test {
protected:
  TokenAuthorityTest() : authority_(load(dir_.path() / "state")) {}

  fs::path keyFile() const { return dir_.path() / "state" / "node-key.pem"; }

  std::string signClaims(const bj::object& claims, std::string_view header = kEs384Header,
                         SignatureForm form = SignatureForm::Jose) const {
    return signCompact(keyFile(), header, bj::serialize(claims), form);
  }

  // Verifies at kNow and expects a refusal for `reason` whose message holds `message_part`.
  void expectRefused(const std::string& token, TokenError reason, std::string_view message_part,
                     int64_t now = kNow) const {
    auto claims = authority_.verify(token, now);
    ASSERT_FALSE(claims) << "accepted: " << token;
    EXPECT_EQ(reasonName(claims.error().reason), reasonName(reason)) << claims.error().message;
    EXPECT_NE(claims.error().message.find(message_part), std::string::npos)
        << claims.error().message;
  }

  TempDir dir_;
  TokenAuthority authority_;
};

// --- The key file. -------------------------------------------------------------------------

TEST_F(TokenAuthorityTest, CreatesTheKeyOnFirstUseOwnerOnly) {
  const fs::path state = dir_.path() / "deeper" / "still" / "state";
  auto authority = TokenAuthority::loadOrCreate(state, "node-a");
  ASSERT_TRUE(authority) << authority.error().message;
  EXPECT_EQ(authority->keyPath(), state / "node-key.pem");
  EXPECT_EQ(authority->issuer(), "node-a");
  EXPECT_EQ(modeOf(state), 0700u);
  EXPECT_EQ(modeOf(state / "node-key.pem"), 0600u);
  const std::string pem = readFile(state / "node-key.pem");
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << pem;
  PkeyPtr key = readPem(state / "node-key.pem");
  ASSERT_TRUE(key);
  char group[64] = {};
  std::size_t length = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group, sizeof group, &length), 1);
  EXPECT_EQ(std::string(group, length), "secp384r1");
  // Nothing but the key: the temporary file is gone.
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(state)) {
    entries.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(entries, std::vector<std::string>{"node-key.pem"});
}

TEST_F(TokenAuthorityTest, KeepsAnExistingDirectorysMode) {
  fs::create_directories(dir_.path() / "open");
  fs::permissions(dir_.path() / "open", fs::perms(0755));
  ASSERT_TRUE(TokenAuthority::loadOrCreate(dir_.path() / "open", "node-a"));
  EXPECT_EQ(modeOf(dir_.path() / "open"), 0755u);
  EXPECT_EQ(modeOf(dir_.path() / "open" / "node-key.pem"), 0600u);
}

TEST_F(TokenAuthorityTest, ReloadReusesTheKey) {
  const std::string pem = readFile(keyFile());
  const std::string token = mintOk(authority_, request());
  TokenAuthority reloaded = load(dir_.path() / "state");
  EXPECT_EQ(readFile(keyFile()), pem);
  auto claims = reloaded.verify(token, kNow);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->subject, "node-b");
  // And the other way round.
  EXPECT_TRUE(authority_.verify(mintOk(reloaded, request()), kNow));
}

TEST_F(TokenAuthorityTest, SimultaneousFirstStartsAgreeOnOneKey) {
  // Like a node and `token mint` starting together on an empty state directory: whoever
  // stores a key first wins and the others load it, so every token verifies afterwards.
  const fs::path state = dir_.path() / "race" / "state";
  constexpr int kStarters = 8;
  std::vector<std::string> tokens(kStarters);
  std::vector<std::string> errors(kStarters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kStarters; ++i) {
    threads.emplace_back([&, i] {
      auto authority = TokenAuthority::loadOrCreate(state, "node-a");
      if (!authority) {
        errors[i] = authority.error().message;
        return;
      }
      auto token = authority->mint(request());
      tokens[i] = token ? *token : token.error().message;
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  TokenAuthority reloaded = load(state);
  for (int i = 0; i < kStarters; ++i) {
    EXPECT_EQ(errors[i], "") << i;
    auto claims = reloaded.verify(tokens[i], kNow);
    EXPECT_TRUE(claims) << i << ": " << claims.error().toString();
  }
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(state)) {
    entries.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(entries, std::vector<std::string>{"node-key.pem"});
}

TEST_F(TokenAuthorityTest, AFreshDirectoryGetsAnotherKey) {
  TokenAuthority other = load(dir_.path() / "other");
  EXPECT_NE(readFile(keyFile()), readFile(dir_.path() / "other" / "node-key.pem"));
}

TEST_F(TokenAuthorityTest, CorruptKeyFileIsAnErrorNamingThePathAndIsNeverReplaced) {
  PkeyPtr p256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  ASSERT_TRUE(p256);
  std::string p256_pem;
  {
    BIO* bio = BIO_new(BIO_s_mem());
    ASSERT_EQ(PEM_write_bio_PrivateKey(bio, p256.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    p256_pem.assign(data, static_cast<std::size_t>(size));
    BIO_free(bio);
  }
  const std::string good = readFile(keyFile());
  const struct {
    std::string name;
    std::string content;
    std::string message_part;
  } cases[] = {
      {"garbage", "not a key at all\n", "no PEM private key"},
      {"empty", "", "no PEM private key"},
      {"truncated", good.substr(0, good.size() / 2), "no PEM private key"},
      {"p256", p256_pem, "curve prime256v1, not P-384"},
      {"oversize", std::string(100 * 1024, 'A'), "more than a key"},
  };
  for (const auto& c : cases) {
    const fs::path state = dir_.path() / c.name;
    fs::create_directories(state);
    writeFile(state / "node-key.pem", c.content);
    auto authority = TokenAuthority::loadOrCreate(state, "node-a");
    ASSERT_FALSE(authority) << c.name;
    const std::string& message = authority.error().message;
    EXPECT_NE(message.find((state / "node-key.pem").string()), std::string::npos) << message;
    EXPECT_NE(message.find(c.message_part), std::string::npos) << c.name << ": " << message;
    EXPECT_EQ(readFile(state / "node-key.pem"), c.content) << c.name << ": the file was changed";
  }
}

TEST_F(TokenAuthorityTest, UnusableStateDirectoryOrKeyPathIsAnError) {
  writeFile(dir_.path() / "a-file", "x");
  auto not_dir = TokenAuthority::loadOrCreate(dir_.path() / "a-file", "node-a");
  ASSERT_FALSE(not_dir);
  EXPECT_NE(not_dir.error().message.find((dir_.path() / "a-file").string() + ": not a directory"),
            std::string::npos)
      << not_dir.error().message;

  fs::create_directories(dir_.path() / "dir-key" / "node-key.pem");
  auto key_is_dir = TokenAuthority::loadOrCreate(dir_.path() / "dir-key", "node-a");
  ASSERT_FALSE(key_is_dir);
  EXPECT_NE(key_is_dir.error().message.find((dir_.path() / "dir-key" / "node-key.pem").string()),
            std::string::npos)
      << key_is_dir.error().message;

  if (::geteuid() != 0) { // root reads whatever the mode says
    fs::create_directories(dir_.path() / "unreadable");
    writeFile(dir_.path() / "unreadable" / "node-key.pem", readFile(keyFile()));
    fs::permissions(dir_.path() / "unreadable" / "node-key.pem", fs::perms::none);
    auto unreadable = TokenAuthority::loadOrCreate(dir_.path() / "unreadable", "node-a");
    ASSERT_FALSE(unreadable);
    EXPECT_NE(unreadable.error().message.find("node-key.pem: cannot open: Permission denied"),
              std::string::npos)
        << unreadable.error().message;
  }

  auto bad_issuer = TokenAuthority::loadOrCreate(dir_.path() / "x", "not a name");
  ASSERT_FALSE(bad_issuer);
  EXPECT_NE(bad_issuer.error().message.find("issuer"), std::string::npos);
}

// --- Minting. ------------------------------------------------------------------------------

TEST_F(TokenAuthorityTest, MintsACompactEs384JwtThatVerifies) {
  const std::string token = mintOk(authority_, request("node-b", Role::Admin, seconds(600)));
  const std::vector<std::string> parts = split(token);
  ASSERT_EQ(parts.size(), 3u) << token;
  for (const std::string& part : parts) {
    EXPECT_EQ(part.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123"
                                     "456789-_"),
              std::string::npos)
        << part;
  }
  EXPECT_EQ(base64UrlDecode(parts[0]), std::string(kEs384Header));
  const auto payload = bj::parse(*base64UrlDecode(parts[1])).as_object();
  EXPECT_EQ(payload.size(), 7u) << bj::serialize(payload);
  EXPECT_EQ(payload.at("iss").as_string(), "node-a");
  EXPECT_EQ(payload.at("sub").as_string(), "node-b");
  EXPECT_EQ(payload.at("role").as_string(), "admin");
  EXPECT_EQ(payload.at("iat").as_int64(), kNow);
  EXPECT_EQ(payload.at("nbf").as_int64(), kNow);
  EXPECT_EQ(payload.at("exp").as_int64(), kNow + 600);
  const std::string jti(payload.at("jti").as_string());
  EXPECT_EQ(jti.size(), 32u);
  EXPECT_EQ(jti.find_first_not_of("0123456789abcdef"), std::string::npos) << jti;
  EXPECT_EQ(base64UrlDecode(parts[2])->size(), 96u);
  EXPECT_TRUE(independentlyVerifies(keyFile(), token));

  auto claims = authority_.verify(token, kNow);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(*claims, (Claims{"node-b", Role::Admin, kNow, kNow, kNow + 600, jti}));
}

TEST_F(TokenAuthorityTest, EveryTokenHasItsOwnId) {
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto claims = authority_.verify(mintOk(authority_, request()), kNow);
    ASSERT_TRUE(claims);
    ids.insert(claims->id);
  }
  EXPECT_EQ(ids.size(), 20u);
}

TEST_F(TokenAuthorityTest, MintRefusesBadRequests) {
  const struct {
    MintRequest request;
    const char* message_part;
  } cases[] = {
      {request(""), "subject: must be 1-253 characters"},
      {request("-node"), "subject: must start and end"},
      {request("node b"), "subject: character ' ' not allowed"},
      {request(std::string(254, 'a')), "subject: must be 1-253"},
      {request("node-b", Role::Peer, seconds(0)), "ttl: must be 1 to"},
      {request("node-b", Role::Peer, seconds(-5)), "ttl: must be 1 to"},
      {request("node-b", Role::Peer, kMaxTokenTtl + seconds(1)), "ttl: must be 1 to"},
      {request("node-b", Role::Peer, seconds(60), -1), "not a time a token can carry"},
      {request("node-b", Role::Peer, seconds(60), kMaxNumericDate - 59),
       "not a time a token can carry"},
  };
  for (const auto& c : cases) {
    auto token = authority_.mint(c.request);
    ASSERT_FALSE(token) << c.message_part;
    EXPECT_EQ(token.error().kind, Error::Kind::InvalidArgument);
    EXPECT_NE(token.error().message.find(c.message_part), std::string::npos)
        << token.error().message;
  }
  EXPECT_TRUE(authority_.mint(request("node-b", Role::Peer, kMaxTokenTtl)));
  EXPECT_TRUE(authority_.mint(request("node-b", Role::Peer, seconds(60), kMaxNumericDate - 60)));
}

// --- Verification: each reason. ------------------------------------------------------------

TEST_F(TokenAuthorityTest, CraftedValidTokenVerifies) {
  // The control for every crafted token below: the crafting itself is sound.
  auto claims = authority_.verify(signClaims(validClaims()), kNow);
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->subject, "node-b");
  EXPECT_EQ(claims->id, "0123456789abcdef0123456789abcdef");
  // Unknown claims and header fields are ignored.
  bj::object extra = validClaims();
  extra["aud"] = "somewhere";
  EXPECT_TRUE(
      authority_.verify(signClaims(extra, R"({"typ":"JWT","kid":"k1","alg":"ES384"})"), kNow));
}

TEST_F(TokenAuthorityTest, EmptyTokenIsMissing) {
  expectRefused("", TokenError::Missing, "no token");
}

TEST_F(TokenAuthorityTest, TamperedPayloadIsABadSignature) {
  const std::vector<std::string> parts = split(mintOk(authority_, request("node-b")));
  bj::object payload = bj::parse(*base64UrlDecode(parts[1])).as_object();
  payload["sub"] = "node-c";
  expectRefused(parts[0] + "." + base64UrlEncode(bj::serialize(payload)) + "." + parts[2],
                TokenError::BadSignature, "does not verify");
  payload["sub"] = "node-b";
  payload["role"] = "admin";
  expectRefused(parts[0] + "." + base64UrlEncode(bj::serialize(payload)) + "." + parts[2],
                TokenError::BadSignature, "does not verify");
}

TEST_F(TokenAuthorityTest, FlippedSignatureBitIsABadSignature) {
  const std::vector<std::string> parts = split(mintOk(authority_, request()));
  for (std::size_t byte : {0u, 47u, 48u, 95u}) {
    std::string sig = *base64UrlDecode(parts[2]);
    sig[byte] = static_cast<char>(sig[byte] ^ 0x01);
    expectRefused(parts[0] + "." + parts[1] + "." + base64UrlEncode(sig), TokenError::BadSignature,
                  "does not verify");
  }
  // r = s = 0 and r = s = 0xff..ff (above the group order) are refused, not crashed on.
  expectRefused(parts[0] + "." + parts[1] + "." + base64UrlEncode(std::string(96, '\0')),
                TokenError::BadSignature, "does not verify");
  expectRefused(parts[0] + "." + parts[1] + "." + base64UrlEncode(std::string(96, '\xff')),
                TokenError::BadSignature, "does not verify");
}

TEST_F(TokenAuthorityTest, AnotherAuthoritysKeyIsABadSignature) {
  TokenAuthority other = load(dir_.path() / "other", "node-a"); // same issuer, other key
  const std::string token = mintOk(other, request());
  ASSERT_TRUE(other.verify(token, kNow));
  expectRefused(token, TokenError::BadSignature, "does not verify");
}

TEST_F(TokenAuthorityTest, ExpiryAllowsThirtySecondsOfSkew) {
  const std::string token = mintOk(authority_, request("node-b", Role::Peer, seconds(60)));
  const int64_t exp = kNow + 60;
  EXPECT_TRUE(authority_.verify(token, exp));
  EXPECT_TRUE(authority_.verify(token, exp + 30));
  expectRefused(token, TokenError::Expired, "expired at 1800000060 (31 s ago)", exp + 31);
  expectRefused(token, TokenError::Expired, "expired", exp + 86'400);
  expectRefused(token, TokenError::Expired, "expired", INT64_MAX);
}

TEST_F(TokenAuthorityTest, NotBeforeAndIssuedAtInTheFutureAreNotYetValid) {
  bj::object claims = validClaims();
  claims["nbf"] = kNow + 30;
  EXPECT_TRUE(authority_.verify(signClaims(claims), kNow));
  claims["nbf"] = kNow + 31;
  expectRefused(signClaims(claims), TokenError::NotYetValid, "not valid before 1800000031 (nbf");
  claims = validClaims();
  claims["iat"] = kNow + 31;
  expectRefused(signClaims(claims), TokenError::NotYetValid, "(iat, 31 s from now)");
  // A minted token used by a clock that is behind.
  const std::string minted = mintOk(authority_, request());
  EXPECT_TRUE(authority_.verify(minted, kNow - 30));
  expectRefused(minted, TokenError::NotYetValid, "not valid before", kNow - 31);
  expectRefused(minted, TokenError::NotYetValid, "not valid before", INT64_MIN);
}

TEST_F(TokenAuthorityTest, AnyAlgorithmButEs384IsRefused) {
  const std::string payload = base64UrlEncode(bj::serialize(validClaims()));
  const std::string none = base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  expectRefused(none, TokenError::BadSignature, "algorithm 'none' refused");

  // HS256 keyed with something an attacker might guess; the signature is a real HMAC.
  const std::string hs_input = base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + payload;
  unsigned char mac[32];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), "secret", 6, reinterpret_cast<const unsigned char*>(hs_input.data()),
       hs_input.size(), mac, &mac_size);
  expectRefused(hs_input + "." +
                    base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_size)),
                TokenError::BadSignature, "algorithm 'HS256' refused");

  // Other spellings and ECDSA curves, each with a signature that is otherwise right.
  for (const char* header : {R"({"alg":"es384"})", R"({"alg":"ES256"})", R"({"alg":"ES512"})",
                             R"({"alg":"ES384 "})", R"({"alg":"RS384"})"}) {
    expectRefused(signClaims(validClaims(), header), TokenError::BadSignature, "refused");
  }
  // No alg, alg not a string, crit, and headers that are not JSON objects are malformed.
  for (const char* header :
       {R"({"typ":"JWT"})", R"({"alg":384})", R"({"alg":null})",
        R"({"alg":"ES384","crit":["exp"]})", R"(["ES384"])", "ES384", R"({"alg":"ES384")", ""}) {
    expectRefused(signClaims(validClaims(), header), TokenError::Malformed, "header");
  }
}

TEST_F(TokenAuthorityTest, DerSignatureIsRefusedForItsLength) {
  const std::string der = signClaims(validClaims(), kEs384Header, SignatureForm::Der);
  const std::size_t der_size = base64UrlDecode(split(der)[2])->size();
  ASSERT_NE(der_size, 96u);
  expectRefused(der, TokenError::BadSignature,
                "signature is " + std::to_string(der_size) + " bytes; ES384 takes 96");
  for (std::size_t size : {0u, 1u, 64u, 95u, 97u, 132u}) {
    const std::vector<std::string> parts = split(signClaims(validClaims()));
    expectRefused(parts[0] + "." + parts[1] + "." + base64UrlEncode(std::string(size, 'x')),
                  TokenError::BadSignature, "signature is " + std::to_string(size) + " bytes");
  }
}

TEST_F(TokenAuthorityTest, WrongIssuerIsRefused) {
  // The same key under another node id (a node renamed but keeping its state directory).
  TokenAuthority renamed = load(dir_.path() / "state", "node-z");
  expectRefused(mintOk(renamed, request()), TokenError::WrongIssuer, "not issued by node-a");
  bj::object claims = validClaims();
  claims.erase("iss");
  expectRefused(signClaims(claims), TokenError::WrongIssuer, "not issued by node-a");
  claims["iss"] = 5;
  expectRefused(signClaims(claims), TokenError::WrongIssuer, "not issued by node-a");
  claims["iss"] = "NODE-A";
  expectRefused(signClaims(claims), TokenError::WrongIssuer, "not issued by node-a");
}

TEST_F(TokenAuthorityTest, MissingOrBadClaimsAreRefused) {
  const auto with = [](std::string_view key, bj::value value) {
    bj::object claims = validClaims();
    claims[key] = std::move(value);
    return claims;
  };
  const auto without = [](std::string_view key) {
    bj::object claims = validClaims();
    claims.erase(key);
    return claims;
  };
  const struct {
    bj::object claims;
    const char* message_part;
  } cases[] = {
      {without("sub"), "claim 'sub' is missing"},
      {with("sub", ""), "claim 'sub': must be 1-253"},
      {with("sub", 7), "claim 'sub' is missing or not a string"},
      {with("sub", "node b"), "claim 'sub': character ' ' not allowed"},
      {without("role"), "claim 'role'"},
      {with("role", "root"), "claim 'role' must be \"peer\" or \"admin\""},
      {with("role", "Admin"), "claim 'role'"},
      {with("role", bj::array{"admin"}), "claim 'role'"},
      {without("jti"), "claim 'jti'"},
      {with("jti", ""), "claim 'jti'"},
      {with("jti", bj::string(65, 'a')), "claim 'jti'"},
      {without("exp"), "claim 'exp' is missing"},
      {without("nbf"), "claim 'nbf' is missing"},
      {without("iat"), "claim 'iat' is missing"},
      {with("exp", "1800003600"), "claim 'exp' must be a whole number"},
      {with("exp", 1800003600.5), "claim 'exp' must be a whole number"},
      {with("exp", -1), "claim 'exp' must be a whole number"},
      {with("exp", kMaxNumericDate + 1), "claim 'exp' must be a whole number"},
      {with("exp", UINT64_MAX), "claim 'exp' must be a whole number"},
      {with("exp", nullptr), "claim 'exp' must be a whole number"},
      {with("iat", true), "claim 'iat' must be a whole number"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(bj::serialize(c.claims));
    expectRefused(signClaims(c.claims), TokenError::BadClaims, c.message_part);
  }
  // A signed payload that is not a JSON object.
  expectRefused(signCompact(keyFile(), kEs384Header, "[1,2]"), TokenError::Malformed,
                "payload is not a JSON object");
  expectRefused(signCompact(keyFile(), kEs384Header, "{\"sub\":"), TokenError::Malformed,
                "payload is not a JSON object");
}

TEST_F(TokenAuthorityTest, NotThreePartsIsMalformed) {
  const std::string token = mintOk(authority_, request());
  const std::vector<std::string> parts = split(token);
  for (const std::string& bad : {
           std::string("abc"),
           parts[0] + "." + parts[1],
           token + ".",
           token + "." + parts[2],
           "." + parts[1] + "." + parts[2],
           parts[0] + ".." + parts[2],
           std::string(".."),
           std::string("..."),
       }) {
    auto claims = authority_.verify(bad, kNow);
    ASSERT_FALSE(claims) << bad;
    EXPECT_EQ(claims.error().reason, TokenError::Malformed) << bad;
    EXPECT_NE(claims.error().message.find("not a JWT"), std::string::npos)
        << claims.error().message;
  }
}

// `text` extended with 'A's to a length of 4n+1, which no byte string encodes to.
std::string fourNPlusOne(std::string text) {
  do {
    text += 'A';
  } while (text.size() % 4 != 1);
  return text;
}

TEST_F(TokenAuthorityTest, BadBase64IsMalformed) {
  const std::vector<std::string> parts = split(mintOk(authority_, request()));
  const struct {
    std::string token;
    const char* part;
  } cases[] = {
      {parts[0] + "=." + parts[1] + "." + parts[2], "header"},
      {parts[0] + "." + parts[1] + "+." + parts[2], "payload"},
      {parts[0] + "." + parts[1] + "." + parts[2] + "==", "signature"},
      {parts[0] + "." + parts[1] + "." + parts[2].substr(0, 127) + "/", "signature"},
      {parts[0] + " ." + parts[1] + "." + parts[2], "header"},
      {"Bearer " + parts[0] + "." + parts[1] + "." + parts[2], "header"},
      {parts[0] + "." + fourNPlusOne(parts[1]) + "." + parts[2], "payload"},
  };
  for (const auto& c : cases) {
    expectRefused(c.token, TokenError::Malformed,
                  std::string("the ") + c.part + " is not base64url");
  }
  // Standard base64 of a signature that would verify is still refused.
  std::string std_sig = parts[2];
  std::replace(std_sig.begin(), std_sig.end(), '-', '+');
  std::replace(std_sig.begin(), std_sig.end(), '_', '/');
  if (std_sig != parts[2]) {
    expectRefused(parts[0] + "." + parts[1] + "." + std_sig, TokenError::Malformed,
                  "the signature is not base64url");
  }
}

TEST_F(TokenAuthorityTest, OversizeTokenIsRefusedBeforeDecoding) {
  // A signed, otherwise valid token of exactly kMaxTokenBytes passes; one byte more does not.
  // The length is known before signing: header.payload.signature, 96 signature bytes.
  bj::object claims = validClaims();
  const auto length = [&claims] {
    return base64UrlEncode(kEs384Header).size() + 1 +
           base64UrlEncode(bj::serialize(claims)).size() + 1 +
           base64UrlEncode(std::string(96, 'x')).size();
  };
  claims["pad"] = "";
  std::size_t pad = 0;
  for (std::size_t now = length(); now < kMaxTokenBytes; now = length()) {
    // 4 characters per 3 bytes: close in with big steps, then one byte at a time.
    const std::size_t missing = kMaxTokenBytes - now;
    pad += missing > 8 ? missing * 3 / 4 - 2 : 1;
    claims["pad"] = std::string(pad, 'x');
  }
  const std::string token = signClaims(claims);
  ASSERT_EQ(token.size(), kMaxTokenBytes);
  EXPECT_TRUE(authority_.verify(token, kNow));

  claims["pad"] = std::string(claims["pad"].as_string().size() + 3, 'x');
  const std::string longer = signClaims(claims);
  ASSERT_GT(longer.size(), kMaxTokenBytes);
  expectRefused(longer, TokenError::Malformed,
                std::to_string(longer.size()) + " bytes, more than the 8192 allowed");
  expectRefused(std::string(1 << 20, 'A'), TokenError::Malformed, "more than the 8192 allowed");
}

TEST_F(TokenAuthorityTest, RefusalMessagesDoNotEchoTheToken) {
  const std::string token = mintOk(authority_, request());
  const std::vector<std::string> parts = split(token);
  for (int64_t now : {kNow + 100'000, kNow - 100}) {
    auto claims = authority_.verify(token, now);
    ASSERT_FALSE(claims);
    for (const std::string& part : parts) {
      EXPECT_EQ(claims.error().message.find(part), std::string::npos) << claims.error().message;
    }
  }
}

// TokenCache: the signature of a token is checked once; everything that depends on the time is
// checked on every call, exactly as TokenAuthority::verify() does.
TEST(TokenCacheTest, RemembersAVerifiedTokenButChecksItsTimesEveryCall) {
  TempDir dir;
  const TokenAuthority authority = load(dir.path());
  TokenCache cache(authority);
  const std::string token = mintOk(authority, request("node-b", Role::Peer, seconds(3600)));

  auto first = cache.verify(token, kNow);
  ASSERT_TRUE(first) << first.error().toString();
  EXPECT_EQ(cache.hits(), 0u);
  auto again = cache.verify(token, kNow + 10);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(cache.hits(), 1u);

  // Expiry and not-before are the authority's, with the same messages.
  for (const int64_t now : {kNow + 3600 + 31, kNow - 31, kNow + 3600 + 30, kNow - 30}) {
    const auto from_cache = cache.verify(token, now);
    const auto direct = authority.verify(token, now);
    ASSERT_EQ(bool(from_cache), bool(direct)) << now;
    if (!direct) {
      EXPECT_EQ(from_cache.error(), direct.error()) << now;
    } else {
      EXPECT_EQ(*from_cache, *direct);
    }
  }
  EXPECT_FALSE(cache.verify(token, kNow + 3600 + 31));
  EXPECT_EQ(cache.verify(token, kNow + 3600 + 31).error().reason, TokenError::Expired);
}

TEST(TokenCacheTest, RefusedTokensAreNotRememberedAndTheSizeIsBounded) {
  TempDir dir;
  const TokenAuthority authority = load(dir.path());
  TokenCache cache(authority, /*capacity=*/2);
  std::string token = mintOk(authority, request());
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A'; // the signature no longer verifies
  EXPECT_EQ(cache.verify(forged, kNow).error().reason, TokenError::BadSignature);
  EXPECT_EQ(cache.verify(forged, kNow).error().reason, TokenError::BadSignature);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.hits(), 0u);

  const std::string a = mintOk(authority, request("node-a"));
  const std::string b = mintOk(authority, request("node-b"));
  const std::string c = mintOk(authority, request("node-c"));
  for (const std::string& t : {a, b, c}) {
    ASSERT_TRUE(cache.verify(t, kNow));
  }
  EXPECT_EQ(cache.size(), 2u); // `a` was forgotten first
  ASSERT_TRUE(cache.verify(c, kNow));
  EXPECT_EQ(cache.hits(), 1u);
  ASSERT_TRUE(cache.verify(a, kNow)); // verified again, not from memory
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.verify(a, kNow)->subject, "node-a");
}

} // namespace
} // namespace catalyst::auth
