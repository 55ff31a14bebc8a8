"""List commands: replies, errors and edge cases as Redis 7.2 (non-blocking commands)."""

from __future__ import annotations

import pytest
from conftest import err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


# -- push / pop ---------------------------------------------------------------


def test_push_order_and_length(r):
    assert r.lpush("l", "a", "b", "c") == 3
    assert r.rpush("l", "x", "y") == 5
    assert r.lrange("l", 0, -1) == [b"c", b"b", b"a", b"x", b"y"]
    assert r.llen("l") == 5
    assert r.llen("missing") == 0


def test_pushx_needs_existing_list(r):
    assert r.lpushx("l", "a") == 0
    assert r.rpushx("l", "a", "b") == 0
    assert r.dbsize() == 0
    r.rpush("l", "m")
    assert r.lpushx("l", "a", "b") == 3
    assert r.rpushx("l", "z") == 4
    assert r.lrange("l", 0, -1) == [b"b", b"a", b"m", b"z"]


def test_push_arity_and_wrongtype(r):
    assert err(r.execute_command, "LPUSH", "l") == "wrong number of arguments for 'lpush' command"
    assert err(r.execute_command, "RPUSHX", "l") == "wrong number of arguments for 'rpushx' command"
    r.sadd("s", "m")
    for cmd in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
        assert err(r.execute_command, cmd, "s", "x") == WRONGTYPE
    for cmd in ("LPOP", "RPOP", "LLEN"):
        assert err(r.execute_command, cmd, "s") == WRONGTYPE
    assert err(r.lrange, "s", 0, -1) == WRONGTYPE
    assert err(r.lindex, "s", 0) == WRONGTYPE


def test_pop_single_and_delete_when_empty(r):
    r.rpush("l", "a", "b")
    assert r.lpop("l") == b"a"
    assert r.rpop("l") == b"b"
    assert r.dbsize() == 0
    assert r.lpop("l") is None
    assert r.rpop("l") is None


def test_pop_count(r):
    r.rpush("l", "a", "b", "c", "d")
    assert r.lpop("l", 2) == [b"a", b"b"]
    assert r.rpop("l", 1) == [b"d"]
    assert r.rpop("l", 10) == [b"c"]
    assert r.dbsize() == 0
    r.rpush("l", *range(5))
    assert r.rpop("l", 9223372036854775807) == [b"4", b"3", b"2", b"1", b"0"]


def test_pop_count_null_shapes_resp2(raw2):
    assert raw2.call("RPUSH", "l", "a", "b", "c") == b":3\r\n"
    assert raw2.call("LPOP", "l", "0") == b"*0\r\n"
    assert raw2.call("LPOP", "nokey", "0") == b"*-1\r\n"
    assert raw2.call("RPOP", "nokey", "2") == b"*-1\r\n"
    assert raw2.call("LPOP", "nokey") == b"$-1\r\n"
    assert raw2.call("LPOP", "l", "-1") == b"-ERR value is out of range, must be positive\r\n"
    assert raw2.call("LPOP", "l", "x") == b"-ERR value is out of range, must be positive\r\n"
    assert raw2.call("LPOP", "l", "1", "2") == b"-ERR wrong number of arguments for 'lpop' command\r\n"
    assert raw2.call("RPOP", "l", "1", "2") == b"-ERR wrong number of arguments for 'rpop' command\r\n"
    assert raw2.call("LLEN", "l") == b":3\r\n"


def test_pop_count_null_shapes_resp3(raw3):
    assert raw3.call("LPOP", "nokey", "2") == b"_\r\n"
    assert raw3.call("LPOP", "nokey") == b"_\r\n"
    raw3.call("RPUSH", "l", "a")
    assert raw3.call("RPOP", "l", "5") == b"*1\r\n$1\r\na\r\n"


# -- reads ------------------------------------------------------------------


def test_lindex(r):
    r.rpush("l", "a", "b", "c")
    assert r.lindex("l", 0) == b"a"
    assert r.lindex("l", -1) == b"c"
    assert r.lindex("l", -3) == b"a"
    assert r.lindex("l", 3) is None
    assert r.lindex("l", -4) is None
    assert r.lindex("missing", 0) is None
    # the key is looked up before the index is parsed, like Redis
    assert r.execute_command("LINDEX", "missing", "x") is None
    assert err(r.execute_command, "LINDEX", "l", "x") == "value is not an integer or out of range"


