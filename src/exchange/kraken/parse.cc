#include "exchange/kraken/parse.h"

#include <simdjson.h>

#include <cctype>
#include <utility>

#include "core/symbol.h"
#include "exchange/kraken/parse_internal.h"

namespace tickflow::exchange::kraken {

using namespace internal;

namespace internal {

// Kraken pair names: "XBT/USD" (ASCII letters/digits, one '/').
bool valid_pair(std::string_view p) {
  auto slash = p.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == p.size() || p.size() > 32)
    return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (i == slash) continue;
    if (!std::isalnum(static_cast<unsigned char>(p[i]))) return false;
  }
  return p.find('/', slash + 1) == std::string_view::npos;
}

// "1000" → 1000; false unless 1..9 digits.
bool parse_small_uint(std::string_view s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

std::string clip(std::string_view s) {
  constexpr size_t kMax = 64;
  return s.size() <= kMax ? std::string(s) : std::string(s.substr(0, kMax)) + "...";
}

}  // namespace internal

bool parse_kraken_time(std::string_view s, TimestampNs& out) {
  size_t i = 0;
  int64_t sec = 0;
  int int_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (++int_digits > 10) return false;  // beyond year 2286
    sec = sec * 10 + (s[i] - '0');
    ++i;
  }
  if (int_digits == 0) return false;
  int64_t frac = 0;
  int frac_digits = 0;
  if (i < s.size()) {
    if (s[i] != '.') return false;
    ++i;
    while (i < s.size()) {
      if (s[i] < '0' || s[i] > '9' || ++frac_digits > 9) return false;
      frac = frac * 10 + (s[i] - '0');
      ++i;
    }
    if (frac_digits == 0) return false;
  }
  for (int d = frac_digits; d < 9; ++d) frac *= 10;
  if (sec > INT64_MAX / kNsPerSec - 1) return false;
  out = sec * kNsPerSec + frac;
  return true;
}

std::string_view message_kind_name(MessageKind k) {
  switch (k) {
    case MessageKind::kTrade:
      return "trade";
    case MessageKind::kBookSnapshot:
      return "book_snapshot";
    case MessageKind::kBookUpdate:
      return "book_update";
    case MessageKind::kTicker:
      return "ticker";
    case MessageKind::kHeartbeat:
      return "heartbeat";
    case MessageKind::kSystemStatus:
      return "system_status";
    case MessageKind::kSubscriptionStatus:
      return "subscription_status";
    case MessageKind::kPong:
      return "pong";
  }
  return "unknown";
}


