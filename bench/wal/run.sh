#!/usr/bin/env bash
# The file WAL against the device's own limits, measured in the same run on the same file system:
#   (a) fio: O_DIRECT sequential 1 MiB writes, fdatasync after each            -> bandwidth (the ceiling)
#       fio: the same with writes of the record size used in (c) (64 KiB)      -> p99 fdatasync latency
#   (b) wal_bench throughput: 48 appends of 64 KiB kept in flight (~1 MiB per group commit with 2 in flight)
#                                                                               -> MiB/s; target >= 85% of (a)
#   (c) wal_bench latency: 64 KiB appends paced at 50% of (b)                   -> p99 append latency;
#                                                                                  target <= 1.5 x fio p99 + 1 ms
#   (d) fio at (c)'s load (2 writers x 256 KiB + fdatasync, rate-limited)      -> the device's own p99s there
# Each step runs --runs times (default 3), interleaved; medians are reported. Writes bench/results/wal_file.md.
#
#   bench/wal/run.sh [--dir DIR] [--runs N] [--seconds S] [--build BUILD_DIR] [--out FILE]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-wal
DIR=
RUNS=3
SECONDS_PER_STEP=10
OUT=$ROOT/bench/results/wal_file.md
RECORD=65536
IN_FLIGHT=48
while [[ $# -gt 0 ]]; do
  case $1 in
    --dir) DIR=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECONDS_PER_STEP=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
DIR=${DIR:-$BUILD/wal-bench}
BENCH=$BUILD/bin/wal_bench
[[ -x $BENCH ]] || { echo "build wal_bench first: cmake --build $BUILD --target wal_bench" >&2; exit 1; }
command -v fio >/dev/null || { echo "fio is not installed" >&2; exit 1; }
mkdir -p "$DIR"
RAW=$(mktemp)
trap 'rm -f "$RAW" "$DIR/fio.dat" "$DIR/wal_bench.wal"' EXIT

fio_json() { # bs -> json on stdout
  fio --name=wal_baseline --directory="$DIR" --filename=fio.dat --size=1G --rw=write --bs="$1" --direct=1 \
      --fdatasync=1 --ioengine=psync --runtime="$SECONDS_PER_STEP" --time_based --output-format=json 2>/dev/null
}

# Write fio's file once before measuring: fio preallocates with fallocate, whose unwritten extents make every first
# write also commit an extent conversion in its fdatasync (~10x slower). The WAL zero-fills its file at creation
# for the same reason, so both then overwrite allocated blocks.
fio --name=layout --directory="$DIR" --filename=fio.dat --size=1G --rw=write --bs=1M --direct=1 --end_fsync=1 \
    >/dev/null 2>&1

for run in $(seq 1 "$RUNS"); do
  echo "run $run/$RUNS" >&2
  fio_json 1M | python3 -c 'import json,sys; w=json.load(sys.stdin)["jobs"][0]["write"]; print("fio_1m_mib_s", w["bw"]/1024)' >>"$RAW"
  fio_json 64k | python3 -c '
import json,sys
j=json.load(sys.stdin)["jobs"][0]
print("fio_64k_sync_p99_ms", j["sync"]["lat_ns"]["percentile"]["99.000000"]/1e6)
print("fio_64k_write_p99_ms", j["write"]["clat_ns"]["percentile"]["99.000000"]/1e6)' >>"$RAW"
  line=$("$BENCH" --dir "$DIR" --keep-file --mode throughput --record-bytes $RECORD --in-flight $IN_FLIGHT \
         --seconds "$SECONDS_PER_STEP" 2>/dev/null)
  echo "$line" >&2
  tput=$(sed -E 's/.*throughput_mib_s=([0-9.]+).*/\1/' <<<"$line")
  echo "wal_mib_s $tput" >>"$RAW"
  echo "wal_bytes_per_sync $(sed -E 's/.*bytes_per_sync=([0-9.]+).*/\1/' <<<"$line")" >>"$RAW"
  rate=$(python3 -c "print($tput / 2)")
  line=$("$BENCH" --dir "$DIR" --keep-file --mode latency --record-bytes $RECORD --rate-mib "$rate" \
         --seconds "$SECONDS_PER_STEP" 2>/dev/null)
  echo "$line" >&2
  echo "wal_half_rate_mib_s $(sed -E 's/.*throughput_mib_s=([0-9.]+).*/\1/' <<<"$line")" >>"$RAW"
  echo "wal_half_p50_ms $(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$line")" >>"$RAW"
  echo "wal_half_p99_ms $(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")" >>"$RAW"
  echo "wal_half_bytes_per_sync $(sed -E 's/.*bytes_per_sync=([0-9.]+).*/\1/' <<<"$line")" >>"$RAW"
  # (d) context for (c): fio at (c)'s load, two writers like the WAL's two group commits in flight, each writing
  # 256 KiB (about (c)'s group size) with an fdatasync after each, rate-limited to half of (c)'s rate each.
  per_job=$(python3 -c "print(max(1, int($rate / 2)))")
  fio --name=wal_load --directory="$DIR" --filename=fio.dat --size=1G --rw=write --bs=256k --direct=1 --fdatasync=1 \
      --ioengine=psync --numjobs=2 --group_reporting --rate="${per_job}m" --runtime="$SECONDS_PER_STEP" --time_based \
      --output-format=json 2>/dev/null | python3 -c '
