#include "app/config.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>

#include <toml++/toml.h>

#include "app/config_alerts.h"
#include "app/config_delivery.h"
#include "app/config_reader.h"
#include "app/config_quality.h"
#include "core/symbol.h"
#include "processing/indicators/indicator_set.h"

extern char** environ;

namespace tickflow::app {
namespace {

using namespace config_reader;  // fail, check_keys, get_*, sub


std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ',' || s[i] == ' ')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ',' && s[j] != ' ') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

uint16_t to_port(const std::string& key, int64_t v, bool allow_zero) {
  if (v < (allow_zero ? 0 : 1) || v > 65535) fail(key, "must be " + std::string(allow_zero ? "0" : "1") + "..65535, got " + std::to_string(v));
  return static_cast<uint16_t>(v);
}

int64_t to_int(const std::string& key, const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) fail(key, "must be an integer, got '" + s + "'");
  return v;
}

std::vector<std::string> normalize_symbols(const std::string& key, const std::vector<std::string>& in) {
  if (in.empty()) fail(key, "needs at least one symbol");
  std::vector<std::string> out;
  for (const auto& s : in) {
    auto n = normalize_symbol(Exchange::kBinance, s);
    if (!n) fail(key, n.status().message());
    out.push_back(*n);
  }
  return out;
}

