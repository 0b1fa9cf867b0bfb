// Binary COPY stream encoding (PostgreSQL protocol docs, "COPY ... Binary Format"; numeric in
// numeric_send's layout).
#include "storage/postgres/copy_binary.h"

#include <bit>
#include <cstring>

namespace tickflow::storage::pg {
namespace {

constexpr uint16_t kNumericPos = 0x0000;
constexpr uint16_t kNumericNeg = 0x4000;
// Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's timestamp epoch).
constexpr int64_t kPgEpochUs = 946684800LL * 1000000;

void put16(std::string& out, uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 2);
}

}  // namespace

namespace pg_binary {

void append_numeric(std::string& out, __int128 units, int scale) {
  // value = units·10^-scale. The decimal point must fall on a base-10000 digit boundary: the
  // fraction is padded on the right with `pad` zeros to a multiple of 4 decimals, i.e. the
  // digits of |units|·10^pad, produced from the least significant group up without forming
  // that product (it may not fit in 128 bits).
  const bool negative = units < 0;
  unsigned __int128 a = negative ? -static_cast<unsigned __int128>(units) : static_cast<unsigned __int128>(units);
  const int pad = (4 - scale % 4) % 4;
  const int frac_groups = (scale + pad) / 4;
  uint16_t groups[12];  // least significant first; 39 digits + 3 of padding = 11 groups at most
  int n = 0;
  if (a != 0) {
    static constexpr uint32_t kPow10[] = {1, 10, 100, 1000, 10000};
    const uint32_t low_div = kPow10[4 - pad];
    if (a <= UINT64_MAX) {  // 64-bit division is several times cheaper than 128-bit
      uint64_t x = static_cast<uint64_t>(a);
      groups[n++] = static_cast<uint16_t>(x % low_div * kPow10[pad]);
      x /= low_div;
      while (x != 0) {
        groups[n++] = static_cast<uint16_t>(x % 10000);
        x /= 10000;
      }
    } else {
      groups[n++] = static_cast<uint16_t>(static_cast<uint32_t>(a % low_div) * kPow10[pad]);
      a /= low_div;
      while (a != 0) {
        groups[n++] = static_cast<uint16_t>(static_cast<uint32_t>(a % 10000));
        a /= 10000;
      }
    }
  }
  // groups[k] has weight k − frac_groups; drop zero groups at both ends (numeric_recv would).
  int top = n - 1;
  while (top >= 0 && groups[top] == 0) --top;
  int bottom = 0;
  while (bottom <= top && groups[bottom] == 0) ++bottom;
  const int ndigits = top >= 0 ? top - bottom + 1 : 0;
  const int weight = top >= 0 ? top - frac_groups : 0;
  put16(out, static_cast<uint16_t>(ndigits));
  put16(out, static_cast<uint16_t>(static_cast<int16_t>(weight)));
  put16(out, ndigits > 0 && negative ? kNumericNeg : kNumericPos);
  put16(out, static_cast<uint16_t>(scale));
  for (int k = top; k >= bottom && top >= 0; --k) put16(out, groups[k]);
}

}  // namespace pg_binary

CopyBinaryWriter::CopyBinaryWriter(std::string& out) : out_(out) {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // + the terminating NUL: 11 bytes
  out_.append(kSignature, sizeof kSignature);
  be32(0);  // flags: no OIDs
  be32(0);  // header extension length
}

void CopyBinaryWriter::be16(uint16_t v) { put16(out_, v); }

void CopyBinaryWriter::be32(uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  out_.append(b, 4);
}

void CopyBinaryWriter::be64(uint64_t v) {
  be32(static_cast<uint32_t>(v >> 32));
  be32(static_cast<uint32_t>(v));
}

void CopyBinaryWriter::row(int16_t fields) { be16(static_cast<uint16_t>(fields)); }

void CopyBinaryWriter::text(std::string_view s) {
  be32(static_cast<uint32_t>(s.size()));
  out_.append(s);
}

void CopyBinaryWriter::int4(int32_t v) {
  be32(4);
  be32(static_cast<uint32_t>(v));
}

void CopyBinaryWriter::int8(int64_t v) {
  be32(8);
  be64(static_cast<uint64_t>(v));
}

void CopyBinaryWriter::float8(double v) {
  be32(8);
  be64(std::bit_cast<uint64_t>(v));
}

void CopyBinaryWriter::boolean(bool v) {
  be32(1);
  out_.push_back(v ? 1 : 0);
}

void CopyBinaryWriter::timestamptz(TimestampNs ts) {
  int64_t us = ts / 1000;
  if (ts % 1000 < 0) --us;  // floor
  int8(us - kPgEpochUs);
}

void CopyBinaryWriter::numeric(__int128 units, int scale) {
  const size_t at = out_.size();
  be32(0);  // length, patched below
  pg_binary::append_numeric(out_, units, scale);
  const auto len = static_cast<uint32_t>(out_.size() - at - 4);
  const char b[4] = {static_cast<char>(len >> 24), static_cast<char>(len >> 16), static_cast<char>(len >> 8),
                     static_cast<char>(len)};
  std::memcpy(out_.data() + at, b, 4);
}

void CopyBinaryWriter::null() { be32(0xFFFFFFFFu); }

void CopyBinaryWriter::finish() { be16(0xFFFF); }

}  // namespace tickflow::storage::pg
