// See kafka_bus.h and src/bus/README.md ("kafka/").
#include "bus/kafka/kafka_bus.h"
#include "bus/kafka/kafka_bus_internal.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "bus/kafka/rdkafka_client.h"
#include "bus/kafka/rdkafka_group.h"
#include "core/topics.h"
#include "observability/metrics.h"
#include "rocks/encoding.h"

namespace tickflow::bus::kafka {

using internal::KafkaProbe;
using internal::since;

namespace {

// Reads a protobuf varint at data[pos]; false if truncated.
bool read_varint(std::string_view data, size_t& pos, uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64 && pos < data.size(); shift += 7) {
    const auto b = static_cast<unsigned char>(data[pos++]);
    out |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80u) == 0) return true;
  }
  return false;
}

// Headers from the front of a serialized tickflow.v1.Envelope (schema_version = 1, event_id = 2,
// serialized first in field order), without decoding the body. Nothing for a non-envelope value.
std::vector<std::pair<std::string, std::string>> envelope_headers(std::string_view v) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  uint64_t schema = 0;
  std::string_view event_id;
  while (pos < v.size()) {
    uint64_t tag = 0;
    if (!read_varint(v, pos, tag)) return {};
    const uint64_t field = tag >> 3, wire = tag & 7;
    if (field == 1 && wire == 0) {
      if (!read_varint(v, pos, schema)) return {};
    } else if (field == 2 && wire == 2) {
      uint64_t len = 0;
      if (!read_varint(v, pos, len) || len > v.size() - pos) return {};
      event_id = v.substr(pos, len);
      pos += len;
    } else {
      break;  // fields 3+ follow: the header fields are behind us
    }
  }
  if (schema != 0) out.emplace_back("schema-version", std::to_string(schema));
  if (!event_id.empty()) out.emplace_back("event-id", std::string(event_id));
  return out;
}

}  // namespace

class KafkaTransaction final : public Transaction {
 public:
  explicit KafkaTransaction(KafkaEventBus& bus) : bus_(bus) {}

  void append(std::string_view topic, std::string_view key, std::string_view value) override {
    ProduceRecord r;
    r.topic = topic;
    r.key = key;
    r.value = value;
    records_.push_back(std::move(r));
  }
  void commit_offset(std::string_view group, std::string_view topic, int32_t partition,
                     int64_t next_offset) override {
    batch_.offsets.push_back({std::string(group), std::string(topic), partition, next_offset});
  }
  void put_state(std::string_view ns, std::string_view key, std::string_view value) override {
    batch_.state.push_back({std::string(ns), std::string(key), std::string(value)});
  }
  void delete_state(std::string_view ns, std::string_view key) override {
    batch_.state.push_back({std::string(ns), std::string(key), std::nullopt});
  }
  size_t appended() const override { return records_.size(); }

  Status commit() override {
    std::vector<ProduceRecord> all;
    std::vector<size_t> markers;
    TICKFLOW_RETURN_IF_ERROR(prepare(all, markers));
    return produce_and_finish(all, markers);
  }

  Status produce_and_finish(const std::vector<ProduceRecord>& all, const std::vector<size_t>& markers) {
    const std::vector<ProduceRecord>& produced = all.empty() ? records_ : all;
    // 1) Records first, all acknowledged. A failure here leaves state and positions as they
    //    were; records acknowledged before it are in Kafka and are produced again on retry.
    std::vector<int64_t> offsets;
    if (!produced.empty()) {
      const auto t0 = std::chrono::steady_clock::now();
      Status st = bus_.produce_for_commit(produced, batch_, markers.empty() ? nullptr : &offsets);
      KafkaProbe::instance().produce_seconds->Observe(since(t0));
      if (!st) {
        KafkaProbe::instance().commit_failures->Increment();
        return st;
      }
    }
    return finish(bus_, records_, batch_, produced, offsets, markers);
  }

  // Pipelined when the commit is plain produce + local write: no changelog marker (its
  // previous-marker offset is known only once the previous commit is acknowledged) and no
  // Kafka transaction (one at a time per producer). Otherwise it commits at once.
  std::unique_ptr<PendingCommit> commit_async() override;

