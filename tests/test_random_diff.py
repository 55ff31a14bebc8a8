"""Model-free differential random testing: seeded command sequences against redis-server.

Each family (tests/randcmds.py) generates deterministic sequences over tiny key
and member pools, with a share of mutated arguments; every sequence runs on
fastredis and on the installed redis-server in RESP2 and RESP3, comparing raw
reply bytes (order-insensitively only where Redis leaves the order to hash
tables or chance), then a dump of both datasets (type, value, expiry, encoding).

A failure names the family and seed: ``randcmds.sequence(family, seed)``
rebuilds the exact sequence.  Known 7.0 (installed) vs 7.2 (reference)
differences are kept out of the generators or folded by the comparison: see
randcmds.py.

The regression tests at the end are minimised reproductions of bugs the
random runs found.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import randcmds
from conftest import RawClient, ServerProcess
from randcmds import BLOCK, ENC, EXACT, SORTED, Cmd

# seeds per family and protocol (the blocking family waits out its 0.2 s timeouts: fewer, shorter)
SEEDS = 32
LENGTH = 60
SLOW = {"blocking": (6, 30)}
FAMILIES = randcmds.FAMILY_NAMES + ["mixed"]


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request, real_redis: ServerProcess, server: ServerProcess) -> Iterator[tuple]:
    """Raw clients on redis-server (reference) and fastredis, same protocol."""
    a, b = RawClient(real_redis.port, request.param), RawClient(server.port, request.param)
    a2, b2 = RawClient(real_redis.port, request.param), RawClient(server.port, request.param)
    yield a, b, request.param, a2, b2
    for cl in (a, b, a2, b2):
        cl.close()


@pytest.mark.parametrize("family", FAMILIES)
def test_random_sequences(pair, family: str) -> None:
    a, b, resp, a2, b2 = pair
    base = 0 if resp == 2 else 10_000  # different sequences per protocol
    failures = []
    seeds, length = SLOW.get(family, (SEEDS, LENGTH))
    for seed in range(base, base + seeds):
        err = randcmds.run_pair(a.call, b.call, randcmds.sequence(family, seed, length), a2.call, b2.call,
                                randcmds.io_of(a), randcmds.io_of(b))
        if err:
            failures.append(f"randcmds.sequence({family!r}, {seed}, {length}) resp{resp}: {err}")
    assert not failures, "\n".join(failures[:5])


def test_generators_are_deterministic() -> None:
    """The same seed must give the same sequence, or failures would not reproduce."""
    for family in FAMILIES:
        one, two = randcmds.sequence(family, 7), randcmds.sequence(family, 7)
        assert one == two and [c.mode for c in one] == [c.mode for c in two]
        assert randcmds.sequence(family, 8) != one


def test_comparison_catches_differences() -> None:
    """The normalisation must not hide real differences (a reply or a dataset)."""
    def fake(reply: bytes):
        def call(*args: bytes) -> bytes:
            if args[0] in (b"SELECT", b"FLUSHDB"):
                return b"+OK\r\n"
            return b"*0\r\n" if args[0] == b"KEYS" else reply
        return call

    get = [Cmd([b"GET", b"k"])]
    assert randcmds.run_pair(fake(b"$1\r\nx\r\n"), fake(b"$1\r\nx\r\n"), get) is None
    assert randcmds.run_pair(fake(b"$1\r\nx\r\n"), fake(b"$1\r\ny\r\n"), get) is not None
    na = randcmds.normalise(SORTED, randcmds.parse(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n")[0], Cmd([b"SMEMBERS"]))
    nb = randcmds.normalise(SORTED, randcmds.parse(b"*2\r\n$1\r\nb\r\n$1\r\na\r\n")[0], Cmd([b"SMEMBERS"]))
    nc = randcmds.normalise(SORTED, randcmds.parse(b"*2\r\n$1\r\nb\r\n$1\r\nb\r\n")[0], Cmd([b"SMEMBERS"]))
    assert na == nb and na != nc
    assert randcmds.same((b"$", b"1e+20"), (b"$", b"100000000000000000000"))
    assert not randcmds.same((b"$", b"1e+20"), (b"$", b"200000000000000000000"))
    assert not randcmds.same((b"$", b"1"), (b"$", b"1.0"))
    e1 = randcmds.normalise(ENC, (b"$", b"listpack"), Cmd([b"OBJECT", b"ENCODING", b"k"]), ktype=b"hash")
    e2 = randcmds.normalise(ENC, (b"$", b"hashtable"), Cmd([b"OBJECT", b"ENCODING", b"k"]), ktype=b"hash")
    assert e1 != e2


# ---------------------------------------------------------------------------
# regressions found by the random runs (minimised)
# ---------------------------------------------------------------------------

def _c(*args, mode: str = EXACT) -> Cmd:
    return Cmd(args, mode)


REGRESSIONS = {
    # SORT converts a listpack sorted set to skiplist (zsetConvert in sortCommandGeneric), SORT_RO too,
    # also when the sort then fails
    "sort-zset-skiplist": [
        _c("ZADD", "z", "0", "a", "1", "b"), _c("OBJECT", "ENCODING", "z"), _c("SORT", "z", "BY", "w_*"),
        _c("OBJECT", "ENCODING", "z"), _c("ZADD", "z2", "1", "x"), _c("SORT_RO", "z2", "LIMIT", "0", "1"),
        _c("OBJECT", "ENCODING", "z2"), _c("ZADD", "z3", "1", "x"), _c("SORT", "z3"), _c("OBJECT", "ENCODING", "z3"),
        _c("ZADD", "z4", "1", "y"), _c("SORT", "z4", "BY", "nosort"), _c("OBJECT", "ENCODING", "z4"),
        _c("ZADD", "z5", "-0", "m"), _c("SORT", "z5"), _c("ZADD", "z5", "-0", "n"), _c("ZRANGE", "z5", "0", "-1", "WITHSCORES"),
    ],
    # RESP3 XREAD naming one stream twice: a map with the key repeated, like Redis
    "xread-same-key-twice": [
        _c("XADD", "s", "1-1", "f", "v"), _c("XADD", "s", "2-0", "g", "w"), _c("XREAD", "STREAMS", "s", "s", "0", "0"),
        _c("XREAD", "COUNT", "1", "STREAMS", "s", "s", "s", "0-0", "1-1", "2-0"),
        _c("XREAD", "STREAMS", "s", "nokey", "s", "0", "0", "1"),
    ],
    # SORT ALPHA without STORE compares with strcoll(): strings equal up to a NUL tie (stable order)
    "sort-alpha-nul": [
        _c("RPUSH", "l", b"a\x00z", "a", b"b\x00", "b", b"a\x00y"), _c("SORT", "l", "ALPHA"),
        _c("SORT", "l", "ALPHA", "DESC"), _c("SORT", "l", "ALPHA", "LIMIT", "1", "3"),
        _c("RPUSH", "l2", "a", b"a\x00z", "b", b"b\x00", b"a\x00y"), _c("SORT", "l2", "ALPHA"),
        _c("SORT", "l", "ALPHA", "STORE", "d"), _c("LRANGE", "d", "0", "-1"),
        _c("SET", "w_1", b"x\x00b"), _c("SET", "w_2", b"x\x00a"), _c("RPUSH", "n", "1", "2"),
        _c("SORT", "n", "BY", "w_*", "ALPHA"), _c("SORT", "n", "BY", "w_*", "ALPHA", "STORE", "d2"),
        _c("LRANGE", "d2", "0", "-1"),
    ],
    # LIMIT on a lex range over mixed scores: Redis skips the offset without range checks, then
    # emits while <= max (>= min reversed)
    "lex-limit-mixed-scores": [
        _c("ZADD", "k", "4", "d", "0.75", "b", "5", "aa", "-2.5", "a", "1", "c", "2", "ab"),
        _c("ZRANGEBYLEX", "k", "-", "[aa", "LIMIT", "3", "2"), _c("ZRANGEBYLEX", "k", "-", "[aa", "LIMIT", "1", "10"),
        _c("ZRANGEBYLEX", "k", "(a", "[c", "LIMIT", "2", "10"), _c("ZREVRANGEBYLEX", "k", "[aa", "-", "LIMIT", "1", "10"),
        _c("ZREVRANGEBYLEX", "k", "[d", "(a", "LIMIT", "3", "1"), _c("ZRANGE", "k", "[b", "[d", "BYLEX", "LIMIT", "1", "3"),
        _c("ZRANGE", "k", "[d", "[b", "BYLEX", "REV", "LIMIT", "1", "3"),
        _c("ZRANGESTORE", "dst", "k", "[b", "[d", "BYLEX", "LIMIT", "1", "3"),
        _c("ZRANGEBYLEX", "k", "-", "+", "LIMIT", "6", "10"), _c("ZRANGEBYLEX", "k", "-", "+", "LIMIT", "-1", "10"),
    ],
    # SWAPDB breaks a WATCH only on keys that exist in one of the two databases
    "swapdb-watch": [
        _c("WATCH", "k1", "k2"), Cmd([b"SWAPDB", b"9", b"10"], client=1), _c("MULTI"), _c("INCR", "k1"), _c("EXEC"),
        _c("SELECT", "10"), _c("SET", "k1", "v"), _c("SELECT", "9"), _c("WATCH", "k1"),
        Cmd([b"SWAPDB", b"9", b"10"], client=1), _c("MULTI"), _c("GET", "k1"), _c("EXEC"),
        _c("WATCH", "k1"), Cmd([b"SWAPDB", b"10", b"9"], client=1), _c("MULTI"), _c("GET", "k1"), _c("EXEC"),
        _c("WATCH", "nosuch"), _c("SWAPDB", "9", "10"), _c("MULTI"), _c("PING"), _c("EXEC"),
    ],
    # a client blocked on a sorted set is not served (nor failed) when the key becomes another type
    "blocked-zpop-wrong-type": [
        _c("BZPOPMIN", "k", "0.3", mode=BLOCK), Cmd([b"XADD", b"k", b"1-1", b"f", b"v"], client=1),
        _c("__READ__", mode=BLOCK), _c("DEL", "k"),
        _c("BZMPOP", "0.3", "1", "k", "MIN", mode=BLOCK), Cmd([b"LPUSH", b"k", b"x"], client=1),
        _c("__READ__", mode=BLOCK), _c("DEL", "k"),
        _c("BZPOPMAX", "k", "0.3", mode=BLOCK), Cmd([b"SET", b"k", b"x"], client=1),
        Cmd([b"DEL", b"k"], client=1), Cmd([b"ZADD", b"k", b"1", b"m"], client=1), _c("__READ__", mode=BLOCK),
    ],
    # SWAPDB taking a stream away from a blocked XREADGROUP wakes it (scanDatabaseForDeletedKeys)
    "swapdb-wakes-xreadgroup": [
        _c("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
        _c("XREADGROUP", "GROUP", "g", "c", "BLOCK", "300", "STREAMS", "s", ">", mode=BLOCK),
        Cmd([b"SWAPDB", b"9", b"10"], client=1), _c("__READ__", mode=BLOCK),
    ],
    # error texts quote arguments as raw C strings: bytes kept, cut at a NUL (and %.128s)
    "binary-in-error-text": [
        _c("SET", "k", "v"), _c("OBJECT", b"\x00\xff", "k"), _c("OBJECT", b"ab\xffcd", "k"),
        _c("OBJECT", b"\xc3\xa9t\xe9", "k"), _c("OBJECT", "x" * 200, "k"), _c("EXPIRE", "k", "100", b"\x00\xff"),
        _c("EXPIRE", "k", "100", b"gt\xff"), _c("PEXPIRE", "k", "100", b"\xfe\x00x"), _c("CONFIG", b"\xff\xfe"),
        _c("XINFO", b"\xe9"),
    ],
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(pair, name: str) -> None:
    a, b, _resp, a2, b2 = pair
    err = randcmds.run_pair(a.call, b.call, REGRESSIONS[name], a2.call, b2.call, randcmds.io_of(a),
                            randcmds.io_of(b))
    assert err is None, err
