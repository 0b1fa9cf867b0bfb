// The Coinbase Exchange encoders of market.h: compact JSON in the key order of
// testdata/exchanges/coinbase (match, ticker) and of Coinbase's docs (heartbeat, REST trades).
// Pure functions.
#include <cstdio>
#include <ctime>

#include "exchange/simulator/market.h"

namespace tickflow::exchange::simulator {

namespace {

// Deterministic order ids of a fill (Coinbase's are UUIDs; the collector ignores them).
void append_order_id(std::string& out, int64_t trade_id, int which) {
  char buf[64];
  const uint64_t x = static_cast<uint64_t>(trade_id) * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(which);
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(x >> 32),
                static_cast<unsigned>((x >> 16) & 0xFFFF), static_cast<unsigned>(x & 0xFFF),
                static_cast<unsigned>((x >> 12) & 0xFFF), static_cast<unsigned long long>(x & 0xFFFFFFFFFFFFull));
  out.append(buf);
}

void append_quoted_decimal(std::string& out, int64_t units) {
  out.push_back('"');
  append_coinbase_decimal(out, units);
  out.push_back('"');
}

}  // namespace

std::string coinbase_product_name(std::string_view symbol) {
  for (std::string_view quote : {"USDT", "USDC", "USD", "EUR", "GBP", "BTC", "ETH"}) {
    if (symbol.size() <= quote.size() || !symbol.ends_with(quote)) continue;
    return std::string(symbol.substr(0, symbol.size() - quote.size())) + "-" + std::string(quote);
  }
  return {};
}

void append_iso8601_us(std::string& out, int64_t time_us) {
  const std::time_t secs = static_cast<std::time_t>(time_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(time_us % 1'000'000));
  out.append(buf);
}

void append_coinbase_decimal(std::string& out, int64_t units) {
  const size_t start = out.size();
  append_units(out, units);
  while (out.size() > start && out.back() == '0') out.pop_back();
  if (out.size() > start && out.back() == '.') out.pop_back();
}

void append_coinbase_match(std::string& out, std::string_view type, std::string_view product, const SimTrade& t,
                           int64_t time_us, int64_t sequence) {
  out.append(R"({"type":")");
  out.append(type);
  out.append(R"(","trade_id":)");
  append_int(out, t.id);
  out.append(R"(,"maker_order_id":")");
  append_order_id(out, t.id, 1);
  out.append(R"(","taker_order_id":")");
  append_order_id(out, t.id, 2);
  // The maker's side: a buyer-maker fill was a resting buy.
  out.append(t.buyer_maker ? R"(","side":"buy","size":)" : R"(","side":"sell","size":)");
  append_quoted_decimal(out, t.qty);
  out.append(R"(,"price":)");
  append_quoted_decimal(out, t.price);
  out.append(R"(,"product_id":")");
  out.append(product);
  out.append(R"(","sequence":)");
  append_int(out, sequence);
  out.append(R"(,"time":")");
  append_iso8601_us(out, time_us);
  out.append(R"("})");
}

void append_coinbase_ticker(std::string& out, std::string_view product, const SimTrade& t, int64_t time_us,
                            int64_t sequence, const CoinbaseTickerStats& s) {
  out.append(R"({"type":"ticker","sequence":)");
  append_int(out, sequence);
  out.append(R"(,"product_id":")");
  out.append(product);
  out.append(R"(","price":)");
  append_quoted_decimal(out, t.price);
  out.append(R"(,"open_24h":)");
  append_quoted_decimal(out, s.open);
  out.append(R"(,"volume_24h":")");
  append_units(out, s.volume);
  out.append(R"(","low_24h":)");
  append_quoted_decimal(out, s.low);
  out.append(R"(,"high_24h":)");
  append_quoted_decimal(out, s.high);
  out.append(R"(,"volume_30d":")");
  append_units(out, s.volume);
  out.append(R"(","best_bid":)");
  append_quoted_decimal(out, s.best_bid);
  out.append(R"(,"best_ask":)");
  append_quoted_decimal(out, s.best_ask);
  // The taker's side: a buyer-maker fill was taken by a sell.
  out.append(t.buyer_maker ? R"(,"side":"sell","time":")" : R"(,"side":"buy","time":")");
  append_iso8601_us(out, time_us);
  out.append(R"(","trade_id":)");
  append_int(out, t.id);
  out.append(R"(,"last_size":)");
  append_quoted_decimal(out, t.qty);
  out.push_back('}');
}

void append_coinbase_heartbeat(std::string& out, std::string_view product, int64_t last_trade_id, int64_t sequence,
                               int64_t time_us) {
  out.append(R"({"type":"heartbeat","sequence":)");
  append_int(out, sequence);
  out.append(R"(,"last_trade_id":)");
  append_int(out, last_trade_id);
  out.append(R"(,"product_id":")");
  out.append(product);
  out.append(R"(","time":")");
  append_iso8601_us(out, time_us);
  out.append(R"("})");
}

void append_coinbase_trade_rest(std::string& out, const SimTrade& t, int64_t time_us) {
  out.append(R"({"time":")");
  append_iso8601_us(out, time_us);
  out.append(R"(","trade_id":)");
  append_int(out, t.id);
  out.append(R"(,"price":)");
  append_quoted_decimal(out, t.price);
  out.append(R"(,"size":)");
  append_quoted_decimal(out, t.qty);
  out.append(t.buyer_maker ? R"(,"side":"buy"})" : R"(,"side":"sell"})");
}

namespace {

void append_l2_levels(std::string& out, const std::vector<PriceLevel>& levels, std::string_view side) {
  out.push_back('[');
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('[');
    if (!side.empty()) {
      out.push_back('"');
      out.append(side);
      out.append("\",");
    }
    append_quoted_decimal(out, levels[i].price);
    out.push_back(',');
    if (levels[i].qty == 0) {
      out.append("\"0\"");
    } else {
      append_quoted_decimal(out, levels[i].qty);
    }
    out.push_back(']');
  }
  out.push_back(']');
}

}  // namespace

void append_coinbase_l2_snapshot(std::string& out, std::string_view product, const DepthSnapshot& s) {
  out.append(R"({"type":"snapshot","product_id":")");
  out.append(product);
  out.append(R"(","asks":)");
  append_l2_levels(out, s.asks, {});
  out.append(R"(,"bids":)");
  append_l2_levels(out, s.bids, {});
  out.push_back('}');
}

void append_coinbase_l2update(std::string& out, std::string_view product, const DepthDiff& d, int64_t time_us) {
  out.append(R"({"type":"l2update","product_id":")");
  out.append(product);
  out.append(R"(","changes":)");
  out.push_back('[');
  bool first = true;
  for (const auto* side : {&d.bids, &d.asks}) {
    for (const PriceLevel& l : *side) {
      if (!first) out.push_back(',');
      first = false;
      out.append(side == &d.bids ? R"(["buy",)" : R"(["sell",)");
      append_quoted_decimal(out, l.price);
      out.push_back(',');
      if (l.qty == 0) {
        out.append("\"0\"");
      } else {
        append_quoted_decimal(out, l.qty);
      }
      out.push_back(']');
    }
  }
  out.append(R"(],"time":")");
  append_iso8601_us(out, time_us);
  out.append(R"("})");
}

}  // namespace tickflow::exchange::simulator
