// COPY ... FROM STDIN (FORMAT binary) encoding: the stream header and trailer, tuples, and the
// binary send formats of the column types the store writes (text, int4, int8, float8, bool,
// timestamptz, numeric). With it the server parses no numeric or timestamp text (numeric_in and
// ParseDateTime were a third of its CPU per candle row, measured with bench/pg).
//
// The field types must match the target columns exactly: binary COPY does no coercion (an int4
// sent for a bigint column is an error, not a conversion).
//
// numeric is written in numeric_send's format (ndigits, weight, sign, dscale, base-10000 digits)
// from exact fixed-point units and a scale, never through floating point; the stored value and
// display scale equal those of the decimal text the text format would have sent
// (`pg_binary::numeric` is the decoder).
//
// Thread-safety: a CopyBinaryWriter is used by one thread; the free functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.h"

namespace tickflow::storage::pg {

namespace pg_binary {
// Appends the numeric_send bytes of units·10^-scale (scale 0..1000; dscale = scale, so trailing
// zeros are kept as the text form would keep them). Zero is ndigits 0, weight 0, sign +.
void append_numeric(std::string& out, __int128 units, int scale);
}  // namespace pg_binary

class CopyBinaryWriter {
 public:
  // Appends the 19-byte header to `out` (which the writer then appends to; not owned).
  explicit CopyBinaryWriter(std::string& out);

  // Reserves room for `rows` more tuples of about `bytes` each.
  void reserve_rows(size_t rows, size_t bytes) { out_.reserve(out_.size() + rows * bytes + 2); }
  // Starts a tuple of `fields` fields; exactly that many field calls must follow.
  void row(int16_t fields);
  void text(std::string_view s);
  void int4(int32_t v);
  void int8(int64_t v);
  void float8(double v);
  void boolean(bool v);
  // Nanoseconds since the Unix epoch → microseconds since 2000-01-01 (floor, as the text form
  // drops the sub-microsecond part).
  void timestamptz(TimestampNs ts);
  void numeric(__int128 units, int scale);
  void null();
  // Appends the trailer; the writer must not be used afterwards.
  void finish();

 private:
  void be16(uint16_t v);
  void be32(uint32_t v);
  void be64(uint64_t v);
  std::string& out_;
};

}  // namespace tickflow::storage::pg
