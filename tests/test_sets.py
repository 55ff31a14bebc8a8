"""Set commands: replies (RESP2 and RESP3 sets), errors and edge cases as Redis 7.2."""

from __future__ import annotations

from conftest import RawClient, aof_commands, err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def test_sadd_srem_scard(r):
    assert r.sadd("s", "a", "b", "a") == 2
    assert r.sadd("s", "b", "c") == 1
    assert r.scard("s") == 3
    assert r.scard("missing") == 0
    assert r.srem("s", "a", "zz", "a") == 1
    assert r.srem("missing", "a") == 0
    assert r.srem("s", "b", "c") == 2
    assert r.dbsize() == 0


def test_smembers_sismember_smismember(r):
    r.sadd("s", "a", "b", "c")
    assert r.smembers("s") == {b"a", b"b", b"c"}
    assert r.smembers("missing") == set()
    assert r.sismember("s", "a") == 1
    assert r.sismember("s", "z") == 0
    assert r.sismember("missing", "a") == 0
    assert r.smismember("s", ["a", "z", "c"]) == [1, 0, 1]
    assert r.smismember("missing", ["a", "b"]) == [0, 0]


def test_resp3_set_replies(raw3, raw2):
    raw3.call("SADD", "s", "a")
    assert raw3.call("SMEMBERS", "s") == b"~1\r\n$1\r\na\r\n"
    assert raw3.call("SMEMBERS", "nokey") == b"~0\r\n"
    assert raw2.call("SMEMBERS", "nokey") == b"*0\r\n"
    assert raw3.call("SINTER", "s", "nokey") == b"~0\r\n"
    assert raw3.call("SUNION", "s", "nokey") == b"~1\r\n$1\r\na\r\n"
    assert raw3.call("SDIFF", "s", "nokey") == b"~1\r\n$1\r\na\r\n"
    assert raw3.call("SPOP", "nokey", "2") == b"~0\r\n"
    assert raw3.call("SPOP", "nokey") == b"_\r\n"
    assert raw3.call("SRANDMEMBER", "nokey") == b"_\r\n"
    assert raw3.call("SRANDMEMBER", "s", "1") == b"*1\r\n$1\r\na\r\n"
    assert raw3.call("SRANDMEMBER", "s", "-2") == b"*2\r\n$1\r\na\r\n$1\r\na\r\n"
    assert raw3.call("SPOP", "s", "5") == b"~1\r\n$1\r\na\r\n"


def test_wrongtype(r):
    r.rpush("l", "a")
    r.sadd("s", "m")
    for cmd, args in [("SADD", ("m",)), ("SREM", ("m",)), ("SMEMBERS", ()), ("SISMEMBER", ("m",)),
                      ("SMISMEMBER", ("m",)), ("SCARD", ()), ("SPOP", ()), ("SPOP", ("2",)),
                      ("SRANDMEMBER", ()), ("SRANDMEMBER", ("2",)), ("SSCAN", ("0",))]:
        assert err(r.execute_command, cmd, "l", *args) == WRONGTYPE, cmd
    assert err(r.sinter, "s", "l") == WRONGTYPE
    # every key is type-checked, even after a missing one
    assert err(r.sinter, "missing", "l") == WRONGTYPE
    assert err(r.sunion, "missing", "l") == WRONGTYPE
    assert err(r.sdiff, "missing", "l") == WRONGTYPE
    assert err(r.sinterstore, "d", "missing", "l") == WRONGTYPE
    assert err(r.execute_command, "SINTERCARD", 2, "missing", "l") == WRONGTYPE
    assert err(r.smove, "s", "l", "m") == WRONGTYPE
    assert err(r.smove, "l", "s", "a") == WRONGTYPE


# -- SPOP / SRANDMEMBER -------------------------------------------------------------


def test_spop_single(r):
    r.sadd("s", "a", "b", "c")
    popped = {r.spop("s") for _ in range(3)}
    assert popped == {b"a", b"b", b"c"}
    assert r.dbsize() == 0
    assert r.spop("s") is None


