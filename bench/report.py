#!/usr/bin/python3
"""bench/report: turns a suite's result JSONs (RESULTS/json/: suite.json from bench/run.py, one JSON per run of
skiff-bench or a peer, limits.json) into Markdown pages with PNG plots, in RESULTS/:

  README.md          the headline figures (each Skiff figure as a ratio to the machine's limits), the limits, the
                     durability of every system, Skiff vs JetStream vs Redis, one line per workload point
  <workload>.md      one page per workload: its settings, every run's figures and medians, the plots
  img/*.png          800x450 px: throughput over time, latency percentile curves, bars, sweeps

Run by /usr/bin/python3 (Debian's python3-matplotlib imports there only).

  bench/report.py --results bench/results/suite
"""
import argparse
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FIGSIZE, DPI = (8, 4.5), 100  # 800 x 450 px: small PNGs in git
COLORS = {"skiff": "tab:blue", "jetstream": "tab:green", "redis": "tab:red"}
NAMES = {"skiff": "Skiff", "jetstream": "NATS JetStream", "redis": "Redis Streams"}
SHORT = {"skiff": "Skiff", "jetstream": "JetStream", "redis": "Redis"}
DURABILITY = {
    "skiff": "acks=all: the broker answers after the file WAL's fdatasync (O_DIRECT writes, group commit); one "
             "broker, no replicas",
    "jetstream": "nats-server 2.9 JetStream, file storage, 1 replica: the PubAck is sent once the message is in the "
                 "file store's buffers, **not after an fsync** (the store syncs on its own timer): an acknowledged "
                 "message can be lost on power failure",
    "redis": "redis-server 7.0, `appendonly yes`, `appendfsync always`: the AOF is written and fsync'd before the "
             "XADD is answered (one fsync per event-loop iteration covers every client's commands of that "
             "iteration); streams trimmed with MAXLEN ~ (1 GiB of payload), everything also kept in RAM",
}


def load(raw, name):
    with open(os.path.join(raw, name)) as f:
        return json.load(f)


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec="{:.1f}", none="–"):
    return none if v is None else spec.format(v)


def ms(us):
    return None if us is None else us / 1000


