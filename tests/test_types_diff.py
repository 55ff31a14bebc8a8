"""Differential tests: lists, hashes and sets against a real redis-server, reply bytes compared.

Each sequence runs on both servers (RESP2 and RESP3) in a fresh database.
Replies whose order Redis leaves to its hash tables (set members, big hashes)
are compared after sorting, via ``U(...)``; everything else byte for byte.
Keyspace events are compared too, on servers started with
``notify-keyspace-events KEA``.

Cases that differ between the installed Redis 7.0 and 7.2 (the reference)
are left out: LPOS RANK LONG_MIN, blocking timeout parsing, and the key a
client blocked on several keys is served from.
"""

from __future__ import annotations

import select
import time

import pytest
from conftest import REDIS_SERVER, RawClient, ServerProcess, same_reply


class U(tuple):
    """A command whose reply is compared order-insensitively."""

    def __new__(cls, *args):
        return super().__new__(cls, args)


def _parse(buf: bytes, i: int = 0):
    """Parse one RESP2/RESP3 reply into nested tuples: (type, payload)."""
    t = buf[i:i + 1]
    j = buf.index(b"\r\n", i)
    head = buf[i + 1:j]
    i = j + 2
    if t in (b"+", b"-", b":", b",", b"_", b"#", b"("):
        return (t, head), i
    if t in (b"$", b"="):
        n = int(head)
        if n < 0:
            return (t, None), i
        return (t, buf[i:i + n]), i + n + 2
    if t in (b"*", b"~", b">"):
        n = int(head)
        if n < 0:
            return (t, None), i
        items = []
        for _ in range(n):
            node, i = _parse(buf, i)
            items.append(node)
        return (t, items), i
    if t == b"%":
        n = int(head)
        items = []
        for _ in range(n):
            k, i = _parse(buf, i)
            v, i = _parse(buf, i)
            items.append((k, v))
        return (t, items), i
    raise AssertionError(f"bad reply {buf!r}")


def _norm(node):
    t, v = node
    if t in (b"*", b"~") and v is not None:
        return (t, tuple(sorted((_norm(x) for x in v), key=repr)))
    if t == b"%":
        return (t, tuple(sorted(((_norm(k), _norm(x)) for k, x in v), key=repr)))
    return node


def run_diff(real_port: int, our_port: int, commands: list, resp: int) -> None:
    a, b = RawClient(real_port, resp), RawClient(our_port, resp)
    try:
        for cl in (a, b):
            cl.call("SELECT", "9")
            cl.call("FLUSHDB")
        since = time.monotonic()
        for cmd in commands:
            ra, rb = a.call(*cmd), b.call(*cmd)
            if isinstance(cmd, U):
                assert _norm(_parse(rb)[0]) == _norm(_parse(ra)[0]), f"{cmd!r}: fastredis {rb!r} != redis {ra!r}"
            else:
                assert same_reply(cmd, rb, ra, since), f"{cmd!r}: fastredis {rb!r} != redis {ra!r}"
    finally:
        a.close()
        b.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def diff(request, real_redis, server):
    def go(commands: list) -> None:
        run_diff(real_redis.port, server.port, commands, request.param)
    return go


# ---------------------------------------------------------------------------
# lists
# ---------------------------------------------------------------------------

