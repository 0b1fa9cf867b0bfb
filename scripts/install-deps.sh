#!/usr/bin/env bash
# Installs every Debian 12 package tickflow needs to build, test and benchmark.
# Idempotent: packages already present are left alone. Run as root (or with sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3
  libboost1.74-dev libboost-system1.74-dev
  libssl-dev ca-certificates
  libsimdjson-dev
  librocksdb-dev libzstd-dev
  libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev
  libcli11-dev libtomlplusplus-dev
  prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl
  # history and cache backends (issue 6), started by the tests on loopback
  libpq-dev postgresql-15 postgresql-15-partman
  libhiredis-dev redis-server
  # Kafka bus backend (issue 5); tests use librdkafka's built-in mock cluster
  librdkafka-dev
  # alert delivery and the shipped operations rules (issue 4)
  prometheus prometheus-alertmanager
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
