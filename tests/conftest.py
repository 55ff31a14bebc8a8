"""Test fixtures: start the real fastredis server (and a real redis-server) on free ports."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

# pytester runs the plugin's own tests; fastredis' plugin gives fastredis_factory to the example's
pytest_plugins = ["pytester", "fastredis.pytest_plugin"]

# every server the tests start checks, each batch, that the request loop's cached server state
# is current (a change that forgot ServerContext.state_changed() stops the server loudly)
os.environ.setdefault("FASTREDIS_CHECK_STATE", "1")

ROOT = Path(__file__).resolve().parent.parent
# servers started as `python -m fastredis` run this checkout's code, whatever is installed
os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
# data written by real Redis (RDB files with their JSON description), kept in the repository:
# `SHARED / "rdb"` and `RDB_FIXTURES` name the same folder
SHARED = ROOT / "tests" / "fixtures"
RDB_FIXTURES = SHARED / "rdb"
# every server's working directory lives under one folder removed when the test run ends
TMP_BASE = tempfile.mkdtemp(prefix="fastredis-tests-")
atexit.register(shutil.rmtree, TMP_BASE, True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                data = s.recv(64)
                if data.startswith((b"+PONG", b"-NOAUTH", b"-MASTERDOWN")):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


class ServerProcess:
    """A server subprocess on a free loopback port, with its own working directory."""

    def __init__(self, args: list[str] | None = None, cmd: list[str] | None = None,
                 cwd: str | None = None, port: int | None = None, wait: bool = True) -> None:
        self.port = port or free_port()
        self.dir = cwd or tempfile.mkdtemp(prefix="server-", dir=TMP_BASE)
        self.logfile = os.path.join(self.dir, "server.log")
        base = cmd or [sys.executable, "-m", "fastredis"]
        full = base + ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir] + (args or [])
        self.log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(full, cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            wait_for_port(self.port, self.proc)

    def client(self, **kw) -> redis.Redis:
        """A redis-py client; RESP2 unless ``protocol=3`` is passed (redis-py 8 defaults to 3)."""
        kw.setdefault("protocol", 2)
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10, **kw)

    def raw(self, timeout: float = 5.0) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s

    def log_text(self) -> str:
        with open(self.logfile, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        return self.proc.returncode


def recv_until(s: socket.socket, n_or_suffix, timeout: float = 5.0) -> bytes:
    """Read from a raw socket until ``n`` bytes or the given suffix arrive."""
    s.settimeout(timeout)
    buf = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if isinstance(n_or_suffix, int) and len(buf) >= n_or_suffix:
            break
        if isinstance(n_or_suffix, bytes) and buf.endswith(n_or_suffix):
            break
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        buf += chunk
    return buf


def raw_command(port: int, payload: bytes, expect: int | bytes | None = None, timeout: float = 2.0) -> bytes:
    """Send raw bytes on a fresh connection and return what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        if expect is None:
            s.settimeout(timeout)
            buf = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            except TimeoutError:
                pass
            return buf
        return recv_until(s, expect, timeout)


@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    """One fastredis server shared by a test session (tests flush what they use)."""
    srv = ServerProcess()
    yield srv
    srv.stop()


@pytest.fixture
def r(server: ServerProcess) -> Iterator[redis.Redis]:
    """A RESP2 redis-py client on a flushed server."""
    c = server.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def r3(server: ServerProcess) -> Iterator[redis.Redis]:
    """A RESP3 redis-py client (opens with HELLO 3) on a flushed server."""
    c = server.client(protocol=3)
    c.flushall()
    yield c
    c.close()


REDIS_SERVER = shutil.which("redis-server")


@pytest.fixture(scope="session")
def real_redis() -> Iterator[ServerProcess]:
    """A real redis-server for differential tests (installed by the test command)."""
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed: the test command installs it (apt-get install redis-server)")
    srv = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no"])
    yield srv
    srv.stop()


@pytest.fixture
def rr(real_redis: ServerProcess) -> Iterator[redis.Redis]:
    c = real_redis.client()
    c.flushall()
    yield c
    c.close()


