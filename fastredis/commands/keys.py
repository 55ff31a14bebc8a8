"""Keyspace (generic) commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY, MOVE,
the EXPIRE/TTL family, PERSIST, TOUCH, RANDOMKEY and OBJECT.

Semantics follow Redis 7.2's db.c, expire.c and object.c: lookups that Redis
does "for read" go through ``db.get`` (keyspace hits/misses), the ones it does
"for write" through ``db.get_for_write``; relative expiries propagate as
PEXPIREAT, an expiry already in the past deletes the key (propagated as DEL).
"""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError, Status
from ..db import mstime, type_name
from ..encoding import encoding_of
from ..glob import compile_pattern
from ..scan import parse_cursor, parse_scan_options, scan
from .table import (
    COMMANDS,
    DB_INDEX_OUT_OF_RANGE,
    INT64_MAX,
    INT64_MIN,
    NO_SUCH_KEY,
    command,
    container,
    parse_int,
    subcommand,
)

if TYPE_CHECKING:
    from ..context import Client
    from ..db import Database

SAME_OBJECT = ReplyError("ERR source and destination objects are the same")
LFU_NOT_SELECTED = ReplyError(
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust.")
LFU_SELECTED = ReplyError(
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
    "between policies at runtime LRU and LFU data will take some time to adjust.")

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
INT_RANGE = ReplyError("ERR value is out of range, value must between -2147483648 and 2147483647")
OBJ_SHARED_INTEGERS = 10000
OBJ_SHARED_REFCOUNT = INT_MAX
LFU_INIT_VAL = 5


def _signal_deleted(db: Database, key: bytes, value: Any) -> None:
    """signalDeletedKeyAsReady: clients blocked on a stream (XREADGROUP) must notice it went."""
    if value is not None and type_name(value) == "stream":
        db.signal_ready(key)


def _delete_value(db: Database, key: bytes, lazy: bool | None = None) -> bool:
    """dbDelete plus the deleted-key readiness signal."""
    value = db.data.get(key) if db.server.blocking.has_waiters else None
    if db.delete(key, lazy):
        _signal_deleted(db, key, value)
        return True
    return False


def _parse_dbid(c: Client, arg: bytes) -> Database:
    """getIntFromObjectOrReply + selectDb: the Database for a DB index argument."""
    dbid = parse_int(arg)
    if not INT_MIN <= dbid <= INT_MAX:
        raise INT_RANGE
    dbs = c.server.dbs
    if not 0 <= dbid < len(dbs):
        raise DB_INDEX_OUT_OF_RANGE
    return dbs[dbid]


def dup_value(value: Any) -> Any:
    """A deep copy of a stored value for COPY (strings are immutable ``bytes``)."""
    if type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytearray(value)
    dup = getattr(value, "copy", None)
    if dup is None:
        raise ReplyError("ERR unknown type object")
    return dup()


# ---------------------------------------------------------------------------
# DEL / UNLINK / EXISTS / TYPE / TOUCH
# ---------------------------------------------------------------------------

def _del_generic(c: Client, argv: list[bytes], lazy: bool) -> int:
    db = c.db
    n = 0
    for key in argv[1:]:
        if _delete_value(db, key, lazy):
            db.changed(key, b"del", b"g")
            n += 1
    return n


@command("del", -2, "write", keys=(1, -1, 1), since="1.0.0", complexity="O(N)",
         summary="Deletes one or more keys.")
def del_(c: Client, argv: list[bytes]) -> Any:
    return _del_generic(c, argv, c.server.config["lazyfree-lazy-user-del"])


@command("unlink", -2, "write fast", keys=(1, -1, 1), since="4.0.0", complexity="O(1) for each key",
         summary="Asynchronously deletes one or more keys.")
def unlink(c: Client, argv: list[bytes]) -> Any:
    return _del_generic(c, argv, True)


@command("exists", -2, "readonly fast", keys=(1, -1, 1), since="1.0.0", complexity="O(N)",
         summary="Determines whether one or more keys exist.")
def exists(c: Client, argv: list[bytes]) -> Any:
    """Counts every argument, so a key given twice counts twice (like Redis)."""
    get = c.db.get
    return sum(1 for key in argv[1:] if get(key) is not None)


@command("type", 2, "readonly fast", keys=(1, 1, 1), since="1.0.0", complexity="O(1)",
         summary="Determines the type of value stored at a key.")
def type_(c: Client, argv: list[bytes]) -> Any:
    v = c.db.get(argv[1])
    return Status(type_name(v).encode() if v is not None else b"none")


@command("touch", -2, "readonly fast", keys=(1, -1, 1), since="3.2.1", complexity="O(N)",
         summary="Returns the number of existing keys out of those specified after updating the time "
                 "they were last accessed.")
def touch(c: Client, argv: list[bytes]) -> Any:
    get = c.db.get
    return sum(1 for key in argv[1:] if get(key) is not None)


# ---------------------------------------------------------------------------
# KEYS / SCAN / RANDOMKEY
# ---------------------------------------------------------------------------

@command("keys", 2, "readonly", since="1.0.0", complexity="O(N)", acl="@keyspace",
         summary="Returns all key names that match a pattern.")
def keys(c: Client, argv: list[bytes]) -> Any:
    """Expired keys are skipped but not deleted (keyIsExpired), as in Redis."""
    db = c.db
    pattern = argv[1]
    data = db.data
    if pattern == b"*":
        candidates: Any = data
    elif not any(ch in pattern for ch in b"*?[\\"):
        candidates = [pattern] if pattern in data else []   # a literal pattern: one lookup
    else:
        match = compile_pattern(pattern).match
        candidates = [k for k in data if match(k) is not None]
    expires = db.expires
    if not expires or db.server.loading:
        return list(candidates)
    now = mstime()
    get = expires.get
    out = []
    for k in candidates:
        when = get(k)
        if when is None or when > now:
            out.append(k)
    return out


@command("scan", -2, "readonly", since="2.8.0", complexity="O(1) for every call. O(N) for a complete "
         "iteration, including enough command calls for the cursor to return back to 0.",
         summary="Iterates over the key names in the database.")
def scan_(c: Client, argv: list[bytes]) -> Any:
    """Hash-ordered cursor (see fastredis.scan): keys present for the whole scan come back at least once."""
    cursor = parse_cursor(argv[1])
    opts = parse_scan_options(argv, 2, allow_type=True)
    db = c.db
    data = db.data
    cursor, found = scan(data, cursor, opts.count)
    if opts.match is not None and opts.match != b"*":
        match = compile_pattern(opts.match).match
        found = [k for k in found if match(k) is not None]
    if opts.type is not None:
        want = opts.type.lower()
        found = [k for k in found if k in data and type_name(data[k]).encode() == want]
    if db.expires:
        expires = db.expires
        found = [k for k in found if k not in expires or not db.expire_if_needed(k)]
    return [str(cursor).encode(), found]


@command("randomkey", 1, "readonly", since="1.0.0", complexity="O(1)",
         summary="Returns a random key name from the database.")
def randomkey(c: Client, argv: list[bytes]) -> Any:
    """dbRandomKey: expired keys are dropped and another one is drawn.

    On a replica nothing is deleted, so when every key has a TTL it gives up
    after 100 draws and returns a possibly expired key, like Redis.
    """
    db = c.db
    data = db.data
    expires = db.expires
    maxtries = 100
    allvolatile = len(data) == len(expires)
    replica = db.server.is_replica_of_master
    while data:
        n = len(data)
        idx = random.randrange(n)
        key = next(itertools.islice(iter(data), idx, None))
        if key in expires:
            if allvolatile and (replica or db.server.paused_expiry):
                maxtries -= 1
                if maxtries == 0:
                    return key
            if db.expire_if_needed(key):
                continue
        return key
    return None


# ---------------------------------------------------------------------------
# RENAME / RENAMENX / MOVE / COPY
# ---------------------------------------------------------------------------

def _rename(c: Client, argv: list[bytes], nx: bool) -> Any:
    db = c.db
    src, dst = argv[1], argv[2]
    value = db.get_for_write(src)
    if value is None:
        raise NO_SUCH_KEY
    if src == dst:
        return 0 if nx else OK
    expire = db.get_expire(src)
    if db.get_for_write(dst) is not None:
        if nx:
            return 0
        _delete_value(db, dst)
    db.add(dst, value)
    if expire is not None:
        db.set_expire(dst, expire)
    db.delete(src)
    db.changed(src, b"rename_from", b"g")
    db.changed(dst, b"rename_to", b"g", dirty=0)
    db.signal_ready(dst)
    return 1 if nx else OK


@command("rename", 3, "write", keys=(1, 2, 1), since="1.0.0", complexity="O(1)",
         summary="Renames a key and overwrites the destination.")
def rename(c: Client, argv: list[bytes]) -> Any:
    return _rename(c, argv, False)


@command("renamenx", 3, "write fast", keys=(1, 2, 1), since="1.0.0", complexity="O(1)",
         summary="Renames a key only when the target key name doesn't exist.")
def renamenx(c: Client, argv: list[bytes]) -> Any:
    return _rename(c, argv, True)


@command("move", 3, "write fast", keys=(1, 1, 1), since="1.0.0", complexity="O(1)",
         summary="Moves a key to another database.")
def move(c: Client, argv: list[bytes]) -> Any:
    src = c.db
    key = argv[1]
    dst = _parse_dbid(c, argv[2])
    if dst is src:
        raise SAME_OBJECT
    value = src.get_for_write(key)
    if value is None:
        return 0
    expire = src.get_expire(key)
    if dst.get_for_write(key) is not None:
        return 0
    dst.add(key, value)
    if expire is not None:
        dst.set_expire(key, expire)
    src.delete(key)
    src.changed(key, b"move_from", b"g")
    dst.changed(key, b"move_to", b"g", dirty=0)
    dst.signal_ready(key)
    return 1


@command("copy", -3, "write denyoom", keys=(1, 2, 1), since="6.2.0",
         complexity="O(N) worst case for collections, where N is the number of nested items. O(1) for "
                    "string values.",
         summary="Copies the value of a key to a new key.")
def copy(c: Client, argv: list[bytes]) -> Any:
    src = dst = c.db
    replace = False
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and j + 1 < n:
            dst = _parse_dbid(c, argv[j + 1])
            j += 1
        else:
            raise ReplyError("ERR syntax error")
        j += 1
    key, newkey = argv[1], argv[2]
    if src is dst and key == newkey:
        raise SAME_OBJECT
    value = src.get(key)
    if value is None:
        return 0
    expire = src.get_expire(key)
    delete = False
    if dst.get_for_write(newkey) is not None:
        if not replace:
            return 0
        delete = True
    newvalue = dup_value(value)
    if delete:
        _delete_value(dst, newkey)
    dst.add(newkey, newvalue)
    if expire is not None:
        dst.set_expire(newkey, expire)
    dst.changed(newkey, b"copy_to", b"g")
    dst.signal_ready(newkey)
    return 1


def _spec(flags: str, index: int) -> dict[str, Any]:
    return {"flags": flags.split(), "begin_search": {"type": "index", "spec": {"index": index}},
            "find_keys": {"type": "range", "spec": {"lastkey": 0, "keystep": 1, "limit": 0}}}


# two key specs each, as in Redis' command JSON (source and destination differ)
COMMANDS[b"rename"].key_specs = [_spec("RW access delete", 1), _spec("OW update", 2)]
COMMANDS[b"renamenx"].key_specs = [_spec("RW access delete", 1), _spec("OW insert", 2)]
COMMANDS[b"copy"].key_specs = [_spec("RO access", 1), _spec("OW update", 2)]


# ---------------------------------------------------------------------------
# EXPIRE family, TTL family, PERSIST
# ---------------------------------------------------------------------------

EXPIRE_NX, EXPIRE_XX, EXPIRE_GT, EXPIRE_LT = 1, 2, 4, 8


def _expire_flags(argv: list[bytes]) -> int:
    """parseExtendedExpireArgumentsOrReply: NX | XX | GT | LT, checked before the time argument."""
    flags = 0
    for opt in argv[3:]:
        low = opt.lower()
        if low == b"nx":
            flags |= EXPIRE_NX
        elif low == b"xx":
            flags |= EXPIRE_XX
        elif low == b"gt":
            flags |= EXPIRE_GT
        elif low == b"lt":
            flags |= EXPIRE_LT
        else:
            raise ReplyError(b"ERR Unsupported option " + opt.split(b"\0", 1)[0])  # '%s': raw C string
    if flags & EXPIRE_NX and flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT):
        raise ReplyError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & EXPIRE_GT and flags & EXPIRE_LT:
        raise ReplyError("ERR GT and LT options at the same time are not compatible")
    return flags


