// PgCandleStore against a real PostgreSQL 15: migrations, exact round trip, precedence
// (idempotent replays, out of order, revisions), indicators, trades, partitions and retention,
// no password in errors.
#include "storage/postgres/pg_candle_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "storage/postgres/partitions.h"
#include "storage/postgres/pg_rows.h"
#include "storage/postgres/tests/pg_test_util.h"

namespace tickflow::storage::pg::testing {
namespace {

CandleQuery all_of(const std::string& symbol, const std::string& tf = "1m") {
  CandleQuery q;
  q.symbol = symbol;
  q.timeframe = *Timeframe::parse(tf);
  q.start = INT64_MIN / 2;
  q.limit = 100000;
  return q;
}

void expect_same_candle(const Candle& a, const Candle& b) {
  EXPECT_EQ(a.exchange, b.exchange);
  EXPECT_EQ(a.symbol, b.symbol);
  EXPECT_EQ(a.exchange_symbol, b.exchange_symbol);
  EXPECT_EQ(a.timeframe, b.timeframe);
  EXPECT_EQ(a.open_time, b.open_time);
  EXPECT_EQ(a.close_time, b.close_time);
  // Exact decimals, printed back with the same scale.
  EXPECT_EQ(a.open.to_string(), b.open.to_string());
  EXPECT_EQ(a.high.to_string(), b.high.to_string());
  EXPECT_EQ(a.low.to_string(), b.low.to_string());
  EXPECT_EQ(a.close.to_string(), b.close.to_string());
  EXPECT_EQ(a.volume.to_string(), b.volume.to_string());
  EXPECT_EQ(a.quote_volume.to_string(), b.quote_volume.to_string());
  EXPECT_EQ(a.taker_buy_volume.to_string(), b.taker_buy_volume.to_string());
  EXPECT_EQ(a.taker_buy_quote_volume.to_string(), b.taker_buy_quote_volume.to_string());
  EXPECT_EQ(a.trades, b.trades);
  EXPECT_EQ(a.first_trade_id, b.first_trade_id);
  EXPECT_EQ(a.last_trade_id, b.last_trade_id);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.revision, b.revision);
  EXPECT_DOUBLE_EQ(a.coverage, b.coverage);
  EXPECT_EQ(a.gap_reason, b.gap_reason);
}

using PgCandleStoreTest = PgTest;

TEST_F(PgCandleStoreTest, MigrationsAreAppliedOnceAndVersioned) {
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(sql("SELECT string_agg(version::text, ',' ORDER BY version) FROM tickflow_schema_migrations"), "1,3,4");
  // Migration 3: trades keep one index, the identity ordered for range reads.
  EXPECT_EQ(sql("SELECT string_agg(indexname, ',') FROM pg_indexes WHERE tablename = 'trades'"), "trades_identity");
  EXPECT_EQ(sql("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'trades_identity'"),
            "UNIQUE (exchange, symbol, \"time\", trade_id, aggregated)");
  const std::string applied_at = sql("SELECT applied_at::text FROM tickflow_schema_migrations WHERE version = 1");
  for (const char* table : {"ohlcv", "trades", "indicators", "alerts", "orderbook_snapshots", "consumer_positions"}) {
    EXPECT_EQ(sql(std::string("SELECT to_regclass('public.") + table + "') IS NOT NULL"), "t") << table;
  }
  // The spec's columns, with exact numerics.
  EXPECT_EQ(sql("SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position) FROM "
                "information_schema.columns WHERE table_name = 'ohlcv' AND ordinal_position <= 9"),
            "time:timestamp with time zone,exchange:text,symbol:text,timeframe:text,open:numeric,"
            "high:numeric,low:numeric,close:numeric,volume:numeric");
  store.reset();

  // A second start applies nothing and keeps the record.
  auto again = open_store();
  ASSERT_TRUE(again);
  EXPECT_EQ(sql("SELECT count(*) FROM tickflow_schema_migrations"), "3");
  EXPECT_EQ(sql("SELECT applied_at::text FROM tickflow_schema_migrations WHERE version = 1"), applied_at);
  auto conn = PgConnection::connect(options().conn);
  ASSERT_TRUE(conn);
  auto n = apply_migrations(**conn, store_migrations(false));
  ASSERT_TRUE(n) << n.status().to_string();
  EXPECT_EQ(*n, 0);
  // A new version is applied exactly once, on top.
  std::vector<Migration> more = store_migrations(false);
  more.push_back({7, "add notes", "CREATE TABLE notes (id int)", true});
  EXPECT_EQ(*apply_migrations(**conn, more), 1);
  EXPECT_EQ(*apply_migrations(**conn, more), 0);
  EXPECT_EQ(sql("SELECT name FROM tickflow_schema_migrations WHERE version = 7"), "add notes");
}

TEST_F(PgCandleStoreTest, FailingMigrationStopsWithTheSqlErrorAndKeepsNothing) {
  PgStoreOptions o = options();
  o.extra_migrations.push_back(
      {50, "broken", "CREATE TABLE half_done (id int); ALTER TABLE no_such_table ADD COLUMN x int", true});
  auto s = PgCandleStore::open(o);
  ASSERT_FALSE(s);
  EXPECT_FALSE(s.status().retryable());
  EXPECT_NE(s.status().message().find("migration 50 (broken) failed"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("relation \"no_such_table\" does not exist"), std::string::npos)
      << s.status().message();
  EXPECT_EQ(sql("SELECT to_regclass('public.half_done') IS NULL"), "t");  // rolled back
  EXPECT_EQ(sql("SELECT count(*) FROM tickflow_schema_migrations WHERE version = 50"), "0");
  EXPECT_EQ(sql("SELECT count(*) FROM tickflow_schema_migrations WHERE version = 1"), "1");
}

TEST_F(PgCandleStoreTest, RoundTripIsExactAndHealthNamesTheFlavour) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::vector<Candle> in = {make_candle("BTC-USDT", 0, "43050.12000000"),
                            make_candle("BTC-USDT", 1, "43051.00000000", CandleStatus::kProvisional),
                            make_candle("ETH-USDT", 0, "3200.10", CandleStatus::kCorrected, 2)};
  ASSERT_TRUE(store->write(in, {{"historical", "normalized.ohlcv", 3, 17}}).is_ok());
  auto out = store->query(all_of("BTC-USDT"));
  ASSERT_TRUE(out) << out.status().to_string();
  ASSERT_EQ(out->size(), 2u);
  expect_same_candle((*out)[0], in[0]);
  expect_same_candle((*out)[1], in[1]);
  auto eth = store->query(all_of("ETH-USDT"));
  ASSERT_EQ(eth->size(), 1u);
  expect_same_candle((*eth)[0], in[2]);
  EXPECT_EQ(*store->position("historical", "normalized.ohlcv", 3), 17);
  EXPECT_EQ(*store->position("historical", "normalized.ohlcv", 2), 0);
  EXPECT_EQ(sql("SELECT vwap::text FROM ohlcv WHERE symbol = 'BTC-USDT' AND status = 'final'"),
            in[0].vwap().to_string());

  auto h = store->health();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "postgres");
  EXPECT_EQ(h->state, HealthState::kUp);
  EXPECT_NE(h->detail.find("postgresql 15."), std::string::npos) << h->detail;
  EXPECT_NE(h->detail.find("native partitioning"), std::string::npos) << h->detail;
  EXPECT_FALSE(store->timescale());  // Debian has no TimescaleDB
}

