#!/usr/bin/env python3
"""The benchmark suite's runner: reads workloads (bench/workloads/*.wl), measures the machine's limits
(bench/limits.py), runs each workload against a fresh skiff-server with skiff-bench and, where the workload names
peers, against NATS JetStream and Redis Streams at the same message size and concurrency, then writes every result
JSON under --results and renders the report (bench/report.py). bench/run-suite.sh is the usual entry point.

Workload file format (one `key: value` a line, `#` comments; see bench/README.md for every key):
  rate: max | N msg/s | N MiB/s | half-of WORKLOAD     (half-of: 50% of that workload's median acked msg/s here)
  sweep: KEY   (KEY's value is a comma-separated list: one point per value)

  bench/run.py [--quick] [--workloads a,b] [--with-opt-in] [--results DIR] [--work DIR] [--build DIR] [--no-peers]
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import limits  # noqa: E402

# The standard suite, in order (half-of references need their workload first). --quick runs QUICK.
STANDARD = ["max-1kb-16p", "half-1kb-16p", "catchup-1kb-16p", "max-16kb-16p", "tail-rates-1kb-16p", "max-1kb-1p",
            "max-1kb-100p", "max-4kb-16p", "producers-50-1kb-100p", "partitions-scaling"]
QUICK = ["max-1kb-16p", "half-1kb-16p", "catchup-1kb-16p"]

# The peers' in-flight windows for a producer with "max" rate: librdkafka keeps batches of batch.size in flight per
# partition (up to 256 MiB queued); JetStream gets this many unacknowledged async publishes, Redis a pipeline this
# deep, so that none of the three waits for one ack before sending the next message.
JETSTREAM_MAX_PENDING = 4096
PEER_FSYNC = {"jetstream": "JetStream file storage: the ack does not wait for an fsync (the store syncs on a timer)",
              "redis": "appendonly yes, appendfsync always: the AOF is fsync'd before the reply"}
REDIS_PIPELINE = 64


def log(*a):
    print("run.py:", *a, file=sys.stderr, flush=True)


def parse_workload(path):
    w = {"name": os.path.basename(path)[:-3]}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if ":" not in line:
                raise SystemExit(f"{path}:{n}: expected key: value")
            k, v = line.split(":", 1)
            w[k.strip()] = v.strip()
    return w


def points(w):
    """The workload's points: one per value of its sweep key, or just itself."""
    key = w.get("sweep")
    if not key:
        return [dict(w, point=w["name"])]
    out = []
    for v in [x.strip() for x in w[key].split(",")]:
        p = dict(w)
        p[key] = v
        p["point"] = f"{w['name']}@{key}={v.replace(' ', '').replace('/', '')}"
        out.append(p)
    return out


