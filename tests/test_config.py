"""CONFIG GET/SET/RESETSTAT/REWRITE/HELP, against redis-server where the answer is the same."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest
import redis
from conftest import RawClient, ServerProcess, free_port, wait_for_port

# parameters whose CONFIG SET changes the process (listeners, files, auth): not probed
UNSAFE = {"port", "bind", "dir", "save", "requirepass", "masterauth", "replicaof", "slaveof", "appendonly",
          "dbfilename", "logfile", "maxclients", "hz", "unixsocket", "databases"}
# parameters Redis 7.2 has and the 7.0 reference binary lacks, and 7.2-only enum values
NOT_IN_70 = {"locale-collate", "set-max-listpack-entries", "set-max-listpack-value",
             "max-new-connections-per-cycle", "max-new-tls-connections-per-cycle", "loglevel",
             "rdb-key-save-delay", "key-load-delay", "watchdog-period", "use-exit-on-panic",
             "loading-process-events-interval-bytes", "rename-command"}


def both(server, real_redis):
    return RawClient(server.port), RawClient(real_redis.port)


def test_get_benchmark_queries(server):
    c = RawClient(server.port)
    try:
        assert c.call("CONFIG", "GET", "save") == b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
        assert c.call("CONFIG", "GET", "appendonly") == b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
    finally:
        c.close()


def test_get_several_patterns_and_case(r):
    got = r.execute_command("CONFIG", "GET", "MAXMEMORY", "maxmemory-p*", "Port")
    assert got[0:2] == [b"MAXMEMORY", b"0"]
    assert b"maxmemory-policy" in got and b"Port" in got
    assert r.config_get("nosuchparam") == {}
    # a name asked twice is answered once
    assert r.execute_command("CONFIG", "GET", "timeout", "timeout") == [b"timeout", b"0"]


def test_get_several_patterns_matches_redis(server, real_redis):
    """CONFIG GET with several patterns (Redis 7): the same pairs, a name matched twice listed once.

    (Globs matching an alias are left out: whether Redis lists the alias too depends on its dict order.)
    """
    ours, real = server.client(), real_redis.client()
    for args in (("maxmemory", "port", "maxmemory", "max*lient*"), ("lazyfree-*", "lazyfree-lazy-eviction", "tim*"),
                 ("hash-max-ziplist-entries", "hash-max-listpack-entries", "HASH-MAX-ZIPLIST-ENTRIES"),
                 ("nosuch", "bind", "BIND"), ("appendonly", "append*", "no-such-*")):
        a, b = ours.execute_command("CONFIG", "GET", *args), real.execute_command("CONFIG", "GET", *args)
        da, db = dict(zip(a[::2], a[1::2])), dict(zip(b[::2], b[1::2]))
        assert len(a) == 2 * len(da) and len(b) == 2 * len(db)
        for d in (da, db):  # the ports of the two servers differ
            d.pop(b"port", None)
        assert da == db, args


def test_get_resp3_is_a_map(r3):
    assert r3.config_get("timeout") == {"timeout": "0"}


def test_get_aliases(r):
    # aliases answer by name, and a glob lists aliases whose canonical name does not match
    assert r.config_get("slaveof") == {"slaveof": ""}
    got = r.config_get("slave*")
    assert {"slave-read-only", "slave-priority", "slaveof", "slave-serve-stale-data"} <= set(got)
    assert "replica-read-only" not in got
    allc = r.config_get("*")
    assert "replica-read-only" in allc and "maxmemory" in allc
    assert "key-load-delay" not in allc  # hidden unless asked by name
    assert r.config_get("key-load-delay") == {"key-load-delay": "0"}


def test_config_get_all_matches_redis(server, real_redis):
    ours = server.client().config_get("*")
    real = real_redis.client().config_get("*")
    # canonical names (aliases depend on Redis' dict iteration order)
    from fastredis.config import PARAMS

    canonical = {p.name for p in PARAMS if not p.hidden} - NOT_IN_70
    assert canonical <= set(real), sorted(canonical - set(real))
    for name in canonical - {"port", "bind", "dir", "save", "appendonly", "pidfile", "logfile"}:
        assert ours[name] == real[name], name


def test_set_and_get_back(r):
    try:
        assert r.config_set("maxmemory", "10mb") is True
        assert r.config_get("maxmemory") == {"maxmemory": "10485760"}
        assert r.execute_command("CONFIG", "SET", "MAXMEMORY-POLICY", "allkeys-lru") == b"OK"
        assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert r.config_set("slave-read-only", "no") is True
        assert r.config_get("replica-read-only") == {"replica-read-only": "no"}
    finally:
        r.execute_command("CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction",
                          "replica-read-only", "yes")


def test_set_several_pairs_atomically(r):
    assert r.execute_command("CONFIG", "SET", "maxmemory-samples", "7", "timeout", "33") == b"OK"
    try:
        assert r.config_get("maxmemory-samples")["maxmemory-samples"] == "7"
        # the second value is bad: nothing changes
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("CONFIG", "SET", "maxmemory-samples", "9", "timeout", "x")
        assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't "
                                "be parsed into an integer")
        assert r.config_get("maxmemory-samples")["maxmemory-samples"] == "7"
        assert r.config_get("timeout")["timeout"] == "33"
    finally:
        r.execute_command("CONFIG", "SET", "maxmemory-samples", "5", "timeout", "0")


SET_ERRORS = [
    ("CONFIG", "SET", "foo", "bar"),
    ("CONFIG", "SET", "maxmemory", "x"),
    ("CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"),
    ("CONFIG", "SET", "maxmemory", "1", "MAXMEMORY", "2"),
    ("CONFIG", "SET", "port"),
    ("CONFIG", "SET", "port", "1", "bind"),
    ("CONFIG", "SET", "daemonize", "yes"),
    ("CONFIG", "SET", "hz", "abc"),
    ("CONFIG", "SET", "appendfsync", "foo"),
    ("CONFIG", "SET", "hz", "99999999999999999999"),
    ("CONFIG", "SET", "maxmemory-samples", "0"),
    ("CONFIG", "SET", "save", "x"),
    ("CONFIG", "SET", "save", "10"),
    ("CONFIG", "SET", "maxmemory", "1", "foo", "2"),
    ("CONFIG", "SET", "activerehashing", "maybe"),
    ("CONFIG", "SET", "notify-keyspace-events", "Q"),
    ("CONFIG", "SET", "client-output-buffer-limit", "foo 1 2 3"),
    ("CONFIG", "SET", "maxmemory-clients", "abc"),
    ("CONFIG", "SET", "maxmemory-clients", "101%"),
    ("CONFIG", "SET", "maxmemory-clients", "1000%"),
    ("CONFIG", "SET", "oom-score-adj-values", "1 2"),
    ("CONFIG", "SET", "latency-tracking-info-percentiles", "200"),
    ("CONFIG", "SET", "shutdown-on-sigterm", "bogus"),
    ("CONFIG", "SET", "activedefrag", "yes"),
    ("CONFIG", "SET", "dir", "/nonexistent/dir"),
    ("CONFIG", "GET"),
    ("CONFIG", "FOO"),
    ("CONFIG",),
    ("CONFIG", "RESETSTAT", "x"),
]


def test_set_errors_match_redis(server, real_redis):
    ours, real = both(server, real_redis)
    try:
        for cmd in SET_ERRORS:
            a, b = ours.call(*cmd), real.call(*cmd)
            assert a == b, f"{cmd}: {a!r} != {b!r}"
            assert a.startswith(b"-")
    finally:
        ours.close()
        real.close()


def test_set_error_texts_for_every_parameter(server, real_redis):
    """Bad values for every parameter both servers know get the same error (or both accept)."""
    from fastredis.config import PARAMS

    ours, real = server.client(decode_responses=True), real_redis.client(decode_responses=True)

    def attempt(c: redis.Redis, name: str, value: str) -> str:
        old = c.config_get(name)[name]
        try:
            c.execute_command("CONFIG", "SET", name, value)
        except redis.ResponseError as e:
            return str(e)
        c.execute_command("CONFIG", "SET", name, old)
        return "OK"

    for p in PARAMS:
        if p.name in UNSAFE or p.name in NOT_IN_70 or p.hidden:
            continue
        for value in ("abc", "-5", "99999999999999999", "2147483648", "1kb", ""):
            if p.name == "maxmemory-clients" and value == "99999999999999999":
                continue
            assert attempt(ours, p.name, value) == attempt(real, p.name, value), (p.name, value)


def test_set_port_in_use_fails_and_rolls_back(real_redis):
    """CONFIG SET port <busy>: Redis' error, every parameter of the call restored, the server keeps serving."""
    import socket

    srv = ServerProcess()
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    busy_port = busy.getsockname()[1]
    ours, real = RawClient(srv.port), RawClient(real_redis.port)
    try:
        for cmd in (("CONFIG", "SET", "port", str(busy_port)),
                    ("CONFIG", "SET", "maxmemory-samples", "9", "port", str(busy_port)),
                    ("CONFIG", "SET", "port", str(busy_port), "maxmemory-samples", "9"),
                    ("CONFIG", "SET", "port", str(busy_port), "bind", "127.0.0.1"),
                    ("CONFIG", "SET", "bind", "127.0.0.1", "port", str(busy_port))):
            a, b = ours.call(*cmd), real.call(*cmd)
            assert a == b, cmd
            # the first parameter whose apply step fails is named
            expect = (b"'bind') - Failed to bind to specified addresses." if cmd[2] == "bind"
                      else b"'port') - Unable to listen on this port. Check server logs.")
            assert a == b"-ERR CONFIG SET failed (possibly related to argument " + expect + b"\r\n", a
            assert ours.call("CONFIG", "GET", "maxmemory-samples") == real.call("CONFIG", "GET", "maxmemory-samples")
            assert ours.call("CONFIG", "GET", "port") == b"*2\r\n$4\r\nport\r\n$%d\r\n%d\r\n" % (
                len(str(srv.port)), srv.port)
        assert ours.call("PING") == b"+PONG\r\n"
        assert srv.alive()
        assert "Unable" not in srv.log_text() and "Could not create server TCP listening socket" in srv.log_text()
        # new connections are still accepted on the old port, and a free port still works
        with srv.client() as c:
            assert c.ping()
            new_port = free_port()
            assert c.config_set("port", new_port)
        wait_for_port(new_port, srv.proc)
        with redis.Redis(port=new_port, socket_timeout=10) as c2:
            assert c2.config_get("port") == {"port": str(new_port)}
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=srv.port, socket_timeout=2).ping()
    finally:
        busy.close()
        ours.close()
        real.close()
        srv.stop()


