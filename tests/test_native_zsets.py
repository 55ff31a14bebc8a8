"""The native sorted-set handlers (_native_zsets.pxi: ZADD, ZPOPMIN, ZSCORE, ZCARD) against the Python
handlers and against redis-server.

Every script runs on three servers: fastredis with natives active, fastredis with keyspace
notifications on (which turns the natives off, so commands/zsets.py answers), and redis-server.
The two fastredis runs must agree byte for byte, and so must redis-server except for the way
Redis 7.0 prints non-integral doubles (%.17g, where 7.2 and fastredis print the shortest form):
there replies are compared with doubles parsed.  The keyspace hits/misses and dirty-counter deltas
of the three runs must be equal too, and the AOF of a native run must hold what the Python path logs.
"""

from __future__ import annotations

import random
import time

import pytest
from conftest import RawClient, ServerProcess, aof_commands

SLEEP = "SLEEP"


@pytest.fixture(scope="module")
def servers(real_redis):
    native = ServerProcess()
    python = ServerProcess()
    for srv, events in ((native, ""), (python, "KEA")):
        c = srv.client()
        c.config_set("notify-keyspace-events", events)
        c.close()
    yield {"native": native, "python": python, "redis": real_redis}
    native.stop()
    python.stop()


def _payload(cmds: list[tuple]) -> bytes:
    parts = []
    for args in cmds:
        parts.append(b"*%d\r\n" % len(args))
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


def _read_n(c: RawClient, n: int) -> tuple[bytes, list]:
    """Exactly ``n`` replies: their raw bytes and their parsed values."""
    reader = c._hiredis.Reader(notEnoughData=Ellipsis)
    raw = b""
    parsed: list = []
    while len(parsed) < n:
        chunk = c.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        raw += chunk
        reader.feed(chunk)
        while len(parsed) < n:
            v = reader.gets()
            if v is Ellipsis:
                break
            parsed.append(v)
    return raw, parsed


def _stats(srv: ServerProcess) -> tuple[int, int, int]:
    c = srv.client()
    try:
        s, p = c.info("stats"), c.info("persistence")
        return s["keyspace_hits"], s["keyspace_misses"], p["rdb_changes_since_last_save"]
    finally:
        c.close()


def run_script(srv: ServerProcess, script: list, resp: int) -> tuple[list, list, tuple[int, ...]]:
    """Run ``script`` (commands, ``[pipeline of commands]`` or ``(SLEEP, s)``) on a flushed db 9:
    raw replies, parsed replies, (hits, misses, dirty) deltas."""
    c = RawClient(srv.port, resp)
    try:
        c.call("SELECT", "9")
        c.call("FLUSHDB")
        before = _stats(srv)
        raws: list = []
        parsed: list = []
        for item in script:
            if isinstance(item, tuple) and item[0] == SLEEP:
                time.sleep(item[1])
                continue
            cmds = item if isinstance(item, list) else [item]
            c.sock.sendall(_payload(cmds))
            raw, vals = _read_n(c, len(cmds))
            raws.append(raw)
            parsed.append(vals)
        after = _stats(srv)
    finally:
        c.close()
    return raws, parsed, tuple(a - b for a, b in zip(after, before))


def _floats(v):
    """Parsed reply with every double (RESP3) or double-looking bulk string (RESP2) as a float."""
    if isinstance(v, list):
        return [_floats(x) for x in v]
    if isinstance(v, bytes):
        try:
            return float(v)
        except ValueError:
            return v
    if isinstance(v, Exception):
        return ("error", str(v))
    return v


def check(servers, script: list, resp: int) -> None:
    raw_n, parsed_n, stats_n = run_script(servers["native"], script, resp)
    raw_p, _parsed_p, stats_p = run_script(servers["python"], script, resp)
    raw_r, parsed_r, stats_r = run_script(servers["redis"], script, resp)
    for i, item in enumerate(x for x in script if not (isinstance(x, tuple) and x[0] == SLEEP)):
        assert raw_n[i] == raw_p[i], f"{item!r}: native {raw_n[i]!r} != python {raw_p[i]!r}"
        if raw_n[i] != raw_r[i]:
            # Redis 7.0 prints non-integral doubles with %.17g
            assert _floats(parsed_n[i]) == _floats(parsed_r[i]), \
                f"{item!r}: fastredis {raw_n[i]!r} != redis {raw_r[i]!r}"
    assert stats_n == stats_p, f"hits/misses/dirty: native {stats_n} != python {stats_p}"
    assert stats_n == stats_r, f"hits/misses/dirty: fastredis {stats_n} != redis {stats_r}"


