"""Long scripts: -BUSY for other clients past busy-reply-threshold, SCRIPT/FUNCTION KILL, SHUTDOWN NOSAVE."""

from __future__ import annotations

import time

import pytest
from conftest import REDIS_SERVER, RawClient, ServerProcess

LOOP = "local i = 0 while true do i = i + 1 end"
LOOP_AFTER_WRITE = "redis.call('set', 'w', '1') local i = 0 while true do i = i + 1 end"
FLIB = ("#!lua name=busylib\nredis.register_function('spin', function() local i = 0 while true do i = i + 1 end "
        "end)")


def _servers():
    ours = ServerProcess(args=["--busy-reply-threshold", "100"])
    real = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no", "--busy-reply-threshold", "100"])
    return ours, real


def _busy_session(port: int, script: list, kill: tuple) -> list[bytes]:
    """Start a runaway script on one connection, probe from others, kill it; the replies seen."""
    runner, other = RawClient(port, timeout=10), RawClient(port, timeout=10)
    out = []
    try:
        other.call("FUNCTION", "LOAD", "REPLACE", FLIB)
        runner.send(*script)
        time.sleep(0.05)
        for _ in range(100):  # answered once the script runs past the threshold
            probe = other.call("GET", "x")
            if probe.startswith(b"-BUSY"):
                break
            time.sleep(0.02)
        out.append(probe)
        fresh = RawClient(port, timeout=10)  # connected while the script runs
        out.append(fresh.call("PING"))
        fresh.close()
        out.append(other.call("NOSUCHCOMMAND"))
        out.append(other.call("FUNCTION", "KILL" if kill[0] == "SCRIPT" else "STATS").split(b"\r\n")[0])
        out.append(other.call("SHUTDOWN"))
        out.append(other.call(*kill))
        out.append(runner.read_reply())
        out.append(other.call("PING"))
        out.append(runner.call("PING"))
    finally:
        runner.close()
        other.close()
    return out


@pytest.mark.timeout(60)
def test_busy_and_kill_match_redis():
    ours, real = _servers()
    try:
        for script, kill in (((("EVAL", LOOP, "0")), ("SCRIPT", "KILL")),
                             ((("FCALL", "spin", "0")), ("FUNCTION", "KILL"))):
            a = _busy_session(ours.port, list(script), kill)
            b = _busy_session(real.port, list(script), kill)
            assert a == b
            assert a[0].startswith(b"-BUSY")
    finally:
        ours.stop()
        real.stop()


@pytest.mark.timeout(60)
def test_unkillable_then_shutdown_nosave():
    srv = ServerProcess(args=["--busy-reply-threshold", "100"])
    try:
        runner, other = RawClient(srv.port, timeout=10), RawClient(srv.port, timeout=10)
        assert other.call("PING") == b"+PONG\r\n"
        runner.send("EVAL", LOOP_AFTER_WRITE, "0")
        time.sleep(0.4)
        assert other.call("SCRIPT", "KILL") == (
            b"-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either "
            b"wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n")
        assert other.call("FUNCTION", "KILL").startswith(b"-UNKILLABLE")
        other.send("SHUTDOWN", "NOSAVE")
        deadline = time.time() + 10
        while time.time() < deadline and srv.alive():
            time.sleep(0.05)
        assert not srv.alive()
    finally:
        srv.stop()


def test_fast_scripts_are_not_interrupted(r):
    # a script under the threshold runs to the end and nobody sees BUSY
    assert r.eval("local s = 0 for i = 1, 300000 do s = s + i end return s", 0) == 45000150000
