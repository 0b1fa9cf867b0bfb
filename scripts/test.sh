#!/usr/bin/env bash
# Every test on a fresh Debian 12 machine: installs packages, builds everything, runs CTest
# (unit tests, recordings checks, end-to-end and crash-safety tests against the simulator).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "${TEST_JOBS:-2}" --timeout 900 "$@"
