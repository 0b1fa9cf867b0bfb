// RdKafkaClient's watcher and tail cache (rdkafka_client.h): the consumer assigned to the
// watched topics from their end offsets, whose thread keeps the newest records per partition
// and calls the data listener.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "bus/kafka/rdkafka_client.h"
#include "bus/kafka/rdkafka_util.h"

namespace tickflow::bus::kafka {

using rdkafka_util::kafka_error;
using rdkafka_util::PartitionList;
using rdkafka_util::to_record;

void RdKafkaClient::poll_watcher() {
  // Everything the consumer has at hand is taken at once (up to kMaxBatch): one tail-cache lock
  // and one listener call per topic per round, not per record — each call wakes the bus's
  // waiters (a woken stage re-reads its partitions), so per-record calls cost a wake-up per record.
  constexpr size_t kMaxBatch = 1024;
  std::vector<rd_kafka_message_t*> batch;
  batch.reserve(kMaxBatch);
  std::vector<const char*> topics;
  while (!stop_.load()) {
    rd_kafka_message_t* first = rd_kafka_consumer_poll(watcher_, 100);
    if (first == nullptr) continue;
    batch.push_back(first);
    while (batch.size() < kMaxBatch) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(watcher_, 0);
      if (m == nullptr) break;
      batch.push_back(m);
    }
    topics.clear();
    {
      // Into the tail cache first: a reader woken by the listener finds the records there.
      std::lock_guard lock(tail_mu_);
      for (rd_kafka_message_t* m : batch) {
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || m->rkt == nullptr) continue;
        const char* topic = rd_kafka_topic_name(m->rkt);
        if (std::find_if(topics.begin(), topics.end(), [&](const char* t) { return std::strcmp(t, topic) == 0; }) ==
            topics.end()) {
          topics.push_back(topic);
        }
        Tail* tail = find_tail(topic, m->partition);
        if (tail == nullptr || m->offset < tail->next) continue;
        Tail& t = *tail;
        t.records.push_back(to_record(m, topic));
        t.bytes += t.records.back().key.size() + t.records.back().value.size();
        t.next = m->offset + 1;
        t.fresh = std::chrono::steady_clock::now();
        while (t.records.size() > kTailRecords || t.bytes > kTailBytes) {
          t.bytes -= t.records.front().key.size() + t.records.front().value.size();
          t.begin = t.records.front().offset + 1;
          t.records.pop_front();
        }
      }
    }
    {
      std::lock_guard lock(watch_mu_);
      if (listener_) {
        for (const char* topic : topics) listener_(topic);
      }
    }
    for (rd_kafka_message_t* m : batch) rd_kafka_message_destroy(m);
    batch.clear();
  }
}

RdKafkaClient::Tail* RdKafkaClient::find_tail(std::string_view topic, int32_t partition) {
  auto it = tails_.find(topic);
  if (it == tails_.end()) return nullptr;
  auto pt = it->second.find(partition);
  return pt == it->second.end() ? nullptr : &pt->second;
}

bool RdKafkaClient::fetch_cached(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
                                 std::vector<Record>& out) {
  std::lock_guard lock(tail_mu_);
  const Tail* tail = find_tail(topic, partition);
  if (tail == nullptr) return false;
  const Tail& t = *tail;
  if (from_offset < t.begin || from_offset >= t.next) return false;
  auto first = std::lower_bound(t.records.begin(), t.records.end(), from_offset,
                                [](const Record& r, int64_t o) { return r.offset < o; });
  // Only a run that starts exactly at from_offset and has no hole: the tail holds what the
  // watcher consumer delivered, and if it ever missed a record (fetch errors around a leader
  // outage) serving the next one would skip it for good — the reader's position moves past it.
  // A hole (or a transaction marker's offset) is left to the consumer fetch below, which reads
  // the partition itself from from_offset.
  if (first == t.records.end() || first->offset != from_offset) return false;
  for (int64_t expect = from_offset; first != t.records.end() && max_records > 0 && first->offset == expect;
       ++first, --max_records, ++expect) {
    out.push_back(*first);
  }
  return true;
}

void RdKafkaClient::set_data_listener(std::function<void(std::string_view topic)> listener) {
  std::lock_guard lock(watch_mu_);
  listener_ = std::move(listener);
}

Status RdKafkaClient::watch(std::string_view topic) {
  std::lock_guard lock(watch_mu_);
  if (watched_.count(topic)) return Status::ok();
  auto n = partition_count(topic);
  if (!n) return n.status();
  if (!*n) return Status::not_found("unknown topic '" + std::string(topic) + "'");
  // Start at the current end, resolved NOW (timestamp -1 = latest): everything appended after
  // this call is delivered to the watcher. (OFFSET_END would resolve later, missing records.)
  PartitionList list;
  for (int32_t p = 0; p < **n; ++p) {
    rd_kafka_topic_partition_list_add(list.p, std::string(topic).c_str(), p)->offset = -1;
  }
  rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(reader_, list.p, timeout_ms());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("end offsets of " + std::string(topic), e);
  for (int i = 0; i < list.p->cnt; ++i) {
    if (list.p->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR || list.p->elems[i].offset < 0) {
      return kafka_error("end offsets of " + std::string(topic), list.p->elems[i].err);
    }
  }
  {
    std::lock_guard tail_lock(tail_mu_);
    for (int i = 0; i < list.p->cnt; ++i) {
      Tail& t = tails_[std::string(topic)][list.p->elems[i].partition];
      t.begin = t.next = list.p->elems[i].offset;
    }
  }
  rd_kafka_error_t* err = rd_kafka_incremental_assign(watcher_, list.p);
  if (err != nullptr) {
    Status st = Status::unavailable("kafka watch " + std::string(topic) + ": " + rd_kafka_error_string(err));
    rd_kafka_error_destroy(err);
    return st;
  }
  watched_.emplace(std::string(topic), true);
  return Status::ok();
}

}  // namespace tickflow::bus::kafka
