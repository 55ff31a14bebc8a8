"""Sorted set commands: options, errors, RESP2/RESP3 reply shapes, events, encodings, ZSCAN."""

from __future__ import annotations

import time

import pytest
import redis
from conftest import RawClient, err


def raw(server, *cmds, resp: int = 2) -> list[bytes]:
    c = RawClient(server.port, resp)
    try:
        return [c.call(*cmd) for cmd in cmds]
    finally:
        c.close()


# -- ZADD ---------------------------------------------------------------------


def test_zadd_basic_and_update(r):
    assert r.execute_command("ZADD", "z", 1, "a", 2, "b") == 2
    assert r.execute_command("ZADD", "z", 3, "a", 4, "c") == 1
    assert r.zrange("z", 0, -1, withscores=True) == [(b"b", 2.0), (b"a", 3.0), (b"c", 4.0)]
    assert r.execute_command("ZADD", "z", 3, "a") == 0


def test_zadd_nx_xx_ch(r):
    r.zadd("z", {"a": 1})
    assert r.execute_command("ZADD", "z", "NX", 5, "a", 6, "b") == 1
    assert r.zscore("z", "a") == 1.0
    assert r.execute_command("ZADD", "z", "XX", 7, "a", 8, "new") == 0
    assert r.zscore("z", "a") == 7.0 and r.zscore("z", "new") is None
    assert r.execute_command("ZADD", "z", "XX", "CH", 9, "a", 9, "b") == 2
    assert r.execute_command("ZADD", "z", "CH", 9, "a", 1, "c") == 1
    assert r.execute_command("ZADD", "nokey", "XX", 1, "a") == 0
    assert r.exists("nokey") == 0


def test_zadd_gt_lt(r):
    r.zadd("z", {"a": 5})
    assert r.execute_command("ZADD", "z", "GT", "CH", 3, "a") == 0
    assert r.execute_command("ZADD", "z", "GT", "CH", 6, "a") == 1
    assert r.execute_command("ZADD", "z", "LT", "CH", 7, "a") == 0
    assert r.execute_command("ZADD", "z", "LT", "CH", 2, "a") == 1
    assert r.zscore("z", "a") == 2.0
    # GT/LT still add new members
    assert r.execute_command("ZADD", "z", "GT", 100, "b") == 1


def test_zadd_incr(r, server):
    assert raw(server, ("ZADD", "z", "INCR", "1.5", "a"), ("ZADD", "z", "INCR", 2, "a"),
               ("ZADD", "z", "NX", "INCR", 2, "a"), ("ZADD", "z", "XX", "INCR", 2, "zz"),
               ("ZADD", "z", "GT", "INCR", -1, "a"), ("ZADD", "z", "INCR", "+inf", "a"),
               ("ZADD", "z", "INCR", "-inf", "a")) == [
        b"$3\r\n1.5\r\n", b"$3\r\n3.5\r\n", b"$-1\r\n", b"$-1\r\n", b"$-1\r\n", b"$3\r\ninf\r\n",
        b"-ERR resulting score is not a number (NaN)\r\n"]
    assert r.zscore("z", "a") == float("inf")
    assert raw(server, ("ZADD", "z", "INCR", 1, "b"), ("ZADD", "z", "XX", "INCR", 1, "c"), resp=3) == [
        b",1\r\n", b"_\r\n"]


def test_zadd_errors(r):
    assert err(r.execute_command, "ZADD", "z", "XX", "NX", 1, "a") == \
        "XX and NX options at the same time are not compatible"
    for opts in (("GT", "LT"), ("GT", "NX"), ("LT", "NX")):
        assert err(r.execute_command, "ZADD", "z", *opts, 1, "a") == \
            "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r.execute_command, "ZADD", "z", "INCR", 1, "a", 2, "b") == \
        "INCR option supports a single increment-element pair"
    assert err(r.execute_command, "ZADD", "z", 1, "a", 2) == "syntax error"
    assert err(r.execute_command, "ZADD", "z", "NX", "CH") == "syntax error"
    for bad in ("nan", "abc", " 1", "1 ", "1e400", ""):
        assert err(r.execute_command, "ZADD", "z", bad, "a") == "value is not a valid float"
    assert err(r.execute_command, "ZADD", "z") == "wrong number of arguments for 'zadd' command"
    assert r.exists("z") == 0
    r.set("s", "x")
    assert err(r.execute_command, "ZADD", "s", 1, "a").startswith("WRONGTYPE")


