"""BGREWRITEAOF: rewrite the append-only file in a forked child."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import ReplyError, Status
from .table import command

if TYPE_CHECKING:
    from ..context import Client


@command("bgrewriteaof", 1, "admin noscript no-async-loading", group="server", since="1.0.0",
         summary="Asynchronously rewrites the append-only file to disk.")
def bgrewriteaof(c: Client, argv: list[bytes]) -> Any:
    aof = c.server.extras.get("aof")
    if aof is None:
        raise ReplyError("ERR AOF is not available")
    if aof.child_pid:
        raise ReplyError("ERR Background append only file rewriting already in progress")
    if aof._other_child():
        aof.rewrite_scheduled = True
        return Status(b"Background append only file rewriting scheduled")
    if not aof.start_rewrite():
        raise ReplyError("ERR Can't execute an AOF background rewriting. Please check the server logs for more "
                         "information.")
    return Status(b"Background append only file rewriting started")
