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
      "Error": {
        "type": "object",
        "properties": {"error": {"type": "string"}, "parameter": {"type": "string"}},
        "required": ["error"]
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
