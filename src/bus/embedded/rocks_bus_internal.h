// Private to the embedded bus (rocks_bus.cc, rocks_bus_read.cc): column family names, the key
// and value encodings of the layout documented in rocks_bus.h, and the bus's Status messages.
//
// Thread-safety: pure functions. Ownership: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <rocksdb/status.h>

#include "bus/event_bus.h"
#include "rocks/db.h"
#include "rocks/encoding.h"

namespace tickflow::bus::embedded {

using rocks::be64_string;
using rocks::get_be32;
using rocks::get_be64;
using rocks::put_be32;
using rocks::put_be64;

constexpr const char* kCfLog = "log";
constexpr const char* kCfNext = "next";
constexpr const char* kCfBegin = "begin";
constexpr const char* kCfOffsets = "offsets";
constexpr const char* kCfState = "state";
constexpr const char* kCfTopics = "topics";

// topic \0 be32(partition)
inline void partition_prefix(std::string& out, std::string_view topic, int32_t partition) {
  out.assign(topic.data(), topic.size());
  out.push_back('\0');
  put_be32(out, static_cast<uint32_t>(partition));
}

inline std::string partition_key(std::string_view topic, int32_t partition) {
  std::string k;
  partition_prefix(k, topic, partition);
  return k;
}

inline std::string log_key(std::string_view topic, int32_t partition, int64_t offset) {
  std::string k;
  partition_prefix(k, topic, partition);
  put_be64(k, static_cast<uint64_t>(offset));
  return k;
}

inline std::string state_key(std::string_view ns, std::string_view key) {
  std::string k(ns);
  k.push_back('\0');
  k.append(key);
  return k;
}

inline std::string topic_value(const TopicConfig& c) {
  std::string v;
  put_be32(v, static_cast<uint32_t>(c.partitions));
  put_be64(v, static_cast<uint64_t>(c.retention));
  return v;
}

// Log value: be64(timestamp) be32(key length) key value.
constexpr size_t kLogHeader = 12;

inline bool decode_log_value(std::string_view v, Record& r) {
  if (v.size() < kLogHeader) return false;
  r.timestamp = static_cast<TimestampNs>(get_be64(v.data()));
  uint32_t klen = get_be32(v.data() + 8);
  if (v.size() < kLogHeader + klen) return false;
  r.key.assign(v.data() + kLogHeader, klen);
  r.value.assign(v.data() + kLogHeader + klen, v.size() - kLogHeader - klen);
  return true;
}

// offsets: group \0 topic \0 be32(partition)
inline std::string offsets_key(std::string_view group, std::string_view topic, int32_t partition) {
  return rocks::consumer_key(group, topic, partition);
}

inline Status write_error(const rocksdb::Status& s, std::string_view what) {
  return rocks::write_error(s, "bus", what);
}

inline Status read_error(const rocksdb::Status& s, std::string_view what) {
  return rocks::read_error(s, "bus", what);
}

}  // namespace tickflow::bus::embedded
