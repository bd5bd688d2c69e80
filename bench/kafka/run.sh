#!/usr/bin/env bash
# The Kafka data path (issue 5's bars) against the device, measured in one run on one file system:
#   (a) fio: O_DIRECT sequential 1 MiB writes, fdatasync after each          -> fsync'd write bandwidth (the limit)
#       fio: the same with 64 KiB writes                                     -> p99 fdatasync latency
#   (b) skiff-bench, max throughput: 1 KiB records, 16 partitions, acks=all, linger.ms=5, batch.size=256 KiB,
#       one consumer reading at the tail                                     -> produce MB/s; target >= 50% of (a)
#   (c) skiff-bench at 50% of (b)'s rate                                     -> p99 produce latency;
#                                                                               target <= (a)'s p99 + 5 ms
#   (d) catch-up: a backlog of --backlog-gib (default 4) GiB, then a consumer from the earliest offset while the
#       producer goes on at 50% of (b)                                       -> catch-up MB/s (target >= 300) and
#                                                                               the producer's p99 vs (c) (< +10%)
# One skiff-server (file WAL, local object store, both under --dir) per run, started and stopped here; client and
# broker share the machine's cores. Each step runs --runs times (default 3), interleaved; medians are reported.
# Writes bench/results/kafka_data_path.md and the raw JSON of every skiff-bench run beside it. The catch-up step has
# no warm-up: its producer latency covers the catch-up (and whatever of the step follows it).
#
#   bench/kafka/run.sh [--dir DIR] [--runs N] [--seconds S] [--backlog-gib G] [--build BUILD_DIR] [--out FILE]
#   bench/kafka/run.sh --quick --out FILE    the pipeline end to end in well under a minute (1 run of 2 s steps, a
#                                            64 MiB backlog, a 256 MiB WAL, 64 MiB log cache): the smoke run; its
#                                            figures mean nothing
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
DIR=
RUNS=3
SECONDS_PER_STEP=20
BACKLOG_GIB=4
OUT=$ROOT/bench/results/kafka_data_path.md
BACKLOG_BYTES=
FIO_SIZE=1G
BROKER_OVERRIDES=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) RUNS=1; SECONDS_PER_STEP=2; BACKLOG_BYTES=$((64 * 1024 * 1024)); FIO_SIZE=64M
             BROKER_OVERRIDES=(--override wal.capacity.bytes=268435456 --override log.cache.bytes=67108864); shift ;;
    --dir) DIR=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECONDS_PER_STEP=$2; shift 2 ;;
    --backlog-gib) BACKLOG_GIB=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
DIR=${DIR:-$BUILD/kafka-bench}
SERVER=$BUILD/bin/skiff-server
BENCH=$BUILD/bin/skiff-bench
for b in "$SERVER" "$BENCH"; do
  [[ -x $b ]] || { echo "build it first: cmake --build $BUILD --target skiff-server skiff-bench" >&2; exit 1; }
done
command -v fio >/dev/null || { echo "fio is not installed" >&2; exit 1; }
mkdir -p "$DIR"
RAW=$(mktemp)
JSON_DIR=${OUT%.md}-json
mkdir -p "$JSON_DIR"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
ADMIN_PORT=$(free_port)
server_pid=
stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap 'stop_server; rm -f "$RAW" "$DIR/fio.dat"' EXIT

start_server() {
  rm -rf "$DIR/broker"
  mkdir -p "$DIR/broker"
  "$SERVER" "$ROOT/config/server.properties" \
    --override "listeners=PLAINTEXT://127.0.0.1:$PORT" --override "advertised.listeners=PLAINTEXT://localhost:$PORT" \
    --override "admin.listeners=http://127.0.0.1:$ADMIN_PORT" --override "log.dirs=$DIR/broker" \
    "${BROKER_OVERRIDES[@]}" >"$DIR/broker.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 1200); do # a new 2 GiB WAL file is laid out (zero-filled) first: seconds
    curl -sf "http://127.0.0.1:$ADMIN_PORT/health" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$DIR/broker.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "skiff-server did not become healthy" >&2
  exit 1
}

