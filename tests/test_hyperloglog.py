"""HyperLogLog: PFADD/PFCOUNT/PFMERGE/PFDEBUG/PFSELFTEST.

The string value must be byte-identical to Redis' (RDB, replication and GET expose it), so
most tests here are differential: the same commands go to a real redis-server and to
fastredis and the raw replies, including ``GET`` of the HLL, must match exactly.
"""

from __future__ import annotations

import random

import pytest
import redis
from conftest import REDIS_SERVER, RawClient, ServerProcess, diff_replies, err

from fastredis import hll


@pytest.fixture
def ports(server, real_redis):
    return real_redis.port, server.port


@pytest.fixture(scope="module")
def small_sparse_pair():
    """fastredis and redis-server both with hll-sparse-max-bytes 300 (early promotion)."""
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed")
    args = ["--hll-sparse-max-bytes", "300"]
    real = ServerProcess(cmd=[REDIS_SERVER], args=args + ["--appendonly", "no"])
    ours = ServerProcess(args=args)
    yield real.port, ours.port
    real.stop()
    ours.stop()


def elements(rnd: random.Random, n: int) -> list[bytes]:
    kinds = [
        lambda: str(rnd.random()).encode(),
        lambda: b"e%d" % rnd.randrange(10**9),
        lambda: bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 20))),
    ]
    return [rnd.choice(kinds)() for _ in range(n)]


def pfadd_script(rnd: random.Random, key: str, batches: list[int]) -> list[tuple]:
    cmds: list[tuple] = []
    for n in batches:
        cmds.append(("PFADD", key, *elements(rnd, n)))
        cmds.append(("GET", key))
        if rnd.random() < 0.5:
            cmds.append(("PFCOUNT", key))
            cmds.append(("GET", key))  # the cached cardinality lives in the header
    return cmds


# -- byte-identical representation -------------------------------------------------------


def test_pfadd_sparse_bytes_identical(ports):
    rnd = random.Random(1)
    cmds = [("PFADD", "h"), ("GET", "h"), ("PFCOUNT", "h"), ("GET", "h"), ("PFADD", "h"), ("GET", "h"),
            ("PFADD", "h2", "a", "b", "c"), ("GET", "h2"), ("PFADD", "h2", "a"), ("GET", "h2"),
            ("PFADD", "h2", ""), ("GET", "h2")]
    cmds += pfadd_script(rnd, "h", [1, 1, 2, 5, 10, 30, 100, 200, 300])
    diff_replies(*ports, cmds)


def test_pfadd_promotion_and_dense_bytes_identical(ports):
    rnd = random.Random(2)
    # crosses hll-sparse-max-bytes (3000) inside one PFADD and then keeps adding to the dense form
    cmds = pfadd_script(rnd, "h", [500, 1000, 700, 2000, 3000, 5, 1, 10000])
    cmds += [("PFCOUNT", "h"), ("GET", "h"), ("PFDEBUG", "ENCODING", "h")]
    diff_replies(*ports, cmds)


def test_many_small_pfadds_identical(ports):
    rnd = random.Random(3)
    cmds = []
    for i in range(4):
        cmds += pfadd_script(rnd, "h%d" % i, [rnd.randint(1, 4) for _ in range(150)])
    diff_replies(*ports, cmds)


def test_small_sparse_limit_identical(small_sparse_pair):
    rnd = random.Random(4)
    cmds = pfadd_script(rnd, "h", [3, 10, 20, 40, 80, 200])
    cmds += pfadd_script(rnd, "g", [1] * 120)
    cmds += [("PFDEBUG", "ENCODING", "h"), ("PFDEBUG", "ENCODING", "g")]
    diff_replies(*small_sparse_pair, cmds)


def dense_value(raw: bytes, stale: bool = True) -> bytes:
    """A hand-made dense HLL with the given one-per-byte registers."""
    hdr = b"HYLL\x00" + bytes(10) + (b"\x80" if stale else b"\x00")
    return hdr + bytes(hll.lanes_to_dense_regs(hll.raw_to_lanes(raw)))


def test_extreme_registers_identical(ports):
    """Crafted dense HLLs: saturated registers overflow llroundl exactly like Redis on x86-64."""
    cmds: list[tuple] = []
    rnd = random.Random(13)
    for i, raw in enumerate([bytes([51]) * 16384, bytes([50]) * 16384, bytes([63]) * 16384,
                             bytes([40]) * 16384, bytes([49]) * 16384, bytes([51]) * 16383 + b"\x01",
                             bytes(rnd.randrange(64) for _ in range(16384)),
                             bytes(rnd.choice([0, 0, 0, 1, 2, 33]) for _ in range(16384))]):
        key = "x%d" % i
        cmds += [("SET", key, dense_value(raw)), ("PFCOUNT", key), ("GET", key), ("PFCOUNT", key),
                 ("PFCOUNT", key, "missing"), ("PFADD", "s%d" % i, "a", "b"), ("PFMERGE", "s%d" % i, key),
                 ("GET", "s%d" % i)]
    diff_replies(*ports, cmds)