LIST_BASICS = [
    ("RPUSH", "l", "a", "b", "c", "d", "e"), ("LPUSH", "l", "z", "y"), ("LLEN", "l"), ("LLEN", "nokey"),
    ("LRANGE", "l", "0", "-1"), ("LRANGE", "l", "-3", "100"), ("LRANGE", "l", "5", "2"), ("LRANGE", "nokey", "0", "-1"),
    ("LRANGE", "l", "-100", "-50"), ("LRANGE", "l", "x", "1"), ("LINDEX", "l", "0"), ("LINDEX", "l", "-1"),
    ("LINDEX", "l", "99"), ("LINDEX", "nokey", "x"), ("LINDEX", "l", "x"), ("LPUSHX", "nokey", "a"),
    ("RPUSHX", "l", "f"), ("LPUSHX", "l", "x", "w"), ("LSET", "l", "1", "X"), ("LSET", "l", "-1", "F"),
    ("LSET", "l", "99", "v"), ("LSET", "nokey", "0", "v"), ("LSET", "l", "x", "v"), ("LRANGE", "l", "0", "-1"),
    ("LINSERT", "l", "BEFORE", "c", "c0"), ("LINSERT", "l", "after", "c", "c1"), ("LINSERT", "l", "after", "zz", "q"),
    ("LINSERT", "nokey", "before", "a", "q"), ("LINSERT", "l", "sideways", "a", "q"), ("LRANGE", "l", "0", "-1"),
    ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "2"), ("RPOP", "l", "2"), ("LPOP", "l", "0"), ("LPOP", "nokey", "0"),
    ("LPOP", "nokey", "3"), ("LPOP", "nokey"), ("RPOP", "l", "-1"), ("RPOP", "l", "x"), ("LPOP", "l", "1", "2"),
    ("LRANGE", "l", "0", "-1"), ("RPOP", "l", "100"), ("LLEN", "l"), ("LPOP", "l"),
]

LIST_EDITS = [
    ("RPUSH", "l", *"abacadaea"), ("LREM", "l", "2", "a"), ("LRANGE", "l", "0", "-1"), ("LREM", "l", "-1", "a"),
    ("LRANGE", "l", "0", "-1"), ("LREM", "l", "0", "a"), ("LREM", "l", "0", "zz"), ("LREM", "nokey", "1", "a"),
    ("LREM", "l", "x", "a"), ("LRANGE", "l", "0", "-1"), ("RPUSH", "t", *"0123456789"), ("LTRIM", "t", "2", "-3"),
    ("LRANGE", "t", "0", "-1"), ("LTRIM", "t", "-2", "100"), ("LRANGE", "t", "0", "-1"), ("LTRIM", "t", "5", "1"),
    ("LLEN", "t"), ("LTRIM", "nokey", "0", "1"), ("LTRIM", "t", "x", "1"), ("RPUSH", "p", *"abcbcbb"),
    ("LPOS", "p", "b"), ("LPOS", "p", "b", "RANK", "2"), ("LPOS", "p", "b", "RANK", "-2"),
    ("LPOS", "p", "b", "COUNT", "0"), ("LPOS", "p", "b", "COUNT", "2", "RANK", "-1"),
    ("LPOS", "p", "b", "MAXLEN", "3", "COUNT", "0"), ("LPOS", "p", "zz"), ("LPOS", "p", "zz", "COUNT", "1"),
    ("LPOS", "nokey", "a"), ("LPOS", "nokey", "a", "COUNT", "0"), ("LPOS", "p", "b", "RANK", "0"),
    ("LPOS", "p", "b", "COUNT", "-1"), ("LPOS", "p", "b", "MAXLEN", "-1"), ("LPOS", "p", "b", "COUNT", "x"),
    ("LPOS", "p", "b", "BOGUS"), ("LPOS", "p", "b", "RANK"), ("LPOS", "p", "b", "RANK", "9223372036854775807"),
    ("LPOS", "p", "b", "RANK", "-9223372036854775807", "COUNT", "0"),
]