  // 2) State + positions (+ changelog checkpoints) in one local write; 3) bookkeeping.
  static Status finish(KafkaEventBus& bus, const std::vector<ProduceRecord>& records, const SidecarBatch& batch,
                       const std::vector<ProduceRecord>& produced, const std::vector<int64_t>& offsets,
                       const std::vector<size_t>& markers) {
    const SidecarBatch* local = &batch;
    SidecarBatch with_checkpoints;
    if (!markers.empty()) {
      with_checkpoints = batch;
      bus.checkpoint_changelog(produced, offsets, markers, with_checkpoints);
      local = &with_checkpoints;
    }
    Status st = bus.sidecar_->apply(*local);
    if (!st) {
      KafkaProbe::instance().commit_failures->Increment();
      return Status(st.code(), st.message() + " (the transaction's records are already in Kafka: a retry or "
                                              "restart produces them again, the sinks drop the duplicates)");
    }
    if (!markers.empty()) bus.remember_markers(*local);
    bus.track_positions(batch);
    for (const ProduceRecord& r : records) {
      if (&r == &records.front() || r.topic != (&r - 1)->topic) bus.bump(r.topic);
    }
    // 3) Lag tooling: positions to Kafka's group offsets, in the background.
    if (bus.options_.mirror_group_offsets && !batch.offsets.empty()) bus.mirror(batch);
    return Status::ok();
  }

 private:
  friend class KafkaPendingCommit;

  // Partitions and headers of the records; the changelog records (state writes, then a position
  // marker per touched partition) after the outputs, in the same produce: `all` = outputs +
  // changelog (empty when there is no changelog record), markers index into it.
  Status prepare(std::vector<ProduceRecord>& all, std::vector<size_t>& markers) {
    if (bus_.options_.read_only) return bus_.refuse_write();
    // Every topic must exist before anything is produced: a missing one fails the whole commit.
    for (ProduceRecord& r : records_) {
      auto n = bus_.partitions(r.topic);
      if (!n) return n.status();
      r.partition = topics::partition_for(r.key, *n);
      if (r.headers.empty()) r.headers = envelope_headers(r.value);
    }
    std::vector<ProduceRecord> changelog;
    TICKFLOW_RETURN_IF_ERROR(bus_.add_changelog(batch_, changelog, markers));
    if (!changelog.empty()) {
      all = records_;
      for (size_t& m : markers) m += all.size();
      all.insert(all.end(), std::make_move_iterator(changelog.begin()), std::make_move_iterator(changelog.end()));
    }
    return Status::ok();
  }

 private:
  KafkaEventBus& bus_;
  std::vector<ProduceRecord> records_;
  SidecarBatch batch_;
};

// A pipelined commit: its records are with the producer; wait() waits for their
// acknowledgements, then applies state and positions (KafkaTransaction::finish).
class KafkaPendingCommit final : public PendingCommit {
 public:
  KafkaPendingCommit(KafkaEventBus& bus, std::vector<ProduceRecord> records, SidecarBatch batch)
      : bus_(bus), records_(std::move(records)), batch_(std::move(batch)), t0_(std::chrono::steady_clock::now()) {
    if (!records_.empty()) produce_ = bus_.client_->produce_async(records_);
  }
  ~KafkaPendingCommit() override { cancel(); }
  bool ready() const override { return done_ || !produce_ || produce_->ready(); }
  Status wait() override {
    if (done_) return status_;
    done_ = true;
    if (produce_) {
      status_ = produce_->wait(nullptr);
      produce_.reset();
      KafkaProbe::instance().produce_seconds->Observe(since(t0_));
      if (!status_) {
        KafkaProbe::instance().commit_failures->Increment();
        return status_;
      }
    }
    status_ = KafkaTransaction::finish(bus_, records_, batch_, records_, {}, {});
    return status_;
  }
  void cancel() override {
    if (done_) return;
    done_ = true;
    produce_.reset();  // waits for the delivery reports; nothing is applied
    status_ = Status::unavailable("kafka: commit cancelled");
  }

