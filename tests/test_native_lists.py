"""Native list handlers (LPUSH, RPUSH, LPOP, RPOP, LRANGE, LLEN in _native_lists.pxi).

Every sequence runs three times: on fastredis with natives active, on fastredis with
natives disabled (keyspace notifications on: the Python handlers answer) and on a real
redis-server, in RESP2 and RESP3.  The raw reply bytes must be identical, and so must the
INFO deltas the natives count themselves (keyspace_hits/misses, rdb_changes_since_last_save).
"""

from __future__ import annotations

import time

import pytest
import redis
from conftest import REDIS_SERVER, RawClient, ServerProcess, aof_commands, same_reply

from fastredis import _native

SLEEP = "__sleep__"
LONG_MIN, LONG_MAX = str(-2**63), str(2**63 - 1)


@pytest.fixture(scope="module")
def trio():
    """(natives active, natives disabled, real redis-server) ports."""
    fast = ServerProcess()
    slow = ServerProcess()
    assert redis.Redis(port=slow.port).config_set("notify-keyspace-events", "KEA")
    real = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no"])
    yield fast.port, slow.port, real.port
    for s in (fast, slow, real):
        s.stop()


def _info(c: RawClient) -> dict[str, int]:
    text = c.call("INFO", "all").split(b"\r\n", 1)[1].decode()
    fields = dict(ln.split(":", 1) for ln in text.splitlines() if ":" in ln)
    return {k: int(fields[k]) for k in ("keyspace_hits", "keyspace_misses", "rdb_changes_since_last_save")}


def _pack(cmd: tuple) -> bytes:
    parts = [b"*%d\r\n" % len(cmd)]
    for a in cmd:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


def _read_n(c: RawClient, n: int) -> bytes:
    """The raw bytes of exactly ``n`` replies."""
    reader = c._hiredis.Reader(notEnoughData=Ellipsis)
    raw = b""
    got = 0
    while got < n:
        chunk = c.sock.recv(65536)
        assert chunk, "connection closed"
        raw += chunk
        reader.feed(chunk)
        while got < n and reader.gets() is not Ellipsis:
            got += 1
    return raw


def run(port: int, resp: int, steps: list, pipeline: int = 1) -> tuple[list[bytes], dict[str, int]]:
    """Run ``steps`` (commands, or (SLEEP, seconds)) in db 9; replies and the INFO deltas."""
    c = RawClient(port, resp)
    try:
        c.call("SELECT", "9")
        c.call("FLUSHDB")
        before = _info(c)
        replies: list[bytes] = []
        batch: list[tuple] = []

        def flush() -> None:
            if batch:
                c.sock.sendall(b"".join(_pack(cmd) for cmd in batch))
                replies.append(_read_n(c, len(batch)))
                batch.clear()

        for step in steps:
            if step[0] == SLEEP:
                flush()
                time.sleep(step[1])
                continue
            batch.append(step)
            if len(batch) >= pipeline:
                flush()
        flush()
        after = _info(c)
        return replies, {k: after[k] - before[k] for k in after}
    finally:
        c.close()


def check(trio, steps: list, resp: int, pipeline: int = 1) -> None:
    results, longest = [], 0.0
    for port in trio:
        t0 = time.monotonic()
        results.append(run(port, resp, steps, pipeline))
        longest = max(longest, time.monotonic() - t0)
    fast, slow, real = results
    flat = [s for s in steps if s[0] != SLEEP]
    if pipeline == 1:
        # a positive TTL may differ by what the clock allows within the longest run (conftest.same_reply)
        since = time.monotonic() - longest
        assert len(fast[0]) == len(slow[0]) == len(real[0]) == len(flat)
        for cmd, a, b, r in zip(flat, fast[0], slow[0], real[0]):
            assert same_reply(cmd, a, r, since) and same_reply(cmd, b, r, since), \
                f"{cmd!r}: native {a!r}, python {b!r}, redis {r!r}"
    else:
        assert fast[0] == slow[0] == real[0]
    assert fast[1] == slow[1] == real[1], f"INFO deltas: native {fast[1]}, python {slow[1]}, redis {real[1]}"


def test_natives_are_built():
    assert _native.LISTS_NATIVE


