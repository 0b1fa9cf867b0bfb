#include "exchange/kraken/v2_parse.h"

#include <simdjson.h>

#include <unordered_map>
#include <utility>

#include "core/symbol.h"
#include "core/time.h"

namespace tickflow::exchange::kraken {

namespace od = simdjson::ondemand;

std::string unify_kraken_v2_symbol(std::string_view pair) { return unify_kraken_symbol(pair); }

struct V2Parser::Impl {
  od::parser parser;
  std::string buf;       // the frame, padded for simdjson
  std::string message;   // failure text
  std::string_view reason;
  std::unordered_map<std::string, std::pair<int, int>> precision;  // pair → (price, qty) decimals
  std::unordered_map<std::string, std::string> unified;            // pair → BTC-USD

  bool fail(std::string_view r, std::string msg) {
    reason = r;
    message = std::move(msg);
    return false;
  }

  simdjson::padded_string_view padded(std::string_view inside) const {
    const size_t offset = static_cast<size_t>(inside.data() - buf.data());
    return simdjson::padded_string_view(inside.data(), inside.size(), buf.capacity() - offset);
  }

  const std::string* symbol_of(std::string_view pair) {
    auto it = unified.find(std::string(pair));
    if (it != unified.end()) return &it->second;
    if (pair.find('/') == std::string_view::npos || unified.size() > 10000) return nullptr;
    return &unified.emplace(std::string(pair), unify_kraken_v2_symbol(pair)).first->second;
  }

