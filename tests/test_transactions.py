"""MULTI/EXEC/DISCARD/WATCH with Redis' semantics, compared byte for byte with a real Redis."""

from __future__ import annotations

import time

from conftest import RawClient, diff_replies


def test_multi_exec_diff(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("MULTI",),
        ("SET", "a", "1"),
        ("INCR", "a"),
        ("LPUSH", "a", "x"),  # runtime error: EXEC still runs the rest
        ("GET", "a"),
        ("EXEC",),
        ("EXEC",),
        ("DISCARD",),
        ("MULTI",),
        ("MULTI",),
        ("SET", "b", "1"),
        ("NOSUCHCOMMAND",),
        ("GET",),
        ("EXEC",),
        ("GET", "b"),
        ("MULTI",),
        ("SET", "c", "1"),
        ("DISCARD",),
        ("GET", "c"),
        ("MULTI",),
        ("WATCH", "x"),
        ("EXEC",),
        ("MULTI",),
        ("EXEC",),
    ])


def test_watch_aborts_on_change_by_other_client(server):
    a, b = RawClient(server.port), RawClient(server.port)
    a.call("SET", "w", "1")
    assert a.call("WATCH", "w") == b"+OK\r\n"
    b.call("SET", "w", "2")
    a.call("MULTI")
    a.call("SET", "w", "3")
    assert a.call("EXEC") == b"*-1\r\n"
    assert a.call("GET", "w") == b"$1\r\n2\r\n"
    # after EXEC the watch is gone
    a.call("MULTI")
    a.call("SET", "w", "4")
    assert a.call("EXEC") == b"*1\r\n+OK\r\n"
    a.close()
    b.close()


def test_watch_resp3_null(server):
    a, b = RawClient(server.port, resp=3), RawClient(server.port)
    a.call("WATCH", "w3")
    b.call("SET", "w3", "x")
    a.call("MULTI")
    a.call("PING")
    assert a.call("EXEC") == b"_\r\n"
    a.close()
    b.close()


def test_watch_untouched_key_commits(server):
    a = RawClient(server.port)
    a.call("WATCH", "nobody")
    a.call("MULTI")
    a.call("SET", "k", "v")
    assert a.call("EXEC") == b"*1\r\n+OK\r\n"
    a.call("WATCH", "nobody")
    assert a.call("UNWATCH") == b"+OK\r\n"
    RawClient(server.port).call("SET", "nobody", "1")
    a.call("MULTI")
    assert a.call("EXEC") == b"*0\r\n"
    a.close()


def test_watch_flushall_and_expire(server):
    a, b = RawClient(server.port), RawClient(server.port)
    a.call("SET", "f", "1")
    a.call("WATCH", "f")
    b.call("FLUSHALL")
    a.call("MULTI")
    a.call("PING")
    assert a.call("EXEC") == b"*-1\r\n"
    # a watched key that expires before EXEC aborts the transaction
    a.call("SET", "e", "1", "PX", "50")
    a.call("WATCH", "e")
    time.sleep(0.1)
    a.call("MULTI")
    a.call("PING")
    assert a.call("EXEC") == b"*-1\r\n"
    a.close()
    b.close()


def test_watch_swapdb(server):
    a, b = RawClient(server.port), RawClient(server.port)
    a.call("SELECT", "1")
    a.call("SET", "s", "1")
    a.call("WATCH", "s")
    b.call("SWAPDB", "0", "1")
    a.call("MULTI")
    a.call("PING")
    assert a.call("EXEC") == b"*-1\r\n"
    b.call("SWAPDB", "0", "1")
    a.close()
    b.close()


def test_blocking_command_in_multi_does_not_block(server):
    a = RawClient(server.port)
    a.call("DEL", "emptylist")
    a.call("MULTI")
    a.call("BLPOP", "emptylist", "0")
    t0 = time.time()
    assert a.call("EXEC") == b"*1\r\n*-1\r\n"
    assert time.time() - t0 < 1
    a.close()


def test_multi_pipeline_from_redis_py(r):
    p = r.pipeline(transaction=True)
    p.set("p1", "a").get("p1").incr("n").incr("n")
    assert p.execute() == [True, b"a", 1, 2]
