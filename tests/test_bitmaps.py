"""Bitmap commands on fastredis: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

Byte-for-byte comparisons with a real redis-server live in test_bitmaps_diff.py; this file
covers semantics, every error text, Redis 7.2 specifics the installed 7.0 does not share,
notifications/WATCH and config-dependent limits.
"""

from __future__ import annotations

import random
import time

import pytest
import redis
from conftest import ServerProcess, err


@pytest.fixture(scope="module")
def custom():
    """A server with keyspace events on and a 1mb proto-max-bulk-len."""
    srv = ServerProcess(args=["--notify-keyspace-events", "KEA", "--proto-max-bulk-len", "1mb"])
    yield srv
    srv.stop()


@pytest.fixture
def cr(custom):
    c = custom.client()
    c.flushall()
    yield c
    c.close()


def subscribe(c, pattern: str):
    ps = c.pubsub()
    ps.psubscribe(pattern)
    assert ps.get_message(timeout=10)["type"] == "psubscribe"
    return ps


def events_until(ps, c, end_cmd: tuple) -> list[tuple[bytes, bytes]]:
    """Events received before the one caused by ``end_cmd`` (run on key ``end``)."""
    c.execute_command(*end_cmd)
    out = []
    deadline = time.time() + 15
    while time.time() < deadline:
        m = ps.get_message(timeout=0.2)
        if m and m["type"] == "pmessage":
            if m["data"] == b"end":
                ps.close()
                return out
            out.append((m["channel"], m["data"]))
    raise AssertionError("end marker event not received")


# -- SETBIT / GETBIT ---------------------------------------------------------------------


def test_setbit_basic(r):
    assert r.setbit("k", 7, 1) == 0
    assert r.get("k") == b"\x01"
    assert r.setbit("k", 7, 1) == 1
    assert r.setbit("k", 0, 1) == 0
    assert r.get("k") == b"\x81"
    assert r.setbit("k", 7, 0) == 1
    assert r.get("k") == b"\x80"
    assert r.setbit("k", 17, 1) == 0
    assert r.get("k") == b"\x80\x00\x40"
    assert r.getbit("k", 17) == 1
    assert r.getbit("k", 16) == 0
    assert r.getbit("k", 0) == 1
    assert r.getbit("k", 10**6) == 0
    assert r.getbit("missing", 5) == 0


def test_setbit_on_existing_string_and_integer(r):
    r.set("s", "abc")
    assert r.setbit("s", 1, 0) == 1  # 'a' = 0x61
    assert r.get("s") == b"!bc"
    r.set("n", 12)
    assert r.getbit("n", 2) == 1  # '1' = 0x31
    assert r.setbit("n", 7, 0) == 1
    assert r.get("n") == b"02"
    # repeated updates keep extending the same value
    for i in range(200):
        r.setbit("s", 24 + i * 3, 1)
    assert r.strlen("s") == (24 + 199 * 3) // 8 + 1
    assert r.bitcount("s") == bin(int.from_bytes(b"!bc", "big")).count("1") + 200


def test_setbit_errors(r):
    assert err(r.setbit, "k", -1, 1) == "bit offset is not an integer or out of range"
    assert err(r.setbit, "k", "x", 1) == "bit offset is not an integer or out of range"
    assert err(r.setbit, "k", 4 * 1024 * 1024 * 1024, 1) == "bit offset is not an integer or out of range"
    setbit = lambda *a: r.execute_command("SETBIT", *a)  # noqa: E731
    assert err(setbit, "k", 1, 2) == "bit is not an integer or out of range"
    assert err(setbit, "k", 1, -1) == "bit is not an integer or out of range"
    assert err(setbit, "k", 1, "on") == "bit is not an integer or out of range"
    assert err(r.getbit, "k", -1) == "bit offset is not an integer or out of range"
    assert err(r.getbit, "k", 4 * 1024 * 1024 * 1024) == "bit offset is not an integer or out of range"
    assert r.get("k") is None
    r.rpush("l", "x")
    assert err(r.setbit, "l", 1, 1).startswith("WRONGTYPE")
    assert err(r.getbit, "l", 1).startswith("WRONGTYPE")
    assert "wrong number of arguments" in err(r.execute_command, "SETBIT", "k", 1)
    assert "wrong number of arguments" in err(r.execute_command, "GETBIT", "k")


