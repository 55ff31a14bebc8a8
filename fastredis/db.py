"""A keyspace: values, expiry times, lazy/active expiry, WATCH and readiness signals.

Values are plain Python objects: ``bytes``/``bytearray`` (string), ``deque`` (list),
``dict`` (hash), ``set`` (set), ``types.zset.ZSet`` (zset), ``types.stream.Stream``
(stream).  The database never imports the server: the server context that owns
it is handed in and used only through the small hook interface below.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

from ._resp import ReplyError
from .pubsub import NOTIFY_NEW

if TYPE_CHECKING:
    from .context import ServerContext

WRONGTYPE = ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value")


def mstime() -> int:
    """Wall-clock milliseconds, the unit of every expiry."""
    return int(time.time() * 1000)


_TYPE_NAMES: dict[type, str] = {bytes: "string", bytearray: "string", deque: "list", dict: "hash", set: "set"}


def register_type(cls: type, name: str) -> None:
    """Let a value class (zset, stream) report its Redis type name."""
    _TYPE_NAMES[cls] = name


def type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), "none")


class Database:
    """One numbered keyspace (SELECT n)."""

    __slots__ = ("id", "data", "expires", "watched", "server", "_expire_scan", "avg_ttl", "expired_stale_perc",
                 "access")

    def __init__(self, dbid: int, server: ServerContext) -> None:
        self.id = dbid
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        self.watched: dict[bytes, set[Any]] = {}
        self.server = server
        self._expire_scan: list[bytes] = []
        self.avg_ttl = 0
        self.expired_stale_perc = 0.0
        # key -> LRU clock / LFU counter while an LRU/LFU maxmemory policy is set (memory.py)
        self.access: dict[bytes, int] | None = None

    def __len__(self) -> int:
        return len(self.data)

    # -- expiry ---------------------------------------------------------------

    def expire_if_needed(self, key: bytes) -> bool:
        """Drop ``key`` when its time has passed; True when it is (logically) gone.

        A replica never deletes on its own: it reports the key as missing and
        waits for the master's DEL, like Redis.
        """
        when = self.expires.get(key)
        if when is None or when > mstime():
            return False
        server = self.server
        if server.loading:
            # like Redis' keyIsExpired: nothing expires while loading (a RENAME replayed from
            # the AOF must find a key whose PXAT has passed since); active expiry catches up
            return False
        if server.is_replica_of_master:
            # commands from our master see the key as stored (its DEL must remove it)
            repl = server.extras.get("replication")
            if repl is not None and repl.master.applying_master_stream:
                return False
            return True
        if server.paused_expiry:
            return True
        self.delete_expired(key)
        return True

    def delete_expired(self, key: bytes) -> None:
        """Delete a key because it expired: stats, event, propagation as DEL."""
        old = self.data.pop(key, None)
        server = self.server
        if old is not None:
            self.signal_deleted(key, old)
            if type(old) is not bytes:
                server.lazyfree.free_value(old, server.config["lazyfree-lazy-expire"])
            del old
        self.expires.pop(key, None)
        server.stats.expired_keys += 1
        clients = self.watched.get(key)
        if clients:
            # touchWatchedKey: for a client that WATCHed the key when it had already expired, its
            # deletion is no logical change (the flag is cleared: a later write does touch it)
            me = (self.id, key)
            for c in clients:
                if me in c.watch_expired:
                    c.watch_expired.discard(me)
                else:
                    c.dirty_cas = True
        server.notify(b"x", b"expired", key, self.id)
        server.propagate_expired(self.id, key)

    # -- lookups ----------------------------------------------------------------

    def get(self, key: bytes) -> Any:
        """Read lookup: expiry, keyspace hit/miss stats."""
        if key in self.expires and self.expire_if_needed(key):
            server = self.server
            server.stats.keyspace_misses += 1
            if server.notify_flags:
                server.notify(b"m", b"keymiss", key, self.id)
            return None
        v = self.data.get(key)
        if v is None:
            server = self.server
            server.stats.keyspace_misses += 1
            if server.notify_flags:
                server.notify(b"m", b"keymiss", key, self.id)
        else:
            self.server.stats.keyspace_hits += 1
        return v

    def get_for_write(self, key: bytes) -> Any:
        """Write lookup: expiry only."""
        if key in self.expires and self.expire_if_needed(key):
            return None
        return self.data.get(key)

    def peek(self, key: bytes) -> Any:
        """Lookup without stats (for commands like TYPE, EXISTS)."""
        if key in self.expires and self.expire_if_needed(key):
            return None
        return self.data.get(key)

    def get_typed(self, key: bytes, cls: type | tuple[type, ...], write: bool = False) -> Any:
        """Lookup that raises WRONGTYPE when the value is not a ``cls``."""
        v = self.get_for_write(key) if write else self.get(key)
        if v is not None and not isinstance(v, cls):
            raise WRONGTYPE
        return v

    def exists(self, key: bytes) -> bool:
        if key in self.expires and self.expire_if_needed(key):
            return False
        return key in self.data

    # -- writes ---------------------------------------------------------------

    def set(self, key: bytes, value: Any, keepttl: bool = False) -> None:
        """Add or overwrite (setKey): the TTL goes unless ``keepttl``; a new key emits ``new``."""
        if self.server.notify_flags & NOTIFY_NEW and key not in self.data:
            self.server.notify(b"n", b"new", key, self.id)
        data = self.data
        old = data.get(key)
        if old is not None and old is not value:
            if self.server.blocking.has_waiters:
                self.signal_deleted(key, old)
            data[key] = value
            if type(old) is not bytes:
                # dbSetValue's overwrite: big values are freed in slices (lazyfree-lazy-server-del)
                server = self.server
                server.lazyfree.free_value(old, server.config["lazyfree-lazy-server-del"])
            del old
        else:
            data[key] = value
        if not keepttl and key in self.expires:
            del self.expires[key]

    def add(self, key: bytes, value: Any) -> None:
        """Store a new value under a key known to be absent (dbAdd: emits the ``new`` event)."""
        if self.server.notify_flags & NOTIFY_NEW:
            self.server.notify(b"n", b"new", key, self.id)
        self.data[key] = value

    def delete(self, key: bytes, lazy: bool | None = None) -> bool:
        """Remove a key; True when it existed (expired keys count as absent).

        A big value is freed in slices by ``lazyfree``; ``lazy`` says whether Redis would free
        it asynchronously (UNLINK, DEL under lazyfree-lazy-user-del); None: a server-side
        delete (lazyfree-lazy-server-del).
        """
        if key in self.expires:
            if self.expire_if_needed(key):
                return False
            del self.expires[key]
        old = self.data.pop(key, None)
        if old is None:
            return False
        self.signal_deleted(key, old)
        if type(old) is not bytes:
            server = self.server
            if lazy is None:
                lazy = server.config["lazyfree-lazy-server-del"]
            server.lazyfree.free_value(old, lazy)
        return True

    def drop_if_empty(self, key: bytes, value: Any) -> bool:
        """Delete a collection its last element just left, with the ``del`` event (Redis keeps no empty keys)."""
        if value:
            return False
        self.delete(key)
        self.changed(key, b"del", b"g", 0)
        return True

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms

    def get_expire(self, key: bytes) -> int | None:
        return self.expires.get(key)

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def clear(self, lazy: bool = False) -> int:
        """Empty the keyspace (FLUSHDB); returns how many keys were removed.

        Fresh dicts replace the old ones, which ``lazyfree`` frees in slices (counted as
        Redis' emptyDbAsync when ``lazy``).
        """
        n = len(self.data)
        # touchAllWatchedKeysInDb: only keys that exist are touched, and deleting a key that had
        # already expired when it was WATCHed is no logical change
        data = self.data
        for key, clients in list(self.watched.items()):
            if key in data:
                for c in clients:
                    if (self.id, key) not in c.watch_expired:
                        c.dirty_cas = True
        blocking = self.server.blocking
        if blocking.has_waiters:
            for dbid, key in list(blocking.waiters):
                if dbid == self.id and key in self.data:
                    self.signal_deleted(key, self.data[key])
        old_data, old_expires = self.data, self.expires
        self.data = {}
        self.expires = {}
        if self.access is not None:
            self.access = {}
        self.server.lazyfree.free_keyspace(old_data, old_expires, lazy)
        del old_data, old_expires
        self.server.state_changed()  # connections re-read the dicts (see _dispatch._epoch)
        self._expire_scan = []
        self.avg_ttl = 0
        return n

    # -- signals --------------------------------------------------------------

    def signal_modified(self, key: bytes) -> None:
        """signalModifiedKey: invalidate WATCHes on ``key``."""
        clients = self.watched.get(key)
        if clients:
            for c in clients:
                c.dirty_cas = True

    def signal_deleted(self, key: bytes, old: Any) -> None:
        """signalDeletedKeyAsReady: a stream that goes away (or is overwritten) wakes the clients
        blocked on it, so a blocked XREADGROUP can answer -NOGROUP / -WRONGTYPE as Redis 7.2 does."""
        server = self.server
        if server.blocking.has_waiters and _TYPE_NAMES.get(type(old)) == "stream":
            server.blocking.signal_ready(self, key)

    def signal_ready(self, key: bytes) -> None:
        """A key that blocked clients may wait on got data (push, add, rename...)."""
        server = self.server
        if server.blocking.has_waiters:
            server.blocking.signal_ready(self, key)

    def changed(self, key: bytes, event: bytes, klass: bytes, dirty: int = 1) -> None:
        """After a write: WATCH invalidation, keyspace event, dirty counter."""
        clients = self.watched.get(key)
        if clients:
            for c in clients:
                c.dirty_cas = True
        server = self.server
        server.dirty += dirty
        if server.notify_flags:
            server.notify(klass, event, key, self.id)

    # -- active expiry ----------------------------------------------------------

    def active_expire(self, now_ms: int, budget: int) -> int:
        """Look at up to ``budget`` keys with a TTL and delete the expired ones."""
        if not self.expires:
            return 0
        scan = self._expire_scan
        if not scan:
            scan = self._expire_scan = list(self.expires)
            scan.reverse()
        expired = 0
        looked = 0
        expires = self.expires
        ttl_sum = 0
        ttl_n = 0
        while scan and looked < budget:
            key = scan.pop()
            when = expires.get(key)
            if when is None:
                continue
            looked += 1
            if when <= now_ms:
                self.delete_expired(key)
                expired += 1
            else:
                ttl_sum += when - now_ms
                ttl_n += 1
        if ttl_n:
            avg = ttl_sum // ttl_n
            if self.avg_ttl == 0:
                self.avg_ttl = avg
            self.avg_ttl = (self.avg_ttl // 50) * 49 + avg // 50
        if looked:
            self.expired_stale_perc = expired / looked * 0.05 + self.expired_stale_perc * 0.95
        return expired
