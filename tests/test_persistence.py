"""RDB persistence in the running server: SAVE, BGSAVE, save points, shutdown, FLUSHALL, restart, MISCONF."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import tempfile
import time
from collections import deque
from collections.abc import Callable

import pytest
import redis
from conftest import RawClient, ServerProcess, diff_replies
from test_rdb_load import FIXTURES, Plain, read_value
from test_rdb_save import populate

from fastredis.persistence import rdb


def wait_for(cond: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in %.0fs" % timeout)


def raw(srv: ServerProcess, *args: str) -> bytes:
    """Exact reply bytes of one command on a fresh connection."""
    rc = RawClient(srv.port)
    try:
        return rc.call(*args)
    finally:
        rc.close()


def shutdown(srv: ServerProcess, *flags: str) -> None:
    """SHUTDOWN: no reply, the connection just closes."""
    rc = RawClient(srv.port)
    try:
        with pytest.raises(ConnectionError):
            rc.call("SHUTDOWN", *flags)
    finally:
        rc.close()


def pinfo(c: redis.Redis) -> dict:
    return c.info("persistence")


def dump_path(srv: ServerProcess) -> str:
    return os.path.join(srv.dir, "dump.rdb")


@pytest.fixture
def srv() -> ServerProcess:
    s = ServerProcess()
    yield s
    s.stop()


def test_save_writes_dump_and_resets_counters(srv: ServerProcess) -> None:
    c = srv.client()
    before = c.lastsave()
    c.set("a", "1")
    c.rpush("l", "x", "y")
    assert pinfo(c)["rdb_changes_since_last_save"] == 3  # RPUSH counts each element
    time.sleep(1.1)
    assert c.save() is True
    res = rdb.load_file(dump_path(srv))
    assert res.data == {0: {b"a": b"1", b"l": deque([b"x", b"y"])}}
    info = pinfo(c)
    assert info["rdb_changes_since_last_save"] == 0
    assert info["rdb_last_save_time"] == int(c.lastsave().timestamp())
    assert c.lastsave() > before
    assert info["rdb_saves"] == 1
    assert info["rdb_last_bgsave_status"] == "ok"
    assert not glob.glob(os.path.join(srv.dir, "temp-*.rdb"))
    assert "DB saved on disk" in srv.log_text()


def test_bgsave_in_a_child(srv: ServerProcess) -> None:
    c = srv.client()
    populate(c)
    dirty = pinfo(c)["rdb_changes_since_last_save"]
    assert dirty > 0
    assert raw(srv, "BGSAVE") == b"+Background saving started\r\n"
    c.set("during", "x")  # the parent keeps serving while the child writes
    wait_for(lambda: pinfo(c)["rdb_bgsave_in_progress"] == 0 and os.path.exists(dump_path(srv)))
    info = pinfo(c)
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_last_bgsave_time_sec"] >= 0
    assert info["rdb_changes_since_last_save"] <= 1  # only the write made during the save is left
    res = rdb.load_file(dump_path(srv))
    assert b"st" in res.data[0] and b"db3:k" in res.data[3]
    log = srv.log_text()
    assert "Background saving started by pid" in log and "Background saving terminated with success" in log


def test_bgsave_conflicts_and_schedule() -> None:
    s = ServerProcess(args=["--rdb-key-save-delay", "200000"])  # 0.2 s per key: a slow BGSAVE
    try:
        c = s.client()
        for i in range(10):
            c.set(f"k{i}", i)
        assert raw(s, "BGSAVE") == b"+Background saving started\r\n"
        assert pinfo(c)["rdb_bgsave_in_progress"] == 1
        with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
            c.execute_command("BGSAVE")
        with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
            c.execute_command("BGSAVE", "SCHEDULE")
        with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
            c.save()
        # another fork (AOF rewrite) active: BGSAVE refuses, BGSAVE SCHEDULE waits for it
        c.config_set("rdb-key-save-delay", "0")
        wait_for(lambda: pinfo(c)["rdb_bgsave_in_progress"] == 0, 30)
        c.config_set("rdb-key-save-delay", "200000")
        assert raw(s, "BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        with pytest.raises(redis.ResponseError, match="Another child process is active"):
            c.execute_command("BGSAVE")
        assert raw(s, "BGSAVE", "SCHEDULE") == b"+Background saving scheduled\r\n"
        c.config_set("rdb-key-save-delay", "0")
        wait_for(lambda: pinfo(c)["aof_rewrite_in_progress"] == 0, 30)
        wait_for(lambda: "Background saving started by pid" in s.log_text().split("rewriting started")[-1], 30)
        wait_for(lambda: pinfo(c)["rdb_bgsave_in_progress"] == 0, 30)
        assert pinfo(c)["rdb_last_bgsave_status"] == "ok"
    finally:
        s.stop()


def test_bgsave_inside_multi_is_scheduled(srv: ServerProcess) -> None:
    c = srv.client()
    c.set("k", "v")
    rc = RawClient(srv.port)
    assert rc.call("MULTI") == b"+OK\r\n"
    assert rc.call("BGSAVE") == b"+QUEUED\r\n"
    assert rc.call("EXEC") == b"*1\r\n+Background saving scheduled\r\n"
    rc.close()
    wait_for(lambda: os.path.exists(dump_path(srv)))
    assert rdb.load_file(dump_path(srv)).data == {0: {b"k": b"v"}}


def test_command_errors_match_redis(real_redis: ServerProcess, server: ServerProcess) -> None:
    diff_replies(real_redis.port, server.port, [
        ("BGSAVE", "foo"),
        ("BGSAVE", "SCHEDULE", "x"),
        ("SAVE", "x"),
        ("LASTSAVE", "x"),
    ])


def test_save_points_trigger_bgsave() -> None:
    s = ServerProcess(args=["--save", "1 2"])
    try:
        c = s.client()
        c.set("a", "1")
        time.sleep(2.5)
        assert not os.path.exists(dump_path(s))  # 1 change < 2
        c.set("b", "2")
        wait_for(lambda: os.path.exists(dump_path(s)), 10)
        assert "2 changes in 1 seconds. Saving..." in s.log_text()
        wait_for(lambda: pinfo(c)["rdb_bgsave_in_progress"] == 0)
        assert rdb.load_file(dump_path(s)).data == {0: {b"a": b"1", b"b": b"2"}}
        assert pinfo(c)["rdb_changes_since_last_save"] == 0
    finally:
        s.stop()


def test_config_set_save_takes_effect(srv: ServerProcess) -> None:
    c = srv.client()
    c.config_set("save", "1 1")
    c.set("x", "y")
    wait_for(lambda: os.path.exists(dump_path(srv)), 10)


def test_sigterm_saves_when_save_points_exist() -> None:
    s = ServerProcess(args=["--save", "3600 1"])
    c = s.client()
    populate(c)
    assert s.stop(signal.SIGTERM) == 0
    res = rdb.load_file(dump_path(s))
    assert sorted(res.data) == [0, 3, 15]
    assert "Saving the final RDB snapshot before exiting." in s.log_text()


def test_sigterm_without_save_points_does_not_save(srv: ServerProcess) -> None:
    srv.client().set("k", "v")
    srv.stop(signal.SIGTERM)
    assert not os.path.exists(dump_path(srv))


def test_shutdown_nosave_and_save() -> None:
    s = ServerProcess(args=["--save", "3600 1"])
    s.client().set("k", "v")
    shutdown(s, "NOSAVE")
    s.proc.wait(10)
    assert not os.path.exists(dump_path(s))
    s.stop()
    s2 = ServerProcess()  # no save points: SHUTDOWN SAVE still saves
    s2.client().set("k", "v")
    shutdown(s2, "SAVE")
    s2.proc.wait(10)
    assert rdb.load_file(dump_path(s2)).data == {0: {b"k": b"v"}}
    s2.stop()


def test_restart_restores_everything() -> None:
    s = ServerProcess(args=["--save", "3600 1"])
    c = s.client()
    populate(c)
    c.set("ttl:k", "v", px=600_000)
    when = c.pexpiretime("ttl:k")
    keys = {}
    for dbid in (0, 3, 15):
        c.execute_command("SELECT", dbid)
        keys[dbid] = sorted(c.keys("*"))
    plain = Plain(s.port)
    values = {}
    for dbid, ks in keys.items():
        c.execute_command("SELECT", dbid)
        plain("SELECT", dbid)
        for k in ks:
            t = c.type(k).decode()
            values[(dbid, k)] = (t, read_value(c, plain, k, t), c.pexpiretime(k))
    plain.close()
    c.close()
    assert s.stop() == 0
    s2 = ServerProcess(cwd=s.dir)
    try:
        c2 = s2.client()
        p2 = Plain(s2.port)
        for (dbid, k), (t, v, exp) in values.items():
            c2.execute_command("SELECT", dbid)
            p2("SELECT", dbid)
            assert c2.type(k).decode() == t
            assert read_value(c2, p2, k, t) == v, k
            assert c2.pexpiretime(k) == exp
        c2.execute_command("SELECT", 0)
        assert c2.pexpiretime("ttl:k") == when
        info = pinfo(c2)
        assert info["rdb_last_load_keys_loaded"] == len(values)
        assert info["rdb_changes_since_last_save"] == 0
        assert "DB loaded from disk" in s2.log_text()
        p2.close()
    finally:
        s2.stop()


def test_flushall_with_save_points_writes_an_empty_dump() -> None:
    s = ServerProcess(args=["--save", "3600 1"])
    try:
        c = s.client()
        c.set("k", "v")
        assert c.save() is True
        assert rdb.load_file(dump_path(s)).data == {0: {b"k": b"v"}}
        c.flushall()
        assert rdb.load_file(dump_path(s)).data == {}
        assert pinfo(c)["rdb_changes_since_last_save"] == 1
    finally:
        s.stop()


def test_flushall_without_save_points_leaves_the_dump(srv: ServerProcess) -> None:
    c = srv.client()
    c.set("k", "v")
    assert c.save() is True
    c.flushall()
    assert rdb.load_file(dump_path(srv)).data == {0: {b"k": b"v"}}


def test_failed_bgsave_sets_misconf_until_a_save_succeeds() -> None:
    s = ServerProcess(args=["--save", "3600 1"])
    try:
        c = s.client()
        os.mkdir(dump_path(s))  # the final rename cannot replace a directory: the save fails
        c.set("k", "v")
        assert raw(s, "BGSAVE") == b"+Background saving started\r\n"
        wait_for(lambda: pinfo(c)["rdb_bgsave_in_progress"] == 0)
        assert pinfo(c)["rdb_last_bgsave_status"] == "err"
        assert "Background saving error" in s.log_text()
        with pytest.raises(redis.ResponseError, match="^MISCONF Redis is configured to save RDB snapshots"):
            c.set("k2", "v")
        assert c.get("k") == b"v"  # reads still work
        assert raw(s, "SAVE") == b"-ERR\r\n"
        c.config_set("stop-writes-on-bgsave-error", "no")
        assert c.set("k2", "v") is True
        c.config_set("stop-writes-on-bgsave-error", "yes")
        os.rmdir(dump_path(s))
        assert c.save() is True
        assert c.set("k3", "v") is True
        assert pinfo(c)["rdb_last_bgsave_status"] == "ok"
        assert not glob.glob(os.path.join(s.dir, "temp-*.rdb"))
    finally:
        s.stop()


def test_shutdown_kills_a_running_bgsave() -> None:
    s = ServerProcess(args=["--rdb-key-save-delay", "1000000"])
    c = s.client()
    for i in range(5):
        c.set(f"k{i}", i)
    assert raw(s, "BGSAVE") == b"+Background saving started\r\n"
    wait_for(lambda: glob.glob(os.path.join(s.dir, "temp-*.rdb")))
    shutdown(s, "NOSAVE")
    assert s.proc.wait(10) == 0
    assert not glob.glob(os.path.join(s.dir, "temp-*.rdb"))
    assert not os.path.exists(dump_path(s))
    assert "There is a child saving an .rdb. Killing it!" in s.log_text()
    s.stop()


def test_dbfilename_and_dir_are_honoured(tmp_path) -> None:
    s = ServerProcess(args=["--dbfilename", "custom.rdb", "--enable-protected-configs", "yes"])
    try:
        c = s.client()
        c.set("k", "v")
        assert c.save() is True
        assert os.path.exists(os.path.join(s.dir, "custom.rdb"))
        c.config_set("dir", str(tmp_path))
        c.config_set("dbfilename", "other.rdb")
        assert c.save() is True
        assert rdb.load_file(str(tmp_path / "other.rdb")).data == {0: {b"k": b"v"}}
    finally:
        s.stop()


def test_functions_survive_a_restart() -> None:
    """Libraries loaded from an RDB are written back by the next save (FUNCTION engine or not)."""
    d = tempfile.mkdtemp(prefix="fastredis-fn-")
    shutil.copy(FIXTURES / "functions.rdb", os.path.join(d, "dump.rdb"))
    os.chmod(os.path.join(d, "dump.rdb"), 0o644)
    s = ServerProcess(cwd=d)
    try:
        assert s.client().save() is True
        res = rdb.load_file(os.path.join(d, "dump.rdb"))
        assert len(res.functions) == 1 and b"name=mylib" in res.functions[0]
        assert res.data == {0: {b"k": b"v"}}
    finally:
        s.stop()


def test_debug_reload() -> None:
    s = ServerProcess(args=["--enable-debug-command", "yes"])
    try:
        c = s.client()
        populate(c)
        c.set("ttl:k", "v", px=600_000)
        when = c.pexpiretime("ttl:k")
        before = sorted(c.keys("*"))
        assert c.execute_command("DEBUG", "RELOAD") == b"OK"
        assert sorted(c.keys("*")) == before
        assert c.pexpiretime("ttl:k") == when
        assert c.xinfo_stream("st")["entries-added"] == 253
        c.set("unsaved", "1")
        assert c.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
        assert c.get("unsaved") is None  # back to the dump the previous RELOAD wrote
        c.set("extra", "1")
        assert c.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == b"OK"
        assert c.get("extra") == b"1" and sorted(c.keys("*")) == sorted(before + [b"extra"])
        with pytest.raises(redis.ResponseError, match="Error trying to load the RDB dump"):
            c.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")  # duplicates without MERGE
    finally:
        s.stop()


def test_loading_replies_and_progress_while_a_big_dump_loads():
    """While a big RDB loads the server answers -LOADING, reports INFO loading:1, then serves the data."""
    import socket

    from conftest import ServerProcess

    srv = ServerProcess(args=["--enable-debug-command", "yes"])
    try:
        r = srv.client()
        r.execute_command("DEBUG", "POPULATE", "400000", "key", "32")
        r.execute_command("SAVE")
        srv.stop()
        srv2 = ServerProcess(args=["--enable-debug-command", "yes"], cwd=srv.dir, port=srv.port, wait=False)
        seen = set()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", srv2.port), timeout=5) as s:
                    s.sendall(b"PING\r\nINFO persistence\r\n")
                    data = b""
                    while b"\r\n" not in data:
                        data += s.recv(65536)
            except OSError:
                time.sleep(0.02)
                continue
            if data.startswith(b"-LOADING Redis is loading the dataset in memory\r\n"):
                seen.add("loading")
            elif data.startswith(b"+PONG"):
                break
            time.sleep(0.02)
        assert "loading" in seen
        assert srv2.client().dbsize() == 400000
        log = srv2.log_text()
        assert "DB loaded from disk" in log
        srv2.stop()
    finally:
        srv.stop()
