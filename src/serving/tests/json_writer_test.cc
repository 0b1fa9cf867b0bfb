#include "serving/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/time.h"
#include "serving/candle_json.h"
#include "serving/tests/fakes.h"

namespace tickflow::serving {
namespace {

std::string put_int_text(int64_t v) {
  char buf[json::kMaxIntChars];
  return std::string(buf, json::put_int(buf, v));
}

std::string put_double_text(double v) {
  char buf[json::kMaxDoubleChars];
  return std::string(buf, json::put_double(buf, v));
}

TEST(JsonWriter, IntegersAsToString) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{7}, int64_t{1628952360000}, INT64_MAX, INT64_MIN})
    EXPECT_EQ(put_int_text(v), std::to_string(v));
}

TEST(JsonWriter, DoublesKeepAFractionAndStayWithinTheBound) {
  EXPECT_EQ(put_double_text(1.0), "1.0");
  EXPECT_EQ(put_double_text(0.0), "0.0");
  EXPECT_EQ(put_double_text(-2.0), "-2.0");
  EXPECT_EQ(put_double_text(0.5), "0.5");
  EXPECT_EQ(put_double_text(1e21), "1e+21");
  EXPECT_EQ(put_double_text(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(put_double_text(std::nan("")), "null");
  for (double v : {-1.2345678901234567e-300, std::numeric_limits<double>::max(), -std::numeric_limits<double>::denorm_min(),
                   -123456789012345680.0})
    EXPECT_LE(put_double_text(v).size(), json::kMaxDoubleChars) << v;
}

TEST(JsonWriter, StringsEscapedWithinTheBound) {
  const std::string worst(10, '\x01');
  char buf[128];
  const std::string out(buf, json::put_string(buf, worst));
  EXPECT_EQ(out.size(), json::string_bound(worst));
  EXPECT_EQ(out.substr(0, 7), "\"\\u0001");
  EXPECT_EQ(std::string(buf, json::put_string(buf, "")), "\"\"");
  EXPECT_EQ(std::string(buf, json::put_string(buf, "gap_backfilled")), "\"gap_backfilled\"");
}

TEST(JsonWriter, AppendBoundedKeepsWhatIsAlreadyThere) {
  std::string out = "[1,";
  json::append_bounded(out, 64, [](char* p) { return json::put_int(json::put(p, "2,"), 3); });
  out += ']';
  EXPECT_EQ(out, "[1,2,3]");
}

// append_candle_json as it was written before the raw-buffer writer (per-field std::string
// appends): the new one must print exactly the same bytes.
std::string reference_candle_json(const Candle& c) {
  std::string out = "{";
  auto key = [&](const char* k) { out += std::string("\"") + k + "\":"; };
  auto time = [&](const char* k, TimestampNs ts) {
    key(k);
    out += "\"" + format_iso8601_ms(ts) + "\",";
    key((std::string(k) + "_ms").c_str());
    out += std::to_string(ts / kNsPerMs) + ",";
  };
  auto dec = [&](const char* k, const std::string& text) {
    key(k);
    out += "\"" + text + "\",";
  };
  time("open_time", c.open_time);
  time("close_time", c.close_time);
  dec("open", c.open.to_string());
  dec("high", c.high.to_string());
  dec("low", c.low.to_string());
  dec("close", c.close.to_string());
  dec("volume", c.volume.trimmed(8).to_string());
  dec("quote_volume", c.quote_volume.trimmed(8).to_string());
  dec("vwap", c.vwap().to_string());
  key("trades");
  out += std::to_string(c.trades) + ",";
  dec("taker_buy_volume", c.taker_buy_volume.trimmed(8).to_string());
  dec("taker_buy_quote_volume", c.taker_buy_quote_volume.trimmed(8).to_string());
  key("first_trade_id");
  out += std::to_string(c.first_trade_id) + ",";
  key("last_trade_id");
  out += std::to_string(c.last_trade_id) + ",";
  key("status");
  append_json_string(out, candle_status_name(c.status));
  out += ",";
  key("revision");
  out += std::to_string(c.revision) + ",";
  key("coverage");
  append_json_double(out, c.coverage);
  out += ",";
  key("gap_reason");
  append_json_string(out, c.gap_reason);
  out += "}";
  return out;
}

TEST(JsonWriter, CandleJsonEqualsTheFieldByFieldFormat) {
  std::vector<Candle> cases;
  cases.push_back(testing::make_candle(1628952360000));
  Candle empty = testing::make_candle(1628952420000);
  empty.volume = WideDecimal();
  empty.quote_volume = WideDecimal(0, 16);
  empty.trades = 0;
  empty.first_trade_id = empty.last_trade_id = -1;
  empty.status = CandleStatus::kProvisional;
  empty.coverage = 0.25;
  empty.gap_reason = "disconnected";
  cases.push_back(empty);
  // Extremes: the widest values of every field, control characters in gap_reason.
  Candle wide = testing::make_candle(-1);
  wide.open = Decimal(INT64_MIN, 18);
  wide.high = Decimal(INT64_MAX, 0);
  wide.low = Decimal(-1, 18);
  wide.close = Decimal(INT64_MIN, 0);
  wide.volume = WideDecimal(-pow10_128(38) + 1, 36);
  wide.quote_volume = WideDecimal(0, 36);  // (vwap = quote / volume stays in range)
  wide.taker_buy_volume = WideDecimal(pow10_128(38) - 1, 0);
  wide.taker_buy_quote_volume = WideDecimal(-(pow10_128(38) - 1), 1);
  wide.trades = INT64_MIN;
  wide.first_trade_id = INT64_MIN;
  wide.last_trade_id = INT64_MAX;
  wide.revision = UINT32_MAX;
  wide.coverage = -1.2345678901234567e-300;
  wide.open_time = INT64_MIN;
  wide.close_time = INT64_MAX;
  wide.status = CandleStatus::kCorrected;
  wide.gap_reason = std::string(40, '\x1f') + "\"\\";
  cases.push_back(wide);
  uint64_t x = 1234567;
  auto next = [&] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 2000; ++i) {
    Candle c = testing::make_candle(1600000000000 + static_cast<int64_t>(next() % 100000000000));
    const int scale = static_cast<int>(next() % 9);
    const auto price = static_cast<int64_t>(next() % 100000000000000);
    c.open = Decimal(price, scale);
    c.close = Decimal(price + static_cast<int64_t>(next() % 1000), scale);
    c.volume = WideDecimal(static_cast<int128>(next() % 100000000000) * pow10_128(static_cast<int>(next() % 8)),
                           8 + static_cast<int>(next() % 8));
    c.quote_volume = WideDecimal(static_cast<int128>(next()) * 1000, 16);
    c.taker_buy_volume = WideDecimal(static_cast<int128>(next() % 1000) * 10000, 12);
    c.trades = static_cast<int64_t>(next() % 100000);
    c.revision = static_cast<uint32_t>(next() % 3);
    c.coverage = static_cast<double>(next() % 1000) / 1000;
    cases.push_back(c);
  }
  for (const Candle& c : cases) {
    std::string out = "prefix";
    append_candle_json(out, c);
    const std::string ref = reference_candle_json(c);
    ASSERT_EQ(out, "prefix" + ref);
    ASSERT_LE(ref.size(), candle_json_bound(c));
  }
}

}  // namespace
}  // namespace tickflow::serving
