"""SORT / SORT_RO over lists, sets and sorted sets: BY, GET, LIMIT, ALPHA, DESC, STORE."""

from __future__ import annotations

import threading

import pytest
from conftest import err, wait_blocked_on


def sort(r, *args):
    return r.execute_command("SORT", *args)


@pytest.fixture
def nums(r):
    r.rpush("l", 3, 1, 2, 10, 5)
    return r


def test_numeric_and_desc(nums):
    r = nums
    assert sort(r, "l") == [b"1", b"2", b"3", b"5", b"10"]
    assert sort(r, "l", "DESC") == [b"10", b"5", b"3", b"2", b"1"]
    assert sort(r, "l", "ASC") == [b"1", b"2", b"3", b"5", b"10"]


def test_alpha(nums):
    r = nums
    assert sort(r, "l", "ALPHA") == [b"1", b"10", b"2", b"3", b"5"]
    assert sort(r, "l", "ALPHA", "DESC") == [b"5", b"3", b"2", b"10", b"1"]
    r.rpush("w", "banana", "apple", "cherry")
    assert sort(r, "w", "ALPHA") == [b"apple", b"banana", b"cherry"]
    assert err(sort, r, "w") == "One or more scores can't be converted into double"


def test_limit(nums):
    r = nums
    assert sort(r, "l", "LIMIT", 1, 2) == [b"2", b"3"]
    assert sort(r, "l", "LIMIT", -5, 2) == [b"1", b"2"]
    assert sort(r, "l", "LIMIT", 10, 2) == []
    assert sort(r, "l", "LIMIT", 3, -1) == [b"5", b"10"]
    assert sort(r, "l", "LIMIT", 2, 100) == [b"3", b"5", b"10"]
    assert err(sort, r, "l", "LIMIT", "a", 1) == "value is not an integer or out of range"
    assert err(sort, r, "l", "LIMIT", 1) == "syntax error"


def test_by_and_get(nums):
    r = nums
    r.mset({"w_1": 30, "w_2": 10, "w_3": 20, "w_10": 5})
    assert sort(r, "l", "BY", "w_*") == [b"5", b"10", b"2", b"3", b"1"]  # missing weight sorts as 0
    assert sort(r, "l", "BY", "w_*", "DESC", "GET", "#", "GET", "w_*") == [
        b"1", b"30", b"3", b"20", b"2", b"10", b"10", b"5", b"5", None]
    assert sort(r, "l", "GET", "nope_*", "LIMIT", 0, 2) == [None, None]
    assert sort(r, "l", "GET", "constant", "LIMIT", 0, 1) == [None]
    r.set("w_5", "x")
    assert err(sort, r, "l", "BY", "w_*") == "One or more scores can't be converted into double"
    assert sort(r, "l", "BY", "w_*", "ALPHA") == [b"2", b"3", b"1", b"10", b"5"]


def test_by_hash_fields(nums):
    r = nums
    for i, v in ((1, "c"), (2, "a"), (3, "b")):
        r.hset(f"h_{i}", "f", v)
    r.hset("h_10", "other", "x")
    assert sort(r, "l", "BY", "h_*->f", "ALPHA", "GET", "#", "GET", "h_*->f") == [
        b"10", None, b"5", None, b"2", b"a", b"3", b"b", b"1", b"c"]
    # "->" with nothing after it is a plain key name
    assert sort(r, "l", "GET", "h_*->", "LIMIT", 0, 1) == [None]


def test_nosort(nums):
    r = nums
    assert sort(r, "l", "BY", "nosort") == [b"3", b"1", b"2", b"10", b"5"]
    assert sort(r, "l", "BY", "nosort", "DESC") == [b"5", b"10", b"2", b"1", b"3"]
    assert sort(r, "l", "BY", "nosort", "LIMIT", 1, 2) == [b"1", b"2"]
    assert sort(r, "l", "BY", "nosort", "DESC", "LIMIT", 1, 2) == [b"10", b"2"]
    r.zadd("z", {"c": 3, "a": 1, "b": 2})
    assert sort(r, "z", "BY", "nosort") == [b"a", b"b", b"c"]
    assert sort(r, "z", "BY", "nosort", "DESC", "LIMIT", 1, 1) == [b"b"]


def test_sets_and_zsets(r):
    r.sadd("s", 5, 3, 9, 1)
    assert sort(r, "s") == [b"1", b"3", b"5", b"9"]
    assert sort(r, "s", "DESC", "LIMIT", 0, 2) == [b"9", b"5"]
    # BY nosort on a set with STORE sorts alphabetically so replicas agree
    assert sort(r, "s", "BY", "nosort", "STORE", "dst") == 4
    assert r.lrange("dst", 0, -1) == [b"1", b"3", b"5", b"9"]
    r.zadd("z", {"x": 3, "y": 1, "z": 2})
    assert sort(r, "z", "ALPHA", "DESC") == [b"z", b"y", b"x"]


def test_strtod_semantics(r):
    r.rpush("n", "1.5", " 2", "1e3", "-inf", "0x10", "")
    assert sort(r, "n") == [b"-inf", b"", b"1.5", b" 2", b"0x10", b"1e3"]
    r.rpush("big", "1e400")
    assert err(sort, r, "big") == "One or more scores can't be converted into double"


def test_store(nums):
    r = nums
    assert sort(r, "l", "STORE", "dst") == 5
    assert r.lrange("dst", 0, -1) == [b"1", b"2", b"3", b"5", b"10"]
    r.mset({"w_1": "one"})
    assert sort(r, "l", "GET", "w_*", "LIMIT", 0, 2, "STORE", "dst") == 2
    assert r.lrange("dst", 0, -1) == [b"one", b""]
    r.expire("dst", 100)
    assert sort(r, "l", "STORE", "dst") == 5
    assert r.ttl("dst") == -1
    assert sort(r, "l", "LIMIT", 10, 10, "STORE", "dst") == 0
    assert r.exists("dst") == 0
    assert sort(r, "nokey", "STORE", "dst") == 0


def test_sort_ro(nums):
    r = nums
    assert r.execute_command("SORT_RO", "l", "DESC", "LIMIT", 0, 1) == [b"10"]
    assert err(r.execute_command, "SORT_RO", "l", "STORE", "dst") == "syntax error"


def test_errors(r):
    assert sort(r, "nokey") == []
    r.set("str", "x")
    assert err(sort, r, "str").startswith("WRONGTYPE")
    r.rpush("l", 1)
    assert err(sort, r, "l", "BOGUS") == "syntax error"
    assert err(r.execute_command, "SORT") == "wrong number of arguments for 'sort' command"


def test_store_wakes_blocked_list_pop(r, server):
    r.rpush("l", 2, 1)
    out = []
    c = server.client()
    t = threading.Thread(target=lambda: out.append(c.blpop(["dst"], timeout=5)))
    t.start()
    wait_blocked_on(r, "blpop")
    assert sort(r, "l", "STORE", "dst") == 2
    t.join(5)
    c.close()
    assert out == [(b"dst", b"1")]


def test_sortstore_event(r, server):
    r.config_set("notify-keyspace-events", "KEA")
    p = server.client().pubsub()
    try:
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=10)["type"] == "psubscribe"
        r.rpush("l", 1)
        sort(r, "l", "STORE", "dst")
        got = []
        for _ in range(30):
            m = p.get_message(timeout=0.5)
            if m:
                got.append((m["channel"], m["data"]))
            if len(got) == 2:
                break
        assert got == [(b"__keyevent@0__:rpush", b"l"), (b"__keyevent@0__:sortstore", b"dst")]
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")
