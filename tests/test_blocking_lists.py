"""Blocking list commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) with several clients.

Every blocked client is a raw connection, so the exact reply bytes and the
moment they arrive are both checked.  Before acting on a blocked client, the
test does a round trip on the acting connection: its next command is then
processed after the blocking command was.
"""

from __future__ import annotations

import time

import pytest
from conftest import RawClient, aof_commands, block


def bulk_pair(key: bytes, val: bytes) -> bytes:
    return b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(val), val)


# -- served at once -------------------------------------------------------------


def test_blpop_served_at_once_in_key_order(conns):
    c = conns()
    c.call("RPUSH", "k2", "a", "b")
    c.call("RPUSH", "k3", "x")
    assert c.call("BLPOP", "k1", "k2", "k3", "0") == bulk_pair(b"k2", b"a")
    assert c.call("BRPOP", "k1", "k2", "k3", "0") == bulk_pair(b"k2", b"b")
    assert c.call("BRPOP", "k1", "k2", "k3", "0") == bulk_pair(b"k3", b"x")
    assert c.call("DBSIZE") == b":0\r\n"


def test_blmove_and_brpoplpush_served_at_once(conns):
    c = conns()
    c.call("RPUSH", "src", "a", "b", "c")
    assert c.call("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0") == b"$1\r\na\r\n"
    assert c.call("BRPOPLPUSH", "src", "dst", "0") == b"$1\r\nc\r\n"
    assert c.call("LRANGE", "dst", "0", "-1") == b"*2\r\n$1\r\nc\r\n$1\r\na\r\n"


def test_blmpop_served_at_once(conns):
    c = conns()
    c.call("RPUSH", "l", "a", "b", "c")
    assert c.call("BLMPOP", "0", "2", "x", "l", "RIGHT", "COUNT", "2") == \
        b"*2\r\n$1\r\nl\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    assert c.call("BLMPOP", "0", "1", "l", "LEFT") == b"*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"


def test_blocking_wrongtype_and_errors(conns):
    c = conns()
    c.call("SADD", "s", "m")
    wt = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    assert c.call("BLPOP", "s", "0") == wt
    assert c.call("BLPOP", "missing", "s", "0") == wt
    assert c.call("BLMPOP", "0", "2", "missing", "s", "LEFT") == wt
    assert c.call("BLMOVE", "s", "d", "LEFT", "LEFT", "0") == wt
    assert c.call("BLPOP", "k", "x") == b"-ERR timeout is not a float or out of range\r\n"
    assert c.call("BLPOP", "k", "-1") == b"-ERR timeout is negative\r\n"
    assert c.call("BRPOPLPUSH", "a", "b", "-1") == b"-ERR timeout is negative\r\n"
    assert c.call("BLMOVE", "a", "b", "LEFT", "UP", "0") == b"-ERR syntax error\r\n"
    assert c.call("BLMPOP", "0", "0", "l", "LEFT") == b"-ERR numkeys should be greater than 0\r\n"
    assert c.call("BLMPOP", "x", "1", "l", "LEFT") == b"-ERR timeout is not a float or out of range\r\n"
    assert c.call("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0") == b"-ERR count should be greater than 0\r\n"
    assert c.call("BLMPOP", "0", "1", "l") == b"-ERR wrong number of arguments for 'blmpop' command\r\n"
    assert c.call("BLPOP", "k") == b"-ERR wrong number of arguments for 'blpop' command\r\n"


# -- timeouts -------------------------------------------------------------------


@pytest.mark.parametrize("cmd", [
    ("BLPOP", "k", "0.2"), ("BRPOP", "k1", "k2", "0.2"), ("BLMPOP", "0.2", "1", "k", "LEFT"),
    ("BLMOVE", "k", "d", "LEFT", "LEFT", "0.2"), ("BRPOPLPUSH", "k", "d", "0.2"),
])
def test_timeout_replies_null_array_resp2(conns, cmd):
    c = conns()
    t0 = time.time()
    assert c.call(*cmd) == b"*-1\r\n"
    assert 0.15 <= time.time() - t0 < 3


@pytest.mark.parametrize("cmd", [("BLPOP", "k", "0.1"), ("BLMOVE", "k", "d", "LEFT", "LEFT", "0.1")])
def test_timeout_replies_null_resp3(conns, cmd):
    c = conns(3)
    assert c.call(*cmd) == b"_\r\n"


