"""COMMAND and its subcommands, all derived from the command table (``table.COMMANDS``).

COMMAND INFO follows Redis 7.2's reply shape: name, arity, flags, first/last/step,
ACL categories, tips, key specs, subcommands.  ACL categories, tips and key specs
come from the table, which takes them from Redis' command JSON (``redis_meta``);
only a command Redis does not declare gets them derived (flags, group, the
(first, last, step) range).  Commands with a ``key_finder`` are ``movablekeys``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import ReplyError, SetReply, Status
from ..glob import stringmatch
from ._help import help_lines
from .redis_meta import META
from .table import COMMANDS, KEY_FLAG_ORDER, SYNTAX_ERROR, Command, command, keys_with_flags, subcommand

if TYPE_CHECKING:
    from ..context import Client

# command flags in the order Redis replies them (addReplyFlagsForCommand)
FLAG_ORDER = [
    ("write", "write"), ("readonly", "readonly"), ("denyoom", "denyoom"), ("module", "module"),
    ("admin", "admin"), ("pubsub", "pubsub"), ("noscript", "noscript"), ("blocking", "blocking"),
    ("loading", "loading"), ("stale", "stale"), ("skip-monitor", "skip_monitor"),
    ("skip-slowlog", "skip_slowlog"), ("asking", "asking"), ("fast", "fast"), ("no-auth", "no_auth"),
    ("may-replicate", "may_replicate"), ("no-mandatory-keys", "no_mandatory_keys"),
    ("no-async-loading", "no_async_loading"), ("no-multi", "no_multi"), ("movablekeys", "movablekeys"),
    ("allow-busy", "allow_busy"),
]

# ACL categories in Redis' bit order (ACLCommandCategories)
ACL_ORDER = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
             "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
             "connection", "transaction", "scripting"]

GROUP_CATEGORY = {
    "generic": "keyspace", "string": "string", "list": "list", "set": "set", "sorted_set": "sortedset",
    "zset": "sortedset", "sortedset": "sortedset", "hash": "hash", "pubsub": "pubsub",
    "transactions": "transaction", "connection": "connection", "scripting": "scripting",
    "hyperloglog": "hyperloglog", "geo": "geo", "stream": "stream", "bitmap": "bitmap",
}

# explicit categories Redis' command JSON adds beyond the implicit/group ones
EXPLICIT_ACL: dict[str, tuple[str, ...]] = {
    "info": ("dangerous",), "lastsave": ("admin", "dangerous"), "flushall": ("keyspace", "dangerous"),
    "flushdb": ("keyspace", "dangerous"), "swapdb": ("keyspace", "dangerous"), "dbsize": ("keyspace",),
    "keys": ("dangerous",), "sort": ("set", "sortedset", "list", "dangerous"),
    "sort_ro": ("set", "sortedset", "list"), "role": ("admin", "dangerous"), "save": (), "bgsave": (),
    "time": (), "command": ("connection",), "wait": ("connection",), "select": (), "echo": (),
    "watch": ("transaction",), "unwatch": ("transaction",), "multi": ("transaction",),
    "exec": ("transaction",), "discard": ("transaction",), "migrate": ("keyspace", "dangerous"),
    "restore": ("keyspace", "dangerous"), "dump": ("keyspace",), "client": ("connection",),
}

TIPS: dict[str, tuple[str, ...]] = {
    "command": ("nondeterministic_output_order",), "command|info": ("nondeterministic_output_order",),
    "command|docs": ("nondeterministic_output_order",), "command|list": ("nondeterministic_output_order",),
    "info": ("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
    "lastsave": ("nondeterministic_output",), "time": ("nondeterministic_output",),
    "client|list": ("nondeterministic_output",), "client|info": ("nondeterministic_output",),
    "randomkey": ("request_policy:all_shards", "response_policy:special", "nondeterministic_output"),
    "keys": ("request_policy:all_shards", "nondeterministic_output_order"),
    "scan": ("nondeterministic_output", "request_policy:special", "response_policy:special"),
    "dbsize": ("request_policy:all_shards", "response_policy:agg_sum"),
    "flushall": ("request_policy:all_shards", "response_policy:all_succeeded"),
    "flushdb": ("request_policy:all_shards", "response_policy:all_succeeded"),
    "mset": ("request_policy:multi_shard", "response_policy:all_succeeded"),
    "mget": ("request_policy:multi_shard",), "del": ("request_policy:multi_shard", "response_policy:agg_sum"),
    "exists": ("request_policy:multi_shard", "response_policy:agg_sum"),
    "unlink": ("request_policy:multi_shard", "response_policy:agg_sum"),
    "touch": ("request_policy:multi_shard", "response_policy:agg_sum"),
    "smembers": ("nondeterministic_output_order",), "sinter": ("nondeterministic_output_order",),
    "sunion": ("nondeterministic_output_order",), "sdiff": ("nondeterministic_output_order",),
    "hgetall": ("nondeterministic_output_order",), "hkeys": ("nondeterministic_output_order",),
    "hvals": ("nondeterministic_output_order",), "spop": ("nondeterministic_output",),
    "srandmember": ("nondeterministic_output",), "hrandfield": ("nondeterministic_output",),
    "zrandmember": ("nondeterministic_output",), "sscan": ("nondeterministic_output",),
    "hscan": ("nondeterministic_output",), "zscan": ("nondeterministic_output",),
    "pubsub|channels": ("nondeterministic_output_order",), "pubsub|shardchannels": ("nondeterministic_output_order",),
    "role": ("nondeterministic_output",), "wait": ("request_policy:all_shards", "response_policy:agg_min"),
    "xinfo|consumers": ("nondeterministic_output",), "xinfo|stream": ("nondeterministic_output",),
    "ping": ("request_policy:all_shards", "response_policy:all_succeeded"),
    "config|set": ("request_policy:all_nodes", "response_policy:all_succeeded"),
    "config|resetstat": ("request_policy:all_nodes", "response_policy:all_succeeded"),
    "config|rewrite": ("request_policy:all_nodes", "response_policy:all_succeeded"),
    "client|id": (), "save": ("request_policy:all_nodes", "response_policy:all_succeeded"),
    "bgsave": ("request_policy:all_nodes", "response_policy:all_succeeded"),
    "bgrewriteaof": ("request_policy:all_nodes", "response_policy:all_succeeded"),
    "swapdb": ("request_policy:all_shards", "response_policy:all_succeeded"),
}


def command_flags(cmd: Command) -> list[str]:
    flags = set(cmd.flags)
    if cmd.module:
        flags.add("module")
    if cmd.key_finder is not None:
        flags.add("movablekeys")
    return [out for name, out in FLAG_ORDER if name in flags]


def acl_categories(cmd: Command) -> list[str]:
    """Redis' categories from the table (``redis_meta``), in ACL CAT order.

    A command Redis does not declare gets them derived as setImplicitACLCategories does
    (flags) plus its group's category and its explicit ``acl=`` ones.
    """
    cached = _CATS.get(cmd)
    if cached is not None:
        return cached
    if cmd.acl and cmd.fullname in META:
        cats = set(cmd.acl)
    else:
        cats = _derived_categories(cmd)
    out = _CATS[cmd] = [c for c in ACL_ORDER if c in cats]
    return out


_CATS: dict[Command, list[str]] = {}


def _derived_categories(cmd: Command) -> set[str]:
    cats: set[str] = set()
    top = cmd.parent or cmd
    explicit = EXPLICIT_ACL.get(cmd.fullname)
    if explicit is None:
        explicit = EXPLICIT_ACL.get(top.name)
    if explicit is None:
        g = GROUP_CATEGORY.get(cmd.group)
        explicit = (g,) if g else ()
    cats.update(explicit)
    for a in cmd.acl:
        cats.add(a.lstrip("@").lower())
    f = cmd.flags
    if "write" in f:
        cats.add("write")
    if "readonly" in f and "scripting" not in cats:
        cats.add("read")
    if "admin" in f:
        cats.update(("admin", "dangerous"))
    if "pubsub" in f:
        cats.add("pubsub")
    if "fast" in f:
        cats.add("fast")
    if "blocking" in f:
        cats.add("blocking")
    if "fast" not in cats:
        cats.add("slow")
    return cats


# key-spec flags of single-spec commands that differ from the RW/RO default
_KEYSPEC_GROUPS = {
    "RW access update": "decr decrby getex getset hincrby hincrbyfloat incr incrby incrbyfloat move setbit zincrby",
    "RW access update variable_flags": "bitfield set",
    "RW delete": "hdel lrem ltrim srem xautoclaim xdel xgroup|delconsumer xgroup|destroy xtrim zrem zremrangebylex "
                 "zremrangebyrank zremrangebyscore",
    "RO": "exists hexists hlen hstrlen llen object|encoding object|freq object|idletime object|refcount scard "
          "sismember strlen touch type watch xlen zcard",
    "RW access delete": "blmpop blpop brpop bzmpop bzpopmax bzpopmin getdel lmpop lpop rpop spop zmpop zpopmax zpopmin",
    "RW insert": "append hsetnx linsert lpush lpushx pfadd rpush rpushx sadd xgroup|create xgroup|createconsumer",
    "RW access": "pfcount pfdebug",
    "RM delete": "del unlink",
    "OW update": "mset psetex restore setex",
    "not_key": "spublish ssubscribe sunsubscribe",
    "OW insert": "msetnx setnx",
}
KEYSPEC_FLAGS = {name: flags.split() for flags, names in _KEYSPEC_GROUPS.items() for name in names.split()}


def key_spec_flags(cmd: Command) -> list[str]:
    known = KEYSPEC_FLAGS.get(cmd.fullname)
    if known is not None:
        return known
    f = cmd.flags
    if "write" in f:
        return ["RW", "update"]
    return ["RO", "access"]


def key_specs(cmd: Command) -> list[dict[bytes, Any]]:
    if cmd.key_specs:
        return [_spec_reply(s) for s in cmd.key_specs]
    if cmd.first_key <= 0:
        return []
    last = cmd.last_key if cmd.last_key < 0 else cmd.last_key - cmd.first_key
    return [{
        b"flags": SetReply([Status(x.encode()) for x in key_spec_flags(cmd)]),
        b"begin_search": {b"type": b"index", b"spec": {b"index": cmd.first_key}},
        b"find_keys": {b"type": b"range", b"spec": {b"lastkey": last, b"keystep": cmd.step or 1, b"limit": 0}},
    }]


def _spec_reply(spec: dict[str, Any]) -> dict[bytes, Any]:
    """A table-declared key spec (plain dict with str keys) in reply form."""
    out: dict[bytes, Any] = {}
    for k, v in spec.items():
        key = k.encode()
        if k == "flags":
            out[key] = SetReply([Status(str(x).encode()) for x in v])
        elif isinstance(v, dict):
            out[key] = _spec_reply(v)
        elif isinstance(v, str):
            out[key] = v.encode()
        else:
            out[key] = v
    return out


def command_info(cmd: Command) -> list[Any]:
    subs = list(cmd.subcommands.values())
    return [
        cmd.fullname.encode(),
        cmd.arity,
        SetReply([Status(x.encode()) for x in command_flags(cmd)]),
        cmd.first_key,
        cmd.last_key,
        cmd.step,
        SetReply([Status(b"@" + x.encode()) for x in acl_categories(cmd)]),
        SetReply([x.encode() for x in (cmd.tips or TIPS.get(cmd.fullname, ()))]),
        SetReply(key_specs(cmd)),
        [command_info(s) for s in subs] if subs else SetReply([]),
    ]


def command_docs(cmd: Command) -> dict[bytes, Any]:
    out: dict[bytes, Any] = {}
    if cmd.summary:
        out[b"summary"] = cmd.summary.encode()
    if cmd.since:
        out[b"since"] = cmd.since.encode()
    out[b"group"] = (cmd.parent.group if cmd.parent else cmd.group).encode()
    if cmd.complexity:
        out[b"complexity"] = cmd.complexity.encode()
    if cmd.module:
        out[b"module"] = cmd.module.encode()
    if cmd.arguments:
        out[b"arguments"] = [_arg_doc(a) for a in cmd.arguments]
    if cmd.subcommands:
        out[b"subcommands"] = {s.fullname.encode(): command_docs(s) for s in cmd.subcommands.values()}
    return out


def _arg_doc(arg: dict[str, Any]) -> dict[bytes, Any]:
    out: dict[bytes, Any] = {}
    for k, v in arg.items():
        if k == "arguments":
            out[b"arguments"] = [_arg_doc(a) for a in v]
        elif k == "flags":
            out[b"flags"] = SetReply([Status(str(x).encode()) for x in v])
        elif isinstance(v, str):
            out[k.encode()] = v.encode()
        else:
            out[k.encode()] = v
    return out


def find_command(name: bytes) -> Command | None:
    """``get`` or ``client|list`` (case-insensitive), as lookupCommandBySds."""
    parts = name.lower().split(b"|")
    if len(parts) > 2:
        return None
    cmd = COMMANDS.get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    return cmd.subcommands.get(parts[1])


def all_commands(with_subcommands: bool = True) -> list[Command]:
    out = []
    for cmd in COMMANDS.values():
        out.append(cmd)
        if with_subcommands:
            out.extend(cmd.subcommands.values())
    return out


@command("command", -1, "loading stale sentinel", group="server", since="2.8.13",
         summary="Returns detailed information about all commands.")
def command_(c: Client, argv: list[bytes]) -> Any:
    return [command_info(cmd) for cmd in COMMANDS.values()]


@subcommand("command", "count", 2, "loading stale", since="2.8.13", summary="Returns a count of commands.")
def command_count(c: Client, argv: list[bytes]) -> Any:
    return len(COMMANDS)


@subcommand("command", "info", -2, "loading stale", since="2.8.13",
            summary="Returns information about one, multiple or all commands.")
def command_info_(c: Client, argv: list[bytes]) -> Any:
    if len(argv) == 2:
        return [command_info(cmd) for cmd in COMMANDS.values()]
    out: list[Any] = []
    for name in argv[2:]:
        cmd = find_command(name)
        out.append(None if cmd is None else command_info(cmd))
    return out


@subcommand("command", "docs", -2, "loading stale", since="7.0.0",
            summary="Returns documentary information about one, multiple or all commands.")
def command_docs_(c: Client, argv: list[bytes]) -> Any:
    if len(argv) == 2:
        return {cmd.name.encode(): command_docs(cmd) for cmd in COMMANDS.values()}
    out: dict[bytes, Any] = {}
    for name in argv[2:]:
        cmd = find_command(name)
        if cmd is not None:
            out[cmd.fullname.encode()] = command_docs(cmd)
    return out


@subcommand("command", "list", -2, "loading stale", since="7.0.0", summary="Returns a list of command names.")
def command_list(c: Client, argv: list[bytes]) -> Any:
    names = [cmd.fullname.encode() for cmd in all_commands()]
    if len(argv) == 2:
        return names
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise SYNTAX_ERROR
    kind, value = argv[3].lower(), argv[4]
    if kind == b"module":
        wanted = value.decode("utf-8", "surrogateescape")
        return [cmd.fullname.encode() for cmd in all_commands() if (cmd.parent or cmd).module == wanted]
    if kind == b"aclcat":
        cat = value.decode("utf-8", "replace").lower()
        return [cmd.fullname.encode() for cmd in all_commands() if cat in acl_categories(cmd)]
    if kind == b"pattern":
        return [n for n in names if stringmatch(value, n, nocase=True)]
    raise SYNTAX_ERROR


def _getkeys(argv: list[bytes]) -> tuple[Command, list[int]]:
    target = argv[2:]
    cmd = COMMANDS.get(target[0].lower())
    if cmd is not None and cmd.subcommands and cmd.handler is None:
        cmd = cmd.subcommands.get(target[1].lower()) if len(target) > 1 else None
    if cmd is None:
        raise ReplyError("ERR Invalid command specified")
    if cmd.first_key <= 0 and cmd.key_finder is None:
        raise ReplyError("ERR The command has no key arguments")
    n = len(target)
    if (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
        raise ReplyError("ERR Invalid number of arguments specified for command")
    try:
        positions = cmd.key_positions(target)
    except ReplyError:
        positions = []
    except (ValueError, IndexError, TypeError):
        positions = []
    positions = [i for i in positions if 0 < i < n]
    if not positions and "no-mandatory-keys" not in cmd.flags:
        raise ReplyError("ERR Invalid arguments specified for command")
    return cmd, positions


@subcommand("command", "getkeys", -4, "loading stale", since="2.8.13",
            summary="Extracts the key names from an arbitrary command.")
def command_getkeys(c: Client, argv: list[bytes]) -> Any:
    _cmd, positions = _getkeys(argv)
    return [argv[2 + i] for i in positions]


@subcommand("command", "getkeysandflags", -4, "loading stale", since="7.0.0",
            summary="Extracts the key names and access flags for an arbitrary command.")
def command_getkeysandflags(c: Client, argv: list[bytes]) -> Any:
    cmd, positions = _getkeys(argv)
    found = keys_with_flags(cmd, argv[2:])
    if not found:
        flags = SetReply([Status(x.encode()) for x in key_spec_flags(cmd)])
        return [[argv[2 + i], flags] for i in positions]
    return [[argv[2 + i], SetReply([Status(x.encode()) for x in KEY_FLAG_ORDER if x in f])] for i, f in found]


@subcommand("command", "help", 2, "loading stale", since="5.0.0",
            summary="Returns helpful text about the different subcommands.")
def command_help(c: Client, argv: list[bytes]) -> Any:
    return help_lines("COMMAND", [
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    ])
