"""What the dataset costs in memory, and maxmemory's eviction.

Python has no cheap running count of allocated bytes, and the process' resident
memory does not shrink when keys go (freed blocks stay in pymalloc's arenas for
reuse), so neither can drive eviction.  Instead:

* ``value_size(key, value)`` estimates what one key costs in *this* interpreter:
  the object sizes ``sys.getsizeof`` reports, rounded to the allocator's classes,
  plus the keyspace dict's per-entry share.  MEMORY USAGE reports it.
* ``MemoryTracker.dataset_bytes()`` is keys x the mean size of a sample of keys,
  re-sampled at most every 100 ms (and whenever the key count moved by an eighth),
  so a check costs a few additions.  ``used_memory`` is the start-up footprint
  plus that estimate, the figure maxmemory is compared with, which falls as keys
  are evicted.
* Eviction follows Redis' evict.c: sample ``maxmemory-samples`` keys (from all keys
  or the volatile ones) into a pool of 16 kept sorted by idle time / frequency /
  TTL, evict the best, until under the limit or ``maxmemory-eviction-tenacity``'s
  time budget is spent.  Random keys come from a key snapshot refreshed as it goes
  stale, so a draw is O(1) instead of a walk over the dict.
* Access bookkeeping (LRU clock in seconds, or LFU counter + decay minutes) is a
  per-database dict ``key -> int`` kept only while an LRU/LFU policy is selected;
  ``touch`` is called by the command paths for the keys a command names.
"""

from __future__ import annotations

import math
import random
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import ServerContext
    from .db import Database

_getsizeof = sys.getsizeof
DICT_ENTRY = 48  # a keyspace dict slot (hash, key, value) and its index at the usual fill
EXPIRE_ENTRY = 48 + 32  # an expires entry and its int


def _alloc(n: int) -> int:
    """pymalloc rounds small blocks to 16 bytes; large ones go to malloc (16 + header)."""
    if n <= 512:
        return (n + 15) & ~15
    return (n + 16 + 15) & ~15


def bytes_size(b: Any) -> int:
    return _alloc(_getsizeof(b))


def value_size(value: Any, samples: int = 5) -> int:
    """The value's estimated bytes; containers are sampled like Redis' MEMORY USAGE SAMPLES."""
    from collections import deque

    t = type(value)
    if t is bytes or t is bytearray:
        return bytes_size(value)
    if t is deque:
        n = len(value)
        base = _alloc(_getsizeof(value))
        return base + _sampled(value, n, samples, bytes_size)
    if t is dict:
        n = len(value)
        return _alloc(_getsizeof(value)) + _sampled(value.items(), n, samples,
                                                    lambda kv: bytes_size(kv[0]) + bytes_size(kv[1]))
    if t is set:
        n = len(value)
        return _alloc(_getsizeof(value)) + _sampled(value, n, samples, bytes_size)
    name = t.__name__
    if name == "ZSet":
        n = len(value)
        # member dict + score floats + the sorted list's (score, member) tuples and its index
        per = 24 + 32 + 56 + 16
        return _alloc(_getsizeof(value.dict)) + n * per + _sampled(value.dict, n, samples, bytes_size)
    if name == "Stream":
        n = len(value.entries)
        per_entry = 64 + 40  # the id tuple and the sorted dict's share (the field list is in sizes)

        def entry_size(item: Any) -> int:
            return per_entry + sum(bytes_size(x) for x in item[1])

        size = 600 + _sampled(value.entries.items(), n, samples, entry_size)
        for g in value.groups.values():
            size += 200 + 150 * len(getattr(g, "pel", ()))
        return size
    return _getsizeof(value)


def _sampled(items: Any, n: int, samples: int, size_of: Any) -> int:
    if n == 0:
        return 0
    if samples <= 0 or n <= samples:
        return sum(size_of(x) for x in items)
    total = 0
    k = 0
    for x in items:
        total += size_of(x)
        k += 1
        if k >= samples:
            break
    return total * n // k


def key_size(db: Database, key: bytes, value: Any, samples: int = 5) -> int:
    """MEMORY USAGE: key, value, keyspace entry and expiry entry."""
    size = DICT_ENTRY + bytes_size(key) + value_size(value, samples)
    if key in db.expires:
        size += EXPIRE_ENTRY
    return size


# --------------------------------------------------------------------------
# the dataset estimate
# --------------------------------------------------------------------------

SAMPLE_KEYS = 32


