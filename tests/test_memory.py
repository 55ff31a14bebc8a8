"""MEMORY commands, the used_memory estimate, maxmemory with its policies, OBJECT IDLETIME/FREQ."""

from __future__ import annotations

import os
import time

import pytest
import redis
from conftest import REDIS_SERVER, RawClient, ServerProcess, wait_until


@pytest.fixture(scope="module")
def pair():
    a = ServerProcess()
    b = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no"])
    yield a, b
    a.stop()
    b.stop()


def raw_both(pair, *args) -> tuple[bytes, bytes]:
    out = []
    for srv in pair:
        rc = RawClient(srv.port)
        out.append(rc.call(*args))
        rc.close()
    return out[0], out[1]


@pytest.mark.parametrize("args", [
    ("MEMORY", "HELP"), ("MEMORY", "USAGE", "nosuch"), ("MEMORY", "USAGE", "s", "SAMPLES", "x"),
    ("MEMORY", "USAGE", "s", "foo"), ("MEMORY", "USAGE", "s", "SAMPLES"), ("MEMORY", "PURGE"),
    ("MEMORY", "NOSUCH"), ("MEMORY", "USAGE"), ("MEMORY", "STATS", "x"),
])
def test_same_reply_as_redis(pair, args):
    for srv in pair:
        srv.client().set("s", "v")
    ours, theirs = raw_both(pair, *args)
    assert ours == theirs


def test_stats_fields_and_usage(pair):
    ours, real = (srv.client() for srv in pair)
    for c in (ours, real):
        c.flushall()
        c.set("a", "x" * 100)
        c.hset("h", mapping={"f%d" % i: "v" * 10 for i in range(20)})
    a = ours.execute_command("MEMORY", "STATS")
    b = real.execute_command("MEMORY", "STATS")
    ka = [a[i] for i in range(0, len(a), 2)]
    kb = [b[i] for i in range(0, len(b), 2)]
    assert ka == kb
    dba = dict(zip(a[ka.index(b"db.0") * 2 + 1][::2], a[ka.index(b"db.0") * 2 + 1][1::2]))
    assert set(dba) == {b"overhead.hashtable.main", b"overhead.hashtable.expires"}
    assert ours.memory_usage("a") > 100 and ours.memory_usage("h") > 20 * 10
    assert ours.memory_usage("h", samples=0) >= ours.memory_usage("h", samples=1) * 0.5
    assert ours.execute_command("MEMORY", "MALLOC-STATS") == b"Stats not supported for the current allocator"
    assert ours.execute_command("MEMORY", "DOCTOR").startswith(b"Hi Sam")


def _private_rss(pid: int) -> int:
    with open("/proc/%d/statm" % pid) as f:
        parts = f.read().split()
    return (int(parts[1]) - int(parts[2])) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.parametrize("kind", ["strings", "hashes", "lists", "zsets"])
def test_used_memory_tracks_rss_growth(kind):
    srv = ServerProcess()
    try:
        c = srv.client()
        time.sleep(0.2)
        rss0 = _private_rss(srv.proc.pid)
        est0 = c.info("memory")["used_memory_dataset"]
        p = c.pipeline(transaction=False)
        n = {"strings": 60000, "hashes": 6000, "lists": 5000, "zsets": 2500}[kind]
        for i in range(n):
            if kind == "strings":
                p.set("key:%d" % i, "v" * 30)
            elif kind == "hashes":
                p.hset("h:%d" % i, mapping={"f%d" % j: "value%d:%d" % (i, j) for j in range(10)})
            elif kind == "lists":
                p.rpush("l:%d" % i, *["element%d:%d" % (i, j) for j in range(50)])
            else:
                p.zadd("z:%d" % i, {"m%d:%d" % (i, j): j for j in range(50)})
            if i % 500 == 499:
                p.execute()
        p.execute()
        time.sleep(0.2)
        grew = _private_rss(srv.proc.pid) - rss0
        est = c.info("memory")["used_memory_dataset"] - est0
        assert grew > 4 << 20
        assert 0.7 <= est / grew <= 1.5, (kind, est, grew)  # generous: RSS moves with the machine's load
    finally:
        srv.stop()


def test_noeviction_oom():
    srv = ServerProcess(args=["--maxmemory", "1mb"])
    try:
        c = srv.client()
        rc = RawClient(srv.port)
        assert rc.call("SET", "k", "v") == b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        assert rc.call("GET", "k") == b"$-1\r\n"
        assert rc.call("MULTI") == b"+OK\r\n"
        assert rc.call("GET", "k").startswith(b"-OOM")
        assert rc.call("EXEC").startswith(b"-EXECABORT")
        c.config_set("maxmemory", 0)
        assert c.set("k", "v")
        assert c.info("memory")["maxmemory_policy"] == "noeviction"
        rc.close()
    finally:
        srv.stop()


