// End to end through the binary: `tickflow run --demo` with the shipped demo rules, a webhook
// receiver registered with POST /subscriptions (a local HTTP server that fails its first two
// requests) and a real Prometheus Alertmanager (Debian's prometheus-alertmanager) configured in
// [alertmanager]. The first alert reaches the receiver after two failures, every attempt carries
// the same idempotency key and a valid HMAC-SHA256 signature (recomputed here with OpenSSL, not
// with tickflow's code), each alert is acknowledged once, and the same alert is listed by
// Alertmanager's v2 API.
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/integration/harness.h"
#include "tests/servers/alertmanager_server.h"
#include "tests/servers/webhook_server.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

std::string hmac_hex(const std::string& key, const std::string& msg) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string json_field(const std::string& body, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  auto at = body.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return body.substr(at, body.find('"', at) - at);
}

TEST(AlertsDeliveryEndToEnd, WebhookAfterTwoFailuresAndAlertmanagerGetEachAlertOnce) {
  ASSERT_TRUE(AlertmanagerServer::available()) << "prometheus-alertmanager is missing: run scripts/install-deps.sh";
  AlertmanagerServer am;
  ASSERT_TRUE(am.start()) << am.error();
  WebhookServer receiver([](size_t n) { return n < 2 ? 503 : 200; });
  ASSERT_TRUE(receiver.start());

  const std::string dir = make_temp_dir("tickflow_e2e_delivery");
  {
    std::ifstream demo(std::string(TICKFLOW_SOURCE_DIR) + "/config/demo.toml");
    std::stringstream cfg;
    cfg << demo.rdbuf();
    cfg << "\n[webhooks]\nbackoff = \"100ms\"\nmax_backoff = \"200ms\"\n"
        << "[alertmanager]\nurl = \"" << am.url() << "\"\nbackoff = \"100ms\"\nmax_backoff = \"200ms\"\n";
    std::ofstream(dir + "/delivery.toml") << cfg.str();
  }
  Subprocess run({tickflow_binary(), "run", "--demo", "--config", dir + "/delivery.toml", "--port", "0", "--data-dir",
                  dir + "/data"},
                 dir + "/run.log");
  auto listening = run.wait_for_line("api listening on", 30s);
  ASSERT_TRUE(listening) << run.output();
  const int port = port_from_line(*listening);
  const std::string api = "http://127.0.0.1:" + std::to_string(port);

  // A URL that is not http(s) is refused before anything is stored.
  EXPECT_EQ(http_post(api + "/subscriptions", R"({"url":"ftp://127.0.0.1/x"})").status, 400);
  const std::string secret = "e2e-secret-0123456789";
  HttpResult created =
      http_post(api + "/subscriptions", R"({"url":")" + receiver.url() + R"(","secret":")" + secret + R"("})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sub_id = json_field(created.body, "id");
  ASSERT_FALSE(sub_id.empty()) << created.body;
  EXPECT_EQ(http_get(api + "/subscriptions/" + sub_id).status, 200);

  // Two failed attempts, then the delivery: three requests for the first alert.
  ASSERT_TRUE(receiver.wait_for_count(3, 240s)) << run.output();
  const std::string first_key = receiver.requests()[0].header("idempotency-key");
  ASSERT_FALSE(first_key.empty());
  // The same first alert reaches Alertmanager (alert_id label without the state suffix, the
  // full id in the tickflow_alert_id annotation).
  EXPECT_TRUE(wait_until([&] { return am.alerts().find(first_key) != std::string::npos; }, 60s)) << am.alerts();
  // Let a few more alerts through, then stop the pipeline so the set is final.
  receiver.wait_for_count(6, 60s);
  run.kill(SIGINT);
  EXPECT_EQ(run.wait(60s), 0) << run.output();

  const auto reqs = receiver.requests();
  ASSERT_GE(reqs.size(), 3u);
  std::map<std::string, int> acknowledged;  // idempotency key → 2xx answers
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto& r = reqs[i];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.header("x-tickflow-subscription"), sub_id);
    const std::string ts = r.header("x-tickflow-timestamp");
    EXPECT_EQ(r.header("x-tickflow-signature"), "sha256=" + hmac_hex(secret, ts + "." + r.body)) << i;
    const std::string key = r.header("idempotency-key");
    EXPECT_EQ(json_field(r.body, "alert_id"), key) << r.body;
    EXPECT_EQ(key.rfind("demo_", 0), 0u) << key;
    if (i < 3) {
      EXPECT_EQ(key, first_key) << "the retries carry the first alert's key";
      EXPECT_EQ(r.body, reqs[0].body);
    }
    if (i >= 2) ++acknowledged[key];
  }
  for (const auto& [key, n] : acknowledged) EXPECT_EQ(n, 1) << key << " acknowledged more than once";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace tickflow::testing
