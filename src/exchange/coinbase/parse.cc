#include "exchange/coinbase/parse.h"

#include "exchange/coinbase/parse_internal.h"

#include <simdjson.h>

#include <cctype>
#include <utility>

namespace tickflow::exchange::coinbase {

namespace dom = simdjson::dom;

namespace {

constexpr std::string_view kMalformedJson = "malformed_json";
constexpr std::string_view kMissingField = "missing_field";
constexpr std::string_view kBadField = "bad_field";
constexpr std::string_view kBadDecimal = "bad_decimal";
constexpr std::string_view kBadSymbol = "bad_symbol";
constexpr std::string_view kBadTime = "bad_time";
constexpr std::string_view kUnknownType = "unknown_type";

std::string clip(std::string_view s) {
  constexpr size_t kMax = 64;
  return s.size() <= kMax ? std::string(s) : std::string(s.substr(0, kMax)) + "...";
}

}  // namespace

bool internal::valid_product(std::string_view p) {
  auto dash = p.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == p.size() || p.size() > 32)
    return false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (i == dash) continue;
    if (!(std::isupper(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c))))
      return false;
  }
  return p.find('-', dash + 1) == std::string_view::npos;
}

namespace {
using internal::valid_product;
}  // namespace

std::string_view message_kind_name(MessageKind k) {
  switch (k) {
    case MessageKind::kMatch:
      return "match";
    case MessageKind::kLastMatch:
      return "last_match";
    case MessageKind::kSnapshot:
      return "snapshot";
    case MessageKind::kL2Update:
      return "l2update";
    case MessageKind::kHeartbeat:
      return "heartbeat";
    case MessageKind::kTicker:
      return "ticker";
    case MessageKind::kSubscriptions:
      return "subscriptions";
    case MessageKind::kError:
      return "error";
  }
  return "unknown";
}

struct FrameParser::Impl {
  dom::parser parser;
  std::string_view* reason = nullptr;
  dom::object obj;
  std::string_view type;

  Status fail(std::string_view tag, std::string message) {
    *reason = tag;
    return Status::parse_error(std::move(message));
  }
  std::string where(const char* key) const { return std::string(type) + ": field '" + key + "'"; }

  // Field lookups. `required` false: an absent field leaves `out` unchanged and returns ok.
  Status str(const char* key, std::string_view& out, bool required = true) {
    dom::element e;
    auto ec = obj[key].get(e);
    if (ec == simdjson::NO_SUCH_FIELD)
      return required ? fail(kMissingField, where(key) + " is missing") : Status::ok();
    if (ec || e.get_string().get(out)) return fail(kBadField, where(key) + " is not a string");
    return Status::ok();
  }
  Status integer(const char* key, int64_t& out, bool required = true) {
    dom::element e;
    auto ec = obj[key].get(e);
    if (ec == simdjson::NO_SUCH_FIELD)
      return required ? fail(kMissingField, where(key) + " is missing") : Status::ok();
    if (ec || e.get_int64().get(out) || out < 0)
      return fail(kBadField, where(key) + " is not a non-negative integer");
    return Status::ok();
  }
  Status decimal_text(std::string_view s, const char* what, Decimal& out) {
    if (!Decimal::parse(s, out) || out.is_negative())
      return fail(kBadDecimal, std::string(type) + ": " + what +
                                   " is not a non-negative decimal: '" + clip(s) + "'");
    return Status::ok();
  }
  Status decimal(const char* key, Decimal& out, bool required = true) {
    std::string_view s;
    bool present = true;
    if (!required) present = obj[key].error() != simdjson::NO_SUCH_FIELD;
    if (!present) return Status::ok();
    TICKFLOW_RETURN_IF_ERROR(str(key, s));
    return decimal_text(s, key, out);
  }
  Status time(bool required, TimestampNs& out) {
    std::string_view s;
    if (!required && obj["time"].error() == simdjson::NO_SUCH_FIELD) return Status::ok();
    TICKFLOW_RETURN_IF_ERROR(str("time", s));
    Result<TimestampNs> t = parse_iso8601(s);
    if (!t.is_ok()) return fail(kBadTime, where("time") + " is not ISO-8601: '" + clip(s) + "'");
    out = *t;
    return Status::ok();
  }
  Status product(ParsedMessage& out, bool required = true) {
    std::string_view p;
    if (!required && obj["product_id"].error() == simdjson::NO_SUCH_FIELD) return Status::ok();
    TICKFLOW_RETURN_IF_ERROR(str("product_id", p));
    if (!valid_product(p))
      return fail(kBadSymbol, where("product_id") + " is not BASE-QUOTE: '" + clip(p) + "'");
    out.product_id.assign(p);
    return Status::ok();
  }