class KeySampler:
    """Random keys of one dict in O(1): draws from a snapshot of its keys, rebuilt as it goes stale."""

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.source: Any = None
        self.draws = 0

    def draw(self, d: dict[bytes, Any], n: int) -> list[bytes]:
        if not d:
            return []
        if self.source is not d or self.draws > max(64, len(self.keys) // 2) or not self.keys \
                or len(self.keys) > 2 * len(d) + 64 or len(d) > 2 * len(self.keys) + 64:
            self._rebuild(d)
        out: list[bytes] = []
        for attempt in range(2):
            keys = self.keys
            for _ in range(n * 3):
                if len(out) >= n:
                    return out
                k = keys[random.randrange(len(keys))]
                self.draws += 1
                if k in d:
                    out.append(k)
            if out or attempt:
                break
            self._rebuild(d)  # the snapshot went stale (its keys were evicted or deleted)
        return out

    def _rebuild(self, d: dict[bytes, Any]) -> None:
        self.keys = list(d)
        self.source = d
        self.draws = 0


class MemoryTracker:
    """The per-server memory estimate, eviction and access bookkeeping (``ctx.memory``)."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.startup = 0
        self.mean: dict[int, float] = {}  # db id -> mean key size of the last sample
        self.sampled_at: dict[int, tuple[float, int]] = {}
        self.samplers: dict[tuple[int, bool], KeySampler] = {}
        self.policy = "noeviction"
        self.lru = False  # an LRU policy: access dicts hold the LRU clock
        self.lfu = False
        self.track = False
        self.evicting = False
        self.pool: list[tuple[float, int, bytes]] = []
        cfg = ctx.config
        for name in ("maxmemory-policy", "maxmemory", "lfu-log-factor", "lfu-decay-time"):
            cfg.on_change(name, self._reload)
        self._reload(None)

    def _reload(self, _v: Any) -> None:
        cfg = self.ctx.config
        self.policy = cfg["maxmemory-policy"]
        self.maxmemory = int(cfg["maxmemory"])
        self.lru = self.policy.endswith("-lru")
        self.lfu = self.policy.endswith("-lfu")
        self.log_factor = int(cfg["lfu-log-factor"])
        self.decay = int(cfg["lfu-decay-time"])
        self.track = self.lru or self.lfu
        for db in self.ctx.dbs:
            if self.track and db.access is None:
                db.access = {}
            elif not self.track:
                db.access = None
        self.pool.clear()
        self.ctx.state_changed()

    # -- the estimate -------------------------------------------------------------

    def db_bytes(self, db: Database) -> int:
        n = len(db.data)
        if n == 0:
            return 0
        now = time.monotonic()
        last = self.sampled_at.get(db.id)
        if last is None or now - last[0] > 0.1 or abs(n - last[1]) * 8 > last[1] + 8:
            self._sample(db)
        return int(self.mean.get(db.id, 0.0) * n + len(db.expires) * EXPIRE_ENTRY)

    def _sample(self, db: Database) -> None:
        n = len(db.data)
        if n <= SAMPLE_KEYS:
            keys = list(db.data)
        else:
            keys = self._sampler(db.id, False).draw(db.data, SAMPLE_KEYS)
        if keys:
            data = db.data
            self.mean[db.id] = sum(DICT_ENTRY + bytes_size(k) + value_size(data[k], 5) for k in keys) / len(keys)
        self.sampled_at[db.id] = (time.monotonic(), n)

    def _sampler(self, dbid: int, volatile: bool) -> KeySampler:
        s = self.samplers.get((dbid, volatile))
        if s is None:
            s = self.samplers[(dbid, volatile)] = KeySampler()
        return s

    def dataset_bytes(self) -> int:
        return sum(self.db_bytes(db) for db in self.ctx.dbs if db.data)

    def used_memory(self) -> int:
        if not self.startup:
            from .info import memory_state

            self.startup = memory_state(self.ctx).startup
        return self.startup + self.dataset_bytes() + self.clients

    clients = 0  # the clients' buffers, summed by the cron (a walk over every client)

    def cron(self) -> None:
        """Every cron tick: stale access entries; with maxmemory, the clients' buffers and eviction."""
        self.ticks = getattr(self, "ticks", 0) + 1
        if self.track and self.ticks % 10 == 0:
            self.prune()
        if self.maxmemory:
            total = 0
            for c in list(self.ctx.clients.values()):
                total += c.query_buffer_len() + c.output_buffer_len()
            self.clients = total
            self.perform_evictions()
        else:
            self.clients = 0  # INFO sums the buffers itself

    # -- access bookkeeping ---------------------------------------------------------

    def touch(self, db: Database, key: bytes) -> None:
        """A command accessed ``key`` (LRU clock / LFU counter), when the key exists."""
        access = db.access
        if access is None or key not in db.data:
            return
        if self.lru:
            access[key] = lru_clock()
        else:
            access[key] = self._lfu_incr(access.get(key))

    def _lfu_incr(self, packed: int | None) -> int:
        now = lfu_minutes()
        if packed is None:
            return (now << 8) | LFU_INIT_VAL
        counter = self.lfu_decayed(packed, now)
        if counter < 255:
            baseval = max(0, counter - LFU_INIT_VAL)
            if random.random() < 1.0 / (baseval * self.log_factor + 1):
                counter += 1
        return (now << 8) | counter

    def lfu_decayed(self, packed: int, now: int | None = None) -> int:
        """LFUDecrAndReturn: the counter minus one per lfu-decay-time minutes elapsed."""
        if now is None:
            now = lfu_minutes()
        ldt = packed >> 8
        counter = packed & 255
        elapsed = now - ldt if now >= ldt else 65535 - ldt + now
        periods = elapsed // self.decay if self.decay else 0
        return max(0, counter - periods) if periods else counter

    def idle_seconds(self, db: Database, key: bytes) -> int:
        access = db.access
        if access is None or not self.lru:
            return 0
        v = access.get(key)
        if v is None:
            return 0
        return max(0, lru_clock() - v) // 1000

    def freq(self, db: Database, key: bytes) -> int:
        access = db.access
        if access is None or not self.lfu:
            return LFU_INIT_VAL
        v = access.get(key)
        return LFU_INIT_VAL if v is None else self.lfu_decayed(v)

    def prune(self) -> None:
        """Drop access entries of keys deleted by paths that do not say so (the cron)."""
        for db in self.ctx.dbs:
            access = db.access
            if not access or len(access) <= len(db.data):
                continue
            data = db.data
            for k in [k for k in access if k not in data]:
                del access[k]

    # -- eviction -------------------------------------------------------------------

    def over_limit(self) -> bool:
        return self.maxmemory > 0 and self.used_memory() > self.maxmemory

    def perform_evictions(self) -> bool:
        """performEvictions: False (EVICT_FAIL) when over the limit and nothing can be evicted."""
        if self.maxmemory <= 0 or self.ctx.is_replica_of_master and self.ctx.config["replica-ignore-maxmemory"]:
            return True
        used = self.used_memory()
        if used <= self.maxmemory:
            return True
        if self.policy == "noeviction" or self.evicting:
            return False
        from .observe import timed

        tenacity = self.ctx.config["maxmemory-eviction-tenacity"]
        # Redis' budget is for C; an eviction here costs ~20x more, so is the budget
        budget = 20 * _time_limit_us(tenacity) / 1e6
        t0 = time.perf_counter()
        self.evicting = True
        try:
            while used > self.maxmemory:
                found = self._pick()
                if found is None:
                    return False
                db, key = found
                before = self.db_bytes(db)
                self.evict(db, key)
                freed = max(1, before - self.db_bytes(db))
                used -= freed
                if time.perf_counter() - t0 > budget:
                    return True  # EVICT_RUNNING: the next command (or the cron) goes on evicting
            return True
        finally:
            self.evicting = False
            timed(self.ctx.observer, "eviction-cycle", t0)

    def evict(self, db: Database, key: bytes) -> None:
        ctx = self.ctx
        db.delete(key, ctx.config["lazyfree-lazy-eviction"])  # big values are freed in slices (lazyfree)
        if db.access is not None:
            db.access.pop(key, None)
        ctx.stats.evicted_keys += 1
        ctx.propagate(db.id, [b"DEL", key])
        ctx.notify(b"e", b"evicted", key, db.id)
        ctx.dirty += 1

    def _pick(self) -> tuple[Database, bytes] | None:
        policy = self.policy
        volatile = policy.startswith("volatile")
        dbs = [db for db in self.ctx.dbs if (db.expires if volatile else db.data)]
        if not dbs:
            return None
        samples = self.ctx.config["maxmemory-samples"]
        if policy.endswith("random"):
            db = random.choice(dbs)
            keys = self._sampler(db.id, volatile).draw(db.expires if volatile else db.data, 1)
            return (db, keys[0]) if keys else None
        # LRU / LFU / TTL: fill the pool from every db, take its best entry
        pool = self.pool
        for db in dbs:
            src = db.expires if volatile else db.data
            for key in self._sampler(db.id, volatile).draw(src, samples):
                if any(k == key and d == db.id for _, d, k in pool):
                    continue
                pool.append((self._score(db, key), db.id, key))
        pool.sort(key=lambda e: e[0])
        del pool[:-16]  # EVPOOL_SIZE: keep the 16 best candidates
        while pool:
            _, dbid, key = pool.pop()
            db = self.ctx.dbs[dbid]
            if key in db.data and (not volatile or key in db.expires):
                return db, key
        return None

    def _score(self, db: Database, key: bytes) -> float:
        """Higher is a better eviction candidate (evict.c's idle)."""
        if self.policy == "volatile-ttl":
            return float(2**63 - db.expires.get(key, 2**63))
        if self.lfu:
            v = db.access.get(key) if db.access is not None else None
            return 255.0 - (LFU_INIT_VAL if v is None else self.lfu_decayed(v))
        v = db.access.get(key) if db.access is not None else None
        return float(lru_clock() - v) if v is not None else float(lru_clock())


LFU_INIT_VAL = 5
_clock_base = time.time()


def lru_clock() -> int:
    """Milliseconds: finer than Redis' 1000 ms LRU clock, so keys touched within the same second
    still rank by recency (Redis gets the same effect from its much larger samples per second)."""
    return int(time.time() * 1000)


def lfu_minutes() -> int:
    return int(time.time() // 60) & 65535


def _time_limit_us(tenacity: int) -> float:
    """evictionTimeLimitUs: 50 us per step up to 10 (500 us), then +15% a step, unlimited at 100."""
    if tenacity <= 10:
        return 50.0 * tenacity
    if tenacity < 100:
        return 500.0 * math.pow(1.15, tenacity - 10)
    return float("inf")
