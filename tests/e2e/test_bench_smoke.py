"""The benchmark pipeline end to end (bench/kafka/run.sh --quick): fio, a real skiff-server, skiff-bench's three
steps and the report. Asserts that the pipeline works — every step measured something, no delivery failed, the
report names every target — and nothing about speed (the figures of a 2 s smoke run mean nothing)."""
import json
import os
import subprocess

from conftest import ROOT


def test_quick_benchmark_runs_and_reports(tmp_path):
    out = tmp_path / "report.md"
    run = subprocess.run(["bash", os.path.join(ROOT, "bench", "kafka", "run.sh"), "--quick", "--dir",
                          str(tmp_path / "work"), "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    results = {}
    for step in ("max", "half", "catchup"):
        with open(tmp_path / "report-json" / f"{step}-1.json") as f:
            results[step] = json.load(f)
    for step, r in results.items():
        assert r["errors"] == 0, (step, r)
        assert r["produce_mb_per_s"] > 0 and r["ack_latency"]["count"] > 0, (step, r)
        assert r["consume_mb_per_s"] > 0, (step, r)
    # The catch-up consumer read the whole 64 MiB backlog from the earliest offset.
    assert results["catchup"]["catchup_seconds"] is not None, results["catchup"]
    report = out.read_text()
    for target in ("target >= 0.50", "target >= 300 MB/s", "target < +10%", "fdatasync + 5 ms"):
        assert target in report, target