BASIC = [
    ("LPUSH", "l", "a"), ("LPUSH", "l", "b", "c"), ("RPUSH", "l", "d"), ("RPUSH", "l", "e", "f", "g"),
    ("LLEN", "l"), ("LRANGE", "l", "0", "-1"), ("LPOP", "l"), ("RPOP", "l"), ("LRANGE", "l", "0", "-1"),
    ("LLEN", "nosuch"), ("LRANGE", "nosuch", "0", "-1"), ("LPOP", "nosuch"), ("RPOP", "nosuch"),
    ("RPUSH", "one", "x"), ("LPOP", "one"), ("EXISTS", "one"), ("LLEN", "one"), ("LPOP", "one"),
    ("LPUSH", "one", "y"), ("RPOP", "one"), ("EXISTS", "one"), ("TYPE", "one"),
    ("LPOP", "l"), ("LPOP", "l"), ("LPOP", "l"), ("RPOP", "l"), ("RPOP", "l"), ("RPOP", "l"),
    ("EXISTS", "l"), ("DBSIZE",),
]

COUNTS = [
    ("RPUSH", "k", "1", "2", "3", "4", "5", "6", "7"),
    ("LPOP", "k", "0"), ("RPOP", "k", "0"), ("LPOP", "k", "2"), ("RPOP", "k", "2"), ("LPOP", "k", "1"),
    ("LRANGE", "k", "0", "-1"), ("RPOP", "k", "10"), ("EXISTS", "k"),
    ("LPOP", "k", "3"), ("RPOP", "k", "0"), ("LPOP", "k", "-1"), ("LPOP", "k", "abc"), ("LPOP", "k", "1", "2"),
    ("RPUSH", "k", "a", "b"), ("LPOP", "k", "-1"), ("RPOP", "k", "01"), ("LPOP", "k", LONG_MAX),
    ("EXISTS", "k"), ("RPUSH", "k", "a", "b", "c"), ("LPOP", "k", "3"), ("EXISTS", "k"),
]

RANGES = [("RPUSH", "r") + tuple(str(i) for i in range(10))] + [
    ("LRANGE", "r", s, e) for s, e in [
        ("0", "0"), ("0", "-1"), ("-1", "-1"), ("-100", "100"), ("5", "2"), ("10", "20"), ("-3", "-1"),
        ("2", "-3"), ("9", "9"), ("3", "8"), ("6", "9"), ("7", "100"), ("-10", "-10"), ("-11", "-11"),
        ("0", "-11"), ("-11", "0"), (LONG_MIN, LONG_MAX), (LONG_MAX, LONG_MAX), (LONG_MIN, LONG_MIN),
        ("1", "8"), ("8", "1"), ("4", "5"), ("5", "5"), ("x", "1"), ("1", "y"), ("01", "2"), ("+1", "2"),
        ("1.5", "2"), ("", "1"), ("1", "9223372036854775808"),
    ]
] + [("LRANGE", "nosuch", "0", "-1"), ("LRANGE", "nosuch", "x", "1"), ("LRANGE", "r", "0")]

TTL = [
    ("RPUSH", "t", "a", "b", "c"), ("EXPIRE", "t", "1000"), ("LPUSH", "t", "x"), ("RPUSH", "t", "y"),
    ("RPOP", "t"), ("LPOP", "t", "1"), ("LLEN", "t"), ("LRANGE", "t", "0", "-1"), ("LPOP", "t", "0"),
    ("TTL", "t"), ("LPOP", "t", "5"), ("EXISTS", "t"), ("TTL", "t"),
    ("RPUSH", "t2", "a"), ("PEXPIRE", "t2", "100000"), ("RPOP", "t2"), ("EXISTS", "t2"),
    ("RPUSH", "e", "a", "b"), ("PEXPIRE", "e", "1"), (SLEEP, 0.05), ("LLEN", "e"), ("LRANGE", "e", "0", "-1"),
    ("RPUSH", "e2", "a"), ("PEXPIRE", "e2", "1"), (SLEEP, 0.05), ("LPOP", "e2"), ("RPOP", "e2", "2"),
    ("RPUSH", "e3", "a"), ("PEXPIRE", "e3", "1"), (SLEEP, 0.05), ("LPUSH", "e3", "z"), ("TTL", "e3"),
    ("LRANGE", "e3", "0", "-1"),
]

