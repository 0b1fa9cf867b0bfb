// Binance books: the depthUpdate / bookTicker / REST depth parsers and DepthSync (the
// documented snapshot bridging), on the real recordings in testdata/exchanges/binance/ and on
// hand-made sequences for every rule.
#include "exchange/binance/depth_sync.h"

#include <simdjson.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "exchange/binance/parse.h"

namespace tickflow::exchange::binance {
namespace {

struct Record {
  std::string direction, url, raw;
  TimestampNs recv = 0;
};

std::vector<Record> read_all(const std::string& name) {
  std::ifstream in(std::string(TICKFLOW_SOURCE_DIR) + "/testdata/exchanges/binance/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::vector<Record> out;
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element rec = parser.parse(line);
    Record r;
    r.direction = std::string(rec["direction"].get_string().value());
    if (rec["url"].is_string()) r.url = std::string(rec["url"].get_string().value());
    if (rec["raw"].is_string()) r.raw = std::string(rec["raw"].get_string().value());
    r.recv = rec["recv_ts_ns"].get_int64().value();
    out.push_back(std::move(r));
  }
  return out;
}

const std::vector<std::string> kRecordings = {"binance_2021-04-05.jsonl", "binance_2021-08-14.jsonl",
                                              "binance_2021-10-12.jsonl", "binanceus_2021-04-05.jsonl",
                                              "binanceus_2021-04-17.jsonl", "binanceus_2021-10-12.jsonl"};

Decimal dec(std::string_view s) { return *Decimal::parse(s); }

TEST(BinanceDepthParse, DepthUpdateLevelsFromRecording) {
  FrameParser parser;
  ParsedFrame out;
  const std::string frame =
      R"({"stream":"sxpbtc@depth@100ms","data":{"e":"depthUpdate","E":1628952395868,"s":"SXPBTC","U":679669292,"u":679669292,"b":[["0.00007465","152.00000000"]],"a":[]}})";
  ASSERT_TRUE(parser.parse(frame, 7, out).is_ok());
  EXPECT_EQ(out.kind, MessageKind::kDepthUpdate);
  EXPECT_EQ(out.book_symbol, "SXPBTC");
  EXPECT_EQ(out.first_update_id, 679669292);
  EXPECT_EQ(out.last_update_id, 679669292);
  EXPECT_EQ(out.book_event_time, 1628952395868 * kNsPerMs);
  ASSERT_EQ(out.bids.size(), 1u);
  EXPECT_EQ(out.bids[0].price.to_string(), "0.00007465");
  EXPECT_EQ(out.bids[0].quantity.to_string(), "152.00000000");
  EXPECT_TRUE(out.asks.empty());
  // The 2017 format's trailing [] per level is ignored; a zero quantity is a removal.
  ASSERT_TRUE(parser
                  .parse(R"({"e":"depthUpdate","E":1507908736894,"s":"ZRXETH","U":412371,"u":412373,"b":[["0.00053691","1634.00000000",[]],["0.00053690","0.00000000",[]]],"a":[["0.00055694","268.00000000",[]]]})",
                         0, out)
                  .is_ok());
  ASSERT_EQ(out.bids.size(), 2u);
  EXPECT_TRUE(out.bids[1].quantity.is_zero());
  ASSERT_EQ(out.asks.size(), 1u);
  EXPECT_EQ(out.asks[0].price.to_string(), "0.00055694");
}

TEST(BinanceDepthParse, BookTickerFromRecordingIsNeverATrade) {
  FrameParser parser;
  ParsedFrame out;
  ASSERT_TRUE(parser
                  .parse(R"({"stream":"ftmusdt@bookTicker","data":{"u":800360982,"s":"FTMUSDT","b":"0.33989000","B":"1565.60000000","a":"0.34012000","A":"703.00000000"}})",
                         0, out)
                  .is_ok());
  EXPECT_EQ(out.kind, MessageKind::kBookTicker);
  EXPECT_EQ(out.book_symbol, "FTMUSDT");
  EXPECT_EQ(out.last_update_id, 800360982);
  EXPECT_EQ(out.best_bid.price.to_string(), "0.33989000");
  EXPECT_EQ(out.best_bid.quantity.to_string(), "1565.60000000");
  EXPECT_EQ(out.best_ask.price.to_string(), "0.34012000");
  EXPECT_EQ(out.best_ask.quantity.to_string(), "703.00000000");
  // Every recorded bookTicker parses with bid <= ask.
  int n = 0;
  for (const auto& name : kRecordings) {
    for (const auto& r : read_all(name)) {
      if (r.direction != "in" || r.raw.find("@bookTicker\"") == std::string::npos) continue;
      ASSERT_TRUE(parser.parse(r.raw, r.recv, out).is_ok()) << r.raw;
      ASSERT_EQ(out.kind, MessageKind::kBookTicker);
      EXPECT_LE(out.best_bid.price, out.best_ask.price) << r.raw;
      ++n;
    }
  }
  EXPECT_EQ(n, 5408 + 412 + 84 + 2624 + 458 + 128);
}

TEST(BinanceDepthParse, BadDepthFramesFailWithAReason) {
  FrameParser parser;
  ParsedFrame out;
  struct Case {
    const char* frame;
    const char* reason;
  } cases[] = {
      {R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":6,"b":[["abc","1"]],"a":[]})", "bad_decimal"},
      {R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":6,"b":[["1"]],"a":[]})", "bad_field"},
      {R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":6,"b":[["0","1"]],"a":[]})", "bad_field"},
      {R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":6,"b":[["1","-1"]],"a":[]})", "bad_field"},
      {R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":7,"u":6,"b":[],"a":[]})", "bad_field"},
      {R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":6,"b":[]})", "missing_field"},
      {R"({"e":"depthUpdate","E":1,"U":5,"u":6,"b":[],"a":[]})", "missing_field"},
      {R"({"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":6,"b":[[1,"1"]],"a":[]})", "bad_field"},
      {R"({"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1.0","a":"2.0","A":"1"}})", "missing_field"},
      {R"({"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"x","B":"1","a":"2.0","A":"1"}})", "bad_decimal"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(parser.parse(c.frame, 0, out).is_ok()) << c.frame;
    EXPECT_EQ(parser.error_reason(), c.reason) << c.frame;
  }
}

