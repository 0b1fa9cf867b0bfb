// See kafka_bus.h and src/bus/README.md ("kafka/").
#include "bus/kafka/kafka_bus.h"

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

// Changelog record encodings (kafka_bus.h): a state write is "S" + value, a delete an empty
// value (a tombstone), a position marker "M" + be64 position + be64 (previous marker offset + 1)
// + be32 state records of the commit before it.
constexpr std::string_view kMarkerKey = "\x01position";
// Pseudo groups of the sidecar's offsets: the changelog checkpoint of this process (next offset
// after its last write / replay) and the offset + 1 of the last marker it knows (0 = none).
constexpr std::string_view kCheckpointGroup = "\x01changelog";
constexpr std::string_view kMarkerGroup = "\x01marker";

std::string encode_marker(int64_t position, int64_t prev_marker, uint32_t count) {
  std::string v = "M";
  v += rocks::be64_string(static_cast<uint64_t>(position));
  v += rocks::be64_string(static_cast<uint64_t>(prev_marker + 1));
  v += rocks::be64_string(count).substr(4);
  return v;
}

struct Marker {
  int64_t position = 0, prev_marker = -1;
  uint32_t count = 0;
};

bool decode_marker(std::string_view v, Marker& m) {
  if (v.size() != 21 || v[0] != 'M') return false;
  m.position = static_cast<int64_t>(rocks::get_be64(v.data() + 1));
  m.prev_marker = static_cast<int64_t>(rocks::get_be64(v.data() + 9)) - 1;
  m.count = 0;
  for (size_t i = 17; i < 21; ++i) m.count = (m.count << 8) | static_cast<unsigned char>(v[i]);
  return true;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The bus's metrics (one registry; families registered once per process).
struct KafkaProbe {
  prometheus::Family<prometheus::Gauge>* lag;
  prometheus::Family<prometheus::Counter>* commits;
  prometheus::Counter* commit_failures;
  prometheus::Gauge* store_bytes;
  prometheus::Family<prometheus::Histogram>* rebuild_seconds;
  prometheus::Family<prometheus::Gauge>* rebuild_last;
  prometheus::Family<prometheus::Counter>* rebuild_records;
  prometheus::Family<prometheus::Gauge>* group_partitions;
  prometheus::Family<prometheus::Counter>* rebalances;

  static KafkaProbe& instance() {
    static KafkaProbe* p = new KafkaProbe();  // never destroyed, like the registry
    return *p;
  }
  KafkaProbe() {
    auto& reg = obs::registry();
    lag = &prometheus::BuildGauge()
               .Name("tickflow_kafka_consumer_lag")
               .Help("Records of a partition after the group's committed position (high watermark - committed), "
                     "for the partitions this process commits")
               .Register(reg);
    commits = &prometheus::BuildCounter()
                   .Name("tickflow_kafka_commits_total")
                   .Help("Bus transactions committed (outputs acknowledged, then state and positions), by the "
                         "consumer group whose positions moved (none: outputs only)")
                   .Register(reg);
    commit_failures = &prometheus::BuildCounter()
                           .Name("tickflow_kafka_commit_failures_total")
                           .Help("Bus transactions that failed (produce or local write)")
                           .Register(reg)
                           .Add({});
    store_bytes = &prometheus::BuildGauge()
                       .Name("tickflow_kafka_state_store_bytes")
                       .Help("Approximate size of the local state store (sidecar RocksDB: state and positions)")
                       .Register(reg)
                       .Add({});
    rebuild_seconds = &prometheus::BuildHistogram()
                           .Name("tickflow_kafka_state_rebuild_seconds")
                           .Help("Duration of a state restore from the changelog on partition assignment")
                           .Register(reg);
    rebuild_last = &prometheus::BuildGauge()
                        .Name("tickflow_kafka_state_rebuild_last_seconds")
                        .Help("Duration of the last state restore from the changelog")
                        .Register(reg);
    rebuild_records = &prometheus::BuildCounter()
                           .Name("tickflow_kafka_state_rebuild_records_total")
                           .Help("Changelog records replayed by state restores")
                           .Register(reg);
    group_partitions = &prometheus::BuildGauge()
                            .Name("tickflow_kafka_group_partitions")
                            .Help("Partitions of the input topic assigned to this member of the consumer group")
                            .Register(reg);
    rebalances = &prometheus::BuildCounter()
                      .Name("tickflow_kafka_rebalances_total")
                      .Help("Partition assignments and revocations received from the group coordinator")
                      .Register(reg);
  }
};

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
    if (bus_.options_.read_only) return bus_.refuse_write();
    // Every topic must exist before anything is produced: a missing one fails the whole commit.
    for (ProduceRecord& r : records_) {
      auto n = bus_.partitions(r.topic);
      if (!n) return n.status();
      r.partition = topics::partition_for(r.key, *n);
      if (r.headers.empty()) r.headers = envelope_headers(r.value);
    }
    // Changelog records (state writes, then a position marker per touched partition) after the
    // outputs, in the same produce.
    std::vector<ProduceRecord> changelog;
    std::vector<size_t> markers;
    TICKFLOW_RETURN_IF_ERROR(bus_.add_changelog(batch_, changelog, markers));
    const std::vector<ProduceRecord>* produced = &records_;
    std::vector<ProduceRecord> all;
    if (!changelog.empty()) {
      all = records_;
      for (size_t& m : markers) m += all.size();
      all.insert(all.end(), std::make_move_iterator(changelog.begin()), std::make_move_iterator(changelog.end()));
      produced = &all;
    }
    // 1) Records first, all acknowledged. A failure here leaves state and positions as they
    //    were; records acknowledged before it are in Kafka and are produced again on retry.
    std::vector<int64_t> offsets;
    if (!produced->empty()) {
      Status st = bus_.produce_for_commit(*produced, batch_, markers.empty() ? nullptr : &offsets);
      if (!st) {
        KafkaProbe::instance().commit_failures->Increment();
        return st;
      }
    }
    // 2) State + positions (+ changelog checkpoints) in one local write.
    const SidecarBatch* local = &batch_;
    SidecarBatch with_checkpoints;
    if (!markers.empty()) {
      with_checkpoints = batch_;
      bus_.checkpoint_changelog(*produced, offsets, markers, with_checkpoints);
      local = &with_checkpoints;
    }
    Status st = bus_.sidecar_->apply(*local);
    if (!st) {
      KafkaProbe::instance().commit_failures->Increment();
      return Status(st.code(), st.message() + " (the transaction's records are already in Kafka: a retry or "
                                              "restart produces them again, the sinks drop the duplicates)");
    }
    if (!markers.empty()) bus_.remember_markers(*local);
    bus_.track_positions(batch_);
    for (const ProduceRecord& r : records_) {
      if (&r == &records_.front() || r.topic != (&r - 1)->topic) bus_.bump(r.topic);
    }
    // 3) Lag tooling: positions to Kafka's group offsets, in the background.
    if (bus_.options_.mirror_group_offsets && !batch_.offsets.empty()) bus_.mirror(batch_);
    return Status::ok();
  }

 private:
  KafkaEventBus& bus_;
  std::vector<ProduceRecord> records_;
  SidecarBatch batch_;
};

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

