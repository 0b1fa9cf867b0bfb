// KafkaEventBus's optional Kafka transactions (KafkaBusOptions::exactly_once, transactions.h).
#include <algorithm>
#include <cstdio>
#include <random>

#include "bus/kafka/kafka_bus.h"

namespace tickflow::bus::kafka {
namespace {

constexpr std::string_view kBusNamespace = "bus.kafka";  // sidecar state of the bus itself
constexpr std::string_view kTransactionalIdKey = "transactional.id";

}  // namespace

Status KafkaEventBus::produce_for_commit(const std::vector<ProduceRecord>& records, const SidecarBatch& batch,
                                         std::vector<int64_t>* offsets) {
  if (!options_.exactly_once || batch.offsets.empty() || records.empty()) return client_->produce(records, offsets);
  TransactionalCommitter* committer = nullptr;
  {
    std::lock_guard lock(txn_mu_);
    if (!txn_) {
      std::string id = options_.transactional_id;
      if (id.empty()) {
        // Stable per data dir: generated once, kept in the sidecar.
        auto stored = sidecar_->get_state(kBusNamespace, kTransactionalIdKey);
        if (!stored) return stored.status();
        if (*stored) {
          id = **stored;
        } else {
          std::random_device rd;
          char buf[32];
          std::snprintf(buf, sizeof buf, "tickflow-%08x%08x", rd(), rd());
          id = buf;
          SidecarBatch keep;
          keep.state.push_back({std::string(kBusNamespace), std::string(kTransactionalIdKey), id});
          TICKFLOW_RETURN_IF_ERROR(sidecar_->apply(keep));
        }
      }
      KafkaClient* client = client_.get();
      txn_ = std::make_unique<TransactionalCommitter>([client, id] { return client->transactional_producer(id); });
    }
    committer = txn_.get();
  }
  std::vector<GroupOffsets> groups;
  for (const auto& o : batch.offsets) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupOffsets& g) { return g.group == o.group; });
    if (it == groups.end()) it = groups.insert(groups.end(), GroupOffsets{o.group, {}});
    it->offsets.push_back({o.topic, o.partition, o.next_offset});
  }
  return committer->commit(records, groups, offsets);
}

TxnStats KafkaEventBus::transaction_stats() const {
  std::lock_guard lock(txn_mu_);
  return txn_ ? txn_->stats() : TxnStats{};
}

}  // namespace tickflow::bus::kafka