WRONGTYPE = [
    ("SET", "s", "v"), ("LPUSH", "s", "a"), ("RPUSH", "s", "a", "b"), ("LPOP", "s"), ("RPOP", "s"),
    ("LPOP", "s", "2"), ("LPOP", "s", "0"), ("LPOP", "s", "-1"), ("LLEN", "s"), ("LRANGE", "s", "0", "-1"),
    ("LRANGE", "s", "x", "1"), ("HSET", "h", "f", "v"), ("LLEN", "h"), ("RPOP", "h"), ("SADD", "st", "m"),
    ("LRANGE", "st", "5", "1"), ("ZADD", "z", "1", "m"), ("RPUSH", "z", "a"), ("GET", "s"),
]

BINARY = [
    ("RPUSH", b"k\x00\xff", b"", b"\x00", b"a\r\nb", bytes(range(256)), b"\xff" * 10000),
    ("LPUSH", b"k\x00\xff", b"$5\r\nhello", b"*1\r\n"), ("LRANGE", b"k\x00\xff", "0", "-1"),
    ("LRANGE", b"k\x00\xff", "-3", "-1"), ("LLEN", b"k\x00\xff"), ("LPOP", b"k\x00\xff", "3"),
    ("RPOP", b"k\x00\xff"), ("RPOP", b"k\x00\xff"), ("LPOP", b"k\x00\xff"), ("RPOP", b"k\x00\xff", "9"),
    ("EXISTS", b"k\x00\xff"), ("LPUSH", b"", b""), ("LRANGE", b"", "0", "0"), ("RPOP", b""), ("EXISTS", b""),
    # every short length (the copy of short elements has cases by size), then 99..101, 999..1001
    ("RPUSH", "sizes") + tuple(bytes(i % 256 for i in range(n)) for n in list(range(41)) + [99, 100, 101, 999, 1000, 1001]),
    ("LRANGE", "sizes", "0", "-1"), ("LRANGE", "sizes", "30", "-1"), ("LPOP", "sizes", "20"), ("RPOP", "sizes", "30"),
]

BIG = [
    ("RPUSH", "big") + tuple(f"v{i}" for i in range(300)),
    ("LPUSH", "big") + tuple(f"w{i}" * (i % 7) for i in range(200)),
    ("LLEN", "big"), ("LRANGE", "big", "0", "-1"), ("LRANGE", "big", "100", "250"), ("LRANGE", "big", "-50", "-1"),
    ("LRANGE", "big", "490", "499"), ("LRANGE", "big", "300", "320"), ("LRANGE", "big", "-300", "-200"),
    ("LRANGE", "big", "1", "-2"), ("LRANGE", "big", "250", "249"), ("LRANGE", "big", "249", "250"),
    ("LPOP", "big", "150"), ("RPOP", "big", "129"), ("LPOP", "big"), ("RPOP", "big"), ("LLEN", "big"),
    ("LRANGE", "big", "0", "-1"), ("RPOP", "big", "1000"), ("EXISTS", "big"), ("LLEN", "big"),
]

SEQUENCES = {"basic": BASIC, "counts": COUNTS, "ranges": RANGES, "ttl": TTL, "wrongtype": WRONGTYPE,
             "binary": BINARY, "big": BIG}


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_same_as_python_and_redis(trio, name, resp):
    check(trio, SEQUENCES[name], resp)


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_pipelined_by_16(trio, name, resp):
    check(trio, SEQUENCES[name], resp, pipeline=16)


@pytest.mark.parametrize("resp", [2, 3])
def test_mixed_pipeline_with_slow_commands(trio, resp):
    """Natives interleaved with Python-path commands (a TTL, a WATCH-free MULTI, OBJECT) in one batch."""
    steps = []
    for i in range(8):
        steps += [("RPUSH", "m", f"a{i}", f"b{i}"), ("LPUSH", "m", f"c{i}"), ("EXPIRE", "m2", "100"),
                  ("RPUSH", "m2", f"x{i}"), ("LRANGE", "m", "0", "3"), ("LLEN", "m2"), ("RPOP", "m"),
                  ("OBJECT", "ENCODING", "nosuch"), ("LPOP", "m2", "2"), ("MULTI",), ("LPUSH", "m", "q"),
                  ("EXEC",), ("LRANGE", "m", "-2", "-1"), ("LLEN", "m"), ("LPOP", "nosuch", "1"), ("RPOP", "m", "0")]
    check(trio, steps, resp, pipeline=16)


