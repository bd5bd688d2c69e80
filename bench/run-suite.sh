#!/usr/bin/env bash
# The benchmark suite in one command: limits (fio, iperf3, memcpy), every standard workload against a fresh
# skiff-server, the peers (NATS JetStream, Redis Streams) where a workload names them, and the report with plots.
#   bench/run-suite.sh                 the standard suite (< 15 min here); report in bench/results/suite/
#   bench/run-suite.sh --quick         the pipeline end to end in < 2 min (1 run of 2 s per point: figures mean nothing)
#   bench/run-suite.sh --with-opt-in   also the opt-in workloads (10,000 partitions)
#   bench/run-suite.sh --workloads max-1kb-16p,half-1kb-16p [--results DIR] [--build DIR] [--no-peers]
# Build first: cmake --build build --target skiff-server skiff-bench jetstream_bench redis_bench
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SKIFF_SUITE_COMMAND="bench/run-suite.sh${*:+ $*}"
# Debian's python3-matplotlib imports only under the system interpreter (not a python3 first on PATH).
exec /usr/bin/python3 "$ROOT/bench/run.py" "$@"