def _expire_generic(c: Client, argv: list[bytes], basetime: int, seconds: bool) -> Any:
    """expireGenericCommand for EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT."""
    name = argv[0].lower().decode("utf-8", "replace")
    invalid = ReplyError(f"ERR invalid expire time in '{name}' command")
    key = argv[1]
    flags = _expire_flags(argv)
    when = parse_int(argv[2])
    if seconds:
        # C's LLONG_MAX / 1000 truncates toward zero
        if when > INT64_MAX // 1000 or when < -(-INT64_MIN // 1000):
            raise invalid
        when *= 1000
    if when > INT64_MAX - basetime:
        raise invalid
    when += basetime
    db = c.db
    if db.get_for_write(key) is None:
        return 0
    if flags:
        current = db.get_expire(key)
        if flags & EXPIRE_NX and current is not None:
            return 0
        if flags & EXPIRE_XX and current is None:
            return 0
        if flags & EXPIRE_GT and (current is None or when <= current):
            return 0
        if flags & EXPIRE_LT and current is not None and when >= current:
            return 0
    server = db.server
    if when <= mstime() and not server.loading and not server.is_replica_of_master:
        lazy = server.config["lazyfree-lazy-expire"]
        _delete_value(db, key, lazy)
        db.changed(key, b"del", b"g")
        c.propagate_argv = [[b"UNLINK" if lazy else b"DEL", key]]
        return 1
    db.set_expire(key, when)
    db.changed(key, b"expire", b"g")
    if name != "pexpireat":
        prop = list(argv)
        prop[0] = b"PEXPIREAT"
        prop[2] = str(when).encode()
        c.propagate_argv = [prop]
    return 1


