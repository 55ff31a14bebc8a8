"""Keyspace commands checked byte for byte against a real redis-server (RESP2 and RESP3).

The reference server is Redis 7.0; the sequences avoid what 7.2 changed on
purpose (small lists are ``listpack`` and small non-integer sets ``listpack``
in 7.2, ``quicklist``/``hashtable`` in 7.0: those are covered in test_keys.py).
KEYS and SCAN return keys in hash-table order, so those replies are compared
as sets.  TTLs are whole seconds far from a rounding edge.
"""

from __future__ import annotations

import random
import time

import pytest
from conftest import REDIS_SERVER, RawClient, ServerProcess, diff_replies

BIN = b"k\x00\xff\r\n bin"
BIN2 = b"\xfe\x00dst"

OTHER_DB = ("SELECT", "10"), ("FLUSHDB",), ("SELECT", "9")

GENERIC: list[tuple] = [
    *OTHER_DB,
    ("SET", "a", "1"), ("SET", "b", "2"), ("RPUSH", "l", "x", "y"), ("HSET", "h", "f", "v"),
    ("SADD", "s", "1", "2"), ("ZADD", "z", "1", "m"), ("XADD", "x", "1-1", "f", "v"),
    ("EXISTS", "a"), ("EXISTS", "a", "a", "nokey", "b"), ("EXISTS", "nokey"),
    ("TYPE", "a"), ("TYPE", "l"), ("TYPE", "h"), ("TYPE", "s"), ("TYPE", "z"), ("TYPE", "x"), ("TYPE", "nokey"),
    ("TOUCH", "a", "b", "nokey", "a"),
    ("DEL", "a", "a", "nokey"), ("UNLINK", "b", "nokey"), ("DEL", "nokey"), ("DBSIZE",),
    # RENAME / RENAMENX
    ("SET", "a", "1"), ("RENAME", "a", "a2"), ("GET", "a2"), ("EXISTS", "a"),
    ("RENAME", "nokey", "x1"), ("RENAMENX", "nokey", "x1"), ("RENAME", "nokey", "nokey"),
    ("RENAME", "a2", "a2"), ("RENAMENX", "a2", "a2"), ("RENAME", "a2", "l"), ("TYPE", "l"), ("GET", "l"),
    ("SET", "p", "v"), ("RENAMENX", "p", "l"), ("RENAMENX", "p", "q"), ("GET", "q"),
    ("SET", "t", "v", "EX", "1000"), ("RENAME", "t", "t2"), ("TTL", "t2"), ("TTL", "t"),
    ("SET", "u", "v"), ("RENAME", "u", "t2"), ("TTL", "t2"),
    ("RENAME", "h", "h2"), ("HGETALL", "h2"), ("RENAME", "z", "z2"), ("ZRANGE", "z2", "0", "-1", "WITHSCORES"),
    ("RENAME", "x", "x2"), ("XLEN", "x2"),
    # binary keys
    ("SET", BIN, "bin"), ("EXISTS", BIN), ("RENAME", BIN, BIN2), ("GET", BIN2), ("COPY", BIN2, BIN),
    ("TYPE", BIN), ("DEL", BIN, BIN2), ("SET", "", "empty"), ("EXISTS", ""), ("RENAME", "", "e2"), ("GET", "e2"),
    # COPY
    ("SET", "c1", "v", "EX", "1000"), ("COPY", "c1", "c2"), ("GET", "c2"), ("TTL", "c2"), ("COPY", "c1", "c2"),
    ("SET", "c1", "w"), ("COPY", "c1", "c2", "REPLACE"), ("GET", "c2"), ("TTL", "c2"),
    ("COPY", "c1", "c1"), ("COPY", "c1", "c1", "DB", "9"), ("COPY", "c1", "c1", "DB", "10"),
    ("COPY", "nokey", "c3"), ("COPY", "c1", "c3", "DB", "16"), ("COPY", "c1", "c3", "DB", "-1"),
    ("COPY", "c1", "c3", "DB", "x"), ("COPY", "c1", "c3", "DB"), ("COPY", "c1", "c3", "FOO"),
    ("COPY", "c1", "c3", "REPLACE", "DB", "10"), ("COPY", "c1", "c3", "db", "10", "replace"),
    ("COPY", "s", "s2"), ("SMEMBERS", "s2"), ("SADD", "s2", "3"), ("SCARD", "s"),
    ("COPY", "h2", "h3"), ("HSET", "h3", "g", "w"), ("HLEN", "h2"),
    ("COPY", "z2", "z3"), ("ZADD", "z3", "2", "n"), ("ZCARD", "z2"), ("COPY", "x2", "x3"), ("XLEN", "x3"),
    ("COPY", "l", "l2"), ("APPEND", "l2", "more"), ("GET", "l"), ("GET", "l2"),
    # MOVE
    ("SET", "m", "v", "EX", "1000"), ("MOVE", "m", "10"), ("EXISTS", "m"), ("MOVE", "m", "10"),
    ("SET", "m", "again"), ("MOVE", "m", "10"), ("MOVE", "m", "9"), ("MOVE", "nokey", "9"),
    ("MOVE", "m", "16"), ("MOVE", "m", "-1"), ("MOVE", "m", "x"), ("MOVE", "m", "2147483648"),
    ("MOVE", "m", "4294967305"), ("MOVE", "m", ""),
    ("SELECT", "10"), ("GET", "m"), ("TTL", "m"), ("GET", "c3"), ("GET", "c1"), ("DBSIZE",), ("SELECT", "9"),
    # EXPIRE family
    ("SET", "e", "v"), ("TTL", "e"), ("PTTL", "e"), ("EXPIRETIME", "e"), ("PEXPIRETIME", "e"),
    ("EXPIRE", "e", "1000"), ("TTL", "e"), ("EXPIRE", "nokey", "10"), ("TTL", "nokey"), ("PTTL", "nokey"),
    ("EXPIRETIME", "nokey"), ("PEXPIRETIME", "nokey"),
    ("EXPIREAT", "e", "4000000000"), ("EXPIRETIME", "e"), ("PEXPIRETIME", "e"),
    ("PEXPIREAT", "e", "4000000000123"), ("EXPIRETIME", "e"), ("PEXPIRETIME", "e"),
    ("PEXPIREAT", "e", "4000000000499"), ("EXPIRETIME", "e"), ("PEXPIREAT", "e", "4000000000500"),
    ("EXPIRETIME", "e"),
    ("EXPIRE", "e", "100", "NX"), ("EXPIRE", "e", "100", "XX"), ("TTL", "e"),
    ("EXPIRE", "e", "50", "GT"), ("EXPIRE", "e", "500", "GT"), ("TTL", "e"),
    ("EXPIRE", "e", "800", "LT"), ("EXPIRE", "e", "200", "LT"), ("TTL", "e"),
    ("EXPIRE", "e", "300", "xx", "gt"), ("TTL", "e"), ("PERSIST", "e"), ("PERSIST", "e"), ("TTL", "e"),
    ("EXPIRE", "e", "100", "GT"), ("EXPIRE", "e", "100", "XX"), ("EXPIRE", "e", "100", "LT"), ("TTL", "e"),
    ("EXPIRE", "e", "100", "NX", "XX"), ("EXPIRE", "e", "100", "GT", "LT"), ("EXPIRE", "e", "100", "NX", "GT"),
    ("EXPIRE", "e", "100", "LT", "NX"), ("EXPIRE", "e", "100", "FOO"), ("PEXPIRE", "e", "100", "nx", "bar"),
    ("EXPIRE", "e", "x", "NX", "XX"), ("EXPIRE", "e", "x"), ("EXPIRE", "e", "1.5"), ("EXPIRE", "e", ""),
    ("EXPIRE", "e", "99999999999999999999"),
    ("EXPIRE", "e", "9223372036854775807"), ("EXPIRE", "e", "9223372036854776"),
    ("EXPIRE", "e", "9223372036854775"), ("EXPIRE", "e", "-9223372036854776"),
    ("PEXPIRE", "e", "9223372036854775807"), ("PEXPIRE", "e", "9223372036854775000"),
    ("EXPIREAT", "e", "9223372036854776"), ("EXPIREAT", "e", "-9223372036854776"),
    ("EXPIREAT", "e", "9223372036854775"), ("EXPIRETIME", "e"), ("PEXPIRETIME", "e"),
    ("PEXPIREAT", "e", "9223372036854775807"), ("PEXPIRETIME", "e"), ("EXPIRETIME", "e"), ("TTL", "e"),
    ("EXPIRE", "e", "-1"), ("EXISTS", "e"), ("SET", "e", "v"), ("PEXPIRE", "e", "0"), ("EXISTS", "e"),
    ("SET", "e", "v"), ("EXPIREAT", "e", "1"), ("GET", "e"), ("SET", "e", "v"),
    ("PEXPIREAT", "e", "-9223372036854775808"), ("GET", "e"),
    ("SET", "e", "v", "EX", "1000"), ("EXPIRE", "e", "-5", "LT"), ("EXISTS", "e"),
    ("SET", "e", "v"), ("EXPIRE", "e", "-5", "GT"), ("EXISTS", "e"), ("EXPIRE", "e", "-5", "NX"), ("EXISTS", "e"),
    ("SET", "e", "v", "EX", "1000"), ("SET", "e", "w"), ("TTL", "e"),
    ("DBSIZE",),
]

