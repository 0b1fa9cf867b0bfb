// Partition naming, listing and dropping for native partitioning.
#include "storage/postgres/partitions.h"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace tickflow::storage::pg {

TimestampNs floor_to(TimestampNs t, DurationNs width) {
  TimestampNs q = t / width;
  if (t % width < 0) --q;
  return q * width;
}

std::string ohlcv_parent_name(const std::string& timeframe_label) { return "ohlcv_" + timeframe_label; }

std::string range_partition_name(const std::string& parent, TimestampNs start) {
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(floor_to(start, kNsPerDay) / kNsPerDay, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "_p%04lld%02u%02u", static_cast<long long>(y), m, d);
  return parent + buf;
}

bool parse_range_partition(const std::string& name, std::string& parent, TimestampNs& start) {
  const size_t at = name.rfind("_p");
  if (at == std::string::npos || name.size() != at + 10) return false;
  int64_t v = 0;
  for (size_t i = at + 2; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + (name[i] - '0');
  }
  parent = name.substr(0, at);
  start = days_from_civil(v / 10000, static_cast<unsigned>(v / 100 % 100), static_cast<unsigned>(v % 100)) *
          kNsPerDay;
  return true;
}

Result<std::set<std::string>> list_partitions(PgConnection& conn) {
  auto r = conn.exec(
      "WITH RECURSIVE parts(oid) AS (SELECT inhrelid FROM pg_inherits WHERE inhparent IN "
      "(SELECT oid FROM pg_class WHERE relname IN ('ohlcv', 'trades') AND relnamespace = "
      "'public'::regnamespace) UNION SELECT i.inhrelid FROM pg_inherits i JOIN parts p ON "
      "i.inhparent = p.oid) SELECT c.relname FROM parts p JOIN pg_class c ON c.oid = p.oid");
  if (!r) return r.status();
  std::set<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.insert(std::string(r->get(i, 0)));
  return out;
}

std::set<std::string> timeframe_labels(const std::set<std::string>& names) {
  std::set<std::string> out;
  for (const std::string& n : names) {
    if (!n.starts_with("ohlcv_")) continue;
    const std::string label = n.substr(6);
    if (label.find('_') == std::string::npos) out.insert(label);
  }
  return out;
}

Result<DroppedPartitions> drop_partitions_before(PgConnection& conn, const std::string& parent,
                                                 DurationNs width, TimestampNs cutoff) {
  DroppedPartitions out;
  auto r = conn.exec_params(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE "
      "i.inhparent = to_regclass($1)",
      {parent});
  if (!r) return r.status();
  for (int i = 0; i < r->rows(); ++i) {
    const std::string name(r->get(i, 0));
    std::string p;
    TimestampNs start = 0;
    if (!parse_range_partition(name, p, start) || p != parent) continue;
    if (start + width > cutoff) continue;
    const std::string ident = conn.quote_ident(name);
    auto n = conn.exec("SELECT count(*) FROM " + ident);
    if (!n) return n.status();
    TICKFLOW_RETURN_IF_ERROR(conn.exec("DROP TABLE IF EXISTS " + ident).status());
    out.rows += n->get_int64(0, 0);
    out.names.push_back(name);
    spdlog::info("postgres retention: dropped partition {} ({} rows)", name, n->get_int64(0, 0));
  }
  return out;
}

}  // namespace tickflow::storage::pg
