"""Freeing big values and flushed keyspaces in slices of the event loop (Redis' lazyfree).

Why it is shaped so: Redis frees a big value (or a whole flushed database) in a background
thread.  In Python that does not help: dropping the last reference to a container frees all
its elements in one C call that holds the GIL, so a 10M-element set or a 1M-key flushed
keyspace would stall every client for a second wherever that call runs.  Instead the value
leaves the keyspace at once (the key is gone for every client) and is handed here; its
elements are then popped a few thousand at a time, in callbacks the loop runs between two
rounds of I/O, each slice bounded in time.

Two questions are kept apart:

- *Is it on Redis' lazy path?*  Only then is it counted, exactly as Redis counts it: a value
  whose free effort (``free_effort``, lazyfreeGetFreeEffort) is above ``LAZYFREE_THRESHOLD``
  freed by UNLINK, or by DEL / expiry / server-side deletes / eviction when the matching
  ``lazyfree-lazy-*`` config is on, adds one to ``lazyfree_pending_objects`` until it is
  gone, then one to ``lazyfreed_objects``; an asynchronous flush adds the number of keys.
- *Is it big for Python?*  A value with more than ``SLICE`` elements is dismantled in slices
  whatever the path (a synchronous DEL of a huge set must not stall either); smaller ones
  are simply dropped.

A value handed here is emptied in place, so nothing may keep a reference to a keyspace
value (or a replaced keyspace dict) across loop iterations; a value that is still shared
when its turn comes (its reference count says so) is only released, never emptied.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from .db import type_name
from .encoding import list_fits_listpack, lp_entry_size

if TYPE_CHECKING:
    from .context import ServerContext

LAZYFREE_THRESHOLD = 64  # Redis: below this effort, freeing asynchronously is just slower
SLICE = 4096  # elements popped between two clock checks
SLICE_SECONDS = 0.002  # one callback's budget: the loop serves I/O in between
_BIG = SLICE  # more elements than this: dismantled in slices, not dropped at once
_LIST_NODE_BYTES = (4096, 8192, 16384, 32768, 65536)  # list-max-listpack-size -1..-5
_STREAM_NODE_ENTRIES = 100


def free_effort(value: Any, config: Any) -> int:
    """lazyfreeGetFreeEffort: quicklist nodes, hashtable/skiplist elements, stream nodes; else 1.

    Computed in bounded time (a sample of a list's elements sizes its nodes).
    """
    t = type(value)
    if t is bytes or t is bytearray:
        return 1
    n = len(value)
    if n <= 1:
        return 1
    if t is deque:
        fill = config["list-max-listpack-size"]
        if fill > 0:
            nodes = -(-n // fill)
            return nodes if nodes > 1 else 1
        limit = _LIST_NODE_BYTES[min(-fill - 1, 4)] if fill < 0 else 8192
        sample = [value[i] for i in range(0, n, max(1, n // 16))][:16]
        avg = sum(lp_entry_size(e) for e in sample) / len(sample)
        if n <= 128 and list_fits_listpack(int(avg * n) + 7, n, fill):
            return 1
        per_node = max(1, int(limit // max(avg, 1.0)))
        return max(1, -(-n // per_node))
    if n <= LAZYFREE_THRESHOLD:
        return 1 if t is not set and t is not dict else _small_effort(value, config)
    name = type_name(value)
    if name == "set":
        if n > config["set-max-listpack-entries"] and n > config["set-max-intset-entries"]:
            return n
        from .encoding import set_encoding

        return n if set_encoding(value, config) == "hashtable" else 1
    if name == "hash":
        if n > config["hash-max-listpack-entries"]:
            return n
        from .encoding import hash_encoding

        return n if hash_encoding(value, config) == "hashtable" else 1
    if name == "zset":
        return n if getattr(value, "big", False) else 1
    if name == "stream":
        effort = -(-n // max(1, config["stream-node-max-entries"] or _STREAM_NODE_ENTRIES))
        groups = getattr(value, "groups", None)
        if groups:
            first = next(iter(groups.values()))
            effort += len(groups) * (1 + len(getattr(first, "pel", ()) or ()))
        return effort
    return 1


def _small_effort(value: Any, config: Any) -> int:
    """At most LAZYFREE_THRESHOLD elements: never above the threshold, whatever the encoding."""
    return len(value)


def _size(value: Any) -> int:
    """How many Python objects dropping ``value`` frees (what costs time here)."""
    t = type(value)
    if t is bytes or t is bytearray:
        return 1
    try:
        return len(value)
    except TypeError:
        return 1


class LazyFree:
    """The queue of values (and replaced keyspace dicts) being freed in slices."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.pending_objects = 0  # INFO lazyfree_pending_objects
        self.freed_objects = 0  # INFO lazyfreed_objects
        # (object, kind, counted): kind "value" or "keys" (a keyspace dict: its values may be big)
        self.queue: deque[tuple[Any, str, int]] = deque()
        self._current: tuple[Any, str, int] | None = None
        self._scheduled = False
        self._frozen = False

    # -- entry points ---------------------------------------------------------

    def free_value(self, value: Any, lazy: bool) -> None:
        """A value just left the keyspace; ``lazy`` when Redis would free it asynchronously."""
        if type(value) is bytes:
            return
        if lazy and free_effort(value, self.ctx.config) > LAZYFREE_THRESHOLD:
            self.pending_objects += 1
            self._push((value, "value", 1))
        elif _size(value) > _BIG:
            self._push((value, "value", 0))

    def free_keyspace(self, data: dict[bytes, Any], expires: dict[bytes, int], lazy: bool) -> None:
        """A flushed database's old dicts (emptyDbAsync counts every key as one object)."""
        n = len(data)
        counted = n if lazy else 0
        self.pending_objects += counted
        if n > _BIG or counted:
            self._push((data, "keys", counted))
        elif n:
            for value in data.values():  # a small keyspace may still hold a huge value
                if _size(value) > _BIG:
                    self._push((value, "value", 0))
        if len(expires) > _BIG:
            self._push((expires, "value", 0))

    def busy(self) -> bool:
        return bool(self.queue) or self._current is not None

    def drain(self) -> None:
        """Free everything now (shutdown, tests of the sync path)."""
        while self.busy():
            self._step(float("inf"))
        self._run()

    # -- the slices -------------------------------------------------------------

    def _push(self, job: tuple[Any, str, int]) -> None:
        self.queue.append(job)
        if not self._frozen:
            # a freshly built big container sits in a young generation, and every young collection
            # would traverse what is left of it (hundreds of ms for millions of elements): move
            # everything to the permanent generation (O(1)) until the queue is drained
            self._frozen = True
            gc.freeze()
        if not self._scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (a loader thread): free it in the next slice of the cron
                return
            self._scheduled = True
            loop.call_soon(self._run)

    def cron(self) -> None:
        """Called by the server cron: restarts the slices for jobs queued outside the loop."""
        if self.busy() and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        self._scheduled = False
        self._step(time.perf_counter() + SLICE_SECONDS)
        if self.busy():
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._run)
        elif self._frozen:
            self._frozen = False
            from .persistence import fork

            if not fork._live_children:  # a snapshot child keeps the freeze (fork.child_reaped ends it)
                gc.unfreeze()

    def _step(self, deadline: float) -> None:
        perf = time.perf_counter
        while True:
            job = self._current
            if job is None:
                if not self.queue:
                    return
                job = self.queue.popleft()
                # shared (still referenced elsewhere): only release it, never empty it in place;
                # refs: the job tuple and getrefcount's argument
                if job[1] == "value" and sys.getrefcount(job[0]) > 2:
                    self._done(job)
                    continue
                self._current = job
            obj, kind, _counted = job
            try:
                emptied = self._dismantle(obj, kind)
            except (KeyError, IndexError):  # emptied meanwhile by its other owner (a loader thread)
                emptied = True
            if emptied:
                self._current = None
                self._done(job)
            if perf() >= deadline:
                return

    def _done(self, job: tuple[Any, str, int]) -> None:
        counted = job[2]
        if counted:
            self.pending_objects -= counted
            self.freed_objects += counted

    def _dismantle(self, obj: Any, kind: str) -> bool:
        """Pop up to SLICE elements of ``obj``; True once it is empty."""
        t = type(obj)
        k = SLICE
        if t is dict:
            pop = obj.popitem
            if kind == "keys":
                for _ in range(min(k, len(obj))):
                    value = pop()[1]
                    if type(value) is not bytes and _size(value) > _BIG:
                        self.queue.append((value, "value", 0))
                    del value
            else:
                for _ in range(min(k, len(obj))):
                    pop()
            return not obj
        if t is set:
            spop = obj.pop
            for _ in range(min(k, len(obj))):
                spop()
            return not obj
        if t is deque:
            dpop = obj.pop
            for _ in range(min(k, len(obj))):
                dpop()
            return not obj
        if t is list:
            del obj[-k:]
            return not obj
        name = type_name(obj)
        if name == "zset":
            # the member -> score dict first, then the sorted list of (score, member) pairs
            if obj.dict:
                return self._dismantle(obj.dict, "value") and not obj.sl
            sl = obj.sl
            n = len(sl)
            if n == 0:
                return True
            lists = getattr(sl, "_lists", None)
            if lists is not None:  # sortedcontainers.SortedList: drop whole sublists
                while lists and k > 0:
                    k -= len(lists[-1])
                    lists.pop()
                if not lists:
                    sl.clear()
                    return True
                return False
            sl.clear()
            return True
        if name == "stream":
            entries = obj.entries
            if entries:
                for _ in range(min(k, len(entries))):
                    entries.popitem()
                return False
            if obj.groups:
                obj.groups.clear()
            return True
        return True  # anything else is one allocation: dropping our reference frees it