_EXPIRE_DOC = "O(1)"


@command("expire", -3, "write fast", keys=(1, 1, 1), since="1.0.0", complexity=_EXPIRE_DOC,
         summary="Sets the expiration time of a key in seconds.")
def expire(c: Client, argv: list[bytes]) -> Any:
    return _expire_generic(c, argv, mstime(), True)


@command("pexpire", -3, "write fast", keys=(1, 1, 1), since="2.6.0", complexity=_EXPIRE_DOC,
         summary="Sets the expiration time of a key in milliseconds.")
def pexpire(c: Client, argv: list[bytes]) -> Any:
    return _expire_generic(c, argv, mstime(), False)


@command("expireat", -3, "write fast", keys=(1, 1, 1), since="1.2.0", complexity=_EXPIRE_DOC,
         summary="Sets the expiration time of a key to a Unix timestamp.")
def expireat(c: Client, argv: list[bytes]) -> Any:
    return _expire_generic(c, argv, 0, True)


@command("pexpireat", -3, "write fast", keys=(1, 1, 1), since="2.6.0", complexity=_EXPIRE_DOC,
         summary="Sets the expiration time of a key to a Unix milliseconds timestamp.")
def pexpireat(c: Client, argv: list[bytes]) -> Any:
    return _expire_generic(c, argv, 0, False)


