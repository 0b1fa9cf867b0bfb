// Private to the simulator library: the Asio half of Simulator::Impl, shared by the two TUs
// that compile Asio (server.cc: accept, HTTP, lifecycle; ws_session.cc: WebSocket sessions).
//
// Thread-safety: the io_context runs on Impl::io_thread; the acceptor is used on that thread only.
#pragma once

#include <utility>  // before Boost (Boost 1.74 Asio on GCC 12)

#include <optional>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "exchange/simulator/server_impl.h"

namespace tickflow::exchange::simulator {

struct Simulator::Impl::Io {
  boost::asio::io_context ioc{1};
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
};

// Io thread: turns a socket whose WebSocket handshake is done into a registered session
// (`leftover`: bytes already read past the handshake; `url_streams`: streams named in the URL).
// `kraken`: a Kraken v1 session (systemStatus on connect, subscribe events, heartbeats);
// `coinbase`: a Coinbase Exchange feed session (subscribe / unsubscribe messages);
// `kraken_v2` (with `kraken`): a Kraken WebSocket v2 session (status, method requests, heartbeats);
// `coinbase_advanced` (with `coinbase`): a Coinbase Advanced Trade session (/coinbase-advanced).
void accept_ws_session(Simulator::Impl& sim, boost::asio::ip::tcp::socket sock, bool combined,
                       std::string leftover, const std::vector<std::string>& url_streams, bool kraken = false,
                       bool coinbase = false, bool kraken_v2 = false, bool coinbase_advanced = false);

}  // namespace tickflow::exchange::simulator