// The range read decodes numeric and timestamptz from binary results: the same values as the
// text form parsed by Decimal / WideDecimal (scale = the decimals numeric_out prints).
TEST_F(PgCandleStoreTest, BinaryNumericAndTimestampMatchTheirText) {
  auto conn = PgConnection::connect(options().conn);
  ASSERT_TRUE(conn) << conn.status().to_string();
  for (const char* text : {"0", "0.00000000", "-0.5", "1", "9999", "10000", "100000000", "12.34567800",
                           "43050.12000000", "-43050.00010000", "0.00000001", "0.000000000000000001",
                           "123456789012345678", "-922337203685477.5807", "530887.1234567800000000",
                           "170141183460469231731687303715884105727", "1e-30", "12345678901234567890.123",
                           "-12.5", "0.001", "99999999.99999999", "1234567890123456", "-0.0000000000000000000001",
                           "100000000000000000000000", "1000000000000000000000000000000000000", "6.10000000"}) {
    auto r = (*conn)->exec_prepared("numeric_probe", "SELECT $1::numeric, $1::numeric::text", {text}, true);
    ASSERT_TRUE(r) << r.status().to_string();
    const std::string shown((*r).get(0, 1));
    __int128 units = 0;
    int scale = 0;
    const bool wide_ok = pg_binary::numeric((*r).get(0, 0), WideDecimal::kMaxScale, units, scale);
    auto wide = WideDecimal::parse(shown);
    if (wide) {
      EXPECT_TRUE(wide_ok) << text;  // at least everything the text form accepts
    }
    if (wide_ok && wide) {
      EXPECT_TRUE(WideDecimal(units, scale) == *wide) << text;
      EXPECT_EQ(WideDecimal(units, scale).to_string(), wide->to_string()) << text;
    }
    Decimal d;
    if (Decimal::parse(shown, d)) {
      ASSERT_TRUE(pg_binary::numeric((*r).get(0, 0), Decimal::kMaxScale, units, scale)) << text;
      EXPECT_EQ(static_cast<int64_t>(units), d.units()) << text;
      EXPECT_EQ(scale, d.scale()) << text;
    }
  }
  for (const char* bad : {"NaN", "Infinity", "-Infinity"}) {
    auto r = (*conn)->exec_prepared("numeric_probe", "SELECT $1::numeric, $1::numeric::text", {bad}, true);
    ASSERT_TRUE(r) << r.status().to_string();
    __int128 units = 0;
    int scale = 0;
    EXPECT_FALSE(pg_binary::numeric((*r).get(0, 0), WideDecimal::kMaxScale, units, scale)) << bad;
  }
  for (TimestampNs ts : {kT0, kT0 + 123456000, TimestampNs{0}, TimestampNs{-86'400'000'000'000}}) {
    auto r = (*conn)->exec_prepared("ts_probe", "SELECT $1::timestamptz", {timestamptz(ts)}, true);
    ASSERT_TRUE(r) << r.status().to_string();
    TimestampNs back = 0;
    ASSERT_TRUE(pg_binary::timestamptz_ns((*r).get(0, 0), back));
    EXPECT_EQ(back, ts);
  }
}