def make_pair(real_redis: ServerProcess, server: ServerProcess):
    return real_redis.client(), server.client()


class RawClient:
    """Sends one command at a time and returns the exact reply bytes (framed with hiredis)."""

    def __init__(self, port: int, resp: int = 2, timeout: float = 5.0) -> None:
        import hiredis

        self._hiredis = hiredis
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if resp == 3:
            self.call("HELLO", "3")

    def send(self, *args) -> None:
        """Send one command without waiting for its reply."""
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, (int, float)):
                a = str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(parts))

    def call(self, *args) -> bytes:
        self.send(*args)
        return self.read_reply()

    def has_reply(self, wait: float = 0.2) -> bool:
        """Whether reply bytes arrive within ``wait`` seconds."""
        import select

        r, _, _ = select.select([self.sock], [], [], wait)
        return bool(r)

    def read_reply(self) -> bytes:
        reader = self._hiredis.Reader(notEnoughData=Ellipsis)
        raw = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            raw += chunk
            reader.feed(chunk)
            if reader.gets() is not Ellipsis:
                return raw

    def close(self) -> None:
        self.sock.close()


def _resp_int(reply: bytes) -> int | None:
    if reply[:1] == b":" and reply.endswith(b"\r\n"):
        try:
            return int(reply[1:-2])
        except ValueError:
            return None
    return None


def same_reply(cmd: tuple, ours: bytes, real: bytes, since: float) -> bool:
    """Whether ``ours`` answers ``cmd`` like ``real`` did: byte for byte, except a positive TTL/PTTL
    once the sequence (started at ``since``, a ``time.monotonic()``) has run long enough for the
    clock to matter.  TTL rounds (ms + 500) / 1000, so a key set with a whole number of seconds
    reads back exactly that number for the first 500 ms; after that the two servers may be on either
    side of a rounding edge, and each may have set the key at a different moment of the sequence."""
    if ours == real:
        return True
    name = cmd[0].upper() if cmd and isinstance(cmd[0], (str, bytes)) else None
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    if name not in ("TTL", "PTTL"):
        return False
    a, b = _resp_int(ours), _resp_int(real)
    if a is None or b is None or a < 0 or b < 0:
        return False
    elapsed = time.monotonic() - since
    if name == "TTL":
        slack = 0 if elapsed < 0.45 else int(elapsed) + 1
    else:
        slack = int(elapsed * 1000) + 1
    return abs(a - b) <= slack


def diff_replies(real_port: int, our_port: int, commands: list[tuple], resp: int = 2) -> None:
    """Run each command on real Redis and fastredis (fresh db 9) and assert identical reply bytes
    (positive TTLs of a slow run compared with the clock's slack, see ``same_reply``)."""
    a, b = RawClient(real_port, resp), RawClient(our_port, resp)
    try:
        for cl in (a, b):
            cl.call("SELECT", "9")
            cl.call("FLUSHDB")
        since = time.monotonic()
        for cmd in commands:
            ra, rb = a.call(*cmd), b.call(*cmd)
            assert same_reply(cmd, rb, ra, since), f"{cmd!r}: fastredis {rb!r} != redis {ra!r}"
    finally:
        a.close()
        b.close()


def err(fn, *args) -> str:
    """The text of the ResponseError a redis-py call raises."""
    with pytest.raises(redis.ResponseError) as e:
        fn(*args)
    return str(e.value)


@pytest.fixture
def raw2(server, r):
    """A raw RESP2 connection to the flushed shared server."""
    c = RawClient(server.port, 2)
    yield c
    c.close()


@pytest.fixture
def raw3(server, r):
    """A raw RESP3 connection to the flushed shared server."""
    c = RawClient(server.port, 3)
    yield c
    c.close()


@pytest.fixture(scope="module")
def aof_server():
    """A server logging every write to its AOF with appendfsync always (to read propagation back)."""
    srv = ServerProcess(args=["--appendonly", "yes", "--appendfsync", "always"])
    yield srv
    srv.stop()


