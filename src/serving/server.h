// HttpServer: the one HTTP/1.1 + WebSocket listener (Boost.Beast, kept out of this header).
//
// HTTP requests (keep-alive) are answered by ApiHandler. `GET /ws/ohlcv/{exchange}/{symbol}/
// {timeframe}` with an Upgrade header is validated by ApiHandler::resolve_ws (400/404 before
// upgrading), then upgraded: the connection subscribes to the series in the RealtimeGateway,
// sends a first message with the latest stored candle ({"type":"snapshot",..}) and then every
// provisional/final/corrected update ({"type":"candle",..,"data":{..}}). Outbound messages go
// through a per-connection ConflatingQueue, so a slow client only ever lags by the latest value
// and never slows other clients or the gateway. The server pings every ping_interval and closes
// a connection that has not answered with a pong for pong_timeout.
// `GET /ws/alerts?rule=&symbol=` (upgrade) subscribes to alerts: every matching alert is sent as
// {"type":"alert","data":{..}}, never conflated; a client with more than max_alert_queue alerts
// pending is disconnected with close reason "alert queue overflow" (counted).
//
// Lifecycle: the ApiHandler and the RealtimeGateway must outlive the server. Start order:
// gateway.start(), then server.start(); stop order: server.stop(), then gateway.stop().
// start() binds and listens (a port in use is an error Status with a clear message);
// stop() is idempotent: it stops accepting, closes every session and joins the I/O threads.
// Thread-safety: start/stop/port/session_count may be called from any thread (not concurrently
// start with stop).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "serving/api.h"
#include "serving/gateway.h"

namespace tickflow::serving {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see HttpServer::port())
  int threads = 1;       // I/O threads
  DurationNs ping_interval = 30 * kNsPerSec;
  DurationNs pong_timeout = 5 * kNsPerMin;
  DurationNs http_idle_timeout = 60 * kNsPerSec;  // keep-alive connection without a request
  size_t max_request_body = 1 << 20;
  // Alerts pending on one /ws/alerts connection before it is closed ("alert queue overflow").
  size_t max_alert_queue = 4096;
};

class HttpServer {
 public:
  HttpServer(ServerConfig config, ApiHandler& api, RealtimeGateway& gateway);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port and starts the I/O threads. Port in use → kUnavailable
  // "port 8080 on 127.0.0.1 is already in use (set api.port or --port)".
  Status start();
  // The bound port (the actual one when configured with port 0); 0 before start().
  uint16_t port() const;
  void stop();
  // Open HTTP and WebSocket connections.
  size_t session_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickflow::serving
