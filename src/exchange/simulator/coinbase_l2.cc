// The simulator's Coinbase Exchange level2 / level2_batch channels (no Asio): the snapshot a
// new subscription gets (the model's book at that moment, under the market lock, so the
// l2updates that follow continue it exactly) and one l2update per depth event of the model
// (the levels it changed, absolute sizes, "0" = removed). level2 and level2_batch carry the
// same messages here (the model's depth events are 100 ms apart; Coinbase batches level2_batch
// every 50 ms).
#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator {

using namespace internal;

void Simulator::Impl::coinbase_book_event(uint32_t symbol, const DepthDiff& diff, int64_t time_ms, Batch& batch) {
  const std::string& product = coinbase_products[symbol];
  if (product.empty() || (diff.bids.empty() && diff.asks.empty())) return;
  const int l2 = coinbase_stream_id(kCoinbaseExtraCode + kCoinbaseLevel2, static_cast<int>(symbol));
  const int l2b = coinbase_stream_id(kCoinbaseExtraCode + kCoinbaseLevel2Batch, static_cast<int>(symbol));
  const bool want = stream_subscribers[l2].load(std::memory_order_relaxed) > 0;
  const bool want_batch = stream_subscribers[l2b].load(std::memory_order_relaxed) > 0;
  const int adv = coinbase_stream_id(kCoinbaseExtraCode + kCoinbaseAdvLevel2, static_cast<int>(symbol));
  if (stream_subscribers[adv].load(std::memory_order_relaxed) > 0) {  // Advanced Trade l2_data
    const size_t off = batch.buf.size();
    append_coinbase_adv_l2update(batch.buf, product, diff, time_ms * 1000);
    batch.add(static_cast<uint32_t>(adv), off);
  }
  if (!want && !want_batch) return;
  const size_t off = batch.buf.size();
  append_coinbase_l2update(batch.buf, product, diff, time_ms * 1000);
  if (want) batch.add(static_cast<uint32_t>(l2), off);
  if (want_batch) batch.add(static_cast<uint32_t>(l2b), off);
}

void Simulator::Impl::coinbase_l2_snapshot(int symbol, std::string& out) const {
  const auto s = static_cast<size_t>(symbol);
  append_coinbase_l2_snapshot(out, coinbase_products[s], model->snapshot(s, static_cast<size_t>(cfg.book_levels)));
}

}  // namespace tickflow::exchange::simulator
