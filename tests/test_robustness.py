"""Robustness: clients that vanish, flood, block, stall or send huge things never hurt the server.

Every test leaves the server alive and answering correctly; the autouse fixture also
checks that nothing reached the server log as a Python traceback.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from conftest import ServerProcess, recv_until


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    """A server of our own: these tests flood, stall and disconnect clients on purpose."""
    s = ServerProcess()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _healthy(srv: ServerProcess) -> Iterator[None]:
    yield
    assert srv.alive(), "server died"
    log = srv.log_text()
    assert "Traceback" not in log and "Internal error" not in log, log[-4000:]
    assert_alive(srv)


@pytest.fixture
def r(srv: ServerProcess) -> Iterator[redis.Redis]:
    c = redis.Redis(host="127.0.0.1", port=srv.port, protocol=2, socket_timeout=60)
    c.flushall()
    yield c
    c.close()


def assert_alive(srv: ServerProcess) -> None:
    """A fresh connection gets PONG and a write/read round trip works."""
    with srv.raw(timeout=30) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$8\r\n__live__\r\n$1\r\n1\r\n"
                  b"*2\r\n$3\r\nGET\r\n$8\r\n__live__\r\n")
        assert recv_until(s, b"$1\r\n1\r\n", timeout=30) == b"+PONG\r\n+OK\r\n$1\r\n1\r\n"


def cmd(*args: bytes | str | int) -> bytes:
    parts = []
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"*%d\r\n" % len(args) + b"".join(parts)


def connected_clients(r: redis.Redis) -> int:
    return len(r.client_list())


def wait_for(pred, timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


# -- clients that vanish ----------------------------------------------------------------------


@pytest.mark.parametrize("cut", [
    b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\nhalf",  # half a bulk
    b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10",          # half a bulk header
    b"*3\r\n$3\r\nSET\r\n",                          # missing arguments
    b"*3",                                           # half a multibulk header
    b"SET key \"unterminated",                       # half an inline command
])
def test_client_vanishes_mid_command(srv: ServerProcess, r: redis.Redis, cut: bytes) -> None:
    """Half a command then close: nothing is executed, nothing breaks."""
    for _ in range(20):
        with srv.raw() as s:
            s.sendall(cut)
    assert r.get("key") is None
    assert wait_for(lambda: connected_clients(r) == 1)


def test_client_vanishes_mid_pipeline(srv: ServerProcess, r: redis.Redis) -> None:
    """Complete commands before the cut run exactly once; the partial one never runs."""
    with srv.raw() as s:
        s.sendall(cmd("INCR", "n") * 1000)
        recv_until(s, b":1000\r\n", timeout=30)
        s.sendall(cmd("INCR", "n") * 500 + b"*2\r\n$4\r\nINCR\r\n$1")
    # the server may or may not have read the last 500 before noticing the close; never a partial
    assert wait_for(lambda: connected_clients(r) == 1)
    assert int(r.get("n")) in (1000, 1500)
    # a client that closes without reading any of its replies
    r.delete("n")
    with srv.raw() as s:
        s.sendall(cmd("INCR", "n") * 5000)
    assert wait_for(lambda: connected_clients(r) == 1)
    assert wait_for(lambda: int(r.get("n") or 0) > 0)


def test_thousands_of_connections(srv: ServerProcess, r: redis.Redis) -> None:
    """Open/close churn, and 1000 simultaneous connections, all served; none leak."""
    for i in range(2000):
        with srv.raw() as s:
            if i % 2:
                s.sendall(cmd("PING"))
                assert recv_until(s, b"\r\n") == b"+PONG\r\n"
    socks = [srv.raw() for _ in range(1000)]
    try:
        for s in socks:
            s.sendall(cmd("INCR", "conns"))
        for s in socks:
            assert recv_until(s, b"\r\n").startswith(b":")
        assert int(r.get("conns")) == 1000
        assert connected_clients(r) == 1001
    finally:
        for s in socks:
            s.close()
    assert wait_for(lambda: connected_clients(r) == 1)
    assert r.info("stats")["total_connections_received"] >= 3000


def test_parallel_connection_storm(srv: ServerProcess, r: redis.Redis) -> None:
    """Threads connecting, half-sending, resetting and reading at the same time."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(100):
                s = srv.raw(timeout=30)
                if i % 3 == 0:
                    s.sendall(cmd("SET", f"w{n}:{i}", "v"))
                    assert recv_until(s, b"\r\n", timeout=30) == b"+OK\r\n"
                elif i % 3 == 1:
                    s.sendall(b"*2\r\n$3\r\nGET\r\n$10\r\nab")
                else:  # abortive close (RST)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    s.sendall(cmd("LPUSH", "storm", "x") * 10)
                s.close()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert r.dbsize() >= 8 * 34
    assert wait_for(lambda: connected_clients(r) == 1)