  Status parse_match(TimestampNs recv, ParsedMessage& out);
  Status parse_levels(const char* key, book::BookSide side, ParsedMessage& out);
  Status parse_l2update(ParsedMessage& out);
  Status parse_ticker(ParsedMessage& out);
  Status parse_subscriptions(ParsedMessage& out);
};

Status FrameParser::Impl::parse_match(TimestampNs recv, ParsedMessage& out) {
  TICKFLOW_RETURN_IF_ERROR(product(out));
  Trade& t = out.trade;
  TICKFLOW_RETURN_IF_ERROR(integer("trade_id", t.trade_id));
  TICKFLOW_RETURN_IF_ERROR(integer("sequence", out.sequence));
  TICKFLOW_RETURN_IF_ERROR(decimal("price", t.price));
  TICKFLOW_RETURN_IF_ERROR(decimal("size", t.quantity));
  if (t.price.is_zero() || t.quantity.is_zero())
    return fail(kBadField, std::string(type) + ": zero price or size");
  std::string_view side;
  TICKFLOW_RETURN_IF_ERROR(str("side", side));
  // `side` is the maker's side: the taker did the opposite.
  if (side == "sell") {
    t.taker_side = Side::kBuy;
  } else if (side == "buy") {
    t.taker_side = Side::kSell;
  } else {
    return fail(kBadField, where("side") + " is not buy/sell: '" + clip(side) + "'");
  }
  TICKFLOW_RETURN_IF_ERROR(time(true, out.time));
  t.exchange = Exchange::kCoinbase;
  t.symbol = out.product_id;
  t.exchange_symbol = out.product_id;
  t.first_trade_id = t.trade_id;
  t.last_trade_id = t.trade_id;
  t.ts_event = out.time;
  t.ts_recv = recv;
  t.aggregated = false;
  return Status::ok();
}

Status FrameParser::Impl::parse_levels(const char* key, book::BookSide side, ParsedMessage& out) {
  dom::array list;
  auto ec = obj[key].get_array().get(list);
  if (ec == simdjson::NO_SUCH_FIELD) return fail(kMissingField, where(key) + " is missing");
  if (ec) return fail(kBadField, where(key) + " is not an array");
  for (dom::element entry : list) {
    dom::array f;
    if (entry.get_array().get(f) || f.size() < 2)
      return fail(kBadField, where(key) + ": entry is not [price, size]");
    std::string_view p, s;
    if (f.at(0).get_string().get(p) || f.at(1).get_string().get(s))
      return fail(kBadField, where(key) + ": price/size are not strings");
    L2Change& c = out.changes.emplace_back();
    c.side = side;
    TICKFLOW_RETURN_IF_ERROR(decimal_text(p, "price", c.price));
    TICKFLOW_RETURN_IF_ERROR(decimal_text(s, "size", c.size));
    if (c.price.is_zero()) return fail(kBadField, where(key) + ": zero price");
  }
  return Status::ok();
}

