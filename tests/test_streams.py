"""Streams: XADD/XRANGE/XREAD, consumer groups, claims, XINFO — checked byte for byte against Redis."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from conftest import RawClient, diff_replies, wait_blocked_on


def test_xadd_xrange_diff(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("XADD", "s", "1-1", "a", "1"),
        ("XADD", "s", "1-2", "b", "2", "c", "3"),
        ("XADD", "s", "1-*", "d", "4"),
        ("XADD", "s", "2", "e", "5"),
        ("XADD", "s", "1-1", "x", "y"),
        ("XADD", "s", "0-0", "x", "y"),
        ("XADD", "s2", "0-0", "x", "y"),
        ("XADD", "s", "bad", "x", "y"),
        ("XADD", "s", "3-1", "x"),
        ("XADD", "s", "NOMKSTREAM", "3-1", "x", "y"),
        ("XADD", "nokey", "NOMKSTREAM", "3-1", "x", "y"),
        ("XLEN", "s"),
        ("XLEN", "nokey"),
        ("XRANGE", "s", "-", "+"),
        ("XRANGE", "s", "1", "1"),
        ("XRANGE", "s", "(1-1", "+"),
        ("XRANGE", "s", "-", "(2-0"),
        ("XRANGE", "s", "-", "+", "COUNT", "2"),
        ("XRANGE", "s", "-", "+", "COUNT", "0"),
        ("XRANGE", "s", "-", "+", "COUNT", "-1"),
        ("XRANGE", "s", "-", "+", "LIMIT", "2"),
        ("XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"),
        ("XRANGE", "s", "-", "(0-0"),
        ("XRANGE", "s", "x", "+"),
        ("XRANGE", "nokey", "-", "+"),
        ("XREVRANGE", "s", "+", "-"),
        ("XREVRANGE", "s", "+", "-", "COUNT", "1"),
        ("XREVRANGE", "s", "(3", "(1-1"),
        ("XDEL", "s", "1-2", "9-9"),
        ("XDEL", "s", "bad"),
        ("XRANGE", "s", "-", "+"),
        ("SET", "str", "x"),
        ("XADD", "str", "*", "a", "b"),
        ("XRANGE", "str", "-", "+"),
    ])


def test_xtrim_and_maxlen_diff(server, real_redis):
    cmds: list[tuple] = []
    for i in range(1, 251):
        cmds.append(("XADD", "t", f"{i}-0", "f", "v"))
    cmds += [
        ("XTRIM", "t", "MAXLEN", "200"),
        ("XLEN", "t"),
        ("XTRIM", "t", "MAXLEN", "~", "90"),
        ("XLEN", "t"),
        ("XTRIM", "t", "MINID", "150"),
        ("XRANGE", "t", "-", "+", "COUNT", "1"),
        ("XTRIM", "t", "MAXLEN", "-1"),
        ("XTRIM", "t", "MAXLEN", "=", "10", "LIMIT", "5"),
        ("XTRIM", "t", "FOO", "1"),
        ("XTRIM", "t", "MINID", "bad"),
        ("XADD", "t", "MAXLEN", "5", "300-0", "f", "v"),
        ("XLEN", "t"),
        ("XADD", "t", "MAXLEN", "=", "3", "LIMIT", "1", "301-0", "f", "v"),
        ("XADD", "t", "MINID", "299", "302-0", "f", "v"),
        ("XRANGE", "t", "-", "+"),
    ]
    diff_replies(real_redis.port, server.port, cmds)


def test_approx_trim_follows_node_layout(server, real_redis):
    # node boundaries depend on stream-node-max-entries and stream-node-max-bytes
    cmds: list[tuple] = []
    for i in range(1, 301):
        fields = ("f", "v" * 40) if i % 3 else ("f", "v" * 40, "g", str(i))
        cmds.append(("XADD", "n", f"{i}-0", *fields))
    cmds += [("XDEL", "n", "5-0", "6-0"), ("XTRIM", "n", "MAXLEN", "~", "250"), ("XLEN", "n"),
             ("XTRIM", "n", "MINID", "~", "200"), ("XLEN", "n"),
             ("XTRIM", "n", "MAXLEN", "~", "10", "LIMIT", "60"), ("XLEN", "n"),
             ("XTRIM", "n", "MAXLEN", "~", "0"), ("XLEN", "n")]
    diff_replies(real_redis.port, server.port, cmds)


def test_groups_diff(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("XGROUP", "CREATE", "g", "grp", "$"),
        ("XGROUP", "CREATE", "g", "grp", "$", "MKSTREAM"),
        ("XGROUP", "CREATE", "g", "grp", "$", "MKSTREAM"),
        ("XADD", "g", "1-0", "a", "1"),
        ("XADD", "g", "2-0", "b", "2"),
        ("XADD", "g", "3-0", "c", "3"),
        ("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "2", "STREAMS", "g", ">"),
        ("XREADGROUP", "GROUP", "grp", "bob", "STREAMS", "g", ">"),
        ("XREADGROUP", "GROUP", "grp", "bob", "STREAMS", "g", ">"),
        ("XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "g", "0"),
        ("XREADGROUP", "GROUP", "nogrp", "alice", "STREAMS", "g", ">"),
        ("XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "g", "$"),
        ("XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "g"),
        ("XPENDING", "g", "grp"),
        ("XPENDING", "g", "nogrp"),
        ("XACK", "g", "grp", "1-0", "9-0"),
        ("XACK", "g", "nogrp", "1-0"),
        ("XPENDING", "g", "grp"),
        ("XGROUP", "CREATECONSUMER", "g", "grp", "carol"),
        ("XGROUP", "CREATECONSUMER", "g", "grp", "carol"),
        ("XGROUP", "CREATECONSUMER", "g", "nogrp", "carol"),
        ("XGROUP", "DELCONSUMER", "g", "grp", "bob"),
        ("XPENDING", "g", "grp"),
        ("XGROUP", "SETID", "g", "grp", "0"),
        ("XREADGROUP", "GROUP", "grp", "carol", "NOACK", "STREAMS", "g", ">"),
        ("XPENDING", "g", "grp"),
        ("XGROUP", "SETID", "g", "nogrp", "0"),
        ("XGROUP", "DESTROY", "g", "grp"),
        ("XGROUP", "DESTROY", "g", "grp"),
        ("XGROUP", "CREATE", "nokey", "grp", "0"),
        ("XGROUP", "FOO", "g"),
        ("XSETID", "g", "1-0"),
        ("XSETID", "g", "10-0", "ENTRIESADDED", "1"),
        ("XSETID", "g", "10-0"),
        ("XSETID", "nokey", "10-0"),
        ("XADD", "g", "*", "late", "x"),
    ][:-1])


def test_xclaim_xautoclaim_diff(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("XADD", "c", "1-0", "a", "1"),
        ("XADD", "c", "2-0", "b", "2"),
        ("XADD", "c", "3-0", "c", "3"),
        ("XGROUP", "CREATE", "c", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "c", ">"),
        ("XCLAIM", "c", "g", "bob", "0", "1-0", "2-0"),
        ("XCLAIM", "c", "g", "bob", "0", "3-0", "JUSTID"),
        ("XCLAIM", "c", "g", "bob", "bad", "3-0"),
        ("XCLAIM", "c", "g", "bob", "0", "3-0", "FOO"),
        ("XCLAIM", "c", "g", "bob", "3600000", "1-0"),
        ("XPENDING", "c", "g"),
        ("XDEL", "c", "2-0"),
        ("XAUTOCLAIM", "c", "g", "carol", "0", "0", "COUNT", "1"),
        ("XAUTOCLAIM", "c", "g", "carol", "0", "0", "JUSTID"),
        ("XAUTOCLAIM", "c", "g", "carol", "0", "0", "COUNT", "0"),
        ("XPENDING", "c", "g"),
        ("XCLAIM", "c", "nogrp", "bob", "0", "1-0"),
    ])


def test_xread_diff(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("XADD", "r1", "1-0", "a", "1"),
        ("XADD", "r1", "2-0", "b", "2"),
        ("XADD", "r2", "5-0", "c", "3"),
        ("XREAD", "STREAMS", "r1", "r2", "0", "0"),
        ("XREAD", "COUNT", "1", "STREAMS", "r1", "r2", "0", "4"),
        ("XREAD", "STREAMS", "r1", "2-0"),
        ("XREAD", "STREAMS", "r1", "$"),
        ("XREAD", "STREAMS", "r1"),
        ("XREAD", "STREAMS", "nokey", "0"),
        ("XREAD", "BLOCK", "-1", "STREAMS", "r1", "0"),
        ("XREAD", "FOO", "STREAMS", "r1", "0"),
    ])
    diff_replies(real_redis.port, server.port, [
        ("XADD", "r1", "1-0", "a", "1"),
        ("XREAD", "STREAMS", "r1", "0"),
        ("XREAD", "STREAMS", "r1", "1"),
    ], resp=3)


def test_xread_block_wakes_on_xadd(server):
    r = server.client()
    r.delete("bs")
    result = {}

    def reader():
        c = server.client()
        result["v"] = c.xread({"bs": "$"}, block=5000)

    t = threading.Thread(target=reader)
    t.start()
    wait_blocked_on(r, "xread")
    r.xadd("bs", {"k": "v"}, id="7-1")
    t.join(6)
    assert result["v"] == [[b"bs", [(b"7-1", {b"k": b"v"})]]]


def test_xread_block_timeout(server):
    c = RawClient(server.port)
    t0 = time.time()
    assert c.call("XREAD", "BLOCK", "200", "STREAMS", "nothing", "$") == b"*-1\r\n"
    assert time.time() - t0 >= 0.18
    c.close()


def test_xreadgroup_block(server):
    r = server.client()
    r.delete("gb")
    r.xgroup_create("gb", "g", id="$", mkstream=True)
    result = {}

    def reader():
        c = server.client()
        result["v"] = c.xreadgroup("g", "w", {"gb": ">"}, block=5000)

    t = threading.Thread(target=reader)
    t.start()
    wait_blocked_on(r, "xreadgroup")
    r.xadd("gb", {"x": "1"}, id="5-5")
    t.join(6)
    assert result["v"] == [[b"gb", [(b"5-5", {b"x": b"1"})]]]
    assert r.xpending("gb", "g")["pending"] == 1


def test_xinfo(server, r):
    r.xadd("i", {"a": "1"}, id="1-0")
    r.xadd("i", {"b": "2"}, id="2-0")
    r.xgroup_create("i", "g", id="0")
    r.xreadgroup("g", "c1", {"i": ">"}, count=1)
    info = r.xinfo_stream("i")
    assert info["length"] == 2
    assert info["last-generated-id"] == b"2-0"
    assert info["entries-added"] == 2
    assert info["recorded-first-entry-id"] == b"1-0"
    assert info["first-entry"] == (b"1-0", {b"a": b"1"})
    groups = r.xinfo_groups("i")
    assert groups[0]["name"] == b"g"
    assert groups[0]["pending"] == 1
    assert groups[0]["entries-read"] == 1
    assert groups[0]["lag"] == 1
    consumers = r.xinfo_consumers("i", "g")
    assert consumers[0]["name"] == b"c1" and consumers[0]["pending"] == 1
    assert "inactive" in consumers[0]
    full = r.xinfo_stream("i", full=True)
    assert full["groups"][0]["pel-count"] == 1
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.xinfo_stream("missing")


def test_xinfo_lag_diff_with_tombstones(server, real_redis):
    # lag/entries-read computed like Redis, also after deletions
    diff_replies(real_redis.port, server.port, [
        ("XADD", "l", "1-0", "a", "1"),
        ("XADD", "l", "2-0", "a", "1"),
        ("XADD", "l", "3-0", "a", "1"),
        ("XGROUP", "CREATE", "l", "g1", "0"),
        ("XGROUP", "CREATE", "l", "g2", "$"),
        ("XREADGROUP", "GROUP", "g1", "c", "COUNT", "1", "STREAMS", "l", ">"),
        ("XDEL", "l", "2-0"),
        ("XREADGROUP", "GROUP", "g1", "c", "COUNT", "1", "STREAMS", "l", ">"),
        ("XGROUP", "CREATE", "l", "g3", "0", "ENTRIESREAD", "1"),
    ])
    a, b = RawClient(real_redis.port), RawClient(server.port)
    for cl in (a, b):
        cl.call("SELECT", "9")
    ra = redis.Redis(port=real_redis.port, db=9, protocol=2).xinfo_groups("l")
    rb = redis.Redis(port=server.port, db=9, protocol=2).xinfo_groups("l")
    assert [(g["name"], g["entries-read"], g["lag"], g["pending"]) for g in rb] == \
           [(g["name"], g["entries-read"], g["lag"], g["pending"]) for g in ra]


def test_type_and_wrongtype(r):
    r.xadd("st", {"a": "b"})
    assert r.type("st") == b"stream"
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.lpush("st", "x")
