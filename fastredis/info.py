"""INFO: a registry of sections, each built from field providers.

Every section (``server``, ``clients``, ... ``keyspace``) is a list of providers:
functions ``fn(ctx) -> iterable of (field, value)``.  Other modules extend INFO
without editing this file::

    from fastredis import info
    info.add_fields("persistence", lambda ctx: [("rdb_saves", 3)])    # override/append
    info.register_section("mysection", "MySection", provider)         # new section

A field produced by a later provider replaces the same field of an earlier one in
place (so persistence/replication can refine the defaults), new names are
appended.  Values: ``int``/``str`` as they are, ``float`` with ``%.2f``, ``bool``
as ``1``/``0``.

Memory figures.  Python offers no cheap count of allocated bytes (tracemalloc
slows every allocation), so ``used_memory`` is the process' *private* resident
memory: resident pages minus file-backed shared pages (``/proc/self/statm``
fields 2 and 3).  That is what the interpreter heap, pymalloc arenas and the
keyspace occupy, fragmentation included; ``used_memory_rss`` is the full RSS.
``used_memory_startup`` is the same measure taken when the server started, so
``used_memory_dataset`` (used minus startup) grows with the data.  Reading statm
costs a few microseconds; nothing is sampled per command.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .scripting import script_memory_fields
from .version import REDIS_VERSION

if TYPE_CHECKING:
    from .context import ServerContext

Fields = Iterable[tuple[str, Any]]
Provider = Callable[["ServerContext"], Fields]


@dataclass
class Section:
    """One INFO section: its header title and its field providers."""

    name: str
    title: str
    default: bool = True
    in_all: bool = True
    providers: list[Provider] = field(default_factory=list)


SECTIONS: dict[str, Section] = {}
# hooks run by CONFIG RESETSTAT (after the built-in counters are zeroed)
RESETSTAT_HOOKS: list[Callable[[ServerContext], None]] = []


def register_section(name: str, title: str | None = None, provider: Provider | None = None, *,
                     default: bool = True, in_all: bool = True, before: str | None = None) -> Section:
    """Declare a section (or return the existing one); ``provider`` is appended to it.

    ``default`` puts it in plain ``INFO``; ``in_all`` in ``INFO all`` (module-like
    sections only appear with ``INFO everything`` or by name).
    """
    key = name.lower()
    sec = SECTIONS.get(key)
    if sec is None:
        sec = Section(key, title or name.capitalize(), default, in_all)
        if before is not None and before in SECTIONS:
            items = list(SECTIONS.items())
            idx = [k for k, _ in items].index(before)
            items.insert(idx, (key, sec))
            SECTIONS.clear()
            SECTIONS.update(items)
        else:
            SECTIONS[key] = sec
    if provider is not None:
        sec.providers.append(provider)
    return sec


def add_fields(section: str, provider: Provider) -> None:
    """Append a provider to a section: its fields override same-named ones, others are appended."""
    register_section(section).providers.append(provider)


def set_providers(section: str, providers: list[Provider]) -> None:
    """Replace every provider of a section (a module taking a section over)."""
    register_section(section).providers[:] = providers


def on_resetstat(fn: Callable[[ServerContext], None]) -> None:
    """Run ``fn(ctx)`` on CONFIG RESETSTAT (a module resetting its own counters)."""
    RESETSTAT_HOOKS.append(fn)


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return "%.2f" % value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def section_fields(ctx: ServerContext, sec: Section) -> list[tuple[str, str]]:
    """Run a section's providers and merge their fields (later ones override)."""
    order: dict[str, str] = {}
    for provider in sec.providers:
        for name, value in provider(ctx):
            order[name] = _fmt(value)
    return list(order.items())


def select_sections(args: list[bytes]) -> list[Section]:
    """Which sections ``INFO args...`` asks for, in Redis' order (genInfoSectionDict)."""
    if not args:
        return [s for s in SECTIONS.values() if s.default]
    wanted: set[str] = set()
    everything = all_ = default = False
    for a in args:
        name = a.decode("utf-8", "replace").lower()
        if name == "everything":
            everything = True
        elif name == "all":
            all_ = True
        elif name == "default":
            default = True
        elif name == "module_list":
            wanted.add("modules")
        else:
            wanted.add(name)
    out = []
    for s in SECTIONS.values():
        if everything or (all_ and s.in_all) or (default and s.default) or s.name in wanted:
            out.append(s)
    return out


