"""Pub/sub registry and keyspace notifications.

Channels and patterns map to the clients subscribed to them (dicts used as
ordered sets, so delivery order is subscription order, like Redis' lists).
Keyspace notifications publish through the same registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._resp import Push
from .glob import compile_pattern

if TYPE_CHECKING:
    from .context import Client, ServerContext

# notify-keyspace-events classes (server.h NOTIFY_*)
NOTIFY_KEYSPACE = 1 << 0
NOTIFY_KEYEVENT = 1 << 1
NOTIFY_GENERIC = 1 << 2
NOTIFY_STRING = 1 << 3
NOTIFY_LIST = 1 << 4
NOTIFY_SET = 1 << 5
NOTIFY_HASH = 1 << 6
NOTIFY_ZSET = 1 << 7
NOTIFY_EXPIRED = 1 << 8
NOTIFY_EVICTED = 1 << 9
NOTIFY_STREAM = 1 << 10
NOTIFY_KEY_MISS = 1 << 11
NOTIFY_LOADED = 1 << 12
NOTIFY_MODULE = 1 << 13
NOTIFY_NEW = 1 << 14
NOTIFY_ALL = (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET
              | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)

CLASS_BITS = {
    "A": NOTIFY_ALL, "g": NOTIFY_GENERIC, "$": NOTIFY_STRING, "l": NOTIFY_LIST, "s": NOTIFY_SET,
    "h": NOTIFY_HASH, "z": NOTIFY_ZSET, "x": NOTIFY_EXPIRED, "e": NOTIFY_EVICTED, "K": NOTIFY_KEYSPACE,
    "E": NOTIFY_KEYEVENT, "t": NOTIFY_STREAM, "m": NOTIFY_KEY_MISS, "d": NOTIFY_MODULE, "n": NOTIFY_NEW,
}
_KLASS = {ord(k): v for k, v in CLASS_BITS.items() if k not in "AKE"}


def parse_flags(text: str) -> int | None:
    """notify-keyspace-events text to bits; None on an unknown class character."""
    flags = 0
    for ch in text:
        bit = CLASS_BITS.get(ch)
        if bit is None:
            return None
        flags |= bit
    return flags


def flags_to_string(flags: int) -> str:
    """Bits back to the canonical text CONFIG GET shows (keyspaceEventsFlagsToString)."""
    out = []
    if flags & NOTIFY_ALL == NOTIFY_ALL:
        out.append("A")
    else:
        for ch, bit in (("g", NOTIFY_GENERIC), ("$", NOTIFY_STRING), ("l", NOTIFY_LIST), ("s", NOTIFY_SET),
                        ("h", NOTIFY_HASH), ("z", NOTIFY_ZSET), ("x", NOTIFY_EXPIRED), ("e", NOTIFY_EVICTED),
                        ("t", NOTIFY_STREAM), ("d", NOTIFY_MODULE), ("n", NOTIFY_NEW)):
            if flags & bit:
                out.append(ch)
    if flags & NOTIFY_KEYSPACE:
        out.append("K")
    if flags & NOTIFY_KEYEVENT:
        out.append("E")
    if flags & NOTIFY_KEY_MISS:
        out.append("m")
    return "".join(out)


class PubSub:
    """Who listens to what."""

    def __init__(self) -> None:
        self.channels: dict[bytes, dict[Client, None]] = {}
        self.patterns: dict[bytes, dict[Client, None]] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}

    def subscribe(self, c: Client, channel: bytes, shard: bool = False) -> bool:
        mine = c.shard_channels if shard else c.channels
        if channel in mine:
            return False
        mine.add(channel)
        reg = self.shard_channels if shard else self.channels
        reg.setdefault(channel, {})[c] = None
        return True

    def unsubscribe(self, c: Client, channel: bytes, shard: bool = False) -> bool:
        mine = c.shard_channels if shard else c.channels
        if channel not in mine:
            return False
        mine.discard(channel)
        reg = self.shard_channels if shard else self.channels
        subs = reg.get(channel)
        if subs is not None:
            subs.pop(c, None)
            if not subs:
                del reg[channel]
        return True

    def psubscribe(self, c: Client, pattern: bytes) -> bool:
        if pattern in c.patterns:
            return False
        c.patterns.add(pattern)
        self.patterns.setdefault(pattern, {})[c] = None
        return True

    def punsubscribe(self, c: Client, pattern: bytes) -> bool:
        if pattern not in c.patterns:
            return False
        c.patterns.discard(pattern)
        subs = self.patterns.get(pattern)
        if subs is not None:
            subs.pop(c, None)
            if not subs:
                del self.patterns[pattern]
        return True

    def drop(self, c: Client) -> None:
        """Forget a client (disconnect or RESET)."""
        for ch in list(c.channels):
            self.unsubscribe(c, ch)
        for ch in list(c.shard_channels):
            self.unsubscribe(c, ch, shard=True)
        for p in list(c.patterns):
            self.punsubscribe(c, p)

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver to channel subscribers then pattern subscribers; returns receivers."""
        n = 0
        subs = self.channels.get(channel)
        if subs:
            msg = Push([b"message", channel, message])
            for c in list(subs):
                c.send_push(msg)
                n += 1
        if self.patterns:
            for pattern, psubs in list(self.patterns.items()):
                if compile_pattern(pattern).match(channel) is None:
                    continue
                pmsg = Push([b"pmessage", pattern, channel, message])
                for c in list(psubs):
                    c.send_push(pmsg)
                    n += 1
        return n

    def spublish(self, channel: bytes, message: bytes) -> int:
        subs = self.shard_channels.get(channel)
        if not subs:
            return 0
        msg = Push([b"smessage", channel, message])
        for c in list(subs):
            c.send_push(msg)
        return len(subs)


def attach_notifications(server: ServerContext) -> None:
    """Wire notify-keyspace-events into ServerContext.notify."""
    pubsub: PubSub = server.pubsub

    def notify(klass: bytes, event: bytes, key: bytes, dbid: int) -> None:
        flags = server.notify_flags
        bit = _KLASS.get(klass[0], 0) if klass else 0
        if not flags & bit:
            return
        if flags & NOTIFY_KEYSPACE:
            pubsub.publish(b"__keyspace@%d__:%s" % (dbid, key), event)
        if flags & NOTIFY_KEYEVENT:
            pubsub.publish(b"__keyevent@%d__:%s" % (dbid, event), key)

    server.notify_hook = notify

    def apply(text: str) -> None:
        flags = parse_flags(text)
        server.notify_flags = flags or 0
        server.state_changed()

    apply(server.config["notify-keyspace-events"])
    server.config.on_change("notify-keyspace-events", apply)
