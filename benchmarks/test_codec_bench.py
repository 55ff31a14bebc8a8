"""Micro-benchmarks of the Cython RESP core beside hiredis.

``Parser`` parses requests (arrays of bulk strings); ``hiredis.Reader`` parses replies,
and an array of bulk strings is both, so both are fed the very same bytes.  ``Writer``
encodes replies; ``hiredis.pack_command`` (when present) encodes the same arrays as
commands.  Run with::

    python -m pytest benchmarks --benchmark-only

(``python -m pytest`` alone only collects ``tests/``.)
"""

from __future__ import annotations

import hiredis
import pytest

from fastredis._resp import Parser, Writer, encode_command


def command(*args: bytes) -> bytes:
    return encode_command(list(args))


VALUE_100K = b"v" * 100_000
ARRAY_1000 = [b"element:%d" % i for i in range(1000)]

# name -> (wire bytes, the decoded commands)
INPUTS = {
    "small": [[b"SET", b"key:000000001234", b"xxx"]],
    "pipeline16": [[b"SET", b"key:%012d" % i, b"xxx"] for i in range(16)],
    "value100k": [[b"SET", b"key", VALUE_100K]],
    "array1000": [[b"RPUSH", b"list"] + ARRAY_1000],
}
WIRE = {name: b"".join(encode_command(c) for c in cmds) for name, cmds in INPUTS.items()}

# replies of comparable shape for the encoders
REPLIES = {
    "small": [b"xxx"],
    "pipeline16": [b"xxx"] * 16,
    "value100k": [VALUE_100K],
    "array1000": [ARRAY_1000],
}


def parse_fastredis(data: bytes) -> list[list[bytes]]:
    p = Parser()
    p.feed(data)
    return p.parse()


def parse_hiredis(data: bytes) -> list[list[bytes]]:
    r = hiredis.Reader()
    r.feed(data)
    out = []
    while True:
        got = r.gets()
        if got is False:
            return out
        out.append(got)


def parse_fastredis_reused(parser: Parser, data: bytes) -> list[list[bytes]]:
    parser.feed(data)
    return parser.parse()


def parse_hiredis_reused(reader: hiredis.Reader, data: bytes) -> list[list[bytes]]:
    reader.feed(data)
    out = []
    while True:
        got = reader.gets()
        if got is False:
            return out
        out.append(got)


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("impl", ["fastredis.Parser", "hiredis.Reader"])
def test_parse(benchmark, impl, name):
    """Parse one read's worth of requests with a long-lived parser (as a connection does)."""
    benchmark.group = f"parse-{name}"
    data = WIRE[name]
    if impl == "fastredis.Parser":
        result = benchmark(parse_fastredis_reused, Parser(), data)
    else:
        result = benchmark(parse_hiredis_reused, hiredis.Reader(), data)
    assert result == INPUTS[name]


@pytest.mark.parametrize("name", ["small", "pipeline16"])
@pytest.mark.parametrize("impl", ["fastredis.Parser", "hiredis.Reader"])
def test_parse_new_object(benchmark, impl, name):
    """Including the parser's creation (its buffer allocation)."""
    benchmark.group = f"parse-new-{name}"
    fn = parse_fastredis if impl == "fastredis.Parser" else parse_hiredis
    assert benchmark(fn, WIRE[name]) == INPUTS[name]


def write_fastredis(w: Writer, replies: list) -> bytes:
    for r in replies:
        w.write(r)
    return w.take()


def pack_hiredis(replies: list) -> bytes:
    return b"".join(hiredis.pack_command(tuple(r) if isinstance(r, list) else (r,)) for r in replies)


@pytest.mark.parametrize("name", list(REPLIES))
@pytest.mark.parametrize("impl", ["fastredis.Writer", "hiredis.pack_command"])
def test_encode(benchmark, impl, name):
    """Encode one read's worth of replies (RESP2)."""
    benchmark.group = f"encode-{name}"
    replies = REPLIES[name]
    if impl == "fastredis.Writer":
        out = benchmark(write_fastredis, Writer(), replies)
    else:
        if not hasattr(hiredis, "pack_command"):
            pytest.fail("this hiredis has no pack_command")
        out = benchmark(pack_hiredis, replies)
    # both encode arrays of bulk strings the same way; single values differ (bulk vs 1-element array)
    if isinstance(replies[0], list):
        assert out == b"".join(encode_command(r) for r in replies)


@pytest.mark.parametrize("name", list(INPUTS))
def test_encode_command(benchmark, name):
    """fastredis.encode_command (propagation/AOF) on the same commands."""
    benchmark.group = f"encode-command-{name}"
    cmds = INPUTS[name]
    out = benchmark(lambda: [encode_command(c) for c in cmds])
    assert b"".join(out) == WIRE[name]


@pytest.mark.parametrize("name", list(INPUTS))
def test_pack_command_hiredis(benchmark, name):
    benchmark.group = f"encode-command-{name}"
    if not hasattr(hiredis, "pack_command"):
        pytest.fail("this hiredis has no pack_command")
    cmds = INPUTS[name]
    out = benchmark(lambda: [hiredis.pack_command(tuple(c)) for c in cmds])
    assert b"".join(out) == WIRE[name]