def test_immutable_and_sensitive(r):
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        r.config_set("databases", "4")
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        r.config_set("enable-debug-command", "yes")


def test_set_listeners_apply(r):
    """loglevel / notify-keyspace-events / proto-max-bulk-len take effect at once."""
    try:
        r.config_set("notify-keyspace-events", "KEA")
        assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
        p = r.pubsub()
        p.psubscribe("__keyevent@0__:*")
        p.get_message(timeout=10)
        r.set("evk", "1")
        msg = p.get_message(timeout=10)
        assert msg is not None and msg["data"] == b"evk"
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_protected_configs(r):
    for name in ("dir", "dbfilename"):
        with pytest.raises(redis.ResponseError) as e:
            r.config_set(name, "x")
        assert str(e.value) == f"CONFIG SET failed (possibly related to argument '{name}') - can't set protected config"


def test_dir_changes_working_directory():
    srv = ServerProcess(args=["--enable-protected-configs", "local"])
    try:
        c = srv.client()
        d = tempfile.mkdtemp(prefix="fastredis-dir-")
        assert c.config_set("dir", d) is True
        assert os.path.realpath(c.config_get("dir")["dir"]) == os.path.realpath(d)
        with pytest.raises(redis.ResponseError, match="No such file or directory"):
            c.config_set("dir", "/nonexistent/dir")
        with pytest.raises(redis.ResponseError, match="dbfilename can't be a path, just a filename"):
            c.config_set("dbfilename", "a/b.rdb")
        assert c.config_set("dbfilename", "other.rdb") is True
        c.set("k", "v")
        assert c.save() is True
        assert os.path.exists(os.path.join(d, "other.rdb"))
    finally:
        srv.stop()


