#include "processing/candles/csv_run.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <unordered_map>

#include "core/symbol_hash.h"
#include "exchange/binance/parse.h"
#include "processing/candles/aggregator.h"

namespace tickflow::processing {

const char kCandleCsvHeader[] =
    "exchange,symbol,exchange_symbol,timeframe,open_time,close_time,open,high,low,close,volume,"
    "quote_volume,vwap,trades,taker_buy_volume,first_trade_id,last_trade_id";

namespace {

namespace od = simdjson::ondemand;
namespace bn = exchange::binance;

constexpr size_t kBlock = 4 << 20;
constexpr std::string_view kRecordingPrefix = "{\"exchange\":";

// One line of the recording format → the frame it carries.
class RecordingDecoder {
 public:
  enum class Kind { kFrame, kSkip, kMalformed };

  // `line` must have SIMDJSON_PADDING readable bytes after it. The returned frame stays valid
  // until the next call.
  Kind decode(std::string_view line, TimestampNs& recv, std::string_view& frame, std::string& error) {
    od::document doc;
    auto ec = parser_.iterate(line.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING).get(doc);
    od::object obj;
    if (!ec) ec = doc.get_object().get(obj);
    if (ec) return malformed(error, ec);
    std::string_view direction;
    bool have_raw = false;
    recv = 0;
    for (auto fr : obj) {
      od::field field;
      std::string_view key;
      if ((ec = std::move(fr).get(field)) || (ec = field.unescaped_key().get(key))) return malformed(error, ec);
      if (key == "direction") {
        if ((ec = field.value().get_string().get(direction))) return malformed(error, ec);
      } else if (key == "recv_ts_ns") {
        int64_t ts = 0;
        if ((ec = field.value().get_int64().get(ts))) return malformed(error, ec);
        recv = ts;
      } else if (key == "raw") {
        od::value v = field.value();
        bool is_null = false;
        if ((ec = v.is_null().get(is_null))) return malformed(error, ec);
        if (!is_null) {
          if ((ec = v.get_string().get(frame))) return malformed(error, ec);
          have_raw = true;
        }
      }
    }
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      error = "recording line: trailing content";
      return Kind::kMalformed;
    }
    if (direction != "in") return Kind::kSkip;
    if (!have_raw) {
      error = "recording line: direction \"in\" without a \"raw\" string";
      return Kind::kMalformed;
    }
    return Kind::kFrame;
  }

 private:
  static Kind malformed(std::string& error, simdjson::error_code ec) {
    error = std::string("recording line: ") + simdjson::error_message(ec);
    return Kind::kMalformed;
  }
  od::parser parser_;
};


bool row_less(const Candle& a, const Candle& b) {
  if (a.exchange != b.exchange) return a.exchange < b.exchange;
  if (int cmp = a.symbol.compare(b.symbol); cmp != 0) return cmp < 0;
  if (a.timeframe.duration_ns() != b.timeframe.duration_ns()) return a.timeframe.duration_ns() < b.timeframe.duration_ns();
  return a.open_time < b.open_time;
}

bool same_row(const Candle& a, const Candle& b) {
  return a.exchange == b.exchange && a.symbol == b.symbol && a.timeframe == b.timeframe && a.open_time == b.open_time;
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  out.append(buf, static_cast<size_t>(n));
}

// Exact value with trailing zeros dropped down to at least `min_scale` decimals (quote volume
// is exact at price scale + quantity scale, e.g. 16 digits; Binance prints 8).
void append_trimmed(std::string& out, const WideDecimal& w, int min_scale) {
  int128 units = w.units();
  int scale = w.scale();
  while (scale > min_scale && units % 10 == 0) {
    units /= 10;
    --scale;
  }
  WideDecimal(units, scale).append_to(out);
}

void append_row(std::string& out, const Candle& c) {
  out.append(exchange_name(c.exchange));
  out.push_back(',');
  out.append(c.symbol);
  out.push_back(',');
  out.append(c.exchange_symbol);
  out.push_back(',');
  out.append(c.timeframe.label());
  out.push_back(',');
  append_iso8601_ms(out, c.open_time);
  out.push_back(',');
  append_iso8601_ms(out, c.close_time);
  out.push_back(',');
  c.open.append_to(out);
  out.push_back(',');
  c.high.append_to(out);
  out.push_back(',');
  c.low.append_to(out);
  out.push_back(',');
  c.close.append_to(out);
  out.push_back(',');
  c.volume.append_to(out);
  out.push_back(',');
  append_trimmed(out, c.quote_volume, 8);
  out.push_back(',');
  c.vwap().append_to(out);
  out.push_back(',');
  append_int(out, c.trades);
  out.push_back(',');
  c.taker_buy_volume.append_to(out);
  out.push_back(',');
  append_int(out, c.first_trade_id);
  out.push_back(',');
  append_int(out, c.last_trade_id);
  out.push_back('\n');
}

class Runner {
 public:
  explicit Runner(const CsvRunOptions& options)
      : options_(options),
        diag_(options.diagnostics != nullptr ? *options.diagnostics : std::cerr),
        engine_(make_config(options)) {}

  static CandleConfig make_config(const CsvRunOptions& options) {
    CandleConfig config;
    config.timeframes = options.timeframes;
    std::sort(config.timeframes.begin(), config.timeframes.end());
    config.timeframes.erase(std::unique(config.timeframes.begin(), config.timeframes.end()), config.timeframes.end());
    config.provisional_interval = 0;  // grace and correction horizon as in the pipeline
    return config;
  }

