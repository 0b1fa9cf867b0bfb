#include "exchange/coinbase/advanced_parse.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>

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

bool valid_product(std::string_view p) {
  auto dash = p.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == p.size() || p.size() > 32) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (i != dash && !std::isupper(c) && !std::isdigit(c)) return false;
  }
  return p.find('-', dash + 1) == std::string_view::npos;
}

// A decimal integer given as a string ("000000000", "651163640") or a JSON integer.
bool id_value(dom::element e, int64_t& out) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    if (s.empty() || s.size() > 18) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && out >= 0;
  }
  return e.get_int64().get(out) == simdjson::SUCCESS && out >= 0;
}

}  // namespace

std::string_view advanced_channel_name(AdvancedChannel c) {
  switch (c) {
    case AdvancedChannel::kMarketTrades:
      return "market_trades";
    case AdvancedChannel::kL2Data:
      return "l2_data";
    case AdvancedChannel::kHeartbeats:
      return "heartbeats";
    case AdvancedChannel::kSubscriptions:
      return "subscriptions";
    case AdvancedChannel::kOther:
      return "other";
    case AdvancedChannel::kError:
      return "error";
  }
  return "other";
}

struct AdvancedParser::Impl {
  dom::parser parser;
  std::string_view* reason = nullptr;
  std::string_view channel;

  Status fail(std::string_view tag, std::string message) {
    *reason = tag;
    return Status::parse_error(std::string(channel.empty() ? "advanced" : channel) + ": " + std::move(message));
  }
  Status str(dom::object o, const char* key, std::string_view& out) {
    dom::element e;
    auto ec = o[key].get(e);
    if (ec == simdjson::NO_SUCH_FIELD) return fail(kMissingField, std::string("field '") + key + "' is missing");
    if (ec || e.get_string().get(out)) return fail(kBadField, std::string("field '") + key + "' is not a string");
    return Status::ok();
  }
  Status decimal(dom::object o, const char* key, Decimal& out) {
    std::string_view s;
    TICKFLOW_RETURN_IF_ERROR(str(o, key, s));
    if (!Decimal::parse(s, out) || out.is_negative()) {
      return fail(kBadDecimal, std::string(key) + " is not a non-negative decimal: '" + clip(s) + "'");
    }
    return Status::ok();
  }
  Status time(dom::object o, const char* key, TimestampNs& out) {
    std::string_view s;
    TICKFLOW_RETURN_IF_ERROR(str(o, key, s));
    auto t = parse_iso8601(s);
    if (!t) return fail(kBadTime, std::string(key) + " is not RFC 3339: '" + clip(s) + "'");
    out = *t;
    return Status::ok();
  }
  Status product(dom::object o, std::string_view& out) {
    TICKFLOW_RETURN_IF_ERROR(str(o, "product_id", out));
    if (!valid_product(out)) return fail(kBadSymbol, "product_id is not BASE-QUOTE: '" + clip(out) + "'");
    return Status::ok();
  }
  Status events(dom::object root, dom::array& out) {
    auto ec = root["events"].get_array().get(out);
    if (ec == simdjson::NO_SUCH_FIELD) return fail(kMissingField, "field 'events' is missing");
    if (ec) return fail(kBadField, "field 'events' is not an array");
    return Status::ok();
  }
  Status event_type(dom::object e, AdvancedEvent& ev) {
    std::string_view type;
    TICKFLOW_RETURN_IF_ERROR(str(e, "type", type));
    if (type != "snapshot" && type != "update") {
      return fail(kBadField, "event type is not snapshot/update: '" + clip(type) + "'");
    }
    ev.snapshot = type == "snapshot";
    return Status::ok();
  }

  Status market_trades(dom::object root, TimestampNs recv, AdvancedMessage& out);
  Status l2_data(dom::object root, AdvancedMessage& out);
  Status heartbeats(dom::object root, AdvancedMessage& out);
  Status subscriptions(dom::object root, AdvancedMessage& out);
};