// ---- Consumer groups and state changelogs (kafka_bus.h, src/bus/README.md) ----

class KafkaGroupMembership final : public GroupMembership {
 public:
  KafkaGroupMembership(KafkaEventBus& bus, std::shared_ptr<const KafkaEventBus::Changelog> changelog,
                       DurationNs revoke_timeout)
      : bus_(bus), changelog_(std::move(changelog)), revoke_timeout_(revoke_timeout) {
    auto& probe = KafkaProbe::instance();
    partitions_gauge_ = &probe.group_partitions->Add({{"group", changelog_->group}});
    assigns_ = &probe.rebalances->Add({{"group", changelog_->group}, {"kind", "assign"}});
    revokes_ = &probe.rebalances->Add({{"group", changelog_->group}, {"kind", "revoke"}});
  }

  ~KafkaGroupMembership() override {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    client_.reset();  // leaves the group: `revoked` returns at once now
    std::vector<int32_t> owned;
    {
      std::lock_guard lock(mu_);
      owned.assign(owned_.begin(), owned_.end());
    }
    bus_.untrack(changelog_->group, changelog_->input_topic, owned);
    partitions_gauge_->Set(0);
    std::lock_guard lock(bus_.changelog_mu_);
    bus_.changelogs_.erase(changelog_->ns);
  }

