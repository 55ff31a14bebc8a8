"""RDB loading: every fixture in tests/fixtures/rdb (written by real Redis) must load to exactly its JSON.

Checked twice: the loader on its own (python import), and the real server started on
a copy of the fixture, read back through ordinary commands (types via DUMP, TTLs via
SAVE + the dump it writes).  Corrupt inputs must be refused with Redis' log lines and
the server must exit without serving a half-loaded dataset.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

import hiredis
import pytest
import redis
from conftest import SHARED, RawClient, ServerProcess

from fastredis.persistence import rdb
from fastredis.persistence.crc64 import crc64
from fastredis.types.stream import Stream, format_id
from fastredis.types.zset import ZSet

FIXTURES = SHARED / "rdb"
ALL = sorted(p.stem for p in FIXTURES.glob("*.rdb"))
LOADABLE = [n for n in ALL if json.loads((FIXTURES / f"{n}.json").read_text())["load"] == "ok"]
FAILING = [n for n in ALL if n not in LOADABLE]

RDB_TYPE_NAMES = {
    0: "string", 1: "list", 2: "set", 3: "zset", 4: "hash", 5: "zset", 9: "hash", 10: "list", 11: "set",
    12: "zset", 13: "hash", 14: "list", 15: "stream", 16: "hash", 17: "zset", 18: "list", 19: "stream",
    20: "set", 21: "stream",
}


# -- expected values, normalised ---------------------------------------------------------

def jb(x: Any) -> Any:
    """A JSON byte string: plain text or {"hex": ...}."""
    if isinstance(x, dict) and "hex" in x:
        return bytes.fromhex(x["hex"])
    return x.encode() if isinstance(x, str) else x


def expected_value(e: dict) -> Any:
    t, v = e["type"], e["value"]
    if t == "string":
        return jb(v)
    if t in ("list", "set"):
        return [jb(x) for x in v]
    if t == "hash":
        return [(jb(a), jb(b)) for a, b in v]
    if t == "zset":
        return [(jb(a), float(b)) for a, b in v]
    assert t == "stream"
    return {
        "entries": [(i.encode(), [jb(x) for x in f]) for i, f in v["entries"]],
        "length": v["length"],
        "last-generated-id": v["last-generated-id"].encode(),
        "max-deleted-entry-id": v["max-deleted-entry-id"].encode(),
        "entries-added": v["entries-added"],
        "groups": [(jb(g["name"]), g["last-delivered-id"].encode(), g["entries-read"],
                    [i.encode() for i in g["pel"]], sorted(jb(c) for c in g["consumers"]))
                   for g in v["groups"]],
    }


def expected(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def python_value(v: Any) -> tuple[str, Any]:
    """A loaded Python value in the JSON's shape."""
    if isinstance(v, (bytes, bytearray)):
        return "string", bytes(v)
    if isinstance(v, deque):
        return "list", list(v)
    if isinstance(v, set):
        return "set", sorted(v)
    if isinstance(v, dict):
        return "hash", sorted(v.items())
    if isinstance(v, ZSet):
        return "zset", list(v.items())
    assert isinstance(v, Stream)
    return "stream", {
        "entries": [(format_id(k), list(f)) for k, f in v.entries.items()],
        "length": len(v),
        "last-generated-id": format_id(v.last_id),
        "max-deleted-entry-id": format_id(v.max_deleted_entry_id),
        "entries-added": v.entries_added,
        "groups": [(g.name, format_id(g.last_id), None if g.entries_read == -1 else g.entries_read,
                    [format_id(i) for i in g.pel], sorted(g.consumers)) for g in v.groups.values()],
    }


# -- reading a live server through commands -----------------------------------------------

class Plain:
    """Replies parsed by hiredis without redis-py's reshaping (stream fields may repeat)."""

    def __init__(self, port: int) -> None:
        self.rc = RawClient(port, timeout=30)

    def __call__(self, *args: Any) -> Any:
        reader = hiredis.Reader()
        reader.feed(self.rc.call(*args))
        return reader.gets()

    def close(self) -> None:
        self.rc.close()


def dump_type(c: redis.Redis, key: bytes) -> str | None:
    payload = c.dump(key)
    return None if payload is None else RDB_TYPE_NAMES[payload[0]]


