"""EVAL/EVALSHA/SCRIPT: conversion rules, errors and sandbox against a real redis-server, and clients."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio
from conftest import RawClient, diff_replies

# replies that must match real Redis byte for byte (RESP2 and RESP3)
CONVERSIONS: list[tuple] = [
    ("EVAL", "return 1", "0"),
    ("EVAL", "return 'hello'", "0"),
    ("EVAL", "return 3.99", "0"),
    ("EVAL", "return -3.99", "0"),
    ("EVAL", "return 1e300", "0"),
    ("EVAL", "return {1,2,3,'ciao',{1,2}}", "0"),
    ("EVAL", "return {1,2,3,nil,4}", "0"),
    ("EVAL", "return {1,false,3}", "0"),
    ("EVAL", "return {true,false}", "0"),
    ("EVAL", "return true", "0"),
    ("EVAL", "return false", "0"),
    ("EVAL", "return nil", "0"),
    ("EVAL", "return {}", "0"),
    ("EVAL", "return {ok='fine'}", "0"),
    ("EVAL", "return {ok='multi\\r\\nline'}", "0"),
    ("EVAL", "return {err='MYERR boom'}", "0"),
    ("EVAL", "return {err='ERR x\\r\\ny'}", "0"),
    ("EVAL", "return {1,{err='E inner'},{ok='s'}}", "0"),
    ("EVAL", "return redis.error_reply('My Error')", "0"),
    ("EVAL", "return redis.error_reply('Foo')", "0"),
    ("EVAL", "return redis.error_reply('-CODE with dash')", "0"),
    ("EVAL", "return redis.status_reply('STAT')", "0"),
    ("EVAL", "return redis.status_reply()", "0"),
    ("EVAL", "return {double=3.5}", "0"),
    ("EVAL", "return {big_number='123456789012345678901234567890'}", "0"),
    ("EVAL", "return {map={a=1}}", "0"),
    ("EVAL", "return {set={a=true}}", "0"),
    ("EVAL", "return {verbatim_string={format='txt', string='hi'}}", "0"),
    ("EVAL", "return KEYS", "2", "k1", "k2", "a1", "a2"),
    ("EVAL", "return ARGV", "1", "k1", "a1", "a2"),
    ("EVAL", "return {KEYS[1], ARGV[1], #KEYS, #ARGV}", "1", "k", "v"),
    ("SET", "str", "abc"),
    ("RPUSH", "list", "a", "b", "c"),
    ("HSET", "h", "f", "v"),
    ("SADD", "s", "m"),
    ("ZADD", "z", "1.5", "m"),
    ("EVAL", "return redis.call('get', 'str')", "0"),
    ("EVAL", "return redis.call('get', 'nosuch')", "0"),
    ("EVAL", "return type(redis.call('get', 'nosuch'))", "0"),
    ("EVAL", "return redis.call('lrange', 'list', 0, -1)", "0"),
    ("EVAL", "return redis.call('hgetall', 'h')", "0"),
    ("EVAL", "return redis.call('smembers', 's')", "0"),
    ("EVAL", "return redis.call('zrange', 'z', 0, -1, 'withscores')", "0"),
    ("EVAL", "return redis.call('zscore', 'z', 'm')", "0"),
    ("EVAL", "return redis.call('set', 'x', 'y')", "0"),
    ("EVAL", "return redis.call('ping')", "0"),
    ("EVAL", "return type(redis.call('ping'))", "0"),
    ("EVAL", "return redis.call('ping')['ok']", "0"),
    ("EVAL", "return redis.call('incr', 'cnt')", "0"),
    ("EVAL", "return redis.call('incrbyfloat', 'f', '1.5')", "0"),
    ("EVAL", "return redis.call('exists', 'str', 'list')", "0"),
    ("EVAL", "return redis.call('set', KEYS[1], 12.5)", "1", "num"),
    ("EVAL", "return redis.call('get', KEYS[1])", "1", "num"),
    ("EVAL", "return redis.call('set', KEYS[1], 0.1)", "1", "num"),
    ("EVAL", "return redis.call('get', KEYS[1])", "1", "num"),
    ("EVAL", "return redis.call('select', 3)", "0"),
    ("GET", "str"),
    ("EVAL", "return redis.pcall('incr', 'str')", "0"),
    ("EVAL", "return redis.pcall('nosuchcmd')", "0"),
    ("EVAL", "local t = redis.pcall('incr', 'str'); return t['err']", "0"),
    ("EVAL", "return {pcall(redis.call, 'incr', 'str')}", "0"),
    ("EVAL", "return redis.sha1hex('')", "0"),
    ("EVAL", "return redis.sha1hex('Pizza & Mandolino')", "0"),
    ("EVAL", "return redis.sha1hex(123)", "0"),
    ("EVAL", "return redis.REDIS_VERSION_NUM > 0", "0"),
    ("EVAL", "return redis.replicate_commands()", "0"),
    ("EVAL", "return redis.breakpoint()", "0"),
    ("EVAL", "return redis.debug('x')", "0"),
    ("EVAL", "redis.set_repl(redis.REPL_ALL); return 1", "0"),
    ("EVAL", "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", "0"),
    ("EVAL", "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}", "0"),
    ("EVAL", "redis.log(redis.LOG_DEBUG, 'from a script'); return 1", "0"),
    ("EVAL", "return tostring(0.1)", "0"),
    ("EVAL", "return string.format('%d %s %5.2f', 3, 'x', 1.5)", "0"),
    ("EVAL", "return table.concat({'a','b'}, '-')", "0"),
    ("EVAL", "return unpack({1,2,3})", "0"),
    ("EVAL", "return select('#', 1, 2, 3)", "0"),
    ("EVAL", "local t = {} t[1] = 'a' t[3] = 'c' return t", "0"),
    ("EVAL", "return math.floor(3.7)", "0"),
    ("EVAL", "return _VERSION", "0"),
    ("EVAL", "return type(coroutine.create)", "0"),
    ("EVAL", "return type(_G)", "0"),
]

ERRORS: list[tuple] = [
    ("SET", "str", "abc"),
    ("EVAL", "return redis.call('incr', 'str')", "0"),
    ("EVAL", "error('boom')", "0"),
    ("EVAL", "error({err='XX boom'})", "0"),
    ("EVAL", "error('x', 0)", "0"),
    ("EVAL", "local a = nil; return a.b", "0"),
    ("EVAL", "return redis.call('nosuch')", "0"),
    ("EVAL", "return redis.call('get')", "0"),
    ("EVAL", "return redis.call('config')", "0"),
    ("EVAL", "return redis.call('config', 'nosuch')", "0"),
    ("EVAL", "return redis.call()", "0"),
    ("EVAL", "return redis.call('incr', {})", "0"),
    ("EVAL", "return redis.call('incr', true)", "0"),
    ("EVAL", "return redis.call('subscribe', 'x')", "0"),
    ("EVAL", "return redis.call('eval', 'return 1', 0)", "0"),
    ("EVAL", "return redis.call('multi')", "0"),
    ("EVAL_RO", "return redis.call('set', 'a', 'b')", "0"),
    ("EVAL_RO", "return redis.call('get', 'str')", "0"),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')", "0"),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'str')", "0"),
    ("EVAL", "#!lua\nreturn redis.call('get', 'str')", "0"),
    ("EVAL", "#!lua flags=bogus\nreturn 1", "0"),
    ("EVAL", "#!lua foo=bar\nreturn 1", "0"),
    ("EVAL", "#!python\nreturn 1", "0"),
    ("EVAL", "#!lua", "0"),
    ("EVAL_RO", "#!lua\nreturn 1", "0"),
    ("EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"),
    ("EVAL", "return x", "0"),
    ("EVAL", "x = 1", "0"),
    ("EVAL", "_G.x = 1", "0"),
    ("EVAL", "rawset(_G, 'x', 1)", "0"),
    ("EVAL", "redis.call = 1", "0"),
    ("EVAL", "string.x = 1", "0"),
    ("EVAL", "return loadfile", "0"),
    ("EVAL", "return dofile", "0"),
    ("EVAL", "return io", "0"),
    ("EVAL", "return require", "0"),
    ("EVAL", "return print", "0"),
    ("EVAL", "return debug", "0"),
    ("EVAL", "return newproxy", "0"),
    ("EVAL", "syntax error here", "0"),
    ("EVAL", "return 1", "-1"),
    ("EVAL", "return 1", "2", "a"),
    ("EVAL", "return 1", "x"),
    ("EVAL", "return 1"),
    ("EVALSHA", "nosuch", "0"),
    ("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"),
    ("EVALSHA", "nosuch", "x"),
    ("EVAL", "return redis.setresp(4)", "0"),
    ("EVAL", "return redis.setresp()", "0"),
    ("EVAL", "return redis.sha1hex()", "0"),
    ("EVAL", "return redis.log(1)", "0"),
    ("EVAL", "return redis.log('x', 'y')", "0"),
    ("EVAL", "return redis.log(9, 'y')", "0"),
    ("EVAL", "return redis.set_repl(8)", "0"),
    ("EVAL", "return redis.set_repl()", "0"),
    ("EVAL", "return redis.error_reply(1, 2)", "0"),
    ("EVAL", "return math.random(0)", "0"),
    ("EVAL", "return math.random(3, 1)", "0"),
    ("EVAL", "return math.random('x')", "0"),
    ("EVAL", "return redis.acl_check_cmd('nosuch')", "0"),
    ("EVAL", "return redis.acl_check_cmd('get', 'x')", "0"),
    ("EVAL", "local function f() error('deep') end f()", "0"),
    ("EVAL", "\n\nerror('line three')", "0"),
]

RESP3: list[tuple] = [
    ("HSET", "h", "f", "v"),
    ("SADD", "s", "m"),
    ("ZADD", "z", "1.5", "m"),
    ("SET", "str", "x"),
    ("EVAL", "return {double=3.5}", "0"),
    ("EVAL", "return {big_number='123456789012345678901234567890'}", "0"),
    ("EVAL", "return {map={a=1}}", "0"),
    ("EVAL", "return {set={a=true}}", "0"),
    ("EVAL", "return {verbatim_string={format='txt', string='hi'}}", "0"),
    ("EVAL", "return true", "0"),
    ("EVAL", "return false", "0"),
    ("EVAL", "return nil", "0"),
    ("EVAL", "redis.setresp(3); return true", "0"),
    ("EVAL", "redis.setresp(3); return false", "0"),
    ("EVAL", "redis.setresp(3); return redis.call('hgetall', 'h')", "0"),
    ("EVAL", "redis.setresp(3); return redis.call('smembers', 's')", "0"),
    ("EVAL", "redis.setresp(3); return redis.call('zscore', 'z', 'm')", "0"),
    ("EVAL", "redis.setresp(3); return type(redis.call('get', 'nosuch'))", "0"),
    ("EVAL", "redis.setresp(3); return redis.call('get', 'nosuch')", "0"),
    ("EVAL", "redis.setresp(3); local t = redis.call('hgetall', 'h'); return t['map']['f']", "0"),
    ("EVAL", "redis.setresp(3); local t = redis.call('zscore', 'z', 'm'); return t['double']", "0"),
    ("EVAL", "redis.setresp(3); return redis.call('exists', 'h')", "0"),
    ("EVAL", "return redis.call('hgetall', 'h')", "0"),
    ("EVAL", "return redis.call('zrange', 'z', 0, -1, 'withscores')", "0"),
    ("EVAL", "redis.setresp(3); return redis.call('zrange', 'z', 0, -1, 'withscores')", "0"),
    ("EVAL", "redis.setresp(3); return redis.call('zscore', 'z', 'nosuch')", "0"),
    ("EVAL", "redis.setresp(3); return redis.call('hello')", "0"),
]

LIBRARIES: list[tuple] = [
    ("EVAL", "return cjson.encode({1,2,'a/b',{x=1},3.5,0.1,1e300,{}})", "0"),
    ("EVAL", "return cjson.encode({a=1,b=2,c=3,dd=4,hello='x'})", "0"),
    ("EVAL", "return cjson.encode({['1']=1, [2]=2})", "0"),
    ("EVAL", "return cjson.encode('\\0\\1\\t\\n\"\\\\\\127')", "0"),
    ("EVAL", "return cjson.encode({[1]=1,[2]=2,[20]=3})", "0"),
    ("EVAL", "return cjson.encode({[1]=1,[3]=3})", "0"),
    ("EVAL", "return cjson.encode(cjson.null)", "0"),
    ("EVAL", "return cjson.encode({1/0})", "0"),
    ("EVAL", "return cjson.encode(function() end)", "0"),
    ("EVAL", "return cjson.encode(123456789012345)", "0"),
    ("EVAL", "return cjson.encode(-0.5)", "0"),
    ("EVAL", "return cjson.encode(true)", "0"),
    ("EVAL", "local t = cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":\"\\\\u00e9\"}'); return {t.a[1], t.a[2], "
             "type(t.a[3].b), t.c}", "0"),
    ("EVAL", "return cjson.decode('[1,2')", "0"),
    ("EVAL", "return cjson.decode('{\"a\" 1}')", "0"),
    ("EVAL", "return cjson.decode('x')", "0"),
    ("EVAL", "return cjson.decode('[1] x')", "0"),
    ("EVAL", "return cjson.decode('3.25')", "0"),
    ("EVAL", "return cjson.encode(cjson.decode('{\"k\":[true,false,\"s\",1.5]}'))", "0"),
    ("EVAL", "return cmsgpack.pack({1,2,3})", "0"),
    ("EVAL", "return cmsgpack.pack({a=1})", "0"),
    ("EVAL", "return cmsgpack.pack('x', 1, -1, -100, 300, 70000, 5000000000, -5000000000, 1.5, 0.1, true, false)",
     "0"),
    ("EVAL", "return cmsgpack.pack(string.rep('x', 40), string.rep('y', 300))", "0"),
    ("EVAL", "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, -5))}", "0"),
    ("EVAL", "local t = cmsgpack.unpack(cmsgpack.pack({a=1, b={1,2}})); return {t.a, t.b[2]}", "0"),
    ("EVAL", "return cmsgpack.unpack('\\196')", "0"),
    ("EVAL", "return cmsgpack.unpack('\\193')", "0"),
    ("EVAL", "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}", "0"),
    ("EVAL", "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", "0"),
    ("EVAL", "return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0)}", "0"),
    ("EVAL", "return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8)}", "0"),
    ("EVAL", "return {bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.tobit(0xffffffff + 1)}", "0"),
    ("EVAL", "return {bit.tohex(65535), bit.tohex(-1, -4), bit.tohex(255, 2)}", "0"),
    ("EVAL", "return bit.band()", "0"),
    ("EVAL", "return bit.band('x')", "0"),
    ("EVAL", "return struct.pack('>I2', 258)", "0"),
    ("EVAL", "return struct.pack('<i4d', -2, 1.5)", "0"),
    ("EVAL", "return struct.pack('bBhH', -1, 255, -2, 65535)", "0"),
    ("EVAL", "return struct.pack('s', 'ab')", "0"),
    ("EVAL", "return {struct.unpack('>I2', '\\1\\2')}", "0"),
    ("EVAL", "return {struct.unpack('<i4', struct.pack('<i4', -7))}", "0"),
    ("EVAL", "return {struct.unpack('c2s', 'abcd\\0')}", "0"),
    ("EVAL", "return struct.size('>I2i4d')", "0"),
    ("EVAL", "return struct.unpack('>I4', 'ab')", "0"),
    ("EVAL", "return struct.pack('q', 1)", "0"),
]


def test_conversions_match_redis(server, real_redis):
    diff_replies(real_redis.port, server.port, CONVERSIONS)


def test_conversions_match_redis_resp3(server, real_redis):
    diff_replies(real_redis.port, server.port, CONVERSIONS[:31] + RESP3, resp=3)


def test_resp3_script_replies_on_resp2_client(server, real_redis):
    diff_replies(real_redis.port, server.port, RESP3)


def test_errors_match_redis(server, real_redis):
    diff_replies(real_redis.port, server.port, ERRORS)


def test_libraries_match_redis(server, real_redis):
    diff_replies(real_redis.port, server.port, LIBRARIES)


def test_script_cache_commands(server, real_redis):
    diff_replies(real_redis.port, server.port, [
        ("SCRIPT", "FLUSH"),
        ("SCRIPT", "LOAD", "return 'loaded'"),
        ("SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8",
         "B534286061D4B9E4026607613B95C06C06015AE8", "nosuch"),
        ("EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"),
        ("EVALSHA", "B534286061D4B9E4026607613B95C06C06015AE8", "0"),
        ("EVALSHA_RO", "b534286061d4b9e4026607613b95c06c06015ae8", "0"),
        ("SCRIPT", "LOAD", "syntax error"),
        ("SCRIPT", "LOAD"),
        ("SCRIPT", "EXISTS"),
        ("SCRIPT", "FLUSH", "ASYNC"),
        ("SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8"),
        ("SCRIPT", "FLUSH", "x"),
        ("SCRIPT", "FLUSH", "SYNC", "ASYNC"),
        ("SCRIPT", "KILL"),
        ("SCRIPT", "DEBUG", "x"),
        ("SCRIPT", "DEBUG", "no"),
        ("SCRIPT", "HELP"),
        ("SCRIPT", "NOSUCH"),
        ("SCRIPT",),
        ("EVAL", "return 'via eval'", "0"),
        ("SCRIPT", "EXISTS", "6f48c4ff5e2a85d5d1e3ed65d6a19aa1d51eed5d"),
        ("COMMAND", "INFO", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"),
        ("COMMAND", "INFO", "script|load", "script|kill", "script|exists", "script|flush", "script|help"),
        ("COMMAND", "GETKEYS", "eval", "return 1", "2", "a", "b", "c"),
        ("COMMAND", "GETKEYS", "fcall", "f", "1", "a", "b"),
        ("COMMAND", "GETKEYS", "eval", "return 1", "0"),
    ])


def test_command_info_function_matches(server, real_redis):
    ours, real = RawClient(server.port), RawClient(real_redis.port)
    try:
        for sub in ("load", "delete", "flush", "list", "dump", "restore", "stats", "kill", "help"):
            cmd = ("COMMAND", "INFO", "function|" + sub)
            assert ours.call(*cmd) == real.call(*cmd), cmd
    finally:
        ours.close()
        real.close()


def test_blocking_commands_do_not_block(r):
    # as Redis 7.2+: a blocking command in a script answers at once (7.0 refused them)
    assert r.eval("return redis.call('blpop', 'empty', 0)", 0) is None
    assert r.eval("return redis.call('brpoplpush', 'e1', 'e2', 0)", 0) is None


def test_effects_are_atomic_and_visible(r):
    r.set("counter", 0)
    script = "for i = 1, 100 do redis.call('incr', KEYS[1]) end return redis.call('get', KEYS[1])"
    assert r.eval(script, 1, "counter") == b"100"
    assert r.get("counter") == b"100"
    # a script's SELECT does not change the caller's database
    r.eval("redis.call('select', 5); redis.call('set', 'in5', 'x')", 0)
    assert r.get("in5") is None
    assert r.execute_command("SELECT", 5) and r.get("in5") == b"x"


def test_watch_is_invalidated_by_script(server, r):
    other = server.client()
    r.set("w", 1)
    with r.pipeline() as p:
        p.watch("w")
        other.eval("redis.call('set', 'w', 2)", 0)
        p.multi()
        p.get("w")
        with pytest.raises(redis.WatchError):
            p.execute()
    other.close()


def test_eval_inside_multi(r):
    with r.pipeline() as p:
        p.set("m", "1")
        p.eval("return redis.call('incr', 'm')", 0)
        p.eval("return redis.call('incr', 'nosuch_type_err_' .. 'x')", 0)
        assert p.execute() == [True, 2, 1]


def test_commandstats_count_script_commands(r):
    r.config_resetstat()
    r.eval("redis.call('set', 'a', 1); redis.call('get', 'a'); redis.pcall('nosuch')", 0)
    stats = r.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 1
    assert stats["cmdstat_get"]["calls"] == 1
    assert stats["cmdstat_eval"]["calls"] == 1


def test_info_memory_and_script_counts(r):
    r.script_flush()
    r.script_load("return 1")
    r.script_load("return 2")
    info = r.info("memory")
    assert info["number_of_cached_scripts"] == 2
    assert info["used_memory_lua"] > 0
    assert info["used_memory_scripts"] > 0
    r.script_flush()
    assert r.info("memory")["number_of_cached_scripts"] == 0


def test_monitor_sees_script_commands(server, r):
    mon = RawClient(server.port)
    mon.call("MONITOR")
    r.eval("return redis.call('set', 'mk', 'v')", 0)
    import time

    deadline = time.monotonic() + 5
    got = b""
    while time.monotonic() < deadline and b'"set"' not in got:
        if mon.has_reply(0.2):
            got += mon.sock.recv(65536)
    mon.close()
    assert b'"EVAL"' in got or b'"eval"' in got
    assert b'[0 lua] "set" "mk" "v"' in got


def test_keyspace_notifications_from_scripts(server, r):
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    p.get_message(timeout=1)
    r.eval("redis.call('set', 'nk', 'v'); redis.call('del', 'nk')", 0)
    events = []
    for _ in range(10):
        m = p.get_message(timeout=1)
        if m and m["type"] == "pmessage":
            events.append(m["channel"])
        if len(events) == 2:
            break
    r.config_set("notify-keyspace-events", "")
    p.close()
    assert events == [b"__keyevent@0__:set", b"__keyevent@0__:del"]


def test_redis_py_lock_sync(r):
    lock = r.lock("resource", timeout=10)
    assert lock.acquire(blocking=False)
    other = r.lock("resource", timeout=10)
    assert not other.acquire(blocking=False)
    assert lock.extend(5)
    assert lock.reacquire()
    lock.release()
    assert other.acquire(blocking=False)
    other.release()
    assert lock.acquire(blocking=False)
    r.set("resource", "someone else")
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        lock.release()
    with r.lock("ctx", timeout=5):
        assert r.get("ctx") is not None
    assert r.get("ctx") is None


def test_redis_py_register_script(r):
    s = r.register_script("return {KEYS[1], ARGV[1], redis.call('incr', KEYS[1])}")
    assert s(keys=["rk"], args=["a"]) == [b"rk", b"a", 1]
    r.script_flush()
    assert s(keys=["rk"], args=["b"]) == [b"rk", b"b", 2]  # NOSCRIPT, then EVAL again
    with r.pipeline() as p:
        s(keys=["rk"], args=["c"], client=p)
        assert p.execute() == [[b"rk", b"c", 3]]


def test_redis_py_asyncio_lock_and_script(server):
    async def main():
        c = redis.asyncio.Redis(port=server.port)
        try:
            lock = c.lock("alock", timeout=10)
            assert await lock.acquire(blocking=False)
            assert not await c.lock("alock", timeout=10).acquire(blocking=False)
            await lock.release()
            s = c.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
            await c.delete("ak")
            assert await s(keys=["ak"], args=[5]) == 5
            assert await s(keys=["ak"], args=[5]) == 10
        finally:
            await c.aclose()

    asyncio.run(main())


def test_scripts_propagate_as_effects(tmp_path):
    from conftest import ServerProcess

    srv = ServerProcess(args=["--appendonly", "yes", "--dir", str(tmp_path), "--appendfsync", "always"])
    try:
        c = srv.client()
        c.eval("redis.call('set', 'a', '1'); redis.call('incr', 'a'); return 1", 0)
        c.eval("return redis.call('set', 'single', 'x')", 0)
        c.eval("redis.set_repl(redis.REPL_NONE); redis.call('set', 'local', 'x')", 0)
        c.eval("return redis.call('get', 'a')", 0)
        c.close()
        srv.stop()
        import glob

        aof = b"".join(open(p, "rb").read() for p in sorted(glob.glob(str(tmp_path / "appendonlydir" / "*.incr.aof"))))
        assert b"EVAL" not in aof.upper().replace(b"$4\r\nEVAL", b"")
        assert aof.count(b"MULTI") == 1 and aof.count(b"EXEC") == 1
        assert b"single" in aof and b"local" not in aof
        srv2 = ServerProcess(args=["--appendonly", "yes", "--dir", str(tmp_path)])
        c = srv2.client()
        assert c.get("a") == b"2" and c.get("single") == b"x" and c.get("local") is None
        c.close()
        srv2.stop()
    finally:
        srv.stop()


def test_errorstats_count_script_errors_once(server, real_redis):
    def stats(port):
        c = RawClient(port)
        try:
            c.call("CONFIG", "RESETSTAT")
            c.call("SET", "str", "abc")
            c.call("EVAL", "return redis.call('incr','str')", "0")
            c.call("EVAL", "return redis.pcall('incr','str')", "0")
            c.call("EVAL", "error('x')", "0")
            c.call("EVAL", "return {err='MY thing'}", "0")
            c.call("EVAL", "return redis.call('nosuchcommand')", "0")
            info = c.call("INFO", "errorstats") + c.call("INFO", "commandstats")
        finally:
            c.close()
        lines = [ln for ln in info.decode().split("\r\n") if ln.startswith(("errorstat_", "cmdstat_incr",
                                                                         "cmdstat_eval"))]
        return sorted(ln.split(",usec")[0] + ln[ln.find(",rejected"):] if "usec" in ln else ln for ln in lines)

    assert stats(server.port) == stats(real_redis.port)


def test_big_and_self_referencing_replies(r):
    assert r.eval("local t = {} for i = 1, 10000 do t[i] = i end return t", 0) == list(range(1, 10001))
    r.rpush("big", *range(6000))
    assert len(r.eval("return redis.call('lrange', 'big', 0, -1)", 0)) == 6000
    # a table containing itself ends in an error reply deep down, and the server stays up
    deep = r.eval("local t = {} t[1] = t return t", 0)
    depth = 0
    while isinstance(deep, list):
        deep = deep[0]
        depth += 1
    assert isinstance(deep, redis.ResponseError) and depth > 10
    assert r.ping()
