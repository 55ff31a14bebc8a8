"""One mechanism for every blocking command (BLPOP, BZPOPMIN, XREAD BLOCK, ...).

A handler that finds nothing to serve returns ``block(client, keys, timeout_ms,
retry, timeout_reply)``.  The client stops processing input; when a write calls
``db.signal_ready(key)`` the waiters on that key are retried in the order they
blocked, after the command that made the key ready has finished, as Redis does.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._resp import ReplyError

if TYPE_CHECKING:
    from .context import Client, ServerContext
    from .db import Database


class _Blocked:
    """The marker a handler returns to say 'this client now waits'."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "BLOCKED"


BLOCKED = _Blocked()

TIMEOUT_NOT_FLOAT = ReplyError("ERR timeout is not a float or out of range")
TIMEOUT_NEGATIVE = ReplyError("ERR timeout is negative")
TIMEOUT_NOT_INT = ReplyError("ERR timeout is not an integer or out of range")


TIMEOUT_OUT_OF_RANGE = ReplyError("ERR timeout is out of range")
LLONG_MAX = 2**63 - 1


def _strtold(text: str) -> float | None:
    """strtold as Redis' string2ld uses it: decimal or hex floats, inf; no NaN, no spaces."""
    if not text or text[0].isspace() or text[-1].isspace():
        return None
    body = text.lstrip("+-")
    try:
        if body[:2].lower() == "0x":
            v = float.fromhex(text)
        else:
            v = float(text)
    except ValueError:
        return None
    if v != v or "_" in text:
        return None
    return v


def parse_timeout(arg: bytes, unit_seconds: bool = True) -> int:
    """Parse a blocking timeout to milliseconds (0 = forever) like getTimeoutFromObjectOrReply."""
    if unit_seconds:
        try:
            secs = _strtold(arg.decode("ascii"))
        except UnicodeDecodeError:
            secs = None
        if secs is None:
            raise TIMEOUT_NOT_FLOAT
        ms_f = secs * 1000.0
        if ms_f > LLONG_MAX:
            raise TIMEOUT_OUT_OF_RANGE
        if ms_f < 0:
            raise TIMEOUT_NEGATIVE
        ms = math.ceil(ms_f)
    else:
        from ._resp import string2ll

        v = string2ll(arg)
        if v is None:
            raise TIMEOUT_NOT_INT
        ms = int(v)
    if ms < 0:
        raise TIMEOUT_NEGATIVE
    if ms > 0 and ms > LLONG_MAX - int(time.time() * 1000):
        raise TIMEOUT_OUT_OF_RANGE
    return ms


class Waiter:
    """One blocked client and what to do when its keys become ready."""

    __slots__ = ("client", "db", "keys", "retry", "timeout_reply", "timer", "since")

    def __init__(self, client: Client, db: Database, keys: list[bytes],
                 retry: Callable[[Client], Any], timeout_reply: Any) -> None:
        self.client = client
        self.db = db
        self.keys = keys
        self.retry = retry
        self.timeout_reply = timeout_reply
        self.timer: asyncio.TimerHandle | None = None


class BlockingState:
    """Waiters by (db, key), the ready-key queue, timeouts and unblocking."""

    def __init__(self, server: ServerContext) -> None:
        self.server = server
        self.waiters: dict[tuple[int, bytes], deque[Waiter]] = {}
        self.ready: dict[tuple[int, bytes], Database] = {}
        self.has_waiters = False
        self.blocked_clients = 0

    def block(self, c: Client, keys: list[bytes], timeout_ms: int,
              retry: Callable[[Client], Any], timeout_reply: Any) -> Any:
        """Park ``c`` until ``retry(c)`` returns a reply (not None) or time runs out.

        Inside MULTI/EXEC, or for the master link, nothing blocks: the timeout
        reply is returned at once, as Redis does.
        """
        if c.in_exec or c.is_master:
            return timeout_reply() if callable(timeout_reply) else timeout_reply
        w = Waiter(c, c.db, list(dict.fromkeys(keys)), retry, timeout_reply)
        for key in w.keys:
            self.waiters.setdefault((c.db.id, key), deque()).append(w)
        self.has_waiters = True
        self.server.state_changed()
        self.blocked_clients += 1
        c.blocked = w
        if timeout_ms > 0:
            loop = asyncio.get_event_loop()
            w.timer = loop.call_later(timeout_ms / 1000.0, self._timeout, w)
        return BLOCKED

    def _remove(self, w: Waiter) -> None:
        for key in w.keys:
            q = self.waiters.get((w.db.id, key))
            if q is not None:
                try:
                    q.remove(w)
                except ValueError:
                    pass
                if not q:
                    del self.waiters[(w.db.id, key)]
        if w.timer is not None:
            w.timer.cancel()
            w.timer = None
        if w.client.blocked is w:
            w.client.blocked = None
            self.blocked_clients -= 1
        if self.has_waiters != bool(self.waiters):
            self.has_waiters = not self.has_waiters
            self.server.state_changed()

    def finish(self, w: Waiter, reply: Any) -> None:
        """Wake a waiter with ``reply`` (used by WAIT, which waits on acks, not keys)."""
        self._finish(w, reply)

    def _finish(self, w: Waiter, reply: Any) -> None:
        self._remove(w)
        c = w.client
        c.send_reply(reply)
        c.resume()

    def _timeout(self, w: Waiter) -> None:
        w.timer = None
        if w.client.blocked is w:
            reply = w.timeout_reply
            self._finish(w, reply() if callable(reply) else reply)

    def unblock(self, c: Client, error: bool = False) -> bool:
        """CLIENT UNBLOCK: reply as on timeout, or with -UNBLOCKED."""
        w = c.blocked
        if w is None:
            return False
        reply = ReplyError("UNBLOCKED client unblocked via CLIENT UNBLOCK") if error else w.timeout_reply
        if callable(reply):
            reply = reply()
        self._finish(w, reply)
        return True

    def drop(self, c: Client) -> None:
        """The client went away while blocked."""
        if c.blocked is not None:
            self._remove(c.blocked)

    def signal_ready(self, db: Database, key: bytes) -> None:
        k = (db.id, key)
        if k in self.waiters:
            self.ready[k] = db

    def handle_ready(self) -> None:
        """Serve waiters on every key made ready, in blocking order, until none is."""
        while self.ready:
            ready = self.ready
            self.ready = {}
            for k in ready:
                q = self.waiters.get(k)
                if not q:
                    continue
                for w in list(q):
                    if w.client.blocked is not w:
                        continue
                    c = w.client
                    saved = c.db
                    c.db = w.db
                    try:
                        reply = w.retry(c)
                    except ReplyError as e:
                        e.__traceback__ = None  # shared constants: see executor.call
                        reply = e
                    finally:
                        if c.db is w.db:
                            c.db = saved
                    if reply is None:
                        continue
                    self._finish(w, reply)