TEST_F(PgCandleStoreTest, HighestPrecedenceWinsAndReplaysAreIdempotent) {
  auto store = open_store();
  ASSERT_TRUE(store);
  const Candle prov = make_candle("BTC-USDT", 0, "100.00", CandleStatus::kProvisional);
  const Candle fin = make_candle("BTC-USDT", 0, "101.00", CandleStatus::kFinal);
  const Candle rev1 = make_candle("BTC-USDT", 0, "102.00", CandleStatus::kCorrected, 1);
  const Candle rev1b = make_candle("BTC-USDT", 0, "102.50", CandleStatus::kCorrected, 1);

  // Out of order across batches: the correction first, then older states (ignored).
  ASSERT_TRUE(store->write({rev1}, {}).is_ok());
  ASSERT_TRUE(store->write({fin, prov}, {}).is_ok());
  auto out = store->query(all_of("BTC-USDT"));
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].close.to_string(), "102.00");
  EXPECT_EQ((*out)[0].revision, 1u);

  // Equal precedence replaces (later wins), within a batch too; a lower one after it is ignored.
  ASSERT_TRUE(store->write({rev1, rev1b, fin}, {}).is_ok());
  out = store->query(all_of("BTC-USDT"));
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].close.to_string(), "102.50");

  // The same records twice: same table content.
  std::vector<Candle> batch;
  for (int m = 1; m <= 50; ++m) batch.push_back(make_candle("ETH-USDT", m, std::to_string(3000 + m) + ".5"));
  ASSERT_TRUE(store->write(batch, {{"historical", "normalized.ohlcv", 0, 50}}).is_ok());
  const std::string digest_sql =
      "SELECT md5(string_agg(t::text, '|' ORDER BY time)) FROM (SELECT time, close, revision, status "
      "FROM ohlcv WHERE symbol = 'ETH-USDT') t";
  const std::string before = sql(digest_sql);
  std::reverse(batch.begin(), batch.end());
  ASSERT_TRUE(store->write(batch, {{"historical", "normalized.ohlcv", 0, 50}}).is_ok());
  EXPECT_EQ(sql(digest_sql), before);
  EXPECT_EQ(sql("SELECT count(*) FROM ohlcv WHERE symbol = 'ETH-USDT'"), "50");

  // Provisional updates of an open candle replace each other (same precedence).
  ASSERT_TRUE(store->write({make_candle("SOL-USDT", 0, "20.1", CandleStatus::kProvisional)}, {}).is_ok());
  ASSERT_TRUE(store->write({make_candle("SOL-USDT", 0, "20.3", CandleStatus::kProvisional)}, {}).is_ok());
  EXPECT_EQ(store->query(all_of("SOL-USDT"))->at(0).close.to_string(), "20.3");
}