BASIC = [
    ("ZCARD", "z"), ("ZSCORE", "z", "a"), ("ZPOPMIN", "z"),
    ("ZADD", "z", "1", "a"),
    ("ZADD", "z", "1", "a"),          # same score: no change, not dirty
    ("ZADD", "z", "1.0", "a"),
    ("ZADD", "z", "2", "a"),          # update
    ("ZADD", "z", "3.0", "b", "0.1", "c", "1e300", "d", "-0", "e"),
    ("ZADD", "z", "-0", "a"),         # a listpack stores -0 as 0
    ("ZSCORE", "z", "a"), ("ZSCORE", "z", "b"), ("ZSCORE", "z", "c"), ("ZSCORE", "z", "d"),
    ("ZSCORE", "z", "e"), ("ZSCORE", "z", "nope"),
    ("ZADD", "z", "0", "e"), ("ZADD", "z", "-0", "e"),
    ("ZADD", "z", "1", "x", "2", "x"),  # the same member twice in one command
    ("ZSCORE", "z", "x"),
    ("ZADD", "z", "+5", "f", ".5", "g", "5.", "h", "00012", "i", "-1.5e+3", "j", "1E2", "k", "-1e-300", "l"),
    ("ZADD", "z", "0.1", "c", "0.10", "c", "0.2", "c"),
    ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ("ZCARD", "z"), ("OBJECT", "ENCODING", "z"),
    ("ZPOPMIN", "z"), ("ZPOPMIN", "z"), ("ZPOPMIN", "z"), ("ZPOPMIN", "z"),
    ("ZADD", "one", "7", "m"), ("ZPOPMIN", "one"),  # the emptied key goes
    ("EXISTS", "one"), ("ZCARD", "one"), ("ZPOPMIN", "one"), ("TYPE", "one"),
    ("ZADD", "one", "1", "m", "2", "n"), ("ZPOPMIN", "one"), ("ZPOPMIN", "one"), ("EXISTS", "one"),
]

FALLBACKS = [
    ("SET", "s", "v"), ("ZADD", "s", "1", "a"), ("ZPOPMIN", "s"), ("ZSCORE", "s", "a"), ("ZCARD", "s"),
    ("RPUSH", "l", "a"), ("ZADD", "l", "1", "a"), ("ZPOPMIN", "l"), ("ZSCORE", "l", "a"), ("ZCARD", "l"),
    ("HSET", "h", "f", "v"), ("ZSCORE", "h", "f"),
    ("ZADD", "z", "NX", "1", "a"), ("ZADD", "z", "XX", "2", "a"), ("ZADD", "z", "CH", "3", "a"),
    ("ZADD", "z", "INCR", "1", "a"), ("ZADD", "z", "GT", "5", "a"), ("ZADD", "z", "LT", "1", "a"),
    ("ZADD", "z", "nx", "1", "b", "2", "c"), ("ZADD", "z", "xx", "ch", "9", "b", "9", "q"),
    ("ZADD", "z", "1", "a", "2"), ("ZADD", "z", "e", "a"),
    ("ZADD", "z", "inf", "pinf"), ("ZADD", "z", "-inf", "ninf"), ("ZADD", "z", "+inf", "pinf2"),
    ("ZADD", "z", "-Infinity", "ninf2"),
    ("ZADD", "z", "nan", "n"), ("ZADD", "z", "1e400", "n"), ("ZADD", "z", "-1e400", "n"),
    ("ZADD", "z", "1e-400", "n"), ("ZADD", "z", "4.9e-324", "sub"), ("ZADD", "z", "2e-310", "sub2"),
    ("ZADD", "z", "0e-400", "zero"),
    ("ZADD", "z", "0x10", "hex"), ("ZADD", "z", "0x1p-2", "hex2"),
    ("ZADD", "z", " 1", "n"), ("ZADD", "z", "1 ", "n"), ("ZADD", "z", "", "n"), ("ZADD", "z", "abc", "n"),
    ("ZADD", "z", "1e", "n"), ("ZADD", "z", "1.5.5", "n"), ("ZADD", "z", "--1", "n"), ("ZADD", "z", ".", "n"),
    ("ZADD", "z", "1\x002", "n"), ("ZADD", "z", "3", "ok", "x", "bad"),  # nothing added before the bad score
    ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ("ZSCORE", "z", "pinf"), ("ZSCORE", "z", "ninf"), ("ZSCORE", "z", "sub"), ("ZSCORE", "z", "hex2"),
    ("ZPOPMIN", "z", "1"), ("ZPOPMIN", "z", "0"), ("ZPOPMIN", "z", "-1"), ("ZPOPMIN", "z", "x"),
    ("ZPOPMIN", "z", "1", "2"), ("ZPOPMIN", "z", "100"), ("EXISTS", "z"),
]

