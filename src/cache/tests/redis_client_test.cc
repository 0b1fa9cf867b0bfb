// The hiredis seam against a real redis-server: URL parsing and redaction, pipelining, AUTH,
// and the reconnect gate (fail fast while in backoff, reconnect after the server is back).
#include "cache/redis/redis_client.h"

#include <gtest/gtest.h>

#include "tests/servers/redis_server.h"

namespace tickflow::cache::redis {
namespace {

using tickflow::testing::RedisServer;
using tickflow::testing::RedisServerOptions;
using tickflow::testing::wait_until;

TEST(RedisUrl, ParsesEveryPartAndNeverPrintsThePassword) {
  auto u = RedisUrl::parse("redis://app:s3cret@cache.local:6380/2");
  ASSERT_TRUE(u) << u.status().message();
  EXPECT_EQ(u->user, "app");
  EXPECT_EQ(u->password, "s3cret");
  EXPECT_EQ(u->host, "cache.local");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 2);
  EXPECT_EQ(u->redacted(), "redis://app:***@cache.local:6380/2");
  EXPECT_EQ(u->redacted().find("s3cret"), std::string::npos);

  auto d = RedisUrl::parse("redis://localhost");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 6379);
  EXPECT_EQ(d->db, 0);
  EXPECT_EQ(d->redacted(), "redis://localhost:6379/0");
  auto legacy = RedisUrl::parse("redis://:pw@h:1/0");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->password, "pw");
  EXPECT_EQ(legacy->redacted(), "redis://:***@h:1/0");
}

TEST(RedisUrl, RejectsMalformedUrls) {
  for (const char* bad : {"http://h:1", "redis://", "redis://h:0", "redis://h:99999", "redis://h:1/x",
                          "redis://h:port", "rediss://h:1"}) {
    EXPECT_FALSE(RedisUrl::parse(bad)) << bad;
  }
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.start()) << server_.error(); }
  RedisClientConfig config(const std::string& url) {
    RedisClientConfig c;
    c.url = RedisUrl::parse(url).value();
    c.backoff_initial = 50 * kNsPerMs;
    c.backoff_max = 200 * kNsPerMs;
    return c;
  }
  RedisServer server_;
};

TEST_F(RedisClientTest, PipelinesCommandsInOrder) {
  RedisClientConfig c = config(server_.url());
  ReconnectGate gate(c.backoff_initial, c.backoff_max);
  RedisConnection conn(c, gate);
  auto r = conn.pipeline({{"SET", "k", "v1"}, {"GET", "k"}, {"INCRBY", "n", "5"}, {"GET", "missing"},
                          {"HGET", "k", "f"}});
  ASSERT_TRUE(r) << r.status().message();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].str, "OK");
  EXPECT_EQ((*r)[1].str, "v1");
  EXPECT_EQ((*r)[2].integer, 5);
  EXPECT_TRUE((*r)[3].is_nil());
  EXPECT_TRUE((*r)[4].is_error());  // WRONGTYPE comes back as a reply, the connection stays
  EXPECT_TRUE(conn.connected());
  EXPECT_TRUE(gate.healthy());
}

