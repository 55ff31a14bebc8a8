"""Micro-benchmarks of the Cython RESP core beside hiredis, on the very same bytes.

Inputs (``INPUTS``): a small command, a pipeline of 16 commands, a 100 KB value, and a
1000-element array.

Parsing: ``fastredis.Parser`` parses requests (arrays of bulk strings) and
``hiredis.Reader`` parses replies; an array of bulk strings is both, so both are fed the
same bytes and must return the same lists.  For ``array1000`` that is hiredis reading a
reply of 1000 bulk strings and fastredis reading a request of 1000 arguments
(``RPUSH list`` + 998 values).

Encoding: hiredis has no reply encoder, only ``pack_command`` (arrays of bulk strings),
so ``fastredis.Writer`` encodes the same arrays as array replies and
``fastredis.encode_command`` as commands; all three must produce the same bytes.

Run, compare with the committed baseline and check the fastredis/hiredis ratios with::

    python benchmarks/bench_compare.py          # or: make bench-compare

or directly: ``python -m pytest benchmarks/test_codec_bench.py --benchmark-only``.
"""

from __future__ import annotations

import hiredis
import pytest

from fastredis._resp import Parser, Writer, encode_command

VALUE_100K = b"v" * 100_000

# name -> the commands (arrays of bulk strings) that make up one read
INPUTS = {
    "small": [[b"SET", b"key:000000001234", b"xxx"]],
    "pipeline16": [[b"SET", b"key:%012d" % i, b"xxx"] for i in range(16)],
    "value100k": [[b"SET", b"key", VALUE_100K]],
    "array1000": [[b"RPUSH", b"list"] + [b"element:%d" % i for i in range(998)]],
}
WIRE = {name: b"".join(encode_command(c) for c in cmds) for name, cmds in INPUTS.items()}
assert len(INPUTS["array1000"][0]) == 1000


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


def encode_command_fastredis(cmds: list) -> bytes:
    return b"".join([encode_command(c) for c in cmds])


def pack_hiredis(cmds: list) -> bytes:
    return b"".join([hiredis.pack_command(tuple(c)) for c in cmds])


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("impl", ["fastredis.Writer", "fastredis.encode_command", "hiredis.pack_command"])
def test_encode(benchmark, impl, name):
    """Encode one read's worth of arrays of bulk strings (RESP2), to the same bytes."""
    benchmark.group = f"encode-{name}"
    cmds = INPUTS[name]
    if impl == "fastredis.Writer":
        out = benchmark(write_fastredis, Writer(), cmds)
    elif impl == "fastredis.encode_command":
        out = benchmark(encode_command_fastredis, cmds)
    else:
        if not hasattr(hiredis, "pack_command"):
            pytest.fail("this hiredis has no pack_command")
        out = benchmark(pack_hiredis, cmds)
    assert out == WIRE[name]
