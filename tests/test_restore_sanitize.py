"""RESTORE under sanitize-dump-payload no|yes|clients: refusals, the verbose log line and the
dump_payload_sanitizations counter, compared with a real redis-server."""

from __future__ import annotations

import struct

import pytest
import redis
from conftest import ServerProcess, wait_until

from fastredis.persistence import rdb
from fastredis.persistence.encodings import listpack_encode


def _payload(rtype: int, blob: bytes) -> bytes:
    body = bytes((rtype,)) + bytes((len(blob),)) + blob + struct.pack("<H", 10)
    return body + struct.pack("<Q", rdb.crc64(0, body))


GOOD_HASH = _payload(rdb.T_HASH_LISTPACK, listpack_encode([b"a", b"1", b"b", b"2"]))
DUP_HASH = _payload(rdb.T_HASH_LISTPACK, listpack_encode([b"a", b"1", b"a", b"2"]))
ODD_HASH = _payload(rdb.T_HASH_LISTPACK, listpack_encode([b"a", b"1", b"b"]))
DUP_ZSET = _payload(rdb.T_ZSET_LISTPACK, listpack_encode([b"a", b"1", b"a", b"2"]))


@pytest.fixture(scope="module")
def pair(real_redis: ServerProcess):
    ours = ServerProcess(args=["--loglevel", "verbose"])
    theirs = ServerProcess(cmd=[real_redis.proc.args[0]], args=["--loglevel", "verbose", "--appendonly", "no"])
    yield ours, theirs
    ours.stop()
    theirs.stop()


def _restore(r: redis.Redis, payload: bytes) -> str:
    r.delete("k")
    try:
        return str(r.restore("k", 0, payload))
    except redis.ResponseError as e:
        return "ERR " + str(e)


def _sanitizations(r: redis.Redis) -> int:
    return int(r.info("stats")["dump_payload_sanitizations"])


@pytest.mark.parametrize("payload", [DUP_HASH, ODD_HASH, DUP_ZSET], ids=["dup-hash", "odd-hash", "dup-zset"])
def test_corrupt_payload_refused_under_sanitize_yes(pair, payload: bytes) -> None:
    for srv in pair:
        r = srv.client()
        r.config_set("sanitize-dump-payload", "yes")
        before = _sanitizations(r)
        assert _restore(r, payload) == "ERR Bad data format"
        assert _sanitizations(r) == before + 1
        assert r.exists("k") == 0
        r.config_set("sanitize-dump-payload", "no")


def test_refusal_is_logged_at_verbose_level(pair) -> None:
    for srv in pair:
        r = srv.client()
        r.config_set("sanitize-dump-payload", "yes")
        assert _restore(r, DUP_HASH) == "ERR Bad data format"
        r.config_set("sanitize-dump-payload", "no")
        wait_until(lambda s=srv: any(
            " - Internal error in RDB reading offset 0, function at rdb.c:" in line
            and line.endswith("-> Hash listpack integrity check failed.")
            for line in s.log_text().splitlines()), timeout=5)


def test_sanitizations_counted_like_redis(pair) -> None:
    counts = []
    for srv in pair:
        r = srv.client()
        r.execute_command("ACL", "SETUSER", "skipper", "on", "nopass", "+@all", "~*", "skip-sanitize-payload")
        r.execute_command("ACL", "SETUSER", "plain", "on", "nopass", "+@all", "~*")
        seen = []
        for mode in ("no", "yes", "clients"):
            r.config_set("sanitize-dump-payload", mode)
            for user in ("default", "skipper", "plain"):
                c = srv.client(username=user, password="x") if user != "default" else srv.client()
                before = _sanitizations(r)
                assert _restore(c, GOOD_HASH) == "b'OK'"
                seen.append(_sanitizations(r) - before)
                c.close()
        r.config_set("sanitize-dump-payload", "no")
        counts.append(seen)
    assert counts[0] == counts[1]
    assert counts[1] == [0, 0, 0, 1, 1, 1, 1, 0, 1]
