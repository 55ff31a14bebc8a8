"""docs/deployment.md, recipe by recipe: its files and commands run as written, on free ports.

Each ``<!-- file: PATH -->`` block is written to PATH and each ``<!-- run: NAME -->`` block runs
in bash, after moving the recipe's ports to free ones and ``/var/lib/fastredis`` (and ``/etc``) to
a temporary folder, and ``fastredis-server`` to this checkout's server. Then the test checks what
the recipe promises, with real redis-sentinel, nutcracker (twemproxy) and redis-benchmark.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from conftest import ROOT, TMP_BASE, free_port, wait_until
from redis.sentinel import Sentinel

DOC = ROOT / "docs" / "deployment.md"
PORTS = (6379, 6380, 6381, 26379, 26380, 26381, 22121, 22222)
BLOCK = re.compile(r"<!-- (file|run): (\S+) -->\n```[\w-]*\n(.*?)```", re.S)


def doc_blocks() -> tuple[dict[str, str], dict[str, str]]:
    files: dict[str, str] = {}
    runs: dict[str, str] = {}
    for kind, name, body in BLOCK.findall(DOC.read_text()):
        (files if kind == "file" else runs)[name] = body
    return files, runs


class Deployment:
    """The recipes' world moved to a temporary folder and free ports; kills what it started."""

    def __init__(self) -> None:
        self.base = tempfile.mkdtemp(prefix="deploy-", dir=TMP_BASE)
        self.ports = {p: free_port() for p in PORTS}
        self.files, self.runs = doc_blocks()
        self.extra_pids: list[int] = []

    def sub(self, text: str) -> str:
        text = text.replace("/var/lib/fastredis", self.base + "/var").replace("/etc/", self.base + "/etc/")
        text = re.sub(r"\b(%s)\b" % "|".join(map(str, PORTS)), lambda m: str(self.ports[int(m.group(1))]), text)
        return text.replace("fastredis-server", f"{sys.executable} -m fastredis")

    def port(self, doc_port: int) -> int:
        return self.ports[doc_port]

    def path(self, doc_path: str) -> str:
        return self.sub(doc_path)

    def write(self, doc_path: str) -> str:
        path = self.path(doc_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(self.sub(self.files[doc_path]))
        return path

    def run(self, name: str, timeout: float = 60) -> str:
        script = self.sub(self.runs[name])
        proc = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, timeout=timeout,
                              cwd=self.base)
        assert proc.returncode == 0, f"recipe {name!r} failed:\n{script}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def pid(self, doc_pidfile: str) -> int:
        with open(self.path(doc_pidfile)) as f:
            return int(f.read())

    def client(self, doc_port: int, **kw) -> redis.Redis:
        return redis.Redis(port=self.port(doc_port), protocol=2, socket_timeout=10, **kw)

    def cleanup(self) -> None:
        pids = list(self.extra_pids)
        for pidfile in glob.glob(self.base + "/**/*.pid", recursive=True):
            try:
                with open(pidfile) as f:
                    pids.append(int(f.read()))
            except (OSError, ValueError):
                pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if os.environ.get("KEEP_DEPLOY"):
            shutil.copytree(self.base, "/tmp/deploy-kept-%d" % time.time(), ignore=shutil.ignore_patterns("*.sock"))
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def deploy() -> Iterator[Deployment]:
    d = Deployment()
    d.run("mkdirs")
    try:
        yield d
    finally:
        d.cleanup()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a daemon we started and killed may be our zombie (its parent exited, init reaped... or us)
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"


def wait_dead(pid: int, timeout: float = 15) -> None:
    wait_until(lambda: not alive(pid), timeout=timeout)


def start_node(d: Deployment, port: int) -> None:
    conf = d.path(f"/var/lib/fastredis/{port}/fastredis.conf")
    subprocess.run([sys.executable, "-m", "fastredis", conf], check=True, timeout=60, cwd=d.base)


