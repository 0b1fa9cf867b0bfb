// TransactionalProducer on librdkafka (transactions.h): RdKafkaClient::transactional_producer.
// Its own producer handle (transactional.id, idempotence, acks=all; tickflow's defaults, then
// the configured properties), delivery reports served by the calls themselves (rd_kafka_poll
// while enqueueing, the flush inside commit_transaction). The consumer group metadata sent with
// the offsets is rd_kafka_consumer_group_metadata_new(group): the bus consumes without group
// membership (static partition split), so fencing of zombies is by transactional.id (one per
// processor data dir, see KafkaBusOptions::transactional_id).
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <deque>

#include "bus/kafka/rdkafka_client.h"
#include "bus/kafka/rdkafka_util.h"
#include "bus/kafka/transactions.h"

namespace tickflow::bus::kafka {
namespace {

TxnStatus txn_status(std::string_view what, rd_kafka_error_t* e) {
  if (e == nullptr) return TxnStatus::success();
  TxnStatus s;
  s.status = Status::unavailable("kafka " + std::string(what) + ": " + rd_kafka_error_name(e) + ": " +
                                 rd_kafka_error_string(e));
  if (rd_kafka_error_is_fatal(e)) {
    s.failure = TxnFailure::kFatal;
  } else if (rd_kafka_error_txn_requires_abort(e)) {
    s.failure = TxnFailure::kAbortable;
  } else if (rd_kafka_error_is_retriable(e)) {
    s.failure = TxnFailure::kRetriable;
  } else {
    s.failure = TxnFailure::kAbortable;  // unknown: the safe way out of an open transaction
  }
  rd_kafka_error_destroy(e);
  return s;
}

void txn_log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  if (level <= 3) {
    spdlog::error("kafka {} {}: {}", rd_kafka_name(rk), fac, buf);
  } else if (level <= 4) {
    spdlog::warn("kafka {} {}: {}", rd_kafka_name(rk), fac, buf);
  } else {
    spdlog::debug("kafka {} {}: {}", rd_kafka_name(rk), fac, buf);
  }
}

// Where a record's delivery report writes its offset (the message's opaque).
struct OffsetSlot {
  std::vector<int64_t>* offsets;
  size_t index;
};

void txn_delivery_cb(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* slot = static_cast<OffsetSlot*>(m->_private);
  if (slot != nullptr && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) (*slot->offsets)[slot->index] = m->offset;
}

class RdKafkaTxnProducer final : public TransactionalProducer {
 public:
  RdKafkaTxnProducer(rd_kafka_t* rk, int timeout_ms) : rk_(rk), timeout_ms_(timeout_ms) {}
  ~RdKafkaTxnProducer() override {
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    drain();
    rd_kafka_destroy(rk_);
  }

