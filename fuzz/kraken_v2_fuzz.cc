// libFuzzer target: kraken::V2Parser::parse (WebSocket v2 frames) and KrakenBook::apply over a
// short session (one frame per line, at most 16; the first session line may set the pair
// precision: set_precision("BTC/USD", 1, 8) is always on). Checks: failures carry a bounded
// reason; v2 trades carry Kraken's id (>= 0), positive price and size and a known taker side;
// a book message that applies leaves the book in sync, an applied message with a checksum
// matched it, and kraken_checksum() never disagrees with the book it was computed from.
#include <string>

#include "exchange/kraken/book.h"
#include "exchange/kraken/v2_parse.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace tickflow;
using namespace tickflow::exchange;

bool known_reason(std::string_view r) {
  return r == "malformed_json" || r == "missing_field" || r == "bad_field" || r == "bad_decimal" ||
         r == "bad_symbol" || r == "unknown_channel" || r == "unknown_method";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static kraken::V2Parser& parser = *[] {
    auto* p = new kraken::V2Parser;  // lives for the process: simdjson buffers reused
    p->set_precision("BTC/USD", 1, 8);
    return p;
  }();
  kraken::KrakenBook book(10);
  kraken::ParsedMessage m;
  for (std::string_view frame : fuzz::split_frames(fuzz::as_view(data, size))) {
    if (!parser.parse(frame, 1'700'000'000'000'000'000, m)) {
      TF_FUZZ_CHECK(known_reason(parser.error_reason()), std::string(parser.error_reason()));
      continue;
    }
    for (const Trade& t : m.trades) {
      TF_FUZZ_CHECK(t.trade_id >= 0 && t.price > Decimal() && t.quantity > Decimal(), "trade values");
      TF_FUZZ_CHECK(t.taker_side == Side::kBuy || t.taker_side == Side::kSell, "unknown taker side");
    }
    if (m.kind != kraken::MessageKind::kBookSnapshot && m.kind != kraken::MessageKind::kBookUpdate) continue;
    Status bs = book.apply(m);
    if (bs.is_ok()) {
      TF_FUZZ_CHECK(book.synced(), "applied but not synced");
      TF_FUZZ_CHECK(book.book().bid_count() <= 10 && book.book().ask_count() <= 10, "book deeper than 10");
      if (m.has_checksum) TF_FUZZ_CHECK(book.last_checksum() == m.checksum, "applied with a wrong checksum");
    } else {
      TF_FUZZ_CHECK(!book.reason().empty(), "book error without a reason: " + bs.message());
    }
  }
  return 0;
}