def test_zero_timeout_waits_forever(conns):
    w, p = conns(), conns()
    block(w, p, "BLPOP", "k", "0")
    assert not w.has_reply(0.5)
    p.call("RPUSH", "k", "v")
    assert w.read_reply() == bulk_pair(b"k", b"v")


def test_fractional_timeout(conns):
    c = conns()
    t0 = time.time()
    assert c.call("BLPOP", "k", "0.05") == b"*-1\r\n"
    assert time.time() - t0 < 2


# -- woken by pushes ------------------------------------------------------------


def test_blpop_woken_by_push_from_other_client(conns):
    w, p = conns(), conns()
    block(w, p, "BLPOP", "k", "5")
    assert p.call("RPUSH", "k", "a", "b") == b":2\r\n"
    assert w.read_reply() == bulk_pair(b"k", b"a")
    assert p.call("LRANGE", "k", "0", "-1") == b"*1\r\n$1\r\nb\r\n"


def test_brpop_on_several_keys_woken_by_second(conns):
    w, p = conns(), conns()
    block(w, p, "BRPOP", "k1", "k2", "0")
    p.call("LPUSH", "k2", "x", "y")
    assert w.read_reply() == bulk_pair(b"k2", b"x")


def test_waiters_served_in_blocking_order(conns):
    p = conns()
    waiters = [conns() for _ in range(3)]
    for w in waiters:
        block(w, p, "BLPOP", "q", "0")
    p.call("RPUSH", "q", "1", "2", "3")
    assert [w.read_reply() for w in waiters] == [bulk_pair(b"q", v) for v in (b"1", b"2", b"3")]
    assert p.call("DBSIZE") == b":0\r\n"


def test_only_as_many_waiters_as_elements_are_served(conns):
    p = conns()
    a, b = conns(), conns()
    block(a, p, "BLPOP", "q", "0")
    block(b, p, "BRPOP", "q", "0")
    p.call("RPUSH", "q", "only")
    assert a.read_reply() == bulk_pair(b"q", b"only")
    assert not b.has_reply(0.3)
    p.call("RPUSH", "q", "next")
    assert b.read_reply() == bulk_pair(b"q", b"next")


def test_waiter_in_other_db_not_woken(conns):
    w, p = conns(), conns()
    w.call("SELECT", "1")
    block(w, p, "BLPOP", "k", "0")
    p.call("RPUSH", "k", "db0")
    assert not w.has_reply(0.3)
    p.call("SELECT", "1")
    p.call("RPUSH", "k", "db1")
    assert w.read_reply() == bulk_pair(b"k", b"db1")
    p.call("SELECT", "0")
    assert p.call("LLEN", "k") == b":1\r\n"


def test_blmpop_woken_with_count(conns):
    w, p = conns(), conns()
    block(w, p, "BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2")
    p.call("RPUSH", "b", "1", "2", "3")
    assert w.read_reply() == b"*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"
    assert p.call("LRANGE", "b", "0", "-1") == b"*1\r\n$1\r\n1\r\n"


