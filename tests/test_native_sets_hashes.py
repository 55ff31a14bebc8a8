"""Native SADD/SPOP/SISMEMBER/SCARD/HSET/HGET (fastredis/_native_sets.pxi, _native_hashes.pxi).

Every sequence runs on three servers: fastredis with the natives active (the
shared ``server``), fastredis with keyspace notifications on (which disables the
natives: the Python handlers run) and a real redis-server.  Raw reply bytes
(RESP2 and RESP3) and the INFO counters the natives keep themselves (keyspace
hits/misses, rdb_changes_since_last_save) must be identical on all three.
"""

from __future__ import annotations

import time

import hiredis
import pytest
from conftest import RawClient, ServerProcess, aof_commands, same_reply

BIN = b"\x00\xff\r\n$*\x01"
SLEEP = ("SLEEP",)  # not a command: _run sleeps


@pytest.fixture(scope="module")
def python_path_server():
    """fastredis with notifications on: every command runs through its Python handler."""
    srv = ServerProcess(args=["--notify-keyspace-events", "KEA"])
    yield srv
    srv.stop()


@pytest.fixture
def servers(server, python_path_server, real_redis, r):
    """(name, port) of the three servers compared, natives first."""
    c = RawClient(server.port)
    assert c.call("CONFIG", "GET", "notify-keyspace-events").endswith(b"$0\r\n\r\n"), "natives disabled"
    c.close()
    return [("native", server.port), ("python", python_path_server.port), ("redis", real_redis.port)]


def _info(c: RawClient) -> dict[str, int]:
    out = {}
    for line in c.call("INFO", "all").decode("utf-8", "replace").splitlines():
        k, sep, v = line.partition(":")
        if sep and k in ("keyspace_hits", "keyspace_misses", "rdb_changes_since_last_save"):
            out[k] = int(v)
    return out


def _reply_end(buf: bytes, pos: int) -> int:
    """The end offset of the RESP reply that starts at ``pos``, -1 while it is incomplete."""
    eol = buf.find(b"\r\n", pos)
    if eol < 0:
        return -1
    kind = buf[pos:pos + 1]
    if kind in (b"$", b"=", b"!"):
        n = int(buf[pos + 1:eol])
        end = eol + 2 if n < 0 else eol + 2 + n + 2
        return end if end <= len(buf) else -1
    if kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(buf[pos + 1:eol])
        if kind in (b"%", b"|"):
            n *= 2
        p = eol + 2
        for _ in range(max(n, 0)):
            p = _reply_end(buf, p)
            if p < 0:
                return -1
        return p
    return eol + 2


def _read_replies(c: RawClient, n: int) -> list[bytes]:
    """The next ``n`` replies, each as its raw bytes."""
    buf = b""
    out: list[bytes] = []
    used = 0
    while len(out) < n:
        end = _reply_end(buf, used) if used < len(buf) else -1
        if end < 0:
            chunk = c.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
            continue
        out.append(buf[used:end])
        used = end
    assert used == len(buf), "more replies than commands"
    return out


def _send_all(c: RawClient, cmds: list[tuple]) -> None:
    """Send ``cmds`` in one write (a pipeline the server reads as one batch)."""
    parts = []
    for cmd in cmds:
        parts.append(b"*%d\r\n" % len(cmd))
        for a in cmd:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    c.sock.sendall(b"".join(parts))


def _run(port: int, cmds: list[tuple], resp: int, pipeline: int = 1) -> tuple[list[bytes], dict[str, int]]:
    """Run ``cmds`` in a flushed db 9 (``pipeline`` at a time): raw replies and INFO counter deltas."""
    c = RawClient(port, resp)
    try:
        c.call("SELECT", "9")
        c.call("FLUSHDB")
        before = _info(c)
        replies: list[bytes] = []
        for i in range(0, len(cmds), pipeline):
            batch = cmds[i:i + pipeline]
            if batch == [SLEEP]:
                time.sleep(0.02)  # let the PEXPIRE 1 before pass
                replies.append(b"")
                continue
            _send_all(c, batch)
            replies.extend(_read_replies(c, len(batch)))
        after = _info(c)
        return replies, {k: after[k] - before[k] for k in before}
    finally:
        c.close()