def test_sparse_set_above_32_promotes():
    """A pattern longer than a VAL can hold (p = 2^-32 per element) promotes to dense."""
    ed = hll.SparseEditor(hll.EMPTY_SPARSE)
    assert ed.set(100, 32, 3000) == 1
    assert ed.set(100, 33, 3000) == hll.PROMOTE
    dense = ed.to_dense()
    assert hll.dense_set(dense, 100, 33) == 1
    assert hll.dense_get(dense, 100) == 33
    assert hll.dense_get(dense, 99) == 0 and hll.dense_get(dense, 101) == 0


def test_pfcount_matches_and_caches(ports):
    rnd = random.Random(5)
    cmds = []
    for n in (0, 1, 10, 100, 1000, 5000, 20000):
        key = "c%d" % n
        cmds += [("PFADD", key, *elements(rnd, n)), ("PFCOUNT", key), ("GET", key), ("PFCOUNT", key)]
    cmds.append(("PFCOUNT", "c10", "c100", "c1000", "c5000", "c20000", "missing"))
    cmds.append(("PFCOUNT", "c0", "c1"))
    cmds.append(("PFCOUNT", "missing", "missing2"))
    cmds.append(("PFCOUNT", "missing"))
    diff_replies(*ports, cmds)


def test_pfmerge_identical(ports):
    rnd = random.Random(6)
    cmds = [("PFADD", "s1", *elements(rnd, 50)), ("PFADD", "s2", *elements(rnd, 80)),
            ("PFADD", "s3", *elements(rnd, 30)), ("PFADD", "d1", *elements(rnd, 4000)),
            ("PFADD", "d2", *elements(rnd, 9000))]
    cmds += [
        ("PFMERGE", "m1", "s1", "s2"), ("GET", "m1"), ("PFCOUNT", "m1"),  # sparse + sparse -> sparse
        ("PFMERGE", "m1", "s3"), ("GET", "m1"),  # the destination is a source too
        ("PFMERGE", "m2", "s1", "d1"), ("GET", "m2"),  # one dense source -> dense
        ("PFMERGE", "s3", "d2"), ("GET", "s3"),  # sparse destination converted
        ("PFMERGE", "d1", "s2"), ("GET", "d1"),
        ("PFMERGE", "m3", "missing"), ("GET", "m3"),  # missing sources create an empty HLL
        ("PFMERGE", "m4"), ("GET", "m4"),
        ("PFMERGE", "s1"), ("GET", "s1"),
        ("PFMERGE", "m5", "s1", "s2", "s3", "d1", "d2", "missing"), ("GET", "m5"), ("PFCOUNT", "m5"),
        ("PFCOUNT", "s1", "s2", "s3", "d1", "d2"),
    ]
    diff_replies(*ports, cmds)


def test_pfmerge_many_sparse_promotes_midway(ports):
    rnd = random.Random(7)
    cmds = [("PFADD", "p%d" % i, *elements(rnd, 600)) for i in range(5)]
    cmds += [("PFMERGE", "m", "p0", "p1", "p2", "p3", "p4"), ("GET", "m"), ("PFDEBUG", "ENCODING", "m")]
    cmds += [("PFMERGE", "m2", "p0", "p1"), ("GET", "m2"), ("PFDEBUG", "ENCODING", "m2")]
    diff_replies(*ports, cmds)


def test_pfdebug_identical(ports):
    rnd = random.Random(8)
    cmds = [("PFADD", "h", *elements(rnd, 30)), ("PFDEBUG", "DECODE", "h"), ("PFDEBUG", "ENCODING", "h"),
            ("PFDEBUG", "GETREG", "h"), ("GET", "h"), ("PFDEBUG", "ENCODING", "h"),
            ("PFDEBUG", "DECODE", "h"), ("PFDEBUG", "TODENSE", "h"),
            ("PFADD", "h2", "x"), ("PFDEBUG", "TODENSE", "h2"), ("GET", "h2"), ("PFDEBUG", "todense", "h2"),
            ("PFDEBUG", "GETREG", "missing"), ("PFDEBUG", "NOPE", "h"), ("PFDEBUG", "NOPE", "missing"),
            ("PFDEBUG", "GETREG"), ("PFDEBUG", "GETREG", "h", "x"),
            ("SET", "str", "hello"), ("PFDEBUG", "ENCODING", "str"),
            ("PFADD", "e"), ("PFDEBUG", "decode", "e")]
    diff_replies(*ports, cmds)


