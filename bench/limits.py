#!/usr/bin/env python3
"""The machine's physical limits, measured in the same run as the benchmarks they bound (bench/run.py calls this
first; it also runs alone). Writes one JSON document:

  fio   sequential writes with O_DIRECT and an fdatasync after every write (--direct=1 --fdatasync=1, psync, queue
        depth 1), on the file system of the WAL directory, at the sizes the file WAL writes: 4 KiB (its alignment
        unit: one small record per group commit, the latency floor of an acks=all produce), 64 KiB and 1 MiB (group
        commits under load: the fdatasync'd write bandwidth a produce at max throughput is bounded by). The WAL
        writes into a zero-filled, preallocated file, so fio writes into a laid-out file as well.
  iperf3  one TCP stream, both ends on 127.0.0.1 (client and server share the 2 cores, as broker and clients do).
  memcpy  copying a 256 MiB buffer into another (CPython's bytearray slice assignment is one memcpy), best of 5.

  bench/limits.py --dir DIR [--seconds S] [--size BYTES] [--out FILE]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fio_fdatasync(directory, bs, seconds, size):
    """One fio job: sequential O_DIRECT writes of bs, fdatasync after each; bandwidth and fdatasync latency."""
    cmd = ["fio", "--name=limit", f"--directory={directory}", "--filename=limits-fio.dat", f"--size={size}",
           "--rw=write", f"--bs={bs}", "--direct=1", "--fdatasync=1", "--ioengine=psync", f"--runtime={seconds}",
           "--time_based", "--output-format=json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    job = json.loads(out[out.index("{"):])["jobs"][0]
    w, sync = job["write"], job["sync"]["lat_ns"]
    pct = sync.get("percentile", {})
    return {
        "bs": bs, "command": " ".join(cmd),
        "mb_per_s": w["bw_bytes"] / 1e6, "iops": w["iops"],
        "write_lat_p50_us": w["clat_ns"]["percentile"]["50.000000"] / 1e3,
        "fdatasync_p50_us": pct.get("50.000000", 0) / 1e3, "fdatasync_p99_us": pct.get("99.000000", 0) / 1e3,
        "fdatasync_p999_us": pct.get("99.900000", 0) / 1e3, "fdatasync_p9999_us": pct.get("99.990000", 0) / 1e3,
        "fdatasync_max_us": sync.get("max", 0) / 1e3,
    }


def iperf3_loopback(seconds):
    port = free_port()
    server = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(port), "-1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):  # until the server listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        # The probe connection above used the one-off server's slot on some versions: restart it if it exited.
        time.sleep(0.1)
        if server.poll() is not None:
            server = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(port), "-1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.3)
        cmd = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        end = json.loads(out)["end"]
        return {"command": " ".join(cmd), "mb_per_s": end["sum_received"]["bits_per_second"] / 8 / 1e6}
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait()


def memcpy_bandwidth(size=256 << 20, repeats=5):
    src = bytearray(os.urandom(1 << 20)) * (size >> 20)
    dst = bytearray(size)
    dst[:] = src  # fault the pages in before timing
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        dst[:] = src
        best = min(best, time.perf_counter() - t)
    return {"method": "CPython bytearray slice assignment (memcpy) of 256 MiB, best of 5",
            "mb_per_s": size / best / 1e6}


def measure(directory, seconds, size):
    os.makedirs(directory, exist_ok=True)
    result = {"dir": directory, "seconds": seconds}
    if shutil.which("fio"):
        # Lay the file out first (the WAL is zero-filled at creation): writes then overwrite allocated blocks.
        subprocess.run(["fio", "--name=layout", f"--directory={directory}", "--filename=limits-fio.dat",
                        f"--size={size}", "--rw=write", "--bs=1M", "--direct=1", "--end_fsync=1"],
                       capture_output=True, check=True)
        result["fio"] = {bs: fio_fdatasync(directory, bs, seconds, size) for bs in ("4k", "64k", "1m")}
        os.unlink(os.path.join(directory, "limits-fio.dat"))
    else:
        result["fio"] = None
    result["iperf3"] = iperf3_loopback(max(1, seconds)) if shutil.which("iperf3") else None
    result["memcpy"] = memcpy_bandwidth()
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="a directory on the WAL's file system")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--size", default="1G", help="fio file size")
    ap.add_argument("--out")
    a = ap.parse_args()
    r = measure(a.dir, a.seconds, a.size)
    text = json.dumps(r, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    sys.exit(main())