def _compare(servers, cmds: list[tuple], pipeline: int = 1, redis_stats: bool = True) -> None:
    """Same replies everywhere; same INFO deltas natives/Python path (and redis-server unless
    ``redis_stats`` is False: for a command whose counting differs between Redis 7.0 and 7.2)."""
    for resp in (2, 3):
        results, longest = {}, 0.0
        for name, port in servers:
            t0 = time.monotonic()
            results[name] = _run(port, cmds, resp, pipeline)
            longest = max(longest, time.monotonic() - t0)
        # a positive TTL may differ by what the clock allows within the longest run (conftest.same_reply)
        since = time.monotonic() - longest
        ref_replies, ref_stats = results["redis"]
        for name in ("native", "python"):
            replies, stats = results[name]
            for cmd, got, want in zip(cmds, replies, ref_replies):
                assert same_reply(cmd, got, want, since), f"{name} RESP{resp} {cmd!r}: {got!r} != redis {want!r}"
            assert stats == results["python"][1], f"RESP{resp}: natives {stats} != Python path {results['python'][1]}"
            if redis_stats:
                assert stats == ref_stats, f"{name} RESP{resp}: {stats} != redis {ref_stats}"


SETS = [
    ("SADD", "s", "a", "b", "a"),            # duplicates in one call
    ("SADD", "s", "b", "c"),
    ("SADD", "s", "a"),                      # nothing new: not dirty
    ("SADD", "s", BIN, b""),                 # binary and empty members
    ("SCARD", "s"), ("SCARD", "nokey"),
    ("SISMEMBER", "s", "a"), ("SISMEMBER", "s", BIN), ("SISMEMBER", "s", ""), ("SISMEMBER", "s", "zz"),
    ("SISMEMBER", "nokey", "a"),
    ("SADD", "one", BIN),
    ("SPOP", "one"),                         # pops the only member: the key goes
    ("EXISTS", "one"), ("SPOP", "one"), ("SPOP", "nokey"), ("SCARD", "one"),
    ("SPOP", "s", "1", "2"),                 # syntax error
    ("SPOP", "s", "-1"),
]

# Redis 7.0 counts a keyspace hit for SPOP with a count covering the whole set, 7.2 does not
SPOP_COUNT = [
    ("SADD", "n", "1", "2", "3"), ("SPOP", "n", "0"), ("SPOP", "n", "5"), ("EXISTS", "n"), ("SPOP", "n", "1"),
    ("SADD", "one", "x"), ("SPOP", "one", "1"), ("EXISTS", "one"),
]

HASHES = [
    ("HSET", "h", "f", "v"),
    ("HSET", "h", "f", "v2", "g", "w", "f", "v3"),  # duplicate field in one call
    ("HSET", "h", "f", "v4"),                        # no new field: still dirty
    ("HSET", "h", BIN, BIN, "", ""),
    ("HGET", "h", "f"), ("HGET", "h", "g"), ("HGET", "h", BIN), ("HGET", "h", ""), ("HGET", "h", "nofield"),
    ("HGET", "nokey", "f"),
    ("HSET", "h", "f", "v", "g"),                    # odd field/value count
    ("HSET", "h2", "a", "1", "b"),
    ("EXISTS", "h2"),
    ("HINCRBYFLOAT", "h", "num", "1.5"), ("HGET", "h", "num"),
    ("HLEN", "h"), ("HGETALL", "h"),
]

WRONG_TYPES = [
    ("SET", "str", "x"), ("RPUSH", "list", "a"), ("HSET", "hash", "f", "v"), ("SADD", "set", "m"),
    ("ZADD", "zset", "1", "m"),
    ("SADD", "str", "m"), ("SADD", "hash", "m"), ("SADD", "zset", "m"),
    ("SPOP", "str"), ("SPOP", "list"), ("SPOP", "hash"),
    ("SISMEMBER", "str", "m"), ("SISMEMBER", "hash", "f"), ("SCARD", "list"), ("SCARD", "zset"),
    ("HSET", "str", "f", "v"), ("HSET", "set", "f", "v"), ("HSET", "list", "f", "v"),
    ("HGET", "str", "f"), ("HGET", "set", "m"), ("HGET", "zset", "m"),
    ("SCARD", "set"), ("HGET", "hash", "f"),
]

