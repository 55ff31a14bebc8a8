"""The state command handlers see: the server context and the client.

Handlers receive a ``Client``; through ``client.server`` they reach the
``ServerContext`` (databases, config, stats, client registry, hooks).  Neither
class knows about sockets, listeners or replication links: the server and the
connection layer plug their behaviour in through the hook attributes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .blocking import BlockingState
from .config import Config
from .db import Database
from .lazyfree import LazyFree
from .memory import MemoryTracker
from .observe import Observer
from .pubsub import PubSub, attach_notifications


@dataclass
class Stats:
    """Counters reported by INFO stats (names as Redis' fields)."""

    total_connections_received: int = 0
    total_commands_processed: int = 0
    total_net_input_bytes: int = 0
    total_net_output_bytes: int = 0
    rejected_connections: int = 0
    expired_keys: int = 0
    expired_stale_perc: float = 0.0
    expired_time_cap_reached_count: int = 0
    expire_cycle_cpu_milliseconds: int = 0
    evicted_keys: int = 0
    evicted_clients: int = 0
    keyspace_hits: int = 0
    keyspace_misses: int = 0
    pubsub_channels: int = 0
    latest_fork_usec: int = 0
    total_forks: int = 0
    sync_full: int = 0
    sync_partial_ok: int = 0
    sync_partial_err: int = 0
    unexpected_error_replies: int = 0
    total_error_replies: int = 0
    total_reads_processed: int = 0
    total_writes_processed: int = 0
    client_query_buffer_limit_disconnections: int = 0
    client_output_buffer_limit_disconnections: int = 0
    reply_buffer_shrinks: int = 0
    reply_buffer_expands: int = 0
    dump_payload_sanitizations: int = 0
    errorstats: dict[str, int] = field(default_factory=dict)


class ServerContext:
    """Everything shared by all clients, minus the network."""

    def __init__(self, config: Config) -> None:
        self.config = config
        # told by state_changed() whenever what executor.fast_path_server reads, or a database's
        # dicts, may have changed outside a command (the request loop caches them in between)
        self.state_listeners: list[Callable[[], None]] = []
        self.dbs = [Database(i, self) for i in range(config["databases"])]
        self.clients: dict[int, Client] = {}
        self.next_client_id = 1
        self.stats = Stats()
        self.dirty = 0
        self.start_time = time.time()
        self.pid = os.getpid()
        self.run_id = os.urandom(20).hex()
        self.monitors: list[Client] = []
        self.blocking = BlockingState(self)
        self.notify_flags = 0
        self.paused_expiry = False
        self.is_replica_of_master = False
        self.loading = False
        self.lastsave = int(time.time())
        self.pause_until = 0.0
        self.pause_writes_only = False
        self.shutdown_asap: Callable[..., Any] | None = None
        # hooks the server plugs in
        self.propagate_hook: Callable[[int, list[bytes]], None] | None = None
        self.notify_hook: Callable[[bytes, bytes, bytes, int], None] | None = None
        self.log: Callable[[str, str], None] = lambda level, msg: None
        # checks run before every write command (MISCONF, NOREPLICAS): an error refuses it.
        # Only gates that can refuse right now are in the list, so the usual cost is nil.
        self.write_gates: list[Callable[[Any], Any]] = []
        self._gates: dict[str, Callable[[Any], Any]] = {}
        # where writes go (AOF, replication backlog); only the active ones are called
        self._propagators: list[tuple[Callable[[], bool], Callable[[int, list[bytes]], None]]] = []
        self.extras: dict[str, Any] = {}
        # scripting.scripts.ScriptingState, created by the first scripting command
        self.scripting: Any = None
        # the error reply call() must not count again (a script's error from redis.call)
        self.uncounted_error: Any = None
        # counters kept elsewhere (the request loop counts in C) and added to ``stats``/``dirty``
        # by these callbacks: sync_stats() runs them before anything reads the figures
        self.stats_sources: list[Callable[[], None]] = []
        # propagated writes buffered (the AOF's): flush_writes() runs these before replies go out
        self.unflushed_writes = False
        self.write_flushers: list[Callable[[], None]] = []
        # SLOWLOG, the latency monitor and the command latency histograms
        self.observer = Observer(config)
        # used_memory's estimate, maxmemory's eviction, the LRU/LFU access bookkeeping
        self.memory = MemoryTracker(self)
        self.pubsub = PubSub()
        # big values and flushed keyspaces freed in slices of the loop (INFO lazyfree_*)
        self.lazyfree = LazyFree(self)
        attach_notifications(self)
        from .acl import Acl  # acl reads the command table, whose modules import this one

        self.acl = Acl(self)

    def function_codes(self) -> list[bytes]:
        """The function libraries' code, for an RDB, an AOF base or a replica's full sync: the
        scripting state's, or (before any scripting command ran) what a loaded RDB left."""
        dumper = self.extras.get("functions_dump")
        if callable(dumper):
            return list(dumper())
        return list(self.extras.get("rdb_functions", ()))

    def sync_stats(self) -> None:
        """Bring ``stats`` and ``dirty`` up to date (the cron, INFO, before any slow-path command)."""
        for source in self.stats_sources:
            source()

    def state_changed(self) -> None:
        """Monitors, pause, loading, role, write gates, propagation, notifications or waiters changed."""
        for listener in self.state_listeners:
            listener()

    def flush_writes(self) -> None:
        """Write (and under appendfsync always, fsync) the buffered propagated writes."""
        if self.unflushed_writes:
            self.unflushed_writes = False
            for flush in self.write_flushers:
                flush()

    def client_id(self) -> int:
        cid = self.next_client_id
        self.next_client_id += 1
        return cid

    def notify(self, klass: bytes, event: bytes, key: bytes, dbid: int) -> None:
        """Keyspace notification; a no-op until notify-keyspace-events enables it."""
        if self.notify_hook is not None:
            self.notify_hook(klass, event, key, dbid)

    def set_write_gate(self, name: str, gate: Callable[[Any], Any] | None) -> None:
        """Install (or with None remove) a named check that may refuse write commands."""
        if gate is None:
            self._gates.pop(name, None)
        else:
            self._gates[name] = gate
        self.write_gates = list(self._gates.values())
        self.state_changed()

    def add_propagator(self, active: Callable[[], bool], fn: Callable[[int, list[bytes]], None]) -> None:
        """Register a destination for propagated writes, used while ``active()`` is true."""
        self._propagators.append((active, fn))
        self.refresh_propagation()

    def refresh_propagation(self) -> None:
        """Recompute ``propagate_hook`` after a destination turned on or off."""
        live = [fn for active, fn in self._propagators if active()]
        if not live:
            self.propagate_hook = None
        elif len(live) == 1:
            self.propagate_hook = live[0]
        else:
            def fan_out(dbid: int, argv: list[bytes]) -> None:
                for fn in live:
                    fn(dbid, argv)

            self.propagate_hook = fan_out
        self.state_changed()

    def propagate(self, dbid: int, argv: list[bytes]) -> None:
        """Send a write to the AOF and replicas (once those are attached)."""
        if self.propagate_hook is not None:
            self.propagate_hook(dbid, argv)

    def propagate_expired(self, dbid: int, key: bytes) -> None:
        if self.propagate_hook is not None:
            self.propagate_hook(dbid, [b"DEL", key])


def _no_push(_value: Any) -> None:
    return None


def _no_op() -> None:
    return None


def _zero() -> int:
    return 0


# client flags shown by CLIENT LIST
REPLY_ON, REPLY_OFF, REPLY_SKIP_NEXT, REPLY_SKIP = 0, 1, 2, 3


class Client:
    """One client's state: db, protocol, auth, name, MULTI, WATCH, pub/sub."""

    def __init__(self, server: ServerContext, addr: str = "", laddr: str = "", fd: int = -1) -> None:
        self.server = server
        self.id = server.client_id()
        self.db: Database = server.dbs[0]
        self.resp = 2
        self.name: bytes | None = None
        self.lib_name = b""
        self.lib_ver = b""
        # ACL: the user (``user`` is its name, for CLIENT LIST); acl_restricted is False while the
        # user may run everything (no per-command check, the fast path stays open)
        acl = server.acl
        self.acl_user = acl.default
        self.user = b"default"
        self.acl_restricted = not acl.default.unrestricted
        self.authenticated = not acl.auth_required()
        self.addr = addr
        self.laddr = laddr
        self.fd = fd
        self.ctime = time.time()
        self.last_interaction = self.ctime
        self.last_cmd = b"NULL"
        self.flags = ""  # extra flag letters for CLIENT LIST (M, S, ...)
        self.reply_mode = REPLY_ON
        self.no_evict = False
        self.no_touch = False
        # MULTI / WATCH
        self.in_multi = False
        self.in_exec = False
        self.multi_queue: list[tuple[Any, list[bytes]]] = []
        self.multi_error = False
        self.dirty_cas = False
        self.watched: list[tuple[Database, bytes]] = []
        # (dbid, key) WATCHed while already expired: their deletion is no change (touchWatchedKey)
        self.watch_expired: set[tuple[int, bytes]] = set()
        # pub/sub
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self.shard_channels: set[bytes] = set()
        # blocking
        self.blocked: Any = None
        self.monitor = False
        self.is_master = False
        self.is_replica = False
        self.close_after_reply = False
        self.propagate_argv: list[list[bytes]] | None = None
        self.killed = False
        # hooks set by the connection
        self.send_push: Callable[[Any], None] = lambda msg: None
        self.send_reply: Callable[[Any], None] = lambda reply: None
        self.write_raw: Callable[[bytes], None] = lambda data: None
        self.close: Callable[[], None] = lambda: None
        # the connection re-reads this client's fast-path state (executor.fast_path_client)
        self.fast_path_changed: Callable[[], None] = lambda: None
        self.resume: Callable[[], None] = lambda: None
        self.query_buffer_len: Callable[[], int] = lambda: 0
        self.output_buffer_len: Callable[[], int] = lambda: 0

    def detach(self) -> None:
        """The connection is gone: its hooks become no-ops (and stop referencing it)."""
        self.send_push = _no_push
        self.send_reply = _no_push
        self.write_raw = _no_push
        self.close = _no_op
        self.resume = _no_op
        self.query_buffer_len = _zero
        self.output_buffer_len = _zero

    @property
    def subscriptions(self) -> int:
        return len(self.channels) + len(self.patterns)

    def select(self, dbid: int) -> None:
        self.db = self.server.dbs[dbid]
