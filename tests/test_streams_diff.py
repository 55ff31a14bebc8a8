"""Streams against a real redis-server, byte for byte, plus what Redis 7.2 does differently from 7.0.

The installed redis-server is 7.0; where 7.2 changed a reply (unbalanced XREAD lists, XSETID
against max_deleted_entry_id, consumers created by XCLAIM/XAUTOCLAIM up front, blocked XREADGROUP
woken by a deleted key) the expected 7.2 reply is asserted directly instead.  Replies that carry
idle times are compared with the times masked.
"""

from __future__ import annotations

import socket
import time

import hiredis
import pytest
import redis
from conftest import RawClient, ServerProcess, diff_replies


def test_option_parsing_and_error_order(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("XADD", "s", "1-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "5", "MINID", "3", "*", "a", "1"),
        ("XADD", "s", "MAXLEN", "5", "MAXLEN", "3", "*", "a", "1"),
        ("XADD", "s", "LIMIT", "5", "*", "a", "1"),
        ("XADD", "s", "LIMIT", "0", "2-0", "a", "1"),
        ("XADD", "s", "MAXLEN", "5", "LIMIT", "5", "*", "a", "1"),
        ("XADD", "s", "MAXLEN", "~", "x", "*", "a", "1"),
        ("XADD", "s", "MAXLEN", "-1", "*", "a", "1"),
        ("XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "*", "a", "1"),
        ("XADD", "s", "MINID", "-", "*", "a", "1"),
        ("XADD", "s", "MINID", "1-*", "*", "a", "1"),
        ("XTRIM", "s", "LIMIT", "5"),
        ("XTRIM", "s", "MAXLEN", "~", "5", "LIMIT"),
        ("XTRIM", "s", "MAXLEN", "5", "NOMKSTREAM"),
        ("XTRIM", "nokey", "MAXLEN", "5", "LIMIT", "5"),
        ("XTRIM", "nokey", "MAXLEN", "~", "5", "LIMIT", "5"),
        ("XADD", "s", "foo", "a", "1"),
        ("XADD", "s", "5-5", "a"),
        ("XADD", "s", "NOMKSTREAM", "MAXLEN", "5"),
        ("XADD", "s", "MAXLEN", "5", "3-0"),
        # IDs are parsed with strtoull: sign, leading blanks and zeros, wrap-around of "-0N"
        ("XADD", "s", "+5-3", "a", "1"),
        ("XADD", "s", " 6-0", "a", "1"),
        ("XADD", "s", "7--05", "a", "1"),
        ("XADD", "s", "08-01", "a", "1"),
        ("XADD", "s", "9-1-1", "a", "1"),
        ("XADD", "s", "9-", "a", "1"),
        ("XADD", "s", "-9", "a", "1"),
        ("XADD", "s", "9" * 21, "a", "1"),
        ("XADD", "s", "18446744073709551616-0", "a", "1"),
        ("XADD", "s", "1" + "0" * 127, "a", "1"),
        ("XRANGE", "s", "-", "+"),
        ("XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"),
        ("XREAD", "NOACK", "STREAMS", "s", "0"),
        ("XREAD", "STREAMS", "s", ">"),
        ("XREAD", "COUNT", "x", "STREAMS", "s", "0"),
        ("XREAD", "BLOCK", "x", "STREAMS", "s", "0"),
        ("XREAD", "BLOCK", "-5", "STREAMS", "s", "0"),
        ("XREAD", "STREAMS", "s", "bad"),
        ("XREADGROUP", "GROUP", "g", "STREAMS", "s", ">"),
        ("XREADGROUP", "COUNT", "1", "STREAMS", "s", ">"),
        ("XGROUP", "CREATE", "s", "g", "$", "FOO"),
        ("XGROUP", "CREATE", "nokey", "g", "badid"),
        ("XGROUP", "CREATE", "s", "g", "badid"),
        ("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM", "MKSTREAM", "MKSTREAM", "MKSTREAM"),
        ("XGROUP", "CREATE", "s", "g", "$", "ENTRIESREAD", "-2"),
        ("XGROUP", "CREATE", "s", "g", "$", "ENTRIESREAD"),
        ("XGROUP", "SETID", "s", "g", "$", "MKSTREAM"),
        ("XGROUP", "SETID", "s", "nog", "$"),
        ("XGROUP", "SETID", "s", "nog", "$", "ENTRIESREAD", "5", "6"),
        ("XGROUP", "CREATE", "s", "g", "-"),
        ("XGROUP", "CREATE", "s", "g2", "+"),
        ("XGROUP", "CREATE", "s", "g2", "+"),
        ("XGROUP", "SETID", "s", "g", "+"),
        ("XGROUP", "SETID", "s", "g", "-"),
        ("XGROUP", "SETID", "s", "g", "bad"),
        ("XGROUP", "DESTROY", "nokey", "g"),
        ("XGROUP", "CREATECONSUMER", "nokey", "g", "c"),
        ("XGROUP", "DELCONSUMER", "s", "nog", "c"),
        ("XGROUP", "DELCONSUMER", "s", "g", "nobody"),
        ("XINFO", "GROUPS", "s"),
        ("XINFO", "STREAM", "s", "FOO"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT"),
        ("XINFO", "STREAM", "s", "FULL", "FOO", "1"),
        ("XINFO", "STREAM", "s", "FULL", "COUNT", "x"),
        ("XINFO", "STREAM", "nokey", "FOO"),
        ("XINFO", "CONSUMERS", "s", "nog"),
        ("XACK", "nokey", "g", "bad"),
        ("XACK", "s", "g", "bad"),
        ("XDEL", "nokey", "bad"),
        ("XDEL", "s", "bad"),
        ("XCLAIM", "nokey", "g", "c", "bad", "1-1"),
        ("XCLAIM", "s", "g", "c", "bad", "1-1"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "IDLE"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "IDLE", "x"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "TIME", "x"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "RETRYCOUNT", "x"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "x"),
        ("XCLAIM", "s", "g", "c", "0", "1-1", "FOO"),
        ("XAUTOCLAIM", "nokey", "g", "c", "bad", "0"),
        ("XAUTOCLAIM", "nokey", "g", "c", "0", "bad"),
        ("XAUTOCLAIM", "nokey", "g", "c", "0", "(18446744073709551615-18446744073709551615"),
        ("XAUTOCLAIM", "nokey", "g", "c", "0", "0", "COUNT", "0"),
        ("XAUTOCLAIM", "nokey", "g", "c", "0", "0", "COUNT", "abc"),
        ("XAUTOCLAIM", "nokey", "g", "c", "0", "0", "COUNT", "576460752303423488"),
        ("XAUTOCLAIM", "nokey", "g", "c", "0", "0", "COUNT", "576460752303423487"),
        ("XAUTOCLAIM", "nokey", "g", "c", "0", "0", "FOO"),
        ("XPENDING", "s", "g", "IDLE", "abc", "-", "+"),
        ("XPENDING", "s", "g", "IDLE", "5", "-", "+"),
        ("XPENDING", "s", "g", "bad", "+", "x"),
        ("XPENDING", "s", "g", "-", "+"),
        ("XPENDING", "s", "nog", "-", "+", "5"),
        ("XPENDING", "nokey", "g"),
        ("XSETID", "s", "bad"),
        ("XSETID", "s", "99-0", "ENTRIESADDED", "-1"),
        ("XSETID", "s", "99-0", "MAXDELETEDID", "100-0"),
        ("XSETID", "s", "99-0", "FOO"),
        ("XSETID", "nokey", "1-0"),
        ("XADD", "full", "18446744073709551615-18446744073709551615", "a", "b"),
        ("XADD", "full", "5-5", "a", "b"),
        ("XADD", "full", "*", "a", "b"),
        ("XADD", "full", "18446744073709551615-*", "a", "b"),
        ("SET", "str", "v"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"),
        ("XINFO", "STREAM", "str"),
        ("XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"),
        ("XCLAIM", "str", "g", "c", "0", "1-0"),
        ("XAUTOCLAIM", "str", "g", "c", "0", "0"),
        ("XPENDING", "str", "g"),
        ("XACK", "str", "g", "1-0"),
        ("XSETID", "str", "1-0"),
    ])


def test_ms_star_and_exhausted_ids(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("XADD", "m", "0-*", "a", "1"),
        ("XADD", "m", "0-*", "a", "1"),
        ("XADD", "m", "5-*", "a", "1"),
        ("XADD", "m", "5-*", "a", "1"),
        ("XADD", "m", "4-*", "a", "1"),
        ("XADD", "m", "5-18446744073709551615", "a", "1"),
        ("XADD", "m", "18446744073709551615-18446744073709551614", "a", "1"),
        ("XADD", "m", "18446744073709551615-*", "a", "1"),
        ("XADD", "m", "18446744073709551615-*", "a", "1"),
        ("XADD", "m", "*", "a", "1"),
        ("XRANGE", "m", "-", "+"),
        ("XRANGE", "m", "(5-18446744073709551615", "+", "COUNT", "1"),
        ("XREVRANGE", "m", "+", "(5", "COUNT", "1"),
        ("XREAD", "STREAMS", "m", "18446744073709551615-18446744073709551615"),
        ("XREAD", "COUNT", "2", "STREAMS", "m", "m", "0", "5"),
    ])


def test_groups_pel_and_history(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("XADD", "s", "1-0", "a", "1"),
        ("XADD", "s", "2-0", "b", "2"),
        ("XADD", "s", "3-0", "c", "3"),
        ("XGROUP", "CREATE", "s", "g", "0"),
        # FORCE creates the PEL entry with one delivery, the claim counts another
        ("XCLAIM", "s", "g", "bob", "0", "1-0", "FORCE"),
        ("XCLAIM", "s", "g", "bob", "0", "2-0", "FORCE", "JUSTID"),
        ("XCLAIM", "s", "g", "bob", "100000", "3-0", "FORCE"),
        ("XCLAIM", "s", "g", "bob", "0", "9-0", "FORCE"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "zed"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "abe"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "abe"),
        ("XPENDING", "s", "g"),
        ("XINFO", "GROUPS", "s"),
        ("XREADGROUP", "GROUP", "g", "abe", "STREAMS", "s", "0"),
        ("XDEL", "s", "2-0"),
        # history: a deleted entry comes back with a null array and no delivery count
        ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", "1-0"),
        ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "(1-0"),
        ("XREADGROUP", "GROUP", "g", "bob", "BLOCK", "100", "STREAMS", "s", "3-0"),
        # the maximal ID is how Redis encodes '>': it reads new entries
        ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "18446744073709551615-18446744073709551615"),
        ("XINFO", "GROUPS", "s"),
        ("XADD", "s", "4-0", "d", "4"),
        ("XADD", "s", "5-0", "d", "4"),
        ("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
        ("XDEL", "s", "4-0", "5-0"),
        ("XAUTOCLAIM", "s", "g", "dan", "0", "0", "COUNT", "1"),
        ("XAUTOCLAIM", "s", "g", "dan", "0", "0", "COUNT", "1"),
        # deleted entries use up COUNT too
        ("XAUTOCLAIM", "s", "g", "dan", "0", "2-0", "COUNT", "2", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "dan", "0", "(1-0"),
        ("XPENDING", "s", "g"),
        ("XGROUP", "CREATE", "s", "a", "0"),
        ("XGROUP", "CREATE", "s", "B", "0"),
        ("XINFO", "GROUPS", "s"),
        ("XGROUP", "SETID", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "zed", "COUNT", "1", "STREAMS", "s", ">"),
        ("XPENDING", "s", "g"),
        ("XGROUP", "DELCONSUMER", "s", "g", "zed"),
        ("XPENDING", "s", "g"),
        ("XCLAIM", "s", "g", "bob", "0", "1-0", "3-0", "LASTID", "99-0", "JUSTID"),
        ("XCLAIM", "s", "g", "bob", "0", "1-0", "RETRYCOUNT", "7", "JUSTID"),
        ("XINFO", "GROUPS", "s"),
        ("XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", ">"),
        ("XADD", "s", "100-0", "x", "y"),
        ("XREADGROUP", "GROUP", "g", "newc", "NOACK", "STREAMS", "s", ">"),
        ("XPENDING", "s", "g"),
        ("XINFO", "GROUPS", "s"),
        ("XACK", "s", "g", "1-0", "1-0", "bad"),
        ("XACK", "s", "g", "1-0", "3-0", "100-0"),
        ("XPENDING", "s", "g"),
        ("XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "3"),
        ("XINFO", "GROUPS", "s"),
        ("XGROUP", "DESTROY", "s", "a"),
        ("XGROUP", "DESTROY", "s", "a"),
        ("XINFO", "GROUPS", "s"),
    ])
    diff_replies(real_redis.port, server.port, [
        ("XADD", "s", "1-0", "a", "1"),
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
        ("XDEL", "s", "1-0"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
    ], resp=3)


def _masked(port: int, cmds: list[tuple], mask) -> list:
    """Run commands on a fresh db 9 and decode the replies with hiredis, masking timing fields."""
    cl = RawClient(port)
    cl.call("SELECT", "9")
    cl.call("FLUSHDB")
    out = []
    for cmd in cmds:
        reader = hiredis.Reader()
        reader.feed(cl.call(*cmd))
        out.append(mask(cmd, reader.gets()))
    cl.close()
    return out


def test_xpending_extended_and_xinfo_full_masked(server, real_redis):
    def mask(cmd, reply):
        if cmd[0] == "XPENDING" and isinstance(reply, list) and len(cmd) > 3:
            return [[e[0], e[1], "idle", e[3]] for e in reply]
        if cmd[:2] == ("XINFO", "STREAM") and isinstance(reply, list):
            d = dict(zip(reply[::2], reply[1::2]))
            d.pop(b"radix-tree-nodes", None)
            for g in d.get(b"groups") or []:
                gd = dict(zip(g[::2], g[1::2]))
                for i, p in enumerate(gd[b"pending"]):
                    gd[b"pending"][i] = [p[0], p[1], "t", p[3]]
                cons = []
                for cn in gd[b"consumers"]:
                    cd = dict(zip(cn[::2], cn[1::2]))
                    cons.append((cd[b"name"], cd[b"pel-count"], [[p[0], "t", p[2]] for p in cd[b"pending"]]))
                gd[b"consumers"] = cons
                g[:] = sorted(gd.items())
            return sorted(d.items())
        return reply

    cmds = [("XADD", "p", f"{i}-0", "f", str(i)) for i in range(1, 8)] + [
        ("XGROUP", "CREATE", "p", "g2", "0"),
        ("XGROUP", "CREATE", "p", "g1", "0"),
        ("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "p", ">"),
        ("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "p", ">"),
        ("XREADGROUP", "GROUP", "g2", "carl", "COUNT", "2", "STREAMS", "p", ">"),
        ("XCLAIM", "p", "g1", "alice", "0", "2-0", "RETRYCOUNT", "5"),
        ("XPENDING", "p", "g1", "-", "+", "10"),
        ("XPENDING", "p", "g1", "-", "+", "2"),
        ("XPENDING", "p", "g1", "(2-0", "6", "10", "alice"),
        ("XPENDING", "p", "g1", "-", "+", "10", "nobody"),
        ("XPENDING", "p", "g1", "IDLE", "3600000", "-", "+", "10"),
        ("XPENDING", "p", "g1", "IDLE", "0", "-", "+", "10", "bob"),
        ("XPENDING", "p", "g1", "-", "+", "0"),
        ("XPENDING", "p", "g1", "5", "1", "10"),
        ("XDEL", "p", "3-0"),
        ("XINFO", "STREAM", "p", "FULL"),
        ("XINFO", "STREAM", "p", "FULL", "COUNT", "2"),
        ("XINFO", "STREAM", "p", "FULL", "COUNT", "0"),
    ]
    assert _masked(server.port, cmds, mask) == _masked(real_redis.port, cmds, mask)


def test_redis72_replies():
    """Replies that changed between 7.0 (installed) and 7.2 (the reference)."""
    srv = ServerProcess()
    try:
        c = RawClient(srv.port)
        assert c.call("XREAD", "STREAMS", "a", "b", "0") == \
            b"-ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.\r\n"
        assert c.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", "0") == \
            b"-ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.\r\n"
        c.call("XADD", "s", "1-1", "a", "1")
        c.call("XADD", "s", "2-1", "a", "1")
        c.call("XDEL", "s", "2-1")
        assert c.call("XSETID", "s", "2-0") == \
            b"-ERR The ID specified in XSETID is smaller than current max_deleted_entry_id\r\n"
        assert c.call("XSETID", "s", "2-1") == b"+OK\r\n"
        # ms-* on a full sequence: 7.0 said "Elements are too large to be stored"
        c.call("XADD", "m", "5-18446744073709551615", "a", "1")
        assert c.call("XADD", "m", "5-*", "a", "1") == \
            b"-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
        # XCLAIM/XAUTOCLAIM create (and count as seen) their consumer even when nothing is claimed
        c.call("XGROUP", "CREATE", "s", "g", "0")
        assert c.call("XCLAIM", "s", "g", "carol", "0", "9-9") == b"*0\r\n"
        assert c.call("XAUTOCLAIM", "s", "g", "dave", "0", "0") == b"*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"
        r = srv.client()
        assert [x["name"] for x in r.xinfo_consumers("s", "g")] == [b"carol", b"dave"]
        assert [x["inactive"] for x in r.xinfo_consumers("s", "g")] == [-1, -1]
        r.xreadgroup("g", "carol", {"s": ">"})
        info = r.xinfo_consumers("s", "g")
        assert info[0]["inactive"] >= 0 and info[1]["inactive"] == -1
        full = r.xinfo_stream("s", full=True)
        assert list(full["groups"][0]["consumers"][0]) == ["name", "seen-time", "active-time", "pel-count", "pending"]
        assert full["recorded-first-entry-id"] == b"1-1"
        c.close()
    finally:
        srv.stop()


def _blocked_reader(port: int, *cmd: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    parts = [b"*%d\r\n" % len(cmd)] + [b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in cmd]
    s.sendall(b"".join(parts))
    return s


def _wait_blocked(r: redis.Redis, n: int) -> None:
    deadline = time.time() + 15
    while time.time() < deadline:
        if r.info("clients")["blocked_clients"] >= n:
            return
        time.sleep(0.01)
    raise AssertionError("client did not block")


def _reply(s: socket.socket) -> bytes:
    reader = hiredis.Reader(notEnoughData=Ellipsis)
    raw = b""
    while True:
        chunk = s.recv(65536)
        assert chunk, "connection closed"
        raw += chunk
        reader.feed(chunk)
        if reader.gets() is not Ellipsis:
            return raw


@pytest.mark.parametrize("action, expected", [
    ([("DEL", "bs")], b"-NOGROUP No such key 'bs' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
    ([("SET", "bs", "v")], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ([("MULTI",), ("DEL", "bs"), ("SADD", "bs", "e"), ("EXEC",)],
     b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ([("FLUSHALL",)], b"-NOGROUP No such key 'bs' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
    ([("FLUSHDB",)], b"-NOGROUP No such key 'bs' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
    ([("PEXPIRE", "bs", "1"), ("SLEEP",), ("EXISTS", "bs")],
     b"-NOGROUP No such key 'bs' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
    ([("XGROUP", "DESTROY", "bs", "g")],
     b"-NOGROUP No such key 'bs' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
    ([("XADD", "other", "100-0", "f", "v"), ("RENAME", "other", "bs")],
     b"-NOGROUP No such key 'bs' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
    ([("XGROUP", "CREATE", "other", "g", "$", "MKSTREAM"), ("XADD", "other", "100-0", "f", "v"),
      ("RENAME", "other", "bs")], b"*1\r\n*2\r\n$2\r\nbs\r\n*1\r\n*2\r\n$5\r\n100-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ([("XADD", "bs", "9-0", "f", "v")], b"*1\r\n*2\r\n$2\r\nbs\r\n*1\r\n*2\r\n$3\r\n9-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
])
def test_blocked_xreadgroup_woken_like_redis72(server, r, action, expected):
    r.xadd("bs", {"f": "v"}, id="5-0")
    r.xgroup_create("bs", "g", id="$")
    s = _blocked_reader(server.port, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "bs", ">")
    _wait_blocked(r, 1)
    for cmd in action:
        if cmd == ("SLEEP",):
            time.sleep(0.05)
        else:
            r.execute_command(*cmd)
    assert _reply(s) == expected
    s.close()


def test_blocked_xread_survives_delete_and_type_change(server, r):
    r.xadd("xs", {"f": "v"}, id="666-0")
    s = _blocked_reader(server.port, "XREAD", "BLOCK", "0", "STREAMS", "xs", "$")
    _wait_blocked(r, 1)
    r.delete("xs")
    r.set("xs", "string")
    r.delete("xs")
    r.lpush("xs", "a")
    r.delete("xs")
    r.xadd("xs", {"f": "v"}, id="1-0")  # not past the ID it waits for
    s.settimeout(0.2)
    with pytest.raises(TimeoutError):
        s.recv(1)
    s.settimeout(5)
    r.xadd("xs", {"f": "v"}, id="667-0")
    assert _reply(s) == b"*1\r\n*2\r\n$2\r\nxs\r\n*1\r\n*2\r\n$5\r\n667-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    s.close()


def test_blocked_xreadgroup_noack_and_count(server, r):
    r.xgroup_create("nb", "g", id="$", mkstream=True)
    s = _blocked_reader(server.port, "XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "NOACK", "BLOCK", "0",
                        "STREAMS", "nb", ">")
    _wait_blocked(r, 1)
    r.xadd("nb", {"a": "1"}, id="1-0")
    assert _reply(s) == b"*1\r\n*2\r\n$2\r\nnb\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert r.xpending("nb", "g")["pending"] == 0
    assert r.xinfo_groups("nb")[0]["last-delivered-id"] == b"1-0"
    s.close()


def _wait_replica_synced(master: redis.Redis, replica: redis.Redis) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        info = replica.info("replication")
        if info.get("master_link_status") == "up":
            m_off = master.info("replication")["master_repl_offset"]
            if info.get("slave_repl_offset", -1) >= m_off:
                return
        time.sleep(0.05)
    raise AssertionError("replica did not catch up")


def _stream_state(r: redis.Redis, key: str) -> list:
    """XINFO STREAM FULL minus the consumers' local clocks (seen-time, active-time)."""
    reader = hiredis.Reader()
    cl = RawClient(r.connection_pool.connection_kwargs["port"])
    reader.feed(cl.call("XINFO", "STREAM", key, "FULL", "COUNT", "0"))
    cl.close()
    reply = reader.gets()
    d = dict(zip(reply[::2], reply[1::2]))
    for g in d[b"groups"]:
        for cn in g[g.index(b"consumers") + 1]:
            for field in (b"seen-time", b"active-time"):
                cn[cn.index(field) + 1] = None
    return reply


def test_replica_ends_in_same_stream_state(server):
    master = ServerProcess(args=["--stream-node-max-entries", "4"])
    replica = ServerProcess(args=["--replicaof", "127.0.0.1", str(master.port), "--stream-node-max-entries", "4"])
    try:
        m, rp = master.client(), replica.client()
        mc = RawClient(master.port)
        for i in range(30):
            m.xadd("st", {"f": str(i), "g": "x" * (i % 3)})
        m.xadd("st", {"f": "explicit"}, id="99999999999999-*")
        mc.call("XADD", "st", "MAXLEN", "~", "20", "*", "f", "trim")  # propagated as MAXLEN = <len>
        mc.call("XADD", "st", "MINID", "~", "0", "LIMIT", "3", "*", "f", "trim")
        mc.call("XTRIM", "st", "MAXLEN", "~", "12")
        m.xgroup_create("st", "g1", id="0")
        m.xgroup_create("st", "g2", id="$")
        mc.call("XGROUP", "CREATECONSUMER", "st", "g2", "idle")
        m.xreadgroup("g1", "alice", {"st": ">"}, count=5)
        m.xreadgroup("g1", "bob", {"st": ">"}, count=3, noack=True)
        m.xreadgroup("g1", "carol", {"st": ">"}, count=2)
        ids = [e[0] for e in m.xrange("st")]
        m.xdel("st", ids[1], ids[6])
        mc.call("XCLAIM", "st", "g1", "bob", "0", ids[0], ids[1])  # ids[1] was deleted: leaves the PEL
        mc.call("XCLAIM", "st", "g1", "zed", "0", ids[2], "RETRYCOUNT", "9", "IDLE", "5000", "JUSTID")
        mc.call("XCLAIM", "st", "g1", "zed", "0", ids[-3], "FORCE")
        mc.call("XCLAIM", "st", "g1", "zed", "0", "1-1", "LASTID", ids[-2])
        mc.call("XAUTOCLAIM", "st", "g1", "dan", "0", "0", "COUNT", "2")
        m.xack("st", "g1", ids[3])
        # (a history read, XREADGROUP ... 0, bumps delivery counts that Redis does not propagate either)
        mc.call("XGROUP", "SETID", "st", "g2", ids[4], "ENTRIESREAD", "6")
        m.xreadgroup("g2", "erin", {"st": ">"})
        mc.call("XGROUP", "DELCONSUMER", "st", "g1", "carol")
        # a blocked XREADGROUP served later propagates what it delivered too
        s = _blocked_reader(master.port, "XREADGROUP", "GROUP", "g2", "blocked", "BLOCK", "0", "STREAMS", "st", ">")
        _wait_blocked(m, 1)
        m.xadd("st", {"late": "1"})
        assert _reply(s).startswith(b"*1\r\n")
        s.close()
        mc.call("MULTI")
        mc.call("XADD", "st", "*", "in", "multi")
        mc.call("XREADGROUP", "GROUP", "g2", "erin", "STREAMS", "st", ">")
        mc.call("EXEC")
        mc.call("XSETID", "st", "99999999999999-99")
        _wait_replica_synced(m, rp)
        assert _stream_state(rp, "st") == _stream_state(m, "st")
        assert rp.xrange("st") == m.xrange("st")
    finally:
        replica.stop()
        master.stop()
