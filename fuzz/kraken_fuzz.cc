// libFuzzer target: kraken::FrameParser::parse and KrakenBook::apply over a short session (one
// frame per line, at most 16). Checks per frame: failures carry a bounded reason; derived trade
// keys are time_us * 1000 + ordinal (ordinal < 1000); a book message that applies leaves both
// sides within the channel depth, and kraken_checksum() equals an independent CRC32 over the
// levels' printed strings; an update that applies matched the exchange's checksum; the
// hand-written trade and book-update paths (FrameParser::set_fast_path) agree with the simdjson path on every frame.
#include <zlib.h>

#include <string>

#include "exchange/kraken/book.h"
#include "exchange/kraken/parse.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace tickflow;
using namespace tickflow::exchange;

bool known_reason(std::string_view r) {
  return r == "malformed_json" || r == "missing_field" || r == "bad_field" || r == "bad_decimal" ||
         r == "bad_symbol" || r == "unknown_event" || r == "unknown_channel";
}

uint32_t reference_checksum(const book::OrderBook& b) {
  std::string text;
  b.for_each_ask(10, [&](const Decimal& p, const Decimal& q) {
    text += fuzz::kraken_checksum_text(p) + fuzz::kraken_checksum_text(q);
  });
  b.for_each_bid(10, [&](const Decimal& p, const Decimal& q) {
    text += fuzz::kraken_checksum_text(p) + fuzz::kraken_checksum_text(q);
  });
  return static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0),
                                     reinterpret_cast<const Bytef*>(text.data()),
                                     static_cast<uInt>(text.size())));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static kraken::FrameParser parser;  // reused: simdjson buffers are not reallocated per input
  parser.reset_trade_keys();          // but each input is a new session
  // The same frames through the simdjson path only: the hand-written trade path must agree.
  static kraken::FrameParser slow;
  slow.set_fast_path(false);
  slow.reset_trade_keys();
  kraken::ParsedMessage ms;
  kraken::KrakenBook book;
  kraken::ParsedMessage m;
  size_t depth = 0;
  for (std::string_view frame : fuzz::split_frames(fuzz::as_view(data, size))) {
    Status st = parser.parse(frame, 1'700'000'000'000'000'000, m);
    Status ss = slow.parse(frame, 1'700'000'000'000'000'000, ms);
    TF_FUZZ_CHECK(st.is_ok() == ss.is_ok() && parser.error_reason() == slow.error_reason(),
                  "fast and simdjson paths disagree on the outcome");
    if (st.is_ok()) {
      TF_FUZZ_CHECK(m.kind == ms.kind && m.pair == ms.pair && m.trades.size() == ms.trades.size(),
                    "fast and simdjson paths disagree on the message");
      for (size_t i = 0; i < m.trades.size(); ++i) {
        const Trade& a = m.trades[i];
        const Trade& b = ms.trades[i];
        TF_FUZZ_CHECK(a.trade_id == b.trade_id && a.price == b.price && a.price.scale() == b.price.scale() &&
                          a.quantity == b.quantity && a.quantity.scale() == b.quantity.scale() &&
                          a.taker_side == b.taker_side && a.ts_event == b.ts_event && a.symbol == b.symbol,
                      "fast and simdjson paths disagree on a trade");
      }
      TF_FUZZ_CHECK(m.channel_id == ms.channel_id && m.channel_name == ms.channel_name && m.symbol == ms.symbol &&
                        m.book_depth == ms.book_depth && m.has_checksum == ms.has_checksum &&
                        m.checksum == ms.checksum && m.asks.size() == ms.asks.size() && m.bids.size() == ms.bids.size(),
                    "fast and simdjson paths disagree on the channel or book header");
      auto same_levels = [](const std::vector<kraken::BookEntry>& x, const std::vector<kraken::BookEntry>& y) {
        for (size_t i = 0; i < x.size(); ++i) {
          if (!(x[i].price == y[i].price && x[i].price.scale() == y[i].price.scale() && x[i].volume == y[i].volume &&
                x[i].volume.scale() == y[i].volume.scale() && x[i].ts == y[i].ts &&
                x[i].republished == y[i].republished))
            return false;
        }
        return true;
      };
      TF_FUZZ_CHECK(same_levels(m.asks, ms.asks) && same_levels(m.bids, ms.bids),
                    "fast and simdjson paths disagree on a book level");
    }
    if (!st.is_ok()) {
      TF_FUZZ_CHECK(known_reason(parser.error_reason()), std::string(parser.error_reason()));
      continue;
    }
    for (const Trade& t : m.trades) {
      TF_FUZZ_CHECK(t.trade_id / 1000 == t.ts_event / 1000,
                    "derived key is not time_us*1000+ordinal");
      TF_FUZZ_CHECK(t.trade_id >= 0 && t.price > Decimal() && t.quantity > Decimal(),
                    "trade values");
    }
    if (m.kind != kraken::MessageKind::kBookSnapshot && m.kind != kraken::MessageKind::kBookUpdate)
      continue;
    TF_FUZZ_CHECK(m.book_depth > 0, "book message without a depth");
    if (m.kind == kraken::MessageKind::kBookSnapshot) depth = static_cast<size_t>(m.book_depth);
    Status bs = book.apply(m);
    const book::OrderBook& b = book.book();
    if (bs.is_ok()) {
      TF_FUZZ_CHECK(book.synced(), "applied but not synced");
      TF_FUZZ_CHECK(depth > 0 && b.bid_count() <= depth && b.ask_count() <= depth,
                    "book deeper than its channel");
      if (m.kind == kraken::MessageKind::kBookUpdate)
        TF_FUZZ_CHECK(book.last_checksum() == m.checksum, "update applied with a wrong checksum");
    } else {
      TF_FUZZ_CHECK(!book.reason().empty(), "book error without a reason: " + bs.message());
    }
    TF_FUZZ_CHECK(book::kraken_checksum(b) == reference_checksum(b),
                  "kraken_checksum differs from the reference");
  }
  return 0;
}