  // A price / qty: a JSON number (its raw text) or a string; rescaled up to `decimals` (-1: as is).
  bool decimal(od::value v, int decimals, Decimal& out, std::string_view field) {
    std::string_view text;
    od::json_type t;
    if (v.type().get(t) != simdjson::SUCCESS) return fail("bad_field", std::string(field) + " is not a value");
    if (t == od::json_type::number) {
      text = v.raw_json_token();
      while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                               text.back() == '\t' || text.back() == ',' || text.back() == '}' || text.back() == ']')) {
        text.remove_suffix(1);
      }
    } else if (t == od::json_type::string) {
      if (v.get_string().get(text) != simdjson::SUCCESS) return fail("bad_field", std::string(field));
    } else {
      return fail("bad_field", std::string(field) + " is not a number");
    }
    if (!Decimal::parse(text, out)) return fail("bad_decimal", std::string(field) + ": '" + std::string(text) + "'");
    if (decimals > out.scale() && !out.rescale_up(decimals, out)) {
      return fail("bad_decimal", std::string(field) + ": '" + std::string(text) + "' overflows its precision");
    }
    return true;
  }

  std::pair<int, int> precision_of(std::string_view pair) const {
    auto it = precision.find(std::string(pair));
    return it == precision.end() ? std::pair{-1, -1} : it->second;
  }

  bool levels(od::value v, std::string_view pair, std::vector<BookEntry>& out, std::string_view side) {
    od::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) return fail("bad_field", std::string(side) + " is not an array");
    const auto [pd, qd] = precision_of(pair);
    for (auto el : arr) {
      od::object lvl;
      if (el.get_object().get(lvl) != simdjson::SUCCESS) return fail("bad_field", std::string(side) + " level");
      BookEntry e;
      bool has_p = false, has_q = false;
      for (auto f : lvl) {
        std::string_view key;
        if (f.unescaped_key().get(key) != simdjson::SUCCESS) return fail("malformed_json", "bad key");
        if (key == "price") {
          if (!decimal(f.value(), pd, e.price, "price")) return false;
          has_p = true;
        } else if (key == "qty") {
          if (!decimal(f.value(), qd, e.volume, "qty")) return false;
          has_q = true;
        }
      }
      if (!has_p || !has_q) return fail("missing_field", std::string(side) + " level without price or qty");
      out.push_back(e);
    }
    return true;
  }

  bool trades(od::array data, ParsedMessage& out, TimestampNs recv) {
    for (auto el : data) {
      od::object o;
      if (el.get_object().get(o) != simdjson::SUCCESS) return fail("bad_field", "trade is not an object");
      Trade t;
      t.exchange = Exchange::kKraken;
      t.ts_recv = recv;
      bool has_id = false, has_side = false, has_p = false, has_q = false, has_ts = false;
      std::string_view pair;
      for (auto f : o) {
        std::string_view key;
        if (f.unescaped_key().get(key) != simdjson::SUCCESS) return fail("malformed_json", "bad key");
        od::value v = f.value();
        if (key == "symbol") {
          if (v.get_string().get(pair) != simdjson::SUCCESS) return fail("bad_field", "symbol");
        } else if (key == "side") {
          std::string_view s;
          if (v.get_string().get(s) != simdjson::SUCCESS || (s != "buy" && s != "sell")) return fail("bad_field", "side");
          t.taker_side = s == "buy" ? Side::kBuy : Side::kSell;
          has_side = true;
        } else if (key == "price") {
          // The pair may come later in the object: keep as printed, rescale below.
          if (!decimal(v, -1, t.price, "price")) return false;
          has_p = true;
        } else if (key == "qty") {
          if (!decimal(v, -1, t.quantity, "qty")) return false;
          has_q = true;
        } else if (key == "trade_id") {
          if (v.get_int64().get(t.trade_id) != simdjson::SUCCESS || t.trade_id < 0) return fail("bad_field", "trade_id");
          has_id = true;
        } else if (key == "timestamp") {
          std::string_view ts;
          if (v.get_string().get(ts) != simdjson::SUCCESS) return fail("bad_field", "timestamp");
          auto parsed = parse_iso8601(ts);
          if (!parsed) return fail("bad_field", "timestamp '" + std::string(ts) + "'");
          t.ts_event = *parsed;
          has_ts = true;
        }
      }
      if (pair.empty() || !has_id || !has_side || !has_p || !has_q || !has_ts) {
        return fail("missing_field", "trade without symbol, side, price, qty, trade_id or timestamp");
      }
      const std::string* sym = symbol_of(pair);
      if (sym == nullptr) return fail("bad_symbol", "symbol '" + std::string(pair) + "'");
      if (out.pair.empty()) {
        out.pair = std::string(pair);
        out.symbol = *sym;
      } else if (out.pair != pair) {
        return fail("bad_field", "trades of two symbols in one message");
      }
      // As v1: a trade has a positive price and size (a fuzz finding: "qty":0 was accepted).
      if (t.price <= Decimal() || t.quantity <= Decimal()) return fail("bad_decimal", "trade price/qty not positive");
      const auto [pd, qd] = precision_of(pair);
      if ((pd > t.price.scale() && !t.price.rescale_up(pd, t.price)) ||
          (qd > t.quantity.scale() && !t.quantity.rescale_up(qd, t.quantity))) {
        return fail("bad_decimal", "trade price/qty overflows its precision");
      }
      t.exchange_symbol = out.pair;
      t.symbol = *sym;
      t.first_trade_id = t.last_trade_id = t.trade_id;
      out.trades.push_back(std::move(t));
    }
    return true;
  }

  bool book(od::array data, ParsedMessage& out) {
    size_t n = 0;
    for (auto el : data) {
      if (n++ > 0) return fail("bad_field", "more than one book in data");
      od::object o;
      if (el.get_object().get(o) != simdjson::SUCCESS) return fail("bad_field", "book is not an object");
      // Kraken sends the symbol first; levels before it are kept as printed.
      for (auto f : o) {
        std::string_view key;
        if (f.unescaped_key().get(key) != simdjson::SUCCESS) return fail("malformed_json", "bad key");
        od::value v = f.value();
        if (key == "symbol") {
          std::string_view pair;
          if (v.get_string().get(pair) != simdjson::SUCCESS) return fail("bad_field", "symbol");
          const std::string* sym = symbol_of(pair);
          if (sym == nullptr) return fail("bad_symbol", "symbol '" + std::string(pair) + "'");
          out.pair = std::string(pair);
          out.symbol = *sym;
        } else if (key == "bids") {
          if (!levels(v, out.pair, out.bids, "bids")) return false;
        } else if (key == "asks") {
          if (!levels(v, out.pair, out.asks, "asks")) return false;
        } else if (key == "checksum") {
          uint64_t c = 0;
          if (v.get_uint64().get(c) != simdjson::SUCCESS || c > 0xFFFFFFFFull) return fail("bad_field", "checksum");
          out.checksum = static_cast<uint32_t>(c);
          out.has_checksum = true;
        }
      }
    }
    if (n == 0 || out.pair.empty()) return fail("missing_field", "book without symbol");
    if (!out.has_checksum) return fail("missing_field", "book without checksum");
    return true;
  }

  bool status(od::array data, ParsedMessage& out) {
    for (auto el : data) {
      od::object o;
      if (el.get_object().get(o) != simdjson::SUCCESS) return fail("bad_field", "status is not an object");
      for (auto f : o) {
        std::string_view key, s;
        if (f.unescaped_key().get(key) != simdjson::SUCCESS) return fail("malformed_json", "bad key");
        od::value v = f.value();
        if (key == "system" && v.get_string().get(s) == simdjson::SUCCESS) out.status = std::string(s);
        if (key == "version" && v.get_string().get(s) == simdjson::SUCCESS) out.version = std::string(s);
        if (key == "connection_id" && v.get_uint64().get(out.connection_id) != simdjson::SUCCESS) {
          return fail("bad_field", "connection_id");
        }
      }
    }
    if (out.status.empty()) return fail("missing_field", "status without system");
    return true;
  }
};

