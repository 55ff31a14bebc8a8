"""The stream value: entries ordered by ID plus consumer groups with their PELs.

IDs are ``(ms, seq)`` tuples of unsigned 64-bit ints, so Python's tuple order is
the stream order.  Entries live in a ``SortedDict`` (O(log n) range reads, trims
from either end); each entry is a flat ``[field, value, field, value, ...]`` list.

The bookkeeping fields mirror Redis' ``stream`` struct one for one so the RDB
writer/loader, XINFO and XADD/XDEL/XTRIM all agree on the same state:
``last_id`` (last generated ID, never goes back), ``max_deleted_entry_id``,
``entries_added`` (all-time XADD count) and, per group, ``entries_read``
(``-1`` when unknown, Redis' ``SCG_INVALID_ENTRIES_READ``).

A pending entry (``PendingEntry``, Redis' NACK) is shared between the group PEL
and the owning consumer's PEL; ``pe.consumer`` points at the ``Consumer`` object.
"""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedDict

from ..db import register_type

StreamID = tuple[int, int]

ZERO_ID: StreamID = (0, 0)
MAX_ID: StreamID = (2**64 - 1, 2**64 - 1)
#: ``entries_read`` value meaning "unknown" (Redis SCG_INVALID_ENTRIES_READ).
INVALID_ENTRIES_READ = -1


def format_id(sid: StreamID) -> bytes:
    """``(ms, seq)`` -> ``b"ms-seq"``."""
    return b"%d-%d" % sid


def parse_id(raw: bytes) -> StreamID | None:
    """Parse a complete ``ms-seq`` (or bare ``ms`` meaning ``ms-0``); None when invalid."""
    ms_s, sep, seq_s = raw.partition(b"-")
    try:
        if not ms_s.isdigit() or (sep and not seq_s.isdigit()):
            return None
        ms = int(ms_s)
        seq = int(seq_s) if sep else 0
    except ValueError:
        return None
    if ms > 2**64 - 1 or seq > 2**64 - 1:
        return None
    return (ms, seq)


class PendingEntry:
    """A delivered but not yet acknowledged message (Redis streamNACK)."""

    __slots__ = ("consumer", "delivery_time", "delivery_count")

    def __init__(self, consumer: Consumer, delivery_time: int, delivery_count: int = 1) -> None:
        self.consumer = consumer
        self.delivery_time = delivery_time  # unix ms of the last delivery
        self.delivery_count = delivery_count

    def __repr__(self) -> str:
        return f"PendingEntry({self.consumer.name!r}, {self.delivery_time}, {self.delivery_count})"


class Consumer:
    """A consumer of a group: its own PEL (same PendingEntry objects as the group's)."""

    __slots__ = ("name", "seen_time", "active_time", "pel")

    def __init__(self, name: bytes, seen_time: int, active_time: int = -1) -> None:
        self.name = name
        self.seen_time = seen_time  # last time the consumer was seen (any interaction), unix ms
        self.active_time = active_time  # last successful read/claim, unix ms; -1 = never
        self.pel: SortedDict = SortedDict()  # StreamID -> PendingEntry

    def __repr__(self) -> str:
        return f"Consumer({self.name!r}, pending={len(self.pel)})"


class ConsumerGroup:
    """A consumer group (Redis streamCG)."""

    __slots__ = ("name", "last_id", "entries_read", "pel", "consumers")

    def __init__(self, name: bytes, last_id: StreamID, entries_read: int = INVALID_ENTRIES_READ) -> None:
        self.name = name
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict = SortedDict()  # StreamID -> PendingEntry
        self.consumers: dict[bytes, Consumer] = {}

    def add_consumer(self, name: bytes, now_ms: int) -> Consumer:
        """Create a consumer (caller checks it does not exist yet)."""
        c = Consumer(name, now_ms)
        self.consumers[name] = c
        return c

    def add_pending(self, sid: StreamID, consumer: Consumer, delivery_time: int, count: int = 1) -> PendingEntry:
        """Record ``sid`` as delivered to ``consumer`` (both PELs)."""
        pe = PendingEntry(consumer, delivery_time, count)
        self.pel[sid] = pe
        consumer.pel[sid] = pe
        return pe

    def ack(self, sid: StreamID) -> bool:
        """Remove ``sid`` from the group PEL and its consumer's; True when it was pending."""
        pe = self.pel.pop(sid, None)
        if pe is None:
            return False
        pe.consumer.pel.pop(sid, None)
        return True

    def __repr__(self) -> str:
        return f"ConsumerGroup({self.name!r}, last_id={self.last_id}, pel={len(self.pel)})"