def test_setbit_max_offset_counts_proto_max_bulk_len(cr):
    limit_bits = 1024 * 1024 * 8
    assert err(cr.setbit, "k", limit_bits, 1) == "bit offset is not an integer or out of range"
    assert cr.setbit("k", limit_bits - 1, 1) == 0
    assert cr.strlen("k") == 1024 * 1024
    assert cr.bitcount("k") == 1
    assert cr.bitpos("k", 1) == limit_bits - 1
    assert err(cr.getbit, "k", limit_bits) == "bit offset is not an integer or out of range"


def test_setbit_notifies_and_touches_watch_only_on_change(cr, custom):
    ps = subscribe(cr, "__keyevent@0__:*")
    cr.setbit("k", 3, 1)
    cr.setbit("k", 3, 1)  # no change: Redis 7.2 neither notifies nor bumps dirty
    cr.setbit("k", 3, 0)
    got = events_until(ps, cr, ("SETBIT", "end", 0, 1))
    assert got == [(b"__keyevent@0__:setbit", b"k"), (b"__keyevent@0__:setbit", b"k")]

    c2 = custom.client()
    pipe = cr.pipeline()
    pipe.watch("k")
    c2.setbit("k", 3, 0)  # unchanged: WATCH stays valid
    pipe.multi()
    pipe.get("k")
    assert pipe.execute() == [b"\x00"]
    pipe = cr.pipeline()
    pipe.watch("k")
    c2.setbit("k", 3, 1)
    pipe.multi()
    pipe.get("k")
    with pytest.raises(redis.WatchError):
        pipe.execute()
    c2.close()


def test_setbit_growth_counts_as_change(cr):
    ps = subscribe(cr, "__keyevent@0__:setbit")
    cr.setbit("k", 0, 0)  # creates the key: notified though the bit stays 0
    cr.setbit("k", 100, 0)  # grows it
    cr.setbit("k", 50, 0)  # nothing
    assert len(events_until(ps, cr, ("SETBIT", "end", 0, 1))) == 2
    assert cr.get("k") == bytes(13)


# -- BITCOUNT ----------------------------------------------------------------------------


def test_bitcount(r):
    r.set("s", "foobar")
    assert r.bitcount("s") == 26
    assert r.bitcount("s", 0, 0) == 4
    assert r.bitcount("s", 1, 1) == 6
    assert r.bitcount("s", 1, 1, "BYTE") == 6
    assert r.bitcount("s", 5, 30, "BIT") == 17
    assert r.bitcount("s", -1, -1) == 4
    assert r.bitcount("s", -1, -2) == 0
    assert r.bitcount("s", 2, 1) == 0
    assert r.bitcount("s", 0, 1000) == 26
    assert r.bitcount("s", -1000, 1000, "bit") == 26
    assert r.bitcount("missing") == 0
    assert r.bitcount("missing", 0, -1, "BIT") == 0


def test_bitcount_matches_naive_count():
    from fastredis.commands.bitmaps import popcount

    rnd = random.Random(5)
    data = bytes(rnd.randrange(256) for _ in range(3000))
    for _ in range(50):
        a = rnd.randrange(len(data))
        b = rnd.randrange(a, len(data) + 1)
        assert popcount(data, a, b) == sum(bin(x).count("1") for x in data[a:b])


def test_bitcount_large_string(cr):
    cr.setrange("big", 1024 * 1024 - 1, b"\xff")
    cr.setbit("big", 0, 1)
    assert cr.bitcount("big") == 9
    assert cr.bitcount("big", 1, -1) == 8
    assert cr.bitcount("big", 0, -2) == 1


