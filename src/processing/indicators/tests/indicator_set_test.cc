// IndicatorSet: spec parsing, output names, state round trip, input checks, never NaN/Inf.
#include "processing/indicators/indicator_set.h"

#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/candle.h"

namespace tickflow::processing::indicators {
namespace {

constexpr char kFullSpec[] = "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2,atr:14,vwap,vwap:20";

TEST(SpecTest, OutputNamesInSpecOrder) {
  auto set = IndicatorSet::create(kFullSpec);
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  EXPECT_EQ(set->names(), (std::vector<std::string>{"sma20", "ema20", "rsi14", "macd", "macd_signal", "macd_hist",
                                                    "bb_upper", "bb_middle", "bb_lower", "atr14", "vwap", "vwap20"}));
  EXPECT_EQ(set->spec(), kFullSpec);
  EXPECT_TRUE(set->needs_high_low());
  EXPECT_TRUE(set->needs_volume());
  EXPECT_EQ(set->warmup_bars(), 34u);  // macd: slow + signal − 1
}

TEST(SpecTest, DefaultsSpacesAndCanonicalForm) {
  auto set = IndicatorSet::create(" macd , bb , bb:50:2.5 ,sma:5 , sma:50");
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  EXPECT_EQ(set->spec(), "macd:12:26:9,bb:20:2,bb:50:2.5,sma:5,sma:50");
  // Several bb entries: every one is suffixed with its parameters; a single macd is not.
  EXPECT_EQ(set->names(), (std::vector<std::string>{"macd", "macd_signal", "macd_hist", "bb_upper_20_2",
                                                    "bb_middle_20_2", "bb_lower_20_2", "bb_upper_50_2.5",
                                                    "bb_middle_50_2.5", "bb_lower_50_2.5", "sma5", "sma50"}));
  EXPECT_FALSE(set->needs_high_low());
  EXPECT_FALSE(set->needs_volume());
}

TEST(SpecTest, SeveralMacdGetSuffixes) {
  auto set = IndicatorSet::create("macd:12:26:9,macd:5:35:5");
  ASSERT_TRUE(set.is_ok());
  EXPECT_EQ(set->names(), (std::vector<std::string>{"macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9",
                                                    "macd_5_35_5", "macd_signal_5_35_5", "macd_hist_5_35_5"}));
}

TEST(SpecTest, ErrorsNameTheBadEntry) {
  struct Case {
    const char* spec;
    const char* must_contain;
  };
  const Case cases[] = {
      {"", "empty"},
      {"   ", "empty"},
      {"sma", "'sma'"},
      {"sma:0", "'sma:0'"},
      {"sma:-5", "'sma:-5'"},
      {"sma:abc", "'sma:abc'"},
      {"sma:20x", "'sma:20x'"},
      {"sma:1000001", "'sma:1000001'"},
      {"sma:20:3", "'sma:20:3'"},
      {"ema:20,foo:3", "'foo:3'"},
      {"ema:20,foo:3", "unknown indicator 'foo'"},
      {":5", "missing indicator name"},
      {"macd:26:12:9", "'macd:26:12:9'"},
      {"macd:12:12:9", "less than the slow"},
      {"macd:12:26", "'macd:12:26'"},
      {"bb:20:0", "'bb:20:0'"},
      {"bb:20:x", "'bb:20:x'"},
      {"bb:20:nan", "'bb:20:nan'"},
      {"bb:20:inf", "'bb:20:inf'"},
      {"bb:20:2:1", "'bb:20:2:1'"},
      {"sma:20,,ema:3", "entry #2 is empty"},
      {"sma:20,", "entry #2 is empty"},
      {"sma:20,rsi:14,sma:20", "'sma:20': duplicates entry 'sma:20'"},
      {"bb,bb:20:2.0", "duplicates entry 'bb'"},
      {"vwap:1:2", "'vwap:1:2'"},
      {"SMA:20", "unknown indicator 'SMA'"},
  };
  for (const auto& c : cases) {
    auto set = IndicatorSet::create(c.spec);
    ASSERT_FALSE(set.is_ok()) << c.spec;
    EXPECT_EQ(set.status().code(), ErrorCode::kInvalidArgument) << c.spec;
    EXPECT_NE(set.status().message().find(c.must_contain), std::string::npos)
        << "spec '" << c.spec << "' → " << set.status().message();
  }
}

// A varied bar series: OU-ish walk with highs/lows, volumes (some zero) and UTC day changes.
std::vector<Bar> bars(size_t count) {
  std::vector<Bar> out;
  uint64_t s = 42;
  auto next = [&s] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 40) / static_cast<double>(1ULL << 24);
  };
  double price = 100;
  for (size_t i = 0; i < count; ++i) {
    Bar b;
    b.open_time = 1'700'000'000LL * kNsPerSec + static_cast<TimestampNs>(i) * 5 * kNsPerMin;
    b.open = price;
    price = std::round((price + (next() - 0.5) * 2 + (100 - price) * 0.01) * 100) / 100;
    if (i % 97 >= 60 && i % 97 < 90) price = b.open;  // flat stretches
    b.close = price;
    b.high = std::max(b.open, b.close) + (i % 97 >= 60 && i % 97 < 90 ? 0 : std::round(next() * 30) / 100);
    b.low = std::min(b.open, b.close) - (i % 97 >= 60 && i % 97 < 90 ? 0 : std::round(next() * 30) / 100);
    b.volume = i % 13 == 0 ? 0 : std::round(next() * 1e5) / 1e3;
    if (i % 2 == 0) b.quote_volume = b.volume * (b.high + b.low) / 2;
    out.push_back(b);
  }
  return out;
}