 private:
  KafkaEventBus& bus_;
  const std::vector<ProduceRecord> records_;
  const SidecarBatch batch_;
  const std::chrono::steady_clock::time_point t0_;
  std::unique_ptr<PendingProduce> produce_;
  bool done_ = false;
  Status status_;
};

std::unique_ptr<PendingCommit> KafkaTransaction::commit_async() {
  std::vector<ProduceRecord> all;
  std::vector<size_t> markers;
  Status st = prepare(all, markers);
  if (!st) return std::make_unique<DonePendingCommit>(std::move(st));
  if (!all.empty() || !markers.empty() || (bus_.options_.exactly_once && !batch_.offsets.empty())) {
    return std::make_unique<DonePendingCommit>(produce_and_finish(all, markers));
  }
  return std::make_unique<KafkaPendingCommit>(bus_, std::move(records_), std::move(batch_));
}

Result<std::unique_ptr<KafkaEventBus>> KafkaEventBus::open(const KafkaBusOptions& options) {
  RdKafkaOptions ro;
  ro.bootstrap_servers = options.bootstrap_servers;
  ro.properties = options.properties;
  ro.timeout = options.timeout;
  auto client = RdKafkaClient::open(ro);
  if (!client) return client.status();
  KafkaBusOptions with_groups = options;
  if (!with_groups.group_client_factory) {
    with_groups.group_client_factory = [](const GroupClientOptions& o, GroupListener l) {
      return RdKafkaGroupClient::open(o, std::move(l));
    };
  }
  return open_with_client(std::move(client).value(), with_groups);
}

Result<std::unique_ptr<KafkaEventBus>> KafkaEventBus::open_with_client(std::unique_ptr<KafkaClient> client,
                                                                       const KafkaBusOptions& options) {
  std::unique_ptr<SidecarStore> sidecar;
  if (!options.read_only) {
    if (options.sidecar_path.empty()) return Status::invalid_argument("bus.data_dir: must not be empty");
    auto opened = SidecarStore::open(options.sidecar_path, options.sync);
    if (!opened) return opened.status();
    sidecar = std::move(opened).value();
  }
  std::unique_ptr<KafkaEventBus> bus(new KafkaEventBus(std::move(client), std::move(sidecar), options));
  KafkaEventBus* self = bus.get();
  bus->client_->set_data_listener([self](std::string_view topic) { self->bump(topic); });
  if (!options.read_only) {
    bus->mirror_thread_ = std::thread([self] { self->mirror_loop(); });
    bus->metrics_thread_ = std::thread([self] { self->metrics_loop(); });
  }
  return bus;
}

KafkaEventBus::KafkaEventBus(std::unique_ptr<KafkaClient> client, std::unique_ptr<SidecarStore> sidecar,
                             KafkaBusOptions options)
    : client_(std::move(client)), sidecar_(std::move(sidecar)), options_(std::move(options)) {}

Status KafkaEventBus::refuse_write() const {
  return Status::invalid_argument("the Kafka bus at " + options_.bootstrap_servers + " is open read-only");
}

KafkaEventBus::~KafkaEventBus() {
  if (!options_.read_only) (void)flush_group_offsets(2 * kNsPerSec);
  {
    std::lock_guard lock(mirror_mu_);
    mirror_stop_ = true;
  }
  mirror_cv_.notify_all();
  if (mirror_thread_.joinable()) mirror_thread_.join();
  {
    std::lock_guard lock(metrics_mu_);
    metrics_stop_ = true;
  }
  metrics_cv_.notify_all();
  if (metrics_thread_.joinable()) metrics_thread_.join();
  client_->set_data_listener(nullptr);
  client_.reset();  // stops the client's threads before the bus's members go
}