void apply_file(AppConfig& c, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    fail("", path + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column) +
                 ": " + std::string(e.description()));
  }
  check_keys(root, "", {"data_dir", "log_level", "status_interval", "api", "bus", "storage", "exchanges",
                        "candles", "indicators", "alerts", "quality", "demo", "kafka", "timescale", "redis",
                        "webhooks", "alertmanager"});
  c.data_dir = get_string(root, "", "data_dir", c.data_dir);
  c.log_level = get_string(root, "", "log_level", c.log_level);
  c.status_interval = get_duration(root, "", "status_interval", c.status_interval);
  if (auto* t = sub(root, "", "api")) {
    check_keys(*t, "api", {"host", "port", "metrics_port"});
    c.api.host = get_string(*t, "api.", "host", c.api.host);
    c.api.port = to_port("api.port", get_int(*t, "api.", "port", c.api.port), false);
    c.api.metrics_port = to_port("api.metrics_port", get_int(*t, "api.", "metrics_port", c.api.metrics_port), true);
  }
  if (auto* t = sub(root, "", "bus")) {
    check_keys(*t, "bus", {"backend", "sync"});
    c.bus_backend = get_string(*t, "bus.", "backend", c.bus_backend);
    c.bus_sync = get_bool(*t, "bus.", "sync", c.bus_sync);
  }
  if (auto* t = sub(root, "", "storage")) {
    check_keys(*t, "storage", {"backend", "orderbook_retention"});
    c.store_backend = get_string(*t, "storage.", "backend", c.store_backend);
    c.store_orderbook_retention =
        get_duration(*t, "storage.", "orderbook_retention", c.store_orderbook_retention, Sign::kPositive);
  }
  if (auto* ex = sub(root, "", "exchanges")) {
    check_keys(*ex, "exchanges", {"binance", "kraken", "coinbase"});
    if (auto* t = sub(*ex, "exchanges.", "coinbase")) {
      const std::string p = "exchanges.coinbase.";
      check_keys(*t, "exchanges.coinbase",
                 {"enabled", "ws_url", "rest_url", "symbols", "channels", "book", "level2_channel", "feed"});
      c.coinbase.enabled = get_bool(*t, p, "enabled", c.coinbase.enabled);
      c.coinbase.ws_url = get_string(*t, p, "ws_url", c.coinbase.ws_url);
      c.coinbase.rest_url = get_string(*t, p, "rest_url", c.coinbase.rest_url);
      c.coinbase.symbols = get_string_list(*t, p, "symbols", c.coinbase.symbols);
      c.coinbase.channels = get_string_list(*t, p, "channels", c.coinbase.channels);
      c.coinbase.book = get_bool(*t, p, "book", c.coinbase.book);
      c.coinbase.feed = get_string(*t, p, "feed", c.coinbase.feed);
      c.coinbase.level2_channel = get_string(*t, p, "level2_channel", c.coinbase.level2_channel);
    }
    if (auto* t = sub(*ex, "exchanges.", "kraken")) {
      const std::string p = "exchanges.kraken.";
      check_keys(*t, "exchanges.kraken", {"enabled", "ws_url", "rest_url", "symbols", "api", "book_depth"});
      c.kraken.enabled = get_bool(*t, p, "enabled", c.kraken.enabled);
      c.kraken.ws_url = get_string(*t, p, "ws_url", c.kraken.ws_url);
      c.kraken.rest_url = get_string(*t, p, "rest_url", c.kraken.rest_url);
      c.kraken.symbols = get_string_list(*t, p, "symbols", c.kraken.symbols);
      c.kraken.api = get_string(*t, p, "api", c.kraken.api);
      c.kraken.book_depth = get_int(*t, p, "book_depth", c.kraken.book_depth, 0, 1000);
    }
    if (auto* t = sub(*ex, "exchanges.", "binance")) {
      const std::string p = "exchanges.binance.";
      check_keys(*t, "exchanges.binance",
                 {"enabled", "ws_url", "rest_url", "symbols", "trade_stream", "book", "book_depth", "book_ticker",
                  "subscribe"});
      c.binance.enabled = get_bool(*t, p, "enabled", c.binance.enabled);
      c.binance.ws_url = get_string(*t, p, "ws_url", c.binance.ws_url);
      c.binance.rest_url = get_string(*t, p, "rest_url", c.binance.rest_url);
      c.binance.symbols = get_string_list(*t, p, "symbols", c.binance.symbols);
      c.binance.trade_stream = get_string(*t, p, "trade_stream", c.binance.trade_stream);
      c.binance.book = get_bool(*t, p, "book", c.binance.book);
      c.binance.book_depth = get_int(*t, p, "book_depth", c.binance.book_depth, 1, 5000);
      c.binance.book_ticker = get_bool(*t, p, "book_ticker", c.binance.book_ticker);
      c.binance.subscribe = get_string(*t, p, "subscribe", c.binance.subscribe);
    }
  }
  if (auto* t = sub(root, "", "candles")) {
    const std::string p = "candles.";
    check_keys(*t, "candles", {"timeframes", "grace", "correction_horizon", "provisional_interval", "emit_empty"});
    if (t->get("timeframes")) {
      std::string joined;
      for (const auto& s : get_string_list(*t, p, "timeframes", {})) joined += s + ",";
      auto tfs = Timeframe::parse_list(joined);
      if (!tfs) fail("candles.timeframes", tfs.status().message());
      c.candles.timeframes = *tfs;
    }
    c.candles.grace = get_duration(*t, p, "grace", c.candles.grace);
    c.candles.correction_horizon = get_duration(*t, p, "correction_horizon", c.candles.correction_horizon);
    c.candles.provisional_interval = get_duration(*t, p, "provisional_interval", c.candles.provisional_interval);
    c.candles.emit_empty = get_bool(*t, p, "emit_empty", c.candles.emit_empty);
  }
  if (auto* t = sub(root, "", "indicators")) {
    const std::string p = "indicators.";
    check_keys(*t, "indicators", {"enabled", "spec", "timeframes", "max_checkpoints"});
    c.indicators.enabled = get_bool(*t, p, "enabled", c.indicators.enabled);
    c.indicators.spec = get_string(*t, p, "spec", c.indicators.spec);
    const int64_t cp = get_int(*t, p, "max_checkpoints", c.indicators.max_checkpoints);
    if (cp < 1 || cp > 65536) fail("indicators.max_checkpoints", "must be 1..65536");
    c.indicators.max_checkpoints = static_cast<uint32_t>(cp);
    if (auto* tfs = sub(*t, p, "timeframes")) {
      for (const auto& [k, v] : *tfs) {
        const std::string key = p + "timeframes." + std::string(k.str());
        auto tf = Timeframe::parse(k.str());
        if (!tf) fail(key, tf.status().message());
        if (!v.is_string()) fail(key, "must be a string (an indicator spec)");
        c.indicators.timeframes[tf->label()] = std::string(*v.value<std::string>());
      }
    }
  }
  if (auto* t = sub(root, "", "alerts")) {
    if (auto e = parse_alerts_config(*t, c.alerts)) fail(e->key, e->message);
  }
  if (auto* t = sub(root, "", "quality")) {
    if (auto e = parse_quality_config(*t, c.quality)) fail(e->key, e->message);
  }
  if (auto* t = sub(root, "", "webhooks")) {
    if (auto e = parse_webhooks_config(*t, c.webhooks)) fail(e->key, e->message);
  }
  if (auto* t = sub(root, "", "alertmanager")) {
    if (auto e = parse_alertmanager_config(*t, c.alertmanager)) fail(e->key, e->message);
  }
  if (auto* t = sub(root, "", "demo")) {
    const std::string p = "demo.";
    check_keys(*t, "demo", {"enabled", "seed", "rate", "symbols", "kraken_symbols", "coinbase_symbols"});
    c.demo.enabled = get_bool(*t, p, "enabled", c.demo.enabled);
    int64_t seed = get_int(*t, p, "seed", static_cast<int64_t>(c.demo.seed));
    if (seed < 0) fail("demo.seed", "must be >= 0");
    c.demo.seed = static_cast<uint64_t>(seed);
    c.demo.rate = get_number(*t, p, "rate", c.demo.rate);
    c.demo.symbols = get_string_list(*t, p, "symbols", c.demo.symbols);
    c.demo.kraken_symbols = get_string_list(*t, p, "kraken_symbols", c.demo.kraken_symbols);
    c.demo.coinbase_symbols = get_string_list(*t, p, "coinbase_symbols", c.demo.coinbase_symbols);
  }
  if (auto* t = sub(root, "", "kafka")) {
    check_keys(*t, "kafka", {"bootstrap_servers", "processing", "properties", "replication_factor"});
    c.kafka_bootstrap_servers = get_string(*t, "kafka.", "bootstrap_servers", c.kafka_bootstrap_servers);
    c.kafka_replication_factor =
        static_cast<int>(get_int(*t, "kafka.", "replication_factor", c.kafka_replication_factor, -1, 32767));
    if (c.kafka_replication_factor == 0) fail("kafka.replication_factor", "must be -1 (the brokers' default) or >= 1");
    if (auto* pt = sub(*t, "kafka.", "properties")) get_flat_map(*pt, "kafka.properties.", "", c.kafka_properties);
    if (auto* pt = sub(*t, "kafka.", "processing")) {  // processing.guarantee = "..." (a dotted key)
      check_keys(*pt, "kafka.processing", {"guarantee"});
      c.kafka_processing_guarantee =
          get_string(*pt, "kafka.processing.", "guarantee", c.kafka_processing_guarantee);
    }
  }
  if (auto* t = sub(root, "", "timescale")) {
    check_keys(*t, "timescale", {"host", "port", "db", "user", "password"});
    c.timescale_host = get_string(*t, "timescale.", "host", c.timescale_host);
    c.timescale_port = std::to_string(get_int(*t, "timescale.", "port", 5432));
    c.timescale_db = get_string(*t, "timescale.", "db", c.timescale_db);
    c.timescale_user = get_string(*t, "timescale.", "user", c.timescale_user);
    c.timescale_password = get_string(*t, "timescale.", "password", c.timescale_password);
  }
  if (auto* t = sub(root, "", "redis")) {
    check_keys(*t, "redis", {"url", "enabled", "ttl_timeframes", "ttl_margin", "alert_ttl", "timeout"});
    c.redis_url = get_string(*t, "redis.", "url", c.redis_url);
    c.redis.enabled = get_bool(*t, "redis.", "enabled", c.redis.enabled);
    c.redis.ttl_timeframes = get_number(*t, "redis.", "ttl_timeframes", c.redis.ttl_timeframes);
    c.redis.ttl_margin = get_duration(*t, "redis.", "ttl_margin", c.redis.ttl_margin);
    c.redis.alert_ttl = get_duration(*t, "redis.", "alert_ttl", c.redis.alert_ttl);
    c.redis.timeout = get_duration(*t, "redis.", "timeout", c.redis.timeout);
  }
}