def read_value(c: redis.Redis, plain: Plain, key: bytes, t: str) -> Any:
    """A key's value through ordinary read commands, in the JSON's shape."""
    if t == "string":
        return c.get(key)
    if t == "list":
        return c.lrange(key, 0, -1)
    if t == "set":
        return sorted(c.smembers(key))
    if t == "hash":
        return sorted(c.hgetall(key).items())
    if t == "zset":
        return [(m, float(s)) for m, s in c.zrange(key, 0, -1, withscores=True)]
    assert t == "stream"
    info = plain("XINFO", "STREAM", key)
    info = dict(zip(info[0::2], info[1::2]))
    groups = []
    for g in plain("XINFO", "GROUPS", key):
        g = dict(zip(g[0::2], g[1::2]))
        pel = plain("XPENDING", key, g[b"name"], "-", "+", 1_000_000)
        consumers = plain("XINFO", "CONSUMERS", key, g[b"name"])
        groups.append((g[b"name"], g[b"last-delivered-id"], g[b"entries-read"], [p[0] for p in pel],
                       sorted(dict(zip(x[0::2], x[1::2]))[b"name"] for x in consumers)))
    return {
        "entries": [(i, list(f)) for i, f in plain("XRANGE", key, "-", "+")],
        "length": info[b"length"],
        "last-generated-id": info[b"last-generated-id"],
        "max-deleted-entry-id": info[b"max-deleted-entry-id"],
        "entries-added": info[b"entries-added"],
        "groups": groups,
    }


def compare_server_to_json(port: int, exp: dict, type_of=dump_type, ttl_of=None) -> None:
    """Every db: key count, every key's type, value and (via ``ttl_of``) absolute expiry."""
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
    plain = Plain(port)
    try:
        dbs = {k: v for k, v in exp["dbs"].items() if k != "functions"}
        for dbid in range(16):
            c.execute_command("SELECT", dbid)
            plain("SELECT", dbid)
            entries = dbs.get(str(dbid), [])
            assert c.dbsize() == len(entries), f"db {dbid}"
            for e in entries:
                key = jb(e["key"])
                assert type_of(c, key) == e["type"], key
                assert read_value(c, plain, key, e["type"]) == expected_value(e), key
                if ttl_of is not None:
                    assert ttl_of(c, dbid, key) == e["expire_at_ms"], key
    finally:
        c.close()
        plain.close()


def start_on_fixture(name: str, *extra: str) -> ServerProcess:
    d = tempfile.mkdtemp(prefix="fastredis-rdb-")
    shutil.copy(FIXTURES / f"{name}.rdb", os.path.join(d, "fixture.rdb"))
    os.chmod(os.path.join(d, "fixture.rdb"), 0o644)
    return ServerProcess(cwd=d, args=["--dbfilename", "fixture.rdb", *extra])


# -- the loader on its own ---------------------------------------------------------------

@pytest.mark.parametrize("name", LOADABLE)
def test_loader_matches_json(name: str) -> None:
    exp = expected(name)
    res = rdb.load_file(str(FIXTURES / f"{name}.rdb"))
    dbs = {k: v for k, v in exp["dbs"].items() if k != "functions"}
    assert sorted(res.data) == sorted(int(d) for d in dbs)
    for dbid, entries in dbs.items():
        got = res.data[int(dbid)]
        assert len(got) == len(entries)
        for e in entries:
            key = jb(e["key"])
            assert python_value(got[key]) == (e["type"], expected_value(e)), key
            assert res.expires[int(dbid)].get(key) == e["expire_at_ms"], key
    if "functions" in exp["dbs"]:
        names = [code.split(b"name=", 1)[1].split()[0].decode() for code in res.functions]
        assert names == exp["dbs"]["functions"]


@pytest.mark.parametrize("name", FAILING)
def test_loader_refuses_corrupt_fixture(name: str) -> None:
    exp = expected(name)
    with pytest.raises(rdb.RdbError) as ei:
        rdb.load_file(str(FIXTURES / f"{name}.rdb"))
    # Redis' reason (after "-> ") is the same text
    want = [line.split("-> ", 1)[1] for line in exp["reason"] if "-> " in line]
    got = [line.split("-> ", 1)[1] for line in ei.value.lines if "-> " in line]
    assert want == got


def test_expired_keys_kept_when_asked() -> None:
    res = rdb.load_file(str(FIXTURES / "expired-keys.rdb"), drop_expired=False)
    assert res.keys_expired == 0 and len(res.data[0]) == 3
    res = rdb.load_file(str(FIXTURES / "expired-keys.rdb"))
    assert res.keys_expired == 2 and list(res.data[0]) == [b"stays"]


def test_empty_keys_are_skipped_and_counted() -> None:
    res = rdb.load_file(str(FIXTURES / "corrupt_empty_keys.rdb"))
    assert res.empty_keys_skipped == 9 and res.data == {}


def test_aof_preamble_reports_where_the_rdb_ends() -> None:
    data = (FIXTURES / "rdb-preamble.aof").read_bytes()
    res = rdb.load(data, preamble=True)
    assert res.data == {0: {b"k1": b"v1", b"k2": b"v2"}}
    assert data[res.end_offset:].startswith(b"*2\r\n$6\r\nSELECT")


