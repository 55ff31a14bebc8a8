"""Commands written in Python: loadmodule, MODULE LOAD/LOADEX/UNLOAD/LIST/HELP, the fastredis.module API.

The example module (examples/ratelimit.py) is exercised in test_example_ratelimit.py; these tests
load small modules written into a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import hiredis
import pytest
import redis
from conftest import ServerProcess, aof_commands, free_port, wait_for_port, wait_until

MOD = '''
from fastredis.module import OK, ReplyError, call, command, replicate

NAME = "tmod"
VERSION = 7
LOADED_WITH = []

def on_load(args, configs=None):
    LOADED_WITH[:] = [args, configs]
    if b"refuse" in args:
        raise ValueError("refused as asked")

@command("tmod.args", 1, "readonly fast")
def args_(c, argv):
    """What on_load received."""
    args, configs = LOADED_WITH
    return [list(args), sorted((configs or {}).items())]

@command("tmod.double", 3, "write denyoom", keys=(1, 1, 1), summary="Stores twice the number.")
def double(c, argv):
    return call(c, "SET", argv[1], int(argv[2]) * 2)

@command("tmod.two", 3, "write denyoom", keys=(1, 2, 1))
def two(c, argv):
    call(c, "INCR", argv[1])
    call(c, "INCR", argv[2])
    return OK

@command("tmod.direct", 3, "write", keys=(1, 1, 1))
def direct(c, argv):
    c.db.set(argv[1], argv[2])
    c.db.changed(argv[1], b"set", b"$")
    return OK

@command("tmod.stamp", 2, "write", keys=(1, 1, 1))
def stamp(c, argv):
    c.db.set(argv[1], b"stamped")
    c.db.changed(argv[1], b"set", b"$")
    replicate(c, "SET", argv[1], "stamped")
    return OK

@command("tmod.fail", 1, "")
def fail(c, argv):
    return call(c, "INCR", "not-a-number-key")

@command("tmod.crash", 1, "")
def crash(c, argv):
    raise KeyError("a bug")

@command("tmod.types", 1, "")
def types(c, argv):
    return [1, b"two", None, {b"k": b"v"}, 1.5, ReplyError("ERR inside")]
'''


def rawcmd(srv: ServerProcess, *args: str | bytes):
    """One command over a raw connection, the reply as hiredis parses it (redis-py reshapes COMMAND)."""
    s = srv.raw()
    try:
        parts = [a.encode() if isinstance(a, str) else a for a in args]
        s.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in parts))
        reader = hiredis.Reader()
        reply = reader.gets()
        while reply is False:
            reader.feed(s.recv(65536))
            reply = reader.gets()
        return reply
    finally:
        s.close()


@pytest.fixture
def module_file(tmp_path):
    path = tmp_path / "tmod.py"
    path.write_text(MOD)
    return str(path)


@pytest.fixture
def modsrv():
    srv = ServerProcess(args=["--enable-module-command", "yes", "--appendonly", "yes", "--appendfsync", "always"])
    yield srv
    srv.stop()


def test_module_load_list_unload(modsrv, module_file) -> None:
    c = modsrv.client()
    assert c.execute_command("MODULE", "LOAD", module_file, "a1", "a2") == b"OK"
    assert c.execute_command("MODULE", "LIST") == [
        [b"name", b"tmod", b"ver", 7, b"path", module_file.encode(), b"args", [b"a1", b"a2"]]]
    assert c.execute_command("TMOD.ARGS") == [[b"a1", b"a2"], []]
    assert c.execute_command("tmod.double", "k", "21") == b"OK" and c.get("k") == b"42"
    assert rawcmd(modsrv, "INFO", "modules") == (
        b"# Modules\r\nmodule:name=tmod,ver=7,api=1,filters=0,usedby=[],using=[],options=[]\r\n")
    # loading it again refuses (same name, same commands)
    with pytest.raises(redis.ResponseError, match="^Error loading the extension. Please check the server logs.$"):
        c.execute_command("MODULE", "LOAD", module_file)
    assert "Module " + module_file + " failed to load: a module named 'tmod' is already loaded" in modsrv.log_text()
    assert c.execute_command("MODULE", "UNLOAD", "tmod") == b"OK"
    with pytest.raises(redis.ResponseError, match="unknown command 'tmod.double'"):
        c.execute_command("tmod.double", "k", "1")
    assert c.execute_command("MODULE", "LIST") == []
    with pytest.raises(redis.ResponseError, match="^Error unloading module: no such module with that name$"):
        c.execute_command("MODULE", "UNLOAD", "tmod")
    # and back, by LOADEX with configs and args
    assert c.execute_command("MODULE", "LOADEX", module_file, "CONFIG", "x", "1", "ARGS", "b1") == b"OK"
    assert c.execute_command("TMOD.ARGS") == [[b"b1"], [[b"x", b"1"]]]


def test_refusals(modsrv, module_file, tmp_path) -> None:
    c = modsrv.client()
    generic = "^Error loading the extension. Please check the server logs.$"
    with pytest.raises(redis.ResponseError, match=generic):
        c.execute_command("MODULE", "LOAD", str(tmp_path / "missing.py"))
    with pytest.raises(redis.ResponseError, match=generic):
        c.execute_command("MODULE", "LOAD", module_file, "refuse")
    assert "failed to load: ValueError: refused as asked" in modsrv.log_text()
    bad = tmp_path / "bad.py"
    bad.write_text("def (:\n")
    with pytest.raises(redis.ResponseError, match=generic):
        c.execute_command("MODULE", "LOAD", str(bad))
    assert "failed to load: SyntaxError" in modsrv.log_text()
    clash = tmp_path / "clash.py"
    clash.write_text("from fastredis.module import command\n@command('get', 2)\ndef get(c, argv):\n    return 1\n")
    with pytest.raises(redis.ResponseError, match=generic):
        c.execute_command("MODULE", "LOAD", str(clash))
    assert "the command 'get' already exists" in modsrv.log_text()
    assert c.get("nothing") is None  # GET is still the built-in one
    exits = tmp_path / "exits.py"
    exits.write_text("raise SystemExit(3)\n")
    with pytest.raises(redis.ResponseError, match=generic):
        c.execute_command("MODULE", "LOAD", str(exits))
    assert c.ping()
    # a native Redis module: the reply says why
    so = tmp_path / "redisearch.so"
    so.write_bytes(b"\x7fELF" + bytes(60))
    with pytest.raises(redis.ResponseError, match=r"cannot load native Redis modules \(\.so\)"):
        c.execute_command("MODULE", "LOAD", str(so))
    with pytest.raises(redis.ResponseError, match=generic):
        c.execute_command("MODULE", "LOADEX", module_file, "BOGUS")
    assert c.execute_command("MODULE", "LIST") == []
    help_ = c.execute_command("MODULE", "HELP")
    assert help_[0] == b"MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" and b"UNLOAD <name>" in help_


def test_module_command_is_refused_unless_enabled(module_file) -> None:
    srv = ServerProcess()
    try:
        with pytest.raises(redis.ResponseError, match="^MODULE command not allowed. If the enable-module-command"):
            srv.client().execute_command("MODULE", "LOAD", module_file)
        assert srv.client().execute_command("MODULE", "LIST") == []
    finally:
        srv.stop()


def test_commands_are_in_the_table_and_stats(modsrv, module_file) -> None:
    c = modsrv.client()
    c.execute_command("MODULE", "LOAD", module_file)
    info = modsrv.client(decode_responses=True).execute_command("COMMAND", "INFO", "tmod.double", "tmod.args")
    d = info["tmod.double"]
    assert (d["arity"], d["flags"], d["first_key_pos"], d["last_key_pos"], d["step_count"]) == (
        3, ["write", "denyoom", "module"], 1, 1, 1)
    assert d["acl_categories"] == ["@write", "@slow"]
    assert info["tmod.args"]["flags"] == ["readonly", "module", "fast"]
    assert rawcmd(modsrv, "COMMAND", "GETKEYS", "tmod.two", "a", "b") == [b"a", b"b"]
    assert rawcmd(modsrv, "COMMAND", "DOCS", "tmod.double") == [b"tmod.double", [
        b"summary", b"Stores twice the number.", b"since", b"1.0.0", b"group", b"module", b"module", b"tmod"]]
    assert sorted(rawcmd(modsrv, "COMMAND", "LIST", "FILTERBY", "MODULE", "tmod")) == sorted(
        [b"tmod.args", b"tmod.double", b"tmod.two", b"tmod.direct", b"tmod.stamp", b"tmod.fail", b"tmod.crash",
         b"tmod.types"])
    c.execute_command("tmod.double", "k", "1")
    c.execute_command("tmod.double", "k", "2")
    stats = c.info("commandstats")
    assert stats["cmdstat_tmod.double"]["calls"] == 2
    assert stats["cmdstat_set"]["calls"] >= 2  # what it called is counted too
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'tmod.double' command"):
        c.execute_command("tmod.double", "k")
    assert c.info("commandstats")["cmdstat_tmod.double"]["rejected_calls"] == 1


def test_replies_errors_and_bugs(modsrv, module_file) -> None:
    c = modsrv.client()
    c.execute_command("MODULE", "LOAD", module_file)
    c.set("not-a-number-key", "x")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        c.execute_command("tmod.fail")
    with pytest.raises(redis.ResponseError, match="internal error"):
        c.execute_command("tmod.crash")
    assert "KeyError: 'a bug'" in modsrv.log_text()
    r = c.execute_command("tmod.types")
    assert r[:5] == [1, b"two", None, [b"k", b"v"], b"1.5"] and isinstance(r[5], redis.ResponseError)
    r3 = modsrv.client(protocol=3)
    assert r3.execute_command("tmod.types")[3:5] == [{b"k": b"v"}, 1.5]
    # inside MULTI/EXEC
    p = c.pipeline(transaction=True)
    p.execute_command("tmod.double", "m", "5")
    p.get("m")
    assert p.execute() == [b"OK", b"10"]


def test_writes_propagate_as_themselves(modsrv, module_file) -> None:
    """call() writes reach the AOF and a replica without the module; several are wrapped in MULTI/EXEC."""
    c = modsrv.client()
    c.execute_command("MODULE", "LOAD", module_file)
    replica = ServerProcess(args=["--replicaof", "127.0.0.1", str(modsrv.port)])
    try:
        wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", timeout=15)
        c.execute_command("tmod.double", "d", "4")
        c.execute_command("tmod.two", "x", "y")
        c.execute_command("tmod.stamp", "s")
        c.execute_command("tmod.direct", "v", "raw")
        c.execute_command("tmod.args")  # no write, nothing propagated
        c.eval("return redis.call('tmod.two', KEYS[1], KEYS[2])", 2, "lx", "ly")  # from Lua
        assert c.execute_command("WAIT", 1, 5000) == 1
        rc = replica.client()
        assert [rc.get(k) for k in ("d", "x", "y", "s")] == [b"8", b"1", b"1", b"stamped"]
        assert aof_commands(modsrv)[-11:] == [
            [b"SET", b"d", b"8"],
            [b"MULTI"], [b"INCR", b"x"], [b"INCR", b"y"], [b"EXEC"],
            [b"SET", b"s", b"stamped"],
            [b"tmod.direct", b"v", b"raw"],  # wrote without call(): verbatim (replicas need the module)
            [b"MULTI"], [b"INCR", b"lx"], [b"INCR", b"ly"], [b"EXEC"],  # the script's one wrapping
        ]
        assert [rc.get(k) for k in ("lx", "ly")] == [b"1", b"1"]
        # the replica has no such command: the verbatim one is the documented limit
        assert rc.get("v") is None
        with pytest.raises(redis.ResponseError, match="unknown command"):
            rc.execute_command("tmod.double", "d", "1")
    finally:
        replica.stop()


def test_loadmodule_at_startup_config_and_flag(tmp_path, module_file) -> None:
    conf = tmp_path / "redis.conf"
    conf.write_text(f"loadmodule {module_file} from-file\n")
    port = free_port()  # the config file comes first on the command line: not ServerProcess

    proc = subprocess.Popen([sys.executable, "-m", "fastredis", str(conf), "--port", str(port), "--save", "",
                             "--dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
        c = redis.Redis(port=port, protocol=2)
        assert c.execute_command("tmod.args") == [[b"from-file"], []]
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode()
    assert f"Module 'tmod' loaded from {module_file}" in out
    srv = ServerProcess(args=["--loadmodule", module_file, "x", "y"])
    try:
        assert srv.client().execute_command("tmod.args") == [[b"x", b"y"], []]
    finally:
        srv.stop()
    # a module that fails stops the start-up, as in Redis
    srv = ServerProcess(args=["--loadmodule", module_file, "refuse"], wait=False)
    assert srv.proc.wait(15) == 1
    log = srv.log_text()
    srv.stop()
    assert f"Module {module_file} failed to load: ValueError: refused as asked" in log
    assert f"Can't load module from {module_file}: server aborting" in log
    so = tmp_path / "x.so"
    so.write_bytes(b"\x7fELF")
    srv = ServerProcess(args=["--loadmodule", str(so)], wait=False)
    assert srv.proc.wait(15) == 1
    log = srv.log_text()
    srv.stop()
    assert "cannot load native Redis modules (.so)" in log


def test_module_file_written_with_textwrap_api_doc_example(tmp_path) -> None:
    """The example in fastredis.module's docstring loads and runs as written."""
    import fastredis.module as api

    doc = api.__doc__ or ""
    code = textwrap.dedent(doc.split("::", 1)[1].split("``command`` takes")[0])
    path = tmp_path / "hello.py"
    path.write_text(code)
    srv = ServerProcess(args=["--loadmodule", str(path)])
    try:
        c = srv.client()
        assert c.execute_command("hello.incr2", "n") == 2
        assert c.execute_command("hello.incr2", "n") == 4
        assert c.execute_command("MODULE", "LIST")[0][1] == b"hello"
    finally:
        srv.stop()
