"""Memory under connection churn and long load, fastredis and redis-server side by side.

1. ``--connections`` connections opened, PINGed and closed, 1,000 open at a time: RSS and
   ``used_memory`` after a warm-up of 5,000 and at the end.
2. ``--clients`` redis-benchmark clients doing LPUSH/LPOP/SET/GET/INCR/HSET round after round for
   ``--seconds``: RSS after each round (the first round is the warm-up).

    python benchmarks/churn.py --connections 100000 --clients 1000 --seconds 600
"""

from __future__ import annotations

import argparse
import os
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], port: int, workdir: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd + ["--port", str(port), "--save", "", "--appendonly", "no", "--dir", workdir,
                                   "--maxclients", "4000"],
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


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def churn_round(port: int, n: int) -> None:
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(n)]
    for s in socks:
        s.sendall(b"PING\r\n")
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    left = n
    while left:
        for key, _ in sel.select(timeout=30):
            key.fileobj.recv(64)  # type: ignore[union-attr]
            sel.unregister(key.fileobj)
            left -= 1
    sel.close()
    for s in socks:
        s.close()


def run(name: str, cmd: list[str], conns: int, clients: int, seconds: float, bench: str) -> dict[str, object]:
    workdir = tempfile.mkdtemp(prefix="bench-churn-")
    port = free_port()
    proc = start(cmd, port, workdir)
    r = redis.Redis(port=port, protocol=2)
    pid = int(r.info("server")["process_id"])
    out: dict[str, object] = {}
    try:
        done = 0
        while done < 5000:
            churn_round(port, 1000)
            done += 1000
        time.sleep(0.5)
        out["churn_start"] = (rss_mb(pid), int(r.info("memory")["used_memory"]) / 2**20)
        while done < conns:
            churn_round(port, min(1000, conns - done))
            done += 1000
        time.sleep(0.5)
        out["churn_end"] = (rss_mb(pid), int(r.info("memory")["used_memory"]) / 2**20)
        out["connected_clients"] = int(r.info("clients")["connected_clients"])
        rounds = []
        t_end = time.time() + seconds
        while time.time() < t_end or len(rounds) < 2:
            subprocess.run([bench, "-p", str(port), "-c", str(clients), "-n", "200000", "-q",
                            "-t", "lpush,lpop,set,get,incr,hset"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=600)
            time.sleep(0.5)
            rounds.append(rss_mb(pid))
        out["load_rounds"] = rounds
        out["load_used_end"] = int(r.info("memory")["used_memory"]) / 2**20
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{name}: {out}", file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--redis", default=shutil.which("redis-server"))
    ap.add_argument("--benchmark", default=shutil.which("redis-benchmark") or "redis-benchmark")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    results = {"fastredis": run("fastredis", [sys.executable, "-m", "fastredis"], args.connections,
                                args.clients, args.seconds, args.benchmark)}
    if args.redis:
        results["redis"] = run("redis", [args.redis], args.connections, args.clients, args.seconds, args.benchmark)
    print(f"| server | RSS / used_memory after 5,000 conns (MB) | after {args.connections:,} (MB) "
          f"| RSS per load round, {args.clients} clients (MB) |")
    print("|---|---|---|---|")
    for name, o in results.items():
        s, e, rounds = o["churn_start"], o["churn_end"], o["load_rounds"]
        print(f"| {name} | {s[0]:.1f} / {s[1]:.1f} | {e[0]:.1f} / {e[1]:.1f} | "  # type: ignore[index]
              + " ".join(f"{x:.0f}" for x in rounds) + " |")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
