// Crash safety of the CandleProcessor: the test re-executes this binary as a child process
// (ProcessorCrashChild.Run, which must therefore live in the same test executable) over a
// pre-filled raw topic on the embedded bus, SIGKILLs it at random moments 20 times, and compares
// the result with an uninterrupted run.
#include "processing/candles/processor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bus/factory.h"
#include "core/codec.h"
#include "processing/candles/tests/processor_test_support.h"

namespace tickflow::processing {
namespace {

namespace fs = std::filesystem;
using namespace testing;

constexpr int kCrashTrades = 12000;
constexpr uint32_t kCrashSeed = 11;
constexpr int kKills = 20;

ProcessorConfig crash_config() {
  ProcessorConfig cfg = one_minute_config();
  cfg.candles.timeframes = Timeframe::parse_list("1m 5m").value();
  cfg.max_batch = 64;
  return cfg;
}

// The raw topic of the crash test: the feed plus some undecodable records.
void fill_crash_feed(EventBus& bus) {
  const auto feed = make_feed(kCrashTrades, kCrashSeed);
  for (size_t i = 0; i < feed.size(); ++i) {
    publish_trade(bus, feed[i]);
    if (i % 1000 == 999) {
      ASSERT_TRUE(bus.publish(kRaw, "binance:BTC-USDT", "junk " + std::to_string(i)).is_ok());
    }
  }
  // Far ahead in event time, then far behind: a too-late trade for the dead-letter topic.
  publish_trade(bus, make_trade("BTC-USDT", 900000, "1", "1", kT0 + 10 * kNsPerHour));
  publish_trade(bus, make_trade("BTC-USDT", 900001, "1", "1", kT0 + 1 * kNsPerSec));
}

// Not a test of its own: the body of the child process of the crash test. Skipped unless
// the parent set TICKFLOW_PROCESSOR_CHILD_DIR and TICKFLOW_PROCESSOR_CHILD_FD.
TEST(ProcessorCrashChild, Run) {
  const char* dir = std::getenv("TICKFLOW_PROCESSOR_CHILD_DIR");
  const char* fd_text = std::getenv("TICKFLOW_PROCESSOR_CHILD_FD");
  if (!dir || !fd_text) GTEST_SKIP() << "child process of ProcessorCrashTest only";
  const int fd = std::atoi(fd_text);
  auto report = [fd](int64_t v) {
    if (::write(fd, &v, sizeof v) != sizeof v) std::_Exit(3);
  };
  report(-2);  // alive, about to open the bus
  bus::BusConfig bc;
  bc.data_dir = dir;
  auto b = bus::make_event_bus(bc);
  if (!b.is_ok()) std::_Exit(4);
  EventBus& bus = **b;
  ManualClock clock(kT0 + kNsPerHour);
  CandleProcessor proc(bus, crash_config(), clock);
  if (!proc.start().is_ok()) std::_Exit(5);
  for (;;) {
    const uint64_t v = bus.data_version(kOhlcv);
    const int64_t done = committed_total(bus);
    report(done);
    if (proc.caught_up()) break;
    bus.wait_for_data(kOhlcv, v, 2 * kNsPerMs);
  }
  proc.stop();
  report(-1);  // finished
  // Stay alive until the parent kills us: a kill sent after the last report must still find a
  // live process (a starved parent can be far behind the child's reports).
  for (;;) ::pause();
}

class ChildProcess {
 public:
  ChildProcess(const std::string& dir) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    read_fd_ = fds[0];
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) {
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
      }
      ::setenv("TICKFLOW_PROCESSOR_CHILD_DIR", dir.c_str(), 1);
      ::setenv("TICKFLOW_PROCESSOR_CHILD_FD", std::to_string(fds[1]).c_str(), 1);
      ::execl("/proc/self/exe", "processor_test", "--gtest_filter=ProcessorCrashChild.Run",
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(fds[1]);
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (read_fd_ >= 0) ::close(read_fd_);
  }
  bool started() const { return pid_ > 0 && read_fd_ >= 0; }

  // Next progress report; nullopt at EOF (child gone) or after the deadline.
  std::optional<int64_t> next(std::chrono::milliseconds limit = std::chrono::milliseconds(30000)) {
    int64_t v;
    size_t got = 0;
    auto* p = reinterpret_cast<char*>(&v);
    while (got < sizeof v) {
      pollfd pfd{read_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(limit.count())) <= 0) return std::nullopt;
      ssize_t n = ::read(read_fd_, p + got, sizeof v - got);
      if (n <= 0) return std::nullopt;
      got += static_cast<size_t>(n);
    }
    return v;
  }
  void kill_now() { ::kill(pid_, SIGKILL); }
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
};

