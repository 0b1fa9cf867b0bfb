#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) in build-fuzz/ and runs each,
# one after the other (niced), for N executions (default 10,000,000), then prints a table:
# target, executions, seconds, exec/s, and whether it found anything (crash, leak, timeout,
# broken invariant; the input is saved under build-fuzz/fuzz-artifacts/<target>/).
#
#   scripts/fuzz.sh [executions]              all targets
#   FUZZ_TARGETS="kraken codec" scripts/fuzz.sh 100000
#   FUZZ_MAX_SECONDS=600 scripts/fuzz.sh      also stop each target after 600 s (a shared machine)
# A single input slower than FUZZ_TIMEOUT seconds (default 60: on a loaded machine a niced
# process can stall that long in ASan's allocator; every input here runs in milliseconds) is
# reported as a finding ("timeout").
#
# Each run starts from the checked-in seeds (fuzz/corpus/<target>) plus what earlier runs found
# (build-fuzz/fuzz-corpus/<target>, never written back into the source tree). Needs clang and
# libFuzzer from Debian (`apt-get install clang`); the other packages are the normal build's.
# Exit status 1 when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10000000}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"
max_time=()
[[ -n "${FUZZ_MAX_SECONDS:-}" ]] && max_time=(-max_total_time="$FUZZ_MAX_SECONDS")
targets="${FUZZ_TARGETS:-binance_frame binance_agg_trades coinbase coinbase_advanced order_book kraken kraken_rest kraken_v2 exchange_rest codec}"

if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTICKFLOW_FUZZ=ON -DTICKFLOW_BUILD_TESTS=OFF -DTICKFLOW_BUILD_BENCH=OFF >/dev/null
fi
nice ninja -C "$build" -j "${FUZZ_BUILD_JOBS:-2}" fuzz_targets

report="$build/fuzz-report.txt"
printf '%-20s %12s %8s %10s  %s\n' target executions seconds exec/s result | tee "$report"
status=0
for t in $targets; do
  corpus="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  log="$build/fuzz-$t.log"
  mkdir -p "$corpus" "$artifacts"
  start=$(date +%s)
  set +e
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
    nice -n 10 "$build/fuzz/fuzz_$t" -runs="$runs" "${max_time[@]}" -print_final_stats=1 -rss_limit_mb=2048 -timeout="${FUZZ_TIMEOUT:-60}" \
      -artifact_prefix="$artifacts/" "$corpus" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs="${execs:-?}"
  rate="?"
  [[ "$execs" =~ ^[0-9]+$ && $secs -gt 0 ]] && rate=$(( execs / secs ))
  if [[ $rc -eq 0 ]]; then
    result="nothing found"
    [[ "$execs" =~ ^[0-9]+$ && $execs -lt $runs ]] && result="nothing found (stopped by FUZZ_MAX_SECONDS)"
  else
    status=1
    what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+|runtime error: .*|fuzz invariant failed: .*' "$log" || true)
    result="FOUND (${what:-exit $rc}); input in $artifacts, log $log"
  fi
  printf '%-20s %12s %8s %10s  %s\n' "$t" "$execs" "$secs" "$rate" "$result" | tee -a "$report"
done
echo "report: $report"
exit $status
