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

from .._resp import OK, BigNumber, Raw, ReplyError, SetReply, Status, Verbatim, format_double
from ..db import type_name
from ._help import help_lines
from .table import NO_SUCH_KEY, command, parse_int

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
        raise syntax(argv)
    return fn(c, argv)


DEBUG_HELP = [
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid> [full]",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key> [full]",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
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
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
]


@debug_sub("help")
def debug_help(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 2:
        raise syntax(argv)
    lines = help_lines("DEBUG", DEBUG_HELP)
    lines[-1] = Status(b"    Prints this help.")
    return lines


def syntax(argv: list[bytes]) -> ReplyError:
    """addReplySubcommandSyntaxError."""
    return ReplyError(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP."
                      % argv[1].split(b"\0", 1)[0][:128])


@debug_sub("sleep")
def debug_sleep(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise syntax(argv)
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
        raise syntax(argv)
    c.server.extras["active_expire_enabled"] = bool(atoi(argv[2]))
    return OK


@debug_sub("log")
def debug_log(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise syntax(argv)
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
        raise syntax(argv)
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
    idle = c.server.memory.idle_seconds(c.db, argv[2])
    return Status(("Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d%s"
                   % (id(value), enc, _serialized_length(c, value), (now - idle) & ((1 << 24) - 1), idle,
                      extra)).encode())


@debug_sub("change-repl-id")
def debug_change_repl_id(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 2:
        raise syntax(argv)
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
        raise syntax(argv)
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


def atoi(arg: bytes) -> int:
    """C atoi(): leading spaces, an optional sign, digits; anything else stops (0 when none)."""
    s = arg.lstrip(b" \t\n\r\v\f")
    sign = 1
    if s[:1] in (b"-", b"+"):
        sign = -1 if s[:1] == b"-" else 1
        s = s[1:]
    n = 0
    for ch in s:
        if 48 <= ch <= 57:
            n = n * 10 + ch - 48
        else:
            break
    return max(-(2**31), min(2**31 - 1, sign * n))


def _flag(name: str, extras_key: str) -> None:
    """DEBUG <name> <0|1>: an atoi() value stored in ctx.extras[extras_key]."""

    def handler(c: Client, argv: list[bytes]) -> Any:
        if len(argv) != 3:
            raise syntax(argv)
        c.server.extras[extras_key] = atoi(argv[2])
        return OK

    DEBUG_HANDLERS[name.encode()] = handler


_flag("set-skip-checksum-validation", "skip_checksum_validation")
_flag("set-disable-deny-scripts", "script_disable_deny_script")
_flag("pause-cron", "pause_cron")
_flag("aof-flush-sleep", "aof_flush_sleep")


def _hex(d: bytes) -> Status:
    return Status(d.hex().encode())


@debug_sub("digest")
def debug_digest(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 2:
        raise syntax(argv)
    from ..digest import dataset_digest

    return _hex(dataset_digest(c.server.dbs))


@debug_sub("digest-value")
def debug_digest_value(c: Client, argv: list[bytes]) -> Any:
    from ..digest import ZERO, object_digest

    out = []
    db = c.db
    for key in argv[2:]:
        value = db.data.get(key)  # logically expired keys too, as Redis (no lookupKey)
        out.append(_hex(object_digest(db, key, value) if value is not None else ZERO))
    return out


@debug_sub("error")
def debug_error(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise syntax(argv)
    # written as it is (addReplySds), so it is not counted in INFO errorstats, like Redis
    return Raw(b"-" + argv[2].replace(b"\n", b" ").replace(b"\r", b" ") + b"\r\n")


_LEAKED: list[bytes] = []


@debug_sub("leak")
def debug_leak(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise syntax(argv)
    _LEAKED.append(bytes(argv[2]))
    return OK


@debug_sub("protocol")
def debug_protocol(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise syntax(argv)
    name = argv[2].lower()
    if name == b"string":
        return b"Hello World"
    if name == b"integer":
        return 12345
    if name == b"double":
        return 3.141
    if name == b"bignum":
        return BigNumber(b"1234567999999999999999999999999999999")
    if name == b"null":
        return None
    if name == b"array":
        return [0, 1, 2]
    if name == b"set":
        return SetReply([0, 1, 2])
    if name == b"map":
        return {0: False, 1: True, 2: False}
    if name == b"attrib":
        real = b"$39\r\nSome real reply following the attribute\r\n"
        if c.resp >= 3:
            return Raw(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n" + real)
        return Raw(real)
    if name == b"push":
        if c.resp < 3:
            raise ReplyError("ERR RESP2 is not supported by this command")
        return Raw(b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n")
    if name == b"true":
        return True
    if name == b"false":
        return False
    if name == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring")
    raise ReplyError("ERR Wrong protocol type name. Please use one of the following: "
                     "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")


@debug_sub("structsize")
def debug_structsize(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 2:
        raise syntax(argv)
    return b"bits:64 robj:16 dictentry:24 sdshdr5:1 sdshdr8:3 sdshdr16:5 sdshdr32:9 sdshdr64:17 "


def _sds_hdr(n: int) -> int:
    if n < 32:
        return 1
    if n < 256:
        return 3
    if n < 65536:
        return 5
    return 9 if n < 2**32 else 17


def _malloc_size(n: int) -> int:
    """jemalloc's size classes (what zmalloc_size reports) for a request of n bytes."""
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) // 16 * 16
    group = 1 << (n - 1).bit_length() - 3
    return (n + group - 1) // group * group


@debug_sub("sdslen")
def debug_sdslen(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise syntax(argv)
    key = argv[2]
    value = c.db.data.get(key)
    if value is None:
        raise NO_SUCH_KEY
    from ..encoding import string_encoding

    if not isinstance(value, (bytes, bytearray)) or string_encoding(value) == "int":
        raise ReplyError("ERR Not an sds encoded string.")
    klen, vlen = len(key), len(value)
    kz = _malloc_size(_sds_hdr(klen) + klen + 1)
    if string_encoding(value) == "embstr":
        vz = _malloc_size(16 + 3 + vlen + 1)
        vavail = vz - 16 - 3 - vlen - 1
    else:
        vz = _malloc_size(_sds_hdr(vlen) + vlen + 1)
        vavail = vz - _sds_hdr(vlen) - vlen - 1
    return Status(b"key_sds_len:%d, key_sds_avail:%d, key_zmalloc: %d, val_sds_len:%d, val_sds_avail:%d, "
                  b"val_zmalloc: %d" % (klen, kz - _sds_hdr(klen) - klen - 1, kz, vlen, vavail, vz))


def _lookup(c: Client, key: bytes) -> Any:
    value = c.db.peek(key)
    if value is None:
        raise NO_SUCH_KEY
    return value


@debug_sub("listpack")
def debug_listpack(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise syntax(argv)
    value = _lookup(c, argv[2])
    from ..encoding import encoding_of

    if encoding_of(value, c.server.config) != "listpack":
        raise ReplyError("ERR Not a listpack encoded object.")
    # lpRepr: the entries, printed on the server's standard output
    items = _flat_items(value)
    lines = ["{total elements: %d}" % len(items)]
    for i, item in enumerate(items):
        lines.append("{\n\taddr: 0x0,\n\tindex: %d,\n\toffset: 0,\n\thdr+entrylen+backlen: %d,\n\t%s: %s\n}"
                     % (i, len(item) + 2, "len", len(item)))
    _stdout("\n".join(lines) + "\n{end}\n\n")
    return Status(b"Listpack structure printed on stdout")


def _flat_items(value: Any) -> list[bytes]:
    from ..db import type_name

    t = type_name(value)
    if t == "hash":
        return [x for kv in value.items() for x in kv]
    if t == "zset":
        return [x for m, s in value.items() for x in (m, format_double(s))]
    return [bytes(x) for x in value]


def _stdout(text: str) -> None:
    import sys

    sys.stdout.write(text)
    sys.stdout.flush()


@debug_sub("quicklist")
def debug_quicklist(c: Client, argv: list[bytes]) -> Any:
    if len(argv) not in (3, 4):
        raise syntax(argv)
    value = _lookup(c, argv[2])
    from ..encoding import encoding_of

    if encoding_of(value, c.server.config) != "quicklist":
        raise ReplyError("ERR Not a quicklist encoded object.")
    _stdout("{quicklist}\n{count : %d}\n{len : 1}\n{fill : %d}\n{compress : 0}\n{bookmark_count : 0}\n"
            % (len(value), c.server.config["list-max-listpack-size"]))
    return Status(b"Quicklist structure printed on stdout")


@debug_sub("quicklist-packed-threshold")
def debug_quicklist_packed_threshold(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise syntax(argv)
    from ..config import ConfigError, parse_memory

    try:
        sz = parse_memory(argv[2].decode("utf-8", "replace"))
    except (ConfigError, ValueError):
        sz = -1
    if sz < 0 or sz >= 2**32 or (sz != 0 and sz < 1):
        raise ReplyError("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
    c.server.extras["quicklist_packed_threshold"] = sz or (1 << 30)
    return OK


def _dict_stats(n: int, keys: Any, full: bool, name: str = "main hash table") -> str:
    """dictGetStats for a dict of n entries: Redis' table size rule, chains from a real hashing."""
    if n == 0:
        return "Hash table 0 stats (%s):\nNo stats available for empty dictionaries\n" % name
    size = 4
    while size < n:
        size *= 2
    out = "Hash table 0 stats (%s):\n table size: %d\n number of elements: %d\n" % (name, size, n)
    if not full:
        return out
    chains: dict[int, int] = {}
    for k in keys:
        slot = hash(k) & (size - 1)
        chains[slot] = chains.get(slot, 0) + 1
    lengths: dict[int, int] = {0: size - len(chains)}
    for ln in chains.values():
        lengths[ln] = lengths.get(ln, 0) + 1
    slots = len(chains)
    out += (" different slots: %d\n max chain length: %d\n avg chain length (counted): %.02f\n"
            " avg chain length (computed): %.02f\n Chain length distribution:\n"
            % (slots, max(chains.values()), n / slots, n / slots))
    for ln in sorted(lengths):
        if lengths[ln]:
            out += "   %d: %d (%.02f%%)\n" % (ln, lengths[ln], lengths[ln] * 100.0 / size)
    return out


@debug_sub("htstats")
def debug_htstats(c: Client, argv: list[bytes]) -> Any:
    if len(argv) < 3:
        raise syntax(argv)
    dbid = parse_int(argv[2])
    if dbid < 0 or dbid >= len(c.server.dbs):
        raise ReplyError("ERR Out of range database")
    full = len(argv) >= 4 and argv[3].lower() == b"full"
    db = c.server.dbs[dbid]
    text = ("[Dictionary HT]\n" + _dict_stats(len(db.data), db.data, full)
            + "[Expires HT]\n" + _dict_stats(len(db.expires), db.expires, full))
    return Verbatim(text.encode())


@debug_sub("htstats-key")
def debug_htstats_key(c: Client, argv: list[bytes]) -> Any:
    if len(argv) < 3:
        raise syntax(argv)
    full = len(argv) >= 4 and argv[3].lower() == b"full"
    value = _lookup(c, argv[2])
    from ..encoding import encoding_of

    if encoding_of(value, c.server.config) not in ("hashtable", "skiplist"):
        raise ReplyError("ERR The value stored at the specified key is not represented using an hash table")
    return Verbatim(_dict_stats(len(value), list(value), full).encode())


@debug_sub("stringmatch-test")
def debug_stringmatch_test(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 2:
        raise syntax(argv)
    import random

    from ..glob import stringmatch

    # stringmatchlen_fuzz_test: random patterns against random strings must not fail
    rnd = random.Random()
    alphabet = b"*?[]^-\\abc"
    for _ in range(2000):
        pat = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 16)))
        txt = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 16)))
        stringmatch(pat, txt)
    return Status(b"Apparently Redis did not crash: test passed")


DEBUG_HANDLERS[b"stringmatch-len"] = debug_stringmatch_test  # the name some tools use


@debug_sub("replicate")
def debug_replicate(c: Client, argv: list[bytes]) -> Any:
    if len(argv) < 3:
        raise syntax(argv)
    repl = c.server.extras.get("replication")
    feed = getattr(getattr(repl, "master", None), "feed", None)
    if feed is not None:
        feed(-1, list(argv[2:]))  # to the replicas only (replicationFeedSlaves), not the AOF
    return OK


@debug_sub("drop-cluster-packet-filter")
def debug_drop_cluster_packet_filter(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 3:
        raise syntax(argv)
    c.server.extras["cluster_drop_packet_filter"] = parse_int(argv[2])
    return OK


@debug_sub("clusterlink")
def debug_clusterlink(c: Client, argv: list[bytes]) -> Any:
    if len(argv) == 5 and argv[2].lower() == b"kill":
        raise ReplyError("ERR Debug option only available for cluster mode enabled setup!")
    raise syntax(argv)


@debug_sub("replybuffer")
def debug_replybuffer(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 4:
        raise syntax(argv)
    opt, val = argv[2].lower(), argv[3]
    ex = c.server.extras
    if opt == b"peak-reset-time":
        if val.lower() == b"never":
            ex["reply_buffer_peak_reset_time"] = -1
        elif val.lower() == b"reset":
            ex["reply_buffer_peak_reset_time"] = 5000
        else:
            ex["reply_buffer_peak_reset_time"] = parse_int(val)
    elif opt == b"resizing":
        ex["reply_buffer_resizing_enabled"] = atoi(val)
    else:
        raise syntax(argv)
    return OK


@debug_sub("client-eviction")
def debug_client_eviction(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 2:
        raise syntax(argv)
    if not c.server.config["maxmemory-clients"]:
        raise ReplyError("ERR maxmemory-clients is disabled.")
    buckets = [[0, 0] for _ in range(19)]  # CLIENT_MEM_USAGE_BUCKETS, min log 15
    for cl in list(c.server.clients.values()):
        mem = cl.query_buffer_len() + cl.output_buffer_len()
        j = 0 if mem == 0 else max(0, min(18, mem.bit_length() - 15))
        buckets[j][0] += mem
        buckets[j][1] += 1
    out = []
    for j, (mem, n) in enumerate(buckets):
        head = "bucket          0" if j == 0 else "bucket %10d" % (1 << (j - 1 + 15))
        head += "+            : " if j == 18 else " - %10d: " % ((1 << (j + 15)) - 1)
        out.append(head + "tot-mem: %10d, clients: %d\n" % (mem, n))
    return Verbatim("".join(out).encode())


@debug_sub("mallctl")
def debug_mallctl(c: Client, argv: list[bytes]) -> Any:
    raise syntax(argv)  # a Redis built without jemalloc has no MALLCTL: neither does a Python server


DEBUG_HANDLERS[b"mallctl-str"] = debug_mallctl


@debug_sub("config-rewrite-force-all")
def debug_config_rewrite_force_all(c: Client, argv: list[bytes]) -> Any:
    if len(argv) != 2:
        raise syntax(argv)
    from ..config import ConfigError

    try:
        c.server.config.rewrite(force_all=True)
    except (ConfigError, OSError) as e:
        raise ReplyError("ERR CONFIG-REWRITE-FORCE-ALL failed: %s" % (
            getattr(e, "strerror", None) or "No such file or directory")) from None
    return OK


@debug_sub("loadaof")
def debug_loadaof(c: Client, argv: list[bytes]) -> Any:
    aof = c.server.extras.get("aof")
    if aof is None:
        raise ReplyError("ERR Error trying to load the AOF files, check server logs.")
    ctx = c.server
    if aof.enabled:
        aof.flush()
    # replayed as at start-up: loading, and nothing propagated (not even back into the AOF)
    ctx.propagate_hook = None
    ctx.loading = True
    ctx.state_changed()
    try:
        aof.load()
    except Exception as e:  # no manifest, a corrupt file: Redis replies this error
        ctx.log("warning", "DEBUG LOADAOF: %s" % (e,))
        for db in ctx.dbs:
            db.clear()
        raise ReplyError("ERR Error trying to load the AOF files, check server logs.") from None
    finally:
        ctx.loading = False
        ctx.refresh_propagation()
    c.server.log("notice", "Append Only File loaded by DEBUG LOADAOF")
    return OK


def _crash(c: Client, lines: list[str]) -> Any:
    """Write the bug report lines to the log and die by SIGSEGV, as Redis' crash handlers end."""
    import os
    import signal

    c.server.log("warning", "\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===")
    for line in lines:
        c.server.log("warning", line)
    c.server.log("warning", "=== REDIS BUG REPORT END. Make sure to include from START to END. ===")
    signal.signal(signal.SIGSEGV, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGSEGV)
    os._exit(139)


@debug_sub("segfault")
def debug_segfault(c: Client, argv: list[bytes]) -> Any:
    return _crash(c, ["Redis %s crashed by signal: 11, si_code: 2" % _version(),
                      "Crashed running the instruction at: 0x0", "Accessing address: 0x0"])


@debug_sub("panic")
def debug_panic(c: Client, argv: list[bytes]) -> Any:
    return _crash(c, ["------------------------------------------------",
                      "!!! Software Failure. Press left mouse button to continue",
                      "Guru Meditation: DEBUG PANIC called at Unix time %d #debug.c:1" % int(time.time())])


@debug_sub("assert")
def debug_assert(c: Client, argv: list[bytes]) -> Any:
    return _crash(c, ["=== ASSERTION FAILED CLIENT CONTEXT ===", "client->argc = %d" % len(argv),
                      "=== ASSERTION FAILED ===", "==> debug.c:1 '1 == 2' is not true"])


@debug_sub("oom")
def debug_oom(c: Client, argv: list[bytes]) -> Any:
    return _crash(c, ["Out Of Memory allocating %d bytes!" % (2**63 - 1)])


def _version() -> str:
    from ..version import REDIS_VERSION

    return REDIS_VERSION


@debug_sub("restart")
def debug_restart(c: Client, argv: list[bytes]) -> Any:
    delay = 0
    if len(argv) >= 3:
        delay = max(0, parse_int(argv[2]))
    hook = c.server.extras.get("restart")
    if hook is not None:
        hook(argv[1].lower() == b"restart", delay)  # does not return when it works
    raise ReplyError("ERR failed to restart the server. Check server logs.")


DEBUG_HANDLERS[b"crash-and-recover"] = debug_restart
