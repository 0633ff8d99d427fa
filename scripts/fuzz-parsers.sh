#!/usr/bin/env bash
# fuzz-parsers.sh — libFuzzer + AddressSanitizer (+ UBSan) over the parsers that read files from
# the internet: the safetensors header, config.json and model.safetensors.index.json
# (native/fuzz/fuzz_*.cpp). Seeds come from ../shared/fixtures/tiny-k2 and assets/models/demo-k2
# (scripts/fuzz-seeds.mjs). Each target runs RUNS inputs on one core at low priority; a crash
# stops that target, its input lands in $OUT/crashes/ and the script exits 1.
# Not part of npm test: the crashers found are kept as cases in native/tests/test_loader_malformed.cpp.
#
# Usage: scripts/fuzz-parsers.sh [RUNS] [TARGET...]   (RUNS default 1000000; targets default all:
#        safetensors_header config_json safetensors_index). $KK_FUZZ_OUT (default build/fuzz).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-1000000}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(safetensors_header config_json safetensors_index)
OUT="${KK_FUZZ_OUT:-$ROOT/build/fuzz}"
SHARED="${KK_SHARED:-$ROOT/../shared}"
# Per-input limits: a parser that needs more than this is a finding too.
TIMEOUT_S=10
RSS_LIMIT_MB=2048
# Largest input tried: above every seed (scripts/fuzz-seeds.mjs keeps them to a few KiB) with
# room to grow, small enough that a million runs of one target take minutes on one core.
MAX_LEN=8192

CXX="${KK_FUZZ_CXX:-clang++}"
FLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I native/include -I native/src -I kernels/common -I native/tests)

# libFuzzer's runtime ships apart from clang on Debian (libclang-rt-N-dev).
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > "$probe/p.cpp"
if ! command -v "$CXX" >/dev/null 2>&1 || ! "$CXX" -fsanitize=fuzzer,address "$probe/p.cpp" -o "$probe/p" 2>/dev/null; then
  ver="$("$CXX" --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)"
  pkgs="clang libclang-rt-${ver:-14}-dev"
  echo "fuzz-parsers: $CXX cannot link -fsanitize=fuzzer (no libFuzzer runtime). Install it:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends $pkgs" >&2
  exit 1
fi

declare -A SOURCES=(
  [safetensors_header]="native/fuzz/fuzz_safetensors_header.cpp native/src/loader/safetensors.cpp native/src/core/tensor.cpp"
  [safetensors_index]="native/fuzz/fuzz_safetensors_index.cpp native/src/loader/safetensors.cpp native/src/core/tensor.cpp"
  [config_json]="native/fuzz/fuzz_config_json.cpp native/src/model/config.cpp"
)

mkdir -p "$OUT/bin" "$OUT/crashes"
rm -rf "$OUT/seeds"
node scripts/fuzz-seeds.mjs "$OUT/seeds" "$SHARED/fixtures/tiny-k2" assets/models/demo-k2

failed=0
summary=()
for t in "${TARGETS[@]}"; do
  [ -n "${SOURCES[$t]:-}" ] || { echo "fuzz-parsers: unknown target '$t'" >&2; exit 2; }
  bin="$OUT/bin/fuzz_$t"
  # Rebuilt when missing or older than any engine source or header (an ASan build takes minutes).
  if [ ! -x "$bin" ] || [ -n "$(find native/src native/include native/fuzz native/tests/parser_checks.h kernels/common -newer "$bin" -type f | head -1)" ]; then
    echo "== $t: building"
    # shellcheck disable=SC2086
    nice "$CXX" "${FLAGS[@]}" ${SOURCES[$t]} -o "$bin"
  fi
  mkdir -p "$OUT/corpus/$t"
  log="$OUT/$t.log"
  stamp="$OUT/.$t.start"
  touch "$stamp"
  echo "== $t: $RUNS inputs (log $log)"
  set +e
  # New inputs go to corpus/ (kept between runs); the seeds are only read.
  nice -n 19 "$bin" -runs="$RUNS" -seed=1 -timeout="$TIMEOUT_S" -rss_limit_mb="$RSS_LIMIT_MB" \
    -max_len="$MAX_LEN" -print_final_stats=1 -artifact_prefix="$OUT/crashes/$t-" "$OUT/corpus/$t" "$OUT/seeds/$t" > "$log" 2>&1
  rc=$?
  set -e
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  crashes="$(find "$OUT/crashes" -name "$t-*" -type f -newer "$stamp" | wc -l)"  # this run's
  summary+=("$t: executions=${execs:-?} crashers=$crashes rc=$rc")
  if [ "$rc" -ne 0 ]; then
    failed=1
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 >&2 || true
  fi
done
printf '%s\n' "${summary[@]}"
exit "$failed"