LIST_MOVES = [
    ("RPUSH", "a", "1", "2", "3", "4"), ("LMOVE", "a", "b", "LEFT", "RIGHT"), ("LMOVE", "a", "b", "RIGHT", "LEFT"),
    ("LMOVE", "a", "b", "left", "left"), ("LMOVE", "a", "b", "RIGHT", "RIGHT"), ("LRANGE", "b", "0", "-1"),
    ("LLEN", "a"), ("LMOVE", "a", "b", "LEFT", "LEFT"), ("LMOVE", "b", "b", "LEFT", "RIGHT"),
    ("LRANGE", "b", "0", "-1"), ("LMOVE", "b", "b", "UP", "LEFT"), ("RPOPLPUSH", "b", "c"), ("RPOPLPUSH", "b", "b"),
    ("RPOPLPUSH", "nokey", "b"), ("LRANGE", "b", "0", "-1"), ("LRANGE", "c", "0", "-1"), ("SADD", "s", "m"),
    ("LMOVE", "b", "s", "LEFT", "LEFT"), ("LMOVE", "s", "b", "LEFT", "LEFT"), ("LMOVE", "nokey", "s", "LEFT", "LEFT"),
    ("RPOPLPUSH", "b", "s"), ("LRANGE", "b", "0", "-1"), ("RPUSH", "m1", "x", "y", "z"),
    ("LMPOP", "2", "nokey", "m1", "LEFT"), ("LMPOP", "2", "m1", "nokey", "RIGHT", "COUNT", "10"),
    ("LMPOP", "1", "m1", "LEFT"), ("LMPOP", "0", "m1", "LEFT"), ("LMPOP", "x", "m1", "LEFT"),
    ("LMPOP", "3", "m1", "LEFT"), ("LMPOP", "1", "m1", "NONE"), ("LMPOP", "1", "m1", "LEFT", "COUNT", "0"),
    ("LMPOP", "1", "m1", "LEFT", "COUNT", "1", "COUNT", "1"), ("LMPOP", "1", "m1", "LEFT", "JUNK"),
    ("LMPOP", "2", "nokey", "s", "LEFT"), ("LMPOP", "1", "m1"), ("RPUSH", "s", "x"), ("LPOP", "s"),
    ("LRANGE", "s", "0", "-1"), ("LLEN", "s"), ("LINDEX", "s", "0"), ("LPOS", "s", "x"), ("LTRIM", "s", "0", "1"),
    ("LREM", "s", "0", "x"), ("LSET", "s", "0", "x"), ("LINSERT", "s", "BEFORE", "a", "b"), ("RPUSHX", "s", "x"),
]

LIST_NONBLOCKING_BLOCKERS = [
    ("RPUSH", "k", "a", "b", "c"), ("BLPOP", "nokey", "k", "0"), ("BRPOP", "k", "0"),
    ("BLMOVE", "k", "d", "LEFT", "RIGHT", "0"), ("BRPOPLPUSH", "d", "k", "0"),
    ("BLMPOP", "0", "2", "nokey", "k", "RIGHT", "COUNT", "5"), ("BLPOP", "k", "0.01"), ("BLMPOP", "0.01", "1", "k", "LEFT"),
    ("BLMOVE", "k", "d", "LEFT", "LEFT", "0.01"), ("BRPOPLPUSH", "k", "d", "0.01"), ("BLPOP", "k", "x"),
    ("BLPOP", "k", "-1"), ("BLMPOP", "0", "0", "k", "LEFT"), ("BLMPOP", "0", "1", "k", "LEFT", "COUNT", "-5"),
    ("BLMOVE", "k", "d", "LEFT", "NOWHERE", "0"), ("SADD", "s", "m"), ("BLPOP", "nokey", "s", "0"),
    ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"), ("MULTI",), ("BLPOP", "k", "0"), ("BLMOVE", "k", "d", "LEFT", "LEFT", "0"),
    ("BRPOPLPUSH", "k", "d", "0"), ("BLMPOP", "0", "1", "k", "LEFT"), ("RPUSH", "k", "v"), ("BRPOP", "k", "0"),
    ("EXEC",),
]


@pytest.mark.parametrize("seq", [LIST_BASICS, LIST_EDITS, LIST_MOVES, LIST_NONBLOCKING_BLOCKERS],
                         ids=["basics", "edits", "moves", "blocking-no-wait"])
def test_lists(diff, seq):
    diff(seq)


