"""Blocking sorted set pops (BZPOPMIN, BZPOPMAX, BZMPOP) with several clients.

Blocked clients are raw connections, so reply bytes and the moment they arrive
are both checked.  Before acting, the test makes a round trip on the acting
connection so the blocking command is known to have been processed.
"""

from __future__ import annotations

import time

import pytest
from conftest import RawClient, ServerProcess, aof_commands, block


def test_served_at_once(conns):
    c = conns()
    c.call("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert c.call("BZPOPMIN", "nokey", "z", "0") == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert c.call("BZPOPMAX", "z", "0") == b"*3\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\n3\r\n"
    assert c.call("BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "5") == \
        b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert c.call("EXISTS", "z") == b":0\r\n"


def test_resp3_shapes(conns):
    c = conns(3)
    c.call("ZADD", "z", "1", "a", "2", "b")
    assert c.call("BZPOPMIN", "z", "0") == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,1\r\n"
    assert c.call("BZMPOP", "0", "1", "z", "MAX") == b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    assert c.call("BZPOPMIN", "z", "0.01") == b"_\r\n"
    assert c.call("BZMPOP", "0.01", "1", "z", "MAX") == b"_\r\n"


def test_timeouts(conns):
    c = conns()
    t0 = time.time()
    assert c.call("BZPOPMIN", "z", "0.1") == b"*-1\r\n"
    assert c.call("BZMPOP", "0.1", "1", "z", "MIN") == b"*-1\r\n"
    assert time.time() - t0 >= 0.18


def test_argument_errors(conns):
    c = conns()
    assert c.call("BZPOPMIN", "z", "-1") == b"-ERR timeout is negative\r\n"
    assert c.call("BZPOPMIN", "z", "abc") == b"-ERR timeout is not a float or out of range\r\n"
    assert c.call("BZMPOP", "abc", "1", "z", "MIN") == b"-ERR timeout is not a float or out of range\r\n"
    assert c.call("BZMPOP", "0", "0", "z", "MIN") == b"-ERR numkeys should be greater than 0\r\n"
    assert c.call("BZMPOP", "0", "1", "z", "UP") == b"-ERR syntax error\r\n"
    assert c.call("BZMPOP", "0", "1", "z", "MIN", "COUNT", "0") == b"-ERR count should be greater than 0\r\n"
    c.call("SET", "s", "x")
    assert c.call("BZPOPMIN", "nokey", "s", "0").startswith(b"-WRONGTYPE")


def test_wakes_on_zadd(conns):
    w, p = conns(), conns()
    block(w, p, "BZPOPMIN", "z1", "z2", "0")
    assert p.call("ZADD", "z2", "5", "x", "1", "y") == b":2\r\n"
    assert w.read_reply() == b"*3\r\n$2\r\nz2\r\n$1\r\ny\r\n$1\r\n1\r\n"
    assert p.call("ZRANGE", "z2", "0", "-1") == b"*1\r\n$1\r\nx\r\n"


def test_clients_served_in_blocking_order(conns):
    p = conns()
    w1, w2, w3 = conns(), conns(), conns()
    block(w1, p, "BZPOPMAX", "z", "0")
    block(w2, p, "BZMPOP", "0", "1", "z", "MIN", "COUNT", "2")
    block(w3, p, "BZPOPMIN", "z", "0")
    p.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    assert w1.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\nd\r\n$1\r\n4\r\n"
    assert w2.read_reply() == b"*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert w3.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\n3\r\n"
    assert p.call("EXISTS", "z") == b":0\r\n"


def test_not_enough_for_everyone(conns):
    p = conns()
    w1, w2 = conns(), conns()
    block(w1, p, "BZPOPMIN", "z", "0")
    block(w2, p, "BZPOPMIN", "z", "0")
    p.call("ZADD", "z", "1", "a")
    assert w1.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert not w2.has_reply(0.2)
    p.call("ZADD", "z", "2", "b")
    assert w2.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n"


def test_woken_by_zunionstore_and_zrangestore(conns):
    p = conns()
    w1, w2 = conns(), conns()
    p.call("ZADD", "src", "1", "a", "2", "b")
    block(w1, p, "BZPOPMIN", "u", "0")
    block(w2, p, "BZPOPMAX", "r", "0")
    p.call("ZUNIONSTORE", "u", "1", "src")
    p.call("ZRANGESTORE", "r", "src", "0", "-1")
    assert w1.read_reply() == b"*3\r\n$1\r\nu\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert w2.read_reply() == b"*3\r\n$1\r\nr\r\n$1\r\nb\r\n$1\r\n2\r\n"


def test_multi_exec_does_not_block(conns):
    c = conns()
    c.call("MULTI")
    c.call("BZPOPMIN", "z", "0")
    c.call("BZMPOP", "0", "1", "z", "MIN")
    assert c.call("EXEC") == b"*2\r\n*-1\r\n*-1\r\n"


def test_wake_inside_transaction_sees_final_state(conns):
    p, w = conns(), conns()
    block(w, p, "BZPOPMIN", "z", "0")
    p.call("MULTI")
    p.call("ZADD", "z", "1", "a")
    p.call("ZREM", "z", "a")
    p.call("ZADD", "z", "5", "b")
    assert p.call("EXEC") == b"*3\r\n:1\r\n:1\r\n:1\r\n"
    assert w.read_reply() == b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n5\r\n"


def test_blocked_client_times_out_then_blocks_again(conns):
    p, w = conns(), conns()
    block(w, p, "BZPOPMIN", "z", "1")  # long enough for block() to see it blocked on a loaded machine
    assert w.read_reply() == b"*-1\r\n"
    block(w, p, "BZMPOP", "0", "1", "z", "MAX")
    p.call("ZADD", "z", "1", "a")
    assert w.read_reply() == b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"


def test_concurrent_consumers_get_each_element_once(server, r):
    import threading

    r.delete("q")
    n_workers, n_items = 4, 40
    got: list[bytes] = []
    lock = threading.Lock()

    def worker():
        c = server.client()
        try:
            while True:
                res = c.bzpopmin("q", timeout=1)
                if res is None:
                    return
                with lock:
                    got.append(res[1])
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(n_workers)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    for i in range(n_items):
        r.zadd("q", {f"item{i}": i})
    for t in threads:
        t.join(10)
    assert sorted(got) == sorted(f"item{i}".encode() for i in range(n_items))


# -- propagation (observed in the AOF) -------------------------------------------


@pytest.fixture(scope="module")
def aof_server():
    srv = ServerProcess(args=["--appendonly", "yes", "--appendfsync", "always"])
    yield srv
    srv.stop()


def _propagated_during(srv, fn) -> list[list[bytes]]:
    before = len(aof_commands(srv))
    fn()
    deadline = time.time() + 15
    while True:
        cmds = aof_commands(srv)[before:]
        if (cmds and cmds[-1] == [b"SET", b"MARK", b"done"]) or time.time() > deadline:
            assert cmds and cmds[-1] == [b"SET", b"MARK", b"done"], cmds
            return cmds[:-1]
        time.sleep(0.05)


def test_pops_served_at_once_propagate_as_plain_pops(aof_server):
    c = RawClient(aof_server.port)
    try:
        c.call("FLUSHALL")
        c.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")

        def run():
            c.call("BZPOPMIN", "nokey", "z", "0")
            c.call("BZPOPMAX", "z", "0")
            c.call("BZMPOP", "0", "1", "z", "MIN", "COUNT", "10")
            c.call("ZADD", "z", "1", "x", "2", "y")
            c.call("ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "1")
            c.call("ZMPOP", "1", "nokey", "MAX")  # nothing popped: nothing propagated
            c.call("BZPOPMIN", "nokey", "0.01")
            c.call("SET", "MARK", "done")
        cmds = _propagated_during(aof_server, run)
        assert cmds == [
            [b"ZPOPMIN", b"z"], [b"ZPOPMAX", b"z"], [b"ZPOPMIN", b"z", b"3"],
            [b"ZADD", b"z", b"1", b"x", b"2", b"y"], [b"ZPOPMAX", b"z", b"1"],
        ]
    finally:
        c.close()


def test_served_later_propagates_after_the_write(aof_server):
    p, w1, w2 = (RawClient(aof_server.port) for _ in range(3))
    try:
        p.call("FLUSHALL")
        block(w1, p, "BZPOPMAX", "k", "0")
        block(w2, p, "BZMPOP", "0", "1", "k", "MIN", "COUNT", "5")

        def run():
            p.call("ZADD", "k", "1", "a", "2", "b", "3", "c")
            assert w1.read_reply() == b"*3\r\n$1\r\nk\r\n$1\r\nc\r\n$1\r\n3\r\n"
            assert w2.read_reply() == b"*2\r\n$1\r\nk\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
            p.call("SET", "MARK", "done")
        cmds = _propagated_during(aof_server, run)
        assert cmds == [
            [b"ZADD", b"k", b"1", b"a", b"2", b"b", b"3", b"c"], [b"ZPOPMAX", b"k"], [b"ZPOPMIN", b"k", b"2"],
        ]
    finally:
        for c in (p, w1, w2):
            c.close()


def test_geoadd_propagates_as_zadd(aof_server):
    c = RawClient(aof_server.port)
    try:
        c.call("FLUSHALL")

        def run():
            c.call("GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo")
            c.call("GEOADD", "g", "13.361389", "38.115556", "Palermo")  # no change: not propagated
            c.call("SET", "MARK", "done")
        cmds = _propagated_during(aof_server, run)
        assert cmds == [[b"zadd", b"g", b"CH", b"3479099956230698", b"Palermo"]]
    finally:
        c.close()
