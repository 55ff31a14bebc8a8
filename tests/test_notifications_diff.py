"""Keyspace notifications diffed with a real redis-server: the same commands, the same ordered events.

Both servers get the same notify-keyspace-events setting and a PSUBSCRIBE ``__key*__:*`` client;
after the workload a marker message is published, and everything received before it is compared.
"""

from __future__ import annotations

import socket
import time

import hiredis
import pytest
from conftest import RawClient

SLEEP = ("SLEEP",)

WORKLOAD: list[tuple] = [
    # strings
    ("SET", "s1", "v"), ("SET", "s1", "v2", "XX"), ("SET", "s1", "v3", "NX"), ("SET", "s1", "v4", "GET"),
    ("SETNX", "s2", "a"), ("SETNX", "s2", "b"), ("SETEX", "s3", "100", "v"), ("PSETEX", "s4", "100000", "v"),
    ("GETSET", "s1", "x"), ("GETDEL", "s2"), ("GETDEL", "nokey"), ("GETEX", "s1", "EX", "100"),
    ("GETEX", "s1", "PERSIST"), ("GETEX", "s1"), ("APPEND", "s5", "abc"), ("APPEND", "s5", "def"),
    ("SETRANGE", "s5", "1", "ZZ"), ("SETRANGE", "s6", "0", ""), ("INCR", "n"), ("INCRBY", "n", "5"),
    ("DECR", "n"), ("DECRBY", "n", "2"), ("INCRBYFLOAT", "f", "1.5"), ("MSET", "m1", "1", "m2", "2"),
    ("MSETNX", "m3", "1", "m1", "x"), ("MSETNX", "m3", "1", "m4", "2"), ("SET", "s3", "v", "KEEPTTL"),
    ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "1"), ("BITOP", "OR", "b2", "b", "b"),
    ("BITOP", "AND", "b3", "nokey"), ("BITFIELD", "bf", "SET", "u8", "0", "255"), ("BITFIELD", "bf", "GET", "u8", "0"),
    ("PFADD", "hll", "a", "b"), ("PFADD", "hll", "a"), ("PFMERGE", "hll2", "hll"), ("GET", "s1"), ("STRLEN", "s1"),
    # lists
    ("LPUSH", "l", "a", "b"), ("RPUSH", "l", "c"), ("LPUSHX", "l", "d"), ("RPUSHX", "nol", "d"),
    ("LINSERT", "l", "BEFORE", "c", "x"), ("LINSERT", "l", "BEFORE", "zz", "x"), ("LSET", "l", "0", "D"),
    ("LREM", "l", "0", "x"), ("LTRIM", "l", "0", "1"), ("LPOP", "l"), ("RPOP", "l"), ("RPOP", "l"),
    ("RPUSH", "l", "1", "2", "3"), ("LMOVE", "l", "l2", "LEFT", "RIGHT"), ("RPOPLPUSH", "l", "l"),
    ("LMPOP", "1", "l", "LEFT", "COUNT", "5"), ("BLPOP", "l2", "1"), ("RPUSH", "l3", "a"),
    ("BLMOVE", "l3", "l4", "LEFT", "LEFT", "1"), ("BLMPOP", "1", "1", "l4", "RIGHT"), ("LTRIM", "nol", "0", "1"),
    ("RPUSH", "l5", "a", "b"), ("LTRIM", "l5", "5", "10"),
    # hashes
    ("HSET", "h", "a", "1", "b", "2"), ("HSETNX", "h", "a", "x"), ("HSETNX", "h", "c", "3"), ("HMSET", "h", "d", "4"),
    ("HINCRBY", "h", "a", "2"), ("HINCRBYFLOAT", "h", "a", "0.5"), ("HDEL", "h", "zz"), ("HDEL", "h", "a", "b"),
    ("HDEL", "h", "c", "d"), ("HGET", "h", "a"),
    # sets
    ("SADD", "st", "a", "b", "c"), ("SADD", "st", "a"), ("SREM", "st", "a"), ("SREM", "st", "zz"),
    ("SMOVE", "st", "st2", "b"), ("SMOVE", "st", "st2", "zz"), ("SADD", "st", "1", "2"), ("SPOP", "st"),
    ("SINTERSTORE", "st3", "st", "st2"), ("SUNIONSTORE", "st3", "st", "st2"), ("SDIFFSTORE", "st4", "st2", "st"),
    ("SINTERSTORE", "st4", "st", "nokey"), ("SPOP", "st2", "10"), ("SADD", "st5", "x"), ("SREM", "st5", "x"),
    # sorted sets
    ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"), ("ZADD", "z", "1", "a"), ("ZADD", "z", "XX", "5", "a"),
    ("ZINCRBY", "z", "1", "b"), ("ZREM", "z", "a"), ("ZREM", "z", "zz"), ("ZREMRANGEBYSCORE", "z", "0", "3"),
    ("ZADD", "z", "1", "e", "2", "f"), ("ZREMRANGEBYRANK", "z", "0", "0"), ("ZREMRANGEBYLEX", "z", "-", "+"),
    ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZPOPMIN", "z"), ("ZPOPMAX", "z"), ("BZPOPMIN", "z", "1"),
    ("ZADD", "z", "1", "a", "2", "b"), ("ZUNIONSTORE", "z2", "1", "z"), ("ZINTERSTORE", "z3", "2", "z", "z2"),
    ("ZDIFFSTORE", "z4", "1", "z"), ("ZRANGESTORE", "z5", "z", "0", "-1"), ("ZINTERSTORE", "z3", "2", "z", "nokey"),
    ("ZMPOP", "1", "z5", "MIN", "COUNT", "9"), ("BZMPOP", "1", "1", "z4", "MAX"),
    ("GEOADD", "geo", "13.361389", "38.115556", "Palermo"), ("GEOSEARCHSTORE", "geo2", "geo", "FROMLONLAT", "15", "37",
                                                           "BYRADIUS", "200", "km", "ASC"),
    # streams
    ("XADD", "x", "1-0", "a", "1"), ("XADD", "x", "MAXLEN", "1", "2-0", "a", "1"), ("XADD", "x", "3-0", "a", "1"),
    ("XDEL", "x", "2-0"), ("XDEL", "x", "9-0"), ("XTRIM", "x", "MAXLEN", "0"), ("XTRIM", "x", "MAXLEN", "0"),
    ("XGROUP", "CREATE", "x", "g", "0"), ("XGROUP", "CREATE", "x2", "g", "$", "MKSTREAM"),
    ("XGROUP", "SETID", "x", "g", "0"), ("XGROUP", "CREATECONSUMER", "x", "g", "c"),
    ("XGROUP", "CREATECONSUMER", "x", "g", "c"), ("XADD", "x", "4-0", "a", "1"),
    ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "x", ">"), ("XACK", "x", "g", "4-0"),
    ("XCLAIM", "x", "g", "c", "0", "4-0", "FORCE"), ("XAUTOCLAIM", "x", "g", "c2", "0", "0"),
    ("XGROUP", "DELCONSUMER", "x", "g", "c"), ("XGROUP", "DELCONSUMER", "x", "g", "nobody"),
    ("XGROUP", "DESTROY", "x", "g"), ("XSETID", "x", "10-0"),
    # keyspace
    ("SET", "k1", "v"), ("SET", "k2", "v"), ("DEL", "k1", "k2", "nokey"), ("SET", "k1", "v"), ("UNLINK", "k1"),
    ("SET", "k1", "v"), ("RENAME", "k1", "k2"), ("RENAMENX", "k2", "k2"), ("SET", "k3", "v"), ("RENAMENX", "k2", "k3"),
    ("RENAME", "k2", "k2"), ("MOVE", "k2", "10"), ("SELECT", "10"), ("MOVE", "k2", "9"), ("SELECT", "9"),
    ("COPY", "k3", "k4"), ("COPY", "k3", "k4"), ("COPY", "k3", "k4", "REPLACE"), ("COPY", "k3", "k5", "DB", "10"),
    ("EXPIRE", "k3", "100"), ("PEXPIRE", "k3", "100000"), ("EXPIREAT", "k3", "99999999999"),
    ("PEXPIREAT", "k3", "99999999999999"), ("EXPIRE", "k3", "100", "NX"), ("PERSIST", "k3"), ("PERSIST", "k3"),
    ("EXPIRE", "k4", "0"), ("SET", "k4", "v"), ("PEXPIREAT", "k4", "1"), ("SET", "k6", "v", "EX", "100"),
    ("SET", "k6", "v", "PXAT", "1"), ("GET", "k6"), ("TOUCH", "k3"), ("SORT", "l5", "STORE", "sorted"),
    ("RPUSH", "l6", "3", "1"), ("SORT", "l6", "STORE", "sorted"), ("SORT", "nokey", "STORE", "sorted"),
    # one expiring key at a time: the active expiry cycle visits keys in hash order
    ("SET", "k7", "v", "PX", "20"), SLEEP, ("GET", "k7"), ("HSET", "k8", "f", "v"), ("PEXPIRE", "k8", "20"), SLEEP,
    ("HGET", "k8", "f"), ("EXISTS", "k7"), ("TYPE", "k3"),
    ("SET", "k9", "v"), ("RESTORE", "k10", "0", "RESTOREPAYLOAD"), ("RESTORE", "k9", "0", "RESTOREPAYLOAD", "REPLACE"),
    ("SWAPDB", "9", "10"), ("SWAPDB", "9", "10"), ("FLUSHDB",),
    ("SET", "last", "v"), ("GET", "nokey"), ("MGET", "nokey", "last"), ("HGET", "nokey", "f"), ("LRANGE", "nokey", "0", "1"),
]


