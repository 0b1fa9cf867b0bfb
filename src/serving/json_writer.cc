#include "serving/json_writer.h"

#include <cmath>

namespace tickflow::serving::json {

char* put_string(char* p, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
      *p++ = ch;
      continue;
    }
    *p++ = '\\';
    switch (c) {
      case '"': *p++ = '"'; break;
      case '\\': *p++ = '\\'; break;
      case '\b': *p++ = 'b'; break;
      case '\f': *p++ = 'f'; break;
      case '\n': *p++ = 'n'; break;
      case '\r': *p++ = 'r'; break;
      case '\t': *p++ = 't'; break;
      default:
        p = put(p, "u00");
        *p++ = kHex[c >> 4];
        *p++ = kHex[c & 0xf];
    }
  }
  *p++ = '"';
  return p;
}

char* put_double(char* p, double v) {
  if (!std::isfinite(v)) return put(p, "null");
  char* const start = p;
  p = std::to_chars(p, p + kMaxDoubleChars - 2, v).ptr;
  if (std::string_view(start, static_cast<size_t>(p - start)).find_first_of(".eEn") == std::string_view::npos)
    p = put(p, ".0");
  return p;
}

}  // namespace tickflow::serving::json
