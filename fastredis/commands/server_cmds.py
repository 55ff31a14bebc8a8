"""Server commands: FLUSHDB, FLUSHALL, DBSIZE, SWAPDB, TIME, INFO, SHUTDOWN.

LASTSAVE, SAVE and BGSAVE live with the snapshot code (persistence_cmds).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .. import info as info_mod
from .._resp import OK, ReplyError, Verbatim
from ..blocking import BLOCKED
from ..db import mstime
from .table import DB_INDEX_OUT_OF_RANGE, SYNTAX_ERROR, command, parse_int

if TYPE_CHECKING:
    from ..context import Client


def _flush_mode(c: Client, argv: list[bytes]) -> bool:
    """getFlushCommandFlags: True for an asynchronous flush (ASYNC, or lazyfree-lazy-user-flush)."""
    if len(argv) > 2:
        raise SYNTAX_ERROR
    if len(argv) == 2:
        mode = argv[1].lower()
        if mode not in (b"async", b"sync"):
            raise SYNTAX_ERROR
        return mode == b"async"
    return bool(c.server.config["lazyfree-lazy-user-flush"])


@command("flushdb", -1, "write", group="server", summary="Remove all keys from the current database.")
def flushdb(c: Client, argv: list[bytes]) -> Any:
    n = c.db.clear(_flush_mode(c, argv))
    c.server.dirty += n
    c.propagate_argv = [[b"FLUSHDB"]]
    c.server.dirty += 1
    return OK


@command("flushall", -1, "write", group="server", summary="Removes all keys from all databases.")
def flushall(c: Client, argv: list[bytes]) -> Any:
    lazy = _flush_mode(c, argv)
    total = 0
    for db in c.server.dbs:
        total += db.clear(lazy)
    c.server.dirty += total + 1
    c.propagate_argv = [[b"FLUSHALL"]]
    hook = c.server.extras.get("after_flushall")
    if hook is not None:
        hook()
    return OK


@command("dbsize", 1, "readonly fast", group="server", summary="Returns the number of keys in the database.")
def dbsize(c: Client, argv: list[bytes]) -> Any:
    return len(c.db.data)


def _touch_watched_swapped(emptied: Any, replaced_with: Any) -> None:
    """touchAllWatchedKeysInDb(emptied, replaced_with): SWAPDB breaks a WATCH only on a key that
    exists on either side; a key already expired when watched that stays gone or expired is no change."""
    now = mstime()
    for key, clients in list(emptied.watched.items()):
        in_emptied = key in emptied.data
        in_replaced = key in replaced_with.data
        if not (in_emptied or in_replaced):
            continue
        when = replaced_with.expires.get(key)
        replaced_expired = in_replaced and when is not None and when <= now
        tag = (emptied.id, key)
        for cl in list(clients):
            expired = cl.watch_expired
            if tag in expired:
                if not in_replaced:
                    expired.discard(tag)
                    continue
                if replaced_expired:
                    continue
            elif not in_emptied and replaced_expired:
                expired.add(tag)
                continue
            cl.dirty_cas = True


@command("swapdb", 3, "write fast", group="server", since="4.0.0", summary="Swaps two Redis databases.")
def swapdb(c: Client, argv: list[bytes]) -> Any:
    try:
        a = parse_int(argv[1])
    except ReplyError:
        raise ReplyError("ERR invalid first DB index") from None
    try:
        b = parse_int(argv[2])
    except ReplyError:
        raise ReplyError("ERR invalid second DB index") from None
    dbs = c.server.dbs
    if not (0 <= a < len(dbs)) or not (0 <= b < len(dbs)):
        raise DB_INDEX_OUT_OF_RANGE
    if a != b:
        da, db_ = dbs[a], dbs[b]
        _touch_watched_swapped(da, db_)
        _touch_watched_swapped(db_, da)
        blocking = c.server.blocking
        if blocking.has_waiters:
            # scanDatabaseForDeletedKeys: a stream that leaves a database (or changes type) wakes its
            # blocked XREADGROUP clients
            for d, other in ((da, db_), (db_, da)):
                for dbid, key in list(blocking.waiters):
                    old = d.data.get(key) if dbid == d.id else None
                    if old is not None and type(other.data.get(key)) is not type(old):
                        d.signal_deleted(key, old)
        da.data, db_.data = db_.data, da.data
        da.expires, db_.expires = db_.expires, da.expires
        c.server.state_changed()
        da._expire_scan, db_._expire_scan = [], []
        da.avg_ttl, db_.avg_ttl = db_.avg_ttl, da.avg_ttl
        for d in (da, db_):
            for key in list(d.data):
                if (d.id, key) in c.server.blocking.waiters:
                    d.signal_ready(key)
    c.server.dirty += 1
    return OK


@command("time", 1, "loading stale fast", group="server", since="2.6.0", summary="Returns the server time.")
def time_(c: Client, argv: list[bytes]) -> Any:
    now = time.time()
    secs = int(now)
    return [str(secs).encode(), str(int((now - secs) * 1_000_000)).encode()]


@command("info", -1, "loading stale sentinel", group="server", since="1.0.0",
         summary="Returns information and statistics about the server.")
def info(c: Client, argv: list[bytes]) -> Any:
    # a verbatim "txt" string in RESP3, a bulk string in RESP2 (addReplyVerbatim)
    return Verbatim(info_mod.generate(c.server, argv[1:]))


def parse_shutdown_flags(argv: list[bytes]) -> dict[str, bool]:
    """SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] as Redis' shutdownCommand checks them."""
    opts: dict[str, bool] = {}
    for a in argv[1:]:
        w = a.lower()
        if w in (b"nosave", b"save", b"now", b"force", b"abort"):
            opts[w.decode()] = True
        else:
            raise SYNTAX_ERROR
    if (opts.get("abort") and len(opts) > 1) or (opts.get("nosave") and opts.get("save")):
        raise SYNTAX_ERROR
    return opts


@command("shutdown", -1, "admin noscript loading stale no-multi sentinel allow-busy", group="server",
         since="1.0.0", summary="Synchronously saves the database(s) to disk and shuts down the Redis server.")
def shutdown(c: Client, argv: list[bytes]) -> Any:
    opts: dict[str, Any] = dict(parse_shutdown_flags(argv))
    server = c.server
    if opts.get("abort"):
        abort = server.extras.get("shutdown_abort")
        if abort is None or not abort():
            raise ReplyError("ERR No shutdown in progress.")
        return OK
    hook = server.shutdown_asap
    opts["client"] = c  # a final save in a child blocks this client until it ends
    if hook is None or not hook(opts):
        raise ReplyError("ERR Errors trying to SHUTDOWN. Check logs.")
    # no reply: the connection closes as the server stops (or, while waiting for
    # replicas, stays blocked until the shutdown completes or is aborted)
    return BLOCKED
