"""Keyspace commands (DEL ... OBJECT) and the glob matcher, as Redis 7.2 answers them."""

from __future__ import annotations

import random
import socket
import time

import pytest
import redis
from conftest import RawClient, ServerProcess, err, wait_blocked_on

from fastredis.glob import stringmatch, tokenize

BIN = b"k\x00\xff\r\n bin"


# -- DEL / UNLINK / EXISTS / TYPE / TOUCH ---------------------------------------------


def test_del_unlink_count_existing_keys_once(r):
    r.mset({"a": 1, "b": 2, "c": 3})
    assert r.delete("a", "a", "missing") == 1
    assert r.unlink("b", "c", "b") == 2
    assert r.dbsize() == 0
    assert r.delete("nothing") == 0


def test_exists_counts_duplicates(r):
    r.set("a", 1)
    assert r.exists("a") == 1
    assert r.exists("a", "a", "a", "b") == 3
    assert r.exists("b") == 0


def test_type_of_every_kind(r):
    r.set("s", "v")
    r.rpush("l", "x")
    r.sadd("set", "x")
    r.hset("h", "f", "v")
    r.zadd("z", {"m": 1})
    r.xadd("x", {"f": "v"})
    r.append("ba", "x")
    assert [r.type(k) for k in ("s", "l", "set", "h", "z", "x", "ba", "none")] == [
        b"string", b"list", b"set", b"hash", b"zset", b"stream", b"string", b"none"]


def test_type_is_a_status_reply(raw2, raw3):
    raw2.call("SET", "k", "v")
    assert raw2.call("TYPE", "k") == b"+string\r\n"
    assert raw2.call("TYPE", "nokey") == b"+none\r\n"
    assert raw3.call("TYPE", "k") == b"+string\r\n"


def test_touch(r):
    r.mset({"a": 1, "b": 2})
    assert r.touch("a", "b", "c", "a") == 3


def test_binary_keys(r):
    r.set(BIN, b"v")
    assert r.exists(BIN) == 1
    assert r.keys(b"k\x00*") == [BIN]
    assert r.type(BIN) == b"string"
    assert r.rename(BIN, b"\xff\xfe") is True
    assert r.get(b"\xff\xfe") == b"v"
    assert r.copy(b"\xff\xfe", BIN) is True
    assert r.delete(BIN, b"\xff\xfe") == 2
    r.set(b"", b"empty key")
    assert r.keys("*") == [b""]
    assert r.exists(b"") == 1


@pytest.mark.parametrize("cmd,arity", [
    ("DEL", 0), ("UNLINK", 0), ("EXISTS", 0), ("TOUCH", 0), ("TYPE", 0), ("TYPE", 2), ("KEYS", 0),
    ("KEYS", 2), ("SCAN", 0), ("RANDOMKEY", 1), ("RENAME", 1), ("RENAME", 3), ("RENAMENX", 1),
    ("COPY", 1), ("MOVE", 1), ("MOVE", 3), ("EXPIRE", 1), ("PEXPIRE", 1), ("EXPIREAT", 1),
    ("PEXPIREAT", 1), ("TTL", 0), ("TTL", 2), ("PTTL", 0), ("EXPIRETIME", 0), ("PEXPIRETIME", 2),
    ("PERSIST", 0), ("PERSIST", 2),
])
def test_arity_errors(raw2, cmd, arity):
    args = ["x"] * arity
    assert raw2.call(cmd, *args) == b"-ERR wrong number of arguments for '%s' command\r\n" % cmd.lower().encode()


# -- KEYS and glob patterns ---------------------------------------------------------------

KEYSET = [b"hello", b"hallo", b"hxllo", b"hllo", b"heeeello", b"h*llo", b"h?llo", b"h[a]llo", b"h\\llo",
          b"a-b", b"]", b"^", b"\x80", b"\xff", b"A", b"z", b"foo:1", b"foo:22", b"foo:bar", b""]


