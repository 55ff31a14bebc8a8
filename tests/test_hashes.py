"""Hash commands: replies (RESP2 and RESP3), errors and edge cases as Redis 7.2."""

from __future__ import annotations

import pytest
from conftest import RawClient, aof_commands, err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def test_hset_hget_and_counts(r):
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hset("h", mapping={"a": "10", "c": "3"}) == 1
    assert r.hget("h", "a") == b"10"
    assert r.hget("h", "zz") is None
    assert r.hget("missing", "a") is None
    assert r.hlen("h") == 3
    assert r.hlen("missing") == 0
    assert r.hexists("h", "a") is True
    assert r.hexists("h", "zz") is False
    assert r.hexists("missing", "a") is False


def test_hset_arity(raw2):
    assert raw2.call("HSET", "h", "a") == b"-ERR wrong number of arguments for 'hset' command\r\n"
    assert raw2.call("HSET", "h", "a", "1", "b") == b"-ERR wrong number of arguments for 'hset' command\r\n"
    assert raw2.call("HMSET", "h", "a", "1", "b") == b"-ERR wrong number of arguments for 'hmset' command\r\n"
    assert raw2.call("HMSET", "h", "a", "1", "b", "2") == b"+OK\r\n"
    assert raw2.call("HLEN", "h") == b":2\r\n"


def test_hsetnx(r):
    assert r.hsetnx("h", "a", "1") == 1
    assert r.hsetnx("h", "a", "2") == 0
    assert r.hget("h", "a") == b"1"