TTL_KEYS = [
    ("SADD", "s", "a", "b"), ("EXPIRE", "s", "100"),
    ("SADD", "s", "c", "a"), ("SCARD", "s"), ("SISMEMBER", "s", "a"), ("SISMEMBER", "s", "z"),
    ("SADD", "one", "m"), ("EXPIRE", "one", "100"), ("SPOP", "one"), ("EXISTS", "one"),
    ("HSET", "h", "f", "v"), ("EXPIRE", "h", "100"),
    ("HSET", "h", "f", "w", "g", "x"), ("HGET", "h", "f"), ("HGET", "h", "q"), ("TTL", "h"), ("TTL", "s"),
    # already expired: lazily deleted by the lookup (a miss for reads)
    ("SADD", "gone", "a"), ("PEXPIRE", "gone", "1"), SLEEP,
    ("SISMEMBER", "gone", "a"),
    ("SADD", "gone2", "a"), ("PEXPIRE", "gone2", "1"), SLEEP, ("SCARD", "gone2"),
    ("HSET", "gh", "f", "v"), ("PEXPIRE", "gh", "1"), SLEEP, ("HGET", "gh", "f"),
    ("SADD", "gs", "a"), ("PEXPIRE", "gs", "1"), SLEEP, ("SADD", "gs", "b"),
    ("SCARD", "gs"), ("TTL", "gs"),
    ("HSET", "gh2", "f", "v"), ("PEXPIRE", "gh2", "1"), SLEEP, ("HSET", "gh2", "g", "w"),
    ("TTL", "gh2"),
    ("SADD", "gp", "a"), ("PEXPIRE", "gp", "1"), SLEEP, ("SPOP", "gp"),
]


def test_sets(servers):
    _compare(servers, SETS)


def test_spop_count_falls_back(servers):
    _compare(servers, SPOP_COUNT, redis_stats=False)


def test_hashes(servers):
    _compare(servers, HASHES)


def test_wrong_types(servers):
    _compare(servers, WRONG_TYPES)


def test_ttl_keys(servers):
    """Keys with a TTL fall back to the Python handlers (expired ones whenever active expiry deletes them:
    a read of a missing key is a miss either way, and deleting an expired key is not dirty)."""
    _compare(servers, TTL_KEYS)


def test_pipelines_of_16(servers):
    cmds: list[tuple] = []
    for i in range(8):
        cmds += [("SADD", f"s{i % 3}", f"m{i}", f"m{i % 2}"), ("HSET", f"h{i % 3}", f"f{i % 4}", f"v{i}")]
    for i in range(8):
        cmds += [("SISMEMBER", f"s{i % 4}", f"m{i}"), ("HGET", f"h{i % 4}", f"f{i}")]
    for i in range(8):
        cmds += [("SCARD", f"s{i % 4}"), ("SADD", f"p{i}", BIN), ("SPOP", f"p{i}"), ("SPOP", f"p{i}")]
    cmds += [("SET", "str", "x"), ("SADD", "str", "m"), ("HGET", "str", "f"), ("HSET", "h0", "a", "b", "c")] * 4
    assert len(cmds) % 16 == 0
    _compare(servers, cmds, pipeline=16)


def _value(rep: bytes):
    reader = hiredis.Reader()
    reader.feed(rep)
    return reader.gets()


def _spop_all(port: int, resp: int, members: list[bytes], pipeline: int) -> tuple[list[bytes], list[bytes]]:
    """Fill a set, pop ``pipeline`` members at a time until it is gone; (popped, SCARD replies)."""
    c = RawClient(port, resp)
    try:
        c.call("SELECT", "9")
        c.call("FLUSHDB")
        for i in range(0, len(members), 500):
            c.call("SADD", "s", *members[i:i + 500])
        popped: list[bytes] = []
        cards: list[bytes] = []
        done = False
        while not done:
            _send_all(c, [("SPOP", "s")] * pipeline + [("SCARD", "s")])
            replies = _read_replies(c, pipeline + 1)
            cards.append(replies[-1])
            for rep in replies[:-1]:
                if rep in (b"$-1\r\n", b"_\r\n"):
                    done = True
                else:
                    assert rep[:1] == b"$", rep
                    popped.append(_value(rep))
        assert c.call("EXISTS", "s") == b":0\r\n"
        return popped, cards
    finally:
        c.close()


@pytest.mark.parametrize("size", [5, 1030])
def test_spop_random_members(servers, size):
    """Members are random: every member comes out exactly once, the set shrinks alike everywhere
    (1030 members: the first pops take the big-set branch, set.pop())."""
    members = [b"m%d" % i for i in range(size - 1)] + [BIN]
    for resp in (2, 3):
        results = {name: _spop_all(port, resp, members, 16) for name, port in servers}
        for name, (popped, cards) in results.items():
            assert sorted(popped) == sorted(members), name
            assert cards == results["redis"][1], name