def test_bitcount_errors(r):
    r.set("s", "foobar")
    assert err(r.execute_command, "BITCOUNT", "s", 0) == "syntax error"
    assert err(r.execute_command, "BITCOUNT", "s", 0, 1, "BITS") == "syntax error"
    assert err(r.execute_command, "BITCOUNT", "s", 0, 1, "BIT", 1) == "syntax error"
    assert err(r.execute_command, "BITCOUNT", "s", "a", 1) == "value is not an integer or out of range"
    assert err(r.execute_command, "BITCOUNT", "s", 0, "1.0") == "value is not an integer or out of range"
    r.rpush("l", "x")
    assert err(r.bitcount, "l").startswith("WRONGTYPE")
    assert err(r.bitcount, "l", -1, -2).startswith("WRONGTYPE")


def test_bitcount_missing_key_still_validates_arguments(r):
    # Redis 7.2: arguments are parsed before the key lookup (7.0 answered 0)
    assert err(r.execute_command, "BITCOUNT", "missing", 0) == "syntax error"
    assert err(r.execute_command, "BITCOUNT", "missing", "a", 1) == "value is not an integer or out of range"
    assert err(r.execute_command, "BITCOUNT", "missing", 0, 1, "x") == "syntax error"


# -- BITPOS ------------------------------------------------------------------------------


def test_bitpos(r):
    r.set("k", b"\xff\xf0\x00")
    assert r.bitpos("k", 0) == 12
    assert r.bitpos("k", 1) == 0
    assert r.bitpos("k", 0, 2) == 16
    assert r.bitpos("k", 1, 2) == -1
    assert r.bitpos("k", 1, 7, 15, "BIT") == 7
    assert r.bitpos("k", 0, 7, 15, "BIT") == 12
    assert r.bitpos("k", 0, 0, 11, "BIT") == -1
    r.set("ones", b"\xff\xff\xff")
    # without an explicit end the string is zero padded on the right...
    assert r.bitpos("ones", 0) == 24
    assert r.bitpos("ones", 0, 1) == 24
    # ...with an explicit end the range must contain the clear bit
    assert r.bitpos("ones", 0, 0, -1) == -1
    assert r.bitpos("ones", 0, 0, 100) == -1
    assert r.bitpos("ones", 0, 2, 23, "BIT") == -1
    r.set("zeros", bytes(3))
    assert r.bitpos("zeros", 1) == -1
    assert r.bitpos("zeros", 0) == 0
    assert r.bitpos("zeros", 0, 1) == 8
    assert r.bitpos("missing", 0) == 0
    assert r.bitpos("missing", 1) == -1
    assert r.bitpos("missing", 0, 5, 10, "BIT") == 0
    r.set("e", "")
    assert r.bitpos("e", 0) == -1
    assert r.bitpos("e", 1) == -1
    assert r.bitpos("k", 1, 2, 1) == -1


def test_bitpos_long_strings():
    from fastredis.commands.bitmaps import bitpos_raw

    data = b"\x00" * 1000 + b"\x10" + b"\xff" * 1000
    assert bitpos_raw(data, 0, len(data), 1) == 8003
    assert bitpos_raw(data, 0, len(data), 0) == 0
    assert bitpos_raw(data, 1001, 1000, 0) == 8000
    assert bitpos_raw(data, 1001, 1000, 1) == 0
    assert bitpos_raw(data, 0, 1000, 1) == -1


