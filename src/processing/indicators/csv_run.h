// Offline indicators over a CSV file (the later `tickflow indicators --input FILE --indicators SPEC`).
//
// Input: a header row, then one row per closed bar in time order. Columns by name (any order,
// others passed through): `close` (required); `high`, `low` (required by atr; otherwise default
// to close); `volume` (required by vwap); `quote_volume` (optional: exact VWAP numerator);
// `open_time` (required by session vwap; ISO-8601 or epoch milliseconds, as `tickflow candles`
// writes it). When `exchange`, `symbol` or `timeframe` columns exist, each distinct combination is
// its own series with its own indicator state (the output of `tickflow candles` holds several).
// Lines starting with '#' and empty lines are skipped. Fields may be double-quoted (RFC 4180).
// Output: the input header and rows verbatim, plus one column per indicator output (names from
// IndicatorSet), empty while warming up; numbers in shortest round-trip form.
// The same IndicatorSet code as the pipeline.
// Thread-safety: a pure function of its inputs.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string_view>

#include "core/result.h"

namespace tickflow::processing::indicators {

// Returns the number of data rows written. Errors: kInvalidArgument for a bad spec or missing
// columns, kParse for a malformed row (message names the line and column).
Result<size_t> run_indicators_csv(std::istream& in, std::ostream& out, std::string_view spec);

}  // namespace tickflow::processing::indicators