def _groups_state(s: Stream) -> list:
    """Groups as plain data (for equality): IDs, counters, PELs and consumers."""
    return [(g.name, g.last_id, g.entries_read,
             [(sid, pe.consumer.name, pe.delivery_time, pe.delivery_count) for sid, pe in g.pel.items()],
             sorted((c.name, c.seen_time, c.active_time, list(c.pel)) for c in g.consumers.values()))
            for g in s.groups.values()]


class Stream:
    """A Redis stream."""

    __slots__ = ("entries", "last_id", "max_deleted_entry_id", "entries_added", "groups", "nodes")

    def __init__(self) -> None:
        self.entries: SortedDict = SortedDict()  # StreamID -> list[bytes] (flat field/value)
        self.last_id: StreamID = ZERO_ID
        self.max_deleted_entry_id: StreamID = ZERO_ID
        self.entries_added = 0
        self.groups: dict[bytes, ConsumerGroup] = {}
        # Redis' macro-node layout ([first_id, total, live, bytes] per listpack node), kept by the
        # stream commands so approximate (~) trimming removes the same whole nodes Redis would;
        # None means unknown (rebuilt on demand).
        self.nodes: list[list] | None = None

    # A stream key exists even with no entries (XADD then XDEL, XGROUP CREATE MKSTREAM),
    # so truthiness must not depend on the entry count.
    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def length(self) -> int:
        return len(self.entries)

    @property
    def first_id(self) -> StreamID:
        """ID of the first entry, ``0-0`` when empty (as Redis stores it)."""
        if not self.entries:
            return ZERO_ID
        return self.entries.peekitem(0)[0]  # type: ignore[no-any-return]

    @property
    def last_entry_id(self) -> StreamID:
        """ID of the last entry still present, ``0-0`` when empty."""
        if not self.entries:
            return ZERO_ID
        return self.entries.peekitem(-1)[0]  # type: ignore[no-any-return]

    def add(self, sid: StreamID, fields: list[bytes]) -> None:
        """Append an entry with an ID above ``last_id`` (the caller validated it)."""
        self.entries[sid] = fields
        self.last_id = sid
        self.entries_added += 1

    def delete(self, sid: StreamID) -> bool:
        """XDEL one ID; keeps ``max_deleted_entry_id`` up to date."""
        if self.entries.pop(sid, None) is None:
            return False
        if sid > self.max_deleted_entry_id:
            self.max_deleted_entry_id = sid
        return True

    def range(self, start: StreamID = ZERO_ID, end: StreamID = MAX_ID,
              reverse: bool = False) -> Iterator[tuple[StreamID, list[bytes]]]:
        """Entries with start <= id <= end, in ID order (or reversed)."""
        entries = self.entries
        for sid in entries.irange(start, end, reverse=reverse):
            yield sid, entries[sid]

    def create_group(self, name: bytes, last_id: StreamID,
                     entries_read: int = INVALID_ENTRIES_READ) -> ConsumerGroup | None:
        """New group; None when the name is taken."""
        if name in self.groups:
            return None
        g = ConsumerGroup(name, last_id, entries_read)
        self.groups[name] = g
        return g

    def copy(self) -> Stream:
        """Deep copy (COPY command): groups, consumers and PELs included."""
        s = Stream()
        s.entries = SortedDict((k, list(v)) for k, v in self.entries.items())
        s.last_id = self.last_id
        s.max_deleted_entry_id = self.max_deleted_entry_id
        s.entries_added = self.entries_added
        for name, g in self.groups.items():
            ng = ConsumerGroup(name, g.last_id, g.entries_read)
            for cname, c in g.consumers.items():
                nc = Consumer(cname, c.seen_time, c.active_time)
                ng.consumers[cname] = nc
            for sid, pe in g.pel.items():
                ng.add_pending(sid, ng.consumers[pe.consumer.name], pe.delivery_time, pe.delivery_count)
            s.groups[name] = ng
        return s

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stream):
            return NotImplemented
        return (self.entries == other.entries and self.last_id == other.last_id
                and self.max_deleted_entry_id == other.max_deleted_entry_id
                and self.entries_added == other.entries_added
                and _groups_state(self) == _groups_state(other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Stream(length={len(self.entries)}, last_id={self.last_id}, groups={list(self.groups)})"


register_type(Stream, "stream")
