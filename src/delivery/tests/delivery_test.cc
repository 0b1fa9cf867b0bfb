// Webhook delivery: signing, subscription parsing and durability, and the dispatcher against a
// real HTTP receiver on loopback (tests/servers/webhook_server.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "bus/factory.h"
#include "bus/testing/in_memory_bus.h"
#include "core/codec.h"
#include "delivery/alert_json.h"
#include "delivery/signing.h"
#include "delivery/subscription.h"
#include "delivery/webhook.h"
#include "tests/integration/harness.h"
#include "tests/servers/webhook_server.h"

namespace tickflow::delivery {
namespace {

using bus::testing::InMemoryBus;
using testing::WebhookServer;
constexpr auto kWait = std::chrono::seconds(30);

Alert make_alert(std::string rule = "btc_above", std::string state = "firing", std::string symbol = "BTC-USDT") {
  Alert a;
  a.rule = std::move(rule);
  a.kind = "price_cross";
  a.state = std::move(state);
  a.severity = "critical";
  a.exchange = "binance";
  a.symbol = std::move(symbol);
  a.timeframe = "1m";
  a.ts_event = 1628952360000 * kNsPerMs;
  a.value = 47123.5;
  a.threshold = 47000;
  a.message = "BTC-USDT close 47123.5 crossed above 47000";
  a.labels = {{"team", "desk \"a\""}};
  a.alert_id = a.rule + ":binance:" + a.symbol + ":1m:1628952360000:" + a.state;
  return a;
}

void publish(bus::EventBus& bus, const Alert& a) {
  ASSERT_TRUE(bus.publish(topics::kProcessedAlerts, a.alert_id, codec::encode_alert(a)).is_ok());
}

int64_t committed_total(const bus::EventBus& bus, const std::string& group) {
  int64_t total = 0;
  auto t = bus.topic(topics::kProcessedAlerts);
  for (int32_t p = 0; p < t->partitions; ++p) total += *bus.committed_offset(group, topics::kProcessedAlerts, p);
  return total;
}

int64_t end_total(const bus::EventBus& bus) {
  int64_t total = 0;
  auto t = bus.topic(topics::kProcessedAlerts);
  for (int32_t p = 0; p < t->partitions; ++p) total += *bus.end_offset(topics::kProcessedAlerts, p);
  return total;
}

SubscriptionRequest request_for(const std::string& url) {
  SubscriptionRequest r;
  r.url = url;
  return r;
}

WebhookOptions fast_retries(int max_attempts) {
  WebhookOptions o;
  o.retry.max_attempts = max_attempts;
  o.retry.initial_backoff = 5 * kNsPerMs;
  o.retry.max_backoff = 20 * kNsPerMs;
  o.retry.timeout = 5 * kNsPerSec;
  o.idle_wait = 100 * kNsPerMs;
  return o;
}

TEST(Signing, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(signature_header("Jefe", "what do ya want", " for nothing?"),
            "sha256=" + hmac_sha256_hex("Jefe", "what do ya want. for nothing?"));
  auto a = random_hex(16), b = random_hex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST(AlertJson, EscapesAndNeverWritesNaN) {
  Alert a = make_alert();
  a.value = std::numeric_limits<double>::quiet_NaN();
  std::string j = alert_json(a);
  EXPECT_NE(j.find("\"value\":null"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("team":"desk \"a\"")"), std::string::npos) << j;
  EXPECT_NE(j.find("\"ts_event\":\"2021-08-14T14:46:00.000Z\""), std::string::npos) << j;
  EXPECT_EQ(alert_instance_id("r:binance:X:1m:5:resolved"), "r:binance:X:1m:5");
  EXPECT_EQ(alert_instance_id("r:binance:X:1m:5:firing"), "r:binance:X:1m:5");
}

TEST(SubscriptionRequest, ParsesAndNamesTheBadField) {
  std::string field;
  auto ok = parse_subscription_request(
      R"({"url":"http://h/x","filter":{"rules":["a"],"states":["firing"]},"secret":"0123456789abcdef"})", &field);
  ASSERT_TRUE(ok) << ok.status().to_string();
  EXPECT_EQ(ok->url, "http://h/x");
  EXPECT_EQ(ok->filter.rules, std::vector<std::string>{"a"});
  EXPECT_EQ(ok->secret.value_or(""), "0123456789abcdef");

  struct Case {
    const char* body;
    const char* field;
  } cases[] = {{"{not json", "body"},
               {"[1]", "body"},
               {"{}", "url"},
               {R"({"url":5})", "url"},
               {R"({"url":"http://h","filter":[]})", "filter"},
               {R"({"url":"http://h","filter":{"states":["maybe"]}})", "filter.states"},
               {R"({"url":"http://h","filter":{"rules":[1]}})", "filter.rules"},
               {R"({"url":"http://h","filter":{"colour":["red"]}})", "filter.colour"},
               {R"({"url":"http://h","secret":"short"})", "secret"},
               {R"({"url":"http://h","extra":1})", "extra"}};
  for (const auto& c : cases) {
    field.clear();
    auto r = parse_subscription_request(c.body, &field);
    EXPECT_FALSE(r) << c.body;
    EXPECT_EQ(field, c.field) << c.body;
  }
}

TEST(SubscriptionFilter, EmptyListsMatchEverything) {
  SubscriptionFilter f;
  EXPECT_TRUE(f.matches(make_alert()));
  f.states = {"resolved"};
  EXPECT_FALSE(f.matches(make_alert()));
  EXPECT_TRUE(f.matches(make_alert("btc_above", "resolved")));
  f.symbols = {"ETH-USDT"};
  EXPECT_FALSE(f.matches(make_alert("btc_above", "resolved")));
}

TEST(SubscriptionStore, SurvivesReopeningTheEmbeddedBus) {
  const std::string dir = testing::make_temp_dir("tickflow_subs");
  bus::BusConfig cfg;
  cfg.data_dir = dir;
  std::string id, secret;
  {
    auto bus = bus::make_event_bus(cfg);
    ASSERT_TRUE(bus) << bus.status().to_string();
    publish(**bus, make_alert("old"));
    SubscriptionStore store(**bus, std::string(topics::kProcessedAlerts));
    SubscriptionRequest req = request_for("http://127.0.0.1:1/hook");
    req.filter.rules = {"r1"};
    auto sub = store.create(req);
    ASSERT_TRUE(sub) << sub.status().to_string();
    EXPECT_EQ(sub->secret.size(), 48u);  // generated
    id = sub->id;
    secret = sub->secret;
    auto second = store.create(request_for("http://127.0.0.1:2/other"));
    ASSERT_TRUE(second);
    ASSERT_TRUE(store.remove(second->id).is_ok());
    EXPECT_EQ(store.remove(second->id).code(), ErrorCode::kNotFound);
    // A new subscription starts after the alerts already published.
    EXPECT_EQ(committed_total(**bus, webhook_group(id)), 1);
  }
  auto bus = bus::make_event_bus(cfg);
  ASSERT_TRUE(bus) << bus.status().to_string();
  SubscriptionStore store(**bus, std::string(topics::kProcessedAlerts));
  auto all = store.list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, id);
  EXPECT_EQ(all[0].secret, secret);
  EXPECT_EQ(all[0].url, "http://127.0.0.1:1/hook");
  EXPECT_EQ(all[0].filter.rules, std::vector<std::string>{"r1"});
  EXPECT_EQ(committed_total(**bus, webhook_group(id)), 1);
  std::filesystem::remove_all(dir);
}

// Checks the signature the way a receiver would.
void expect_signed(const testing::ReceivedRequest& r, const std::string& secret) {
  const std::string ts = r.header("x-tickflow-timestamp");
  ASSERT_FALSE(ts.empty());
  EXPECT_EQ(r.header("x-tickflow-signature"), "sha256=" + hmac_sha256_hex(secret, ts + "." + r.body));
}

TEST(WebhookDispatcher, DeliversOnceWithAValidSignatureAfterTwoFailures) {
  WebhookServer receiver([](size_t n) { return n < 2 ? 503 : 200; });
  ASSERT_TRUE(receiver.start());
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  SubscriptionStore store(bus, std::string(topics::kProcessedAlerts));
  auto sub = store.create(request_for(receiver.url()));
  ASSERT_TRUE(sub);
  WebhookDispatcher dispatcher(bus, store, fast_retries(5));
  ASSERT_TRUE(dispatcher.start().is_ok());
  const Alert alert = make_alert();
  publish(bus, alert);

  ASSERT_TRUE(receiver.wait_for_count(3, kWait));
  ASSERT_TRUE(bus.wait_until([&] { return committed_total(bus, webhook_group(sub->id)) == 1; }, kWait));
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 3u);  // two failures, then the delivery; nothing after the ack
  std::set<std::string> keys;
  for (const auto& r : reqs) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hook");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("x-tickflow-subscription"), sub->id);
    EXPECT_EQ(r.body, alert_json(alert));
    expect_signed(r, sub->secret);
    keys.insert(r.header("idempotency-key"));
  }
  // The application sees one alert: every attempt carries the same idempotency key.
  EXPECT_EQ(keys, std::set<std::string>{alert.alert_id});
  EXPECT_EQ(bus.count(topics::kDlqMarketData), 0u);
  EXPECT_EQ(dispatcher.health().state, HealthState::kUp);
}

TEST(WebhookDispatcher, DeadLettersAfterMaxAttemptsAndMovesOn) {
  WebhookServer receiver([](size_t) { return 500; });
  ASSERT_TRUE(receiver.start());
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  SubscriptionStore store(bus, std::string(topics::kProcessedAlerts));
  auto sub = store.create(request_for(receiver.url()));
  ASSERT_TRUE(sub);
  WebhookDispatcher dispatcher(bus, store, fast_retries(3));
  ASSERT_TRUE(dispatcher.start().is_ok());
  const Alert first = make_alert("r1"), second = make_alert("r2");
  publish(bus, first);
  publish(bus, second);

  ASSERT_TRUE(bus.wait_until([&] { return bus.count(topics::kDlqMarketData) == 2; }, kWait));
  ASSERT_TRUE(bus.wait_until([&] { return committed_total(bus, webhook_group(sub->id)) == 2; }, kWait));
  EXPECT_EQ(receiver.count(), 6u);  // 3 attempts each
  std::set<std::string> ids;
  for (const auto& rec : bus.records(topics::kDlqMarketData)) {
    auto d = codec::decode_dead_letter(rec.value);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reason, "webhook_failed");
    EXPECT_NE(d->detail.find(receiver.url()), std::string::npos) << d->detail;
    EXPECT_NE(d->detail.find("HTTP 500"), std::string::npos) << d->detail;
    auto a = codec::decode_alert(d->payload);
    ASSERT_TRUE(a);
    ids.insert(a->alert_id);
  }
  EXPECT_EQ(ids, (std::set<std::string>{first.alert_id, second.alert_id}));
  EXPECT_EQ(dispatcher.health().state, HealthState::kDegraded);
}

TEST(WebhookDispatcher, FiltersAndADeadReceiverDoesNotDelayOthers) {
  WebhookServer dead([](size_t) { return 500; });
  WebhookServer live;
  ASSERT_TRUE(dead.start());
  ASSERT_TRUE(live.start());
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  SubscriptionStore store(bus, std::string(topics::kProcessedAlerts));
  ASSERT_TRUE(store.create(request_for(dead.url())));
  SubscriptionRequest only_eth = request_for(live.url());
  only_eth.filter.symbols = {"ETH-USDT"};
  ASSERT_TRUE(store.create(only_eth));
  WebhookOptions o = fast_retries(100);
  o.retry.initial_backoff = o.retry.max_backoff = 3600 * kNsPerSec;  // the dead one waits an hour
  WebhookDispatcher dispatcher(bus, store, o);
  ASSERT_TRUE(dispatcher.start().is_ok());
  publish(bus, make_alert("r", "firing", "BTC-USDT"));
  publish(bus, make_alert("r", "firing", "ETH-USDT"));
  ASSERT_TRUE(dead.wait_for_count(1, kWait));
  ASSERT_TRUE(live.wait_for_count(1, kWait));
  auto got = live.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].body.find("\"symbol\":\"ETH-USDT\""), std::string::npos);
  dispatcher.stop();  // interrupts the hour-long backoff
}

TEST(WebhookDispatcher, FollowsNewAndDeletedSubscriptionsAndResumesAfterRestart) {
  WebhookServer receiver;
  ASSERT_TRUE(receiver.start());
  InMemoryBus bus(InMemoryBus::InitialTopics::kDefault);
  SubscriptionStore store(bus, std::string(topics::kProcessedAlerts));
  auto dispatcher = std::make_unique<WebhookDispatcher>(bus, store, fast_retries(3));
  ASSERT_TRUE(dispatcher->start().is_ok());
  publish(bus, make_alert("before_subscribing"));
  auto sub = store.create(request_for(receiver.url()));
  ASSERT_TRUE(sub);
  ASSERT_TRUE(bus.wait_until([&] { return dispatcher->worker_count() == 1; }, kWait));
  publish(bus, make_alert("a1"));
  ASSERT_TRUE(receiver.wait_for_count(1, kWait));
  ASSERT_TRUE(bus.wait_until([&] { return committed_total(bus, webhook_group(sub->id)) == end_total(bus); }, kWait));
  dispatcher.reset();  // restart: positions come from the bus
  dispatcher = std::make_unique<WebhookDispatcher>(bus, store, fast_retries(3));
  ASSERT_TRUE(dispatcher->start().is_ok());
  publish(bus, make_alert("a2"));
  ASSERT_TRUE(receiver.wait_for_count(2, kWait));
  ASSERT_TRUE(bus.wait_until([&] { return committed_total(bus, webhook_group(sub->id)) == end_total(bus); }, kWait));
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("idempotency-key"), make_alert("a1").alert_id);
  EXPECT_EQ(reqs[1].header("idempotency-key"), make_alert("a2").alert_id);
  ASSERT_TRUE(store.remove(sub->id).is_ok());
  ASSERT_TRUE(bus.wait_until([&] { return dispatcher->worker_count() == 0; }, kWait));
}

}  // namespace
}  // namespace tickflow::delivery
