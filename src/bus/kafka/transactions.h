// Kafka transactions for the consume-transform-produce loop (`processing.guarantee =
// "exactly_once_v2"`): the transactional side of the KafkaClient seam (TransactionalProducer,
// created by KafkaClient::transactional_producer) and the protocol that drives it
// (TransactionalCommitter).
//
// One commit of a stage's batch (records produced + the consumed positions of one or more
// consumer groups) is one Kafka transaction:
//   [init_transactions, once per producer] begin_transaction → produce the records →
//   send_offsets_to_transaction (per group, with the group's metadata) → commit_transaction.
// Failures, as librdkafka classifies them (rd_kafka_error_t):
//   - retriable (timeouts, coordinator moving): the same call again, up to kCallAttempts times;
//   - abortable (a produce or offset commit that failed inside the transaction): abort_transaction
//     and return kUnavailable. Nothing of the transaction is visible to read_committed consumers,
//     the caller's positions stay at the last commit (the sidecar is not written), and the
//     stage's retry of the same batch — built from those positions, deterministic — is the
//     rewind;
//   - fatal (fenced by a newer producer with the same transactional.id, epoch exhausted, ...):
//     the producer is dropped and kUnavailable returned; the next commit creates a new one and
//     calls init_transactions, which fences every older instance (the "restart").
// Without a transaction (records without consumed positions: the collector; positions without
// records: the loaders) the bus commits as in the default at-least-once mode.
//
// Thread-safety: TransactionalCommitter is thread-safe (one transaction at a time: its mutex is
// held for the whole protocol, as a transactional producer allows only one open transaction).
// A TransactionalProducer is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/kafka/kafka_client.h"
#include "core/result.h"

namespace tickflow::bus::kafka {

// How a failed transactional call must be handled (rd_kafka_error_is_retriable,
// rd_kafka_error_txn_requires_abort, rd_kafka_error_is_fatal).
enum class TxnFailure { kNone, kRetriable, kAbortable, kFatal };

struct TxnStatus {
  Status status;
  TxnFailure failure = TxnFailure::kNone;
  bool ok() const { return failure == TxnFailure::kNone; }
  static TxnStatus success() { return {}; }
};

// The seam: one transactional producer (transactional.id fixed at creation).
class TransactionalProducer {
 public:
  virtual ~TransactionalProducer() = default;
  virtual TxnStatus init_transactions() = 0;
  virtual TxnStatus begin_transaction() = 0;
  // Enqueues every record (explicit partitions) into the open transaction; delivery is
  // confirmed by commit_transaction (which flushes). When `offsets` is set, (*offsets)[i] is
  // record i's offset once commit_transaction succeeded (the vector must outlive it).
  virtual TxnStatus produce(const std::vector<ProduceRecord>& records, std::vector<int64_t>* offsets) = 0;
  // The consumed positions of `group`, committed atomically with the transaction's records.
  virtual TxnStatus send_offsets_to_transaction(std::string_view group, const std::vector<GroupOffset>& offsets) = 0;
  virtual TxnStatus commit_transaction() = 0;
  virtual TxnStatus abort_transaction() = 0;
};

struct GroupOffsets {
  std::string group;
  std::vector<GroupOffset> offsets;
};

struct TxnStats {
  uint64_t commits = 0;          // transactions committed
  uint64_t aborts = 0;           // transactions aborted (abortable errors)
  uint64_t producer_starts = 0;  // producers created + init_transactions (1 + fatal restarts)
  uint64_t retried_calls = 0;    // retriable failures retried
};

class TransactionalCommitter {
 public:
  using Factory = std::function<Result<std::unique_ptr<TransactionalProducer>>()>;
  static constexpr int kCallAttempts = 5;

  // `factory` creates a producer with this committer's transactional.id (called again after a
  // fatal error).
  explicit TransactionalCommitter(Factory factory) : factory_(std::move(factory)) {}

  // One transaction: records + every group's positions, or nothing. Errors: kUnavailable
  // (retry the batch from the last committed positions: aborted, or the producer restarts),
  // kInvalidArgument (the producer cannot be created: configuration; or init_transactions
  // failed for good).
  // On success (*record_offsets)[i] is record i's offset (when set).
  Status commit(const std::vector<ProduceRecord>& records, const std::vector<GroupOffsets>& offsets,
                std::vector<int64_t>* record_offsets = nullptr);
  TxnStats stats() const;

 private:
  // Runs `call` up to kCallAttempts times while it fails retriably.
  TxnStatus with_retries(const std::function<TxnStatus()>& call);
  Status abort(const TxnStatus& cause, std::string_view step);
  Status restart(const TxnStatus& cause, std::string_view step);

  Factory factory_;
  mutable std::mutex mu_;
  std::unique_ptr<TransactionalProducer> producer_;  // null until the first commit / after a fatal error
  TxnStats stats_;
};

}  // namespace tickflow::bus::kafka
