"""Differential tests: bitmap commands against a real redis-server, compared byte for byte.

The installed reference is Redis 7.0; cases where 7.2 (our target) changed behaviour are
left to tests/test_bitmaps.py (BITCOUNT/BITPOS argument errors on missing keys, and the
"only notify when changed" rule of SETBIT/BITFIELD which is not visible in replies).
"""

from __future__ import annotations

import random

import pytest
from conftest import RawClient, diff_replies


@pytest.fixture
def ports(server, real_redis):
    return real_redis.port, server.port


PATTERNS = [b"", b"\x00", b"\xff", b"\x00\xff", b"\xff\x00", b"\xff\xff\xff", b"\x00\x00\x00",
            b"\x0f\xf0", b"\x80", b"\x01", b"\xff\xf0\x00", b"\x00\x0f\xff", b"foobar",
            b"\x55\xaa\x55\xaa" * 3, b"\xff" * 40 + b"\xfe" + b"\xff" * 3, b"\x00" * 37 + b"\x02"]


def test_setbit_getbit(ports):
    cmds = [
        ("SETBIT", "k", 7, 1), ("SETBIT", "k", 7, 1), ("SETBIT", "k", 7, 0), ("GET", "k"),
        ("SETBIT", "k", 100, 1), ("GET", "k"), ("GETBIT", "k", 100), ("GETBIT", "k", 99),
        ("GETBIT", "k", 100000), ("GETBIT", "nokey", 0), ("STRLEN", "k"),
        ("SETBIT", "k", -1, 1), ("SETBIT", "k", "x", 1), ("SETBIT", "k", 1, 2), ("SETBIT", "k", 1, -1),
        ("SETBIT", "k", 1, "a"), ("SETBIT", "k", 4294967296, 1), ("SETBIT", "k", 4294967295, "x"),
        ("GETBIT", "k", -1), ("GETBIT", "k", "1.5"), ("GETBIT", "k", 4294967296),
        ("SET", "s", "abc"), ("SETBIT", "s", 1, 0), ("GET", "s"), ("SETBIT", "s", 30, 1), ("GET", "s"),
        ("SET", "n", 12345), ("GETBIT", "n", 2), ("SETBIT", "n", 2, 0), ("GET", "n"),
        ("LPUSH", "l", "x"), ("SETBIT", "l", 0, 1), ("GETBIT", "l", 0),
        ("SETBIT", "k", 0, " 1"), ("SETBIT", "k", "+1", 1), ("SETBIT", "k", "01", 1),
    ]
    diff_replies(*ports, cmds)


def test_bitcount_edges(ports):
    cmds = []
    ranges = [(0, -1), (0, 0), (1, 1), (-1, -1), (-2, -1), (-1, -2), (5, 2), (-100, 100), (100, 200),
              (0, 100), (-5, -10), (3, -3), (9223372036854775807, -9223372036854775808)]
    for i, pat in enumerate(PATTERNS):
        if not pat:
            continue
        key = "k%d" % i
        cmds.append(("SET", key, pat))
        cmds.append(("BITCOUNT", key))
        for s, e in ranges:
            cmds.append(("BITCOUNT", key, s, e))
            cmds.append(("BITCOUNT", key, s, e, "BYTE"))
            cmds.append(("BITCOUNT", key, s, e, "bit"))
        for s, e in [(1, 6), (3, 3), (7, 8), (0, 7), (6, 17), (-9, -2), (-1, -1), (-3, -8), (5, 1)]:
            cmds.append(("BITCOUNT", key, s, e, "BIT"))
    cmds += [("BITCOUNT", "k1", 0), ("BITCOUNT", "k1", 0, 1, "bits"), ("BITCOUNT", "k1", 0, 1, "bit", 1),
             ("BITCOUNT", "k1", "a", 1), ("BITCOUNT", "k1", 1, "b"), ("BITCOUNT", "nokey"),
             ("BITCOUNT", "nokey", 0, -1), ("BITCOUNT", "nokey", 0, -1, "BIT"),
             ("LPUSH", "l", "x"), ("BITCOUNT", "l"), ("BITCOUNT", "l", 0, 1),
             ("SET", "n", 1234567), ("BITCOUNT", "n"), ("BITCOUNT", "n", 1, 2, "BIT")]
    diff_replies(*ports, cmds)


