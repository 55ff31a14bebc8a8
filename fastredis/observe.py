"""SLOWLOG, the latency monitor and the per-command latency histograms.

Shaped around one rule: the code that times commands (``executor.call`` and the
request loop's ``Dispatcher._count``) must pay almost nothing while nothing is
slow.  So ``Observer`` keeps ``gate_ns``, the smallest duration that interests
either the slow log or the latency monitor, and the timing code compares each
command's duration against that one number; only a command at or above it comes
here (``command_done``).  The request loop caches ``gate_ns`` and ``track`` in C
and re-reads them whenever the server state is recomputed (every Python command,
CONFIG SET included, invalidates it).

Histograms are Redis' HdrHistogram (1 ns .. 1 s, 2 significant figures): the same
bucket layout, so INFO latencystats and LATENCY HISTOGRAM print the same bucket
values Redis would for the same durations.  The request loop counts into a C
array per command and adds it to ``Command.latency_histogram`` when a reader asks
(``ctx.latency_sources``); the Python path records here directly.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .commands.table import Command
    from .config import Config
    from .context import Client

# --------------------------------------------------------------------------
# HdrHistogram with Redis' parameters: lowest 1, highest 1e9, 2 significant figures
# --------------------------------------------------------------------------

HIST_MIN = 1
HIST_MAX = 1_000_000_000
SUB_BUCKET_HALF_MAG = 7  # sub_bucket_count 256 (2 figures), half 128
SUB_BUCKET_HALF = 1 << SUB_BUCKET_HALF_MAG
SUB_BUCKET_COUNT = 2 * SUB_BUCKET_HALF
BUCKET_COUNT = 23  # 256 << 22 > 1e9
COUNTS_LEN = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF  # 3072


def counts_index(v: int) -> int:
    """hdr's counts_index_for(v) for unit magnitude 0 (the C request loop computes the same)."""
    bucket = (v | (SUB_BUCKET_COUNT - 1)).bit_length() - (SUB_BUCKET_HALF_MAG + 1)
    sub = v >> bucket
    return ((bucket + 1) << SUB_BUCKET_HALF_MAG) + sub - SUB_BUCKET_HALF


def value_at_index(i: int) -> int:
    bucket = (i >> SUB_BUCKET_HALF_MAG) - 1
    sub = (i & (SUB_BUCKET_HALF - 1)) + SUB_BUCKET_HALF
    if bucket < 0:
        sub -= SUB_BUCKET_HALF
        bucket = 0
    return sub << bucket


def _bucket_of(v: int) -> tuple[int, int]:
    bucket = (v | (SUB_BUCKET_COUNT - 1)).bit_length() - (SUB_BUCKET_HALF_MAG + 1)
    return bucket, v >> bucket


def lowest_equivalent(v: int) -> int:
    bucket, sub = _bucket_of(v)
    return sub << bucket


def highest_equivalent(v: int) -> int:
    bucket, sub = _bucket_of(v)
    size = 1 << (bucket if sub < SUB_BUCKET_COUNT else bucket + 1)
    return (sub << bucket) + size - 1


