// Kafka for tests: librdkafka's mock cluster (rdkafka_mock.h — the real Kafka protocol on
// loopback TCP, brokers in librdkafka's own threads), no Kafka broker needed.
//
// KafkaMockCluster runs the mock IN THIS PROCESS. Unit tests use it because fault injection
// (push_request_errors, broker_down) needs the mock's handle, which only the owning process has.
// KafkaMockServer runs the same cluster in a child process (`tickflow_kafka_mock`, built from
// kafka_mock_main.cc) for multi-process tests (services as separate OS processes against one
// cluster that none of them owns) and for trying the Kafka bus from a shell.
//
// The mock has no Admin CreateTopics: topics are created through rd_kafka_mock_topic_create
// (create_topic() / the program's `name:partitions` arguments). It does not enforce
// transactions. Its group rejoin waits session.timeout.ms - 1 s: use 4000-6000 ms in tests.
//
// Thread-safety: the mock is thread-safe (its brokers run in librdkafka threads); the class is
// used by one test thread.
// Lifetime: the destructor stops the cluster; clients should be destroyed first.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace tickflow::testing {

class KafkaMockCluster {
 public:
  // Starts `brokers` brokers on 127.0.0.1 (random ports). nullptr with *error set on failure.
  static std::unique_ptr<KafkaMockCluster> start(int brokers, std::string* error);
  ~KafkaMockCluster();
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  // "127.0.0.1:port,127.0.0.1:port,..." for bootstrap.servers.
  const std::string& bootstrap() const { return bootstrap_; }
  int brokers() const { return brokers_; }
  // Creates a topic (replication = min(3, brokers)). False with *error on failure.
  bool create_topic(const std::string& name, int partitions, std::string* error = nullptr);
  // The next `errors.size()` requests of `api_key` (e.g. RD_KAFKAP_Produce = 0) fail, in order,
  // with these errors (then requests succeed again).
  void push_request_errors(int16_t api_key, const std::vector<rd_kafka_resp_err_t>& errors);
  bool broker_down(int32_t broker_id);
  bool broker_up(int32_t broker_id);
  // Moves the partition's leadership to broker_id (clients follow after a metadata refresh).
  bool set_leader(const std::string& topic, int32_t partition, int32_t broker_id);
  // Adds rtt_ms of round-trip time to every request of the broker (0 removes it).
  bool set_rtt(int32_t broker_id, int rtt_ms);

  // One fault-injection command (the control channel of `tickflow_kafka_mock --control`):
  //   errors API ERR[,ERR...]          push_request_errors; API = a name (Produce, Fetch,
  //                                    ListOffsets, Metadata, OffsetCommit, OffsetFetch,
  //                                    FindCoordinator, InitProducerId, AddPartitionsToTxn,
  //                                    AddOffsetsToTxn, EndTxn, TxnOffsetCommit) or a number;
  //                                    ERR = a librdkafka error name without RD_KAFKA_RESP_ERR_
  //                                    (NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT, ...) or a number
  //   down BROKER | up BROKER          broker_down / broker_up
  //   leader TOPIC PARTITION|* BROKER  set_leader (every partition of a topic this object created: *)
  //   rtt BROKER MS                    set_rtt
  // Returns "" on success, else the reason.
  std::string execute(const std::string& command);
  rd_kafka_mock_cluster_t* handle() const { return mcluster_; }

 private:
  KafkaMockCluster() = default;
  rd_kafka_t* rk_ = nullptr;  // the handle the mock cluster lives in
  rd_kafka_mock_cluster_t* mcluster_ = nullptr;
  std::string bootstrap_;
  int brokers_ = 0;
  std::map<std::string, int> partitions_;  // topics created through create_topic
};

// Kafka protocol ApiKey of a request name ("Produce" → 0, ...) or of a number; -1 if unknown.
int api_key_of(const std::string& name);
// A librdkafka error code from its name ("NOT_LEADER_FOR_PARTITION", with or without the
// RD_KAFKA_RESP_ERR_ prefix) or its number; false if unknown.
bool error_code_of(const std::string& name, rd_kafka_resp_err_t* out);

// Parses a "name:partitions" argument; false on a malformed one.
bool parse_topic_arg(const std::string& arg, std::string* name, int* partitions);

}  // namespace tickflow::testing