bool bit_equal(const std::optional<double>& a, const std::optional<double>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::bit_cast<uint64_t>(*a) == std::bit_cast<uint64_t>(*b);
}

TEST(StateTest, RestoreThenContinueEqualsUninterrupted) {
  const auto input = bars(1500);
  auto base = IndicatorSet::create(kFullSpec);
  ASSERT_TRUE(base.is_ok());
  IndicatorSet whole = *base;
  std::vector<std::vector<std::optional<double>>> expected;
  for (const auto& b : input) {
    ASSERT_TRUE(whole.update(b).is_ok());
    expected.emplace_back(whole.values().begin(), whole.values().end());
  }
  for (size_t cut : {0u, 1u, 2u, 13u, 14u, 15u, 19u, 20u, 33u, 34u, 35u, 288u, 700u, 1499u}) {
    IndicatorSet first = *base;
    for (size_t i = 0; i < cut; ++i) ASSERT_TRUE(first.update(input[i]).is_ok());
    const std::string blob = first.serialize();
    IndicatorSet second = *base;  // a fresh set from the same spec, as after a restart
    ASSERT_TRUE(second.restore(blob).is_ok()) << cut;
    EXPECT_EQ(second.bars(), cut);
    if (cut > 0) {
      for (size_t j = 0; j < expected[cut - 1].size(); ++j) {
        EXPECT_TRUE(bit_equal(second.values()[j], expected[cut - 1][j])) << "cut " << cut << " " << second.names()[j];
      }
    }
    for (size_t i = cut; i < input.size(); ++i) {
      ASSERT_TRUE(second.update(input[i]).is_ok());
      for (size_t j = 0; j < expected[i].size(); ++j) {
        ASSERT_TRUE(bit_equal(second.values()[j], expected[i][j]))
            << "cut " << cut << " bar " << i << " " << second.names()[j];
      }
    }
    EXPECT_EQ(second.serialize(), whole.serialize()) << cut;
  }
}

TEST(StateTest, RejectsOtherSpecAndMalformedBlobs) {
  const auto input = bars(100);
  auto set = IndicatorSet::create(kFullSpec);
  ASSERT_TRUE(set.is_ok());
  for (const auto& b : input) ASSERT_TRUE(set->update(b).is_ok());
  const std::string blob = set->serialize();

  auto other = IndicatorSet::create("sma:20");
  ASSERT_TRUE(other.is_ok());
  Status st = other->restore(blob);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("sma:20"), std::string::npos) << st.message();

  auto fresh = IndicatorSet::create(kFullSpec);
  ASSERT_TRUE(fresh.is_ok());
  const std::string before = fresh->serialize();
  for (size_t len : {size_t{0}, size_t{3}, size_t{10}, blob.size() / 2, blob.size() - 1}) {
    Status s = fresh->restore(std::string_view(blob).substr(0, len));
    EXPECT_EQ(s.code(), ErrorCode::kCorruption) << len;
    EXPECT_EQ(fresh->serialize(), before) << "state changed by a failed restore, len " << len;
  }
  EXPECT_EQ(fresh->restore(blob + "x").code(), ErrorCode::kCorruption);
  EXPECT_EQ(fresh->restore("garbage that is not a blob").code(), ErrorCode::kCorruption);
  ASSERT_TRUE(fresh->restore(blob).is_ok());
  EXPECT_EQ(fresh->serialize(), blob);
}