def test_hmget(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.hmget("h", ["a", "zz", "b"]) == [b"1", None, b"2"]
    assert r.hmget("missing", ["a", "b"]) == [None, None]


def test_hmget_resp3_nulls(raw3):
    raw3.call("HSET", "h", "a", "1")
    assert raw3.call("HMGET", "h", "a", "z") == b"*2\r\n$1\r\n1\r\n_\r\n"
    assert raw3.call("HGET", "h", "z") == b"_\r\n"


def test_hdel_deletes_empty_hash(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hdel("h", "a", "zz", "a") == 1
    assert r.hdel("missing", "a") == 0
    assert r.hdel("h", "b", "c") == 2
    assert r.dbsize() == 0


def test_hstrlen(r):
    r.hset("h", mapping={"a": "hello", "n": "12345"})
    assert r.hstrlen("h", "a") == 5
    assert r.hstrlen("h", "n") == 5
    assert r.hstrlen("h", "zz") == 0
    assert r.hstrlen("missing", "a") == 0


def test_hkeys_hvals_hgetall_insertion_order(r):
    r.hset("h", mapping={"b": "2", "a": "1", "c": "3"})
    r.hset("h", "a", "one")
    assert r.hkeys("h") == [b"b", b"a", b"c"]
    assert r.hvals("h") == [b"2", b"one", b"3"]
    assert r.hgetall("h") == {b"b": b"2", b"a": b"one", b"c": b"3"}
    assert r.hkeys("missing") == []
    assert r.hvals("missing") == []
    assert r.hgetall("missing") == {}


def test_hgetall_resp2_flat_resp3_map(raw2, raw3):
    raw2.call("HSET", "h", "f", "v", "g", "w")
    assert raw2.call("HGETALL", "h") == b"*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n"
    assert raw3.call("HGETALL", "h") == b"%2\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n"
    assert raw2.call("HGETALL", "nokey") == b"*0\r\n"
    assert raw3.call("HGETALL", "nokey") == b"%0\r\n"


def test_wrongtype(r):
    r.rpush("l", "a")
    for cmd, args in [("HSET", ("f", "v")), ("HSETNX", ("f", "v")), ("HGET", ("f",)), ("HMGET", ("f",)),
                      ("HDEL", ("f",)), ("HLEN", ()), ("HSTRLEN", ("f",)), ("HEXISTS", ("f",)),
                      ("HKEYS", ()), ("HVALS", ()), ("HGETALL", ()), ("HINCRBY", ("f", "1")),
                      ("HINCRBYFLOAT", ("f", "1")), ("HRANDFIELD", ()), ("HRANDFIELD", ("2",)),
                      ("HSCAN", ("0",)), ("HMSET", ("f", "v"))]:
        assert err(r.execute_command, cmd, "l", *args) == WRONGTYPE, cmd


# -- HINCRBY / HINCRBYFLOAT -------------------------------------------------------


def test_hincrby(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    r.hset("h", "big", "9223372036854775806")
    assert r.hincrby("h", "big", 1) == 9223372036854775807
    assert err(r.hincrby, "h", "big", 1) == "increment or decrement would overflow"
    r.hset("h", "neg", "-9223372036854775808")
    assert err(r.hincrby, "h", "neg", -1) == "increment or decrement would overflow"
    r.hset("h", "s", "abc")
    assert err(r.hincrby, "h", "s", 1) == "hash value is not an integer"
    r.hset("h", "f", "5.0")
    assert err(r.hincrby, "h", "f", 1) == "hash value is not an integer"
    r.hset("h", "sp", " 1")
    assert err(r.hincrby, "h", "sp", 1) == "hash value is not an integer"
    assert err(r.execute_command, "HINCRBY", "h", "n", "x") == "value is not an integer or out of range"
    assert err(r.execute_command, "HINCRBY", "h", "n", "1.5") == "value is not an integer or out of range"


@pytest.mark.parametrize("start,incr,expected", [
    (None, "10.5", b"10.5"), ("10.5", "0.1", b"10.6"), ("0.1", "0.2", b"0.3"), ("3.0e3", "-3000", b"0"),
    (None, "1e20", b"100000000000000000000"), (None, "0x10", b"16"), ("1e5", "1", b"100001"),
    (None, "1.23456789012345678", b"1.23456789012345678"), (None, "-0.0", b"0"), (None, "-1e-20", b"0"),
    ("5", "-0.5", b"4.5"), (None, "5.", b"5"), (None, ".5", b"0.5"), (None, "+.5e1", b"5"),
    (None, "99999999999999999999.9", b"100000000000000000000"), ("17179869184", "0.5", b"17179869184.5"),
    ("-9223372036854775808", "0", b"-9223372036854775808"),
])
def test_hincrbyfloat_long_double(raw2, start, incr, expected):
    if start is not None:
        raw2.call("HSET", "h", "f", start)
    bulk = b"$%d\r\n%s\r\n" % (len(expected), expected)
    assert raw2.call("HINCRBYFLOAT", "h", "f", incr) == bulk
    assert raw2.call("HGET", "h", "f") == bulk


def test_hincrbyfloat_errors(r):
    r.hset("h", mapping={"s": "abc", "sp": " 1", "inf": "inf"})
    assert err(r.hincrbyfloat, "h", "s", 1) == "hash value is not a float"
    assert err(r.hincrbyfloat, "h", "sp", 1) == "hash value is not a float"
    assert err(r.hincrbyfloat, "h", "inf", 1) == "increment would produce NaN or Infinity"
    for bad in ("abc", "1_0", "nan", "", " 1", "1 ", "0x", ".", "e5", "1e5000", "1e-5000"):
        assert err(r.execute_command, "HINCRBYFLOAT", "h", "f", bad) == "value is not a valid float", bad
    for inf in ("inf", "-inf", "infinity", "+Inf"):
        assert err(r.execute_command, "HINCRBYFLOAT", "h", "f", inf) == "value is NaN or Infinity", inf
    r.hincrbyfloat("h", "big", "1e4932")
    assert err(r.execute_command, "HINCRBYFLOAT", "h", "big", "1e4932") == \
        "increment would produce NaN or Infinity"
    assert r.hstrlen("h", "big") == 4933
    # the increment is checked before the key's type
    r.rpush("l", "a")
    assert err(r.execute_command, "HINCRBYFLOAT", "l", "f", "x") == "value is not a valid float"
    assert err(r.execute_command, "HINCRBY", "l", "f", "x") == "value is not an integer or out of range"


# -- HRANDFIELD -------------------------------------------------------------------


def test_hrandfield_single(r):
    assert r.hrandfield("missing") is None
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    seen = {r.hrandfield("h") for _ in range(60)}
    assert seen == {b"a", b"b", b"c"}


def test_hrandfield_count(r):
    fields = {f"f{i}".encode(): str(i).encode() for i in range(20)}
    r.hset("h", mapping=fields)
    got = r.hrandfield("h", 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= set(fields)
    assert sorted(r.hrandfield("h", 100)) == sorted(fields)
    neg = r.hrandfield("h", -50)
    assert len(neg) == 50 and set(neg) <= set(fields)
    assert r.hrandfield("h", 0) == []
    assert r.hrandfield("missing", 3) == []
    assert r.hrandfield("missing", -3) == []
    pairs = r.hrandfield("h", 4, withvalues=True)
    assert len(pairs) == 8
    for f, v in zip(pairs[::2], pairs[1::2], strict=True):
        assert fields[f] == v
    pairs = r.hrandfield("h", -30, withvalues=True)
    assert len(pairs) == 60


def test_hrandfield_negative_count_repeats(r):
    r.hset("h", "only", "1")
    assert r.hrandfield("h", -5) == [b"only"] * 5
    assert r.hrandfield("h", 5) == [b"only"]


def test_hrandfield_withvalues_resp3_pairs(raw3, raw2):
    raw3.call("HSET", "h", "a", "1")
    assert raw3.call("HRANDFIELD", "h", "1", "WITHVALUES") == b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert raw3.call("HRANDFIELD", "h", "-2", "WITHVALUES") == b"*2\r\n" + b"*2\r\n$1\r\na\r\n$1\r\n1\r\n" * 2
    assert raw2.call("HRANDFIELD", "h", "-2", "WITHVALUES") == b"*4\r\n" + b"$1\r\na\r\n$1\r\n1\r\n" * 2
    assert raw3.call("HRANDFIELD", "h", "1") == b"*1\r\n$1\r\na\r\n"
    assert raw3.call("HRANDFIELD", "nokey") == b"_\r\n"


def test_hrandfield_errors(raw2):
    raw2.call("HSET", "h", "a", "1")
    assert raw2.call("HRANDFIELD", "h", "1", "foo") == b"-ERR syntax error\r\n"
    assert raw2.call("HRANDFIELD", "h", "1", "withvalues", "x") == b"-ERR syntax error\r\n"
    assert raw2.call("HRANDFIELD", "h", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert raw2.call("HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES") == b"-ERR value is out of range\r\n"
    assert raw2.call("HRANDFIELD", "h", "9223372036854775807", "WITHVALUES") == b"-ERR value is out of range\r\n"
    assert raw2.call("HRANDFIELD", "h", "-9223372036854775808") == \
        b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    # arguments are checked even when the key is missing
    assert raw2.call("HRANDFIELD", "nokey", "1", "foo") == b"-ERR syntax error\r\n"


# -- HSCAN ---------------------------------------------------------------------------


def test_hscan_small_hash_in_one_call(raw2):
    raw2.call("HSET", "h", "a", "1", "b", "2")
    assert raw2.call("HSCAN", "h", "0") == b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert raw2.call("HSCAN", "h", "0", "MATCH", "b*") == b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert raw2.call("HSCAN", "nokey", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"


def test_hscan_errors(raw2):
    raw2.call("HSET", "h", "a", "1")
    assert raw2.call("HSCAN", "h", "x") == b"-ERR invalid cursor\r\n"
    assert raw2.call("HSCAN", "h", " 1") == b"-ERR invalid cursor\r\n"
    assert raw2.call("HSCAN", "h", "18446744073709551616") == b"-ERR invalid cursor\r\n"
    assert raw2.call("HSCAN", "h", "0", "COUNT", "0") == b"-ERR syntax error\r\n"
    assert raw2.call("HSCAN", "h", "0", "COUNT", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert raw2.call("HSCAN", "h", "0", "TYPE", "string") == b"-ERR syntax error\r\n"
    assert raw2.call("HSCAN", "h", "0", "NOVALUES") == b"-ERR syntax error\r\n"
    assert raw2.call("HSCAN", "h", "0", "MATCH") == b"-ERR syntax error\r\n"
    # the cursor is parsed before the key is looked up; options only for an existing key
    assert raw2.call("HSCAN", "nokey", "x") == b"-ERR invalid cursor\r\n"
    assert raw2.call("HSCAN", "nokey", "0", "COUNT", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"


def _full_hscan(r, key, count=10, match=None):
    cursor = 0
    seen: dict[bytes, bytes] = {}
    calls = 0
    while True:
        cursor, page = r.hscan(key, cursor, count=count, match=match)
        seen.update(page)
        calls += 1
        if cursor == 0:
            return seen, calls


def test_hscan_big_hash_iterates_everything(r):
    fields = {f"field:{i}".encode(): str(i).encode() for i in range(1000)}
    r.hset("h", mapping=fields)
    seen, calls = _full_hscan(r, "h", count=50)
    assert seen == fields
    assert calls >= 10
    seen, _ = _full_hscan(r, "h", count=100, match="field:1*")
    assert seen == {k: v for k, v in fields.items() if k.startswith(b"field:1")}


def test_hscan_sees_survivors_despite_changes(r):
    r.hset("h", mapping={f"k{i}": "v" for i in range(600)})
    cursor, seen, deleted = 0, set(), set()
    step = 0
    while True:
        cursor, page = r.hscan("h", cursor, count=40)
        seen.update(page)
        step += 1
        # churn between calls: delete some fields, add new ones
        gone = [f"k{i}".encode() for i in range(step * 10, step * 10 + 5)]
        r.hdel("h", *gone)
        deleted.update(gone)
        r.hset("h", mapping={f"new{step}-{j}": "x" for j in range(30)})
        if cursor == 0:
            break
    survivors = {f"k{i}".encode() for i in range(600)} - deleted
    assert survivors <= seen
    assert step > 5


def test_hash_binary_safe(r):
    r.hset("h", b"\x00f", b"\xff\x00")
    r.hset("h", b"", b"")
    assert r.hget("h", b"\x00f") == b"\xff\x00"
    assert r.hget("h", b"") == b""
    assert r.hstrlen("h", b"") == 0
    assert r.hexists("h", b"") is True


# -- propagation (observed in the AOF) -------------------------------------------


def propagated(srv, *commands) -> tuple[list[bytes], list[list[bytes]]]:
    """Run commands on a fresh connection: (their replies, what reached the AOF)."""
    import time

    c = RawClient(srv.port)
    try:
        c.call("FLUSHALL")
        before = len(aof_commands(srv))
        replies = [c.call(*cmd) for cmd in commands]
        c.call("SADD", "MARK", "done")
        deadline = time.time() + 15
        while True:
            cmds = aof_commands(srv)[before:]
            if (cmds and cmds[-1] == [b"SADD", b"MARK", b"done"]) or time.time() > deadline:
                break
            time.sleep(0.05)
        assert cmds and cmds[-1] == [b"SADD", b"MARK", b"done"], cmds
        return replies, cmds[:-1]
    finally:
        c.close()


def test_hincrbyfloat_propagates_as_hset(aof_server):
    replies, cmds = propagated(aof_server, ("HINCRBYFLOAT", "h", "f", "10.5"), ("HINCRBYFLOAT", "h", "f", "0.1"),
                               ("HINCRBYFLOAT", "h", "f", "x"), ("HINCRBY", "h", "n", "2"), ("HSETNX", "h", "n", "1"),
                               ("HDEL", "h", "zz"), ("HDEL", "h", "n"))
    assert replies[:2] == [b"$4\r\n10.5\r\n", b"$4\r\n10.6\r\n"]
    assert cmds == [[b"HSET", b"h", b"f", b"10.5"], [b"HSET", b"h", b"f", b"10.6"],
                    [b"HINCRBY", b"h", b"n", b"2"], [b"HDEL", b"h", b"n"]]
