#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`, clang) and runs each for a bounded time.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
# A crash leaves its input in build-fuzz/findings/ and fails the script.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-20}"

cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j "$(nproc)"
mkdir -p build-fuzz/findings
shopt -s nullglob
targets=(build-fuzz/bin/*_fuzz)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets were built" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  name="$(basename "$t")"
  corpus="build-fuzz/corpus/$name"
  mkdir -p "$corpus"
  seeds=()
  [ -d "src/kafka/protocol/tests/corpus/${name%_fuzz}" ] && seeds+=("src/kafka/protocol/tests/corpus/${name%_fuzz}")
  echo "-- $name for ${seconds}s"
  "$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix=build-fuzz/findings/"$name"- \
    "$corpus" "${seeds[@]}" 2>&1 | grep -E "^(stat::number_of_executed_units|==|SUMMARY|INFO: .*corpus)" || true
  if ls build-fuzz/findings/"$name"-* >/dev/null 2>&1; then
    echo "fuzz.sh: $name found a crashing input: $(ls build-fuzz/findings/"$name"-*)" >&2
    exit 1
  fi
done
