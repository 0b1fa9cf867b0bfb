// Definitions of the helpers declared in processor_test_support.h.
#include "processing/candles/tests/processor_test_support.h"

#include <random>

namespace tickflow::processing::testing {

Decimal dec(std::string_view s) { return Decimal::parse(s).value(); }

Trade make_trade(std::string symbol, int64_t id, std::string_view price, std::string_view qty,
                 TimestampNs ts_event, Side side) {
  Trade t;
  t.exchange = Exchange::kBinance;
  t.symbol = symbol;
  t.exchange_symbol = binance_symbol_from_unified(symbol);
  t.trade_id = id;
  t.first_trade_id = id;
  t.last_trade_id = id;
  t.price = dec(price);
  t.quantity = dec(qty);
  t.taker_side = side;
  t.ts_event = ts_event;
  t.ts_recv = ts_event + 5 * kNsPerMs;
  return t;
}

std::string trade_record(const Trade& t) { return codec::encode_trade(t, t.ts_recv); }

void publish_trade(EventBus& bus, const Trade& t) {
  ASSERT_TRUE(bus.publish(kRaw, instrument_key(t.exchange, t.symbol), trade_record(t)).is_ok());
}

std::vector<Record> read_topic(const EventBus& bus, std::string_view topic) {
  std::vector<Record> out;
  auto cfg = bus.topic(topic);
  EXPECT_TRUE(cfg.is_ok());
  for (int32_t p = 0; p < cfg->partitions; ++p) {
    auto end = bus.end_offset(topic, p);
    if (!end.is_ok() || *end == 0) continue;
    EXPECT_TRUE(bus.read(topic, p, 0, static_cast<size_t>(*end), out).is_ok());
  }
  return out;
}

std::vector<Candle> read_updates(const EventBus& bus) {
  std::vector<Candle> out;
  for (const Record& r : read_topic(bus, kOhlcv)) {
    auto c = codec::decode_candle(r.value);
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    if (c.is_ok()) out.push_back(std::move(c).value());
  }
  return out;
}

std::string describe(const Candle& c) {
  std::string s = c.series_key() + " " + format_iso8601_ms(c.open_time) + " " +
                  std::string(candle_status_name(c.status)) + " r" + std::to_string(c.revision) +
                  " O=" + c.open.to_string() + " H=" + c.high.to_string() + " L=" + c.low.to_string() +
                  " C=" + c.close.to_string() + " V=" + c.volume.to_string() +
                  " QV=" + c.quote_volume.to_string() + " TB=" + c.taker_buy_volume.to_string() +
                  " n=" + std::to_string(c.trades) + " ids=" + std::to_string(c.first_trade_id) + ".." +
                  std::to_string(c.last_trade_id);
  return s;
}

std::map<CandleKey, std::string> last_per_key(const std::vector<Candle>& updates) {
  std::map<CandleKey, std::string> out;
  for (const Candle& c : updates) out[{c.series_key(), c.open_time}] = describe(c);
  return out;
}

const Candle* last_of(const std::vector<Candle>& updates, std::string_view series, TimestampNs open) {
  const Candle* found = nullptr;
  for (const Candle& c : updates)
    if (c.series_key() == series && c.open_time == open) found = &c;
  return found;
}

std::vector<codec::DeadLetter> read_dead_letters(const EventBus& bus) {
  std::vector<codec::DeadLetter> out;
  for (const Record& r : read_topic(bus, kDlq)) {
    auto d = codec::decode_dead_letter(r.value);
    EXPECT_TRUE(d.is_ok());
    if (d.is_ok()) out.push_back(std::move(d).value());
  }
  return out;
}

int64_t committed_total(const EventBus& bus, std::string_view group) {
  int64_t sum = 0;
  auto cfg = bus.topic(kRaw);
  for (int32_t p = 0; p < cfg->partitions; ++p) sum += bus.committed_offset(group, kRaw, p).value();
  return sum;
}

int64_t end_total(const EventBus& bus, std::string_view topic) {
  int64_t sum = 0;
  auto cfg = bus.topic(topic);
  for (int32_t p = 0; p < cfg->partitions; ++p) sum += bus.end_offset(topic, p).value();
  return sum;
}

void drain(CandleProcessor& proc) {
  for (int i = 0; i < 100000; ++i) {
    auto r = proc.run_once();
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    if (*r == 0 && proc.caught_up()) return;
  }
  FAIL() << "processor did not catch up";
}

ProcessorConfig one_minute_config() {
  ProcessorConfig c;
  c.candles.timeframes = {Timeframe::parse("1m").value()};
  c.candles.provisional_interval = 0;  // finals only, unless a test wants provisionals
  c.candles.grace = 2 * kNsPerSec;
  c.candles.correction_horizon = 10 * kNsPerMin;
  return c;
}

std::vector<Trade> make_feed(int count, uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<std::string> symbols = {"BTC-USDT", "ETH-USDT", "SOL-USDT", "BNB-USDT"};
  std::map<std::string, int64_t> next_id;
  std::map<std::string, int64_t> price;
  std::vector<Trade> out;
  TimestampNs ts = kT0;
  for (int i = 0; i < count; ++i) {
    ts += static_cast<TimestampNs>(rng() % 400) * kNsPerMs;
    const std::string& s = symbols[rng() % symbols.size()];
    int64_t& p = price[s];
    if (p == 0) p = 10000 + static_cast<int64_t>(rng() % 1000);
    p += static_cast<int64_t>(rng() % 21) - 10;
    if (p < 100) p = 100;
    int64_t id = ++next_id[s];
    std::string px = std::to_string(p / 100) + "." + (p % 100 < 10 ? "0" : "") + std::to_string(p % 100);
    std::string qty = "0." + std::to_string(1 + rng() % 999);
    TimestampNs ev = ts;
    uint32_t kind = rng() % 100;
    if (kind < 3 && !out.empty()) {  // duplicate of an earlier trade
      out.push_back(out[rng() % out.size()]);
      continue;
    }
    if (kind < 6) ev = ts - static_cast<TimestampNs>(20 + rng() % 100) * kNsPerSec;  // late
    out.push_back(make_trade(s, id, px, qty, ev, rng() % 2 ? Side::kBuy : Side::kSell));
  }
  return out;
}

}  // namespace tickflow::processing::testing
