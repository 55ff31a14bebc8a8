"""fastredis.embedded(): a server in a child process, ready when the call returns."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import redis
from conftest import ROOT, free_port
from redis.backoff import NoBackoff
from redis.retry import Retry

import fastredis
from fastredis.embed import EmbeddedServerError


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_handle_serves_and_stop_frees_port_and_files() -> None:
    with fastredis.embedded() as srv:
        assert srv.host == "127.0.0.1" and srv.port > 0 and srv.running
        assert srv.url == f"redis://127.0.0.1:{srv.port}/0"
        # ready when it returns: no retry needed
        c = srv.client(protocol=2)
        assert c.set("k", "v") and c.get("k") == b"v"
        assert redis.Redis.from_url(srv.url).get("k") == b"v"
        assert srv.config["save"] == "" and srv.config["port"] == str(srv.port)
        info = c.info("server")
        assert info["tcp_port"] == srv.port and info["process_id"] == srv.pid != os.getpid()
        workdir = srv.dir
        assert os.path.isdir(workdir)
        c.close()
    assert not srv.running and srv.returncode == 0
    assert port_is_free(srv.port)
    assert not os.path.exists(workdir)
    assert srv.stop() is None  # twice is fine
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=1)


def test_config_keywords_reach_the_server() -> None:
    port = free_port()
    with fastredis.embedded(port=port, appendonly=True, maxmemory="10mb",
                            maxmemory_policy="allkeys-lru", requirepass="s3cret") as srv:
        assert srv.port == port
        assert srv.url == f"redis://:s3cret@127.0.0.1:{port}/0"
        c = srv.client(decode_responses=True)  # the password comes from the config
        assert c.config_get("maxmemory")["maxmemory"] == "10485760"
        assert c.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
        assert c.config_get("appendonly")["appendonly"] == "yes"
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port, password="wrong", retry=Retry(NoBackoff(), 0)).ping()


def test_several_servers_at_once_are_independent() -> None:
    servers = [fastredis.embedded() for _ in range(3)]
    try:
        assert len({s.port for s in servers}) == 3
        assert len({s.dir for s in servers}) == 3
        for i, s in enumerate(servers):
            s.client().set("who", i)
        assert [s.client().get("who") for s in servers] == [b"0", b"1", b"2"]
        servers[1].stop()
        assert servers[0].client().get("who") == b"0" and servers[2].client().get("who") == b"2"
    finally:
        for s in servers:
            s.stop()


def test_port_in_use_fails_at_once() -> None:
    with fastredis.embedded() as srv, pytest.raises(OSError):
        fastredis.embedded(port=srv.port)


def test_bad_config_raises_with_the_servers_error() -> None:
    with pytest.raises(EmbeddedServerError) as e:
        fastredis.embedded(maxmemory_policy="sometimes")
    assert "FATAL CONFIG FILE ERROR" in str(e.value)
    assert "exited with code 1" in str(e.value)


def test_server_crash_leaves_the_caller_running() -> None:
    srv = fastredis.embedded()
    try:
        c = srv.client(retry=Retry(NoBackoff(), 0))
        c.set("k", "v")
        os.kill(srv.pid, signal.SIGKILL)
        deadline = time.time() + 10
        while srv.running and time.time() < deadline:
            time.sleep(0.02)
        assert srv.returncode == -signal.SIGKILL
        with pytest.raises(redis.ConnectionError):
            c.get("k")
        # SHUTDOWN from a client ends the server, not the caller
        with fastredis.embedded() as other:
            other.client(retry=Retry(NoBackoff(), 0)).shutdown(nosave=True)  # redis-py takes the closed connection as success
            deadline = time.time() + 10
            while other.running and time.time() < deadline:
                time.sleep(0.02)
            assert other.returncode == 0
    finally:
        srv.stop()
    assert not os.path.exists(srv.dir)


def test_persistence_in_a_given_dir_survives_a_restart(tmp_path) -> None:
    with fastredis.embedded(dir=str(tmp_path), appendonly="yes", appendfsync="always") as srv:
        srv.client().rpush("l", "a", "b")
    assert (tmp_path / "appendonlydir").is_dir()  # the caller's dir is the caller's: kept
    with fastredis.embedded(dir=str(tmp_path), appendonly="yes") as srv:
        assert srv.client().lrange("l", 0, -1) == [b"a", b"b"]


def test_server_goes_away_when_the_caller_is_killed() -> None:
    code = ("import sys, time, fastredis\n"
            "srv = fastredis.embedded()\n"
            "print(srv.pid, srv.port, srv.dir, flush=True)\n"
            "time.sleep(60)\n")
    caller = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=str(ROOT))
    try:
        assert caller.stdout is not None
        pid_, port_, workdir = caller.stdout.readline().split()
        pid, port = int(pid_), int(port_)
        assert os.path.isdir(workdir)
        assert redis.Redis(port=port).ping()
        caller.kill()
        caller.wait()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            try:  # the server's parent is gone: reap it if it was handed to us (no init)
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the embedded server outlived its caller")
        assert port_is_free(port)
        assert not os.path.exists(workdir)  # the orphaned server removed its folder
    finally:
        caller.kill()
        caller.wait()