def test_bitpos_errors(r):
    r.set("k", "x")
    assert err(r.execute_command, "BITPOS", "k", 2) == "The bit argument must be 1 or 0."
    assert err(r.execute_command, "BITPOS", "k", -1) == "The bit argument must be 1 or 0."
    assert err(r.execute_command, "BITPOS", "k", "x") == "value is not an integer or out of range"
    assert err(r.execute_command, "BITPOS", "k", 1, "x") == "value is not an integer or out of range"
    assert err(r.execute_command, "BITPOS", "k", 1, 0, "x") == "value is not an integer or out of range"
    assert err(r.execute_command, "BITPOS", "k", 1, 0, 1, "bits") == "syntax error"
    assert err(r.execute_command, "BITPOS", "k", 1, 0, "x", "foo") == "syntax error"  # unit checked first
    assert err(r.execute_command, "BITPOS", "k", 1, 0, 1, "BIT", 1) == "syntax error"
    # Redis 7.2: missing keys do not short-circuit argument validation
    assert err(r.execute_command, "BITPOS", "missing", 1, 0, 1, "bits") == "syntax error"
    assert err(r.execute_command, "BITPOS", "missing", 1, "x") == "value is not an integer or out of range"
    assert err(r.execute_command, "BITPOS", "missing", 3) == "The bit argument must be 1 or 0."
    r.rpush("l", "x")
    assert err(r.bitpos, "l", 1).startswith("WRONGTYPE")


# -- BITOP -------------------------------------------------------------------------------


def test_bitop(r):
    r.set("a", b"\x0f\xf0\xaa")
    r.set("b", b"\xff\x00")
    assert r.bitop("AND", "d", "a", "b") == 3
    assert r.get("d") == b"\x0f\x00\x00"
    assert r.bitop("OR", "d", "a", "b") == 3
    assert r.get("d") == b"\xff\xf0\xaa"
    assert r.bitop("XOR", "d", "a", "b") == 3
    assert r.get("d") == b"\xf0\xf0\xaa"
    assert r.bitop("NOT", "d", "a") == 3
    assert r.get("d") == b"\xf0\x0f\x55"
    assert r.bitop("and", "d", "a") == 3
    assert r.get("d") == b"\x0f\xf0\xaa"
    assert r.bitop("AND", "d", "a", "missing") == 3
    assert r.get("d") == b"\x00\x00\x00"
    assert r.bitop("OR", "d", "missing", "a") == 3
    assert r.get("d") == b"\x0f\xf0\xaa"
    # an empty result deletes the destination
    assert r.bitop("OR", "d", "missing") == 0
    assert r.get("d") is None
    r.set("empty", "")
    r.set("d", "x")
    assert r.bitop("NOT", "d", "empty") == 0
    assert r.get("d") is None
    # destination may be a source; a non-string destination is overwritten
    assert r.bitop("XOR", "a", "a", "b") == 3
    assert r.get("a") == b"\xf0\xf0\xaa"
    r.rpush("l", "x")
    assert r.bitop("OR", "l", "b") == 2
    assert r.get("l") == b"\xff\x00"


def test_bitop_large(r):
    rnd = random.Random(9)
    a = bytes(rnd.randrange(256) for _ in range(5000))
    b = bytes(rnd.randrange(256) for _ in range(3333))
    r.set("a", a)
    r.set("b", b)
    bpad = b + bytes(len(a) - len(b))
    assert r.bitop("AND", "d", "a", "b") == 5000
    assert r.get("d") == bytes(x & y for x, y in zip(a, bpad))
    r.bitop("OR", "d", "a", "b")
    assert r.get("d") == bytes(x | y for x, y in zip(a, bpad))
    r.bitop("XOR", "d", "a", "b", "a")
    assert r.get("d") == bpad
    r.bitop("NOT", "d", "b")
    assert r.get("d") == bytes(255 - x for x in b)


def test_bitop_errors(r):
    r.set("a", "x")
    assert err(r.bitop, "NOT", "d", "a", "a") == "BITOP NOT must be called with a single source key."
    assert err(r.bitop, "NAND", "d", "a") == "syntax error"
    assert err(r.bitop, "DIFF", "d", "a", "a") == "syntax error"  # Redis 8 only
    assert "wrong number of arguments" in err(r.execute_command, "BITOP", "AND", "d")
    r.rpush("l", "x")
    assert err(r.bitop, "OR", "d", "a", "l").startswith("WRONGTYPE")
    assert r.get("d") is None


