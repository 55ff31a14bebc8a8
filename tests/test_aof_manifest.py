"""A defective AOF manifest (or a file it names that is missing) is refused at start-up with
Redis' own log lines and exit code 1: differential against a real redis-server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REDIS_SERVER, free_port

BASE = "file appendonly.aof.1.base.rdb seq 1 type b\n"
CASES = {
    "blank line": BASE + "\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    "unknown type": BASE + "file appendonly.aof.1.incr.aof seq 1 type x\n",
    "non-monotonic": BASE + "file appendonly.aof.1.incr.aof seq 2 type i\nfile appendonly.aof.2.incr.aof seq 1 type i\n",
    "too long": BASE + "file " + "a" * 1100 + " seq 1 type i\n",
    "missing incr": BASE + "file appendonly.aof.7.incr.aof seq 1 type i\n",
    "missing base": "file appendonly.aof.9.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    "empty": "",
    "seq zero": "file appendonly.aof.1.incr.aof seq 0 type i\n",
}

_PREFIX = re.compile(rb"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [#*.-] ", re.M)


def _start(cmd: list[str], tmp: Path, manifest: str) -> tuple[int, list[str]]:
    d = tmp / "appendonlydir"
    d.mkdir(parents=True)
    (d / "appendonly.aof.manifest").write_text(manifest)
    (d / "appendonly.aof.1.base.rdb").write_bytes(b"")
    (d / "appendonly.aof.1.incr.aof").write_bytes(b"*1\r\n$4\r\nPING\r\n")
    (d / "appendonly.aof.2.incr.aof").write_bytes(b"")
    proc = subprocess.run(cmd + ["--port", str(free_port()), "--bind", "127.0.0.1", "--dir", str(tmp),
                                 "--appendonly", "yes", "--save", ""], capture_output=True, timeout=30)
    out = proc.stdout + proc.stderr
    # the warning lines (the ones that explain the refusal), without pid/time prefixes
    text = _PREFIX.sub(b"\x00", out).decode("latin-1")
    return proc.returncode, text.split("\x00")[1:]


def _refusal(lines: list[str]) -> list[str]:
    """From the first line that is about the AOF on."""
    for i, line in enumerate(lines):
        if "AOF" in line:
            return lines[i:]
    return lines


# each case starts two servers: the ones the issue names plus a few of the other refusals
@pytest.mark.parametrize("case", ["blank line", "unknown type", "non-monotonic", "too long", "missing incr",
                                  "missing base", "empty", "seq zero"])
def test_bad_manifest_refused_like_redis(case: str, tmp_path: Path) -> None:
    assert REDIS_SERVER is not None
    theirs_rc, theirs = _start([REDIS_SERVER], tmp_path / "redis", CASES[case])
    ours_rc, ours = _start([sys.executable, "-m", "fastredis"], tmp_path / "ours", CASES[case])
    assert theirs_rc == 1
    assert ours_rc == 1
    assert _refusal(ours) == _refusal(theirs)