class Histogram:
    """A sparse HdrHistogram: counts by counts_index."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0

    def record(self, ns: int, n: int = 1) -> None:
        if ns < HIST_MIN:
            ns = HIST_MIN
        elif ns > HIST_MAX:
            ns = HIST_MAX
        i = counts_index(ns)
        self.counts[i] = self.counts.get(i, 0) + n
        self.total += n

    def add_index(self, i: int, n: int) -> None:
        self.counts[i] = self.counts.get(i, 0) + n
        self.total += n

    def value_at_percentile(self, p: float) -> int:
        """hdr_value_at_percentile (p0 gives the lowest equivalent value, as hdr does)."""
        want = int(((min(p, 100.0) / 100.0) * self.total) + 0.5)
        want = max(want, 1)
        seen = 0
        value = 0
        for i in sorted(self.counts):
            seen += self.counts[i]
            if seen >= want:
                value = value_at_index(i)
                break
        if p == 0.0:
            return lowest_equivalent(value)
        return highest_equivalent(value)

    def cdf_usec(self) -> list[tuple[int, int]]:
        """fillCommandCDF: hdr's logarithmic iteration from 1024 ns by powers of 2."""
        out: list[tuple[int, int]] = []
        if not self.total:
            return out
        idx = sorted(self.counts)
        pos = 0
        cumulative = 0
        level = 1024
        prev = 0
        while cumulative < self.total or not out:
            lowest = lowest_equivalent(level)
            # every count whose index is at or below the first index reaching the level
            limit = counts_index(lowest)
            while pos < len(idx) and idx[pos] <= limit:
                cumulative += self.counts[idx[pos]]
                pos += 1
            if cumulative > prev:
                out.append((highest_equivalent(lowest) // 1000, cumulative))
            prev = cumulative
            if level > HIST_MAX * 2:
                break
            level *= 2
        return out


# --------------------------------------------------------------------------
# the slow log
# --------------------------------------------------------------------------

SLOWLOG_ENTRY_MAX_ARGC = 32
SLOWLOG_ENTRY_MAX_STRING = 128
# commands flagged SKIP_SLOWLOG in Redis' command table
SKIP_SLOWLOG = frozenset(("auth", "hello", "exec"))


def slowlog_argv(argv: list[bytes]) -> list[bytes]:
    """slowlogCreateEntry's argument list: 32 at most, each cut at 128 bytes, secrets redacted."""
    from .acl import redacted

    argv = redacted(argv)
    argc = len(argv)
    slargc = min(argc, SLOWLOG_ENTRY_MAX_ARGC)
    out = []
    for j in range(slargc):
        if slargc != argc and j == slargc - 1:
            out.append(b"... (%d more arguments)" % (argc - slargc + 1))
            break
        a = argv[j]
        if len(a) > SLOWLOG_ENTRY_MAX_STRING:
            a = bytes(a[:SLOWLOG_ENTRY_MAX_STRING]) + b"... (%d more bytes)" % (len(a) - SLOWLOG_ENTRY_MAX_STRING)
        else:
            a = bytes(a)
        out.append(a)
    return out


class SlowLog:
    """The newest entries first; each [id, unix time, usec, argv, addr, name] as SLOWLOG GET sends it."""

    def __init__(self) -> None:
        self.entries: deque[list[Any]] = deque()
        self.next_id = 0

    def push(self, c: Client, argv: list[bytes], usec: int, max_len: int) -> None:
        self.entries.appendleft([self.next_id, int(time.time()), usec, slowlog_argv(argv),
                                 (c.addr or "?:0").encode(), c.name or b""])
        self.next_id += 1
        while len(self.entries) > max_len:
            self.entries.pop()

    def reset(self) -> None:
        self.entries.clear()


# --------------------------------------------------------------------------
# the latency monitor
# --------------------------------------------------------------------------

LATENCY_TS_LEN = 160


class TimeSeries:
    """latencyTimeSeries: 160 (time, latency) samples, one per second at most, and the all-time max."""

    __slots__ = ("samples", "idx", "max")

    def __init__(self) -> None:
        self.samples: list[list[int]] = [[0, 0] for _ in range(LATENCY_TS_LEN)]
        self.idx = 0
        self.max = 0

    def add(self, latency: int, now: int) -> None:
        if latency > self.max:
            self.max = latency
        prev = self.samples[(self.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN]
        if prev[0] == now:
            if latency > prev[1]:
                prev[1] = latency
            return
        s = self.samples[self.idx]
        s[0], s[1] = now, latency
        self.idx = (self.idx + 1) % LATENCY_TS_LEN

    def ordered(self) -> list[list[int]]:
        out = []
        for j in range(LATENCY_TS_LEN):
            s = self.samples[(self.idx + j) % LATENCY_TS_LEN]
            if s[0]:
                out.append(s)
        return out

    def latest(self) -> list[int]:
        return self.samples[(self.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN]


class LatencyMonitor:
    """Events by name (insertion order) -> TimeSeries; latencyAddSampleIfNeeded."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        self.events: dict[str, TimeSeries] = {}

    def add_sample_if_needed(self, event: str, ms: int) -> None:
        threshold = self.observer.latency_threshold
        if threshold and ms >= threshold:
            self.add_sample(event, ms)

    def add_sample(self, event: str, ms: int) -> None:
        ts = self.events.get(event)
        if ts is None:
            ts = self.events[event] = TimeSeries()
        ts.add(int(ms), int(time.time()))

    def reset(self, event: str | None = None) -> int:
        if event is None:
            n = len(self.events)
            self.events.clear()
            return n
        n = 0
        for name in list(self.events):
            if name.lower() == event.lower():
                del self.events[name]
                n += 1
        return n


# --------------------------------------------------------------------------
# the observer: thresholds cached from the config, fed by the command timers
# --------------------------------------------------------------------------

NO_GATE = 1 << 62  # nothing is interested in slow commands


class Observer:
    """What the command timers report to (``ctx.observer``)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.slowlog = SlowLog()
        self.latency = LatencyMonitor(self)
        self.slow_usec = -1
        self.slow_max_len = 128
        self.latency_threshold = 0
        self.track = True
        self.percentiles: list[float] = [50.0, 99.0, 99.9]
        self.gate_ns = NO_GATE
        # the request loop's per-command histograms, added on demand (see module docstring)
        self.latency_sources: list[Callable[[], None]] = []
        for name in ("slowlog-log-slower-than", "slowlog-max-len", "latency-monitor-threshold",
                     "latency-tracking", "latency-tracking-info-percentiles"):
            config.on_change(name, self._reload)
        self._reload(None)

    def _reload(self, _value: Any) -> None:
        cfg = self.config
        self.slow_usec = int(cfg["slowlog-log-slower-than"])
        self.slow_max_len = int(cfg["slowlog-max-len"])
        self.latency_threshold = int(cfg["latency-monitor-threshold"])
        self.track = bool(cfg["latency-tracking"])
        self.percentiles = list(cfg["latency-tracking-info-percentiles"])
        gate = NO_GATE
        if self.slow_usec >= 0:
            gate = self.slow_usec * 1000
        if self.latency_threshold > 0:
            gate = min(gate, self.latency_threshold * 1_000_000)
        self.gate_ns = min(gate, NO_GATE)  # the request loop keeps it in a C long long

    def command_done(self, c: Client, cmd: Command, argv: list[bytes], ns: int) -> None:
        """A command took ``ns`` >= gate_ns: the slow log and the latency monitor decide."""
        usec = ns // 1000
        top = cmd.parent or cmd
        if self.slow_usec >= 0 and usec >= self.slow_usec and top.name not in SKIP_SLOWLOG:
            self.slowlog.push(c, argv, usec, self.slow_max_len)
        ms = usec // 1000
        if self.latency_threshold and ms >= self.latency_threshold:
            self.latency.add_sample("fast-command" if "fast" in cmd.flags else "command", ms)

    def record(self, cmd: Command, ns: int) -> None:
        """updateCommandLatencyHistogram (the Python path)."""
        h = cmd.latency_histogram
        if h is None:
            h = cmd.latency_histogram = Histogram()
        h.record(ns)

    def sync_histograms(self) -> None:
        for source in self.latency_sources:
            source()


def percentile_name(p: float) -> str:
    """How INFO latencystats names a percentile: p50, p99.9, p100."""
    return "p" + ("%f" % p).rstrip("0").rstrip(".")


def latencystats_fields(commands: list[Command], percentiles: list[float]) -> list[tuple[str, str]]:
    out = []
    for cmd in commands:
        h = cmd.latency_histogram
        if h is None or not h.total:
            continue
        vals = ",".join("%s=%.3f" % (percentile_name(p), h.value_at_percentile(p) / 1000.0)
                        for p in percentiles)
        out.append(("latency_percentiles_usec_%s" % cmd.fullname, vals))
    return out


# --------------------------------------------------------------------------
# LATENCY GRAPH (sparkline.c) and LATENCY DOCTOR (createLatencyReport)
# --------------------------------------------------------------------------

_CHARSET = "_-`"
_CHARSET_FILL = "_o#"


def sparkline_render(samples: list[tuple[int, str]], columns: int, rows: int, fill: bool) -> str:
    """sparklineRender: rows of characters per ``columns`` samples, the labels written vertically below."""
    out = []
    values = [v for v, _ in samples]
    lo, hi = (min(values), max(values)) if values else (0, 0)
    for offset in range(0, len(samples), columns):
        if offset:
            out.append("\n")
        out.append(_render_range(samples[offset:offset + columns], lo, hi, rows, fill))
    return "".join(out)


def _render_range(chunk: list[tuple[int, str]], lo: int, hi: int, rows: int, fill: bool) -> str:
    """sparklineRenderRange (linear scale, label margin 1)."""
    relmax = float(hi - lo) or 1.0
    steps = rows * 2
    charset = _CHARSET_FILL if fill else _CHARSET
    has_labels = any(label for _, label in chunk)
    out = []
    row = 0
    while True:
        loop = False
        chars = [" "] * len(chunk)
        for j, (value, label) in enumerate(chunk):
            step = int(int((value - lo) * steps) / relmax)
            step = min(max(step, 0), steps - 1)
            if row < rows:
                loop = True
                idx = step - (rows - row - 1) * 2
                if 0 <= idx < 2:
                    chars[j] = charset[idx]
                elif fill and idx >= 2:
                    chars[j] = "|"
            else:
                if has_labels and row - rows < 1:
                    loop = True
                    break
                k = row - rows - 1
                if k < len(label):
                    chars[j] = label[k]
                    loop = True
        if not loop:
            break
        row += 1
        out.append("".join(chars) + "\n")
    return "".join(out)


def latency_graph(event: str, ts: TimeSeries) -> str:
    samples: list[tuple[int, str]] = []
    now = int(time.time())
    lo = hi = 0
    for t, lat in ts.ordered():
        if not samples:
            lo = hi = lat
        else:
            hi, lo = max(hi, lat), min(lo, lat)
        elapsed = now - t
        if elapsed < 60:
            label = "%ds" % elapsed
        elif elapsed < 3600:
            label = "%dm" % (elapsed // 60)
        elif elapsed < 86400:
            label = "%dh" % (elapsed // 3600)
        else:
            label = "%dd" % (elapsed // 86400)
        samples.append((lat, label))
    head = "%s - high %d ms, low %d ms (all time high %d ms)\n" % (event, hi, lo, ts.max) + "-" * 80 + "\n"
    return head + sparkline_render(samples, 80, 4, True)


def _thp_anon_huge() -> int:
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def latency_doctor(obs: Observer, hz: int, aof_always: bool, fork_rate: float) -> str:
    """createLatencyReport, text for text."""
    mon = obs.latency
    if not mon.events and obs.latency_threshold == 0:
        return ("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. "
                "You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. "
                "If we weren't in a deep space mission I'd suggest to take a look at "
                "https://redis.io/topics/latency-monitor.\n")
    adv: set[str] = set()
    advices = 0
    report = []
    now = int(time.time())
    for num, (event, ts) in enumerate(mon.events.items(), 1):
        if num == 1:
            report.append("Dave, I have observed latency spikes in this Redis instance. "
                          "You don't mind talking about it, do you Dave?\n\n")
        samples = ts.ordered()
        n = len(samples)
        avg = mad = 0
        period = 0.0
        if n:
            avg = sum(s[1] for s in samples) // n
            oldest = min(s[0] for s in samples)
            per = now - oldest or 1
            mad = sum(abs(avg - s[1]) for s in samples) // n
            period = per / n
        line = ("%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). "
                "Worst all time event %dms." % (num, event, n, avg, mad, period, ts.max))
        ev = event.lower()
        if ev == "fork":
            if fork_rate < 10:
                quality = "terrible"
            elif fork_rate < 25:
                quality = "poor"
            elif fork_rate < 100:
                quality = "good"
            else:
                quality = "excellent"
            if fork_rate < 25:
                adv.add("better_vm")
                advices += 1
            line += " Fork rate is %.2f GB/sec (%s)." % (fork_rate, quality)
        if ev == "command":
            if obs.slow_usec < 0:
                adv.add("slowlog_enabled")
                advices += 1
            elif obs.slow_usec // 1000 > obs.latency_threshold:
                adv.add("slowlog_tuning")
                advices += 1
            adv.update(("slowlog_inspect", "large_objects"))
            advices += 2
        if ev == "fast-command":
            adv.add("scheduler")
            advices += 1
        if ev == "aof-write-pending-fsync":
            adv.update(("local_disk", "disk_contention", "ssd", "data_writeback"))
            advices += 4
        if ev == "aof-write-active-child":
            adv.update(("no_appendfsync", "data_writeback", "ssd"))
            advices += 3
        if ev == "aof-write-alone":
            adv.update(("local_disk", "data_writeback", "ssd"))
            advices += 3
        if ev == "aof-fsync-always":
            adv.add("relax_fsync_policy")
            advices += 1
        if ev in ("aof-fstat", "rdb-unlink-temp-file"):
            adv.update(("disk_contention", "local_disk"))
            advices += 2
        if ev in ("aof-rewrite-diff-write", "aof-rename"):
            adv.update(("write_load_info", "data_writeback", "ssd", "local_disk"))
            advices += 4
        if ev == "expire-cycle":
            adv.update(("hz", "large_objects"))
            advices += 2
        if ev == "eviction-del":
            adv.add("large_objects")
            advices += 1
        if ev == "eviction-cycle":
            adv.add("mass_eviction")
            advices += 1
        report.append(line + "\n")
    if _thp_anon_huge() > 0:
        adv.add("disable_thp")
        advices += 1
    eventnum = len(mon.events)
    if eventnum == 0 and advices == 0:
        report.append("Dave, no latency spike was observed during the lifetime of this Redis instance, not in "
                      "the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and "
                      "think things over.\n")
    elif eventnum > 0 and advices == 0:
        report.append("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use "
                      "the Redis community to get some help, providing this report in your help request.\n")
    else:
        report.append("\nI have a few advices for you:\n\n")
        thr = obs.latency_threshold * 1000
        texts = [
            ("better_vm", "- If you are using a virtual machine, consider upgrading it with a faster one using a "
             "hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() "
             "performance. Even in the context of the same VM provider, certain kinds of instances can execute "
             "fork faster than others.\n"),
            ("slowlog_enabled", "- There are latency issues with potentially slow commands you are using. Try to "
             "enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %d'. If the "
             "Slow log is disabled Redis is not able to log slow commands execution for you.\n" % thr),
            ("slowlog_tuning", "- Your current Slow Log configuration only logs events that are slower than your "
             "configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %d'.\n" % thr),
            ("slowlog_inspect", "- Check your Slow Log to understand what are the commands you are running which "
             "are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n"),
            ("scheduler", "- The system is slow to execute Redis code paths not containing system calls. This "
             "usually means the system does not provide Redis CPU time to run for long periods. You should try "
             "to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other "
             "software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check "
             "with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check "
             "if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using "
             "Jemalloc. However this may create fragmentation problems.\n"),
            ("local_disk", "- It is strongly advised to use local disks for persistence, especially if you are "
             "using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n"),
            ("ssd", "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF "
             "log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be "
             "a good option. However Redis should perform reasonably with high load using normal disks. Use this "
             "advice as a last resort.\n"),
            ("data_writeback", "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost "
             "compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it "
             "can happen that after a hard crash the AOF file will have a half-written command at the end and "
             "will require to be repaired before Redis restarts.\n"),
            ("disk_contention", "- Try to lower the disk contention. This is often caused by other disk intensive "
             "processes running in the same computer (including other Redis instances).\n"),
            ("no_appendfsync", "- Assuming from the point of view of data safety this is viable in your "
             "environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not "
             "be performed while there is a child rewriting the AOF file or producing an RDB file (the moment "
             "where there is high disk contention).\n"),
        ]
        if aof_always:
            texts.append(("relax_fsync_policy", "- Your fsync policy is set to 'always'. It is very hard to get "
                          "good performances with such a setup, if possible try to relax the fsync policy to "
                          "'onesec'.\n"))
        texts.append(("write_load_info", "- Latency during the AOF atomic rename operation or when the final "
                      "difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by "
                      "very high write load, causing the AOF buffer to get very large. If possible try to send "
                      "less commands to accomplish the same work, or use Lua scripts to group multiple operations "
                      "into a single EVALSHA call.\n"))
        if hz < 100:
            texts.append(("hz", "- In order to make the Redis keys expiring process more incremental, try to set "
                          "the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n"))
        texts += [
            ("large_objects", "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
             "blocking operation. If you have very large objects that are often deleted, expired, or evicted, try "
             "to fragment those objects into multiple smaller objects.\n"),
            ("mass_eviction", "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of "
             "large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys "
             "migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying "
             "to evict keys. \n"),
            ("disable_thp", "- I detected a non zero amount of anonymous huge pages used by your process. This "
             "creates very serious latency events in different conditions, especially when Redis is persisting on "
             "disk. To disable THP support use the command 'echo never > "
             "/sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that "
             "the command will be executed again after a reboot. Note that even if you have already disabled THP, "
             "you still need to restart the Redis process to get rid of the huge pages already created.\n"),
        ]
        for key, text in texts:
            if key in adv:
                report.append(text)
    return "".join(report)


def timed(obs: Observer, event: str, t0: float) -> None:
    """latencyEndMonitor + latencyAddSampleIfNeeded for a block started at ``time.perf_counter()`` t0."""
    if obs.latency_threshold:
        ms = int((time.perf_counter() - t0) * 1000)
        obs.latency.add_sample_if_needed(event, ms)