Status FrameParser::Impl::parse_event(dom::object obj, ParsedMessage& out) {
  std::string_view event;
  if (obj["event"].get_string().get(event) != simdjson::SUCCESS) {
    if (obj["event"].error() == simdjson::NO_SUCH_FIELD)
      return fail(kMissingField, "object without an 'event' field");
    return fail(kBadField, "field 'event' is not a string");
  }
  auto opt_string = [&](const char* key, std::string& dst) -> Status {
    dom::element e;
    if (obj[key].get(e) != simdjson::SUCCESS) return Status::ok();
    std::string_view s;
    TICKFLOW_RETURN_IF_ERROR(get_string(e, key, s));
    dst.assign(s);
    return Status::ok();
  };
  auto need_string = [&](const char* key, std::string& dst) -> Status {
    if (obj[key].error() == simdjson::NO_SUCH_FIELD)
      return fail(kMissingField, std::string(event) + ": missing field '" + key + "'");
    return opt_string(key, dst);
  };
  dom::element reqid;
  if (obj["reqid"].get(reqid) == simdjson::SUCCESS &&
      reqid.get_int64().get(out.reqid) != simdjson::SUCCESS)
    return fail(kBadField, "field 'reqid' is not an integer");

  if (event == "heartbeat") {
    out.kind = MessageKind::kHeartbeat;
    return Status::ok();
  }
  if (event == "pong") {
    out.kind = MessageKind::kPong;
    return Status::ok();
  }
  if (event == "systemStatus") {
    out.kind = MessageKind::kSystemStatus;
    TICKFLOW_RETURN_IF_ERROR(need_string("status", out.status));
    TICKFLOW_RETURN_IF_ERROR(opt_string("version", out.version));
    dom::element id;
    if (obj["connectionID"].get(id) == simdjson::SUCCESS &&
        id.get_uint64().get(out.connection_id) != simdjson::SUCCESS)
      return fail(kBadField, "field 'connectionID' is not an unsigned integer");
    return Status::ok();
  }
  if (event == "subscriptionStatus") {
    out.kind = MessageKind::kSubscriptionStatus;
    TICKFLOW_RETURN_IF_ERROR(need_string("status", out.status));
    TICKFLOW_RETURN_IF_ERROR(opt_string("channelName", out.channel_name));
    TICKFLOW_RETURN_IF_ERROR(opt_string("pair", out.pair));
    TICKFLOW_RETURN_IF_ERROR(opt_string("errorMessage", out.error_message));
    if (out.status == "error" && out.error_message.empty())
      return fail(kMissingField, "subscriptionStatus error without 'errorMessage'");
    if (out.status != "subscribed" && out.status != "unsubscribed" && out.status != "error")
      return fail(kBadField, "subscriptionStatus: unknown status '" + clip(out.status) + "'");
    dom::element id;
    if (obj["channelID"].get(id) == simdjson::SUCCESS &&
        id.get_int64().get(out.channel_id) != simdjson::SUCCESS)
      return fail(kBadField, "field 'channelID' is not an integer");
    if (out.status == "subscribed" && out.channel_id < 0)
      return fail(kMissingField, "subscriptionStatus subscribed without 'channelID'");
    if (!out.pair.empty()) {
      const std::string* u = unify(out.pair);
      if (u == nullptr)
        return fail(kBadSymbol, "field 'pair': not a Kraken pair: '" + clip(out.pair) + "'");
      out.symbol = *u;
    }
    dom::object sub;
    if (obj["subscription"].get(sub) == simdjson::SUCCESS) {
      std::string_view name;
      if (sub["name"].get_string().get(name) == simdjson::SUCCESS)
        out.subscription_name.assign(name);
      dom::element depth;
      if (sub["depth"].get(depth) == simdjson::SUCCESS) {
        int64_t d = 0;
        if (depth.get_int64().get(d) != simdjson::SUCCESS || d <= 0 || d > 100000)
          return fail(kBadField, "field 'subscription.depth' is not a positive integer");
        out.subscription_depth = static_cast<int>(d);
      }
    } else if (obj["subscription"].error() != simdjson::NO_SUCH_FIELD) {
      return fail(kBadField, "field 'subscription' is not an object");
    }
    return Status::ok();
  }
  return fail(kUnknownEvent, "unknown event '" + clip(event) + "'");
}

Status FrameParser::Impl::parse_trades(dom::element payload, TimestampNs recv, ParsedMessage& out) {
  dom::array list;
  if (payload.get_array().get(list) != simdjson::SUCCESS)
    return fail(kBadField, "trade: payload is not an array");
  if (list.size() == 0) return fail(kBadField, "trade: empty trade list");
  KeyState& key = keys[out.pair];
  for (dom::element entry : list) {
    dom::array f;
    if (entry.get_array().get(f) != simdjson::SUCCESS)
      return fail(kBadField, "trade: entry is not an array");
    if (f.size() < 6) return fail(kMissingField, "trade: entry has fewer than 6 elements");
    Trade& t = out.trades.emplace_back();
    TICKFLOW_RETURN_IF_ERROR(decimal(f.at(0), "trade.price", t.price));
    TICKFLOW_RETURN_IF_ERROR(decimal(f.at(1), "trade.volume", t.quantity));
    if (t.price.is_zero()) return fail(kBadField, "trade: price is zero");
    if (t.quantity.is_zero()) return fail(kBadField, "trade: volume is zero");
    std::string_view time, side, order_type;
    TICKFLOW_RETURN_IF_ERROR(get_string(f.at(2), "trade.time", time));
    if (!parse_kraken_time(time, t.ts_event))
      return fail(kBadField, "trade: field 'time' is not epoch seconds: '" + clip(time) + "'");
    TICKFLOW_RETURN_IF_ERROR(get_string(f.at(3), "trade.side", side));
    if (side == "b") {
      t.taker_side = Side::kBuy;
    } else if (side == "s") {
      t.taker_side = Side::kSell;
    } else {
      return fail(kBadField, "trade: field 'side' is not b/s: '" + clip(side) + "'");
    }
    TICKFLOW_RETURN_IF_ERROR(get_string(f.at(4), "trade.orderType", order_type));
    if (order_type != "m" && order_type != "l")
      return fail(kBadField, "trade: field 'orderType' is not m/l: '" + clip(order_type) + "'");
    const int64_t us = t.ts_event / 1000;
    if (us == key.last_us) {
      if (++key.ordinal >= 1000)
        return fail(kBadField, "trade: more than 1000 trades in one microsecond");
    } else {
      key.last_us = us;
      key.ordinal = 0;
    }
    t.exchange = Exchange::kKraken;
    t.exchange_symbol = out.pair;
    t.symbol = out.symbol;
    t.trade_id = us * 1000 + key.ordinal;
    t.first_trade_id = t.trade_id;
    t.last_trade_id = t.trade_id;
    t.ts_recv = recv;
    t.aggregated = false;
  }
  out.kind = MessageKind::kTrade;
  return Status::ok();
}

