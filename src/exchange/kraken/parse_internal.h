// Internal to the Kraken v1 parser (parse.cc: the simdjson path; parse_fast.cc: the
// hand-written trade and book-update paths): FrameParser::Impl and the helpers both use.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/symbol_hash.h"
#include "exchange/kraken/parse.h"

namespace tickflow::exchange::kraken {

namespace dom = simdjson::dom;

namespace internal {

inline constexpr std::string_view kMalformedJson = "malformed_json";
inline constexpr std::string_view kMissingField = "missing_field";
inline constexpr std::string_view kBadField = "bad_field";
inline constexpr std::string_view kBadDecimal = "bad_decimal";
inline constexpr std::string_view kBadSymbol = "bad_symbol";
inline constexpr std::string_view kUnknownEvent = "unknown_event";
inline constexpr std::string_view kUnknownChannel = "unknown_channel";

// Kraken pair names: "XBT/USD" (ASCII letters/digits, one '/').
bool valid_pair(std::string_view p);
// "1000" → 1000; false unless 1..9 digits.
bool parse_small_uint(std::string_view s, int& out);
// At most 64 characters of s (for error messages).
std::string clip(std::string_view s);

}  // namespace internal

struct FrameParser::Impl {
  dom::parser parser;
  std::unordered_map<std::string, std::string, SymbolHash, std::equal_to<>> unified;
  struct KeyState {
    int64_t last_us = -1;
    int64_t ordinal = 0;
  };
  std::unordered_map<std::string, KeyState, SymbolHash, std::equal_to<>> keys;
  std::string_view* reason = nullptr;

  Status fail(std::string_view tag, std::string message) {
    *reason = tag;
    return Status::parse_error(std::move(message));
  }

  const std::string* unify(std::string_view pair) {
    auto it = unified.find(pair);
    if (it != unified.end()) return &it->second;
    if (!internal::valid_pair(pair)) return nullptr;
    if (unified.size() > 10000) unified.clear();
    return &unified.emplace(std::string(pair), unify_kraken_symbol(pair)).first->second;
  }

  Status get_string(dom::element e, const char* what, std::string_view& out) {
    if (e.get_string().get(out) != simdjson::SUCCESS)
      return fail(internal::kBadField, std::string("field '") + what + "' is not a string");
    return Status::ok();
  }

  Status decimal(dom::element e, const char* what, Decimal& out) {
    std::string_view s;
    TICKFLOW_RETURN_IF_ERROR(get_string(e, what, s));
    if (!Decimal::parse(s, out) || out.is_negative())
      return fail(internal::kBadDecimal, std::string("field '") + what +
                                   "' is not a non-negative decimal: '" + internal::clip(s) + "'");
    return Status::ok();
  }

  Status parse_event(dom::object obj, ParsedMessage& out);
  Status parse_channel(dom::array arr, TimestampNs recv, ParsedMessage& out);
  Status parse_trades(dom::element payload, TimestampNs recv, ParsedMessage& out);
  // The hand-written path (FrameParser::set_fast_path); false = not taken, nothing changed.
  bool fast_trades(std::string_view f, TimestampNs recv, ParsedMessage& out);
  struct FastItem {
    std::string_view price, volume, time, side, type;
    Decimal p, v;
    TimestampNs ts;
    int64_t id;
  };
  std::vector<FastItem> fast_items;
  // Book updates in Kraken's compact layout (same contract as fast_trades; on false `out` is as
  // parse() left it before the call).
  bool fast_book_update(std::string_view f, ParsedMessage& out);
  bool fast_levels(std::string_view f, size_t& pos, std::vector<BookEntry>& out);
  Status parse_levels(dom::element list, const char* what, std::vector<BookEntry>& out);
  Status parse_book_object(dom::element payload, ParsedMessage& out, bool& snapshot, bool& update);
};

}  // namespace tickflow::exchange::kraken