def generate(ctx: ServerContext, args: list[bytes]) -> bytes:
    """The INFO text: ``# Title\\r\\nfield:value\\r\\n`` blocks separated by an empty line."""
    ctx.sync_stats()
    parts: list[str] = []
    for sec in select_sections(args):
        lines = [f"# {sec.title}\r\n"]
        lines.extend(f"{k}:{v}\r\n" for k, v in section_fields(ctx, sec))
        parts.append("".join(lines))
    return "\r\n".join(parts).encode("utf-8", "replace")


def parse(text: bytes | str) -> dict[str, dict[str, str]]:
    """Split INFO text into {section: {field: value}} (tests and tools)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out: dict[str, dict[str, str]] = {}
    cur: dict[str, str] | None = None
    for line in text.split("\r\n"):
        if line.startswith("# "):
            cur = out.setdefault(line[2:].lower(), {})
        elif line and cur is not None and ":" in line:
            k, v = line.split(":", 1)
            cur[k] = v
    return out


# ---------------------------------------------------------------------------
# memory measures
# ---------------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def memory_rss_and_private() -> tuple[int, int]:
    """(resident bytes, private resident bytes) from /proc/self/statm."""
    try:
        with open("/proc/self/statm", "rb") as f:
            parts = f.read().split()
        rss = int(parts[1]) * _PAGE
        shared = int(parts[2]) * _PAGE
        return rss, max(0, rss - shared)
    except (OSError, IndexError, ValueError):
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return maxrss, maxrss


def used_memory() -> int:
    """Bytes the server holds (private resident memory); see the module docstring."""
    return memory_rss_and_private()[1]


def total_system_memory() -> int:
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * _PAGE)
    except (ValueError, OSError, AttributeError):
        return 0


def bytes_to_human(n: float) -> str:
    """Redis' bytesToHuman: ``1.50K``, ``2.18M``, ``100B``."""
    d = float(n)
    if d < 1024:
        return "%dB" % int(n)
    for unit in ("K", "M", "G", "T", "P"):
        d /= 1024
        if d < 1024 or unit == "P":
            return "%.2f%s" % (d, unit)
    return "%dB" % int(n)


class MemoryState:
    """Peak and start-up measures kept per server (in ``ctx.extras['memory']``)."""

    def __init__(self) -> None:
        self.startup = used_memory()
        self.peak = self.startup

    def sample(self) -> int:
        used = used_memory()
        if used > self.peak:
            self.peak = used
        return used


def memory_state(ctx: ServerContext) -> MemoryState:
    m = ctx.extras.get("memory")
    if m is None:
        m = ctx.extras["memory"] = MemoryState()
    return m  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------
# instantaneous metrics (ops/sec, kbps) sampled by the server cron
# ---------------------------------------------------------------------------

METRIC_SAMPLES = 16