def test_errors_identical(ports):
    sparse = "HYLL\x01" + "\x00" * 11
    cmds = [
        ("LPUSH", "l", "x"), ("PFADD", "l", "a"), ("PFCOUNT", "l"), ("PFCOUNT", "l", "missing"),
        ("PFMERGE", "l", "missing"), ("PFMERGE", "m", "l"),
        ("SET", "s", "not an hll at all"), ("PFADD", "s", "a"), ("PFCOUNT", "s"), ("PFMERGE", "s"),
        ("SET", "short", "HYLL"), ("PFCOUNT", "short"),
        ("SET", "n", 123), ("PFADD", "n", "a"),
        ("PFADD", "h", "a", "b", "c"), ("APPEND", "h", "hello"), ("PFCOUNT", "h"), ("PFCOUNT", "h", "h"),
        ("PFMERGE", "m", "h"), ("PFDEBUG", "GETREG", "h"),
        ("PFADD", "h2", "a"), ("SETRANGE", "h2", 0, "0123"), ("PFCOUNT", "h2"),
        ("PFADD", "h3", "a"), ("SETRANGE", "h3", 4, "x"), ("PFCOUNT", "h3"),
        ("PFADD", "h4", "a"), ("SETRANGE", "h4", 4, "\x00"), ("PFCOUNT", "h4"), ("PFADD", "h4", "zz"),
        ("SET", "empty", sparse), ("PFCOUNT", "empty"), ("PFADD", "empty", "a"), ("GET", "empty"),
        ("PFADD",), ("PFCOUNT",), ("PFMERGE",),
    ]
    diff_replies(*ports, cmds)


def test_corrupted_fuzz_identical(ports):
    """Random byte corruption: every reply, and the bytes left behind, match Redis."""
    rnd = random.Random(9)
    cmds: list[tuple] = []
    for j in range(150):
        key = "f%d" % j
        cmds.append(("PFADD", key, *elements(rnd, rnd.choice([3, 30, 300, 3000]))))
        for _ in range(rnd.randint(1, 3)):
            cmds.append(("SETRANGE", key, rnd.randrange(16, 300), bytes((rnd.randrange(256),))))
        cmds += [("PFCOUNT", key), ("GET", key), ("PFADD", key, *elements(rnd, rnd.choice([1, 5, 50]))),
                 ("GET", key), ("PFCOUNT", key, "missing"), ("PFMERGE", "m", key), ("GET", "m")]
    diff_replies(*ports, cmds)


# -- semantics on fastredis alone ----------------------------------------------------------------


def test_pfadd_return_values(r):
    assert r.pfadd("h") == 1  # creates an (empty) HLL
    assert r.get("h") == hll.EMPTY_SPARSE[:15] + b"\x80" + hll.EMPTY_SPARSE[16:]
    assert r.pfadd("h") == 0
    assert r.pfcount("h") == 0
    assert r.pfadd("h", "a", "b", "c") == 1
    assert r.pfadd("h", "a", "b", "c") == 0
    assert r.pfadd("h", "") == 1  # the empty string is an element too
    assert r.pfcount("h") == 4


def test_pfcount_cache(r):
    r.pfadd("h", "a", "b", "c")
    assert r.getrange("h", 15, 15) == b"\x80"
    assert r.pfcount("h") == 3
    assert r.getrange("h", 15, 15) == b"\x00"
    assert r.getrange("h", 8, 15) == (3).to_bytes(8, "little")
    r.pfadd("h", "a", "b", "c")
    assert r.getrange("h", 15, 15) == b"\x00"
    r.pfadd("h", "1", "2", "3")
    assert r.getrange("h", 15, 15) == b"\x80"
    assert r.pfcount("h") == 6
    # a valid cached value is trusted as is (Redis does not recompute it)
    r.setrange("h", 8, (1234).to_bytes(8, "little"))
    assert r.pfcount("h") == 1234


def test_pfcount_accuracy_and_promotion(r):
    rnd = random.Random(10)
    n = 0
    for _ in range(120):
        batch = [str(rnd.random()).encode() for _ in range(100)]
        n += len(batch)
        r.pfadd("h", *batch)
        card = r.pfcount("h")
        assert abs(card - n) < card / 100 * 5
        enc = r.execute_command("PFDEBUG", "ENCODING", "h")
        if n < 1000:
            assert enc == b"sparse"
        elif n > 10000:
            assert enc == b"dense"
    assert r.strlen("h") == hll.DENSE_SIZE