def test_single_node_rdb_aof_daemonize_pidfile(deploy: Deployment) -> None:
    d = deploy
    d.write("/var/lib/fastredis/6379/fastredis.conf")
    out = d.run("single")
    assert out.splitlines()[0] == "OK"  # daemonize returned once the server was ready
    pid = d.pid("/var/lib/fastredis/6379/fastredis.pid")
    c = d.client(6379)
    assert c.info("server")["process_id"] == pid
    assert os.getsid(pid) == pid  # its own session, detached from the starting shell
    wait_until(lambda: os.path.exists(d.path("/var/lib/fastredis/6379/dump.rdb")))
    assert os.path.isdir(d.path("/var/lib/fastredis/6379/appendonlydir"))
    # SIGTERM (kill $(cat pidfile)) saves, stops and removes the pid file
    c.rpush("list", *range(100))
    os.kill(pid, signal.SIGTERM)
    wait_dead(pid)
    assert not os.path.exists(d.path("/var/lib/fastredis/6379/fastredis.pid"))
    start_node(d, 6379)
    c = d.client(6379)
    assert c.get("greeting") == b"hello" and c.llen("list") == 100
    # kill -9 after the everysec fsync: the AOF brings the writes back
    c.set("after", "restart")
    time.sleep(1.5)
    pid = d.pid("/var/lib/fastredis/6379/fastredis.pid")
    os.kill(pid, signal.SIGKILL)
    wait_dead(pid)
    os.unlink(d.path("/var/lib/fastredis/6379/fastredis.pid"))
    start_node(d, 6379)
    assert d.client(6379).get("after") == b"restart"
    log = Path(d.path("/var/lib/fastredis/6379/fastredis.log")).read_text()
    assert "DB loaded from append only file" in log
    # a second start on a busy port fails and says so (exit 1), leaving the first one alone
    clash = subprocess.run([sys.executable, "-m", "fastredis", "--port", str(d.port(6379)), "--bind", "127.0.0.1",
                            "--daemonize", "yes", "--pidfile", d.base + "/clash.pid", "--logfile",
                            d.base + "/clash.log", "--save", ""], timeout=60)
    assert clash.returncode == 1
    assert not os.path.exists(d.base + "/clash.pid")
    assert d.client(6379).ping()


def test_replica(deploy: Deployment) -> None:
    d = deploy
    d.write("/var/lib/fastredis/6379/fastredis.conf")
    d.write("/var/lib/fastredis/6380/fastredis.conf")
    d.run("single")
    out = d.run("replica").splitlines()
    assert out[-2:] == ["1", "42"]  # WAIT counted the replica; the replica has the write
    r = d.client(6380)
    assert r.get("greeting") == b"hello"
    with pytest.raises(redis.ReadOnlyError):
        r.set("x", "1")
    assert r.info("replication")["role"] == "slave"


def sentinel_info(d: Deployment, port: int) -> dict:
    flat = redis.Redis(port=d.port(port), protocol=2, decode_responses=True, socket_timeout=5).execute_command(
        "SENTINEL", "MASTER", "mymaster")
    return dict(zip(flat[::2], flat[1::2])) if isinstance(flat, list) else flat


def master_addr(d: Deployment, port: int = 26379) -> tuple[str, int] | None:
    s = redis.Redis(port=d.port(port), protocol=2, decode_responses=True, socket_timeout=5)
    addr = s.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
    return None if addr is None else (addr[0], int(addr[1]))


