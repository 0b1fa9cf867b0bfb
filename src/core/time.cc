#include "core/time.h"

#include <charconv>
#include <cstdio>

#include "core/text_writer.h"

namespace tickflow {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

namespace {

void append_fixed(std::string& out, int64_t v, int width) {
  char buf[24];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

void append_iso(std::string& out, TimestampNs ts, int frac_digits) {
  int64_t days = ts / kNsPerDay;
  int64_t rem = ts % kNsPerDay;
  if (rem < 0) {
    rem += kNsPerDay;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  append_fixed(out, y, 4);
  out.push_back('-');
  append_fixed(out, m, 2);
  out.push_back('-');
  append_fixed(out, d, 2);
  out.push_back('T');
  int64_t secs = rem / kNsPerSec;
  append_fixed(out, secs / 3600, 2);
  out.push_back(':');
  append_fixed(out, (secs / 60) % 60, 2);
  out.push_back(':');
  append_fixed(out, secs % 60, 2);
  int64_t ns = rem % kNsPerSec;
  if (frac_digits == 3) {
    out.push_back('.');
    append_fixed(out, ns / kNsPerMs, 3);
  } else if (frac_digits == 9) {
    out.push_back('.');
    append_fixed(out, ns, 9);
  }
  out.push_back('Z');
}

bool read_int(std::string_view s, size_t& i, int n, int& out) {
  if (i + static_cast<size_t>(n) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[i + static_cast<size_t>(k)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  i += static_cast<size_t>(n);
  out = v;
  return true;
}

}  // namespace

std::string format_iso8601_ms(TimestampNs ts) {
  std::string s;
  append_iso(s, ts, 3);
  return s;
}

namespace {
constexpr char kPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
inline char* pair(char* p, unsigned v) {  // v < 100
  p[0] = kPairs[2 * v];
  p[1] = kPairs[2 * v + 1];
  return p + 2;
}
}  // namespace

char* write_iso8601_ms(char* p, TimestampNs ts) {
  int64_t days = ts / kNsPerDay;
  int64_t rem = ts % kNsPerDay;
  if (rem < 0) {
    rem += kNsPerDay;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  // int64 nanoseconds span the years 1677..2262: always four digits.
  const auto year = static_cast<unsigned>(y);
  p = pair(p, year / 100 % 100);
  p = pair(p, year % 100);
  *p++ = '-';
  p = pair(p, m);
  *p++ = '-';
  p = pair(p, d);
  *p++ = 'T';
  const auto secs = static_cast<unsigned>(rem / kNsPerSec);
  p = pair(p, secs / 3600);
  *p++ = ':';
  p = pair(p, secs / 60 % 60);
  *p++ = ':';
  p = pair(p, secs % 60);
  *p++ = '.';
  const auto ms = static_cast<unsigned>(rem % kNsPerSec / kNsPerMs);
  *p++ = static_cast<char>('0' + ms / 100);
  p = pair(p, ms % 100);
  *p++ = 'Z';
  return p;
}

void append_iso8601_ms(std::string& out, TimestampNs ts) {
  char buf[kIso8601MsChars];
  out.append(buf, write_iso8601_ms(buf, ts));
}

std::string format_iso8601_ns(TimestampNs ts) {
  std::string s;
  append_iso(s, ts, 9);
  return s;
}

Result<TimestampNs> parse_iso8601(std::string_view s) {
  auto bad = [&] { return Status::invalid_argument("not an ISO-8601 time: '" + std::string(s) + "'"); };
  size_t i = 0;
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (!read_int(s, i, 4, y) || i >= s.size() || s[i++] != '-' || !read_int(s, i, 2, mo) ||
      i >= s.size() || s[i++] != '-' || !read_int(s, i, 2, d))
    return bad();
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return bad();
  int64_t frac_ns = 0;
  int64_t offset_s = 0;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return bad();
    ++i;
    if (!read_int(s, i, 2, h) || i >= s.size() || s[i++] != ':' || !read_int(s, i, 2, mi)) return bad();
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!read_int(s, i, 2, se)) return bad();
      if (i < s.size() && s[i] == '.') {
        ++i;
        int digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
          if (digits < 9) {
            frac_ns = frac_ns * 10 + (s[i] - '0');
            ++digits;
          }
          ++i;
        }
        if (digits == 0) return bad();
        for (; digits < 9; ++digits) frac_ns *= 10;
      }
    }
    if (h > 23 || mi > 59 || se > 60) return bad();
    if (i < s.size()) {
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        int sign = s[i] == '-' ? -1 : 1;
        ++i;
        int oh, om = 0;
        if (!read_int(s, i, 2, oh)) return bad();
        if (i < s.size() && s[i] == ':') ++i;
        if (i < s.size() && !read_int(s, i, 2, om)) return bad();
        offset_s = sign * (oh * 3600 + om * 60);
      } else {
        return bad();
      }
    }
    if (i != s.size()) return bad();
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
  // TimestampNs holds 1677-09-21 .. 2262-04-11; a later or earlier time is out of range (the
  // product below would overflow: found by fuzz/coinbase_fuzz.cc).
  constexpr int64_t kMaxSecs = INT64_MAX / kNsPerSec - 1;
  if (secs > kMaxSecs || secs < -kMaxSecs) return bad();
  return secs * kNsPerSec + frac_ns;
}

Result<TimestampNs> parse_time(std::string_view s) {
  if (s.empty()) return Status::invalid_argument("empty time");
  bool all_digits = true;
  for (char c : s) all_digits &= (c >= '0' && c <= '9');
  if (all_digits) {
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
    if (ec != std::errc() || p != s.data() + s.size() || ms > INT64_MAX / kNsPerMs)
      return Status::invalid_argument("epoch milliseconds out of range: '" + std::string(s) + "'");
    return ms * kNsPerMs;
  }
  return parse_iso8601(s);
}

}  // namespace tickflow
