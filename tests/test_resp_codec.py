"""Unit tests of the Cython RESP core: Parser, Writer, split_args, format_double.

Expected bytes come from the RESP2/RESP3 specifications and Redis 7.2's source
(networking.c, sds.c sdssplitargs, util.c d2string + fpconv_dtoa.c); hiredis serves
as an independent decoder for round trips.
"""

from __future__ import annotations

import math
import random
import struct

import hiredis
import pytest

from fastredis._resp import (
    NULL_ARRAY,
    OK,
    PONG,
    QUEUED,
    BigNumber,
    Parser,
    Push,
    ReplyError,
    SetReply,
    Status,
    Verbatim,
    Writer,
    encode,
    encode_command,
    format_double,
    split_args,
    string2ll,
)

# -- Parser -------------------------------------------------------------------------------------

REQUESTS = (
    b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
    b"PING\r\n"
    b"*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\r\n\r\n"
    b"\r\n"
    b"*0\r\n"
    b"*-1\r\n"
    b"ECHO 'single quoted' \"x\\x41y\"\n"
    b"*1\r\n$0\r\n\r\n"
    b"*2\r\n$3\r\nGET\r\n$40000\r\n" + b"k" * 40000 + b"\r\n"
    b"   \t  \r\n"
    b"*2\r\n$4\r\nECHO\r\n$3\r\n\x00\xff\x00\r\n"
)
EXPECTED = [
    [b"SET", b"key", b"value"],
    [b"PING"],
    [b"ECHO", b"a\r\nb\r\n"],
    [b"ECHO", b"single quoted", b"xAy"],
    [b""],
    [b"GET", b"k" * 40000],
    [b"ECHO", b"\x00\xff\x00"],
]


def parse_all(chunks: list[bytes], parser: Parser | None = None) -> list[list[bytes]]:
    p = parser or Parser()
    out: list[list[bytes]] = []
    for c in chunks:
        p.feed(c)
        out.extend(p.parse())
    return out


def test_parse_whole_buffer():
    p = Parser()
    assert parse_all([REQUESTS], p) == EXPECTED
    assert p.error is None and p.buffered == 0 and not p.pending_args


def test_parse_one_byte_at_a_time():
    chunks = [REQUESTS[i:i + 1] for i in range(len(REQUESTS))]
    assert parse_all(chunks) == EXPECTED


@pytest.mark.parametrize("seed", range(20))
def test_parse_random_splits(seed):
    rnd = random.Random(seed)
    cuts = sorted(rnd.sample(range(1, len(REQUESTS)), 30))
    chunks = [REQUESTS[a:b] for a, b in zip([0] + cuts, cuts + [len(REQUESTS)])]
    assert parse_all(chunks) == EXPECTED


def test_parse_every_two_way_split():
    head = REQUESTS[:200]
    for cut in range(1, len(head)):
        assert parse_all([REQUESTS[:cut], REQUESTS[cut:]]) == EXPECTED, cut


def test_repeated_name_and_key_objects_are_shared():
    """A pipeline naming the same command and key reuses those bytes objects; others are new."""
    p = Parser()
    # (keys of two bytes or more: CPython shares every one-byte bytes object anyway)
    p.feed(b"*3\r\n$4\r\nSADD\r\n$2\r\ns1\r\n$2\r\nm1\r\n" * 2 + b"*3\r\n$4\r\nSADD\r\n$2\r\nt1\r\n$2\r\nm1\r\n"
           + b"*2\r\n$3\r\nGET\r\n$2\r\nt1\r\n" + b"*2\r\n$3\r\nGET\r\n$2\r\nt2\r\n")
    a, b, c, d, e = p.parse()
    assert a == b == [b"SADD", b"s1", b"m1"] and c == [b"SADD", b"t1", b"m1"]
    assert d == [b"GET", b"t1"] and e == [b"GET", b"t2"]
    assert a[0] is b[0] is c[0] and a[1] is b[1] and c[1] is d[1]
    assert a[2] is not b[2] and c[1] is not a[1] and e[1] is not d[1]
    # split across reads, the reused objects stay equal to what was sent
    p.feed(b"*2\r\n$3\r\nGET\r\n$2\r\nt")
    assert p.parse() == []
    p.feed(b"3\r\n")
    assert p.parse() == [[b"GET", b"t3"]]


