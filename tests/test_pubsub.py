"""Pub/sub and keyspace notifications: RESP2 arrays, RESP3 pushes, exact bytes vs real Redis."""

from __future__ import annotations

import socket
import time

import pytest
import redis
from conftest import recv_until


def _raw(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _exchange(port: int, script: list[tuple[bytes, bytes | int]]) -> list[bytes]:
    """Send each payload on one connection, read until the expected suffix/size."""
    out = []
    with _raw(port) as s:
        for payload, expect in script:
            s.sendall(payload)
            out.append(recv_until(s, expect, 3))
    return out


def test_subscribe_publish_resp2_bytes(server, real_redis):
    for port in (server.port, real_redis.port):
        sub = _raw(port)
        sub.sendall(b"SUBSCRIBE a b\r\n")
        got = recv_until(sub, b"$1\r\nb\r\n:2\r\n")
        assert got == b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        pub = redis.Redis(port=port)
        assert pub.publish("a", "hello") == 1
        assert recv_until(sub, b"hello\r\n") == b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n"
        # RESP2 subscribed mode refuses other commands
        sub.sendall(b"ECHO x\r\n")
        err = recv_until(sub, b"\r\n")
        assert err == (b"-ERR Can't execute 'echo': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                       b"RESET are allowed in this context\r\n")
        sub.sendall(b"PING\r\n")
        assert recv_until(sub, b"\r\n\r\n") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        sub.sendall(b"UNSUBSCRIBE\r\n")
        got = recv_until(sub, b":0\r\n")
        # the order of an unsubscribe-all is unspecified (Redis walks a hash table)
        assert got in (
            b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n",
            b"*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n",
        )
        sub.sendall(b"UNSUBSCRIBE\r\n")
        assert recv_until(sub, b":0\r\n") == b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
        sub.close()
        pub.close()


def test_psubscribe_pmessage(server, real_redis):
    for port in (server.port, real_redis.port):
        sub = _raw(port)
        sub.sendall(b"PSUBSCRIBE news.* h?llo\r\n")
        recv_until(sub, b":2\r\n")
        pub = redis.Redis(port=port)
        assert pub.publish("news.tech", "x") == 1
        assert recv_until(sub, b"$1\r\nx\r\n") == (
            b"*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$9\r\nnews.tech\r\n$1\r\nx\r\n")
        assert pub.publish("other", "y") == 0
        assert pub.execute_command("PUBSUB", "NUMPAT") == 2
        sub.sendall(b"PUNSUBSCRIBE news.*\r\n")
        assert recv_until(sub, b":1\r\n") == b"*3\r\n$12\r\npunsubscribe\r\n$6\r\nnews.*\r\n:1\r\n"
        sub.close()
        pub.close()


def test_resp3_push_and_commands_allowed(server):
    s = _raw(server.port)
    s.sendall(b"HELLO 3\r\n")
    recv_until(s, b"modules\r\n*0\r\n")
    s.sendall(b"SUBSCRIBE ch\r\n")
    assert recv_until(s, b":1\r\n") == b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    # RESP3 clients may run normal commands while subscribed
    s.sendall(b"ECHO v\r\nPING\r\n")
    assert recv_until(s, b"+PONG\r\n") == b"$1\r\nv\r\n+PONG\r\n"
    redis.Redis(port=server.port).publish("ch", "m")
    assert recv_until(s, b"$1\r\nm\r\n") == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n"
    s.close()


def test_pubsub_introspection(r, server):
    p = server.client().pubsub()
    p.subscribe("c1", "c2")
    p.psubscribe("p*")
    for _ in range(3):
        p.get_message(timeout=10)
    assert sorted(r.pubsub_channels("c?")) == [b"c1", b"c2"]
    assert r.pubsub_channels("c1") == [b"c1"]
    assert r.pubsub_numsub("c1", "nope") == [(b"c1", 1), (b"nope", 0)]
    assert r.pubsub_numpat() == 1
    p.close()
    deadline = time.time() + 15
    while r.pubsub_channels("c?") and time.time() < deadline:
        time.sleep(0.05)
    assert r.pubsub_channels("c?") == []
    assert r.pubsub_numpat() == 0


def test_publish_count_includes_patterns(r, server):
    p = server.client().pubsub()
    p.subscribe("x")
    p.psubscribe("*")
    p.get_message(timeout=10)
    p.get_message(timeout=10)
    assert r.publish("x", "1") == 2
    p.close()


def test_sharded_pubsub(server):
    s = _raw(server.port)
    s.sendall(b"SSUBSCRIBE sh\r\n")
    assert recv_until(s, b":1\r\n") == b"*3\r\n$10\r\nssubscribe\r\n$2\r\nsh\r\n:1\r\n"
    r = redis.Redis(port=server.port)
    assert r.execute_command("SPUBLISH", "sh", "hi") == 1
    assert recv_until(s, b"hi\r\n") == b"*3\r\n$8\r\nsmessage\r\n$2\r\nsh\r\n$2\r\nhi\r\n"
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") == [b"sh"]
    from conftest import raw_command

    assert raw_command(server.port, b"PUBSUB SHARDNUMSUB sh nope\r\n", b":0\r\n") == (
        b"*4\r\n$2\r\nsh\r\n:1\r\n$4\r\nnope\r\n:0\r\n")
    s.close()


def test_reset_leaves_subscriptions(server):
    s = _raw(server.port)
    s.sendall(b"SUBSCRIBE a\r\n")
    recv_until(s, b":1\r\n")
    s.sendall(b"RESET\r\n")
    assert recv_until(s, b"+RESET\r\n").endswith(b"+RESET\r\n")
    s.sendall(b"GET nothing\r\n")
    assert recv_until(s, b"\r\n") == b"$-1\r\n"
    s.close()


@pytest.fixture
def notify(r):
    r.config_set("notify-keyspace-events", "")
    yield r
    r.config_set("notify-keyspace-events", "")


def test_keyspace_notifications(notify, server):
    r = notify
    r.config_set("notify-keyspace-events", "KEA")
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
    p = server.client().pubsub()
    p.psubscribe("__key*__:*")
    p.get_message(timeout=10)
    r.set("foo", "bar")
    r.delete("foo")
    msgs = []
    deadline = time.time() + 15
    while len(msgs) < 4 and time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m and m["type"] == "pmessage":
            msgs.append((m["channel"], m["data"]))
    assert msgs == [
        (b"__keyspace@0__:foo", b"set"),
        (b"__keyevent@0__:set", b"foo"),
        (b"__keyspace@0__:foo", b"del"),
        (b"__keyevent@0__:del", b"foo"),
    ]
    p.close()


def test_keyspace_class_filter_and_expired(notify, server):
    r = notify
    r.config_set("notify-keyspace-events", "Ex")
    assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == "xE"
    p = server.client().pubsub()
    p.subscribe("__keyevent@0__:expired")
    p.get_message(timeout=10)
    r.set("gone", "1", px=50)
    r.set("other", "1")  # string class not enabled: no event
    m = None
    deadline = time.time() + 15
    while time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m and m["type"] == "message":
            break
    assert m is not None and m["data"] == b"gone"
    p.close()


def test_invalid_notify_flags(notify):
    with pytest.raises(redis.ResponseError) as e:
        notify.config_set("notify-keyspace-events", "KQ")
    assert "Invalid event class character" in str(e.value)


def test_keymiss_events(notify, server):
    r = notify
    r.config_set("notify-keyspace-events", "Em")
    p = server.client().pubsub()
    p.subscribe("__keyevent@0__:keymiss")
    p.get_message(timeout=10)
    r.get("not-there")
    m = None
    deadline = time.time() + 15
    while time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m and m["type"] == "message":
            break
    assert m is not None and m["data"] == b"not-there"
    p.close()


def _subscriber_not_reading(port: int, channel: bytes) -> socket.socket:
    """A RESP2 subscriber with a tiny receive buffer that never reads after the confirmation."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.sendall(b"SUBSCRIBE " + channel + b"\r\n")
    assert recv_until(s, 3) .startswith(b"*3\r\n$9\r\nsubscribe")
    return s


def _subscribers(r: redis.Redis, channel: bytes) -> int:
    return r.pubsub_numsub(channel)[0][1]


def test_pubsub_output_buffer_hard_limit_disconnects():
    from conftest import ServerProcess

    srv = ServerProcess()
    try:
        r = srv.client()
        r.config_set("client-output-buffer-limit", "pubsub 1mb 512kb 1")
        sub = _subscriber_not_reading(srv.port, b"big")
        before = r.info("stats")["client_output_buffer_limit_disconnections"]
        msg = b"x" * 100_000
        sent = 0
        while _subscribers(r, b"big") and sent < 2000:  # at most 200 MB if the limit did not work
            r.publish("big", msg)
            sent += 1
        assert _subscribers(r, b"big") == 0
        assert r.info("stats")["client_output_buffer_limit_disconnections"] == before + 1
        # the publisher only had to queue about the limit plus what the kernel holds
        assert sent * len(msg) < 64 * 1024 * 1024
        assert "overcoming of output buffer limits" in srv.log_text()
        sub.close()
        # a subscriber that keeps reading is not affected
        p = r.pubsub()
        p.subscribe("ok")
        assert p.get_message(timeout=10)["type"] == "subscribe"
        for _ in range(30):
            r.publish("ok", msg)
            assert p.get_message(timeout=10)["data"] == msg
        assert _subscribers(r, b"ok") == 1
        p.close()
    finally:
        srv.stop()


def test_pubsub_output_buffer_limit_below_one_megabyte():
    from conftest import ServerProcess

    srv = ServerProcess()
    try:
        r = srv.client()
        r.config_set("client-output-buffer-limit", "pubsub 200kb 0 0")
        sub = _subscriber_not_reading(srv.port, b"small")
        msg = b"z" * 50_000
        peak = sent = 0
        while _subscribers(r, b"small") and sent < 2000:
            r.publish("small", msg)
            sent += 1
            peak = max(peak, r.info("clients")["client_recent_max_output_buffer"])
        assert _subscribers(r, b"small") == 0
        # cut off near the limit, not only once a megabyte had piled up
        assert peak < 400 * 1024
        sub.close()
    finally:
        srv.stop()


def test_pubsub_output_buffer_soft_limit_needs_its_seconds():
    from conftest import ServerProcess

    srv = ServerProcess()
    try:
        r = srv.client()
        r.config_set("client-output-buffer-limit", "pubsub 0 256kb 1")
        sub = _subscriber_not_reading(srv.port, b"soft")
        msg = b"y" * 100_000
        sent = 0
        # fill well past the soft limit: the client stays while the limit is not held for 1 second
        while r.info("clients").get("client_recent_max_output_buffer", 0) < 512 * 1024 and sent < 400:
            r.publish("soft", msg)
            sent += 1
        assert _subscribers(r, b"soft") == 1
        time.sleep(1.3)
        r.publish("soft", msg)
        deadline = time.time() + 15
        while _subscribers(r, b"soft") and time.time() < deadline:
            r.publish("soft", msg)
            time.sleep(0.05)
        assert _subscribers(r, b"soft") == 0
        sub.close()
    finally:
        srv.stop()


def test_subscribed_mode_restrictions_resp2(server, real_redis):
    for port in (server.port, real_redis.port):
        out = _exchange(port, [
            (b"SUBSCRIBE a\r\n", 31),
            (b"GET x\r\n", b"\r\n"),
            (b"CLIENT ID\r\n", b"\r\n"),
            (b"PING\r\n", b"\r\n\r\n"),
            (b"PING hi\r\n", b"hi\r\n"),
            (b"UNSUBSCRIBE\r\n", b":0\r\n"),
            (b"GET x\r\n", b"\r\n"),
        ])
        if port == server.port:
            ours = out
        else:
            assert ours == out


def test_resp3_pushes_and_commands(server):
    with _raw(server.port) as s:
        s.sendall(b"HELLO 3\r\n")
        recv_until(s, b"modules\r\n*0\r\n", 3)
        s.sendall(b"SUBSCRIBE a b\r\n")
        assert recv_until(s, b":2\r\n", 3) == b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n>3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        s.sendall(b"SET k v\r\n")  # allowed in RESP3
        assert recv_until(s, b"+OK\r\n", 3) == b"+OK\r\n"
        s.sendall(b"PING\r\n")  # a normal reply, not the RESP2 subscribed form
        assert recv_until(s, b"+PONG\r\n", 3) == b"+PONG\r\n"
        s.sendall(b"PUBSUB NUMSUB a a c\r\n")
        assert recv_until(s, b"c\r\n:0\r\n", 3) == b"*6\r\n$1\r\na\r\n:1\r\n$1\r\na\r\n:1\r\n$1\r\nc\r\n:0\r\n"
        s.sendall(b"PUBSUB SHARDNUMSUB x\r\n")
        assert recv_until(s, b":0\r\n", 3) == b"*2\r\n$1\r\nx\r\n:0\r\n"  # an array in RESP3 too
        s.sendall(b"UNSUBSCRIBE\r\n")
        # every channel is left (in Redis' hash order: any order), the count drops to 0
        reply = recv_until(s, b":0\r\n", 3)
        assert reply.count(b">3\r\n$11\r\nunsubscribe\r\n") == 2 and reply.endswith(b":0\r\n")
        s.sendall(b"UNSUBSCRIBE\r\n")
        assert recv_until(s, b":0\r\n", 3) == b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"


def test_numsub_duplicates_resp2_matches_redis(server, real_redis):
    replies = []
    for port in (server.port, real_redis.port):
        replies.append(_exchange(port, [(b"PUBSUB NUMSUB a a\r\n", b":0\r\n$1\r\na\r\n:0\r\n"),
                                        (b"PUBSUB NUMSUB\r\n", b"*0\r\n")]))
    assert replies[0] == replies[1]


@pytest.mark.parametrize("resp", [2, 3])
def test_subscriber_with_replies_off_gets_its_messages(server, real_redis, resp):
    """CLIENT REPLY OFF silences replies, not what is pushed: confirmations and messages still arrive."""
    results = []
    for port in (server.port, real_redis.port):
        with _raw(port) as sub, redis.Redis(port=port) as pub:
            if resp == 3:
                sub.sendall(b"HELLO 3\r\n")
                assert recv_until(sub, b"modules\r\n*0\r\n").endswith(b"*0\r\n")
            sub.sendall(b"CLIENT REPLY OFF\r\nSUBSCRIBE roff\r\nPSUBSCRIBE ro*\r\nPING\r\n")
            got = recv_until(sub, b"$3\r\nro*\r\n:2\r\n")
            assert pub.publish("roff", "hi") == 2
            part = recv_until(sub, b"$2\r\nhi\r\n")
            if part.count(b"$2\r\nhi\r\n") < 2:  # message, then pmessage
                part += recv_until(sub, b"$2\r\nhi\r\n")
            got += part
            sub.sendall(b"UNSUBSCRIBE roff\r\nECHO silent\r\n")
            got += recv_until(sub, b":1\r\n")
            # nothing else: PING and ECHO (or its error in RESP2 subscribed mode) are replies
            sub.settimeout(0.3)
            with pytest.raises(TimeoutError):
                got += sub.recv(100)
            results.append(got)
    assert results[0] == results[1]
    assert results[0].count(b"$2\r\nhi\r\n") == 2
