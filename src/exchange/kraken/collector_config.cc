// Kraken collector configuration: validate(), kraken_pair_from_unified() and the symbol
// resolution shared with collector.cc (collector_config.h).
#include <algorithm>

#include "core/symbol.h"
#include "exchange/kraken/collector_config.h"
#include "exchange/transport/url.h"

namespace tickflow::exchange::kraken {

namespace {
std::string kraken_asset(std::string_view unified_asset) {
  if (unified_asset == "BTC") return "XBT";
  if (unified_asset == "DOGE") return "XDG";
  return std::string(unified_asset);
}


Result<std::vector<internal::PairSpec>> resolve_pairs(const CollectorConfig& config) {
  std::vector<internal::PairSpec> out;
  for (size_t i = 0; i < config.symbols.size(); ++i) {
    auto unified = normalize_symbol(Exchange::kKraken, config.symbols[i]);
    if (!unified) {
      return Status::invalid_argument("collector.kraken.symbols[" + std::to_string(i) +
                                      "]: " + unified.status().message());
    }
    internal::PairSpec spec{*unified, kraken_pair_from_unified(*unified)};
    if (std::none_of(out.begin(), out.end(), [&](const internal::PairSpec& p) { return p.pair == spec.pair; })) {
      out.push_back(std::move(spec));
    }
  }
  if (out.empty()) return Status::invalid_argument("collector.kraken.symbols: at least one symbol is required");
  return out;
}

}  // namespace

namespace internal {
Result<std::vector<PairSpec>> resolve(const CollectorConfig& config) { return resolve_pairs(config); }
}  // namespace internal

std::string kraken_pair_from_unified(std::string_view unified) {
  const size_t dash = unified.find('-');
  if (dash == std::string_view::npos) return std::string(unified);
  return kraken_asset(unified.substr(0, dash)) + "/" + kraken_asset(unified.substr(dash + 1));
}

Status validate(const CollectorConfig& config) {
  auto pairs = resolve_pairs(config);
  if (!pairs) return pairs.status();
  auto ws = transport::parse_url(config.ws_url);
  if (!ws) return Status::invalid_argument("collector.kraken.ws_url: " + ws.status().message());
  if (!ws->websocket()) return Status::invalid_argument("collector.kraken.ws_url: must be ws:// or wss://");
  auto rest = transport::parse_url(config.rest_url);
  if (!rest) return Status::invalid_argument("collector.kraken.rest_url: " + rest.status().message());
  if (rest->websocket()) return Status::invalid_argument("collector.kraken.rest_url: must be http:// or https://");
  if (config.connect_timeout <= 0 || config.stale_timeout <= 0 || config.http_timeout <= 0) {
    return Status::invalid_argument("collector.kraken: connect_timeout, stale_timeout and http_timeout must be > 0");
  }
  if (config.max_batch_frames == 0) return Status::invalid_argument("collector.kraken.max_batch_frames must be > 0");
  if (config.api != "v1" && config.api != "v2") {
    return Status::invalid_argument("collector.kraken.api: '" + config.api + "' is not \"v1\" or \"v2\"");
  }
  if (config.v2_restart_lookback <= 0) return Status::invalid_argument("collector.kraken.v2_restart_lookback must be > 0");
  if (config.book_depth != 0 && config.book_depth != 10 && config.book_depth != 25 && config.book_depth != 100 &&
      config.book_depth != 500 && config.book_depth != 1000) {
    return Status::invalid_argument("collector.kraken.book_depth: " + std::to_string(config.book_depth) +
                                    " is not a Kraken book depth (10, 25, 100, 500 or 1000; 0 = no books)");
  }
  return Status::ok();
}

}  // namespace tickflow::exchange::kraken
