// KafkaEventBus's consumer groups and state changelogs (kafka_bus.h, src/bus/README.md
// "Consumer groups"): the membership, join_group, the changelog records of a commit and the
// restore of a partition from them.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "bus/kafka/kafka_bus.h"
#include "bus/kafka/kafka_bus_internal.h"

namespace tickflow::bus::kafka {

using internal::decode_marker;
using internal::encode_marker;
using internal::KafkaProbe;
using internal::kCheckpointGroup;
using internal::kMarkerGroup;
using internal::kMarkerKey;
using internal::Marker;
using internal::since;

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

}  // namespace tickflow::bus::kafka