TTL = [
    ("ZADD", "t", "1", "a", "2", "b"), ("PEXPIRE", "t", "100000"),
    ("ZADD", "t", "3", "c"), ("ZADD", "t", "3", "c"), ("ZSCORE", "t", "a"), ("ZSCORE", "t", "zz"),
    ("ZCARD", "t"), ("ZPOPMIN", "t"), ("ZPOPMIN", "t"), ("ZPOPMIN", "t"), ("EXISTS", "t"),
    ("ZADD", "e", "1", "a"), ("PEXPIRE", "e", "1"), (SLEEP, 0.02),
    ("ZCARD", "e"), ("ZSCORE", "e", "a"), ("ZPOPMIN", "e"),
    ("ZADD", "e2", "1", "a"), ("PEXPIRE", "e2", "1"), (SLEEP, 0.02), ("ZADD", "e2", "5", "b"),
    ("ZRANGE", "e2", "0", "-1", "WITHSCORES"), ("PTTL", "e2"),
    ("ZADD", "e3", "1", "a", "2", "b"), ("PEXPIRE", "e3", "1"), (SLEEP, 0.02), ("ZPOPMIN", "e3"),
    ("EXISTS", "e3"),
    ("ZADD", "p", "1", "a"), ("EXPIRE", "p", "100"), ("PERSIST", "p"), ("ZADD", "p", "2", "b"),
    ("ZPOPMIN", "p"), ("ZCARD", "p"),
]

WATCH = [
    ("ZADD", "w", "1", "a"), ("WATCH", "w"), ("ZADD", "w", "2", "a"), ("MULTI"), ("ZCARD", "w"), ("EXEC",),
    ("WATCH", "w"), ("ZPOPMIN", "w"), ("MULTI",), ("ZCARD", "w"), ("EXEC",),
    ("ZADD", "w", "1", "a"), ("WATCH", "other"), ("ZADD", "w", "2", "b"), ("ZPOPMIN", "w"), ("MULTI",),
    ("ZCARD", "w"), ("EXEC",),
    ("MULTI",), ("ZADD", "w", "5", "c"), ("ZPOPMIN", "w"), ("ZSCORE", "w", "c"), ("EXEC",),
]
WATCH = [c if isinstance(c, tuple) else (c,) for c in WATCH]


def _big_script() -> list:
    rnd = random.Random(7)
    out: list = [("ZADD", "big", "1", "m0")]
    for i in range(1, 135):
        out.append(("ZADD", "big", str(rnd.choice([rnd.randrange(-50, 50), rnd.randrange(0, 8) / 4])),
                    "m%d" % rnd.randrange(0, 160)))
        if i % 20 == 0:
            out.append(("OBJECT", "ENCODING", "big"))
    out += [
        ("ZCARD", "big"), ("OBJECT", "ENCODING", "big"),
        ("ZADD", "big", "-0", "neg"), ("ZSCORE", "big", "neg"),  # a skiplist keeps -0
        ("ZADD", "big", "0", "neg"), ("ZADD", "big", "-0", "neg2"), ("ZPOPMIN", "big"),
        ("ZADD", "long", "1", "a" * 64), ("OBJECT", "ENCODING", "long"),
        ("ZADD", "long", "1", "b" * 65), ("OBJECT", "ENCODING", "long"),
        ("ZADD", "long2", "1", "c" * 65, "2", "d"), ("OBJECT", "ENCODING", "long2"),
        ("ZADD", "long3", "1", "c", "2", "d" * 65), ("OBJECT", "ENCODING", "long3"),
        ("ZRANGE", "big", "0", "-1", "WITHSCORES"),
    ]
    out += [("ZPOPMIN", "big")] * 140
    out += [("EXISTS", "big"), ("ZCARD", "big")]
    return out


def _pipeline_script() -> list:
    rnd = random.Random(11)
    out: list = []
    for _ in range(12):
        batch = []
        for _ in range(16):
            k = rnd.choice(["p1", "p2", "str"])
            op = rnd.random()
            if op < 0.45:
                batch.append(("ZADD", k, rnd.choice(["1", "2.5", "-0", "0.1", "1e300", "3.0", "x"]),
                              "m%d" % rnd.randrange(8)))
            elif op < 0.65:
                batch.append(("ZPOPMIN", k))
            elif op < 0.8:
                batch.append(("ZSCORE", k, "m%d" % rnd.randrange(8)))
            elif op < 0.92:
                batch.append(("ZCARD", k))
            else:
                batch.append(("SET", "str", "v"))
        out.append(batch)
    return out


