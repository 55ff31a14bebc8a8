"""Differential tests: sorted set, geo and SORT commands against a real redis-server, byte for byte.

The reference server is Redis 7.0, which formats non-integral doubles with
%.17g where 7.2 (our reference) prints the shortest round-trip form; scores
here are integers or short binary fractions (x.5, x.25), which both print the
same, or replies with such doubles are compared as parsed floats.
"""

from __future__ import annotations

import random

import pytest
from conftest import RawClient, diff_replies

ZSET_SCRIPT = [
    ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
    ("ZADD", "z", "NX", "10", "a", "6", "f"),
    ("ZADD", "z", "XX", "CH", "1.5", "a", "7", "nope"),
    ("ZADD", "z", "GT", "CH", "0", "a", "8", "b"),
    ("ZADD", "z", "LT", "CH", "0", "a", "9", "c"),
    ("ZADD", "z", "INCR", "2.25", "a"),
    ("ZADD", "z", "XX", "INCR", "1", "zz"),
    ("ZADD", "z", "NX", "XX", "1", "a"),
    ("ZADD", "z", "GT", "LT", "1", "a"),
    ("ZADD", "z", "INCR", "1", "a", "1", "b"),
    ("ZADD", "z", "nan", "a"),
    ("ZADD", "z", "1"),
    ("ZINCRBY", "z", "-0.5", "a"),
    ("ZINCRBY", "z", "x", "a"),
    ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ("ZRANGE", "z", "-3", "-2", "REV", "WITHSCORES"),
    ("ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", "1", "2", "WITHSCORES"),
    ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "0", "3"),
    ("ZRANGE", "z", "0", "1", "LIMIT", "0", "1"),
    ("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"),
    ("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"),
    ("ZRANGEBYSCORE", "z", "", "(5"),
    ("ZRANGEBYSCORE", "z", "a", "1"),
    ("ZREVRANGEBYSCORE", "z", "(9", "2", "WITHSCORES", "LIMIT", "1", "10"),
    ("ZREVRANGE", "z", "0", "2"),
    ("ZCARD", "z"), ("ZSCORE", "z", "a"), ("ZSCORE", "z", "none"), ("ZMSCORE", "z", "a", "x", "c"),
    ("ZRANK", "z", "c"), ("ZREVRANK", "z", "c"), ("ZRANK", "z", "x"),
    ("ZCOUNT", "z", "(2", "9"), ("ZCOUNT", "z", "x", "1"),
    ("ZRANGESTORE", "dst", "z", "1", "3"), ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
    ("ZRANGESTORE", "dst", "z", "(3", "+inf", "BYSCORE", "LIMIT", "0", "2"), ("ZRANGE", "dst", "0", "-1"),
    ("ZRANGESTORE", "dst", "z", "5", "1"), ("EXISTS", "dst"),
    ("ZREM", "z", "a", "zz"),
    ("ZREMRANGEBYRANK", "z", "0", "0"), ("ZREMRANGEBYSCORE", "z", "(5", "7"), ("ZRANGE", "z", "0", "-1"),
    ("ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f"),
    ("ZRANGEBYLEX", "lex", "[b", "(e"), ("ZREVRANGEBYLEX", "lex", "+", "-", "LIMIT", "1", "2"),
    ("ZLEXCOUNT", "lex", "(a", "+"), ("ZLEXCOUNT", "lex", "+", "-"), ("ZRANGEBYLEX", "lex", "b", "c"),
    ("ZREMRANGEBYLEX", "lex", "[c", "[d"), ("ZRANGE", "lex", "0", "-1"),
    ("ZADD", "mixed", "1", "d", "2", "a", "3", "c", "4", "b"),
    ("ZRANGEBYLEX", "mixed", "[b", "[d"), ("ZREVRANGEBYLEX", "mixed", "[d", "[b"),
    ("ZLEXCOUNT", "mixed", "-", "[c"),
    ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "2"), ("ZPOPMIN", "z", "0"), ("ZPOPMIN", "z", "-1"), ("ZPOPMIN", "nokey"),
    ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
    ("ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "2"), ("ZMPOP", "1", "z", "MIN", "COUNT", "0"),
    ("ZMPOP", "0", "z", "MIN"), ("ZMPOP", "1", "nokey", "MIN"),
    ("BZPOPMIN", "z", "0"), ("BZPOPMIN", "nokey", "0.01"), ("BZMPOP", "0.01", "1", "z", "MIN"),
    ("EXISTS", "z"),
    ("ZADD", "z1", "1", "a", "2", "b", "3", "c"), ("ZADD", "z2", "10", "b", "20", "c", "30", "d"),
    ("SADD", "s", "c", "d", "e"),
    ("ZUNION", "3", "z1", "z2", "s", "WITHSCORES"),
    ("ZUNION", "2", "z1", "z2", "WEIGHTS", "2", "-1", "AGGREGATE", "MIN", "WITHSCORES"),
    ("ZINTER", "3", "z1", "z2", "s", "AGGREGATE", "MAX", "WITHSCORES"),
    ("ZDIFF", "3", "z2", "z1", "s", "WITHSCORES"),
    ("ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"),
    ("ZUNIONSTORE", "u", "2", "z1", "z2", "WEIGHTS", "1", "0.5"), ("ZRANGE", "u", "0", "-1", "WITHSCORES"),
    ("ZINTERSTORE", "u", "2", "z1", "nokey"), ("EXISTS", "u"),
    ("ZDIFFSTORE", "u", "1", "z1"), ("ZRANGE", "u", "0", "-1"),
    ("ZUNION", "0", "z1"), ("ZUNION", "3", "z1"), ("ZUNION", "1", "z1", "WEIGHTS", "x"),
    ("ZINTERCARD", "1", "z1", "LIMIT", "-1"),
    ("ZSCAN", "z1", "0"), ("ZSCAN", "z1", "0", "MATCH", "*b*"), ("ZSCAN", "z1", "x"),
    ("ZRANDMEMBER", "z1", "100", "WITHSCORES"), ("ZRANDMEMBER", "nokey", "3"), ("ZRANDMEMBER", "z1", "0"),
    ("SET", "str", "x"), ("ZADD", "str", "1", "a"), ("ZRANGE", "str", "0", "-1"), ("ZUNION", "2", "z1", "str"),
    ("BZPOPMIN", "str", "0"), ("ZSCAN", "str", "0"),
]


