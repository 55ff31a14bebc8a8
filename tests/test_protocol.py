"""RESP2 request parsing over raw sockets, compared byte for byte with a real redis-server.

Each case sends raw bytes on a fresh connection to both servers and compares what
comes back and whether the server closed the connection (protocol errors close it
after the error reply).  Only commands whose replies do not differ between Redis 7.0
(the installed reference) and 7.2 are used: PING, ECHO, wrong arity and protocol errors.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from conftest import ServerProcess

SENTINEL = b"*2\r\n$4\r\nECHO\r\n$7\r\n__END__\r\n"
SENTINEL_REPLY = b"$7\r\n__END__\r\n"


def converse(port: int, payload: bytes, complete: bool = True, chunk: int | None = None,
             idle: float = 0.3, timeout: float = 10.0, at_least: int = 0) -> tuple[bytes, bool]:
    """Send ``payload`` and return (reply bytes, connection closed by the server).

    For a ``complete`` payload a sentinel ECHO follows it, and reading stops at its
    reply; otherwise reading stops after ``idle`` seconds of silence once ``at_least``
    bytes arrived (before that, silence is waited out up to ``timeout``).
    """
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        data = payload + (SENTINEL if complete else b"")
        if chunk:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(0, len(data), chunk):
                s.sendall(data[i:i + chunk])
                time.sleep(0.0005)
        else:
            s.sendall(data)
        buf = b""
        closed = False
        deadline = time.time() + timeout
        while time.time() < deadline:
            s.settimeout(idle if not complete and len(buf) >= at_least else timeout)
            try:
                got = s.recv(1 << 16)
            except TimeoutError:
                break
            except ConnectionResetError:
                closed = True
                break
            if not got:
                closed = True
                break
            buf += got
            if complete and buf.endswith(SENTINEL_REPLY):
                break
        if complete and buf.endswith(SENTINEL_REPLY):
            buf = buf[: -len(SENTINEL_REPLY)]
        return buf, closed
    finally:
        s.close()


def assert_same(real_port: int, fast_port: int, payload: bytes, complete: bool = True,
                chunk: int | None = None) -> tuple[bytes, bool]:
    expected = converse(real_port, payload, complete, chunk)
    # a loaded machine may answer later than the idle time: wait for as much as Redis said, and
    # for the close if Redis closed
    got = converse(fast_port, payload, complete, chunk,
                   at_least=len(expected[0]) + (1 if expected[1] else 0))
    assert got == expected, f"payload {payload[:200]!r}"
    return got


@pytest.fixture(scope="module")
def ports(server: ServerProcess, real_redis: ServerProcess) -> tuple[int, int]:
    return real_redis.port, server.port


# -- inline commands (sdssplitargs) -------------------------------------------------------

INLINE_CASES = [
    b"PING\r\n",
    b"PING\n",
    b"ping\r\n",
    b"\r\n\r\nPING\r\n",
    b"  \r\n\t\r\nPING\n",
    b"\t ECHO\t x  \n",
    b'ECHO "\\x41\\n"\r\n',
    b'ECHO "\\x4a\\x4B"\r\n',
    b'ECHO "\\xzz"\r\n',
    b'ECHO "\\x4"\r\n',
    b'ECHO "\\q\\"\\\\"\r\n',
    b'ECHO "\\t\\r\\a\\b\\n"\r\n',
    b"ECHO 'a\\'b'\r\n",
    b"ECHO 'a\\nb'\r\n",
    b"ECHO 'a\"b'\r\n",
    b'ECHO "a\'b"\r\n',
    b'ECHO ""\r\n',
    b"ECHO ''\r\n",
    b'ECHO a"b c"\r\n',
    b"ECHO a'b c'\r\n",
    b'ECHO "a" b\r\n',
    b'ECHO "a"\tb\r\n',
    b"ECHO a\x0bb\r\n",
    b"ECHO a\x0cb\r\n",
    b'ECHO "a"\x0b\r\n',
    b"ECHO \x0b a\r\n",
    b"ECHO a\rb\r\n",
    b"ECHO caf\xc3\xa9\r\n",
    b"ECHO \xff\xfe\r\n",
    b"ECHO " + b"x" * 60000 + b"\r\n",
    b"NOSUCH a 'b c' \"d\\x00e\"\r\n",
    b"ECHO\r\n",
    b"ECHO a b\r\n",
]


@pytest.mark.parametrize("payload", INLINE_CASES, ids=range(len(INLINE_CASES)))
def test_inline_same_as_redis(ports, payload):
    reply, closed = assert_same(*ports, payload)
    assert not closed


UNBALANCED = [
    b'ECHO "a\r\n',
    b"ECHO 'a\r\n",
    b'ECHO "a"b\r\n',
    b"ECHO 'a'b\r\n",
    b'ECHO "a\\"\r\n',
    b'PING\r\nECHO "a""\r\nPING\r\n',
]


@pytest.mark.parametrize("payload", UNBALANCED, ids=range(len(UNBALANCED)))
def test_unbalanced_quotes(ports, payload):
    reply, closed = assert_same(*ports, payload)
    assert closed
    assert reply.endswith(b"-ERR Protocol error: unbalanced quotes in request\r\n")


def test_inline_nul_byte_waits_like_strchr(ports):
    # Redis finds the end of an inline line with strchr: a NUL hides the newline
    reply, closed = assert_same(*ports, b"PING\x00x\r\nPING\r\n", complete=False)
    assert reply == b"" and not closed


def test_too_big_inline_request(ports):
    reply, closed = assert_same(*ports, b"PING\r\n" + b"a" * 70000, complete=False)
    assert reply == b"+PONG\r\n-ERR Protocol error: too big inline request\r\n" and closed


def test_inline_nul_then_too_big(ports):
    reply, closed = assert_same(*ports, b"PING \x00" + b"a" * 70000 + b"\r\n", complete=False)
    assert reply == b"-ERR Protocol error: too big inline request\r\n" and closed


# -- multibulk ------------------------------------------------------------------------------

MULTIBULK_CASES = [
    b"*1\r\n$4\r\nPING\r\n",
    b"*1\r\n$4\r\nping\r\n",
    b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
    b"*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\r\n\r\n",
    b"*2\r\n$4\r\nECHO\r\n$5\r\na\x00b\x00c\r\n",
    b"*2\r\n$4\r\nECHO\r\n$3\r\n\xff\r\x00\r\n",
    b"*2\r\n$4\r\nECHO\r\n$4\r\n$3\r\n\r\n",
    b"*0\r\nPING\r\n",
    b"*-1\r\nPING\r\n",
    b"*-10\r\nPING\r\n",
    b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",
    b"*3\r\n$4\r\nECHO\r\n$1\r\na\r\n$1\r\nb\r\n",
    b"*2\r\n$4\r\nECHO\r\n$40000\r\n" + b"z" * 40000 + b"\r\n",
    b"*2\r\n$4\r\nECHO\r\n$200000\r\n" + bytes(range(256)) * 781 + b"x" * 64 + b"\r\n",
    b"*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
]


@pytest.mark.parametrize("payload", MULTIBULK_CASES, ids=range(len(MULTIBULK_CASES)))
def test_multibulk_same_as_redis(ports, payload):
    reply, closed = assert_same(*ports, payload)
    assert not closed


PROTOCOL_ERRORS = [
    (b"*abc\r\n", b"invalid multibulk length"),
    (b"*\r\n", b"invalid multibulk length"),
    (b"*01\r\n$4\r\nPING\r\n", b"invalid multibulk length"),
    (b"*+1\r\n$4\r\nPING\r\n", b"invalid multibulk length"),
    (b"* 1\r\n", b"invalid multibulk length"),
    (b"*2147483648\r\n", b"invalid multibulk length"),
    (b"*20000000000000000000000\r\n", b"invalid multibulk length"),
    (b"*1\r\n$-1\r\n", b"invalid bulk length"),
    (b"*1\r\n$\r\n", b"invalid bulk length"),
    (b"*1\r\n$abc\r\n", b"invalid bulk length"),
    (b"*1\r\n$+4\r\nPING\r\n", b"invalid bulk length"),
    (b"*1\r\n$04\r\nPING\r\n", b"invalid bulk length"),
    (b"*1\r\n$536870913\r\n", b"invalid bulk length"),
    (b"*1\r\n$99999999999999999999\r\n", b"invalid bulk length"),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", b"expected '$', got 'f'"),
    (b"*1\r\nx4\r\nPING\r\n", b"expected '$', got 'x'"),
    (b"*2\r\n$4\r\nECHO\r\n*1\r\n", b"expected '$', got '*'"),
    (b"*1\r\n:4\r\n", b"expected '$', got ':'"),
    (b"*" + b"1" * 70000, b"too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 70000, b"too big bulk count string"),
]


@pytest.mark.parametrize("payload,error", PROTOCOL_ERRORS, ids=[e.decode() for _, e in PROTOCOL_ERRORS])
def test_protocol_errors_same_as_redis(ports, payload, error):
    reply, closed = assert_same(*ports, payload, complete=False)
    assert reply == b"-ERR Protocol error: " + error + b"\r\n"
    assert closed


def test_commands_before_error_are_answered(ports):
    payload = (b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO inline\r\n"
               b"*1\r\n$4\r\nPING\r\n*1\r\nxyz\r\nPING\r\n")
    reply, closed = assert_same(*ports, payload, complete=False)
    assert reply == (b"+PONG\r\n$2\r\nhi\r\n$6\r\ninline\r\n+PONG\r\n"
                     b"-ERR Protocol error: expected '$', got 'x'\r\n")
    assert closed


INCOMPLETE = [
    b"*1\r\n$536870912\r\n",
    b"*2147483647\r\n",
    b"*1\r\n$4\r\nPIN",
    b"*2\r\n$4\r\nECHO\r\n",
    b"*1\r\n$4",
    b"*1\r",
    b"*1\r\n\x00",
    b"*1\r\n$4\x00\r\nPING\r\n",
    b"PING",
]


@pytest.mark.parametrize("payload", INCOMPLETE, ids=range(len(INCOMPLETE)))
def test_incomplete_requests_wait(ports, payload):
    reply, closed = assert_same(*ports, payload, complete=False)
    assert reply == b"" and not closed


# -- pipelining and fragmentation ---------------------------------------------------------------

PIPELINE = (b"PING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nh\r\nl\x00\r\n"
            b"ECHO 'quoted arg' \r\n*1\r\n$4\r\nPING\r\n\r\n*0\r\n"
            b"*2\r\n$4\r\nECHO\r\n$3\r\n$1\r\r\n")


def test_pipeline_same_as_redis(ports):
    reply, closed = assert_same(*ports, PIPELINE * 50)
    assert reply.count(b"+PONG\r\n") == 100 and not closed


def test_pipeline_split_at_every_byte(ports):
    real, fast = ports
    expected = converse(real, PIPELINE)
    assert converse(fast, PIPELINE, chunk=1) == expected


@pytest.mark.parametrize("cut", range(1, 24))
def test_pipeline_split_in_two(ports, cut):
    """Two writes cut at each position of the first requests, with a pause between them."""
    real, fast = ports
    expected = converse(real, PIPELINE)
    for port in (fast,):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(PIPELINE[:cut])
        time.sleep(0.02)
        s.sendall(PIPELINE[cut:] + SENTINEL)
        buf = b""
        while not buf.endswith(SENTINEL_REPLY):
            got = s.recv(65536)
            assert got
            buf += got
        s.close()
        assert buf[: -len(SENTINEL_REPLY)] == expected[0]


def test_big_pipeline(server):
    n = 20000
    payload = b"".join(b"*2\r\n$4\r\nECHO\r\n$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(n))
    reply, closed = converse(server.port, payload, timeout=60)
    assert not closed
    assert reply == b"".join(b"$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(n))


def test_huge_argument_fragmented(server):
    value = os.urandom(3 * 1024 * 1024)
    payload = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (len(value), value)
    reply, closed = converse(server.port, payload, chunk=256 * 1024, timeout=30)
    assert reply == b"$%d\r\n%s\r\n" % (len(value), value)


# -- unauthenticated limits --------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth_ports():
    fast = ServerProcess(args=["--requirepass", "pw"])
    real = ServerProcess(cmd=["redis-server"], args=["--requirepass", "pw", "--appendonly", "no"])
    yield real.port, fast.port
    fast.stop()
    real.stop()


AUTH_CASES = [
    (b"*11\r\n", False),
    (b"*10\r\n$16385\r\n", False),
    (b"*1\r\n$16384\r\n", False),
    (b"AUTH pw\r\n*11\r\n", False),
    (b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*1\r\n$20000\r\n", False),
    (b"AUTH x\r\n*11\r\n", False),
    (b"AUTH pw\r\n*2\r\n$4\r\nECHO\r\n$20000\r\n" + b"q" * 20000 + b"\r\n", True),
    (b"PING\r\nECHO x\r\n", False),
]


@pytest.mark.parametrize("payload,complete", AUTH_CASES, ids=range(len(AUTH_CASES)))
def test_unauthenticated_limits(auth_ports, payload, complete):
    assert_same(*auth_ports, payload, complete=complete)


# -- limits from the configuration -------------------------------------------------------------


@pytest.fixture(scope="module")
def limited():
    args = ["--proto-max-bulk-len", "2mb", "--client-query-buffer-limit", "1mb"]
    fast = ServerProcess(args=args)
    real = ServerProcess(cmd=["redis-server"], args=args + ["--appendonly", "no"])
    yield real, fast
    fast.stop()
    real.stop()


def test_proto_max_bulk_len(limited):
    real, fast = limited
    reply, closed = assert_same(real.port, fast.port, b"*2\r\n$4\r\nECHO\r\n$2097153\r\n", complete=False)
    assert reply == b"-ERR Protocol error: invalid bulk length\r\n" and closed
    reply, closed = assert_same(real.port, fast.port, b"*2\r\n$4\r\nECHO\r\n$2097152\r\n", complete=False)
    assert reply == b"" and not closed


def test_query_buffer_limit_disconnects(limited):
    real, fast = limited
    # an argument bigger than the query buffer limit: the client is dropped without a reply
    value = b"v" * (1024 * 1024 + 100)
    payload = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (len(value), value)
    for srv in (real, fast):
        reply, closed = converse(srv.port, payload, complete=False, idle=2)
        assert reply == b"" and closed
    assert fast.alive()
    assert converse(fast.port, b"PING\r\n") == (b"+PONG\r\n", False)
    assert "Closing client that reached max query buffer length" in fast.log_text()


def test_query_buffer_limit_inline_pipeline_ok(limited):
    """Many small commands in flight never trip the limit: it counts unparsed bytes."""
    real, fast = limited
    payload = b"ECHO " + b"w" * 1000 + b"\r\n"
    reply, closed = converse(fast.port, payload * 3000, timeout=30)
    assert not closed and reply == (b"$1000\r\n" + b"w" * 1000 + b"\r\n") * 3000


# -- robustness -----------------------------------------------------------------------------------


def test_client_vanishing_mid_command(server):
    for payload in (b"*2\r\n$4\r\nECHO\r\n$100\r\nabc", b"*3\r\n$4\r\nECHO\r\n", b"ECHO abc", b"*2\r\n$4\r\nEC",
                    b"*2\r\n$4\r\nECHO\r\n$100000\r\n" + b"x" * 50000):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(payload)
        s.close()
    # an abortive close (RST) while the server holds half a request
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.sendall(b"*2\r\n$4\r\nECHO\r\n$10\r\nab")
    s.close()
    time.sleep(0.2)
    assert server.alive()
    assert converse(server.port, b"PING\r\n") == (b"+PONG\r\n", False)
    assert "Traceback" not in server.log_text()


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_backpressure_slow_reader():
    """A client that pipelines without reading replies is throttled, not buffered without bound."""
    srv = ServerProcess()
    try:
        value = b"p" * 65536
        cmd = b"*2\r\n$4\r\nECHO\r\n$65536\r\n" + value + b"\r\n"
        reply_one = b"$65536\r\n" + value + b"\r\n"
        target = 4000  # ~256 MB of requests and as many bytes of replies
        rss_before = _rss_kb(srv.proc.pid)
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.setblocking(False)
        stream = cmd * 64
        sent = 0
        stalled_since = None
        deadline = time.time() + 60
        while sent < target * len(cmd) and time.time() < deadline:
            try:
                k = s.send(stream[sent % len(stream):])
                sent += k
                stalled_since = None
            except BlockingIOError:
                now = time.time()
                if stalled_since is None:
                    stalled_since = now
                elif now - stalled_since > 1.5:
                    break  # the server stopped reading us: back-pressure
                time.sleep(0.01)
        growth_kb = _rss_kb(srv.proc.pid) - rss_before
        assert sent < target * len(cmd), "the server kept reading a client that does not read"
        assert growth_kb < 64 * 1024, f"server grew by {growth_kb} kB"
        # the server still serves others meanwhile
        assert converse(srv.port, b"PING\r\n") == (b"+PONG\r\n", False)
        # now read: every complete request is answered, in order
        complete = sent // len(cmd)
        partial = sent % len(cmd)
        s.setblocking(True)
        s.settimeout(20)
        result: dict[str, int] = {}

        def reader() -> None:
            got = 0
            buf = b""
            need = complete * len(reply_one)
            while got < need:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                got += len(chunk)
                buf = (buf + chunk)[-len(reply_one):]
            result["got"] = got

        t = threading.Thread(target=reader)
        t.start()
        if partial:
            s.sendall(cmd[partial:])  # finish the last request
        t.join(60)
        assert result.get("got", 0) >= complete * len(reply_one)
        s.close()
        assert srv.alive()
    finally:
        srv.stop()


def test_limits_follow_config_set_at_runtime():
    """CONFIG SET proto-max-bulk-len / client-query-buffer-limit apply to open and new connections."""
    fast = ServerProcess()
    real = ServerProcess(cmd=["redis-server"], args=["--appendonly", "no"])
    try:
        for srv in (real, fast):
            early = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            r = srv.client()
            assert r.config_set("proto-max-bulk-len", "2mb")
            assert r.config_set("client-query-buffer-limit", "1mb")
            assert r.config_get("proto-max-bulk-len") == {"proto-max-bulk-len": "2097152"}
            # the connection opened before CONFIG SET follows the new bulk limit
            early.sendall(b"*2\r\n$4\r\nECHO\r\n$2097153\r\n")
            early.settimeout(5)
            assert early.recv(100) == b"-ERR Protocol error: invalid bulk length\r\n"
            early.close()
            # a new connection too; and a 1.5 MB argument now trips the query buffer limit
            value = b"q" * 1_500_000
            big = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (len(value), value)
            assert converse(srv.port, big, complete=False, idle=2) == (b"", True)
            # raising the limit again lets it through
            assert r.config_set("client-query-buffer-limit", "1gb")
            assert converse(srv.port, big, timeout=10) == (b"$%d\r\n%s\r\n" % (len(value), value), False)
            r.close()
    finally:
        fast.stop()
        real.stop()


# -- RESP3 on the wire -------------------------------------------------------------------------------

RESP3_COMMANDS = [
    [b"DEL", b"p:l", b"p:h", b"p:s", b"p:z"],
    [b"PING"],
    [b"ECHO", b"hi"],
    [b"RPUSH", b"p:l", b"a", b"b"],
    [b"LRANGE", b"p:l", b"0", b"-1"],
    [b"HSET", b"p:h", b"f", b"v"],
    [b"HGETALL", b"p:h"],
    [b"HGETALL", b"p:nokey"],
    [b"HGET", b"p:h", b"nofield"],
    [b"SADD", b"p:s", b"m"],
    [b"SMEMBERS", b"p:s"],
    [b"SMISMEMBER", b"p:s", b"m", b"x"],
    [b"ZADD", b"p:z", b"1.5", b"m", b"-2", b"n"],
    [b"ZSCORE", b"p:z", b"m"],
    [b"ZSCORE", b"p:z", b"nomember"],
    [b"ZRANGE", b"p:z", b"0", b"-1", b"WITHSCORES"],
    [b"ZPOPMIN", b"p:z"],
    [b"GET", b"p:nokey"],
    [b"LPOP", b"p:nokey"],
    [b"LPOS", b"p:l", b"zz"],
    [b"EXISTS", b"p:l"],
    [b"LPUSH", b"p:h", b"x"],
    [b"NOSUCH"],
]


def _read_one_reply(s: socket.socket) -> None:
    import hiredis

    reader = hiredis.Reader()
    while True:
        chunk = s.recv(65536)
        assert chunk
        reader.feed(chunk)
        if reader.gets() is not False:
            return


def test_resp3_replies_same_as_redis(ports):
    """After HELLO 3: nulls, maps, sets, doubles and errors are encoded as Redis encodes them."""
    from fastredis._resp import encode_command

    payload = b"".join(encode_command(c) for c in RESP3_COMMANDS)
    replies = []
    for port in ports:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"HELLO 3\r\n")
        _read_one_reply(s)  # the HELLO map itself names the server and version: not compared
        s.sendall(payload + SENTINEL)
        buf = b""
        while not buf.endswith(SENTINEL_REPLY):
            chunk = s.recv(65536)
            assert chunk, buf
            buf += chunk
        s.close()
        replies.append(buf)
    assert replies[1] == replies[0]
    assert b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n" in replies[1] and b",1.5\r\n" in replies[1] and b"~1\r\n" in replies[1]


def test_resp3_push_messages_same_as_redis(ports):
    """Pub/sub messages are RESP3 pushes (>), RESP2 arrays, byte for byte as Redis sends them."""
    got = []
    for port in ports:
        out = []
        for hello in (b"HELLO 3\r\n", b""):
            sub = socket.create_connection(("127.0.0.1", port), timeout=5)
            if hello:
                sub.sendall(hello)
                _read_one_reply(sub)
            sub.sendall(b"SUBSCRIBE p:ch\r\n")
            first = recv_exactly_until(sub, b":1\r\n")
            assert converse(port, b"PUBLISH p:ch hi\r\n") == (b":1\r\n", False)
            msg = recv_exactly_until(sub, b"hi\r\n")
            sub.sendall(b"PING\r\n")
            pong = recv_exactly_until(sub, b"\r\n" if hello else b"$0\r\n\r\n")
            sub.close()
            out.append((first, msg, pong))
        got.append(out)
    assert got[1] == got[0]
    assert got[1][0][1] == b">3\r\n$7\r\nmessage\r\n$4\r\np:ch\r\n$2\r\nhi\r\n"
    assert got[1][1][1] == b"*3\r\n$7\r\nmessage\r\n$4\r\np:ch\r\n$2\r\nhi\r\n"


def recv_exactly_until(s: socket.socket, suffix: bytes) -> bytes:
    buf = b""
    while not buf.endswith(suffix):
        chunk = s.recv(65536)
        assert chunk, buf
        buf += chunk
    return buf