ARITY: list[tuple] = [
    ("DEL",), ("UNLINK",), ("EXISTS",), ("TOUCH",), ("TYPE",), ("TYPE", "a", "b"), ("KEYS",), ("KEYS", "a", "b"),
    ("SCAN",), ("RANDOMKEY", "x"), ("RENAME", "a"), ("RENAME", "a", "b", "c"), ("RENAMENX", "a"),
    ("COPY", "a"), ("MOVE", "a"), ("MOVE", "a", "1", "2"), ("EXPIRE", "a"), ("PEXPIRE", "a"),
    ("EXPIREAT", "a"), ("PEXPIREAT", "a"), ("TTL",), ("PTTL", "a", "b"), ("EXPIRETIME",),
    ("PEXPIRETIME", "a", "b"), ("PERSIST",), ("OBJECT",), ("OBJECT", "ENCODING"),
    ("OBJECT", "ENCODING", "a", "b"), ("OBJECT", "REFCOUNT"), ("OBJECT", "IDLETIME"), ("OBJECT", "FREQ"),
    ("OBJECT", "HELP", "x"), ("OBJECT", "FOO"), ("OBJECT", "FOO", "a"), ("object", "encodingx", "a"),
]

OBJECT: list[tuple] = [
    ("SET", "i", "12345"), ("SET", "neg", "-9223372036854775808"), ("SET", "max", "9223372036854775807"),
    ("SET", "over", "9223372036854775808"), ("SET", "lead0", "012"), ("SET", "minus0", "-0"),
    ("SET", "plus", "+1"), ("SET", "space", " 1"), ("SET", "e44", "x" * 44), ("SET", "r45", "x" * 45),
    ("SET", "empty", ""), ("SET", "bin", BIN), ("SET", "i20", "-1234567890123456789"),
    ("SET", "i21", "12345678901234567890"),
    *[("OBJECT", "ENCODING", k) for k in ("i", "neg", "max", "over", "lead0", "minus0", "plus", "space", "e44",
                                          "r45", "empty", "bin", "i20", "i21", "nokey")],
    ("APPEND", "ap", "1"), ("OBJECT", "ENCODING", "ap"), ("APPEND", "i", "6"), ("OBJECT", "ENCODING", "i"),
    ("SETRANGE", "sr", "0", "12"), ("OBJECT", "ENCODING", "sr"), ("INCR", "cnt"), ("OBJECT", "ENCODING", "cnt"),
    ("INCRBYFLOAT", "fl", "1.5"), ("OBJECT", "ENCODING", "fl"), ("INCRBY", "big", "99999999999"),
    ("OBJECT", "ENCODING", "big"), ("COPY", "e44", "e44c"), ("OBJECT", "ENCODING", "e44c"),
    ("HSET", "h", "f", "v"), ("OBJECT", "ENCODING", "h"), ("HSET", "hl", "f", "x" * 64), ("OBJECT", "ENCODING", "hl"),
    ("HSET", "hl", "g", "x" * 65), ("OBJECT", "ENCODING", "hl"), ("HSET", "hk", "k" * 65, "v"),
    ("OBJECT", "ENCODING", "hk"),
    ("HSET", "hb", *[x for i in range(512) for x in (f"f{i}", str(i))]), ("OBJECT", "ENCODING", "hb"),
    ("HSET", "hb", "last", "1"), ("OBJECT", "ENCODING", "hb"),
    ("ZADD", "z", "1", "m"), ("OBJECT", "ENCODING", "z"), ("ZADD", "zl", "1", "m" * 65), ("OBJECT", "ENCODING", "zl"),
    ("ZADD", "zb", *[x for i in range(128) for x in (str(i), f"m{i}")]), ("OBJECT", "ENCODING", "zb"),
    ("ZADD", "zb", "1", "extra"), ("OBJECT", "ENCODING", "zb"),
    ("SADD", "si", "1", "-2", "300000000000"), ("OBJECT", "ENCODING", "si"),
    ("SADD", "sb", *[str(i) for i in range(512)]), ("OBJECT", "ENCODING", "sb"),
    ("SADD", "sb", "512"), ("OBJECT", "ENCODING", "sb"),
    ("XADD", "x", "1-1", "f", "v"), ("OBJECT", "ENCODING", "x"),
    ("SET", "shared", "100"), ("SET", "shared0", "0"), ("SET", "s9999", "9999"), ("SET", "s10000", "10000"),
    ("SET", "sneg", "-1"),
    *[("OBJECT", "REFCOUNT", k) for k in ("shared", "shared0", "s9999", "s10000", "sneg", "e44", "r45", "ap", "h",
                                          "z", "si", "x", "nokey")],
    ("OBJECT", "FREQ", "shared"), ("OBJECT", "FREQ", "nokey"), ("OBJECT", "IDLETIME", "nokey"),
    ("OBJECT", "HELP"), ("OBJECT", "help"),
]