Status AdvancedParser::Impl::market_trades(dom::object root, TimestampNs recv, AdvancedMessage& out) {
  dom::array list;
  TICKFLOW_RETURN_IF_ERROR(events(root, list));
  for (dom::element el : list) {
    dom::object e;
    if (el.get_object().get(e)) return fail(kBadField, "an event is not an object");
    AdvancedEvent& ev = out.events.emplace_back();
    TICKFLOW_RETURN_IF_ERROR(event_type(e, ev));
    dom::array trades;
    auto ec = e["trades"].get_array().get(trades);
    if (ec == simdjson::NO_SUCH_FIELD) return fail(kMissingField, "field 'trades' is missing");
    if (ec) return fail(kBadField, "field 'trades' is not an array");
    for (dom::element tel : trades) {
      dom::object to;
      if (tel.get_object().get(to)) return fail(kBadField, "a trade is not an object");
      Trade& t = ev.trades.emplace_back();
      dom::element id;
      if (to["trade_id"].get(id)) return fail(kMissingField, "field 'trade_id' is missing");
      if (!id_value(id, t.trade_id)) return fail(kBadField, "trade_id is not a decimal id");
      std::string_view p;
      TICKFLOW_RETURN_IF_ERROR(product(to, p));
      TICKFLOW_RETURN_IF_ERROR(decimal(to, "price", t.price));
      TICKFLOW_RETURN_IF_ERROR(decimal(to, "size", t.quantity));
      if (t.price.is_zero() || t.quantity.is_zero()) return fail(kBadField, "zero price or size");
      std::string_view side;
      TICKFLOW_RETURN_IF_ERROR(str(to, "side", side));
      // `side` is the maker's: the taker did the opposite.
      if (side == "SELL") {
        t.taker_side = Side::kBuy;
      } else if (side == "BUY") {
        t.taker_side = Side::kSell;
      } else {
        return fail(kBadField, "side is not BUY/SELL: '" + clip(side) + "'");
      }
      TICKFLOW_RETURN_IF_ERROR(time(to, "time", t.ts_event));
      t.exchange = Exchange::kCoinbase;
      t.symbol.assign(p);
      t.exchange_symbol.assign(p);
      t.first_trade_id = t.last_trade_id = t.trade_id;
      t.ts_recv = recv;
      t.aggregated = false;
    }
    // Newest first on the wire: oldest first here (stable for equal ids).
    std::stable_sort(ev.trades.begin(), ev.trades.end(),
                     [](const Trade& a, const Trade& b) { return a.trade_id < b.trade_id; });
    if (!ev.trades.empty()) ev.product_id = ev.trades.front().symbol;
  }
  return Status::ok();
}

Status AdvancedParser::Impl::l2_data(dom::object root, AdvancedMessage& out) {
  dom::array list;
  TICKFLOW_RETURN_IF_ERROR(events(root, list));
  for (dom::element el : list) {
    dom::object e;
    if (el.get_object().get(e)) return fail(kBadField, "an event is not an object");
    AdvancedEvent& ev = out.events.emplace_back();
    TICKFLOW_RETURN_IF_ERROR(event_type(e, ev));
    std::string_view p;
    TICKFLOW_RETURN_IF_ERROR(product(e, p));
    ev.product_id.assign(p);
    dom::array updates;
    auto ec = e["updates"].get_array().get(updates);
    if (ec == simdjson::NO_SUCH_FIELD) return fail(kMissingField, "field 'updates' is missing");
    if (ec) return fail(kBadField, "field 'updates' is not an array");
    for (dom::element uel : updates) {
      dom::object u;
      if (uel.get_object().get(u)) return fail(kBadField, "an update is not an object");
      L2Change& c = ev.updates.emplace_back();
      std::string_view side;
      TICKFLOW_RETURN_IF_ERROR(str(u, "side", side));
      if (side == "bid") {
        c.side = book::BookSide::kBid;
      } else if (side == "offer" || side == "ask") {
        c.side = book::BookSide::kAsk;
      } else {
        return fail(kBadField, "update side is not bid/offer: '" + clip(side) + "'");
      }
      TICKFLOW_RETURN_IF_ERROR(decimal(u, "price_level", c.price));
      TICKFLOW_RETURN_IF_ERROR(decimal(u, "new_quantity", c.size));
      if (c.price.is_zero()) return fail(kBadField, "price_level is zero");
    }
  }
  return Status::ok();
}

Status AdvancedParser::Impl::heartbeats(dom::object root, AdvancedMessage& out) {
  dom::array list;
  TICKFLOW_RETURN_IF_ERROR(events(root, list));
  for (dom::element el : list) {
    dom::element counter;
    if (el["heartbeat_counter"].get(counter)) return fail(kMissingField, "field 'heartbeat_counter' is missing");
    if (!id_value(counter, out.heartbeat_counter)) return fail(kBadField, "heartbeat_counter is not an integer");
  }
  return Status::ok();
}

