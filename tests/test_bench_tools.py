"""The benchmark tooling still works: benchmarks/redis_benchmark.py (a tiny smoke run and its summary maths),
the codec micro-benchmarks and their baseline comparison (benchmarks/test_codec_bench.py, bench_compare.py).

No performance figure is asserted here; this only keeps the tooling from rotting.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
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
        # how busy each side was: a share of one CPU, for both servers and redis-benchmark
        for key in ("fast_busy", "redis_busy", "client_busy"):
            assert s[key] is not None and 0 < s[key] < 1.5, (key, s)
    text = md.read_text()
    assert "| c1 | PING_MBULK |" in text and text.endswith("kept notes\n") and not text.startswith("old")


# -- codec micro-benchmarks (benchmarks/test_codec_bench.py, benchmarks/bench_compare.py) ----------

def load_module(name: str):
    alias = f"_bench_tools_{name}"  # not the name pytest would give the file when collecting benchmarks/
    spec = importlib.util.spec_from_file_location(alias, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[alias] = mod
    spec.loader.exec_module(mod)
    return mod


def run_pytest(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_codec_benchmarks_run_and_agree_with_hiredis():
    """Every codec benchmark runs once (its assertions compare the outputs with hiredis')."""
    proc = run_pytest("benchmarks/test_codec_bench.py", "--benchmark-disable")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bench = load_module("test_codec_bench")
    assert set(bench.INPUTS) == {"small", "pipeline16", "value100k", "array1000"}
    assert "24 passed" in proc.stdout, proc.stdout


def test_codec_baseline_covers_every_benchmark():
    """The committed baseline names every benchmark the file has (re-record it with --save when adding one)."""
    cmp = load_module("bench_compare")
    files = sorted((ROOT / cmp.STORAGE).glob("*/*.json"))
    assert files, "no committed codec baseline"
    proc = run_pytest("benchmarks/test_codec_bench.py", "--collect-only")
    collected = {line.strip() for line in proc.stdout.splitlines() if "::test_" in line}
    assert len(collected) == 24, proc.stdout
    for f in files:
        saved = {b["fullname"] for b in json.loads(f.read_text())["benchmarks"]}
        assert saved == collected, f


def test_codec_ratio_table():
    cmp = load_module("bench_compare")

    def bench(group, impl, lo, med):
        return {"group": group, "params": {"impl": impl}, "stats": {"min": lo, "median": med}}

    report = {"benchmarks": [
        bench("parse-small", "fastredis.Parser", 1e-7, 2e-7), bench("parse-small", "hiredis.Reader", 2e-7, 2e-7),
        bench("parse-new-small", "fastredis.Parser", 3e-7, 3e-7), bench("parse-new-small", "hiredis.Reader", 2e-7, 6e-7),
        bench("encode-small", "fastredis.encode_command", 1e-7, 1e-7),
    ]}
    rows = {(r["kind"], r["input"]): r for r in cmp.ratios(report)}
    assert set(rows) == {("parse", "small"), ("parse-new", "small")}
    assert rows["parse", "small"]["ratio_min"] == 0.5 and rows["parse", "small"]["ratio_median"] == 1.0
    assert rows["parse-new", "small"]["ratio_min"] == 1.5
    table = cmp.markdown(list(rows.values()))
    assert "| parse: fastredis.Parser vs hiredis.Reader | small | 0.20 µs | 0.10 µs | 0.50 | 1.00 |" in table


def test_bench_compare_quick_run():
    """The compare script runs end to end (a very short run: no comparison, no check)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "benchmarks/bench_compare.py", "--quick", "--cpu", "-1", "--md"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| parse: fastredis.Parser vs hiredis.Reader | value100k |" in proc.stdout
