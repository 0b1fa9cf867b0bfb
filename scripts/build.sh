#!/usr/bin/env bash
# Configures and builds tickflow into ./build (Release with debug info, ccache, Ninja).
# Usage: scripts/build.sh [extra targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
start=$(date +%s)
cmake --build "$BUILD_DIR" -j "$JOBS" "$@"
echo "build: done in $(( $(date +%s) - start )) s ($BUILD_DIR)"
