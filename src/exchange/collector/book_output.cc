// STUB (to be completed by the books backbone work): counts only, publishes nothing yet.
#include "exchange/collector/book_output.h"

namespace tickflow::exchange::collector {

struct BookOutput::Impl {
  CollectorOutput& out;
  const Clock& clock;
  BookOutputConfig config;
  std::string exchange;
  struct Book {
    std::string symbol, exchange_symbol;
    TimestampNs last_published = 0;
    bool in_sync = false;
  };
  std::vector<Book> books;
  uint64_t snapshots = 0, resyncs = 0, crossed = 0;
};

BookOutput::BookOutput(std::string_view exchange, CollectorOutput& out, const Clock& clock, BookOutputConfig config)
    : impl_(new Impl{out, clock, config, std::string(exchange), {}, 0, 0, 0}) {}
BookOutput::~BookOutput() = default;

size_t BookOutput::add_book(std::string symbol, std::string exchange_symbol) {
  impl_->books.push_back({std::move(symbol), std::move(exchange_symbol)});
  return impl_->books.size() - 1;
}

void BookOutput::on_book(size_t book, const book::OrderBook& state, int64_t, TimestampNs, TimestampNs) {
  auto& b = impl_->books[book];
  if (state.crossed()) ++impl_->crossed;
  b.in_sync = true;
  ++impl_->snapshots;
}

void BookOutput::on_resync(size_t book, std::string_view) {
  impl_->books[book].in_sync = false;
  ++impl_->resyncs;
}

uint64_t BookOutput::snapshots() const { return impl_->snapshots; }
uint64_t BookOutput::resyncs() const { return impl_->resyncs; }
uint64_t BookOutput::crossed() const { return impl_->crossed; }

}  // namespace tickflow::exchange::collector
