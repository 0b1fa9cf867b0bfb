// The simulator's text helpers: clock, integers and JSON strings, RFC 6455 frame headers, URL
// targets and query parameters, Binance error bodies. Plain C++ (no Boost).
#include <charconv>
#include <chrono>

#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator::internal {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_ws_header(std::string& out, uint8_t opcode, size_t len) {
  out.push_back(static_cast<char>(0x80 | opcode));
  if (len < 126) {
    out.push_back(static_cast<char>(len));
  } else if (len <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((len >> 8) & 0xFF));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  }
}

void append_ws_close(std::string& out, uint16_t code, std::string_view reason) {
  reason = reason.substr(0, 123);
  append_ws_header(out, 0x8, 2 + reason.size());
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.append("\\u00");
      const char* hex = "0123456789abcdef";
      out.push_back(hex[(c >> 4) & 0xF]);
      out.push_back(hex[c & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (r.ec == std::errc() && r.ptr == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

Target parse_target(std::string_view target) {
  Target t;
  const size_t q = target.find('?');
  t.path = url_decode(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    const size_t eq = kv.find('=');
    if (!kv.empty()) {
      t.query[url_decode(kv.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : url_decode(kv.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return t;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t p = s.find(sep);
    if (p != 0) out.emplace_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s = s.substr(p + 1);
  }
  return out;
}

IntParam int_param(const Target& t, std::string_view name) {
  IntParam p;
  auto it = t.query.find(name);
  if (it == t.query.end() || it->second.empty()) return p;
  p.present = true;
  const std::string& s = it->second;
  auto r = std::from_chars(s.data(), s.data() + s.size(), p.value);
  p.bad = r.ec != std::errc() || r.ptr != s.data() + s.size() || p.value < 0;
  return p;
}

RestReply binance_error(int st, int code, std::string_view msg) {
  RestReply r;
  r.status = st;
  r.body = "{\"code\":";
  append_int(r.body, code);
  r.body += ",\"msg\":";
  append_json_string(r.body, msg);
  r.body += "}";
  return r;
}

RestReply illegal_param(std::string_view name) {
  return binance_error(400, -1100,
                       "Illegal characters found in parameter '" + std::string(name) +
                           "'; legal range is '^[0-9]{1,20}$'.");
}

}  // namespace tickflow::exchange::simulator::internal
