"""rename-command in the config file: old names gone, new names answer, ACL keeps the table's names."""

from __future__ import annotations

import sys

import pytest
from conftest import REDIS_SERVER, RawClient, ServerProcess

CONF = 'rename-command flushall ""\nrename-command config cfg\nrename-command get GET2\n'

CALLS = [("FLUSHALL",), ("CONFIG", "GET", "maxmemory"), ("CFG", "GET", "maxmemory"), ("SET", "a", "1"),
         ("GET", "a"), ("get2", "a"), ("GeT2", "a"), ("MULTI",), ("GET", "a"), ("EXEC",),
         ("ACL", "SETUSER", "x", "on", "nopass", "~*", "+get"), ("ACL", "DRYRUN", "x", "get", "a"),
         ("COMMAND", "INFO", "get", "get2", "flushall"), ("ACL", "DELUSER", "x")]


def test_renamed_commands_match_redis(tmp_path):
    conf = tmp_path / "r.conf"
    conf.write_text(CONF)
    ours = ServerProcess(cmd=[sys.executable, "-m", "fastredis", str(conf)])
    real = ServerProcess(cmd=[REDIS_SERVER, str(conf)])
    try:
        a, b = RawClient(ours.port), RawClient(real.port)
        for cmd in CALLS:
            ra, rb = a.call(*cmd), b.call(*cmd)
            if cmd[:2] == ("COMMAND", "INFO"):
                assert (ra == b"*3\r\n*-1\r\n") == (rb.startswith(b"*3\r\n*-1\r\n"))
                continue
            assert ra == rb, f"{cmd}: {ra!r} != {rb!r}"
        assert a.call("EVAL", "return redis.call('get2', 'a')", "0") == b"$1\r\n1\r\n"
        a.close()
        b.close()
    finally:
        ours.stop()
        real.stop()


@pytest.mark.parametrize("line,error", [("rename-command nosuch x", "No such command in rename-command"),
                                        ("rename-command get set", "Target command name already exists")])
def test_bad_rename_is_a_config_error(tmp_path, line, error):
    conf = tmp_path / "bad.conf"
    conf.write_text(line + "\n")
    srv = ServerProcess(cmd=[sys.executable, "-m", "fastredis", str(conf)], wait=False)
    assert srv.proc.wait(20) == 1
    log = srv.log_text()
    assert "*** FATAL CONFIG FILE ERROR" in log and error in log and line in log
    srv.stop()
