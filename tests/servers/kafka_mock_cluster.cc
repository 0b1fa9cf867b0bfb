#include "tests/servers/kafka_mock_cluster.h"

#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <cstdlib>

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
  return true;
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
