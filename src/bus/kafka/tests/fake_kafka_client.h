// FakeKafkaClient: an in-memory KafkaClient for KafkaEventBus unit tests (no broker). Topics are
// vectors of records per partition; produce can be made to fail after writing some records (a
// partial batch, as a broker timeout after some acks would leave); on_produce observes each call.
// Thread-safety: every method locks one mutex (hooks are called without it).
#pragma once

#include <functional>
#include <map>
#include <mutex>

#include "bus/kafka/kafka_client.h"
#include "bus/kafka/transactions.h"

namespace tickflow::bus::kafka::testing {

class FakeKafkaClient final : public KafkaClient {
 public:
  // Called at the start of every produce() with the records about to be written.
  std::function<void(const std::vector<ProduceRecord>&)> on_produce;

  void add_topic(const std::string& name, int32_t partitions) {
    std::lock_guard lock(mu_);
    topics_[name].resize(partitions);
  }
  // The next produce() writes `keep` records, then fails with `status`.
  void fail_next_produce(Status status, size_t keep) {
    std::lock_guard lock(mu_);
    fail_ = std::move(status);
    keep_ = keep;
  }
  size_t count(const std::string& topic) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& p : topics_[topic]) n += p.size();
    return n;
  }
  std::vector<TopicConfig> created;
  std::map<std::string, std::map<std::pair<std::string, int32_t>, int64_t>> group_offsets;

  Result<std::optional<int32_t>> partition_count(std::string_view topic) override {
    std::lock_guard lock(mu_);
    auto it = topics_.find(std::string(topic));
    if (it == topics_.end()) return std::optional<int32_t>();
    return std::optional<int32_t>(static_cast<int32_t>(it->second.size()));
  }
  Result<std::vector<std::pair<std::string, int32_t>>> list_topics() override {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, int32_t>> out;
    for (const auto& [name, parts] : topics_) out.emplace_back(name, static_cast<int32_t>(parts.size()));
    return out;
  }
  Status create_topic(const TopicConfig& config, int) override {
    std::lock_guard lock(mu_);
    if (topics_.count(config.name)) return Status(ErrorCode::kAlreadyExists, "exists");
    topics_[config.name].resize(config.partitions);
    created.push_back(config);
    return Status::ok();
  }
  Status produce(const std::vector<ProduceRecord>& records, std::vector<int64_t>* offsets) override {
    if (on_produce) on_produce(records);
    std::lock_guard lock(mu_);
    if (offsets) offsets->clear();
    for (size_t i = 0; i < records.size(); ++i) {
      if (!fail_.is_ok() && i == keep_) {
        Status st = std::move(fail_);
        fail_ = Status::ok();
        return st;
      }
      const ProduceRecord& r = records[i];
      auto& part = topics_.at(r.topic).at(static_cast<size_t>(r.partition));
      Record rec{r.topic, r.partition, static_cast<int64_t>(part.size()), r.key, r.value, 0};
      part.push_back(rec);
      if (offsets) offsets->push_back(rec.offset);
    }
    return Status::ok();
  }
  Status fetch(std::string_view topic, int32_t partition, int64_t from, size_t max, std::vector<Record>& out) override {
    std::lock_guard lock(mu_);
    const auto& part = topics_.at(std::string(topic)).at(static_cast<size_t>(partition));
    for (int64_t o = std::max<int64_t>(from, 0); o < static_cast<int64_t>(part.size()) && max > 0; ++o, --max) {
      out.push_back(part[static_cast<size_t>(o)]);
    }
    return Status::ok();
  }
  Result<Watermarks> watermarks(std::string_view topic, int32_t partition) override {
    std::lock_guard lock(mu_);
    auto it = topics_.find(std::string(topic));
    if (it == topics_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.size())
      return Status::not_found("unknown partition");
    return Watermarks{0, static_cast<int64_t>(topics_.at(std::string(topic)).at(static_cast<size_t>(partition)).size())};
  }
  Status commit_group_offsets(std::string_view group, const std::vector<GroupOffset>& offsets) override {
    std::lock_guard lock(mu_);
    for (const auto& o : offsets) group_offsets[std::string(group)][{o.topic, o.partition}] = o.next_offset;
    return Status::ok();
  }
  Result<int64_t> group_offset(std::string_view group, std::string_view topic, int32_t partition) override {
    std::lock_guard lock(mu_);
    auto& g = group_offsets[std::string(group)];
    auto it = g.find({std::string(topic), partition});
    return it == g.end() ? int64_t{-1} : it->second;
  }
  void set_data_listener(std::function<void(std::string_view)>) override {}
  Status watch(std::string_view) override { return Status::ok(); }
  // Transactions: what transactional_producer returns (unset: the seam's default, none).
  std::function<Result<std::unique_ptr<TransactionalProducer>>(const std::string&)> txn_factory;
  Result<std::unique_ptr<TransactionalProducer>> transactional_producer(const std::string& id) override {
    if (txn_factory) return txn_factory(id);
    return KafkaClient::transactional_producer(id);
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::vector<Record>>> topics_;
  Status fail_;
  size_t keep_ = 0;
};

}  // namespace tickflow::bus::kafka::testing
