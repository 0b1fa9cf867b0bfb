#include "core/symbol.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace tickflow {

std::string_view exchange_name(Exchange e) {
  switch (e) {
    case Exchange::kBinance: return "binance";
    case Exchange::kCoinbase: return "coinbase";
    case Exchange::kKraken: return "kraken";
  }
  return "unknown";
}

std::optional<Exchange> parse_exchange(std::string_view name) {
  if (name == "binance") return Exchange::kBinance;
  if (name == "coinbase") return Exchange::kCoinbase;
  if (name == "kraken") return Exchange::kKraken;
  return std::nullopt;
}

namespace {
// Longest first so "USDT" wins over "USD" and "FDUSD" over "USD".
constexpr std::array<std::string_view, 28> kBinanceQuotes = {
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "BIDR", "BVND", "IDRT", "UAH", "DAI",
    "BTC",   "ETH",  "BNB",  "EUR",  "GBP",  "AUD",  "BRL",  "TRY",  "RUB", "NGN", "ZAR",
    "JPY",   "PLN",  "RON",  "ARS",  "USD",  "XRP"};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string kraken_asset(std::string_view a) {
  if (a == "XBT") return "BTC";
  if (a == "XDG") return "DOGE";
  return std::string(a);
}
}  // namespace

std::string unify_binance_symbol(std::string_view exchange_symbol) {
  std::string s = upper(exchange_symbol);
  std::string_view best;
  for (std::string_view q : kBinanceQuotes) {
    if (s.size() > q.size() && std::string_view(s).substr(s.size() - q.size()) == q &&
        q.size() > best.size()) {
      best = q;
    }
  }
  if (best.empty()) return "";
  return s.substr(0, s.size() - best.size()) + "-" + std::string(best);
}

std::string unify_kraken_symbol(std::string_view exchange_symbol) {
  auto slash = exchange_symbol.find('/');
  if (slash == std::string_view::npos) return upper(exchange_symbol);
  return kraken_asset(upper(exchange_symbol.substr(0, slash))) + "-" +
         kraken_asset(upper(exchange_symbol.substr(slash + 1)));
}

std::string binance_symbol_from_unified(std::string_view unified) {
  std::string out;
  for (char c : unified) {
    if (c != '-' && c != '/') out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

Result<std::string> normalize_symbol(Exchange e, std::string_view text) {
  if (text.empty() || text.size() > 32) return Status::invalid_argument("bad symbol '" + std::string(text) + "'");
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '/' && c != '_')
      return Status::invalid_argument("bad symbol '" + std::string(text) + "'");
  }
  std::string u = upper(text);
  if (u.find('-') != std::string::npos) return u;
  if (u.find('/') != std::string::npos || u.find('_') != std::string::npos) {
    std::replace(u.begin(), u.end(), '/', '-');
    std::replace(u.begin(), u.end(), '_', '-');
    return e == Exchange::kKraken ? unify_kraken_symbol(text) : u;
  }
  if (e == Exchange::kBinance) {
    std::string unified = unify_binance_symbol(u);
    if (!unified.empty()) return unified;
  }
  return Status::invalid_argument("cannot tell base from quote in symbol '" + std::string(text) +
                                  "' (use BASE-QUOTE)");
}

std::string instrument_key(Exchange e, std::string_view unified_symbol) {
  std::string k(exchange_name(e));
  k += ':';
  k += unified_symbol;
  return k;
}

std::string series_key(Exchange e, std::string_view unified_symbol, std::string_view timeframe) {
  std::string k = instrument_key(e, unified_symbol);
  k += ':';
  k += timeframe;
  return k;
}

}  // namespace tickflow
