// See transactions.h.
#include "bus/kafka/transactions.h"

#include <spdlog/spdlog.h>

namespace tickflow::bus::kafka {
namespace {

class DoneProduce final : public PendingProduce {
 public:
  DoneProduce(Status status, std::vector<int64_t> offsets) : status_(std::move(status)), offsets_(std::move(offsets)) {}
  bool ready() const override { return true; }
  Status wait(std::vector<int64_t>* offsets) override {
    if (status_ && offsets) *offsets = offsets_;
    return status_;
  }

 private:
  Status status_;
  std::vector<int64_t> offsets_;
};

}  // namespace

std::unique_ptr<PendingProduce> KafkaClient::produce_async(const std::vector<ProduceRecord>& records) {
  std::vector<int64_t> offsets;
  Status st = produce(records, &offsets);
  return std::make_unique<DoneProduce>(std::move(st), std::move(offsets));
}

Result<std::unique_ptr<TransactionalProducer>> KafkaClient::transactional_producer(
    const std::string& transactional_id) {
  return Status::invalid_argument("kafka: this client has no transactions (transactional.id " + transactional_id +
                                  ")");
}

TxnStats TransactionalCommitter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

TxnStatus TransactionalCommitter::with_retries(const std::function<TxnStatus()>& call) {
  TxnStatus s;
  for (int attempt = 0; attempt < kCallAttempts; ++attempt) {
    s = call();
    if (s.failure != TxnFailure::kRetriable) return s;
    ++stats_.retried_calls;
  }
  return s;
}

Status TransactionalCommitter::abort(const TxnStatus& cause, std::string_view step) {
  ++stats_.aborts;
  TxnStatus a = with_retries([&] { return producer_->abort_transaction(); });
  // An abort that fails leaves the producer unusable: start over with a new one.
  if (!a.ok()) return restart(a, "abort_transaction");
  spdlog::warn("kafka: transaction aborted at {} ({}): retrying the batch from the last committed positions",
               step, cause.status.message());
  return Status::unavailable("kafka transaction aborted at " + std::string(step) + ": " + cause.status.message() +
                             " (nothing of it is visible to read_committed consumers; the batch is retried from "
                             "the last committed positions)");
}

Status TransactionalCommitter::restart(const TxnStatus& cause, std::string_view step) {
  producer_.reset();
  spdlog::error("kafka: transactional producer failed at {} ({}): a new producer takes over (init_transactions "
                "fences the old one)",
                step, cause.status.message());
  return Status::unavailable("kafka transactional producer failed at " + std::string(step) + ": " +
                             cause.status.message() + " (restarted; the batch is retried)");
}

Status TransactionalCommitter::commit(const std::vector<ProduceRecord>& records,
                                      const std::vector<GroupOffsets>& offsets, std::vector<int64_t>* record_offsets) {
  std::lock_guard lock(mu_);
  if (!producer_) {
    auto created = factory_();
    if (!created) return created.status();
    producer_ = std::move(created).value();
    ++stats_.producer_starts;
    TxnStatus s = with_retries([&] { return producer_->init_transactions(); });
    if (!s.ok()) {
      producer_.reset();
      // Not fatal for the stage: a broker that is down now may be back at the next attempt.
      return Status::unavailable("kafka init_transactions: " + s.status.message());
    }
  }
  TxnStatus s = with_retries([&] { return producer_->begin_transaction(); });
  if (!s.ok()) {
    // No transaction is open when begin fails: only a fatal error needs a new producer.
    if (s.failure == TxnFailure::kFatal) return restart(s, "begin_transaction");
    return Status::unavailable("kafka begin_transaction: " + s.status.message());
  }
  struct Step {
    const char* name;
    std::function<TxnStatus()> call;
  };
  std::vector<Step> steps;
  if (!records.empty()) steps.push_back({"produce", [&] { return producer_->produce(records, record_offsets); }});
  for (const GroupOffsets& g : offsets) {
    if (g.offsets.empty()) continue;
    steps.push_back({"send_offsets_to_transaction",
                     [&] { return producer_->send_offsets_to_transaction(g.group, g.offsets); }});
  }
  steps.push_back({"commit_transaction", [&] { return producer_->commit_transaction(); }});
  for (const Step& step : steps) {
    s = with_retries(step.call);
    if (s.ok()) continue;
    if (s.failure == TxnFailure::kFatal) return restart(s, step.name);
    return abort(s, step.name);  // abortable, or retriable too often
  }
  ++stats_.commits;
  return Status::ok();
}

}  // namespace tickflow::bus::kafka
