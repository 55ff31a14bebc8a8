"""Scripting: EVAL/EVALSHA(_RO), SCRIPT, FUNCTION, FCALL(_RO) on Lua 5.1 (see ``fastredis.scripting``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError, SetReply, Status
from ..glob import stringmatch
from ..scripting.lua import FLAG_NAMES, scripting_state
from .command_cmds import EXPLICIT_ACL, TIPS
from .table import COMMANDS, command, container, subcommand

if TYPE_CHECKING:
    from ..context import Client


def _numkeys_keys(argv: list[bytes]) -> list[int]:
    """Key positions of ``CMD script|name numkeys key... arg...``."""
    try:
        n = int(argv[2])
    except (ValueError, IndexError):
        return []
    if n <= 0:
        return []
    return list(range(3, min(3 + n, len(argv))))


def _key_spec(rw: bool, notes: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if notes:
        spec["notes"] = ("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE" if rw
                         else "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")
    spec["flags"] = ["RW", "access", "update"] if rw else ["RO", "access"]
    spec["begin_search"] = {"type": "index", "spec": {"index": 2}}
    spec["find_keys"] = {"type": "keynum", "spec": {"keynumidx": 0, "firstkey": 1, "keystep": 1}}
    return spec


_EVAL_FLAGS = "noscript stale skip-monitor no-mandatory-keys"


@command("eval", -3, _EVAL_FLAGS, group="scripting", since="2.6.0", key_finder=_numkeys_keys,
         summary="Executes a server-side Lua script.",
         complexity="Depends on the script that is executed.")
def eval_(c: Client, argv: list[bytes]) -> Any:
    return scripting_state(c.server).eval(c, argv, False, False)


@command("evalsha", -3, _EVAL_FLAGS, group="scripting", since="2.6.0", key_finder=_numkeys_keys,
         summary="Executes a server-side Lua script by SHA1 digest.",
         complexity="Depends on the script that is executed.")
def evalsha(c: Client, argv: list[bytes]) -> Any:
    return scripting_state(c.server).eval(c, argv, True, False)


@command("eval_ro", -3, "readonly " + _EVAL_FLAGS, group="scripting", since="7.0.0", key_finder=_numkeys_keys,
         summary="Executes a read-only server-side Lua script.",
         complexity="Depends on the script that is executed.")
def eval_ro(c: Client, argv: list[bytes]) -> Any:
    return scripting_state(c.server).eval(c, argv, False, True)


@command("evalsha_ro", -3, "readonly " + _EVAL_FLAGS, group="scripting", since="7.0.0",
         key_finder=_numkeys_keys, summary="Executes a read-only server-side Lua script by SHA1 digest.",
         complexity="Depends on the script that is executed.")
def evalsha_ro(c: Client, argv: list[bytes]) -> Any:
    return scripting_state(c.server).eval(c, argv, True, True)


@command("fcall", -3, _EVAL_FLAGS, group="scripting", since="7.0.0", key_finder=_numkeys_keys,
         summary="Invokes a function.", complexity="Depends on the function that is executed.")
def fcall(c: Client, argv: list[bytes]) -> Any:
    return scripting_state(c.server).functions.call(c, argv, False)


@command("fcall_ro", -3, "readonly " + _EVAL_FLAGS, group="scripting", since="7.0.0", key_finder=_numkeys_keys,
         summary="Invokes a read-only function.", complexity="Depends on the function that is executed.")
def fcall_ro(c: Client, argv: list[bytes]) -> Any:
    return scripting_state(c.server).functions.call(c, argv, True)


for _name, _rw, _notes in (("eval", True, True), ("evalsha", True, False), ("eval_ro", False, True),
                           ("evalsha_ro", False, False), ("fcall", True, True), ("fcall_ro", False, True)):
    COMMANDS[_name.encode()].key_specs = [_key_spec(_rw, _notes)]


# -- SCRIPT ---------------------------------------------------------------------------

container("script", -2, group="scripting", since="2.6.0", summary="A container for Lua scripts management commands.")

_SCRIPT_HELP = [
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
]


@subcommand("script", "help", 2, "loading stale", since="5.0.0", summary="Returns helpful text about the different subcommands.")
def script_help(c: Client, argv: list[bytes]) -> Any:
    return [Status(x.encode()) for x in _SCRIPT_HELP]


@subcommand("script", "load", 3, "noscript stale", since="2.6.0", summary="Loads a server-side Lua script to the script cache.")
def script_load(c: Client, argv: list[bytes]) -> Any:
    sha, _ = scripting_state(c.server).create(argv[2])
    return sha


@subcommand("script", "exists", -3, "noscript", since="2.6.0", summary="Determines whether server-side Lua scripts exist in the script cache.")
def script_exists(c: Client, argv: list[bytes]) -> Any:
    scripts = scripting_state(c.server).scripts
    return [1 if a.lower() in scripts else 0 for a in argv[2:]]


def _flush_mode(argv: list[bytes], err: str) -> None:
    if len(argv) > 3 or (len(argv) == 3 and argv[2].upper() not in (b"SYNC", b"ASYNC")):
        raise ReplyError(err)


@subcommand("script", "flush", -2, "noscript", since="2.6.0", summary="Removes all server-side Lua scripts from the script cache.")
def script_flush(c: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv, "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    scripting_state(c.server).flush()
    return OK


@subcommand("script", "kill", 2, "noscript allow-busy", since="2.6.0", summary="Terminates a server-side Lua script during execution.")
def script_kill(c: Client, argv: list[bytes]) -> Any:
    return _kill(c, True)


@subcommand("script", "debug", 3, "noscript", since="3.2.0", summary="Sets the debug mode of server-side Lua scripts.")
def script_debug(c: Client, argv: list[bytes]) -> Any:
    mode = argv[2].lower()
    if c.in_multi:
        raise ReplyError("ERR SCRIPT DEBUG must be called outside MULTI")
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise ReplyError("ERR SCRIPT DEBUG is not supported by this server")
    raise ReplyError("ERR Use SCRIPT DEBUG YES/SYNC/NO")


def _kill(c: Client, is_eval: bool) -> Any:
    st = scripting_state(c.server)
    engine = st.running
    ctx = engine.ctx if engine is not None else None
    if ctx is None:
        raise ReplyError("NOTBUSY No scripts in execution right now.")
    if ctx.caller.is_master:
        raise ReplyError("UNKILLABLE The busy script was sent by a master instance in the context of replication "
                         "and cannot be killed.")
    if ctx.write_dirty:
        raise ReplyError("UNKILLABLE Sorry the script already executed write commands against the dataset. You "
                         "can either wait the script termination or kill the server in a hard way using the "
                         "SHUTDOWN NOSAVE command.")
    if is_eval and not ctx.eval_mode:
        raise ReplyError("BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                         "SHUTDOWN NOSAVE.")
    if not is_eval and ctx.eval_mode:
        raise ReplyError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                         "SHUTDOWN NOSAVE.")
    ctx.killed = True
    return OK


# -- FUNCTION -------------------------------------------------------------------------

container("function", -2, group="scripting", since="7.0.0", summary="A container for function commands.")

_FUNCTION_HELP = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
    "RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
]


@subcommand("function", "help", 2, "loading stale", since="7.0.0", summary="Returns helpful text about the different subcommands.")
def function_help(c: Client, argv: list[bytes]) -> Any:
    return [Status(x.encode()) for x in _FUNCTION_HELP]


@subcommand("function", "load", -3, "write denyoom noscript", since="7.0.0", summary="Creates a library.")
def function_load(c: Client, argv: list[bytes]) -> Any:
    replace = False
    i = 2
    while i < len(argv) - 1:
        if argv[i].lower() == b"replace":
            replace = True
            i += 1
            continue
        raise ReplyError(b"ERR Unknown option given: " + argv[i])
    lib = scripting_state(c.server).functions.create(argv[-1], replace)
    c.server.dirty += 1
    return lib.name


@subcommand("function", "delete", 3, "write noscript", since="7.0.0", summary="Deletes a library and its functions.")
def function_delete(c: Client, argv: list[bytes]) -> Any:
    scripting_state(c.server).functions.delete(argv[2])
    c.server.dirty += 1
    return OK


@subcommand("function", "flush", -2, "write noscript", since="7.0.0", summary="Deletes all libraries and functions.")
def function_flush(c: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    scripting_state(c.server).functions.flush()
    c.server.dirty += 1
    return OK


@subcommand("function", "kill", 2, "noscript allow-busy", since="7.0.0", summary="Terminates a function during execution.")
def function_kill(c: Client, argv: list[bytes]) -> Any:
    return _kill(c, False)


_FLAG_ORDER = sorted(FLAG_NAMES.items(), key=lambda kv: kv[1])


@subcommand("function", "list", -2, "noscript", since="7.0.0", summary="Returns information about all libraries.")
def function_list(c: Client, argv: list[bytes]) -> Any:
    with_code = False
    pattern: bytes | None = None
    i = 2
    while i < len(argv):
        a = argv[i].lower()
        if a == b"withcode" and not with_code:
            with_code = True
            i += 1
        elif a == b"libraryname" and pattern is None:
            if i + 1 >= len(argv):
                raise ReplyError("ERR library name argument was not given")
            pattern = argv[i + 1]
            i += 2
        else:
            raise ReplyError(b"ERR Unknown argument " + argv[i])
    out = []
    for lib in scripting_state(c.server).functions.libraries.values():
        if pattern is not None and not stringmatch(pattern, lib.name):
            continue
        funcs = []
        for f in lib.functions.values():
            funcs.append({
                b"name": f.name,
                b"description": f.description,
                b"flags": SetReply([Status(n.encode()) for n, bit in _FLAG_ORDER if f.flags & bit]),
            })
        entry: dict[bytes, Any] = {b"library_name": lib.name, b"engine": b"LUA", b"functions": funcs}
        if with_code:
            entry[b"library_code"] = lib.code
        out.append(entry)
    return out


@subcommand("function", "dump", 2, "noscript", since="7.0.0", summary="Dumps all libraries into a serialized binary payload.")
def function_dump(c: Client, argv: list[bytes]) -> Any:
    from ..scripting.functions import dump_payload

    return dump_payload(scripting_state(c.server).functions.codes())


@subcommand("function", "restore", -3, "write denyoom noscript", since="7.0.0", summary="Restores all libraries from a payload.")
def function_restore(c: Client, argv: list[bytes]) -> Any:
    from ..scripting.functions import parse_payload

    policy = "APPEND"
    if len(argv) > 4:
        raise ReplyError("ERR syntax error")
    if len(argv) == 4:
        p = argv[3].upper()
        if p not in (b"FLUSH", b"APPEND", b"REPLACE"):
            raise ReplyError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
        policy = p.decode()
    codes = parse_payload(argv[2])
    scripting_state(c.server).functions.restore(codes, policy)
    c.server.dirty += 1
    return OK


@subcommand("function", "stats", 2, "noscript allow-busy", since="7.0.0", summary="Returns information about a function during execution.")
def function_stats(c: Client, argv: list[bytes]) -> Any:
    st = scripting_state(c.server)
    engine = st.running
    ctx = engine.ctx if engine is not None else None
    running: Any = None
    if ctx is not None and not ctx.eval_mode:
        running = {
            b"name": ctx.funcname.encode(),
            b"command": [b"fcall"],
            b"duration_ms": int((time.monotonic() - ctx.start) * 1000),
        }
    fs = st.functions
    return {
        b"running_script": running,
        b"engines": {b"LUA": {b"libraries_count": len(fs.libraries), b"functions_count": len(fs.functions)}},
    }


# COMMAND INFO parity: subcommands in Redis' order, the containers carry no category of their own, their subcommands @scripting
for _parent, _order in ((b"script", "help kill debug exists flush load"),
                        (b"function", "list load help flush restore kill dump delete stats")):
    _subs = COMMANDS[_parent].subcommands
    COMMANDS[_parent].subcommands = {n.encode(): _subs[n.encode()] for n in _order.split()}
EXPLICIT_ACL.update({"script": (), "function": ()})
for _parent in (b"script", b"function"):
    for _sub in COMMANDS[_parent].subcommands.values():
        _sub.acl = ("@scripting",)
TIPS.update({
    "script|exists": ("request_policy:all_shards", "response_policy:agg_logical_and"),
    "script|flush": ("request_policy:all_nodes", "response_policy:all_succeeded"),
    "script|load": ("request_policy:all_nodes", "response_policy:all_succeeded"),
    "script|kill": ("request_policy:all_shards", "response_policy:one_succeeded"),
    "function|list": ("nondeterministic_output_order",),
    "function|load": ("request_policy:all_shards", "response_policy:all_succeeded"),
    "function|flush": ("request_policy:all_shards", "response_policy:all_succeeded"),
    "function|restore": ("request_policy:all_shards", "response_policy:all_succeeded"),
    "function|kill": ("request_policy:all_shards", "response_policy:one_succeeded"),
    "function|delete": ("request_policy:all_shards", "response_policy:all_succeeded"),
    "function|stats": ("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
})
