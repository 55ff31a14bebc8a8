"""DEBUG subcommands: DIGEST/DIGEST-VALUE equal to redis-server's for the same data, replies as Redis'."""

from __future__ import annotations

import time

import pytest
import redis
from conftest import REDIS_SERVER, RawClient, ServerProcess, wait_until


@pytest.fixture(scope="module")
def pair():
    a = ServerProcess(args=["--enable-debug-command", "yes"])
    b = ServerProcess(cmd=[REDIS_SERVER], args=["--appendonly", "no", "--enable-debug-command", "yes"])
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def both(pair):
    clients = [srv.client() for srv in pair]
    for c in clients:
        c.flushall()
    yield clients
    for c in clients:
        c.close()


def raw_both(pair, *args, resp: int = 2) -> tuple[bytes, bytes]:
    out = []
    for srv in pair:
        rc = RawClient(srv.port, resp)
        out.append(rc.call(*args))
        rc.close()
    return out[0], out[1]


def fill(c: redis.Redis) -> None:
    c.set("s", "hello")
    c.set("n", 12345)
    c.set("big", "x" * 100)
    c.append("app", "abc")
    c.rpush("l", "a", "b", "c", "1")
    c.rpush("biglist", *[str(i) * 20 for i in range(300)])
    c.sadd("set", "a", "b", "c")
    c.sadd("iset", 1, 2, 3)
    c.sadd("bigset", *range(600))
    c.hset("h", mapping={"f1": "v1", "f2": "2"})
    c.hset("bigh", mapping={"f%d" % i: "v" * i for i in range(200)})
    c.zadd("z", {"a": 1, "b": 2.5, "c": -3, "10": 7})
    c.zadd("bigz", {"m%d" % i: i * 1.5 for i in range(300)})
    c.xadd("st", {"a": "1", "b": "2"}, id="1-1")
    c.xadd("st", {"a": "3"}, id="2-5")
    c.set("ttl", "v", ex=1000)
    c.hset("httl", "f", "v")
    c.expire("httl", 1000)
    c.execute_command("SELECT", "3")
    c.set("in3", "x")
    c.execute_command("SELECT", "0")


KEYS = ["s", "n", "big", "app", "l", "biglist", "set", "iset", "bigset", "h", "bigh", "z", "bigz", "st", "ttl",
        "httl", "nosuch"]


def test_digest_equals_redis(pair, both):
    assert raw_both(pair, "DEBUG", "DIGEST")[0] == b"+" + b"0" * 40 + b"\r\n"
    assert raw_both(pair, "DEBUG", "DIGEST")[0] == raw_both(pair, "DEBUG", "DIGEST")[1]
    for c in both:
        fill(c)
    ours, theirs = raw_both(pair, "DEBUG", "DIGEST")
    assert ours == theirs and ours != b"+" + b"0" * 40 + b"\r\n"
    ours, theirs = raw_both(pair, "DEBUG", "DIGEST-VALUE", *KEYS)
    assert ours == theirs
    assert raw_both(pair, "DEBUG", "DIGEST-VALUE") == (b"*0\r\n", b"*0\r\n")
    # order matters for lists, not for sets; a different db changes the digest
    before = both[0].execute_command("DEBUG", "DIGEST")
    for c in both:
        c.lpush("l", c.rpop("l"))
    after = raw_both(pair, "DEBUG", "DIGEST")
    assert after[0] == after[1] and after[0][1:-2] != before
    for c in both:
        c.move("s", 5)
    ours, theirs = raw_both(pair, "DEBUG", "DIGEST")
    assert ours == theirs


