// BookOutput: per-book throttle (one top-`depth` snapshot per interval, the first in-sync book
// after a resync at once), crossed-book flag and counts, resync counts by reason.
#include "exchange/collector/book_output.h"

#include <map>
#include <optional>

#include <spdlog/spdlog.h>

#include "observability/metrics.h"

namespace tickflow::exchange::collector {

struct BookOutput::Impl {
  CollectorOutput& out;
  const Clock& clock;
  BookOutputConfig config;
  std::string exchange;
  std::optional<Exchange> exchange_id;
  struct Book {
    std::string symbol, exchange_symbol;
    TimestampNs last_published = 0;
    bool published = false;  // since the last resync (or ever)
    bool crossed = false;    // the last on_book() saw it crossed
  };
  std::vector<Book> books;
  uint64_t snapshots = 0, resyncs = 0, crossed = 0;
  // Metrics.
  prometheus::Counter* snapshots_metric = nullptr;
  prometheus::Counter* crossed_metric = nullptr;
  prometheus::Family<prometheus::Counter>* resyncs_family = nullptr;
  std::map<std::string, prometheus::Counter*, std::less<>> resyncs_by_reason;
  book::BookTop top;     // reused
  BookSnapshot snapshot;  // reused
};

BookOutput::BookOutput(std::string_view exchange, CollectorOutput& out, const Clock& clock, BookOutputConfig config)
    : impl_(new Impl{out, clock, config, std::string(exchange), parse_exchange(exchange), {}, 0, 0, 0}) {
  if (!impl_->exchange_id) spdlog::error("book output: unknown exchange '{}': no snapshots will be published", exchange);
  auto& reg = obs::registry();
  const prometheus::Labels ex{{"exchange", impl_->exchange}};
  impl_->snapshots_metric = &prometheus::BuildCounter()
                                 .Name("tickflow_collector_book_snapshots_total")
                                 .Help("Order-book snapshots appended to raw.orderbook")
                                 .Register(reg)
                                 .Add(ex);
  impl_->crossed_metric = &prometheus::BuildCounter()
                               .Name("tickflow_collector_crossed_books_total")
                               .Help("Times an in-sync order book became crossed (best bid >= best ask)")
                               .Register(reg)
                               .Add(ex);
  impl_->resyncs_family = &prometheus::BuildCounter()
                               .Name("tickflow_collector_book_resyncs_total")
                               .Help("Order-book desyncs detected (book rebuilt), by reason")
                               .Register(reg);
}

BookOutput::~BookOutput() = default;

size_t BookOutput::add_book(std::string symbol, std::string exchange_symbol) {
  Impl::Book b;
  b.symbol = std::move(symbol);
  b.exchange_symbol = std::move(exchange_symbol);
  impl_->books.push_back(std::move(b));
  return impl_->books.size() - 1;
}

void BookOutput::on_book(size_t book, const book::OrderBook& state, int64_t sequence, TimestampNs ts_event,
                         TimestampNs ts_recv) {
  Impl& m = *impl_;
  if (book >= m.books.size()) return;
  Impl::Book& b = m.books[book];
  const bool crossed = state.crossed();
  if (crossed && !b.crossed) {  // once per crossing, however many updates it lasts
    ++m.crossed;
    m.crossed_metric->Increment();
  }
  b.crossed = crossed;
  const TimestampNs now = m.clock.now_ns();
  if (b.published && m.config.interval > 0 && now - b.last_published < m.config.interval) return;
  if (!m.exchange_id) return;
  state.top(m.config.depth, m.top);
  BookSnapshot& s = m.snapshot;
  s.exchange = *m.exchange_id;
  s.symbol = b.symbol;
  s.exchange_symbol = b.exchange_symbol;
  s.sequence = sequence;
  s.bids.clear();
  s.asks.clear();
  for (const book::Level& l : m.top.bids) s.bids.push_back({l.price, l.quantity});
  for (const book::Level& l : m.top.asks) s.asks.push_back({l.price, l.quantity});
  s.depth = static_cast<uint32_t>(m.config.depth);
  s.crossed = crossed;
  s.ts_event = ts_event;
  s.ts_recv = ts_recv;
  m.out.publish_book(s);
  b.published = true;
  b.last_published = now;
  ++m.snapshots;
  m.snapshots_metric->Increment();
}

void BookOutput::on_resync(size_t book, std::string_view reason) {
  Impl& m = *impl_;
  if (book < m.books.size()) {
    m.books[book].published = false;
    m.books[book].crossed = false;
  }
  ++m.resyncs;
  auto it = m.resyncs_by_reason.find(reason);
  if (it == m.resyncs_by_reason.end()) {
    auto* c = &m.resyncs_family->Add({{"exchange", m.exchange}, {"reason", std::string(reason)}});
    it = m.resyncs_by_reason.emplace(std::string(reason), c).first;
  }
  it->second->Increment();
}

uint64_t BookOutput::snapshots() const { return impl_->snapshots; }
uint64_t BookOutput::resyncs() const { return impl_->resyncs; }
uint64_t BookOutput::crossed() const { return impl_->crossed; }

}  // namespace tickflow::exchange::collector