  Status join(const GroupClientOptions& options) {
    GroupListener listener;
    listener.assigned = [this](const std::vector<int32_t>& ps) { on_assigned(ps); };
    listener.revoked = [this](const std::vector<int32_t>& ps) { on_revoked(ps); };
    auto client = bus_.options_.group_client_factory(options, std::move(listener));
    if (!client) return client.status();
    client_ = std::move(client).value();
    std::lock_guard lock(bus_.members_mu_);
    bus_.member_groups_.insert(changelog_->group);
    return Status::ok();
  }

  GroupAssignment assignment() const override {
    std::lock_guard lock(mu_);
    return GroupAssignment{generation_, std::vector<int32_t>(owned_.begin(), owned_.end())};
  }

  void release(uint64_t generation) override {
    {
      std::lock_guard lock(mu_);
      released_ = std::max(released_, generation);
    }
    cv_.notify_all();
  }

  Status restore(int32_t partition) override { return bus_.restore_partition(*changelog_, partition); }

 private:
  void on_assigned(const std::vector<int32_t>& ps) {
    std::lock_guard lock(mu_);
    owned_.insert(ps.begin(), ps.end());
    ++generation_;
    partitions_gauge_->Set(static_cast<double>(owned_.size()));
    assigns_->Increment();
  }

  // Blocks the member's thread (and so the rebalance) until the owner released the partitions.
  void on_revoked(const std::vector<int32_t>& ps) {
    {
      std::unique_lock lock(mu_);
      for (int32_t p : ps) owned_.erase(p);
      const uint64_t generation = ++generation_;
      partitions_gauge_->Set(static_cast<double>(owned_.size()));
      revokes_->Increment();
      if (!cv_.wait_for(lock, std::chrono::nanoseconds(revoke_timeout_),
                        [&] { return closing_ || released_ >= generation; })) {
        spdlog::warn("kafka group {}: the owner did not release {} revoked partitions within {} s; handing them "
                     "over anyway",
                     changelog_->group, ps.size(), revoke_timeout_ / kNsPerSec);
      }
    }
    bus_.untrack(changelog_->group, changelog_->input_topic, ps);
  }

  KafkaEventBus& bus_;
  const std::shared_ptr<const KafkaEventBus::Changelog> changelog_;
  const DurationNs revoke_timeout_;
  prometheus::Gauge* partitions_gauge_;
  prometheus::Counter* assigns_;
  prometheus::Counter* revokes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<int32_t> owned_;
  uint64_t generation_ = 0;
  uint64_t released_ = 0;
  bool closing_ = false;
  std::unique_ptr<GroupClient> client_;  // last: its thread calls the members above
};

Result<std::unique_ptr<GroupMembership>> KafkaEventBus::join_group(const GroupOptions& options) {
  if (options_.read_only) return refuse_write();
  if (!options_.group_client_factory) {
    return Status::invalid_argument("kafka: this bus was opened without consumer-group support");
  }
  if (options.group.empty() || options.topic.empty() || options.state_namespace.empty() || options.store.empty() ||
      !options.partition_of) {
    return Status::invalid_argument("join_group: group, topic, state namespace, store and partition_of are needed");
  }
  auto input = partitions(options.topic);
  if (!input) return input.status();
  auto cl = std::make_shared<Changelog>();
  cl->ns = options.state_namespace;
  cl->topic = options.group + "-" + options.store + "-changelog";
  cl->group = options.group;
  cl->input_topic = options.topic;
  cl->store = options.store;
  cl->partitions = *input;
  cl->partition_of = options.partition_of;
  TopicConfig topic{cl->topic, *input, 0, true};
  TICKFLOW_RETURN_IF_ERROR(create_topic(topic));
  {
    std::lock_guard lock(changelog_mu_);
    if (changelogs_.count(cl->ns)) {
      return Status::invalid_argument("join_group: state namespace " + cl->ns + " already belongs to a group");
    }
    changelogs_[cl->ns] = cl;
  }
  auto membership = std::make_unique<KafkaGroupMembership>(*this, cl, options.revoke_timeout);
  GroupClientOptions go;
  go.bootstrap_servers = options_.bootstrap_servers;
  go.properties = options_.properties;
  go.group = options.group;
  go.topic = options.topic;
  go.session_timeout = options.session_timeout;
  TICKFLOW_RETURN_IF_ERROR(membership->join(go));
  spdlog::info("kafka: joined group {} on {} ({} partitions), state changelog {}", cl->group, cl->input_topic,
               cl->partitions, cl->topic);
  return std::unique_ptr<GroupMembership>(std::move(membership));
}

