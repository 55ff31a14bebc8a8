"""Server commands: SHUTDOWN, LASTSAVE, TIME, DBSIZE/FLUSH*/SWAPDB, DEBUG, INFO-adjacent behaviour."""

from __future__ import annotations

import re
import signal
import time

import pytest
import redis
from conftest import RawClient, ServerProcess, diff_replies, wait_until


def test_shutdown_syntax_errors_match_redis(server, real_redis):
    ours, real = RawClient(server.port), RawClient(real_redis.port)
    try:
        for cmd in [("SHUTDOWN", "foo"), ("SHUTDOWN", "SAVE", "NOSAVE"), ("SHUTDOWN", "ABORT", "NOW"),
                    ("SHUTDOWN", "ABORT"), ("SHUTDOWN", "NOW", "FORCE", "x")]:
            a, b = ours.call(*cmd), real.call(*cmd)
            assert a == b, f"{cmd}: {a!r} != {b!r}"
        ours.call("MULTI")
        real.call("MULTI")
        assert ours.call("SHUTDOWN") == real.call("SHUTDOWN") == b"-ERR Command not allowed inside a transaction\r\n"
        ours.call("DISCARD")
        real.call("DISCARD")
    finally:
        ours.close()
        real.close()


@pytest.mark.parametrize("args", [(), ("NOSAVE",), ("SAVE",), ("NOW", "FORCE"), ("nosave", "now")])
def test_shutdown_exits_cleanly(args):
    s = ServerProcess()
    c = s.client()
    c.set("k", "v")
    with pytest.raises(redis.ConnectionError):
        c.execute_command("SHUTDOWN", *args)
    assert s.proc.wait(10) == 0
    log = s.log_text()
    assert "User requested shutdown..." in log
    assert "Redis is now ready to exit, bye bye..." in log
    s.stop()


def test_sigterm_exits_with_zero():
    s = ServerProcess()
    assert s.client().ping()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(10) == 0
    assert "Received SIGTERM scheduling shutdown..." in s.log_text()
    s.stop()


def test_shutdown_save_writes_rdb():
    import os

    s = ServerProcess()
    c = s.client()
    c.set("k", "v")
    with pytest.raises(redis.ConnectionError):
        c.execute_command("SHUTDOWN", "SAVE")
    assert s.proc.wait(10) == 0
    assert os.path.exists(os.path.join(s.dir, "dump.rdb"))
    s.stop()


def test_lastsave_and_time(r, server):
    c = RawClient(server.port)
    raw = c.call("LASTSAVE")
    c.close()
    assert re.fullmatch(rb":\d+\r\n", raw)
    last = int(raw[1:-2])
    assert abs(last - time.time()) < 3600 * 24
    assert r.info("persistence")["rdb_last_save_time"] == last
    secs, usecs = r.execute_command("TIME")
    assert abs(int(secs) - time.time()) < 5 and 0 <= int(usecs) < 1_000_000


def test_keyspace_admin_matches_redis(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("SET", "a", "1"), ("DBSIZE",), ("SWAPDB", "9", "8"), ("DBSIZE",), ("SWAPDB", "9", "8"), ("DBSIZE",),
        ("SWAPDB", "x", "1"), ("SWAPDB", "1", "x"), ("SWAPDB", "1", "100"), ("FLUSHDB", "ASYNC"), ("DBSIZE",),
        ("FLUSHDB", "foo"), ("FLUSHALL", "SYNC", "x"), ("DBSIZE", "x"), ("TIME", "x"), ("LASTSAVE", "x"),
    ])


def test_debug_refused_by_default(server, real_redis):
    ours, real = RawClient(server.port), RawClient(real_redis.port)
    try:
        for cmd in [("DEBUG", "SLEEP", "0"), ("DEBUG", "HELP"), ("DEBUG", "nosuch")]:
            assert ours.call(*cmd) == real.call(*cmd)
        assert ours.call("DEBUG", "SLEEP", "0").startswith(b"-ERR DEBUG command not allowed.")
    finally:
        ours.close()
        real.close()


@pytest.fixture(scope="module")
def debug_server():
    s = ServerProcess(args=["--enable-debug-command", "yes", "--hz", "100"])
    yield s
    s.stop()


def test_debug_sleep(debug_server):
    c = debug_server.client()
    t0 = time.time()
    assert c.execute_command("DEBUG", "SLEEP", "0.3") == b"OK"
    assert time.time() - t0 >= 0.3
    assert c.execute_command("DEBUG", "SLEEP", "0") == b"OK"


def test_debug_set_active_expire(debug_server):
    c = debug_server.client()
    c.flushall()
    try:
        assert c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
        c.set("ttl", "v", px=10)
        time.sleep(0.4)
        assert c.dbsize() == 1  # not actively expired
        assert c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1") == b"OK"
        deadline = time.time() + 15
        while c.dbsize() and time.time() < deadline:
            time.sleep(0.05)
        assert c.dbsize() == 0
    finally:
        c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_debug_object(debug_server):
    c = debug_server.client()
    c.set("s", "hello")
    c.set("n", "12345")
    c.rpush("l", "a", "b")
    out = c.execute_command("DEBUG", "OBJECT", "s")
    assert re.fullmatch(rb"Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:6 lru:\d+ "
                        rb"lru_seconds_idle:\d+", out), out
    assert b"encoding:int" in c.execute_command("DEBUG", "OBJECT", "n")
    assert b"encoding:listpack" in c.execute_command("DEBUG", "OBJECT", "l")
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        c.execute_command("DEBUG", "OBJECT", "nokey")


def test_debug_log_help_populate_unknown(debug_server):
    c = debug_server.client()
    assert c.execute_command("DEBUG", "LOG", "hello-from-test") == b"OK"
    wait_until(lambda: "DEBUG LOG: hello-from-test" in debug_server.log_text())
    helptext = c.execute_command("DEBUG", "HELP")
    assert helptext[0].startswith(b"DEBUG <subcommand>")
    assert any(line.startswith(b"SLEEP") for line in helptext)
    with pytest.raises(redis.ResponseError, match=r"^unknown subcommand or wrong number of arguments for 'NOPE'\. Try DEBUG HELP\.$"):
        c.execute_command("DEBUG", "NOPE")
    c.flushall()
    assert c.execute_command("DEBUG", "POPULATE", "10", "pk", "8") == b"OK"
    assert c.dbsize() == 10
    assert c.get("pk:3") == b"value:3\0"  # padded with NULs to the size, like Redis
    assert c.strlen("pk:0") == 8


def test_debug_change_repl_id(debug_server):
    c = debug_server.client()
    before = c.info("replication")["master_replid"]
    assert c.execute_command("DEBUG", "CHANGE-REPL-ID") == b"OK"
    after = c.info("replication")["master_replid"]
    assert after != before and len(after) == 40


def test_debug_local_mode():
    s = ServerProcess(args=["--enable-debug-command", "local"])
    try:
        assert s.client().execute_command("DEBUG", "SLEEP", "0") == b"OK"
    finally:
        s.stop()
