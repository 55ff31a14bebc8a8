"""The request loop (_dispatch.Dispatcher): pipelines mixing fast-path commands with the ones that
change client state must answer byte for byte like Redis, and statistics must be exact.

Every test sends one pipeline in a single write, so fast-path and slow-path commands run in the
same batch, which is where a stale fast-path decision would show.
"""

from __future__ import annotations

import re
import socket
import time

import hiredis
import pytest
from conftest import REDIS_SERVER, ServerProcess, wait_until


def encode(*args: str | bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def pipeline(port: int, cmds: list[tuple], nreplies: int | None = None, timeout: float = 5.0,
             sock: socket.socket | None = None) -> list:
    """Send every command in one write; return the decoded replies (errors as ('ERR', text))."""
    s = sock or socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(b"".join(encode(*c) for c in cmds))
        reader = hiredis.Reader(replyError=lambda m: ("ERR", m))
        want = len(cmds) if nreplies is None else nreplies
        out: list = []
        s.settimeout(timeout)
        while len(out) < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            reader.feed(chunk)
            while True:
                r = reader.gets()
                if r is False:
                    break
                out.append(r)
        return out
    finally:
        if sock is None:
            s.close()


def both(real_redis: ServerProcess, server: ServerProcess, cmds: list[tuple], nreplies: int | None = None) -> list:
    """Run the pipeline on a fresh db of both servers; assert the same replies; return them."""
    prefix = [("SELECT", "9"), ("FLUSHDB",)]
    want = None if nreplies is None else nreplies + 2
    a = pipeline(real_redis.port, prefix + cmds, want)
    b = pipeline(server.port, prefix + cmds, want)
    assert b == a
    return b[2:]


def test_mixed_pipeline_matches_redis(real_redis, server):
    replies = both(real_redis, server, [
        ("SET", "a", "1"), ("get", "a"), ("GeT", "a"), ("INCR", "a"), ("LPUSH", "l", "x"), ("INCR", "l"),
        ("SET", "a"), ("NOSUCHCMD", "x"), ("PING",), ("PING", "hi"), ("PING", "a", "b"), ("ECHO", "e"),
        ("MULTI",), ("SET", "b", "2"), ("GET", "b"), ("INCR", "l"), ("EXEC",), ("GET", "b"),
        ("MULTI",), ("SET", "c"), ("SET", "c", "3"), ("EXEC",), ("GET", "c"),
        ("SADD", "s", "m"), ("HSET", "h", "f", "v"), ("RPUSH", "l", "y"), ("LRANGE", "l", "0", "-1"),
        ("DEL", "a", "b"), ("EXISTS", "a", "b", "h"), ("TYPE", "s"),
    ])
    assert replies[0] == b"OK" and replies[3] == 2


def test_client_reply_skip_and_off_in_a_pipeline(real_redis, server):
    # CLIENT REPLY changes what the following fast-path commands answer within the same batch
    both(real_redis, server, [
        ("SET", "k", "1"), ("CLIENT", "REPLY", "SKIP"), ("INCR", "k"), ("GET", "k"),
        ("CLIENT", "REPLY", "OFF"), ("INCR", "k"), ("INCR", "k"), ("CLIENT", "REPLY", "ON"), ("GET", "k"),
    ], nreplies=4)


def test_resp2_subscribed_mode_refuses_then_allows(real_redis, server):
    both(real_redis, server, [
        ("SET", "k", "v"), ("SUBSCRIBE", "ch"), ("GET", "k"), ("PING",), ("SET", "k", "w"),
        ("UNSUBSCRIBE", "ch"), ("GET", "k"), ("PING",),
    ])


def test_quit_mid_pipeline_drops_the_rest(real_redis, server):
    both(real_redis, server, [("SET", "k", "1"), ("QUIT",), ("SET", "k", "2")], nreplies=2)
    for srv in (real_redis, server):
        assert pipeline(srv.port, [("SELECT", "9"), ("GET", "k")]) == [b"OK", b"1"]


def test_hello3_switches_encoding_mid_pipeline(server):
    # a fresh db: other test files leave keys (a hash "h" with more fields) in the shared server's db 0
    replies = pipeline(server.port, [("SELECT", "9"), ("FLUSHDB",), ("HSET", "h", "f", "v"), ("HGETALL", "h"),
                                     ("HELLO", "3"), ("HGETALL", "h"), ("GET", "nokey"), ("HELLO", "2"),
                                     ("GET", "nokey")])[2:]
    assert replies[1] == [b"f", b"v"]
    assert replies[3] == {b"f": b"v"}
    assert replies[4] is None and replies[6] is None


@pytest.fixture(scope="module")
def auth_pair():
    real = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no", "--requirepass", "pw"])
    ours = ServerProcess(args=["--requirepass", "pw"])
    yield real, ours
    real.stop()
    ours.stop()


def test_auth_in_a_pipeline(auth_pair):
    real, ours = auth_pair
    cmds = [("SET", "k", "1"), ("GET", "k"), ("AUTH", "bad"), ("GET", "k"), ("AUTH", "pw"), ("SET", "k", "2"),
            ("GET", "k"), ("RESET",), ("GET", "k"), ("AUTH", "pw"), ("GET", "k"), ("DEL", "k")]
    assert pipeline(ours.port, cmds) == pipeline(real.port, cmds)


def _stats(port: int, section: str) -> dict[str, str]:
    text = pipeline(port, [("INFO", section)])[0].decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _norm(v: str) -> str:
    return re.sub(r"usec=\d+,usec_per_call=[\d.]+", "usec", v)


def test_commandstats_and_errorstats_exact_within_one_batch(real_redis, server):
    # fast-path statistics are kept in C during the batch: INFO in the same pipeline must see them
    cmds = [("CONFIG", "RESETSTAT"), ("SET", "k", "1"), ("SET", "k", "2"), ("GET", "k"), ("GET", "nokey"),
            ("LPUSH", "l", "x"), ("INCR", "l"), ("SET", "k"), ("NOSUCH",), ("PING",),
            ("INFO", "commandstats"), ("INFO", "errorstats"), ("INFO", "stats")]
    out = {}
    for srv in (real_redis, server):
        replies = pipeline(srv.port, [("SELECT", "9"), ("FLUSHDB",)] + cmds)
        cstats = {k: _norm(v) for k, v in (ln.split(":", 1) for ln in replies[-3].decode().splitlines() if ":" in ln)}
        estats = dict(ln.split(":", 1) for ln in replies[-2].decode().splitlines() if ":" in ln)
        stats = dict(ln.split(":", 1) for ln in replies[-1].decode().splitlines() if ":" in ln)
        out[srv] = (cstats, estats, stats)
    (rc, re_, rs), (oc, oe, os_) = out[real_redis], out[server]
    for name in ("cmdstat_set", "cmdstat_get", "cmdstat_lpush", "cmdstat_incr", "cmdstat_ping"):
        assert oc[name] == rc[name], name
    assert oc["cmdstat_set"] == "calls=2,usec,rejected_calls=1,failed_calls=0"
    assert oc["cmdstat_incr"] == "calls=1,usec,rejected_calls=0,failed_calls=1"
    assert oe == re_
    for field in ("keyspace_hits", "keyspace_misses", "total_error_replies"):
        assert os_[field] == rs[field], field


def test_total_commands_and_client_list_cmd_after_a_batch(server):
    other = server.client()
    try:
        before = int(_stats(server.port, "stats")["total_commands_processed"])
        pipeline(server.port, [("SET", "k", "1")] * 10 + [("INCR", "k")] * 5)
        after = int(_stats(server.port, "stats")["total_commands_processed"])
        # the 15 commands, plus the INFO that read "before"
        assert after - before == 16
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        try:
            pipeline(server.port, [("SET", "a", "1"), ("CLIENT", "SETNAME", "fastcl"), ("LPUSH", "q", "v")], sock=s)
            line = [ln for ln in other.execute_command("CLIENT", "LIST").decode().splitlines() if "name=fastcl" in ln]
            assert len(line) == 1 and " cmd=lpush " in line[0]
        finally:
            s.close()
    finally:
        other.close()


def test_monitor_started_between_batches_sees_fast_commands(server):
    mon = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        pipeline(server.port, [("SET", "before", "1")], sock=s)
        assert pipeline(server.port, [("MONITOR",)], sock=mon) == [b"OK"]
        pipeline(server.port, [("SET", "m1", "x"), ("GET", "m1"), ("PING",)], sock=s)
        lines = pipeline(server.port, [], nreplies=3, sock=mon)
        assert [ln.split(b"] ", 1)[1] for ln in lines] == [b'"SET" "m1" "x"', b'"GET" "m1"', b'"PING"']
    finally:
        mon.close()
        s.close()


def test_blocked_client_served_by_a_fast_path_push(server):
    waiter = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    pusher = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        pipeline(server.port, [("DEL", "bl")], sock=pusher)
        waiter.sendall(encode("BLPOP", "bl", "0") + encode("PING") + encode("GET", "after"))
        addr = b"addr=127.0.0.1:%d " % waiter.getsockname()[1]
        wait_until(lambda: [ln for ln in pipeline(server.port, [("CLIENT", "LIST")], sock=pusher)[0].split(b"\n")
                            if addr in ln and b" flags=b " in ln])  # the server has blocked it
        replies = pipeline(server.port, [("LPUSH", "bl", "a", "b"), ("SET", "after", "1"), ("LLEN", "bl")],
                           sock=pusher)
        assert replies == [2, b"OK", 1]
        assert pipeline(server.port, [], nreplies=3, sock=waiter) == [[b"bl", b"b"], b"PONG", b"1"]
    finally:
        waiter.close()
        pusher.close()


def test_client_pause_write_holds_fast_path_writes(server):
    admin = server.client()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        pipeline(server.port, [("SET", "p", "0")], sock=s)
        t0 = time.monotonic()  # before the pause starts: held writes answer 300 ms after, however slow the run
        admin.execute_command("CLIENT", "PAUSE", "300", "WRITE")
        replies = pipeline(server.port, [("GET", "p"), ("INCR", "p"), ("GET", "p")], sock=s)
        assert replies == [b"0", 1, b"1"]
        assert time.monotonic() - t0 >= 0.3
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
        s.close()



def test_replies_keep_their_order_when_the_socket_fills(server):
    """Batches written straight to the socket and batches queued in the transport (socket full)
    interleave without reordering: the client reads nothing until it has sent everything."""
    value = b"x" * 16384
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(encode("SET", "big", value))
        assert s.recv(64) == b"+OK\r\n"
        expect = []
        for i in range(40):  # separate reads: each batch is sent on its own
            s.sendall((encode("GET", "big") + encode("INCR", "n")) * 50)
            for j in range(50):
                expect.append(b"$16384\r\n" + value + b"\r\n")
                expect.append(b":%d\r\n" % (i * 50 + j + 1))
            time.sleep(0.005)
        want = b"".join(expect)
        got = bytearray()
        while len(got) < len(want):
            chunk = s.recv(1 << 20)
            assert chunk
            got += chunk
        assert bytes(got) == want
