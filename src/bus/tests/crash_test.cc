// Crash safety of the embedded bus: a child process commits transactions in a loop and is
// SIGKILLed at a random moment; the parent reopens the DB and checks that every committed
// transaction is entirely present (records, consumer offset, state) or entirely absent, that
// offsets are dense, and that nothing acknowledged before the kill was lost.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "bus/embedded/rocks_bus.h"
#include "bus/factory.h"
#include "bus/tests/child_process.h"
#include "bus/tests/test_dir.h"

namespace tickflow::bus::embedded {
namespace {

using testing_util::PipedChild;
using testing_util::TempDir;

constexpr int kRecordsPerTxn = 3;
constexpr int32_t kPartitions = 4;

std::string txn_key(int64_t txn, int j) {
  return "key" + std::to_string((txn * kRecordsPerTxn + j) % 11);
}
std::string txn_value(int64_t txn, int j) { return std::to_string(txn) + ":" + std::to_string(j); }

// Child body: continue the sequence of transactions from the stored counter; after each
// successful commit write one byte to `ack_fd`. Never returns.
[[noreturn]] void run_committer(const std::string& path, int ack_fd) {
  RocksBusOptions o;
  o.path = path;
  auto opened = RocksEventBus::open(o);
  if (!opened) _exit(3);
  auto& bus = **opened;
  if (!bus.create_topic({"out", kPartitions, 0}).is_ok()) _exit(4);
  auto st = bus.get_state("stage", "counter");
  if (!st) _exit(5);
  int64_t next = st->has_value() ? std::stoll(**st) + 1 : 0;
  for (;; ++next) {
    auto txn = bus.begin();
    for (int j = 0; j < kRecordsPerTxn; ++j)
      txn->append("out", txn_key(next, j), txn_value(next, j));
    txn->commit_offset("stage", "in", 0, next + 1);
    txn->put_state("stage", "counter", std::to_string(next));
    txn->put_state("stage", "last-values", txn_value(next, 0));
    if (!txn->commit().is_ok()) _exit(6);
    char b = 1;
    if (::write(ack_fd, &b, 1) != 1) _exit(7);
  }
}

TEST(RocksBusCrash, KillNineAtRandomMomentsNeverLosesOrTearsATransaction) {
  TempDir dir;
  const std::string path = dir.sub("bus");
  std::mt19937 rng(12345);
  int64_t acknowledged_total = 0;  // commits acknowledged to the parent over all runs
  for (int round = 0; round < 20; ++round) {
    PipedChild child([&](int ack_fd) { run_committer(path, ack_fd); });
    ASSERT_TRUE(child.started());
    // Wait (blocking read, no sleep) until the child acknowledged a random number of commits,
    // then kill it wherever it is (usually in the middle of the next commit).
    const int target = std::uniform_int_distribution<int>(1, 400)(rng);
    const int acked = child.read_acks(target);
    ASSERT_EQ(acked, target) << "child died early in round " << round;
    int status = 0;
    ASSERT_TRUE(child.kill_and_wait(&status));
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    acknowledged_total += acked;

    // Reopen and check the invariant.
    RocksBusOptions o;
    o.path = path;
    auto opened = RocksEventBus::open(o);
    ASSERT_TRUE(opened) << opened.status().to_string();
    auto& bus = **opened;
    auto counter = bus.get_state("stage", "counter");
    ASSERT_TRUE(counter && counter->has_value());
    const int64_t committed = std::stoll(**counter) + 1;  // transactions 0..committed-1
    EXPECT_GE(committed, acknowledged_total) << "an acknowledged commit was lost";
    EXPECT_EQ(*bus.committed_offset("stage", "in", 0), committed);
    EXPECT_EQ(bus.get_state("stage", "last-values")->value_or(""), txn_value(committed - 1, 0));

    std::map<std::string, int> seen;  // value → count
    int64_t total = 0;
    for (int32_t p = 0; p < kPartitions; ++p) {
      std::vector<Record> recs;
      ASSERT_TRUE(bus.read("out", p, 0, 1u << 30, recs).is_ok());
      ASSERT_EQ(static_cast<int64_t>(recs.size()), *bus.end_offset("out", p));
      for (size_t i = 0; i < recs.size(); ++i) {
        ASSERT_EQ(recs[i].offset, static_cast<int64_t>(i)) << "hole in partition " << p;  // dense
        ++seen[recs[i].value];
      }
      total += static_cast<int64_t>(recs.size());
    }
    ASSERT_EQ(total, committed * kRecordsPerTxn);
    for (int64_t t = 0; t < committed; ++t) {
      for (int j = 0; j < kRecordsPerTxn; ++j) {
        ASSERT_EQ(seen[txn_value(t, j)], 1) << "txn " << t << " record " << j;
      }
    }
    acknowledged_total = committed;  // the next child continues from here
  }
}

// A write failure (here: the file-size limit, as a full disk would) returns kIo, applies
// nothing, and never crashes; after a restart exactly the successful commits are present.
TEST(RocksBusCrash, WriteFailureReturnsIoErrorAndAppliesNothing) {
  TempDir dir;
  const std::string path = dir.sub("bus");
  PipedChild child([&](int report_fd) {
    RocksBusOptions o;
    o.path = path;
    auto opened = RocksEventBus::open(o);
    if (!opened) _exit(3);
    auto& bus = **opened;
    if (!bus.create_topic({"out", 1, 0}).is_ok()) _exit(4);
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {1u << 20, 1u << 20};  // every file at most 1 MiB from now on
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(5);
    const std::string value(8000, 'v');
    int64_t ok = 0;
    for (int i = 0; i < 10000; ++i) {
      auto txn = bus.begin();
      txn->append("out", "k", value);
      txn->put_state("s", "count", std::to_string(ok + 1));
      Status s = txn->commit();
      if (!s.is_ok()) {
        // kIo, nothing applied in memory, and the next commit fails cleanly too.
        int code = (s.code() == ErrorCode::kIo ? 0 : 10) +
                   (*bus.end_offset("out", 0) == ok ? 0 : 20) +
                   (bus.publish("out", "k", "x").code() == ErrorCode::kIo ? 0 : 40);
        std::string report = std::to_string(ok) + " " + std::to_string(code) + " " + s.message();
        if (::write(report_fd, report.data(), report.size()) < 0) _exit(8);
        _exit(0);
      }
      ++ok;
    }
    _exit(9);  // the limit never hit
  });
  ASSERT_TRUE(child.started());
  const std::string report = child.read_all();
  int status = 0;
  ASSERT_TRUE(child.wait(&status));
  ASSERT_TRUE(WIFEXITED(status)) << "child crashed with signal " << WTERMSIG(status);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  const int64_t ok = std::stoll(report.substr(0, report.find(' ')));
  const int code = std::stoi(report.substr(report.find(' ') + 1));
  EXPECT_EQ(code, 0) << report;
  std::printf("[ info ] write failure surfaced as: %s\n", report.c_str());
  EXPECT_NE(report.find("bus commit failed"), std::string::npos) << report;
  EXPECT_GT(ok, 0);

  RocksBusOptions o;
  o.path = path;
  auto opened = RocksEventBus::open(o);
  ASSERT_TRUE(opened) << opened.status().to_string();
  EXPECT_EQ(*(*opened)->end_offset("out", 0), ok);
  EXPECT_EQ((*opened)->get_state("s", "count")->value_or(""), std::to_string(ok));
}

// Another live process holding the data dir gets a clear error (RocksDB's LOCK file).
TEST(RocksBusCrash, SecondProcessIsToldTheDataDirIsInUse) {
  TempDir dir;
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    BusConfig cfg;
    cfg.data_dir = dir.path();
    auto bus = make_event_bus(cfg);
    char b = bus ? 1 : 0;
    if (::write(ready[1], &b, 1) != 1) _exit(3);
    ::read(release[0], &b, 1);  // returns when the parent closes its end
    _exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char b = 0;
  ASSERT_EQ(::read(ready[0], &b, 1), 1);
  ASSERT_EQ(b, 1) << "child could not open the bus";
  BusConfig cfg;
  cfg.data_dir = dir.path();
  auto second = make_event_bus(cfg);
  ::close(release[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(ready[0]);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.status().message(),
            "data dir " + dir.path() + " is in use by another tickflow process");
  // Once the holder is gone the dir opens again.
  EXPECT_TRUE(make_event_bus(cfg));
}

}  // namespace
}  // namespace tickflow::bus::embedded
