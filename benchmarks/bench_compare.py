#!/usr/bin/env python
"""Run the codec micro-benchmarks, compare them with the committed baseline, check the hiredis ratios.

Two checks, and the exit status is non-zero when either fails:

1. Regression against the saved baseline (``benchmarks/baselines/<machine id>/*.json``, pytest-benchmark's
   storage): pytest-benchmark's ``--benchmark-compare`` with ``--benchmark-compare-fail=min:25%`` (by
   default) fails when a benchmark's best time is more than 25% slower than in the baseline.  Absolute
   times only mean something on the machine kind that recorded them; without a baseline for this
   machine id (``Linux-CPython-3.11-64bit``) that check is skipped with a note.
2. The target, load-independent because hiredis runs in the same session on the same bytes: for every
   input, ``fastredis.Parser``'s best time is at most ``--max-ratio`` (1.0) times ``hiredis.Reader``'s;
   the encoders (``fastredis.Writer`` vs ``hiredis.pack_command``) are checked the same way.

    python benchmarks/bench_compare.py                 # compare (make bench-compare)
    python benchmarks/bench_compare.py --save          # record a new baseline (make bench-baseline)
    python benchmarks/bench_compare.py --md            # also print the Markdown table for BENCHMARKS.md
    python benchmarks/bench_compare.py --fail median:30%  # other thresholds (repeatable)

The machine is shared: pin to one CPU (``--cpu 1``, the default; ``--cpu -1`` does not pin) and compare
best times (min), the figure least disturbed by other load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_FILE = "benchmarks/test_codec_bench.py"
STORAGE = "benchmarks/baselines"
BASELINE_NAME = "codec"
# group prefix -> (fastredis implementation, hiredis implementation)
PAIRS = {
    "parse": ("fastredis.Parser", "hiredis.Reader"),
    "parse-new": ("fastredis.Parser", "hiredis.Reader"),
    "encode": ("fastredis.Writer", "hiredis.pack_command"),
}


def machine_id() -> str:
    """pytest-benchmark's folder name for this machine kind (pytest_benchmark.utils.get_machine_id)."""
    return "{}-{}-{}-{}".format(platform.system(), platform.python_implementation(),
                                ".".join(platform.python_version_tuple()[:2]), platform.architecture()[0])


def baselines() -> list[Path]:
    return sorted((ROOT / STORAGE / machine_id()).glob("*.json"))


def ratios(report: dict) -> list[dict]:
    """fastredis / hiredis time per benchmark group (min and median), from a --benchmark-json report."""
    by_group: dict[str, dict[str, dict]] = {}
    for b in report["benchmarks"]:
        by_group.setdefault(b["group"], {})[b["params"]["impl"]] = b["stats"]
    rows = []
    for group, impls in by_group.items():
        kind, _, name = group.rpartition("-")
        if kind not in PAIRS:
            continue
        ours, theirs = PAIRS[kind]
        if ours not in impls or theirs not in impls:
            continue
        a, b = impls[ours], impls[theirs]
        rows.append({"kind": kind, "input": name, "ours": ours, "theirs": theirs,
                     "ours_min": a["min"], "theirs_min": b["min"],
                     "ours_median": a["median"], "theirs_median": b["median"],
                     "ratio_min": a["min"] / b["min"], "ratio_median": a["median"] / b["median"]})
    return rows


def fmt_time(s: float) -> str:
    return f"{s * 1e6:,.2f} µs"


def markdown(rows: list[dict]) -> str:
    lines = ["| benchmark | input | hiredis min | fastredis min | fastredis / hiredis (min) | (median) |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        what = f"{r['kind']}: {r['ours']} vs {r['theirs']}"
        lines.append(f"| {what} | {r['input']} | {fmt_time(r['theirs_min'])} | {fmt_time(r['ours_min'])} "
                     f"| {r['ratio_min']:.2f} | {r['ratio_median']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--save", action="store_true", help="record a new baseline (replaces this machine's)")
    ap.add_argument("--fail", action="append", default=None,
                    help="--benchmark-compare-fail expression (default min:25%%; repeatable)")
    ap.add_argument("--max-ratio", type=float, default=1.0,
                    help="largest allowed fastredis/hiredis ratio of best times (default 1.0)")
    ap.add_argument("--cpu", type=int, default=1, help="pin to this CPU (-1: do not pin)")
    ap.add_argument("--md", action="store_true", help="print the Markdown table of ratios")
    ap.add_argument("--quick", action="store_true",
                    help="a very short run to test the tooling: times are meaningless, nothing is compared or checked")
    ap.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = ap.parse_args(argv)

    import pytest
    from pytest_benchmark.session import PerformanceRegression

    os.chdir(ROOT)
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity") and args.cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {args.cpu})
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        opts = [BENCH_FILE, "-q", "-p", "no:cacheprovider", "--benchmark-only",
                f"--benchmark-storage={STORAGE}", f"--benchmark-json={report_path}",
                "--benchmark-columns=min,median,mean,stddev,rounds", "--benchmark-sort=name"]
        if args.quick:
            opts += ["--benchmark-min-rounds=1", "--benchmark-max-time=0.0001", "--benchmark-warmup=off",
                     "--benchmark-min-time=0", "--benchmark-calibration-precision=1"]
        compared = False
        if args.save:
            for old in baselines():
                old.unlink()
            opts.append(f"--benchmark-save={BASELINE_NAME}")
        elif baselines() and not args.quick:
            compared = True
            opts += ["--benchmark-compare=" + baselines()[-1].name.split("_")[0],
                     "--benchmark-compare-fail", *(args.fail or ["min:25%"])]
        elif not args.quick:
            print(f"note: no baseline in {STORAGE}/{machine_id()}: only the hiredis ratios are checked "
                  f"(record one with --save)")
        try:
            code = pytest.main(opts + args.pytest_args)
        except PerformanceRegression:  # raised from the terminal summary, after the report is written
            code = 1
        if not report_path.exists():
            return int(code) or 1
        rows = ratios(json.loads(report_path.read_text()))

    print(markdown(rows) if args.md else "\n".join(
        f"{r['kind']:9} {r['input']:10} {r['ours']} / {r['theirs']}: {r['ratio_min']:.2f} (min) "
        f"{r['ratio_median']:.2f} (median)" for r in rows))
    status = int(code)
    if compared and status:
        print("FAIL: slower than the baseline beyond the threshold (see 'Performance has regressed' above), "
              "or a benchmark failed")
    if not args.quick:
        slow = [r for r in rows if r["ratio_min"] > args.max_ratio]
        for r in slow:
            print(f"FAIL: {r['kind']} {r['input']}: {r['ours']} takes {r['ratio_min']:.2f}x "
                  f"{r['theirs']}'s time (allowed: {args.max_ratio})")
        if slow:
            status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