TEST_F(PgCandleStoreTest, QueryRangeLimitAndSeries) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::vector<Candle> batch;
  for (int m = 0; m < 3000; ++m) batch.push_back(make_candle("BTC-USDT", m, std::to_string(40000 + m) + ".00"));
  batch.push_back(make_candle("BTC-USDT", 0, "1.00", CandleStatus::kFinal, 0, "1h"));
  ASSERT_TRUE(store->write(batch, {}).is_ok());

  CandleQuery q = all_of("BTC-USDT");
  q.start = kT0 + 100 * kNsPerMin;
  q.end = kT0 + 2000 * kNsPerMin;
  q.limit = 1000;
  auto out = store->query(q);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->size(), 1000u);  // the most recent 1000 of [100, 2000), oldest first
  EXPECT_EQ(out->front().open_time, kT0 + 1000 * kNsPerMin);
  EXPECT_EQ(out->back().open_time, kT0 + 1999 * kNsPerMin);
  EXPECT_TRUE(std::is_sorted(out->begin(), out->end(),
                             [](const Candle& a, const Candle& b) { return a.open_time < b.open_time; }));
  q.start = q.end;
  EXPECT_TRUE(store->query(q)->empty());

  EXPECT_TRUE(*store->has_series(Exchange::kBinance, "BTC-USDT", *Timeframe::parse("1m")));
  EXPECT_TRUE(*store->has_series(Exchange::kBinance, "BTC-USDT", *Timeframe::parse("1h")));
  EXPECT_FALSE(*store->has_series(Exchange::kBinance, "BTC-USDT", *Timeframe::parse("5m")));
  EXPECT_FALSE(*store->has_series(Exchange::kCoinbase, "BTC-USDT", *Timeframe::parse("1m")));
  auto series = store->list_series();
  ASSERT_TRUE(series);
  ASSERT_EQ(series->size(), 2u);
  int64_t total = 0;
  for (const auto& s : *series) total += s.candles;
  EXPECT_EQ(total, 3001);
  // 3000 minutes span 3 days: the 1m candles sit in daily partitions of ohlcv_1m.
  EXPECT_GE(std::stoi(sql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'ohlcv_1m'::regclass")), 3);
}

TEST_F(PgCandleStoreTest, RetentionDropsWholeOldPartitions) {
  PgStoreOptions o = options();
  auto store = open_store(o);
  ASSERT_TRUE(store);
  const TimestampNs now = kT0 + 100 * kNsPerDay;
  const TimestampNs day0 = floor_to(now, kNsPerDay);
  std::vector<Candle> batch;
  // 1m: days -40, -31, -29 and -1 relative to now (retention 30 days).
  for (int d : {40, 31, 29, 1}) {
    for (int m = 0; m < 10; ++m) batch.push_back(make_candle("BTC-USDT", m, "1.0", CandleStatus::kFinal, 0, "1m", day0 - d * kNsPerDay));
  }
  // 1h 200 days old: kept (1 year).
  batch.push_back(make_candle("BTC-USDT", 0, "1.0", CandleStatus::kFinal, 0, "1h", day0 - 200 * kNsPerDay));
  ASSERT_TRUE(store->write(batch, {}).is_ok());
  const std::string old_part = range_partition_name("ohlcv_1m", day0 - 40 * kNsPerDay);
  EXPECT_EQ(sql("SELECT to_regclass('" + old_part + "') IS NOT NULL"), "t");

  auto removed = store->enforce_retention(now);
  ASSERT_TRUE(removed) << removed.status().to_string();
  EXPECT_EQ(*removed, 20);  // days -40 and -31: whole partitions past the cutoff
  EXPECT_EQ(sql("SELECT to_regclass('" + old_part + "') IS NULL"), "t");
  EXPECT_EQ(sql("SELECT to_regclass('" + range_partition_name("ohlcv_1m", day0 - 31 * kNsPerDay) + "') IS NULL"), "t");
  EXPECT_EQ(sql("SELECT to_regclass('" + range_partition_name("ohlcv_1m", day0 - 29 * kNsPerDay) + "') IS NOT NULL"), "t");
  auto left = store->query(all_of("BTC-USDT"));
  ASSERT_EQ(left->size(), 20u);
  EXPECT_GE(left->front().open_time, now - 30 * kNsPerDay);
  EXPECT_EQ(store->query(all_of("BTC-USDT", "1h"))->size(), 1u);
  // Partitions exist ahead of `now` for the next writes.
  EXPECT_EQ(sql("SELECT to_regclass('" + range_partition_name("ohlcv_1m", day0 + kNsPerDay) + "') IS NOT NULL"), "t");
  // Idempotent.
  EXPECT_EQ(*store->enforce_retention(now), 0);
  // A late candle for a dropped day re-creates its partition (and the next retention drops it).
  ASSERT_TRUE(store->write({make_candle("BTC-USDT", 0, "1.0", CandleStatus::kFinal, 0, "1m", day0 - 40 * kNsPerDay)}, {}).is_ok());
  EXPECT_EQ(*store->enforce_retention(now), 1);
}

TEST_F(PgCandleStoreTest, IndicatorsKeepTheHighestRevision) {
  auto store = open_store();
  ASSERT_TRUE(store);
  auto rec = [](int minute, uint32_t rev, double rsi, bool provisional = false) {
    IndicatorRecord r;
    r.symbol = "BTC-USDT";
    r.timeframe = *Timeframe::parse("1m");
    r.open_time = kT0 + minute * kNsPerMin;
    r.close_time = r.open_time + kNsPerMin - kNsPerMs;
    r.candle_revision = rev;
    r.provisional = provisional;
    r.values = {{"rsi_14", rsi}, {"ema \"fast\"", rsi / 3}, {"macd,line", -0.1 * rsi}};
    return r;
  };
  ASSERT_TRUE(store->write_indicators({rec(0, 1, 55.5), rec(1, 0, 60.25), rec(2, 0, 1, true)},
                                      {{"indicators", "processed.indicators", 0, 3}})
                  .is_ok());
  ASSERT_TRUE(store->write_indicators({rec(0, 0, 10), rec(0, 1, 11), rec(1, 2, 70.125)}, {}).is_ok());
  IndicatorQuery q;
  q.symbol = "BTC-USDT";
  q.timeframe = *Timeframe::parse("1m");
  auto out = store->query_indicators(q);
  ASSERT_TRUE(out) << out.status().to_string();
  ASSERT_EQ(out->size(), 2u);  // the provisional one is never stored
  EXPECT_EQ((*out)[0].candle_revision, 1u);
  ASSERT_EQ((*out)[0].values.size(), 3u);
  EXPECT_EQ((*out)[0].values[0].first, "rsi_14");
  EXPECT_EQ((*out)[0].values[0].second, 55.5);  // equal revision ignored
  EXPECT_EQ((*out)[0].values[1].first, "ema \"fast\"");
  EXPECT_EQ((*out)[0].values[1].second, 55.5 / 3);  // doubles round-trip exactly
  EXPECT_EQ((*out)[0].values[2].first, "macd,line");
  EXPECT_EQ((*out)[1].candle_revision, 2u);
  EXPECT_EQ((*out)[1].values[0].second, 70.125);
  EXPECT_EQ((*out)[1].close_time, kT0 + 2 * kNsPerMin - kNsPerMs);
  q.names = {"macd,line"};
  q.limit = 1;
  out = store->query_indicators(q);
  ASSERT_EQ(out->size(), 1u);
  ASSERT_EQ((*out)[0].values.size(), 1u);
  EXPECT_EQ((*out)[0].open_time, kT0 + kNsPerMin);
  EXPECT_EQ(*store->position("indicators", "processed.indicators", 0), 3);
}

TEST_F(PgCandleStoreTest, TradesAreStoredOnceAndReadByRange) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::vector<Trade> batch;
  for (int i = 0; i < 100; ++i) batch.push_back(make_trade("BTC-USDT", i, "43000.1" + std::to_string(i % 10), kT0 + i * kNsPerSec));
  ASSERT_TRUE(store->write_trades(batch, {{"trades", "raw.market-data", 1, 100}}).is_ok());
  batch.push_back(batch.front());  // a duplicate within the batch and a full replay
  ASSERT_TRUE(store->write_trades(batch, {{"trades", "raw.market-data", 1, 101}}).is_ok());
  EXPECT_EQ(sql("SELECT count(*) FROM trades"), "100");
  EXPECT_EQ(*store->position("trades", "raw.market-data", 1), 101);
  // The same id as a plain (non-aggregated) trade is another trade.
  Trade plain = batch[5];
  plain.aggregated = false;
  ASSERT_TRUE(store->write_trades({plain}, {}).is_ok());
  EXPECT_EQ(sql("SELECT count(*) FROM trades"), "101");

  TradeQuery q;
  q.symbol = "BTC-USDT";
  q.start = kT0 + 10 * kNsPerSec;
  q.end = kT0 + 20 * kNsPerSec;
  q.limit = 5;
  auto out = store->query_trades(q);
  ASSERT_TRUE(out) << out.status().to_string();
  ASSERT_EQ(out->size(), 5u);
  EXPECT_EQ(out->front().trade_id, 15);
  EXPECT_EQ(out->back().trade_id, 19);
  const Trade& t = out->front();
  EXPECT_EQ(t.price.to_string(), "43000.15");
  EXPECT_EQ(t.quantity.to_string(), "0.00120000");
  EXPECT_EQ(t.first_trade_id, 150);
  EXPECT_EQ(t.last_trade_id, 152);
  EXPECT_EQ(t.taker_side, Side::kBuy);
  EXPECT_EQ(t.ts_event, kT0 + 15 * kNsPerSec);
  EXPECT_EQ(t.ts_recv, kT0 + 15 * kNsPerSec + 5 * kNsPerMs);
  EXPECT_TRUE(t.aggregated);
  EXPECT_EQ(t.exchange_symbol, "BTCUSDT");
}