def _with_fixed_crc(data: bytes) -> bytes:
    return data[:-8] + struct.pack("<Q", crc64(0, data[:-8]))


def test_every_truncation_is_a_clear_error() -> None:
    data = (FIXTURES / "alltypes.rdb").read_bytes()
    step = max(1, len(data) // 400)
    for cut in range(0, len(data) - 1, step):
        with pytest.raises(rdb.RdbError) as ei:
            rdb.load(data[:cut])
        assert ei.value.lines, cut


def test_bit_flips_never_escape_as_python_errors() -> None:
    """Corrupt bytes (CRC recomputed so the parser sees them) end in RdbError or a valid load."""
    data = bytearray((FIXTURES / "alltypes.rdb").read_bytes())
    for pos in range(9, len(data) - 9, max(1, len(data) // 300)):
        for flip in (0x01, 0x80, 0xFF):
            bad = bytearray(data)
            bad[pos] ^= flip
            try:
                rdb.load(_with_fixed_crc(bytes(bad)))
            except rdb.RdbError:
                pass


def test_checksum_mismatch_and_zero_checksum() -> None:
    data = (FIXTURES / "strings.rdb").read_bytes()
    bad = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(rdb.RdbError, match="RDB CRC error"):
        rdb.load(bad)
    assert rdb.load(bad, verify_checksum=False).keys_loaded == 8
    unchecked = data[:-8] + b"\0" * 8
    assert rdb.load(unchecked).keys_loaded == 8
    assert rdb.load_file(str(FIXTURES / "nocompress-nochecksum.rdb")).keys_loaded == 3


def test_signature_and_version_errors() -> None:
    with pytest.raises(rdb.RdbError, match="Wrong signature"):
        rdb.load(b"REDIX0011\xff" + b"\0" * 8)
    with pytest.raises(rdb.RdbError, match="Can't handle RDB format version 12"):
        rdb.load(b"REDIS0012\xff" + b"\0" * 8)
    with pytest.raises(rdb.RdbError, match="Can't handle RDB format version 0"):
        rdb.load(b"REDIS0000\xff")


def _rdb(version: int, body: bytes) -> bytes:
    data = b"REDIS%04d" % version + body + b"\xff"
    if version >= 5:
        data += struct.pack("<Q", crc64(0, data))
    return data


def test_old_formats_built_by_hand() -> None:
    """Version 1 (no checksum), ascii-double zsets, EXPIRETIME in seconds, IDLE/FREQ, module aux."""
    body = (b"\xfe\x00"
            + b"\x03\x01z\x02\x01a\x031.5\x01b\xfe"  # zset, ascii doubles: a=1.5, b=+inf
            + b"\xfd" + struct.pack("<i", 2000000000) + b"\x00\x01k\x01v"  # EXPIRETIME seconds
            + b"\xf8\x05\xf9\x07\x00\x02k2\x02v2")  # IDLE 5, FREQ 7
    res = rdb.load(_rdb(1, body))
    z = res.data[0][b"z"]
    assert list(z.items()) == [(b"a", 1.5), (b"b", math.inf)]
    assert res.expires[0] == {b"k": 2000000000 * 1000}
    assert res.data[0][b"k2"] == b"v2"
    # module AUX data of a module we do not have: skipped (ids: when_opcode 2 = UINT)
    modaux = b"\xf7\x81" + (12345 << 10).to_bytes(8, "big") + b"\x02\x02" + b"\x02\x05\x05\x03abc\x00"
    res = rdb.load(_rdb(9, modaux + b"\x00\x01k\x01v"))
    assert res.data[0] == {b"k": b"v"}
    # a module value cannot be loaded without the module: refused like Redis
    with pytest.raises(rdb.RdbError, match="module data I can't load"):
        rdb.load(_rdb(9, b"\x07\x01k\x81" + (12345 << 10).to_bytes(8, "big") + b"\x00"))


def test_pre_ga_function_opcode() -> None:
    body = b"\xf6\x05mylib\x03LUA\x01\x04desc\x0areturn 1 \n"
    res = rdb.load(_rdb(10, body))
    assert res.functions == [b"#!LUA name=mylib\nreturn 1 \n"]


def test_duplicate_key_is_refused() -> None:
    with pytest.raises(rdb.RdbError, match="Duplicated key"):
        rdb.load(_rdb(9, b"\x00\x01k\x01v\x00\x01k\x01w"))


def test_selectdb_out_of_range() -> None:
    with pytest.raises(rdb.RdbError, match="more than 16 databases"):
        rdb.load(_rdb(9, b"\xfe\x20\x00\x01k\x01v"))


# -- the real server on each fixture ----------------------------------------------------------

def _ttl_via_save(srv: ServerProcess):
    """Absolute expiries as the server holds them: SAVE, then read the dump it wrote."""
    c = srv.client()
    assert c.save() is True
    c.close()
    res = rdb.load_file(os.path.join(srv.dir, "fixture.rdb"), drop_expired=False)

    def ttl_of(_c: redis.Redis, dbid: int, key: bytes) -> int | None:
        return res.expires.get(dbid, {}).get(key)

    return ttl_of


@pytest.mark.parametrize("name", LOADABLE)
def test_server_loads_fixture(name: str) -> None:
    srv = start_on_fixture(name)
    try:
        exp = expected(name)
        compare_server_to_json(srv.port, exp)
        compare_server_to_json(srv.port, exp, ttl_of=_ttl_via_save(srv))
        assert "Done loading RDB" in srv.log_text()
    finally:
        srv.stop()


@pytest.mark.parametrize("name", FAILING)
def test_server_refuses_corrupt_fixture(name: str) -> None:
    d = tempfile.mkdtemp(prefix="fastredis-rdb-")
    shutil.copy(FIXTURES / f"{name}.rdb", os.path.join(d, "fixture.rdb"))
    srv = ServerProcess(cwd=d, args=["--dbfilename", "fixture.rdb"], wait=False)
    try:
        code = srv.proc.wait(30)
        assert code == 1
        log = srv.log_text()
        for line in expected(name)["reason"]:
            assert line.split("-> ", 1)[-1] in log
        assert "Ready to accept connections" not in log
    finally:
        srv.stop()


def test_server_starts_empty_without_a_dump() -> None:
    srv = ServerProcess(args=["--dbfilename", "nothing-here.rdb"])
    try:
        assert srv.client().dbsize() == 0
        assert "DB loaded from disk" not in srv.log_text()
    finally:
        srv.stop()


def test_server_skips_rdb_when_appendonly(tmp_path: Path) -> None:
    """With appendonly yes the AOF owns loading: the RDB is not read."""
    shutil.copy(FIXTURES / "strings.rdb", tmp_path / "fixture.rdb")
    srv = ServerProcess(cwd=str(tmp_path), args=["--dbfilename", "fixture.rdb", "--appendonly", "yes"])
    try:
        assert srv.client().dbsize() == 0
    finally:
        srv.stop()


def test_compiled_codecs_agree_with_the_reference() -> None:
    """_rdbfast (built by setup.py) and the pure-Python CRC64/LZF give identical results."""
    import random

    from fastredis.persistence import _rdbfast, lzf
    from fastredis.persistence.crc64 import _crc64_py

    rnd = random.Random(7)
    assert _rdbfast.crc64(0, b"123456789") == 0xE9C6D914C4B8D9CA
    for _ in range(300):
        n = rnd.randint(0, 2000)
        data = bytes(rnd.choice(b"abcab\x00\xff") for _ in range(n)) if rnd.random() < 0.7 else os.urandom(n)
        assert _rdbfast.crc64(n, data) == _crc64_py(n, data)
        for packed in (_rdbfast.lzf_compress(data, 2 * n + 64), lzf._compress_py(data, 2 * n + 64)):
            assert _rdbfast.lzf_decompress(packed, n) == data
            assert lzf._decompress_py(packed, n) == data
        if n > 4:
            tight = _rdbfast.lzf_compress(data, n - 4)
            assert tight is None or (len(tight) <= n - 4 and lzf._decompress_py(tight, n) == data)
            packed = _rdbfast.lzf_compress(data, 2 * n + 64)
            bad = bytearray(packed)
            bad[rnd.randrange(len(bad))] ^= 0x5A
            for dec in (_rdbfast.lzf_decompress, lzf._decompress_py):
                try:
                    dec(bytes(bad), n)
                except ValueError:
                    pass


def test_loaded_zsets_take_redis_encoding_by_size(tmp_path):
    """After loading, a zset is listpack or skiplist by the current thresholds, like Redis' load-time conversion."""
    from fastredis.persistence import rdb
    from fastredis.types.zset import ZSet

    small, big = ZSet(), ZSet()
    small.add(b"a", 1.0)
    for i in range(200):
        big.add(b"m%d" % i, float(i))
    data = rdb.dump_bytes([(0, {b"small": small, b"big": big}, {})])
    res = rdb.load(data, zset_limits=(128, 64))
    assert res.data[0][b"small"].encoding == "listpack"
    assert res.data[0][b"big"].encoding == "skiplist"
    res = rdb.load(data, zset_limits=(1000, 64))
    assert res.data[0][b"big"].encoding == "listpack"