def test_zset_script(real_redis, server):
    diff_replies(real_redis.port, server.port, ZSET_SCRIPT)


def test_zset_script_resp3(real_redis, server):
    cmds = [c for c in ZSET_SCRIPT if c[0] not in ("BZPOPMIN", "BZMPOP")]
    diff_replies(real_redis.port, server.port, cmds, resp=3)


def _random_zset_commands(seed: int, n: int) -> list[tuple]:
    rnd = random.Random(seed)
    members = [f"m{i}" for i in range(40)]
    keys = ["k1", "k2"]
    out: list[tuple] = []

    def score() -> str:
        return str(rnd.choice([rnd.randint(-20, 20), rnd.randint(-20, 20) + 0.5, rnd.randint(0, 3)]))

    def bound() -> str:
        return rnd.choice(["-inf", "+inf", "(" + str(rnd.randint(-20, 20)), str(rnd.randint(-20, 20))])

    def lex() -> str:
        return rnd.choice(["-", "+", "[" + rnd.choice(members), "(" + rnd.choice(members)])

    for _ in range(n):
        k = rnd.choice(keys)
        op = rnd.randrange(14)
        if op < 3:
            opts = rnd.choice([[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["GT", "CH"], ["XX", "CH"]])
            pairs: list[str] = []
            for _ in range(rnd.randint(1, 6)):
                pairs += [score(), rnd.choice(members)]
            out.append(("ZADD", k, *opts, *pairs))
        elif op == 3:
            out.append(("ZINCRBY", k, score(), rnd.choice(members)))
        elif op == 4:
            out.append(("ZREM", k, *rnd.sample(members, 3)))
        elif op == 5:
            a, b = rnd.randint(-8, 8), rnd.randint(-8, 8)
            out.append(("ZRANGE", k, str(a), str(b), *rnd.choice([[], ["REV"], ["WITHSCORES"], ["REV", "WITHSCORES"]])))
        elif op == 6:
            lim = ["LIMIT", str(rnd.randint(-1, 4)), str(rnd.randint(-1, 6))] if rnd.random() < 0.5 else []
            rev = ["REV"] if rnd.random() < 0.5 else []
            out.append(("ZRANGE", k, bound(), bound(), "BYSCORE", *rev, *lim, "WITHSCORES"))
        elif op == 7:
            out.append(("ZCOUNT", k, bound(), bound()))
            out.append(("ZRANK", k, rnd.choice(members)))
            out.append(("ZREVRANK", k, rnd.choice(members)))
        elif op == 8:
            out.append(("ZREMRANGEBYSCORE", k, bound(), bound()))
        elif op == 9:
            out.append(("ZREMRANGEBYRANK", k, str(rnd.randint(-5, 5)), str(rnd.randint(-5, 5))))
        elif op == 10:
            out.append(("ZPOPMIN" if rnd.random() < 0.5 else "ZPOPMAX", k, str(rnd.randint(0, 3))))
        elif op == 11:
            cmd = rnd.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"])
            extra = [] if cmd == "ZDIFFSTORE" else rnd.choice(
                [[], ["WEIGHTS", "2", "-1"], ["AGGREGATE", "MIN"], ["AGGREGATE", "MAX", "WEIGHTS", "1", "3"]])
            out.append((cmd, "dst", "2", "k1", "k2", *extra))
            out.append(("ZRANGE", "dst", "0", "-1", "WITHSCORES"))
        elif op == 12:
            out.append(("ZRANGESTORE", "dst", k, bound(), bound(), "BYSCORE"))
            out.append(("ZRANGE", "dst", "0", "-1", "WITHSCORES"))
        else:
            out.append(("ZSCORE", k, rnd.choice(members)))
            out.append(("ZMSCORE", k, *rnd.sample(members, 3)))
            out.append(("ZCARD", k))
    # lex queries on a same-score set
    out.append(("ZADD", "lex", *[x for m in members for x in ("0", m)]))
    for _ in range(60):
        rev = rnd.random() < 0.5
        lim = ["LIMIT", str(rnd.randint(0, 3)), str(rnd.randint(-1, 5))] if rnd.random() < 0.4 else []
        out.append(("ZREVRANGEBYLEX" if rev else "ZRANGEBYLEX", "lex", lex(), lex(), *lim))
        out.append(("ZLEXCOUNT", "lex", lex(), lex()))
    out.append(("ZREMRANGEBYLEX", "lex", lex(), lex()))
    out.append(("ZRANGE", "lex", "0", "-1"))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_zset_ops(real_redis, server, seed):
    diff_replies(real_redis.port, server.port, _random_zset_commands(seed, 300))


def test_large_zsets(real_redis, server):
    members = [x for i in range(300) for x in (str(i % 37), f"member:{i}")]
    cmds = [
        ("ZADD", "big", *members),
        ("ZRANGE", "big", "100", "110", "WITHSCORES"),
        ("ZRANGEBYSCORE", "big", "(5", "7", "LIMIT", "3", "10"),
        ("ZREVRANGEBYSCORE", "big", "30", "-inf", "LIMIT", "50", "5", "WITHSCORES"),
        ("ZRANK", "big", "member:150"), ("ZREVRANK", "big", "member:150"),
        ("ZCOUNT", "big", "10", "(20"),
        ("ZREMRANGEBYRANK", "big", "10", "40"), ("ZREMRANGEBYSCORE", "big", "30", "+inf"),
        ("ZCARD", "big"), ("ZPOPMAX", "big", "5"), ("ZPOPMIN", "big", "3"),
        ("ZINTERCARD", "2", "big", "big"),
        ("ZUNIONSTORE", "u", "2", "big", "big", "AGGREGATE", "MAX"), ("ZRANGE", "u", "0", "20", "WITHSCORES"),
        ("OBJECT", "ENCODING", "big"), ("OBJECT", "ENCODING", "u"),
    ]
    diff_replies(real_redis.port, server.port, cmds)


# -- geo -------------------------------------------------------------------------------

GEO_SCRIPT = [
    ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
    ("GEOADD", "g", "-0.1278", "51.5074", "London", "2.3522", "48.8566", "Paris", "-74.006", "40.7128", "NYC",
     "139.6917", "35.6895", "Tokyo", "151.2093", "-33.8688", "Sydney", "0", "0", "Null",
     "180", "85.05112878", "NE", "-180", "-85.05112878", "SW"),
    ("GEOADD", "g", "200", "100", "bad"), ("GEOADD", "g", "XX", "NX", "1", "1", "a"),
    ("GEOADD", "g", "CH", "XX", "2.3523", "48.8566", "Paris"),
    ("GEOPOS", "g", "Palermo", "NE", "SW", "Null", "none"),
    ("GEODIST", "g", "London", "Paris", "km"), ("GEODIST", "g", "Tokyo", "Sydney"), ("GEODIST", "g", "NE", "SW", "mi"),
    ("GEODIST", "g", "London", "none"), ("GEODIST", "g", "a", "b", "yd"),
    ("GEOHASH", "g", "Palermo", "London", "NE", "SW", "none"),
    ("GEORADIUS", "g", "15", "37", "2000", "km", "WITHDIST", "WITHCOORD", "WITHHASH"),
    ("GEORADIUS", "g", "15", "37", "20000", "km", "COUNT", "4", "DESC", "WITHDIST"),
    ("GEORADIUS", "g", "15", "37", "20000", "km", "COUNT", "4", "ANY"),
    ("GEORADIUSBYMEMBER", "g", "Paris", "1000", "mi", "ASC", "WITHDIST"),
    ("GEORADIUSBYMEMBER_RO", "g", "Paris", "500", "km"),
    ("GEORADIUS", "g", "15", "37", "2000", "km", "STORE", "st"), ("ZRANGE", "st", "0", "-1", "WITHSCORES"),
    ("GEOSEARCH", "g", "FROMMEMBER", "London", "BYBOX", "2000", "1000", "km", "ASC", "WITHDIST", "WITHCOORD"),
    ("GEOSEARCH", "g", "FROMLONLAT", "150", "-30", "BYRADIUS", "1000", "km", "WITHHASH"),
    ("GEOSEARCHSTORE", "st", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "10000", "km", "COUNT", "3"),
    ("ZRANGE", "st", "0", "-1", "WITHSCORES"),
    ("GEOSEARCHSTORE", "st", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"), ("EXISTS", "st"),
    ("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "COUNT", "0"),
    ("GEOSEARCH", "g", "FROMMEMBER", "none", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "none", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "ANY"),
    ("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "WITHDIST", "ASC"),
]


def test_geo_script(real_redis, server):
    diff_replies(real_redis.port, server.port, GEO_SCRIPT)
    diff_replies(real_redis.port, server.port, [c for c in GEO_SCRIPT if c[0] != "ZRANGE"], resp=3)


def _random_geo(seed: int) -> tuple[list[tuple], list[tuple]]:
    rnd = random.Random(seed)
    adds: list[tuple] = []
    for k in range(6):
        args: list[str] = []
        for i in range(k * 50, k * 50 + 50):
            if i % 4 == 0:
                lon, lat = rnd.uniform(-15, 15), rnd.uniform(35, 60)
            elif i % 13 == 0:
                lon, lat = rnd.uniform(-180, 180), rnd.choice([84.5, -84.5, 70.2, -70.2])
            else:
                lon, lat = rnd.uniform(-180, 180), rnd.uniform(-85, 85)
            args += [f"{lon:.6f}", f"{lat:.6f}", f"p{i}"]
        adds.append(("GEOADD", "geo", *args))
    queries: list[tuple] = []
    scale = {"m": 1, "km": 1000, "mi": 1609.34, "ft": 0.3048}
    for _ in range(150):
        if rnd.random() < 0.5:
            frm = ["FROMLONLAT", f"{rnd.uniform(-180, 180):.5f}", f"{rnd.uniform(-85, 85):.5f}"]
        else:
            frm = ["FROMMEMBER", f"p{rnd.randrange(300)}"]
        unit = rnd.choice(list(scale))
        r = rnd.choice([5e4, 3e5, 1e6, 3e6, 8e6, 2e7]) / scale[unit]
        if rnd.random() < 0.5:
            by = ["BYRADIUS", f"{r:.3f}", unit]
        else:
            by = ["BYBOX", f"{r:.3f}", f"{r * rnd.choice([0.5, 1, 2]):.3f}", unit]
        opts: list[str] = []
        if rnd.random() < 0.6:
            opts.append(rnd.choice(["ASC", "DESC"]))
        if rnd.random() < 0.4:
            opts += ["COUNT", str(rnd.randint(1, 15))]
            if rnd.random() < 0.5:
                opts.append("ANY")
        opts += [o for o in ("WITHDIST", "WITHHASH", "WITHCOORD") if rnd.random() < 0.4]
        queries.append(("GEOSEARCH", "geo", *frm, *by, *opts))
    return adds, queries


@pytest.mark.parametrize("seed", [11, 12])
def test_random_geo_searches(real_redis, server, seed):
    adds, queries = _random_geo(seed)
    diff_replies(real_redis.port, server.port, adds + queries)


def test_geosearchstore_storedist_scores(real_redis, server):
    """Distances stored as scores are compared as floats (7.0 prints them with %.17g)."""
    adds, _ = _random_geo(5)
    a, b = RawClient(real_redis.port), RawClient(server.port)
    ra, rb = real_redis.client(), server.client()
    try:
        for cl in (a, b):
            cl.call("SELECT", "9")
            cl.call("FLUSHDB")
            for cmd in adds:
                cl.call(*cmd)
        for radius in ("500", "2000", "9000"):
            cmd = ("GEOSEARCHSTORE", "d", "geo", "FROMMEMBER", "p0", "BYRADIUS", radius, "km", "STOREDIST")
            assert a.call(*cmd) == b.call(*cmd)
            ra.select(9)
            rb.select(9)
            assert rb.zrange("d", 0, -1, withscores=True) == ra.zrange("d", 0, -1, withscores=True)
    finally:
        for x in (a, b, ra, rb):
            x.close()


# -- SORT --------------------------------------------------------------------------------

SORT_SCRIPT = [
    ("RPUSH", "l", "3", "1", "2", "10", "5", "7"),
    ("SORT", "l"), ("SORT", "l", "DESC"), ("SORT", "l", "ALPHA"), ("SORT", "l", "LIMIT", "1", "3"),
    ("SORT", "l", "LIMIT", "-2", "3"), ("SORT", "l", "LIMIT", "4", "-1"), ("SORT", "l", "LIMIT", "9", "1"),
    ("MSET", "w_1", "30", "w_2", "10", "w_3", "20", "w_10", "5", "w_7", "-1"),
    ("SORT", "l", "BY", "w_*"), ("SORT", "l", "BY", "w_*", "ALPHA", "DESC"),
    ("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "3", "GET", "#", "GET", "w_*"),
    ("HSET", "h_1", "f", "x1"), ("HSET", "h_2", "f", "x2"), ("HSET", "h_7", "g", "x7"),
    ("SORT", "l", "BY", "h_*->f", "ALPHA", "GET", "h_*->f", "GET", "#"),
    ("SORT", "l", "GET", "h_*->", "GET", "nope"),
    ("SORT", "l", "BY", "w_*", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
    ("SORT", "l", "GET", "h_*->f", "STORE", "dst"), ("LRANGE", "dst", "0", "-1"),
    ("SORT", "l", "LIMIT", "100", "1", "STORE", "dst"), ("EXISTS", "dst"),
    ("ZADD", "z", "3", "c", "1", "a", "2", "b"),
    ("SORT", "z", "BY", "nosort"), ("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "2"), ("SORT", "z", "ALPHA"),
    ("SADD", "s", "5", "3", "9", "1"), ("SORT", "s"), ("SORT", "s", "BY", "nosort", "STORE", "dst"),
    ("LRANGE", "dst", "0", "-1"),
    ("RPUSH", "odd", "1.5", " 2", "1e3", "-inf", "0x10", ""), ("SORT", "odd"),
    ("RPUSH", "bad", "1", "x"), ("SORT", "bad"), ("SORT", "bad", "STORE", "dst"), ("SORT", "bad", "ALPHA"),
    ("SORT", "l", "LIMIT", "x", "1"), ("SORT", "l", "BOGUS"), ("SORT_RO", "l", "STORE", "x"),
    ("SORT_RO", "l", "DESC"), ("SET", "str", "x"), ("SORT", "str"), ("SORT", "nokey"),
]


def test_sort_script(real_redis, server):
    diff_replies(real_redis.port, server.port, SORT_SCRIPT)
    diff_replies(real_redis.port, server.port, SORT_SCRIPT, resp=3)
