"""Throughput of fastredis relative to a real redis-server, measured with redis-benchmark.

Both servers run pinned to one CPU (``--server-cpu``) and redis-benchmark to another
(``--bench-cpu``) with taskset.  Each round runs every test against fastredis and then
against redis-server, so both see the same machine load; the reported figure is the
median over rounds of the same-round ratio ``fastredis rps / redis rps``.  A test that
fastredis answers with an error (a command not written yet) is reported as such instead
of aborting the run.

    python benchmarks/redis_benchmark.py -n 20000 --rounds 3 --md BENCHMARKS.md

Writes results.csv, results.json and ratios.png (when matplotlib is installed:
``pip install -e .[bench]``) into ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# redis-benchmark's own default suite
DEFAULT_TESTS = ("ping_inline,ping_mbulk,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,"
                 "lrange_100,lrange_300,lrange_500,lrange_600,mset")

# name -> extra redis-benchmark arguments
VARIANTS = {
    "P16": ["-P", "16"],          # 50 clients, 16 pipelined requests each
    "P1": ["-P", "1"],            # 50 clients, one request at a time
    "c1": ["-c", "1", "-P", "1"],  # a single client, one request at a time: latency bound
}
# share of -n each variant runs (the unpipelined ones are 10-100x slower per request:
# -n 2000000 gives P16 2M, P1 200k and c1 20k requests, a few seconds each)
VARIANT_SHARE = {"P16": 1.0, "P1": 0.1, "c1": 0.01}


@dataclass
class Sample:
    """One redis-benchmark row (or failure) for one server, variant and round."""

    round: int
    variant: str
    server: str
    test: str
    rps: float | None
    p50_ms: float | None = None
    error: str = ""
    cpu_us: float | None = None  # server CPU time per request over the whole redis-benchmark run
    # share of one CPU used during the run (1.0 = saturated): which side limits the throughput
    server_busy: float | None = None
    client_busy: float | None = None  # redis-benchmark itself


@dataclass
class Summary:
    variant: str
    test: str
    fast_rps: float | None
    redis_rps: float | None
    ratio: float | None
    ratios: list[float] = field(default_factory=list)
    error: str = ""
    fast_cpu_us: float | None = None
    fast_busy: float | None = None
    redis_busy: float | None = None
    client_busy: float | None = None
    redis_cpu_us: float | None = None
    cpu_ratio: float | None = None  # redis CPU per request / fastredis CPU per request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def pinned(cpu: int | None, argv: list[str]) -> list[str]:
    if cpu is None or shutil.which("taskset") is None:
        return argv
    return ["taskset", "-c", str(cpu)] + argv


class Server:
    """A server subprocess on a free port, pinned to one CPU."""

    def __init__(self, name: str, argv: list[str], cpu: int | None, pythonpath: str | None = None,
                 tls: str | None = None) -> None:
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"bench-{name}-")
        full = argv + ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                       "--dir", self.dir]
        # --tls: redis-benchmark talks to a TLS port beside the plain one (kept for FLUSHALL and readiness)
        self.bench_port = self.port
        if tls:
            self.bench_port = free_port()
            full += ["--tls-port", str(self.bench_port), "--tls-cert-file", os.path.join(tls, "server.crt"),
                     "--tls-key-file", os.path.join(tls, "server.key"), "--tls-ca-cert-file",
                     os.path.join(tls, "ca.crt")]
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(pinned(cpu, full), cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env)
        wait_ready(self.port, self.proc)

    def cpu_ns(self) -> int:
        """CPU time the server's threads have run, from /proc/<pid>/task/*/schedstat (ns resolution).

        Unlike throughput, this barely depends on what else the (shared) machine runs.
        """
        total = 0
        try:
            for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return 0
        return total

    def flushall(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            s.sendall(b"FLUSHALL\r\n")
            s.recv(64)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_benchmark(port: int, test: str, variant: list[str], n: int, cpu: int | None, keyspace: int | None,
                  timeout: float, usage: dict[str, float] | None = None,
                  ) -> tuple[list[tuple[str, float, float | None]], str]:
    """Run one ``redis-benchmark -t test``; return its CSV rows and an error text (empty if none).

    ``usage``, when given, receives the run's wall time and redis-benchmark's CPU time (seconds).
    """
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", test, "-n", str(n), "-q", "--csv"]
    if keyspace:
        argv += ["-r", str(keyspace)]
    argv += variant
    ru0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    try:
        res = subprocess.run(pinned(cpu, argv), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], f"timeout after {timeout:.0f}s"
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if usage is not None:
        usage["wall"] = time.monotonic() - t0
        usage["client_cpu"] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    rows = []
    for rec in csv.DictReader(io.StringIO(res.stdout)):
        try:
            p50 = float(rec["p50_latency_ms"]) if rec.get("p50_latency_ms") else None
            rows.append((rec["test"], float(rec["rps"]), p50))
        except (KeyError, ValueError):
            continue
    error = ""
    if res.returncode != 0:
        lines = [ln for ln in res.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING")]
        error = (lines[-1] if lines else f"exit code {res.returncode}")[:200]
    return rows, error


def _median_of(rows: list[Sample], attr: str, server: str | None) -> float | None:
    vals = [getattr(s, attr) for s in rows if (server is None or s.server == server) and getattr(s, attr)]
    return statistics.median(vals) if vals else None


def summarise(samples: list[Sample]) -> list[Summary]:
    """Median of same-round ratios, per variant and test, in first-seen order."""
    keys: list[tuple[str, str]] = []
    for s in samples:
        if (s.variant, s.test) not in keys:
            keys.append((s.variant, s.test))
    out = []
    for variant, test in keys:
        rows = [s for s in samples if s.variant == variant and s.test == test]
        by_round: dict[int, dict[str, Sample]] = {}
        for s in rows:
            by_round.setdefault(s.round, {})[s.server] = s
        ratios = []
        fast, real, errors = [], [], []
        fast_cpu = [s.cpu_us for s in rows if s.server == "fastredis" and s.cpu_us]

        real_cpu = [s.cpu_us for s in rows if s.server == "redis" and s.cpu_us]
        for pair in by_round.values():
            f, r = pair.get("fastredis"), pair.get("redis")
            if f is not None and f.error:
                errors.append(f.error)
            if f is not None and f.rps:
                fast.append(f.rps)
            if r is not None and r.rps:
                real.append(r.rps)
            if f is not None and r is not None and f.rps and r.rps:
                ratios.append(f.rps / r.rps)
        out.append(Summary(
            variant=variant, test=test,
            fast_rps=statistics.median(fast) if fast else None,
            redis_rps=statistics.median(real) if real else None,
            ratio=statistics.median(ratios) if ratios else None,
            ratios=ratios, error=errors[0] if errors else "",
            fast_cpu_us=statistics.median(fast_cpu) if fast_cpu else None,
            redis_cpu_us=statistics.median(real_cpu) if real_cpu else None,
            cpu_ratio=(statistics.median(real_cpu) / statistics.median(fast_cpu)) if fast_cpu and real_cpu else None,
            fast_busy=_median_of(rows, "server_busy", "fastredis"), redis_busy=_median_of(rows, "server_busy", "redis"),
            client_busy=_median_of(rows, "client_busy", None),
        ))
    return out


def table(summaries: list[Summary]) -> str:
    """A Markdown table of the medians."""
    lines = ["| variant | test | fastredis rps | redis rps | ratio (median) | ratios per round "
             "| CPU µs/req fastredis | CPU µs/req redis | CPU ratio | busy fastredis / redis / client |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---|"]
    for s in summaries:
        f = f"{s.fast_rps:,.0f}" if s.fast_rps else "-"
        r = f"{s.redis_rps:,.0f}" if s.redis_rps else "-"
        ratio = f"{s.ratio:.3f}" if s.ratio is not None else ("error: " + s.error.replace("|", "/") if s.error else "-")
        per = ", ".join(f"{x:.3f}" for x in s.ratios)
        fc = f"{s.fast_cpu_us:.2f}" if s.fast_cpu_us else "-"
        rc = f"{s.redis_cpu_us:.2f}" if s.redis_cpu_us else "-"
        cr = f"{s.cpu_ratio:.3f}" if s.cpu_ratio else "-"
        busy = " / ".join(f"{b:.0%}" if b else "-" for b in (s.fast_busy, s.redis_busy, s.client_busy))
        lines.append(f"| {s.variant} | {s.test} | {f} | {r} | {ratio} | {per} | {fc} | {rc} | {cr} | {busy} |")
    return "\n".join(lines)


def short_name(test: str) -> str:
    """``LRANGE_100 (first 100 elements)`` -> ``LRANGE_100``; keeps LRANGE's LPUSH apart from LPUSH."""
    if test.startswith("LPUSH (needed"):
        return "LPUSH (LRANGE)"
    return test.split(" (")[0]