TEST(BinanceDepthParse, RestSnapshot) {
  DepthSnapshot snap;
  ASSERT_TRUE(parse_depth_snapshot(R"({"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"],["4.1","0"]]})", snap)
                  .is_ok());
  EXPECT_EQ(snap.last_update_id, 1027024);
  ASSERT_EQ(snap.bids.size(), 1u);
  EXPECT_EQ(snap.bids[0].price.to_string(), "4.00000000");
  ASSERT_EQ(snap.asks.size(), 2u);
  EXPECT_EQ(snap.asks[1].price.to_string(), "4.1");
  for (const char* bad : {"", "[]", R"({"bids":[],"asks":[]})", R"({"lastUpdateId":1,"bids":[]})",
                          R"({"lastUpdateId":"1","bids":[],"asks":[]})", R"({"lastUpdateId":1,"bids":[["x","1"]],"asks":[]})",
                          R"({"lastUpdateId":1,"bids":[],"asks":[]} x)"}) {
    EXPECT_FALSE(parse_depth_snapshot(bad, snap).is_ok()) << bad;
  }
}

// Replays a recording as the collector would: diffs received before a symbol's snapshot are
// buffered, the snapshot bridges them, later diffs apply live. Every snapshot of every
// recording must bridge, with no gap, and no book is ever crossed.
TEST(BinanceDepthSync, EveryRecordedSnapshotBridges) {
  size_t snapshots = 0, applied = 0, stale = 0;  // stale: live diffs dropped after a snapshot
  for (const auto& name : kRecordings) {
    std::map<std::string, DepthSync> books;
    std::map<std::string, bool> have_snapshot;
    FrameParser parser;
    ParsedFrame out;
    for (const auto& r : read_all(name)) {
      if (r.direction == "http" && r.url.find("/depth?") != std::string::npos) {
        const size_t at = r.url.find("symbol=") + 7;
        const std::string sym = r.url.substr(at, r.url.find('&', at) - at);
        DepthSnapshot snap;
        ASSERT_TRUE(parse_depth_snapshot(r.raw, snap).is_ok()) << name << " " << sym;
        DepthSync& sync = books[sym];
        EXPECT_EQ(sync.on_snapshot(snap), DepthSync::Step::kApplied) << name << " " << sym;
        EXPECT_TRUE(sync.in_sync());
        EXPECT_GE(sync.update_id(), snap.last_update_id);
        EXPECT_FALSE(sync.book().crossed()) << name << " " << sym;
        have_snapshot[sym] = true;
        ++snapshots;
        continue;
      }
      if (r.direction != "in" || r.raw.find("depthUpdate") == std::string::npos) continue;
      ASSERT_TRUE(parser.parse(r.raw, r.recv, out).is_ok()) << r.raw;
      ASSERT_EQ(out.kind, MessageKind::kDepthUpdate);
      DepthSync& sync = books[out.book_symbol];
      const uint64_t before = sync.levels_applied();
      const auto step = sync.on_diff(out.first_update_id, out.last_update_id, out.bids, out.asks);
      if (have_snapshot[out.book_symbol]) {
        ASSERT_TRUE(step == DepthSync::Step::kApplied || step == DepthSync::Step::kStale)
            << name << " " << out.book_symbol << " U=" << out.first_update_id;
        if (step == DepthSync::Step::kApplied) {
          ++applied;
          EXPECT_EQ(sync.levels_applied() - before, out.bids.size() + out.asks.size());
          EXPECT_EQ(sync.update_id(), out.last_update_id);
          EXPECT_FALSE(sync.book().crossed()) << name << " " << out.book_symbol << " u=" << out.last_update_id;
        } else {
          ++stale;
        }
      } else {
        EXPECT_EQ(step, DepthSync::Step::kBuffered);
      }
    }
    for (const auto& [sym, sync] : books) {
      if (have_snapshot[sym]) {
        EXPECT_TRUE(sync.in_sync()) << name << " " << sym;
      }
    }
  }
  EXPECT_EQ(snapshots, 42u);  // 10 + 4 + 4 + 10 + 10 + 4
  EXPECT_GT(applied, 8000u);
  // Live diffs that arrived after the REST reply yet were older than it (the snapshot can be
  // ahead of the stream): dropped, never a resync.
  EXPECT_EQ(stale, 73u);
}

