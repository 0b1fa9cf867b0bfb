// The binary COPY encoder without a server: numeric_send layout and exact round trips through
// pg_binary::numeric (the decoder the range reads use). The server-side checks (the same values
// COPYed in binary and in text read back equal) are in pg_candle_store_test.cc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/decimal.h"
#include "storage/postgres/copy_binary.h"
#include "storage/postgres/pg.h"

namespace tickflow::storage::pg {
namespace {

std::vector<int> fields16(const std::string& b) {
  std::vector<int> out;
  for (size_t i = 0; i + 1 < b.size(); i += 2)
    out.push_back(static_cast<int16_t>((static_cast<unsigned char>(b[i]) << 8) | static_cast<unsigned char>(b[i + 1])));
  return out;
}

std::string numeric_bytes(__int128 units, int scale) {
  std::string out;
  pg_binary::append_numeric(out, units, scale);
  return out;
}

void expect_round_trip(__int128 units, int scale) {
  const std::string b = numeric_bytes(units, scale);
  __int128 back = 0;
  int back_scale = -1;
  ASSERT_TRUE(pg_binary::numeric(b, 1000, back, back_scale)) << "scale " << scale;
  EXPECT_TRUE(back == units) << "scale " << scale << " units " << static_cast<long long>(units);
  EXPECT_EQ(back_scale, scale);
}

TEST(CopyBinaryTest, NumericLayoutMatchesNumericSend) {
  // 12.34567800: digits 0012 . 3456 7800, weight 0, dscale 8 (trailing zeros kept in dscale).
  EXPECT_EQ(fields16(numeric_bytes(1234567800, 8)), (std::vector<int>{3, 0, 0, 8, 12, 3456, 7800}));
  // -0.0012: one digit 12 at weight -1, sign 0x4000.
  EXPECT_EQ(fields16(numeric_bytes(-12, 4)), (std::vector<int>{1, -1, 0x4000, 4, 12}));
  // 0.10 (scale 2): 1000 at weight -1.
  EXPECT_EQ(fields16(numeric_bytes(10, 2)), (std::vector<int>{1, -1, 0, 2, 1000}));
  // 100000000 (scale 0): 1 0000 0000 → trailing zero groups dropped, weight 2.
  EXPECT_EQ(fields16(numeric_bytes(100000000, 0)), (std::vector<int>{1, 2, 0, 0, 1}));
  // 1.00000001: 0001 . 0000 0001 — an inner zero group stays.
  EXPECT_EQ(fields16(numeric_bytes(100000001, 8)), (std::vector<int>{3, 0, 0, 8, 1, 0, 1}));
  // Zero at any scale: no digits, weight 0, positive, dscale kept; negative zero does not exist.
  EXPECT_EQ(fields16(numeric_bytes(0, 0)), (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(fields16(numeric_bytes(0, 18)), (std::vector<int>{0, 0, 0, 18}));
}

TEST(CopyBinaryTest, NumericRoundTripsExactlyAtEveryScale) {
  const __int128 max128 = static_cast<__int128>((~static_cast<unsigned __int128>(0)) >> 1);
  const __int128 big = static_cast<__int128>(12345678901234567LL) * 1000000000000000000LL + 890123456789012345LL;
  for (int scale = 0; scale <= WideDecimal::kMaxScale; ++scale) {
    for (__int128 u : {__int128{0}, __int128{1}, __int128{-1}, __int128{7}, __int128{10}, __int128{9999},
                       __int128{10000}, __int128{-10001}, __int128{123456789}, __int128{1000000000000},
                       __int128{INT64_MAX}, __int128{INT64_MIN}, __int128{INT64_MAX} + 1, big, -big, max128,
                       -max128}) {
      expect_round_trip(u, scale);
    }
  }
  // Sizes: 39 decimal digits at scale 36 → 11 base-10000 groups at most.
  EXPECT_LE(numeric_bytes(max128, 35).size(), 8u + 2 * 11);
}

TEST(CopyBinaryTest, DecimalsRoundTripFromTheirText) {
  for (const char* text : {"0", "0.00000000", "43000.00000000", "-43000.5", "0.00000001", "1e0", "12.34567800",
                           "987654321098765432", "-0.000000000000000001"}) {
    Decimal d;
    if (!Decimal::parse(text, d)) continue;  // forms the parser rejects are not numbers here
    expect_round_trip(d.units(), d.scale());
  }
  for (const char* text : {"530887.1234567800000000", "9999999999999999999.999999999999999999",
                           "-0.000000000000000000000000000000000001", "262305.0000000000000000"}) {
    auto w = WideDecimal::parse(text);
    ASSERT_TRUE(w.is_ok()) << text;
    expect_round_trip(w->units(), w->scale());
  }
}

TEST(CopyBinaryTest, StreamFraming) {
  std::string out;
  CopyBinaryWriter w(out);
  ASSERT_EQ(out.size(), 19u);
  EXPECT_EQ(out.substr(0, 11), std::string("PGCOPY\n\377\r\n\0", 11));
  w.row(3);
  w.int4(-2);
  w.null();
  w.timestamptz(946684800LL * kNsPerSec + 1999);  // 2000-01-01 00:00:00.000001999 → 1 µs
  w.finish();
  const std::string body = out.substr(19);
  EXPECT_EQ(body, std::string("\0\3"                                    // 3 fields
                              "\0\0\0\4\xff\xff\xff\xfe"                // int4 -2
                              "\xff\xff\xff\xff"                        // NULL
                              "\0\0\0\x08\0\0\0\0\0\0\0\1"              // 1 µs after 2000-01-01
                              "\xff\xff",                               // trailer
                              2 + 8 + 4 + 12 + 2));
}

}  // namespace
}  // namespace tickflow::storage::pg
