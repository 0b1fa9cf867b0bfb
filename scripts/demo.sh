#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs packages, builds, and runs the whole
# pipeline embedded, fed by the built-in Binance simulator, with the API on localhost:8080.
#   REST: curl 'http://127.0.0.1:8080/ohlcv/binance/BTC-USDT/1m?limit=5'
#   WS:   ws://127.0.0.1:8080/ws/ohlcv/binance/BTC-USDT/1m
#   Alerts (config/demo.toml rules): ./build/tickflow tail processed.alerts --data-dir ./data/demo
# Extra arguments go to `tickflow run` (e.g. --port 9090, --rate 5000). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh tickflow
exec ./build/tickflow run --demo --config config/demo.toml --data-dir "${TICKFLOW_DATA_DIR:-./data/demo}" "$@"