def test_list_arity_errors(diff):
    diff([("LPUSH", "l"), ("RPUSHX", "l"), ("LPOP",), ("LLEN",), ("LRANGE", "l", "0"), ("LINDEX", "l"),
          ("LSET", "l", "0"), ("LINSERT", "l", "before", "a"), ("LREM", "l", "0"), ("LTRIM", "l", "0"),
          ("LPOS", "l"), ("LMOVE", "a", "b", "LEFT"), ("RPOPLPUSH", "a"), ("LMPOP", "1", "l"),
          ("BLPOP", "l"), ("BRPOP", "l"), ("BLMOVE", "a", "b", "LEFT", "LEFT"), ("BRPOPLPUSH", "a", "b"),
          ("BLMPOP", "0", "1", "l")])


# ---------------------------------------------------------------------------
# hashes (small hashes keep insertion order in Redis too: compared exactly)
# ---------------------------------------------------------------------------

HASH_BASICS = [
    ("HSET", "h", "f1", "v1", "f2", "v2"), ("HSET", "h", "f1", "V1", "f3", "v3"), ("HSET", "h", "x"),
    ("HSET", "h", "a", "1", "b"), ("HMSET", "h", "f4", "v4"), ("HMSET", "h", "f4"), ("HSETNX", "h", "f1", "no"),
    ("HSETNX", "h", "f5", "v5"), ("HGET", "h", "f1"), ("HGET", "h", "zz"), ("HGET", "nokey", "f"),
    ("HMGET", "h", "f1", "zz", "f3"), ("HMGET", "nokey", "a", "b"), ("HLEN", "h"), ("HLEN", "nokey"),
    ("HEXISTS", "h", "f2"), ("HEXISTS", "h", "zz"), ("HSTRLEN", "h", "f1"), ("HSTRLEN", "h", "zz"),
    ("HSTRLEN", "nokey", "f"), ("HKEYS", "h"), ("HVALS", "h"), ("HGETALL", "h"), ("HGETALL", "nokey"),
    ("HKEYS", "nokey"), ("HVALS", "nokey"), ("HDEL", "h", "f2", "zz", "f2"), ("HDEL", "nokey", "f"),
    ("HGETALL", "h"), ("HSCAN", "h", "0"), ("HSCAN", "h", "0", "MATCH", "f[13]"), ("HSCAN", "h", "0", "COUNT", "1"),
    ("HSCAN", "nokey", "0"), ("HSCAN", "h", "x"), ("HSCAN", "h", "0", "COUNT", "0"), ("HSCAN", "h", "0", "COUNT", "x"),
    ("HSCAN", "h", "0", "TYPE", "hash"), ("HSCAN", "h", "0", "MATCH"), ("HSCAN", "nokey", "0", "COUNT", "0"),
    ("HSCAN", "h", ""), ("HSCAN", "h", "-1"), ("HSCAN", "h", "18446744073709551616"),
    ("HDEL", "h", "f1", "f3", "f4", "f5"), ("HLEN", "h"), ("HGETALL", "h"),
]

