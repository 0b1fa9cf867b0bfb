#include "tests/servers/kafka_mock_cluster.h"

#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace tickflow::testing {

std::unique_ptr<KafkaMockCluster> KafkaMockCluster::start(int brokers, std::string* error) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the mock's threads; keep it quiet.
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    if (error) *error = std::string("rd_kafka_new: ") + err;
    return nullptr;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (mc == nullptr) {
    rd_kafka_destroy(rk);
    if (error) *error = "rd_kafka_mock_cluster_new failed";
    return nullptr;
  }
  std::unique_ptr<KafkaMockCluster> c(new KafkaMockCluster());
  c->rk_ = rk;
  c->mcluster_ = mc;
  c->bootstrap_ = rd_kafka_mock_cluster_bootstraps(mc);
  c->brokers_ = brokers;
  return c;
}

KafkaMockCluster::~KafkaMockCluster() {
  if (mcluster_) rd_kafka_mock_cluster_destroy(mcluster_);
  if (rk_) rd_kafka_destroy(rk_);
}

bool KafkaMockCluster::create_topic(const std::string& name, int partitions, std::string* error) {
  rd_kafka_resp_err_t e =
      rd_kafka_mock_topic_create(mcluster_, name.c_str(), partitions, std::min(3, brokers_));
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (error) *error = "create topic " + name + ": " + rd_kafka_err2str(e);
    return false;
  }
  partitions_[name] = partitions;
  return true;
}

bool KafkaMockCluster::set_leader(const std::string& topic, int32_t partition, int32_t broker_id) {
  return rd_kafka_mock_partition_set_leader(mcluster_, topic.c_str(), partition, broker_id) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
}

bool KafkaMockCluster::set_rtt(int32_t broker_id, int rtt_ms) {
  return rd_kafka_mock_broker_set_rtt(mcluster_, broker_id, rtt_ms) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

namespace {

bool parse_int(const std::string& s, long lo, long hi, long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (*end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

int api_key_of(const std::string& name) {
  static const std::map<std::string, int> kApis = {
      {"Produce", 0},          {"Fetch", 1},          {"ListOffsets", 2},      {"Metadata", 3},
      {"OffsetCommit", 8},     {"OffsetFetch", 9},    {"FindCoordinator", 10}, {"JoinGroup", 11},
      {"Heartbeat", 12},       {"SyncGroup", 14},     {"InitProducerId", 22},  {"AddPartitionsToTxn", 24},
      {"AddOffsetsToTxn", 25}, {"EndTxn", 26},        {"TxnOffsetCommit", 28}};
  auto it = kApis.find(name);
  if (it != kApis.end()) return it->second;
  long v = 0;
  return parse_int(name, 0, 100, &v) ? static_cast<int>(v) : -1;
}

bool error_code_of(const std::string& name, rd_kafka_resp_err_t* out) {
  long v = 0;
  if (parse_int(name, -200, 1000, &v)) {
    *out = static_cast<rd_kafka_resp_err_t>(v);
    return true;
  }
  std::string n = name.rfind("RD_KAFKA_RESP_ERR_", 0) == 0 ? name.substr(18) : name;
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (size_t i = 0; i < count; ++i) {
    if (descs[i].name != nullptr && n == descs[i].name) {
      *out = descs[i].code;
      return true;
    }
  }
  return false;
}

std::string KafkaMockCluster::execute(const std::string& command) {
  std::istringstream in(command);
  std::vector<std::string> w;
  for (std::string t; in >> t;) w.push_back(t);
  if (w.empty()) return "empty command";
  long broker = 0;
  auto bad = [&] { return "bad command '" + command + "'"; };
  if (w[0] == "errors" && w.size() == 3) {
    const int api = api_key_of(w[1]);
    if (api < 0) return "unknown API '" + w[1] + "'";
    std::vector<rd_kafka_resp_err_t> errors;
    std::istringstream list(w[2]);
    for (std::string e; std::getline(list, e, ',');) {
      rd_kafka_resp_err_t code;
      if (!error_code_of(e, &code)) return "unknown error '" + e + "'";
      errors.push_back(code);
    }
    push_request_errors(static_cast<int16_t>(api), errors);
    return "";
  }
  if ((w[0] == "down" || w[0] == "up") && w.size() == 2 && parse_int(w[1], 1, brokers_, &broker)) {
    const bool ok = w[0] == "down" ? broker_down(static_cast<int32_t>(broker)) : broker_up(static_cast<int32_t>(broker));
    return ok ? "" : w[0] + " " + w[1] + " failed";
  }
  if (w[0] == "leader" && w.size() == 4 && parse_int(w[3], 1, brokers_, &broker)) {
    long from = 0, to = 0;
    if (w[2] == "*") {
      auto it = partitions_.find(w[1]);
      if (it == partitions_.end()) return "unknown topic '" + w[1] + "'";
      to = it->second - 1;
    } else if (parse_int(w[2], 0, 100000, &from)) {
      to = from;
    } else {
      return bad();
    }
    for (long p = from; p <= to; ++p) {
      if (!set_leader(w[1], static_cast<int32_t>(p), static_cast<int32_t>(broker))) {
        return "leader " + w[1] + "/" + std::to_string(p) + " failed";
      }
    }
    return "";
  }
  long ms = 0;
  if (w[0] == "rtt" && w.size() == 3 && parse_int(w[1], 1, brokers_, &broker) && parse_int(w[2], 0, 60000, &ms)) {
    return set_rtt(static_cast<int32_t>(broker), static_cast<int>(ms)) ? "" : "rtt failed";
  }
  return bad();
}

void KafkaMockCluster::push_request_errors(int16_t api_key, const std::vector<rd_kafka_resp_err_t>& errors) {
  rd_kafka_mock_push_request_errors_array(mcluster_, api_key, errors.size(), errors.data());
}

bool KafkaMockCluster::broker_down(int32_t broker_id) {
  return rd_kafka_mock_broker_set_down(mcluster_, broker_id) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

bool KafkaMockCluster::broker_up(int32_t broker_id) {
  return rd_kafka_mock_broker_set_up(mcluster_, broker_id) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

bool parse_topic_arg(const std::string& arg, std::string* name, int* partitions) {
  size_t colon = arg.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == arg.size()) return false;
  char* end = nullptr;
  long n = std::strtol(arg.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || n < 1 || n > 100000) return false;
  *name = arg.substr(0, colon);
  *partitions = static_cast<int>(n);
  return true;
}

}  // namespace tickflow::testing