void apply_env(AppConfig& c, const std::map<std::string, std::string>& env) {
  auto get = [&](const char* name) -> const std::string* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : &it->second;
  };
  if (auto* v = get("TICKFLOW_DATA_DIR")) c.data_dir = *v;
  if (auto* v = get("TICKFLOW_LOG_LEVEL")) c.log_level = *v;
  if (auto* v = get("TICKFLOW_API_HOST")) c.api.host = *v;
  if (auto* v = get("TICKFLOW_API_PORT")) c.api.port = to_port("TICKFLOW_API_PORT", to_int("TICKFLOW_API_PORT", *v), false);
  if (auto* v = get("PROMETHEUS_PORT")) c.api.metrics_port = to_port("PROMETHEUS_PORT", to_int("PROMETHEUS_PORT", *v), true);
  if (auto* v = get("TICKFLOW_BINANCE_WS_URL")) c.binance.ws_url = *v;
  if (auto* v = get("TICKFLOW_ALERTMANAGER_URL")) c.alertmanager.url = *v;
  if (auto* v = get("TICKFLOW_BINANCE_REST_URL")) c.binance.rest_url = *v;
  if (auto* v = get("TICKFLOW_SYMBOLS")) c.binance.symbols = split_list(*v);
  if (auto* v = get("TICKFLOW_TIMEFRAMES")) {
    auto tfs = Timeframe::parse_list(*v);
    if (!tfs) fail("TICKFLOW_TIMEFRAMES", tfs.status().message());
    c.candles.timeframes = *tfs;
  }
  if (auto* v = get("KAFKA_BOOTSTRAP_SERVERS")) c.kafka_bootstrap_servers = *v;
  if (auto* v = get("KAFKA_SASL_USERNAME")) c.kafka_properties["sasl.username"] = *v;
  if (auto* v = get("KAFKA_SASL_PASSWORD")) c.kafka_properties["sasl.password"] = *v;
  if (auto* v = get("TIMESCALE_HOST")) c.timescale_host = *v;
  if (auto* v = get("TIMESCALE_PORT")) c.timescale_port = *v;
  if (auto* v = get("TIMESCALE_DB")) c.timescale_db = *v;
  if (auto* v = get("TIMESCALE_USER")) c.timescale_user = *v;
  if (auto* v = get("TIMESCALE_PASSWORD")) c.timescale_password = *v;
  if (auto* v = get("REDIS_URL")) c.redis_url = *v;
  if (auto* v = get("TICKFLOW_COINBASE_API_KEY")) c.coinbase.api_key = *v;
  if (auto* v = get("TICKFLOW_COINBASE_API_SECRET")) c.coinbase.api_secret = *v;
  if (auto* v = get("TICKFLOW_COINBASE_API_PASSPHRASE")) c.coinbase.api_passphrase = *v;
  if (auto* v = get("TICKFLOW_COINBASE_ADVANCED_KEY_NAME")) c.coinbase.advanced_key_name = *v;
  if (auto* v = get("TICKFLOW_COINBASE_ADVANCED_PRIVATE_KEY")) c.coinbase.advanced_private_key = *v;
}

