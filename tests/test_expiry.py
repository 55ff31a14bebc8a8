"""Key expiry: the EXPIRE/TTL families, precision, lazy and active expiry, propagation."""

from __future__ import annotations

import os
import time

import pytest
import redis
from conftest import RawClient, ServerProcess, ttl_fits, within

INT64_MAX = 2**63 - 1


def now_ms() -> int:
    return int(time.time() * 1000)


# -- setting and reading TTLs -----------------------------------------------------------


def test_expire_family_on_missing_key(r):
    assert r.expire("nokey", 10) is False
    assert r.pexpire("nokey", 10) is False
    assert r.expireat("nokey", 2_000_000_000) is False
    assert r.pexpireat("nokey", 2_000_000_000_000) is False
    assert r.ttl("nokey") == -2
    assert r.pttl("nokey") == -2
    assert r.expiretime("nokey") == -2
    assert r.pexpiretime("nokey") == -2
    assert r.persist("nokey") is False


def test_ttl_without_expire(r):
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.pttl("k") == -1
    assert r.expiretime("k") == -1
    assert r.pexpiretime("k") == -1
    assert r.persist("k") is False


def test_expire_and_ttl_values(r):
    r.set("k", "v")
    t0 = time.monotonic()
    assert r.expire("k", 100) is True
    assert ttl_fits(r.ttl("k"), 100_000, t0)          # 100 unless the run is slow
    assert 99_000 < r.pttl("k") <= 100_000
    t0 = time.monotonic()
    r.pexpire("k", 2600)
    assert ttl_fits(r.ttl("k"), 2600, t0)             # 3 = (2600 + 500) / 1000 in the first 100 ms
    assert ttl_fits(r.pttl("k"), 2600, t0, ms=True)


def test_absolute_expire_times_are_exact(r):
    r.set("k", "v")
    at_ms = now_ms() + 1_000_000_123
    assert r.pexpireat("k", at_ms) is True
    assert r.pexpiretime("k") == at_ms
    assert r.expiretime("k") == (at_ms + 500) // 1000
    assert r.expireat("k", 3_000_000_000) is True
    assert r.expiretime("k") == 3_000_000_000
    assert r.pexpiretime("k") == 3_000_000_000_000


def test_expire_is_relative_to_now(r):
    r.set("k", "v")
    before = now_ms()
    r.expire("k", 50)
    after = now_ms()
    assert before + 50_000 <= r.pexpiretime("k") <= after + 50_000


def test_set_clears_ttl_and_persist_removes_it(r):
    r.set("k", "v", ex=100)
    r.set("k", "w")
    assert r.ttl("k") == -1
    r.expire("k", 100)
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.persist("k") is False


def test_past_expire_deletes_the_key(r):
    for cmd in (lambda: r.expire("k", -1), lambda: r.pexpire("k", 0), lambda: r.expireat("k", 1),
                lambda: r.pexpireat("k", now_ms() - 1), lambda: r.expire("k", 0),
                lambda: r.pexpire("k", -(2**63))):
        r.set("k", "v")
        assert cmd() is True
        assert r.exists("k") == 0


def test_expire_works_on_every_type(r):
    r.rpush("l", 1)
    r.hset("h", "f", "v")
    r.sadd("s", 1)
    r.zadd("z", {"m": 1})
    r.xadd("x", {"f": "v"})
    for k in ("l", "h", "s", "z", "x"):
        t0 = time.monotonic()
        assert r.expire(k, 100) is True
        assert ttl_fits(r.ttl(k), 100_000, t0)


# -- NX / XX / GT / LT ------------------------------------------------------------------------


def test_expire_nx_xx(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True) is False
    assert r.ttl("k") == -1
    t0 = time.monotonic()
    assert r.expire("k", 100, nx=True) is True
    assert r.expire("k", 200, nx=True) is False
    assert ttl_fits(r.ttl("k"), 100_000, t0)
    t0 = time.monotonic()
    assert r.expire("k", 200, xx=True) is True
    assert ttl_fits(r.ttl("k"), 200_000, t0)


def test_expire_gt_lt(r):
    r.set("k", "v")
    assert r.expire("k", 100, gt=True) is False      # no TTL = infinite, nothing is greater
    assert r.ttl("k") == -1
    assert r.expire("k", 100, lt=True) is True       # anything is less than infinite
    assert r.expire("k", 50, gt=True) is False
    t0 = time.monotonic()
    assert r.expire("k", 200, gt=True) is True
    assert ttl_fits(r.ttl("k"), 200_000, t0)
    assert r.expire("k", 300, lt=True) is False
    t0 = time.monotonic()
    assert r.expire("k", 150, lt=True) is True
    assert ttl_fits(r.ttl("k"), 150_000, t0)
    assert r.execute_command("EXPIRE", "k", "100", "XX", "GT") == 0  # 100s from now is sooner
    assert r.execute_command("EXPIRE", "k", "160", "xx", "gt") == 1
    assert r.execute_command("PEXPIRE", "k", "1000", "LT", "XX") == 1
    assert r.pttl("k") <= 1000


