"""MULTI/EXEC/DISCARD/WATCH with Redis' semantics, compared byte for byte with a real Redis."""

from __future__ import annotations

import time

from conftest import RawClient, diff_replies


def watch_then_expire(c: RawClient, key: str, px: int = 300) -> None:
    """SET ``key`` with a ``px`` ms TTL, WATCH it while it provably still lives (both replies back
    within ``px`` ms of sending the SET, tried again on a slow run), then wait until it has expired."""
    for _ in range(10):
        t0 = time.monotonic()
        c.call("SET", key, "v", "PX", str(px))
        t_set = time.monotonic()
        c.call("WATCH", key)
        if time.monotonic() - t0 < px / 1000:
            break
        c.call("UNWATCH")
    else:
        raise AssertionError(f"no WATCH within {px} ms of SET in 10 tries")
    time.sleep(max(0.0, t_set + px / 1000 + 0.02 - time.monotonic()))

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
    watch_then_expire(a, "e")
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
    assert time.time() - t0 < 4  # BLPOP ... 0 would block for ever (the socket times out after 5 s)
    a.close()


def test_multi_pipeline_from_redis_py(r):
    p = r.pipeline(transaction=True)
    p.set("p1", "a").get("p1").incr("n").incr("n")
    assert p.execute() == [True, b"a", 1, 2]


def _watch_scenarios(port: int) -> list[bytes]:
    """WATCH against FLUSHDB/FLUSHALL/expiry, the way Redis 7 touches watched keys."""
    a, b = RawClient(port), RawClient(port)
    out = []
    try:
        for cl in (a, b):
            cl.call("SELECT", "9")
        a.call("FLUSHDB")

        def attempt() -> bytes:
            a.call("MULTI")
            a.call("PING")
            return a.call("EXEC")

        a.call("WATCH", "nokey")
        b.call("FLUSHDB")
        out.append(attempt())  # a key that did not exist is not touched by a flush
        a.call("SET", "k", "v")
        a.call("WATCH", "k")
        b.call("FLUSHDB")
        out.append(attempt())
        a.call("WATCH", "nokey")
        b.call("FLUSHALL")
        out.append(attempt())
        a.call("SET", "k", "v")
        a.call("WATCH", "k")
        b.call("SELECT", "10")
        b.call("FLUSHDB")  # another db
        b.call("SELECT", "9")
        out.append(attempt())
        a.call("SET", "e", "v", "PX", "1")
        time.sleep(0.02)
        a.call("WATCH", "e")  # already expired when watched
        b.call("FLUSHDB")
        out.append(attempt())
        watch_then_expire(a, "e")  # alive when watched, expires before EXEC
        out.append(attempt())
        a.call("SET", "e", "v", "PX", "1")
        time.sleep(0.02)
        a.call("WATCH", "e")  # expired when watched; deleting it (here lazily, or by active expiry) is no change
        b.call("GET", "e")
        out.append(attempt())
        a.call("SET", "e", "v", "PX", "1")
        time.sleep(0.02)
        a.call("WATCH", "e")
        out.append(attempt())  # expired before WATCH: no change seen
        a.call("WATCH", "k2")
        b.call("SET", "k2", "v")
        a.call("MULTI")
        a.call("SET", "k2", "mine")
        out.append(a.call("EXEC"))
        out.append(a.call("GET", "k2"))
        a.call("MULTI")
        out.append(a.call("MULTI"))  # nested MULTI is an error that keeps the transaction
        a.call("SET", "n", "1")
        out.append(a.call("EXEC"))
        a.call("MULTI")
        out.append(a.call("SET", "n"))
        out.append(a.call("NOSUCH", "x"))
        out.append(a.call("EXEC"))
        out.append(a.call("EXEC"))
        a.call("MULTI")
        out.append(a.call("WATCH", "x"))
        out.append(a.call("EXEC"))
        out.append(a.call("UNWATCH"))
    finally:
        a.close()
        b.close()
    return out


def test_watch_semantics_match_redis(server, real_redis):
    assert _watch_scenarios(server.port) == _watch_scenarios(real_redis.port)


def test_queued_write_on_readonly_replica_aborts_exec(server):
    from conftest import ServerProcess

    replica = ServerProcess(args=["--replicaof", "127.0.0.1", str(server.port)])
    try:
        c = RawClient(replica.port)
        assert c.call("MULTI") == b"+OK\r\n"
        assert c.call("GET", "x") == b"+QUEUED\r\n"
        assert c.call("SET", "x", "1") == b"-READONLY You can't write against a read only replica.\r\n"
        assert c.call("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        c.close()
    finally:
        replica.stop()