HASH_INCR = [
    ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-10"), ("HINCRBY", "h", "n", "x"),
    ("HINCRBY", "h", "n", "1.5"), ("HSET", "h", "big", "9223372036854775807", "s", "abc", "f", "1.5", "sp", " 1"),
    ("HINCRBY", "h", "big", "1"), ("HINCRBY", "h", "big", "-1"), ("HINCRBY", "h", "s", "1"), ("HINCRBY", "h", "f", "1"),
    ("HINCRBY", "h", "sp", "1"), ("HINCRBYFLOAT", "h", "f", "0.1"), ("HINCRBYFLOAT", "h", "n", "2.5"),
    ("HINCRBYFLOAT", "h", "new", "10.5"), ("HINCRBYFLOAT", "h", "new", "0.1"), ("HINCRBYFLOAT", "h", "s", "1"),
    ("HINCRBYFLOAT", "h", "sp", "1"), ("HINCRBYFLOAT", "h", "n", "abc"), ("HINCRBYFLOAT", "h", "n", "inf"),
    ("HINCRBYFLOAT", "h", "n", "-infinity"), ("HINCRBYFLOAT", "h", "n", "nan"), ("HINCRBYFLOAT", "h", "n", ""),
    ("HINCRBYFLOAT", "h", "e", "1e3"), ("HINCRBYFLOAT", "h", "e", "-1e3"), ("HINCRBYFLOAT", "h", "x", "0x1p4"),
    ("HINCRBYFLOAT", "h", "z", "1.23456789012345678"), ("HINCRBYFLOAT", "h", "z", "-0.00000000000000001"),
    ("HINCRBYFLOAT", "h", "t", "1e-20"), ("HINCRBYFLOAT", "h", "u", "3.0"), ("HINCRBYFLOAT", "h", "u", "1e18"),
    ("HINCRBYFLOAT", "h", "d", "0.1"), ("HINCRBYFLOAT", "h", "d", "0.2"), ("HINCRBYFLOAT", "h", "d", "-0.3"),
    ("HINCRBYFLOAT", "h", "g", "17179869184"), ("HINCRBYFLOAT", "h", "g", "0.25"),
    ("HINCRBYFLOAT", "h", "w", "99999999999999999999.9"), ("HINCRBYFLOAT", "h", "v", "5."),
    ("HINCRBYFLOAT", "h", "v", ".5"), ("HINCRBYFLOAT", "h", "v", "+1e-1"), ("HINCRBYFLOAT", "h", "r", "1e-5000"),
    ("HINCRBYFLOAT", "h", "r", "1e5000"), ("HGETALL", "h"), ("RPUSH", "l", "a"), ("HINCRBY", "l", "f", "1"),
    ("HINCRBYFLOAT", "l", "f", "1"), ("HINCRBYFLOAT", "l", "f", "x"),
]

HASH_RANDOM = [
    ("HSET", "h", "a", "1", "b", "2", "c", "3"), U("HRANDFIELD", "h", "3"), U("HRANDFIELD", "h", "10"),
    U("HRANDFIELD", "h", "10", "WITHVALUES"), U("HRANDFIELD", "h", "3", "withvalues"), ("HRANDFIELD", "h", "0"),
    ("HRANDFIELD", "h", "0", "WITHVALUES"), ("HRANDFIELD", "nokey"), ("HRANDFIELD", "nokey", "5"),
    ("HRANDFIELD", "nokey", "-5", "WITHVALUES"), ("HRANDFIELD", "h", "1", "foo"), ("HRANDFIELD", "h", "x"),
    ("HRANDFIELD", "h", "1", "WITHVALUES", "x"), ("HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"),
    ("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"), ("HRANDFIELD", "h", "-9223372036854775808"),
    ("HSET", "one", "k", "v"), ("HRANDFIELD", "one"), ("HRANDFIELD", "one", "-3"),
    ("HRANDFIELD", "one", "-2", "WITHVALUES"), ("HRANDFIELD", "one", "1", "WITHVALUES"),
]


@pytest.mark.parametrize("seq", [HASH_BASICS, HASH_INCR, HASH_RANDOM], ids=["basics", "incr", "random"])
def test_hashes(diff, seq):
    diff(seq)


def test_big_hash_unordered(diff):
    fields = []
    for i in range(200):
        fields += [f"field{i}", f"value{i}"]
    diff([("HSET", "h", *fields), ("HLEN", "h"), U("HKEYS", "h"), U("HVALS", "h"), U("HGETALL", "h"),
          ("HSET", "w", "f", "x" * 100), ("HSET", "w", "g", "1"), U("HGETALL", "w"), U("HSCAN", "w", "0", "COUNT", "100"),
          ("HINCRBYFLOAT", "w", "g", "1e4000"), ("HSTRLEN", "w", "g")])


