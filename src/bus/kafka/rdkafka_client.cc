// See rdkafka_client.h.
#include "bus/kafka/rdkafka_client.h"
#include "bus/kafka/rdkafka_util.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>

namespace tickflow::bus::kafka {

using rdkafka_util::kafka_error;
using rdkafka_util::PartitionList;
using rdkafka_util::to_record;

namespace {

using Props = std::vector<std::pair<std::string, std::string>>;

// librdkafka logs through spdlog instead of stderr.
void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  const char* name = rd_kafka_name(rk);
  // Brokers (and the mock) that ignore allow.auto.create.topics=false: harmless here, since
  // the bus checks a topic exists before naming it in a request.
  if (std::string_view(fac) == "AUTOCREATE") level = 7;
  if (level <= 3) {
    spdlog::error("kafka {} {}: {}", name, fac, buf);
  } else if (level <= 4) {
    spdlog::warn("kafka {} {}: {}", name, fac, buf);
  } else {
    spdlog::debug("kafka {} {}: {}", name, fac, buf);
  }
}

// One produce_async() call: every record's delivery report lands here.
struct Batch {
  mutable std::mutex mu;
  std::condition_variable cv;
  size_t pending = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::vector<int64_t> offsets;
};
struct Slot {
  Batch* batch;
  size_t index;
};

void delivery_cb(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* slot = static_cast<Slot*>(m->_private);
  if (slot == nullptr) return;
  Batch* b = slot->batch;
  std::lock_guard lock(b->mu);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (b->first_error == RD_KAFKA_RESP_ERR_NO_ERROR) b->first_error = m->err;
  } else {
    b->offsets[slot->index] = m->offset;
  }
  if (--b->pending == 0) b->cv.notify_all();
}

Result<rd_kafka_t*> make_handle(rd_kafka_type_t type, const std::string& name, const RdKafkaOptions& o,
                                const Props& defaults, bool with_dr) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& k, const std::string& v, bool user) -> Status {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return Status::invalid_argument(std::string(user ? "kafka.properties: " : "kafka: ") + k + ": " +
                                      err);
    }
    return Status::ok();
  };
  Status st = set("bootstrap.servers", o.bootstrap_servers, false);
  if (st) st = set("client.id", "tickflow-" + name, false);
  for (const auto& [k, v] : defaults) {
    if (st) st = set(k, v, false);
  }
  for (const auto& [k, v] : o.properties) {
    if (st) st = set(k, v, true);
  }
  if (!st) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  rd_kafka_conf_set_log_cb(conf, log_cb);
  if (with_dr) rd_kafka_conf_set_dr_msg_cb(conf, delivery_cb);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::invalid_argument(std::string("kafka: cannot create the ") + name + " client: " + err);
  }
  if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk);
  return rk;
}

Props consumer_defaults(const std::string& group, bool eof, const char* fetch_wait_ms) {
  return {{"group.id", group},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"enable.partition.eof", eof ? "true" : "false"},
          {"auto.offset.reset", "earliest"},
          {"allow.auto.create.topics", "false"},
          {"fetch.wait.max.ms", fetch_wait_ms},
          {"fetch.error.backoff.ms", "20"},
          {"topic.metadata.refresh.interval.ms", "10000"}};
}

}  // namespace

Result<std::unique_ptr<RdKafkaClient>> RdKafkaClient::open(const RdKafkaOptions& options) {
  if (options.bootstrap_servers.empty()) {
    return Status::invalid_argument("bus.kafka_bootstrap_servers: must not be empty (KAFKA_BOOTSTRAP_SERVERS)");
  }
  std::unique_ptr<RdKafkaClient> c(new RdKafkaClient(options));
  auto producer = make_handle(RD_KAFKA_PRODUCER, "producer", options,
                              {{"enable.idempotence", "true"},
                               {"acks", "all"},
                               {"compression.type", "lz4"},
                               {"linger.ms", "5"},
                               {"max.in.flight.requests.per.connection", rdkafka_util::kProducerMaxInFlight},
                               {"message.timeout.ms", "30000"}},
                              true);
  if (!producer) return producer.status();
  c->producer_ = *producer;
  auto reader = make_handle(RD_KAFKA_CONSUMER, "reader", options, consumer_defaults("tickflow-reader", true, "5"),
                            false);
  if (!reader) return reader.status();
  c->reader_ = *reader;
  auto watcher = make_handle(RD_KAFKA_CONSUMER, "watcher", options,
                             consumer_defaults("tickflow-watcher", false, "20"), false);
  if (!watcher) return watcher.status();
  c->watcher_ = *watcher;
  RdKafkaClient* self = c.get();
  c->producer_thread_ = std::thread([self] { self->poll_producer(); });
  c->watcher_thread_ = std::thread([self] { self->poll_watcher(); });
  return c;
}

