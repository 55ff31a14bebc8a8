"""User-space instructions per request, counted by valgrind's callgrind: a load-independent cost figure.

Throughput and even CPU time wobble on a shared machine; instruction counts do not.
Each server runs under ``valgrind --tool=callgrind``; for every test the counters are
zeroed, ``redis-benchmark -t <test> -n N -P <P>`` runs, and the counters are dumped,
so the figure covers exactly that test (kernel time, e.g. the socket syscalls, is
not counted).  It is ~50x slower than a normal run: keep N modest.

    python benchmarks/instructions.py -t set,get,lpush -n 20000
    python benchmarks/instructions.py --fastredis-path /tmp/old-checkout   # before/after
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from redis_benchmark import free_port  # noqa: E402


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"PING\r\n")
                s.settimeout(10)
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("server did not start under valgrind")


def measure(name: str, argv: list[str], tests: list[str], n: int, pipeline: int,
            pythonpath: str | None) -> dict[str, float]:
    """Instructions per request for each test against one server started from ``argv``."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix=f"instr-{name}-")
    out = os.path.join(workdir, "callgrind.out")
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    full = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + argv + [
        "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
    log = open(os.path.join(workdir, "log"), "wb")
    proc = subprocess.Popen(full, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    result: dict[str, float] = {}
    try:
        wait_ready(port, proc)
        for test in tests:
            subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True)
            before = set(glob.glob(out + ".*"))
            bench = subprocess.run(["redis-benchmark", "-p", str(port), "-t", test, "-n", str(n), "-P", str(pipeline),
                                    "-q", "--csv"], capture_output=True, text=True, timeout=1800)
            subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, check=True)
            time.sleep(0.5)
            dumps = sorted(set(glob.glob(out + ".*")) - before, key=os.path.getmtime)
            if bench.returncode != 0 or not dumps:
                print(f"{name} {test}: failed: {bench.stderr.strip()[-200:]}", file=sys.stderr)
                continue
            total = 0
            with open(dumps[-1]) as f:
                for line in f:
                    if line.startswith("summary:"):
                        total = int(line.split()[1])
            rows = max(1, len([ln for ln in bench.stdout.splitlines()[1:] if ln.strip()]))
            result[test] = total / (n * rows)
            print(f"{name:9} {test:12} {result[test]:10,.0f} instructions/request", flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-t", "--tests", default="ping_mbulk,set,get,incr,lpush,sadd,hset")
    ap.add_argument("-n", "--requests", type=int, default=20000)
    ap.add_argument("-P", "--pipeline", type=int, default=16)
    ap.add_argument("--fastredis-path", default=None, help="run fastredis from this source tree (PYTHONPATH)")
    ap.add_argument("--no-redis", action="store_true", help="only measure fastredis")
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    # the real interpreter, not a pyenv shim script: valgrind must see python itself
    python = os.path.realpath(sys.executable)
    fast = measure("fastredis", [python, "-m", "fastredis", "--loglevel", "warning"], tests, args.requests,
                   args.pipeline, args.fastredis_path)
    real = {} if args.no_redis else measure("redis", ["redis-server"], tests, args.requests, args.pipeline, None)
    print()
    print(f"| test | fastredis instr/req | redis instr/req | ratio (redis/fastredis) |  (-P {args.pipeline})")
    print("|---|---:|---:|---:|")
    for t in tests:
        f, r = fast.get(t), real.get(t)
        ratio = f"{r / f:.3f}" if f and r else "-"
        fs = f"{f:,.0f}" if f else "-"
        rs = f"{r:,.0f}" if r else "-"
        print(f"| {t} | {fs} | {rs} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