Status KafkaEventBus::add_changelog(const SidecarBatch& batch, std::vector<ProduceRecord>& out,
                                    std::vector<size_t>& markers) const {
  std::map<std::string, std::shared_ptr<const Changelog>, std::less<>> changelogs;
  {
    std::lock_guard lock(changelog_mu_);
    if (changelogs_.empty()) return Status::ok();
    changelogs = changelogs_;
  }
  for (const auto& [ns, cl] : changelogs) {
    std::map<int32_t, uint32_t> counts;        // partition → state records in this commit
    std::map<int32_t, int64_t> positions;      // partition → the batch's position
    for (const auto& op : batch.state) {
      if (op.ns != ns) continue;
      const int32_t p = cl->partition_of(op.key, cl->partitions);
      if (p < 0 || p >= cl->partitions) {
        return Status::internal("state key " + op.key + " maps to no partition of " + cl->input_topic);
      }
      ProduceRecord r;
      r.topic = cl->topic;
      r.partition = p;
      r.key = op.key;
      if (op.value) r.value = "S" + *op.value;  // else: a tombstone
      out.push_back(std::move(r));
      ++counts[p];
    }
    for (const auto& o : batch.offsets) {
      if (o.group == cl->group && o.topic == cl->input_topic) {
        positions[o.partition] = o.next_offset;
        counts.try_emplace(o.partition, 0);
      }
    }
    for (const auto& [p, count] : counts) {
      int64_t position = 0;
      if (auto it = positions.find(p); it != positions.end()) {
        position = it->second;
      } else {
        auto committed = sidecar_->committed_offset(cl->group, cl->input_topic, p);
        if (!committed) return committed.status();
        position = *committed;
      }
      int64_t prev = -1;
      {
        std::lock_guard lock(changelog_mu_);
        auto it = last_marker_.find({cl->topic, p});
        if (it != last_marker_.end()) {
          prev = it->second;
        } else {
          auto stored = sidecar_->committed_offset(kMarkerGroup, cl->topic, p);
          if (!stored) return stored.status();
          prev = *stored - 1;
        }
      }
      ProduceRecord r;
      r.topic = cl->topic;
      r.partition = p;
      r.key = kMarkerKey;
      r.value = encode_marker(position, prev, count);
      markers.push_back(out.size());
      out.push_back(std::move(r));
    }
  }
  return Status::ok();
}

void KafkaEventBus::checkpoint_changelog(const std::vector<ProduceRecord>& out, const std::vector<int64_t>& offsets,
                                         const std::vector<size_t>& markers, SidecarBatch& batch) const {
  for (size_t m : markers) {
    const ProduceRecord& r = out[m];
    const int64_t offset = m < offsets.size() ? offsets[m] : -1;
    if (offset < 0) continue;
    batch.offsets.push_back({std::string(kCheckpointGroup), r.topic, r.partition, offset + 1});
    batch.offsets.push_back({std::string(kMarkerGroup), r.topic, r.partition, offset + 1});
  }
}

void KafkaEventBus::remember_markers(const SidecarBatch& batch) {
  std::lock_guard lock(changelog_mu_);
  for (const auto& o : batch.offsets) {
    if (o.group == kMarkerGroup) last_marker_[{o.topic, o.partition}] = o.next_offset - 1;
  }
}