def test_hash_arity_errors(diff):
    diff([("HSET", "h"), ("HSETNX", "h", "f"), ("HGET", "h"), ("HMGET", "h"), ("HDEL", "h"), ("HLEN",),
          ("HSTRLEN", "h"), ("HEXISTS", "h"), ("HKEYS",), ("HVALS",), ("HGETALL",), ("HINCRBY", "h", "f"),
          ("HINCRBYFLOAT", "h", "f"), ("HRANDFIELD",), ("HSCAN", "h")])


# ---------------------------------------------------------------------------
# sets (member order is Redis' hash order: compared sorted)
# ---------------------------------------------------------------------------

SET_BASICS = [
    ("SADD", "s", "a", "b", "c", "a"), ("SADD", "s", "c", "d"), ("SCARD", "s"), ("SCARD", "nokey"),
    U("SMEMBERS", "s"), ("SMEMBERS", "nokey"), ("SISMEMBER", "s", "a"), ("SISMEMBER", "s", "z"),
    ("SISMEMBER", "nokey", "a"), ("SMISMEMBER", "s", "a", "z", "d"), ("SMISMEMBER", "nokey", "a"),
    ("SREM", "s", "a", "z", "a"), ("SREM", "nokey", "a"), U("SMEMBERS", "s"), ("SREM", "s", "b", "c", "d"),
    ("SCARD", "s"), ("SADD", "n", "3", "1", "2"), U("SMEMBERS", "n"), U("SSCAN", "n", "0"),
    U("SSCAN", "n", "0", "MATCH", "[12]"), ("SSCAN", "nokey", "0"), ("SSCAN", "n", "x"), ("SSCAN", "n", "0", "COUNT", "0"),
    ("SSCAN", "n", "0", "TYPE", "set"), ("SSCAN", "n", "0", "NOVALUES"), ("SSCAN", "nokey", "x"),
    ("SPOP", "nokey"), ("SPOP", "nokey", "0"), ("SPOP", "nokey", "3"), ("SPOP", "n", "0"), ("SPOP", "n", "-1"),
    ("SPOP", "n", "x"), ("SPOP", "n", "1", "2"), U("SPOP", "n", "3"), ("SCARD", "n"), ("SADD", "one", "x"),
    ("SPOP", "one"), ("SCARD", "one"), ("SADD", "r", "a", "b"), U("SRANDMEMBER", "r", "2"), U("SRANDMEMBER", "r", "5"),
    ("SRANDMEMBER", "r", "0"), ("SRANDMEMBER", "nokey"), ("SRANDMEMBER", "nokey", "3"), ("SRANDMEMBER", "nokey", "-3"),
    ("SRANDMEMBER", "r", "x"), ("SRANDMEMBER", "r", "1", "2"), ("SRANDMEMBER", "r", "-9223372036854775808"),
    ("SADD", "one", "y"), ("SRANDMEMBER", "one", "-3"), ("SRANDMEMBER", "one"), ("SRANDMEMBER", "one", "1"),
]