Status KafkaEventBus::create_topic(const TopicConfig& config) {
  if (options_.read_only) return refuse_write();
  if (config.name.empty() || config.partitions < 1) {
    return Status::invalid_argument("topic '" + config.name + "': needs a name and at least one partition");
  }
  auto existing = client_->partition_count(config.name);
  if (!existing) return existing.status();
  if (!*existing) {
    Status st = client_->create_topic(config, options_.replication_factor);
    if (!st && st.code() != ErrorCode::kAlreadyExists) {
      return Status(st.code(), "cannot create topic " + config.name + " (" + std::to_string(config.partitions) +
                                   " partitions): " + st.message());
    }
    // CreateTopics returns before every broker's metadata has the topic: wait until it shows.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(options_.timeout);
    for (;;) {
      existing = client_->partition_count(config.name);
      if (!existing) return existing.status();
      if (*existing) break;
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::unavailable("topic " + config.name + " created but not in the metadata yet");
      }
      std::unique_lock lock(mu_);  // a short pause between metadata round trips
      cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
  }
  const int32_t actual = **existing;
  if (actual < config.partitions) {
    return Status::invalid_argument("topic " + config.name + " exists in Kafka with " + std::to_string(actual) +
                                    " partitions, fewer than the " + std::to_string(config.partitions) +
                                    " configured: add partitions (kafka-topics.sh --alter --partitions " +
                                    std::to_string(config.partitions) +
                                    ") or configure " + std::to_string(actual) +
                                    "; keys would not land on the partitions the configuration implies");
  }
  if (actual > config.partitions) {
    spdlog::warn("kafka: topic {} has {} partitions, more than the {} configured: using {}", config.name, actual,
                 config.partitions, actual);
  }
  std::lock_guard lock(topics_mu_);
  topics_[config.name] = TopicConfig{config.name, actual, config.retention};
  return Status::ok();
}

Result<int32_t> KafkaEventBus::partitions(std::string_view topic) const {
  {
    std::lock_guard lock(topics_mu_);
    auto it = topics_.find(topic);
    if (it != topics_.end()) return it->second.partitions;
  }
  auto n = client_->partition_count(topic);
  if (!n) return n.status();
  if (!*n) return Status::not_found("unknown topic '" + std::string(topic) + "'");
  std::lock_guard lock(topics_mu_);
  auto [it, inserted] = topics_.emplace(std::string(topic), TopicConfig{std::string(topic), **n, 0});
  return it->second.partitions;
}

Status KafkaEventBus::check_partition(std::string_view topic, int32_t partition) const {
  auto n = partitions(topic);
  if (!n) return n.status();
  if (partition < 0 || partition >= *n) {
    return Status::invalid_argument("topic " + std::string(topic) + " has no partition " + std::to_string(partition));
  }
  return Status::ok();
}

Result<TopicConfig> KafkaEventBus::topic(std::string_view name) const {
  auto n = partitions(name);
  if (!n) return n.status();
  std::lock_guard lock(topics_mu_);
  return topics_.at(std::string(name));
}

std::vector<TopicConfig> KafkaEventBus::topics() const {
  auto listed = client_->list_topics();
  std::vector<TopicConfig> out;
  if (!listed) {
    spdlog::warn("kafka: listing topics failed: {}", listed.status().message());
    return out;
  }
  std::lock_guard lock(topics_mu_);
  for (const auto& [name, n] : *listed) {
    auto it = topics_.find(name);
    out.push_back(TopicConfig{name, n, it == topics_.end() ? 0 : it->second.retention});
  }
  return out;
}

Status KafkaEventBus::publish(std::string_view topic, std::string_view key, std::string_view value) {
  KafkaTransaction txn(*this);
  txn.append(topic, key, value);
  return txn.commit();
}

std::unique_ptr<Transaction> KafkaEventBus::begin() { return std::make_unique<KafkaTransaction>(*this); }

Status KafkaEventBus::read(std::string_view topic, int32_t partition, int64_t from_offset, size_t max_records,
                           std::vector<Record>& out) const {
  TICKFLOW_RETURN_IF_ERROR(check_partition(topic, partition));
  return client_->fetch(topic, partition, from_offset, max_records, out);
}