@pytest.mark.parametrize("pattern,expected", [
    (b"h?llo", {b"hello", b"hallo", b"hxllo", b"h*llo", b"h?llo", b"h\\llo"}),
    (b"h*llo", {b"hello", b"hallo", b"hxllo", b"hllo", b"heeeello", b"h*llo", b"h?llo", b"h[a]llo",
                b"h\\llo"}),
    (b"h[ae]llo", {b"hello", b"hallo"}),
    (b"h[^e]llo", {b"hallo", b"hxllo", b"h*llo", b"h?llo", b"h\\llo"}),
    (b"h[a-b]llo", {b"hallo"}),
    (b"h[b-a]llo", {b"hallo"}),                       # reversed ranges are swapped
    (b"h\\*llo", {b"h*llo"}),
    (b"h\\?llo", {b"h?llo"}),
    (b"h[\\]]llo", set()),
    (b"h[\\\\]llo", {b"h\\llo"}),
    (b"foo:*", {b"foo:1", b"foo:22", b"foo:bar"}),
    (b"foo:??", {b"foo:22"}),
    (b"foo:[0-9]*", {b"foo:1", b"foo:22"}),
    (b"*", set(KEYSET)),                              # bare * also returns the empty key
    (b"**", set(KEYSET) - {b""}),                     # ... but a pattern never matches ""
    (b"", {b""}),
    (b"hello", {b"hello"}),
    (b"hell", set()),
    (b"[", set()),
    (b"[^", {b"]", b"^", b"\x80", b"\xff", b"A", b"z"}),   # unterminated: any single byte
    (b"[]", set()),
    (b"[a-]", {b"]", b"^"}),                          # range a..] = 93..97
    (b"[\\x80-\\xff]", {b"A"}),                    # \\x is just 'x'; '0'-'\\' holds 'A'
    (b"[\x80-\xff]", {b"\x80", b"\xff"}),
    (b"[z-\x80]", {b"\x80", b"\xff", b"A", b"z", b"]", b"^"}),  # signed chars: -128..122
    (b"\\", set()),
    (b"a\\-b", {b"a-b"}),
    (b"?", {b"]", b"^", b"\x80", b"\xff", b"A", b"z"}),
])
def test_keys_glob(r, pattern, expected):
    for k in KEYSET:
        r.set(k, 1)
    assert set(r.keys(pattern)) == expected


def test_keys_skips_expired_keys(r):
    r.set("live", 1)
    r.set("dead", 1, px=1)
    time.sleep(0.01)
    assert r.keys("*") == [b"live"]


def test_keys_in_resp3(raw3):
    raw3.call("SET", "only", "1")
    assert raw3.call("KEYS", "*") == b"*1\r\n$4\r\nonly\r\n"
    assert raw3.call("KEYS", "nomatch") == b"*0\r\n"


def test_glob_nocase_and_quirks():
    assert stringmatch(b"HELLO", b"hello", nocase=True)
    assert stringmatch(b"h[A-Z]llo", b"hello", nocase=True)
    assert not stringmatch(b"[A-z]", b"_", nocase=True)   # nocase folds range ends: a..z
    assert stringmatch(b"[A-z]", b"_")
    assert not stringmatch(b"[\\A]", b"a", nocase=True)   # escapes in a class stay case-sensitive
    assert stringmatch(b"\\A", b"a", nocase=True)
    assert not stringmatch(b"*", b"")
    assert stringmatch(b"a*", b"a")
    assert stringmatch(b"[a-]x", b"x")                   # the class swallowed ']' and went on
    assert tokenize(b"a**b") == [frozenset(b"a"), None, frozenset(b"b")]


def test_glob_nesting_limit():
    s = b"a" * 1200
    assert stringmatch(b"*a" * 1000, s)
    assert not stringmatch(b"*a" * 1001, s)
    assert stringmatch(b"*a" * 1000 + b"*", s)


def test_glob_no_exponential_backtracking():
    t0 = time.time()
    assert not stringmatch(b"*a*a*a*a*a*a*a*a*a*a*a*a*b", b"a" * 5000)
    assert time.time() - t0 < 2


def _ref_match(p: bytes, s: bytes) -> bool:
    """A plain recursive glob (no quirks) for patterns made of literals, '?', '*' only."""
    if not p:
        return not s
    if p[0] == 0x2A:
        return any(_ref_match(p[1:], s[i:]) for i in range(len(s) + 1))
    if not s:
        return False
    if p[0] == 0x3F or p[0] == s[0]:
        return _ref_match(p[1:], s[1:])
    return False


