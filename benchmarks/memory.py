"""Memory per key: fastredis against redis-server on the same data.

Loads N keys (``key:<n>`` -> 10-byte values by default) into each server through
pipelined SETs and reports INFO memory's ``used_memory`` and ``used_memory_rss``
before and after, and the ratio of the dataset's growth.

    python benchmarks/memory.py -n 1000000 --value-size 10
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], port: int, workdir: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd + ["--port", str(port), "--save", "", "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if redis.Redis(port=port, protocol=2).ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start: " + " ".join(cmd))


def memory(r: redis.Redis) -> tuple[int, int]:
    info = r.info("memory")
    return int(info["used_memory"]), int(info["used_memory_rss"])


def load(r: redis.Redis, n: int, size: int) -> None:
    value = b"x" * size
    batch = 10_000
    for start_i in range(0, n, batch):
        p = r.pipeline(transaction=False)
        for i in range(start_i, min(n, start_i + batch)):
            p.set(b"key:%d" % i, value)
        p.execute()


def measure(cmd: list[str], n: int, size: int) -> dict[str, int]:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="fastredis-mem-")
    proc = start(cmd, port, workdir)
    try:
        r = redis.Redis(port=port, protocol=2)
        used0, rss0 = memory(r)
        load(r, n, size)
        time.sleep(0.5)
        used1, rss1 = memory(r)
        assert r.dbsize() == n
        return {"used_before": used0, "used_after": used1, "rss_before": rss0, "rss_after": rss1}
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1_000_000, help="number of keys")
    ap.add_argument("--value-size", type=int, default=10)
    ap.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    args = ap.parse_args()
    rows = {
        "fastredis": measure([sys.executable, "-m", "fastredis"], args.n, args.value_size),
        "redis": measure([args.redis_server], args.n, args.value_size),
    }
    print(f"{args.n} keys, {args.value_size}-byte values")
    print("| server | used_memory after | dataset growth (used_memory) | RSS after | bytes/key |")
    print("|---|---:|---:|---:|---:|")
    for name, m in rows.items():
        growth = m["used_after"] - m["used_before"]
        print(f"| {name} | {m['used_after']:,} | {growth:,} | {m['rss_after']:,} | {growth / args.n:.1f} |")
    f, r = rows["fastredis"], rows["redis"]
    print(f"\nused_memory ratio fastredis/redis: {f['used_after'] / r['used_after']:.2f}")
    print(f"dataset growth ratio: {(f['used_after'] - f['used_before']) / (r['used_after'] - r['used_before']):.2f}")
    print(f"RSS ratio: {f['rss_after'] / r['rss_after']:.2f}")


if __name__ == "__main__":
    main()