V2Parser::V2Parser() : impl_(std::make_unique<Impl>()) {}
V2Parser::~V2Parser() = default;

void V2Parser::set_precision(std::string_view pair, int price_decimals, int qty_decimals) {
  impl_->precision[std::string(pair)] = {price_decimals, qty_decimals};
}

Status V2Parser::parse(std::string_view frame, TimestampNs recv, ParsedMessage& out) {
  Impl& m = *impl_;
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

  m.buf.reserve(frame.size() + simdjson::SIMDJSON_PADDING);
  m.buf.assign(frame);
  auto failed = [&]() {
    reason_ = m.reason;
    return Status::parse_error("kraken v2: " + m.message);
  };
  od::document doc;
  od::object obj;
  if (m.parser.iterate(m.padded(m.buf)).get(doc) != simdjson::SUCCESS || doc.get_object().get(obj) != simdjson::SUCCESS) {
    m.fail("malformed_json", "not a JSON object");
    return failed();
  }
  std::string_view channel, type, method, data_raw, error;
  bool has_success = false, success = false;
  std::string_view result_channel, result_symbol, top_symbol;
  int64_t result_depth = 0;
  for (auto f : obj) {
    std::string_view key;
    if (f.unescaped_key().get(key) != simdjson::SUCCESS) {
      m.fail("malformed_json", "bad key");
      return failed();
    }
    od::value v;
    if (f.value().get(v) != simdjson::SUCCESS) {
      m.fail("malformed_json", "bad value");
      return failed();
    }
    bool ok = true;
    if (key == "channel") {
      ok = v.get_string().get(channel) == simdjson::SUCCESS;
    } else if (key == "type") {
      ok = v.get_string().get(type) == simdjson::SUCCESS;
    } else if (key == "method") {
      ok = v.get_string().get(method) == simdjson::SUCCESS;
    } else if (key == "data") {
      od::array arr;
      ok = v.get_array().get(arr) == simdjson::SUCCESS && arr.raw_json().get(data_raw) == simdjson::SUCCESS;
    } else if (key == "success") {
      ok = v.get_bool().get(success) == simdjson::SUCCESS;
      has_success = true;
    } else if (key == "error") {
      ok = v.get_string().get(error) == simdjson::SUCCESS;
    } else if (key == "symbol") {
      ok = v.get_string().get(top_symbol) == simdjson::SUCCESS;
    } else if (key == "req_id") {
      ok = v.get_int64().get(out.reqid) == simdjson::SUCCESS;
    } else if (key == "result") {
      od::object r;
      ok = v.get_object().get(r) == simdjson::SUCCESS;
      // Iterated only when valid: iterating a failed get_object() is undefined (a fuzz finding).
      if (ok) {
        for (auto rf : r) {
          std::string_view rk;
          if (rf.unescaped_key().get(rk) != simdjson::SUCCESS) {
            ok = false;
            break;
          }
          od::value rv = rf.value();
          if (rk == "channel") ok = rv.get_string().get(result_channel) == simdjson::SUCCESS;
          if (rk == "symbol") ok = rv.get_string().get(result_symbol) == simdjson::SUCCESS;
          if (rk == "depth") ok = rv.get_int64().get(result_depth) == simdjson::SUCCESS;
        }
      }
    }
    if (!ok) {
      m.fail("bad_field", "field '" + std::string(key) + "'");
      return failed();
    }
  }
  // Copies: the second iterate below reuses the parser (the views point into m.buf, still valid).
  if (!method.empty()) {
    if (method == "pong") {
      out.kind = MessageKind::kPong;
      return Status::ok();
    }
    if (method != "subscribe" && method != "unsubscribe") {
      m.fail("unknown_method", "method '" + std::string(method) + "'");
      return failed();
    }
    if (!has_success) {
      m.fail("missing_field", "ack without success");
      return failed();
    }
    out.kind = MessageKind::kSubscriptionStatus;
    out.subscription_name = std::string(result_channel);
    out.subscription_depth = static_cast<int>(result_depth);
    out.pair = std::string(!result_symbol.empty() ? result_symbol : top_symbol);
    if (!out.pair.empty()) {
      if (const std::string* s = m.symbol_of(out.pair)) out.symbol = *s;
    }
    if (success) {
      out.status = method == "subscribe" ? "subscribed" : "unsubscribed";
    } else {
      out.status = "error";
      out.error_message = error.empty() ? std::string("unknown error") : std::string(error);
    }
    return Status::ok();
  }
  if (channel.empty()) {
    m.fail("missing_field", "neither channel nor method");
    return failed();
  }
  out.channel_name = std::string(channel);
  if (channel == "heartbeat") {
    out.kind = MessageKind::kHeartbeat;
    return Status::ok();
  }
  if (channel != "status" && channel != "trade" && channel != "book") {
    if (channel == "ticker") {
      out.kind = MessageKind::kTicker;
      return Status::ok();
    }
    m.fail("unknown_channel", "channel '" + std::string(channel) + "'");
    return failed();
  }
  if (data_raw.empty()) {
    m.fail("missing_field", "channel message without data");
    return failed();
  }
  const bool snapshot = type == "snapshot";
  if (!snapshot && type != "update") {
    m.fail("bad_field", "type '" + std::string(type) + "'");
    return failed();
  }
  od::document ddoc;
  od::array data;
  if (m.parser.iterate(m.padded(data_raw)).get(ddoc) != simdjson::SUCCESS || ddoc.get_array().get(data) != simdjson::SUCCESS) {
    m.fail("malformed_json", "data is not an array");
    return failed();
  }
  bool ok = false;
  if (channel == "status") {
    out.kind = MessageKind::kSystemStatus;
    ok = m.status(data, out);
  } else if (channel == "trade") {
    out.kind = MessageKind::kTrade;
    ok = m.trades(data, out, recv);
    if (ok && out.trades.empty()) {
      ok = m.fail("missing_field", "trade message without trades");
    }
  } else {
    out.kind = snapshot ? MessageKind::kBookSnapshot : MessageKind::kBookUpdate;
    ok = m.book(data, out);
  }
  return ok ? Status::ok() : failed();
}

}  // namespace tickflow::exchange::kraken