def plot(summaries: list[Summary], path: Path) -> bool:
    """Bar chart of the median ratios per variant; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    variants = list(dict.fromkeys(s.variant for s in summaries))
    tests = list(dict.fromkeys(s.test for s in summaries))
    fig, axes = plt.subplots(2, 1, figsize=(max(8, len(tests) * 0.8), 8), sharex=True)
    width = 0.8 / max(1, len(variants))
    for ax, attr, label in ((axes[0], "ratio", "throughput: fastredis rps / redis rps"),
                            (axes[1], "cpu_ratio", "CPU efficiency: redis / fastredis CPU per request")):
        for i, v in enumerate(variants):
            vals = []
            for t in tests:
                m = [getattr(s, attr) for s in summaries if s.variant == v and s.test == t]
                vals.append(m[0] if m and m[0] is not None else 0.0)
            ax.bar([x + i * width for x in range(len(tests))], vals, width, label=v)
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_ylabel(label, fontsize=8)
        ax.legend(fontsize=8)
    axes[0].set_title("fastredis relative to redis-server (1.0 = parity; medians over rounds)")
    axes[1].set_xticks([x + width * (len(variants) - 1) / 2 for x in range(len(tests))])
    axes[1].set_xticklabels([short_name(t) for t in tests], rotation=45, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def machine() -> dict[str, str]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    try:
        import uvloop

        uv = uvloop.__version__
    except ImportError:
        uv = "not installed"
    return {
        "cpu": model or platform.processor(),
        "cpus": str(os.cpu_count()),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "uvloop": uv,
        "redis": redis_version,
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# everything after this line in the report is kept when it is regenerated (hand-written notes)
KEEP_MARKER = "<!-- generated above; hand-written notes below are kept on regeneration -->"


def write_markdown(path: Path, summaries: list[Summary], info: dict[str, str], command: str,
                   png: str | None, note: str) -> None:
    lines = [
        "# Benchmarks",
        "",
        "fastredis against a real redis-server on the same machine, measured with `redis-benchmark`.",
        "Both servers run on one pinned CPU and redis-benchmark on another (taskset); every round runs each",
        "test against fastredis and then redis-server, and the table gives the median of the same-round",
        "ratios `fastredis rps / redis rps` (1.0 = as fast as Redis).",
        "",
        "Throughput on a shared machine is noisy (the ratios per round show how much), so the table also",
        "gives the server's CPU time per request, read from `/proc/<pid>/task/*/schedstat` around each run,",
        "and `CPU ratio` = redis CPU per request / fastredis CPU per request: the more stable figure of",
        "how much work fastredis spends per request relative to Redis (1.0 = as efficient as Redis).",
        "`busy` is the share of one CPU each side used during the run (fastredis, redis-server, and",
        "redis-benchmark itself, median over rounds): where redis-benchmark is near 100%, the client,",
        "not the server, sets the throughput of both.",
        "",
        "## Results",
        "",
        table(summaries),
        "",
    ]
    if png:
        lines += [f"![ratios]({png})", ""]
    if note:
        lines += [note, ""]
    lines += [
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in info.items()],
        "",
        "## Reproduce",
        "",
        "```",
        "pip install -e '.[test,bench]'",
        command,
        "python -m pytest benchmarks --benchmark-only   # codec micro-benchmarks beside hiredis",
        "```",
        "",
        "Variants: `P16` = `-P 16` (50 clients pipelining 16 requests), `P1` = `-P 1` (50 clients),",
        "`c1` = `-c 1 -P 1` (one client, one request at a time); P1 runs a tenth of `-n` requests and",
        "c1 a hundredth. Errors are fastredis error replies",
        "(redis-benchmark stops a test at the first one).",
        "",
    ]
    lines.append(KEEP_MARKER)
    kept = ""
    if path.exists():
        old = path.read_text()
        if KEEP_MARKER in old:
            kept = old.split(KEEP_MARKER, 1)[1]
    path.write_text("\n".join(lines) + (kept or "\n"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-t", "--tests", default=DEFAULT_TESTS, help="comma-separated redis-benchmark -t tests")
    ap.add_argument("-n", "--requests", type=int, default=100000, help="requests per test (-n)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--variants", default="P16,P1,c1", help="comma-separated: " + ", ".join(VARIANTS))
    ap.add_argument("-r", "--keyspace", type=int, default=None, help="redis-benchmark -r (random keys)")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--bench-cpu", type=int, default=1)
    ap.add_argument("--no-pin", action="store_true", help="do not use taskset")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per redis-benchmark run")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="directory for csv/json/png")
    ap.add_argument("--md", default=None, help="also write this Markdown report (e.g. BENCHMARKS.md)")
    ap.add_argument("--note", default="", help="a sentence for the report (e.g. the machine was shared)")
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--from-json", action="store_true",
                    help="do not run: rebuild the table, plot and report from --out/results.json")
    ap.add_argument("--tls", default=None, metavar="DIR",
                    help="benchmark over TLS with DIR/ca.crt, server.crt/.key and client.crt/.key (both servers)")
    ap.add_argument("--fastredis-path", default=None,
                    help="run fastredis from this source tree (PYTHONPATH), e.g. an older checkout")
    args = ap.parse_args(argv)

    if shutil.which("redis-benchmark") is None:
        print("redis-benchmark is not installed (apt-get install redis-tools)", file=sys.stderr)
        return 2
    server_cpu = None if args.no_pin else args.server_cpu
    bench_cpu = None if args.no_pin else args.bench_cpu
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in variants:
        if v not in VARIANTS:
            ap.error(f"unknown variant {v!r}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = machine()

    if args.from_json:
        saved = json.loads((out / "results.json").read_text())
        samples = [Sample(**x) for x in saved["samples"]]
        info = saved["machine"]
        return report(samples, info, out, args, None, saved["command"])
    servers = [
        Server("fastredis", [sys.executable, "-m", "fastredis", "--loglevel", "warning"], server_cpu,
               args.fastredis_path, args.tls),
        Server("redis", [args.redis_server], server_cpu, None, args.tls),
    ]
    tls_client = []
    if args.tls:
        tls_client = ["--tls", "--cacert", os.path.join(args.tls, "ca.crt"), "--cert",
                      os.path.join(args.tls, "client.crt"), "--key", os.path.join(args.tls, "client.key")]
    samples: list[Sample] = []
    try:
        for rnd in range(1, args.rounds + 1):
            for variant in variants:
                for test in tests:
                    for srv in servers:
                        srv.flushall()
                        n = max(100, int(args.requests * VARIANT_SHARE.get(variant, 1.0)))
                        cpu0 = srv.cpu_ns()
                        usage: dict[str, float] = {}
                        rows, error = run_benchmark(srv.bench_port, test, VARIANTS[variant] + tls_client, n, bench_cpu,
                                                    args.keyspace, args.timeout, usage)
                        cpu = srv.cpu_ns() - cpu0
                        cpu_us = cpu / 1000 / (n * len(rows)) if rows and cpu0 else None
                        wall = usage.get("wall") or 0.0
                        server_busy = cpu / 1e9 / wall if wall and cpu0 else None
                        client_busy = usage["client_cpu"] / wall if wall else None
                        for name, rps, p50 in rows:
                            samples.append(Sample(rnd, variant, srv.name, name, rps, p50, cpu_us=cpu_us,
                                                  server_busy=server_busy, client_busy=client_busy))
                        if error:
                            samples.append(Sample(rnd, variant, srv.name, test.upper() if not rows else
                                                  rows[-1][0] + " (then)", None, None, error))
                        shown = ", ".join(f"{name} {rps:,.0f}" for name, rps, _ in rows)
                        print(f"round {rnd} {variant:4} {srv.name:9} {test:12} {shown}"
                              f"{'  ERROR: ' + error if error else ''}", flush=True)
    finally:
        for srv in servers:
            srv.stop()

    return report(samples, info, out, args, argv, None)


def report(samples: list[Sample], info: dict[str, str], out: Path, args: argparse.Namespace,
           argv: list[str] | None, command: str | None) -> int:
    """Print the table and write results.csv/json, ratios.png and the Markdown report."""
    summaries = summarise(samples)
    print()
    print(table(summaries))
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["round", "variant", "server", "test", "rps", "p50_ms", "cpu_us_per_req", "error"])
        for s in samples:
            w.writerow([s.round, s.variant, s.server, s.test, s.rps, s.p50_ms, s.cpu_us, s.error])
    if command is None:
        command = "python benchmarks/redis_benchmark.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    (out / "results.json").write_text(json.dumps({
        "command": command, "machine": info, "samples": [asdict(s) for s in samples],
        "summary": [asdict(s) for s in summaries]}, indent=1))
    png_path = out / "ratios.png"
    has_png = plot(summaries, png_path)
    if args.md:
        md = Path(args.md)
        rel = os.path.relpath(png_path, md.resolve().parent) if has_png else None
        write_markdown(md, summaries, info, command.strip(), rel, args.note)
        print(f"wrote {md}")
    print(f"wrote {out}/results.csv, results.json" + (", ratios.png" if has_png else " (no matplotlib: no plot)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