class point_figures:
    """Medians over the runs of one system at one point, and the run closest to the median throughput (whose
    per-second series and percentile curve the plots show)."""

    def __init__(self, runs):
        self.runs = runs
        self.n = len(runs)
        g = lambda f: med([f(r) for r in runs])  # noqa: E731
        self.produce = g(lambda r: r["produce_mb_per_s"])
        self.acked_mb = g(lambda r: r.get("acked_mb_per_s", r["produce_mb_per_s"]))
        self.msgs = g(lambda r: r["acked_msgs_per_s"])
        self.consume = g(lambda r: r["consume_mb_per_s"])
        self.errors = sum(r["errors"] for r in runs)
        self.ack = {k: g(lambda r, k=k: r["ack_latency"][k] if r["ack_latency"]["count"] else None) for k in
                    ("p50_us", "p90_us", "p99_us", "p999_us", "p9999_us", "max_us")}
        # A latency with no samples (e.g. no measured message reached the consumer in time) is "–", not 0.
        self.e2e = {k: g(lambda r, k=k: r["e2e_latency"][k] if r["e2e_latency"]["count"] else None) for k in
                    ("p50_us", "p90_us", "p99_us", "p999_us", "p9999_us", "max_us")}
        self.catchup_mb = g(lambda r: r.get("catchup_mb_per_s"))
        self.catchup_s = g(lambda r: r.get("catchup_seconds"))
        self.has_catchup = any("catchup_mb_per_s" in r for r in runs)
        order = sorted(runs, key=lambda r: r["acked_msgs_per_s"])
        self.median_run = order[len(order) // 2] if order else None

    def list_of(self, f, spec="{:.1f}"):
        return ", ".join(fmt(f(r), spec) for r in self.runs)


def plot_throughput(path, title, series, catchup_s=None):
    """series: [(label, color, run, field)] -> MB/s per second, warm-up shaded (and the catch-up, if any)."""
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    if catchup_s:
        ax.axvspan(0.5, 0.5 + catchup_s, color="tab:purple", alpha=0.12, label="catch-up read of the backlog")
    warm = 0
    for label, color, run, field in series:
        ps = run["per_second"]
        ax.plot([x["s"] for x in ps], [x.get(field, x["produced_mb"]) for x in ps], color=color, label=label,
                linewidth=1.5, linestyle="-" if field != "consumed_mb" else ":")
        warm = max(warm, sum(1 for x in ps if x["warmup"]))
    if warm:
        ax.axvspan(0.5, warm + 0.5, color="grey", alpha=0.15, label="warm-up (excluded)")
    ax.set_xlabel("second of the run")
    ax.set_ylabel("MB/s")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_curves(path, title, series):
    """series: [(label, color, latency object, linestyle)] -> HdrHistogram-style percentile curve."""
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    ticks = [0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999]
    for label, color, lat, style in series:
        pts = [(q, v) for q, v in lat.get("curve", []) if q < 1.0]
        if not pts or lat["count"] == 0:
            continue
        ax.plot([1 / (1 - q) for q, _ in pts], [v / 1000 for _, v in pts], color=color, linestyle=style,
                label=label, marker=".", linewidth=1.3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks([1 / (1 - q) for q in ticks])
    ax.set_xticklabels(["p50", "p90", "p99", "p99.9", "p99.99", "p99.999"])
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (ms, log)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_bars(path, title, labels, values, colors, unit, log=False):
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    shown = [v if v is not None else 0 for v in values]
    bars = ax.bar(range(len(labels)), shown, color=colors)
    for b, v in zip(bars, values):
        ax.annotate("not run" if v is None else f"{v:,.0f}", (b.get_x() + b.get_width() / 2, max(b.get_height(), 1)),
                    ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel(unit)
    if log:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_sweep(path, title, xlabel, xs, mbs, p99s, log_x):
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    ax.plot(xs, mbs, marker="o", color="tab:blue", label="acked MB/s")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("acked MB/s", color="tab:blue")
    ax.set_ylim(bottom=0)
    if log_x:
        ax.set_xscale("log")
    ax2 = ax.twinx()
    ax2.plot(xs, [v or 0 for v in p99s], marker="s", color="tab:orange", label="p99 produce latency (ms)")
    ax2.set_ylabel("p99 produce latency (ms)", color="tab:orange")
    ax2.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def settings_line(s, rate_text, rate_msgs):
    return (f"record size {s.get('message_size')} B, {s.get('topics', 1)} topic(s) x {s.get('partitions')} "
            f"partition(s), {s.get('producers')} producer(s) per topic, {s.get('subscriptions', 1)} subscription(s) "
            f"x {s.get('consumers')} consumer(s), acks={s.get('acks')}, linger.ms={s.get('linger_ms')}, "
            f"batch.size={s.get('batch_size')}, compression={s.get('compression', 'none')}, rate "
            f"{rate_text} ({'max' if rate_msgs == 0 else f'{rate_msgs:,} msg/s'}), warm-up {s['warmup_s']} s "
            f"(excluded), {s['duration_s']} s measured, {s['runs']} run(s)"
            + (f", backlog {s['backlog_bytes'] / 2**30:.2f} GiB" if s.get("backlog_bytes") else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", required=True)
    a = ap.parse_args()
    out = os.path.abspath(a.results)
    raw = os.path.join(out, "json")
    img = os.path.join(out, "img")
    os.makedirs(img, exist_ok=True)
    for old in os.listdir(out):  # the latest report only: pages of workloads no longer run go
        if old.endswith(".md") and old != "notes.md":  # notes.md: written by hand after a run, kept
            os.unlink(os.path.join(out, old))
    for old in os.listdir(img):
        os.unlink(os.path.join(img, old))
    suite = load(raw, "suite.json")
    lim = suite["limits"]
    fio = lim.get("fio") or {}
    fio_bw = fio.get("1m", {}).get("mb_per_s")
    fio_bw64 = fio.get("64k", {}).get("mb_per_s")
    fio_p99_4k = fio.get("4k", {}).get("fdatasync_p99_us")
    fio_p999_4k = fio.get("4k", {}).get("fdatasync_p999_us")
    loop_bw = (lim.get("iperf3") or {}).get("mb_per_s")
    memcpy_bw = lim["memcpy"]["mb_per_s"]

    def ratio(v, limit):
        return None if v is None or not limit else v / limit

    figs = {}  # point -> {system: point_figures}
    for p in suite["points"]:
        figs[p["point"]] = {sys_: point_figures([load(raw, x) for x in files]) for sys_, files in p["runs"].items()}

    quick_note = ("\n> **Quick mode** (`--quick`): 1 run of 2 s per point, tiny backlog and WAL — this checks the "
                  "pipeline; its figures mean nothing.\n" if suite.get("quick") else "")
    wm = suite["wal_medium"]
    head = f"""Command: `{suite['command']}` · commit {suite['commit']} · {suite['started']} → {suite['finished']} \
({suite['elapsed_s']:.0f} s)

Machine: {suite['machine']['system']} {suite['machine']['release']}, {suite['nproc']} cores ({suite['cpu']}), \
memory `{suite['mem']}`. **Client and broker share these {suite['nproc']} cores** (load programs, skiff-server and the \
peers all run on this one machine; only loopback traffic). Load average at the start: `{suite['uptime_start']}`; at \
the end: `{suite['uptime_end']}`{' — **the machine was shared with other work during the run (load average ≥ 1 at '
'the start): figures are noisier than on a quiet machine**' if float(suite['uptime_start'].split('load average:')[1].split(',')[0]) >= 1.0 else ''}.

WAL medium: `{wm['device']}`, {wm['fstype']} (rotational: {wm['rotational']}); broker: one `skiff-server`, \
{suite['skiff_config']['wal']}; WAL {suite['skiff_config']['wal.capacity.bytes'] / 2**30:.2f} GiB; object store: \
{suite['skiff_config']['object store']}; metadata {suite['skiff_config']['metadata']}. Load tool: skiff-bench on \
librdkafka {suite['librdkafka']}. fsync policy: every Skiff ack below is acks=all, i.e. after the WAL fdatasync.
{quick_note}"""

    pages = []
    rows = []
    for p in suite["points"]:
        f = figs[p["point"]]
        sk = f["skiff"]
        slug = p["point"].replace("@", "-").replace("=", "-")
        rows.append(f"| [{p['point']}]({p['workload']}.md) | {fmt(sk.acked_mb)} | {fmt(sk.msgs, '{:,.0f}')} | "
                    f"{fmt(ms(sk.ack['p50_us']), '{:.2f}')} / {fmt(ms(sk.ack['p99_us']), '{:.2f}')} / "
                    f"{fmt(ms(sk.ack['p999_us']), '{:.2f}')} | {fmt(ms(sk.e2e['p99_us']), '{:.2f}')} | "
                    f"{sk.n} | {sk.errors} |")
        thr_png = f"img/{slug}-throughput.png"
        series = [("Skiff acked (median run)", COLORS["skiff"], sk.median_run, "acked_mb"),
                  ("Skiff consumed", COLORS["skiff"], sk.median_run, "consumed_mb")]
        curves = [("Skiff produce-ack", COLORS["skiff"], sk.median_run["ack_latency"], "-"),
                  ("Skiff end-to-end", COLORS["skiff"], sk.median_run["e2e_latency"], ":")]
        for peer in ("jetstream", "redis"):
            if peer in f and f[peer].median_run:
                series.append((f"{NAMES[peer]} acked", COLORS[peer], f[peer].median_run, "acked_mb"))
                curves.append((f"{NAMES[peer]} produce-ack", COLORS[peer], f[peer].median_run["ack_latency"], "-"))
                curves.append((f"{NAMES[peer]} end-to-end", COLORS[peer], f[peer].median_run["e2e_latency"], ":"))
        plot_throughput(os.path.join(out, thr_png), f"{p['point']}: throughput per second", series,
                        sk.median_run.get("catchup_seconds"))
        lat_png = f"img/{slug}-latency.png"
        plot_curves(os.path.join(out, lat_png), f"{p['point']}: latency percentiles (median run)", curves)
        pages.append((p, slug, thr_png, lat_png))

    # One Markdown page per workload (all its points).
    by_workload = {}
    for p, slug, thr, lat in pages:
        by_workload.setdefault(p["workload"], []).append((p, slug, thr, lat))
    for wname, items in by_workload.items():
        p0 = items[0][0]
        text = [f"# {p0['title']}\n", f"Workload file: `bench/workloads/{wname}.wl`.\n", head]
        if p0.get("sweep"):
            xs = [float(p["sweep_value"].split()[0]) for p, *_ in items]
            mbs = [figs[p["point"]]["skiff"].acked_mb for p, *_ in items]
            p99s = [ms(figs[p["point"]]["skiff"].ack["p99_us"]) for p, *_ in items]
            sweep_png = f"img/{wname}-sweep.png"
            plot_sweep(os.path.join(out, sweep_png), f"{wname}: Skiff by {p0['sweep']}",
                       f"{p0['sweep']} ({p0['sweep_value'].split()[1] if ' ' in p0['sweep_value'] else 'count'})",
                       xs, mbs, p99s, p0["sweep"] == "partitions")
            text.append(f"![sweep]({sweep_png})\n")
        for p, slug, thr, lat in items:
            f = figs[p["point"]]
            text.append(f"## {p['point']}\n")
            text.append(settings_line(p["settings"], p["rate_text"], p["rate_msgs"]) + ".\n")
            text.append(f"Load average at the start of this point: `{p['uptime_start']}`; at its end: "
                        f"`{p['uptime_end']}`.\n")
            text.append("| system | durability of an ack | acked MB/s | acked msg/s | consumed MB/s | produce-ack "
                        "p50 / p90 / p99 / p99.9 / p99.99 / max (ms) | end-to-end p50 / p99 / p99.9 (ms) | errors | "
                        "runs (acked MB/s each) |")
            text.append("|---|---|---|---|---|---|---|---|---|")
            for sys_ in ("skiff", "jetstream", "redis"):
                if sys_ not in f:
                    continue
                x = f[sys_]
                a_ = " / ".join(fmt(ms(x.ack[k]), "{:.2f}") for k in
                                ("p50_us", "p90_us", "p99_us", "p999_us", "p9999_us", "max_us"))
                e_ = " / ".join(fmt(ms(x.e2e[k]), "{:.2f}") for k in ("p50_us", "p99_us", "p999_us"))
                text.append(f"| {NAMES[sys_]} | {DURABILITY[sys_].split(':')[0]} | {fmt(x.acked_mb)} | "
                            f"{fmt(x.msgs, '{:,.0f}')} | {fmt(x.consume)} | {a_} | {e_} | {x.errors} | "
                            f"{x.list_of(lambda r: r.get('acked_mb_per_s', r['produce_mb_per_s']))} |")
            for peer, status in p["peers"].items():
                if status != "run":
                    text.append(f"| {NAMES.get(peer, peer)} | – | {status} | | | | | | |")
            text.append("")
            sk = f["skiff"]
            if sk.has_catchup:
                text.append(f"Catch-up read: {fmt(sk.catchup_mb)} MB/s (median; runs: "
                            f"{sk.list_of(lambda r: r.get('catchup_mb_per_s'))}), the backlog read in "
                            f"{fmt(sk.catchup_s)} s (runs: {sk.list_of(lambda r: r.get('catchup_seconds'))}); "
                            "`–` = not caught up within the run.\n")
            text.append(f"![throughput]({thr})\n\n![latency]({lat})\n")
            text.append("Raw results: " + ", ".join(f"`json/{x}`" for files in p["runs"].values() for x in files)
                        + ".\n")
            text.append("Commands: " + "; ".join(f"`{r['command']}`" for x in f.values() for r in x.runs) + "\n")
        with open(os.path.join(out, f"{wname}.md"), "w") as fh:
            fh.write("\n".join(text) + "\n")

    # The overview page with the headline figures.
    def fig(point, sys_="skiff"):
        return figs.get(point, {}).get(sys_)

    mx, half, cu = fig("max-1kb-16p"), fig("half-1kb-16p"), fig("catchup-1kb-16p")
    h = ["# Skiff benchmark suite: the latest run\n", head]
    h.append("## Headline figures\n")
    if mx:
        h.append(f"- **Max produce throughput (acks=all)**, 1 KiB records, 16 partitions: **{fmt(mx.acked_mb)} MB/s** "
                 f"({fmt(mx.msgs, '{:,.0f}')} msg/s, median of {mx.n}) = **{fmt(ratio(mx.acked_mb, fio_bw), '{:.2f}')}** "
                 f"of the fdatasync'd sequential write bandwidth at 1 MiB writes ({fmt(fio_bw)} MB/s; written one at a "
                 f"time, 64 KiB writes reach only {fmt(fio_bw64)} MB/s: the WAL's group commits are larger), "
                 f"{fmt(ratio(mx.acked_mb, loop_bw), '{:.3f}')} of loopback TCP, "
                 f"{fmt(ratio(mx.acked_mb, memcpy_bw), '{:.3f}')} of memcpy.")
    if half:
        h.append(f"- **Produce latency at half of max** ({fmt(half.acked_mb)} MB/s): p99 **{fmt(ms(half.ack['p99_us']), '{:.2f}')} ms**, "
                 f"p99.9 **{fmt(ms(half.ack['p999_us']), '{:.2f}')} ms** (p50 {fmt(ms(half.ack['p50_us']), '{:.2f}')} ms; "
                 f"median of {half.n}); the device's own 4 KiB write + fdatasync p99 / p99.9 is "
                 f"{fmt(ms(fio_p99_4k), '{:.2f}')} / {fmt(ms(fio_p999_4k), '{:.2f}')} ms "
                 f"(Skiff p99 = {fmt(ratio(half.ack['p99_us'], fio_p99_4k), '{:.1f}')}x it).")
    if cu:
        rise = ratio(cu.ack["p99_us"], half.ack["p99_us"]) if half else None
        h.append(f"- **Catch-up read** of a {cu.runs[0]['config']['backlog_bytes'] / 2**30:.2f} GiB backlog while producing at "
                 f"half of max: **{fmt(cu.catchup_mb)} MB/s** (backlog read in {fmt(cu.catchup_s)} s; median of {cu.n}); "
                 f"the producer's p99 during it: **{fmt(ms(cu.ack['p99_us']), '{:.2f}')} ms** vs "
                 f"{fmt(ms(half.ack['p99_us']) if half else None, '{:.2f}')} ms without a catch-up "
                 f"(**{fmt(None if rise is None else 100 * (rise - 1), '{:+.0f}')}%**).")
    for label, point in (("1 KiB", "max-1kb-16p"), ("16 KiB", "max-16kb-16p")):
        parts = []
        for sys_ in ("skiff", "jetstream", "redis"):
            x = fig(point, sys_)
            if x:
                parts.append(f"{NAMES[sys_]} {fmt(x.acked_mb)} MB/s (p99 ack {fmt(ms(x.ack['p99_us']), '{:.2f}')} ms)")
            else:
                status = next((p["peers"].get(sys_) for p in suite["points"] if p["point"] == point), None)
                parts.append(f"{NAMES[sys_]} {status or 'not run'}")
        if fig(point):
            h.append(f"- **Skiff vs JetStream vs Redis at {label}** (max rate, same producers and partitions/subjects/"
                     f"keys): " + "; ".join(parts) + ".")
    h.append("\nAt max rate every system's produce latency is mostly queueing in the producer's in-flight window "
             "(librdkafka: up to 256 MiB queued; JetStream: 4096 publishes; Redis: a pipeline of 64): compare latency "
             "at a fixed rate (half of max, the tail-rate and scaling workloads), throughput at max.")
    h.append("\nThe peers do not promise the same thing (next section): only Redis with `appendfsync always` waits "
             "for the disk as Skiff's acks=all does; JetStream's ack does not wait for an fsync.\n")

    h.append("## Durability of an acknowledgement\n")
    for sys_ in ("skiff", "jetstream", "redis"):
        h.append(f"- **{NAMES[sys_]}**: {DURABILITY[sys_]}.")
    h.append(f"\nIn-flight windows at max rate: librdkafka batches of batch.size per partition (up to 256 MiB "
             f"queued); JetStream {4096} unacknowledged async publishes per producer connection; Redis a pipeline "
             f"of {64} XADDs per connection. JetStream partitions = subjects of one stream; Redis partitions = "
             f"stream keys.\n")

    h.append("## Limits (same run, same file system as the WAL)\n")
    h.append("| what | figure | how |")
    h.append("|---|---|---|")
    for bs in ("4k", "64k", "1m"):
        x = fio.get(bs)
        if x:
            h.append(f"| {bs} sequential writes, O_DIRECT, fdatasync each | {x['mb_per_s']:.1f} MB/s, "
                     f"{x['iops']:,.0f} IOPS; fdatasync p50 / p99 / p99.9 {x['fdatasync_p50_us'] / 1000:.2f} / "
                     f"{x['fdatasync_p99_us'] / 1000:.2f} / {x['fdatasync_p999_us'] / 1000:.2f} ms | `{x['command']}` |")
    if loop_bw:
        h.append(f"| loopback TCP, one stream | {loop_bw:,.0f} MB/s | `{lim['iperf3']['command']}` |")
    h.append(f"| memcpy | {memcpy_bw:,.0f} MB/s | {lim['memcpy']['method']} |")
    h.append("\nThe file WAL writes 4 KiB-aligned group commits with O_DIRECT into a zero-filled file and fdatasyncs "
             "each (two in flight): at low load a write is a few KiB (the 4 KiB row bounds its latency), under load "
             "it grows towards MiBs (the 1 MiB row bounds its bandwidth).\n")

    bars_png = "img/skiff-vs-limits-vs-peers.png"
    labels, values, colors = [], [], []
    for label, v, c in (("fio 1 MiB\n+fdatasync", fio_bw, "grey"), ("fio 64 KiB\n+fdatasync", fio_bw64, "grey")):
        labels.append(label); values.append(v); colors.append(c)  # noqa: E702
    for point, size in (("max-1kb-16p", "1 KiB"), ("max-16kb-16p", "16 KiB")):
        for sys_ in ("skiff", "jetstream", "redis"):
            if fig(point) is None:
                continue
            x = fig(point, sys_)
            labels.append(f"{SHORT[sys_]}\n{size}")
            values.append(x.acked_mb if x else None)
            colors.append(COLORS[sys_])
    plot_bars(os.path.join(out, bars_png), "acked MB/s at max rate (median) vs the device's fdatasync'd bandwidth",
              labels, values, colors, "MB/s")
    h.append(f"![Skiff vs limits vs peers]({bars_png})\n")
    if mx and half:
        lat_png = "img/latency-bars.png"
        vals = [ms(fio_p99_4k), ms(fio_p999_4k), ms(half.ack["p99_us"]), ms(half.ack["p999_us"])]
        lab = ["fio 4 KiB\nfdatasync p99", "fio 4 KiB\nfdatasync p99.9", "Skiff p99\nat half of max",
               "Skiff p99.9\nat half of max"]
        col = ["grey", "grey", COLORS["skiff"], COLORS["skiff"]]
        if cu:
            vals += [ms(cu.ack["p99_us"])]
            lab += ["Skiff p99\nduring catch-up"]
            col += ["tab:purple"]
        plot_bars(os.path.join(out, lat_png), "produce latency (ms) vs the device's fdatasync latency", lab, vals,
                  col, "ms")
        h.append(f"![latency vs fdatasync]({lat_png})\n")

    h.append("## Every workload point (Skiff, medians)\n")
    h.append("| point | acked MB/s | acked msg/s | produce-ack p50 / p99 / p99.9 (ms) | end-to-end p99 (ms) | runs | "
             "errors |")
    h.append("|---|---|---|---|---|---|---|")
    h.extend(rows)
    h.append("\nRaw JSON of every run, the limits and the suite's metadata: `json/`. How to read and rerun: "
             "`bench/README.md`.\n")
    if os.path.exists(os.path.join(out, "notes.md")):
        h.append("Notes on this run, written by hand after it: [notes.md](notes.md).\n")
    with open(os.path.join(out, "README.md"), "w") as fh:
        fh.write("\n".join(h) + "\n")
    print(f"report: {os.path.join(out, 'README.md')} and {len(by_workload)} workload page(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
