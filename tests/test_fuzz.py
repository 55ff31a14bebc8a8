"""Fuzzing: whatever a client sends, the server stays up and answers well-formed RESP.

Two families, both driven by ``hypothesis`` and bounded (the whole file runs in well
under a minute):

* raw byte streams: random bytes and mutated valid RESP (truncations, wrong and
  negative lengths, huge counts, binary garbage, quoted inline commands).  Every
  reply must be well-formed RESP, and afterwards a fresh connection still gets PONG;
  mutated streams of harmless commands are also diffed byte for byte with redis-server.
* command sequences over every registered command, built from Redis' own argument
  grammar (``COMMAND DOCS`` of the real redis-server) with keys from a small pool so
  types collide, plus plain arity-driven random arguments for every command and
  subcommand of our table.  No reply may be ``ERR internal error`` (an unexpected
  Python exception in a handler) and the server log must stay free of tracebacks.

Examples are derandomized so runs are reproducible; set ``FASTREDIS_FUZZ_RANDOM=1``
for fresh random examples and ``FASTREDIS_FUZZ_EXAMPLES=<n>`` for longer runs.
"""

from __future__ import annotations

import os
import random
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ServerProcess, within
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

SCALE = int(os.environ.get("FASTREDIS_FUZZ_EXAMPLES", "0") or 0)
FUZZ = settings(
    max_examples=SCALE or 100,
    deadline=None,
    database=None,
    derandomize=not os.environ.get("FASTREDIS_FUZZ_RANDOM"),
    suppress_health_check=list(HealthCheck),
)


# -- a strict RESP reader -----------------------------------------------------------------


class Incomplete(Exception):
    """More bytes are needed to finish the reply."""


class Malformed(AssertionError):
    """The bytes are not valid RESP."""


_INT = re.compile(rb"-?(0|[1-9][0-9]*)\Z")
_DOUBLE = re.compile(rb"(-?inf|nan|-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)\Z")


def _line(buf: bytes, pos: int) -> tuple[bytes, int]:
    end = buf.find(b"\r\n", pos)
    if end < 0:
        if b"\n" in buf[pos:]:
            raise Malformed(f"bare LF in a line at {pos}: {buf[pos:pos + 80]!r}")
        raise Incomplete
    line = buf[pos:end]
    if b"\n" in line or b"\r" in line:
        raise Malformed(f"CR/LF inside a line: {line[:80]!r}")
    return line, end + 2


def _count(text: bytes, allow_null: bool) -> int:
    if not _INT.match(text):
        raise Malformed(f"bad length {text!r}")
    n = int(text)
    if n < (-1 if allow_null else 0):
        raise Malformed(f"negative length {n}")
    return n


def parse_reply(buf: bytes, pos: int = 0, resp: int = 2) -> tuple[Any, int]:
    """Parse one reply starting at ``pos``: (value, next position); errors are ``("ERR", text)``."""
    if pos >= len(buf):
        raise Incomplete
    kind = buf[pos:pos + 1]
    line, pos = _line(buf, pos + 1)
    if kind == b"+":
        return line, pos
    if kind == b"-":
        if not line:
            raise Malformed("empty error")
        return ("ERR", line), pos
    if kind == b":":
        if not _INT.match(line) or not -2**63 <= int(line) < 2**63:
            raise Malformed(f"bad integer {line!r}")
        return int(line), pos
    if kind in (b"$", b"!", b"=") if resp == 3 else kind == b"$":
        n = _count(line, allow_null=kind == b"$" and resp == 2)
        if n < 0:
            return None, pos
        if len(buf) < pos + n + 2:
            raise Incomplete
        data = buf[pos:pos + n]
        if buf[pos + n:pos + n + 2] != b"\r\n":
            raise Malformed(f"bulk of {n} bytes not followed by CRLF")
        if kind == b"=" and (len(data) < 4 or data[3:4] != b":"):
            raise Malformed(f"verbatim string without a format: {data[:10]!r}")
        if kind == b"!":
            return ("ERR", data), pos + n + 2
        return data, pos + n + 2
    if kind in (b"*", b"%", b"~", b">") if resp == 3 else kind == b"*":
        n = _count(line, allow_null=kind == b"*" and resp == 2)
        if n < 0:
            return None, pos
        items = []
        for _ in range(n * 2 if kind == b"%" else n):
            v, pos = parse_reply(buf, pos, resp)
            items.append(v)
        if kind == b"%":
            keys = items[0::2]
            if all(isinstance(k, bytes) for k in keys) and len(set(keys)) == len(keys):
                return dict(zip(keys, items[1::2])), pos
        return items, pos
    if resp == 3:
        if kind == b"_":
            if line:
                raise Malformed(f"null with payload {line!r}")
            return None, pos
        if kind == b"#":
            if line not in (b"t", b"f"):
                raise Malformed(f"bad boolean {line!r}")
            return line == b"t", pos
        if kind == b",":
            if not _DOUBLE.match(line):
                raise Malformed(f"bad double {line!r}")
            return float(line), pos
        if kind == b"(":
            if not _INT.match(line):
                raise Malformed(f"bad big number {line!r}")
            return int(line), pos
    raise Malformed(f"unknown reply type {kind!r} (RESP{resp}) at {buf[pos - 1 - len(line):][:60]!r}")