def test_glob_random_simple_patterns_match_reference():
    rnd = random.Random(7)
    for _ in range(3000):
        p = bytes(rnd.choice(b"ab*?") for _ in range(rnd.randint(1, 7)))
        s = bytes(rnd.choice(b"ab") for _ in range(rnd.randint(1, 7)))
        assert stringmatch(p, s) == _ref_match(p, s), (p, s)


# -- SCAN -------------------------------------------------------------------------------------


def full_scan(r, **kw) -> list[bytes]:
    out: list[bytes] = []
    cursor = 0
    while True:
        cursor, keys = r.scan(cursor, **kw)
        out += keys
        if cursor == 0:
            return out


def test_scan_returns_every_key(r):
    r.mset({f"key:{i}": i for i in range(1000)})
    got = full_scan(r)
    assert set(got) == {f"key:{i}".encode() for i in range(1000)}
    assert len(got) == 1000


def test_scan_count_match_type(r):
    r.mset({f"s:{i}": i for i in range(100)})
    for i in range(50):
        r.rpush(f"l:{i}", "x")
    cursor, keys = r.scan(0, count=5)
    assert cursor != 0 and 1 <= len(keys) <= 10
    assert set(full_scan(r, match="s:1*")) == {b"s:1"} | {f"s:1{i}".encode() for i in range(10)}
    assert set(full_scan(r, _type="list")) == {f"l:{i}".encode() for i in range(50)}
    assert set(full_scan(r, _type="LIST", match="l:4*")) == {b"l:4"} | {f"l:4{i}".encode() for i in range(10)}
    assert full_scan(r, _type="nosuchtype") == []
    assert len(full_scan(r, count=1000)) == 150


def test_scan_big_count_returns_everything_at_once(r):
    r.mset({f"k{i}": i for i in range(50)})
    cursor, keys = r.scan(0, count=100)
    assert cursor == 0 and len(keys) == 50