def test_watch_keeps_working(trio):
    """A WATCHed key in the db turns the native writes off: EXEC fails after a push from another client."""
    for port in trio:
        a, b = RawClient(port), RawClient(port)
        try:
            a.call("SELECT", "9")
            b.call("SELECT", "9")
            a.call("FLUSHDB")
            assert a.call("WATCH", "w") == b"+OK\r\n"
            assert b.call("RPUSH", "w", "x") == b":1\r\n"
            a.call("MULTI")
            a.call("LPOP", "w")
            assert a.call("EXEC") == b"*-1\r\n"
            assert a.call("WATCH", "w") == b"+OK\r\n"
            assert b.call("LPOP", "w") == b"$1\r\nx\r\n"
            a.call("MULTI")
            a.call("LLEN", "w")
            assert a.call("EXEC") == b"*-1\r\n"
        finally:
            a.close()
            b.close()


# ---------------------------------------------------------------------------
# propagation: a native write reaches the AOF and replicas
# ---------------------------------------------------------------------------

WRITES = [
    ("RPUSH", "p", "a", "b", "c", "d", "e"), ("LPUSH", "p", "z"), ("LPOP", "p"), ("RPOP", "p"),
    ("LPOP", "p", "2"), ("LPOP", "p", "0"), ("LPOP", "nosuch"), ("RPOP", "nosuch", "2"), ("LLEN", "p"),
    ("LRANGE", "p", "0", "-1"), ("RPOP", "p", "5"), ("RPUSH", "p", "x"), ("RPOP", "p"), ("LPOP", "p"),
]
# what changed the data set, propagated as sent (no-op pops and reads are not)
PROPAGATED = [
    ["RPUSH", "p", "a", "b", "c", "d", "e"], ["LPUSH", "p", "z"], ["LPOP", "p"], ["RPOP", "p"],
    ["LPOP", "p", "2"], ["RPOP", "p", "5"], ["RPUSH", "p", "x"], ["RPOP", "p"],
]


def test_native_writes_reach_the_aof(aof_server):
    c = RawClient(aof_server.port)
    try:
        c.call("SELECT", "3")
        c.call("FLUSHDB")
        before = len(aof_commands(aof_server))
        c.sock.sendall(b"".join(_pack(cmd) for cmd in WRITES))
        _read_n(c, len(WRITES))
        got = aof_commands(aof_server)[before:]
        assert got == [[a.encode() for a in cmd] for cmd in PROPAGATED]
    finally:
        c.close()


def test_native_writes_reach_a_replica():
    """The replica (fastredis: redis-server 7.0 cannot load a 7.2 RDB) ends up with the master's lists."""
    master = ServerProcess()
    replica = ServerProcess(args=["--replicaof", "127.0.0.1", str(master.port)])
    try:
        rep = redis.Redis(port=replica.port, protocol=2)
        deadline = time.time() + 20
        while rep.info("replication").get("master_link_status") != "up":
            assert time.time() < deadline, "replica did not connect"
            time.sleep(0.05)
        c = RawClient(master.port)
        try:
            for i in range(3):
                c.sock.sendall(b"".join(_pack(cmd) for cmd in WRITES + [("RPUSH", f"keep{i}", "v", str(i))]))
                _read_n(c, len(WRITES) + 1)
            c.call("RPUSH", "p", "last1", "last2", "last3")
            c.call("LPOP", "p")
            want = {k: redis.Redis(port=master.port).lrange(k, 0, -1) for k in ("p", "keep0", "keep1", "keep2")}
        finally:
            c.close()
        deadline = time.time() + 20
        while {k: rep.lrange(k, 0, -1) for k in want} != want:
            assert time.time() < deadline, f"replica has {[rep.lrange(k, 0, -1) for k in want]}, want {want}"
            time.sleep(0.05)
        assert want["p"] == [b"last2", b"last3"]
        assert rep.dbsize() == 4
    finally:
        replica.stop()
        master.stop()
