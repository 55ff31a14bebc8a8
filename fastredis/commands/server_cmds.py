"""Server commands: FLUSHDB, FLUSHALL, DBSIZE, SWAPDB, TIME, LASTSAVE, SHUTDOWN."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError
from .table import DB_INDEX_OUT_OF_RANGE, SYNTAX_ERROR, command, parse_int

if TYPE_CHECKING:
    from ..context import Client


def _flush_mode(argv: list[bytes]) -> None:
    if len(argv) > 2:
        raise SYNTAX_ERROR
    if len(argv) == 2 and argv[1].lower() not in (b"async", b"sync"):
        raise SYNTAX_ERROR


@command("flushdb", -1, "write", group="server", summary="Remove all keys from the current database.")
def flushdb(c: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv)
    n = c.db.clear()
    c.server.dirty += n
    c.propagate_argv = [[b"FLUSHDB"]]
    c.server.dirty += 1
    return OK


@command("flushall", -1, "write", group="server", summary="Removes all keys from all databases.")
def flushall(c: Client, argv: list[bytes]) -> Any:
    _flush_mode(argv)
    total = 0
    for db in c.server.dbs:
        total += db.clear()
    c.server.dirty += total + 1
    c.propagate_argv = [[b"FLUSHALL"]]
    hook = c.server.extras.get("after_flushall")
    if hook is not None:
        hook()
    return OK


@command("dbsize", 1, "readonly fast", group="server", summary="Returns the number of keys in the database.")
def dbsize(c: Client, argv: list[bytes]) -> Any:
    return len(c.db.data)


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
        for d in (da, db_):
            for key in list(d.watched):
                d.signal_modified(key)
        da.data, db_.data = db_.data, da.data
        da.expires, db_.expires = db_.expires, da.expires
        da._expire_scan, db_._expire_scan = [], []
        for d in (da, db_):
            for key in list(d.watched):
                d.signal_modified(key)
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