SCAN_ERRORS: list[tuple] = [
    ("SCAN", "0"), ("SET", "only", "1"), ("SCAN", "0"), ("SCAN", "0", "COUNT", "100"),
    ("SCAN", "0", "MATCH", "o*"), ("SCAN", "0", "MATCH", "x*"), ("SCAN", "0", "TYPE", "string"),
    ("SCAN", "0", "TYPE", "STRING"), ("SCAN", "0", "TYPE", "list"), ("SCAN", "0", "TYPE", "nosuchtype"),
    ("SCAN", "0", "match", "*", "count", "5", "type", "string"),
    ("SCAN", "x"), ("SCAN", " 1"), ("SCAN", "1 "), ("SCAN", "0x1"), ("SCAN", "18446744073709551616"),
    ("SCAN", "-"), ("SCAN", "+"), ("SCAN", "1.0"), ("SCAN", "-18446744073709551616"),
    ("SCAN", "0", "COUNT", "0"), ("SCAN", "0", "COUNT", "-1"), ("SCAN", "0", "COUNT", "x"),
    ("SCAN", "0", "COUNT"), ("SCAN", "0", "MATCH"), ("SCAN", "0", "TYPE"), ("SCAN", "0", "FOO", "bar"),
    ("SCAN", "0", "COUNT", "1", "MATCH"), ("SCAN", "0", "COUNT", "9223372036854775808"),
    ("KEYS", "*"), ("KEYS", "o?ly"), ("KEYS", "nomatch"), ("RANDOMKEY",), ("DEL", "only"), ("RANDOMKEY",),
    ("KEYS", "*"),
]


