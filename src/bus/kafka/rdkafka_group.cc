// See rdkafka_group.h.
#include "bus/kafka/rdkafka_group.h"

#include <spdlog/spdlog.h>

#include <cstring>

namespace tickflow::bus::kafka {
namespace {

void group_log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  if (level <= 3) {
    spdlog::error("kafka {} {}: {}", rd_kafka_name(rk), fac, buf);
  } else if (level <= 4) {
    spdlog::warn("kafka {} {}: {}", rd_kafka_name(rk), fac, buf);
  } else {
    spdlog::debug("kafka {} {}: {}", rd_kafka_name(rk), fac, buf);
  }
}

std::vector<int32_t> partitions_of(const rd_kafka_topic_partition_list_t* parts) {
  std::vector<int32_t> out;
  for (int i = 0; i < parts->cnt; ++i) out.push_back(parts->elems[i].partition);
  return out;
}

}  // namespace

Result<std::unique_ptr<GroupClient>> RdKafkaGroupClient::open(const GroupClientOptions& options,
                                                              GroupListener listener) {
  std::unique_ptr<RdKafkaGroupClient> c(new RdKafkaGroupClient(options, std::move(listener)));
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const int64_t session_ms = options.session_timeout / kNsPerMs;
  std::vector<std::pair<std::string, std::string>> props = {
      {"bootstrap.servers", options.bootstrap_servers},
      {"client.id", "tickflow-member"},
      {"group.id", options.group},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"session.timeout.ms", std::to_string(session_ms)},
      {"heartbeat.interval.ms", std::to_string(std::max<int64_t>(100, session_ms / 3))},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "latest"},
      {"allow.auto.create.topics", "false"}};
  Status st;
  auto set = [&](const std::string& k, const std::string& v, bool user) {
    if (st && rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      st = Status::invalid_argument(std::string(user ? "kafka.properties: " : "kafka member: ") + k + ": " + err);
    }
  };
  for (const auto& [k, v] : props) set(k, v, false);
  for (const auto& [k, v] : options.properties) set(k, v, true);
  if (!st) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  rd_kafka_conf_set_log_cb(conf, group_log_cb);
  rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
  rd_kafka_conf_set_opaque(conf, c.get());
  c->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (c->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::invalid_argument(std::string("kafka: cannot create the group member: ") + err);
  }
  rd_kafka_poll_set_consumer(c->rk_);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, options.topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk_, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::unavailable("kafka: subscribing group " + options.group + " to " + options.topic + ": " +
                               rd_kafka_err2str(e));
  }
  RdKafkaGroupClient* self = c.get();
  c->thread_ = std::thread([self] { self->poll_loop(); });
  return std::unique_ptr<GroupClient>(std::move(c));
}

RdKafkaGroupClient::~RdKafkaGroupClient() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (rk_ != nullptr) {
    rd_kafka_consumer_close(rk_);  // serves the final revocation through rebalance_cb
    rd_kafka_destroy(rk_);
  }
}

void RdKafkaGroupClient::poll_loop() {
  while (!stop_.load()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
    if (m == nullptr) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      spdlog::warn("kafka group {}: {}", options_.group, rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);  // partitions are paused: only a fetch racing the pause lands here
  }
}

void RdKafkaGroupClient::rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                      rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* self = static_cast<RdKafkaGroupClient*>(opaque);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  const std::vector<int32_t> ps = partitions_of(parts);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_error_t* error = nullptr;
    if (cooperative) {
      error = rd_kafka_incremental_assign(rk, parts);
    } else {
      rd_kafka_assign(rk, parts);
    }
    if (error != nullptr) {
      spdlog::error("kafka group {}: assign: {}", self->options_.group, rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
    rd_kafka_pause_partitions(rk, parts);
    spdlog::info("kafka group {}: assigned {} partitions of {}", self->options_.group, ps.size(),
                 self->options_.topic);
    if (self->listener_.assigned) self->listener_.assigned(ps);
    return;
  }
  spdlog::info("kafka group {}: {} {} partitions of {}", self->options_.group,
               rd_kafka_assignment_lost(rk) ? "lost" : "revoked", ps.size(), self->options_.topic);
  if (self->listener_.revoked) self->listener_.revoked(ps);  // returns once released
  if (cooperative) {
    rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk, parts);
    if (error != nullptr) rd_kafka_error_destroy(error);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

Status RdKafkaGroupClient::commit(const std::vector<GroupOffset>& offsets) {
  if (offsets.empty()) return Status::ok();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const GroupOffset& o : offsets) {
    rd_kafka_topic_partition_list_add(list, o.topic.c_str(), o.partition)->offset = o.next_offset;
  }
  rd_kafka_resp_err_t e = rd_kafka_commit(rk_, list, 0);
  for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; ++i) e = list->elems[i].err;
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::unavailable("kafka commit offsets of group " + options_.group + ": " + rd_kafka_err2str(e));
  }
  return Status::ok();
}

}  // namespace tickflow::bus::kafka