Status AdvancedParser::Impl::subscriptions(dom::object root, AdvancedMessage& out) {
  dom::array list;
  TICKFLOW_RETURN_IF_ERROR(events(root, list));
  for (dom::element el : list) {
    dom::object subs;
    if (el["subscriptions"].get_object().get(subs)) return fail(kBadField, "field 'subscriptions' is not an object");
    for (auto field : subs) {
      Subscription& s = out.subscriptions.emplace_back();
      s.name.assign(field.key);
      dom::array ids;
      if (field.value.get_array().get(ids)) return fail(kBadField, "a subscription is not a list of product ids");
      for (dom::element id : ids) {
        std::string_view p;
        if (id.get_string().get(p)) return fail(kBadField, "a subscribed product id is not a string");
        s.product_ids.emplace_back(p);
      }
    }
  }
  return Status::ok();
}

AdvancedParser::AdvancedParser() : impl_(std::make_unique<Impl>()) { impl_->reason = &reason_; }
AdvancedParser::~AdvancedParser() = default;

Status AdvancedParser::parse(std::string_view frame, TimestampNs recv, AdvancedMessage& out) {
  reason_ = {};
  out.channel = AdvancedChannel::kOther;
  out.sequence_num = -1;
  out.timestamp = 0;
  out.events.clear();
  out.heartbeat_counter = -1;
  out.subscriptions.clear();
  out.error_message.clear();
  Impl& im = *impl_;
  im.channel = {};
  dom::element doc;
  if (auto ec = im.parser.parse(frame.data(), frame.size()).get(doc); ec) {
    return im.fail(kMalformedJson, std::string("malformed JSON: ") + simdjson::error_message(ec));
  }
  dom::object root;
  if (doc.get_object().get(root)) return im.fail(kMalformedJson, "not a JSON object");
  std::string_view type;
  if (root["type"].get_string().get(type) == simdjson::SUCCESS && type == "error") {
    out.channel = AdvancedChannel::kError;
    std::string_view m;
    if (root["message"].get_string().get(m) == simdjson::SUCCESS) out.error_message.assign(m);
    std::string_view r;
    if (root["reason"].get_string().get(r) == simdjson::SUCCESS && !r.empty()) {
      out.error_message += out.error_message.empty() ? std::string(r) : ": " + std::string(r);
    }
    return Status::ok();
  }
  std::string_view channel;
  TICKFLOW_RETURN_IF_ERROR(im.str(root, "channel", channel));
  im.channel = channel;
  dom::element seq;
  if (root["sequence_num"].get(seq) == simdjson::SUCCESS) {
    if (seq.get_int64().get(out.sequence_num) || out.sequence_num < 0) {
      return im.fail(kBadField, "sequence_num is not a non-negative integer");
    }
  }
  if (root["timestamp"].error() != simdjson::NO_SUCH_FIELD) {
    TICKFLOW_RETURN_IF_ERROR(im.time(root, "timestamp", out.timestamp));
  }
  if (channel == "market_trades") {
    out.channel = AdvancedChannel::kMarketTrades;
    return im.market_trades(root, recv, out);
  }
  if (channel == "l2_data") {
    out.channel = AdvancedChannel::kL2Data;
    return im.l2_data(root, out);
  }
  if (channel == "heartbeats") {
    out.channel = AdvancedChannel::kHeartbeats;
    return im.heartbeats(root, out);
  }
  if (channel == "subscriptions") {
    out.channel = AdvancedChannel::kSubscriptions;
    return im.subscriptions(root, out);
  }
  if (channel == "ticker" || channel == "ticker_batch" || channel == "candles" || channel == "status" ||
      channel == "user" || channel == "futures_balance_summary") {
    out.channel = AdvancedChannel::kOther;
    return Status::ok();
  }
  return im.fail(kUnknownType, "unknown channel '" + clip(channel) + "'");
}

void to_level2_message(const AdvancedEvent& e, TimestampNs time, ParsedMessage& out) {
  out.kind = e.snapshot ? MessageKind::kSnapshot : MessageKind::kL2Update;
  out.product_id = e.product_id;
  out.sequence = -1;
  out.time = time;
  out.changes = e.updates;
}

}  // namespace tickflow::exchange::coinbase