def test_sentinel_failover(deploy: Deployment) -> None:
    d = deploy
    if shutil.which("redis-sentinel") is None:
        pytest.fail("redis-sentinel is not installed (Debian package redis-sentinel, see the README)")
    for port in (6379, 6380, 6381):
        d.write(f"/var/lib/fastredis/{port}/fastredis.conf")
    for port in (26379, 26380, 26381):
        d.write(f"/var/lib/fastredis/sentinel/{port}.conf")
    d.run("single")
    d.run("replica")
    out = d.run("sentinel").split()
    assert out[-2:] == ["127.0.0.1", str(d.port(6379))]
    m = d.client(6379)
    wait_until(lambda: m.info("replication")["connected_slaves"] == 2)
    # the sentinels find the replicas and each other
    for sp in (26379, 26380, 26381):
        wait_until(lambda sp=sp: int(sentinel_info(d, sp)["num-slaves"]) == 2
                   and int(sentinel_info(d, sp)["num-other-sentinels"]) == 2, timeout=30)
    sentinel = Sentinel([("127.0.0.1", d.port(p)) for p in (26379, 26380, 26381)], socket_timeout=2,
                        sentinel_kwargs={"protocol": 2})
    master = sentinel.master_for("mymaster", socket_timeout=10, protocol=2)
    for i in range(200):
        master.set(f"acked:{i}", i)
    assert master.execute_command("WAIT", 2, 5000) == 2  # acknowledged by both replicas
    # kill -9 the master: 6380 is promoted, never 6381 (replica-priority 0)
    old_pid = d.pid("/var/lib/fastredis/6379/fastredis.pid")
    os.kill(old_pid, signal.SIGKILL)
    t0 = time.time()
    wait_dead(old_pid)
    os.unlink(d.path("/var/lib/fastredis/6379/fastredis.pid"))
    wait_until(lambda: master_addr(d) == ("127.0.0.1", d.port(6380)), timeout=30)
    failover_s = time.time() - t0
    new = d.client(6380)
    wait_until(lambda: new.info("replication")["role"] == "master")
    assert all(new.get(f"acked:{i}") == str(i).encode() for i in range(200))
    # the other replica follows the new master; master_for() follows too
    r2 = d.client(6381)
    wait_until(lambda: r2.info("replication").get("master_port") == d.port(6380)
               and r2.info("replication").get("master_link_status") == "up", timeout=30)
    wait_until(lambda: master.set("after-failover", "yes"), timeout=15)
    assert new.get("after-failover") == b"yes"
    assert master.connection_pool.get_master_address() == ("127.0.0.1", d.port(6380))
    # the old master restarted as it was: the sentinels make it a replica of the new one
    start_node(d, 6379)
    old = d.client(6379)
    wait_until(lambda: old.info("replication")["role"] == "slave"
               and old.info("replication")["master_port"] == d.port(6380)
               and old.info("replication")["master_link_status"] == "up", timeout=40)
    wait_until(lambda: old.get("after-failover") == b"yes")
    # a forced failover: the only eligible replica is the old master (6381 has priority 0)
    s = redis.Redis(port=d.port(26379), protocol=2, socket_timeout=5)
    wait_until(lambda: s.execute_command("SENTINEL", "FAILOVER", "mymaster") in (b"OK", True), timeout=20)
    wait_until(lambda: master_addr(d) == ("127.0.0.1", d.port(6379)), timeout=30)
    wait_until(lambda: old.info("replication")["role"] == "master")
    # once 6380 is told to replicate 6379 (a write in between would be lost with its old role)
    wait_until(lambda: new.info("replication")["role"] == "slave", timeout=20)
    wait_until(lambda: master.set("after-forced", "yes"), timeout=15)
    assert old.get("after-forced") == b"yes"
    # 6381 was never promoted
    assert r2.info("replication")["role"] == "slave"
    logs = "".join(Path(p).read_text() for p in glob.glob(d.path("/var/lib/fastredis/sentinel/*.log")))
    assert f"+promoted-slave slave 127.0.0.1:{d.port(6381)}" not in logs
    assert "+switch-master mymaster" in logs
    assert failover_s < 20


def test_twemproxy_sharding(deploy: Deployment) -> None:
    d = deploy
    if shutil.which("nutcracker") is None:
        pytest.fail("nutcracker is not installed (Debian package nutcracker, see the README)")
    d.write("/var/lib/fastredis/nutcracker.yml")
    out = d.run("shards")
    assert out.splitlines()[-1] == "OK"
    nodes = [d.client(p) for p in (6379, 6380, 6381)]
    # redis-py sends CLIENT SETINFO on connect unless told not to; twemproxy closes on CLIENT
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # redis-py 7 prefers driver_info=...
        proxy = redis.Redis(port=d.port(22121), protocol=2, socket_timeout=10, lib_name=None, lib_version=None)
    keys = [f"key:{i}" for i in range(300)]
    assert proxy.mset({k: f"v{i}" for i, k in enumerate(keys)}) is True
    counts = [n.dbsize() for n in nodes]
    assert sum(counts) == 301 and all(c > 40 for c in counts), counts  # spread over the three (+ user:1)
    assert proxy.mget(keys + ["missing"]) == [f"v{i}".encode() for i in range(300)] + [None]
    # every key is on exactly one node, where the proxy reads it from
    for i, k in enumerate(keys[:30]):
        assert [n.get(k) for n in nodes].count(f"v{i}".encode()) == 1
    assert proxy.delete(*keys[:100], "missing") == 100
    assert sum(n.dbsize() for n in nodes) == 201  # (EXISTS with several keys is not split by twemproxy)
    pipe = proxy.pipeline(transaction=False)
    for i in range(500):
        pipe.incr(f"counter:{i % 50}")
    pipe.get("user:1")
    replies = pipe.execute()
    assert replies[-1] == b"alice" and replies[-2] == 10 and replies[:50] == [1] * 50
    bench = subprocess.run(["redis-benchmark", "-p", str(d.port(22121)), "-n", "2000", "-c", "10", "-q",
                            "-t", "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,mset"],
                           capture_output=True, text=True, timeout=120)
    assert bench.returncode == 0, bench.stderr
    lines = [x for x in bench.stdout.replace("\r", "\n").splitlines() if "requests per second" in x]
    assert len(lines) == 11, bench.stdout
    assert "error" not in (bench.stdout + bench.stderr).lower(), bench.stdout + bench.stderr
    stats = [n.info("stats")["total_error_replies"] for n in nodes]
    assert stats == [0, 0, 0]