def _send(sock: socket.socket, *args) -> None:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    sock.sendall(b"".join(parts))


def _events(port: int, flags: str, workload: list[tuple]) -> list:
    """Run the workload on db 9 with ``flags`` and return every event the subscriber got, in order."""
    cl = RawClient(port)
    cl.call("SELECT", "10")
    cl.call("FLUSHDB")
    cl.call("SELECT", "9")
    cl.call("FLUSHDB")
    cl.call("SET", "payload-src", "restored")
    payload = cl.call("DUMP", "payload-src")
    reader = hiredis.Reader()
    reader.feed(payload)
    dump = reader.gets()
    cl.call("DEL", "payload-src")
    reader.feed(cl.call("CONFIG", "GET", "notify-keyspace-events"))
    old_value = reader.gets()[1]
    cl.call("CONFIG", "SET", "notify-keyspace-events", flags)
    sub = socket.create_connection(("127.0.0.1", port), timeout=5)
    _send(sub, "PSUBSCRIBE", "__key*__:*")
    sub_reader = hiredis.Reader()
    got: list = []

    def pump(until) -> None:
        deadline = time.time() + 10
        while time.time() < deadline:
            while True:
                msg = sub_reader.gets()
                if msg is False:
                    break
                got.append(msg)
            if until():
                return
            data = sub.recv(65536)
            assert data, "subscriber disconnected"
            sub_reader.feed(data)
        raise AssertionError("events did not arrive")

    pump(lambda: len(got) >= 1)
    assert got.pop(0)[0] == b"psubscribe"
    try:
        for cmd in workload:
            if cmd == SLEEP:
                time.sleep(0.1)
                continue
            cl.call(*[dump if a == "RESTOREPAYLOAD" else a for a in cmd])
        # a blocked pop served by another client's push
        blocked = socket.create_connection(("127.0.0.1", port), timeout=5)
        _send(blocked, "SELECT", "9")
        _send(blocked, "BLPOP", "bl", "5")
        deadline = time.time() + 15
        while b"blocked_clients:1" not in cl.call("INFO", "clients") and time.time() < deadline:
            time.sleep(0.01)
        cl.call("RPUSH", "bl", "a", "b")
        blocked.settimeout(5)
        buf = b""
        while buf.count(b"\r\n") < 4:  # +OK for SELECT, then the BLPOP reply
            buf += blocked.recv(65536)
        blocked.close()
        cl.call("PUBLISH", "__keyspace@9__:END", "marker")
        pump(lambda: bool(got) and got[-1][-1] == b"marker")
    finally:
        cl.call("CONFIG", "SET", "notify-keyspace-events", old_value)
        sub.close()
        cl.close()
    return got[:-1]


@pytest.mark.parametrize("flags", ["KEA", "Kg", "E$", "Elshzxt", "KEm", "AKE"])
def test_keyspace_events_match_redis(server, real_redis, flags):
    ours = _events(server.port, flags, WORKLOAD)
    theirs = _events(real_redis.port, flags, WORKLOAD)
    if ours != theirs:
        import difflib

        diff = "\n".join(difflib.unified_diff([repr(e) for e in theirs], [repr(e) for e in ours],
                                              "redis", "fastredis", lineterm="", n=2))
        pytest.fail(f"event streams differ for {flags!r}:\n{diff}")
    assert ours  # every flag set above produces events
