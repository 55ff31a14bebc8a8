"""The benchmark runner (benchmarks/redis_benchmark.py) still works: a tiny smoke run and its summary maths.

No performance figure is asserted here; this only keeps the tooling from rotting.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_runner():
    spec = importlib.util.spec_from_file_location("redis_benchmark", ROOT / "benchmarks" / "redis_benchmark.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["redis_benchmark"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_summary_takes_median_of_same_round_ratios():
    rb = load_runner()
    S = rb.Sample
    samples = [
        S(1, "P16", "fastredis", "SET", 100.0, cpu_us=4.0), S(1, "P16", "redis", "SET", 400.0, cpu_us=1.0),
        S(2, "P16", "fastredis", "SET", 300.0, cpu_us=3.0), S(2, "P16", "redis", "SET", 600.0, cpu_us=1.0),
        S(3, "P16", "fastredis", "SET", 50.0, cpu_us=5.0), S(3, "P16", "redis", "SET", 100.0, cpu_us=1.0),
        S(1, "P16", "fastredis", "XADD", None, error="Error from server: ERR unknown command 'XADD'"),
        S(1, "P16", "redis", "XADD", 1000.0),
    ]
    summary = {s.test: s for s in rb.summarise(samples)}
    assert summary["SET"].ratios == [0.25, 0.5, 0.5]
    assert summary["SET"].ratio == 0.5
    assert summary["SET"].cpu_ratio == 1.0 / 4.0
    assert summary["XADD"].ratio is None and "unknown command" in summary["XADD"].error
    table = rb.table(list(summary.values()))
    assert "| P16 | SET |" in table and "error: Error from server" in table


def test_smoke_run_against_both_servers(tmp_path):
    rb = load_runner()
    md = tmp_path / "BENCH.md"
    md.write_text("old\n" + rb.KEEP_MARKER + "\nkept notes\n")
    code = rb.main(["-t", "ping_mbulk,get", "-n", "300", "--rounds", "1", "--variants", "c1",
                    "--out", str(tmp_path), "--md", str(md), "--no-pin"])
    assert code == 0
    data = json.loads((tmp_path / "results.json").read_text())
    servers = {s["server"] for s in data["samples"]}
    assert servers == {"fastredis", "redis"}
    tests = {s["test"] for s in data["summary"]}
    assert {"PING_MBULK", "GET"} <= tests
    for s in data["summary"]:
        assert s["ratio"] is not None and s["ratio"] > 0, s
    text = md.read_text()
    assert "| c1 | PING_MBULK |" in text and text.endswith("kept notes\n") and not text.startswith("old")