TEST(ProcessorCrashTest, KillNineAtRandomMomentsGivesTheCandlesOfAnUninterruptedRun) {
  const std::string base = fs::temp_directory_path() / ("tickflow-processor-crash-" + std::to_string(::getpid()));
  const std::string crash_dir = base + "/crash";
  const std::string ref_dir = base + "/reference";
  fs::remove_all(base);
  ManualClock clock(kT0 + kNsPerHour);
  int64_t total = 0;

  // Reference: uninterrupted, in this process.
  std::vector<Candle> ref_updates;
  std::vector<codec::DeadLetter> ref_dlq;
  {
    bus::BusConfig bc;
    bc.data_dir = ref_dir;
    auto b = bus::make_event_bus(bc);
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    fill_crash_feed(**b);
    total = end_total(**b, kRaw);
    CandleProcessor ref(**b, crash_config(), clock);
    drain(ref);
    ref_updates = read_updates(**b);
    ref_dlq = read_dead_letters(**b);
  }
  {
    bus::BusConfig bc;
    bc.data_dir = crash_dir;
    auto b = bus::make_event_bus(bc);
    ASSERT_TRUE(b.is_ok());
    fill_crash_feed(**b);
  }

  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed() + 5);
  int64_t progress = 0;
  int kills = 0, early_kills = 0, finished = 0;
  bool feed_done = false;  // once the child consumed everything, the remaining kills hit start-up
  std::vector<int64_t> kill_points;  // committed records when the kill was sent
  for (int round = 0; kills < kKills && round < kKills * 3; ++round) {
    ChildProcess child(crash_dir);
    ASSERT_TRUE(child.started());
    auto first = child.next();
    ASSERT_TRUE(first.has_value()) << "child did not start";
    ASSERT_EQ(*first, -2);
    if (feed_done || rng() % 6 == 0) {  // while it opens the bus and restores state
      child.kill_now();
      child.wait();
      ++kills;
      ++early_kills;
      continue;
    }
    const int kills_left = kKills - kills;
    const int64_t span = std::max<int64_t>(1, (total - progress) / (kills_left + 1));
    const int64_t target = progress + static_cast<int64_t>(rng() % static_cast<uint64_t>(span));
    bool killed = false;
    for (;;) {
      auto v = child.next();
      ASSERT_TRUE(v.has_value()) << "child died or hung";
      if (*v == -1) break;  // finished before the target
      ASSERT_GE(*v, progress) << "committed offsets went backwards";
      progress = *v;
      if (progress >= target) {
        child.kill_now();
        killed = true;
        kill_points.push_back(progress);
        break;
      }
    }
    if (!killed) child.kill_now();  // finished: it waits to be reaped
    const int status = child.wait();
    ASSERT_TRUE(WIFSIGNALED(status)) << status;
    if (killed) {
      ++kills;
    } else {
      ++finished;
      feed_done = true;
    }
  }
  EXPECT_EQ(kills, kKills);
  EXPECT_FALSE(kill_points.empty()) << "no kill landed while the child was consuming";
  std::string points;
  for (int64_t p : kill_points) points += " " + std::to_string(p);
  std::printf("crash test: %d kills (%d while opening), %d clean finishes, of %lld records; kills "
              "after:%s\n",
              kills, early_kills, finished, static_cast<long long>(total), points.c_str());

  // Finish in this process and compare with the uninterrupted run.
  bus::BusConfig bc;
  bc.data_dir = crash_dir;
  auto b = bus::make_event_bus(bc);
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  {
    CandleProcessor last(**b, crash_config(), clock);
    drain(last);
  }
  EXPECT_EQ(committed_total(**b), total);
  const auto got_updates = read_updates(**b);
  const auto want = last_per_key(ref_updates);
  const auto got = last_per_key(got_updates);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
  size_t finals = 0;
  std::map<std::string, int> seen;
  for (const Candle& c : got_updates) {
    if (c.status != CandleStatus::kProvisional && ++seen[describe(c)] == 1) ++finals;
  }
  for (const auto& [d, n] : seen) EXPECT_EQ(n, 1) << "repeated: " << d;
  EXPECT_GT(finals, 100u);

  auto dlq = read_dead_letters(**b);
  std::multiset<std::pair<std::string, std::string>> got_dlq, want_dlq;
  for (const auto& d : dlq) got_dlq.insert({d.reason, d.payload});
  for (const auto& d : ref_dlq) want_dlq.insert({d.reason, d.payload});
  EXPECT_EQ(got_dlq, want_dlq);
  EXPECT_EQ(want_dlq.count({"too_late", trade_record(make_trade("BTC-USDT", 900001, "1", "1",
                                                                 kT0 + 1 * kNsPerSec))}),
            1u);
  RecordProperty("kills", kills);
  RecordProperty("early_kills", early_kills);
  b->reset();
  fs::remove_all(base);
}

}  // namespace
}  // namespace tickflow::processing