def parse_all(buf: bytes, resp: int = 2) -> list[Any]:
    """Every complete reply in ``buf``; a trailing partial reply is malformed (the server closed)."""
    out, pos = [], 0
    while pos < len(buf):
        try:
            v, pos = parse_reply(buf, pos, resp)
        except Incomplete:
            raise Malformed(f"truncated reply at byte {pos}: {buf[pos:pos + 80]!r}") from None
        out.append(v)
    return out


def errors_in(v: Any) -> Iterator[bytes]:
    if isinstance(v, tuple):
        yield v[1]
    elif isinstance(v, dict):
        for x in v.values():
            yield from errors_in(x)
    elif isinstance(v, list):
        for x in v:
            yield from errors_in(x)


def assert_no_internal_error(v: Any, what: object) -> None:
    for e in errors_in(v):
        assert b"internal error" not in e, f"{what!r} -> {e!r}"


class Conn:
    """A raw RESP connection that reads exactly one reply per command."""

    def __init__(self, port: int, resp: int = 2) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.resp = resp
        if resp == 3:
            hello = self.call([b"HELLO", b"3"])  # answered in RESP3 already
            assert isinstance(hello, dict), hello

    def send(self, argv: list[bytes]) -> None:
        self.sock.sendall(b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv))

    def read_raw(self) -> tuple[Any, bytes]:
        """One reply: its value and its exact bytes."""
        while True:
            try:
                v, pos = parse_reply(self.buf, 0, self.resp)
            except Incomplete:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise ConnectionError(f"server closed the connection, pending {self.buf[:80]!r}") from None
                self.buf += chunk
                continue
            raw, self.buf = self.buf[:pos], self.buf[pos:]
            return v, raw

    def read(self) -> Any:
        return self.read_raw()[0]

    def call(self, argv: list[bytes]) -> Any:
        self.send(argv)
        try:
            return self.read()
        except TimeoutError:
            raise AssertionError(f"no reply to {argv!r}") from None

    def call_raw(self, argv: list[bytes]) -> bytes:
        self.send(argv)
        return self.read_raw()[1]

    def close(self) -> None:
        self.sock.close()