Result<Record> KafkaEventBus::read_one(std::string_view topic, int32_t partition, int64_t offset) const {
  std::vector<Record> out;
  TICKFLOW_RETURN_IF_ERROR(read(topic, partition, offset, 1, out));
  if (out.empty() || out.front().offset != offset) {
    return Status::not_found("no record at " + std::string(topic) + "/" + std::to_string(partition) + "@" +
                             std::to_string(offset));
  }
  return std::move(out.front());
}

Result<int64_t> KafkaEventBus::end_offset(std::string_view topic, int32_t partition) const {
  TICKFLOW_RETURN_IF_ERROR(check_partition(topic, partition));
  auto w = client_->watermarks(topic, partition);
  if (!w) return w.status();
  return w->high;
}

Result<int64_t> KafkaEventBus::begin_offset(std::string_view topic, int32_t partition) const {
  TICKFLOW_RETURN_IF_ERROR(check_partition(topic, partition));
  auto w = client_->watermarks(topic, partition);
  if (!w) return w.status();
  return w->low;
}

Result<int64_t> KafkaEventBus::committed_offset(std::string_view group, std::string_view topic,
                                                int32_t partition) const {
  if (!sidecar_) return int64_t{0};  // read-only: no positions of its own
  return sidecar_->committed_offset(group, topic, partition);
}

Result<std::optional<std::string>> KafkaEventBus::get_state(std::string_view ns, std::string_view key) const {
  if (!sidecar_) return std::optional<std::string>{};
  return sidecar_->get_state(ns, key);
}

Status KafkaEventBus::scan_state(std::string_view ns,
                                 const std::function<void(std::string_view, std::string_view)>& fn) const {
  if (!sidecar_) return Status::ok();
  return sidecar_->scan_state(ns, fn);
}

void KafkaEventBus::ensure_watched(std::string_view topic) const {
  std::lock_guard lock(watch_mu_);
  if (watched_.count(topic)) return;
  Status st = client_->watch(topic);
  if (!st) {
    // Not fatal: this process's own commits still wake waiters; the next call tries again.
    spdlog::debug("kafka: watching {} failed: {}", topic, st.message());
    return;
  }
  watched_.emplace(topic);
}

void KafkaEventBus::bump(std::string_view topic) const {
  {
    std::lock_guard lock(mu_);
    auto it = versions_.find(topic);
    if (it == versions_.end()) it = versions_.emplace(std::string(topic), 0).first;
    ++it->second;
  }
  cv_.notify_all();
}

uint64_t KafkaEventBus::data_version(std::string_view topic) const {
  ensure_watched(topic);
  std::lock_guard lock(mu_);
  auto it = versions_.find(topic);
  return it == versions_.end() ? 0 : it->second;
}

uint64_t KafkaEventBus::wait_for_data(std::string_view topic, uint64_t seen, DurationNs timeout) const {
  ensure_watched(topic);
  std::unique_lock lock(mu_);
  const uint64_t generation = wake_generation_;
  auto version = [&] {
    auto it = versions_.find(topic);
    return it == versions_.end() ? uint64_t{0} : it->second;
  };
  cv_.wait_for(lock, std::chrono::nanoseconds(timeout),
               [&] { return version() != seen || wake_generation_ != generation; });
  return version();
}

void KafkaEventBus::wake_all() {
  {
    std::lock_guard lock(mu_);
    ++wake_generation_;
  }
  cv_.notify_all();
}

Result<int64_t> KafkaEventBus::enforce_retention(TimestampNs) { return int64_t{0}; }

void KafkaEventBus::mirror(const SidecarBatch& batch) {
  {
    std::lock_guard lock(mirror_mu_);
    for (const auto& o : batch.offsets) mirror_pending_[o.group][{o.topic, o.partition}] = o.next_offset;
  }
  mirror_cv_.notify_all();
}