  TxnStatus init_transactions() override {
    return txn_status("init_transactions", rd_kafka_init_transactions(rk_, timeout_ms_));
  }
  TxnStatus begin_transaction() override {
    drain();  // no delivery report of an earlier transaction may still point into slots_
    slots_.clear();
    return txn_status("begin_transaction", rd_kafka_begin_transaction(rk_));
  }
  TxnStatus produce(const std::vector<ProduceRecord>& records, std::vector<int64_t>* offsets) override {
    if (offsets) offsets->assign(records.size(), -1);
    for (size_t i = 0; i < records.size(); ++i) {
      const ProduceRecord& r = records[i];
      OffsetSlot* slot = nullptr;
      if (offsets) slot = &slots_.emplace_back(OffsetSlot{offsets, i});
      rd_kafka_headers_t* hdrs = nullptr;
      if (!r.headers.empty()) {
        hdrs = rd_kafka_headers_new(r.headers.size());
        for (const auto& [k, v] : r.headers) {
          rd_kafka_header_add(hdrs, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                              static_cast<ssize_t>(v.size()));
        }
      }
      // An empty value is a null value (a tombstone), as in RdKafkaClient::produce.
      void* value = r.value.empty() ? nullptr : const_cast<char*>(r.value.data());
      for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(r.topic.c_str()), RD_KAFKA_V_PARTITION(r.partition),
                              RD_KAFKA_V_KEY(r.key.data(), r.key.size()), RD_KAFKA_V_VALUE(value, r.value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(slot),
                              RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(rk_, 10);
          continue;
        }
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (hdrs) rd_kafka_headers_destroy(hdrs);
        // A message that cannot be enqueued (fenced, fatal, or a topic error this handle
        // keeps, such as an authorization failure) fails the transaction and the producer: a
        // new one starts from fresh metadata.
        TxnStatus s;
        s.status = Status::unavailable(std::string("kafka produce in transaction: ") + rd_kafka_err2str(e));
        s.failure = TxnFailure::kFatal;
        return s;
      }
      rd_kafka_poll(rk_, 0);
    }
    return TxnStatus::success();
  }
  TxnStatus send_offsets_to_transaction(std::string_view group, const std::vector<GroupOffset>& offsets) override {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
    for (const GroupOffset& o : offsets) {
      rd_kafka_topic_partition_list_add(list, o.topic.c_str(), o.partition)->offset = o.next_offset;
    }
    rd_kafka_consumer_group_metadata_t* md = rd_kafka_consumer_group_metadata_new(std::string(group).c_str());
    TxnStatus s = txn_status("send_offsets_to_transaction",
                             rd_kafka_send_offsets_to_transaction(rk_, list, md, timeout_ms_));
    rd_kafka_consumer_group_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(list);
    return s;
  }
  TxnStatus commit_transaction() override {
    TxnStatus s = txn_status("commit_transaction", rd_kafka_commit_transaction(rk_, timeout_ms_));
    // The commit flushed every message; serve the delivery reports still queued (the offsets).
    if (s.ok()) drain();
    return s;
  }
  TxnStatus abort_transaction() override {
    TxnStatus s = txn_status("abort_transaction", rd_kafka_abort_transaction(rk_, timeout_ms_));
    drain();  // the purged messages' reports, while the caller's offsets vector still exists
    return s;
  }

 private:
  // Serves queued delivery reports until none is outstanding (bounded: 100 × 10 ms).
  void drain() {
    for (int i = 0; i < 100; ++i) {
      rd_kafka_poll(rk_, 0);
      if (rd_kafka_outq_len(rk_) == 0) break;
      rd_kafka_poll(rk_, 10);
    }
    rd_kafka_poll(rk_, 0);
  }

  rd_kafka_t* rk_;
  int timeout_ms_;
  std::deque<OffsetSlot> slots_;  // the open transaction's (stable addresses)
};

}  // namespace

Result<std::unique_ptr<TransactionalProducer>> RdKafkaClient::transactional_producer(
    const std::string& transactional_id) {
  if (transactional_id.empty()) return Status::invalid_argument("kafka: transactional.id must not be empty");
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::vector<std::pair<std::string, std::string>> props = {
      {"bootstrap.servers", options_.bootstrap_servers},
      {"client.id", "tickflow-txn-producer"},
      {"transactional.id", transactional_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.type", "lz4"},
      {"linger.ms", "1"},
      {"max.in.flight.requests.per.connection", rdkafka_util::kProducerMaxInFlight},
      {"message.timeout.ms", "30000"},
      {"transaction.timeout.ms", "60000"}};
  for (const auto& [k, v] : options_.properties) props.emplace_back(k, v);
  for (const auto& [k, v] : props) {
    if (k == "transactional.id" && v != transactional_id) continue;  // ours wins
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::invalid_argument("kafka transactional producer: " + k + ": " + err);
    }
  }
  rd_kafka_conf_set_log_cb(conf, txn_log_cb);
  rd_kafka_conf_set_dr_msg_cb(conf, txn_delivery_cb);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::invalid_argument(std::string("kafka: cannot create the transactional producer: ") + err);
  }
  return std::unique_ptr<TransactionalProducer>(new RdKafkaTxnProducer(rk, timeout_ms()));
}

}  // namespace tickflow::bus::kafka