def test_partial_request_is_kept():
    p = Parser()
    p.feed(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel")
    assert p.parse() == []
    assert p.pending_args
    p.feed(b"lo\r\n")
    assert p.parse() == [[b"ECHO", b"hello"]]
    assert not p.pending_args


def test_accepts_memoryview_and_bytearray():
    p = Parser()
    p.feed(memoryview(b"PING\r\n"))
    p.feed(bytearray(b"PING\r\n"))
    assert p.parse() == [[b"PING"], [b"PING"]]


BIG = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + b"v" * 100_000 + b"\r\n"
BAD = b"*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n*1\r\nx\r\nPING\r\n"


def trace(chunks: list, parse_after: list[bool], auth_required: int = 0) -> list:
    """Everything observable while feeding ``chunks`` (parsing after those marked)."""
    p = Parser()
    p.auth_required = auth_required
    seen = []
    for c, do_parse in zip(chunks, parse_after):
        p.feed(c)
        seen.append(p.buffered)
        if do_parse:
            seen.append((p.parse(), p.buffered, p.pending_args, p.error))
    seen.append((p.parse(), p.buffered, p.pending_args, p.error))
    return seen


@pytest.mark.parametrize("data", [REQUESTS, BIG, BAD, BIG + REQUESTS + BIG])
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("auth_required", [0, 1])
def test_bytes_parsed_in_place_like_copied_input(data, seed, auth_required):
    """``bytes`` fed into an empty buffer are parsed in place; other buffers are copied: same results,
    whatever the chunking, with feeds not followed by a parse (a blocked client) in between."""
    rnd = random.Random(seed)
    cuts = sorted(rnd.sample(range(1, len(data)), min(len(data) - 1, rnd.choice([1, 3, 20]))))
    chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    parse_after = [rnd.random() < 0.7 for _ in chunks]
    copied = trace([bytearray(c) for c in chunks], parse_after, auth_required)
    assert trace(chunks, parse_after, auth_required) == copied
    assert trace([memoryview(c) if i % 2 else c for i, c in enumerate(chunks)], parse_after,
                 auth_required) == copied


def test_in_place_partial_big_argument_reserves_like_copied():
    head = BIG[:50_000]
    p, q = Parser(), Parser()
    p.feed(head)
    q.feed(bytearray(head))
    assert p.parse() == q.parse() == []
    assert p.capacity == q.capacity >= 100_002 and p.buffered == q.buffered
    p.feed(BIG[50_000:])
    q.feed(bytearray(BIG[50_000:]))
    assert p.parse() == q.parse() == [[b"SET", b"k", b"v" * 100_000]]


@pytest.mark.parametrize("data,error", [
    (b"*abc\r\n", "Protocol error: invalid multibulk length"),
    (b"*2147483648\r\n", "Protocol error: invalid multibulk length"),
    (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\nx\r\n", "Protocol error: expected '$', got 'x'"),
    (b'ECHO "a\r\n', "Protocol error: unbalanced quotes in request"),
    (b"x" * 65537, "Protocol error: too big inline request"),
    (b"*" + b"1" * 65537, "Protocol error: too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 65537, "Protocol error: too big bulk count string"),
])
def test_protocol_errors(data, error):
    p = Parser()
    p.feed(b"PING\r\n*1\r\n$4\r\nPING\r\n" + data)
    assert p.parse() == [[b"PING"], [b"PING"]]
    assert p.error == error
    # nothing more is parsed after an error
    p.feed(b"PING\r\n")
    assert p.parse() == []


def test_inline_limit_is_on_the_unterminated_line():
    p = Parser()
    p.feed(b"ECHO " + b"x" * 65000 + b"\r\n")
    assert p.parse() == [[b"ECHO", b"x" * 65000]]
    p.feed(b"x" * 65536)
    assert p.parse() == [] and p.error is None
    p.feed(b"x")
    assert p.parse() == [] and p.error == "Protocol error: too big inline request"


def test_nul_hides_line_end_like_strchr():
    p = Parser()
    p.feed(b"PING\x00\r\n")
    assert p.parse() == [] and p.error is None
    p = Parser()
    p.feed(b"*1\x00\r\n$4\r\nPING\r\n")
    assert p.parse() == [] and p.error is None
    p = Parser()
    p.feed(b"*2\r\n$4\r\nECHO\r\n$3\r\n\x00\r\n\r\n")  # NUL inside a payload is fine
    assert p.parse() == [[b"ECHO", b"\x00\r\n"]]


def test_max_bulk_len():
    p = Parser()
    p.max_bulk_len = 10
    p.feed(b"*1\r\n$10\r\n0123456789\r\n*1\r\n$11\r\n")
    assert p.parse() == [[b"0123456789"]]
    assert p.error == "Protocol error: invalid bulk length"


def test_max_mbulk_len():
    p = Parser()
    p.max_mbulk_len = 3
    p.feed(b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n*4\r\n")
    assert p.parse() == [[b"a", b"b", b"c"]]
    assert p.error == "Protocol error: invalid multibulk length"


def test_unauthenticated_limits_and_one_at_a_time():
    p = Parser()
    p.auth_required = 1
    p.feed(b"PING\r\nPING\r\n*10\r\n$16384\r\n")
    assert p.parse() == [[b"PING"]]
    assert p.parse() == [[b"PING"]]
    assert p.parse() == [] and p.error is None
    p = Parser()
    p.auth_required = 1
    p.feed(b"*11\r\n")
    assert p.parse() == [] and p.error == "Protocol error: unauthenticated multibulk length"
    p = Parser()
    p.auth_required = 1
    p.feed(b"*1\r\n$16385\r\n")
    assert p.parse() == [] and p.error == "Protocol error: unauthenticated bulk length"
    p = Parser()
    p.feed(b"*11\r\n$16385\r\n")
    assert p.parse() == [] and p.error is None


def test_big_argument_buffer_is_released():
    p = Parser()
    value = b"v" * (3 * 1024 * 1024)
    p.feed(b"*1\r\n$%d\r\n" % len(value))
    assert p.parse() == []
    assert p.capacity <= 16 * 1024 * 1024 + 65536  # a bare header does not reserve the full length
    p.feed(value + b"\r\n")
    assert p.parse() == [[value]]
    assert p.capacity <= 65536


def test_huge_declared_length_does_not_allocate_it():
    p = Parser()
    p.feed(b"*1\r\n$536870912\r\n")
    assert p.parse() == []
    assert p.capacity < 64 * 1024 * 1024


# -- split_args (sdssplitargs) -------------------------------------------------------------------

@pytest.mark.parametrize("line,expected", [
    (b"", []),
    (b"   ", []),
    (b"set a b", [b"set", b"a", b"b"]),
    (b"  set\t a  b  ", [b"set", b"a", b"b"]),
    (b'"\\x41\\x4a\\x4b"', [b"AJK"]),
    (b'"\\x4"', [b"x4"]),
    (b'"\\xzz"', [b"xzz"]),
    (b'"\\n\\r\\t\\b\\a\\q\\\\\\""', [b"\n\r\t\b\aq\\\""]),
    (b"'a\\'b'", [b"a'b"]),
    (b"'a\\nb'", [b"a\\nb"]),
    (b"'a\"b'", [b"a\"b"]),
    (b'a"b c"d', None),
    (b'a"b c" d', [b"ab c", b"d"]),
    (b"a'b c' d", [b"ab c", b"d"]),
    (b'""', [b""]),
    (b"''", [b""]),
    (b'"a"b', None),
    (b"'a'b", None),
    (b'"a', None),
    (b"'a", None),
    (b'"a\\"', None),
    (b"a\x0bb", [b"a\x0bb"]),
    (b"a\x0cb\x0c", [b"a\x0cb\x0c"]),
    (b'"a"\x0bb', [b"a", b"b"]),
    (b"\x0b\x0ca", [b"a"]),
    (b"a\x00b c", [b"a"]),
    (b"caf\xc3\xa9 \xff", [b"caf\xc3\xa9", b"\xff"]),
])
def test_split_args(line, expected):
    assert split_args(line) == expected


# -- string2ll --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    (b"0", 0), (b"-1", -1), (b"123", 123), (b"9223372036854775807", 2**63 - 1),
    (b"-9223372036854775808", -(2**63)), (b"9223372036854775808", None), (b"-9223372036854775809", None),
    (b"01", None), (b"-0", None), (b"+1", None), (b" 1", None), (b"1 ", None), (b"", None), (b"-", None),
    (b"1a", None), (b"99999999999999999999", None), (bytearray(b"42"), 42),
])
def test_string2ll(text, value):
    assert string2ll(text) == value


# -- Writer: RESP2 ------------------------------------------------------------------------------------

RESP2 = [
    (b"abc", b"$3\r\nabc\r\n"),
    (b"", b"$0\r\n\r\n"),
    (b"a\r\nb", b"$4\r\na\r\nb\r\n"),
    (bytearray(b"xy"), b"$2\r\nxy\r\n"),
    (memoryview(b"mv"), b"$2\r\nmv\r\n"),
    ("caf\u00e9", b"$5\r\ncaf\xc3\xa9\r\n"),
    (0, b":0\r\n"),
    (-42, b":-42\r\n"),
    (2**63 - 1, b":9223372036854775807\r\n"),
    (-(2**63), b":-9223372036854775808\r\n"),
    (2**64, b"$20\r\n18446744073709551616\r\n"),
    (None, b"$-1\r\n"),
    (NULL_ARRAY, b"*-1\r\n"),
    ([], b"*0\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n"),
    ((b"t",), b"*1\r\n$1\r\nt\r\n"),
    ([[b"n"], []], b"*2\r\n*1\r\n$1\r\nn\r\n*0\r\n"),
    ({b"k": b"v", b"n": 2}, b"*4\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nn\r\n:2\r\n"),
    ({}, b"*0\r\n"),
    (SetReply([b"m"]), b"*1\r\n$1\r\nm\r\n"),
    (Push([b"message", b"ch", b"hi"]), b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
    (1.5, b"$3\r\n1.5\r\n"),
    (float("inf"), b"$3\r\ninf\r\n"),
    (float("-inf"), b"$4\r\n-inf\r\n"),
    (True, b":1\r\n"),
    (False, b":0\r\n"),
    (Status(b"OK"), b"+OK\r\n"),
    (OK, b"+OK\r\n"),
    (QUEUED, b"+QUEUED\r\n"),
    (PONG, b"+PONG\r\n"),
    (BigNumber(b"123456789012345678901234567890"), b"$30\r\n123456789012345678901234567890\r\n"),
    (Verbatim(b"hello"), b"$5\r\nhello\r\n"),
    (ReplyError("ERR boom"), b"-ERR boom\r\n"),
    (ReplyError(b"WRONGTYPE x"), b"-WRONGTYPE x\r\n"),
    (ReplyError("ERR a\r\nb\nc"), b"-ERR a  b c\r\n"),
    (ReplyError("ERR trailing\r\n"), b"-ERR trailing\r\n"),  # sdstrim before sdsmapchars
    ([ReplyError("ERR in array"), b"ok"], b"*2\r\n-ERR in array\r\n$2\r\nok\r\n"),
]


@pytest.mark.parametrize("value,expected", RESP2, ids=range(len(RESP2)))
def test_encode_resp2(value, expected):
    assert encode(value, 2) == expected


# -- Writer: RESP3 (https://github.com/redis/redis-specifications RESP3.md) ----------------------------

RESP3 = [
    (None, b"_\r\n"),
    (NULL_ARRAY, b"_\r\n"),
    (True, b"#t\r\n"),
    (False, b"#f\r\n"),
    (1.5, b",1.5\r\n"),
    (-0.25, b",-0.25\r\n"),
    (10.0, b",10\r\n"),
    (float("inf"), b",inf\r\n"),
    (float("-inf"), b",-inf\r\n"),
    (float("nan"), b",nan\r\n"),
    (1e20, b",1e+20\r\n"),
    (2**64, b"(18446744073709551616\r\n"),
    (-(2**70), b"(-1180591620717411303424\r\n"),
    (BigNumber(b"3492890328409238509324850943850943825024385"),
     b"(3492890328409238509324850943850943825024385\r\n"),
    (Verbatim(b"Some string"), b"=15\r\ntxt:Some string\r\n"),
    (Verbatim(b""), b"=4\r\ntxt:\r\n"),
    ({b"first": 1, b"second": 2}, b"%2\r\n$5\r\nfirst\r\n:1\r\n$6\r\nsecond\r\n:2\r\n"),
    ({}, b"%0\r\n"),
    (SetReply([b"orange", b"apple", True, 100]), b"~4\r\n$6\r\norange\r\n$5\r\napple\r\n#t\r\n:100\r\n"),
    (SetReply([]), b"~0\r\n"),
    ({b"a"}, b"~1\r\n$1\r\na\r\n"),
    (Push([b"pubsub", b"message", b"ch", b"hi"]),
     b">4\r\n$6\r\npubsub\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
    ([1, [2, None]], b"*2\r\n:1\r\n*2\r\n:2\r\n_\r\n"),
    (Status(b"OK"), b"+OK\r\n"),
    (ReplyError("ERR x"), b"-ERR x\r\n"),
    ({b"m": {b"n": SetReply([1.0])}}, b"%1\r\n$1\r\nm\r\n%1\r\n$1\r\nn\r\n~1\r\n,1\r\n"),
]


@pytest.mark.parametrize("value,expected", RESP3, ids=range(len(RESP3)))
def test_encode_resp3(value, expected):
    assert encode(value, 3) == expected


def test_writer_accumulates_and_takes():
    w = Writer()
    w.write(b"a")
    w.write_int(5)
    w.write_array_header(2)
    w.write_bulk(b"x")
    w.write_raw(b"+RAW\r\n")
    w.write_error("ERR e")
    assert len(w) > 0
    assert w.take() == b"$1\r\na\r\n:5\r\n*2\r\n$1\r\nx\r\n+RAW\r\n-ERR e\r\n"
    assert len(w) == 0 and w.take() == b""
    w.resp = 3
    w.write(None)
    assert w.take() == b"_\r\n"


def test_writer_big_values():
    w = Writer()
    big = b"z" * (5 * 1024 * 1024)
    w.write([big, big])
    out = w.take()
    assert out == b"*2\r\n" + (b"$%d\r\n" % len(big) + big + b"\r\n") * 2
    w.write(b"small")
    assert w.take() == b"$5\r\nsmall\r\n"


def test_writer_rejects_unknown_types():
    with pytest.raises(TypeError):
        encode(object())


def test_hiredis_decodes_what_we_encode():
    value = [b"a", 1, None, [b"b", [b"c", -3]], {b"k": b"v"}, 2.5, True,
             SetReply([b"x"]), BigNumber(b"99999999999999999999"), Verbatim(b"txt")]
    r2 = hiredis.Reader()
    r2.feed(encode(value, 2))
    assert r2.gets() == [b"a", 1, None, [b"b", [b"c", -3]], [b"k", b"v"], b"2.5", 1, [b"x"],
                         b"99999999999999999999", b"txt"]
    r3 = hiredis.Reader()
    r3.feed(encode(value, 3))
    assert r3.gets() == [b"a", 1, None, [b"b", [b"c", -3]], {b"k": b"v"}, 2.5, True, [b"x"],
                         b"99999999999999999999", b"txt"]


def test_encode_command():
    assert encode_command([b"SET", "k", 5, bytearray(b"v")]) == (
        b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n5\r\n$1\r\nv\r\n")
    p = Parser()
    args = [b"x\r\n", b"", bytes(range(256))]
    p.feed(encode_command(args))
    assert p.parse() == [args]


# -- format_double (Redis 7.2 d2string / fpconv_dtoa) --------------------------------------------------

DOUBLES = [
    (0.0, b"0"),
    (-0.0, b"-0"),
    (1.0, b"1"),
    (-1.0, b"-1"),
    (1.5, b"1.5"),
    (-2.5, b"-2.5"),
    (0.1, b"0.1"),
    (1 / 3, b"0.3333333333333333"),
    (3.14159, b"3.14159"),
    (100.0, b"100"),
    (1e15, b"1000000000000000"),
    (1e17, b"100000000000000000"),
    (123456789012345678.0, b"123456789012345680"),  # integral, within +-2^62: printed as an integer
    (4611686018427387904.0, b"4611686018427387904"),  # 2^62 itself
    (9223372036854775807.0, b"9223372036854776000"),  # above 2^62: fpconv, plain while exp < ndigits+7
    (1e19, b"1e+19"),
    (1e20, b"1e+20"),
    (1.5e20, b"1.5e+20"),
    (1.2345e22, b"1.2345e+22"),
    (1e100, b"1e+100"),
    (1.7976931348623157e308, b"1.7976931348623157e+308"),
    (-1.5e300, b"-1.5e+300"),
    (0.001, b"0.001"),
    (0.0001, b"0.0001"),
    (1e-6, b"0.000001"),
    (1.5e-6, b"1.5e-6"),  # K=-7: scientific, while 1e-6 (K=-6) is not
    (1e-7, b"1e-7"),
    (1.5e-7, b"1.5e-7"),
    (-1.5e-7, b"-1.5e-7"),
    (1.25e-10, b"1.25e-10"),
    (5e-324, b"5e-324"),
    (2.2250738585072014e-308, b"2.2250738585072014e-308"),
    (12345678.9, b"12345678.9"),
    (123.45678901234567, b"123.45678901234567"),
    (1234567.8901234567, b"1.2345678901234567e+6"),  # K=-10 and exp=6: scientific in fpconv
    (0.30000000000000004, b"0.30000000000000004"),
    (float("inf"), b"inf"),
    (float("-inf"), b"-inf"),
    (float("nan"), b"nan"),
    (-float("nan"), b"nan"),
]


@pytest.mark.parametrize("value,expected", DOUBLES, ids=[e.decode() for _, e in DOUBLES])
def test_format_double(value, expected):
    assert format_double(value) == expected


def test_format_double_round_trips():
    rnd = random.Random(7)
    for _ in range(20000):
        bits = rnd.getrandbits(64)
        d = struct.unpack("<d", struct.pack("<Q", bits))[0]
        s = format_double(d)
        if math.isnan(d):
            assert s == b"nan"
            continue
        assert float(s) == d, (d, s)
        assert b"e+0" not in s and b"e-0" not in s  # exponents are never zero-padded
    for _ in range(5000):
        d = rnd.uniform(-1e6, 1e6)
        assert float(format_double(d)) == d


def _sdssplitargs_ref(line: bytes) -> list[bytes] | None:
    """A line-by-line Python transcription of Redis' sdssplitargs (the reference for split_args)."""
    n = line.find(b"\0")
    p = line if n < 0 else line[:n]
    n = len(p)
    hexd = b"0123456789abcdefABCDEF"
    i = 0
    out: list[bytes] = []
    while True:
        while i < n and p[i] in b" \n\r\t\v\f":
            i += 1
        if i >= n:
            return out
        inq = insq = done = False
        cur = bytearray()
        while not done:
            if inq:
                if i >= n:
                    return None
                if p[i] == 92 and i + 3 < n and p[i + 1] == 120 and p[i + 2] in hexd and p[i + 3] in hexd:
                    cur.append(int(p[i + 2:i + 4], 16))
                    i += 3
                elif p[i] == 92 and i + 1 < n:
                    i += 1
                    cur.append({110: 10, 114: 13, 116: 9, 98: 8, 97: 7}.get(p[i], p[i]))
                elif p[i] == 34:
                    if i + 1 < n and p[i + 1] not in b" \n\r\t\v\f":
                        return None
                    done = True
                else:
                    cur.append(p[i])
            elif insq:
                if i >= n:
                    return None
                if p[i] == 92 and i + 1 < n and p[i + 1] == 39:
                    i += 1
                    cur.append(39)
                elif p[i] == 39:
                    if i + 1 < n and p[i + 1] not in b" \n\r\t\v\f":
                        return None
                    done = True
                else:
                    cur.append(p[i])
            else:
                if i >= n:
                    break
                if p[i] in b" \n\r\t":
                    done = True
                elif p[i] == 34:
                    inq = True
                elif p[i] == 39:
                    insq = True
                else:
                    cur.append(p[i])
            if i < n:
                i += 1
        out.append(bytes(cur))


def test_split_args_matches_the_reference_on_random_lines() -> None:
    rng = random.Random(7)
    alphabet = b" \t\v\f\r\n\"'\\xaF09zq\0"
    for size in list(range(12)) * 400 + [300, 700, 5000] * 20:
        line = bytes(rng.choice(alphabet) for _ in range(size))
        assert split_args(line) == _sdssplitargs_ref(line), line