def test_sparse_and_dense_agree(r):
    rnd = random.Random(11)
    for i in range(40):
        h1, h2 = "h1-%d" % i, "h2-%d" % i
        els = [str(rnd.random()) for _ in range(rnd.randrange(100))]
        r.pfadd(h2)
        assert r.execute_command("PFDEBUG", "TODENSE", h2) == 1
        r.pfadd(h1, *els)
        r.pfadd(h2, *els)
        assert r.execute_command("PFDEBUG", "ENCODING", h1) == b"sparse"
        assert r.execute_command("PFDEBUG", "ENCODING", h2) == b"dense"
        assert r.pfcount(h1) == r.pfcount(h2)
        assert r.execute_command("PFDEBUG", "GETREG", h1) == r.execute_command("PFDEBUG", "GETREG", h2)


def test_pfmerge_union(r):
    r.pfadd("a", "x", "y", "z")
    r.pfadd("b", "z", "w")
    assert r.pfmerge("u", "a", "b") is True
    assert r.pfcount("u") == 4
    assert r.pfcount("a", "b") == 4
    assert r.pfcount("a", "b", "missing") == 4
    assert r.pfmerge("empty", "missing") is True
    assert r.pfcount("empty") == 0
    assert r.get("empty")[:4] == b"HYLL"
    assert r.pfmerge("a") is True  # destination only: still a valid HLL, unchanged registers
    assert r.pfcount("a") == 3


def test_pfmerge_dest_is_a_source(r):
    r.pfadd("a", "1", "2")
    r.pfadd("b", "3")
    r.pfmerge("a", "b")
    assert r.pfcount("a") == 3


def test_type_errors(r):
    wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value"
    not_hll = "WRONGTYPE Key is not a valid HyperLogLog string value."
    r.rpush("l", "x")
    assert err(r.pfadd, "l", "a") == wrongtype
    assert err(r.pfcount, "l") == wrongtype
    assert err(r.pfmerge, "m", "l") == wrongtype
    r.set("s", "bar")
    assert err(r.pfadd, "s", "a") == not_hll
    assert err(r.pfcount, "s") == not_hll
    assert err(r.pfcount, "s", "s") == not_hll
    assert err(r.pfmerge, "m", "s") == not_hll
    assert err(r.execute_command, "PFDEBUG", "GETREG", "s") == not_hll
    assert r.get("m") is None  # nothing created on error


def test_corruption_detected(r):
    invalid = "INVALIDOBJ Corrupted HLL object detected"
    r.pfadd("h", "a", "b", "c")
    r.append("h", "hello")
    assert err(r.pfcount, "h") == invalid
    assert err(r.pfcount, "h", "missing") == invalid
    assert err(r.pfmerge, "m", "h") == invalid
    r.pfadd("h1", "a", "b", "c")
    r.setrange("h1", 0, "0123")
    assert err(r.pfcount, "h1").startswith("WRONGTYPE")
    r.pfadd("h2", "a", "b", "c")
    r.setrange("h2", 4, "x")
    assert err(r.pfcount, "h2").startswith("WRONGTYPE")
    r.pfadd("h3", "a", "b", "c")
    r.setrange("h3", 4, "\x00")  # claims dense with a sparse length
    assert err(r.pfcount, "h3").startswith("WRONGTYPE")


def test_corrupted_sparse_huge_runs_do_not_overflow(r):
    """Redis' CVE-2025-32023 regression: run lengths past 2^32 registers are rejected."""
    header = b"HYLL\x01" + bytes(11)
    xzero = bytes((0x40 | (16383 >> 8), 16383 & 0xFF))
    r.set("h", header + xzero * (131072 + 1000) + b"\xff")
    invalid = "INVALIDOBJ Corrupted HLL object detected"
    assert err(r.pfcount, "h", "h") == invalid
    assert err(r.execute_command, "PFDEBUG", "GETREG", "h") == invalid
    assert r.pfcount("h") == 0  # a valid cached cardinality is trusted, like Redis
    r.setrange("h", 15, b"\x80")
    assert err(r.pfcount, "h") == invalid
    assert err(r.pfadd, "h", "a") == invalid
    assert r.ping()