SET_ALGEBRA = [
    ("SADD", "a", "1", "2", "3", "4", "x"), ("SADD", "b", "2", "3", "5", "x"), ("SADD", "c", "3", "x", "9"),
    U("SINTER", "a", "b"), U("SINTER", "a", "b", "c"), ("SINTER", "a", "nokey"), ("SINTER", "nokey", "a"),
    U("SINTER", "a"), U("SUNION", "a", "b", "c"), U("SUNION", "nokey", "b"), ("SUNION", "nokey"),
    U("SDIFF", "a", "b"), U("SDIFF", "a", "b", "c"), ("SDIFF", "nokey", "a"), U("SDIFF", "a", "nokey"),
    ("SINTERSTORE", "d", "a", "b"), U("SMEMBERS", "d"), ("SUNIONSTORE", "d", "a", "c"), U("SMEMBERS", "d"),
    ("SDIFFSTORE", "d", "a", "b", "c"), U("SMEMBERS", "d"), ("SINTERSTORE", "d", "a", "nokey"), ("SCARD", "d"),
    ("SADD", "d", "q"), ("SDIFFSTORE", "d", "nokey", "a"), ("SCARD", "d"), ("SUNIONSTORE", "d", "nokey"),
    ("SUNIONSTORE", "a", "a", "b"), U("SMEMBERS", "a"), ("SINTERCARD", "2", "a", "b"),
    ("SINTERCARD", "2", "a", "b", "LIMIT", "2"), ("SINTERCARD", "2", "a", "b", "LIMIT", "0"),
    ("SINTERCARD", "3", "a", "b", "c", "limit", "1", "LIMIT", "10"), ("SINTERCARD", "2", "a", "nokey"),
    ("SINTERCARD", "0", "a"), ("SINTERCARD", "x", "a"), ("SINTERCARD", "3", "a"), ("SINTERCARD", "1", "a", "LIMIT", "-1"),
    ("SINTERCARD", "1", "a", "LIMIT", "x"), ("SINTERCARD", "1", "a", "FOO"), ("SINTERCARD", "1", "a", "LIMIT"),
    ("RPUSH", "l", "v"), ("SINTER", "a", "l"), ("SINTER", "nokey", "l"), ("SUNION", "l"), ("SDIFF", "nokey", "l"),
    ("SINTERSTORE", "d", "nokey", "l"), ("SINTERCARD", "2", "nokey", "l"), ("SUNIONSTORE", "l", "b"), U("SMEMBERS", "l"),
]

SET_MOVE = [
    ("SADD", "a", "x", "y"), ("SADD", "b", "y"), ("SMOVE", "a", "b", "x"), ("SMOVE", "a", "b", "zz"),
    ("SMOVE", "nokey", "b", "x"), ("SMOVE", "a", "b", "y"), ("SCARD", "a"), U("SMEMBERS", "b"), ("SMOVE", "b", "b", "x"),
    ("SMOVE", "b", "b", "zz"), ("SMOVE", "b", "c", "x"), U("SMEMBERS", "c"), ("RPUSH", "l", "v"),
    ("SMOVE", "b", "l", "y"), ("SMOVE", "l", "b", "v"), ("SMOVE", "nokey", "l", "v"), ("SADD", "l", "x"),
    ("SREM", "l", "x"), ("SMEMBERS", "l"), ("SCARD", "l"), ("SPOP", "l"), ("SRANDMEMBER", "l"), ("SSCAN", "l", "0"),
]


@pytest.mark.parametrize("seq", [SET_BASICS, SET_ALGEBRA, SET_MOVE], ids=["basics", "algebra", "move"])
def test_sets(diff, seq):
    diff(seq)


def test_big_set_unordered(diff):
    diff([("SADD", "big", *[f"m{i}" for i in range(300)]), ("SCARD", "big"), U("SMEMBERS", "big"),
          ("SADD", "ints", *range(600)), U("SMEMBERS", "ints"), ("SINTERCARD", "2", "big", "ints"),
          U("SPOP", "big", "300"), ("SCARD", "big"), U("SRANDMEMBER", "ints", "1000")])


def test_intset_members_in_numeric_order(diff):
    # integer sets small enough for an intset are walked in numeric order by Redis: exact bytes
    diff([("SADD", "n", "30", "-7", "1", "9223372036854775807", "-9223372036854775808", "2"), ("SMEMBERS", "n"),
          ("SSCAN", "n", "0"), ("SRANDMEMBER", "n", "50"), ("SADD", "m", *range(100, 0, -1)), ("SMEMBERS", "m"),
          ("SPOP", "n", "10"), ("SMEMBERS", "n")])


def test_set_arity_errors(diff):
    diff([("SADD", "s"), ("SREM", "s"), ("SMEMBERS",), ("SISMEMBER", "s"), ("SMISMEMBER", "s"), ("SCARD",),
          ("SPOP",), ("SRANDMEMBER",), ("SMOVE", "a", "b"), ("SINTER",), ("SINTERSTORE", "d"), ("SINTERCARD", "1"),
          ("SUNION",), ("SUNIONSTORE", "d"), ("SDIFF",), ("SDIFFSTORE", "d"), ("SSCAN", "s")])