def test_spop_count(r):
    members = {str(i).encode() for i in range(50)}
    r.sadd("s", *members)
    got = r.spop("s", 10)
    assert len(got) == 10 and len(set(got)) == 10 and set(got) <= members
    assert r.scard("s") == 40
    assert r.smembers("s") == members - set(got)
    assert r.spop("s", 0) == []
    rest = r.spop("s", 1000)
    assert set(rest) == members - set(got)
    assert r.dbsize() == 0
    assert r.spop("s", 3) == []


def test_spop_errors(raw2):
    raw2.call("SADD", "s", "a")
    assert raw2.call("SPOP", "s", "-1") == b"-ERR value is out of range, must be positive\r\n"
    assert raw2.call("SPOP", "s", "x") == b"-ERR value is out of range, must be positive\r\n"
    assert raw2.call("SPOP", "s", "1", "2") == b"-ERR syntax error\r\n"
    assert raw2.call("SPOP", "nokey", "0") == b"*0\r\n"
    assert raw2.call("SPOP", "nokey") == b"$-1\r\n"


def test_spop_large_set(r):
    r.sadd("s", *range(3000))
    seen = {r.spop("s") for _ in range(100)}
    assert len(seen) == 100
    assert r.scard("s") == 2900


def test_srandmember(r):
    members = {str(i).encode() for i in range(20)}
    r.sadd("s", *members)
    assert r.srandmember("s") in members
    assert r.srandmember("missing") is None
    got = r.srandmember("s", 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= members
    assert sorted(r.srandmember("s", 100)) == sorted(members)
    neg = r.srandmember("s", -100)
    assert len(neg) == 100 and set(neg) <= members
    assert r.srandmember("s", 0) == []
    assert r.srandmember("missing", 5) == []
    assert r.srandmember("missing", -5) == []
    assert r.scard("s") == 20
    assert {r.srandmember("s") for _ in range(200)} == members


def test_srandmember_errors(raw2):
    raw2.call("SADD", "s", "a")
    assert raw2.call("SRANDMEMBER", "s", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert raw2.call("SRANDMEMBER", "s", "1", "2") == b"-ERR syntax error\r\n"
    assert raw2.call("SRANDMEMBER", "s", "-9223372036854775808") == \
        b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    assert raw2.call("SRANDMEMBER", "s", "-3") == b"*3\r\n" + b"$1\r\na\r\n" * 3


# -- SMOVE ----------------------------------------------------------------------------


def test_smove(r):
    r.sadd("a", "x", "y")
    r.sadd("b", "y")
    assert r.smove("a", "b", "x") is True
    assert r.smembers("a") == {b"y"} and r.smembers("b") == {b"x", b"y"}
    assert r.smove("a", "b", "zz") is False
    assert r.smove("missing", "b", "x") is False
    assert r.smove("a", "b", "y") is True  # already in b: only removed from a
    assert r.scard("a") == 0 and r.smembers("b") == {b"x", b"y"}
    assert r.smove("b", "new", "x") is True
    assert r.smembers("new") == {b"x"}
    assert r.smove("b", "b", "y") is True
    assert r.smove("b", "b", "zz") is False
    assert r.smembers("b") == {b"y"}


def test_smove_missing_source_before_type_check(r):
    r.rpush("l", "a")
    assert r.smove("missing", "l", "m") is False


# -- algebra -------------------------------------------------------------------------


def test_sinter_sunion_sdiff(r):
    r.sadd("a", "1", "2", "3", "4")
    r.sadd("b", "2", "3", "5")
    r.sadd("c", "3", "4", "5")
    assert r.sinter("a", "b") == {b"2", b"3"}
    assert r.sinter("a", "b", "c") == {b"3"}
    assert r.sinter("a") == {b"1", b"2", b"3", b"4"}
    assert r.sinter("a", "missing") == set()
    assert r.sunion("a", "b", "missing") == {b"1", b"2", b"3", b"4", b"5"}
    assert r.sdiff("a", "b") == {b"1", b"4"}
    assert r.sdiff("a", "b", "c") == {b"1"}
    assert r.sdiff("missing", "a") == set()
    assert r.sdiff("a", "missing") == {b"1", b"2", b"3", b"4"}


def test_store_variants(r):
    r.sadd("a", "1", "2", "3")
    r.sadd("b", "2", "3", "4")
    assert r.sinterstore("d", "a", "b") == 2
    assert r.smembers("d") == {b"2", b"3"}
    assert r.sunionstore("d", "a", "b") == 4
    assert r.smembers("d") == {b"1", b"2", b"3", b"4"}
    assert r.sdiffstore("d", "a", "b") == 1
    assert r.smembers("d") == {b"1"}
    # the destination may be one of the sources
    assert r.sunionstore("a", "a", "b") == 4
    assert r.smembers("a") == {b"1", b"2", b"3", b"4"}
    # an empty result deletes the destination
    assert r.sinterstore("d", "a", "missing") == 0
    assert r.scard("d") == 0
    r.sadd("d", "x")
    assert r.sdiffstore("d", "b", "a") == 0
    assert r.scard("d") == 0
    r.sadd("d", "x")
    assert r.sunionstore("d", "missing1", "missing2") == 0
    assert r.dbsize() == 2
    # the destination may hold any type: it is overwritten
    r.rpush("l", "a")
    assert r.sunionstore("l", "b") == 3
    assert r.smembers("l") == {b"2", b"3", b"4"}


def test_sintercard(r):
    r.sadd("a", *"abcdef")
    r.sadd("b", *"bcdxyz")
    assert r.sintercard(2, ["a", "b"]) == 3
    assert r.sintercard(2, ["a", "b"], limit=2) == 2
    assert r.sintercard(2, ["a", "b"], limit=0) == 3
    assert r.sintercard(1, ["a"]) == 6
    assert r.sintercard(2, ["a", "missing"]) == 0
    assert r.execute_command("SINTERCARD", 1, "a", "LIMIT", 1, "LIMIT", 4) == 4


def test_sintercard_errors(raw2):
    raw2.call("SADD", "s", "a")
    assert raw2.call("SINTERCARD", "0", "s") == b"-ERR numkeys should be greater than 0\r\n"
    assert raw2.call("SINTERCARD", "x", "s") == b"-ERR numkeys should be greater than 0\r\n"
    assert raw2.call("SINTERCARD", "3", "s") == b"-ERR Number of keys can't be greater than number of args\r\n"
    assert raw2.call("SINTERCARD", "1", "s", "LIMIT", "-1") == b"-ERR LIMIT can't be negative\r\n"
    assert raw2.call("SINTERCARD", "1", "s", "LIMIT", "x") == b"-ERR LIMIT can't be negative\r\n"
    assert raw2.call("SINTERCARD", "1", "s", "FOO") == b"-ERR syntax error\r\n"
    assert raw2.call("SINTERCARD", "1", "s", "LIMIT") == b"-ERR syntax error\r\n"
    assert raw2.call("SINTERCARD", "1") == b"-ERR wrong number of arguments for 'sintercard' command\r\n"


def test_big_intersections(r):
    r.sadd("a", *range(0, 5000))
    r.sadd("b", *range(2500, 7500))
    assert r.sintercard(2, ["a", "b"]) == 2500
    assert r.sintercard(2, ["a", "b"], limit=10) == 10
    assert r.sinterstore("d", "b", "a") == 2500
    assert r.sdiffstore("d", "a", "b") == 2500
    assert r.sunionstore("d", "a", "b") == 7500


# -- SSCAN ----------------------------------------------------------------------------


def test_sscan_small_set_in_one_call(raw2):
    raw2.call("SADD", "s", "1", "2", "3")
    reply = raw2.call("SSCAN", "s", "0")
    assert reply.startswith(b"*2\r\n$1\r\n0\r\n*3\r\n")
    assert raw2.call("SSCAN", "s", "0", "MATCH", "2") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\n2\r\n"
    assert raw2.call("SSCAN", "nokey", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"
    assert raw2.call("SSCAN", "s", "x") == b"-ERR invalid cursor\r\n"
    assert raw2.call("SSCAN", "s", "0", "COUNT", "0") == b"-ERR syntax error\r\n"
    assert raw2.call("SSCAN", "s", "0", "TYPE", "set") == b"-ERR syntax error\r\n"


def test_sscan_big_set_iterates_everything(r):
    members = {f"member:{i}".encode() for i in range(2000)}
    r.sadd("s", *members)
    cursor, seen, calls = 0, set(), 0
    while True:
        cursor, page = r.sscan("s", cursor, count=100)
        seen.update(page)
        calls += 1
        if cursor == 0:
            break
    assert seen == members
    assert calls >= 20
    cursor, seen = 0, set()
    while True:
        cursor, page = r.sscan("s", cursor, match="member:19*", count=200)
        seen.update(page)
        if cursor == 0:
            break
    assert seen == {m for m in members if m.startswith(b"member:19")}


def test_sscan_survivors_despite_changes(r):
    r.sadd("s", *[f"m{i}" for i in range(1000)])
    cursor, seen, removed, step = 0, set(), set(), 0
    while True:
        cursor, page = r.sscan("s", cursor, count=50)
        seen.update(page)
        step += 1
        gone = [f"m{i}".encode() for i in range(step * 7, step * 7 + 3)]
        r.srem("s", *gone)
        removed.update(gone)
        r.sadd("s", *[f"n{step}-{j}" for j in range(40)])
        if cursor == 0:
            break
    assert {f"m{i}".encode() for i in range(1000)} - removed <= seen


def test_set_binary_safe(r):
    r.sadd("s", b"", b"\x00", b"\xff\xfe")
    assert r.smembers("s") == {b"", b"\x00", b"\xff\xfe"}
    assert r.sismember("s", b"") == 1
    assert r.srem("s", b"\x00") == 1


# -- propagation (observed in the AOF) -------------------------------------------


def propagated(srv, *commands) -> tuple[list[bytes], list[list[bytes]]]:
    """Run commands on a fresh connection: (their replies, what reached the AOF)."""
    import time

    c = RawClient(srv.port)
    try:
        c.call("FLUSHALL")
        before = len(aof_commands(srv))
        replies = [c.call(*cmd) for cmd in commands]
        c.call("SADD", "MARK", "done")
        deadline = time.time() + 15
        while True:
            cmds = aof_commands(srv)[before:]
            if (cmds and cmds[-1] == [b"SADD", b"MARK", b"done"]) or time.time() > deadline:
                break
            time.sleep(0.05)
        assert cmds and cmds[-1] == [b"SADD", b"MARK", b"done"], cmds
        return replies, cmds[:-1]
    finally:
        c.close()


def test_spop_propagates_as_srem_or_del(aof_server):
    replies, cmds = propagated(aof_server, ("SADD", "s", "a"), ("SPOP", "s"), ("SADD", "s", *range(10)),
                               ("SPOP", "s", "3"), ("SPOP", "s", "0"), ("SPOP", "s", "100"), ("SPOP", "s"))
    assert replies[1] == b"$1\r\na\r\n"
    popped = replies[3].split(b"\r\n")[2:-1:2]
    assert len(popped) == 3
    assert cmds[0] == [b"SADD", b"s", b"a"]
    assert cmds[1] == [b"SREM", b"s", b"a"]
    assert cmds[3] == [b"SREM", b"s", *popped]
    assert cmds[4:] == [[b"DEL", b"s"]]


def test_spop_big_count_propagates_srem_batches(aof_server):
    _, cmds = propagated(aof_server, ("SADD", "s", *range(3000)), ("SPOP", "s", "2500"))
    srems = cmds[1:]
    assert [len(c) - 2 for c in srems] == [1024, 1024, 452]
    assert all(c[:2] == [b"SREM", b"s"] for c in srems)
    assert len({m for c in srems for m in c[2:]}) == 2500


def test_no_op_writes_are_not_propagated(aof_server):
    _, cmds = propagated(aof_server, ("SADD", "s", "a"), ("SADD", "s", "a"), ("SREM", "s", "zz"),
                         ("SMOVE", "s", "s", "a"), ("SMOVE", "nokey", "d", "a"), ("SINTERSTORE", "d", "nokey"),
                         ("SPOP", "nokey"), ("SMOVE", "s", "d", "a"))
    assert cmds == [[b"SADD", b"s", b"a"], [b"SMOVE", b"s", b"d", b"a"]]