Status FrameParser::Impl::parse_levels(dom::element list_el, const char* what,
                                       std::vector<BookEntry>& out) {
  dom::array list;
  if (list_el.get_array().get(list) != simdjson::SUCCESS)
    return fail(kBadField, std::string("book: field '") + what + "' is not an array");
  for (dom::element entry : list) {
    dom::array f;
    if (entry.get_array().get(f) != simdjson::SUCCESS)
      return fail(kBadField, std::string("book: entry of '") + what + "' is not an array");
    const size_t size = f.size();
    if (size < 3 || size > 4)
      return fail(kBadField, std::string("book: entry of '") + what + "' has " +
                                 std::to_string(size) + " elements");
    BookEntry& b = out.emplace_back();
    TICKFLOW_RETURN_IF_ERROR(decimal(f.at(0), "book.price", b.price));
    if (b.price.is_zero()) return fail(kBadField, "book: price is zero");
    TICKFLOW_RETURN_IF_ERROR(decimal(f.at(1), "book.volume", b.volume));
    std::string_view ts;
    TICKFLOW_RETURN_IF_ERROR(get_string(f.at(2), "book.timestamp", ts));
    if (!parse_kraken_time(ts, b.ts))
      return fail(kBadField, "book: timestamp is not epoch seconds: '" + clip(ts) + "'");
    if (size == 4) {
      std::string_view flag;
      TICKFLOW_RETURN_IF_ERROR(get_string(f.at(3), "book.flag", flag));
      if (flag != "r") return fail(kBadField, "book: unknown level flag '" + clip(flag) + "'");
      b.republished = true;
    }
  }
  return Status::ok();
}

Status FrameParser::Impl::parse_book_object(dom::element payload, ParsedMessage& out,
                                            bool& snapshot, bool& update) {
  dom::object obj;
  if (payload.get_object().get(obj) != simdjson::SUCCESS)
    return fail(kBadField, "book: payload is not an object");
  for (auto field : obj) {
    std::string_view k = field.key;
    if (k == "as") {
      snapshot = true;
      TICKFLOW_RETURN_IF_ERROR(parse_levels(field.value, "as", out.asks));
    } else if (k == "bs") {
      snapshot = true;
      TICKFLOW_RETURN_IF_ERROR(parse_levels(field.value, "bs", out.bids));
    } else if (k == "a") {
      update = true;
      TICKFLOW_RETURN_IF_ERROR(parse_levels(field.value, "a", out.asks));
    } else if (k == "b") {
      update = true;
      TICKFLOW_RETURN_IF_ERROR(parse_levels(field.value, "b", out.bids));
    } else if (k == "c") {
      if (out.has_checksum) return fail(kBadField, "book: two checksums in one message");
      std::string_view c;
      TICKFLOW_RETURN_IF_ERROR(get_string(field.value, "c", c));
      uint64_t v = 0;
      bool ok = !c.empty() && c.size() <= 10;
      for (char ch : c) {
        if (ch < '0' || ch > '9') ok = false;
        v = v * 10 + static_cast<uint64_t>(ch - '0');
      }
      if (!ok || v > UINT32_MAX)
        return fail(kBadField, "book: checksum 'c' is not a uint32: '" + clip(c) + "'");
      out.has_checksum = true;
      out.checksum = static_cast<uint32_t>(v);
    } else {
      return fail(kBadField, "book: unknown key '" + clip(k) + "'");
    }
  }
  return Status::ok();
}