# ---------------------------------------------------------------------------
# keyspace events
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notifying_pair():
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed")
    real = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no", "--notify-keyspace-events", "KEA"])
    ours = ServerProcess(args=["--notify-keyspace-events", "KEA"])
    yield real, ours
    real.stop()
    ours.stop()


def _events(port: int, commands: list) -> list[bytes]:
    sub = RawClient(port, 2)
    cl = RawClient(port, 2)
    try:
        cl.call("FLUSHALL")
        sub.call("PSUBSCRIBE", "__key*@0__:*")
        for cmd in commands:
            cl.call(*cmd)
        cl.call("PUBLISH", "__keyevent@0__:end", "end")  # not a pattern match above? it is: marks the end
        buf = b""
        deadline = time.time() + 15
        while not buf.endswith(b"$3\r\nend\r\n") and time.time() < deadline:
            r, _, _ = select.select([sub.sock], [], [], 0.5)
            if r:
                buf += sub.sock.recv(65536)
        return buf.split(b"*4\r\n")[1:]
    finally:
        sub.close()
        cl.close()


EVENT_SEQUENCE = [
    ("RPUSH", "l", "a", "b", "c"), ("LPUSH", "l", "z"), ("LPUSHX", "nol", "a"), ("RPUSHX", "l", "d"),
    ("LPOP", "l"), ("RPOP", "l", "2"), ("LSET", "l", "0", "A"), ("LINSERT", "l", "BEFORE", "A", "Z"),
    ("LINSERT", "l", "BEFORE", "nope", "Z"), ("LREM", "l", "0", "Z"), ("LREM", "l", "0", "nope"),
    ("RPUSH", "l", "x", "y"), ("LTRIM", "l", "0", "-1"), ("LTRIM", "l", "1", "1"), ("LMOVE", "l", "l2", "LEFT", "RIGHT"),
    ("RPUSH", "l", "m"), ("RPOPLPUSH", "l", "l2"), ("LMPOP", "1", "l2", "RIGHT", "COUNT", "5"), ("LPOP", "l", "0"),
    ("RPUSH", "q", "1"), ("BLPOP", "q", "0"), ("LTRIM", "nol", "0", "1"),
    ("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "1"), ("HSETNX", "h", "a", "1"), ("HSETNX", "h", "c", "3"),
    ("HMSET", "h", "d", "4"), ("HINCRBY", "h", "n", "1"), ("HINCRBYFLOAT", "h", "n", "1.5"), ("HDEL", "h", "zz"),
    ("HDEL", "h", "a", "b"), ("HDEL", "h", "c", "d", "n"),
    ("SADD", "s", "a", "b", "c"), ("SADD", "s", "a"), ("SREM", "s", "zz"), ("SREM", "s", "a"), ("SPOP", "s", "0"),
    ("SMOVE", "s", "t", "b"), ("SMOVE", "s", "t", "c"), ("SMOVE", "t", "t", "b"), ("SADD", "u", "1", "2"),
    ("SINTERSTORE", "d", "u", "t"), ("SADD", "t", "1"), ("SINTERSTORE", "d", "u", "t"), ("SUNIONSTORE", "d", "u", "t"),
    ("SDIFFSTORE", "d", "u", "t"), ("SDIFFSTORE", "d", "t", "u"), ("SUNIONSTORE", "d", "nokey"), ("SPOP", "u", "10"),
    ("SADD", "v", "x"), ("SPOP", "v"),
]


def test_keyspace_events_match_redis(notifying_pair):
    real, ours = notifying_pair
    assert _events(ours.port, EVENT_SEQUENCE) == _events(real.port, EVENT_SEQUENCE)
