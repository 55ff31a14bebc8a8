"""The AOF is written once per batch of commands, like Redis' aof_buf flushed in beforeSleep.

Writing (and under ``appendfsync always`` fsyncing) after every single command made a
pipeline of 20,000 SETs take minutes on a slow disk.  The file still holds every write
before its reply is sent, which the kill -9 tests of test_aof.py check.
"""

from __future__ import annotations

import os
import socket

import pytest
from conftest import RawClient, ServerProcess, recv_until, wait_until


def write_syscalls(pid: int) -> int:
    """write()-family system calls made by the process so far (socket sends use send())."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("syscw:"):
                return int(line.split()[1])
    raise AssertionError("no syscw in /proc/PID/io")


def incr_file(srv: ServerProcess) -> str:
    d = os.path.join(srv.dir, "appendonlydir")
    (name,) = [n for n in os.listdir(d) if n.endswith(".incr.aof")]
    return os.path.join(d, name)


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
def test_a_pipeline_is_written_in_a_few_writes(policy):
    srv = ServerProcess(args=["--appendonly", "yes", "--appendfsync", policy])
    try:
        n = 2000
        payload = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$1\r\nv\r\n" % (len(b"k%d" % i), i) for i in range(n))
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
            s.sendall(b"PING\r\n")
            assert recv_until(s, b"+PONG\r\n") == b"+PONG\r\n"
            before = write_syscalls(srv.proc.pid)
            s.sendall(payload)
            assert recv_until(s, b"+OK\r\n" * n, timeout=60) == b"+OK\r\n" * n
            after = write_syscalls(srv.proc.pid)
            # every reply came after its command reached the file
            with open(incr_file(srv), "rb") as f:
                data = f.read()
            assert data.count(b"$3\r\nSET\r\n") == n
            assert data.endswith(b"$%d\r\nk%d\r\n$1\r\nv\r\n" % (len(b"k%d" % (n - 1)), n - 1))
        # one write per batch the server read (the 60 KB arrive in a handful of reads), not one per command
        assert after - before < n // 10, after - before
        assert RawClient(srv.port).call("INFO", "persistence").count(b"aof_buffer_length:0\r\n") == 1
    finally:
        srv.stop()


def test_writes_outside_a_batch_are_flushed_too():
    """An expired key's DEL comes from the cron, not from a client's batch: it still reaches the file."""
    srv = ServerProcess(args=["--appendonly", "yes", "--appendfsync", "always"])
    try:
        c = srv.client()
        c.set("gone", "1", px=50)
        def content() -> bytes:
            with open(incr_file(srv), "rb") as f:
                return f.read()

        wait_until(lambda: b"DEL" in content(), timeout=10)
        assert content().endswith(b"*2\r\n$3\r\nDEL\r\n$4\r\ngone\r\n")
    finally:
        srv.stop()
