"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis' multi.c semantics).

Commands are queued by the executor while ``client.in_multi``; an error while
queueing (unknown command, wrong arity) makes EXEC answer EXECABORT.  WATCHed
keys are invalidated by ``Database.signal_modified`` from any client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import NULL_ARRAY, OK, ReplyError
from ..db import mstime
from .table import command

if TYPE_CHECKING:
    from ..context import Client


def discard_transaction(c: Client) -> None:
    c.in_multi = False
    c.multi_queue = []
    c.multi_error = False
    unwatch_all(c)


def unwatch_all(c: Client) -> None:
    for db, key in c.watched:
        s = db.watched.get(key)
        if s is not None:
            s.discard(c)
            if not s:
                del db.watched[key]
    c.watched = []
    c.dirty_cas = False
    c.watch_expired = set()


@command("multi", 1, "noscript loading stale fast no-multi allow-busy", group="transactions",
         summary="Starts a transaction.")
def multi(c: Client, argv: list[bytes]) -> Any:
    if c.in_multi:
        raise ReplyError("ERR MULTI calls can not be nested")
    c.in_multi = True
    c.multi_queue = []
    c.multi_error = False
    return OK


@command("discard", 1, "noscript loading stale fast allow-busy", group="transactions",
         summary="Discards a transaction.")
def discard(c: Client, argv: list[bytes]) -> Any:
    if not c.in_multi:
        raise ReplyError("ERR DISCARD without MULTI")
    discard_transaction(c)
    return OK


def _watched_key_expired(c: Client) -> bool:
    """A WATCHed key that was alive at WATCH time and has expired since aborts EXEC."""
    now = mstime()
    already = c.watch_expired
    for db, key in c.watched:
        when = db.expires.get(key)
        if when is not None and when <= now and (db.id, key) not in already and key in db.data:
            return True
    return False


@command("exec", 1, "noscript loading stale skip-slowlog", group="transactions",
         summary="Executes all commands in a transaction.")
def exec_(c: Client, argv: list[bytes]) -> Any:
    if not c.in_multi:
        raise ReplyError("ERR EXEC without MULTI")
    if c.multi_error:
        discard_transaction(c)
        raise ReplyError("EXECABORT Transaction discarded because of previous errors.")
    if c.dirty_cas or _watched_key_expired(c):
        discard_transaction(c)
        return NULL_ARRAY
    from ..executor import call

    queue = c.multi_queue
    c.in_multi = False
    c.multi_queue = []
    unwatch_all(c)
    server = c.server
    replies: list[Any] = []
    c.in_exec = True
    wrapped = False
    try:
        for cmd, args in queue:
            if (not wrapped and server.propagate_hook is not None and
                    ("write" in cmd.flags or (cmd.group == "scripting" and "readonly" not in cmd.flags))):
                # a script's writes are propagated as the commands it ran: inside the MULTI
                server.propagate(c.db.id, [b"MULTI"])
                wrapped = True
            if server.is_replica_of_master and "write" in cmd.flags and not c.is_master and \
                    server.config["replica-read-only"]:
                replies.append(ReplyError("READONLY You can't write against a read only replica."))
                continue
            if c.acl_restricted:
                denied = _acl_recheck(c, cmd, args)
                if denied is not None:
                    replies.append(denied)
                    continue
            replies.append(call(c, cmd, args))
    finally:
        c.in_exec = False
    if wrapped:
        server.propagate(c.db.id, [b"EXEC"])
    return replies


def _acl_recheck(c: Client, cmd: Any, args: list[bytes]) -> ReplyError | None:
    """execCommand: rules may have changed since the command was queued."""
    from ..acl import CTX_MULTI, DENIED_CMD, error_message
    from ..acl import OK as ACL_OK

    acl = c.server.acl
    user = c.acl_user or acl.default
    result, pos = user.check(cmd, args)
    if result == ACL_OK:
        return None
    acl.add_log(c, result, CTX_MULTI, obj=cmd.fullname.encode() if result == DENIED_CMD else args[pos])
    return ReplyError(b"NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
                      b"call. This command is no longer allowed for the following reason: "
                      + error_message(result, user, cmd, args[pos], True))


@command("watch", -2, "noscript loading stale fast allow-busy", keys=(1, -1, 1), group="transactions",
         summary="Monitors changes to keys to determine the execution of a transaction.")
def watch(c: Client, argv: list[bytes]) -> Any:
    if c.in_multi:
        raise ReplyError("ERR WATCH inside MULTI is not allowed")
    now = mstime()
    for key in argv[1:]:
        db = c.db
        if (db, key) in c.watched:
            continue
        c.watched.append((db, key))
        db.watched.setdefault(key, set()).add(c)
        when = db.expires.get(key)
        if when is not None and when <= now:
            c.watch_expired.add((db.id, key))
    return OK


@command("unwatch", 1, "noscript loading stale fast allow-busy", group="transactions",
         summary="Forgets about watched keys of a transaction.")
def unwatch(c: Client, argv: list[bytes]) -> Any:
    unwatch_all(c)
    return OK