def test_scan_empty_db(raw2):
    assert raw2.call("SCAN", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"


def test_scan_skips_and_deletes_expired_keys(r):
    r.set("live", 1)
    for i in range(20):
        r.set(f"dead{i}", 1, px=1)
    time.sleep(0.01)
    assert full_scan(r) == [b"live"]
    assert r.dbsize() == 1


@pytest.mark.parametrize("cursor", ["x", " 1", "1 ", "0x10", "18446744073709551616", "-", "+", "1.0",
                                    "-18446744073709551616"])
def test_scan_invalid_cursor(raw2, cursor):
    assert raw2.call("SCAN", cursor) == b"-ERR invalid cursor\r\n"


@pytest.mark.parametrize("cursor", ["", "+0", "-0", "18446744073709551615", "-1", "00"])
def test_scan_strtoul_cursors_are_accepted(raw2, cursor):
    assert raw2.call("SCAN", cursor).startswith(b"*2\r\n")


@pytest.mark.parametrize("args,error", [
    (["COUNT", "0"], b"-ERR syntax error\r\n"),
    (["COUNT", "-1"], b"-ERR syntax error\r\n"),
    (["COUNT", "x"], b"-ERR value is not an integer or out of range\r\n"),
    (["COUNT"], b"-ERR syntax error\r\n"),
    (["MATCH"], b"-ERR syntax error\r\n"),
    (["TYPE"], b"-ERR syntax error\r\n"),
    (["FOO", "bar"], b"-ERR syntax error\r\n"),
])
def test_scan_option_errors(raw2, args, error):
    assert raw2.call("SCAN", "0", *args) == error


def test_scan_resp3_shape(raw3):
    raw3.call("SET", "a", "1")
    assert raw3.call("SCAN", "0") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"


def test_scan_guarantee_under_concurrent_modification(r):
    """Keys present for the whole scan come back at least once while others come and go."""
    stable = {f"stable:{i}".encode() for i in range(2000)}
    r.mset({k: 1 for k in stable})
    rnd = random.Random(3)
    seen: set[bytes] = set()
    cursor = 0
    step = 0
    while True:
        cursor, keys = r.scan(cursor, count=rnd.choice([1, 5, 20, 100]))
        seen.update(keys)
        # churn between calls: add new keys, delete some of the newcomers, rewrite stable ones
        pipe = r.pipeline(transaction=False)
        for j in range(30):
            pipe.set(f"new:{step}:{j}", 1)
        for j in range(0, 30, 2):
            pipe.delete(f"new:{step}:{j}")
        pipe.set(f"stable:{rnd.randrange(2000)}", 2)
        pipe.execute()
        step += 1
        if cursor == 0:
            break
    assert stable <= seen


def test_scan_guarantee_when_many_keys_are_deleted(r):
    keep = {f"keep:{i}".encode() for i in range(500)}
    gone = [f"gone:{i}" for i in range(1500)]
    r.mset({k: 1 for k in keep})
    r.mset({k: 1 for k in gone})
    seen: set[bytes] = set()
    cursor, keys = r.scan(0, count=50)
    seen.update(keys)
    r.delete(*gone)
    r.mset({f"late:{i}": 1 for i in range(3000)})   # the keyspace is rebuilt/resized
    while cursor != 0:
        cursor, keys = r.scan(cursor, count=50)
        seen.update(keys)
    assert keep <= seen


def test_scan_interleaved_iterations(r):
    r.mset({f"k{i}": 1 for i in range(300)})
    c1, k1 = r.scan(0, count=10)
    c2, k2 = r.scan(0, count=10)
    s1, s2 = set(k1), set(k2)
    while c1 or c2:
        if c1:
            c1, k = r.scan(c1, count=10)
            s1.update(k)
        if c2:
            c2, k = r.scan(c2, count=7)
            s2.update(k)
    assert s1 == s2 == {f"k{i}".encode() for i in range(300)}


def test_scan_in_other_db(r, server):
    r.set("db0", 1)
    c = server.client(db=3)
    c.set("db3", 1)
    assert full_scan(c) == [b"db3"]
    assert full_scan(r) == [b"db0"]
    c.flushdb()
    c.close()


# -- RANDOMKEY --------------------------------------------------------------------------------


def test_randomkey(r, raw2, raw3):
    assert r.randomkey() is None
    assert raw2.call("RANDOMKEY") == b"$-1\r\n"
    assert raw3.call("RANDOMKEY") == b"_\r\n"
    keys = {f"k{i}".encode() for i in range(20)}
    r.mset({k: 1 for k in keys})
    seen = {r.randomkey() for _ in range(300)}
    assert seen <= keys and len(seen) > 10


def test_randomkey_never_returns_expired(r):
    r.set("live", 1)
    for i in range(50):
        r.set(f"dead{i}", 1, px=1)
    time.sleep(0.01)
    assert {r.randomkey() for _ in range(30)} == {b"live"}


# -- RENAME / RENAMENX --------------------------------------------------------------------------


def test_rename_basics(r):
    r.set("a", "v")
    assert r.rename("a", "b") is True
    assert r.get("b") == b"v" and r.exists("a") == 0
    assert err(r.rename, "missing", "x") == "no such key"
    assert err(r.renamenx, "missing", "x") == "no such key"
    assert err(r.rename, "missing", "missing") == "no such key"


def test_rename_to_itself(r, raw2):
    r.set("a", "v", ex=100)
    assert raw2.call("RENAME", "a", "a") == b"+OK\r\n"
    assert raw2.call("RENAMENX", "a", "a") == b":0\r\n"
    assert r.get("a") == b"v" and 0 < r.ttl("a") <= 100


def test_rename_overwrites_and_keeps_ttl(r):
    r.set("src", "1", ex=100)
    r.set("dst", "2")
    assert r.rename("src", "dst")
    assert r.get("dst") == b"1" and 95 <= r.ttl("dst") <= 100
    r.set("a", "x")
    r.set("b", "y", ex=50)
    r.rename("a", "b")                       # destination TTL goes with its old value
    assert r.ttl("b") == -1


def test_rename_any_type(r):
    r.rpush("l", 1, 2, 3)
    r.zadd("z", {"m": 1})
    r.rename("l", "l2")
    r.rename("z", "z2")
    assert r.lrange("l2", 0, -1) == [b"1", b"2", b"3"]
    assert r.zscore("z2", "m") == 1.0


def test_renamenx(r):
    r.set("a", 1)
    r.set("b", 2)
    assert r.renamenx("a", "b") is False
    assert r.get("a") == b"1"
    assert r.renamenx("a", "c") is True
    assert r.get("c") == b"1" and r.exists("a") == 0


def test_rename_expired_source_is_missing(r):
    r.set("a", 1, px=1)
    time.sleep(0.01)
    assert err(r.rename, "a", "b") == "no such key"


def test_rename_wakes_blocked_client(r, server):
    waiter = server.client()
    result = {}

    import threading

    t = threading.Thread(target=lambda: result.setdefault("v", waiter.blpop("dst", timeout=5)))
    t.start()
    wait_blocked_on(r, "blpop")
    r.rpush("src", "hello")
    r.rename("src", "dst")
    t.join(6)
    assert result["v"] == (b"dst", b"hello")
    waiter.close()


@pytest.fixture
def notify_server():
    srv = ServerProcess(args=["--notify-keyspace-events", "KEA"])
    yield srv
    srv.stop()


def test_new_key_events_for_rename_move_copy():
    """dbAdd's ``new`` event (class n, not part of A) precedes rename_to / move_to / copy_to."""
    srv = ServerProcess(args=["--notify-keyspace-events", "Egn"])
    try:
        r = srv.client()
        p = srv.client().pubsub()
        p.psubscribe("__keyevent@*")
        assert p.get_message(timeout=10)["type"] == "psubscribe"
        r.mset({"a": 1, "other": 2})
        r.rename("a", "b")
        r.rename("other", "b")          # overwriting still adds the key anew
        r.move("b", 1)
        r.execute_command("SELECT", 1)
        r.copy("b", "c")
        r.copy("b", "c", replace=True)
        # 15 events: the 11 below, plus new and rename_from of a and other
        got = [e for e in _collect(p, 15) if e[1] not in (b"a", b"other")]
        assert got == [
            (b"__keyevent@0__:new", b"b"), (b"__keyevent@0__:rename_to", b"b"),
            (b"__keyevent@0__:new", b"b"), (b"__keyevent@0__:rename_to", b"b"),
            (b"__keyevent@1__:new", b"b"), (b"__keyevent@0__:move_from", b"b"),
            (b"__keyevent@1__:move_to", b"b"),
            (b"__keyevent@1__:new", b"c"), (b"__keyevent@1__:copy_to", b"c"),
            (b"__keyevent@1__:new", b"c"), (b"__keyevent@1__:copy_to", b"c"),
        ]
        p.close()
        r.close()
    finally:
        srv.stop()


def _collect(p, n: int, timeout: float = 15.0) -> list[tuple[bytes, bytes]]:
    """``n`` events (waiting up to ``timeout`` for them), then whatever else arrives within 0.2 s."""
    out = []
    deadline = time.time() + timeout
    while len(out) < n and time.time() < deadline:
        m = p.get_message(timeout=0.2)
        if m and m["type"] == "pmessage":
            out.append((m["channel"], m["data"]))
    while (m := p.get_message(timeout=0.2)) is not None:
        if m["type"] == "pmessage":
            out.append((m["channel"], m["data"]))
    return out


def test_generic_keyspace_events(notify_server):
    r = notify_server.client()
    p = notify_server.client().pubsub()
    p.psubscribe("__keyevent@*")
    assert p.get_message(timeout=10)["type"] == "psubscribe"
    r.set("a", 1)
    r.rename("a", "b")
    r.move("b", 1)
    r.execute_command("SELECT", 1)
    r.copy("b", "c", destination_db=0)
    r.expire("b", 100)
    r.persist("b")
    r.expire("b", -1)
    r.delete("nothing")
    r.execute_command("SELECT", 0)
    r.delete("c")
    got = _collect(p, 10)
    assert got == [
        (b"__keyevent@0__:set", b"a"),
        (b"__keyevent@0__:rename_from", b"a"),
        (b"__keyevent@0__:rename_to", b"b"),
        (b"__keyevent@0__:move_from", b"b"),
        (b"__keyevent@1__:move_to", b"b"),
        (b"__keyevent@0__:copy_to", b"c"),
        (b"__keyevent@1__:expire", b"b"),
        (b"__keyevent@1__:persist", b"b"),
        (b"__keyevent@1__:del", b"b"),
        (b"__keyevent@0__:del", b"c"),
    ]
    p.close()
    r.close()


# -- MOVE ---------------------------------------------------------------------------------------


def test_move(r, server):
    other = server.client(db=1)
    other.flushdb()
    r.set("k", "v", ex=100)
    assert r.move("k", 1) is True
    assert r.exists("k") == 0
    assert other.get("k") == b"v" and 95 <= other.ttl("k") <= 100
    assert r.move("k", 1) is False              # no source
    r.set("k", "again")
    assert r.move("k", 1) is False              # destination exists
    assert r.get("k") == b"again"
    other.flushdb()
    other.close()


def test_move_errors(r, raw2):
    r.set("k", "v")
    assert raw2.call("MOVE", "k", "0") == b"-ERR source and destination objects are the same\r\n"
    assert raw2.call("MOVE", "nokey", "0") == b"-ERR source and destination objects are the same\r\n"
    assert raw2.call("MOVE", "k", "16") == b"-ERR DB index is out of range\r\n"
    assert raw2.call("MOVE", "k", "-1") == b"-ERR DB index is out of range\r\n"
    assert raw2.call("MOVE", "k", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert raw2.call("MOVE", "k", "2147483648") == (
        b"-ERR value is out of range, value must between -2147483648 and 2147483647\r\n")


# -- COPY ---------------------------------------------------------------------------------------


def test_copy_every_type_is_independent(r):
    r.set("s", "v", ex=100)
    r.append("ba", "raw")
    r.rpush("l", 1, 2)
    r.sadd("set", "a", "b")
    r.hset("h", mapping={"f": "v"})
    r.zadd("z", {"m": 1, "n": 2})
    r.xadd("x", {"f": "v"}, id="1-1")
    for k in ("s", "ba", "l", "set", "h", "z", "x"):
        assert r.copy(k, k + "2") is True
    assert r.get("s2") == b"v" and 95 <= r.ttl("s2") <= 100
    assert r.ttl("l2") == -1
    r.append("ba2", "more")
    r.rpush("l2", 3)
    r.sadd("set2", "c")
    r.hset("h2", "g", "w")
    r.zadd("z2", {"o": 3})
    r.xadd("x2", {"f": "v"}, id="2-1")
    assert r.get("ba") == b"raw" and r.get("ba2") == b"rawmore"
    assert r.lrange("l", 0, -1) == [b"1", b"2"]
    assert r.smembers("set") == {b"a", b"b"}
    assert r.hgetall("h") == {b"f": b"v"}
    assert r.zrange("z", 0, -1) == [b"m", b"n"]
    assert r.xlen("x") == 1 and r.xlen("x2") == 2
    assert r.object("encoding", "ba2") == b"raw"


def test_copy_replace_and_db(r, server):
    other = server.client(db=2)
    other.flushdb()
    r.set("a", "1")
    r.set("b", "2")
    assert r.copy("a", "b") is False
    assert r.copy("a", "b", replace=True) is True
    assert r.get("b") == b"1"
    assert r.copy("a", "a", destination_db=2) is True
    assert other.get("a") == b"1"
    assert r.copy("missing", "x") is False
    assert r.execute_command("COPY", "a", "a", "REPLACE", "DB", "2") == 1
    other.flushdb()
    other.close()


def test_copy_errors(r, raw2):
    r.set("a", "1")
    assert raw2.call("COPY", "a", "a") == b"-ERR source and destination objects are the same\r\n"
    assert raw2.call("COPY", "a", "a", "DB", "0") == b"-ERR source and destination objects are the same\r\n"
    assert raw2.call("COPY", "a", "b", "DB", "16") == b"-ERR DB index is out of range\r\n"
    assert raw2.call("COPY", "a", "b", "DB", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert raw2.call("COPY", "a", "b", "DB") == b"-ERR syntax error\r\n"
    assert raw2.call("COPY", "a", "b", "FOO") == b"-ERR syntax error\r\n"


# -- OBJECT -------------------------------------------------------------------------------------


def test_object_encoding_strings(r):
    r.set("int", "12345")
    r.set("neg", "-9223372036854775808")
    r.set("big", "9223372036854775808")
    r.set("lead0", "012")
    r.set("e44", "x" * 44)
    r.set("r45", "x" * 45)
    r.set("a", "x")
    r.append("a", "y")
    r.incr("counter")
    enc = {k: r.object("encoding", k) for k in ("int", "neg", "big", "lead0", "e44", "r45", "a", "counter")}
    assert enc == {"int": b"int", "neg": b"int", "big": b"embstr", "lead0": b"embstr", "e44": b"embstr",
                   "r45": b"raw", "a": b"raw", "counter": b"int"}
    assert r.object("encoding", "missing") is None


def test_object_encoding_collections(r):
    r.rpush("l", *range(10))
    r.rpush("bigl", *["x" * 100] * 100)
    r.sadd("iset", *range(10))
    r.sadd("lpset", "a", 1)
    r.sadd("htset", *range(600))
    r.hset("h", mapping={"f": "v"})
    r.hset("bigh", mapping={f"f{i}": i for i in range(513)})  # built-in default is 512
    r.hset("longh", "f", "x" * 65)
    r.zadd("z", {"m": 1})
    r.zadd("bigz", {f"m{i}": i for i in range(200)})
    r.xadd("x", {"f": "v"})
    enc = {k: r.object("encoding", k) for k in ("l", "bigl", "iset", "lpset", "htset", "h", "bigh", "longh",
                                                 "z", "bigz", "x")}
    assert enc == {"l": b"listpack", "bigl": b"quicklist", "iset": b"intset", "lpset": b"listpack",
                   "htset": b"hashtable", "h": b"listpack", "bigh": b"hashtable", "longh": b"hashtable",
                   "z": b"listpack", "bigz": b"skiplist", "x": b"stream"}


def test_encoding_thresholds_follow_config():
    srv = ServerProcess(args=["--hash-max-listpack-entries", "2", "--set-max-intset-entries", "3",
                              "--zset-max-listpack-value", "3", "--list-max-listpack-size", "4",
                              "--set-max-listpack-entries", "2"])
    try:
        r = srv.client()
        r.hset("h", mapping={"a": 1, "b": 2})
        assert r.object("encoding", "h") == b"listpack"
        r.hset("h", "c", 3)
        assert r.object("encoding", "h") == b"hashtable"
        r.sadd("s", 1, 2, 3)
        assert r.object("encoding", "s") == b"intset"
        r.sadd("s", 4)
        assert r.object("encoding", "s") == b"hashtable"
        r.sadd("ls", "a", "b")
        assert r.object("encoding", "ls") == b"listpack"
        r.sadd("ls", "c")
        assert r.object("encoding", "ls") == b"hashtable"
        r.zadd("z", {"abc": 1})
        assert r.object("encoding", "z") == b"listpack"
        r.zadd("z", {"abcd": 1})
        assert r.object("encoding", "z") == b"skiplist"
        r.rpush("l", 1, 2, 3, 4)
        assert r.object("encoding", "l") == b"listpack"
        r.rpush("l", 5)
        assert r.object("encoding", "l") == b"quicklist"
    finally:
        srv.stop()


def test_encoding_of_unit():
    from collections import deque

    from fastredis.encoding import encoding_of, lp_bytes

    cfg = {"list-max-listpack-size": -2, "set-max-intset-entries": 512, "set-max-listpack-entries": 128,
           "set-max-listpack-value": 64, "hash-max-listpack-entries": 128, "hash-max-listpack-value": 64,
           "zset-max-listpack-entries": 128, "zset-max-listpack-value": 64}
    assert encoding_of(b"1", cfg) == "int"
    assert encoding_of(bytearray(b"1"), cfg) == "raw"
    assert encoding_of(deque([b"1"]), cfg) == "listpack"
    assert lp_bytes([b"1", b"a" * 10, b"-5000", b"x" * 100]) == 7 + 2 + 12 + 4 + 103
    # 8 KB listpack limit for fill -2
    assert encoding_of(deque([b"x" * 60] * 130), cfg) == "listpack"
    assert encoding_of(deque([b"x" * 60] * 133), cfg) == "quicklist"
    assert encoding_of({b"-1", b"2"}, cfg) == "intset"
    assert encoding_of({b"01"}, cfg) == "listpack"


def test_object_refcount(r):
    r.set("shared", "100")
    r.set("notshared", "10000")
    r.set("str", "abc")
    r.rpush("l", "a")
    assert r.object("refcount", "shared") == 2147483647
    assert r.object("refcount", "notshared") == 1
    assert r.object("refcount", "str") == 1
    assert r.object("refcount", "l") == 1
    assert r.object("refcount", "nokey") is None


def test_object_idletime_and_freq(r, raw2):
    r.set("k", "v")
    assert r.object("idletime", "k") == 0
    assert raw2.call("OBJECT", "FREQ", "k") == (
        b"-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
        b"when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n")
    assert raw2.call("OBJECT", "FREQ", "nokey") == b"$-1\r\n"
    assert raw2.call("OBJECT", "IDLETIME", "nokey") == b"$-1\r\n"


def test_object_freq_with_lfu_policy():
    srv = ServerProcess(args=["--maxmemory-policy", "allkeys-lfu"])
    try:
        c = RawClient(srv.port)
        c.call("SET", "k", "v")
        assert c.call("OBJECT", "FREQ", "k") == b":5\r\n"
        assert c.call("OBJECT", "IDLETIME", "k") == (
            b"-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
            b"switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n")
        c.close()
    finally:
        srv.stop()


def test_object_help_and_errors(raw2, raw3):
    helptext = raw2.call("OBJECT", "HELP")
    assert helptext.startswith(b"*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n")
    assert helptext.endswith(b"+HELP\r\n+    Prints this help.\r\n")
    assert raw3.call("OBJECT", "help") == helptext
    assert raw2.call("OBJECT", "FOO", "k") == b"-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n"
    assert raw2.call("OBJECT") == b"-ERR wrong number of arguments for 'object' command\r\n"
    assert raw2.call("OBJECT", "ENCODING") == b"-ERR wrong number of arguments for 'object|encoding' command\r\n"
    assert raw2.call("OBJECT", "HELP", "x") == b"-ERR wrong number of arguments for 'object|help' command\r\n"
    assert raw3.call("OBJECT", "ENCODING", "nokey") == b"_\r\n"


# -- stats and transactions -------------------------------------------------------------------


def _keyspace_stats(r) -> tuple[int, int]:
    info = r.info("stats")
    return info["keyspace_hits"], info["keyspace_misses"]


def test_read_lookups_count_hits_and_misses(r):
    try:
        r.info("stats")
    except redis.ResponseError:
        pytest.fail("INFO is needed for this test")
    r.set("a", 1)
    h0, m0 = _keyspace_stats(r)
    r.exists("a", "b")
    r.type("b")
    r.ttl("a")
    r.touch("a", "b")
    r.object("encoding", "a")
    h1, m1 = _keyspace_stats(r)
    assert (h1 - h0, m1 - m0) == (4, 3)


def test_watch_is_invalidated_by_keyspace_commands(r, server):
    other = server.client()
    for cmd in (lambda: other.rename("w", "w2"), lambda: other.expire("w", 100), lambda: other.delete("w"),
                lambda: other.move("w", 5), lambda: other.persist("w")):
        r.delete("w", "w2")
        r.set("w", 1, ex=50)
        with r.pipeline() as p:
            p.watch("w")
            cmd()
            p.multi()
            p.set("w", 2)
            with pytest.raises(redis.WatchError):
                p.execute()
    r.execute_command("SELECT", 5)
    r.flushdb()
    r.execute_command("SELECT", 0)
    other.close()


def test_commands_inside_multi(r):
    r.set("a", 1)
    with r.pipeline() as p:
        p.rename("a", "b").expire("b", 100).ttl("b").exists("a", "b").type("b").keys("*")
        assert p.execute() == [True, True, 100, 1, b"string", [b"b"]]


def test_pipelined_raw_socket(server, r):
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"SET a 1\r\nEXISTS a a\r\nDEL a\r\nEXISTS a\r\n")
    buf = b""
    deadline = time.time() + 15
    while buf.count(b"\r\n") < 4 and time.time() < deadline:
        buf += s.recv(1024)
    s.close()
    assert buf == b"+OK\r\n:2\r\n:1\r\n:0\r\n"
