#include "processing/indicators/csv_run.h"

#include <charconv>
#include <cmath>
#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "core/time.h"
#include "processing/indicators/indicator_set.h"

namespace tickflow::processing::indicators {
namespace {

// Splits one CSV line into fields (double quotes and "" escapes honoured). False on an
// unterminated quote.
bool split_csv(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (quoted) return false;
  fields.push_back(std::move(cur));
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size() && std::isfinite(out);
}

void append_double(std::string& out, double d) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  out.append(buf, res.ptr);
}

bool next_line(std::istream& in, std::string& line, size_t& line_no) {
  if (!std::getline(in, line)) return false;
  ++line_no;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool skip(const std::string& line) { return trim(line).empty() || line.front() == '#'; }

}  // namespace

Result<size_t> run_indicators_csv(std::istream& in, std::ostream& out, std::string_view spec) {
  auto proto = IndicatorSet::create(spec);
  if (!proto) return proto.status();

  std::string line;
  size_t line_no = 0;
  bool have_header = false;
  while (next_line(in, line, line_no)) {
    if (!skip(line)) {
      have_header = true;
      break;
    }
  }
  if (!have_header) return Status::parse_error("input has no header row");
  std::vector<std::string> header;
  if (!split_csv(line, header)) return Status::parse_error("line " + std::to_string(line_no) + ": unterminated quote");
  const std::string header_line = line;

  auto column = [&](std::string_view name) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (trim(header[i]) == name) return static_cast<int>(i);
    }
    return -1;
  };
  const int c_close = column("close"), c_high = column("high"), c_low = column("low");
  const int c_volume = column("volume"), c_quote = column("quote_volume"), c_time = column("open_time");
  const int c_series[3] = {column("exchange"), column("symbol"), column("timeframe")};
  if (c_close < 0) return Status::invalid_argument("input has no 'close' column");
  if (proto->needs_high_low() && (c_high < 0 || c_low < 0)) {
    return Status::invalid_argument("atr needs 'high' and 'low' columns");
  }
  if (proto->needs_volume() && c_volume < 0) return Status::invalid_argument("vwap needs a 'volume' column");
  bool session_vwap = false;
  for (const auto& e : proto->entries()) session_vwap |= e.kind == IndicatorSpec::Kind::kVwapSession;
  if (session_vwap && c_time < 0) return Status::invalid_argument("session vwap needs an 'open_time' column");

  std::string row = header_line;
  for (const auto& name : proto->names()) {
    row.push_back(',');
    row += name;
  }
  row.push_back('\n');
  out << row;

  std::map<std::string, IndicatorSet> series;
  std::vector<std::string> fields;
  size_t rows = 0;
  while (next_line(in, line, line_no)) {
    if (skip(line)) continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (!split_csv(line, fields)) return Status::parse_error(where + "unterminated quote");
    if (fields.size() != header.size()) {
      return Status::parse_error(where + "expected " + std::to_string(header.size()) + " fields, got " +
                                 std::to_string(fields.size()));
    }
    auto number = [&](int col, double& v) -> Status {
      if (!parse_double(fields[col], v)) {
        return Status::parse_error(where + "column '" + header[col] + "': '" + fields[col] + "' is not a finite number");
      }
      return Status::ok();
    };
    Bar bar;
    TICKFLOW_RETURN_IF_ERROR(number(c_close, bar.close));
    bar.high = bar.low = bar.open = bar.close;
    if (c_high >= 0) TICKFLOW_RETURN_IF_ERROR(number(c_high, bar.high));
    if (c_low >= 0) TICKFLOW_RETURN_IF_ERROR(number(c_low, bar.low));
    if (c_volume >= 0) TICKFLOW_RETURN_IF_ERROR(number(c_volume, bar.volume));
    if (c_quote >= 0) TICKFLOW_RETURN_IF_ERROR(number(c_quote, bar.quote_volume));
    if (c_time >= 0) {
      auto t = parse_time(trim(fields[c_time]));
      if (!t) return Status::parse_error(where + "column 'open_time': " + t.status().message());
      bar.open_time = *t;
    }
    std::string key;
    for (int c : c_series) {
      if (c >= 0) key += fields[c];
      key.push_back('\x1f');
    }
    auto it = series.find(key);
    if (it == series.end()) it = series.emplace(key, *proto).first;
    Status st = it->second.update(bar);
    if (!st) return Status::parse_error(where + st.message());

    row = line;
    for (const auto& v : it->second.values()) {
      row.push_back(',');
      if (v) append_double(row, *v);
    }
    row.push_back('\n');
    out << row;
    ++rows;
  }
  if (in.bad()) return Status::io_error("reading the input failed");
  if (!out) return Status::io_error("writing the output failed");
  return rows;
}

}  // namespace tickflow::processing::indicators