def ping(port: int) -> None:
    """The server is alive: a fresh connection answers PING."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = s.recv(64)
            assert chunk, "connection closed before PONG"
            buf += chunk
        assert buf == b"+PONG\r\n"


def converse(port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Send ``payload``, half-close, and collect everything until the server closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed on a protocol error while we were still sending
        buf = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                chunk = s.recv(1 << 16)
            except ConnectionResetError:
                break
            except TimeoutError:
                raise AssertionError(f"no EOF after half-close for {payload[:100]!r}") from None
            if not chunk:
                break
            buf += chunk
        return buf
    finally:
        s.close()


# -- servers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[ServerProcess]:
    """A server of our own: the fuzzer flushes it freely and its log is checked for tracebacks."""
    srv = ServerProcess()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _clean_log(fuzz_server: ServerProcess) -> Iterator[None]:
    yield
    assert fuzz_server.alive(), "server died"
    log = fuzz_server.log_text()
    assert "Traceback" not in log and "Internal error" not in log, log[-4000:]


# -- raw byte streams -----------------------------------------------------------------------

SAFE = [
    [b"PING"], [b"PING", b"hi"], [b"ECHO", b"x\x00y\r\nz"], [b"SET", b"fz:k", b"v"], [b"GET", b"fz:k"],
    [b"INCR", b"fz:n"], [b"DEL", b"fz:k"], [b"EXISTS", b"fz:k", b"fz:n"], [b"RPUSH", b"fz:l", b"a", b"b"],
    [b"LRANGE", b"fz:l", b"0", b"-1"], [b"STRLEN", b"fz:k"], [b"TYPE", b"fz:l"], [b"GET"], [b"NOSUCH", b"a"],
]


def encode(argv: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def _length_tokens() -> st.SearchStrategy[bytes]:
    return st.sampled_from([b"-1", b"-5", b"0", b"1", b"3", b"1048577", b"2147483648", b"536870913",
                            b"9223372036854775808", b"99999999999999999999", b"x", b"", b" 1", b"+1", b"01"])


@st.composite
def mutated_resp(draw: st.DrawFn) -> bytes:
    """Valid commands from SAFE, then one or more structural mutations."""
    data = bytearray(b"".join(encode(c) for c in draw(st.lists(st.sampled_from(SAFE), min_size=1, max_size=6))))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "length", "flip", "insert", "delete", "splice"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "truncate":
            del data[i:]
        elif op == "length":
            # replace the number after a '*' or '$' header
            heads = [m.start() for m in re.finditer(rb"[*$]", bytes(data))]
            if heads:
                h = draw(st.sampled_from(heads))
                end = data.find(b"\r\n", h)
                if end > h:
                    data[h + 1:end] = draw(_length_tokens())
        elif op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.sampled_from([b"\r\n", b"\n", b"\r", b"*", b"$", b"\x00", b"\"", b"'", b" "]))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 4))]
        else:
            data[i:i] = draw(st.binary(max_size=12))
    return bytes(data)


INLINE_WORDS = [b"PING", b"ECHO", b"SET", b"GET", b"fz:k", b"\"a b\"", b"'c d'", b"\"\\x41\\x4\"", b"\"\\n\"",
                b"'it\\'s'", b"\"unterminated", b"'x", b"\"a\"b", b"\t", b"  ", b"\x00", b"\xff"]


@st.composite
def inline_commands(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        words = draw(st.lists(st.sampled_from(INLINE_WORDS), min_size=0, max_size=5))
        lines.append(b" ".join(words) + draw(st.sampled_from([b"\r\n", b"\n"])))
    return b"".join(lines)


@FUZZ
@given(payload=st.one_of(st.binary(max_size=300), mutated_resp(), inline_commands()))
def test_raw_streams_get_wellformed_replies(fuzz_server: ServerProcess, payload: bytes) -> None:
    """Garbage in, RESP out (possibly a protocol error and a close), and the server lives."""
    out = converse(fuzz_server.port, payload)
    replies = parse_all(out)
    assert len(replies) <= payload.count(b"\n") + 1, (payload, out)
    for v in replies:
        assert_no_internal_error(v, payload)
    ping(fuzz_server.port)


@FUZZ
@given(payload=st.one_of(mutated_resp(), inline_commands()))
@example(payload=encode([b"PING"]) + b"*3\r\n$3\r\nSET\r\n$4\r\nfz:k\r\n\x801\r\nv\r\n")
def test_mutated_streams_match_redis(fuzz_server: ServerProcess, real_redis: ServerProcess,
                                     payload: bytes) -> None:
    """Protocol errors, partial frames and inline quoting behave byte for byte like redis-server."""
    for port in (fuzz_server.port, real_redis.port):
        converse(port, encode([b"DEL", b"fz:k", b"fz:n", b"fz:l"]))
    ours = converse(fuzz_server.port, payload)
    theirs = converse(real_redis.port, payload)
    assert ours == theirs, f"payload {payload!r}"


@FUZZ
@given(header=st.sampled_from([b"*", b"$"]), n=st.sampled_from(
    [b"1048576", b"1048577", b"2147483647", b"2147483648", b"536870912", b"536870913", b"-2", b"-1",
     b"4611686018427387904", b"9223372036854775807", b"18446744073709551616"]),
       tail=st.binary(max_size=40))
def test_huge_and_negative_lengths(fuzz_server: ServerProcess, header: bytes, n: bytes, tail: bytes) -> None:
    """Huge counts are refused or awaited without preallocating; the server stays responsive."""
    payload = (b"*1\r\n" if header == b"$" else b"") + header + n + b"\r\n" + tail
    out = converse(fuzz_server.port, payload)
    parse_all(out)
    ping(fuzz_server.port)


# -- command sequences --------------------------------------------------------------------

# commands that would stop, block or reconfigure the fuzz server, or turn the connection
# into something else (MONITOR, SUBSCRIBE, replication)
EXCLUDED = {
    "shutdown", "debug", "monitor", "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
    "sunsubscribe", "replicaof", "slaveof", "sync", "psync", "replconf", "wait", "waitaof", "failover",
    "save", "bgsave", "bgrewriteaof", "quit", "reset", "hello", "auth", "multi", "exec", "discard",
    "client|kill", "client|pause", "client|reply", "client|no-evict", "client|unpause", "config|set",
    "config|rewrite", "config|resetstat", "select", "swapdb", "module", "acl", "cluster", "eval", "evalsha",
    "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "function", "script", "latency", "memory", "slowlog",
    "lolwut", "pfselftest", "pfdebug",
}
BLOCKING_TIMEOUT_LAST = {"blpop", "brpop", "bzpopmin", "bzpopmax", "blmove", "brpoplpush"}
BLOCKING_TIMEOUT_FIRST = {"blmpop", "bzmpop"}

KEYS = [b"k1", b"k2", b"s1", b"l1", b"h1", b"z1", b"x1", b"st1", b"hll1"]
BY_GROUP = {"string": [b"st1", b"k1", b"k2"], "bitmap": [b"st1", b"k1", b"k2"], "list": [b"l1", b"k1", b"k2"],
            "hash": [b"h1", b"k1"], "set": [b"s1", b"k1", b"k2"], "sorted-set": [b"z1", b"k1", b"k2"],
            "geo": [b"z1", b"k1"], "stream": [b"x1", b"k1", b"k2"], "hyperloglog": [b"hll1", b"k1", b"st1"]}
STRS = [b"a", b"b", b"1", b"f", b"g", b"v", b"", b"\x00\r\n", b"g1", b"c1", b"0-1", b"xyz", b"\xff\xfe"]
SMALL = [b"0", b"1", b"2", b"3", b"-1", b"-2", b"5", b"10"]
# no huge negative counts: like Redis, SRANDMEMBER/HRANDFIELD -<huge> would build a giant reply
INTS = [b"0", b"1", b"-1", b"2", b"3", b"10", b"-100", b"9223372036854775807", b"9223372036854775808",
        b"-9223372036854775808", b"-9223372036854775809", b"4294967296", b"x", b"", b"1.5", b" 1"]
DBLS = [b"0", b"1.5", b"-1.5", b"1e308", b"1e400", b"-1e400", b"inf", b"-inf", b"+inf", b"nan", b"(1",
        b"(-inf", b"5e-324", b"0x10", b"", b"2", b"-0", b"1e-400"]
IDS = [b"0", b"0-0", b"1-1", b"2-1", b"1", b"3-0", b"$", b">", b"-", b"+", b"*", b"(1-1", b"1-*",
       b"18446744073709551615-18446744073709551615", b"18446744073709551616", b"-1"]
RANGES = [b"-", b"+", b"[a", b"(a", b"(1", b"1", b"-inf", b"+inf", b"[", b"(", b"a"]
NAMED = {
    "id": IDS, "last-id": IDS, "max_deleted_entry_id": IDS, "threshold": IDS + SMALL,
    "operation": [b"AND", b"OR", b"XOR", b"NOT", b"and", b"NAND"],
    "encoding": [b"i8", b"u4", b"i64", b"u63", b"u64", b"i65", b"i0", b"x", b"i"],
    "group": [b"g1", b"g2"], "groupname": [b"g1", b"g2"], "consumer": [b"c1", b"c2"],
    "consumername": [b"c1", b"c2"], "section": [b"server", b"all", b"everything", b"default", b"nosuch"],
    "parameter": [b"maxmemory", b"*", b"save", b"nosuch", b"hz"], "element": [b"a", b"b", b"1"],
    "member": [b"a", b"b", b"1", b"m"], "field": [b"f", b"g", b"h"], "pivot": [b"a", b"b"],
    "channel": [b"ch"], "shardchannel": [b"ch"], "message": [b"hello"],
}
NAMED_BY_TYPE = {
    ("string", "start"): IDS + RANGES, ("string", "end"): IDS + RANGES, ("string", "stop"): RANGES,
    ("string", "min"): RANGES, ("string", "max"): RANGES, ("integer", "min-idle-time"): SMALL + [b"-1", b"x"],
    ("string", "min-idle-time"): SMALL + [b"-1", b"x"],
    ("double", "min"): DBLS + [b"(2"], ("double", "max"): DBLS + [b"(2"],
    # offsets stay below a few MB: SETBIT/SETRANGE at 2^32-1 are valid but allocate 512 MB
    ("integer", "offset"): [b"0", b"1", b"7", b"8", b"100", b"-1", b"#0", b"#1", b"#-1", b"4294967296",
                            b"9223372036854775807", b"x"],
    ("integer", "count"): [b"0", b"1", b"2", b"3", b"10", b"-1", b"-2", b"-10", b"9223372036854775807",
                           b"-9223372036854775808", b"x", b"", b"4294967296"],
}
ANY = KEYS + STRS + INTS + DBLS + IDS[:6] + RANGES[:4]


class Grammar:
    """Builds argv for a command from Redis' COMMAND DOCS argument tree, with mutations."""

    def __init__(self, rnd: random.Random, docs: dict[str, Any], dumps: list[bytes]) -> None:
        self.rnd = rnd
        self.docs = docs
        self.dumps = dumps
        self.group = ""

    def value(self, a: dict[str, Any]) -> list[bytes]:
        rnd = self.rnd
        t, name = a.get("type"), a.get("name", "")
        if t == "pure-token":
            return []
        if rnd.random() < 0.03:
            return [rnd.choice(ANY)]
        if t == "oneof":
            return self.arg(rnd.choice(a["arguments"]), force=True)
        if t == "block":
            return [x for sub in a["arguments"] for x in self.arg(sub)]
        if t == "key":
            pref = BY_GROUP.get(self.group)
            return [rnd.choice(pref) if pref and rnd.random() < 0.75 else rnd.choice(KEYS)]
        if name == "serialized-value":
            return [rnd.choice(self.dumps)]
        pool = NAMED_BY_TYPE.get((t, name)) or (NAMED.get(name) if t == "string" else None)
        if t in ("integer", "double") and (pool is None or rnd.random() < 0.3):
            pool = SMALL if rnd.random() < 0.7 else (INTS if t == "integer" else DBLS)
        if t == "unix-time":
            pool = [b"0", b"1", b"99999999999", b"-1", b"9223372036854775807", b"4102444800"]
        if t == "pattern":
            pool = [b"*", b"k*", b"[a-z]*", b"\\", b"?", b"[", b"*[^", b"f*"]
        return [rnd.choice(pool or STRS)]

    def arg(self, a: dict[str, Any], force: bool = False) -> list[bytes]:
        rnd = self.rnd
        flags = a.get("flags") or []
        if "optional" in flags and not force and rnd.random() < 0.5:
            return []
        reps = rnd.choice([1, 1, 2, 3, 5]) if "multiple" in flags else 1
        out: list[bytes] = []
        tok = a.get("token")
        for i in range(reps):
            if tok and (i == 0 or "multiple_token" in flags):
                out.append(tok.encode() if rnd.random() > 0.1 else tok.lower().encode())
            out += self.value(a)
        return out

    def command(self, name: str) -> list[bytes]:
        rnd = self.rnd
        parent = name.split("|")[0]
        d = self.docs[parent]
        self.group = d.get("group", "")
        if "|" in name:
            d = d["subcommands"][name]
        head = [p.encode() for p in name.split("|")]
        spec = d.get("arguments") or []
        args: list[bytes] = []
        i = 0
        while i < len(spec):
            a = spec[i]
            if a.get("name") == "numkeys" and i + 1 < len(spec):
                rest = self.arg(spec[i + 1], force=True)
                n = len(rest) if rnd.random() < 0.9 else rnd.choice([0, -1, len(rest) + 1, 2**40])
                args += [str(n).encode()] + rest
                i += 2
                continue
            args += self.arg(a)
            i += 1
        m = rnd.random()
        if m < 0.05 and args:
            args.pop(rnd.randrange(len(args)))
        elif m < 0.1 and args:
            args[rnd.randrange(len(args))] = rnd.choice(ANY)
        elif m < 0.13:
            args.insert(rnd.randrange(len(args) + 1), rnd.choice(ANY))
        return head + args