def _ttl_generic(c: Client, key: bytes, output_ms: bool, output_abs: bool) -> int:
    db = c.db
    if db.get(key) is None:
        return -2
    when = db.get_expire(key)
    if when is None:
        return -1
    ttl = when if output_abs else when - mstime()
    if ttl < 0:
        ttl = 0
    return ttl if output_ms else (ttl + 500) // 1000


@command("ttl", 2, "readonly fast", keys=(1, 1, 1), since="1.0.0", complexity="O(1)",
         summary="Returns the expiration time in seconds of a key.")
def ttl(c: Client, argv: list[bytes]) -> Any:
    return _ttl_generic(c, argv[1], False, False)


@command("pttl", 2, "readonly fast", keys=(1, 1, 1), since="2.6.0", complexity="O(1)",
         summary="Returns the expiration time in milliseconds of a key.")
def pttl(c: Client, argv: list[bytes]) -> Any:
    return _ttl_generic(c, argv[1], True, False)


@command("expiretime", 2, "readonly fast", keys=(1, 1, 1), since="7.0.0", complexity="O(1)",
         summary="Returns the expiration time of a key as a Unix timestamp.")
def expiretime(c: Client, argv: list[bytes]) -> Any:
    return _ttl_generic(c, argv[1], False, True)


@command("pexpiretime", 2, "readonly fast", keys=(1, 1, 1), since="7.0.0", complexity="O(1)",
         summary="Returns the expiration time of a key as a Unix milliseconds timestamp.")