RdKafkaClient::~RdKafkaClient() {
  stop_.store(true);
  if (producer_thread_.joinable()) producer_thread_.join();
  if (watcher_thread_.joinable()) watcher_thread_.join();
  for (auto& [group, rk] : committers_) {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
  if (watcher_) {
    rd_kafka_consumer_close(watcher_);
    rd_kafka_destroy(watcher_);
  }
  if (reader_) {
    rd_kafka_consumer_close(reader_);
    rd_kafka_destroy(reader_);
  }
  if (producer_) {
    rd_kafka_flush(producer_, 1000);
    rd_kafka_destroy(producer_);
  }
}

void RdKafkaClient::poll_producer() {
  while (!stop_.load()) rd_kafka_poll(producer_, 100);
}

Result<const rd_kafka_metadata_t*> RdKafkaClient::metadata() {
  const rd_kafka_metadata_t* md = nullptr;
  // all_topics=1: never names a topic, so never triggers broker-side auto-creation.
  rd_kafka_resp_err_t e = rd_kafka_metadata(producer_, 1, nullptr, &md, timeout_ms());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("metadata", e);
  return md;
}

Result<std::optional<int32_t>> RdKafkaClient::partition_count(std::string_view topic) {
  auto md = metadata();
  if (!md) return md.status();
  std::optional<int32_t> out;
  for (int i = 0; i < (*md)->topic_cnt; ++i) {
    const auto& t = (*md)->topics[i];
    if (topic == t.topic && t.err == RD_KAFKA_RESP_ERR_NO_ERROR) out = t.partition_cnt;
  }
  rd_kafka_metadata_destroy(*md);
  return out;
}

Result<std::vector<std::pair<std::string, int32_t>>> RdKafkaClient::list_topics() {
  auto md = metadata();
  if (!md) return md.status();
  std::vector<std::pair<std::string, int32_t>> out;
  for (int i = 0; i < (*md)->topic_cnt; ++i) {
    const auto& t = (*md)->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || std::string_view(t.topic).starts_with("__")) continue;
    out.emplace_back(t.topic, t.partition_cnt);
  }
  rd_kafka_metadata_destroy(*md);
  std::sort(out.begin(), out.end());
  return out;
}

