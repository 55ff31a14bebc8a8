"""The server starts, answers RESP2 and RESP3 clients, and rejects unknown commands like Redis."""

import redis


def test_ping_echo_resp2(r):
    assert r.ping() is True
    assert r.echo("hello") == b"hello"


def test_hello3(r3):
    info = r3.execute_command("HELLO", "3")
    assert info[b"proto"] == 3 and info[b"server"] == b"redis"


def test_unknown_command(r):
    try:
        r.execute_command("NOSUCH", "a", "b")
    except redis.ResponseError as e:
        assert str(e) == "unknown command 'NOSUCH', with args beginning with: 'a' 'b' "
    else:
        raise AssertionError("no error")