Status FrameParser::Impl::parse_l2update(ParsedMessage& out) {
  TICKFLOW_RETURN_IF_ERROR(product(out));
  TICKFLOW_RETURN_IF_ERROR(time(false, out.time));
  dom::array list;
  auto ec = obj["changes"].get_array().get(list);
  if (ec == simdjson::NO_SUCH_FIELD) return fail(kMissingField, where("changes") + " is missing");
  if (ec) return fail(kBadField, where("changes") + " is not an array");
  for (dom::element entry : list) {
    dom::array f;
    if (entry.get_array().get(f) || f.size() != 3)
      return fail(kBadField, where("changes") + ": entry is not [side, price, size]");
    std::string_view side, p, s;
    if (f.at(0).get_string().get(side) || f.at(1).get_string().get(p) ||
        f.at(2).get_string().get(s))
      return fail(kBadField, where("changes") + ": entry elements are not strings");
    L2Change& c = out.changes.emplace_back();
    if (side == "buy") {
      c.side = book::BookSide::kBid;
    } else if (side == "sell") {
      c.side = book::BookSide::kAsk;
    } else {
      return fail(kBadField, where("changes") + ": side is not buy/sell: '" + clip(side) + "'");
    }
    TICKFLOW_RETURN_IF_ERROR(decimal_text(p, "price", c.price));
    TICKFLOW_RETURN_IF_ERROR(decimal_text(s, "size", c.size));
    if (c.price.is_zero()) return fail(kBadField, where("changes") + ": zero price");
  }
  if (out.changes.empty()) return fail(kBadField, where("changes") + " is empty");
  return Status::ok();
}

Status FrameParser::Impl::parse_ticker(ParsedMessage& out) {
  TICKFLOW_RETURN_IF_ERROR(product(out));
  TICKFLOW_RETURN_IF_ERROR(integer("sequence", out.sequence));
  Ticker& k = out.ticker;
  TICKFLOW_RETURN_IF_ERROR(decimal("price", k.price));
  TICKFLOW_RETURN_IF_ERROR(decimal("best_bid", k.best_bid, false));
  TICKFLOW_RETURN_IF_ERROR(decimal("best_ask", k.best_ask, false));
  TICKFLOW_RETURN_IF_ERROR(decimal("last_size", k.last_size, false));
  TICKFLOW_RETURN_IF_ERROR(integer("trade_id", k.trade_id, false));
  TICKFLOW_RETURN_IF_ERROR(time(false, out.time));
  std::string_view side;
  TICKFLOW_RETURN_IF_ERROR(str("side", side, false));
  if (side == "buy") {
    k.taker_side = Side::kBuy;  // the ticker's side is the taker's
  } else if (side == "sell") {
    k.taker_side = Side::kSell;
  } else if (!side.empty()) {
    return fail(kBadField, where("side") + " is not buy/sell: '" + clip(side) + "'");
  }
  return Status::ok();
}

Status FrameParser::Impl::parse_subscriptions(ParsedMessage& out) {
  dom::array channels;
  auto ec = obj["channels"].get_array().get(channels);
  if (ec == simdjson::NO_SUCH_FIELD) return fail(kMissingField, where("channels") + " is missing");
  if (ec) return fail(kBadField, where("channels") + " is not an array");
  for (dom::element ch : channels) {
    Subscription& s = out.subscriptions.emplace_back();
    std::string_view name;
    if (ch.get_string().get(name) == simdjson::SUCCESS) {  // ["heartbeat", ...] form
      s.name.assign(name);
      continue;
    }
    dom::object o;
    if (ch.get_object().get(o) || o["name"].get_string().get(name))
      return fail(kBadField, where("channels") + ": entry has no string 'name'");
    s.name.assign(name);
    dom::array ids;
    auto e2 = o["product_ids"].get_array().get(ids);
    if (e2 == simdjson::NO_SUCH_FIELD) continue;
    if (e2) return fail(kBadField, where("channels") + ": 'product_ids' is not an array");
    for (dom::element id : ids) {
      std::string_view p;
      if (id.get_string().get(p))
        return fail(kBadField, where("channels") + ": a product id is not a string");
      s.product_ids.emplace_back(p);
    }
  }
  return Status::ok();
}

