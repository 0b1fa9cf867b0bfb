// Alertmanager delivery: the payload mapping, and a real Alertmanager (Debian's
// prometheus-alertmanager) on loopback receiving a firing alert and its resolution.
#include <gtest/gtest.h>

#include <simdjson.h>

#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "delivery/alertmanager.h"
#include "tests/servers/alertmanager_server.h"
#include "tests/servers/webhook_server.h"

namespace tickflow::delivery {
namespace {

using bus::testing::InMemoryBus;

Alert firing_alert(TimestampNs ts) {
  Alert a;
  a.rule = "btc_above";
  a.kind = "price_cross";
  a.state = "firing";
  a.severity = "critical";
  a.exchange = "binance";
  a.symbol = "BTC-USDT";
  a.timeframe = "1m";
  a.ts_event = ts;
  a.value = 47123.5;
  a.threshold = 47000;
  a.message = "BTC-USDT crossed above 47000";
  a.labels = {{"team", "desk"}, {"bad-name", "x"}};
  a.alert_id = "btc_above:binance:BTC-USDT:1m:" + std::to_string(ts / kNsPerMs) + ":firing";
  return a;
}

TEST(AlertmanagerPayload, MapsLabelsAnnotationsAndTimes) {
  Alert a = firing_alert(1628952360000 * kNsPerMs);
  simdjson::dom::parser parser;
  std::string body = alertmanager_payload(a, "http://tickflow:8080/");
  auto doc = parser.parse(body);
  ASSERT_FALSE(doc.error()) << body;
  auto am = doc.at(0);
  EXPECT_EQ(std::string_view(am["labels"]["alertname"]), "btc_above");
  EXPECT_EQ(std::string_view(am["labels"]["severity"]), "critical");
  EXPECT_EQ(std::string_view(am["labels"]["symbol"]), "BTC-USDT");
  EXPECT_EQ(std::string_view(am["labels"]["alert_id"]), "btc_above:binance:BTC-USDT:1m:1628952360000");
  EXPECT_EQ(std::string_view(am["labels"]["team"]), "desk");
  EXPECT_TRUE(am["labels"]["bad-name"].error());  // not a valid label name: left out
  EXPECT_EQ(std::string_view(am["annotations"]["summary"]), a.message);
  EXPECT_EQ(std::string_view(am["startsAt"]), "2021-08-14T14:46:00.000Z");
  EXPECT_TRUE(am["endsAt"].error());
  EXPECT_EQ(std::string_view(am["generatorURL"]), "http://tickflow:8080/");

  Alert r = a;
  r.state = "resolved";
  r.ts_event = a.ts_event + 5 * kNsPerMin;
  r.alert_id = "btc_above:binance:BTC-USDT:1m:1628952360000:resolved";
  body = alertmanager_payload(r, "");
  auto rd = parser.parse(body);
  ASSERT_FALSE(rd.error()) << body;
  EXPECT_EQ(std::string_view(rd.at(0)["labels"]["alert_id"]), "btc_above:binance:BTC-USDT:1m:1628952360000");
  EXPECT_EQ(std::string_view(rd.at(0)["startsAt"]), "2021-08-14T14:46:00.000Z");
  EXPECT_EQ(std::string_view(rd.at(0)["endsAt"]), "2021-08-14T14:51:00.000Z");
  EXPECT_EQ(alertmanager_endpoint("http://am:9093/"), "http://am:9093/api/v2/alerts");
}

RetryPolicy fast() {
  RetryPolicy p;
  p.max_attempts = 3;
  p.initial_backoff = 5 * kNsPerMs;
  p.max_backoff = 20 * kNsPerMs;
  return p;
}

TEST(AlertmanagerWorker, RetriesThenDeliversAndStartsAtTheEndTheFirstTime) {
  testing::WebhookServer am([](size_t n) { return n == 0 ? 503 : 200; });
  ASSERT_TRUE(am.start());
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  const TimestampNs now = SystemClock::instance().now_ns();
  Alert old = firing_alert(now - kNsPerMin);
  old.rule = "published_before_configuring";
  ASSERT_TRUE(bus.publish(topics::kProcessedAlerts, old.alert_id, codec::encode_alert(old)).is_ok());
  AlertmanagerOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(am.port());
  o.retry = fast();
  auto worker = make_alertmanager_worker(bus, o);
  ASSERT_TRUE(worker) << worker.status().to_string();
  ASSERT_TRUE((*worker)->start().is_ok());
  Alert a = firing_alert(now);
  ASSERT_TRUE(bus.publish(topics::kProcessedAlerts, a.alert_id, codec::encode_alert(a)).is_ok());
  ASSERT_TRUE(am.wait_for_count(2, std::chrono::seconds(30)));
  ASSERT_TRUE(bus.wait_until([&] { return (*worker)->delivered() == 1; }, std::chrono::seconds(30)));
  auto reqs = am.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].target, "/api/v2/alerts");
  EXPECT_EQ(reqs[1].body, alertmanager_payload(a, ""));
  EXPECT_EQ((*worker)->attempts(), 2u);
}

TEST(AlertmanagerWorker, ARealAlertmanagerReceivesTheAlert) {
  if (!testing::AlertmanagerServer::available()) GTEST_SKIP() << "prometheus-alertmanager is not installed";
  testing::AlertmanagerServer server;
  ASSERT_TRUE(server.start()) << server.error();
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  AlertmanagerOptions o;
  o.url = server.url();
  o.generator_url = "http://127.0.0.1:8080/";
  o.retry = fast();
  auto worker = make_alertmanager_worker(bus, o);
  ASSERT_TRUE(worker);
  ASSERT_TRUE((*worker)->start().is_ok());
  Alert a = firing_alert(SystemClock::instance().now_ns());
  ASSERT_TRUE(bus.publish(topics::kProcessedAlerts, a.alert_id, codec::encode_alert(a)).is_ok());
  ASSERT_TRUE(bus.wait_until([&] { return (*worker)->delivered() == 1; }, std::chrono::seconds(30)));
  std::string body;
  ASSERT_TRUE(bus.wait_until(
      [&] {
        body = server.alerts();
        return body.find("btc_above") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << body;
  simdjson::dom::parser parser;
  auto doc = parser.parse(body);
  ASSERT_FALSE(doc.error()) << body;
  simdjson::dom::array arr = doc.get_array();
  ASSERT_EQ(arr.size(), 1u) << body;
  auto got = arr.at(0);
  EXPECT_EQ(std::string_view(got["labels"]["alertname"]), "btc_above");
  EXPECT_EQ(std::string_view(got["labels"]["severity"]), "critical");
  EXPECT_EQ(std::string_view(got["labels"]["exchange"]), "binance");
  EXPECT_EQ(std::string_view(got["labels"]["timeframe"]), "1m");
  EXPECT_EQ(std::string_view(got["annotations"]["tickflow_alert_id"]), a.alert_id);
  EXPECT_EQ(std::string_view(got["status"]["state"]), "active");
  EXPECT_EQ(std::string_view(got["generatorURL"]), "http://127.0.0.1:8080/");
}

}  // namespace
}  // namespace tickflow::delivery
