"""MEMORY USAGE/STATS/DOCTOR/MALLOC-STATS/PURGE/HELP over ``memory.MemoryTracker``.

Sizes are this interpreter's (see memory.py); the allocator figures come from
the process' resident memory, since CPython's allocator keeps no statistics a
server could report the way jemalloc does.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from .._resp import OK, Verbatim
from ..memory import DICT_ENTRY, key_size
from ._help import help_lines
from .table import SYNTAX_ERROR, container, parse_int, subcommand

if TYPE_CHECKING:
    from ..context import Client

container("memory", -2, "", group="server", since="4.0.0", summary="A container for memory diagnostics commands.")


@subcommand("memory", "usage", -3, "readonly", keys=(2, 2, 1), since="4.0.0",
            summary="Estimates the memory usage of a key.")
def memory_usage(c: Client, argv: list[bytes]) -> Any:
    samples = 5
    i = 3
    while i < len(argv):
        if argv[i].lower() == b"samples" and i + 1 < len(argv):
            samples = parse_int(argv[i + 1])
            if samples < 0:
                raise SYNTAX_ERROR
            if samples == 0:
                samples = 2**62
            i += 2
        else:
            raise SYNTAX_ERROR
    value = c.db.peek(argv[2])
    if value is None:
        return None
    return key_size(c.db, argv[2], value, samples)


def _stats(c: Client) -> dict[bytes, Any]:
    from .. import info

    ctx = c.server
    fields = dict(info.section_fields(ctx, info.SECTIONS["memory"]))
    mem = ctx.memory
    used = int(fields["used_memory"])
    peak = int(fields["used_memory_peak"])
    startup = int(fields["used_memory_startup"])
    rss = int(fields["used_memory_rss"])
    backlog = int(fields["mem_replication_backlog"])
    slaves = int(fields["mem_clients_slaves"])
    normal = int(fields["mem_clients_normal"])
    out: dict[bytes, Any] = {
        b"peak.allocated": peak, b"total.allocated": used, b"startup.allocated": startup,
        b"replication.backlog": backlog, b"clients.slaves": slaves, b"clients.normal": normal,
        b"cluster.links": 0, b"aof.buffer": 0, b"lua.caches": int(fields.get("used_memory_scripts_eval", 0)),
        b"functions.caches": int(fields.get("used_memory_functions", 0)),
    }
    overhead = startup + backlog + slaves + normal
    keys = 0
    for db in ctx.dbs:
        n = len(db.data)
        if not n:
            continue
        keys += n
        main = DICT_ENTRY * n
        expires = DICT_ENTRY * len(db.expires)
        overhead += main + expires
        out[b"db.%d" % db.id] = {b"overhead.hashtable.main": main, b"overhead.hashtable.expires": expires}
    dataset = max(0, mem.dataset_bytes() - (overhead - startup - backlog - slaves - normal))
    net = used - startup
    out[b"overhead.total"] = overhead
    out[b"keys.count"] = keys
    out[b"keys.bytes-per-key"] = (net // keys) if keys else 0
    out[b"dataset.bytes"] = dataset
    out[b"dataset.percentage"] = dataset * 100.0 / net if net > 0 else 0.0
    out[b"peak.percentage"] = used * 100.0 / peak if peak else 0.0
    out[b"allocator.allocated"] = used
    out[b"allocator.active"] = used
    out[b"allocator.resident"] = rss
    out[b"allocator-fragmentation.ratio"] = 1.0
    out[b"allocator-fragmentation.bytes"] = 0
    out[b"allocator-rss.ratio"] = rss / used if used else 0.0
    out[b"allocator-rss.bytes"] = rss - used
    out[b"rss-overhead.ratio"] = 1.0
    out[b"rss-overhead.bytes"] = 0
    out[b"fragmentation"] = rss / used if used else 0.0
    out[b"fragmentation.bytes"] = rss - used
    return out


@subcommand("memory", "stats", 2, "", since="4.0.0", summary="Returns details about memory usage.")
def memory_stats(c: Client, argv: list[bytes]) -> Any:
    return _stats(c)


@subcommand("memory", "doctor", 2, "", since="4.0.0", summary="Outputs a memory problems report.")
def memory_doctor(c: Client, argv: list[bytes]) -> Any:
    """getMemoryDoctorReport: the same checks on the same figures."""
    from ..info import memory_rss_and_private

    s = _stats(c)
    used = s[b"total.allocated"]
    # the interpreter's own start-up footprint (~20 MB) is not the instance's use
    if used - s[b"startup.allocated"] < 1024 * 1024 * 5:
        return Verbatim(b"Hi Sam, this instance is empty or is using very little memory, my issues detector can't be "
                        b"used in these conditions. Please, leave for your mission on Earth and fill it with some "
                        b"data. The new Sam and I will be back to our programming as soon as I finished rebooting.")
    issues = []
    if s[b"peak.allocated"] / max(1, used) > 1.5:
        issues.append(" * Peak memory: In the past this instance used more than 150% the memory that is "
                      "currently using. The allocator is normally not able to release memory after a peak, "
                      "so you can expect to see a big fragmentation ratio, however this is actually harmless "
                      "and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is "
                      "currently bigger than expected, the memory will be used as soon as you fill the Redis "
                      "instance with more data. If the memory peak was only occasional and you want to try to "
                      "reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to "
                      "shutdown and restart the instance.\n\n")
    private = memory_rss_and_private()[1]  # shared library pages are not the process' fragmentation
    if private / max(1, used) > 1.4 and private - used > 10 << 20:
        issues.append(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater "
                      "than 1.4 (this means that the Resident Set Size of the Redis process is much larger than "
                      "the sum of the logical allocations Redis performed). This problem is usually due either "
                      "to a large peak memory (check if there is a peak memory entry above in the report) or may "
                      "result from a workload that causes the allocator to fragment memory a lot. If the problem "
                      "is a large peak memory, then there is no issue. Otherwise, make sure you are using the "
                      "Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is "
                      "\"libc\".\n\n")
    nclients = max(1, len(c.server.clients))
    if s[b"clients.normal"] / nclients > 200 * 1024:
        issues.append(" * Big client buffers: The clients output buffers are in general too big, on average "
                      "more than 200k. There are many reasons for this: clients not reading fast enough the "
                      "replies, clients pipelining too much, clients issuing commands that reply with big "
                      "payloads. You can use CLIENT LIST in order to get a list of clients and their buffer "
                      "size.\n\n")
    if not issues:
        return Verbatim(b"Hi Sam, I can't find any memory issue in your instance. I can only account for what "
                        b"occurs on this base.")
    return Verbatim(("Sam, I detected a few issues in this Redis instance memory implants:\n\n" + "".join(issues)
                     + "I'm here to keep you safe, Sam. I want to help you.\n").encode())


@subcommand("memory", "malloc-stats", 2, "", since="4.0.0", summary="Returns the allocator statistics.")
def memory_malloc_stats(c: Client, argv: list[bytes]) -> Any:
    """zmalloc without jemalloc answers "Stats not supported for the current allocator"."""
    return Verbatim(b"Stats not supported for the current allocator")


@subcommand("memory", "purge", 2, "", since="4.0.0", summary="Asks the allocator to release memory.")
def memory_purge(c: Client, argv: list[bytes]) -> Any:
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc returns free heap pages to the system
    except (OSError, AttributeError):
        pass
    return OK


@subcommand("memory", "help", 2, "loading stale", since="4.0.0", summary="Returns helpful text about the different subcommands.")
def memory_help(c: Client, argv: list[bytes]) -> Any:
    from .._resp import Status

    lines = help_lines("MEMORY", [
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
    ])
    lines[-1] = Status(b"    Prints this help.")
    return lines