  // `line` has SIMDJSON_PADDING readable bytes after it.
  void line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty()) return;
    ++stats_.lines;
    TimestampNs recv = 0;
    std::string_view frame = line;
    if (line.size() >= kRecordingPrefix.size() && std::memcmp(line.data(), kRecordingPrefix.data(), kRecordingPrefix.size()) == 0) {
      std::string error;
      switch (recording_.decode(line, recv, frame, error)) {
        case RecordingDecoder::Kind::kSkip: ++stats_.other_messages; return;
        case RecordingDecoder::Kind::kMalformed: reject(line, "malformed_json", error); return;
        case RecordingDecoder::Kind::kFrame: break;
      }
    }
    Status st = parser_.parse(frame, recv, parsed_);
    if (!st.is_ok()) {
      reject(line, parser_.error_reason(), st.message());
      return;
    }
    if (parsed_.kind != bn::MessageKind::kTrade && parsed_.kind != bn::MessageKind::kAggTrade) {
      ++stats_.other_messages;
      return;
    }
    const Trade& t = parsed_.trade;
    StreamSlot& slot = stream_cache_[SymbolHash{}(t.exchange_symbol) & 63];
    if (!slot.valid || !symbol_equal(slot.exchange_symbol, t.exchange_symbol)) {
      auto it = stream_of_.find(t.exchange_symbol);
      if (it == stream_of_.end()) it = stream_of_.emplace(t.exchange_symbol, t.aggregated).first;
      slot.exchange_symbol = t.exchange_symbol;
      slot.aggregated = it->second;
      slot.valid = true;
    }
    if (slot.aggregated != t.aggregated) {
      ++stats_.other_stream;
      return;
    }
    ++stats_.trades;
    switch (engine_.on_trade(t, 0, updates_)) {
      case TradeOutcome::kApplied: break;
      case TradeOutcome::kDuplicate: ++stats_.duplicates; break;
      case TradeOutcome::kTooLate: ++stats_.too_late; break;
    }
    if (!updates_.empty()) collect();
  }

  CsvRunStats finish(std::ostream& out) {
    engine_.flush(updates_);
    collect();
    std::stable_sort(rows_.begin(), rows_.end(), row_less);
    std::string text;
    text.reserve(1 << 20);
    text.append(kCandleCsvHeader);
    text.push_back('\n');
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (i + 1 < rows_.size() && same_row(rows_[i], rows_[i + 1])) continue;  // keep the last state
      append_row(text, rows_[i]);
      ++stats_.candles;
      if (text.size() > (1 << 20)) {
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        text.clear();
      }
    }
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (stats_.rejected > 0) {
      diag_ << "candles: rejected " << stats_.rejected << " of " << stats_.lines << " lines\n";
    }
    return stats_;
  }

 private:
  void collect() {
    for (CandleUpdate& u : updates_) rows_.push_back(std::move(u.candle));
    updates_.clear();
  }

  void reject(std::string_view line, std::string_view reason, const std::string& message) {
    ++stats_.rejected;
    if (static_cast<int>(stats_.rejected) <= options_.max_samples) {
      diag_ << "candles: line " << stats_.lines << " rejected (" << reason << "): " << message << ": "
            << line.substr(0, 200) << (line.size() > 200 ? "..." : "") << "\n";
    }
  }

  const CsvRunOptions& options_;
  std::ostream& diag_;
  CandleEngine engine_;
  bn::FrameParser parser_;
  bn::ParsedFrame parsed_;
  RecordingDecoder recording_;
  std::unordered_map<std::string, bool, SymbolHash> stream_of_;  // exchange symbol → aggTrade stream?
  struct StreamSlot {  // direct-mapped front cache of stream_of_
    std::string exchange_symbol;
    bool aggregated = false;
    bool valid = false;
  };
  StreamSlot stream_cache_[64];
  std::vector<CandleUpdate> updates_;
  std::vector<Candle> rows_;
  CsvRunStats stats_;
};

}  // namespace

Result<CsvRunStats> run_candles_csv(std::istream& in, std::ostream& out, const CsvRunOptions& options) {
  if (options.exchange != Exchange::kBinance)
    return Status::invalid_argument("candles: exchange '" + std::string(exchange_name(options.exchange)) +
                                    "' is not supported offline (only binance)");
  if (options.timeframes.empty()) return Status::invalid_argument("candles: no timeframes given");
  Runner runner(options);

  // Big blocks, lines split in place; SIMDJSON_PADDING spare bytes after the data.
  std::vector<char> buf(kBlock + simdjson::SIMDJSON_PADDING);
  size_t have = 0;
  bool eof = false;
  while (!eof) {
    size_t room = buf.size() - simdjson::SIMDJSON_PADDING - have;
    if (room == 0) {  // one line longer than the buffer: grow
      buf.resize(buf.size() * 2);
      room = buf.size() - simdjson::SIMDJSON_PADDING - have;
    }
    in.read(buf.data() + have, static_cast<std::streamsize>(room));
    size_t got = static_cast<size_t>(in.gcount());
    if (got < room) {
      if (in.bad()) return Status::io_error("candles: read error on input");
      eof = true;
    }
    have += got;
    std::memset(buf.data() + have, 0, simdjson::SIMDJSON_PADDING);
    const char* p = buf.data();
    const char* end = buf.data() + have;
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (nl == nullptr) {
        if (!eof) break;
        nl = end;
      }
      runner.line(std::string_view(p, static_cast<size_t>(nl - p)));
      p = nl + 1;
    }
    size_t consumed = p >= end ? have : static_cast<size_t>(p - buf.data());
    std::memmove(buf.data(), buf.data() + consumed, have - consumed);
    have -= consumed;
  }
  return runner.finish(out);
}

}  // namespace tickflow::processing