def _decode(o: Any) -> Any:
    if isinstance(o, bytes):
        return o.decode()
    if isinstance(o, dict):
        return {_decode(k): _decode(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_decode(v) for v in o]
    return o


@pytest.fixture(scope="module")
def grammar_docs(real_redis: ServerProcess) -> dict[str, Any]:
    """Argument grammar of every command, from the real redis-server (ours may not ship it)."""
    c = Conn(real_redis.port, resp=3)
    try:
        docs = c.call([b"COMMAND", b"DOCS"])
    finally:
        c.close()
    return _decode(docs)


@pytest.fixture(scope="module")
def our_commands(fuzz_server: ServerProcess) -> list[tuple[str, int]]:
    """(name, arity) of every command and subcommand the server registers, from COMMAND."""
    c = Conn(fuzz_server.port)
    try:
        info = c.call([b"COMMAND"])
    finally:
        c.close()
    out = []
    for entry in info:
        name, arity = entry[0].decode(), entry[1]
        subs = entry[9] if len(entry) > 9 else []
        out.append((name, arity))
        for sub in subs or []:
            out.append((sub[0].decode(), sub[1]))
    assert len(out) > 150
    return sorted(out)


def _populate(c: Conn) -> list[bytes]:
    """One key of each type (and a consumer group with a pending entry); DUMP payloads of each."""
    for argv in ([b"FLUSHALL"], [b"SET", b"st1", b"abc"], [b"RPUSH", b"l1", b"a", b"b", b"1"],
                 [b"HSET", b"h1", b"f", b"1", b"g", b"x"], [b"SADD", b"s1", b"a", b"1"],
                 [b"ZADD", b"z1", b"1", b"a", b"2", b"b"], [b"GEOADD", b"z1", b"13.36", b"38.11", b"m"],
                 [b"XADD", b"x1", b"1-1", b"f", b"v"], [b"XADD", b"x1", b"2-1", b"f", b"w"],
                 [b"XGROUP", b"CREATE", b"x1", b"g1", b"0"],
                 [b"XREADGROUP", b"GROUP", b"g1", b"c1", b"STREAMS", b"x1", b">"],
                 [b"PFADD", b"hll1", b"a", b"b"]):
        reply = c.call(argv)
        assert not isinstance(reply, tuple), (argv, reply)
    dumps = [c.call([b"DUMP", k]) for k in (b"st1", b"l1", b"h1", b"s1", b"z1", b"x1", b"hll1")]
    return [d for d in dumps if isinstance(d, bytes)] + [b"\x00", b"garbage"]


def _tame(name: str, argv: list[bytes]) -> list[bytes]:
    """Blocking commands wait 10 ms at most."""
    if name in BLOCKING_TIMEOUT_LAST and len(argv) > 2:
        argv[-1] = b"0.01"
    elif name in BLOCKING_TIMEOUT_FIRST and len(argv) > 2:
        argv[1] = b"0.01"
    for i, a in enumerate(argv[:-1]):
        if a.upper() == b"BLOCK":
            argv[i + 1] = b"10"
    return argv


@pytest.mark.parametrize("resp", [2, 3])
def test_grammar_command_sequences(fuzz_server: ServerProcess, grammar_docs: dict[str, Any],
                                   our_commands: list[tuple[str, int]], resp: int) -> None:
    """Mostly-valid commands from Redis' grammar, keys colliding across types, in both protocols."""
    names = sorted({n for n, _ in our_commands if n not in EXCLUDED and n.split("|")[0] not in EXCLUDED
                    and n.split("|")[0] in grammar_docs
                    and ("|" not in n or n in (grammar_docs[n.split("|")[0]].get("subcommands") or {}))})
    assert len(names) > 150

    @FUZZ
    @given(rnd=st.randoms(use_true_random=False), length=st.integers(5, 40))
    def run(rnd: random.Random, length: int) -> None:
        c = Conn(fuzz_server.port, resp)
        try:
            g = Grammar(rnd, grammar_docs, _populate(c))
            for name in (rnd.choice(names) for _ in range(length)):
                argv = _tame(name, g.command(name))
                try:
                    reply = c.call(argv)
                except ConnectionError as e:
                    raise AssertionError(f"connection lost after {argv!r}: {e}") from None
                assert_no_internal_error(reply, argv)
        finally:
            c.close()
        ping(fuzz_server.port)

    run()


RANDOM_ARGS = [b"k1", b"l1", b"z1", b"h1", b"s1", b"x1", b"st1", b"0", b"1", b"-1", b"2", b"", b"\x00\xff",
               b"9223372036854775808", b"-9223372036854775809", b"inf", b"nan", b"*", b"$", b"-", b"+",
               b"COUNT", b"LIMIT", b"WITHSCORES", b"STORE", b"MATCH", b"TYPE", b"NX", b"XX", b"GET", b"BY",
               b"STREAMS", b"GROUP", b"KEEPTTL", b"EX", b"PX", b"REV", b"BYSCORE", b"BYLEX", b"IDLE"]


def test_every_command_with_random_arguments(fuzz_server: ServerProcess,
                                             our_commands: list[tuple[str, int]]) -> None:
    """Each command and subcommand we register, with 0..6 arguments drawn from a colliding pool."""
    names = [(n, a) for n, a in our_commands if n not in EXCLUDED and n.split("|")[0] not in EXCLUDED]
    rnd = random.Random(int(os.environ.get("FASTREDIS_FUZZ_SEED", "1234")))
    for resp in (2, 3):
        c = Conn(fuzz_server.port, resp)
        try:
            for round_ in range(4 * max(1, SCALE // 60)):
                _populate(c)
                for name, arity in names:
                    head = [p.encode() for p in name.split("|")]
                    n = (abs(arity) - len(head)) + (rnd.randrange(5) if arity < 0 else 0)
                    if round_ == 3:
                        n = max(0, n + rnd.choice([-1, 1]))  # wrong arity on purpose
                    argv = _tame(name.split("|")[0], head + [rnd.choice(RANDOM_ARGS) for _ in range(max(0, n))])
                    assert_no_internal_error(c.call(argv), argv)
        finally:
            c.close()
    ping(fuzz_server.port)


def test_transactions_of_random_commands(fuzz_server: ServerProcess, grammar_docs: dict[str, Any],
                                         our_commands: list[tuple[str, int]]) -> None:
    """MULTI/EXEC around random commands: queued errors abort, run-time errors stay in the array."""
    names = sorted({n for n, _ in our_commands if n not in EXCLUDED and n.split("|")[0] not in EXCLUDED
                    and n.split("|")[0] in grammar_docs
                    and ("|" not in n or n in (grammar_docs[n.split("|")[0]].get("subcommands") or {}))})
    rnd = random.Random(99)
    c = Conn(fuzz_server.port)
    try:
        g = Grammar(rnd, grammar_docs, _populate(c))
        for _ in range(60 * max(1, SCALE // 60)):
            batch = [_tame(n, g.command(n)) for n in (rnd.choice(names) for _ in range(rnd.randrange(1, 6)))]
            assert c.call([b"MULTI"]) == b"OK"
            queued = [c.call(argv) for argv in batch]
            result = c.call([b"EXEC"])
            # WATCH runs at once inside MULTI ("WATCH inside MULTI is not allowed") without
            # flagging the transaction; any other refused command aborts it
            if any(isinstance(q, tuple) and argv[0] != b"watch" for argv, q in zip(batch, queued)):
                assert isinstance(result, tuple) and result[1].startswith(b"EXECABORT"), (batch, result)
            else:
                n = sum(q == b"QUEUED" for q in queued)
                assert isinstance(result, list) and len(result) == n, (batch, queued, result)
                assert_no_internal_error(result, batch)
    finally:
        c.close()


# -- regressions found by the fuzzer ----------------------------------------------------------


@pytest.mark.parametrize("argv", [
    [b"GEORADIUS", b"gz", b"5", b"5", b"inf", b"m"],
    [b"GEORADIUSBYMEMBER", b"gz", b"a", b"+inf", b"m", b"WITHCOORD", b"WITHDIST", b"WITHHASH", b"DESC"],
    [b"GEORADIUS_RO", b"gz", b"5", b"5", b"1e308", b"mi", b"WITHDIST"],
    [b"GEOSEARCH", b"gz", b"FROMLONLAT", b"1", b"1", b"BYBOX", b"inf", b"inf", b"m"],
    [b"GEOSEARCH", b"gz", b"FROMMEMBER", b"c", b"BYBOX", b"1", b"inf", b"km", b"WITHDIST"],
    [b"GEOSEARCHSTORE", b"gd", b"gz", b"FROMLONLAT", b"1", b"1", b"BYRADIUS", b"inf", b"m"],
])
def test_geo_infinite_radius_like_redis(fuzz_server: ServerProcess, real_redis: ServerProcess,
                                        argv: list[bytes]) -> None:
    """An infinite radius/box (C's cos(inf) is NaN) matches everything instead of failing."""
    out = []
    for port in (fuzz_server.port, real_redis.port):
        c = Conn(port)
        try:
            c.call([b"DEL", b"gz", b"gd"])
            c.call([b"GEOADD", b"gz", b"1", b"1", b"a", b"170", b"80", b"b", b"-170", b"-85", b"c"])
            out.append(c.call_raw(argv))
        finally:
            c.close()
    assert out[0] == out[1], argv


# -- propagation: AOF and replicas replay exactly what the master did ------------------------


def _dataset(port: int) -> dict[tuple[int, bytes], Any]:
    """Every key (db, name) -> (type, logical content, has-TTL) for keys without a short TTL."""
    import redis

    out: dict[tuple[int, bytes], Any] = {}
    first = redis.Redis(host="127.0.0.1", port=port, protocol=2, socket_timeout=10)
    dbs = [int(name[2:]) for name in first.info("keyspace")]
    first.close()
    for db in dbs:
        r = redis.Redis(host="127.0.0.1", port=port, protocol=2, db=db, socket_timeout=10)
        for k in r.scan_iter(count=1000):
            ttl = r.pttl(k)
            if 0 <= ttl < 60_000:
                continue  # may expire while the copies are compared
            t = r.type(k)
            if t == b"string":
                v: Any = r.get(k)
            elif t == b"list":
                v = r.lrange(k, 0, -1)
            elif t == b"hash":
                v = sorted(r.hgetall(k).items())
            elif t == b"set":
                v = sorted(r.smembers(k))
            elif t == b"zset":
                v = r.zrange(k, 0, -1, withscores=True)
            elif t == b"stream":
                groups = r.xinfo_groups(k)
                pel = [[(p["message_id"], p["consumer"], p["times_delivered"])
                        for p in r.xpending_range(k, g["name"], "-", "+", 100_000)] for g in groups]
                info = r.xinfo_stream(k)
                v = (r.xrange(k), [(g["name"], g["last-delivered-id"], g["entries-read"], g["pending"])
                                   for g in groups], pel,
                     [info[f] for f in ("length", "last-generated-id", "max-deleted-entry-id", "entries-added")])
            else:
                v = None
            out[(db, k)] = (t, v, ttl > 0)
        r.close()
    return out


def _wait_equal(get_a: Any, get_b: Any, timeout: float = 20.0) -> tuple[Any, Any]:
    deadline = time.time() + timeout
    while True:
        a, b = get_a(), get_b()
        if a == b or time.time() > deadline:
            return a, b
        time.sleep(0.2)


def test_propagation_replays_identically(grammar_docs: dict[str, Any],
                                         our_commands: list[tuple[str, int]]) -> None:
    """Random writes on a master with AOF and a replica: the replica and a server loading the AOF
    end with the same dataset, and neither met an error while replaying the propagated stream."""
    import shutil

    import redis

    master = ServerProcess(args=["--appendonly", "yes", "--appendfsync", "no"])
    replica = ServerProcess(args=["--replicaof", "127.0.0.1", str(master.port)])
    loaded: ServerProcess | None = None
    try:
        rm = redis.Redis(host="127.0.0.1", port=master.port, protocol=2, socket_timeout=10)
        rr = redis.Redis(host="127.0.0.1", port=replica.port, protocol=2, socket_timeout=10)
        deadline = time.time() + 20
        while rr.info("replication").get("master_link_status") != "up" and time.time() < deadline:
            time.sleep(0.05)
        excluded = EXCLUDED | {"flushdb", "flushall"}  # they would leave nothing to compare
        names = sorted({n for n, _ in our_commands if n not in excluded and n.split("|")[0] not in excluded
                        and n.split("|")[0] in grammar_docs
                        and ("|" not in n or n in (grammar_docs[n.split("|")[0]].get("subcommands") or {}))})
        rnd = random.Random(int(os.environ.get("FASTREDIS_FUZZ_SEED", "7")))
        c = Conn(master.port)
        try:
            g = Grammar(rnd, grammar_docs, _populate(c))
            for i in range(3000 * max(1, SCALE // 60)):
                if i % 500 == 499:
                    db = b"%d" % rnd.randrange(3)
                    assert c.call([b"SELECT", db]) == b"OK"
                name = rnd.choice(names)
                argv = _tame(name, g.command(name))
                assert_no_internal_error(c.call(argv), argv)
        finally:
            c.close()
        want, got = _wait_equal(lambda: _dataset(master.port), lambda: _dataset(replica.port))
        assert len(want) > 5
        assert got == want, {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)}
        assert rr.info("errorstats") == {}, "the replica refused part of the replication stream"
        # a fresh server loading a copy of the AOF
        loaded_dir = os.path.join(os.path.dirname(master.dir), os.path.basename(master.dir) + "-copy")
        rm.execute_command("CONFIG", "SET", "appendfsync", "always")
        rm.set("__aof_barrier__", "1")
        shutil.copytree(master.dir, loaded_dir)
        loaded = ServerProcess(args=["--appendonly", "yes"], cwd=loaded_dir)
        rl = redis.Redis(host="127.0.0.1", port=loaded.port, protocol=2, socket_timeout=10)
        assert rl.get("__aof_barrier__") == b"1"
        assert rl.info("errorstats") == {}, "the AOF holds commands that fail when replayed"
        rm.delete("__aof_barrier__")
        rl.delete("__aof_barrier__")
        want, got = _wait_equal(lambda: _dataset(master.port), lambda: _dataset(loaded.port))
        assert got == want, {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)}
        for s in (master, replica, loaded):
            log = s.log_text()
            assert "Traceback" not in log and "Internal error" not in log, log[-3000:]
    finally:
        for s in (loaded, replica, master):
            if s is not None:
                s.stop()


@pytest.mark.parametrize("script", [
    # RESTORE with a relative TTL that overflows long long: already expired, nothing stored
    [[b"RPUSH", b"src", b"a"], [b"__DUMP__", b"src"], [b"RESTORE", b"r1", b"9223372036854775807", b"__PAYLOAD__"],
     [b"EXISTS", b"r1"], [b"SET", b"r2", b"x"],
     [b"RESTORE", b"r2", b"9223372036854000000", b"__PAYLOAD__", b"REPLACE"], [b"EXISTS", b"r2"],
     [b"RESTORE", b"r3", b"9223370000000000000", b"__PAYLOAD__"], [b"EXISTS", b"r3"]],
    # ZRANDMEMBER LLONG_MIN is refused before the key is looked at (it used to hang building the reply)
    [[b"ZADD", b"z", b"1", b"a"], [b"ZRANDMEMBER", b"z", b"-9223372036854775808"],
     [b"ZRANDMEMBER", b"nokey", b"-9223372036854775808"],
     [b"ZRANDMEMBER", b"z", b"-9223372036854775808", b"WITHSCORES"],
     [b"ZRANDMEMBER", b"z", b"-4611686018427387904", b"WITHSCORES"], [b"ZRANDMEMBER", b"z", b"-2"]],
], ids=["restore-ttl-overflow", "zrandmember-llong-min"])
def test_regressions_match_redis(fuzz_server: ServerProcess, real_redis: ServerProcess,
                                 script: list[list[bytes]]) -> None:
    out = []
    for port in (fuzz_server.port, real_redis.port):
        c = Conn(port)
        replies = []
        try:
            c.call([b"FLUSHALL"])
            payload = b""
            for argv in script:
                if argv[0] == b"__DUMP__":
                    payload = c.call([b"DUMP", argv[1]])
                    continue
                replies.append(c.call_raw([payload if a == b"__PAYLOAD__" else a for a in argv]))
        finally:
            c.close()
        out.append(replies)
    assert out[0] == out[1]


def test_aof_replay_keeps_keys_whose_expiry_passed() -> None:
    """Keys whose PXAT passed before a restart are still there while the AOF replays (RENAME,
    INCR... succeed as they did), then expire: no replay errors, nothing resurrected."""
    import redis

    srv = ServerProcess(args=["--appendonly", "yes", "--appendfsync", "always"])
    try:
        r = redis.Redis(host="127.0.0.1", port=srv.port, protocol=2, socket_timeout=10)

        def setup() -> None:  # RENAME and INCR before the 300 ms are up (tried again on a slow run)
            r.delete("k", "k2")
            r.set("k", "1", px=300)
            try:
                r.rename("k", "k2")
                r.incr("k2")
            except redis.ResponseError:
                pass

        within(0.3, setup)
        r.pexpire("k2", 300, lt=True)
        r.set("keep", "v")
        r.rename("keep", "kept")
        time.sleep(0.5)
        srv.stop()
        srv = ServerProcess(args=["--appendonly", "yes"], cwd=srv.dir, port=srv.port)
        r = redis.Redis(host="127.0.0.1", port=srv.port, protocol=2, socket_timeout=10)
        assert r.info("errorstats") == {}
        assert r.get("k2") is None and r.get("k") is None
        assert r.get("kept") == b"v"
        assert "Traceback" not in srv.log_text()
    finally:
        srv.stop()


def test_concurrent_clients_with_blocking_pushes_and_monitor(fuzz_server: ServerProcess,
                                                             grammar_docs: dict[str, Any],
                                                             our_commands: list[tuple[str, int]]) -> None:
    """Six clients at once (half RESP3 and subscribed to every keyspace event, so pushes interleave
    with replies), a third of the commands blocking with short timeouts, and a MONITOR watching:
    every command gets its reply, none is an internal error, the MONITOR stream stays well-formed."""
    import threading

    names = sorted({n for n, _ in our_commands if n not in EXCLUDED and n.split("|")[0] not in EXCLUDED
                    and n.split("|")[0] in grammar_docs
                    and ("|" not in n or n in (grammar_docs[n.split("|")[0]].get("subcommands") or {}))})
    blocking = ["blpop", "brpop", "bzpopmin", "bzpopmax", "blmove", "brpoplpush", "blmpop", "bzmpop",
                "xread", "xreadgroup"]
    admin = Conn(fuzz_server.port)
    dumps = _populate(admin)
    assert admin.call([b"CONFIG", b"SET", b"notify-keyspace-events", b"KEA"]) == b"OK"
    mon = socket.create_connection(("127.0.0.1", fuzz_server.port), timeout=10)
    mon.sendall(b"MONITOR\r\n")
    monitor_out = bytearray()
    done = threading.Event()

    def read_monitor() -> None:
        mon.settimeout(0.2)
        while not done.is_set():
            try:
                chunk = mon.recv(1 << 20)
            except TimeoutError:
                continue
            if not chunk:
                break
            monitor_out.extend(chunk)

    failures: list[str] = []

    def worker(k: int) -> None:
        rnd = random.Random(1000 + k)
        g = Grammar(rnd, grammar_docs, dumps)
        resp = 3 if k % 2 else 2
        c = Conn(fuzz_server.port, resp)
        try:
            if resp == 3:
                c.call([b"PSUBSCRIBE", b"*"])
            for _ in range(300 * max(1, SCALE // 60)):
                name = rnd.choice(blocking) if rnd.random() < 0.3 else rnd.choice(names)
                argv = g.command(name)
                if name in BLOCKING_TIMEOUT_LAST and len(argv) > 2:
                    argv[-1] = rnd.choice([b"0.01", b"0.05", b"0.2"])
                elif name in BLOCKING_TIMEOUT_FIRST and len(argv) > 2:
                    argv[1] = rnd.choice([b"0.01", b"0.05", b"0.2"])
                for i, a in enumerate(argv[:-1]):
                    if a.upper() == b"BLOCK":
                        argv[i + 1] = rnd.choice([b"10", b"50", b"200"])
                c.send(argv)
                while True:
                    v, raw = c.read_raw()
                    if raw[:1] != b">":  # keyspace events arrive as pushes between replies
                        break
                for e in errors_in(v):
                    if b"internal error" in e:
                        failures.append(f"{argv!r} -> {e!r}")
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            failures.append(f"client {k}: {e!r}")
        finally:
            c.close()

    reader = threading.Thread(target=read_monitor, daemon=True)
    reader.start()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not failures, failures[:10]
        time.sleep(0.3)
    finally:
        done.set()
        reader.join(5)
        mon.close()
        admin.call([b"CONFIG", b"SET", b"notify-keyspace-events", b""])
        admin.close()
    lines = bytes(monitor_out).split(b"\r\n")
    assert lines[0] == b"+OK" and len(lines) > 1000
    assert all(line.startswith(b"+") for line in lines[:-1] if line), "MONITOR sent something else"
    ping(fuzz_server.port)
