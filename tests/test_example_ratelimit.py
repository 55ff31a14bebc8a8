"""The example module examples/ratelimit.py, loaded into embedded servers (fastredis_factory fixture)."""

from __future__ import annotations

import pytest
import redis
from conftest import ROOT, wait_until

EXAMPLE = str(ROOT / "examples" / "ratelimit.py")


def test_rate_limit_window(fastredis_factory) -> None:
    srv = fastredis_factory(loadmodule=f"{EXAMPLE} 3 60")
    c = srv.client(protocol=2)
    assert c.execute_command("RL.CONFIG") == [b"limit", 3, b"window", 60]
    replies = [c.execute_command("RL.HIT", "user:1") for _ in range(4)]
    assert [r[:2] for r in replies] == [[1, 1], [1, 2], [1, 3], [0, 4]]
    assert all(55_000 < r[2] <= 60_000 for r in replies)
    assert 55_000 < c.pttl("user:1") <= 60_000
    assert c.execute_command("RL.PEEK", "user:1") == 4
    assert c.execute_command("RL.PEEK", "user:2") == 0
    # a per-call limit and window
    assert c.execute_command("RL.HIT", "user:2", "1", "1")[:2] == [1, 1]
    assert c.execute_command("RL.HIT", "user:2", "1", "1")[:2] == [0, 2]
    assert c.execute_command("RL.RESET", "user:1", "user:2", "nokey") == 2
    assert c.execute_command("RL.HIT", "user:1")[:2] == [1, 1]
    with pytest.raises(redis.ResponseError, match="limit and window must be positive integers"):
        c.execute_command("RL.HIT", "user:1", "0")
    # module commands are in SLOWLOG and commandstats like built-in ones
    c.config_set("slowlog-log-slower-than", 0)
    c.execute_command("RL.PEEK", "user:1")
    assert [b"RL.PEEK", b"user:1"] in [e["command"].split() for e in c.slowlog_get(5)]
    assert c.info("commandstats")["cmdstat_rl.hit"]["calls"] == 8
    c.lpush("alist", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        c.execute_command("RL.PEEK", "alist")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        c.execute_command("RL.HIT", "alist")


def test_rate_limit_replicates_without_the_module(fastredis_factory) -> None:
    master = fastredis_factory(loadmodule=EXAMPLE)
    replica = fastredis_factory(replicaof=f"127.0.0.1 {master.port}")
    c = master.client(protocol=2)
    rc = replica.client(protocol=2)
    wait_until(lambda: rc.info("replication")["master_link_status"] == "up")
    c.execute_command("RL.HIT", "k")
    c.execute_command("RL.HIT", "k")
    assert c.execute_command("WAIT", 1, 5000) == 1
    assert rc.get("k") == b"2" and rc.pttl("k") > 50_000


def test_bad_load_arguments_refuse_to_start(fastredis_factory) -> None:
    from fastredis import EmbeddedServerError

    with pytest.raises(EmbeddedServerError, match="failed to load: ReplyError"):
        fastredis_factory(loadmodule=f"{EXAMPLE} ten")


def test_module_commands_obey_acl(fastredis_factory) -> None:
    srv = fastredis_factory(loadmodule=EXAMPLE)
    admin = srv.client(protocol=2)
    admin.execute_command("ACL", "SETUSER", "reader", "on", ">pw", "~*", "+@read")
    admin.execute_command("ACL", "SETUSER", "hitter", "on", ">pw", "~*", "+rl.hit")
    reader = srv.client(protocol=2, username="reader", password="pw")
    assert reader.execute_command("RL.PEEK", "k") == 0  # readonly: in @read
    with pytest.raises(redis.exceptions.NoPermissionError, match="no permissions to run the 'rl.hit' command"):
        reader.execute_command("RL.HIT", "k")
    hitter = srv.client(protocol=2, username="hitter", password="pw")
    # allowed by name; what it call()s runs with the module's authority, as RM_Call without "C"
    assert hitter.execute_command("RL.HIT", "k")[:2] == [1, 1]
    with pytest.raises(redis.exceptions.NoPermissionError):
        hitter.execute_command("RL.PEEK", "k")