def test_protocol_and_error_replies(pair, both):
    for resp in (2, 3):
        for t in ("string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
                  "verbatim", "true", "false", "nosuch"):
            ours, theirs = raw_both(pair, "DEBUG", "PROTOCOL", t, resp=resp)
            assert ours == theirs, (resp, t)
    for args in (("DEBUG", "ERROR", "LOADING Redis is loading the dataset in memory"),
                 ("DEBUG", "ERROR", "OOM line\r\nbreak"), ("DEBUG", "ERROR"), ("DEBUG", "NOSUCH"),
                 ("DEBUG", "STRUCTSIZE"), ("DEBUG", "SET-ACTIVE-EXPIRE", "1"),
                 ("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"), ("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0"),
                 ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"), ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "x"),
                 ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"), ("DEBUG", "REPLYBUFFER", "RESIZING", "1"),
                 ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never"), ("DEBUG", "REPLYBUFFER", "foo", "1"),
                 ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "x"), ("DEBUG", "AOF-FLUSH-SLEEP", "0"),
                 ("DEBUG", "PAUSE-CRON", "0"), ("DEBUG", "CLIENT-EVICTION"),
                 ("DEBUG", "CLUSTERLINK", "KILL", "to", "x"), ("DEBUG", "DROP-CLUSTER-PACKET-FILTER", "1"),
                 ("DEBUG", "DROP-CLUSTER-PACKET-FILTER", "x"),
                 ("DEBUG", "SDSLEN", "nosuch"), ("DEBUG", "LISTPACK", "nosuch"), ("DEBUG", "HTSTATS", "x"),
                 ("DEBUG", "HTSTATS", "99"), ("DEBUG", "HTSTATS-KEY", "nosuch"), ("DEBUG", "LEAK", "abc"),
                 ("DEBUG", "SLEEP", "0"), ("DEBUG", "CHANGE-REPL-ID"), ("DEBUG", "OBJECT", "nosuch")):
        ours, theirs = raw_both(pair, *args)
        assert ours == theirs, args


def test_stringmatch_test(both):
    # Redis fuzzes its matcher for seconds: only our reply is checked
    assert both[0].execute_command("DEBUG", "STRINGMATCH-TEST") == b"Apparently Redis did not crash: test passed"


def test_errors_are_not_counted(both):
    ours = both[0]
    ours.config_resetstat()
    rc = RawClient(ours.connection_pool.connection_kwargs["port"])
    assert rc.call("DEBUG", "ERROR", "LOADING Redis is loading") == b"-LOADING Redis is loading\r\n"
    rc.close()
    assert ours.info("stats")["total_error_replies"] == 0


def test_encoding_views(pair, both):
    for c in both:
        c.set("int", 1)
        c.set("str", "abc")
        c.set("raw", "y" * 60)
        c.hset("h", "f", "v")
        c.sadd("s", "a")
        c.rpush("l", "a")
        c.rpush("ql", *["x" * 100] * 200)
    for args in (("DEBUG", "SDSLEN", "int"), ("DEBUG", "SDSLEN", "h"), ("DEBUG", "LISTPACK", "h"),
                 ("DEBUG", "LISTPACK", "ql"), ("DEBUG", "QUICKLIST", "h"), ("DEBUG", "QUICKLIST", "ql"),
                 ("DEBUG", "HTSTATS-KEY", "h"), ("DEBUG", "HTSTATS-KEY", "int")):
        ours, theirs = raw_both(pair, *args)
        assert ours == theirs, args
    ours = both[0]
    for key in ("str", "raw"):
        line = ours.execute_command("DEBUG", "SDSLEN", key).decode()
        assert line.startswith("key_sds_len:%d, key_sds_avail:" % len(key))
        assert ", val_sds_len:%d, " % len(ours.get(key)) in line
    for c in both:
        ht = c.execute_command("DEBUG", "HTSTATS", "0").decode()
        assert ht.startswith("[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: 8\n"
                             " number of elements: 7\n")
        assert "[Expires HT]\n" in ht
    full = ours.execute_command("DEBUG", "HTSTATS", "0", "full").decode()
    assert "Chain length distribution:" in full and "No stats available for empty dictionaries" in full