Status KafkaEventBus::restore_partition(const Changelog& cl, int32_t p) {
  if (p < 0 || p >= cl.partitions) return Status::invalid_argument("restore: no partition " + std::to_string(p));
  const auto t0 = std::chrono::steady_clock::now();
  auto w = client_->watermarks(cl.topic, p);
  if (!w) return w.status();
  auto next = sidecar_->committed_offset(kCheckpointGroup, cl.topic, p);
  if (!next) return next.status();
  auto marker = sidecar_->committed_offset(kMarkerGroup, cl.topic, p);
  if (!marker) return marker.status();
  if (*next == w->high) {  // nothing written since this process's last write or replay
    std::lock_guard lock(changelog_mu_);
    last_marker_[{cl.topic, p}] = *marker - 1;
    return Status::ok();
  }
  const bool full = !(*next > 0 && *next >= w->low && *next < w->high);
  struct Op {
    int64_t offset;
    std::string key;
    std::string value;
  };
  std::vector<Op> buffered;  // state records not yet closed by a marker
  std::map<std::string, std::optional<std::string>> ops;
  std::optional<int64_t> position;
  int64_t last_marker = full ? -1 : *marker - 1;
  size_t replayed = 0, dropped = 0;
  int64_t pos = full ? w->low : *next;
  while (pos < w->high) {
    std::vector<Record> recs;
    TICKFLOW_RETURN_IF_ERROR(client_->fetch(cl.topic, p, pos, 4096, recs));
    if (recs.empty()) break;  // records up to the high watermark are gone (a gap at the end)
    for (Record& r : recs) {
      if (r.offset >= w->high) break;
      pos = r.offset + 1;
      ++replayed;
      if (r.key != kMarkerKey) {
        buffered.push_back({r.offset, std::move(r.key), std::move(r.value)});
        continue;
      }
      Marker m;
      if (!decode_marker(r.value, m)) {
        return Status::corruption("changelog " + cl.topic + "/" + std::to_string(p) + "@" + std::to_string(r.offset) +
                                  ": bad position marker");
      }
      // The commit's own records are the `count` just before its marker; records between the
      // previous marker and them belong to a commit cut short (a crash mid-produce).
      const int64_t first = r.offset - static_cast<int64_t>(m.count);
      for (Op& op : buffered) {
        if (op.offset >= first || op.offset <= m.prev_marker) {
          if (op.value.empty()) {
            ops[op.key] = std::nullopt;
          } else {
            ops[op.key] = op.value.substr(1);
          }
        } else {
          ++dropped;
        }
      }
      buffered.clear();
      position = m.position;
      last_marker = r.offset;
    }
  }
  dropped += buffered.size();  // an unfinished commit at the end
  SidecarBatch batch;
  if (full) {  // the changelog replaces whatever this process kept of the partition
    TICKFLOW_RETURN_IF_ERROR(sidecar_->scan_state(cl.ns, [&](std::string_view key, std::string_view) {
      if (cl.partition_of(key, cl.partitions) == p && !ops.count(std::string(key))) {
        batch.state.push_back({cl.ns, std::string(key), std::nullopt});
      }
    }));
  }
  for (auto& [key, value] : ops) batch.state.push_back({cl.ns, key, std::move(value)});
  if (position || full) batch.offsets.push_back({cl.group, cl.input_topic, p, position.value_or(0)});
  batch.offsets.push_back({std::string(kCheckpointGroup), cl.topic, p, w->high});
  batch.offsets.push_back({std::string(kMarkerGroup), cl.topic, p, last_marker + 1});
  TICKFLOW_RETURN_IF_ERROR(sidecar_->apply(batch));
  {
    std::lock_guard lock(changelog_mu_);
    last_marker_[{cl.topic, p}] = last_marker;
  }
  const double secs = since(t0);
  auto& probe = KafkaProbe::instance();
  probe.rebuild_seconds->Add({{"store", cl.store}}, obs::latency_buckets()).Observe(secs);
  probe.rebuild_last->Add({{"store", cl.store}}).Set(secs);
  probe.rebuild_records->Add({{"store", cl.store}}).Increment(static_cast<double>(replayed));
  spdlog::info("kafka: restored {}/{} from the changelog ({}, {} records replayed, {} state keys, {} records of "
               "unfinished commits dropped, position {}) in {:.3f} s",
               cl.input_topic, p, full ? "full" : "incremental", replayed, ops.size(), dropped, position.value_or(-1),
               secs);
  SidecarBatch tracked;
  tracked.offsets.push_back({cl.group, cl.input_topic, p, position.value_or(0)});
  if (position || full) track_positions(tracked);
  return Status::ok();
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
