"""String commands through the network: options, errors, expiry, RESP3, events, propagation."""

from __future__ import annotations

import os
import time

import pytest
import redis
from conftest import ServerProcess, aof_commands, raw_command, within

BKEY = b"\x00key\xff\r\n"
BVAL = b"\xff\x00\r\nval\x00"


@pytest.fixture
def rc(r: redis.Redis) -> redis.Redis:
    """The RESP2 client without redis-py's reply conversions (OK stays b"OK", floats stay bulk)."""
    r.response_callbacks.clear()
    return r


def err(r: redis.Redis, *args) -> str:
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def wait_gone(r: redis.Redis, key, timeout: float = 15.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if r.get(key) is None:
            return True
        time.sleep(0.02)
    return False


# ---------------------------------------------------------------------------
# SET and its options
# ---------------------------------------------------------------------------

def test_set_get_binary(r):
    assert r.set(BKEY, BVAL) is True
    assert r.get(BKEY) == BVAL
    assert r.get(b"nokey") is None
    assert r.set("empty", b"") is True
    assert r.get("empty") == b""
    big = os.urandom(200_000)
    r.set("big", big)
    assert r.get("big") == big


def test_set_nx_xx(rc):
    assert rc.execute_command("SET", "k", "1", "XX") is None
    assert rc.get("k") is None
    assert rc.execute_command("SET", "k", "1", "NX") == b"OK"
    assert rc.execute_command("SET", "k", "2", "NX") is None
    assert rc.get("k") == b"1"
    assert rc.execute_command("SET", "k", "3", "XX") == b"OK"
    assert rc.get("k") == b"3"
    assert rc.execute_command("SET", "k", "4", "nx", "nx") is None


def test_set_get_option(rc):
    assert rc.execute_command("SET", "k", "1", "GET") is None
    assert rc.execute_command("SET", "k", "2", "GET") == b"1"
    assert rc.execute_command("SET", "k", "3", "NX", "GET") == b"2"
    assert rc.get("k") == b"2"
    assert rc.execute_command("SET", "new", "x", "XX", "GET") is None
    assert rc.get("new") is None
    assert rc.execute_command("SET", "k", "4", "XX", "GET", "GET") == b"2"
    assert rc.get("k") == b"4"
    rc.rpush("list", "a")
    assert err(rc, "SET", "list", "v", "GET").startswith("WRONGTYPE")
    assert rc.lrange("list", 0, -1) == [b"a"]
    # without GET, SET overwrites any type
    assert rc.set("list", "v") == b"OK"
    assert rc.get("list") == b"v"


@pytest.mark.parametrize("opts", [
    ("NX", "XX"), ("XX", "NX"), ("EX", "10", "PX", "10"), ("PX", "10", "EX", "10"),
    ("EX", "10", "EXAT", "10"), ("PXAT", "10", "EXAT", "10"), ("EX", "10", "KEEPTTL"),
    ("KEEPTTL", "PX", "10"), ("KEEPTTL", "PXAT", "10"), ("PERSIST",), ("EX",), ("PX",),
    ("FOO",), ("EX", "10", "BAR"), ("GETX",),
])
def test_set_syntax_errors(r, opts):
    assert err(r, "SET", "k", "v", *opts) == "syntax error"
    assert r.get("k") is None


@pytest.mark.parametrize("opts", [
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("PX", "-100"), ("EXAT", "0"), ("PXAT", "-1"),
    ("EX", "9223372036854775807"), ("EX", "9223372036854776"), ("PX", "9223372036854775807"),
    ("EXAT", "9223372036854776"),
])
def test_set_invalid_expire(r, opts):
    assert err(r, "SET", "k", "v", *opts) == "invalid expire time in 'set' command"
    assert r.get("k") is None


def test_set_expire_not_integer(r):
    for bad in ("abc", "1.5", " 1", "99999999999999999999", ""):
        assert err(r, "SET", "k", "v", "EX", bad) == "value is not an integer or out of range"
    # the expire is checked before GET looks at the type
    r.rpush("l", "x")
    assert err(r, "SET", "l", "v", "EX", "0", "GET") == "invalid expire time in 'set' command"


def test_set_expiry_options(r):
    def px():
        r.execute_command("SET", "px", "v", "PX", "150")
        return r.get("px")

    assert within(0.15, px) == b"v"
    r.execute_command("SET", "ex", "v", "EX", "1000")
    assert wait_gone(r, "px")
    assert r.get("ex") == b"v"
    # absolute times in the past expire at once
    r.execute_command("SET", "exat", "v", "EXAT", "1")
    assert r.get("exat") is None
    def pxat():
        r.execute_command("SET", "pxat", "v", "PXAT", str(int(time.time() * 1000) + 150))
        return r.get("pxat")

    assert within(0.14, pxat) == b"v"
    assert wait_gone(r, "pxat")


def test_set_keepttl_and_plain_set_drops_ttl(rc):
    def keepttl():
        rc.execute_command("SET", "k", "1", "PX", "300")
        return rc.execute_command("SET", "k", "2", "KEEPTTL"), rc.get("k")

    assert within(0.3, keepttl) == (b"OK", b"2")
    assert wait_gone(rc, "k")
    rc.execute_command("SET", "k", "1", "PX", "100")
    rc.set("k", "2")
    time.sleep(0.25)
    assert rc.get("k") == b"2"


def test_set_uses_pttl(rc):
    rc.execute_command("SET", "k", "v", "EX", "100")
    assert 99_000 < rc.pttl("k") <= 100_000
    rc.execute_command("SET", "k", "v", "PX", "5000", "GET")
    assert 4_000 < rc.pttl("k") <= 5_000
    at = int(time.time() * 1000) + 50_000
    rc.execute_command("SET", "k", "v", "PXAT", str(at))
    assert 45_000 < rc.pttl("k") <= 50_000
    rc.execute_command("SET", "k", "v", "EXAT", str(at // 1000))
    assert 45_000 < rc.pttl("k") <= 50_000
    rc.execute_command("SET", "k", "w", "KEEPTTL")
    assert rc.pttl("k") > 45_000
    rc.set("k", "x")
    assert rc.pttl("k") == -1


def test_setnx_setex_psetex(rc):
    assert rc.execute_command("SETNX", "k", "1") == 1
    assert rc.execute_command("SETNX", "k", "2") == 0
    assert rc.get("k") == b"1"
    assert rc.execute_command("SETEX", "k", "100", "v") == b"OK"
    assert rc.get("k") == b"v"
    assert err(rc, "SETEX", "k", "0", "v") == "invalid expire time in 'setex' command"
    assert err(rc, "SETEX", "k", "-1", "v") == "invalid expire time in 'setex' command"
    assert err(rc, "SETEX", "k", "9223372036854775807", "v") == "invalid expire time in 'setex' command"
    assert err(rc, "SETEX", "k", "x", "v") == "value is not an integer or out of range"
    assert err(rc, "PSETEX", "k", "0", "v") == "invalid expire time in 'psetex' command"
    assert err(rc, "PSETEX", "k", "9223372036854775807", "v") == "invalid expire time in 'psetex' command"
    assert rc.execute_command("PSETEX", "p", "150", "v") == b"OK"
    assert rc.get("p") == b"v"
    assert wait_gone(rc, "p")
    rc.rpush("l", "x")
    assert rc.execute_command("SETNX", "l", "v") == 0
    assert rc.execute_command("SETEX", "l", "10", "v") == b"OK"
    assert rc.get("l") == b"v"


# ---------------------------------------------------------------------------
# GET family
# ---------------------------------------------------------------------------

def test_get_wrongtype(r):
    r.rpush("l", "x")
    assert err(r, "GET", "l").startswith("WRONGTYPE Operation against a key holding the wrong kind of value")


def test_getex(rc):
    assert rc.execute_command("GETEX", "nokey") is None
    # the expire is validated only when the key exists
    assert rc.execute_command("GETEX", "nokey", "EX", "0") is None
    rc.set("k", "v")
    assert rc.execute_command("GETEX", "k") == b"v"
    assert err(rc, "GETEX", "k", "EX", "0") == "invalid expire time in 'getex' command"
    assert err(rc, "GETEX", "k", "PX", "-5") == "invalid expire time in 'getex' command"
    assert err(rc, "GETEX", "k", "EX", "9223372036854775807") == "invalid expire time in 'getex' command"
    assert err(rc, "GETEX", "k", "EX", "x") == "value is not an integer or out of range"
    for opts in (("EX", "1", "PX", "1"), ("PERSIST", "EX", "1"), ("EX", "1", "PERSIST"), ("KEEPTTL",),
                 ("NX",), ("GET",), ("EX",), ("FOO",)):
        assert err(rc, "GETEX", "k", *opts) == "syntax error"
    assert rc.execute_command("GETEX", "k", "PX", "150") == b"v"
    assert wait_gone(rc, "k")

    def persist():
        rc.execute_command("SET", "k", "v", "PX", "150")
        return rc.execute_command("GETEX", "k", "PERSIST")

    assert within(0.15, persist) == b"v"
    time.sleep(0.25)
    assert rc.get("k") == b"v"
    assert rc.execute_command("GETEX", "k", "EXAT", "1") == b"v"
    assert rc.get("k") is None
    rc.set("k", "v")
    assert rc.execute_command("GETEX", "k", "PXAT", "1") == b"v"
    assert rc.get("k") is None
    rc.rpush("l", "x")
    assert err(rc, "GETEX", "l").startswith("WRONGTYPE")


def test_getex_pttl(r):
    r.set("k", "v")
    r.execute_command("GETEX", "k", "EX", "100")
    assert 99_000 < r.pttl("k") <= 100_000
    r.execute_command("GETEX", "k", "PERSIST")
    assert r.pttl("k") == -1
    at = int(time.time() * 1000) + 30_000
    r.execute_command("GETEX", "k", "PXAT", str(at))
    assert 25_000 < r.pttl("k") <= 30_000


def test_getdel_getset(rc):
    assert rc.execute_command("GETDEL", "k") is None
    rc.set("k", "v")
    assert rc.execute_command("GETDEL", "k") == b"v"
    assert rc.get("k") is None
    assert rc.execute_command("GETSET", "k", "1") is None
    assert rc.execute_command("GETSET", "k", "2") == b"1"

    def getset():
        rc.execute_command("SET", "k", "3", "PX", "100")
        return rc.execute_command("GETSET", "k", "4")

    assert within(0.1, getset) == b"3"
    time.sleep(0.2)
    assert rc.get("k") == b"4"
    rc.rpush("l", "x")
    assert err(rc, "GETDEL", "l").startswith("WRONGTYPE")
    assert err(rc, "GETSET", "l", "x").startswith("WRONGTYPE")
    assert rc.lrange("l", 0, -1) == [b"x"]


def test_mget_mset_msetnx(rc):
    assert rc.execute_command("MSET", "a", "1", BKEY, BVAL) == b"OK"
    rc.rpush("l", "x")
    assert rc.execute_command("MGET", "a", BKEY, "nokey", "l") == [b"1", BVAL, None, None]
    assert err(rc, "MSET", "a") == "wrong number of arguments for 'mset' command"
    assert err(rc, "MSET", "a", "1", "b") == "wrong number of arguments for 'mset' command"
    assert err(rc, "MSETNX", "a", "1", "b") == "wrong number of arguments for 'msetnx' command"
    assert err(rc, "MGET") == "wrong number of arguments for 'mget' command"
    rc.execute_command("MSET", "a", "x", "a", "y")
    assert rc.get("a") == b"y"
    rc.execute_command("SET", "t", "v", "PX", "100")
    rc.execute_command("MSET", "t", "w")
    time.sleep(0.2)
    assert rc.get("t") == b"w"
    assert rc.execute_command("MSETNX", "n1", "1", "n2", "2") == 1
    assert rc.execute_command("MSETNX", "n2", "x", "n3", "3") == 0
    assert rc.get("n3") is None
    assert rc.execute_command("MSETNX", "n4", "1", "n4", "2") == 1
    assert rc.get("n4") == b"2"


# ---------------------------------------------------------------------------
# APPEND / STRLEN / GETRANGE / SETRANGE
# ---------------------------------------------------------------------------

def test_append_strlen(r):
    assert r.append("k", "hello") == 5
    assert r.append("k", " world") == 11
    assert r.get("k") == b"hello world"
    assert r.strlen("k") == 11
    assert r.strlen("nokey") == 0
    assert r.append(BKEY, BVAL) == len(BVAL)
    assert r.append(BKEY, BVAL) == 2 * len(BVAL)
    assert r.get(BKEY) == BVAL * 2
    r.rpush("l", "x")
    assert err(r, "APPEND", "l", "x").startswith("WRONGTYPE")
    assert err(r, "STRLEN", "l").startswith("WRONGTYPE")
    r.execute_command("SET", "t", "a", "PX", "150")
    r.append("t", "b")
    assert r.get("t") == b"ab"
    assert wait_gone(r, "t")


def test_append_many_times(r):
    for i in range(2000):
        r.append("k", b"%d," % i)
    assert r.get("k") == b"".join(b"%d," % i for i in range(2000))


def test_object_encoding_after_append_and_setrange(r):
    r.set("n", "123")
    assert r.object("encoding", "n") == b"int"
    r.append("n", "4")
    assert r.object("encoding", "n") == b"raw"
    assert r.get("n") == b"1234"
    assert r.incr("n") == 1235
    r.setrange("s", 2, "x")
    assert r.object("encoding", "s") == b"raw"
    r.set("e", "short")
    assert r.object("encoding", "e") == b"embstr"
    r.setrange("e", 0, "S")
    assert r.object("encoding", "e") == b"raw"


def test_getrange_substr(r):
    r.set("k", "Hello World")
    assert r.getrange("k", 0, 4) == b"Hello"
    assert r.getrange("k", -5, -1) == b"World"
    assert r.getrange("k", 0, -1) == b"Hello World"
    assert r.getrange("k", 0, 1000) == b"Hello World"
    assert r.getrange("k", 5, 3) == b""
    assert r.getrange("k", -1, -5) == b""
    assert r.getrange("k", 0, -100) == b"H"  # Redis 7.2 clamps end to 0
    assert r.getrange("k", 100, 200) == b""
    assert r.getrange("nokey", 0, -1) == b""
    assert r.execute_command("SUBSTR", "k", 6, 10) == b"World"
    assert err(r, "GETRANGE", "k", "x", "1") == "value is not an integer or out of range"
    r.set("e", "")
    assert r.getrange("e", 0, -1) == b""
    r.rpush("l", "x")
    assert err(r, "GETRANGE", "l", 0, 1).startswith("WRONGTYPE")


def test_setrange(r):
    r.set("k", "Hello World")
    assert r.setrange("k", 6, "Redis") == 11
    assert r.get("k") == b"Hello Redis"
    assert r.setrange("k", 14, "!") == 15
    assert r.get("k") == b"Hello Redis\x00\x00\x00!"
    assert r.setrange("k", 0, "") == 15
    assert r.setrange("new", 2, "ab") == 4
    assert r.get("new") == b"\x00\x00ab"
    assert r.setrange("none", 10, "") == 0
    assert r.get("none") is None
    assert err(r, "SETRANGE", "k", "-1", "x") == "offset is out of range"
    assert err(r, "SETRANGE", "k", "x", "x") == "value is not an integer or out of range"
    assert err(r, "SETRANGE", "k", str(512 * 1024 * 1024), "x") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert err(r, "SETRANGE", "k", "9223372036854775807", "x") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    r.rpush("l", "x")
    assert err(r, "SETRANGE", "l", "0", "").startswith("WRONGTYPE")
    r.execute_command("SET", "t", "abc", "PX", "150")
    r.setrange("t", 1, "X")
    assert r.get("t") == b"aXc"
    assert wait_gone(r, "t")


def test_append_size_limit():
    srv = ServerProcess(args=["--proto-max-bulk-len", "1048576"])
    try:
        r = srv.client()
        r.setrange("k", 1048575, "x")
        assert r.strlen("k") == 1048576
        assert err(r, "APPEND", "k", "y") == "string exceeds maximum allowed size (proto-max-bulk-len)"
        assert err(r, "SETRANGE", "k", "1048576", "y") == "string exceeds maximum allowed size (proto-max-bulk-len)"
        assert r.strlen("k") == 1048576
    finally:
        srv.stop()


# ---------------------------------------------------------------------------
# counters
# ---------------------------------------------------------------------------

def test_incr_decr(r):
    assert r.incr("c") == 1
    assert r.incrby("c", 10) == 11
    assert r.decr("c") == 10
    assert r.decrby("c", 20) == -10
    assert r.get("c") == b"-10"
    assert r.execute_command("INCRBY", "c", "-5") == -15
    for bad in ("x", "1.5", " 1", "9223372036854775808", ""):
        assert err(r, "INCRBY", "c", bad) == "value is not an integer or out of range"
    for stored in ("abc", " 1", "1 ", "01", "+1", "1.0", ""):
        r.set("s", stored)
        assert err(r, "INCR", "s") == "value is not an integer or out of range"
    r.rpush("l", "x")
    assert err(r, "INCR", "l").startswith("WRONGTYPE")


def test_incr_overflow(r):
    r.set("max", str(2**63 - 1))
    assert err(r, "INCR", "max") == "increment or decrement would overflow"
    assert r.decr("max") == 2**63 - 2
    r.set("min", str(-(2**63)))
    assert err(r, "DECR", "min") == "increment or decrement would overflow"
    assert err(r, "INCRBY", "min", "-1") == "increment or decrement would overflow"
    assert err(r, "DECRBY", "c", "-9223372036854775808") == "decrement would overflow"
    assert r.incr("min") == -(2**63) + 1


def test_incr_keeps_ttl(r):
    r.execute_command("SET", "c", "1", "PX", "150")
    assert r.incr("c") == 2
    assert r.get("c") == b"2"
    assert wait_gone(r, "c")


def test_incrbyfloat(rc):
    assert rc.incrbyfloat("f", 10.5) == b"10.5"
    assert rc.execute_command("INCRBYFLOAT", "f", "0.1") == b"10.6"
    assert rc.execute_command("INCRBYFLOAT", "f", "-5.0e3") == b"-4989.39999999999999991"
    assert rc.execute_command("INCRBYFLOAT", "f", "5.0e3") == b"10.60000000000000009"
    rc.set("f", "3")
    assert rc.execute_command("INCRBYFLOAT", "f", "-3") == b"0"
    assert rc.execute_command("INCRBYFLOAT", "f", "-0.000000000000000001") == b"0"
    assert rc.execute_command("INCRBYFLOAT", "f", "0x10") == b"16"
    rc.set("f", "1.5e2")
    assert rc.execute_command("INCRBYFLOAT", "f", "0") == b"150"
    assert rc.get("f") == b"150"
    assert rc.execute_command("INCRBYFLOAT", "big", "1e20") == b"100000000000000000000"
    for bad in ("abc", "", " 1", "1 ", "nan", "1e5000", "1e"):
        assert err(rc, "INCRBYFLOAT", "f", bad) == "value is not a valid float"
    for bad in ("inf", "-inf", "Infinity"):
        assert err(rc, "INCRBYFLOAT", "f", bad) == "increment would produce NaN or Infinity"
    rc.set("f", "1.18973149535723176502e+4932")
    assert err(rc, "INCRBYFLOAT", "f", "1.18973149535723176502e+4932") == \
        "increment would produce NaN or Infinity"
    rc.set("s", "abc")
    assert err(rc, "INCRBYFLOAT", "s", "1") == "value is not a valid float"
    rc.rpush("l", "x")
    assert err(rc, "INCRBYFLOAT", "l", "1").startswith("WRONGTYPE")
    rc.execute_command("SET", "t", "1", "PX", "150")
    assert rc.execute_command("INCRBYFLOAT", "t", "1.5") == b"2.5"
    assert wait_gone(rc, "t")


# ---------------------------------------------------------------------------
# LCS
# ---------------------------------------------------------------------------

def test_lcs_resp2(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.execute_command("LCS", "a", "b") == b"mytext"
    assert r.execute_command("LCS", "a", "b", "LEN") == 6
    assert r.execute_command("LCS", "a", "b", "IDX") == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert r.execute_command("LCS", "a", "nokey") == b""
    assert err(r, "LCS", "a", "b", "LEN", "IDX") == \
        "If you want both the length and indexes, please just use IDX."
    assert err(r, "LCS", "a", "b", "MINMATCHLEN") == "syntax error"
    assert err(r, "LCS", "a", "b", "MINMATCHLEN", "x") == "value is not an integer or out of range"
    r.rpush("l", "x")
    assert err(r, "LCS", "a", "l") == "The specified keys must contain string values"


def test_lcs_resp3(r3):
    r3.mset({"a": "ohmytext", "b": "mynewtext"})
    reply = r3.execute_command("LCS", "a", "b", "IDX", "WITHMATCHLEN")
    assert reply == {b"matches": [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], b"len": 6}
    assert r3.execute_command("LCS", "a", "b") == b"mytext"


def test_lcs_long_strings(r):
    a = "ab" * 1500
    b = "ba" * 1500
    r.mset({"a": a, "b": b})
    assert r.execute_command("LCS", "a", "b", "LEN") == 2999
    assert r.execute_command("LCS", "a", "b") == a[1:].encode()


# ---------------------------------------------------------------------------
# RESP3, arity, transactions, notifications, propagation
# ---------------------------------------------------------------------------

def test_resp3_null_replies(server):
    hello = b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
    out = raw_command(server.port, hello + b"*2\r\n$3\r\nGET\r\n$7\r\nnokey:3\r\n"
                      b"*3\r\n$4\r\nMGET\r\n$7\r\nnokey:3\r\n$7\r\nnokey:4\r\n", expect=b"*2\r\n_\r\n_\r\n")
    assert out.endswith(b"_\r\n*2\r\n_\r\n_\r\n")
    out = raw_command(server.port, b"*2\r\n$3\r\nGET\r\n$7\r\nnokey:3\r\n", expect=b"$-1\r\n")
    assert out == b"$-1\r\n"


@pytest.mark.parametrize("cmd,name", [
    (("GET",), "get"), (("SET", "k"), "set"), (("SETNX", "k"), "setnx"), (("SETEX", "k", "1"), "setex"),
    (("PSETEX", "k", "1"), "psetex"), (("GETEX",), "getex"), (("GETDEL",), "getdel"),
    (("GETSET", "k"), "getset"), (("MSET", "k"), "mset"), (("MSETNX", "k"), "msetnx"),
    (("APPEND", "k"), "append"), (("STRLEN",), "strlen"), (("GETRANGE", "k", "0"), "getrange"),
    (("SUBSTR", "k", "0"), "substr"), (("SETRANGE", "k", "0"), "setrange"), (("INCR",), "incr"),
    (("DECR",), "decr"), (("INCRBY", "k"), "incrby"), (("DECRBY", "k"), "decrby"),
    (("INCRBYFLOAT", "k"), "incrbyfloat"), (("LCS", "a"), "lcs"),
])
def test_arity(r, cmd, name):
    assert err(r, *cmd) == f"wrong number of arguments for '{name}' command"


def test_exec_reply_is_not_changed_by_later_append(r):
    r.set("k", "abc")
    r.append("k", "d")  # now a raw (mutable) value
    p = r.pipeline(transaction=True)
    p.get("k")
    p.append("k", "e")
    p.getrange("k", 0, -1)
    p.setrange("k", 0, "X")
    p.mget("k")
    assert p.execute() == [b"abcd", 5, b"abcde", 5, [b"Xbcde"]]


def test_watch_invalidated_by_string_writes(server):
    for write in (("APPEND", "w", "x"), ("SETRANGE", "w", "0", "y"), ("INCRBYFLOAT", "w", "1"),
                  ("GETDEL", "w"), ("GETEX", "w", "EX", "100"), ("MSET", "w", "1")):
        r = server.client()
        other = server.client()
        r.flushall()
        r.set("w", "1")
        p = r.pipeline(transaction=True)
        p.watch("w")
        other.execute_command(*write)
        p.multi()
        p.set("w", "mine")
        with pytest.raises(redis.WatchError):
            p.execute()
        r.close()
        other.close()


def test_keyspace_events():
    srv = ServerProcess(args=["--notify-keyspace-events", "KEA"])
    try:
        r = srv.client()
        ps = r.pubsub()
        ps.psubscribe("__keyevent@0__:*")
        assert ps.get_message(timeout=10)["type"] == "psubscribe"
        cmds = [
            ("SET", "k", "1", "EX", "100"), ("INCR", "k"), ("INCRBYFLOAT", "k", "1.5"),
            ("APPEND", "k", "x"), ("SETRANGE", "k", "0", "y"), ("GETEX", "k", "PERSIST"),
            ("GETEX", "k", "PX", "100000"), ("GETSET", "k", "z"), ("MSET", "k", "1", "j", "2"),
            ("GETDEL", "j"), ("SETNX", "k", "x"), ("SET", "k", "v", "NX"), ("GETEX", "k", "PXAT", "1"),
        ]
        for cmd in cmds:
            r.execute_command(*cmd)
        events = []
        deadline = time.time() + 15  # the 13 events below, then whatever else comes within 0.5 s
        while len(events) < 13 and time.time() < deadline:
            m = ps.get_message(timeout=0.5)
            if m is not None:
                events.append((m["channel"].split(b":", 1)[1], m["data"]))
        while (m := ps.get_message(timeout=0.5)) is not None:
            events.append((m["channel"].split(b":", 1)[1], m["data"]))
        assert events == [
            (b"set", b"k"), (b"expire", b"k"), (b"incrby", b"k"), (b"incrbyfloat", b"k"),
            (b"append", b"k"), (b"setrange", b"k"), (b"persist", b"k"), (b"expire", b"k"),
            (b"set", b"k"), (b"set", b"k"), (b"set", b"j"), (b"del", b"j"), (b"del", b"k"),
        ]
        ps.close()
    finally:
        srv.stop()


def test_propagation_rewrites():
    srv = ServerProcess(args=["--appendonly", "yes"])
    try:
        r = srv.client()
        before = int(time.time() * 1000)
        r.execute_command("SET", "a", "1", "EX", "100")
        r.execute_command("SET", "b", "1", "PX", "5000", "NX", "GET")
        r.execute_command("SET", "c", "1", "GET", "XX")
        r.execute_command("SET", "c", "2", "GET")
        r.execute_command("SET", "d", "1", "PXAT", "99999999999999", "GET")
        r.execute_command("SETEX", "e", "100", "v")
        r.execute_command("PSETEX", "f", "100000", "v")
        r.execute_command("GETEX", "e", "EX", "200")
        r.execute_command("GETEX", "e", "PXAT", "99999999999998")
        r.execute_command("GETEX", "e", "PERSIST")
        r.execute_command("GETEX", "e", "PERSIST")  # no TTL: nothing to propagate
        r.execute_command("GETEX", "e")
        r.execute_command("GETDEL", "e")
        r.execute_command("GETSET", "g", "v")
        r.execute_command("INCRBYFLOAT", "h", "1.50")
        r.execute_command("SET", "i", "v")
        r.execute_command("GETEX", "i", "EXAT", "1")
        r.execute_command("SETNX", "j", "v")
        r.execute_command("SETNX", "j", "w")
        after = int(time.time() * 1000)
        cmds = aof_commands(srv)
        assert [c[0].upper() for c in cmds] == [
            b"SET", b"SET", b"SET", b"SET", b"SET", b"SET", b"PEXPIREAT", b"PEXPIREAT", b"PERSIST",
            b"DEL", b"SET", b"SET", b"SET", b"DEL", b"SETNX"]
        a, b, c, d, e, f, ex1, ex2, persist, dele, g, h, _, deli, j = cmds
        assert a[:4] == [b"SET", b"a", b"1", b"PXAT"] and len(a) == 5
        assert before + 100_000 <= int(a[4]) <= after + 100_000
        assert b[:4] == [b"SET", b"b", b"1", b"PXAT"] and before + 5000 <= int(b[4]) <= after + 5000
        assert c == [b"SET", b"c", b"2"]
        assert d == [b"SET", b"d", b"1", b"PXAT", b"99999999999999", b"GET"]
        assert e[:4] == [b"SET", b"e", b"v", b"PXAT"] and before + 100_000 <= int(e[4]) <= after + 100_000
        assert f[:4] == [b"SET", b"f", b"v", b"PXAT"] and before + 100_000 <= int(f[4]) <= after + 100_000
        assert ex1[:2] == [b"PEXPIREAT", b"e"] and before + 200_000 <= int(ex1[2]) <= after + 200_000
        assert ex2 == [b"PEXPIREAT", b"e", b"99999999999998"]
        assert persist == [b"PERSIST", b"e"]
        assert dele == [b"DEL", b"e"]
        assert g == [b"SET", b"g", b"v"]
        assert h == [b"SET", b"h", b"1.5", b"KEEPTTL"]
        assert deli == [b"DEL", b"i"]
        assert j == [b"SETNX", b"j", b"v"]
    finally:
        srv.stop()