def test_lt_with_past_time_deletes(r):
    r.set("k", "v", ex=100)
    assert r.execute_command("EXPIRE", "k", "-5", "LT") == 1
    assert r.exists("k") == 0


@pytest.mark.parametrize("opts,message", [
    (["NX", "XX"], b"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
    (["NX", "GT"], b"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
    (["LT", "NX"], b"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
    (["GT", "LT"], b"-ERR GT and LT options at the same time are not compatible\r\n"),
    (["FOO"], b"-ERR Unsupported option FOO\r\n"),
    (["nx", "bar"], b"-ERR Unsupported option bar\r\n"),
])
def test_expire_option_errors(raw2, opts, message):
    raw2.call("SET", "k", "v")
    for cmd in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
        assert raw2.call(cmd, "k", "100", *opts) == message
    # the options are checked before the time argument
    assert raw2.call("EXPIRE", "k", "notanumber", *opts) == message


@pytest.mark.parametrize("cmd,value,ok", [
    ("EXPIRE", "abc", None), ("EXPIRE", "1.5", None), ("EXPIRE", "", None),
    ("EXPIRE", "99999999999999999999", None),
    ("EXPIRE", "9223372036854775807", False), ("EXPIRE", "9223372036854776", False),
    ("EXPIRE", "9223372036854775", False),      # fits *1000 but not + now
    ("EXPIRE", "-9223372036854776", False), ("EXPIRE", "-9223372036854775", True),
    ("PEXPIRE", "9223372036854775807", False), ("PEXPIRE", "9223372036854775806", False),
    ("EXPIREAT", "9223372036854775", True), ("EXPIREAT", "9223372036854776", False),
    ("PEXPIREAT", "9223372036854775807", True), ("PEXPIREAT", "-9223372036854775808", True),
])
def test_expire_time_errors(raw2, cmd, value, ok):
    raw2.call("SET", "k", "v")
    reply = raw2.call(cmd, "k", value)
    if ok is None:
        assert reply == b"-ERR value is not an integer or out of range\r\n"
    elif ok is False:
        assert reply == b"-ERR invalid expire time in '%s' command\r\n" % cmd.lower().encode()
    else:
        assert reply == b":1\r\n"


def test_ttl_of_far_future_key(r):
    r.set("k", "v")
    r.pexpireat("k", INT64_MAX)
    assert r.pexpiretime("k") == INT64_MAX
    assert r.expiretime("k") == (INT64_MAX + 500) // 1000


def test_expire_replies_in_resp3(server, r):
    c = RawClient(server.port, 3)
    c.call("SET", "k", "v")
    t0 = time.monotonic()
    assert c.call("EXPIRE", "k", "100") == b":1\r\n"
    ttl = c.call("TTL", "k")
    assert ttl[:1] == b":" and ttl_fits(int(ttl[1:-2]), 100_000, t0), ttl
    assert c.call("TTL", "nokey") == b":-2\r\n"
    c.close()


def test_expire_inside_multi(r):
    r.set("k", "v")
    with r.pipeline() as p:
        p.expire("k", 100).ttl("k").persist("k").ttl("k").expire("k", -1).exists("k")
        assert p.execute() == [True, 100, True, -1, True, 0]


# -- precision and lazy expiry --------------------------------------------------------------


def test_key_expires_at_the_right_time(r):
    # still there before its 500 ms are up: only provable by a GET answered within them, which a
    # loaded machine may miss now and then, so that part is tried a few times
    for _ in range(10):
        r.set("k", "v")
        t0 = time.monotonic()
        r.pexpire("k", 500)
        t_set = time.monotonic()
        time.sleep(0.1)
        value = r.get("k")
        if time.monotonic() - t0 < 0.5:
            assert value == b"v"
            break
    else:
        pytest.fail("no GET within 500 ms of PEXPIRE in 10 tries")
    time.sleep(max(0.0, t_set + 0.52 - time.monotonic()))
    assert r.get("k") is None
    assert r.exists("k") == 0
    assert r.ttl("k") == -2


def test_millisecond_precision(r):
    for _ in range(3):
        r.set("k", "v")
        r.pexpire("k", 50)
        deadline = time.time() + 15
        while r.exists("k") and time.time() < deadline:
            time.sleep(0.002)
        # gone within a few ms of the deadline (not rounded to whole seconds)
        assert r.exists("k") == 0
        assert r.pexpiretime("k") == -2


def test_expired_keys_are_invisible_to_every_read(r):
    r.set("s", "v", px=1)
    r.rpush("l", 1)
    r.pexpire("l", 1)
    r.hset("h", "f", "v")
    r.pexpire("h", 1)
    time.sleep(0.01)
    assert r.get("s") is None
    assert r.lrange("l", 0, -1) == []
    assert r.hgetall("h") == {}
    assert r.type("s") == b"none"
    assert r.exists("s", "l", "h") == 0
    assert r.keys("*") == []
    assert r.randomkey() is None
    assert r.object("encoding", "s") is None


def test_write_to_expired_key_starts_fresh(r):
    r.rpush("l", "old")
    r.pexpire("l", 1)
    time.sleep(0.01)
    r.rpush("l", "new")
    assert r.lrange("l", 0, -1) == [b"new"]
    assert r.ttl("l") == -1
    r.set("c", 5, px=1)
    time.sleep(0.01)
    assert r.incr("c") == 1


def _stop_active_expiry(r: redis.Redis) -> None:
    """Make sure active expiry has run (a 1 ms marker key vanished on its own), then switch it off
    (DEBUG SET-ACTIVE-EXPIRE 0) so that only accesses remove expired keys, however slow the run."""
    r.set("marker", 1, px=1)
    deadline = time.time() + 15
    while r.dbsize() and time.time() < deadline:
        time.sleep(0.002)
    assert r.dbsize() == 0, "active expiry never ran"
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")


def test_lazy_expiry_deletes_on_access():
    """Active expiry off: only the access itself can remove the key."""
    srv = ServerProcess(args=["--hz", "1", "--enable-debug-command", "yes"])
    try:
        r = srv.client()
        _stop_active_expiry(r)
        r.set("k", "v", px=20)
        r.set("other", "v", px=20)
        time.sleep(0.06)
        assert r.dbsize() == 2               # expired but not yet collected
        assert r.get("k") is None            # the lookup expires it...
        assert r.dbsize() == 1               # ...and deletes it
        assert r.exists("other") == 0
        assert r.dbsize() == 0
        r.close()
    finally:
        srv.stop()


def test_scan_and_del_collect_expired_keys_lazily():
    srv = ServerProcess(args=["--hz", "1", "--enable-debug-command", "yes"])
    try:
        r = srv.client()
        _stop_active_expiry(r)
        r.set("a", 1, px=10)
        r.set("b", 1, px=10)
        r.set("live", 1)
        time.sleep(0.05)
        assert r.dbsize() == 3
        assert r.delete("a") == 0           # an expired key counts as absent for DEL
        assert r.dbsize() == 2
        assert r.keys("*") == [b"live"]     # KEYS skips but does not delete
        assert r.dbsize() == 2
        assert r.scan(0, count=100)[1] == [b"live"]    # SCAN deletes what it skips
        assert r.dbsize() == 1
        r.close()
    finally:
        srv.stop()


# -- active expiry ------------------------------------------------------------------------------


def test_active_expiry_removes_untouched_keys(r):
    def fill() -> int:  # all 502 counted before the first expiry (tried again on a slow run)
        r.flushdb()
        p = r.pipeline(transaction=False)
        for i in range(500):
            p.set(f"k{i}", "v", px=300)
        p.set("persistent", 1)
        p.set("later", 1, ex=100)
        p.execute()
        return r.dbsize()

    assert within(0.3, fill) == 502
    deadline = time.time() + 15
    while r.dbsize() > 2 and time.time() < deadline:
        time.sleep(0.05)
    assert r.dbsize() == 2
    assert r.ttl("later") > 0


def test_active_expiry_in_every_db(r, server):
    c = server.client(db=7)
    c.set("x", 1, px=50)
    r.set("y", 1, px=50)
    deadline = time.time() + 15
    while (c.dbsize() or r.dbsize()) and time.time() < deadline:
        time.sleep(0.05)
    assert c.dbsize() == 0 and r.dbsize() == 0
    c.close()


def test_active_expiry_emits_expired_events():
    srv = ServerProcess(args=["--notify-keyspace-events", "Ex"])
    try:
        r = srv.client()
        p = srv.client().pubsub()
        p.subscribe("__keyevent@0__:expired")
        assert p.get_message(timeout=10)["type"] == "subscribe"
        r.set("a", 1, px=30)
        r.set("b", 1, px=30)
        got = set()
        deadline = time.time() + 15
        while len(got) < 2 and time.time() < deadline:
            m = p.get_message(timeout=0.2)
            if m and m["type"] == "message":
                got.add(m["data"])
        assert got == {b"a", b"b"}
        assert r.dbsize() == 0
        p.close()
        r.close()
    finally:
        srv.stop()


def test_expired_keys_stat(r):
    before = r.info("stats")["expired_keys"]
    for i in range(10):
        r.set(f"k{i}", 1, px=10)
    deadline = time.time() + 15
    while r.dbsize() and time.time() < deadline:
        time.sleep(0.05)
    assert r.info("stats")["expired_keys"] - before == 10


# -- propagation --------------------------------------------------------------------------------


def _aof_text(srv: ServerProcess, wanted: bytes, timeout: float = 15.0) -> bytes:
    path = os.path.join(srv.dir, "appendonlydir", "appendonly.aof.1.incr.aof")
    deadline = time.time() + timeout
    data = b""
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            if wanted in data:
                break
        time.sleep(0.05)
    return data


def _resp(*args: bytes) -> bytes:
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def test_relative_expiries_propagate_as_pexpireat():
    srv = ServerProcess(args=["--appendonly", "yes"])
    try:
        r = srv.client()
        r.set("a", 1)
        r.set("b", 1)
        r.set("c", 1)
        r.set("d", 1)
        r.expire("a", 100)
        r.execute_command("PEXPIRE", "b", "100000", "NX")
        r.expireat("c", 3_000_000_000)
        r.pexpireat("d", 4_000_000_000_000)
        r.expire("a", -1)                      # deletes: propagated as DEL
        r.set("marker", 1)
        data = _aof_text(srv, b"marker")
        assert b"$6\r\nEXPIRE\r\n" not in data and b"$7\r\nPEXPIRE\r\n" not in data
        assert _resp(b"PEXPIREAT", b"c", b"3000000000000") in data
        assert _resp(b"PEXPIREAT", b"d", b"4000000000000") in data
        a_at = r.pexpiretime("b")
        assert _resp(b"PEXPIREAT", b"b", str(a_at).encode(), b"NX") in data
        assert _resp(b"DEL", b"a") in data
        idx = data.index(b"$9\r\nPEXPIREAT\r\n$1\r\na\r\n")
        assert data.index(_resp(b"DEL", b"a")) > idx
        r.close()
    finally:
        srv.stop()


def test_expired_keys_propagate_as_del():
    srv = ServerProcess(args=["--appendonly", "yes"])
    try:
        r = srv.client()
        r.set("gone", 1, px=20)
        deadline = time.time() + 15
        while r.dbsize() and time.time() < deadline:
            time.sleep(0.02)
        r.set("marker", 1)
        data = _aof_text(srv, b"marker")
        assert _resp(b"DEL", b"gone") in data
        r.close()
    finally:
        srv.stop()


def test_expiry_survives_restart_via_aof():
    srv = ServerProcess(args=["--appendonly", "yes"])
    try:
        r = srv.client()
        r.set("k", "v")
        r.expire("k", 1000)
        at = r.pexpiretime("k")
        r.set("short", "v")
        r.pexpire("short", 300)
        r.close()
        srv.stop()
        time.sleep(0.4)
        srv = ServerProcess(args=["--appendonly", "yes"], cwd=srv.dir)
        r = srv.client()
        assert r.pexpiretime("k") == at
        assert r.exists("short") == 0
        r.close()
    finally:
        srv.stop()


def test_replica_waits_for_the_masters_del():
    """A replica reports an expired key as missing but only the master's DEL removes it."""
    master = ServerProcess(args=["--hz", "1", "--enable-debug-command", "yes"])
    replica = None
    try:
        m = master.client()
        replica = ServerProcess(args=["--replicaof", "127.0.0.1", str(master.port), "--hz", "1"])
        s = replica.client()
        deadline = time.time() + 15
        while s.info("replication").get("master_link_status") != "up" and time.time() < deadline:
            time.sleep(0.05)
        _stop_active_expiry(m)               # the master deletes k only when it is accessed
        t0 = time.monotonic()
        m.set("k", "v", px=300)
        t_set = time.monotonic()
        m.set("k2", "v", ex=1000)
        deadline = time.time() + 15
        while s.dbsize() < 2 and time.time() < deadline:
            time.sleep(0.01)
        pttl = s.pttl("k")
        if time.monotonic() - t0 < 0.3:      # replicated within its lifetime (a slow run may not be)
            assert pttl > 0
        assert s.ttl("k2") > 900
        time.sleep(max(0.0, t_set + 0.32 - time.monotonic()))
        assert s.get("k") is None            # logically expired on the replica...
        assert s.exists("k") == 0 and s.ttl("k") == -2
        assert s.dbsize() == 2               # ...but still stored there
        assert m.get("k") is None            # the master expires it and sends DEL
        deadline = time.time() + 15
        while s.dbsize() != 1 and time.time() < deadline:
            time.sleep(0.01)
        assert s.dbsize() == 1
        assert s.ttl("k2") > 900
    finally:
        if replica is not None:
            replica.stop()
        master.stop()
