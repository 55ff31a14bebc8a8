"""Secrets never reach MONITOR or SLOWLOG: AUTH, HELLO AUTH, ACL SETUSER, CONFIG SET of a sensitive config.

Compared with a real redis-server: the same commands, the same MONITOR lines (minus time and
address) and the same SLOWLOG argument lists.
"""

from __future__ import annotations

import re

import pytest
from conftest import REDIS_SERVER, RawClient, ServerProcess, wait_until

COMMANDS = [
    ("AUTH", "default", "hunter2"),
    ("AUTH", "hunter2"),
    ("HELLO", "2", "AUTH", "default", "hunter2", "SETNAME", "n"),
    ("ACL", "SETUSER", "someone", "on", ">hunter2"),
    ("CONFIG", "SET", "masterauth", "hunter2"),
    ("CONFIG", "SET", "maxmemory-policy", "noeviction", "requirepass", ""),
    ("SET", "visible", "value"),
]


@pytest.fixture(scope="module")
def servers():
    ours = ServerProcess()
    real = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no"])
    yield ours, real
    ours.stop()
    real.stop()


def _monitor_lines(port: int) -> tuple[list[str], list]:
    mon = RawClient(port)
    assert mon.call("MONITOR") == b"+OK\r\n"
    c = RawClient(port)
    c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.call("SLOWLOG", "RESET")
    for cmd in COMMANDS:
        c.call(*cmd)
    c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    raw = b""
    mon.sock.settimeout(5)

    def complete() -> bool:
        nonlocal raw
        if mon.has_reply(0.1):
            raw += mon.sock.recv(65536)
        return b'"SET" "visible" "value"' in raw

    wait_until(complete)
    lines = [re.sub(r"^\+[0-9.]+ \[0 [^\]]+\] ", "", ln) for ln in raw.decode().split("\r\n") if ln]
    import hiredis

    log = hiredis.Reader()
    log.feed(c.call("SLOWLOG", "GET", "100"))
    entries = [e[3] for e in log.gets()]
    c.call("ACL", "DELUSER", "someone")
    c.call("CONFIG", "SET", "masterauth", "")
    mon.close()
    c.close()
    return lines, entries


def test_monitor_and_slowlog_redact_like_redis(servers):
    ours, real = servers
    mon_a, slow_a = _monitor_lines(ours.port)
    mon_b, slow_b = _monitor_lines(real.port)
    # MONITOR: identical lines (admin commands, ACL and CONFIG, are not fed to it at all)
    assert mon_a == mon_b
    assert all("hunter2" not in x for x in mon_a)
    assert '"AUTH" "(redacted)" "(redacted)"' in mon_a
    # SLOWLOG: every entry both servers logged is the same; no secret anywhere
    assert all(b"hunter2" not in a for e in slow_a for a in e)
    common = [e for e in slow_b if e[0].lower() not in (b"auth", b"hello", b"slowlog")]
    ours_common = [e for e in slow_a if e[0].lower() not in (b"auth", b"hello", b"slowlog")]
    assert ours_common == common