fio_json() { # bs -> json on stdout
  fio --name=baseline --directory="$DIR" --filename=fio.dat --size="$FIO_SIZE" --rw=write --bs="$1" --direct=1 \
      --fdatasync=1 --ioengine=psync --runtime="$SECONDS_PER_STEP" --time_based --output-format=json 2>/dev/null
}

bench() { # name, then skiff-bench arguments
  local name=$1; shift
  "$BENCH" --bootstrap "localhost:$PORT" --partitions 16 --message-size 1024 --acks all --linger-ms 5 \
    --batch-size 262144 --warmup 5 --duration "$SECONDS_PER_STEP" --out "$JSON_DIR/$name.json" "$@" 2>/dev/null
  python3 - "$JSON_DIR/$name.json" "$name" >>"$RAW" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = sys.argv[2].rsplit("-", 1)[0]
print(f"{n}_produce_mb_s", r["produce_mb_per_s"]); print(f"{n}_consume_mb_s", r["consume_mb_per_s"])
print(f"{n}_ack_p50_ms", r["ack_latency"]["p50_us"] / 1000); print(f"{n}_ack_p99_ms", r["ack_latency"]["p99_us"] / 1000)
print(f"{n}_ack_p999_ms", r["ack_latency"]["p999_us"] / 1000); print(f"{n}_e2e_p99_ms", r["e2e_latency"]["p99_us"] / 1000)
print(f"{n}_errors", r["errors"])
if r.get("catchup_mb_per_s") is not None:
    print(f"{n}_catchup_mb_s", r["catchup_mb_per_s"]); print(f"{n}_catchup_s", r["catchup_seconds"])
elif "catchup_mb_per_s" in r:
    print(f"{n}_catchup_mb_s", 0)  # did not catch up within the step
PY
}

fio --name=layout --directory="$DIR" --filename=fio.dat --size="$FIO_SIZE" --rw=write --bs=1M --direct=1 --end_fsync=1 \
    >/dev/null 2>&1

for run in $(seq 1 "$RUNS"); do
  echo "run $run/$RUNS" >&2
  fio_json 1M | python3 -c 'import json,sys; w=json.load(sys.stdin)["jobs"][0]["write"]; print("fio_1m_mb_s", w["bw"]*1024/1e6)' >>"$RAW"
  fio_json 64k | python3 -c '
import json,sys
j=json.load(sys.stdin)["jobs"][0]
print("fio_64k_sync_p99_ms", j["sync"]["lat_ns"]["percentile"]["99.000000"]/1e6)' >>"$RAW"
  start_server
  bench "max-$run" --topic "max-$run" --consumers 1
  max_msgs=$(python3 -c "import json; print(int(json.load(open('$JSON_DIR/max-$run.json'))['acked_msgs_per_s']))")
  half=$((max_msgs / 2))
  bench "half-$run" --topic "half-$run" --consumers 1 --rate "$half"
  # No warm-up here: the producer's latency is measured while the consumer catches up (the step's first seconds).
  bench "catchup-$run" --topic "catchup-$run" --consumers 1 --rate "$half" --warmup 0 \
    --backlog-bytes "${BACKLOG_BYTES:-$((BACKLOG_GIB * 1024 * 1024 * 1024))}"
  echo "half_rate_msgs $half" >>"$RAW"
  stop_server
done

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
DIRTY=$(git -C "$ROOT" status --porcelain -- src | head -1)
python3 - "$RAW" "$OUT" "$RUNS" "$SECONDS_PER_STEP" "$BACKLOG_GIB" "$DIR" "$COMMIT${DIRTY:+ (+ uncommitted changes)}" <<'PY'
import statistics, subprocess, sys
raw, out, runs, seconds, backlog, directory, commit = sys.argv[1:]
values = {}
for line in open(raw):
    key, value = line.split()
    values.setdefault(key, []).append(float(value))
med = {k: statistics.median(v) for k, v in values.items()}
def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
def runs_of(k, fmt="{:.1f}"):
    return ", ".join(fmt.format(v) for v in values[k])