def test_bitop_notifies_set_and_del(cr):
    ps = subscribe(cr, "__keyevent@0__:*")
    cr.set("a", "x")
    cr.bitop("OR", "d", "a")
    cr.bitop("OR", "d", "missing")
    got = events_until(ps, cr, ("SET", "end", 1))
    assert got == [(b"__keyevent@0__:set", b"a"), (b"__keyevent@0__:set", b"d"), (b"__keyevent@0__:del", b"d")]


# -- BITFIELD ----------------------------------------------------------------------------


def test_bitfield_set_get_incrby(r):
    assert r.execute_command("BITFIELD", "f", "SET", "u8", 0, 255) == [0]
    assert r.get("f") == b"\xff"
    assert r.execute_command("BITFIELD", "f", "GET", "u8", 0, "GET", "i8", 0, "GET", "u4", 4) == [255, -1, 15]
    assert r.execute_command("BITFIELD", "f", "SET", "i5", 100, -3, "GET", "i5", 100) == [0, -3]
    assert r.execute_command("BITFIELD", "f", "INCRBY", "i5", 100, 1) == [-2]
    assert r.execute_command("BITFIELD", "f", "INCRBY", "u2", 0, 1) == [0]  # 3 + 1 wraps
    assert r.execute_command("BITFIELD", "f", "SET", "u8", "#1", 200, "GET", "u8", 8) == [0, 200]
    assert r.execute_command("BITFIELD", "f", "GET", "u8", "#1") == [200]
    # GET past the end reads zeros, and reads are not writes
    assert r.execute_command("BITFIELD", "f", "GET", "i64", 10**6) == [0]
    assert r.strlen("f") == 14
    assert r.execute_command("BITFIELD", "missing", "GET", "u8", 0) == [0]
    assert r.get("missing") is None
    assert r.execute_command("BITFIELD", "missing") == []
    assert r.get("missing") is None


def test_bitfield_overflow_modes(r):
    bf = lambda *a: r.execute_command("BITFIELD", "f", *a)  # noqa: E731
    assert bf("SET", "u8", 0, 250, "INCRBY", "u8", 0, 10) == [0, 4]
    assert bf("OVERFLOW", "SAT", "SET", "u8", 0, 250, "INCRBY", "u8", 0, 10) == [4, 255]
    assert bf("OVERFLOW", "SAT", "INCRBY", "u8", 0, -1000) == [0]
    assert bf("OVERFLOW", "FAIL", "INCRBY", "u8", 0, -1, "INCRBY", "u8", 0, 5) == [None, 5]
    assert bf("OVERFLOW", "SAT", "SET", "i8", 0, 1000, "GET", "i8", 0) == [5, 127]
    assert bf("OVERFLOW", "SAT", "SET", "i8", 0, -1000, "GET", "i8", 0) == [127, -128]
    assert bf("OVERFLOW", "WRAP", "SET", "i8", 0, 200, "GET", "i8", 0) == [-128, -56]
    assert bf("OVERFLOW", "FAIL", "SET", "i8", 0, 200, "GET", "i8", 0) == [None, -56]
    # SAT of a negative SET on an unsigned field gives the maximum (it is a huge uint64)
    assert bf("OVERFLOW", "SAT", "SET", "u4", 0, -1, "GET", "u4", 0) == [12, 15]
    assert bf("SET", "i64", 0, 0, "SET", "i64", 0, 2**63 - 1, "INCRBY", "i64", 0, 1)[1:] == [0, -(2**63)]
    assert bf("OVERFLOW", "SAT", "INCRBY", "i64", 0, -1) == [-(2**63)]
    assert bf("OVERFLOW", "FAIL", "INCRBY", "i64", 0, -1, "INCRBY", "i64", 0, 2**63 - 1) == [None, -1]
    assert bf("SET", "u63", 0, 2**63 - 1, "GET", "u63", 0) == [2**63 - 1, 2**63 - 1]
    # the mode applies to the operations after it, in order
    assert bf("SET", "u2", 0, 3, "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 1, "OVERFLOW", "WRAP",
              "INCRBY", "u2", 0, 1) == [3, None, 0]


