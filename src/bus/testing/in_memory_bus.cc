// InMemoryBus (in_memory_bus.h): the in-memory EventBus shared by the unit tests of the
// exchange, processing and serving components.
#include "bus/testing/in_memory_bus.h"

#include <algorithm>

#include "core/topics.h"

namespace tickflow::bus::testing {

class InMemoryBus::Txn final : public Transaction {
 public:
  explicit Txn(InMemoryBus& bus) : bus_(bus) {}

  void append(std::string_view topic, std::string_view key, std::string_view value) override {
    appends_.push_back({std::string(topic), std::string(key), std::string(value)});
  }
  void commit_offset(std::string_view group, std::string_view topic, int32_t partition,
                     int64_t next_offset) override {
    offsets_.push_back({std::string(group), std::string(topic), partition, next_offset});
  }
  void put_state(std::string_view ns, std::string_view key, std::string_view value) override {
    states_.push_back({std::string(ns), std::string(key), std::string(value)});
  }
  void delete_state(std::string_view ns, std::string_view key) override {
    states_.push_back({std::string(ns), std::string(key), std::nullopt});
  }
  size_t appended() const override { return appends_.size(); }
  Status commit() override { return bus_.apply(appends_, offsets_, states_, /*injectable=*/true); }

 private:
  InMemoryBus& bus_;
  std::vector<Append> appends_;
  std::vector<Offset> offsets_;
  std::vector<StateOp> states_;
};

InMemoryBus::InMemoryBus(InitialTopics topics) {
  if (topics == InitialTopics::kDefault) create_default_topics();
}

void InMemoryBus::create_default_topics() {
  for (const auto& spec : topics::kDefaultTopics) {
    (void)create_topic(TopicConfig{std::string(spec.name), spec.partitions, spec.retention});
  }
}

void InMemoryBus::fail_commits(Status status, int times) {
  if (times <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  faults_.emplace_back(std::move(status), times);
}

void InMemoryBus::set_state(std::string_view ns, std::string_view key, std::string value) {
  std::lock_guard<std::mutex> lock(mu_);
  state_[{std::string(ns), std::string(key)}] = std::move(value);
}

std::vector<Record> InMemoryBus::records(std::string_view topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Record> out;
  auto it = topics_.find(topic);
  if (it == topics_.end()) return out;
  out.reserve(it->second.order.size());
  for (const auto& [p, o] : it->second.order) {
    out.push_back(it->second.partitions[static_cast<size_t>(p)][static_cast<size_t>(o)]);
  }
  return out;
}

size_t InMemoryBus::count(std::string_view topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : it->second.order.size();
}

int InMemoryBus::commits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commits_;
}

Status InMemoryBus::create_topic(const TopicConfig& config) {
  if (config.partitions <= 0) return Status::invalid_argument("topic " + config.name + ": partitions must be > 0");
  std::lock_guard<std::mutex> lock(mu_);
  if (topics_.count(config.name)) return Status::ok();
  auto& t = topics_[config.name];
  t.config = config;
  t.partitions.resize(static_cast<size_t>(config.partitions));
  return Status::ok();
}

Result<TopicConfig> InMemoryBus::topic(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return Status::not_found("no topic " + std::string(name));
  return it->second.config;
}

std::vector<TopicConfig> InMemoryBus::topics() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TopicConfig> out;
  for (const auto& [_, t] : topics_) out.push_back(t.config);
  return out;
}

Status InMemoryBus::publish(std::string_view topic, std::string_view key, std::string_view value) {
  return apply({{std::string(topic), std::string(key), std::string(value)}}, {}, {}, /*injectable=*/false);
}

std::unique_ptr<Transaction> InMemoryBus::begin() { return std::make_unique<Txn>(*this); }

Status InMemoryBus::read(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
                         std::vector<Record>& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto* part = find(topic, partition);
  if (!part) return Status::not_found("no partition " + std::to_string(partition) + " of " + std::string(topic));
  for (int64_t o = std::max<int64_t>(0, from_offset); o < static_cast<int64_t>(part->size()) && max_records > 0;
       ++o, --max_records) {
    out.push_back((*part)[static_cast<size_t>(o)]);
  }
  return Status::ok();
}

