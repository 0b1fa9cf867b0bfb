// Request parsing and JSON error helpers shared by the API's route handlers.
#include "serving/http_util.h"

#include <algorithm>
#include <cctype>

#include "serving/candle_json.h"

namespace tickflow::serving {

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

// {"error":"...","parameter":"..."} (parameter omitted when empty).
HttpResponse error_response(int status, std::string_view message, std::string_view parameter) {
  std::string b = "{\"error\":";
  append_json_string(b, message);
  if (!parameter.empty()) {
    b += ",\"parameter\":";
    append_json_string(b, parameter);
  }
  b += '}';
  return json_response(status, std::move(b));
}

HttpResponse method_not_allowed(std::string_view allow) {
  HttpResponse r = error_response(405, "method not allowed (use " + std::string(allow) + ")");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

// Percent-decoding ('+' stays '+', so "+02:00" offsets survive). nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  size_t q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    parts.push_back(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return parts;
}

// "/ohlcv/a/b/c" with prefix "ohlcv" → {a, b, c}; false when the shape differs.
bool series_segments(std::string_view path, std::string_view prefix, std::string_view (&seg)[3]) {
  if (path.size() < prefix.size() + 2 || path[0] != '/' || path.substr(1, prefix.size()) != prefix ||
      path[prefix.size() + 1] != '/')
    return false;
  auto parts = split(path.substr(prefix.size() + 2), '/');
  if (parts.size() != 3) return false;
  for (int i = 0; i < 3; ++i) seg[i] = parts[static_cast<size_t>(i)];
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Validates the three path segments; on failure fills `error` (400 naming the parameter).
bool parse_series(const std::string_view (&seg)[3], SeriesRef& out, HttpResponse& error) {
  static constexpr std::string_view kNames[3] = {"exchange", "symbol", "timeframe"};
  std::string decoded[3];
  for (int i = 0; i < 3; ++i) {
    auto d = percent_decode(seg[i]);
    if (!d || d->empty()) {
      error = error_response(400, "missing or badly encoded " + std::string(kNames[i]), kNames[i]);
      return false;
    }
    decoded[i] = std::move(*d);
  }
  auto exchange = parse_exchange(lower(decoded[0]));
  if (!exchange) {
    error = error_response(400, "unknown exchange '" + decoded[0] + "' (binance, coinbase, kraken)",
                           "exchange");
    return false;
  }
  auto symbol = normalize_symbol(*exchange, decoded[1]);
  if (!symbol) {
    error = error_response(400, symbol.status().message(), "symbol");
    return false;
  }
  auto tf = Timeframe::parse(decoded[2]);
  if (!tf) {
    error = error_response(400, tf.status().message(), "timeframe");
    return false;
  }
  out.exchange = *exchange;
  out.symbol = std::move(*symbol);
  out.timeframe = std::move(*tf);
  out.key = series_key(out.exchange, out.symbol, out.timeframe.label());
  return true;
}

HttpResponse store_error(const Status& s) {
  return error_response(s.retryable() ? 503 : 500, "store: " + s.message());
}

HttpResponse unknown_series(const SeriesRef& s) {
  std::string b = "{\"error\":\"unknown series\",\"exchange\":";
  append_json_string(b, exchange_name(s.exchange));
  b += ",\"symbol\":";
  append_json_string(b, s.symbol);
  b += ",\"timeframe\":";
  append_json_string(b, s.timeframe.label());
  b += '}';
  return json_response(404, std::move(b));
}

bool check_known(const storage::CandleStore& store, const SeriesPredicate& is_configured, const SeriesRef& s,
                 HttpResponse& error) {
  if (is_configured && is_configured(s.exchange, s.symbol, s.timeframe)) return true;
  auto known = store.has_series(s.exchange, s.symbol, s.timeframe);
  if (!known) {
    error = store_error(known.status());
    return false;
  }
  if (!*known) {
    error = unknown_series(s);
    return false;
  }
  return true;
}

void append_series_head(std::string& b, const SeriesRef& s) {
  b += "\"exchange\":";
  append_json_string(b, exchange_name(s.exchange));
  b += ",\"symbol\":";
  append_json_string(b, s.symbol);
  b += ",\"timeframe\":";
  append_json_string(b, s.timeframe.label());
}


bool parse_range_params(std::string_view query, size_t max_limit, std::initializer_list<std::string_view> extra_names,
                        RangeParams& out, HttpResponse& error) {
  if (query.empty()) return true;
  auto fail = [&](std::string message, std::string_view parameter = {}) {
    error = error_response(400, message, parameter);
    return false;
  };
  for (std::string_view pair : split(query, '&')) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name) return fail("badly encoded query parameter name");
    const std::string& n = *name;
    bool extra = std::find(extra_names.begin(), extra_names.end(), n) != extra_names.end();
    if (n != "start" && n != "end" && n != "limit" && !extra) {
      std::string allowed = "start, end, limit";
      for (auto e : extra_names) allowed += ", " + std::string(e);
      return fail("unknown query parameter '" + n + "' (" + allowed + ")", n);
    }
    if (!value) return fail("badly encoded value of " + n, n);
    if (value->empty()) return fail(n + " is empty", n);
    if (extra) {
      if (out.extra.count(n)) return fail(n + " given twice", n);
      out.extra[n] = *value;
      continue;
    }
    if (n == "limit") {
      if (out.limit) return fail("limit given twice", n);
      size_t v = 0;
      bool ok = value->size() <= 6 &&
                std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; });
      if (ok) v = std::stoul(*value);
      if (!ok || v < 1 || v > max_limit)
        return fail("limit must be an integer in 1.." + std::to_string(max_limit) + " (got '" + *value + "')", n);
      out.limit = v;
      continue;
    }
    auto& slot = n == "start" ? out.start : out.end;
    if (slot) return fail(n + " given twice", n);
    auto t = parse_time(*value);
    if (!t)
      return fail("bad " + n + " '" + *value + "': " + t.status().message() +
                      " (use ISO-8601 like 2021-08-14T14:46:00Z or epoch milliseconds)",
                  n);
    slot = *t;
  }
  if (out.start && out.end && *out.start > *out.end)
    return fail("start (" + format_iso8601_ms(*out.start) + ") is after end (" + format_iso8601_ms(*out.end) + ")",
                "start");
  return true;
}

}  // namespace tickflow::serving