@pytest.mark.parametrize("start,end,expected", [
    (0, -1, "abcde"), (1, 2, "bc"), (-2, -1, "de"), (-100, 100, "abcde"), (3, 1, ""),
    (5, 10, ""), (-1, -2, ""), (0, 0, "a"), (4, 4, "e"), (2, -1, "cde"), (-3, 3, "cd"),
    (0, -6, ""), (-9223372036854775808, 9223372036854775807, "abcde"),
])
def test_lrange(r, start, end, expected):
    r.rpush("l", *"abcde")
    assert r.lrange("l", start, end) == [ch.encode() for ch in expected]


def test_lrange_errors_and_missing(r):
    assert r.lrange("missing", 0, -1) == []
    assert err(r.execute_command, "LRANGE", "l", "x", "1") == "value is not an integer or out of range"
    assert err(r.execute_command, "LRANGE", "missing", "0", "1.5") == "value is not an integer or out of range"


def test_lrange_large_list_from_tail(r):
    r.rpush("l", *range(1000))
    assert r.lrange("l", 990, 995) == [str(i).encode() for i in range(990, 996)]
    assert r.lrange("l", -3, -1) == [b"997", b"998", b"999"]
    assert r.lrange("l", 400, 402) == [b"400", b"401", b"402"]


# -- in-place edits -------------------------------------------------------------


def test_lset(r):
    r.rpush("l", "a", "b", "c")
    assert r.lset("l", 0, "A") is True
    assert r.lset("l", -1, "C") is True
    assert r.lrange("l", 0, -1) == [b"A", b"b", b"C"]
    assert err(r.lset, "l", 3, "x") == "index out of range"
    assert err(r.lset, "l", -4, "x") == "index out of range"
    assert err(r.lset, "missing", 0, "x") == "no such key"
    # key checked before the index
    assert err(r.execute_command, "LSET", "missing", "x", "v") == "no such key"
    assert err(r.execute_command, "LSET", "l", "x", "v") == "value is not an integer or out of range"
    r.sadd("s", "m")
    assert err(r.lset, "s", 0, "x") == WRONGTYPE


def test_linsert(r):
    r.rpush("l", "a", "b", "a")
    assert r.linsert("l", "BEFORE", "a", "x") == 4
    assert r.linsert("l", "after", "a", "y") == 5
    assert r.lrange("l", 0, -1) == [b"x", b"a", b"y", b"b", b"a"]
    assert r.linsert("l", "before", "zz", "q") == -1
    assert r.linsert("missing", "before", "a", "q") == 0
    assert r.dbsize() == 1
    assert err(r.execute_command, "LINSERT", "l", "middle", "a", "x") == "syntax error"
    # the syntax check comes before the key lookup
    assert err(r.execute_command, "LINSERT", "missing", "middle", "a", "x") == "syntax error"


def test_lrem(r):
    r.rpush("l", *"abacada")
    assert r.lrem("l", 2, "a") == 2
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"d", b"a"]
    assert r.lrem("l", -1, "a") == 1
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"d"]
    assert r.lrem("l", 0, "zz") == 0
    assert r.lrem("l", 1, "b") == 1
    assert r.lrem("l", 0, "a") == 1
    assert r.lrange("l", 0, -1) == [b"c", b"d"]
    assert r.lrem("missing", 0, "a") == 0
    r.rpush("m", "a", "a")
    assert r.lrem("m", 0, "a") == 2
    assert r.dbsize() == 1
    r.rpush("n", *"xyxyx")
    assert r.lrem("n", -2, "x") == 2
    assert r.lrange("n", 0, -1) == [b"x", b"y", b"y"]
    assert r.lrem("n", 9223372036854775807, "y") == 2
    assert err(r.execute_command, "LREM", "n", "x", "a") == "value is not an integer or out of range"
    # 7.2 negates LONG_MIN into itself: no limit, every match goes
    r.rpush("n", "a", "b", "a")
    assert r.lrem("n", -9223372036854775808, "a") == 2
    assert r.lrange("n", 0, -1) == [b"x", b"b"]


@pytest.mark.parametrize("start,end,expected", [
    (1, -2, "bcd"), (0, -1, "abcde"), (0, 0, "a"), (-2, 100, "de"), (3, 1, ""), (10, 20, ""),
    (-100, 1, "ab"), (2, 2, "c"),
])
def test_ltrim(r, start, end, expected):
    r.rpush("l", *"abcde")
    assert r.ltrim("l", start, end) is True
    assert r.lrange("l", 0, -1) == [ch.encode() for ch in expected]
    assert r.dbsize() == (1 if expected else 0)