void apply_overrides(AppConfig& c, const ConfigOverrides& o) {
  if (o.data_dir) c.data_dir = *o.data_dir;
  if (o.log_level) c.log_level = *o.log_level;
  if (o.host) c.api.host = *o.host;
  if (o.port) c.api.port = to_port("--port", *o.port, true);
  if (o.symbols) c.binance.symbols = split_list(*o.symbols);
  if (o.ws_url) c.binance.ws_url = *o.ws_url;
  if (o.rest_url) c.binance.rest_url = *o.rest_url;
  if (o.timeframes) {
    auto tfs = Timeframe::parse_list(*o.timeframes);
    if (!tfs) fail("--timeframes", tfs.status().message());
    c.candles.timeframes = *tfs;
  }
  if (o.demo) c.demo.enabled = *o.demo;
  if (o.seed) c.demo.seed = *o.seed;
  if (o.rate) c.demo.rate = *o.rate;
}

void validate(AppConfig& c) {
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!kLevels.count(c.log_level)) fail("log_level", "must be one of trace, debug, info, warn, error, off");
  if (c.data_dir.empty()) fail("data_dir", "must not be empty");
  if (c.bus_backend != "embedded" && c.bus_backend != "kafka")
    fail("bus.backend", "unknown backend '" + c.bus_backend + "' (this build has: embedded, kafka)");
  if (c.bus_backend == "kafka" && c.kafka_bootstrap_servers.empty())
    fail("kafka.bootstrap_servers", "required with bus.backend = \"kafka\" (or KAFKA_BOOTSTRAP_SERVERS)");
  if (c.kafka_processing_guarantee != "at_least_once" && c.kafka_processing_guarantee != "exactly_once_v2")
    fail("kafka.processing.guarantee", "must be \"at_least_once\" or \"exactly_once_v2\", got '" +
                                           c.kafka_processing_guarantee + "'");
  if (c.store_backend != "embedded" && c.store_backend != "postgres")
    fail("storage.backend", "unknown backend '" + c.store_backend + "' (this build has: embedded, postgres)");
  if (c.store_backend == "postgres") {
    // Unset keys fall back to 127.0.0.1:5432, database and user "tickflow".
    if (c.timescale_host.empty()) c.timescale_host = "127.0.0.1";
    if (c.timescale_port.empty()) c.timescale_port = "5432";
    if (c.timescale_db.empty()) c.timescale_db = "tickflow";
    if (c.timescale_user.empty()) c.timescale_user = "tickflow";
    to_port("timescale.port", to_int("timescale.port", c.timescale_port), false);
  }
  if (c.binance.trade_stream != "aggTrade" && c.binance.trade_stream != "trade")
    fail("exchanges.binance.trade_stream", "must be \"aggTrade\" or \"trade\"");
  for (const char* key : {"ws_url", "rest_url"}) {
    const std::string& url = std::string(key) == "ws_url" ? c.binance.ws_url : c.binance.rest_url;
    bool ok = std::string(key) == "ws_url"
                  ? (url.rfind("ws://", 0) == 0 || url.rfind("wss://", 0) == 0)
                  : (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0);
    if (!ok) fail(std::string("exchanges.binance.") + key, "not a " + std::string(key == std::string("ws_url") ? "ws:// or wss://" : "http:// or https://") + " URL: '" + url + "'");
  }
  if (c.kraken.api != "v1" && c.kraken.api != "v2") fail("exchanges.kraken.api", "must be \"v1\" or \"v2\", not '" + c.kraken.api + "'");
  if (c.kraken.book_depth != 0 && c.kraken.book_depth != 10 && c.kraken.book_depth != 25 &&
      c.kraken.book_depth != 100 && c.kraken.book_depth != 500 && c.kraken.book_depth != 1000)
    fail("exchanges.kraken.book_depth", "must be 0 (no books) or one of Kraken's depths 10, 25, 100, 500, 1000");
  if (c.kraken.ws_url.rfind("ws://", 0) != 0 && c.kraken.ws_url.rfind("wss://", 0) != 0)
    fail("exchanges.kraken.ws_url", "not a ws:// or wss:// URL: '" + c.kraken.ws_url + "'");
  if (c.kraken.rest_url.rfind("http://", 0) != 0 && c.kraken.rest_url.rfind("https://", 0) != 0)
    fail("exchanges.kraken.rest_url", "not a http:// or https:// URL: '" + c.kraken.rest_url + "'");
  for (auto* list : {&c.kraken.symbols, &c.demo.kraken_symbols}) {
    const std::string key = list == &c.kraken.symbols ? "exchanges.kraken.symbols" : "demo.kraken_symbols";
    if (list == &c.kraken.symbols && list->empty()) fail(key, "needs at least one symbol");
    for (auto& s : *list) {
      auto n = normalize_symbol(Exchange::kKraken, s);
      if (!n) fail(key, n.status().message());
      s = *n;
    }
  }
  if (c.coinbase.ws_url.rfind("ws://", 0) != 0 && c.coinbase.ws_url.rfind("wss://", 0) != 0)
    fail("exchanges.coinbase.ws_url", "not a ws:// or wss:// URL: '" + c.coinbase.ws_url + "'");
  if (c.coinbase.rest_url.rfind("http://", 0) != 0 && c.coinbase.rest_url.rfind("https://", 0) != 0)
    fail("exchanges.coinbase.rest_url", "not a http:// or https:// URL: '" + c.coinbase.rest_url + "'");
  for (auto* list : {&c.coinbase.symbols, &c.demo.coinbase_symbols}) {
    const std::string key = list == &c.coinbase.symbols ? "exchanges.coinbase.symbols" : "demo.coinbase_symbols";
    if (list == &c.coinbase.symbols && list->empty()) fail(key, "needs at least one symbol");
    for (auto& s : *list) {
      auto n = normalize_symbol(Exchange::kCoinbase, s);
      if (!n) fail(key, n.status().message());
      s = *n;
    }
  }
  for (const auto& ch : c.coinbase.channels) {
    if (ch != "matches" && ch != "heartbeat" && ch != "ticker")
      fail("exchanges.coinbase.channels", "\"" + ch + "\" is not one of \"matches\", \"heartbeat\", \"ticker\"");
  }
  if (std::find(c.coinbase.channels.begin(), c.coinbase.channels.end(), "matches") == c.coinbase.channels.end())
    fail("exchanges.coinbase.channels", "\"matches\" is required (the trades)");
  if (!c.redis_url.empty() && c.redis_url.rfind("redis://", 0) != 0)
    fail("redis.url", "must be redis://[user:password@]host:port/db");  // never echo it: it may hold a password
  if (!(c.redis.ttl_timeframes > 0)) fail("redis.ttl_timeframes", "must be > 0");
  if (c.redis.timeout <= 0) fail("redis.timeout", "must be > 0");
  c.binance.symbols = normalize_symbols("exchanges.binance.symbols", c.binance.symbols);
  c.demo.symbols = normalize_symbols("demo.symbols", c.demo.symbols);
  if (c.demo.rate <= 0 || c.demo.rate > 1e6) fail("demo.rate", "must be in (0, 1000000] messages per second");
  if (c.candles.grace < 0) fail("candles.grace", "must not be negative");
  if (c.candles.correction_horizon < c.candles.grace)
    fail("candles.correction_horizon", "must be at least candles.grace");
  if (c.status_interval <= 0) fail("status_interval", "must be positive");
  if (auto e = validate_delivery_config(c)) fail(e->key, e->message);
  if (auto set = processing::indicators::IndicatorSet::create(c.indicators.spec); !set)
    fail("indicators.spec", set.status().message());
  for (const auto& [label, spec] : c.indicators.timeframes) {
    if (auto set = processing::indicators::IndicatorSet::create(spec); !set)
      fail("indicators.timeframes." + label, set.status().message());
  }
  if (auto e = check_alert_inputs(c)) fail(e->key, e->message);
}

}  // namespace

