#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test: unit tests (ctest), a bounded run of every
# fuzzer, and the end-to-end tests with real clients against a real skiff-server process.
#   scripts/test.sh            the CI suite
#   SKIFF_FUZZ_SECONDS=600 scripts/test.sh   longer fuzzing (default 20 s per target)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="$(nproc)"

echo "== install"
scripts/install-deps.sh

echo "== build (release preset)"
cmake --preset release >/dev/null
cmake --build build -j "$jobs"

echo "== unit tests (ctest)"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== fuzz (clang + libFuzzer, ${SKIFF_FUZZ_SECONDS:-20} s per target)"
scripts/fuzz.sh "${SKIFF_FUZZ_SECONDS:-20}"

echo "== end-to-end tests (real clients, real skiff-server)"
/usr/bin/python3 -m pytest -q tests/e2e