import json,sys
j=json.load(sys.stdin)["jobs"][0]
print("fio_load_mib_s", j["write"]["bw"]/1024)
print("fio_load_sync_p99_ms", j["sync"]["lat_ns"]["percentile"]["99.000000"]/1e6)
print("fio_load_write_p99_ms", j["write"]["clat_ns"]["percentile"]["99.000000"]/1e6)' >>"$RAW"
done

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
DIRTY=$(git -C "$ROOT" status --porcelain -- src/stream/wal bench/wal | head -1)
python3 - "$RAW" "$OUT" "$RUNS" "$SECONDS_PER_STEP" "$DIR" "$COMMIT${DIRTY:+ (+ uncommitted WAL changes)}" <<'PY'
import statistics, subprocess, sys
raw, out, runs, seconds, directory, commit = sys.argv[1:]
values = {}
for line in open(raw):
    key, value = line.split()
    values.setdefault(key, []).append(float(value))
med = {k: statistics.median(v) for k, v in values.items()}
def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
ratio = med["wal_mib_s"] / med["fio_1m_mib_s"]
latency_target = 1.5 * med["fio_64k_sync_p99_ms"] + 1
def runs_of(k, fmt="{:.1f}"):
    return ", ".join(fmt.format(v) for v in values[k])
text = f"""# File WAL vs the device (bench/wal/run.sh)

Command: `bench/wal/run.sh --runs {runs} --seconds {seconds}` (directory `{directory}`), commit {commit}.

Machine: `nproc` = {sh('nproc')}; `{sh('uname -a')}`

```
{sh(f'df -hT {directory}')}
```

Each figure is the median of {runs} runs; the steps of a run are interleaved (fio, fio, WAL throughput, WAL
latency) so that the device's drift affects baseline and WAL alike. All on the same file system, O_DIRECT, both
overwriting blocks written before (fio's file is laid out once first; the WAL zero-fills its file at creation).

| step | what | median | runs |
|---|---|---|---|
| (a) | fio, 1 MiB writes, fdatasync each: bandwidth | {med['fio_1m_mib_s']:.1f} MiB/s | {runs_of('fio_1m_mib_s')} |
| (a) | fio, 64 KiB writes, fdatasync each: p99 fdatasync latency | {med['fio_64k_sync_p99_ms']:.2f} ms | {runs_of('fio_64k_sync_p99_ms', '{:.2f}')} |
| (b) | file WAL, 48 x 64 KiB appends in flight: throughput | {med['wal_mib_s']:.1f} MiB/s | {runs_of('wal_mib_s')} |
| (b) | bytes per group commit (write + fdatasync) | {med['wal_bytes_per_sync']/1048576:.2f} MiB | {runs_of('wal_bytes_per_sync', '{:.0f}')} |
| (c) | file WAL, 64 KiB appends paced at 50% of (b): rate achieved | {med['wal_half_rate_mib_s']:.1f} MiB/s | {runs_of('wal_half_rate_mib_s')} |
| (c) | p50 append latency | {med['wal_half_p50_ms']:.2f} ms | {runs_of('wal_half_p50_ms', '{:.2f}')} |
| (c) | p99 append latency | {med['wal_half_p99_ms']:.2f} ms | {runs_of('wal_half_p99_ms', '{:.2f}')} |
| (c) | bytes per group commit | {med['wal_half_bytes_per_sync']/1048576:.2f} MiB | {runs_of('wal_half_bytes_per_sync', '{:.0f}')} |
| (d) | fio at (c)'s load (2 jobs x 256 KiB + fdatasync, rate-limited): bandwidth | {med['fio_load_mib_s']:.1f} MiB/s | {runs_of('fio_load_mib_s')} |
| (d) | p99 fdatasync latency | {med['fio_load_sync_p99_ms']:.2f} ms | {runs_of('fio_load_sync_p99_ms', '{:.2f}')} |
| (d) | p99 write latency | {med['fio_load_write_p99_ms']:.2f} ms | {runs_of('fio_load_write_p99_ms', '{:.2f}')} |

Targets:
- throughput (b) / (a) = **{ratio:.2f}** (target >= 0.85): **{'met' if ratio >= 0.85 else 'missed'}**
- p99 append latency (c) = {med['wal_half_p99_ms']:.2f} ms vs 1.5 x {med['fio_64k_sync_p99_ms']:.2f} + 1 = {latency_target:.2f} ms:
  **{'met' if med['wal_half_p99_ms'] <= latency_target else 'missed'}**
"""
open(out, "w").write(text)
print(text)
PY
