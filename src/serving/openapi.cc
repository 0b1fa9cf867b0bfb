#include "serving/openapi.h"

namespace tickflow::serving {

std::string_view openapi_document() {
  static constexpr std::string_view kDoc = R"JSON({
  "openapi": "3.0.3",
  "info": {
    "title": "tickflow API",
    "version": "0.1.0",
    "description": "Exact OHLCV candles built from exchange trade feeds: history over REST, live updates over WebSocket. Decimals are JSON strings printed exactly; times are ISO-8601 UTC with milliseconds, plus epoch milliseconds."
  },
  "paths": {
    "/ohlcv/{exchange}/{symbol}/{timeframe}": {
      "get": {
        "summary": "Candle history of one series, oldest first",
        "parameters": [
          {"name": "exchange", "in": "path", "required": true, "schema": {"type": "string", "enum": ["binance", "coinbase", "kraken"]}},
          {"name": "symbol", "in": "path", "required": true, "description": "Unified BASE-QUOTE (BTC-USDT); the exchange spelling (BTCUSDT) is accepted", "schema": {"type": "string"}},
          {"name": "timeframe", "in": "path", "required": true, "description": "1s, 90s, 1m, 5m, 15m, 1h, 4h, 1d, 1w or any duration dividing a day", "schema": {"type": "string"}},
          {"name": "start", "in": "query", "description": "Inclusive, on open time: ISO-8601 or epoch milliseconds", "schema": {"type": "string"}},
          {"name": "end", "in": "query", "description": "Inclusive, on open time: ISO-8601 or epoch milliseconds", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "description": "The most recent candles of the range (1..5000, default 500)", "schema": {"type": "integer", "minimum": 1, "maximum": 5000}}
        ],
        "responses": {
          "200": {"description": "The series", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CandleSeries"}}}},
          "400": {"description": "A bad parameter, named in the body", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "404": {"description": "Unknown series", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/ws/ohlcv/{exchange}/{symbol}/{timeframe}": {
      "get": {
        "summary": "WebSocket: a snapshot of the latest candle, then every provisional, final and corrected update",
        "description": "Messages: {\"type\":\"snapshot\",\"exchange\",\"symbol\",\"timeframe\",\"candles\":[Candle]} then {\"type\":\"candle\",\"exchange\",\"symbol\",\"timeframe\",\"data\":Candle}. A slow client is conflated to the latest update of its series. Pings every 30 s.",
        "parameters": [
          {"name": "exchange", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "symbol", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "timeframe", "in": "path", "required": true, "schema": {"type": "string"}}
        ],
        "responses": {
          "101": {"description": "Switching protocols"},
          "400": {"description": "A bad path parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "404": {"description": "Unknown series"},
          "426": {"description": "Plain HTTP on the WebSocket route"}
        }
      }
    },
    "/indicators/{exchange}/{symbol}/{timeframe}": {
      "get": {
        "summary": "Indicator history of one series (one record per closed candle), oldest first",
        "description": "Outputs: smaN, emaN, rsiN, atrN, macd, macd_signal, macd_hist, bb_upper, bb_middle, bb_lower, vwap, vwapN as configured ([indicators] spec). Values are JSON numbers; outputs still warming up are absent.",
        "parameters": [
          {"name": "exchange", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "symbol", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "timeframe", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "name", "in": "query", "description": "Comma list of output names (default: all); an unconfigured name is a 400 listing the configured ones", "schema": {"type": "string"}},
          {"name": "start", "in": "query", "description": "Inclusive, on open time: ISO-8601 or epoch milliseconds", "schema": {"type": "string"}},
          {"name": "end", "in": "query", "description": "Inclusive, on open time: ISO-8601 or epoch milliseconds", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "description": "The most recent records of the range (1..5000, default 500)", "schema": {"type": "integer", "minimum": 1, "maximum": 5000}}
        ],
        "responses": {
          "200": {"description": "The series", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IndicatorSeries"}}}},
          "400": {"description": "A bad parameter, named in the body", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "404": {"description": "Unknown series", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/latest/{exchange}/{symbol}/{timeframe}": {
      "get": {
        "summary": "The newest candle of a series, with its latest indicators and alert, from the Redis cache",
        "description": "Served from Redis without reading history; when Redis is down or does not hold the series the answer comes from the store instead (same content, slower). The source is in the body and in the X-Tickflow-Source header.",
        "parameters": [
          {"name": "exchange", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "symbol", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "timeframe", "in": "path", "required": true, "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "The latest values", "headers": {"X-Tickflow-Source": {"schema": {"type": "string", "enum": ["redis", "store"]}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Latest"}}}},
          "400": {"description": "A bad path parameter, or any query parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "404": {"description": "Unknown series", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/trades/{exchange}/{symbol}": {
      "get": {
        "summary": "Trade history of one instrument (postgres store), oldest first",
        "description": "The trades stored by the trade loader (raw.market-data → PostgreSQL). Decimals are exact strings. With the embedded store (no trade history) the answer is 501.",
        "parameters": [
          {"name": "exchange", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "symbol", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "start", "in": "query", "description": "Inclusive, on the exchange trade time: ISO-8601 or epoch milliseconds", "schema": {"type": "string"}},
          {"name": "end", "in": "query", "description": "Inclusive, on the exchange trade time: ISO-8601 or epoch milliseconds", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "description": "The most recent trades of the range (1..5000, default 500)", "schema": {"type": "integer", "minimum": 1, "maximum": 5000}}
        ],
        "responses": {
          "200": {"description": "The trades", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Trades"}}}},
          "400": {"description": "A bad parameter (or start after end), named in the body", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "501": {"description": "The store keeps no trades (embedded backend)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"description": "The database is not reachable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/orderbook/{exchange}/{symbol}": {
      "get": {
        "summary": "Order-book snapshots of one instrument in a time range, newest last",
        "description": "The top-N snapshots the collectors publish on raw.orderbook (at most one per book per interval, the first after every resync), stored by the order-book loader (embedded store or PostgreSQL orderbook_snapshots; kept storage.orderbook_retention, default 7 days). Prices and quantities are the exchange's exact decimal strings, best level first on each side.",
        "parameters": [
          {"name": "exchange", "in": "path", "required": true, "schema": {"type": "string", "enum": ["binance", "coinbase", "kraken"]}},
          {"name": "symbol", "in": "path", "required": true, "description": "Unified BASE-QUOTE; the exchange spelling is accepted", "schema": {"type": "string"}},
          {"name": "start", "in": "query", "description": "Inclusive, on the snapshot time (exchange time, else receive time): ISO-8601 or epoch milliseconds", "schema": {"type": "string"}},
          {"name": "end", "in": "query", "description": "Inclusive, on the snapshot time: ISO-8601 or epoch milliseconds", "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "description": "The most recent snapshots of the range (1..1000, default 100)", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
        ],
        "responses": {
          "200": {"description": "The snapshots, oldest first", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BookSnapshots"}}}},
          "400": {"description": "A bad parameter (or start after end), named in the body", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "501": {"description": "The store keeps no order-book snapshots", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"description": "The store is not reachable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/orderbook/{exchange}/{symbol}/latest": {
      "get": {
        "summary": "The newest stored order-book snapshot of one instrument",
        "parameters": [
          {"name": "exchange", "in": "path", "required": true, "schema": {"type": "string", "enum": ["binance", "coinbase", "kraken"]}},
          {"name": "symbol", "in": "path", "required": true, "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "The snapshot", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "exchange": {"type": "string"}, "symbol": {"type": "string"}, "snapshot": {"$ref": "#/components/schemas/BookSnapshot"}}}}}},
          "400": {"description": "A bad path parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "404": {"description": "No snapshot stored for the instrument", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "501": {"description": "The store keeps no order-book snapshots", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/quality": {
      "get": {
        "summary": "Data-quality scores per feed (exchange) and series (exchange + symbol)",
        "description": "score in [0, 1] = (1 - min(1, weighted bad events / events)) over the rolling window, 0 when stale (formula: src/processing/quality/README.md). window: the score's inputs per check (gap: missing ids); totals: since the monitor started (gap: gaps; stale: transitions).",
        "parameters": [
          {"name": "exchange", "in": "query", "description": "Only this exchange (binance, coinbase, kraken)", "schema": {"type": "string"}},
          {"name": "symbol", "in": "query", "description": "Only this series (unified BTC-USDT or the exchange's spelling)", "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "The scores", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Quality"}}}},
          "400": {"description": "A bad or unknown parameter, named in the body", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"description": "Quality monitoring is not running", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/subscriptions": {
      "post": {
        "summary": "Subscribe a webhook to alerts",
        "description": "Each matching alert is POSTed as JSON (Alert) with headers Idempotency-Key (the alert_id, identical on retries), X-Tickflow-Timestamp (unix seconds) and X-Tickflow-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + \".\" + body)>. Retries with exponential backoff and jitter; after webhooks.max_attempts failures the alert goes to dlq.market-data (reason webhook_failed). Subscriptions and their positions are durable.",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SubscriptionRequest"}}}},
        "responses": {
          "201": {"description": "Created; the secret is returned only here", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Subscription"}}}},
          "400": {"description": "Bad JSON (parameter body), a URL that is not http(s) or does not resolve (parameter url), a bad filter or secret", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      },
      "get": {
        "summary": "Every webhook subscription (without secrets)",
        "responses": {"200": {"description": "{\"subscriptions\":[Subscription]}", "content": {"application/json": {"schema": {"type": "object", "properties": {"subscriptions": {"type": "array", "items": {"$ref": "#/components/schemas/Subscription"}}}}}}}}
      }
    },
    "/subscriptions/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {
        "summary": "One webhook subscription (without its secret)",
        "responses": {
          "200": {"description": "The subscription", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Subscription"}}}},
          "404": {"description": "Unknown subscription", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      },
      "delete": {
        "summary": "Delete a webhook subscription (its delivery stops)",
        "responses": {
          "204": {"description": "Deleted"},
          "404": {"description": "Unknown subscription", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/ws/alerts": {
      "get": {
        "summary": "WebSocket: every alert transition as it is published ({\"type\":\"alert\",\"data\":Alert})",
        "description": "Alerts are never conflated or dropped silently: a client whose outbound queue exceeds its bound is disconnected with close reason \"alert queue overflow\" (counted in tickflow_realtime_alert_disconnects_total).",
        "parameters": [
          {"name": "rule", "in": "query", "description": "Only alerts of this rule (comma list)", "schema": {"type": "string"}},
          {"name": "symbol", "in": "query", "description": "Only alerts of this unified symbol (comma list)", "schema": {"type": "string"}}
        ],
        "responses": {
          "101": {"description": "Switching to WebSocket"},
          "400": {"description": "An unknown query parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "426": {"description": "Not a WebSocket upgrade request"}
        }
      }
    },
    "/health": {
      "get": {
        "summary": "Per-component status",
        "responses": {
          "200": {"description": "Up or degraded", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
          "503": {"description": "A component is down", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
        }
      }
    },
    "/metrics": {
      "get": {"summary": "Prometheus metrics (text format 0.0.4)", "responses": {"200": {"description": "Metrics", "content": {"text/plain": {}}}}}
    },
    "/openapi.json": {
      "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.0", "content": {"application/json": {}}}}}
    }
  },
  "components": {
    "schemas": {
      "SubscriptionRequest": {"type": "object", "required": ["url"], "properties": {
        "url": {"type": "string", "description": "http:// or https:// URL whose host resolves"},
        "filter": {"type": "object", "description": "Each list empty or absent = any", "properties": {
          "rules": {"type": "array", "items": {"type": "string"}}, "symbols": {"type": "array", "items": {"type": "string"}},
          "severities": {"type": "array", "items": {"type": "string"}}, "states": {"type": "array", "items": {"type": "string", "enum": ["firing", "resolved"]}}}},
        "secret": {"type": "string", "minLength": 16, "description": "HMAC key; generated (48 hex) when absent"}}},
      "Subscription": {"type": "object", "properties": {"id": {"type": "string"}, "url": {"type": "string"}, "filter": {"type": "object"},
        "created_at": {"type": "string"}, "created_at_ns": {"type": "integer"}, "secret": {"type": "string", "description": "Only in the 201 answer"}}},
      "Alert": {"type": "object", "properties": {"alert_id": {"type": "string"}, "rule": {"type": "string"}, "kind": {"type": "string"},
        "state": {"type": "string", "enum": ["firing", "resolved"]}, "severity": {"type": "string"}, "exchange": {"type": "string"},
        "symbol": {"type": "string"}, "timeframe": {"type": "string"}, "ts_event": {"type": "string"}, "ts_event_ms": {"type": "integer"},
        "value": {"type": "number", "nullable": true}, "threshold": {"type": "number", "nullable": true}, "message": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
      "Candle": {
        "type": "object",
        "properties": {
          "open_time": {"type": "string", "format": "date-time"},
          "open_time_ms": {"type": "integer"},
          "close_time": {"type": "string", "format": "date-time", "description": "Last millisecond of the window"},
          "close_time_ms": {"type": "integer"},
          "open": {"type": "string"}, "high": {"type": "string"}, "low": {"type": "string"}, "close": {"type": "string"},
          "volume": {"type": "string"}, "quote_volume": {"type": "string"}, "vwap": {"type": "string"},
          "trades": {"type": "integer"},
          "taker_buy_volume": {"type": "string"}, "taker_buy_quote_volume": {"type": "string"},
          "first_trade_id": {"type": "integer", "description": "-1 for an empty interval"},
          "last_trade_id": {"type": "integer"},
          "status": {"type": "string", "enum": ["provisional", "final", "corrected"]},
          "revision": {"type": "integer"},
          "coverage": {"type": "number", "minimum": 0, "maximum": 1},
          "gap_reason": {"type": "string", "enum": ["", "disconnected", "resyncing", "gap_backfilled"]}
        }
      },
      "CandleSeries": {
        "type": "object",
        "properties": {
          "exchange": {"type": "string"}, "symbol": {"type": "string"}, "timeframe": {"type": "string"},
          "candles": {"type": "array", "items": {"$ref": "#/components/schemas/Candle"}}
        }
      },
      "IndicatorSeries": {
        "type": "object",
        "properties": {
          "exchange": {"type": "string"}, "symbol": {"type": "string"}, "timeframe": {"type": "string"},
          "indicators": {"type": "array", "items": {"type": "object", "properties": {
            "open_time": {"type": "string", "format": "date-time"}, "open_time_ms": {"type": "integer"},
            "close_time": {"type": "string", "format": "date-time"}, "close_time_ms": {"type": "integer"},
            "revision": {"type": "integer", "description": "Candle revision, raised on every republication after a correction"},
            "values": {"type": "object", "additionalProperties": {"type": "number"}}}}}
        }
      },
      "Trades": {
        "type": "object",
        "properties": {
          "exchange": {"type": "string"}, "symbol": {"type": "string"},
          "trades": {"type": "array", "items": {"type": "object", "properties": {
            "trade_id": {"type": "integer"}, "time": {"type": "string", "format": "date-time"}, "time_ms": {"type": "integer"},
            "price": {"type": "string"}, "quantity": {"type": "string"},
            "side": {"type": "string", "enum": ["buy", "sell", "unknown"], "description": "Taker side"},
            "aggregated": {"type": "boolean"}, "first_trade_id": {"type": "integer"}, "last_trade_id": {"type": "integer"}}}}
        }
      },
      "BookSnapshot": {
        "type": "object",
        "properties": {
          "time": {"type": "string", "format": "date-time", "description": "Exchange time of the last applied update (receive time when the venue gives none)"},
          "time_ms": {"type": "integer"}, "ts_event_ns": {"type": "integer", "description": "0 when the venue gives no event time"},
          "ts_recv_ns": {"type": "integer"}, "exchange_symbol": {"type": "string"},
          "sequence": {"type": "integer", "description": "The venue's: Binance final update id, Coinbase sequence, Kraken 0"},
          "depth": {"type": "integer", "description": "Levels per side requested (a side may hold fewer)"},
          "crossed": {"type": "boolean", "description": "Best bid >= best ask when the snapshot was taken"},
          "bids": {"type": "array", "description": "[price, quantity] best first", "items": {"type": "array", "items": {"type": "string"}}},
          "asks": {"type": "array", "description": "[price, quantity] best first", "items": {"type": "array", "items": {"type": "string"}}}
        }
      },
      "BookSnapshots": {
        "type": "object",
        "properties": {
          "exchange": {"type": "string"}, "symbol": {"type": "string"},
          "snapshots": {"type": "array", "items": {"$ref": "#/components/schemas/BookSnapshot"}}
        }
      },
      "QualityScope": {
        "type": "object",
        "properties": {
          "exchange": {"type": "string"}, "symbol": {"type": "string", "description": "Series only"},
          "score": {"type": "number", "minimum": 0, "maximum": 1}, "stale": {"type": "boolean"},
          "last_data": {"type": "string", "format": "date-time", "nullable": true},
          "last_data_age_seconds": {"type": "number", "nullable": true}, "trades": {"type": "integer"},
          "window": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "events and per check: duplicate, gap, out_of_order, outlier, stale, crossed_book, divergence"},
          "totals": {"type": "object", "additionalProperties": {"type": "integer"}}
        }
      },
      "Quality": {
        "type": "object",
        "properties": {
          "overall_score": {"type": "number"}, "stale_after_seconds": {"type": "number"}, "window_seconds": {"type": "number"},
          "feeds": {"type": "array", "items": {"$ref": "#/components/schemas/QualityScope"}},
          "series": {"type": "array", "items": {"$ref": "#/components/schemas/QualityScope"}}
        }
      },
      "Error": {
        "type": "object",
        "properties": {"error": {"type": "string"}, "parameter": {"type": "string"}},
        "required": ["error"]
      },
      "Latest": {
        "type": "object",
        "properties": {
          "exchange": {"type": "string"}, "symbol": {"type": "string"}, "timeframe": {"type": "string"},
          "source": {"type": "string", "enum": ["redis", "store"]},
          "candle": {"allOf": [{"$ref": "#/components/schemas/Candle"}], "nullable": true},
          "indicators": {"type": "object", "nullable": true, "properties": {"open_time": {"type": "string", "format": "date-time"}, "open_time_ms": {"type": "integer"}, "candle_revision": {"type": "integer"}, "provisional": {"type": "boolean"}, "values": {"type": "object", "additionalProperties": {"type": "number"}}}},
          "alert": {"type": "object", "nullable": true, "description": "The newest alert transition of the series (Redis only)"}
        }
      },
      "Health": {
        "type": "object",
        "properties": {
          "status": {"type": "string", "enum": ["up", "degraded", "down"]},
          "components": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "state": {"type": "string"}, "detail": {"type": "string"}}}}
        }
      }
    }
  }
}
)JSON";
  return kDoc;
}

}  // namespace tickflow::serving
