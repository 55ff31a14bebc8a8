"""INFO: sections, field names (against redis-server), formats, RESP3 verbatim, stats resets."""

from __future__ import annotations

import re
import shutil
import subprocess

from conftest import RawClient

from fastredis import info as info_mod

DEFAULT_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
                    "errorstats", "cluster", "keyspace"]
ALL_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules",
                "commandstats", "errorstats", "latencystats", "cluster", "keyspace"]

# fields Redis 7.2 has that 7.0 (the reference binary here) lacks
FIELDS_72 = {
    "clients": {"pubsub_clients", "watching_clients", "total_watched_keys", "total_blocking_keys",
                "total_blocking_keys_on_nokey"},
    "stats": {"client_query_buffer_limit_disconnections", "client_output_buffer_limit_disconnections",
              "eventloop_cycles", "eventloop_duration_sum", "eventloop_duration_cmd_sum",
              "instantaneous_eventloop_cycles_per_sec", "instantaneous_eventloop_duration_usec",
              "acl_access_denied_auth", "acl_access_denied_cmd", "acl_access_denied_key",
              "acl_access_denied_channel"},
    "server": {"listener0"},
}


def raw_info(port: int, *sections: str, resp: int = 2) -> bytes:
    c = RawClient(port, resp)
    try:
        return c.call("INFO", *sections)
    finally:
        c.close()


def headers(text: str) -> list[str]:
    return [line[2:].lower() for line in text.split("\r\n") if line.startswith("# ")]


def body(reply: bytes) -> str:
    """The text of a RESP2 bulk or RESP3 verbatim INFO reply."""
    head, rest = reply.split(b"\r\n", 1)
    n = int(head[1:])
    data = rest[:n]
    if reply[:1] == b"=":
        assert data[:4] == b"txt:"
        data = data[4:]
    return data.decode()


def test_default_sections_in_order(server):
    text = body(raw_info(server.port))
    assert headers(text) == DEFAULT_SECTIONS
    assert text.startswith("# Server\r\nredis_version:7.2.4\r\n")
    assert text.endswith("\r\n") and not text.endswith("\r\n\r\n")
    # sections are separated by exactly one empty line
    assert "\r\n\r\n# Clients\r\n" in text


def test_all_everything_default_and_several(server):
    assert headers(body(raw_info(server.port, "all"))) == ALL_SECTIONS
    assert headers(body(raw_info(server.port, "everything"))) == ALL_SECTIONS
    assert headers(body(raw_info(server.port, "default"))) == DEFAULT_SECTIONS
    assert headers(body(raw_info(server.port, "CPU", "server", "keyspace"))) == ["server", "cpu", "keyspace"]
    assert headers(body(raw_info(server.port, "default", "commandstats"))) == [
        "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats",
        "errorstats", "cluster", "keyspace"]


def test_unknown_section_is_empty(server):
    assert raw_info(server.port, "nosuchsection") == b"$0\r\n\r\n"
    assert raw_info(server.port, "nosuchsection", resp=3) == b"=4\r\ntxt:\r\n"


def test_resp3_verbatim_matches_redis(server, real_redis):
    ours = raw_info(server.port, "cluster", resp=3)
    real = raw_info(real_redis.port, "cluster", resp=3)
    assert ours == real == b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"


def test_field_names_superset_of_redis(server, real_redis):
    ours = info_mod.parse(body(raw_info(server.port, "everything")))
    real = info_mod.parse(body(raw_info(real_redis.port, "everything")))
    for section in ("server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster"):
        missing = set(real[section]) - set(ours[section])
        missing -= {"redis_build_id"} if section == "server" else set()
        assert not missing, f"{section}: {sorted(missing)}"
        extra = set(ours[section]) - set(real[section]) - FIELDS_72.get(section, set())
        assert not extra, f"{section}: {sorted(extra)}"


