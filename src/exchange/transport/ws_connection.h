// WsConnection: the seam around one client WebSocket stream, so adapters are testable
// without a network (tests use a scripted fake; production uses Boost.Beast, hidden in
// beast_ws.cc).
//
// Contract:
//   connect()    opens ws:// or wss:// (TLS 1.2/1.3, certificate and host name verified,
//                SNI set, permessage-deflate off). Drops any previous connection first.
//   read_frame() returns the next text (or binary) frame. The view stays valid until the next
//                read_frame()/connect()/close(). kUnavailable either when the connection is
//                gone (is_open() is false afterwards) or when no frame arrived within
//                `timeout` (is_open() stays true; nothing is lost, the read resumes at the next
//                call). timeout 0 = only what is already buffered, never blocks.
//   send_text()  writes one text frame.
//   close()      shuts the connection down for good: a read_frame()/connect() in progress
//                returns promptly, later calls fail (connect() with kCancelled). Thread-safe: it
//                is how another thread (stop()) unblocks the reader. To reconnect, just call
//                connect() again (it drops the old connection) — do not close().
// Thread-safety: one thread drives connect/read_frame/send_text; close() from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "exchange/transport/url.h"

namespace tickflow::exchange::transport {

class WsConnection {
 public:
  virtual ~WsConnection() = default;
  virtual Status connect(const Url& url, DurationNs timeout) = 0;
  virtual Result<std::string_view> read_frame(DurationNs timeout) = 0;
  virtual Status send_text(std::string_view text) = 0;
  virtual void close() = 0;
  virtual bool is_open() const = 0;
};

struct WsOptions {
  size_t max_message_bytes = 64 * 1024 * 1024;  // "big read limit"
  DurationNs write_timeout = 10 * kNsPerSec;
  // Keep-alive: after this long without receiving anything the client sends a WebSocket ping;
  // when nothing (no pong, no frame) arrives for another ping_interval the connection is dead:
  // the pending read_frame() fails (kUnavailable, "websocket read: ...timeout"). So a stalled
  // peer is detected within 2 × ping_interval, and a quiet but healthy one (it answers pings)
  // is never dropped. 0 = no pings.
  DurationNs ping_interval = 30 * kNsPerSec;
  // CA file/dir to trust in addition to the system store (tests); empty = system store only.
  std::string extra_ca_file;
};

std::unique_ptr<WsConnection> make_ws_connection(const WsOptions& options = {});

}  // namespace tickflow::exchange::transport