Status FrameParser::Impl::parse_channel(dom::array arr, TimestampNs recv, ParsedMessage& out) {
  const size_t n = arr.size();
  if (n < 4)
    return fail(kMissingField,
                "channel message with " + std::to_string(n) + " elements (need 4 or more)");
  if (arr.at(0).get_int64().get(out.channel_id) != simdjson::SUCCESS || out.channel_id < 0)
    return fail(kBadField, "channelID is not a non-negative integer");
  std::string_view name, pair;
  TICKFLOW_RETURN_IF_ERROR(get_string(arr.at(n - 2), "channelName", name));
  TICKFLOW_RETURN_IF_ERROR(get_string(arr.at(n - 1), "pair", pair));
  out.channel_name.assign(name);
  out.pair.assign(pair);
  const std::string* u = unify(pair);
  if (u == nullptr) return fail(kBadSymbol, "not a Kraken pair: '" + clip(pair) + "'");
  out.symbol = *u;

  if (name == "trade") {
    if (n != 4) return fail(kBadField, "trade message with " + std::to_string(n) + " elements");
    return parse_trades(arr.at(1), recv, out);
  }
  if (name.substr(0, 5) == "book-") {
    if (!parse_small_uint(name.substr(5), out.book_depth) || out.book_depth == 0)
      return fail(kUnknownChannel, "bad book channel name '" + clip(name) + "'");
    if (n > 5) return fail(kBadField, "book message with " + std::to_string(n) + " elements");
    bool snapshot = false, update = false;
    for (size_t i = 1; i + 2 < n; ++i)
      TICKFLOW_RETURN_IF_ERROR(parse_book_object(arr.at(i), out, snapshot, update));
    if (snapshot && update) return fail(kBadField, "book: snapshot and update keys in one message");
    if (snapshot) {
      if (out.has_checksum) return fail(kBadField, "book: checksum in a snapshot");
      out.kind = MessageKind::kBookSnapshot;
      return Status::ok();
    }
    if (!update) return fail(kMissingField, "book: no 'a'/'b' or 'as'/'bs'");
    if (!out.has_checksum) return fail(kMissingField, "book update without checksum 'c'");
    out.kind = MessageKind::kBookUpdate;
    return Status::ok();
  }
  if (name == "ticker") {
    if (n != 4 || arr.at(1).type() != dom::element_type::OBJECT)
      return fail(kBadField, "ticker: payload is not an object");
    out.kind = MessageKind::kTicker;
    return Status::ok();
  }
  return fail(kUnknownChannel, "unknown channel '" + clip(name) + "'");
}

FrameParser::FrameParser() : impl_(std::make_unique<Impl>()) { impl_->reason = &reason_; }
FrameParser::~FrameParser() = default;

void FrameParser::reset_trade_keys() { impl_->keys.clear(); }

Status FrameParser::parse(std::string_view frame, TimestampNs recv, ParsedMessage& out) {
  reason_ = {};
  out.kind = MessageKind::kHeartbeat;
  out.channel_id = -1;
  out.channel_name.clear();
  out.pair.clear();
  out.symbol.clear();
  out.book_depth = 0;
  out.trades.clear();
  out.asks.clear();
  out.bids.clear();
  out.has_checksum = false;
  out.checksum = 0;
  out.status.clear();
  out.version.clear();
  out.connection_id = 0;
  out.subscription_name.clear();
  out.subscription_depth = 0;
  out.error_message.clear();
  out.reqid = -1;

  if (fast_path_ && frame.size() > 4 && frame[0] == '[') {
    // [channelID,[ → trades; [channelID,{ → a book update (the hand-written paths).
    size_t i = 1;
    while (i < frame.size() && frame[i] >= '0' && frame[i] <= '9') ++i;
    if (i + 1 < frame.size() && frame[i] == ',') {
      if (frame[i + 1] == '[' && impl_->fast_trades(frame, recv, out)) return Status::ok();
      if (frame[i + 1] == '{' && impl_->fast_book_update(frame, out)) return Status::ok();
    }
  }
  dom::element doc;
  auto ec = impl_->parser.parse(frame.data(), frame.size(), true).get(doc);
  if (ec)
    return impl_->fail(kMalformedJson,
                       std::string("malformed JSON: ") + simdjson::error_message(ec));
  dom::object obj;
  if (doc.get_object().get(obj) == simdjson::SUCCESS) return impl_->parse_event(obj, out);
  dom::array arr;
  if (doc.get_array().get(arr) == simdjson::SUCCESS) return impl_->parse_channel(arr, recv, out);
  return impl_->fail(kBadField, "frame is neither an object nor an array");
}

}  // namespace tickflow::exchange::kraken
