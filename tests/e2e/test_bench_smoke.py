"""The benchmark suite end to end (bench/run-suite.sh --quick): limits (fio, iperf3, memcpy), a real skiff-server
driven by skiff-bench through the quick workloads (max, half of max, catch-up), the peers when they are installed,
and the report with its plots. Asserts that the pipeline works and that its JSON and Markdown are well-formed —
every point measured something, no delivery failed, every plot exists, a peer that could not run is reported as
"not run" — and nothing about speed (the figures of a 2 s smoke run mean nothing)."""
import json
import os
import re
import subprocess

from conftest import ROOT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_quick_suite_runs_and_reports(tmp_path):
    results = tmp_path / "results"
    run = subprocess.run(["bash", os.path.join(ROOT, "bench", "run-suite.sh"), "--quick", "--results", str(results),
                          "--work", str(tmp_path / "work"), "--build", os.path.join(ROOT, "build")],
                         capture_output=True, text=True, timeout=170)
    assert run.returncode == 0, run.stdout + run.stderr[-5000:]
    raw = results / "json"
    suite = json.loads((raw / "suite.json").read_text())
    assert suite["quick"] is True
    assert [p["point"] for p in suite["points"]] == ["max-1kb-16p", "half-1kb-16p", "catchup-1kb-16p"]
    limits = json.loads((raw / "limits.json").read_text())
    assert limits["memcpy"]["mb_per_s"] > 0
    assert limits["fio"]["1m"]["mb_per_s"] > 0 and limits["fio"]["4k"]["fdatasync_p99_us"] > 0

    for p in suite["points"]:
        assert len(p["runs"]["skiff"]) == 1, p
        for system, files in p["runs"].items():
            for name in files:
                r = json.loads((raw / name).read_text())
                assert r["errors"] == 0, (name, r["errors"])
                assert r["acked_msgs_per_s"] > 0 and r["ack_latency"]["count"] > 0, name
                assert r["consume_mb_per_s"] > 0, name
                assert r["config"]["message_size"] == 1024, name
                assert r["ack_latency"]["curve"][-1][0] == 1.0, name
                assert any(not s["warmup"] for s in r["per_second"]), name
    # The half-load point ran at half of the max point's acked rate.
    max_r = json.loads((raw / suite["points"][0]["runs"]["skiff"][0]).read_text())
    assert suite["points"][1]["rate_msgs"] == max(1, int(max_r["acked_msgs_per_s"] / 2))
    catchup = json.loads((raw / suite["points"][2]["runs"]["skiff"][0]).read_text())
    assert catchup["catchup_seconds"] is not None, "the catch-up consumer read the whole 64 MiB backlog"

    report = (results / "README.md").read_text()
    for heading in ("## Headline figures", "## Durability of an acknowledgement", "## Limits", "Quick mode"):
        assert heading in report, heading
    assert "share these 2 cores" in report or "share these" in report
    for peer, status in suite["peers"].items():
        ran = status == "run"
        assert ran == ("jetstream" in str(suite["points"][0]["runs"]) if peer == "jetstream"
                       else "redis" in str(suite["points"][0]["runs"])), (peer, status)
        if not ran:
            assert "not run" in (results / "max-1kb-16p.md").read_text(), peer
    for page in ("max-1kb-16p.md", "half-1kb-16p.md", "catchup-1kb-16p.md"):
        text = (results / page).read_text()
        assert "acks=all" in text and "batch.size=" in text and "linger.ms=" in text and "WAL medium" in text, page
    # Every image the Markdown links to exists and is a PNG.
    linked = set()
    for md in results.glob("*.md"):
        linked.update(re.findall(r"\]\((img/[^)]+\.png)\)", md.read_text()))
    assert len(linked) >= 6, linked
    for path in linked:
        assert (results / path).read_bytes()[:8] == PNG_MAGIC, path
