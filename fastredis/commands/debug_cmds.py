"""DEBUG: the subset of Redis' debugging subcommands tests and tools rely on.

Refused unless ``enable-debug-command`` is ``yes`` (or ``local`` and the client
is on a loopback/unix connection), with Redis' exact error text.  Other modules
may add subcommands through ``DEBUG_HANDLERS`` (e.g. ``DEBUG RELOAD`` from
persistence via ``ctx.extras["debug_reload"]``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError, Status
from ..db import type_name
from ._help import help_lines
from .table import NO_SUCH_KEY, command, parse_int, wrong_arity

if TYPE_CHECKING:
    from ..context import Client

NOT_ALLOWED = ReplyError(
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it '
    "from a local connection, otherwise you need to set this option in the configuration file, and then "
    "restart the server.")

DEBUG_HANDLERS: dict[bytes, Callable[[Client, list[bytes]], Any]] = {}


def debug_allowed(c: Client) -> bool:
    """allowProtectedAction for enable-debug-command."""
    from .config_cmds import protected_allowed

    return protected_allowed(c, "enable-debug-command")


def debug_sub(name: str) -> Callable[[Callable[[Client, list[bytes]], Any]], Callable[[Client, list[bytes]], Any]]:
    def deco(fn: Callable[[Client, list[bytes]], Any]) -> Callable[[Client, list[bytes]], Any]:
        DEBUG_HANDLERS[name.encode()] = fn
        return fn

    return deco


@command("debug", -2, "admin noscript loading stale", group="server", since="1.0.0",
         summary="A container for debugging commands.")
def debug(c: Client, argv: list[bytes]) -> Any:
    if not debug_allowed(c):
        raise NOT_ALLOWED
    fn = DEBUG_HANDLERS.get(argv[1].lower())
    if fn is None:
        raise ReplyError("ERR unknown subcommand '%s'. Try DEBUG HELP." % argv[1].decode("utf-8", "replace")[:128])
    return fn(c, argv)


@debug_sub("help")
def debug_help(c: Client, argv: list[bytes]) -> Any:
    return help_lines("DEBUG", [
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about the `key` and associated value.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:",
        "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.",
        "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.",
        "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
    ])


@debug_sub("sleep")
def debug_sleep(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise wrong_arity("debug")
    try:
        secs = float(argv[2])  # strtod(): junk sleeps 0 seconds, like Redis
    except ValueError:
        secs = 0.0
    if secs > 0:
        time.sleep(secs)  # blocks the whole server on purpose, like Redis
    return OK


@debug_sub("set-active-expire")
def debug_set_active_expire(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise wrong_arity("debug")
    c.server.extras["active_expire_enabled"] = bool(parse_int(argv[2]))
    return OK


@debug_sub("log")
def debug_log(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise wrong_arity("debug")
    c.server.log("warning", "DEBUG LOG: %s" % argv[2].decode("utf-8", "replace"))
    return OK


def _serialized_length(c: Client, value: Any) -> int:
    """rdbSavedObjectLen: the RDB payload size (DUMP minus type byte and 10-byte footer)."""
    try:
        from ..persistence import rdb

        payload = rdb.dump_payload(value, rdb.SaveOptions.from_config(c.server.config))
        return max(0, len(payload) - 11)
    except Exception:
        return 0


@debug_sub("object")
def debug_object(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise wrong_arity("debug")
    value = c.db.peek(argv[2])
    if value is None:
        raise NO_SUCH_KEY
    from ..encoding import encoding_of, list_encoding

    enc = encoding_of(value, c.server.config)
    now = int(time.time())
    extra = ""
    if type_name(value) == "list" and list_encoding(value, c.server.config) == "quicklist":
        n = len(value)
        extra = " ql_nodes:1 ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:0 ql_uncompressed_size:%d" % (
            float(n), c.server.config["list-max-listpack-size"], sum(len(x) for x in value))
    return Status(("Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:0%s"
                   % (id(value), enc, _serialized_length(c, value), now & ((1 << 24) - 1), extra)).encode())


@debug_sub("change-repl-id")
def debug_change_repl_id(c: Client, argv: list[bytes]) -> Any:
    repl = c.server.extras.get("replication")
    if repl is not None:
        from ..replication.master import new_replid

        m = repl.master
        m.replid = new_replid()
        m.replid2 = "0" * 40
        m.second_offset = -1
    c.server.log("warning", "Changing replication IDs after receiving DEBUG change-repl-id")
    return OK


@debug_sub("populate")
def debug_populate(c: Client, argv: list[bytes]) -> Any:
    if len(argv) < 3 or len(argv) > 5:
        raise wrong_arity("debug")
    count = parse_int(argv[2])
    if count < 0:
        raise ReplyError("ERR count must be greater than or equal to 0")
    prefix = argv[3] if len(argv) > 3 else b"key"
    size = parse_int(argv[4]) if len(argv) > 4 else 0
    if size < 0:
        raise ReplyError("ERR size must be greater than or equal to 0")
    db = c.db
    for j in range(count):
        key = b"%s:%d" % (prefix, j)
        if db.peek(key) is not None:
            continue
        val = b"value:%d" % j
        if size:
            val = (val + b"\0" * size)[:size]
        db.add(key, val)
    return OK


@debug_sub("reload")
def debug_reload(c: Client, argv: list[bytes]) -> Any:
    for opt in argv[2:]:
        if opt.lower() not in (b"merge", b"noflush", b"nosave"):
            raise ReplyError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    hook = c.server.extras.get("debug_reload")
    if hook is None:
        raise ReplyError("ERR Error trying to load the RDB dump, check server logs.")
    ok = hook([a.lower().decode() for a in argv[2:]])
    if not ok:
        raise ReplyError("ERR Error trying to load the RDB dump, check server logs.")
    c.server.log("notice", "DB reloaded by DEBUG RELOAD")
    return OK
