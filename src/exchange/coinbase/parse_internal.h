// Private to the Coinbase Exchange parser (parse.cc, parse_fast.cc).
#pragma once

#include <string_view>

#include "exchange/coinbase/parse.h"

namespace tickflow::exchange::coinbase::internal {

// Coinbase product ids are already BASE-QUOTE in upper case ("BTC-USD").
bool valid_product(std::string_view p);

// The fast path of FrameParser::parse for `match` / `last_match` frames in exactly the layout
// Coinbase sends (the recording's key order, no whitespace, no escapes, ASCII only): fills `out`
// exactly as the simdjson path would and returns true; returns false (with `out` partly
// written) for anything else, including every error, which the simdjson path then handles.
bool parse_match_fast(std::string_view frame, TimestampNs recv, ParsedMessage& out);

}  // namespace tickflow::exchange::coinbase::internal
