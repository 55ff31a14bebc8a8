"""Forking the children that write snapshots (BGSAVE, BGREWRITEAOF's base, replication's RDB).

Why it is shaped so: a forked child shares the parent's memory copy-on-write, and a page is copied
as soon as either process writes to it.  CPython writes to an object whenever it touches it
(reference counts, the garbage collector's header), so a naive child copies nearly the whole
dataset.  Three rules keep the pages shared:

- the child walks the keyspace in C over borrowed references (``_rdbfast.dump_database``), which
  never writes to a key or value object;
- the child never runs the cyclic garbage collector (``gc.disable()`` first thing);
- the parent freezes its collector's view (``gc.freeze()``) before forking, so its own collections
  skip every object that existed at the fork while a child lives (``gc.unfreeze()`` once the last
  child is reaped, so garbage cycles from before the fork are still collected afterwards).

The child closes nothing else here: the server's ``register_at_fork`` hook closes the listening
sockets.  Work done in the child ends with ``os._exit`` (never back into the event loop).
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable

_live_children = 0


def fork_child(work: Callable[[], None]) -> int:
    """Fork; the child runs ``work()`` and exits 0 (1 when it raised).  Returns the child's pid.

    Raises OSError when the fork fails (the caller logs Redis' "Can't save in background").
    """
    global _live_children
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        if not _live_children:
            gc.unfreeze()
        raise
    if pid == 0:  # the child
        gc.disable()
        code = 1
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGUSR1, signal.SIG_DFL)
            work()
            code = 0
        except BaseException:  # noqa: B036 - whatever happens, the child must not return
            code = 1
        finally:
            os._exit(code)
    _live_children += 1
    return pid


def child_reaped() -> None:
    """A snapshot child ended: once none is left the parent's collector sees every object again."""
    global _live_children
    _live_children = max(0, _live_children - 1)
    if not _live_children:
        gc.unfreeze()


def private_dirty_kb(pid: int) -> int:
    """Private_Dirty of a process (kB, /proc/<pid>/smaps_rollup): what copy-on-write copied for it."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_kb(pid: int) -> int:
    """Resident set size of a process (kB, /proc/<pid>/status VmRSS)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (/proc/<pid>/task/<pid>/children)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []
