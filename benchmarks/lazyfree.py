"""Worst event-loop stall while big values are freed and many keys expire, fastredis and redis-server.

A client PINGs every 5 ms on its own connection and records the longest round trip while:
UNLINK of an N-element set, DEL of an N-element list, SET over an N-field hash, FLUSHALL ASYNC
and FLUSHALL SYNC of K keys, and the active expiry of K keys with TTLs.  The target is 50 ms.

    python benchmarks/lazyfree.py -n 10000000 -k 1000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], port: int, workdir: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd + ["--port", str(port), "--save", "", "--appendonly", "no", "--dir", workdir,
                                   "--enable-debug-command", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir,
                            # this checkout's fastredis, whatever is installed
                            env=dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")))
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if redis.Redis(port=port, protocol=2).ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start: " + " ".join(cmd))


class Pinger:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.worst = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            t = time.perf_counter()
            self.sock.sendall(b"PING\r\n")
            buf = b""
            while not buf.endswith(b"\r\n"):
                buf += self.sock.recv(64)
            self.worst = max(self.worst, time.perf_counter() - t)
            time.sleep(0.005)

    def __enter__(self) -> Pinger:
        self.thread.start()
        time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def fill(r: redis.Redis, cmd: str, key: str, n: int, member: Callable[[int], list[bytes]]) -> None:
    for start_at in range(0, n, 500_000):
        p = r.pipeline(transaction=False)
        for i in range(start_at, min(n, start_at + 500_000), 20_000):
            args: list[bytes] = []
            for j in range(i, min(n, i + 20_000)):
                args += member(j)
            p.execute_command(cmd, key, *args)
        p.execute()


def settle(r: redis.Redis) -> None:
    while int(r.info("memory").get("lazyfree_pending_objects", 0)):
        time.sleep(0.01)
    time.sleep(1.0)  # the synchronous path's slices (fastredis) run on after the reply


def stall(port: int, r: redis.Redis, fn: Callable[[], object]) -> tuple[float, float]:
    with Pinger(port) as p:
        t = time.perf_counter()
        fn()
        took = time.perf_counter() - t
        settle(r)
    return p.worst * 1000, took * 1000


def expiry(port: int, r: redis.Redis, k: int) -> tuple[float, float]:
    """K keys with a 3 s TTL, written raw; the worst gap until all are gone."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        for start_at in range(0, k, 100_000):
            buf = b"".join(b"*5\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$1\r\nv\r\n$2\r\nPX\r\n$4\r\n3000\r\n"
                           % (len(b"k%d" % i), i) for i in range(start_at, min(k, start_at + 100_000)))
            s.sendall(buf)
            got = 0
            while got < 5 * min(100_000, k - start_at):
                got += len(s.recv(1 << 20))
    t = time.perf_counter()
    with Pinger(port) as p:
        while r.dbsize():
            time.sleep(0.01)
    return p.worst * 1000, (time.perf_counter() - t) * 1000


def run(name: str, cmd: list[str], n: int, k: int) -> dict[str, tuple[float, float]]:
    workdir = tempfile.mkdtemp(prefix="bench-lazyfree-")
    port = free_port()
    proc = start(cmd, port, workdir)
    r = redis.Redis(port=port, protocol=2, socket_timeout=600)
    out: dict[str, tuple[float, float]] = {}
    try:
        fill(r, "SADD", "set", n, lambda j: [b"m%d" % j])
        out[f"UNLINK {n:,}-member set"] = stall(port, r, lambda: r.unlink("set"))
        fill(r, "RPUSH", "list", n, lambda j: [b"e%d" % j])
        out[f"DEL {n:,}-element list"] = stall(port, r, lambda: r.delete("list"))
        fill(r, "HSET", "hash", n // 2, lambda j: [b"f%d" % j, b"v"])
        out[f"SET over {n // 2:,}-field hash"] = stall(port, r, lambda: r.set("hash", "x"))
        for mode in ("ASYNC", "SYNC"):
            r.execute_command("DEBUG", "POPULATE", k, "key", 10)
            out[f"FLUSHALL {mode} of {k:,} keys"] = stall(port, r, lambda m=mode: r.execute_command("FLUSHALL", m))
        out[f"active expiry of {k:,} keys"] = expiry(port, r, k)
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{name}: done", file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000_000, help="elements of the big collections")
    ap.add_argument("-k", type=int, default=1_000_000, help="keys flushed / expiring")
    ap.add_argument("--redis", default=shutil.which("redis-server"), help="redis-server to compare with")
    args = ap.parse_args()
    ours = run("fastredis", [sys.executable, "-m", "fastredis"], args.n, args.k)
    theirs = run("redis", [args.redis], args.n, args.k) if args.redis else {}
    print("| case | fastredis worst PING gap (ms) | redis-server worst gap (ms) | fastredis command (ms) |")
    print("|---|---|---|---|")
    for case, (gap, took) in ours.items():
        other = theirs.get(case)
        print(f"| {case} | {gap:.1f} | {other[0]:.1f} | {took:.1f} |" if other else f"| {case} | {gap:.1f} | - | {took:.1f} |")


if __name__ == "__main__":
    main()