def test_corrupted_fuzz_never_internal_error(r):
    rnd = random.Random(12)
    for i in range(300):
        h = "h%d" % i
        r.pfadd(h, *[str(rnd.random()) for _ in range(rnd.randrange(1, 3000))])
        for _ in range(rnd.randint(1, 5)):
            r.setrange(h, rnd.randrange(r.strlen(h)), bytes((rnd.randrange(256),)))
        for cmd in (("PFCOUNT", h), ("PFADD", h, "x", "y"), ("PFCOUNT", h, h), ("PFMERGE", "m%d" % i, h)):
            try:
                r.execute_command(*cmd)
            except redis.ResponseError as e:
                assert str(e).startswith(("INVALIDOBJ", "WRONGTYPE")), str(e)


def test_pfdebug(r):
    r.pfadd("h", "a")
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"sparse"
    decoded = r.execute_command("PFDEBUG", "DECODE", "h")
    assert decoded.startswith(b"Z:") and b"v:" in decoded
    regs = r.execute_command("PFDEBUG", "GETREG", "h")
    assert len(regs) == 16384 and sum(1 for x in regs if x) == 1
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"dense"  # GETREG converts
    assert r.strlen("h") == hll.DENSE_SIZE
    assert err(r.execute_command, "PFDEBUG", "DECODE", "h") == "HLL encoding is not sparse"
    assert r.execute_command("PFDEBUG", "TODENSE", "h") == 0
    assert err(r.execute_command, "PFDEBUG", "GETREG", "missing") == "The specified key does not exist"
    assert err(r.execute_command, "PFDEBUG", "FOO", "h") == "Unknown PFDEBUG subcommand 'FOO'"
    assert "wrong number of arguments" in err(r.execute_command, "PFDEBUG", "GETREG")


def test_pfselftest(r):
    assert r.execute_command("PFSELFTEST") == b"OK"


def test_hll_module_estimator_edge_cases():
    hist = [0] * 64
    hist[0] = hll.REGISTERS
    assert hll.count_from_histogram(hist) == 0
    hist = [0] * 64
    hist[hll.Q + 1] = hll.REGISTERS  # every register saturated: llroundl overflows
    assert hll.count_from_histogram(hist) == 1 << 63
    assert hll.as_reply(1 << 63) == -(2**63)
    # (register, pattern length) as redis-server's PFDEBUG DECODE shows them after one PFADD
    assert hll.pat_len(b"") == (5938, 2)
    assert hll.pat_len(b"a") == (12711, 2)
    assert hll.pat_len(b"foobar") == (1910, 4)
    assert hll.pat_len(b"0123456789abcdef") == (5949, 1)
    assert hll.pat_len(b"hello world!") == (8716, 3)


def test_raw_reply_of_pfadd(server):
    c = RawClient(server.port)
    try:
        c.call("FLUSHALL")
        assert c.call("PFADD", "rawh", "a") == b":1\r\n"
        assert c.call("PFADD", "rawh", "a") == b":0\r\n"
        assert c.call("PFCOUNT", "rawh") == b":1\r\n"
        assert c.call("PFMERGE", "rawh") == b"+OK\r\n"
    finally:
        c.close()


def test_pfcount_cache_update_reaches_the_aof():
    """PFCOUNT rewrites the cached cardinality: Redis propagates it so the AOF/replicas match."""
    import os

    srv = ServerProcess(args=["--appendonly", "yes"])
    try:
        c = srv.client()
        c.pfadd("h", "a", "b")
        assert c.pfcount("h") == 2
        assert c.pfcount("h") == 2  # cached now: nothing more to propagate
        before = c.get("h")
        path = os.path.join(srv.dir, "appendonlydir", "appendonly.aof.1.incr.aof")
        with open(path, "rb") as f:
            aof = f.read()
        assert aof.count(b"PFCOUNT") == 1
        srv.stop()
        srv = ServerProcess(args=["--appendonly", "yes"], cwd=srv.dir, port=srv.port)
        assert srv.client().get("h") == before  # replayed to the same bytes, cache included
    finally:
        srv.stop()


def test_ttl_and_encoding_identical(ports):
    cmds = [
        ("PFADD", "h", "a"), ("EXPIRE", "h", 1000), ("PFADD", "h", "b", "c"), ("TTL", "h"),
        ("PFCOUNT", "h"), ("TTL", "h"), ("PFMERGE", "h", "missing"), ("TTL", "h"),
        ("OBJECT", "ENCODING", "h"), ("TYPE", "h"), ("PFDEBUG", "TODENSE", "h"), ("TTL", "h"),
        ("OBJECT", "ENCODING", "h"), ("DEL", "h"), ("PFADD", "h"), ("OBJECT", "ENCODING", "h"),
        ("PFMERGE", "m", "h"), ("OBJECT", "ENCODING", "m"),
    ]
    diff_replies(*ports, cmds)