TEST(InputTest, RejectsNonFiniteNegativeAndHugeBarsWithoutStateChange) {
  auto set = IndicatorSet::create(kFullSpec);
  ASSERT_TRUE(set.is_ok());
  for (const auto& b : bars(50)) ASSERT_TRUE(set->update(b).is_ok());
  const std::string before = set->serialize();
  Bar good = bars(51).back();
  auto with = [&](auto mutate) {
    Bar b = good;
    mutate(b);
    return b;
  };
  const Bar bad[] = {
      with([](Bar& b) { b.close = NAN; }),
      with([](Bar& b) { b.high = INFINITY; }),
      with([](Bar& b) { b.low = -INFINITY; }),
      with([](Bar& b) { b.volume = NAN; }),
      with([](Bar& b) { b.volume = -1; }),
      with([](Bar& b) { b.quote_volume = NAN; }),
      with([](Bar& b) { b.close = 1e101; }),
  };
  for (const auto& b : bad) {
    EXPECT_EQ(set->update(b).code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(set->serialize(), before);
  }
  EXPECT_TRUE(set->update(good).is_ok());
  EXPECT_EQ(set->bars(), 51u);
}

TEST(InputTest, AllFlatZeroVolumeIsFiniteAndExact) {
  auto set = IndicatorSet::create(kFullSpec);
  ASSERT_TRUE(set.is_ok());
  Bar b;
  b.open = b.high = b.low = b.close = 77.57;
  b.volume = 0;
  for (int i = 0; i < 500; ++i) {
    b.open_time = i * kNsPerHour;
    ASSERT_TRUE(set->update(b).is_ok());
    for (const auto& v : set->values()) {
      if (v) {
        ASSERT_TRUE(std::isfinite(*v));
      }
    }
  }
  EXPECT_EQ(*set->value("sma20"), 77.57);
  EXPECT_EQ(*set->value("bb_upper"), 77.57);
  EXPECT_EQ(*set->value("bb_middle"), 77.57);
  EXPECT_EQ(*set->value("bb_lower"), 77.57);
  EXPECT_EQ(*set->value("rsi14"), 0.0);  // G + L == 0
  EXPECT_EQ(*set->value("atr14"), 0.0);
  EXPECT_NEAR(*set->value("ema20"), 77.57, 1e-12);
  EXPECT_NEAR(*set->value("macd"), 0.0, 1e-12);
  EXPECT_FALSE(set->value("vwap").has_value());  // no volume: empty, not NaN
  EXPECT_FALSE(set->value("vwap20").has_value());
  EXPECT_FALSE(set->value("no_such_output").has_value());
}

TEST(InputTest, ExtremeButAllowedMagnitudesStayFinite) {
  auto set = IndicatorSet::create(kFullSpec);
  ASSERT_TRUE(set.is_ok());
  for (int i = 0; i < 200; ++i) {
    Bar b;
    b.open_time = i * kNsPerMin;
    b.close = b.open = (i % 2 ? 1e100 : -1e100);
    b.high = 1e100;
    b.low = -1e100;
    b.volume = i % 3 ? 1e100 : 1e-100;
    ASSERT_TRUE(set->update(b).is_ok());
    for (const auto& v : set->values()) {
      if (v) {
        ASSERT_TRUE(std::isfinite(*v));
      }
    }
  }
  EXPECT_TRUE(set->value("bb_upper").has_value());
  IndicatorSet copy = *IndicatorSet::create(kFullSpec);
  EXPECT_TRUE(copy.restore(set->serialize()).is_ok());
}

TEST(BarTest, FromCandleConvertsAtTheBoundary) {
  Candle c;
  c.open_time = 1'628'952'360'000'000'000;
  c.open = Decimal(4300064, 2);
  c.high = Decimal(4301000, 2);
  c.low = Decimal(4299000, 2);
  c.close = Decimal(4300500, 2);
  c.volume = WideDecimal(15, 1);
  c.quote_volume = WideDecimal(6450075, 2);
  Bar b = bar_from_candle(c);
  EXPECT_EQ(b.open_time, c.open_time);
  EXPECT_EQ(b.open, 43000.64);
  EXPECT_EQ(b.high, 43010.0);
  EXPECT_EQ(b.low, 42990.0);
  EXPECT_EQ(b.close, 43005.0);
  EXPECT_EQ(b.volume, 1.5);
  EXPECT_EQ(b.quote_volume, 64500.75);
  SessionVwap vwap;
  vwap.update(b);
  EXPECT_DOUBLE_EQ(*vwap.value(), 43000.5);  // the trades' exact VWAP, not the typical price
}

}  // namespace
}  // namespace tickflow::processing::indicators