class Metrics:
    """Redis' trackInstantaneousMetric: 16 samples of per-second rates, taken every 100ms."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[float, int]] = {}
        self.samples: dict[str, list[float]] = {}

    def track(self, name: str, value: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        prev = self.last.get(name)
        self.last[name] = (now, value)
        if prev is None:
            return
        dt = now - prev[0]
        if dt <= 0:
            return
        rate = (value - prev[1]) / dt
        s = self.samples.setdefault(name, [])
        s.append(rate)
        if len(s) > METRIC_SAMPLES:
            del s[0]

    def get(self, name: str) -> float:
        s = self.samples.get(name)
        return sum(s) / len(s) if s else 0.0

    def reset(self) -> None:
        self.last.clear()
        self.samples.clear()


def metrics(ctx: ServerContext) -> Metrics:
    m = ctx.extras.get("metrics")
    if m is None:
        m = ctx.extras["metrics"] = Metrics()
    return m  # type: ignore[no-any-return]


def track_metrics(ctx: ServerContext) -> None:
    """Called by the cron every ~100ms: ops/sec and network rates, peak memory."""
    st = ctx.stats
    m = metrics(ctx)
    now = time.monotonic()
    last = m.last.get("command")
    if last is not None and now - last[0] < 0.1:
        return
    m.track("command", st.total_commands_processed, now)
    m.track("net_input", st.total_net_input_bytes, now)
    m.track("net_output", st.total_net_output_bytes, now)
    m.track("net_repl_input", ctx.extras.get("net_repl_input_bytes", 0), now)
    m.track("net_repl_output", ctx.extras.get("net_repl_output_bytes", 0), now)
    m.track("eventloop", ctx.extras.get("eventloop_cycles", 0), now)
    memory_state(ctx).sample()


# ---------------------------------------------------------------------------
# the built-in sections
# ---------------------------------------------------------------------------

_UNAME = os.uname()
_OS = f"{_UNAME.sysname} {_UNAME.release} {_UNAME.machine}"


def _gcc_version() -> str:
    comp = platform.python_compiler()  # "GCC 12.2.0"
    if comp.startswith("GCC "):
        return comp[4:].split()[0]
    return "0.0.0"


_GCC = _gcc_version()


def _server(ctx: ServerContext) -> Fields:
    cfg = ctx.config
    now = time.time()
    uptime = int(now - ctx.start_time)
    fields: list[tuple[str, Any]] = [
        ("redis_version", REDIS_VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "fa57ed15fa57ed15"),
        ("redis_mode", "standalone"),
        ("os", _OS),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", _GCC),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("run_id", ctx.run_id),
        ("tcp_port", cfg["port"]),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", ctx.extras.get("hz", cfg["hz"])),
        ("configured_hz", cfg["hz"]),
        ("lru_clock", int(now) & ((1 << 24) - 1)),
        ("executable", ctx.extras.get("executable", os.path.abspath(sys.argv[0]) if sys.argv[0] else "")),
        ("config_file", cfg.config_file or ""),
        ("io_threads_active", 0),
    ]
    n = 0
    if cfg["port"]:
        binds = cfg["bind"] or ["*", "-::*"]
        fields.append((f"listener{n}", "name=tcp," + ",".join(f"bind={b}" for b in binds)
                       + f",port={cfg['port']}"))
        n += 1
    if cfg["unixsocket"]:
        fields.append((f"listener{n}", f"name=unix,bind={cfg['unixsocket']}"))
    return fields


def _clients(ctx: ServerContext) -> Fields:
    clients = list(ctx.clients.values())
    replicas = sum(1 for c in clients if c.is_replica)
    maxin = maxout = 0
    pubsub = watching = 0
    for c in clients:
        qb = c.query_buffer_len()
        if qb > maxin:
            maxin = qb
        ob = c.output_buffer_len()
        if ob > maxout:
            maxout = ob
        if c.channels or c.patterns or c.shard_channels:
            pubsub += 1
        if c.watched:
            watching += 1
    blocking = ctx.blocking
    timeouts = sum(1 for c in clients if c.blocked is not None and getattr(c.blocked, "timer", None) is not None)
    return [
        ("connected_clients", len(clients) - replicas),
        ("cluster_connections", 0),
        ("maxclients", ctx.config["maxclients"]),
        ("client_recent_max_input_buffer", maxin),
        ("client_recent_max_output_buffer", maxout),
        ("blocked_clients", blocking.blocked_clients),
        ("tracking_clients", 0),
        ("pubsub_clients", pubsub),
        ("watching_clients", watching),
        ("clients_in_timeout_table", timeouts),
        ("total_watched_keys", sum(len(db.watched) for db in ctx.dbs)),
        ("total_blocking_keys", len(blocking.waiters)),
        ("total_blocking_keys_on_nokey", 0),
    ]


def _memory(ctx: ServerContext) -> Fields:
    ms = memory_state(ctx)
    rss, _private = memory_rss_and_private()
    mem = ctx.memory
    used = mem.used_memory()  # the maintained estimate maxmemory is compared with (memory.py)
    if used > ms.peak:
        ms.peak = used
    peak = ms.peak
    startup = min(ms.startup, used)
    clients_normal = sum(c.output_buffer_len() + c.query_buffer_len() for c in ctx.clients.values()
                         if not c.is_replica)
    clients_replicas = sum(c.output_buffer_len() for c in ctx.clients.values() if c.is_replica)
    repl = ctx.extras.get("replication")
    backlog = 0
    if repl is not None and getattr(repl.master, "backlog", None) is not None:
        backlog = int(getattr(repl.master.backlog, "histlen", 0))
    overhead = startup + clients_normal + clients_replicas + backlog
    dataset = mem.dataset_bytes()
    used = max(used, overhead + dataset)
    net = used - startup
    total_sys = total_system_memory()
    cfg = ctx.config
    maxmemory = cfg["maxmemory"]
    frag = rss / used if used else 0.0
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", bytes_to_human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", "%.2f%%" % (used * 100.0 / peak if peak else 0.0)),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", "%.2f%%" % (dataset * 100.0 / net if net > 0 else 0.0)),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", total_sys),
        ("total_system_memory_human", bytes_to_human(total_sys)),
        *script_memory_fields(ctx, bytes_to_human),
        ("maxmemory", maxmemory),
        ("maxmemory_human", bytes_to_human(maxmemory)),
        ("maxmemory_policy", cfg["maxmemory-policy"]),
        ("allocator_frag_ratio", 1.0),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", rss / used if used else 0.0),
        ("allocator_rss_bytes", rss - used),
        ("rss_overhead_ratio", 1.0),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", frag),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", backlog),
        ("mem_total_replication_buffers", backlog + clients_replicas),
        ("mem_clients_slaves", clients_replicas),
        ("mem_clients_normal", clients_normal),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", ctx.lazyfree.pending_objects),
        ("lazyfreed_objects", ctx.lazyfree.freed_objects),
    ]


def _persistence(ctx: ServerContext) -> Fields:
    rdb = ctx.extras.get("rdb")
    if rdb is not None and hasattr(rdb, "info_fields"):
        out = list(rdb.info_fields())
    else:
        out = [
            ("loading", 1 if ctx.loading else 0), ("async_loading", 0), ("current_cow_peak", 0),
            ("current_cow_size", 0), ("current_cow_size_age", 0), ("current_fork_perc", "0.00"),
            ("current_save_keys_processed", 0), ("current_save_keys_total", 0),
            ("rdb_changes_since_last_save", ctx.dirty), ("rdb_bgsave_in_progress", 0),
            ("rdb_last_save_time", ctx.lastsave), ("rdb_last_bgsave_status", "ok"),
            ("rdb_last_bgsave_time_sec", -1), ("rdb_current_bgsave_time_sec", -1), ("rdb_saves", 0),
            ("rdb_last_cow_size", 0), ("rdb_last_load_keys_expired", 0), ("rdb_last_load_keys_loaded", 0),
        ]
    aof = ctx.extras.get("aof")
    if aof is not None and hasattr(aof, "info_fields"):
        out += list(aof.info_fields())
    else:
        out += [
            ("aof_enabled", 1 if ctx.config["appendonly"] else 0), ("aof_rewrite_in_progress", 0),
            ("aof_rewrite_scheduled", 0), ("aof_last_rewrite_time_sec", -1),
            ("aof_current_rewrite_time_sec", -1), ("aof_last_bgrewrite_status", "ok"), ("aof_rewrites", 0),
            ("aof_rewrites_consecutive_failures", 0), ("aof_last_write_status", "ok"), ("aof_last_cow_size", 0),
            ("module_fork_in_progress", 0), ("module_fork_last_cow_size", 0),
        ]
    # Redis prints the loading_* block after the AOF fields
    loading = [f for f in out if f[0].startswith("loading_")]
    if loading:
        out = [f for f in out if not f[0].startswith("loading_")] + loading
    return out


def _stats(ctx: ServerContext) -> Fields:
    st = ctx.stats
    m = metrics(ctx)
    ps = ctx.pubsub
    ex = ctx.extras
    cmd_usec = sum(c.usec for c in _all_commands())
    stale = st.expired_stale_perc
    if not stale:
        with_ttl = [db.expired_stale_perc for db in ctx.dbs if db.expires]
        stale = sum(with_ttl) / len(with_ttl) if with_ttl else 0.0
    repl_in = ex.get("net_repl_input_bytes", 0)
    repl_out = ex.get("net_repl_output_bytes", 0)
    denied = ctx.acl.denied
    cycles = ex.get("eventloop_cycles", 0)
    return [
        ("total_connections_received", st.total_connections_received),
        ("total_commands_processed", st.total_commands_processed),
        ("instantaneous_ops_per_sec", int(m.get("command"))),
        ("total_net_input_bytes", st.total_net_input_bytes + repl_in),
        ("total_net_output_bytes", st.total_net_output_bytes + repl_out),
        ("total_net_repl_input_bytes", repl_in),
        ("total_net_repl_output_bytes", repl_out),
        ("instantaneous_input_kbps", m.get("net_input") / 1024),
        ("instantaneous_output_kbps", m.get("net_output") / 1024),
        ("instantaneous_input_repl_kbps", m.get("net_repl_input") / 1024),
        ("instantaneous_output_repl_kbps", m.get("net_repl_output") / 1024),
        ("rejected_connections", st.rejected_connections),
        ("sync_full", st.sync_full),
        ("sync_partial_ok", st.sync_partial_ok),
        ("sync_partial_err", st.sync_partial_err),
        ("expired_keys", st.expired_keys),
        ("expired_stale_perc", stale * 100),
        ("expired_time_cap_reached_count", st.expired_time_cap_reached_count),
        ("expire_cycle_cpu_milliseconds", st.expire_cycle_cpu_milliseconds),
        ("evicted_keys", st.evicted_keys),
        ("evicted_clients", st.evicted_clients),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", st.keyspace_hits),
        ("keyspace_misses", st.keyspace_misses),
        ("pubsub_channels", len(ps.channels)),
        ("pubsub_patterns", len(ps.patterns)),
        ("pubsubshard_channels", len(ps.shard_channels)),
        ("latest_fork_usec", st.latest_fork_usec),
        ("total_forks", st.total_forks),
        ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", 0),
        ("tracking_total_items", 0),
        ("tracking_total_prefixes", 0),
        ("unexpected_error_replies", st.unexpected_error_replies),
        ("total_error_replies", st.total_error_replies),
        ("dump_payload_sanitizations", st.dump_payload_sanitizations),
        ("total_reads_processed", st.total_reads_processed),
        ("total_writes_processed", st.total_writes_processed),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("client_query_buffer_limit_disconnections", st.client_query_buffer_limit_disconnections),
        ("client_output_buffer_limit_disconnections", st.client_output_buffer_limit_disconnections),
        ("reply_buffer_shrinks", st.reply_buffer_shrinks),
        ("reply_buffer_expands", st.reply_buffer_expands),
        ("eventloop_cycles", cycles),
        ("eventloop_duration_sum", ex.get("eventloop_duration_usec", 0) + cmd_usec),
        ("eventloop_duration_cmd_sum", cmd_usec),
        ("instantaneous_eventloop_cycles_per_sec", int(m.get("eventloop"))),
        ("instantaneous_eventloop_duration_usec", 0),
        ("acl_access_denied_auth", denied[3]),
        ("acl_access_denied_cmd", denied[1]),
        ("acl_access_denied_key", denied[2]),
        ("acl_access_denied_channel", denied[4]),
    ]


def _replication(ctx: ServerContext) -> Fields:
    repl = ctx.extras.get("replication")
    if repl is not None and hasattr(repl, "info_fields"):
        return list(repl.info_fields())
    return [
        ("role", "slave" if ctx.is_replica_of_master else "master"),
        ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", ctx.run_id),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", ctx.config["repl-backlog-size"]),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def _tv(seconds: float) -> str:
    return "%d.%06d" % (int(seconds), int(round((seconds % 1) * 1_000_000)) % 1_000_000)


def _cpu(ctx: ServerContext) -> Fields:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    th = resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF))
    return [
        ("used_cpu_sys", _tv(me.ru_stime)),
        ("used_cpu_user", _tv(me.ru_utime)),
        ("used_cpu_sys_children", _tv(ch.ru_stime)),
        ("used_cpu_user_children", _tv(ch.ru_utime)),
        ("used_cpu_sys_main_thread", _tv(th.ru_stime)),
        ("used_cpu_user_main_thread", _tv(th.ru_utime)),
    ]


def _modules(ctx: ServerContext) -> Fields:
    from .module_loader import info_fields

    return info_fields(ctx)


def _all_commands() -> list[Any]:
    from .commands.table import COMMANDS

    out = []
    for cmd in COMMANDS.values():
        out.append(cmd)
        out.extend(cmd.subcommands.values())
    return out


def _commandstats(ctx: ServerContext) -> Fields:
    out = []
    for cmd in _all_commands():
        if not (cmd.calls or cmd.failed_calls or cmd.rejected_calls):
            continue
        per = cmd.usec / cmd.calls if cmd.calls else 0.0
        out.append((f"cmdstat_{cmd.fullname}",
                    "calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d"
                    % (cmd.calls, cmd.usec, per, cmd.rejected_calls, cmd.failed_calls)))
    return out


def _errorstats(ctx: ServerContext) -> Fields:
    return [(f"errorstat_{code}", f"count={n}") for code, n in sorted(ctx.stats.errorstats.items())]


def _latencystats(ctx: ServerContext) -> Fields:
    from .observe import latencystats_fields

    ctx.observer.sync_histograms()
    return latencystats_fields(_all_commands(), ctx.observer.percentiles)


def _cluster(ctx: ServerContext) -> Fields:
    return [("cluster_enabled", 0)]


def avg_ttl(db: Any) -> int:
    """The database's average TTL in ms: the active-expire estimate, else a bounded sample."""
    if not db.expires:
        return 0
    if db.avg_ttl:
        return int(db.avg_ttl)
    from .db import mstime

    now = mstime()
    total = n = 0
    for when in db.expires.values():
        left = when - now
        if left > 0:
            total += left
            n += 1
        if n >= 64:
            break
    return total // n if n else 0