Result<Record> InMemoryBus::read_one(std::string_view topic, int32_t partition, int64_t offset) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto* part = find(topic, partition);
  if (!part || offset < 0 || offset >= static_cast<int64_t>(part->size())) return Status::not_found("no record");
  return (*part)[static_cast<size_t>(offset)];
}

Result<int64_t> InMemoryBus::end_offset(std::string_view topic, int32_t partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto* part = find(topic, partition);
  if (!part) return Status::not_found("no partition " + std::to_string(partition) + " of " + std::string(topic));
  return static_cast<int64_t>(part->size());
}

Result<int64_t> InMemoryBus::begin_offset(std::string_view topic, int32_t partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!find(topic, partition)) {
    return Status::not_found("no partition " + std::to_string(partition) + " of " + std::string(topic));
  }
  return int64_t{0};
}

Result<int64_t> InMemoryBus::committed_offset(std::string_view group, std::string_view topic,
                                              int32_t partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = offsets_.find({std::string(group), std::string(topic), partition});
  return it == offsets_.end() ? int64_t{0} : it->second;
}

Result<std::optional<std::string>> InMemoryBus::get_state(std::string_view ns, std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = state_.find({std::string(ns), std::string(key)});
  if (it == state_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status InMemoryBus::scan_state(std::string_view ns,
                               const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::vector<std::pair<std::string, std::string>> copy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : state_) {
      if (k.first == ns) copy.emplace_back(k.second, v);
    }
  }
  for (const auto& [k, v] : copy) fn(k, v);  // without the lock: fn may call the bus
  return Status::ok();
}

uint64_t InMemoryBus::data_version(std::string_view topic) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : it->second.version;
}

uint64_t InMemoryBus::wait_for_data(std::string_view topic, uint64_t seen, DurationNs timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t generation = wake_generation_;
  auto version = [&] {
    auto it = topics_.find(topic);
    return it == topics_.end() ? uint64_t{0} : it->second.version;
  };
  cv_.wait_for(lock, std::chrono::nanoseconds(std::max<DurationNs>(timeout, 0)),
               [&] { return version() != seen || wake_generation_ != generation; });
  return version();
}

void InMemoryBus::wake_all() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++wake_generation_;
  }
  cv_.notify_all();
}

Result<int64_t> InMemoryBus::enforce_retention(TimestampNs) { return int64_t{0}; }

Status InMemoryBus::apply(const std::vector<Append>& appends, const std::vector<Offset>& offsets,
                          const std::vector<StateOp>& states, bool injectable) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (injectable && !faults_.empty()) {
      Status s = faults_.front().first;
      if (--faults_.front().second == 0) faults_.pop_front();
      return s;
    }
    for (const auto& a : appends) {
      if (!topics_.count(a.topic)) return Status::not_found("no topic " + a.topic);
    }
    std::vector<TopicData*> touched;
    for (const auto& a : appends) {
      auto& t = topics_.find(a.topic)->second;
      const int32_t p = topics::partition_for(a.key, t.config.partitions);
      auto& part = t.partitions[static_cast<size_t>(p)];
      const auto offset = static_cast<int64_t>(part.size());
      part.push_back(Record{a.topic, p, offset, a.key, a.value, 0});
      t.order.emplace_back(p, offset);
      if (std::find(touched.begin(), touched.end(), &t) == touched.end()) touched.push_back(&t);
    }
    for (TopicData* t : touched) ++t->version;  // once per commit that appended to the topic
    for (const auto& o : offsets) offsets_[{o.group, o.topic, o.partition}] = o.next;
    for (const auto& s : states) {
      if (s.value) {
        state_[{s.ns, s.key}] = *s.value;
      } else {
        state_.erase({s.ns, s.key});
      }
    }
    ++commits_;
  }
  cv_.notify_all();
  return Status::ok();
}

const std::vector<Record>* InMemoryBus::find(std::string_view topic, int32_t partition) const {
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 || partition >= it->second.config.partitions) return nullptr;
  return &it->second.partitions[static_cast<size_t>(partition)];
}

}  // namespace tickflow::bus::testing