@pytest.mark.parametrize("resp", [2, 3])
def test_generic_commands_diff(real_redis, server, resp):
    diff_replies(real_redis.port, server.port, GENERIC, resp)


@pytest.mark.parametrize("resp", [2, 3])
def test_arity_and_subcommand_errors_diff(real_redis, server, resp):
    diff_replies(real_redis.port, server.port, ARITY, resp)


@pytest.mark.parametrize("resp", [2, 3])
def test_object_diff(real_redis, server, resp):
    diff_replies(real_redis.port, server.port, OBJECT, resp)


@pytest.mark.parametrize("resp", [2, 3])
def test_object_idletime_of_a_fresh_key(real_redis, server, resp):
    """IDLETIME is clock-dependent (Redis' LRU clock ticks each second, and a slow run crosses a tick), so it is
    not byte-compared: both servers answer an integer of at most 1 right after the key was read."""
    for port in (real_redis.port, server.port):
        cl = RawClient(port, resp)
        try:
            cl.call("SELECT", "9")
            cl.call("SET", "fresh", "v")
            cl.call("GET", "fresh")
            assert cl.call("OBJECT", "IDLETIME", "fresh") in (b":0\r\n", b":1\r\n")
        finally:
            cl.close()


@pytest.mark.parametrize("resp", [2, 3])
def test_scan_and_keys_errors_diff(real_redis, server, resp):
    diff_replies(real_redis.port, server.port, SCAN_ERRORS, resp)