TEST_F(RedisClientTest, BinarySafeValues) {
  RedisClientConfig c = config(server_.url());
  ReconnectGate gate(c.backoff_initial, c.backoff_max);
  RedisConnection conn(c, gate);
  std::string value("a\0b\r\nc", 6);
  ASSERT_TRUE(conn.command({"SET", "bin", value}));
  auto r = conn.command({"GET", "bin"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str, value);
}

TEST(RedisAuth, AuthenticatesAndAWrongPasswordIsReportedWithoutIt) {
  RedisServer server(RedisServerOptions{"hunter2-secret"});
  ASSERT_TRUE(server.start()) << server.error();
  RedisClientConfig c;
  c.url = RedisUrl::parse(server.url()).value();
  ReconnectGate gate(c.backoff_initial, c.backoff_max);
  RedisConnection conn(c, gate);
  auto ok = conn.command({"PING"});
  ASSERT_TRUE(ok) << ok.status().message();
  EXPECT_EQ(ok->str, "PONG");

  RedisClientConfig bad = c;
  bad.url.password = "wrong-password-value";
  ReconnectGate gate2(bad.backoff_initial, bad.backoff_max);
  RedisConnection conn2(bad, gate2);
  auto r = conn2.command({"PING"});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.status().retryable());
  EXPECT_EQ(r.status().message().find("wrong-password-value"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("***"), std::string::npos) << r.status().message();
  EXPECT_FALSE(gate2.healthy());
  EXPECT_EQ(gate2.last_error().find("wrong-password-value"), std::string::npos);
}

TEST(ReconnectGate, BackoffDoublesUpToTheMaximumAndResetsOnSuccess) {
  ReconnectGate gate(100 * kNsPerMs, 500 * kNsPerMs);
  EXPECT_TRUE(gate.may_attempt());
  std::vector<DurationNs> delays;
  for (int i = 0; i < 5; ++i) {
    gate.on_failure("refused");
    delays.push_back(gate.current_backoff());
  }
  EXPECT_EQ(delays, (std::vector<DurationNs>{100 * kNsPerMs, 200 * kNsPerMs, 400 * kNsPerMs, 500 * kNsPerMs,
                                             500 * kNsPerMs}));
  EXPECT_FALSE(gate.may_attempt());  // 500 ms from now
  EXPECT_FALSE(gate.healthy());
  EXPECT_EQ(gate.last_error(), "refused");
  gate.on_success();
  EXPECT_TRUE(gate.may_attempt());
  EXPECT_TRUE(gate.healthy());
  EXPECT_EQ(gate.current_backoff(), 0);
}

TEST_F(RedisClientTest, DownServerFailsFastDuringBackoffThenReconnects) {
  RedisClientConfig c = config(server_.url());
  c.backoff_initial = c.backoff_max = 1 * kNsPerSec;
  ReconnectGate gate(c.backoff_initial, c.backoff_max);
  RedisConnection conn(c, gate);
  ASSERT_TRUE(conn.command({"SET", "k", "v"}));

  server_.kill();
  auto r = conn.command({"GET", "k"});  // the dead connection is noticed...
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.status().retryable());
  EXPECT_FALSE(conn.connected());
  EXPECT_FALSE(gate.healthy());
  // ...and while in backoff no connect is attempted: the call fails at once, counting nothing.
  const uint64_t failures = gate.failures();
  auto again = conn.command({"GET", "k"});
  ASSERT_FALSE(again);
  EXPECT_NE(again.status().message().find("backoff"), std::string::npos) << again.status().message();
  EXPECT_EQ(gate.failures(), failures);

  ASSERT_TRUE(server_.restart()) << server_.error();
  ASSERT_TRUE(wait_until([&] { return conn.command({"PING"}).is_ok(); }, std::chrono::seconds(20)));
  EXPECT_TRUE(gate.healthy());
  EXPECT_EQ(gate.current_backoff(), 0);
}

TEST(ShippedRedisConf, LoadsWithRdbAndAofPersistenceOn) {
  RedisServerOptions options;
  options.config_file = std::string(TICKFLOW_SOURCE_DIR) + "/deploy/redis/redis.conf";
  RedisServer server(options);
  ASSERT_TRUE(server.start()) << server.error();
  EXPECT_NE(server.command({"CONFIG", "GET", "appendonly"}).find("yes"), std::string::npos);
  EXPECT_NE(server.command({"CONFIG", "GET", "appendfsync"}).find("everysec"), std::string::npos);
  EXPECT_NE(server.command({"CONFIG", "GET", "save"}).find("3600 1 300 100 60 10000"), std::string::npos);
  // Only keys with a TTL are evicted, so the rebuild marker (no TTL) survives memory pressure.
  EXPECT_NE(server.command({"CONFIG", "GET", "maxmemory-policy"}).find("volatile-lru"), std::string::npos);
}

}  // namespace
}  // namespace tickflow::cache::redis