def test_blmove_woken_pushes_to_destination(conns):
    w, p = conns(), conns()
    block(w, p, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    p.call("RPUSH", "src", "a", "b")
    assert w.read_reply() == b"$1\r\nb\r\n"
    assert p.call("LRANGE", "dst", "0", "-1") == b"*1\r\n$1\r\nb\r\n"
    assert p.call("LRANGE", "src", "0", "-1") == b"*1\r\n$1\r\na\r\n"


def test_brpoplpush_woken(conns):
    w, p = conns(), conns()
    block(w, p, "BRPOPLPUSH", "src", "dst", "0")
    p.call("LPUSH", "src", "v")
    assert w.read_reply() == b"$1\r\nv\r\n"
    assert p.call("LRANGE", "dst", "0", "-1") == b"*1\r\n$1\r\nv\r\n"
    assert p.call("DBSIZE") == b":1\r\n"


def test_blmove_chain_wakes_the_next_waiter(conns):
    p = conns()
    mover, popper = conns(), conns()
    block(mover, p, "BLMOVE", "k1", "k2", "LEFT", "LEFT", "0")
    block(popper, p, "BLPOP", "k2", "0")
    p.call("RPUSH", "k1", "x")
    assert mover.read_reply() == b"$1\r\nx\r\n"
    assert popper.read_reply() == bulk_pair(b"k2", b"x")
    assert p.call("DBSIZE") == b":0\r\n"


def test_lmove_into_waited_key_wakes(conns):
    w, p = conns(), conns()
    block(w, p, "BLPOP", "dst", "0")
    p.call("RPUSH", "src", "v")
    assert p.call("LMOVE", "src", "dst", "LEFT", "RIGHT") == b"$1\r\nv\r\n"
    assert w.read_reply() == bulk_pair(b"dst", b"v")
    assert p.call("DBSIZE") == b":0\r\n"


def test_blmove_wrongtype_destination_when_served(conns):
    w, p = conns(), conns()
    block(w, p, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
    p.call("SADD", "dst", "m")
    p.call("RPUSH", "src", "v")
    assert w.read_reply() == b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    assert p.call("LRANGE", "src", "0", "-1") == b"*1\r\n$1\r\nv\r\n"


def test_disconnected_waiter_is_forgotten(conns):
    p = conns()
    gone, w = conns(), conns()
    block(gone, p, "BLPOP", "k", "0")
    block(w, p, "BLPOP", "k", "0")
    gone.close()
    time.sleep(0.1)
    p.call("PING")
    p.call("RPUSH", "k", "v")
    assert w.read_reply() == bulk_pair(b"k", b"v")
    assert p.call("DBSIZE") == b":0\r\n"


def test_pipelined_commands_wait_for_the_blocked_one(conns):
    w, p = conns(), conns()
    w.send("BLPOP", "k", "0")
    w.send("PING")
    time.sleep(0.05)
    p.call("PING")
    assert not w.has_reply(0.2)
    p.call("RPUSH", "k", "v")
    expected = bulk_pair(b"k", b"v") + b"+PONG\r\n"
    buf = b""
    deadline = time.time() + 15
    while len(buf) < len(expected) and time.time() < deadline:
        if w.has_reply(0.5):
            buf += w.sock.recv(65536)
    assert buf == expected


def test_duplicate_keys_in_one_blpop(conns):
    w, p = conns(), conns()
    block(w, p, "BLPOP", "k", "k", "0")
    p.call("RPUSH", "k", "a", "b")
    assert w.read_reply() == bulk_pair(b"k", b"a")
    assert p.call("LLEN", "k") == b":1\r\n"


def test_resp3_served_reply(conns):
    w, p = conns(3), conns()
    block(w, p, "BLPOP", "k", "0")
    p.call("RPUSH", "k", "v")
    assert w.read_reply() == bulk_pair(b"k", b"v")


# -- MULTI / EXEC ---------------------------------------------------------------


def test_blocking_commands_do_not_block_inside_multi(conns):
    c = conns()
    assert c.call("MULTI") == b"+OK\r\n"
    for cmd in (("BLPOP", "k", "0"), ("BRPOP", "k", "0"), ("BLMPOP", "0", "1", "k", "LEFT"),
                ("BLMOVE", "k", "d", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "k", "d", "0")):
        assert c.call(*cmd) == b"+QUEUED\r\n"
    assert c.call("EXEC") == b"*5\r\n*-1\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n"


def test_blocking_commands_inside_multi_serve_existing_data(conns):
    c = conns()
    c.call("RPUSH", "k", "a", "b")
    c.call("MULTI")
    c.call("BLPOP", "k", "0")
    c.call("BLMOVE", "k", "d", "LEFT", "LEFT", "0")
    c.call("BLPOP", "k", "0")
    assert c.call("EXEC") == b"*3\r\n" + bulk_pair(b"k", b"a") + b"$1\r\nb\r\n*-1\r\n"


def test_push_in_multi_serves_waiters_after_exec(conns):
    w, p = conns(), conns()
    block(w, p, "BLPOP", "k", "0")
    p.call("MULTI")
    p.call("LPUSH", "k", "a")
    p.call("LPUSH", "k", "b")
    assert p.call("EXEC") == b"*2\r\n:1\r\n:2\r\n"
    # served after the whole transaction: the head is then "b"
    assert w.read_reply() == bulk_pair(b"k", b"b")
    assert p.call("LRANGE", "k", "0", "-1") == b"*1\r\n$1\r\na\r\n"


def test_push_then_pop_in_multi_leaves_waiter_blocked(conns):
    w, p = conns(), conns()
    block(w, p, "BLPOP", "k", "0")
    p.call("MULTI")
    p.call("RPUSH", "k", "x")
    p.call("LPOP", "k")
    assert p.call("EXEC") == b"*2\r\n:1\r\n$1\r\nx\r\n"
    assert not w.has_reply(0.3)
    p.call("RPUSH", "k", "y")
    assert w.read_reply() == bulk_pair(b"k", b"y")


def test_multi_pushing_two_keys_serves_first_key_in_argument_order(conns):
    # Redis 7.2 re-executes the blocked command, which scans its keys in argument
    # order (7.0 served from the first key signalled, here k2)
    w, p = conns(), conns()
    block(w, p, "BLPOP", "k1", "k2", "0")
    p.call("MULTI")
    p.call("RPUSH", "k2", "b")
    p.call("RPUSH", "k1", "a")
    p.call("EXEC")
    assert w.read_reply() == bulk_pair(b"k1", b"a")
    assert p.call("LRANGE", "k2", "0", "-1") == b"*1\r\n$1\r\nb\r\n"


# -- propagation (observed in the AOF) -------------------------------------------


def _propagated_during(srv, fn) -> list[list[bytes]]:
    before = len(aof_commands(srv))
    fn()
    deadline = time.time() + 15
    while True:
        cmds = aof_commands(srv)[before:]
        if (cmds and cmds[-1] == [b"RPUSH", b"MARK", b"done"]) or time.time() > deadline:
            assert cmds and cmds[-1] == [b"RPUSH", b"MARK", b"done"], cmds
            return cmds[:-1]
        time.sleep(0.05)


def test_blocking_pops_served_at_once_propagate_as_plain_pops(aof_server):
    c = RawClient(aof_server.port)
    try:
        c.call("FLUSHALL")
        c.call("RPUSH", "l", "a", "b", "c", "d", "e")

        def run():
            c.call("BLPOP", "nokey", "l", "0")
            c.call("BRPOP", "l", "0")
            c.call("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "5")
            c.call("RPUSH", "l", "x", "y")
            c.call("BLMOVE", "l", "d", "LEFT", "RIGHT", "0")
            c.call("BRPOPLPUSH", "l", "d", "0")
            c.call("LMPOP", "2", "nokey", "d", "RIGHT", "COUNT", "10")
            c.call("BLPOP", "l", "0.01")  # timed out: nothing to propagate
            c.call("RPUSH", "MARK", "done")
        cmds = _propagated_during(aof_server, run)
        assert cmds == [
            [b"LPOP", b"l"], [b"RPOP", b"l"], [b"LPOP", b"l", b"3"], [b"RPUSH", b"l", b"x", b"y"],
            [b"LMOVE", b"l", b"d", b"LEFT", b"RIGHT"], [b"RPOPLPUSH", b"l", b"d"], [b"RPOP", b"d", b"2"],
        ]
        c.call("LPOP", "MARK")
    finally:
        c.close()


def test_served_later_propagates_after_the_push(aof_server):
    p, w1, w2, w3 = (RawClient(aof_server.port) for _ in range(4))
    try:
        p.call("FLUSHALL")
        block(w1, p, "BLPOP", "k", "0")
        block(w2, p, "BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "2")
        block(w3, p, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")

        def run():
            p.call("MULTI")
            p.call("RPUSH", "k", "1", "2", "3")
            p.call("RPUSH", "src", "v")
            p.call("EXEC")
            assert w1.read_reply() == bulk_pair(b"k", b"1")
            assert w2.read_reply() == b"*2\r\n$1\r\nk\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"
            assert w3.read_reply() == b"$1\r\nv\r\n"
            p.call("RPUSH", "MARK", "done")
        cmds = _propagated_during(aof_server, run)
        assert cmds == [
            [b"MULTI"], [b"RPUSH", b"k", b"1", b"2", b"3"], [b"RPUSH", b"src", b"v"], [b"EXEC"],
            [b"LPOP", b"k"], [b"RPOP", b"k", b"2"], [b"LMOVE", b"src", b"dst", b"RIGHT", b"LEFT"],
        ]
        p.call("LPOP", "MARK")
    finally:
        for c in (p, w1, w2, w3):
            c.close()
