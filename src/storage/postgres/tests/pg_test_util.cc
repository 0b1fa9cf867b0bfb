#include "storage/postgres/tests/pg_test_util.h"

#include <unistd.h>

namespace tickflow::storage::pg::testing {

tickflow::testing::PostgresServer& server() {
  static tickflow::testing::PostgresServer* s = [] {
    auto* srv = new tickflow::testing::PostgresServer();
    if (!srv->start()) ADD_FAILURE() << "postgres did not start: " << srv->error();
    std::atexit([] { delete s; });
    return srv;
  }();
  return *s;
}

void PgTest::SetUp() {
  ASSERT_TRUE(tickflow::testing::PostgresServer::available()) << "postgresql-15 is not installed";
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string("t_") + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
                     "_" + info->name();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  db_ = name.substr(0, 60);
  const std::string r = server().query("CREATE DATABASE " + db_, "postgres");
  ASSERT_FALSE(r.starts_with("ERROR")) << r;
}

PgStoreOptions PgTest::options() const {
  PgStoreOptions o;
  o.conn.host = server().host();
  o.conn.port = std::to_string(server().port());
  o.conn.db = db_;
  o.conn.user = server().user();
  o.conn.connect_timeout_s = 5;
  o.pool_size = 3;
  return o;
}

std::unique_ptr<PgCandleStore> PgTest::open_store(PgStoreOptions o) const {
  auto s = PgCandleStore::open(o);
  EXPECT_TRUE(s) << s.status().to_string();
  if (!s) return nullptr;
  return std::move(s).value();
}

Candle make_candle(const std::string& symbol, int minute, const std::string& close, CandleStatus status,
                   uint32_t revision, const std::string& tf, TimestampNs t0) {
  Candle c;
  c.symbol = symbol;
  c.exchange_symbol = binance_symbol_from_unified(symbol);
  c.timeframe = *Timeframe::parse(tf);
  c.open_time = t0 + minute * c.timeframe.duration_ns();
  c.close_time = c.open_time + c.timeframe.duration_ns() - kNsPerMs;
  c.open = *Decimal::parse("43000.64000000");
  c.high = *Decimal::parse("43100.00000000");
  c.low = *Decimal::parse("42999.01000000");
  c.close = *Decimal::parse(close);
  c.volume.add(*Decimal::parse("1.50000000"));
  c.quote_volume.add_product(*Decimal::parse("1.50000000"), *Decimal::parse("43050.12000000"));
  c.taker_buy_volume.add(*Decimal::parse("0.75000000"));
  c.taker_buy_quote_volume.add_product(*Decimal::parse("0.75000000"), *Decimal::parse("43050.12000000"));
  c.trades = 12;
  c.first_trade_id = 1000 + minute;
  c.last_trade_id = 1011 + minute;
  c.status = status;
  c.revision = revision;
  c.coverage = 0.75;
  c.gap_reason = revision > 0 ? "gap_backfilled" : "";
  return c;
}

Trade make_trade(const std::string& symbol, int64_t id, const std::string& price, TimestampNs ts) {
  Trade t;
  t.symbol = symbol;
  t.exchange_symbol = binance_symbol_from_unified(symbol);
  t.trade_id = id;
  t.first_trade_id = id * 10;
  t.last_trade_id = id * 10 + 2;
  t.price = *Decimal::parse(price);
  t.quantity = *Decimal::parse("0.00120000");
  t.taker_side = id % 2 ? Side::kBuy : Side::kSell;
  t.ts_event = ts;
  t.ts_recv = ts + 5 * kNsPerMs;
  t.aggregated = true;
  return t;
}

}  // namespace tickflow::storage::pg::testing
