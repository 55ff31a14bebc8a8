"""Scripting throughput of fastredis next to a real redis-server, with redis-benchmark.

Runs ``EVALSHA`` of redis-py ``Lock``'s release script and ``FCALL`` of a function doing the same
work (GET the lock key, compare the token, DEL on a match) at ``-P 16`` and ``-P 1``.  The lock key
holds another client's token, so every call reads the key and returns 0: the steady state of a
release that lost its lock, and the same work on each request.  Both servers are pinned to one CPU
and redis-benchmark to another (as ``redis_benchmark.py``); each round measures both servers, the
figure is the median of the per-round ratio.

    python benchmarks/scripting.py -n 200000 --rounds 3
"""

from __future__ import annotations

import argparse
import csv
import io
import socket
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from redis_benchmark import ROOT, Server, pinned  # noqa: E402

RELEASE = """
local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
    return 0
end
redis.call('del', KEYS[1])
return 1
"""
LIBRARY = ("#!lua name=benchlock\n"
           "redis.register_function('release', function(keys, args)\n" + RELEASE.replace("KEYS", "keys")
           .replace("ARGV", "args") + "end)\n")


def _call(port: int, *args: str) -> bytes:
    payload = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(payload)
        return s.recv(65536)


def _sha() -> str:
    import hashlib

    return hashlib.sha1(RELEASE.encode()).hexdigest()


def prepare(port: int) -> None:
    assert _call(port, "SCRIPT", "LOAD", RELEASE).startswith(b"$40")
    _call(port, "FUNCTION", "LOAD", "REPLACE", LIBRARY)
    _call(port, "SET", "lock:bench", "someone-elses-token")


def bench(port: int, args: list[str], n: int, pipeline: int, cpu: int | None) -> float:
    argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(n), "-P", str(pipeline), "-q",
            "--csv", *args]
    res = subprocess.run(pinned(cpu, argv), capture_output=True, text=True, timeout=600)
    for rec in csv.DictReader(io.StringIO(res.stdout)):
        return float(rec["rps"])
    raise RuntimeError("redis-benchmark failed: %s" % res.stderr[-300:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200000, help="requests per -P 16 run (-P 1 runs a tenth)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--bench-cpu", type=int, default=1)
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--redis-server", default="redis-server")
    opts = ap.parse_args(argv)
    scpu = None if opts.no_pin else opts.server_cpu
    bcpu = None if opts.no_pin else opts.bench_cpu
    servers = [
        Server("fastredis", [sys.executable, "-m", "fastredis", "--loglevel", "warning"], scpu, str(ROOT)),
        Server("redis", [opts.redis_server], scpu),
    ]
    tests = {
        "EVALSHA (Lock release)": ["evalsha", _sha(), "1", "lock:bench", "my-token"],
        "FCALL (same work)": ["fcall", "release", "1", "lock:bench", "my-token"],
    }
    results: dict[tuple[str, int], dict[str, list[float]]] = {}
    try:
        for s in servers:
            prepare(s.port)
        for _ in range(opts.rounds):
            for name, args in tests.items():
                for pipeline in (16, 1):
                    n = opts.n if pipeline > 1 else max(opts.n // 10, 1000)
                    row = results.setdefault((name, pipeline), {s.name: [] for s in servers})
                    for s in servers:
                        row[s.name].append(bench(s.port, args, n, pipeline, bcpu))
    finally:
        for s in servers:
            s.stop()
    print("| test | pipeline | fastredis rps | redis rps | ratio |")
    print("|---|---|---|---|---|")
    for (name, pipeline), row in results.items():
        ours, real = row["fastredis"], row["redis"]
        ratio = statistics.median(a / b for a, b in zip(ours, real))
        print("| %s | -P %d | %.0f | %.0f | %.2fx |" % (name, pipeline, statistics.median(ours),
                                                       statistics.median(real), ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