# -- order-independent comparisons ------------------------------------------------------------


def _pair(real_redis, server):
    a, b = real_redis.client(db=9), server.client(db=9)
    a.flushdb()
    b.flushdb()
    return a, b


def test_keys_glob_patterns_diff(real_redis, server):
    """Random patterns over awkward keys: KEYS must select exactly what Redis selects."""
    a, b = _pair(real_redis, server)
    rnd = random.Random(11)
    key_alphabet = b"abAz-]^\\\xff\x80[*?"
    keys = {bytes(rnd.choice(key_alphabet) for _ in range(rnd.randint(0, 5))) for _ in range(300)}
    for c in (a, b):
        c.mset({k: 1 for k in keys})
    pat_alphabet = b"ab*?[]^-\\Az\xff\x80"
    patterns = [bytes(rnd.choice(pat_alphabet) for _ in range(rnd.randint(1, 8))) for _ in range(600)]
    patterns += [b"*", b"**", b"", b"[", b"[^", b"[]", b"[a-]", b"\\", b"[z-\x80]", b"[\\]]", b"*\\",
                 b"[a-\\]", b"*a" * 1001, b"*a" * 1000, b"[^]a]"]
    for p in patterns:
        assert sorted(b.keys(p)) == sorted(a.keys(p)), p
    a.close()
    b.close()


def test_glob_nesting_limit_diff(real_redis, server):
    a, b = _pair(real_redis, server)
    for c in (a, b):
        c.set(b"a" * 1100, 1)
    for n in (999, 1000, 1001):
        for p in (b"*a" * n, b"*a" * n + b"*", b"a*" * n):
            assert b.keys(p) == a.keys(p), (n, p[:10])
    a.close()
    b.close()


def _full_scan(c, **kw) -> list[bytes]:
    out: list[bytes] = []
    cursor = 0
    while True:
        cursor, ks = c.scan(cursor, **kw)
        out += ks
        if cursor == 0:
            return out


def test_scan_full_iteration_diff(real_redis, server):
    a, b = _pair(real_redis, server)
    for c in (a, b):
        c.mset({f"str:{i}": i for i in range(300)})
        for i in range(40):
            c.rpush(f"list:{i}", 1)
            c.hset(f"hash:{i}", "f", "v")
    for kw in ({}, {"count": 1}, {"count": 1000}, {"match": "str:1*"}, {"_type": "list"}, {"_type": "HASH"},
               {"_type": "list", "match": "*:3*"}, {"match": "nomatch*"}):
        ra, rb = _full_scan(a, **kw), _full_scan(b, **kw)
        assert sorted(set(rb)) == sorted(set(ra)), kw
        assert len(rb) == len(set(rb))
    a.close()
    b.close()