def test_bitfield_errors(r):
    bf = lambda *a: err(r.execute_command, "BITFIELD", "f", *a)  # noqa: E731
    type_err = "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
    assert bf("GET", "u64", 0) == type_err
    assert bf("GET", "i65", 0) == type_err
    assert bf("GET", "i0", 0) == type_err
    assert bf("GET", "I8", 0) == type_err
    assert bf("GET", "8", 0) == type_err
    assert bf("GET", "u8", -1) == "bit offset is not an integer or out of range"
    assert bf("GET", "u8", "#-1") == "bit offset is not an integer or out of range"
    assert bf("GET", "u8", "1#") == "bit offset is not an integer or out of range"
    assert bf("GET", "u8", 4 * 1024 * 1024 * 1024) == "bit offset is not an integer or out of range"
    assert bf("SET", "u8", 0, "x") == "value is not an integer or out of range"
    assert bf("INCRBY", "u8", 0, 2**63) == "value is not an integer or out of range"
    assert bf("OVERFLOW", "x") == "Invalid OVERFLOW type specified"
    assert bf("GET", "u8") == "syntax error"
    assert bf("SET", "u8", 0) == "syntax error"
    assert bf("OVERFLOW") == "syntax error"
    assert bf("NOPE") == "syntax error"
    # nothing runs when any operation is invalid
    assert bf("SET", "u8", 0, 1, "GET", "x8", 0) == type_err
    assert r.get("f") is None
    r.rpush("l", "x")
    assert err(r.execute_command, "BITFIELD", "l", "GET", "u8", 0).startswith("WRONGTYPE")
    assert err(r.execute_command, "BITFIELD", "l", "SET", "u8", 0, 1).startswith("WRONGTYPE")


def test_bitfield_ro(r):
    r.set("f", b"\x81")
    assert r.execute_command("BITFIELD_RO", "f", "GET", "u1", 0, "GET", "i8", 0, "GET", "u8", "#3") == [1, -127, 0]
    assert r.execute_command("BITFIELD_RO", "f") == []
    ro_err = "BITFIELD_RO only supports the GET subcommand"
    assert err(r.execute_command, "BITFIELD_RO", "f", "SET", "u8", 0, 1) == ro_err
    assert err(r.execute_command, "BITFIELD_RO", "f", "INCRBY", "u8", 0, 1) == ro_err
    assert err(r.execute_command, "BITFIELD_RO", "f", "GET", "u8", 0, "INCRBY", "u8", 0, 1) == ro_err
    assert err(r.execute_command, "BITFIELD_RO", "f", "GET", "u64", 0).startswith("Invalid bitfield type")
    assert r.get("f") == b"\x81"
    r.rpush("l", "x")
    assert err(r.execute_command, "BITFIELD_RO", "l", "GET", "u8", 0).startswith("WRONGTYPE")


def test_bitfield_notifies_once_per_call_when_changed(cr):
    ps = subscribe(cr, "__keyevent@0__:setbit")
    cr.execute_command("BITFIELD", "f", "SET", "u8", 0, 5, "SET", "u8", 8, 6)
    cr.execute_command("BITFIELD", "f", "SET", "u8", 0, 5)  # unchanged, no growth
    cr.execute_command("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", 0, 1000)  # fails
    cr.execute_command("BITFIELD", "f", "GET", "u8", 0)
    cr.execute_command("BITFIELD", "f", "INCRBY", "u8", 0, 1)
    assert len(events_until(ps, cr, ("SETBIT", "end", 0, 1))) == 2


def test_bitfield_hash_offset_wraps_like_int64(r):
    # '#' offsets are multiplied in int64: a product that wraps negative is rejected
    assert err(r.execute_command, "BITFIELD", "f", "GET", "u8", "#%d" % (2**60)) == \
        "bit offset is not an integer or out of range"