def aof_commands(srv: ServerProcess) -> list[list[bytes]]:
    """The commands in the newest incremental AOF file, SELECTs left out."""
    import glob

    paths = sorted(glob.glob(os.path.join(srv.dir, "appendonlydir", "*.incr.aof")),
                   key=lambda p: int(p.rsplit(".", 3)[-3]))
    with open(paths[-1], "rb") as f:
        data = f.read()
    out: list[list[bytes]] = []
    pos = 0
    while pos < len(data):
        assert data[pos:pos + 1] == b"*", data[pos:]
        eol = data.index(b"\r\n", pos)
        n = int(data[pos + 1:eol])
        pos = eol + 2
        args = []
        for _ in range(n):
            eol = data.index(b"\r\n", pos)
            ln = int(data[pos + 1:eol])
            args.append(data[eol + 2:eol + 2 + ln])
            pos = eol + 2 + ln + 2
        out.append(args)
    return [c for c in out if c[0].upper() != b"SELECT"]


@pytest.fixture
def conns(server, r):
    """A factory of raw connections to the flushed shared server, closed afterwards."""
    made: list[RawClient] = []

    def make(resp: int = 2) -> RawClient:
        c = RawClient(server.port, resp)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def is_blocked(waiter: RawClient, actor: RawClient) -> bool:
    """Whether the server lists ``waiter``'s connection as blocked (CLIENT LIST flag ``b``), asked over ``actor``."""
    addr = b"addr=%s:%d " % (waiter.sock.getsockname()[0].encode(), waiter.sock.getsockname()[1])
    for line in actor.call("CLIENT", "LIST").split(b"\n"):
        if addr in line:
            return b"b" in line.split(b" flags=", 1)[1].split(b" ", 1)[0]
    return False


def block(waiter: RawClient, actor: RawClient, *cmd) -> None:
    """Send a blocking command and make sure the server has blocked it before ``actor`` acts
    (polls CLIENT LIST: on a loaded machine the server may take a while to read the command)."""
    waiter.send(*cmd)
    wait_until(lambda: is_blocked(waiter, actor), timeout=15, interval=0.005)
    assert actor.call("PING") == b"+PONG\r\n"
    assert not waiter.has_reply(0.05), "the command should be blocked"


def wait_until(pred, timeout: float = 15.0, interval: float = 0.05):
    """Poll ``pred`` until it returns something true (connection/response errors count as not yet)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except (redis.ConnectionError, redis.ResponseError):
            pass
        time.sleep(interval)
    raise AssertionError(f"condition not met in {timeout}s (last={last!r})")


def ttl_fits(got: int, ttl_ms: int, since: float, ms: bool = False) -> bool:
    """Whether TTL (or PTTL with ``ms``) may answer ``got`` for a key given ``ttl_ms`` milliseconds
    to live at some moment after ``since`` (a ``time.monotonic()`` taken before that command was
    sent): the remaining time shrinks by at most the time elapsed since, and TTL rounds
    (ms + 500) / 1000.  A fast run must answer the exact value; a slow one the clock allows."""
    elapsed_ms = int((time.monotonic() - since) * 1000) + 1
    lo = ttl_ms - elapsed_ms
    if ms:
        return lo <= got <= ttl_ms
    return (lo + 500) // 1000 <= got <= (ttl_ms + 500) // 1000


def wait_blocked_on(r: redis.Redis, cmd: str, n: int = 1) -> None:
    """Wait until ``n`` clients are blocked in ``cmd`` (CLIENT LIST: flag ``b``, ``cmd=<name>``), e.g.
    before acting on a blocking call made from another thread (a loaded machine may be slow to send it)."""
    wait_until(lambda: sum(1 for c in r.client_list() if "b" in c["flags"] and c["cmd"] == cmd) >= n,
               interval=0.01)


def within(limit: float, fn, tries: int = 10):
    """Run ``fn()`` until one run completes within ``limit`` seconds and return its result: for a
    check that holds only if its commands run before a short TTL runs out, which a loaded machine
    misses now and then (the key must be set up afresh by ``fn`` on each try)."""
    for _ in range(tries):
        t0 = time.monotonic()
        out = fn()
        if time.monotonic() - t0 < limit:
            return out
    raise AssertionError(f"no try ran within {limit}s in {tries} tries")
