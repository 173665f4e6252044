#include <gtest/gtest.h>

#include "catalyst/transport/url.h"

namespace catalyst::transport {
namespace {

Url parsed(std::string_view text) {
  Result<Url> url = parseUrl(text);
  EXPECT_TRUE(url) << text << ": " << (url ? "" : url.error().message);
  return url ? *url : Url{};
}

std::string problem(std::string_view text) {
  Result<Url> url = parseUrl(text);
  if (url) {
    return "<parsed>";
  }
  EXPECT_EQ(url.error().kind, Error::Kind::InvalidArgument);
  return url.error().message;
}

TEST(UrlTest, SplitsSchemeHostPortAndTarget) {
  EXPECT_EQ(parsed("ws://127.0.0.1:3000/rpc"),
            (Url{.scheme = "ws", .host = "127.0.0.1", .port = 3000, .target = "/rpc"}));
  EXPECT_EQ(parsed("HTTP://Example.com:8080/a/b?x=1&y=2#frag"),
            (Url{.scheme = "http", .host = "Example.com", .port = 8080, .target = "/a/b?x=1&y=2"}));
}

TEST(UrlTest, DefaultsPortAndTarget) {
  EXPECT_EQ(parsed("ws://node-a"),
            (Url{.scheme = "ws", .host = "node-a", .port = 80, .target = "/"}));
  EXPECT_EQ(parsed("wss://node-a?x"),
            (Url{.scheme = "wss", .host = "node-a", .port = 443, .target = "/?x"}));
  EXPECT_EQ(parsed("https://h").port, 443);
}

TEST(UrlTest, Ipv6Literal) {
  const Url url = parsed("ws://[::1]:3000/rpc");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 3000);
  EXPECT_EQ(url.hostPort(), "[::1]:3000");
  EXPECT_EQ(parsed("http://[fe80::1]").port, 80);
}

TEST(UrlTest, HostPortForIpv4AndNames) {
  EXPECT_EQ(parsed("ws://127.0.0.1:1/").hostPort(), "127.0.0.1:1");
  EXPECT_EQ(parsed("ws://a.example").hostPort(), "a.example:80");
}

TEST(UrlTest, RejectsMalformedUrls) {
  EXPECT_EQ(problem("127.0.0.1:3000"),
            "invalid URL '127.0.0.1:3000': expected scheme://host[:port][/path]");
  EXPECT_EQ(problem("://h"), "invalid URL '://h': expected scheme://host[:port][/path]");
  EXPECT_EQ(problem("ws:///rpc"), "invalid URL 'ws:///rpc': no host");
  EXPECT_EQ(problem("ws://h:/rpc"), "invalid URL 'ws://h:/rpc': empty port");
  EXPECT_EQ(problem("ws://h:0"), "invalid URL 'ws://h:0': bad port '0'");
  EXPECT_EQ(problem("ws://h:65536"), "invalid URL 'ws://h:65536': bad port '65536'");
  EXPECT_EQ(problem("ws://h:99999999999999999999"),
            "invalid URL 'ws://h:99999999999999999999': bad port '99999999999999999999'");
  EXPECT_EQ(problem("ws://h:3x"), "invalid URL 'ws://h:3x': bad port '3x'");
  EXPECT_EQ(problem("ws://[::1"), "invalid URL 'ws://[::1': unterminated IPv6 address");
  EXPECT_EQ(problem("ws://[::1]x"),
            "invalid URL 'ws://[::1]x': unexpected text after the IPv6 address");
  EXPECT_EQ(problem("ws://u:p@h/"),
            "invalid URL 'ws://u:p@h/': credentials in URLs are not supported");
  EXPECT_EQ(problem("ws://h /x"),
            "invalid URL 'ws://h /x': spaces and control characters are not allowed");
  EXPECT_EQ(problem("foo://h"), "invalid URL 'foo://h': no port, and scheme 'foo' has no default");
  EXPECT_EQ(problem(""), "invalid URL '': expected scheme://host[:port][/path]");
}

} // namespace
} // namespace catalyst::transport