def test_help_lists_every_subcommand(both):
    lines = [x.decode() for x in both[0].execute_command("DEBUG", "HELP")]
    names = {line.split()[0] for line in lines[1:] if not line.startswith(" ")}
    assert lines[0] == "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    for n in ("DIGEST", "DIGEST-VALUE", "ERROR", "SET-ACTIVE-EXPIRE", "SLEEP", "RELOAD", "LOADAOF", "PAUSE-CRON",
              "OBJECT", "PROTOCOL", "CHANGE-REPL-ID", "LOG", "STRINGMATCH-TEST", "SET-SKIP-CHECKSUM-VALIDATION",
              "QUICKLIST-PACKED-THRESHOLD", "LISTPACK", "REPLYBUFFER", "HTSTATS", "HTSTATS-KEY",
              "AOF-FLUSH-SLEEP", "CONFIG-REWRITE-FORCE-ALL", "RESTART", "CRASH-AND-RECOVER", "POPULATE"):
        assert n in names


def test_skip_checksum_validation(both):
    ours = both[0]
    ours.set("k", "v")
    payload = bytearray(ours.dump("k"))
    payload[-1] ^= 0xFF
    with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
        ours.restore("k2", 0, bytes(payload))
    assert ours.execute_command("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1") == b"OK"
    assert ours.restore("k2", 0, bytes(payload)) == b"OK" and ours.get("k2") == b"v"
    ours.execute_command("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0")


def test_pause_cron_stops_active_expiry(both):
    ours = both[0]
    ours.execute_command("DEBUG", "PAUSE-CRON", "1")
    try:
        for i in range(20):
            ours.set("e%d" % i, 1, px=1)
        time.sleep(0.4)
        assert ours.dbsize() == 20  # nothing expired in the background
    finally:
        ours.execute_command("DEBUG", "PAUSE-CRON", "0")
    wait_until(lambda: ours.dbsize() == 0, timeout=10)


def test_disable_deny_scripts(both):
    ours = both[0]
    script = "return redis.call('debug', 'error', 'X from script')"
    with pytest.raises(redis.ResponseError, match="not allowed from script"):
        ours.eval(script, 0)
    ours.execute_command("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1")
    try:
        with pytest.raises(redis.ResponseError, match="X from script"):
            ours.eval(script, 0)
    finally:
        ours.execute_command("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0")


def test_loadaof_restart_and_crash(tmp_path):
    srv = ServerProcess(args=["--enable-debug-command", "yes", "--appendonly", "yes"])
    try:
        c = srv.client()
        c.set("a", "1")
        c.rpush("l", "x", "y")
        digest = c.execute_command("DEBUG", "DIGEST")
        assert c.execute_command("DEBUG", "LOADAOF") == b"OK"
        assert c.execute_command("DEBUG", "DIGEST") == digest
        c.execute_command("DEBUG", "AOF-FLUSH-SLEEP", "1000")
        c.set("b", "2")
        c.execute_command("DEBUG", "AOF-FLUSH-SLEEP", "0")
        pid = c.info("server")["process_id"]
        rc = RawClient(srv.port)
        rc.send("DEBUG", "RESTART")
        with pytest.raises(ConnectionError):
            rc.read_reply()  # no reply: the process is replaced
        rc.close()
        c2 = srv.client()
        wait_until(lambda: c2.ping(), timeout=20)
        assert c2.info("server")["process_id"] == pid  # exec'd in place
        assert c2.mget("a", "b") == [b"1", b"2"] and c2.lrange("l", 0, -1) == [b"x", b"y"]
        assert "Append Only File loaded by DEBUG LOADAOF" in srv.log_text()
        rc = RawClient(srv.port)
        rc.send("DEBUG", "SEGFAULT")
        srv.proc.wait(10)
        rc.close()
        assert srv.proc.returncode == -11
        assert "=== REDIS BUG REPORT START" in srv.log_text()
    finally:
        srv.stop()


def test_config_rewrite_force_all(tmp_path):
    conf = tmp_path / "redis.conf"
    conf.write_text("port 0\n")
    srv = ServerProcess(cmd=[__import__("sys").executable, "-m", "fastredis", str(conf)],
                        args=["--enable-debug-command", "yes"])
    try:
        c = srv.client()
        assert c.execute_command("DEBUG", "CONFIG-REWRITE-FORCE-ALL") == b"OK"
        text = conf.read_text()
        assert "\nmaxmemory-policy noeviction\n" in text and "\nhz 10\n" in text
    finally:
        srv.stop()