CONFIG = [
    ("CONFIG", "SET", "zset-max-listpack-entries", "2"),
    ("ZADD", "c", "1", "a", "2", "b"), ("OBJECT", "ENCODING", "c"),
    ("ZADD", "c", "3", "c"), ("OBJECT", "ENCODING", "c"),
    ("ZADD", "c2", "1", "a", "2", "b", "3", "c"), ("OBJECT", "ENCODING", "c2"),
    ("CONFIG", "SET", "zset-max-listpack-entries", "0"),
    ("ZADD", "c3", "-0", "a"), ("OBJECT", "ENCODING", "c3"), ("ZSCORE", "c3", "a"),
    ("CONFIG", "SET", "zset-max-listpack-entries", "128"),
    ("CONFIG", "SET", "zset-max-listpack-value", "3"),
    ("ZADD", "c4", "1", "abc"), ("OBJECT", "ENCODING", "c4"), ("ZADD", "c4", "1", "abcd"),
    ("OBJECT", "ENCODING", "c4"), ("ZADD", "c5", "1", "abcd"), ("OBJECT", "ENCODING", "c5"),
    ("CONFIG", "SET", "zset-max-listpack-value", "64"),
]

SCRIPTS = {"basic": BASIC, "fallbacks": FALLBACKS, "ttl": TTL, "watch": WATCH, "big": _big_script(),
           "pipeline": _pipeline_script(), "config": CONFIG}


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_native_zsets_match_python_and_redis(servers, name, resp):
    check(servers, SCRIPTS[name], resp)


def test_benchmark_shapes_pipelined(servers):
    """redis-benchmark's zadd/zpopmin shapes, 16 to a batch, random members included."""
    rnd = random.Random(3)
    script: list = []
    for _ in range(8):
        script.append([("ZADD", "myzset", "0", "element:__rand_int__")] * 16)
        script.append([("ZADD", "myzset", str(rnd.randrange(1000)), "element:%d" % rnd.randrange(300))
                       for _ in range(16)])
    for _ in range(10):
        script.append([("ZPOPMIN", "myzset")] * 16)
    for resp in (2, 3):
        check(servers, script, resp)


AOF_SCRIPT = [
    ("ZADD", "a", "1", "x"), ("ZADD", "a", "1", "x"), ("ZADD", "a", "2", "x", "3", "y"),
    ("ZADD", "a", "-0", "z"), ("ZADD", "a", "0.1", "w"), ("ZADD", "a", "NX", "5", "v"),
    ("ZPOPMIN", "a"), ("ZPOPMIN", "missing"), ("ZSCORE", "a", "y"), ("ZCARD", "a"),
    ("ZPOPMIN", "a", "2"), ("ZPOPMIN", "a"), ("ZPOPMIN", "a"), ("ZPOPMIN", "a"),
    ("SET", "s", "v"), ("ZADD", "s", "1", "x"), ("ZADD", "b", "1e300", "m"),
]


def test_aof_propagation_matches_python_path():
    logged = {}
    for events in ("", "KEA"):
        srv = ServerProcess(args=["--appendonly", "yes", "--appendfsync", "always",
                                  "--notify-keyspace-events", events])
        try:
            c = RawClient(srv.port)
            for cmd in AOF_SCRIPT:
                c.call(*cmd)
            c.sock.sendall(_payload([("ZADD", "p", str(i), "m%d" % (i % 5)) for i in range(16)]))
            _read_n(c, 16)
            c.sock.sendall(_payload([("ZPOPMIN", "p")] * 8))
            _read_n(c, 8)
            c.close()
            logged[events] = aof_commands(srv)
        finally:
            srv.stop()
    assert logged[""] == logged["KEA"]
    head = [cmd for cmd in logged[""] if cmd[1] != b"p"]
    assert head == [
        [b"ZADD", b"a", b"1", b"x"], [b"ZADD", b"a", b"2", b"x", b"3", b"y"], [b"ZADD", b"a", b"-0", b"z"],
        [b"ZADD", b"a", b"0.1", b"w"], [b"ZADD", b"a", b"NX", b"5", b"v"], [b"ZPOPMIN", b"a"],
        [b"ZPOPMIN", b"a", b"2"], [b"ZPOPMIN", b"a"], [b"ZPOPMIN", b"a"], [b"SET", b"s", b"v"],
        [b"ZADD", b"b", b"1e300", b"m"],
    ], head
    pops = [cmd for cmd in logged[""] if cmd == [b"ZPOPMIN", b"p"]]
    assert len(pops) == 5  # 16 ZADDs onto 5 members (the rest are updates), then 8 pops: 5 real ones
