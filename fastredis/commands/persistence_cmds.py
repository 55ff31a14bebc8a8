"""Persistence commands: SAVE, BGSAVE, LASTSAVE, DUMP, RESTORE (and SHUTDOWN until a fuller one lands).

The snapshot machinery lives in ``persistence.snapshot`` (``ctx.extras["rdb"]``);
DUMP/RESTORE payloads are RDB values with Redis' footer (``persistence.rdb``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError, Status
from ..blocking import BLOCKED
from ..db import mstime
from ..persistence import rdb
from .table import COMMANDS, SYNTAX_ERROR, command, parse_int

if TYPE_CHECKING:
    from ..context import Client

BUSYKEY = ReplyError("BUSYKEY Target key name already exists.")
BAD_PAYLOAD = ReplyError("ERR DUMP payload version or checksum are wrong")
BAD_FORMAT = ReplyError("ERR Bad data format")
PLAIN_ERR = ReplyError("ERR")


def _snap(c: Client) -> Any:
    snap = c.server.extras.get("rdb")
    if snap is None:
        raise ReplyError("ERR RDB persistence is not available")
    return snap


@command("save", 1, "admin noscript no-async-loading no-multi", group="server", since="1.0.0",
         summary="Synchronously saves the database(s) to disk.")
def save(c: Client, argv: list[bytes]) -> Any:
    snap = _snap(c)
    if snap.child_pid:
        raise ReplyError("ERR Background save already in progress")
    snap.saves += 1  # stat_rdb_saves counts SAVE and BGSAVE, not shutdown/FLUSHALL saves
    if snap.save():
        return OK
    raise PLAIN_ERR


@command("bgsave", -1, "admin noscript no-async-loading", group="server", since="1.0.0",
         summary="Asynchronously saves the database(s) to disk.")
def bgsave(c: Client, argv: list[bytes]) -> Any:
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise SYNTAX_ERROR
    snap = _snap(c)
    if snap.child_pid:
        raise ReplyError("ERR Background save already in progress")
    if snap.has_child() or c.in_exec:
        if schedule or c.in_exec:
            snap.bgsave_scheduled = True
            return Status(b"Background saving scheduled")
        raise ReplyError("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
                         "SCHEDULE in order to schedule a BGSAVE whenever possible.")
    if snap.bgsave():
        return Status(b"Background saving started")
    raise PLAIN_ERR


@command("lastsave", 1, "loading stale fast", group="server", since="1.0.0",
         summary="Returns the Unix timestamp of the last successful save to disk.")
def lastsave(c: Client, argv: list[bytes]) -> Any:
    return c.server.lastsave


@command("dump", 2, "readonly", keys=(1, 1, 1), group="generic", since="2.6.0",
         summary="Returns a serialized representation of the value stored at a key.")
def dump(c: Client, argv: list[bytes]) -> Any:
    value = c.db.get(argv[1])
    if value is None:
        return None
    return rdb.dump_payload(value, rdb.SaveOptions.from_config(c.server.config))


def _deep_sanitize(c: Client) -> bool:
    """rdbLoadObject's deep_integrity_validation for a RESTORE: ``sanitize-dump-payload yes``, or
    ``clients`` for anyone but the master, the loader, and users with ``skip-sanitize-payload``."""
    mode = c.server.config["sanitize-dump-payload"]
    if mode == "yes":
        return True
    if mode != "clients" or c.server.loading or c.is_master:
        return False
    user = getattr(c, "acl_user", None)
    return not (user is not None and getattr(user, "sanitize", None) is False)


@command("restore", -4, "write denyoom", keys=(1, 1, 1), group="generic", since="2.6.0",
         summary="Creates a key from the serialized representation of a value.")
def restore(c: Client, argv: list[bytes]) -> Any:
    replace = absttl = False
    lru_idle = lfu_freq = -1
    j = 4
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        more = n - j - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and lfu_freq == -1:
            lru_idle = parse_int(argv[j + 1])
            if lru_idle < 0:
                raise ReplyError("ERR Invalid IDLETIME value, must be >= 0")
            j += 1
        elif opt == b"freq" and more >= 1 and lru_idle == -1:
            lfu_freq = parse_int(argv[j + 1])
            if lfu_freq < 0 or lfu_freq > 255:
                raise ReplyError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            j += 1
        else:
            raise SYNTAX_ERROR
        j += 1
    key = argv[1]
    db = c.db
    if not replace and db.get_for_write(key) is not None:
        raise BUSYKEY
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise ReplyError("ERR Invalid TTL value, must be >= 0")
    payload = argv[3]
    if not rdb.verify_payload(payload, bool(c.server.extras.get("skip_checksum_validation"))):
        raise BAD_PAYLOAD
    server = c.server
    deep = _deep_sanitize(c)
    if deep:
        server.stats.dump_payload_sanitizations += 1
    try:
        value = rdb.restore_payload(payload, rdb.zset_limits(server.config))
    except rdb.PayloadError as e:
        detail = getattr(e, "detail", "")
        if detail:
            # rdbReportError in a RESTORE context: logged at verbose level, the command fails
            server.log("verbose", "Internal error in RDB reading offset 0, function at rdb.c:0 -> %s" % detail)
        raise BAD_FORMAT from None
    deleted = db.delete(key) if replace else False
    now = mstime()
    if ttl and not absttl:
        ttl += now
        if ttl >= 2**63:  # C's long long wraps: a TTL that overflows counts as already expired
            ttl -= 2**64
    if ttl and ttl <= now and not server.loading and not server.is_replica_of_master:
        # already expired: the key is (at most) deleted, never created
        if deleted:
            c.propagate_argv = [[b"DEL", key]]
            db.changed(key, b"del", b"g")
        return OK
    db.add(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            c.propagate_argv = [[argv[0], key, b"%d" % ttl, *argv[3:], b"ABSTTL"]]
    db.changed(key, b"restore", b"g")
    db.signal_ready(key)
    return OK


if b"shutdown" not in COMMANDS:
    # A minimal SHUTDOWN so NOSAVE/SAVE reach the persistence hooks; a server-commands
    # module loaded later replaces it with the full one.
    @command("shutdown", -1, "admin noscript loading stale no-multi allow-busy", group="server",
             since="1.0.0", summary="Synchronously saves the database(s) to disk and shuts down the Redis server.")
    def shutdown(c: Client, argv: list[bytes]) -> Any:
        opts: dict[str, Any] = {}
        for a in argv[1:]:
            w = a.lower()
            if w in (b"nosave", b"save", b"now", b"force", b"abort"):
                opts[w.decode()] = True
            else:
                raise SYNTAX_ERROR
        if opts.get("nosave") and opts.get("save"):
            raise SYNTAX_ERROR
        if opts.get("abort"):
            if len(opts) > 1:
                raise SYNTAX_ERROR
            raise ReplyError("ERR No shutdown in progress.")
        hook = c.server.shutdown_asap
        if hook is None or not hook(opts):
            raise ReplyError("ERR Errors trying to SHUTDOWN. Check logs.")
        return BLOCKED  # no reply: the connection closes as the server stops
