"""COMMAND, COMMAND COUNT/LIST/INFO/DOCS/GETKEYS/GETKEYSANDFLAGS/HELP: shapes against redis-server."""

from __future__ import annotations

import hiredis
import pytest
from conftest import RawClient


def parse(raw: bytes):
    r = hiredis.Reader()
    r.feed(raw)
    return r.gets()


@pytest.fixture
def pair(server, real_redis):
    a, b = RawClient(server.port), RawClient(real_redis.port)
    yield a, b
    a.close()
    b.close()


@pytest.fixture
def pair3(server, real_redis):
    a, b = RawClient(server.port, 3), RawClient(real_redis.port, 3)
    yield a, b
    a.close()
    b.close()


SAME_BYTES = [
    ("COMMAND", "INFO", "get"),
    ("COMMAND", "INFO", "mset"),
    ("COMMAND", "INFO", "del"),
    ("COMMAND", "INFO", "lpush"),
    ("COMMAND", "INFO", "nosuchcommand"),
    ("COMMAND", "INFO", "get", "nosuch", "incr"),
    ("COMMAND", "INFO", "config|get", "client|kill", "shutdown", "monitor", "debug"),
    ("COMMAND", "INFO", "ping"),
    ("COMMAND", "GETKEYS", "set", "a", "b"),
    ("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"),
    ("COMMAND", "GETKEYS", "get"),
    ("COMMAND", "GETKEYS", "get", "a", "b"),
    ("COMMAND", "GETKEYS", "ping", "x"),
    ("COMMAND", "GETKEYS", "nosuch", "a"),
    ("COMMAND", "GETKEYS", "lmpop", "2", "a", "b", "LEFT"),
    ("COMMAND", "GETKEYSANDFLAGS", "get", "a"),
    ("COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2"),
    ("COMMAND", "GETKEYSANDFLAGS", "del", "a", "b"),
    ("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuchcat"),
    ("COMMAND", "LIST", "FILTERBY", "FOO", "x"),
    ("COMMAND", "LIST", "FILTERBY", "MODULE", "x"),
    ("COMMAND", "LIST", "x"),
    ("COMMAND", "DOCS", "nosuch"),
    ("COMMAND", "COUNT", "x"),
    ("COMMAND", "NOSUCH"),
]


def test_replies_match_redis(pair):
    ours, real = pair
    for cmd in SAME_BYTES:
        a, b = ours.call(*cmd), real.call(*cmd)
        assert a == b, f"{cmd}: {a!r} != {b!r}"


def test_replies_match_redis_resp3(pair3):
    ours, real = pair3
    for cmd in [("COMMAND", "INFO", "get"), ("COMMAND", "INFO", "nosuch"), ("COMMAND", "INFO", "lpush", "del"),
                ("COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2")]:
        a, b = ours.call(*cmd), real.call(*cmd)
        assert a == b, f"{cmd}: {a!r} != {b!r}"


def test_count_and_list(pair):
    ours, _ = pair
    count = parse(ours.call("COMMAND", "COUNT"))
    full = parse(ours.call("COMMAND"))
    assert count == len(full) > 150
    names = parse(ours.call("COMMAND", "LIST"))
    assert b"get" in names and b"client|list" in names and b"config|get" in names
    assert len(names) == len(set(names))
    top = [n for n in names if b"|" not in n]
    assert len(top) == count
    assert sorted(parse(ours.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "xa*"))) == [b"xack", b"xadd",
                                                                                          b"xautoclaim"]
    read = parse(ours.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "read"))
    assert b"get" in read and b"set" not in read
    assert parse(ours.call("COMMAND", "LIST", "FILTERBY", "MODULE", "x")) == []


# commands whose arity changed between 7.0 (the reference binary) and 7.2
CHANGED_IN_72 = {b"zrank", b"zrevrank"}


def test_all_known_commands_exist_in_redis_with_same_arity_and_keys(pair):
    """Every command both servers know: same arity, same legacy key range and same flags/categories."""
    ours, real = pair
    mine = {row[0]: row for row in parse(ours.call("COMMAND"))}
    theirs = {row[0]: row for row in parse(real.call("COMMAND"))}
    common = set(mine) & set(theirs)
    assert len(common) > 150
    bad = []
    for name in sorted(common - CHANGED_IN_72):
        a, b = mine[name], theirs[name]
        if a[1] != b[1] or a[3:6] != b[3:6]:
            bad.append((name, a[1], b[1], a[3:6], b[3:6]))
    assert not bad


def test_info_shape(pair3):
    ours, _ = pair3
    row = parse(ours.call("COMMAND", "INFO", "client"))[0]
    assert len(row) == 10
    name, arity, flags, first, last, step, cats, tips, specs, subs = row
    assert name == b"client" and arity == -2 and (first, last, step) == (0, 0, 0)
    assert b"@slow" in cats
    sub_names = {s[0] for s in subs}
    assert {b"client|list", b"client|kill", b"client|pause", b"client|setinfo", b"client|no-touch"} <= sub_names
    for s in subs:
        assert len(s) == 10 and s[9] == []
    lst = next(s for s in subs if s[0] == b"client|list")
    assert lst[2] == [b"admin", b"noscript", b"loading", b"stale"]
    assert lst[6] == [b"@admin", b"@slow", b"@dangerous", b"@connection"]


def test_docs_shape(pair):
    ours, real = pair
    docs = parse(ours.call("COMMAND", "DOCS", "get", "client|list", "config"))
    assert docs[0] == b"get"
    get = dict(zip(docs[1][::2], docs[1][1::2]))
    assert get[b"group"] == b"string" and get[b"since"] == b"1.0.0" and get[b"summary"]
    cl = dict(zip(docs[3][::2], docs[3][1::2]))
    assert docs[2] == b"client|list" and cl[b"group"] == b"connection"
    cfg = dict(zip(docs[5][::2], docs[5][1::2]))
    subs = dict(zip(cfg[b"subcommands"][::2], cfg[b"subcommands"][1::2]))
    assert b"config|get" in subs
    alldocs = parse(ours.call("COMMAND", "DOCS"))
    assert len(alldocs) == 2 * parse(ours.call("COMMAND", "COUNT"))
    # the same keys as Redis for a command without arguments declared
    real_get = parse(real.call("COMMAND", "DOCS", "get"))
    assert set(get) <= set(dict(zip(real_get[1][::2], real_get[1][1::2])))


def test_getkeys_movable(pair):
    ours, _ = pair
    assert parse(ours.call("COMMAND", "GETKEYS", "zunionstore", "dst", "2", "a", "b")) == [b"dst", b"a", b"b"]
    assert parse(ours.call("COMMAND", "GETKEYS", "xread", "STREAMS", "s1", "s2", "0", "0")) == [b"s1", b"s2"]


def test_help(pair):
    ours, real = pair
    a = ours.call("COMMAND", "HELP").split(b"\r\n")
    b = real.call("COMMAND", "HELP").split(b"\r\n")
    assert a[:-2] == b[:-2]


def test_redis_py_command(server):
    c = server.client()
    cmds = c.command()
    assert cmds["get"]["arity"] == 2
    assert "readonly" in cmds["get"]["flags"]
    assert c.command_count() == len(cmds)
    assert c.command_getkeys("SET", "a", "b") in ([b"a"], ["a"])
