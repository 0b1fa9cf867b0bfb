// Unchecked writers of the exact text of decimals and times into a raw buffer, for hot
// serialization paths (the JSON of GET /ohlcv): no std::string per value, 64-bit digit pairs
// instead of one 128-bit division per digit. Each writes at most the bound beside it at p and
// returns the new end; the text is byte-identical to the std::string forms (Decimal::append_to,
// WideDecimal::trimmed(..).append_to, append_iso8601_ms), which are built on these.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>

#include "core/decimal.h"
#include "core/time.h"

namespace tickflow {

constexpr size_t kDecimalMaxChars = 24;      // "-9.223372036854775808", "-0.000000000000000001"
constexpr size_t kWideDecimalMaxChars = 48;  // 39 digits, sign, point; or "-0." + 36 decimals
constexpr size_t kIso8601MsChars = 24;       // "2021-08-14T14:46:36.572Z"

char* write_decimal(char* p, const Decimal& d);
char* write_decimal(char* p, const WideDecimal& d);
// The text of d.trimmed(min_scale) (min_scale >= 0).
char* write_decimal_trimmed(char* p, const WideDecimal& d, int min_scale);
char* write_iso8601_ms(char* p, TimestampNs ts);

}  // namespace tickflow