# -- huge requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("header", [b"*1048576\r\n", b"*1024\r\n$536870912\r\n", b"*2147483647\r\n"])
def test_huge_multibulk_count_is_not_preallocated(srv: ServerProcess, r: redis.Redis, header: bytes) -> None:
    """A huge count (or bulk length) header followed by little data costs nothing; close frees it."""
    before = r.info("memory")["used_memory"]
    socks = []
    for _ in range(20):
        s = srv.raw()
        s.sendall(header + cmd("PING")[4:] * 10)
        socks.append(s)
    time.sleep(0.3)
    assert r.ping()
    assert r.info("memory")["used_memory"] - before < 100 * 1024 * 1024
    for s in socks:
        s.close()
    assert wait_for(lambda: connected_clients(r) == 1)


def test_over_limit_counts_are_protocol_errors(srv: ServerProcess) -> None:
    for payload, err in [(b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
                         (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
                         (b"*-9\r\n" + cmd("PING"), b"+PONG\r\n"),
                         (b"*1\r\n$-3\r\n", b"-ERR Protocol error: invalid bulk length\r\n")]:
        with srv.raw() as s:
            s.sendall(payload)
            assert recv_until(s, err) == err


def test_100mb_value(srv: ServerProcess, r: redis.Redis) -> None:
    """SET then GET a 100 MB value; a client that disconnects while receiving it does no harm."""
    value = bytes(range(256)) * (100 * 1024 * 1024 // 256)
    assert r.set("big", value)
    assert r.strlen("big") == len(value)
    assert r.get("big") == value
    for got in (1, 1 << 20, 30 << 20):
        with srv.raw() as s:
            s.sendall(cmd("GET", "big"))
            n = 0
            while n < got:
                chunk = s.recv(1 << 20)
                assert chunk
                n += len(chunk)
    # a client that sends half of a 100 MB SET and vanishes
    with srv.raw() as s:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nbig2\r\n$%d\r\n" % len(value) + value[: 50 << 20])
    assert wait_for(lambda: connected_clients(r) == 1, 30)
    assert r.exists("big2") == 0
    assert r.getrange("big", -3, -1) == value[-3:]
    assert r.getrange("big", 50 << 20, (50 << 20) + 9) == value[50 << 20:(50 << 20) + 10]
    r.delete("big")


def test_query_buffer_limit_closes_only_that_client(r: redis.Redis) -> None:
    """Past client-query-buffer-limit the client is dropped (as Redis does); others are untouched."""
    s2 = ServerProcess(args=["--client-query-buffer-limit", "1mb"])
    try:
        c = s2.client()
        with s2.raw() as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n" + b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n")
            try:
                for _ in range(3):
                    s.sendall(b"x" * 1_000_000)
                    time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass
            out = recv_until(s, 1 << 20, timeout=5)
            assert out.startswith(b"+PONG\r\n")
        assert c.ping()
        assert c.exists("k") == 0
        assert c.info("stats")["client_query_buffer_limit_disconnections"] == 1
        assert "Traceback" not in s2.log_text()
        c.close()
    finally:
        s2.stop()


# -- pipelines --------------------------------------------------------------------------------


def test_pipeline_of_100k_commands(srv: ServerProcess, r: redis.Redis) -> None:
    """100k commands in one write: every reply, in order."""
    n = 100_000
    with srv.raw(timeout=60) as s:
        s.sendall(b"".join(cmd("SET", f"p:{i}", i) for i in range(n)))
        out = recv_until(s, b"+OK\r\n" * n, timeout=60)
        assert out == b"+OK\r\n" * n
        s.sendall(cmd("INCR", "p:counter") * n)
        out = recv_until(s, b":%d\r\n" % n, timeout=60)
        assert out == b"".join(b":%d\r\n" % i for i in range(1, n + 1))
    assert r.dbsize() == n + 1
    pipe = r.pipeline(transaction=False)
    for i in range(0, n, 7):
        pipe.get(f"p:{i}")
    assert pipe.execute() == [str(i).encode() for i in range(0, n, 7)]
    # the same inside one transaction
    pipe = r.pipeline(transaction=True)
    for _ in range(20_000):
        pipe.incr("p:tx")
    assert pipe.execute() == list(range(1, 20_001))


def test_pipeline_sent_byte_by_byte(srv: ServerProcess) -> None:
    """Commands split at every possible byte boundary are reassembled correctly."""
    payload = cmd("SET", "bb", "a\r\nb") + cmd("GET", "bb") + b"PING\r\n" + cmd("ECHO", "")
    with srv.raw() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(payload)):
            s.sendall(payload[i:i + 1])
            time.sleep(0.001)
        expected = b"+OK\r\n$4\r\na\r\nb\r\n+PONG\r\n$0\r\n\r\n"
        assert recv_until(s, expected) == expected


# -- odd keys and databases -------------------------------------------------------------------

BINARY_KEYS = [b"\x00", b"a\x00b", b"\r\n", b"k\r\nSET x y\r\n", b"*1\r\n$4\r\nPING\r\n", b"\xff\xfe\x00\x01",
               b" ", b"", b"\"quoted\"", b"\x00" * 1000, bytes(range(256))]


def test_binary_keys_and_values(r: redis.Redis) -> None:
    """Keys and values with NUL, CR/LF and RESP syntax inside round-trip exactly."""
    for i, k in enumerate(BINARY_KEYS):
        assert r.set(k, k + b"\x00v")
        assert r.get(k) == k + b"\x00v"
        r.hset(b"h" + k, k, k)
        assert r.hget(b"h" + k, k) == k
        r.rpush(b"l" + k, k, b"\r\n")
        r.zadd(b"z" + k, {k: i})
        r.sadd(b"s" + k, k)
    assert r.dbsize() == 5 * len(BINARY_KEYS)
    assert set(r.keys("*")) >= set(BINARY_KEYS)
    assert set(r.scan_iter(match=b"\x00*")) == {b"\x00", b"\x00" * 1000, bytes(range(256))}
    assert r.exists(*BINARY_KEYS) == len(BINARY_KEYS)
    assert r.rename(b"a\x00b", b"c\x00d")
    assert r.get(b"c\x00d") == b"a\x00b\x00v"
    assert r.type(b"l\r\n") == b"list"
    assert r.lrange(b"l\r\n", 0, -1) == [b"\r\n", b"\r\n"]
    assert r.zscore(b"z" + bytes(range(256)), bytes(range(256))) == len(BINARY_KEYS) - 1
    dump = r.dump(b"\r\n")
    assert r.restore(b"\r\n\x00copy", 0, dump)
    assert r.get(b"\r\n\x00copy") == b"\r\n\x00v"
    assert r.delete(*BINARY_KEYS) == len(BINARY_KEYS) - 1  # a\0b was renamed


def test_binary_inline_quoting(srv: ServerProcess) -> None:
    """Inline commands with hex escapes produce binary arguments."""
    with srv.raw() as s:
        s.sendall(b'SET "bin\\x00key" "v\\r\\n\\xff"\r\nGET "bin\\x00key"\r\nSTRLEN "bin\\x00key"\r\n')
        expected = b"+OK\r\n$4\r\nv\r\n\xff\r\n:4\r\n"
        assert recv_until(s, expected) == expected


def test_many_databases(srv: ServerProcess, r: redis.Redis) -> None:
    """All 16 databases are separate; out of range indexes are refused."""
    for db in range(16):
        c = srv.client(db=db)
        c.set("dbkey", db)
        for i in range(db):
            c.set(f"extra{i}", i)
        c.close()
    for db in range(16):
        c = srv.client(db=db)
        assert int(c.get("dbkey")) == db
        assert c.dbsize() == db + 1
        c.close()
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        r.execute_command("SELECT", 16)
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("SELECT", "-1x")
    assert r.move("dbkey", 15) is False  # target already has the key
    assert r.swapdb(0, 15)
    assert int(r.get("dbkey")) == 15
    r.flushdb()
    assert srv.client(db=1).dbsize() == 2


def test_thousand_databases() -> None:
    """A server with --databases 1000: the last index works, the next is out of range."""
    s2 = ServerProcess(args=["--databases", "1000"])
    try:
        for db in (0, 500, 999):
            c = s2.client(db=db)
            c.set("k", db)
            assert int(c.get("k")) == db
            c.close()
        c = s2.client()
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            c.execute_command("SELECT", 1000)
        assert c.swapdb(0, 999)
        assert int(c.get("k")) == 999
        c.close()
        assert "Traceback" not in s2.log_text()
    finally:
        s2.stop()


# -- blocked clients --------------------------------------------------------------------------


@pytest.mark.parametrize("block", [
    cmd("BLPOP", "bq", 0),
    cmd("BRPOPLPUSH", "bq", "bq2", 0),
    cmd("BLMOVE", "bq", "bq2", "LEFT", "RIGHT", 0),
    cmd("BLMPOP", 0, 1, "bq", "LEFT"),
])
def test_killed_blocked_client_loses_nothing(srv: ServerProcess, r: redis.Redis, block: bytes) -> None:
    """A client blocked on a list dies; the next push is not swallowed by the dead client."""
    s = srv.raw()
    s.sendall(block)
    assert wait_for(lambda: r.info("clients")["blocked_clients"] == 1)
    s.close()
    assert wait_for(lambda: r.info("clients")["blocked_clients"] == 0)
    r.lpush("bq", "v")
    assert r.lrange("bq", 0, -1) == [b"v"]
    assert r.exists("bq2") == 0
    # a second blocked client, still alive, gets the next element
    r.delete("bq")
    s = srv.raw()
    s.sendall(cmd("BLPOP", "bq", "bqz", 0))
    assert wait_for(lambda: r.info("clients")["blocked_clients"] == 1)
    r.rpush("bqz", "w")
    assert recv_until(s, b"$1\r\nw\r\n") == b"*2\r\n$3\r\nbqz\r\n$1\r\nw\r\n"
    s.close()


def test_killed_blocked_stream_and_zset_readers(srv: ServerProcess, r: redis.Redis) -> None:
    r.xgroup_create("bs", "g", id="$", mkstream=True)
    socks = []
    for payload in (cmd("XREAD", "BLOCK", 0, "STREAMS", "bs", "$"),
                    cmd("XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "bs", ">"),
                    cmd("BZPOPMIN", "bz", 0), cmd("BZMPOP", 0, 1, "bz", "MAX")):
        s = srv.raw()
        s.sendall(payload)
        socks.append(s)
    assert wait_for(lambda: r.info("clients")["blocked_clients"] == 4)
    for s in socks:
        s.close()
    assert wait_for(lambda: r.info("clients")["blocked_clients"] == 0)
    r.xadd("bs", {"f": "v"})
    r.zadd("bz", {"m": 1})
    assert r.xpending("bs", "g")["pending"] == 0
    assert r.zrange("bz", 0, -1) == [b"m"]


def test_blocked_client_killed_with_client_kill(srv: ServerProcess, r: redis.Redis) -> None:
    s = srv.raw()
    s.sendall(cmd("CLIENT", "SETNAME", "victim") + cmd("BLPOP", "kq", 0))
    assert wait_for(lambda: r.info("clients")["blocked_clients"] == 1)
    victim = [c for c in r.client_list() if c["name"] == "victim"][0]
    assert r.client_kill_filter(_id=victim["id"]) == 1
    assert wait_for(lambda: r.info("clients")["blocked_clients"] == 0)
    assert recv_until(s, b"never", timeout=2) == b"+OK\r\n"  # then EOF, no reply to BLPOP
    s.close()
    r.lpush("kq", "v")
    assert r.llen("kq") == 1


# -- slow readers ------------------------------------------------------------------------------


def test_slow_reader_does_not_stall_others(srv: ServerProcess, r: redis.Redis) -> None:
    """A client that stops reading its big replies is paused, not the server; it later gets it all."""
    value = b"v" * (1 << 20)
    r.set("slow", value)
    s = srv.raw(timeout=60)
    n = 60  # 60 MB: far more than the socket buffers hold, so the server must wait for us
    s.sendall(cmd("GET", "slow") * n)
    time.sleep(0.5)
    # everyone else is served meanwhile
    for _ in range(50):
        assert r.incr("others") > 0
    assert r.get("slow") == value
    got = 0
    expect = (len(b"$1048576\r\n") + len(value) + 2) * n
    chunks = []
    while got < expect:
        chunk = s.recv(1 << 20)
        assert chunk
        chunks.append(chunk)
        got += len(chunk)
    data = b"".join(chunks)
    assert data == (b"$1048576\r\n" + value + b"\r\n") * n
    s.close()


def test_slow_pubsub_subscriber_is_disconnected(srv: ServerProcess, r: redis.Redis) -> None:
    """Past the pubsub output buffer hard limit (32 MB) the subscriber is dropped, like Redis."""
    s = srv.raw(timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(cmd("SUBSCRIBE", "firehose"))
    recv_until(s, b":1\r\n")
    before = r.info("stats")["client_output_buffer_limit_disconnections"]
    msg = b"m" * (1 << 20)
    for _ in range(80):
        r.publish("firehose", msg)
        if r.pubsub_numsub("firehose")[0][1] == 0:
            break
    assert wait_for(lambda: r.pubsub_numsub("firehose")[0][1] == 0)
    assert r.info("stats")["client_output_buffer_limit_disconnections"] == before + 1
    s.close()


def test_reply_leak_free_errors(srv: ServerProcess, r: redis.Redis) -> None:
    """Error replies from shared error constants keep no traceback (which held each argv) alive."""
    arg = b"x" * 50_000
    before = r.info("memory")["used_memory"]
    with srv.raw(timeout=60) as s:
        s.sendall(cmd("SETRANGE", "lk", "notanumber", arg) * 2000)
        err = b"-ERR value is not an integer or out of range\r\n"
        assert recv_until(s, len(err) * 2000, timeout=60) == err * 2000
    # 2000 leaked frames would hold 100 MB of arguments
    assert r.info("memory")["used_memory"] - before < 40 * 1024 * 1024


def test_quit_mid_pipeline(srv: ServerProcess, r: redis.Redis) -> None:
    """Nothing after QUIT runs or is answered."""
    with srv.raw() as s:
        s.sendall(cmd("SET", "q", 1) + cmd("QUIT") + cmd("SET", "q", 2) + cmd("INCR", "q2"))
        assert recv_until(s, b"never", timeout=2) == b"+OK\r\n+OK\r\n"
    assert r.get("q") == b"1"
    assert r.exists("q2") == 0


def test_maxclients_refuses_extra_connections_only() -> None:
    """Past maxclients a new connection gets Redis' error and is closed; the others keep working."""
    s2 = ServerProcess(args=["--maxclients", "3"])
    try:
        keep = [s2.raw() for _ in range(3)]
        for s in keep:
            s.sendall(cmd("PING"))
            assert recv_until(s, b"\r\n") == b"+PONG\r\n"
        for _ in range(20):
            with s2.raw() as extra:
                assert recv_until(extra, b"never", timeout=10) == b"-ERR max number of clients reached\r\n"
        keep[0].close()
        # until the server has seen the close (asked over another kept connection)
        assert wait_for(lambda: (keep[1].sendall(cmd("INFO", "clients")),
                                 b"connected_clients:2\r\n" in recv_until(keep[1], b"\r\n\r\n"))[1])
        c = s2.client()
        assert c.ping()
        assert c.info("stats")["rejected_connections"] == 20
        c.close()
        for s in keep[1:]:
            s.sendall(cmd("INCR", "n"))
            assert recv_until(s, b"\r\n").startswith(b":")
            s.close()
        assert "Traceback" not in s2.log_text()
    finally:
        s2.stop()


def test_clients_vanish_while_paused_or_in_multi(srv: ServerProcess, r: redis.Redis) -> None:
    """A client held by CLIENT PAUSE, or in the middle of WATCH/MULTI, disappears: nothing of it runs."""
    # a long pause, lifted by UNPAUSE once the client is gone: a slow run cannot outlast it
    r.execute_command("CLIENT", "PAUSE", 20000, "WRITE")
    with srv.raw() as s:
        s.sendall(cmd("SET", "paused", 1) + cmd("GET", "paused"))
        time.sleep(0.05)
    assert wait_for(lambda: connected_clients(r) == 1)
    other = srv.raw()
    other.sendall(cmd("SET", "paused2", 1))
    time.sleep(0.05)
    r.execute_command("CLIENT", "UNPAUSE")
    assert recv_until(other, b"\r\n", timeout=5) == b"+OK\r\n"
    other.close()
    assert r.get("paused") is None and r.get("paused2") == b"1"
    with srv.raw() as s:
        s.sendall(cmd("WATCH", "w") + cmd("MULTI") + cmd("SET", "w", 1) + cmd("INCR", "w2"))
        assert recv_until(s, b"QUEUED\r\n+QUEUED\r\n") == b"+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n"
    r.set("w", 2)
    assert r.get("w") == b"2" and r.exists("w2") == 0
    assert wait_for(lambda: connected_clients(r) == 1)


def test_blocked_client_with_pipeline_behind_it(srv: ServerProcess, r: redis.Redis) -> None:
    """Commands pipelined after a blocking one wait for it, then run in order (as in Redis)."""
    s = srv.raw()
    s.sendall(cmd("BLPOP", "bp", 0) + cmd("PING") + cmd("SET", "bpx", 1) + cmd("BLPOP", "bp", "0.1") + cmd("PING"))
    assert wait_for(lambda: r.info("clients")["blocked_clients"] == 1)
    assert r.get("bpx") is None  # still queued behind the blocked BLPOP
    r.lpush("bp", "v")
    expected = b"*2\r\n$2\r\nbp\r\n$1\r\nv\r\n+PONG\r\n+OK\r\n*-1\r\n+PONG\r\n"
    assert recv_until(s, expected) == expected
    s.close()
