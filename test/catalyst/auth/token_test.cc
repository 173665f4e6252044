#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "catalyst/auth/token.h"

namespace catalyst::auth {
namespace {

using std::chrono::seconds;

TEST(TokenTest, RoleSpellings) {
  EXPECT_EQ(toString(Role::Peer), "peer");
  EXPECT_EQ(toString(Role::Admin), "admin");
  EXPECT_EQ(parseRole("peer"), Role::Peer);
  EXPECT_EQ(parseRole("admin"), Role::Admin);
  for (const char* bad : {"", "Peer", "ADMIN", "root", "peer ", "admin\n"}) {
    EXPECT_EQ(parseRole(bad), std::nullopt) << bad;
  }
}

TEST(TokenTest, ReasonNamesAreTheMetricsLabels) {
  EXPECT_EQ(reasonName(TokenError::Missing), "missing");
  EXPECT_EQ(reasonName(TokenError::Malformed), "malformed");
  EXPECT_EQ(reasonName(TokenError::BadSignature), "bad_signature");
  EXPECT_EQ(reasonName(TokenError::Expired), "expired");
  EXPECT_EQ(reasonName(TokenError::NotYetValid), "not_yet_valid");
  EXPECT_EQ(reasonName(TokenError::WrongIssuer), "wrong_issuer");
  EXPECT_EQ(reasonName(TokenError::BadClaims), "bad_claims");
  EXPECT_EQ((TokenRejection{TokenError::Expired, "token expired at 5"}).toString(),
            "expired: token expired at 5");
}

TEST(ParseTtlTest, AcceptsEveryUnit) {
  const struct {
    const char* text;
    int64_t seconds;
  } cases[] = {
      {"30s", 30},
      {"90", 90},
      {"1", 1},
      {"15m", 900},
      {"12h", 43'200},
      {"7d", 604'800},
      {"2w", 1'209'600},
      {"007d", 604'800},
      {"3652d", 315'532'800},
      {"521w", 315'100'800},
      {"315569520", 315'569'520}, // 10 years of 365.2425 days
  };
  for (const auto& c : cases) {
    auto ttl = parseTtl(c.text);
    ASSERT_TRUE(ttl) << c.text << ": " << ttl.error().message;
    EXPECT_EQ(*ttl, seconds(c.seconds)) << c.text;
  }
  EXPECT_EQ(kMaxTokenTtl, seconds(315'569'520));
}

TEST(ParseTtlTest, RefusesZeroNegativeJunkAndTooLong) {
  const struct {
    const char* text;
    const char* message_part;
  } cases[] = {
      {"", "expected a positive whole number"},
      {"0", "must be above 0"},
      {"0s", "must be above 0"},
      {"000w", "must be above 0"},
      {"-5", "expected a positive whole number"},
      {"+5", "expected a positive whole number"},
      {"-5m", "expected a positive whole number"},
      {"5x", "expected a positive whole number"},
      {"5S", "expected a positive whole number"},
      {"5D", "expected a positive whole number"},
      {"1h30m", "expected a positive whole number"},
      {"5ms", "expected a positive whole number"},
      {" 5", "expected a positive whole number"},
      {"5 ", "expected a positive whole number"},
      {"1.5h", "expected a positive whole number"},
      {"1e3", "expected a positive whole number"},
      {"s", "expected a positive whole number"},
      {"d7", "expected a positive whole number"},
      {"0x10", "expected a positive whole number"},
      {"3653d", "at most 10 years"},
      {"522w", "at most 10 years"},
      {"315569521", "at most 10 years"},
      {"99999999999999999999999999", "at most 10 years"},
      {"18446744073709551616s", "at most 10 years"},
      {"153722867280912930w", "at most 10 years"}, // * 604800 overflows int64
  };
  for (const auto& c : cases) {
    auto ttl = parseTtl(c.text);
    ASSERT_FALSE(ttl) << "'" << c.text << "' accepted as " << ttl->count();
    EXPECT_EQ(ttl.error().kind, Error::Kind::InvalidArgument);
    EXPECT_NE(ttl.error().message.find(c.message_part), std::string::npos)
        << c.text << ": " << ttl.error().message;
    EXPECT_NE(ttl.error().message.find("'" + std::string(c.text) + "'"), std::string::npos)
        << "the message quotes the input: " << ttl.error().message;
  }
}

} // namespace
} // namespace catalyst::auth