def test_systemd_notify_and_unit_file(deploy: Deployment, tmp_path: Path) -> None:
    """supervised systemd: READY=1 (with STATUS) on a NOTIFY_SOCKET datagram socket the test owns."""
    d = deploy
    unit = (ROOT / "docs" / "fastredis.service").read_text()
    assert unit == d.files["/etc/systemd/system/fastredis.service"]  # the doc shows the shipped file
    service = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert service["Type"] == "notify"
    assert "--supervised systemd" in service["ExecStart"] and "--daemonize no" in service["ExecStart"]
    notify_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    sock.settimeout(30)
    port = free_port()
    conf = tmp_path / "fastredis.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\nsave \"\"\n")
    # the unit's ExecStart, with this checkout's server
    cmd = service["ExecStart"].replace("/usr/local/bin/fastredis-server", f"{sys.executable} -m fastredis") \
        .replace("/etc/fastredis/fastredis.conf", str(conf)).split()
    proc = subprocess.Popen(cmd, env=dict(os.environ, NOTIFY_SOCKET=notify_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        messages = []
        while b"READY=1\n" not in messages:
            messages.append(sock.recv(4096))
        assert messages == [b"STATUS=Redis is loading...\n", b"STATUS=Ready to accept connections\n", b"READY=1\n"]
        assert redis.Redis(port=port).ping()  # ready means ready
        proc.send_signal(signal.SIGTERM)  # ExecStop
        assert sock.recv(4096) == b"STOPPING=1\n"
        assert proc.wait(15) == 0
    finally:
        proc.kill()
        out = proc.communicate()[0].decode()
        sock.close()
    assert "Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and " \
           "TimeoutStopSec in your service unit." in out
    # supervised auto picks systemd from NOTIFY_SOCKET; without it, systemd mode says why and runs on
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path + "2")
    sock.settimeout(30)
    proc = subprocess.Popen([sys.executable, "-m", "fastredis", str(conf), "--supervised", "auto"],
                            env=dict(os.environ, NOTIFY_SOCKET=notify_path + "2"), stdout=subprocess.DEVNULL)
    try:
        while sock.recv(4096) != b"READY=1\n":
            pass
    finally:
        proc.terminate()
        proc.wait(15)
        sock.close()
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    proc = subprocess.Popen([sys.executable, "-m", "fastredis", str(conf), "--supervised", "systemd"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: redis.Redis(port=port).ping())
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0].decode()
    assert "systemd supervision error: NOTIFY_SOCKET not found!" in out


def test_supervised_upstart_stops_itself_when_ready(tmp_path: Path) -> None:
    """upstart's 'expect stop': the server raises SIGSTOP once it accepts connections."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fastredis", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--dir", str(tmp_path), "--supervised", "upstart"],
                            env=dict(os.environ, UPSTART_JOB="fastredis"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGSTOP
        os.kill(proc.pid, signal.SIGCONT)
        assert redis.Redis(port=port, protocol=2, socket_timeout=10).ping()
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0].decode()
    assert "supervised by upstart, will stop to signal readiness." in out
