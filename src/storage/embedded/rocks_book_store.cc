// RocksCandleStore's BookStore side: order-book snapshots in the "books" column family keyed by
// instrument + sign-flipped time; first write of a key kept; range reads; retention.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <unordered_set>

#include "core/codec.h"
#include "rocks/db.h"
#include "rocks/encoding.h"
#include "storage/embedded/rocks_candle_store.h"

namespace tickflow::storage::embedded {
namespace {

void put_time(std::string& out, TimestampNs t) {
  rocks::put_be64(out, static_cast<uint64_t>(t) ^ 0x8000000000000000ULL);
}

// u8(exchange) symbol \0
std::string book_prefix(Exchange e, std::string_view symbol) {
  std::string k;
  k.push_back(static_cast<char>(e));
  k.append(symbol);
  k.push_back('\0');
  return k;
}

std::string book_key(const std::string& prefix, TimestampNs t) {
  std::string k = prefix;
  put_time(k, t);
  return k;
}

}  // namespace

Status RocksCandleStore::write_books(const std::vector<BookSnapshot>& snapshots,
                                     const std::vector<ConsumerPosition>& positions) {
  rocksdb::WriteBatch batch;
  std::unordered_set<std::string> pending;
  std::lock_guard lk(write_mu_);
  for (const BookSnapshot& b : snapshots) {
    if (b.symbol.empty()) return Status::invalid_argument("store write: book snapshot without symbol");
    std::string key = book_key(book_prefix(b.exchange, b.symbol), b.time());
    if (pending.count(key)) continue;
    std::string v;
    rocksdb::Status gs = db_->Get(rocksdb::ReadOptions(), cf_books_, key, &v);
    if (gs.ok()) continue;  // stored already: a replay
    if (!gs.IsNotFound()) return rocks::read_error(gs, "store", "write_books");
    batch.Put(cf_books_, key, codec::encode_book(b));
    pending.insert(std::move(key));
  }
  for (const ConsumerPosition& p : positions) {
    if (p.next_offset < 0) return Status::invalid_argument("store write: negative position for " + p.topic);
    batch.Put(cf_positions_, rocks::consumer_key(p.group, p.topic, p.partition),
              rocks::be64_string(static_cast<uint64_t>(p.next_offset)));
  }
  if (batch.Count() == 0) return Status::ok();
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return rocks::write_error(s, "store", "write_books");
  return Status::ok();
}

Result<std::vector<BookSnapshot>> RocksCandleStore::query_books(const BookQuery& q) const {
  std::vector<BookSnapshot> out;
  if (q.limit == 0 || q.start >= q.end) return out;
  const std::string prefix = book_prefix(q.exchange, q.symbol);
  const std::string lower = book_key(prefix, q.start);
  const std::string upper = book_key(prefix, q.end);
  rocksdb::Slice lower_slice(lower);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_books_));
    for (it->SeekToLast(); it->Valid() && out.size() < q.limit; it->Prev()) {
      rocksdb::Slice v = it->value();
      auto b = codec::decode_book(std::string_view(v.data(), v.size()));
      if (!b) return Status::corruption("stored book snapshot is undecodable: " + b.status().message());
      out.push_back(std::move(b).value());
    }
    if (!it->status().ok()) return rocks::read_error(it->status(), "store", "query_books");
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Result<int64_t> RocksCandleStore::enforce_book_retention(TimestampNs now) {
  const TimestampNs cutoff = now - options_.retention.orderbook;
  int64_t removed = 0;
  // One instrument prefix after the other: Seek past each prefix's keys to the next one.
  std::vector<std::string> prefixes;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_books_));
    it->SeekToFirst();
    while (it->Valid()) {
      const rocksdb::Slice k = it->key();
      const std::string_view key(k.data(), k.size());
      const size_t nul = key.find('\0', 1);
      if (nul == std::string_view::npos) break;
      prefixes.emplace_back(key.substr(0, nul + 1));
      std::string next(key.substr(0, nul));
      next.push_back('\x01');  // after every "<prefix>\0<time>" key, before longer symbols' keys
      it->Seek(next);
    }
    if (!it->status().ok()) return rocks::read_error(it->status(), "store", "book retention");
  }
  for (const std::string& prefix : prefixes) {
    const std::string lower = book_key(prefix, INT64_MIN);
    const std::string upper = book_key(prefix, cutoff);
    int64_t n = 0;
    {
      rocksdb::Slice upper_slice(upper);
      rocksdb::ReadOptions ro;
      ro.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_books_));
      for (it->Seek(lower); it->Valid(); it->Next()) ++n;
      if (!it->status().ok()) return rocks::read_error(it->status(), "store", "book retention");
    }
    if (n == 0) continue;
    rocksdb::WriteBatch batch;
    batch.DeleteRange(cf_books_, lower, upper);
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    rocksdb::Status s = db_->Write(wo, &batch);
    if (!s.ok()) return rocks::write_error(s, "store", "book retention");
    removed += n;
  }
  return removed;
}

}  // namespace tickflow::storage::embedded
