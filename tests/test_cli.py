"""fastredis-server's command line and start-up options, each through a subprocess.

Fatal configuration errors are compared with what redis-server prints (minus the
version in the banner); runtime options are checked on a live server.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import redis
from conftest import ServerProcess, free_port, recv_until

OURS = [sys.executable, "-m", "fastredis"]


def run(cmd: list[str], args: list[str], cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd + args, capture_output=True, text=True, timeout=30, cwd=cwd)


def norm(text: str) -> str:
    text = re.sub(r"\(Redis [0-9.]+\)", "(Redis x)", text)
    return re.sub(r"^\d+:C \d+ \w+ \d+ [\d:.]+ ", "", text, flags=re.M)


FATAL_CASES = [
    ["--port", "0", "--foo", "bar"],
    ["--port", "0", "--maxmemory", "abc"],
    ["--port", "0", "--save", "10"],
    ["--port", "0", "--replicaof", "127.0.0.1"],
    ["--port", "0", "--replicaof"],
    ["--port", "0", "--appendfsync", "sometimes"],
    ["--port", "0", "--hz", "x"],
    ["--port", "0", "--logfile", "/nonexistent-dir/x.log"],
    ["--port", "0", "--dir", "/nonexistent-dir"],
    ["--port", "0", "--daemonize", "maybe"],
    ["/nonexistent.conf"],
    ["--port", "0", "notanoption"],
]


@pytest.mark.parametrize("args", FATAL_CASES, ids=lambda a: " ".join(a))
def test_fatal_config_errors_like_redis(args):
    real = shutil.which("redis-server")
    assert real is not None
    d = tempfile.mkdtemp(prefix="fastredis-cli-")
    a = run(OURS, args, d)
    b = run([real], args, d)
    assert a.returncode == 1 == b.returncode
    assert norm(a.stderr) == norm(b.stderr)
    assert norm(a.stdout) == norm(b.stdout)


def test_bad_line_in_config_file_like_redis():
    real = shutil.which("redis-server")
    assert real is not None
    d = tempfile.mkdtemp(prefix="fastredis-cli-")
    conf = os.path.join(d, "bad.conf")
    with open(conf, "w") as f:
        f.write("# comment\nport 0\n\nmaxmemory-policy sometimes\n")
    a = run(OURS, [conf], d)
    b = run([real], [conf], d)
    assert a.returncode == b.returncode == 1
    assert norm(a.stderr) == norm(b.stderr)
    assert "at line 4" in a.stderr and ">>> 'maxmemory-policy sometimes'" in a.stderr


def test_version_and_help():
    d = tempfile.mkdtemp()
    out = run(OURS, ["-v"], d)
    assert out.returncode == 0 and out.stdout.startswith("Redis server v=7.2.4 ")
    out = run(OURS, ["--help"], d)
    assert out.returncode == 1 and "Usage:" in out.stderr


def test_config_file_then_options_override():
    d = tempfile.mkdtemp(prefix="fastredis-cli-")
    conf = os.path.join(d, "redis.conf")
    with open(conf, "w") as f:
        f.write("maxmemory 1mb\ntimeout 30\nsave 100 1\nsave 200 2\nhash-max-ziplist-entries 64\n")
    port = free_port()
    s = ServerProcess(cmd=OURS + [conf], cwd=d, port=port, args=["--timeout", "40", "--save", "300 3"])
    try:
        c = s.client()
        assert c.config_get("maxmemory") == {"maxmemory": "1048576"}
        assert c.config_get("timeout") == {"timeout": "40"}
        # ServerProcess passes --save "" first; "--save 300 3" after it replaces the file's points
        assert c.config_get("save") == {"save": "300 3"}
        assert c.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "64"}
        assert c.info("server")["config_file"] == conf
    finally:
        s.stop()


@pytest.mark.parametrize("line", ["save", "save ", "SAVE\t"])
def test_bare_save_line_is_save_empty(line):
    """Redis 7.2 reads a ``save`` line without arguments as ``save ""`` (no save points)."""
    from fastredis.config import Config

    cfg = Config()
    cfg.load_text(f"save 900 1\n{line}\nmaxmemory 1mb\n")
    assert cfg.render("save") == "" and cfg["maxmemory"] == 1048576
    cfg.load_text(f"{line}\nsave 60 5\n")
    assert cfg.render("save") == "60 5"


def test_server_starts_with_bare_save_line():
    d = tempfile.mkdtemp(prefix="fastredis-cli-")
    conf = os.path.join(d, "redis.conf")
    with open(conf, "w") as f:
        f.write("save 900 1\nsave \ntimeout 7\n")
    s = ServerProcess(cmd=OURS + [conf], cwd=d)
    try:
        assert s.client().config_get("timeout") == {"timeout": "7"}
    finally:
        s.stop()


@pytest.mark.parametrize("line", ["include {d}/missing.conf", "rename-command", "rename-command get",
                                  'save "" 100 1', 'save 100 1 ""'])
def test_config_file_edge_lines_like_redis(line):
    real = shutil.which("redis-server")
    assert real is not None
    d = tempfile.mkdtemp(prefix="fastredis-cli-")
    conf = os.path.join(d, "edge.conf")
    with open(conf, "w") as f:
        f.write(line.replace("{d}", d) + "\n")
    a = run(OURS, [conf], d)
    b = run([real], [conf], d)
    assert a.returncode == b.returncode == 1
    assert norm(a.stderr + a.stdout) == norm(b.stderr + b.stdout)
    assert "Traceback" not in a.stderr


def test_include_glob():
    """``include`` with a glob reads every match in name order; a glob matching nothing is no error."""
    d = tempfile.mkdtemp(prefix="fastredis-cli-")
    for name, text in (("b-1.conf", "maxmemory 5mb\ntimeout 3\n"), ("b-2.conf", "timeout 9\n")):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    conf = os.path.join(d, "main.conf")
    with open(conf, "w") as f:
        f.write(f"include {d}/b-*.conf\ninclude {d}/none-*.conf\n")
    s = ServerProcess(cmd=OURS + [conf], cwd=d)
    try:
        c = s.client()
        assert c.config_get("maxmemory") == {"maxmemory": "5242880"}
        assert c.config_get("timeout") == {"timeout": "9"}
    finally:
        s.stop()


@pytest.mark.parametrize("form", [["--replicaof", "127.0.0.1 {p}"], ["--replicaof", "127.0.0.1", "{p}"],
                                  ["--slaveof", "127.0.0.1", "{p}"]])
def test_replicaof_one_or_two_arguments(form):
    dead = free_port()
    args = [a.replace("{p}", str(dead)) for a in form]
    s = ServerProcess(args=args)
    try:
        c = s.client()
        assert c.config_get("replicaof") == {"replicaof": f"127.0.0.1 {dead}"}
        assert c.info("replication")["role"] == "slave"
    finally:
        s.stop()


def test_timeout_closes_idle_clients():
    s = ServerProcess(args=["--timeout", "1"])
    try:
        idle = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        idle.sendall(b"PING\r\n")
        assert recv_until(idle, b"+PONG\r\n") == b"+PONG\r\n"
        sub = s.client()
        p = sub.pubsub()
        p.subscribe("keepme")
        p.get_message(timeout=10)
        time.sleep(2.6)
        idle.settimeout(10)  # the cron checks timeouts once a second; a loaded machine may run it late
        assert idle.recv(10) == b""  # closed by the server
        assert p.connection is not None
        p.ping()
        msg = p.get_message(timeout=10)
        assert msg is not None  # subscribers are never timed out
        assert s.client().config_get("timeout") == {"timeout": "1"}
        p.close()
    finally:
        s.stop()


def test_maxclients():
    s = ServerProcess(args=["--maxclients", "2"])
    try:
        a = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        b = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        a.sendall(b"PING\r\n")
        b.sendall(b"PING\r\n")
        assert recv_until(a, b"\r\n") == b"+PONG\r\n"
        assert recv_until(b, b"\r\n") == b"+PONG\r\n"
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        assert recv_until(c, b"\r\n") == b"-ERR max number of clients reached\r\n"
        a.sendall(b"INFO stats\r\n")
        assert b"rejected_connections:1\r\n" in recv_until(a, b"\r\n\r\n")
        for x in (a, b, c):
            x.close()
    finally:
        s.stop()


def test_requirepass_with_auth_and_hello():
    s = ServerProcess(args=["--requirepass", "s3cret"])
    try:
        c = redis.Redis(port=s.port, protocol=2)
        with pytest.raises(redis.AuthenticationError):
            c.ping()
        raw = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        raw.sendall(b"GET k\r\n")
        assert recv_until(raw, b"\r\n") == b"-NOAUTH Authentication required.\r\n"
        raw.sendall(b"AUTH wrong\r\n")
        assert recv_until(raw, b"\r\n") == (b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        raw.sendall(b"AUTH s3cret\r\nPING\r\n")
        assert recv_until(raw, b"+PONG\r\n") == b"+OK\r\n+PONG\r\n"
        raw.close()
        ok = redis.Redis(port=s.port, password="s3cret", protocol=3)
        assert ok.ping() is True
        assert ok.config_get("requirepass") == {"requirepass": "s3cret"}
        raw = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        raw.sendall(b"HELLO 3 AUTH default s3cret\r\n")
        assert recv_until(raw, b"\r\n").startswith(b"%7\r\n")
        raw.close()
    finally:
        s.stop()


def test_logfile_and_loglevel():
    d = tempfile.mkdtemp(prefix="fastredis-log-")
    logfile = os.path.join(d, "my.log")
    s = ServerProcess(cwd=d, args=["--logfile", logfile, "--loglevel", "verbose"])
    try:
        c = s.client()
        c.ping()
        text = open(logfile).read()
        assert "Ready to accept connections tcp" in text
        assert re.search(r"^\d+:M \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} \* ", text, re.M)
        c.config_set("loglevel", "warning")
        size = os.path.getsize(logfile)
        c.save()
        assert os.path.getsize(logfile) == size  # notice lines are filtered now
        assert c.config_get("logfile") == {"logfile": logfile}
    finally:
        s.stop()
    assert "bye bye" in open(logfile).read()


def test_bind_failure_exits_1():
    d = tempfile.mkdtemp()
    port = free_port()
    out = subprocess.run(OURS + ["--port", str(port), "--bind", "10.255.255.1"], capture_output=True, text=True,
                         timeout=30, cwd=d)
    assert out.returncode == 1
    assert (f"Could not create server TCP listening socket 10.255.255.1:{port}: bind: Cannot assign requested "
            "address") in out.stdout
    assert f"Failed listening on port {port} (TCP), aborting." in out.stdout


def test_bind_loopback_only():
    s = ServerProcess(args=["--bind", "127.0.0.1"])
    try:
        assert s.client().config_get("bind") == {"bind": "127.0.0.1"}
        listener = s.client().info("server")["listener0"]
        assert listener == {"name": "tcp", "bind": "127.0.0.1", "port": s.port}
    finally:
        s.stop()


def test_dir_option():
    d = tempfile.mkdtemp(prefix="fastredis-dir-")
    data = os.path.join(d, "data")
    os.mkdir(data)
    s = ServerProcess(cwd=d, args=["--dir", data])
    try:
        c = s.client()
        assert os.path.realpath(c.config_get("dir")["dir"]) == os.path.realpath(data)
        c.set("k", "v")
        c.save()
        assert os.path.exists(os.path.join(data, "dump.rdb"))
    finally:
        s.stop()
