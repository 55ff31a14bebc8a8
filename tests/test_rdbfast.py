"""The native RDB keyspace walk (_rdbfast.dump_database) against the pure-Python writer, byte for byte."""

from __future__ import annotations

import io
import random
from collections import deque

import pytest

from fastredis.persistence import rdb
from fastredis.types.stream import Stream
from fastredis.types.zset import ZSet

pytestmark = pytest.mark.skipif(rdb._dump_database is None, reason="the _rdbfast extension is not built")


def _dump(data, expires, opts, native):
    buf = io.BytesIO()
    w = rdb.RdbWriter(buf, opts=opts, native=native)
    w.header({b"redis-ver": b"7.2.4"})
    w.database(0, data, expires)
    w.finish()
    return buf.getvalue()


def _strings(rnd: random.Random) -> list[bytes]:
    edge = [b"", b"0", b"-0", b"00", b"-", b"+1", b"1", b"-1", b"127", b"128", b"-128", b"-129", b"32767",
            b"32768", b"-32768", b"-32769", b"2147483647", b"2147483648", b"-2147483648", b"-2147483649",
            b"4095", b"4096", b"-4096", b"-4097", b"8388607", b"8388608", b"-8388608", b"-8388609",
            b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
            b"-9223372036854775809", b"12345678901", b"1234567890123456789012", b"1e5", b" 1", b"1 ",
            b"a" * 21, b"ab" * 40, bytes(range(256)), b"x" * 5000, b"\x00\xff" * 3000, b"y" * 70000]
    out = list(edge)
    for _ in range(150):
        n = rnd.choice([1, 5, 11, 12, 20, 21, 63, 64, 65, 200, 4095, 4096, 5000])
        alphabet = rnd.choice([b"ab", b"0123456789", bytes(range(256))])
        out.append(bytes(rnd.choice(alphabet) for _ in range(n)))
    return out


def _dataset(rnd: random.Random) -> tuple[dict, dict]:
    strs = _strings(rnd)
    data: dict = {}
    expires: dict = {}
    for i, s in enumerate(strs):
        data[b"s:%d" % i] = s
    data[b"ba"] = bytearray(b"appended" * 10)
    for i in range(25):
        n = rnd.choice([1, 3, 64, 127, 128, 129, 300])
        data[b"h:%d" % i] = {rnd.choice(strs) + b"%d" % j: rnd.choice(strs) for j in range(n)}
        data[b"l:%d" % i] = deque(rnd.choice(strs) for _ in range(rnd.choice([1, 2, 63, 64, 65, 129, 1000])))
        ints = {b"%d" % rnd.randint(-2**63, 2**63 - 1) for _ in range(rnd.choice([1, 5, 511, 512, 513]))}
        small = {b"%d" % rnd.randint(-40000, 40000) for _ in range(rnd.choice([1, 5, 200]))}
        data[b"si:%d" % i] = ints
        data[b"ss:%d" % i] = small
        data[b"sm:%d" % i] = {rnd.choice(strs) + b"%d" % j for j in range(rnd.choice([1, 10, 128, 129, 400]))}
        z = ZSet()
        for j in range(rnd.choice([1, 10, 128, 129, 700])):
            score = rnd.choice([0.0, -0.0, 1.0, -3.0, 2.5, 1e20, 1e-7, float("inf"), float("-inf"),
                                rnd.random(), rnd.randint(-10**6, 10**6), 2.0**62, 2.0**63, -2.0**62, 3.3e300])
            z.add(rnd.choice(strs)[:100] + b"%d" % j, score)
        z.convert_if_needed(128, 64)
        data[b"z:%d" % i] = z
    st = Stream()
    st.entries[(1, 0)] = [b"f", b"v"]
    st.entries[(2, 5)] = [b"f", b"w", b"g", b"x"]
    st.last_id = (2, 5)
    st.entries_added = 2
    data[b"stream"] = st
    for k in list(data)[::3]:
        expires[k] = rnd.randint(0, 2**62)
    expires[b"s:0"] = -5
    return data, expires