def pexpiretime(c: Client, argv: list[bytes]) -> Any:
    return _ttl_generic(c, argv[1], True, True)


@command("persist", 2, "write fast", keys=(1, 1, 1), since="2.2.0", complexity="O(1)",
         summary="Removes the expiration time of a key.")
def persist(c: Client, argv: list[bytes]) -> Any:
    db = c.db
    key = argv[1]
    if db.get_for_write(key) is None:
        return 0
    if not db.persist(key):
        return 0
    db.changed(key, b"persist", b"g")
    return 1


# ---------------------------------------------------------------------------
# OBJECT
# ---------------------------------------------------------------------------

container("object", -2, "", since="2.2.3", summary="A container for object introspection commands.")

_OBJECT_HELP = [
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
]


def _lfu_policy(c: Client) -> bool:
    return str(c.server.config["maxmemory-policy"]).endswith("-lfu")


@subcommand("object", "encoding", 3, "readonly", keys=(2, 2, 1), since="2.2.3", complexity="O(1)",
            summary="Returns the internal encoding of a Redis object.")
def object_encoding(c: Client, argv: list[bytes]) -> Any:
    v = c.db.get(argv[2])
    if v is None:
        return None
    return encoding_of(v, c.server.config).encode()


@subcommand("object", "refcount", 3, "readonly", keys=(2, 2, 1), since="2.2.3", complexity="O(1)",
            summary="Returns the reference count of a value of a key.")
def object_refcount(c: Client, argv: list[bytes]) -> Any:
    """Shared integers 0..9999 report INT_MAX like Redis' shared objects (unless LRU/LFU eviction)."""
    v = c.db.get(argv[2])
    if v is None:
        return None
    if type(v) is bytes and len(v) <= 5:
        n = v.isdigit() and encoding_of(v, c.server.config) == "int" and int(v)
        if n is not False and 0 <= n < OBJ_SHARED_INTEGERS:
            cfg = c.server.config
            policy = str(cfg["maxmemory-policy"])
            if not cfg["maxmemory"] or not policy.endswith(("-lru", "-lfu")):
                return OBJ_SHARED_REFCOUNT
    return 1


@subcommand("object", "idletime", 3, "readonly", keys=(2, 2, 1), since="2.2.3", complexity="O(1)",
            summary="Returns the time since the last access to a Redis object.")
def object_idletime(c: Client, argv: list[bytes]) -> Any:
    """Seconds since the last access, kept while an LRU policy is selected (memory.py); 0 otherwise."""
    v = c.db.get(argv[2])
    if v is None:
        return None
    if _lfu_policy(c):
        raise LFU_SELECTED
    return c.server.memory.idle_seconds(c.db, argv[2])


@subcommand("object", "freq", 3, "readonly", keys=(2, 2, 1), since="4.0.0", complexity="O(1)",
            summary="Returns the logarithmic access frequency counter of a Redis object.")
def object_freq(c: Client, argv: list[bytes]) -> Any:
    """The LFU counter (logarithmic, decayed by lfu-decay-time) kept while an LFU policy is selected."""
    v = c.db.get(argv[2])
    if v is None:
        return None
    if not _lfu_policy(c):
        raise LFU_NOT_SELECTED
    return c.server.memory.freq(c.db, argv[2])


@subcommand("object", "help", 2, "loading stale", since="6.2.0", complexity="O(1)",
            summary="Returns helpful text about the different subcommands.")
def object_help(c: Client, argv: list[bytes]) -> Any:
    return [Status(line.encode()) for line in _OBJECT_HELP]