Result<DurationNs> parse_duration(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0) return Status::invalid_argument("bad duration '" + std::string(s) + "' (use e.g. 250ms, 2s, 5m, 1h, 1d)");
  int64_t n = 0;
  std::from_chars(s.data(), s.data() + i, n);
  std::string_view u = s.substr(i);
  DurationNs unit;
  if (u == "ms") unit = kNsPerMs;
  else if (u == "s") unit = kNsPerSec;
  else if (u == "m") unit = kNsPerMin;
  else if (u == "h") unit = kNsPerHour;
  else if (u == "d") unit = kNsPerDay;
  else return Status::invalid_argument("bad duration '" + std::string(s) + "' (use e.g. 250ms, 2s, 5m, 1h, 1d)");
  return n * unit;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::variant<AppConfig, ConfigError> load_config(const std::string& path,
                                                 const std::map<std::string, std::string>& env,
                                                 const ConfigOverrides& overrides) {
  AppConfig c;
  try {
    if (!path.empty()) {
      std::ifstream probe(path);
      if (!probe) return ConfigError{"--config", "cannot read config file '" + path + "'"};
      apply_file(c, path);
    }
    apply_env(c, env);
    apply_overrides(c, overrides);
    validate(c);
  } catch (const ConfigFailure& f) {
    return f.error;
  }
  return c;
}

}  // namespace tickflow::app