def test_bitpos_edges(ports):
    cmds = []
    for i, pat in enumerate(PATTERNS):
        if not pat:
            continue
        key = "k%d" % i
        cmds.append(("SET", key, pat))
        for bit in (0, 1):
            cmds.append(("BITPOS", key, bit))
            for s in (0, 1, 2, -1, -2, 100, -100):
                cmds.append(("BITPOS", key, bit, s))
                for e in (0, 1, 2, -1, -2, 100, -100):
                    cmds.append(("BITPOS", key, bit, s, e))
                    cmds.append(("BITPOS", key, bit, s, e, "BYTE"))
            for s, e in [(0, -1), (1, 6), (3, 3), (7, 8), (0, 7), (6, 17), (8, 15), (9, 14), (-9, -2),
                         (-1, -1), (-3, -8), (5, 1), (0, 1000), (12, 100), (-100, 3), (2, 2)]:
                cmds.append(("BITPOS", key, bit, s, e, "BIT"))
    cmds += [("BITPOS", "k1", 2), ("BITPOS", "k1", -1), ("BITPOS", "k1", "x"), ("BITPOS", "k1", 1, "x"),
             ("BITPOS", "k1", 1, 0, "x"), ("BITPOS", "k1", 1, 0, 1, "bits"), ("BITPOS", "k1", 1, 0, 1, "BIT", 3),
             ("BITPOS", "nokey", 0), ("BITPOS", "nokey", 1), ("BITPOS", "nokey", 0, 5, 10),
             ("BITPOS", "nokey", 1, 5, 10, "BIT"), ("LPUSH", "l", "x"), ("BITPOS", "l", 1),
             ("SET", "e", ""), ("BITPOS", "e", 0), ("BITPOS", "e", 1), ("BITPOS", "e", 0, 0, -1),
             ("SET", "n", 1234567), ("BITPOS", "n", 0), ("BITPOS", "n", 1, 2)]
    diff_replies(*ports, cmds)


def test_bitpos_random(ports):
    rnd = random.Random(7)
    cmds = []
    for _ in range(60):
        length = rnd.randint(1, 20)
        val = bytes(rnd.choice([0, 255, rnd.randrange(256)]) for _ in range(length))
        cmds.append(("SET", "r", val))
        for _ in range(12):
            bit = rnd.randint(0, 1)
            s = rnd.randint(-length * 9, length * 9)
            e = rnd.randint(-length * 9, length * 9)
            cmds.append(("BITPOS", "r", bit, s, e, rnd.choice(["BIT", "BYTE"])))
            cmds.append(("BITPOS", "r", bit, s // 8))
            cmds.append(("BITCOUNT", "r", s, e, rnd.choice(["BIT", "BYTE"])))
    diff_replies(*ports, cmds)


def test_bitop(ports):
    cmds = [("SET", "a", b"\x0f\xf0\xaa"), ("SET", "b", b"\xff\x00"), ("SET", "c", b"foobar" * 10),
            ("SET", "d", b"")]
    for op in ("AND", "OR", "XOR", "and", "Or"):
        for srcs in (["a"], ["a", "b"], ["a", "b", "c"], ["a", "nokey"], ["nokey"], ["nokey", "nokey2"],
                     ["d"], ["c", "c", "a"]):
            cmds.append(("BITOP", op, "dest", *srcs))
            cmds.append(("GET", "dest"))
    for src in ("a", "b", "c", "d", "nokey"):
        cmds += [("BITOP", "NOT", "dest", src), ("GET", "dest")]
    cmds += [("BITOP", "NOT", "dest", "a", "b"), ("BITOP", "NOP", "dest", "a"), ("BITOP", "AND", "dest"),
             ("LPUSH", "l", "x"), ("BITOP", "AND", "dest", "a", "l"), ("BITOP", "AND", "l", "a"),
             ("LLEN", "l"), ("SET", "n", 42), ("BITOP", "OR", "dest", "n", "a"), ("GET", "dest"),
             ("BITOP", "OR", "dest", "nokey"), ("GET", "dest")]
    diff_replies(*ports, cmds)


def test_bitop_random_long(ports):
    rnd = random.Random(3)
    cmds = []
    for i in range(4):
        cmds.append(("SET", "x%d" % i, bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 300)))))
    for op in ("AND", "OR", "XOR"):
        cmds += [("BITOP", op, "dest", "x0", "x1", "x2", "x3"), ("GET", "dest")]
    cmds += [("BITOP", "NOT", "dest", "x2"), ("GET", "dest")]
    diff_replies(*ports, cmds)