// The README's setup: a plain role owning its database (no superuser, no pg_read_all_settings).
TEST_F(PgCandleStoreTest, OpensAsAnOrdinaryDatabaseOwner) {
  const std::string role = db_ + "_owner";
  ASSERT_EQ(server().query("CREATE ROLE " + role + " LOGIN", "postgres"), "");
  ASSERT_EQ(server().query("ALTER DATABASE " + db_ + " OWNER TO " + role, "postgres"), "");
  ASSERT_EQ(sql("ALTER SCHEMA public OWNER TO " + role), "");
  PgStoreOptions o = options();
  o.conn.user = role;
  auto store = open_store(o);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->health()->state, HealthState::kUp) << store->health()->detail;
  ASSERT_TRUE(store->write({make_candle("BTC-USDT", 0, "1.00")}, {{"historical", "normalized.ohlcv", 0, 1}}).is_ok());
  EXPECT_EQ(sql("SELECT tableowner FROM pg_tables WHERE tablename = 'ohlcv'"), role);
}

TEST_F(PgCandleStoreTest, PasswordNeverAppearsInErrors) {
  PgStoreOptions o = options();
  o.conn.password = "s3cr3t-'pw\\";
  o.conn.port = "1";  // nothing listens there
  o.conn.connect_timeout_s = 2;
  auto s = PgCandleStore::open(o);
  ASSERT_TRUE(s) << "an unreachable database is not an error at open";
  auto h = (*s)->health();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->state, HealthState::kDown);
  EXPECT_NE(h->detail.find("postgresql://postgres@127.0.0.1:1/"), std::string::npos) << h->detail;
  EXPECT_EQ(h->detail.find("s3cr3t"), std::string::npos) << h->detail;
  auto w = (*s)->write({make_candle("BTC-USDT", 0, "1")}, {});
  EXPECT_TRUE(w.retryable());
  EXPECT_EQ(w.message().find("s3cr3t"), std::string::npos);
  EXPECT_EQ(o.conn.describe().find("s3cr3t"), std::string::npos);
  EXPECT_NE(o.conn.conninfo().find("password='s3cr3t-\\'pw\\\\'"), std::string::npos);
}

