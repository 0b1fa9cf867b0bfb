// The Binance encoders of market.h: compact JSON in Binance's key order with 8-decimal numbers,
// byte-exact with the recordings in testdata/exchanges/binance. Pure functions.
#include <charconv>

#include "exchange/simulator/market.h"

namespace tickflow::exchange::simulator {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_units(std::string& out, int64_t units) {
  if (units < 0) {
    out.push_back('-');
    units = -units;
  }
  append_int(out, units / kUnitsPerOne);
  char frac[8];
  int64_t f = units % kUnitsPerOne;
  for (int i = 7; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  out.push_back('.');
  out.append(frac, 8);
}

namespace {
void append_bool(std::string& out, bool b) { out.append(b ? "true" : "false"); }
void append_levels(std::string& out, const std::vector<PriceLevel>& levels, std::string_view key_colon) {
  out.append(key_colon);
  out.push_back('[');
  bool first = true;
  for (const auto& l : levels) {
    if (!first) out.push_back(',');
    first = false;
    out.append("[\"");
    append_units(out, l.price);
    out.append("\",\"");
    append_units(out, l.qty);
    out.append("\"]");
  }
  out.push_back(']');
}
}  // namespace

void append_trade_payload(std::string& out, std::string_view symbol, const SimTrade& t, int64_t e) {
  out.append(R"({"e":"trade","E":)");
  append_int(out, e);
  out.append(R"(,"s":")");
  out.append(symbol);
  out.append(R"(","t":)");
  append_int(out, t.id);
  out.append(R"(,"p":")");
  append_units(out, t.price);
  out.append(R"(","q":")");
  append_units(out, t.qty);
  out.append(R"(","T":)");
  append_int(out, t.time_ms);
  out.append(R"(,"m":)");
  append_bool(out, t.buyer_maker);
  out.append(R"(,"M":true})");
}

void append_agg_trade_payload(std::string& out, std::string_view symbol, const SimAggTrade& a, int64_t e) {
  out.append(R"({"e":"aggTrade","E":)");
  append_int(out, e);
  out.append(R"(,"s":")");
  out.append(symbol);
  out.append(R"(","a":)");
  append_int(out, a.id);
  out.append(R"(,"p":")");
  append_units(out, a.price);
  out.append(R"(","q":")");
  append_units(out, a.qty);
  out.append(R"(","f":)");
  append_int(out, a.first_trade_id);
  out.append(R"(,"l":)");
  append_int(out, a.last_trade_id);
  out.append(R"(,"T":)");
  append_int(out, a.time_ms);
  out.append(R"(,"m":)");
  append_bool(out, a.buyer_maker);
  out.append(R"(,"M":true})");
}

void append_depth_payload(std::string& out, std::string_view symbol, const DepthDiff& d, int64_t e) {
  out.append(R"({"e":"depthUpdate","E":)");
  append_int(out, e);
  out.append(R"(,"s":")");
  out.append(symbol);
  out.append(R"(","U":)");
  append_int(out, d.first_update_id);
  out.append(R"(,"u":)");
  append_int(out, d.last_update_id);
  append_levels(out, d.bids, R"(,"b":)");
  append_levels(out, d.asks, R"(,"a":)");
  out.push_back('}');
}

void append_agg_trade_rest(std::string& out, const SimAggTrade& a) {
  out.append(R"({"a":)");
  append_int(out, a.id);
  out.append(R"(,"p":")");
  append_units(out, a.price);
  out.append(R"(","q":")");
  append_units(out, a.qty);
  out.append(R"(","f":)");
  append_int(out, a.first_trade_id);
  out.append(R"(,"l":)");
  append_int(out, a.last_trade_id);
  out.append(R"(,"T":)");
  append_int(out, a.time_ms);
  out.append(R"(,"m":)");
  append_bool(out, a.buyer_maker);
  out.append(R"(,"M":true})");
}

void append_trade_rest(std::string& out, const SimTrade& t) {
  out.append(R"({"id":)");
  append_int(out, t.id);
  out.append(R"(,"price":")");
  append_units(out, t.price);
  out.append(R"(","qty":")");
  append_units(out, t.qty);
  out.append(R"(","quoteQty":")");
  // price * qty exactly, then rounded half up to 8 decimals.
  const __int128 prod = static_cast<__int128>(t.price) * t.qty;
  const __int128 q = (prod + kUnitsPerOne / 2) / kUnitsPerOne;
  append_int(out, static_cast<int64_t>(q / kUnitsPerOne));
  append_units(out, static_cast<int64_t>(q % kUnitsPerOne));  // "0.xxxxxxxx"
  out.erase(out.size() - 10, 1);  // keep ".xxxxxxxx" after the whole part
  out.append(R"(","time":)");
  append_int(out, t.time_ms);
  out.append(R"(,"isBuyerMaker":)");
  append_bool(out, t.buyer_maker);
  out.append(R"(,"isBestMatch":true})");
}

void append_depth_snapshot(std::string& out, const DepthSnapshot& s) {
  out.append(R"({"lastUpdateId":)");
  append_int(out, s.last_update_id);
  append_levels(out, s.bids, R"(,"bids":)");
  append_levels(out, s.asks, R"(,"asks":)");
  out.push_back('}');
}

void append_combined(std::string& out, std::string_view stream, std::string_view payload) {
  out.append(R"({"stream":")");
  out.append(stream);
  out.append(R"(","data":)");
  out.append(payload);
  out.push_back('}');
}

std::string kraken_pair_name(std::string_view symbol) {
  for (std::string_view quote : {"USDT", "USDC", "USD", "EUR", "GBP", "XBT", "BTC", "ETH"}) {
    if (symbol.size() <= quote.size() || !symbol.ends_with(quote)) continue;
    std::string base(symbol.substr(0, symbol.size() - quote.size()));
    std::string q(quote);
    if (base == "BTC") base = "XBT";
    if (base == "DOGE") base = "XDG";
    if (q == "BTC") q = "XBT";
    return base + "/" + q;
  }
  return {};
}

std::string kraken_rest_pair_key(std::string_view pair) {
  const size_t slash = pair.find('/');
  if (slash == std::string_view::npos) return std::string(pair);
  const std::string_view base = pair.substr(0, slash), quote = pair.substr(slash + 1);
  const bool legacy_base = base == "XBT" || base == "ETH" || base == "LTC" || base == "XRP" || base == "XDG" ||
                           base == "XLM" || base == "ETC" || base == "ZEC" || base == "XMR";
  const bool fiat = quote == "USD" || quote == "EUR" || quote == "GBP" || quote == "JPY" || quote == "CAD";
  if (legacy_base && fiat) return "X" + std::string(base) + "Z" + std::string(quote);
  return std::string(base) + std::string(quote);
}

int kraken_price_decimals(const SymbolSpec& spec) { return spec.tick % 1000 == 0 ? 5 : 8; }

namespace {
void append_kraken_price(std::string& out, int64_t units, int decimals) {
  append_units(out, units);
  if (decimals < 8) out.resize(out.size() - static_cast<size_t>(8 - decimals));
}
void append_kraken_time(std::string& out, int64_t time_us) {
  append_int(out, time_us / 1'000'000);
  char frac[6];
  int64_t f = time_us % 1'000'000;
  for (int i = 5; i >= 0; --i) {
    frac[i] = static_cast<char>('0' + f % 10);
    f /= 10;
  }
  out.push_back('.');
  out.append(frac, 6);
}
void append_kraken_common(std::string& out, const SimTrade& t, int decimals) {
  out.append("[\"");
  append_kraken_price(out, t.price, decimals);
  out.append("\",\"");
  append_units(out, t.qty);
  out.append("\",");
}
}  // namespace

void append_kraken_trade_ws(std::string& out, const SimTrade& t, int64_t time_us, int price_decimals) {
  append_kraken_common(out, t, price_decimals);
  out.push_back('"');
  append_kraken_time(out, time_us);
  out.append(t.buyer_maker ? R"(","s","m",""])" : R"(","b","m",""])");
}

void append_kraken_trade_rest(std::string& out, const SimTrade& t, int64_t time_us, int price_decimals) {
  append_kraken_common(out, t, price_decimals);
  append_kraken_time(out, time_us);
  out.append(t.buyer_maker ? R"(,"s","m","",)" : R"(,"b","m","",)");
  append_int(out, t.id);
  out.push_back(']');
}

}  // namespace tickflow::exchange::simulator