def test_zadd_accepts_c_float_syntax(r):
    r.execute_command("ZADD", "z", "0x10", "hex", "1e3", "exp", "-.5", "frac", "inf", "i", "-Infinity", "ni")
    assert r.zrange("z", 0, -1, withscores=True) == [
        (b"ni", float("-inf")), (b"frac", -0.5), (b"hex", 16.0), (b"exp", 1000.0), (b"i", float("inf"))]


def test_zincrby(r):
    assert r.zincrby("z", 2, "a") == 2.0
    assert r.zincrby("z", -0.5, "a") == 1.5
    assert r.zscore("z", "a") == 1.5
    assert err(r.zincrby, "z", "abc", "a") == "value is not a valid float"
    # the increment goes through ZADD's option parser, like in Redis
    assert err(r.execute_command, "ZINCRBY", "z", "nx", "a") == "syntax error"


def test_zrem_and_key_deletion(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zrem("z", "a", "nope") == 1
    assert r.zrem("nokey", "a") == 0
    assert r.zrem("z", "b", "c", "b") == 2
    assert r.exists("z") == 0


# -- reads ------------------------------------------------------------------------


def test_zcard_zscore_zmscore(r):
    r.zadd("z", {"a": 1.5, "b": -2})
    assert r.zcard("z") == 2 and r.zcard("nokey") == 0
    assert r.zscore("z", "a") == 1.5 and r.zscore("z", "x") is None and r.zscore("nokey", "a") is None
    assert r.zmscore("z", ["a", "x", "b"]) == [1.5, None, -2.0]
    assert r.zmscore("nokey", ["a", "b"]) == [None, None]
    assert err(r.execute_command, "ZMSCORE", "z") == "wrong number of arguments for 'zmscore' command"


def test_zrank_zrevrank_withscore(r, server):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zrank("z", "a") == 0 and r.zrevrank("z", "a") == 2
    assert r.zrank("z", "x") is None and r.zrank("nokey", "a") is None
    assert r.execute_command("ZRANK", "z", "b", "WITHSCORE") == [1, b"2"]
    assert r.execute_command("ZREVRANK", "z", "c", "withscore") == [0, b"3"]
    assert raw(server, ("ZRANK", "z", "x", "WITHSCORE"), ("ZRANK", "nokey", "x", "WITHSCORE"),
               ("ZRANK", "z", "x")) == [b"*-1\r\n", b"*-1\r\n", b"$-1\r\n"]
    assert raw(server, ("ZRANK", "z", "b", "WITHSCORE"), ("ZRANK", "z", "x", "WITHSCORE"), resp=3) == \
        [b"*2\r\n:1\r\n,2\r\n", b"_\r\n"]
    assert err(r.execute_command, "ZRANK", "z", "a", "WITHSCORES") == "syntax error"
    assert err(r.execute_command, "ZRANK", "z", "a", "WITHSCORE", "x") == \
        "wrong number of arguments for 'zrank' command"


def test_zcount_zlexcount(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zcount("z", "-inf", "+inf") == 4
    assert r.zcount("z", "(1", "(4") == 2
    assert r.zcount("z", 2, 2) == 1
    assert r.zcount("z", "(2", "2") == 0
    assert r.zcount("z", 5, 1) == 0
    assert r.zcount("nokey", 0, 1) == 0
    assert err(r.zcount, "z", "x", 1) == "min or max is not a float"
    assert err(r.zcount, "z", 1, "(nan") == "min or max is not a float"
    r.zadd("lex", {m: 0 for m in "abcdef"})
    assert r.zlexcount("lex", "-", "+") == 6
    assert r.zlexcount("lex", "[b", "(e") == 3
    assert r.zlexcount("lex", "(a", "[a") == 0
    assert r.zlexcount("lex", "+", "-") == 0
    assert err(r.zlexcount, "lex", "a", "[b") == "min or max not valid string range item"
    assert err(r.zlexcount, "lex", "-x", "+") == "min or max not valid string range item"


# -- ZRANGE family ---------------------------------------------------------------------


@pytest.fixture
def z5(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    return r


def test_zrange_by_rank(z5):
    r = z5
    assert r.zrange("z", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert r.zrange("z", -2, -1) == [b"d", b"e"]
    assert r.zrange("z", 3, 1) == []
    assert r.zrange("z", -100, 1) == [b"a", b"b"]
    assert r.zrange("z", 3, 100) == [b"d", b"e"]
    assert r.zrange("z", 10, 20) == []
    assert r.execute_command("ZRANGE", "z", 0, 1, "REV") == [b"e", b"d"]
    assert r.zrevrange("z", 0, 1, withscores=True) == [(b"e", 5.0), (b"d", 4.0)]
    assert r.execute_command("ZRANGE", "z", 0, 0, "WITHSCORES") == [b"a", b"1"]
    assert r.zrange("nokey", 0, -1) == []


def test_zrange_by_score(z5):
    r = z5
    assert r.zrangebyscore("z", "(1", 3) == [b"b", b"c"]
    assert r.zrangebyscore("z", "-inf", "+inf", start=1, num=2) == [b"b", b"c"]
    assert r.execute_command("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", -1, 2) == []
    assert r.execute_command("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 3, -5) == [b"d", b"e"]
    assert r.execute_command("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 1, 0) == []
    assert r.zrevrangebyscore("z", 4, "(2", withscores=True) == [(b"d", 4.0), (b"c", 3.0)]
    assert r.execute_command("ZRANGE", "z", "(5", 2, "BYSCORE", "REV", "LIMIT", 1, 1) == [b"c"]
    assert r.execute_command("ZRANGE", "z", 2, "(5", "BYSCORE") == [b"b", b"c", b"d"]
    # strtod semantics for the bounds: empty means 0, hex works, leading spaces are fine
    assert r.execute_command("ZRANGEBYSCORE", "z", " 0x2", "(0x4") == [b"b", b"c"]
    assert err(r.zrangebyscore, "z", "1 ", 2) == "min or max is not a float"


def test_zrange_by_lex(r):
    r.zadd("z", {m: 0 for m in "abcdefg"})
    assert r.zrangebylex("z", "[b", "(e") == [b"b", b"c", b"d"]
    assert r.zrangebylex("z", "-", "+", start=2, num=2) == [b"c", b"d"]
    assert r.zrevrangebylex("z", "+", "-", start=0, num=3) == [b"g", b"f", b"e"]
    assert r.zrevrangebylex("z", "(e", "[b") == [b"d", b"c", b"b"]
    assert r.execute_command("ZRANGE", "z", "[f", "[d", "BYLEX", "REV") == [b"f", b"e", b"d"]
    assert r.zrangebylex("z", "(g", "+") == []


def test_zrange_option_errors(z5):
    r = z5
    assert err(r.execute_command, "ZRANGE", "z", 0, 1, "LIMIT", 0, 1) == \
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert r.execute_command("ZRANGE", "z", 0, 0, "LIMIT", 0, -1) == [b"a"]
    assert err(r.execute_command, "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == \
        "syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(r.execute_command, "ZRANGE", "z", 0, 1, "BYSCORE", "BYLEX") == "syntax error"
    assert err(r.execute_command, "ZRANGE", "z", 0, 1, "LIMIT", 0) == "syntax error"
    assert err(r.execute_command, "ZRANGE", "z", "a", 1) == "value is not an integer or out of range"
    assert err(r.execute_command, "ZRANGE", "z", "x", 1, "BYSCORE") == "min or max is not a float"
    assert err(r.execute_command, "ZRANGE", "z", "x", 1, "BYLEX") == "min or max not valid string range item"
    assert err(r.execute_command, "ZREVRANGE", "z", 0, 1, "BYSCORE") == "syntax error"
    assert err(r.execute_command, "ZRANGEBYSCORE", "z", 0, 1, "REV") == "syntax error"


def test_zrange_resp3_withscores_pairs(r3):
    r3.zadd("z", {"a": 1, "b": 2.5})
    assert r3.execute_command("ZRANGE", "z", 0, -1, "WITHSCORES") == [[b"a", 1.0], [b"b", 2.5]]


def test_zrange_resp3_raw_bytes(server, r):
    r.zadd("z", {"a": 1, "b": 2.5})
    assert raw(server, ("ZRANGE", "z", 0, -1, "WITHSCORES"), ("ZSCORE", "z", "b"), ("ZSCORE", "z", "x"),
               ("ZINCRBY", "z", 1, "a"), resp=3) == [
        b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n", b",2.5\r\n", b"_\r\n", b",2\r\n"]
    assert raw(server, ("ZRANGE", "z", 0, -1, "WITHSCORES")) == [
        b"*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$3\r\n2.5\r\n"]


def test_zrangestore(z5):
    r = z5
    assert r.execute_command("ZRANGESTORE", "dst", "z", 1, 2) == 2
    assert r.zrange("dst", 0, -1, withscores=True) == [(b"b", 2.0), (b"c", 3.0)]
    assert r.execute_command("ZRANGESTORE", "dst", "z", "+inf", 4, "BYSCORE", "REV") == 2
    assert r.zrange("dst", 0, -1) == [b"d", b"e"]
    assert r.execute_command("ZRANGESTORE", "dst", "z", "[a", "[b", "BYLEX", "LIMIT", 0, 1) == 1
    r.expire("dst", 100)
    assert r.execute_command("ZRANGESTORE", "dst", "z", 0, 0) == 1
    assert r.ttl("dst") == -1
    assert r.execute_command("ZRANGESTORE", "dst", "z", 10, 20) == 0
    assert r.exists("dst") == 0
    r.zadd("dst", {"x": 1})
    assert r.execute_command("ZRANGESTORE", "dst", "nokey", 0, -1) == 0
    assert r.exists("dst") == 0
    assert err(r.execute_command, "ZRANGESTORE", "dst", "z", 0, -1, "WITHSCORES") == "syntax error"


def test_zremrange(r):
    r.zadd("z", {m: i for i, m in enumerate("abcdefgh")})
    assert r.zremrangebyrank("z", 0, 1) == 2
    assert r.zremrangebyrank("z", -1, -1) == 1
    assert r.zremrangebyrank("z", 10, 20) == 0
    assert r.zremrangebyscore("z", "(2", 4) == 2
    assert r.zrange("z", 0, -1) == [b"c", b"f", b"g"]
    r.zadd("lex", {m: 0 for m in "abcde"})
    assert r.zremrangebylex("lex", "[b", "(d") == 2
    assert r.zremrangebylex("lex", "-", "+") == 3
    assert r.exists("lex") == 0
    assert r.zremrangebyrank("nokey", 0, -1) == 0
    assert err(r.zremrangebyrank, "z", "a", 1) == "value is not an integer or out of range"
    assert err(r.zremrangebyscore, "z", "a", 1) == "min or max is not a float"
    assert err(r.zremrangebylex, "z", "a", "+") == "min or max not valid string range item"


# -- pops ----------------------------------------------------------------------------


def test_zpopmin_zpopmax(z5):
    r = z5
    assert r.zpopmin("z") == [(b"a", 1.0)]
    assert r.zpopmax("z", 2) == [(b"e", 5.0), (b"d", 4.0)]
    assert r.execute_command("ZPOPMIN", "z", 0) == []
    assert r.execute_command("ZPOPMIN", "nokey") == []
    assert r.execute_command("ZPOPMIN", "nokey", 3) == []
    assert r.zpopmin("z", 10) == [(b"b", 2.0), (b"c", 3.0)]
    assert r.exists("z") == 0
    assert err(r.execute_command, "ZPOPMIN", "z", -1) == "value is out of range, must be positive"
    assert err(r.execute_command, "ZPOPMIN", "z", "x") == "value is out of range, must be positive"
    assert err(r.execute_command, "ZPOPMIN", "z", 1, 2) == "syntax error"


def test_zpop_resp3_shapes(server, r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert raw(server, ("ZPOPMIN", "z"), ("ZPOPMIN", "z", 1), ("ZPOPMAX", "nokey"), resp=3) == [
        b"*2\r\n$1\r\na\r\n,1\r\n", b"*1\r\n*2\r\n$1\r\nb\r\n,2\r\n", b"*0\r\n"]


def test_zmpop(z5):
    r = z5
    assert r.execute_command("ZMPOP", 1, "z", "MIN") == [b"z", [[b"a", b"1"]]]
    assert r.execute_command("ZMPOP", 2, "nokey", "z", "MAX", "COUNT", 2) == [b"z", [[b"e", b"5"], [b"d", b"4"]]]
    assert r.execute_command("ZMPOP", 1, "nokey", "MIN") is None
    assert err(r.execute_command, "ZMPOP", 0, "z", "MIN") == "numkeys should be greater than 0"
    assert err(r.execute_command, "ZMPOP", "x", "z", "MIN") == "numkeys should be greater than 0"
    assert err(r.execute_command, "ZMPOP", 1, "z", "MID") == "syntax error"
    assert err(r.execute_command, "ZMPOP", 2, "z", "MIN") == "syntax error"
    assert err(r.execute_command, "ZMPOP", 1, "z", "MIN", "COUNT", 0) == "count should be greater than 0"
    assert err(r.execute_command, "ZMPOP", 1, "z", "MIN", "COUNT", 1, "COUNT", 1) == "syntax error"


def test_zmpop_resp3_null(server):
    assert raw(server, ("ZMPOP", 1, "nokey", "MIN"), resp=3) == [b"_\r\n"]
    assert raw(server, ("ZMPOP", 1, "nokey", "MIN")) == [b"*-1\r\n"]


# -- ZRANDMEMBER -------------------------------------------------------------------


def test_zrandmember(r, r3):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zrandmember("z") in (b"a", b"b", b"c")
    assert r.zrandmember("nokey") is None
    assert r.zrandmember("nokey", 3) == []
    assert r.zrandmember("z", 0) == []
    # count >= size: everything, in Redis' iteration order (from the tail)
    assert r.zrandmember("z", 10) == [b"c", b"b", b"a"]
    assert r.execute_command("ZRANDMEMBER", "z", 10, "WITHSCORES") == [b"c", b"3", b"b", b"2", b"a", b"1"]
    two = r.zrandmember("z", 2)
    assert len(two) == 2 and len(set(two)) == 2 and set(two) <= {b"a", b"b", b"c"}
    many = r.zrandmember("z", -20)
    assert len(many) == 20 and set(many) <= {b"a", b"b", b"c"}
    pairs = r.execute_command("ZRANDMEMBER", "z", -5, "WITHSCORES")
    assert len(pairs) == 10
    for m, s in zip(pairs[::2], pairs[1::2]):
        assert r.zscore("z", m) == float(s)
    assert r3.execute_command("ZRANDMEMBER", "z", 10, "WITHSCORES") == [[b"c", 3.0], [b"b", 2.0], [b"a", 1.0]]
    assert err(r.execute_command, "ZRANDMEMBER", "z", 1, "WITHSCORE") == "syntax error"
    assert err(r.execute_command, "ZRANDMEMBER", "z", "x") == "value is not an integer or out of range"
    assert err(r.execute_command, "ZRANDMEMBER", "z", 2**62, "WITHSCORES") == "value is out of range"


def test_zrandmember_large_set_unique(r):
    r.zadd("big", {f"m{i}": i for i in range(1000)})
    got = r.zrandmember("big", 100)
    assert len(got) == 100 and len(set(got)) == 100


# -- set algebra ---------------------------------------------------------------------------


@pytest.fixture
def sets(r):
    r.zadd("z1", {"a": 1, "b": 2, "c": 3})
    r.zadd("z2", {"b": 10, "c": 20, "d": 30})
    r.sadd("s", "c", "d", "e")
    return r


def test_zunion(sets):
    r = sets
    assert r.execute_command("ZUNION", 2, "z1", "z2", "WITHSCORES") == [
        b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    assert r.execute_command("ZUNION", 3, "z1", "z2", "s", "WEIGHTS", 2, 1, 100, "WITHSCORES") == [
        b"a", b"2", b"b", b"14", b"e", b"100", b"c", b"126", b"d", b"130"]
    assert r.execute_command("ZUNION", 2, "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES") == [
        b"a", b"1", b"b", b"2", b"c", b"3", b"d", b"30"]
    assert r.execute_command("ZUNION", 2, "z1", "z2", "AGGREGATE", "max") == [b"a", b"b", b"c", b"d"]
    assert r.execute_command("ZUNION", 2, "z1", "nokey") == [b"a", b"b", b"c"]


def test_zinter_zdiff_zintercard(sets):
    r = sets
    assert r.execute_command("ZINTER", 2, "z1", "z2", "WITHSCORES") == [b"b", b"12", b"c", b"23"]
    assert r.execute_command("ZINTER", 3, "z1", "z2", "s", "WITHSCORES") == [b"c", b"24"]
    assert r.execute_command("ZINTER", 2, "z1", "nokey") == []
    assert r.execute_command("ZDIFF", 2, "z1", "z2", "WITHSCORES") == [b"a", b"1"]
    assert r.execute_command("ZDIFF", 2, "z2", "s") == [b"b"]
    assert r.execute_command("ZDIFF", 2, "z1", "z1") == []
    assert r.execute_command("ZINTERCARD", 2, "z1", "z2") == 2
    assert r.execute_command("ZINTERCARD", 2, "z1", "z2", "LIMIT", 1) == 1
    assert r.execute_command("ZINTERCARD", 2, "z1", "z2", "LIMIT", 0) == 2
    assert err(r.execute_command, "ZINTERCARD", 2, "z1", "z2", "LIMIT", -1) == "LIMIT can't be negative"
    assert err(r.execute_command, "ZINTERCARD", 1, "z1", "WITHSCORES") == "syntax error"


def test_nan_sums_become_zero(r):
    r.zadd("p", {"a": float("inf")})
    r.zadd("n", {"a": float("-inf")})
    assert r.execute_command("ZUNION", 2, "p", "n", "WITHSCORES") == [b"a", b"0"]
    assert r.execute_command("ZINTER", 2, "p", "n", "WEIGHTS", 0, 1, "WITHSCORES") == [b"a", b"-inf"]


def test_store_variants(sets):
    r = sets
    assert r.zunionstore("dst", ["z1", "z2"]) == 4
    assert r.zrange("dst", 0, -1, withscores=True)[-1] == (b"d", 30.0)
    assert r.zinterstore("dst", {"z1": 1, "z2": -1}) == 2
    assert r.zrange("dst", 0, -1, withscores=True) == [(b"c", -17.0), (b"b", -8.0)]
    assert r.execute_command("ZDIFFSTORE", "dst", 2, "z1", "z2") == 1
    assert r.zrange("dst", 0, -1) == [b"a"]
    assert r.execute_command("ZDIFFSTORE", "dst", 2, "z1", "z1") == 0
    assert r.exists("dst") == 0
    assert r.execute_command("ZUNIONSTORE", "z1", 2, "z1", "z2") == 4
    assert r.zcard("z1") == 4


def test_setop_errors(sets):
    r = sets
    assert err(r.execute_command, "ZUNION", 0, "z1") == "at least 1 input key is needed for 'zunion' command"
    assert err(r.execute_command, "ZUNIONSTORE", "d", 0, "z1") == \
        "at least 1 input key is needed for 'zunionstore' command"
    assert err(r.execute_command, "ZINTERCARD", 0, "z1") == "at least 1 input key is needed for 'zintercard' command"
    assert err(r.execute_command, "ZUNION", "x", "z1") == "value is not an integer or out of range"
    assert err(r.execute_command, "ZUNION", 3, "z1", "z2") == "syntax error"
    assert err(r.execute_command, "ZUNION", 1, "z1", "WEIGHTS", "x") == "weight value is not a float"
    assert err(r.execute_command, "ZUNION", 1, "z1", "WEIGHTS", 1, 2) == "syntax error"
    assert err(r.execute_command, "ZUNION", 1, "z1", "AGGREGATE", "avg") == "syntax error"
    assert err(r.execute_command, "ZDIFF", 1, "z1", "WEIGHTS", 1) == "syntax error"
    assert err(r.execute_command, "ZUNIONSTORE", "d", 1, "z1", "WITHSCORES") == "syntax error"
    r.set("str", "x")
    # the type check comes before the option parsing
    assert err(r.execute_command, "ZUNION", 2, "z1", "str", "BOGUS").startswith("WRONGTYPE")


# -- ZSCAN -----------------------------------------------------------------------------------


def test_zscan_small_returns_everything(r, server):
    r.zadd("z", {"a": 1, "b": 2.5, "c": 3})
    assert raw(server, ("ZSCAN", "z", "0"), ("ZSCAN", "z", "0", "MATCH", "[ab]"), ("ZSCAN", "nokey", "0"),
               ("ZSCAN", "z", "0"), resp=3)[:3] == [
        b"*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n$1\r\nc\r\n$1\r\n3\r\n",
        b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
        b"*2\r\n$1\r\n0\r\n*0\r\n"]
    assert err(r.execute_command, "ZSCAN", "z", "x") == "invalid cursor"
    assert err(r.execute_command, "ZSCAN", "z", 0, "COUNT", 0) == "syntax error"
    assert err(r.execute_command, "ZSCAN", "z", 0, "TYPE", "zset") == "syntax error"
    assert err(r.execute_command, "ZSCAN", "z", 0, "COUNT", "x") == "value is not an integer or out of range"


def test_zscan_large_full_iteration_with_changes(r):
    r.zadd("z", {f"m{i}": i for i in range(1000)})
    seen: dict[bytes, float] = {}
    cursor = 0
    calls = 0
    while True:
        cursor, items = r.zscan("z", cursor, count=50)
        calls += 1
        for m, sc in items:
            seen[m] = sc
        if calls == 3:  # modify while iterating: surviving members must still all show up
            r.zrem("z", "m1", "m2")
            r.zadd("z", {f"new{i}": -1 for i in range(100)})
        if cursor == 0:
            break
    assert calls > 5
    for i in range(3, 1000):
        assert seen[f"m{i}".encode()] == i


# -- events, WATCH, encodings --------------------------------------------------------------


def test_keyspace_events(r, server):
    r.config_set("notify-keyspace-events", "KEA")
    p = server.client().pubsub()
    try:
        p.psubscribe("__keyspace@0__:*")
        assert p.get_message(timeout=10)["type"] == "psubscribe"
        r.zadd("z", {"a": 1, "b": 2, "c": 3})
        r.zincrby("z", 1, "a")
        r.zrem("z", "a")
        r.zremrangebyscore("z", 0, 2)
        r.zpopmax("z")
        r.zadd("z2", {"x": 1})
        r.zunionstore("u", ["z2"])
        r.zadd("z2", {"x": 1})  # no change: no event
        r.zremrangebyrank("z2", 0, 0)
        events = []
        deadline = time.time() + 15  # the 10 events below, then whatever else comes within 0.2 s
        while len(events) < 10 and time.time() < deadline:
            m = p.get_message(timeout=0.2)
            if m:
                events.append((m["channel"].split(b":", 1)[1], m["data"]))
        while (m := p.get_message(timeout=0.2)) is not None:
            events.append((m["channel"].split(b":", 1)[1], m["data"]))
        assert events == [
            (b"z", b"zadd"), (b"z", b"zincr"), (b"z", b"zrem"), (b"z", b"zremrangebyscore"),
            (b"z", b"zpopmax"), (b"z", b"del"), (b"z2", b"zadd"), (b"u", b"zunionstore"),
            (b"z2", b"zremrangebyrank"), (b"z2", b"del")]
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")


def test_watch_invalidated_by_zadd(r, server):
    other = server.client()
    try:
        r.zadd("z", {"a": 1})
        with r.pipeline() as pipe:
            pipe.watch("z")
            other.zadd("z", {"b": 2})
            pipe.multi()
            pipe.zcard("z")
            with pytest.raises(redis.WatchError):
                pipe.execute()
    finally:
        other.close()


def test_object_encoding(r):
    r.zadd("z", {"a": 1})
    assert r.object("encoding", "z") == b"listpack"
    r.zadd("z", {f"m{i}": i for i in range(200)})
    assert r.object("encoding", "z") == b"skiplist"
    r.zremrangebyrank("z", 0, -5)
    assert r.object("encoding", "z") == b"skiplist"  # Redis never converts back by itself
    r.zadd("long", {"x" * 100: 1})
    assert r.object("encoding", "long") == b"skiplist"
    r.zunionstore("small", ["z"])
    assert r.object("encoding", "small") == b"listpack"