FrameParser::FrameParser() : impl_(std::make_unique<Impl>()) { impl_->reason = &reason_; }
FrameParser::~FrameParser() = default;

Status FrameParser::parse(std::string_view frame, TimestampNs recv, ParsedMessage& out) {
  reason_ = {};
  out.product_id.clear();
  out.sequence = -1;
  out.time = 0;
  out.trade = Trade{};
  out.changes.clear();
  out.ticker = Ticker{};
  out.last_trade_id = -1;
  out.subscriptions.clear();
  out.error_message.clear();
  out.error_reason.clear();
  if (fast_path_ && internal::parse_match_fast(frame, recv, out)) return Status::ok();

  Impl& im = *impl_;
  dom::element doc;
  auto ec = im.parser.parse(frame.data(), frame.size(), true).get(doc);
  if (ec)
    return im.fail(kMalformedJson, std::string("malformed JSON: ") + simdjson::error_message(ec));
  if (doc.get_object().get(im.obj)) return im.fail(kBadField, "frame is not a JSON object");
  im.type = {};
  auto tec = im.obj["type"].get_string().get(im.type);
  if (tec == simdjson::NO_SUCH_FIELD)
    return im.fail(kMissingField, "message without a 'type' field");
  if (tec) return im.fail(kBadField, "field 'type' is not a string");
  const std::string_view type = im.type;

  if (type == "match" || type == "last_match") {
    out.kind = type == "match" ? MessageKind::kMatch : MessageKind::kLastMatch;
    return im.parse_match(recv, out);
  }
  if (type == "l2update") {
    out.kind = MessageKind::kL2Update;
    return im.parse_l2update(out);
  }
  if (type == "snapshot") {
    out.kind = MessageKind::kSnapshot;
    TICKFLOW_RETURN_IF_ERROR(im.product(out));
    TICKFLOW_RETURN_IF_ERROR(im.parse_levels("bids", book::BookSide::kBid, out));
    return im.parse_levels("asks", book::BookSide::kAsk, out);
  }
  if (type == "heartbeat") {
    out.kind = MessageKind::kHeartbeat;
    TICKFLOW_RETURN_IF_ERROR(im.product(out));
    TICKFLOW_RETURN_IF_ERROR(im.integer("sequence", out.sequence));
    TICKFLOW_RETURN_IF_ERROR(im.integer("last_trade_id", out.last_trade_id));
    return im.time(true, out.time);
  }
  if (type == "ticker") {
    out.kind = MessageKind::kTicker;
    return im.parse_ticker(out);
  }
  if (type == "subscriptions") {
    out.kind = MessageKind::kSubscriptions;
    return im.parse_subscriptions(out);
  }
  if (type == "error") {
    out.kind = MessageKind::kError;
    std::string_view message, reason;
    TICKFLOW_RETURN_IF_ERROR(im.str("message", message));
    TICKFLOW_RETURN_IF_ERROR(im.str("reason", reason, false));
    out.error_message.assign(message);
    out.error_reason.assign(reason);
    return Status::ok();
  }
  return im.fail(kUnknownType, "unknown message type '" + clip(type) + "'");
}

Status apply_to_book(const ParsedMessage& m, book::OrderBook& book) {
  if (m.kind == MessageKind::kSnapshot) {
    book.clear();
  } else if (m.kind != MessageKind::kL2Update) {
    return Status::invalid_argument("not a level2 message");
  }
  for (const L2Change& c : m.changes) TICKFLOW_RETURN_IF_ERROR(book.apply(c.side, c.price, c.size));
  return Status::ok();
}

}  // namespace tickflow::exchange::coinbase