def test_randomkey_and_dbsize_diff(real_redis, server):
    a, b = _pair(real_redis, server)
    for c in (a, b):
        c.mset({"x": 1, "y": 2, "z": 3})
        c.set("gone", 1, px=1)
    time.sleep(0.01)
    for _ in range(30):
        assert b.randomkey() in {b"x", b"y", b"z"}
    assert sorted(b.keys("*")) == sorted(a.keys("*"))
    a.close()
    b.close()


def test_lazy_expiry_replies_diff(real_redis, server):
    seq_setup = [("SET", "k", "v", "PX", "5"), ("RPUSH", "l", "a"), ("PEXPIRE", "l", "5"),
                 ("SET", "live", "v")]
    seq_after = [("GET", "k"), ("EXISTS", "k", "l", "live"), ("TTL", "k"), ("PTTL", "l"), ("TYPE", "l"),
                 ("RENAME", "k", "k2"), ("EXPIRE", "l", "100"), ("PERSIST", "k"), ("COPY", "k", "k3"),
                 ("MOVE", "k", "10"), ("OBJECT", "ENCODING", "k"), ("KEYS", "*"), ("DEL", "k", "l"),
                 ("DBSIZE",)]
    clients = [RawClient(real_redis.port), RawClient(server.port)]
    try:
        for cl in clients:
            cl.call("SELECT", "9")
            cl.call("FLUSHDB")
            for cmd in seq_setup:
                cl.call(*cmd)
        time.sleep(0.02)
        for cmd in seq_after:
            ra, rb = clients[0].call(*cmd), clients[1].call(*cmd)
            assert rb == ra, cmd
    finally:
        for cl in clients:
            cl.close()


def test_generic_keyspace_events_diff():
    """Same generic/expired keyspace events, in the same order, on both servers."""
    servers = [ServerProcess(cmd=[REDIS_SERVER], args=["--notify-keyspace-events", "KEgx"]),
               ServerProcess(args=["--notify-keyspace-events", "KEgx"])]
    try:
        streams = []
        for srv in servers:
            r = srv.client()
            p = srv.client().pubsub()
            p.psubscribe("__key*")
            assert p.get_message(timeout=10)["type"] == "psubscribe"
            r.set("a", 1)
            r.rename("a", "b")
            r.rename("b", "b")
            r.renamenx("b", "c")
            r.set("d", 1)
            r.renamenx("c", "d")
            r.copy("c", "e")
            r.copy("c", "e", replace=True)
            r.copy("c", "e", destination_db=3)
            r.move("e", 4)
            r.expire("c", 100)
            r.pexpire("c", 100000)
            r.expireat("c", 4_000_000_000)
            r.persist("c")
            r.expire("c", 100, gt=True)
            r.expire("c", -1)
            r.delete("d", "nokey")
            r.unlink("e")
            r.set("t", 1, px=10)
            time.sleep(0.05)
            r.get("t")
            got = []
            # up to the last event (t's expired, from the GET), then whatever else comes within 0.3 s
            deadline = time.time() + 15
            while (b"__keyevent@0__:expired", b"t") not in got and time.time() < deadline:
                m = p.get_message(timeout=0.3)
                if m and m["type"] == "pmessage":
                    got.append((m["channel"], m["data"]))
            while (m := p.get_message(timeout=0.3)) is not None:
                if m["type"] == "pmessage":
                    got.append((m["channel"], m["data"]))
            streams.append(got)
            p.close()
            r.close()
        assert streams[1] == streams[0]
        assert len(streams[0]) > 20
    finally:
        for srv in servers:
            srv.stop()