def test_allkeys_lru_cache_stays_bounded_and_hot_set_survives(tmp_path):
    srv = ServerProcess(args=["--maxmemory-policy", "allkeys-lru", "--notify-keyspace-events", "Ee",
                              "--appendonly", "yes"])
    try:
        c = srv.client()
        base = c.info("memory")["used_memory"]
        limit = base + (1 << 20)
        c.config_set("maxmemory", limit)
        hot = ["hot:%d" % i for i in range(50)]
        for k in hot:
            c.set(k, "h" * 100)
        value = "x" * 200
        p = c.pipeline(transaction=False)
        rss_mid = 0
        total = 0
        for i in range(36000):  # ~10x the limit's room
            p.set("cold:%d" % i, value)
            total += 1
            if i % 500 == 499:
                p.execute()
                c.mget(hot)  # the hot set is read all along
            if i == 18000:
                rss_mid = _private_rss(srv.proc.pid)
        p.execute()
        info = c.info()
        assert info["evicted_keys"] > 25000
        assert info["used_memory"] <= limit * 1.1
        assert info["db0"]["keys"] < total // 3
        survived = sum(1 for v in c.mget(hot) if v is not None)
        assert survived >= 45
        rss_end = _private_rss(srv.proc.pid)
        assert rss_end - rss_mid < 3 << 20  # the second half (5 MB of values) did not grow the process
        # (a subscriber that does not read would hold the notifications in its output buffer, which
        # counts as used memory, as in Redis: subscribe only now)
        ps = c.pubsub()
        ps.subscribe("__keyevent@0__:evicted")
        for i in range(500):
            p.set("more:%d" % i, value)
        p.execute()
        msg = None
        deadline = time.time() + 5
        while msg is None and time.time() < deadline:
            m = ps.get_message(timeout=1)
            if m and m["type"] == "message":
                msg = m
        assert msg is not None and msg["data"].startswith(b"cold:")
        c.config_set("maxmemory", 0)
        aof_dir = os.path.join(srv.dir, "appendonlydir")
        incr = [f for f in os.listdir(aof_dir) if ".incr." in f]
        with open(os.path.join(aof_dir, incr[0]), "rb") as f:
            assert b"$3\r\nDEL\r\n$" in f.read()  # evictions propagate as DEL
    finally:
        srv.stop()


def test_volatile_ttl_and_volatile_without_candidates():
    srv = ServerProcess(args=["--maxmemory-policy", "volatile-ttl", "--maxmemory-samples", "10"])
    try:
        c = srv.client()
        p = c.pipeline(transaction=False)
        for i in range(2000):
            p.set("p:%d" % i, "v" * 100)
        for i in range(300):
            p.set("t:%d" % i, "v" * 100, ex=1000 + i * 100)
        p.execute()
        used = c.info("memory")["used_memory"]
        c.config_set("maxmemory", used - 150 * 250)
        rc = RawClient(srv.port)
        assert rc.call("SET", "x", "y") == b"+OK\r\n"
        left = [i for i in range(300) if c.exists("t:%d" % i)]
        assert 0 < len(left) < 300 and c.dbsize() >= 2000
        assert sum(left) / len(left) > 150  # the shortest TTLs went first (approximately, as Redis)
        # no volatile key left to evict: OOM
        c.delete(*["t:%d" % i for i in left])
        c.config_set("maxmemory", "1mb")
        assert rc.call("SET", "x2", "y").startswith(b"-OOM")
        rc.close()
    finally:
        srv.stop()


def test_object_idletime_and_freq():
    srv = ServerProcess(args=["--maxmemory-policy", "allkeys-lru"])
    try:
        c = srv.client()
        c.set("k", "v")
        c.set("other", "v")
        time.sleep(2.1)
        assert c.object("idletime", "k") >= 2
        c.get("k")
        assert c.object("idletime", "k") == 0
        assert c.object("idletime", "other") >= 2  # OBJECT itself does not touch
        c.config_set("maxmemory-policy", "allkeys-lfu")
        c.config_set("lfu-log-factor", 0)
        c.set("f", "v")
        for _ in range(50):
            c.get("f")
        assert c.object("freq", "f") > 20
        with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is selected"):
            c.object("idletime", "f")
        c.config_set("maxmemory-policy", "noeviction")
        with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is not selected"):
            c.object("freq", "f")
    finally:
        srv.stop()


def test_allkeys_random_and_lfu_evict():
    for policy in ("allkeys-random", "allkeys-lfu", "volatile-lru", "volatile-random", "volatile-lfu"):
        srv = ServerProcess(args=["--maxmemory-policy", policy])
        try:
            c = srv.client()
            p = c.pipeline(transaction=False)
            for i in range(3000):
                p.set("k:%d" % i, "v" * 100, ex=1000 if i % 2 else None)
            p.execute()
            c.config_set("maxmemory", c.info("memory")["used_memory"] - 50000)
            c.set("trigger", "1")
            wait_until(lambda c=c: c.info("stats")["evicted_keys"] > 0, timeout=10)
            if policy.startswith("volatile"):
                assert all(c.exists("k:%d" % i) for i in range(0, 3000, 2))  # keys without a TTL stay
        finally:
            srv.stop()