// A snapshot's levels, then diffs applied by hand, equal the DepthSync book level for level.
TEST(BinanceDepthSync, AppliesAbsoluteQuantitiesAndRemovals) {
  DepthSync sync;
  EXPECT_EQ(sync.on_diff(99, 101, {{dec("10.0"), dec("1")}}, {}), DepthSync::Step::kBuffered);
  EXPECT_TRUE(sync.needs_snapshot());
  DepthSnapshot snap{100, {{dec("10.0"), dec("5")}, {dec("9.5"), dec("2")}}, {{dec("11.0"), dec("3")}}};
  EXPECT_EQ(sync.on_snapshot(snap), DepthSync::Step::kApplied);  // U=99 <= 101 <= u=101
  EXPECT_EQ(sync.update_id(), 101);
  EXPECT_EQ(sync.book().best_bid()->quantity, dec("1"));  // absolute, not added
  EXPECT_EQ(sync.on_diff(102, 103, {{dec("9.5"), dec("0")}}, {{dec("10.5"), dec("0")}}), DepthSync::Step::kApplied);
  EXPECT_EQ(sync.book().bid_count(), 1u);  // 9.5 removed; removing 10.5 (absent) is normal
  EXPECT_EQ(sync.book().ask_count(), 1u);
  EXPECT_EQ(sync.update_id(), 103);
}