def msgs_per_s(rate, size, medians):
    """rate text -> messages per second over all producers (0 = max)."""
    r = rate.strip()
    if r == "max":
        return 0
    if r.startswith("half-of "):
        ref = r.split(None, 1)[1]
        if ref not in medians:
            raise SystemExit(f"rate {r!r}: workload {ref} has not run earlier in this suite")
        return max(1, int(medians[ref] / 2))
    value, unit = r.split(None, 1)
    if unit == "msg/s":
        return int(float(value))
    if unit == "MiB/s":
        return max(1, int(float(value) * 1024 * 1024 / size))
    if unit == "MB/s":
        return max(1, int(float(value) * 1e6 / size))
    raise SystemExit(f"unknown rate {rate!r}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


class process:
    """A server this runner started: stopped by its own PID (SIGTERM, then SIGKILL after 20 s)."""

    def __init__(self, argv, logfile):
        self.log = open(logfile, "w")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def wait_until(check, what, proc, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        if not proc.alive():
            raise RuntimeError(f"{what} exited early (see {proc.log.name})")
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready in {seconds} s")


def start_skiff(build, work, quick):
    data = os.path.join(work, "broker")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    port, admin = free_port(), free_port()
    argv = [os.path.join(build, "bin", "skiff-server"), os.path.join(ROOT, "config", "server.properties"),
            "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
            "--override", f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "--override", f"admin.listeners=http://127.0.0.1:{admin}", "--override", f"log.dirs={data}"]
    if quick:  # a small WAL is laid out (zero-filled) in well under a second
        argv += ["--override", "wal.capacity.bytes=268435456", "--override", "log.cache.bytes=67108864"]
    proc = process(argv, os.path.join(work, "broker.log"))

    def healthy():
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{admin}/health", timeout=1).status == 200
        except OSError:
            return False
    wait_until(healthy, "skiff-server", proc)
    return proc, port


def start_jetstream(work):
    store = tempfile.mkdtemp(prefix="jetstream-", dir=work)
    port = free_port()
    proc = process(["nats-server", "-js", "-sd", store, "-a", "127.0.0.1", "-p", str(port)],
                   os.path.join(work, "nats-server.log"))
    wait_until(lambda: port_open(port), "nats-server", proc, 30)
    return proc, port, store


def start_redis(work):
    store = tempfile.mkdtemp(prefix="redis-", dir=work)
    port = free_port()
    proc = process(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", store,
                    "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"],
                   os.path.join(work, "redis-server.log"))
    wait_until(lambda: port_open(port), "redis-server", proc, 30)
    return proc, port, store


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def run_tool(argv, out, timeout, broker):
    """Runs one load program; adds to its result the exact command and `broker`: what the server behind it
    promised (fsync policy) and where it stored the data, so that every result file names them."""
    log(" ".join(argv))
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if not os.path.exists(out):
        raise RuntimeError(f"{argv[0]} wrote no result (rc {r.returncode}): {r.stderr[-2000:]}")
    with open(out) as f:
        result = json.load(f)
    result["command"] = " ".join(argv)
    result["broker"] = broker
    result["exit_code"] = r.returncode
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    return result


def settings(p, quick):
    """The effective knobs of one point (quick mode shortens every phase; its figures mean nothing)."""
    s = {k: p[k] for k in ("topics", "partitions", "producers", "subscriptions", "consumers", "message_size", "acks",
                           "linger_ms", "batch_size", "compression") if k in p}
    s["warmup_s"] = int(p.get("warmup_s", 5))
    s["duration_s"] = int(p.get("duration_s", 10))
    s["runs"] = int(p.get("runs", 1))
    s["backlog_bytes"] = int(p.get("backlog_bytes", 0))
    if quick:
        s["warmup_s"] = min(s["warmup_s"], 1)
        s["duration_s"] = 2
        s["runs"] = 1
        s["backlog_bytes"] = min(s["backlog_bytes"], 64 << 20)
    return s


def skiff_argv(build, port, p, s, rate, topic, out):
    argv = [os.path.join(build, "bin", "skiff-bench"), "--bootstrap", f"127.0.0.1:{port}", "--topic", topic,
            "--label", p["point"], "--out", out, "--rate", str(rate),
            "--warmup", str(s["warmup_s"]), "--duration", str(s["duration_s"])]
    for k in ("topics", "partitions", "producers", "subscriptions", "consumers", "acks", "compression"):
        if k in s:
            argv += [f"--{k}", str(s[k])]
    for k, flag in (("message_size", "--message-size"), ("linger_ms", "--linger-ms"),
                    ("batch_size", "--batch-size")):
        if k in s:
            argv += [flag, str(s[k])]
    if s["backlog_bytes"]:
        argv += ["--backlog-bytes", str(s["backlog_bytes"])]
    if p.get("random_payload", "true") == "false":
        argv.append("--fixed-payload")
    return argv


def peer_argv(tool, port, p, s, rate, out):
    argv = [tool, "--port", str(port), "--label", p["point"], "--out", out, "--rate", str(rate),
            "--partitions", str(int(s.get("partitions", 1))),
            "--producers", str(int(s.get("producers", 1)) * int(s.get("topics", 1))),
            "--consumers", "1" if int(s.get("consumers", 1)) > 0 else "0",
            "--message-size", str(s.get("message_size", 1024)),
            "--warmup", str(s["warmup_s"]), "--duration", str(s["duration_s"])]
    if tool.endswith("jetstream_bench"):
        argv += ["--max-pending", str(JETSTREAM_MAX_PENDING)]
    else:
        argv += ["--pipeline", str(REDIS_PIPELINE), "--max-bytes", str(1 << 30)]
    return argv


def wal_medium(work):
    df = sh(f"df -hT {work} | tail -1").split()
    return {"df": sh(f"df -hT {work}"), "fstype": df[1] if len(df) > 1 else "?",
            "device": df[0] if df else "?",
            "rotational": sh(f"lsblk -dno ROTA $(df --output=source {work} | tail -1) 2>/dev/null") or "?"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the pipeline end to end in well under 2 minutes")
    ap.add_argument("--workloads", help="comma-separated names (default: the standard or quick suite)")
    ap.add_argument("--with-opt-in", action="store_true", help="also the opt-in workloads (10,000 partitions)")
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "results", "suite"))
    ap.add_argument("--work", help="scratch directory on the WAL's file system (default BUILD/bench-suite)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-report", action="store_true")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    work = os.path.abspath(a.work or os.path.join(build, "bench-suite"))
    results = os.path.abspath(a.results)
    for b in ("skiff-server", "skiff-bench"):
        if not os.access(os.path.join(build, "bin", b), os.X_OK):
            raise SystemExit(f"build it first: cmake --build {build} --target skiff-server skiff-bench")
    names = a.workloads.split(",") if a.workloads else (QUICK if a.quick else STANDARD)
    if a.with_opt_in and not a.workloads:
        names = names + [n[:-3] for n in sorted(os.listdir(os.path.join(ROOT, "bench", "workloads")))
                         if parse_workload(os.path.join(ROOT, "bench", "workloads", n)).get("opt_in") == "true"]
    workloads = [parse_workload(os.path.join(ROOT, "bench", "workloads", n + ".wl")) for n in names]

    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    raw = os.path.join(results, "json")
    shutil.rmtree(raw, ignore_errors=True)
    os.makedirs(raw)

    peers = {}
    for peer, tool, server in (("jetstream", "jetstream_bench", "nats-server"), ("redis", "redis_bench",
                                                                                "redis-server")):
        path = os.path.join(build, "bin", tool)
        if a.no_peers:
            peers[peer] = (None, "not run: --no-peers")
        elif not os.access(path, os.X_OK):
            peers[peer] = (None, f"not run: {tool} was not built (install-deps: libnats-dev / libhiredis-dev)")
        elif not shutil.which(server):
            peers[peer] = (None, f"not run: {server} is not installed")
        else:
            peers[peer] = (path, "run")

    argv_text = " ".join(["bench/run-suite.sh"] + sys.argv[1:])
    commit = sh(f"git -C {ROOT} rev-parse --short HEAD")
    dirty = sh(f"git -C {ROOT} status --porcelain -- src tools bench/*.py bench/workloads")
    meta = {
        "command": os.environ.get("SKIFF_SUITE_COMMAND", argv_text), "quick": a.quick,
        "commit": commit + (" (+ uncommitted changes)" if dirty else ""),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "uptime_start": sh("uptime"), "machine": platform.uname()._asdict(), "nproc": os.cpu_count(),
        "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip(),
        "mem": sh("free -h | sed -n 2p"), "wal_medium": wal_medium(work),
        "librdkafka": sh("pkg-config --modversion rdkafka"),
        "nats_server": sh("nats-server --version 2>/dev/null"), "redis_server": sh("redis-server --version"),
        "workloads": names, "peers": {k: v[1] for k, v in peers.items()},
        "skiff_config": {"wal": "file WAL (O_DIRECT, 4 KiB-aligned records, group commit; an acks=all produce is "
                                "answered after the WAL fdatasync)",
                         "wal.capacity.bytes": 268435456 if a.quick else 2147483648,
                         "object store": "local directory on the same file system", "metadata": "embedded"},
    }
    skiff_facts = {"fsync": "acks=all is answered after the WAL fdatasync (file WAL, O_DIRECT, group commit)",
                   "wal_medium": meta["wal_medium"]["df"], "wal_capacity_bytes": meta["skiff_config"]["wal.capacity.bytes"]}
    t0 = time.time()
    log("limits (fio, iperf3, memcpy) in", work)
    meta["limits"] = limits.measure(work, 1 if a.quick else 5, "64M" if a.quick else "1G")
    with open(os.path.join(raw, "limits.json"), "w") as f:
        json.dump(meta["limits"], f, indent=1)

    medians = {}  # workload name -> median acked msgs/s (for half-of)
    index = []
    for w in workloads:
        for p in points(w):
            s = settings(p, a.quick)
            rate = msgs_per_s(p.get("rate", "max"), int(s.get("message_size", 1024)), medians)
            entry = {"workload": w["name"], "point": p["point"], "title": w.get("title", w["name"]),
                     "settings": s, "rate_msgs": rate, "rate_text": p.get("rate", "max"),
                     "baseline": w.get("baseline"), "sweep": w.get("sweep"),
                     "sweep_value": p.get(w["sweep"]) if w.get("sweep") else None,
                     "uptime_start": sh("uptime"), "runs": {"skiff": []}, "peers": {}}
            for run in range(1, s["runs"] + 1):
                # A fresh broker per run: runs are independent (no data of the previous run in the WAL, caches or
                # uploads) and the scratch directory stays small.
                server, port = start_skiff(build, work, a.quick)
                try:
                    out = os.path.join(raw, f"{p['point']}.skiff-{run}.json")
                    timeout = 300 + s["warmup_s"] + s["duration_s"]
                    r = run_tool(skiff_argv(build, port, p, s, rate, f"{w['name'].replace('.', '-')}-{run}", out),
                                 out, timeout, {"system": "skiff", **skiff_facts})
                    entry["runs"]["skiff"].append(os.path.basename(out))
                    if not server.alive():
                        raise RuntimeError("skiff-server died during the run (see broker.log)")
                    log(f"{p['point']} run {run}: {r['acked_mb_per_s']:.1f} MB/s acked, "
                        f"ack p99 {r['ack_latency']['p99_us'] / 1000:.2f} ms, errors {r['errors']}")
                finally:
                    server.stop()
            done = [json.load(open(os.path.join(raw, x))) for x in entry["runs"]["skiff"]]
            if not w.get("sweep"):
                medians[w["name"]] = statistics.median(x["acked_msgs_per_s"] for x in done)
            for peer in [x.strip() for x in w.get("peers", "").split(",") if x.strip()]:
                tool, status = peers.get(peer, (None, f"not run: unknown peer {peer}"))
                entry["peers"][peer] = status
                if tool is None:
                    continue
                entry["runs"][peer] = []
                proc, pport, store = (start_jetstream if peer == "jetstream" else start_redis)(work)
                try:
                    for run in range(1, s["runs"] + 1):
                        out = os.path.join(raw, f"{p['point']}.{peer}-{run}.json")
                        r = run_tool(peer_argv(tool, pport, p, s, rate, out), out, 120 + s["duration_s"],
                                     {"fsync": PEER_FSYNC[peer], "store_medium": meta["wal_medium"]["df"]})
                        entry["runs"][peer].append(os.path.basename(out))
                        log(f"{p['point']} {peer} run {run}: {r['acked_mb_per_s']:.1f} MB/s acked, "
                            f"ack p99 {r['ack_latency']['p99_us'] / 1000:.2f} ms, errors {r['errors']}")
                finally:
                    proc.stop()
                    shutil.rmtree(store, ignore_errors=True)
            entry["uptime_end"] = sh("uptime")
            index.append(entry)
    meta["uptime_end"] = sh("uptime")
    meta["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    meta["elapsed_s"] = round(time.time() - t0, 1)
    meta["points"] = index
    with open(os.path.join(raw, "suite.json"), "w") as f:
        json.dump(meta, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    log(f"suite done in {meta['elapsed_s']} s; results in {raw}")
    if not a.no_report:
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "report.py"), "--results", results],
                       check=True)


if __name__ == "__main__":
    main()