def test_ltrim_errors(r):
    assert r.ltrim("missing", 0, 1) is True
    assert err(r.execute_command, "LTRIM", "missing", "x", "1") == "value is not an integer or out of range"
    r.sadd("s", "m")
    assert err(r.ltrim, "s", 0, 1) == WRONGTYPE


def test_ltrim_big(r):
    r.rpush("l", *range(2000))
    r.ltrim("l", 1, 1998)
    assert r.llen("l") == 1998
    assert r.lindex("l", 0) == b"1" and r.lindex("l", -1) == b"1998"
    r.ltrim("l", 500, 510)
    assert r.lrange("l", 0, -1) == [str(i).encode() for i in range(501, 512)]


# -- LPOS ---------------------------------------------------------------------


def test_lpos(r):
    r.rpush("l", *"abcdcbcc")
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "c", rank=2) == 4
    assert r.lpos("l", "c", rank=-1) == 7
    assert r.lpos("l", "c", rank=-3) == 4
    assert r.lpos("l", "c", count=0) == [2, 4, 6, 7]
    assert r.lpos("l", "c", count=2) == [2, 4]
    assert r.lpos("l", "c", rank=2, count=2) == [4, 6]
    assert r.lpos("l", "c", rank=-1, count=0) == [7, 6, 4, 2]
    assert r.lpos("l", "c", maxlen=3) == 2
    assert r.lpos("l", "c", maxlen=2) is None
    assert r.lpos("l", "c", rank=-1, maxlen=1) == 7
    assert r.lpos("l", "c", count=0, maxlen=5) == [2, 4]
    assert r.lpos("l", "zz") is None
    assert r.lpos("l", "zz", count=0) == []
    assert r.lpos("l", "c", rank=5) is None
    assert r.lpos("missing", "a") is None
    assert r.lpos("missing", "a", count=1) == []
    assert r.execute_command("LPOS", "l", "c", "RANK", "-9223372036854775807") is None