def test_bitfield_basic(ports):
    cmds = [
        ("BITFIELD", "bf", "SET", "u8", 0, 255), ("GET", "bf"),
        ("BITFIELD", "bf", "GET", "u8", 0, "GET", "i8", 0, "GET", "u4", 4, "GET", "i4", 4),
        ("BITFIELD", "bf", "SET", "i5", 3, -7, "GET", "i5", 3, "GET", "u16", 0), ("GET", "bf"),
        ("BITFIELD", "bf", "INCRBY", "u2", 100, 1, "OVERFLOW", "SAT", "INCRBY", "i8", 200, 1000),
        ("GET", "bf"),
        ("BITFIELD", "bf", "SET", "u8", "#2", 7, "GET", "u8", "#2", "GET", "u8", 16, "SET", "i16", "#3", -1),
        ("GET", "bf"),
        ("BITFIELD", "bf", "GET", "i64", 0, "GET", "u63", 1, "GET", "i64", 3, "GET", "u1", 1000000),
        ("BITFIELD", "bf", "SET", "i64", 0, -9223372036854775808, "GET", "i64", 0, "GET", "u63", 0),
        ("BITFIELD", "bf", "SET", "i64", 64, 9223372036854775807, "INCRBY", "i64", 64, 1),
        ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", 64, 1, "INCRBY", "i64", 64, -1),
        ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i64", 64, 1, "INCRBY", "i64", 0, -1),
        ("BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "i64", 0, -1, "INCRBY", "i64", 0, 1),
        ("GET", "bf"), ("BITFIELD", "bf"), ("BITFIELD", "nokey", "GET", "u8", 0), ("GET", "nokey"),
        ("BITFIELD", "nokey2"), ("GET", "nokey2"),
        ("BITFIELD_RO", "bf", "GET", "u8", 0, "GET", "i3", 5), ("BITFIELD_RO", "nokey", "GET", "i8", 0),
        ("BITFIELD_RO", "bf"),
        ("BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u2", 0, 7, "SET", "i2", 0, 1, "SET", "i2", 0, 2),
        ("GET", "bf"),
    ]
    diff_replies(*ports, cmds)


def test_bitfield_errors(ports):
    cmds = [
        ("BITFIELD", "k", "GET", "u64", 0), ("BITFIELD", "k", "GET", "i65", 0), ("BITFIELD", "k", "GET", "i0", 0),
        ("BITFIELD", "k", "GET", "x8", 0), ("BITFIELD", "k", "GET", "U8", 0), ("BITFIELD", "k", "GET", "u", 0),
        ("BITFIELD", "k", "GET", "u-1", 0), ("BITFIELD", "k", "GET", "u8", -1), ("BITFIELD", "k", "GET", "u8", "a"),
        ("BITFIELD", "k", "GET", "u8", "#-1"), ("BITFIELD", "k", "GET", "u8", "#"), ("BITFIELD", "k", "GET", "u8", "##1"),
        ("BITFIELD", "k", "GET", "u8", 4294967296), ("BITFIELD", "k", "GET", "u8", 4294967295),
        ("BITFIELD", "k", "GET", "u8", "#536870912"), ("BITFIELD", "k", "GET", "u8", "#536870911"),
        ("BITFIELD", "k", "GET", "u8"), ("BITFIELD", "k", "SET", "u8", 0), ("BITFIELD", "k", "INCRBY", "u8", 0),
        ("BITFIELD", "k", "SET", "u8", 0, "x"), ("BITFIELD", "k", "INCRBY", "u8", 0, "1.5"),
        ("BITFIELD", "k", "OVERFLOW"), ("BITFIELD", "k", "OVERFLOW", "foo", "GET", "u8", 0),
        ("BITFIELD", "k", "FOO", "u8", 0), ("BITFIELD", "k", "GET", "u8", 0, "GET"),
        ("BITFIELD", "k", "GET", "u8", 0, "SET", "u8", 0, 1, "INCRBY", "x8", 0, 1), ("GET", "k"),
        ("BITFIELD_RO", "k", "SET", "u8", 0, 1), ("BITFIELD_RO", "k", "INCRBY", "u8", 0, 1),
        ("BITFIELD_RO", "k", "GET", "u8", 0, "OVERFLOW", "SAT"), ("BITFIELD_RO", "k", "OVERFLOW", "FAIL"),
        ("BITFIELD_RO", "k", "GET", "u8", 0, "SET", "u64", 0, 1), ("GET", "k"),
        ("LPUSH", "l", "x"), ("BITFIELD", "l", "GET", "u8", 0), ("BITFIELD", "l", "SET", "u8", 0, 1),
        ("BITFIELD_RO", "l", "GET", "u8", 0), ("BITFIELD", "l"),
    ]
    diff_replies(*ports, cmds)


def _random_bitfield_cmds(rnd: random.Random, n: int) -> list[tuple]:
    cmds: list[tuple] = []
    for _ in range(n):
        args: list = ["BITFIELD", "f"]
        for _ in range(rnd.randint(1, 4)):
            kind = rnd.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
            if kind == "OVERFLOW":
                args += ["OVERFLOW", rnd.choice(["WRAP", "SAT", "FAIL"])]
                continue
            signed = rnd.random() < 0.5
            bits = rnd.randint(1, 64 if signed else 63)
            bits = rnd.choice([bits, 1, 8, 63, 64 if signed else 63])
            offset = rnd.choice([rnd.randint(0, 200), "#%d" % rnd.randint(0, 5)])
            args += [kind, ("i" if signed else "u") + str(bits), offset]
            if kind != "GET":
                lim = 1 << bits
                args.append(rnd.choice([rnd.randint(-lim, lim), rnd.randint(-3, 3), lim - 1, -lim,
                                        rnd.randint(-2**63, 2**63 - 1), 2**63 - 1, -2**63]))
        cmds.append(tuple(args))
        if rnd.random() < 0.2:
            cmds.append(("GET", "f"))
    cmds.append(("GET", "f"))
    return cmds


def test_bitfield_random(ports):
    diff_replies(*ports, _random_bitfield_cmds(random.Random(11), 400))


def test_bitfield_resp3_null(ports):
    cmds = [("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 5, "GET", "u2", 0)]
    diff_replies(*ports, cmds, resp=3)


def test_raw_client_sanity(server):
    # the helper itself: a wrong reply must be detected
    c = RawClient(server.port)
    try:
        assert c.call("SETBIT", "sanity", 1, 1) == b":0\r\n"
        assert c.call("GETBIT", "sanity", 1) == b":1\r\n"
        c.call("DEL", "sanity")
    finally:
        c.close()


def test_encodings_and_ttls(ports):
    """Writers keep the TTL (BITOP replaces the key and drops it) and leave a raw string."""
    cmds = [
        ("SET", "k", "12", "EX", 1000), ("SETBIT", "k", 1, 1), ("TTL", "k"), ("OBJECT", "ENCODING", "k"),
        ("SET", "k2", "ab", "EX", 1000), ("BITFIELD", "k2", "SET", "u8", 0, 1), ("TTL", "k2"),
        ("OBJECT", "ENCODING", "k2"), ("SET", "k3", "abc", "EX", 1000), ("SETBIT", "k3", 1, 1), ("TTL", "k3"),
        ("SETBIT", "new", 3, 1), ("OBJECT", "ENCODING", "new"), ("TYPE", "new"),
        ("SET", "a", "1"), ("SET", "b", "2"), ("BITOP", "OR", "d", "a", "b"), ("OBJECT", "ENCODING", "d"),
        ("SET", "d", "x", "EX", 1000), ("BITOP", "XOR", "d", "a", "b"), ("TTL", "d"), ("GET", "d"),
        ("BITOP", "AND", "d", "missing"), ("EXISTS", "d"),
        ("SET", "e", "x"), ("BITOP", "NOT", "e", "missing"), ("EXISTS", "e"),
        ("SET", "i", 7), ("GETBIT", "i", 6), ("BITFIELD_RO", "i", "GET", "u8", 0), ("OBJECT", "ENCODING", "i"),
    ]
    diff_replies(*ports, cmds)
