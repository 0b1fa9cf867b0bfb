#include "exchange/transport/url.h"

#include <gtest/gtest.h>

#include "exchange/transport/http_client.h"

namespace tickflow::exchange::transport {
namespace {

TEST(UrlTest, ParsesBinanceStreamUrl) {
  auto u = parse_url("wss://stream.binance.com:9443/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade");
  ASSERT_TRUE(u.is_ok()) << u.status().to_string();
  EXPECT_EQ(u->scheme, "wss");
  EXPECT_EQ(u->host, "stream.binance.com");
  EXPECT_EQ(u->port, 9443);
  EXPECT_EQ(u->target, "/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade");
  EXPECT_TRUE(u->tls());
  EXPECT_TRUE(u->websocket());
  EXPECT_EQ(u->host_header(), "stream.binance.com:9443");
}

TEST(UrlTest, DefaultsPortAndTarget) {
  auto https = parse_url("https://api.binance.com");
  ASSERT_TRUE(https.is_ok());
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->target, "/");
  EXPECT_EQ(https->host_header(), "api.binance.com");
  EXPECT_FALSE(https->websocket());
  auto ws = parse_url("WS://127.0.0.1:8080?x=1");
  ASSERT_TRUE(ws.is_ok());
  EXPECT_EQ(ws->scheme, "ws");
  EXPECT_EQ(ws->port, 8080);
  EXPECT_EQ(ws->target, "/?x=1");
  EXPECT_FALSE(ws->tls());
  EXPECT_EQ(ws->to_string(), "ws://127.0.0.1:8080/?x=1");
  auto http = parse_url("http://localhost/api/v3/aggTrades?symbol=BTCUSDT");
  ASSERT_TRUE(http.is_ok());
  EXPECT_EQ(http->port, 80);
  EXPECT_EQ(http->to_string(), "http://localhost/api/v3/aggTrades?symbol=BTCUSDT");
}

TEST(UrlTest, ParsesIpv6Literal) {
  auto u = parse_url("ws://[::1]:9000/ws");
  ASSERT_TRUE(u.is_ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->host_header(), "[::1]:9000");
}

TEST(UrlTest, RejectsBadUrls) {
  for (const char* bad : {"stream.binance.com", "ftp://x", "ws://", "ws://:80/", "ws://h:0", "ws://h:70000",
                          "ws://h:12a", "ws://user@h/", "https://h/#frag", "ws://h:/"}) {
    auto u = parse_url(bad);
    EXPECT_FALSE(u.is_ok()) << bad;
    if (!u.is_ok()) {
      EXPECT_EQ(u.status().code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(u.status().message().find(bad), std::string::npos);
    }
  }
}

TEST(UrlTest, EncodesQueryValues) {
  EXPECT_EQ(url_encode("BTCUSDT"), "BTCUSDT");
  EXPECT_EQ(url_encode("a b/c@d"), "a%20b%2Fc%40d");
}

TEST(HttpResponseTest, HeaderLookupIsCaseInsensitiveAndParsesRetryAfter) {
  HttpResponse r;
  r.status = 429;
  r.headers = {{"Content-Type", "application/json"}, {"retry-after", " 7 "}};
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("Retry-After"), " 7 ");
  EXPECT_EQ(r.retry_after_seconds(), 7);
  r.headers = {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}};
  EXPECT_EQ(r.retry_after_seconds(), -1);
  r.headers.clear();
  EXPECT_EQ(r.header("Retry-After"), "");
  EXPECT_EQ(r.retry_after_seconds(), -1);
}

}  // namespace
}  // namespace tickflow::exchange::transport