// The read path's prepared statements (range read, has_series) answer the same on every
// connection reuse, and every range read lands in tickflow_pgstore_query_seconds{query="ohlcv"}.
TEST_F(PgCandleStoreTest, ReadsArePreparedAndRecordTheirLatency) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->write({make_candle("BTC-USDT", 0, "1.00"), make_candle("BTC-USDT", 1, "2.00")}, {}).is_ok());
  auto& histogram = PgProbe::get().query_ohlcv_seconds;
  const auto before = histogram.Collect().histogram.sample_count;
  for (int i = 0; i < 8; ++i) {  // past PostgreSQL's five custom plans: the generic plan too
    auto out = store->query(all_of("BTC-USDT"));
    ASSERT_TRUE(out) << out.status().to_string();
    ASSERT_EQ(out->size(), 2u);
    EXPECT_EQ((*out)[1].close.to_string(), "2.00");
    EXPECT_EQ(*store->has_series(Exchange::kBinance, "BTC-USDT", *Timeframe::parse("1m")), true);
    EXPECT_EQ(*store->has_series(Exchange::kBinance, "ETH-USDT", *Timeframe::parse("1m")), false);
    EXPECT_EQ(*store->has_series(Exchange::kBinance, "BTC-USDT", *Timeframe::parse("5m")), false);
  }
  EXPECT_EQ(histogram.Collect().histogram.sample_count, before + 8);
}

}  // namespace
}  // namespace tickflow::storage::pg::testing