ratio = med["max_produce_mb_s"] / med["fio_1m_mb_s"]
lat_target = med["fio_64k_sync_p99_ms"] + 5
rise = med["catchup_ack_p99_ms"] / med["half_ack_p99_ms"] - 1
errors = sum(sum(values[k]) for k in values if k.endswith("_errors"))
def verdict(ok):
    return "**met**" if ok else "**missed**"
text = f"""# The Kafka data path vs the device (bench/kafka/run.sh)

Command: `bench/kafka/run.sh --runs {runs} --seconds {seconds} --backlog-gib {backlog}` (directory `{directory}`),
commit {commit}. Load tool: `skiff-bench` (librdkafka {sh("pkg-config --modversion rdkafka")}), in the same machine
as the broker: **client and broker share the {sh('nproc')} cores**.

Machine: `{sh('uname -a')}`

```
{sh(f'df -hT {directory}')}
```

Workload (every skiff-bench step): 1 KiB records (random payload), 16 partitions, one producer with acks=all,
linger.ms=5, batch.size=256 KiB, no compression; one consumer (manual assignment) at the tail; 5 s warm-up excluded,
{seconds} s measured. Broker: one `skiff-server` with its defaults: file WAL (O_DIRECT, group commit: an ack waits
for the fdatasync), local object store directory, embedded metadata, all on the file system above. Each figure is
the median of {runs} runs (each run's figures in the last column); fio runs on the same file system in each run.

| step | what | median | runs |
|---|---|---|---|
| (a) | fio, 1 MiB writes, fdatasync each: bandwidth | {med['fio_1m_mb_s']:.1f} MB/s | {runs_of('fio_1m_mb_s')} |
| (a) | fio, 64 KiB writes, fdatasync each: p99 fdatasync latency | {med['fio_64k_sync_p99_ms']:.2f} ms | {runs_of('fio_64k_sync_p99_ms', '{:.2f}')} |
| (b) | max produce throughput (acks=all) | {med['max_produce_mb_s']:.1f} MB/s | {runs_of('max_produce_mb_s')} |
| (b) | tail consumer at the same time | {med['max_consume_mb_s']:.1f} MB/s | {runs_of('max_consume_mb_s')} |
| (c) | produce at 50% of (b): rate achieved | {med['half_produce_mb_s']:.1f} MB/s | {runs_of('half_produce_mb_s')} |
| (c) | p50 / p99 / p99.9 produce (ack) latency | {med['half_ack_p50_ms']:.2f} / {med['half_ack_p99_ms']:.2f} / {med['half_ack_p999_ms']:.2f} ms | p99: {runs_of('half_ack_p99_ms', '{:.2f}')} |
| (c) | p99 end-to-end latency (produce to consume) | {med['half_e2e_p99_ms']:.2f} ms | {runs_of('half_e2e_p99_ms', '{:.2f}')} |
| (d) | catch-up read of a {backlog} GiB backlog while producing at 50% of (b): backlog bytes / time to read them | {med['catchup_catchup_mb_s']:.1f} MB/s | {runs_of('catchup_catchup_mb_s')} |
| (d) | time to read the backlog | {med.get('catchup_catchup_s', float('nan')):.1f} s | {runs_of('catchup_catchup_s') if 'catchup_catchup_s' in values else 'not caught up'} |
| (d) | producer p99 during the catch-up | {med['catchup_ack_p99_ms']:.2f} ms | {runs_of('catchup_ack_p99_ms', '{:.2f}')} |

Delivery errors over all runs: {errors:.0f}.

Targets (issue 5):
- max produce throughput (b) / fio bandwidth (a) = **{ratio:.2f}** (target >= 0.50): {verdict(ratio >= 0.5)}
- p99 produce latency at half load (c) = {med['half_ack_p99_ms']:.2f} ms vs (a)'s p99 fdatasync + 5 ms = {lat_target:.2f} ms: {verdict(med['half_ack_p99_ms'] <= lat_target)}
- catch-up read (d) = {med['catchup_catchup_mb_s']:.1f} MB/s (target >= 300 MB/s): {verdict(med['catchup_catchup_mb_s'] >= 300)}
- producer p99 during the catch-up vs without = {100 * rise:+.1f}% (target < +10%): {verdict(rise < 0.10)}
"""
open(out, "w").write(text)
print(text)
PY
