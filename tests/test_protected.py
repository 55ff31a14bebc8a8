"""Protected mode, tested from a non-loopback address inside a network namespace the test creates.

``unshare -n`` gives the test its own network stack with only a loopback device; the test adds a
10.x address to that device, so the server sees a non-loopback peer while no packet leaves it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import REDIS_SERVER

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDR = "10.200.0.1"

SCRIPT = r"""
set -e
ip link set lo up
ip addr add {addr}/32 dev lo
{server} --port 7777 --bind {addr} 127.0.0.1 --save '' --appendonly no --dir {dir} {args} >{dir}/log 2>&1 &
pid=$!
for i in $(seq 1 200); do redis-cli -h 127.0.0.1 -p 7777 ping >/dev/null 2>&1 && break; sleep 0.05; done
echo "REMOTE: $(redis-cli -h {addr} -p 7777 ping 2>&1)"
echo "LOCAL: $(redis-cli -h 127.0.0.1 -p 7777 ping 2>&1)"
echo "STATS: $(redis-cli -h 127.0.0.1 -p 7777 info stats | grep rejected_connections)"
{after}
kill $pid; wait $pid || true
"""


def in_namespace(server: list[str], tmp_path, args: str = "", after: str = "") -> str:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("unshare and ip (util-linux, iproute2) are needed for the protected-mode test")
    script = SCRIPT.format(addr=ADDR, server=" ".join(server), dir=tmp_path, args=args, after=after)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True, timeout=120,
                         env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


FASTREDIS = [sys.executable, "-m", "fastredis"]


def test_protected_mode_refuses_non_loopback_peers_like_redis(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ours = in_namespace(FASTREDIS, tmp_path / "a")
    real = in_namespace([REDIS_SERVER], tmp_path / "b")
    # 7.2 fixed 7.0's "4) Setup a an authentication password" (the reference binary is 7.0)
    assert ours == real.replace("4) Setup a an authentication", "4) Set up an authentication")
    assert "REMOTE: DENIED Redis is running in protected mode" in ours
    assert "LOCAL: PONG" in ours and "rejected_connections:1" in ours


@pytest.mark.parametrize("args", ["--protected-mode no", "--requirepass secret"])
def test_protected_mode_off_or_password_set(tmp_path, args):
    out = in_namespace(FASTREDIS, tmp_path, args)
    remote = out.split("REMOTE: ", 1)[1].split("\n", 1)[0]
    assert remote in ("PONG", "NOAUTH Authentication required.")
    assert "DENIED" not in out


def test_protected_mode_follows_config_set(tmp_path):
    after = (f'redis-cli -h 127.0.0.1 -p 7777 config set protected-mode no >/dev/null; '
             f'echo "AFTER: $(redis-cli -h {ADDR} -p 7777 ping 2>&1)"')
    out = in_namespace(FASTREDIS, tmp_path, after=after)
    assert "REMOTE: DENIED" in out and "AFTER: PONG" in out
