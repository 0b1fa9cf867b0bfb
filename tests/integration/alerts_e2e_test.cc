// End to end: `tickflow run --demo --config config/demo.toml` (the shipped demo rules) publishes
// alerts on processed.alerts within a couple of minutes; after a kill -9 and a restart on the
// same data directory no alert id is published twice (`tickflow tail processed.alerts`).
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "tests/integration/harness.h"

namespace tickflow::testing {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> run_demo_args(const std::string& dir) {
  return {tickflow_binary(), "run",        "--demo", "--config", std::string(TICKFLOW_SOURCE_DIR) + "/config/demo.toml",
          "--port",          "0",          "--data-dir", dir + "/data"};
}

// alert_id of every record on processed.alerts, in log order.
std::vector<std::string> published_alert_ids(const std::string& dir, std::string* raw = nullptr) {
  static int calls = 0;
  Subprocess tail({tickflow_binary(), "tail", "processed.alerts", "--from-beginning", "--no-follow", "--data-dir",
                   dir + "/data"},
                  dir + "/tail_" + std::to_string(calls++) + ".log");
  EXPECT_EQ(tail.wait(60s), 0) << tail.output();
  std::string out = tail.output();
  if (raw) *raw = out;
  std::vector<std::string> ids;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto at = line.find("\"alert_id\":\"");
    if (at == std::string::npos) continue;
    at += 12;
    ids.push_back(line.substr(at, line.find('"', at) - at));
  }
  return ids;
}

TEST(AlertsEndToEnd, DemoRulesFireAndRestartsNeverRepeatAnAlert) {
  const std::string dir = make_temp_dir("tickflow_e2e_alerts");
  {
    Subprocess run(run_demo_args(dir), dir + "/run_0.log");
    ASSERT_TRUE(run.wait_for_line("api listening on", 30s)) << run.output();
    // Logged after the commit: the alert is on processed.alerts. Then crash.
    ASSERT_TRUE(run.wait_for_line("firing:", 240s)) << run.output();
    run.kill(SIGKILL);
    run.wait(30s);
  }
  const size_t before = published_alert_ids(dir).size();
  ASSERT_GT(before, 0u);
  {
    Subprocess run(run_demo_args(dir), dir + "/run_1.log");
    ASSERT_TRUE(run.wait_for_line("api listening on", 30s)) << run.output();
    ASSERT_TRUE(run.wait_for_line("firing:", 240s)) << run.output();
    run.kill(SIGINT);
    EXPECT_EQ(run.wait(60s), 0) << run.output();
  }
  std::string raw;
  auto ids = published_alert_ids(dir, &raw);
  ASSERT_GT(ids.size(), before);
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size()) << raw;
  for (const auto& id : ids) EXPECT_EQ(id.rfind("demo_", 0), 0u) << id;
  EXPECT_NE(raw.find("\"state\":\"firing\""), std::string::npos);
}

}  // namespace
}  // namespace tickflow::testing
