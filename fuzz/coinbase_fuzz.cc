// libFuzzer target: coinbase::FrameParser::parse (its match fast path checked against the
// simdjson-only parser frame by frame), apply_to_book and SequenceTracker over a
// short session (one frame per line, at most 16). Checks: failures carry a bounded reason;
// trades have positive price and size and a maker-derived taker side; a level2 message that
// parsed always applies (the parser already rejects bad levels) and afterwards the book holds
// exactly the last size given for every level it touched (0 = absent); sequence verdicts are
// consistent (a jump reports a non-empty, ordered missing range).
#include <map>
#include <string>
#include <utility>

#include "exchange/coinbase/parse.h"
#include "exchange/coinbase/sequence.h"
#include "fuzz/fuzz_util.h"

namespace {

using namespace tickflow;
using namespace tickflow::exchange;

bool known_reason(std::string_view r) {
  return r == "malformed_json" || r == "missing_field" || r == "bad_field" || r == "bad_decimal" ||
         r == "bad_symbol" || r == "bad_time" || r == "unknown_type";
}

void check_seq(const coinbase::SeqCheck& c) {
  if (c.verdict == coinbase::SeqVerdict::kJump) {
    TF_FUZZ_CHECK(c.missing_from <= c.missing_to && c.missing() > 0, "jump with an empty range");
  } else {
    TF_FUZZ_CHECK(c.missing() == 0, "missing ids without a jump");
  }
}

// The quantity the book holds at `price` on `side` (0 when absent).
Decimal level_of(const book::OrderBook& b, book::BookSide side, const Decimal& price) {
  Decimal q;
  auto find = [&](const Decimal& p, const Decimal& qty) {
    if (p == price) q = qty;
  };
  if (side == book::BookSide::kBid) {
    b.for_each_bid(b.bid_count(), find);
  } else {
    b.for_each_ask(b.ask_count(), find);
  }
  return q;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static coinbase::FrameParser parser;  // stateless between frames; reused for its buffers
  static coinbase::FrameParser& slow = *[] {  // simdjson only: the match fast path's reference
    auto* p = new coinbase::FrameParser;       // (lives for the process)
    p->set_fast_path(false);
    return p;
  }();
  book::OrderBook book;
  coinbase::SequenceTracker trade_ids, sequences;
  coinbase::ParsedMessage m, ref;
  for (std::string_view frame : fuzz::split_frames(fuzz::as_view(data, size))) {
    Status st = parser.parse(frame, 1'700'000'000'000'000'000, m);
    // Differential: the fast path (match / last_match) and simdjson agree on outcome and fields.
    Status rs = slow.parse(frame, 1'700'000'000'000'000'000, ref);
    TF_FUZZ_CHECK(st.is_ok() == rs.is_ok(), "fast path and simdjson disagree on success");
    if (!st.is_ok()) TF_FUZZ_CHECK(parser.error_reason() == slow.error_reason(), "different error reasons");
    if (st.is_ok() && m.is_trade()) {
      const Trade &a = m.trade, &b = ref.trade;
      TF_FUZZ_CHECK(m.kind == ref.kind && m.product_id == ref.product_id && m.sequence == ref.sequence &&
                        m.time == ref.time && a.trade_id == b.trade_id && a.price == b.price &&
                        a.price.scale() == b.price.scale() && a.quantity == b.quantity &&
                        a.quantity.scale() == b.quantity.scale() && a.taker_side == b.taker_side &&
                        a.ts_event == b.ts_event && a.symbol == b.symbol,
                    "fast path and simdjson disagree on a trade");
    }
    if (!st.is_ok()) {
      TF_FUZZ_CHECK(known_reason(parser.error_reason()), std::string(parser.error_reason()));
      continue;
    }
    if (m.is_trade()) {
      const Trade& t = m.trade;
      TF_FUZZ_CHECK(t.price > Decimal() && t.quantity > Decimal(), "trade with zero price or size");
      TF_FUZZ_CHECK(t.taker_side == Side::kBuy || t.taker_side == Side::kSell, "trade side");
      TF_FUZZ_CHECK(t.symbol == m.product_id && t.trade_id >= 0, "trade symbol/id");
      check_seq(trade_ids.observe(m.product_id, t.trade_id));
    }
    if (m.sequence >= 0) check_seq(sequences.observe(m.product_id, m.sequence));
    if (m.kind == coinbase::MessageKind::kHeartbeat)
      check_seq(trade_ids.expect_at_least(m.product_id, m.last_trade_id));
    if (m.kind == coinbase::MessageKind::kSnapshot || m.kind == coinbase::MessageKind::kL2Update) {
      Status bs = coinbase::apply_to_book(m, book);
      TF_FUZZ_CHECK(bs.is_ok(), "parsed level2 message did not apply: " + bs.message());
      if (m.changes.size() > 256) continue;  // keep the O(n^2) check below cheap
      // Last size per (side, price), compared exactly by value.
      std::map<std::pair<int, Decimal>, Decimal> last;
      for (const auto& c : m.changes) last[{static_cast<int>(c.side), c.price}] = c.size;
      for (const auto& [key, want] : last) {
        Decimal have = level_of(book, static_cast<book::BookSide>(key.first), key.second);
        TF_FUZZ_CHECK(have == want, "level " + key.second.to_string() + ": book " +
                                        have.to_string() + ", message " + want.to_string());
      }
    }
  }
  return 0;
}