def test_bitmap_values_stay_strings(r):
    r.setbit("k", 0, 1)
    r.append("k", "xyz")
    assert r.get("k") == b"\x80xyz"
    r.execute_command("BITFIELD", "k", "SET", "u8", 32, 65)
    assert r.get("k") == b"\x80xyzA"
    assert r.getrange("k", 1, 2) == b"xy"


# -- scenarios from Redis' own test suite (tests/unit/bitops.tcl) ----------------------------


def test_bitcount_misaligned(r):
    r.set("str", "ab")
    assert r.bitcount("str", 1, -1) == 3
    r.set("str2", "__PPxxxxxxxxxxxxxxxxRR__")
    assert r.bitcount("str2", 2, -3) == 74


@pytest.mark.parametrize("bit,fill,last", [(0, b"\xff", b"\x0f"), (1, b"\x00", b"\xf0")])
def test_bitpos_unaligned_full_word_remainder(r, bit, fill, last):
    r.set("str", fill * 27 + last)
    for start in range(9):
        assert r.bitpos("str", bit, start) == 216
    for start in range(1, 66, 8):
        assert r.bitpos("str", bit, start, -1, "bit") == 216


def test_bitpos_intervals(r):
    r.set("str", b"\x00\xff\x00")
    assert [r.bitpos("str", 0, s, e) for s, e in [(0, -1), (1, -1), (2, -1), (2, 200), (1, 1)]] == [0, 16, 16, 16, -1]
    assert [r.bitpos("str", 0, s, e, "bit") for s, e in [(0, -1), (8, -1), (16, -1), (16, 200), (8, 8)]] == \
        [0, 16, 16, 16, -1]
    assert [r.bitpos("str", 1, s, e) for s, e in [(0, -1), (1, -1), (2, -1), (2, 200), (1, 1)]] == [8, 8, -1, -1, 8]
    assert [r.bitpos("str", 1, s, e, "bit") for s, e in [(0, -1), (8, -1), (16, -1), (16, 200), (8, 8)]] == \
        [8, 8, -1, -1, 8]


def test_bitpos_fuzzy_with_setbit(r):
    rnd = random.Random(21)
    size = 65536 * 8
    first_one = -1
    for _ in range(300):
        assert r.bitpos("ones", 1) == first_one
        assert r.bitpos("ones", 1, 0, -1, "bit") == first_one
        pos = rnd.randrange(size)
        r.setbit("ones", pos, 1)
        first_one = pos if first_one == -1 else min(first_one, pos)
    r.set("zeros", b"\xff" * (size // 8))
    first_zero = size
    for _ in range(300):
        assert r.bitpos("zeros", 0) == first_zero
        assert r.bitpos("zeros", 0, 0, -1, "bit") == (-1 if first_zero == size else first_zero)
        pos = rnd.randrange(size)
        r.setbit("zeros", pos, 0)
        first_zero = min(first_zero, pos)


def test_bitop_fuzzing_against_python(r):
    rnd = random.Random(22)
    for op in ("AND", "OR", "XOR", "NOT"):
        for _ in range(10):
            vecs = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 1000)))
                    for _ in range(1 if op == "NOT" else rnd.randint(1, 10))]
            keys = ["v%d" % i for i in range(len(vecs))]
            for k, v in zip(keys, vecs):
                r.set(k, v)
            n = max(map(len, vecs))
            padded = [int.from_bytes(v + bytes(n - len(v)), "big") for v in vecs]
            acc = padded[0]
            for x in padded[1:]:
                acc = acc & x if op == "AND" else acc | x if op == "OR" else acc ^ x
            if op == "NOT":
                acc ^= (1 << (8 * n)) - 1
            assert r.bitop(op, "target", *keys) == n
            assert r.get("target") == (acc.to_bytes(n, "big") if n else None)
