// FakeTxnProducer: an in-memory TransactionalProducer for call-sequence tests (no broker). Every
// call is appended to a shared log ("begin_transaction", "produce 2",
// "send_offsets g in/1=10,in/2=5", ...); failures are injected per call name, in order; the
// records of a transaction become visible in the FakeKafkaClient only when it commits (an abort
// drops them), as a read_committed consumer would see them. A fatal failure fences the producer:
// every later call fails fatally, as on a broker after a newer producer of the same
// transactional.id (or an exhausted epoch).
// Thread-safety: the log has a mutex; a producer is used by one thread at a time.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/kafka/tests/fake_kafka_client.h"
#include "bus/kafka/transactions.h"

namespace tickflow::bus::kafka::testing {

struct TxnLog {
  std::mutex mu;
  std::vector<std::string> calls;
  std::map<std::string, std::deque<TxnFailure>> failures;  // per call name, consumed in order
  int created = 0;

  void fail(const std::string& call, TxnFailure f, int times = 1) {
    std::lock_guard lock(mu);
    for (int i = 0; i < times; ++i) failures[call].push_back(f);
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mu);
    return std::exchange(calls, {});
  }
  TxnStatus record(const std::string& call, const std::string& detail = "") {
    std::lock_guard lock(mu);
    calls.push_back(detail.empty() ? call : call + " " + detail);
    auto& q = failures[call];
    if (q.empty()) return TxnStatus::success();
    TxnStatus s;
    s.failure = q.front();
    q.pop_front();
    s.status = Status::unavailable("injected failure of " + call);
    return s;
  }
};

class FakeTxnProducer final : public TransactionalProducer {
 public:
  FakeTxnProducer(FakeKafkaClient& client, std::shared_ptr<TxnLog> log, std::string id)
      : client_(client), log_(std::move(log)), id_(std::move(id)) {}
  ~FakeTxnProducer() override { log_->record("destroyed", id_); }

  TxnStatus init_transactions() override { return call("init_transactions"); }
  TxnStatus begin_transaction() override {
    pending_.clear();
    out_ = nullptr;
    return call("begin_transaction");
  }
  TxnStatus produce(const std::vector<ProduceRecord>& records, std::vector<int64_t>* offsets) override {
    TxnStatus s = call("produce", std::to_string(records.size()));
    if (s.ok()) {
      pending_.insert(pending_.end(), records.begin(), records.end());
      out_ = offsets;
    }
    return s;
  }
  TxnStatus send_offsets_to_transaction(std::string_view group, const std::vector<GroupOffset>& offsets) override {
    std::string d(group);
    for (size_t i = 0; i < offsets.size(); ++i) {
      d += (i ? "," : " ") + offsets[i].topic + "/" + std::to_string(offsets[i].partition) + "=" +
           std::to_string(offsets[i].next_offset);
    }
    return call("send_offsets", d);
  }
  TxnStatus commit_transaction() override {
    TxnStatus s = call("commit_transaction");
    if (s.ok() && !pending_.empty()) {
      Status st = client_.produce(pending_, out_);  // now visible to read_committed readers
      if (!st) return {st, TxnFailure::kAbortable};
    }
    if (s.ok()) pending_.clear();
    return s;
  }
  TxnStatus abort_transaction() override {
    pending_.clear();  // never visible
    return call("abort_transaction");
  }

 private:
  TxnStatus call(const std::string& name, const std::string& detail = "") {
    if (fenced_) return {Status::unavailable("fenced"), TxnFailure::kFatal};
    TxnStatus s = log_->record(name, detail);
    if (s.failure == TxnFailure::kFatal) fenced_ = true;
    return s;
  }

  FakeKafkaClient& client_;
  std::shared_ptr<TxnLog> log_;
  std::string id_;
  std::vector<ProduceRecord> pending_;
  std::vector<int64_t>* out_ = nullptr;
  bool fenced_ = false;
};

// Makes `client` hand out FakeTxnProducers logging into `log` ("create <id>" per producer).
inline void enable_fake_transactions(FakeKafkaClient& client, std::shared_ptr<TxnLog> log) {
  client.txn_factory = [&client, log](const std::string& id) -> Result<std::unique_ptr<TransactionalProducer>> {
    {
      std::lock_guard lock(log->mu);
      ++log->created;
      log->calls.push_back("create " + id);
    }
    return std::unique_ptr<TransactionalProducer>(new FakeTxnProducer(client, log, id));
  };
}

}  // namespace tickflow::bus::kafka::testing