def _keyspace(ctx: ServerContext) -> Fields:
    out = []
    for db in ctx.dbs:
        keys = len(db.data)
        if not keys:
            continue
        out.append((f"db{db.id}", f"keys={keys},expires={len(db.expires)},avg_ttl={avg_ttl(db)}"))
    return out


register_section("server", "Server", _server)
register_section("clients", "Clients", _clients)
register_section("memory", "Memory", _memory)
register_section("persistence", "Persistence", _persistence)
register_section("stats", "Stats", _stats)
register_section("replication", "Replication", _replication)
register_section("cpu", "CPU", _cpu)
register_section("modules", "Modules", _modules)
register_section("commandstats", "Commandstats", _commandstats, default=False)
register_section("errorstats", "Errorstats", _errorstats)
register_section("latencystats", "Latencystats", _latencystats, default=False)
register_section("cluster", "Cluster", _cluster)
register_section("keyspace", "Keyspace", _keyspace)


def reset_stats(ctx: ServerContext) -> None:
    """CONFIG RESETSTAT: zero the counters, command and error statistics, rates and peak memory."""
    import dataclasses

    ctx.lazyfree.freed_objects = 0  # lazyfreeResetStats
    fresh = type(ctx.stats)()
    for f in dataclasses.fields(ctx.stats):
        setattr(ctx.stats, f.name, getattr(fresh, f.name))
    ctx.observer.sync_histograms()
    for cmd in _all_commands():
        cmd.calls = cmd.usec = cmd.rejected_calls = cmd.failed_calls = 0
        cmd.latency_histogram = None
    metrics(ctx).reset()
    ms = memory_state(ctx)
    ms.peak = used_memory()
    for key in ("net_repl_input_bytes", "net_repl_output_bytes", "eventloop_duration_usec"):
        if key in ctx.extras:
            ctx.extras[key] = 0
    for reason in ctx.acl.denied:
        ctx.acl.denied[reason] = 0
    for hook in RESETSTAT_HOOKS:
        hook(ctx)
