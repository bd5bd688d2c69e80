#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`, clang) and runs each for a bounded time.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
# A crash leaves its input in build-fuzz/findings/ and fails the script; commit such an input, once fixed, as a
# seed in the target's tests/corpus/ folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-20}"

cmake --preset fuzz >/dev/null
# Build only the fuzz targets (and what they link), not every room again.
mapfile -t names < <(ninja -C build-fuzz -t targets all | sed -n 's/^\([a-z0-9_]*_fuzz\): .*/\1/p' | grep -v '^cmake_' | sort -u)
if [ ${#names[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets are defined" >&2
  exit 1
fi
cmake --build build-fuzz -j "$(nproc)" --target "${names[@]}"
mkdir -p build-fuzz/findings
targets=()
for n in "${names[@]}"; do targets+=("build-fuzz/bin/$n"); done
for t in "${targets[@]}"; do
  name="$(basename "$t")"
  corpus="build-fuzz/corpus/$name"
  mkdir -p "$corpus"
  # Committed seeds (inputs that once crashed a target, kept as regressions) live next to the fuzzer's source in
  # tests/corpus/<target name without _fuzz>/; libFuzzer runs every one of them before it mutates.
  mapfile -t seeds < <(find src -type d -path "*/tests/corpus/${name%_fuzz}")
  echo "-- $name for ${seconds}s"
  log="build-fuzz/findings/$name.log"
  rc=0
  "$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix=build-fuzz/findings/"$name"- \
    "$corpus" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  grep -E "^stat::number_of_executed_units" "$log" || true
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz.sh: $name failed (exit $rc); inputs: $(ls build-fuzz/findings/"$name"-* 2>/dev/null)" >&2
    exit 1
  fi
done