def test_lpos_errors(raw2):
    raw2.call("RPUSH", "l", "a")
    rank_zero = (b"-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                 b"or use negative to start from the end of the list\r\n")
    assert raw2.call("LPOS", "l", "a", "RANK", "0") == rank_zero
    assert raw2.call("LPOS", "l", "a", "RANK", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert raw2.call("LPOS", "l", "a", "RANK", "-9223372036854775808") == \
        b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    assert raw2.call("LPOS", "l", "a", "COUNT", "-1") == b"-ERR COUNT can't be negative\r\n"
    assert raw2.call("LPOS", "l", "a", "COUNT", "x") == b"-ERR COUNT can't be negative\r\n"
    assert raw2.call("LPOS", "l", "a", "MAXLEN", "x") == b"-ERR MAXLEN can't be negative\r\n"
    assert raw2.call("LPOS", "l", "a", "MAXLEN", "-1") == b"-ERR MAXLEN can't be negative\r\n"
    assert raw2.call("LPOS", "l", "a", "FOO") == b"-ERR syntax error\r\n"
    assert raw2.call("LPOS", "l", "a", "RANK") == b"-ERR syntax error\r\n"
    # options are parsed before the key is looked up
    assert raw2.call("LPOS", "nokey", "a", "RANK", "0") == rank_zero
    assert raw2.call("LPOS", "nokey", "a") == b"$-1\r\n"
    assert raw2.call("LPOS", "nokey", "a", "COUNT", "0") == b"*0\r\n"


# -- LMOVE / RPOPLPUSH / LMPOP --------------------------------------------------


@pytest.mark.parametrize("wfrom,wto,moved,src,dst", [
    ("LEFT", "LEFT", b"a", [b"b", b"c"], [b"a", b"x"]),
    ("LEFT", "RIGHT", b"a", [b"b", b"c"], [b"x", b"a"]),
    ("RIGHT", "LEFT", b"c", [b"a", b"b"], [b"c", b"x"]),
    ("RIGHT", "RIGHT", b"c", [b"a", b"b"], [b"x", b"c"]),
])
def test_lmove_directions(r, wfrom, wto, moved, src, dst):
    r.rpush("src", "a", "b", "c")
    r.rpush("dst", "x")
    assert r.lmove("src", "dst", wfrom, wto) == moved
    assert r.lrange("src", 0, -1) == src
    assert r.lrange("dst", 0, -1) == dst


def test_lmove_edge_cases(r):
    assert r.lmove("missing", "dst") is None
    assert r.dbsize() == 0
    r.rpush("l", "a", "b", "c")
    assert r.lmove("l", "l", "LEFT", "RIGHT") == b"a"
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a"]
    r.rpush("one", "x")
    assert r.lmove("one", "one", "RIGHT", "LEFT") == b"x"
    assert r.lrange("one", 0, -1) == [b"x"]
    assert r.lmove("one", "new", "LEFT", "LEFT") == b"x"
    assert r.llen("one") == 0
    assert r.lrange("new", 0, -1) == [b"x"]
    assert err(r.execute_command, "LMOVE", "l", "d", "MIDDLE", "LEFT") == "syntax error"
    assert err(r.execute_command, "LMOVE", "l", "d", "LEFT", "up") == "syntax error"


def test_lmove_wrongtype(r):
    r.sadd("s", "m")
    r.rpush("l", "a")
    assert err(r.lmove, "l", "s") == WRONGTYPE
    assert r.lrange("l", 0, -1) == [b"a"]  # nothing popped
    assert err(r.lmove, "s", "l") == WRONGTYPE
    assert err(r.rpoplpush, "l", "s") == WRONGTYPE
    # a missing source answers nil before the destination's type is looked at
    assert r.lmove("missing", "s") is None


def test_rpoplpush(r):
    r.rpush("a", "1", "2", "3")
    assert r.rpoplpush("a", "b") == b"3"
    assert r.rpoplpush("a", "b") == b"2"
    assert r.lrange("b", 0, -1) == [b"2", b"3"]
    assert r.rpoplpush("a", "a") == b"1"
    assert r.rpoplpush("a", "b") == b"1"
    assert r.llen("a") == 0
    assert r.rpoplpush("a", "b") is None


def test_lmpop(r):
    r.rpush("l1", "a", "b", "c")
    r.rpush("l2", "x")
    assert r.lmpop(2, "missing", "l1", direction="LEFT") == [b"l1", [b"a"]]
    assert r.lmpop(2, "l1", "l2", direction="RIGHT", count=5) == [b"l1", [b"c", b"b"]]
    assert r.lmpop(2, "l1", "l2", direction="LEFT", count=5) == [b"l2", [b"x"]]
    assert r.lmpop(2, "l1", "l2", direction="LEFT") is None
    assert r.dbsize() == 0


def test_lmpop_errors(raw2):
    raw2.call("RPUSH", "l", "a")
    numkeys = b"-ERR numkeys should be greater than 0\r\n"
    assert raw2.call("LMPOP", "0", "l", "LEFT") == numkeys
    assert raw2.call("LMPOP", "-1", "l", "LEFT") == numkeys
    assert raw2.call("LMPOP", "x", "l", "LEFT") == numkeys
    assert raw2.call("LMPOP", "2", "l", "LEFT") == b"-ERR syntax error\r\n"
    assert raw2.call("LMPOP", "1", "l", "MIDDLE") == b"-ERR syntax error\r\n"
    assert raw2.call("LMPOP", "1", "l", "LEFT", "COUNT", "0") == b"-ERR count should be greater than 0\r\n"
    assert raw2.call("LMPOP", "1", "l", "LEFT", "COUNT", "x") == b"-ERR count should be greater than 0\r\n"
    assert raw2.call("LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1") == b"-ERR syntax error\r\n"
    assert raw2.call("LMPOP", "1", "l", "LEFT", "COUNT") == b"-ERR syntax error\r\n"
    assert raw2.call("LMPOP", "1", "l", "LEFT", "FOO") == b"-ERR syntax error\r\n"
    assert raw2.call("LMPOP", "1", "l") == b"-ERR wrong number of arguments for 'lmpop' command\r\n"
    assert raw2.call("LMPOP", "1", "nokey", "LEFT") == b"*-1\r\n"
    assert raw2.call("LMPOP", "1", "l", "left", "count", "9") == b"*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"


def test_lmpop_wrongtype(r):
    r.sadd("s", "m")
    r.rpush("l", "a")
    assert err(r.execute_command, "LMPOP", 2, "missing", "s", "LEFT") == WRONGTYPE
    # stops at the first non-empty list: later keys are not looked at
    assert r.lmpop(2, "l", "s", direction="LEFT") == [b"l", [b"a"]]


def test_lmpop_resp3_null(raw3):
    assert raw3.call("LMPOP", "1", "nokey", "LEFT") == b"_\r\n"


def test_binary_safe_elements(r):
    vals = [b"", b"\x00\xff", b"a\r\nb", b"x" * 10000]
    r.rpush("l", *vals)
    assert r.lrange("l", 0, -1) == vals
    assert r.lpos("l", b"\x00\xff") == 1
    assert r.lrem("l", 0, b"") == 1
    assert r.linsert("l", "before", b"a\r\nb", b"") == 4
    assert r.lindex("l", 1) == b""