def test_field_order_matches_redis(server, real_redis):
    ours = info_mod.parse(body(raw_info(server.port, "default")))
    real = info_mod.parse(body(raw_info(real_redis.port, "default")))
    for section in ("memory", "persistence", "stats", "cpu"):
        common = [k for k in real[section] if k in ours[section]]
        assert [k for k in ours[section] if k in common] == common, section


def test_redis_py_parses_info(r):
    r.set("k", "v")
    r.set("e", "v", ex=100)
    i = r.info()
    assert i["redis_version"] == "7.2.4"
    assert i["role"] == "master"
    assert i["db0"] == {"keys": 2, "expires": 1, "avg_ttl": i["db0"]["avg_ttl"]}
    assert 0 < i["db0"]["avg_ttl"] <= 100000
    assert isinstance(i["used_memory"], int) and i["used_memory"] > 0
    assert i["used_memory_rss"] >= i["used_memory"]
    assert r.info("server")["tcp_port"] == r.connection_pool.connection_kwargs["port"]
    assert set(r.info("all")) >= {"cmdstat_set", "cmdstat_info"}


def test_resp3_client_parses_info(r3):
    i = r3.info()
    assert i["redis_mode"] == "standalone"
    assert "connected_clients" in i


def test_keyspace_format(r):
    r.execute_command("SELECT", "3")
    r.set("a", "1")
    r.execute_command("SELECT", "0")
    text = body(raw_info(r.connection_pool.connection_kwargs["port"], "keyspace"))
    assert text == "# Keyspace\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n"


def test_redis_cli_info(server):
    cli = shutil.which("redis-cli")
    assert cli is not None
    out = subprocess.run([cli, "-p", str(server.port), "info", "server"], capture_output=True, text=True,
                         timeout=10).stdout
    assert out.startswith("# Server\n")
    assert "redis_version:7.2.4" in out
    out = subprocess.run([cli, "-p", str(server.port), "info"], capture_output=True, text=True, timeout=10).stdout
    assert "# Keyspace" in out and "# Persistence" in out


def test_commandstats_and_errorstats(server):
    c = RawClient(server.port)
    try:
        assert c.call("CONFIG", "RESETSTAT") == b"+OK\r\n"
        c.call("SET", "cs", "1")
        c.call("GET", "cs")
        c.call("GET", "cs")
        c.call("LPUSH", "cs", "x")  # WRONGTYPE: a failed call
        c.call("NOSUCHCMD")
        text = body(c.call("INFO", "commandstats"))
        stats = info_mod.parse(text)["commandstats"]
        assert stats["cmdstat_get"].startswith("calls=2,usec=")
        assert stats["cmdstat_get"].endswith(",rejected_calls=0,failed_calls=0")
        assert "usec_per_call=" in stats["cmdstat_get"]
        assert stats["cmdstat_lpush"].endswith("rejected_calls=0,failed_calls=1")
        assert "cmdstat_config|resetstat" in stats
        err = info_mod.parse(body(c.call("INFO", "errorstats")))["errorstats"]
        assert err == {"errorstat_ERR": "count=1", "errorstat_WRONGTYPE": "count=1"}
        st = info_mod.parse(body(c.call("INFO", "stats")))["stats"]
        assert st["total_error_replies"] == "2"
        assert c.call("CONFIG", "RESETSTAT") == b"+OK\r\n"
        assert body(c.call("INFO", "errorstats")) == "# Errorstats\r\n"
        stats = info_mod.parse(body(c.call("INFO", "commandstats")))["commandstats"]
        assert "cmdstat_get" not in stats
        st = info_mod.parse(body(c.call("INFO", "stats")))["stats"]
        assert st["total_error_replies"] == "0"
        assert st["total_commands_processed"] == "3"  # RESETSTAT and the two INFO calls before this one
    finally:
        c.close()


