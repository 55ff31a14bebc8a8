"""Real clients against the server: redis-cli, redis-benchmark and redis-py (RESP2 and RESP3).

redis-cli output is diffed with the same invocation against a real redis-server, so
any difference in reply types (and hence in redis-cli's formatting) shows up.
redis-benchmark runs must finish without a single error reply, which is also checked
through INFO errorstats / commandstats.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from conftest import ServerProcess

REDIS_CLI = shutil.which("redis-cli")
REDIS_BENCHMARK = shutil.which("redis-benchmark")


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    """A server of our own: statistics are reset and checked, and its log must stay clean."""
    s = ServerProcess()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _clean_log(srv: ServerProcess) -> Iterator[None]:
    yield
    assert srv.alive()
    log = srv.log_text()
    assert "Traceback" not in log and "Internal error" not in log, log[-4000:]


@pytest.fixture
def r(srv: ServerProcess) -> Iterator[redis.Redis]:
    c = srv.client()
    c.flushall()
    yield c
    c.close()


def cli(port: int, *args: str, stdin: bytes | None = None, timeout: float = 60) -> str:
    if REDIS_CLI is None:
        pytest.fail("redis-cli is not installed (apt-get install redis-tools)")
    p = subprocess.run([REDIS_CLI, "-p", str(port), *args], input=stdin, capture_output=True, timeout=timeout)
    return (p.stdout + p.stderr).decode("utf-8", "replace")


def assert_no_errors(r: redis.Redis) -> None:
    """INFO errorstats is empty and no command failed or was rejected."""
    assert r.info("errorstats") == {}
    bad = {k: v for k, v in r.info("commandstats").items() if v["failed_calls"] or v["rejected_calls"]}
    assert bad == {}


# -- redis-cli ------------------------------------------------------------------------------

CLI_SCRIPT = [
    "SET s hello", "GET s", "GET nokey", "INCR n", "INCRBYFLOAT f 1.5", "APPEND s world", "STRLEN s",
    "SET n2 10 GET", "MSET a 1 b 2", "MGET a b nokey", "RPUSH l a b c", "LRANGE l 0 -1", "LPOS l b",
    "HSET h f1 v1 f2 v2", "HGETALL h", "HKEYS h", "SADD st x", "SMEMBERS st",
    "SISMEMBER st x", "ZADD z 1.5 a 2 b 3 c", "ZRANGE z 0 -1 WITHSCORES", "ZSCORE z a", "ZRANK z b",
    "ZMSCORE z a nope", "ZPOPMIN z", "ZINCRBY z 0.25 b",
    "XADD x 1-1 f v", "XRANGE x - +", "XLEN x", "XINFO STREAM x", "XADD x 2-1 g w",
    "XGROUP CREATE x g 0", "XREADGROUP GROUP g c COUNT 1 STREAMS x >", "XPENDING x g",
    "GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "GEODIST geo Palermo Catania km",
    "GEOSEARCH geo FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHDIST WITHCOORD",
    "PFADD hll a b c", "PFCOUNT hll", "SETBIT bits 7 1", "BITCOUNT bits", "BITFIELD bits GET u8 0",
    "EXISTS s l h nokey", "TYPE z", "EXPIRE s 100", "TTL s", "PERSIST s", "TTL s", "DBSIZE",
    "SCAN 0 COUNT 1000 TYPE list", "SORT l ALPHA DESC", "LPUSH s x",
    "GETRANGE s 0 3", "LCS s s", "ECHO \"quoted \\x41 arg\"", "PING", "PING hi", "SET", "NOSUCHCMD a",
    "MULTI", "INCR n", "EXEC", "CONFIG GET maxmemory",
]


def _script(script: list[str]) -> bytes:
    return "\n".join(script).encode() + b"\n"


@pytest.mark.parametrize("resp", ["2", "3"])
def test_cli_output_matches_redis(srv: ServerProcess, real_redis: ServerProcess, r: redis.Redis,
                                  resp: str) -> None:
    """The same redis-cli session (types shown with --no-raw) prints the same on both servers."""
    rr = real_redis.client()
    rr.flushall()
    rr.close()
    flags = ["--no-raw"] + (["-3"] if resp == "3" else [])
    ours = cli(srv.port, *flags, stdin=_script(CLI_SCRIPT))
    theirs = cli(real_redis.port, *flags, stdin=_script(CLI_SCRIPT))
    for line, (a, b) in enumerate(zip(ours.split("\n"), theirs.split("\n"))):
        assert a == b, f"line {line}: ours {a!r} != redis {b!r}\n{ours}"
    assert ours == theirs


def test_cli_inline_arguments_and_modes(srv: ServerProcess, r: redis.Redis) -> None:
    assert cli(srv.port, "SET", "k", "v with spaces").strip() == "OK"
    assert cli(srv.port, "GET", "k").strip() == "v with spaces"
    assert cli(srv.port, "--raw", "LRANGE", "nolist", "0", "-1") == "\n"
    assert cli(srv.port, "-r", "3", "INCR", "rep").split() == ["1", "2", "3"]
    assert cli(srv.port, "-x", "SET", "fromstdin", stdin=b"line1\nline2\x00bin").strip() == "OK"
    assert r.get("fromstdin") == b"line1\nline2\x00bin"
    assert cli(srv.port, "-n", "5", "SET", "db5", "x").strip() == "OK"
    assert srv.client(db=5).get("db5") == b"x"
    r.rpush("csv", "a", "b,c", 'd"e')
    assert cli(srv.port, "--csv", "LRANGE", "csv", "0", "-1").strip() == '"a","b,c","d\\"e"'
    # an error reply goes to the output and the exit status
    p = subprocess.run([REDIS_CLI or "redis-cli", "-p", str(srv.port), "INCR", "k"], capture_output=True)
    assert b"ERR value is not an integer or out of range" in p.stdout + p.stderr


def test_cli_pipe_mass_insertion(srv: ServerProcess, r: redis.Redis, tmp_path) -> None:
    """redis-cli --pipe: 30k raw RESP commands (one failing on purpose) from a generated file."""
    lines = []
    for i in range(10_000):
        lines.append([b"SET", b"mass:%d" % i, b"v%d" % i])
        lines.append([b"RPUSH", b"mass:list", b"%d" % i])
        lines.append([b"HSET", b"mass:hash", b"f%d" % i, b"\x00\r\n%d" % i])
    lines.append([b"INCR", b"mass:list"])  # WRONGTYPE
    path = tmp_path / "mass.txt"
    path.write_bytes(b"".join(b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in c)
                             for c in lines))
    with open(path, "rb") as f:
        p = subprocess.run([REDIS_CLI or "redis-cli", "-p", str(srv.port), "--pipe"], stdin=f,
                           capture_output=True, timeout=120)
    out = p.stdout.decode()
    assert "errors: 1, replies: 30001" in out, out
    assert r.dbsize() == 10_002
    assert r.llen("mass:list") == 10_000
    assert r.hget("mass:hash", "f9999") == b"\x00\r\n9999"
    assert r.get("mass:1234") == b"v1234"


def test_cli_scan_bigkeys_memkeys(srv: ServerProcess, r: redis.Redis) -> None:
    for i in range(300):
        r.set(f"scan:{i}", i)
    r.rpush("biglist", *range(50))
    r.hset("bighash", mapping={f"f{i}": i for i in range(20)})
    r.zadd("bigzset", {f"m{i}": i for i in range(7)})
    r.sadd("bigset", *range(3))
    r.xadd("bigstream", {"a": 1})
    r.set("biggeststring", "x" * 1000)
    keys = cli(srv.port, "--scan", "--pattern", "scan:1*").split()
    assert sorted(keys) == sorted(f"scan:{i}" for i in range(300) if str(i).startswith("1"))
    assert len(cli(srv.port, "--scan").split()) == 306
    out = cli(srv.port, "--bigkeys")
    for expected in ["Biggest   list found '\"biglist\"' has 50 items",
                     "Biggest   hash found '\"bighash\"' has 20 fields",
                     "Biggest   zset found '\"bigzset\"' has 7 members",
                     "Biggest    set found '\"bigset\"' has 3 members",
                     "Biggest stream found '\"bigstream\"' has 1 entries",
                     "Biggest string found '\"biggeststring\"' has 1000 bytes",
                     "301 strings with"]:
        assert expected in out, out


def test_cli_info(srv: ServerProcess, r: redis.Redis) -> None:
    """INFO as redis-cli prints it: sections, key:value lines, CRLF-free fields that parse."""
    r.set("k", "v")
    r.expire("k", 100)
    out = cli(srv.port, "INFO")
    sections = [line[2:] for line in out.splitlines() if line.startswith("# ")]
    for s in ("Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Keyspace"):
        assert s in sections
    fields = dict(line.split(":", 1) for line in out.splitlines() if line and not line.startswith("#"))
    assert fields["redis_version"].count(".") == 2
    assert int(fields["tcp_port"]) == srv.port
    assert int(fields["connected_clients"]) >= 1
    assert fields["db0"] == "keys=1,expires=1,avg_ttl=" + fields["db0"].rsplit("=", 1)[1]
    assert cli(srv.port, "INFO", "keyspace").splitlines()[0] == "# Keyspace"


def test_cli_rdb_transfer_loads_back(srv: ServerProcess, r: redis.Redis, tmp_path) -> None:
    """redis-cli --rdb fetches a snapshot over SYNC; a fresh server loads it back."""
    r.set("rdbkey", "v")
    r.rpush("rdblist", "a", "b")
    r.zadd("rdbz", {"m": 2.5})
    out = cli(srv.port, "--rdb", str(tmp_path / "dump.rdb"))
    assert "Transfer finished with success" in out, out
    assert (tmp_path / "dump.rdb").read_bytes().startswith(b"REDIS")
    s2 = ServerProcess(args=["--dbfilename", "dump.rdb"], cwd=str(tmp_path))
    try:
        c = s2.client()
        assert c.get("rdbkey") == b"v"
        assert c.lrange("rdblist", 0, -1) == [b"a", b"b"]
        assert c.zscore("rdbz", "m") == 2.5
        c.close()
    finally:
        s2.stop()


# -- redis-benchmark ----------------------------------------------------------------------------

BENCH_TESTS = ("ping_inline,ping_mbulk,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,"
               "lrange_100,lrange_300,lrange_500,lrange_600,mset")


@pytest.mark.parametrize("extra", [[], ["-P", "16", "-3"]], ids=["plain", "pipelined-resp3"])
def test_redis_benchmark_without_errors(srv: ServerProcess, r: redis.Redis, extra: list[str]) -> None:
    """Every redis-benchmark test completes and the server counted no error reply at all."""
    if REDIS_BENCHMARK is None:
        pytest.fail("redis-benchmark is not installed (apt-get install redis-tools)")
    r.config_resetstat()
    p = subprocess.run([REDIS_BENCHMARK, "-p", str(srv.port), "-q", "-n", "2000", "-c", "10", "-e", "--csv",
                        "-t", BENCH_TESTS, *extra], capture_output=True, timeout=300)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out + p.stderr.decode()
    assert "rror" not in out, out
    done = {line.split(",")[0].strip('"') for line in out.splitlines()[1:] if line}
    for name in ("PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "SADD",
                 "HSET", "SPOP", "ZADD", "ZPOPMIN", "LRANGE_100 (first 100 elements)",
                 "LRANGE_600 (first 600 elements)", "MSET (10 keys)"):
        assert name in done, out
    assert_no_errors(r)
    stats = r.info("commandstats")
    assert stats["cmdstat_set"]["calls"] >= 2000
    assert stats["cmdstat_lrange"]["calls"] >= 8000
    assert r.llen("mylist") > 0


# -- redis-py -------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_handshake_sets_client_info(srv: ServerProcess, protocol: int) -> None:
    """redis-py sends CLIENT SETINFO LIB-NAME/LIB-VER (and HELLO 3) on connect: all accepted."""
    r = srv.client(protocol=protocol)
    r.config_resetstat()
    info = r.client_info()
    assert info["lib-name"] == "redis-py"
    assert info["lib-ver"] == redis.__version__
    assert int(info["resp"]) == protocol
    assert any(c["lib-name"] == "redis-py" for c in r.client_list())
    named = srv.client(protocol=protocol, client_name="interop",
                       driver_info=redis.DriverInfo(name="mylib", lib_version="1.2"))
    assert named.client_getname() in ("interop", b"interop")  # redis-py decodes it in RESP2 only
    me = named.client_info()
    assert (me["name"], me["lib-name"], me["lib-ver"]) == ("interop", "mylib", "1.2")
    named.close()
    if protocol == 3:
        # redis-py 8 also tries CLIENT MAINT_NOTIFICATIONS (a Redis 8 command) and ignores the
        # error: the one error reply per RESP3 connection Redis 7.2 gives as well
        with pytest.raises(redis.ResponseError, match="unknown subcommand 'MAINT_NOTIFICATIONS'"):
            r.execute_command("CLIENT", "MAINT_NOTIFICATIONS", "ON")
        errors = r.info("errorstats")
        assert set(errors) == {"errorstat_ERR"}
        assert errors["errorstat_ERR"]["count"] <= 3  # two connections + the call above
        r.config_resetstat()
    assert_no_errors(r)
    r.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_info_parsing(srv: ServerProcess, protocol: int) -> None:
    r = srv.client(protocol=protocol)
    r.flushall()
    r.set("a", 1, ex=100)
    info = r.info()
    assert isinstance(info["redis_version"], str)
    assert isinstance(info["connected_clients"], int)
    assert isinstance(info["used_memory"], int)
    assert info["db0"]["keys"] == 1 and info["db0"]["expires"] == 1
    assert r.info("server")["tcp_port"] == srv.port
    cmdstats = r.info("commandstats")
    assert cmdstats["cmdstat_set"]["calls"] >= 1
    assert set(cmdstats["cmdstat_set"]) >= {"calls", "usec", "usec_per_call", "rejected_calls", "failed_calls"}
    with pytest.raises(redis.ResponseError):
        r.incr("nokey", "x")  # type: ignore[arg-type]
    assert r.info("errorstats")["errorstat_ERR"]["count"] >= 1
    everything = r.info("everything")
    assert "redis_version" in everything and "cmdstat_info" in everything
    r.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_pipelines_and_transactions(srv: ServerProcess, protocol: int) -> None:
    r = srv.client(protocol=protocol)
    r.flushall()
    pipe = r.pipeline(transaction=False)
    pipe.set("p", 1).incr("p").lpush("p", "x").get("p").hset("ph", mapping={"a": "1"}).hgetall("ph")
    res = pipe.execute(raise_on_error=False)
    assert res[:2] == [True, 2]
    assert isinstance(res[2], redis.ResponseError) and "WRONGTYPE" in str(res[2])
    assert res[3:] == [b"2", 1, {b"a": b"1"}]
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.pipeline(transaction=False).lpush("p", "x").execute()
    # MULTI/EXEC with a run-time error inside: the others still apply
    pipe = r.pipeline(transaction=True)
    pipe.incr("p").lpush("p", "x").incr("p")
    res = pipe.execute(raise_on_error=False)
    assert res[0] == 3 and isinstance(res[1], redis.ResponseError) and res[2] == 4
    # a queue-time error aborts everything
    with pytest.raises(redis.ResponseError):
        r.pipeline(transaction=True).incr("p").execute_command("NOSUCH").execute()
    assert r.get("p") == b"4"

    # optimistic locking: a concurrent writer forces one retry
    other = srv.client(protocol=protocol)
    attempts = []

    def update(pipe: redis.client.Pipeline) -> None:
        value = int(pipe.get("p"))
        attempts.append(value)
        if len(attempts) == 1:
            other.incr("p")  # lands between WATCH and EXEC
        pipe.multi()
        pipe.set("p", value * 10)

    r.transaction(update, "p")
    assert attempts == [4, 5]
    assert r.get("p") == b"50"
    other.close()
    r.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_pubsub(srv: ServerProcess, protocol: int) -> None:
    r = srv.client(protocol=protocol)
    p = r.pubsub()
    p.subscribe("chan")
    p.psubscribe("pat*")
    assert p.get_message(timeout=5)["type"] == "subscribe"
    assert p.get_message(timeout=5)["type"] == "psubscribe"
    assert r.publish("chan", "hello") == 1
    assert r.publish("pattern", b"\x00bin") == 1
    assert r.pubsub_numsub("chan") == [(b"chan", 1)]
    assert r.pubsub_numpat() == 1
    m1 = p.get_message(timeout=5)
    m2 = p.get_message(timeout=5)
    assert (m1["type"], m1["channel"], m1["data"]) == ("message", b"chan", b"hello")
    assert (m2["type"], m2["pattern"], m2["channel"], m2["data"]) == ("pmessage", b"pat*", b"pattern", b"\x00bin")
    p.ping("still here")
    pong = p.get_message(timeout=5)
    assert pong is not None and pong["type"] == "pong"
    p.unsubscribe("chan")
    p.punsubscribe()
    types = {p.get_message(timeout=5)["type"], p.get_message(timeout=5)["type"]}
    assert types == {"unsubscribe", "punsubscribe"}
    assert r.publish("chan", "nobody") == 0
    p.close()

    # a listener thread receiving many messages in order
    p = r.pubsub(ignore_subscribe_messages=True)
    got: list[bytes] = []
    p.subscribe(**{"bulk": lambda m: got.append(m["data"])})
    t = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        while r.pubsub_numsub("bulk")[0][1] == 0:
            time.sleep(0.01)
        for i in range(500):
            r.publish("bulk", str(i))
        deadline = time.time() + 10
        while len(got) < 500 and time.time() < deadline:
            time.sleep(0.02)
    finally:
        t.stop()
        t.join(5)
        p.close()
    assert got == [str(i).encode() for i in range(500)]
    # sharded pub/sub
    sp = r.pubsub()
    sp.ssubscribe("shard")
    assert sp.get_sharded_message(timeout=5)["type"] == "ssubscribe"
    assert r.spublish("shard", "s") == 1
    msg = sp.get_sharded_message(timeout=5)
    assert (msg["type"], msg["data"]) == ("smessage", b"s")
    sp.close()
    r.close()


def test_redis_py_resp3_types_match_redis(srv: ServerProcess, real_redis: ServerProcess) -> None:
    """What redis-py 8 decodes (its default RESP3) is identical for both servers."""
    results = []
    for s in (srv, real_redis):
        r = redis.Redis(host="127.0.0.1", port=s.port, protocol=3, socket_timeout=10)
        r.flushall()
        out = []
        out.append(r.set("s", "v", get=True))
        out.append(r.hset("h", mapping={"a": 1, "b": 2}))
        out.append(r.hgetall("h"))
        out.append(r.zadd("z", {"a": 1.5, "b": 2}))
        out.append(r.zrange("z", 0, -1, withscores=True))
        out.append(r.zpopmin("z"))
        out.append(r.zscore("z", "b"))
        out.append(r.zrank("z", "b"))
        out.append(r.sadd("st", "x", "y"))
        out.append(sorted(r.smembers("st")))
        out.append(r.smismember("st", ["x", "q"]))
        out.append(r.lpush("l", 1, 2, 3))
        out.append(r.lpos("l", 2))
        out.append(r.blpop(["nol"], timeout=0.01))
        out.append(r.xadd("x", {"f": "v"}, id="1-1"))
        out.append(r.xrange("x"))
        out.append(r.xread({"x": "0"}))
        out.append(r.xgroup_create("x", "g", id="0"))
        out.append(r.xreadgroup("g", "c", {"x": ">"}))
        out.append(r.geoadd("geo", [13.361389, 38.115556, "Palermo"]))
        out.append(r.geopos("geo", "Palermo", "none"))
        out.append(r.incrbyfloat("fl", 1.25))
        out.append(r.exists("s", "h", "none"))
        out.append(r.ttl("s"))
        out.append(r.type("z"))
        out.append(r.hrandfield("h", -2, withvalues=True)[:0])
        out.append(r.config_get("maxmemory"))
        out.append(r.lcs("s", "s"))
        results.append(out)
        r.close()
    assert results[0] == results[1]


def test_redis_py_asyncio_client(srv: ServerProcess) -> None:
    """redis.asyncio over RESP3: concurrent commands, pipelines and pubsub on one event loop."""
    import asyncio

    import redis.asyncio as aredis

    async def main() -> None:
        r = aredis.Redis(host="127.0.0.1", port=srv.port, protocol=3)
        await r.flushall()
        for _ in range(10):
            await asyncio.gather(*(r.incr("ac") for _ in range(20)))
        assert await r.get("ac") == b"200"
        async with r.pipeline(transaction=True) as pipe:
            res = await pipe.set("a", 1).incr("a").hset("ah", "f", "v").hgetall("ah").execute()
        assert res == [True, 2, 1, {b"f": b"v"}]
        p = r.pubsub()
        await p.subscribe("ach")
        assert (await p.get_message(timeout=5))["type"] == "subscribe"
        await r.publish("ach", "x")
        msg = None
        for _ in range(50):
            msg = await p.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if msg:
                break
        assert msg is not None and msg["data"] == b"x"
        await p.aclose()
        await r.aclose()

    asyncio.run(main())


def test_many_redis_py_clients_in_threads(srv: ServerProcess) -> None:
    """A connection pool shared by threads doing mixed work; totals add up."""
    pool = redis.ConnectionPool(host="127.0.0.1", port=srv.port, max_connections=16, protocol=3)
    r = redis.Redis(connection_pool=pool)
    r.flushall()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            c = redis.Redis(connection_pool=pool)
            for i in range(200):
                c.incr("total")
                c.rpush(f"t{n}", i)
                if i % 50 == 0:
                    c.pipeline().hincrby("th", "f", 1).zincrby("tz", 1, f"m{n}").execute()
        except BaseException as e:  # noqa: BLE001 - collected and reported
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert r.get("total") == b"1600"
    assert r.hget("th", "f") == b"32"
    assert all(r.llen(f"t{n}") == 200 for n in range(8))
    pool.disconnect()


def test_env_has_tools() -> None:
    """The CLI tools these tests drive are installed (the test command installs redis-tools)."""
    assert REDIS_CLI and os.access(REDIS_CLI, os.X_OK)
    assert REDIS_BENCHMARK and os.access(REDIS_BENCHMARK, os.X_OK)