TEST(BinanceDepthSync, StaleDiffsAreDroppedAndTheFirstMustBridge) {
  DepthSync sync;
  sync.on_diff(90, 95, {{dec("1"), dec("1")}}, {});
  sync.on_diff(96, 100, {{dec("2"), dec("1")}}, {});
  sync.on_diff(101, 104, {{dec("3"), dec("1")}}, {});
  DepthSnapshot snap{100, {{dec("1"), dec("7")}}, {{dec("5"), dec("1")}}};
  EXPECT_EQ(sync.on_snapshot(snap), DepthSync::Step::kApplied);
  EXPECT_EQ(sync.update_id(), 104);  // 90..95 and 96..100 dropped (u <= 100), 101..104 bridged
  EXPECT_EQ(sync.book().bid_count(), 2u);  // 1 (snapshot) and 3; 2 was never applied
  EXPECT_EQ(sync.book().best_bid()->price, dec("3"));

  // A snapshot newer than everything buffered: in sync at L; a live stale diff is dropped and
  // the next one must bridge L + 1.
  DepthSync s2;
  s2.on_diff(10, 12, {}, {});
  EXPECT_EQ(s2.on_snapshot({20, {{dec("1"), dec("1")}}, {}}), DepthSync::Step::kApplied);
  EXPECT_EQ(s2.update_id(), 20);
  EXPECT_EQ(s2.on_diff(13, 20, {}, {}), DepthSync::Step::kStale);
  EXPECT_EQ(s2.on_diff(18, 22, {}, {}), DepthSync::Step::kApplied);
  EXPECT_EQ(s2.on_diff(23, 23, {}, {}), DepthSync::Step::kApplied);
}

TEST(BinanceDepthSync, SnapshotOlderThanTheBufferFailsToBridgeAndKeepsTheBuffer) {
  DepthSync sync;
  sync.on_diff(105, 107, {{dec("1"), dec("1")}}, {});
  EXPECT_EQ(sync.on_snapshot({100, {}, {}}), DepthSync::Step::kBridgeFailed);  // 105 > 101
  EXPECT_FALSE(sync.in_sync());
  EXPECT_TRUE(sync.needs_snapshot());
  EXPECT_EQ(sync.buffered(), 1u);
  EXPECT_EQ(sync.on_snapshot({106, {}, {}}), DepthSync::Step::kApplied);
  EXPECT_EQ(sync.update_id(), 107);
}

TEST(BinanceDepthSync, GapDiscardsTheBookAndBuffersTheDiff) {
  DepthSync sync;
  sync.on_diff(1, 1, {}, {});
  ASSERT_EQ(sync.on_snapshot({0, {{dec("1"), dec("1")}}, {}}), DepthSync::Step::kApplied);
  EXPECT_EQ(sync.on_diff(2, 3, {}, {}), DepthSync::Step::kApplied);
  EXPECT_EQ(sync.on_diff(5, 6, {}, {}), DepthSync::Step::kGap);  // 4 missing
  EXPECT_FALSE(sync.in_sync());
  EXPECT_TRUE(sync.book().empty());
  EXPECT_EQ(sync.buffered(), 1u);
  EXPECT_EQ(sync.on_diff(7, 7, {}, {}), DepthSync::Step::kBuffered);
  // A gap inside the buffer: the diffs before it are dropped, another snapshot is needed.
  sync.on_diff(9, 9, {}, {});
  EXPECT_EQ(sync.on_snapshot({6, {}, {}}), DepthSync::Step::kGap);
  EXPECT_EQ(sync.buffered(), 1u);
  EXPECT_EQ(sync.on_snapshot({8, {}, {}}), DepthSync::Step::kApplied);
  EXPECT_EQ(sync.update_id(), 9);
  // A repeated diff after sync is out of order: a gap too (U must be previous u + 1).
  EXPECT_EQ(sync.on_diff(9, 9, {}, {}), DepthSync::Step::kGap);
  sync.reset();
  EXPECT_FALSE(sync.active());
}

}  // namespace
}  // namespace tickflow::exchange::binance
