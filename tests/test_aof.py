"""Append-only file: multi-part layout, fsync policies, kill -9, rewrite, truncated tails, old-style files."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis
from conftest import SHARED, RawClient, ServerProcess, free_port, wait_until


def aof_dir(srv: ServerProcess) -> str:
    return os.path.join(srv.dir, "appendonlydir")


def manifest(srv: ServerProcess) -> list[str]:
    with open(os.path.join(aof_dir(srv), "appendonly.aof.manifest")) as f:
        return f.read().splitlines()


def restart(srv: ServerProcess, args: list[str], sig: int = signal.SIGTERM) -> ServerProcess:
    srv.stop(sig)
    return ServerProcess(args=args, cwd=srv.dir, port=srv.port)


def test_appendonly_roundtrip_and_layout():
    args = ["--appendonly", "yes"]
    srv = ServerProcess(args=args)
    try:
        r = srv.client()
        r.set("a", "1")
        r.rpush("l", "x", "y")
        r.set("ttl", "v", ex=1000)
        r.execute_command("SELECT", 2)
        r.hset("h", "f", "v")
        lines = manifest(srv)
        assert lines[0] == "file appendonly.aof.1.base.rdb seq 1 type b"
        assert lines[1] == "file appendonly.aof.1.incr.aof seq 1 type i"
        with open(os.path.join(aof_dir(srv), "appendonly.aof.1.incr.aof"), "rb") as f:
            incr = f.read()
        # relative expiries are logged as absolute ones, SELECT precedes the db switch
        assert b"PXAT" in incr or b"PEXPIREAT" in incr
        assert b"$6\r\nSELECT\r\n$1\r\n2\r\n" in incr
        srv = restart(srv, args)
        r = srv.client()
        assert r.get("a") == b"1"
        assert r.lrange("l", 0, -1) == [b"x", b"y"]
        assert 990_000 < r.pttl("ttl") <= 1_000_000
        assert redis.Redis(port=srv.port, db=2, protocol=2).hget("h", "f") == b"v"
    finally:
        srv.stop()


def test_aof_wins_over_rdb():
    srv = ServerProcess(args=["--appendonly", "yes"])
    try:
        r = srv.client()
        r.set("from", "aof")
        # an RDB with other content sits beside it
        r.execute_command("SAVE")
        r.set("from", "aof2")
        srv = restart(srv, ["--appendonly", "yes", "--dbfilename", "dump.rdb"])
        assert srv.client().get("from") == b"aof2"
    finally:
        srv.stop()


def test_always_fsync_survives_kill9():
    args = ["--appendonly", "yes", "--appendfsync", "always"]
    srv = ServerProcess(args=args)
    acked: list[int] = []
    stop = threading.Event()

    def writer():
        c = redis.Redis(port=srv.port, protocol=2, socket_timeout=5)
        i = 0
        while not stop.is_set():
            try:
                c.set(f"k{i}", i)
            except (redis.ConnectionError, redis.TimeoutError):
                return
            acked.append(i)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(1.0)
    srv.proc.send_signal(signal.SIGKILL)
    stop.set()
    t.join(5)
    srv.proc.wait(5)
    assert acked, "no write was acknowledged"
    srv2 = ServerProcess(args=args, cwd=srv.dir, port=srv.port)
    try:
        r = srv2.client()
        missing = [i for i in acked if r.get(f"k{i}") != str(i).encode()]
        assert missing == []
    finally:
        srv2.stop()


def test_bgrewriteaof_rotates_files_and_keeps_data():
    args = ["--appendonly", "yes"]
    srv = ServerProcess(args=args)
    try:
        r = srv.client()
        for i in range(200):
            r.set(f"k{i}", i)
        r.incr("counter")
        assert RawClient(srv.port).call("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        deadline = time.time() + 10
        while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the cron picks up the child
        deadline = time.time() + 10
        while "appendonly.aof.2.base.rdb" not in manifest(srv)[0] and time.time() < deadline:
            time.sleep(0.05)
        lines = manifest(srv)
        assert lines == ["file appendonly.aof.2.base.rdb seq 2 type b",
                         "file appendonly.aof.2.incr.aof seq 2 type i"]
        files = sorted(os.listdir(aof_dir(srv)))
        assert files == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]
        r.incr("counter")
        assert r.info("persistence")["aof_rewrites"] == 1
        srv = restart(srv, args, signal.SIGKILL)
        r = srv.client()
        assert r.get("k199") == b"199"
        assert r.get("counter") == b"2"
    finally:
        srv.stop()


def _truncate_tail(srv: ServerProcess) -> None:
    path = os.path.join(aof_dir(srv), "appendonly.aof.1.incr.aof")
    with open(path, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$")  # torn write


def test_truncated_tail_loaded_when_allowed():
    args = ["--appendonly", "yes"]
    srv = ServerProcess(args=args)
    srv.client().set("good", "1")
    srv.stop(signal.SIGKILL)
    _truncate_tail(srv)
    srv2 = ServerProcess(args=args + ["--aof-load-truncated", "yes"], cwd=srv.dir, port=srv.port)
    try:
        assert srv2.client().get("good") == b"1"
        assert "short read while loading the AOF file" in srv2.log_text()
    finally:
        srv2.stop()


def test_truncated_tail_refused_when_not_allowed():
    args = ["--appendonly", "yes"]
    srv = ServerProcess(args=args)
    srv.client().set("good", "1")
    srv.stop(signal.SIGKILL)
    _truncate_tail(srv)
    port = free_port()
    proc = subprocess.run([sys.executable, "-m", "fastredis", "--port", str(port), "--dir", srv.dir,
                           "--appendonly", "yes", "--aof-load-truncated", "no", "--save", ""],
                          capture_output=True, timeout=30, cwd=srv.dir)
    assert proc.returncode == 1
    assert b"Unexpected end of file reading the append only file" in proc.stdout + proc.stderr


def test_old_style_rdb_preamble_aof_is_upgraded(tmp_path):
    shutil.copy(SHARED / "rdb" / "rdb-preamble.aof", tmp_path / "appendonly.aof")
    srv = ServerProcess(args=["--appendonly", "yes"], cwd=str(tmp_path))
    try:
        r = srv.client()
        assert {k: r.get(k) for k in (b"k1", b"k2", b"k3")} == {b"k1": b"v1", b"k2": b"v2", b"k3": b"v3"}
        assert os.path.exists(tmp_path / "appendonlydir" / "appendonly.aof.manifest")
        assert not os.path.exists(tmp_path / "appendonly.aof")
    finally:
        srv.stop()


def test_config_set_appendonly_at_runtime():
    srv = ServerProcess()
    try:
        r = srv.client()
        r.set("before", "1")
        r.config_set("appendonly", "yes")
        r.set("after", "2")
        assert r.info("persistence")["aof_enabled"] == 1
        srv = restart(srv, ["--appendonly", "yes"], signal.SIGKILL)
        r = srv.client()
        assert r.get("before") == b"1" and r.get("after") == b"2"
    finally:
        srv.stop()


def test_corrupt_manifest_refused(tmp_path):
    d = tmp_path / "appendonlydir"
    d.mkdir()
    (d / "appendonly.aof.manifest").write_text("file x seq\n")
    port = free_port()
    proc = subprocess.run([sys.executable, "-m", "fastredis", "--port", str(port), "--dir", str(tmp_path),
                           "--appendonly", "yes", "--save", ""], capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert b"Invalid AOF manifest file format" in proc.stdout + proc.stderr


@pytest.mark.parametrize("policy", ["everysec", "no"])
def test_fsync_policies_persist_on_clean_shutdown(policy):
    args = ["--appendonly", "yes", "--appendfsync", policy]
    srv = ServerProcess(args=args)
    try:
        srv.client().set("p", policy)
        srv = restart(srv, args)
        assert srv.client().get("p") == policy.encode()
    finally:
        srv.stop()


def test_disk_full_refuses_writes_keeps_reads(tmp_path):
    """A write error on the AOF (file size limit standing in for a full disk) turns writes into MISCONF."""
    import resource

    port = free_port()
    limit = 64 * 1024

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "fastredis", "--port", str(port), "--dir", str(tmp_path),
                             "--appendonly", "yes", "--save", ""], stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=small_disk)
    try:
        from conftest import wait_for_port

        wait_for_port(port, proc)
        r = redis.Redis(port=port, protocol=2)
        r.set("keep", "me")
        err = None
        for i in range(200):
            try:
                r.set(f"fill{i}", "x" * 1000)
            except redis.ResponseError as e:
                err = str(e)
                break
        assert err is not None and err.startswith("MISCONF Errors writing to the AOF file")
        assert r.get("keep") == b"me"
        with pytest.raises(redis.ResponseError, match="MISCONF"):
            r.set("more", "x")
        assert proc.poll() is None
        assert r.info("persistence")["aof_last_write_status"] == "err"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_kill9_during_bgrewriteaof_loses_nothing(delay):
    args = ["--appendonly", "yes", "--appendfsync", "always"]
    srv = ServerProcess(args=args)
    r = srv.client()
    p = r.pipeline(transaction=False)
    for i in range(20000):
        p.set(f"k{i}", i)
    p.execute()
    RawClient(srv.port).call("BGREWRITEAOF")
    for i in range(20000, 20200):
        r.set(f"k{i}", i)
    time.sleep(delay)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(5)
    srv2 = ServerProcess(args=args, cwd=srv.dir, port=srv.port)
    try:
        c = srv2.client()
        assert c.dbsize() == 20200
        assert c.get("k20199") == b"20199" and c.get("k0") == b"0"
    finally:
        srv2.stop()


def test_orphaned_rewrite_child_does_not_hold_the_port():
    """kill -9 during BGREWRITEAOF leaves the child writing: it must not keep the listening socket
    (as Redis closes it after fork), or a restart on the same port fails with "Address already in use"."""
    args = ["--appendonly", "yes", "--enable-debug-command", "yes"]
    srv = ServerProcess(args=args)
    child = None
    try:
        r = srv.client()
        r.execute_command("DEBUG", "POPULATE", "200000")
        RawClient(srv.port).call("BGREWRITEAOF")
        child = int(wait_until(lambda: subprocess.run(["pgrep", "-P", str(srv.proc.pid)], capture_output=True,
                                                      text=True).stdout.split(), interval=0.005)[0])
        time.sleep(0.05)
        try:
            os.kill(child, signal.SIGSTOP)  # the child stays alive (holding what it holds) until the end
        except ProcessLookupError:
            child = None
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(10)
        srv.log.close()
        srv = ServerProcess(args=args, cwd=srv.dir, port=srv.port)
        assert srv.client().ping()
    finally:
        if child is not None:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        srv.stop()


def test_killed_rewrite_child_keeps_the_old_files():
    args = ["--appendonly", "yes"]
    srv = ServerProcess(args=args)
    try:
        r = srv.client()
        p = r.pipeline(transaction=False)
        for i in range(50000):
            p.set(f"k{i}", "x" * 20)
        p.execute()
        RawClient(srv.port).call("BGREWRITEAOF")
        child = None
        for _ in range(100):
            out = subprocess.run(["pgrep", "-P", str(srv.proc.pid)], capture_output=True, text=True).stdout.split()
            if out:
                child = int(out[0])
                break
            time.sleep(0.01)
        if child is not None:
            os.kill(child, signal.SIGKILL)
        deadline = time.time() + 10
        while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
            time.sleep(0.05)
        r.set("after", "1")
        assert r.info("persistence")["aof_rewrite_in_progress"] == 0
        srv = restart(srv, args, signal.SIGKILL)
        c = srv.client()
        assert c.dbsize() == 50001
        assert not [f for f in os.listdir(aof_dir(srv)) if f.startswith("temp-")]
    finally:
        srv.stop()