def test_spop_picks_random_members(server):
    """The native picks a random member of a small set (not always the same one)."""
    firsts = set()
    for _ in range(30):
        popped, _ = _spop_all(server.port, 2, [b"a", b"b", b"c", b"d"], 1)
        firsts.add(popped[0])
    assert len(firsts) > 1


def test_watch_disables_native_writes(servers):
    """A WATCHed key is invalidated by SADD/SPOP/HSET from another client (the natives fall back)."""
    for cmd in (("SADD", "k", "x"), ("SPOP", "k"), ("HSET", "k2", "f", "v")):
        got = {}
        for name, port in servers:
            a, b = RawClient(port), RawClient(port)
            try:
                a.call("FLUSHALL")
                a.call("SADD", "k", "m")
                a.call("HSET", "k2", "f", "x")
                a.call("WATCH", cmd[1])
                b.call(*cmd)
                a.call("MULTI")
                a.call("SCARD", "k")
                got[name] = a.call("EXEC")
            finally:
                a.close()
                b.close()
        assert got["native"] == got["python"] == got["redis"] == b"*-1\r\n", (cmd, got)


@pytest.fixture
def aof_pair():
    """Two fastredis servers writing an AOF: natives active, and notifications on (Python path)."""
    args = ["--appendonly", "yes", "--appendfsync", "always"]
    native = ServerProcess(args=args)
    python = ServerProcess(args=args + ["--notify-keyspace-events", "KEA"])
    yield native, python
    native.stop()
    python.stop()


AOF_CMDS = [
    ("SADD", "s", "a", "b", "a"), ("SADD", "s", "a"), ("SADD", "one", BIN), ("SPOP", "one"), ("SPOP", "one"),
    ("SPOP", "nokey"), ("HSET", "h", "f", "v", "f", "w"), ("HSET", "h", "f", "v"), ("HGET", "h", "f"),
    ("SISMEMBER", "s", "a"), ("SCARD", "s"), ("SADD", "two", "x", "y"), ("SPOP", "two"), ("SPOP", "two"),
    ("SPOP", "two"), ("HSET", "h", BIN, BIN),
] * 2


def test_propagation_with_aof(aof_pair):
    """With an AOF, SPOP is logged as SREM of the member popped; the rest as the Python path logs it."""
    logs = []
    for srv in aof_pair:
        c = RawClient(srv.port)
        try:
            start = len(aof_commands(srv))
            _send_all(c, AOF_CMDS[:16])
            first = _read_replies(c, 16)
            _send_all(c, AOF_CMDS[16:])
            replies = first + _read_replies(c, 16)
            logs.append((aof_commands(srv)[start:], replies))
        finally:
            c.close()
    (native_log, native_replies), (python_log, python_replies) = logs

    def det(log):  # "two" pops in a random order
        return [cmd for cmd in log if cmd[:2] != [b"SREM", b"two"]]

    assert det(native_log) == det(python_log)
    assert native_log.count([b"SREM", b"one", BIN]) == 2
    assert not any(cmd[0].upper() == b"SPOP" for cmd in native_log)
    assert native_log.count([b"SADD", b"s", b"a"]) == 0  # added nothing: not propagated
    assert native_log.count([b"HSET", b"h", b"f", b"v"]) == 2  # HSET always is
    for replies, log in ((native_replies, native_log), (python_replies, python_log)):
        popped = [_value(replies[i]) for i in (12, 13, 28, 29)]
        assert [cmd for cmd in log if cmd[:2] == [b"SREM", b"two"]] == [[b"SREM", b"two", m] for m in popped]
        assert sorted(popped) == [b"x", b"x", b"y", b"y"]
    assert [r for i, r in enumerate(native_replies) if i % 16 not in (12, 13)] == \
        [r for i, r in enumerate(python_replies) if i % 16 not in (12, 13)]


def test_spop_replayed_from_aof():
    """The AOF native SPOPs leave behind loads back into the same set."""
    args = ["--appendonly", "yes", "--appendfsync", "always"]
    srv = ServerProcess(args=args)
    try:
        c = RawClient(srv.port)
        c.call("SADD", "s", *[f"m{i}" for i in range(20)])
        _send_all(c, [("SPOP", "s")] * 16)
        _read_replies(c, 16)
        left = sorted(_value(c.call("SMEMBERS", "s")))
        c.close()
    finally:
        srv.stop()
    assert len(left) == 4
    srv = ServerProcess(args=args, cwd=srv.dir)
    try:
        assert sorted(_value(RawClient(srv.port).call("SMEMBERS", "s"))) == left
    finally:
        srv.stop()