def test_errorstats_sorted_like_redis(server, real_redis):
    outs = []
    for port in (server.port, real_redis.port):
        c = RawClient(port)
        try:
            c.call("CONFIG", "RESETSTAT")
            c.call("SET", "es", "x")
            c.call("LPUSH", "es", "x")
            c.call("INCR", "es")
            c.call("FOOBAR")
            outs.append(body(c.call("INFO", "errorstats")))
            c.call("DEL", "es")
        finally:
            c.close()
    assert outs[0] == outs[1] == "# Errorstats\r\nerrorstat_ERR:count=2\r\nerrorstat_WRONGTYPE:count=1\r\n"


def test_persistence_fields_follow_state(r):
    before = int(r.info("persistence")["rdb_changes_since_last_save"])
    r.set("p1", "1")
    r.set("p2", "2")
    after = r.info("persistence")
    assert int(after["rdb_changes_since_last_save"]) == before + 2
    assert after["rdb_last_save_time"] == int(r.lastsave().timestamp())


def test_clients_section_counts(server):
    a = server.client()
    b = server.client()
    p = a.pubsub()
    p.subscribe("ch")
    try:
        w = b.pipeline()
        w.watch("wk")
        i = server.client().info("clients")
        assert i["connected_clients"] >= 3
        assert i["pubsub_clients"] >= 1
        assert i["watching_clients"] >= 1
        assert i["total_watched_keys"] >= 1
        assert i["maxclients"] == 10000
        w.reset()
    finally:
        p.close()
        a.close()
        b.close()


def test_stats_rates_and_uptime(server):
    c = server.client()
    for _ in range(50):
        c.ping()
    i = c.info()
    assert i["uptime_in_seconds"] >= 0
    assert i["total_commands_processed"] >= 50
    assert i["total_connections_received"] >= 1
    assert isinstance(i["instantaneous_ops_per_sec"], int)
    assert i["used_cpu_user"] >= 0
    assert i["executable"].endswith(".py") or "fastredis" in i["executable"]


def test_register_section_extension_point():
    # a provider registered later overrides fields in place and appends new ones
    sec = info_mod.register_section("testsec", "Testsec", lambda ctx: [("a", 1), ("b", 2)],
                                    default=False, in_all=False)
    info_mod.add_fields("testsec", lambda ctx: [("b", 3.5), ("c", True)])
    try:
        assert info_mod.section_fields(None, sec) == [("a", "1"), ("b", "3.50"), ("c", "1")]  # type: ignore[arg-type]
        assert "testsec" not in [s.name for s in info_mod.select_sections([b"all"])]
        assert "testsec" in [s.name for s in info_mod.select_sections([b"everything"])]
        assert [s.name for s in info_mod.select_sections([b"testsec"])] == ["testsec"]
    finally:
        del info_mod.SECTIONS["testsec"]


def test_bytes_to_human():
    assert info_mod.bytes_to_human(100) == "100B"
    assert info_mod.bytes_to_human(1536) == "1.50K"
    assert info_mod.bytes_to_human(2281024) == "2.18M"
    assert info_mod.bytes_to_human(25276510208) == "23.54G"



def test_rejected_and_failed_calls_like_redis(server, real_redis):
    """Arity errors count as rejected calls of the command, runtime errors as failed calls."""
    outs = []
    for port in (server.port, real_redis.port):
        c = RawClient(port)
        try:
            c.call("CONFIG", "RESETSTAT")
            c.call("GET")
            c.call("SET", "rj", "x")
            c.call("INCR", "rj")
            c.call("DEL", "rj")
            stats = info_mod.parse(body(c.call("INFO", "commandstats")))["commandstats"]
            outs.append({k: re.sub(r"usec=\d+,usec_per_call=[\d.]+", "usec", v) for k, v in stats.items()
                         if k != "cmdstat_config|resetstat"})
        finally:
            c.close()
    assert outs[0] == outs[1]
    assert outs[0]["cmdstat_get"] == "calls=0,usec,rejected_calls=1,failed_calls=0"
    assert outs[0]["cmdstat_incr"] == "calls=1,usec,rejected_calls=0,failed_calls=1"
