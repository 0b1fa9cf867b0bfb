// Private to the Binance parser library: FrameParser::Impl (simdjson parser, padded copy,
// symbol cache) shared by the two paths of FrameParser::parse:
//   parse_fast.cc  FrameParser::parse (the entry point) and the hand-written fast path for the
//                  exact trade/aggTrade layouts Binance sends
//   parse.cc       the general simdjson On-Demand path (and the fallback of the fast one),
//                  parse_agg_trades_response, FrameParser construction and set_fast_path.
//
// Thread-safety: one Impl per FrameParser, used by one thread at a time. Ownership: the
// FrameParser owns its Impl.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/symbol.h"
#include "core/symbol_hash.h"
#include "exchange/binance/parse.h"

namespace tickflow::exchange::binance {
namespace internal {

namespace od = simdjson::ondemand;

// Milliseconds beyond which ms → ns overflows int64 (year 2262).
constexpr int64_t kMaxMs = INT64_MAX / kNsPerMs;

// Field presence bits of one payload object.
enum FieldBit : uint32_t {
  kHasS = 1u << 0,
  kHasT = 1u << 1,   // "t"
  kHasA = 1u << 2,   // "a" (number)
  kHasP = 1u << 3,
  kHasQ = 1u << 4,
  kHasF = 1u << 5,
  kHasL = 1u << 6,
  kHasBigT = 1u << 7,  // "T"
  kHasM = 1u << 8,
  kHasBigU = 1u << 9,  // "U"
  kHasU = 1u << 10,    // "u"
  kHasK = 1u << 11,
  kHasBookB = 1u << 12,  // "b" string (bookTicker)
  kHasBookA = 1u << 13,  // "a" string (bookTicker)
  kHasResult = 1u << 14,
  kHasId = 1u << 15,
  kHasBookBQ = 1u << 16,  // "B" string (bookTicker best bid qty)
  kHasBookAQ = 1u << 17,  // "A" string (bookTicker best ask qty)
  kHasDepthB = 1u << 18,  // "b" array (depthUpdate bids)
  kHasDepthA = 1u << 19,  // "a" array (depthUpdate asks)
  kHasError = 1u << 20,   // "error" object (a rejected SUBSCRIBE)
};

struct Fields {
  uint32_t have = 0;
  std::string_view stream, e, s, p, q;
  std::string_view book_b, book_bq, book_a, book_aq;  // bookTicker b, B, a, A
  int64_t t = 0, a = 0, f = 0, l = 0, big_t = 0, big_u = 0, u = 0, big_e = 0;
  bool m = false;
};

}  // namespace internal

struct FrameParser::Impl {
  internal::od::parser parser;
  std::string padded;  // frame copy with SIMDJSON_PADDING readable bytes after it
  bool fast_path = true;
  std::unordered_map<std::string, std::string, SymbolHash, std::equal_to<>> unified_cache;

  Status fail(std::string_view& reason, std::string_view tag, std::string message) {
    reason = tag;
    return Status::parse_error(std::move(message));
  }

  // Direct-mapped front cache of unified_cache (no modulo, no chain walk on a hit).
  struct Slot {
    std::string exchange_symbol, unified;
  };
  Slot slots[64];

  // Unified symbol for s, cached (no allocation on a hit). nullptr when the quote is unknown.
  const std::string* unify(std::string_view s) {
    Slot& slot = slots[SymbolHash{}(s) & 63];
    if (!slot.unified.empty() && symbol_equal(slot.exchange_symbol, s)) return &slot.unified;
    auto it = unified_cache.find(s);
    if (it == unified_cache.end()) {
      std::string u = unify_binance_symbol(s);
      if (u.empty()) return nullptr;
      if (unified_cache.size() > 100000) unified_cache.clear();
      it = unified_cache.emplace(std::string(s), std::move(u)).first;
    }
    slot.exchange_symbol.assign(s);
    slot.unified = it->second;
    return &slot.unified;
  }

  // parse_fast.cc: true when `in` has the exact trade/aggTrade layout and was parsed into out;
  // false (out unspecified) defers to parse_simdjson, which handles every input and error.
  bool fast_parse(std::string_view in, TimestampNs recv, ParsedFrame& out);
  // parse.cc: the general path.
  Status parse_simdjson(std::string_view in, TimestampNs recv, ParsedFrame& out, std::string_view& reason);
  Status payload_field(std::string_view key, internal::od::value v, internal::Fields& f, ParsedFrame& out,
                       std::string_view& reason);
  Status parse_kline(internal::od::object k, Kline& kl, std::string_view& reason);
  // A depthUpdate side: [["price","qty"(,ignored..)],..] → out (cleared first).
  Status parse_levels(internal::od::value v, std::vector<DepthLevel>& out, const char* name,
                      std::string_view& reason);
  Status build_book(const internal::Fields& f, bool depth, TimestampNs recv, ParsedFrame& out,
                    std::string_view& reason);
  Status build_trade(const internal::Fields& f, bool agg, TimestampNs recv, ParsedFrame& out,
                     std::string_view& reason);
};

}  // namespace tickflow::exchange::binance