void KafkaEventBus::mirror_loop() {
  std::unique_lock lock(mirror_mu_);
  for (;;) {
    mirror_cv_.wait(lock, [&] { return mirror_stop_ || !mirror_pending_.empty(); });
    if (mirror_stop_) return;
    auto work = std::move(mirror_pending_);
    mirror_pending_.clear();
    mirror_busy_ = true;
    lock.unlock();
    Status failed;
    for (auto& [group, positions] : work) {
      std::vector<GroupOffset> offsets;
      for (const auto& [tp, next] : positions) offsets.push_back({tp.first, tp.second, next});
      Status st;
      bool member_group = false;
      {
        std::lock_guard members(members_mu_);
        member_group = member_groups_.count(group) > 0;
      }
      // A group with members takes commits from members only, and a member's synchronous commit
      // racing its rebalance stalls the rejoin (seen on the mock): a joined group's positions are
      // not mirrored (tickflow_kafka_consumer_lag has the lag).
      if (!member_group) st = client_->commit_group_offsets(group, offsets);
      if (!st) {
        spdlog::warn("kafka: mirroring offsets of group {} failed (will retry): {}", group, st.message());
        failed = st;
      }
    }
    lock.lock();
    mirror_busy_ = false;
    if (failed.is_ok()) {
      mirror_error_ = Status::ok();
    } else {
      mirror_error_ = failed;
      // Put back what failed unless newer positions arrived meanwhile, then back off.
      for (auto& [group, positions] : work) {
        for (auto& [tp, next] : positions) mirror_pending_[group].try_emplace(tp, next);
      }
      mirror_cv_.notify_all();
      mirror_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return mirror_stop_; });
    }
    mirror_cv_.notify_all();
  }
}

Status KafkaEventBus::flush_group_offsets(DurationNs timeout) {
  std::unique_lock lock(mirror_mu_);
  bool done = mirror_cv_.wait_for(lock, std::chrono::nanoseconds(timeout), [&] {
    return mirror_stop_ || (mirror_pending_.empty() && !mirror_busy_);
  });
  if (done) return Status::ok();
  return Status::unavailable("kafka: group offsets not mirrored yet" +
                             (mirror_error_ ? std::string() : ": " + mirror_error_.message()));
}

void KafkaEventBus::track_positions(const SidecarBatch& batch) {
  auto& probe = KafkaProbe::instance();
  std::set<std::string> groups;
  {
    std::lock_guard lock(metrics_mu_);
    for (const auto& o : batch.offsets) {
      if (!o.group.empty() && o.group[0] == '\x01') continue;
      tracked_[{o.group, o.topic, o.partition}] = o.next_offset;
      groups.insert(o.group);
    }
  }
  if (groups.empty()) groups.insert("none");
  for (const auto& g : groups) probe.commits->Add({{"group", g}}).Increment();
}

void KafkaEventBus::untrack(const std::string& group, const std::string& topic, const std::vector<int32_t>& ps) {
  auto& probe = KafkaProbe::instance();
  std::lock_guard lock(metrics_mu_);
  for (int32_t p : ps) {
    if (tracked_.erase({group, topic, p})) {
      probe.lag->Remove(
          &probe.lag->Add({{"group", group}, {"topic", topic}, {"partition", std::to_string(p)}}));
    }
  }
}

void KafkaEventBus::metrics_loop() {
  auto& probe = KafkaProbe::instance();
  std::unique_lock lock(metrics_mu_);
  for (;;) {
    auto tracked = tracked_;
    lock.unlock();
    for (const auto& [key, committed] : tracked) {
      const auto& [group, topic, p] = key;
      auto w = client_->watermarks(topic, p);
      if (!w) continue;
      std::lock_guard relock(metrics_mu_);
      if (!tracked_.count(key)) continue;  // revoked meanwhile
      probe.lag->Add({{"group", group}, {"topic", topic}, {"partition", std::to_string(p)}})
          .Set(static_cast<double>(std::max<int64_t>(0, w->high - tracked_[key])));
    }
    probe.store_bytes->Set(static_cast<double>(sidecar_->approximate_bytes()));
    lock.lock();
    if (metrics_cv_.wait_for(lock, std::chrono::nanoseconds(options_.metrics_interval), [&] { return metrics_stop_; }))
      return;
  }
}

}  // namespace tickflow::bus::kafka