Status RdKafkaClient::create_topic(const TopicConfig& config, int replication_factor) {
  char err[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(config.name.c_str(), config.partitions, replication_factor, err, sizeof err);
  if (nt == nullptr) return Status::invalid_argument("kafka create topic " + config.name + ": " + err);
  const std::string retention_ms = config.retention > 0 ? std::to_string(config.retention / kNsPerMs) : "-1";
  if (config.compact) {
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");  // state changelogs
  } else {
    rd_kafka_NewTopic_set_config(nt, "retention.ms", retention_ms.c_str());
  }
  rd_kafka_AdminOptions_t* ao = rd_kafka_AdminOptions_new(producer_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms(), err, sizeof err);
  rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms(), err, sizeof err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(producer_);
  rd_kafka_CreateTopics(producer_, &nt, 1, ao, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms() + 5000);
  Status st;
  if (ev == nullptr) {
    st = Status::unavailable("kafka CreateTopics " + config.name + ": timed out");
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    st = kafka_error("CreateTopics " + config.name, rd_kafka_event_error(ev));
    st = Status(st.code(), st.message() + " (" + rd_kafka_event_error_string(ev) + ")");
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
      if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        st = Status(ErrorCode::kAlreadyExists, "kafka topic " + config.name + " already exists");
      } else if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* es = rd_kafka_topic_result_error_string(res[i]);
        st = kafka_error("CreateTopics " + config.name, e);
        if (es) st = Status(st.code(), st.message() + " (" + es + ")");
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_AdminOptions_destroy(ao);
  rd_kafka_NewTopic_destroy(nt);
  return st;
}

namespace {

// The records of one produce_async() call in flight: `batch` and `slots` stay put until every
// enqueued record had its delivery report (the destructor waits for that).
class RdPendingProduce final : public PendingProduce {
 public:
  RdPendingProduce(rd_kafka_t* producer, size_t n) : producer_(producer), slots_(n) { batch_.offsets.assign(n, -1); }
  ~RdPendingProduce() override {
    std::unique_lock lock(batch_.mu);
    batch_.cv.wait(lock, [&] { return batch_.pending == 0; });
  }
  bool ready() const override {
    std::lock_guard lock(batch_.mu);
    return batch_.pending == 0;
  }
  Status wait(std::vector<int64_t>* offsets) override {
    std::unique_lock lock(batch_.mu);
    batch_.cv.wait(lock, [&] { return batch_.pending == 0; });
    if (enqueue_error_ != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("produce", enqueue_error_);
    if (batch_.first_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      char fatal[256];
      if (rd_kafka_fatal_error(producer_, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::internal(std::string("kafka producer fatal error (restart needed): ") + fatal);
      }
      return kafka_error("produce", batch_.first_error);
    }
    if (offsets) *offsets = batch_.offsets;
    return Status::ok();
  }

  rd_kafka_t* producer_;
  Batch batch_;
  std::vector<Slot> slots_;
  rd_kafka_resp_err_t enqueue_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
};

}  // namespace

Status RdKafkaClient::produce(const std::vector<ProduceRecord>& records, std::vector<int64_t>* offsets) {
  return produce_async(records)->wait(offsets);
}

std::unique_ptr<PendingProduce> RdKafkaClient::produce_async(const std::vector<ProduceRecord>& records) {
  auto pending = std::make_unique<RdPendingProduce>(producer_, records.size());
  Batch& batch = pending->batch_;
  for (size_t i = 0; i < records.size(); ++i) {
    const ProduceRecord& r = records[i];
    pending->slots_[i] = Slot{&batch, i};
    rd_kafka_headers_t* hdrs = nullptr;
    if (!r.headers.empty()) {
      hdrs = rd_kafka_headers_new(r.headers.size());
      for (const auto& [k, v] : r.headers) {
        rd_kafka_header_add(hdrs, k.data(), static_cast<ssize_t>(k.size()), v.data(), static_cast<ssize_t>(v.size()));
      }
    }
    {
      std::lock_guard lock(batch.mu);
      ++batch.pending;
    }
    rd_kafka_resp_err_t enqueue_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (;;) {
      rd_kafka_resp_err_t e =
          hdrs ? rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(r.topic.c_str()), RD_KAFKA_V_PARTITION(r.partition),
                                   RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                                   RD_KAFKA_V_VALUE(r.value.empty() ? nullptr : const_cast<char*>(r.value.data()), r.value.size()),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&pending->slots_[i]),
                                   RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END)
               : rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(r.topic.c_str()), RD_KAFKA_V_PARTITION(r.partition),
                                   RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                                   RD_KAFKA_V_VALUE(r.value.empty() ? nullptr : const_cast<char*>(r.value.data()), r.value.size()),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&pending->slots_[i]),
                                   RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer_, 10);  // the local queue drains as the brokers acknowledge
        continue;
      }
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) enqueue_error = e;
      break;
    }
    if (enqueue_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (hdrs) rd_kafka_headers_destroy(hdrs);  // not owned by librdkafka on failure
      std::lock_guard lock(batch.mu);
      --batch.pending;
      pending->enqueue_error_ = enqueue_error;
      break;
    }
  }
  // Every enqueued record gets exactly one delivery report (success, or failure after retries
  // and at most message.timeout.ms); the handle outlives them all.
  return pending;
}

Result<Watermarks> RdKafkaClient::watermarks(std::string_view topic, int32_t partition) {
  bool cached = false;
  {
    std::lock_guard lock(tail_mu_);
    if (Tail* t = find_tail(topic, partition)) {
      if (t->low >= 0 && std::chrono::steady_clock::now() - t->fresh < kTailTrust) return Watermarks{t->low, t->next};
      cached = true;
    }
  }
  // Unwatched, never asked, or nothing from the watcher for a while: the broker's answer.
  auto w = query_watermarks(topic, partition);
  if (!w || !cached) return w;
  std::lock_guard lock(tail_mu_);
  Tail* t = find_tail(topic, partition);
  t->low = w->low;
  if (w->high <= t->next) t->fresh = std::chrono::steady_clock::now();  // the watcher is not behind
  return *w;
}