@pytest.mark.parametrize("seed", [1])
@pytest.mark.parametrize("opts", [
    rdb.SaveOptions(),
    rdb.SaveOptions(compress=False),
    rdb.SaveOptions(hash_max_listpack_entries=0, set_max_intset_entries=0, set_max_listpack_entries=0,
                    zset_max_listpack_entries=0, list_max_listpack_size=3),
    rdb.SaveOptions(hash_max_listpack_value=1000, set_max_listpack_value=5000, zset_max_listpack_value=0,
                    list_max_listpack_size=-5, set_max_intset_entries=100000),
    rdb.SaveOptions(list_max_listpack_size=-1),
    rdb.SaveOptions(list_max_listpack_size=0),
    rdb.SaveOptions(list_max_listpack_size=-9),
])
def test_native_walk_matches_python(seed, opts):
    data, expires = _dataset(random.Random(seed))
    native = _dump(data, expires, opts, True)
    python = _dump(data, expires, opts, False)
    assert native == python
    res = rdb.load(native, drop_expired=False)
    assert set(res.data[0]) == set(data)


def test_deque_layout_after_rotations():
    """Deques that grew at both ends, were rotated and popped read back in order."""
    q: deque = deque()
    rnd = random.Random(7)
    for i in range(5000):
        if rnd.random() < 0.5:
            q.append(b"%d" % i)
        else:
            q.appendleft(b"%d" % i)
        if rnd.random() < 0.1:
            q.rotate(rnd.randint(-100, 100))
        if rnd.random() < 0.2 and q:
            q.pop() if rnd.random() < 0.5 else q.popleft()
    data = {b"q": q}
    assert _dump(data, {}, rdb.SaveOptions(), True) == _dump(data, {}, rdb.SaveOptions(), False)


def _norm(res: rdb.LoadResult) -> dict:
    out = {}
    for dbid, d in res.data.items():
        for k, v in d.items():
            if isinstance(v, ZSet):
                v = ("zset", sorted(v.dict.items()), list(v.sl), v.big)
            elif isinstance(v, Stream):
                v = ("stream", list(v.entries.items()), v.last_id)
            out[(dbid, k)] = (type(v).__name__, v, res.expires.get(dbid, {}).get(k))
    return out


def _load_both(blob: bytes, **kw):
    outcomes = []
    for native in (True, False):
        try:
            res = rdb.load(blob, native=native, now_ms=10**13 // 2, **kw)
            outcomes.append(("ok", _norm(res), res.keys_loaded, res.keys_expired, res.empty_keys_skipped,
                             res.log, res.aux, res.functions))
        except rdb.RdbError as e:
            outcomes.append(("error", e.lines))
    return outcomes


def test_native_load_matches_python_on_real_redis_files():
    from conftest import SHARED

    files = sorted((SHARED / "rdb").glob("*.rdb"))
    assert files
    for f in files:
        native, python = _load_both(f.read_bytes())
        assert native == python, f.name


@pytest.mark.parametrize("opts", [rdb.SaveOptions(), rdb.SaveOptions(compress=False),
                                  rdb.SaveOptions(hash_max_listpack_entries=0, set_max_intset_entries=0,
                                                  set_max_listpack_entries=0, zset_max_listpack_entries=0)])
def test_native_load_matches_python(opts):
    data, expires = _dataset(random.Random(3))
    blob = _dump(data, expires, opts, True)
    for drop in (True, False):
        native, python = _load_both(blob, drop_expired=drop)
        assert native == python
        assert native[0] == "ok"


def test_native_load_hands_every_damaged_record_to_python():
    """Truncations and flipped bytes anywhere: both loaders fail (or succeed) alike, with the same words."""
    data, expires = _dataset(random.Random(4))
    small = {k: v for k, v in list(data.items())[:120]}
    blob = _dump(small, {k: v for k, v in expires.items() if k in small}, rdb.SaveOptions(), True)
    rnd = random.Random(5)
    for _ in range(150):
        damaged = bytearray(blob)
        if rnd.random() < 0.3:
            damaged = damaged[:rnd.randrange(9, len(damaged))]
        else:
            for _ in range(rnd.randint(1, 4)):
                damaged[rnd.randrange(9, len(damaged))] = rnd.randrange(256)
        native, python = _load_both(bytes(damaged), verify_checksum=False)
        assert native == python