def test_resetstat(r):
    r.get("nokey")
    r.execute_command("CONFIG", "RESETSTAT")
    assert r.info("stats")["keyspace_misses"] == 0
    assert r.info("stats")["total_connections_received"] == 0


def test_help(server, real_redis):
    ours, real = both(server, real_redis)
    try:
        a = ours.call("CONFIG", "HELP").split(b"\r\n")
        b = real.call("CONFIG", "HELP").split(b"\r\n")
        # 7.2 says "Print this help." where 7.0 says "Prints this help."
        assert a[:-2] == b[:-2] and a[0] == b"*11"
    finally:
        ours.close()
        real.close()


def test_rewrite_without_file(r):
    with pytest.raises(redis.ResponseError, match="^The server is running without a config file$"):
        r.config_rewrite()


def test_rewrite_keeps_comments_and_updates_values():
    d = tempfile.mkdtemp(prefix="fastredis-rewrite-")
    conf = os.path.join(d, "redis.conf")
    with open(conf, "w") as f:
        f.write("# my settings\nmaxmemory 1mb\n# keep me\ntimeout 5\n")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fastredis", conf, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", ""], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        c = redis.Redis(port=port)
        assert c.config_get("maxmemory") == {"maxmemory": "1048576"}
        assert c.config_get("timeout") == {"timeout": "5"}
        c.config_set("timeout", "7")
        c.config_set("maxmemory-policy", "allkeys-lfu")
        assert c.config_rewrite() == b"OK"
        text = open(conf).read()
        assert text.startswith("# my settings\n")
        assert "# keep me\n" in text
        assert "timeout 7" in text and "timeout 5" not in text
        assert "maxmemory-policy allkeys-lfu" in text
        assert c.info("server")["config_file"] == conf
        c.close()
    finally:
        proc.terminate()
        proc.wait(10)