Result<Watermarks> RdKafkaClient::query_watermarks(std::string_view topic, int32_t partition) {
  Watermarks w;
  rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(producer_, std::string(topic).c_str(), partition,
                                                           &w.low, &w.high, timeout_ms());
  if (e == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION || e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
    // The handle's leader cache is stale (leadership moved, or the broker said so): a metadata
    // request refreshes it (the query itself does not), then once more.
    auto md = metadata();
    if (md) rd_kafka_metadata_destroy(*md);
    e = rd_kafka_query_watermark_offsets(producer_, std::string(topic).c_str(), partition, &w.low, &w.high,
                                         timeout_ms());
  }
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("watermarks", e);
  return w;
}

Status RdKafkaClient::fetch(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
                            std::vector<Record>& out) {
  if (max_records == 0) return Status::ok();
  if (fetch_cached(topic, partition, from_offset, max_records, out)) return Status::ok();
  auto w = query_watermarks(topic, partition);
  if (!w) return w.status();
  if (from_offset >= w->high) return Status::ok();
  const int64_t start = std::max(from_offset, w->low);
  std::lock_guard lock(reader_mu_);
  if (assigned_topic_ != topic || assigned_partition_ != partition || next_expected_ != start) {
    PartitionList list;
    rd_kafka_topic_partition_list_add(list.p, std::string(topic).c_str(), partition)->offset = start;
    rd_kafka_resp_err_t e = rd_kafka_assign(reader_, list.p);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      assigned_partition_ = -1;
      return kafka_error("assign", e);
    }
    assigned_topic_ = topic;
    assigned_partition_ = partition;
    next_expected_ = start;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(options_.timeout);
  size_t got = 0;
  while (got < max_records && next_expected_ < w->high) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      assigned_partition_ = -1;  // re-assign next time
      return Status::unavailable("kafka read " + std::string(topic) + "/" + std::to_string(partition) + "@" +
                                 std::to_string(next_expected_) + ": timed out");
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(reader_, static_cast<int>(std::min<int64_t>(left.count(), 100)));
    if (m == nullptr) continue;
    struct Destroy {
      rd_kafka_message_t* m;
      ~Destroy() { rd_kafka_message_destroy(m); }
    } destroy{m};
    if (m->rkt == nullptr || m->partition != partition || topic != rd_kafka_topic_name(m->rkt)) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->offset >= w->high) break;  // a gap (e.g. control records) up to the end
      continue;                          // an older end-of-partition event
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      assigned_partition_ = -1;
      return kafka_error("read " + std::string(topic) + "/" + std::to_string(partition), m->err);
    }
    if (m->offset < next_expected_) continue;
    out.push_back(to_record(m, topic));
    next_expected_ = m->offset + 1;
    ++got;
  }
  return Status::ok();
}

Result<rd_kafka_t*> RdKafkaClient::committer(std::string_view group) {
  std::lock_guard lock(committers_mu_);
  auto it = committers_.find(group);
  if (it != committers_.end()) return it->second;
  auto h = make_handle(RD_KAFKA_CONSUMER, "committer", options_, consumer_defaults(std::string(group), false, "100"),
                       false);
  if (!h) return h.status();
  committers_.emplace(std::string(group), *h);
  return *h;
}

Status RdKafkaClient::commit_group_offsets(std::string_view group, const std::vector<GroupOffset>& offsets) {
  if (offsets.empty()) return Status::ok();
  auto rk = committer(group);
  if (!rk) return rk.status();
  PartitionList list;
  for (const GroupOffset& o : offsets) {
    rd_kafka_topic_partition_list_add(list.p, o.topic.c_str(), o.partition)->offset = o.next_offset;
  }
  rd_kafka_resp_err_t e = rd_kafka_commit(*rk, list.p, 0);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("commit offsets of group " + std::string(group), e);
  for (int i = 0; i < list.p->cnt; ++i) {
    if (list.p->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return kafka_error("commit offsets of group " + std::string(group), list.p->elems[i].err);
    }
  }
  return Status::ok();
}

Result<int64_t> RdKafkaClient::group_offset(std::string_view group, std::string_view topic, int32_t partition) {
  auto rk = committer(group);
  if (!rk) return rk.status();
  PartitionList list;
  rd_kafka_topic_partition_list_add(list.p, std::string(topic).c_str(), partition);
  rd_kafka_resp_err_t e = rd_kafka_committed(*rk, list.p, timeout_ms());
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) e = list.p->elems[0].err;
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error("committed offset of group " + std::string(group), e);
  return list.p->elems[0].offset < 0 ? int64_t{-1} : list.p->elems[0].offset;
}

}  // namespace tickflow::bus::kafka
