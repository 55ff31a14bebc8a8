"""Cursor iteration shared by the SCAN family (SCAN, HSCAN, SSCAN, ZSCAN).

Redis guarantees that a full iteration returns every element that was present
for the whole iteration at least once, even if the collection changes between
calls.  Python dicts and sets give no stable order across inserts, so the
cursor here is a position in *hash order*: every element has a fixed 64-bit
position (``hash(element) + 2**63``, stable for the life of the process), a
call returns the next elements whose position is >= the cursor, and the new
cursor is the position of the first element not returned (0 when done).

Finding "the next elements after position p" needs the elements sorted by
hash.  That sorted snapshot is built when an iteration starts (cursor 0) and
cached per container object, so a full iteration costs O(N log N) once and
O(COUNT + log N) per call.  Any snapshot built at or after the start of an
iteration contains every element that survived since then, and elements
removed later are filtered out by a membership test, so the guarantee holds
whichever snapshot a call happens to use.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from ._resp import ReplyError, string2ll
from .glob import matcher

# defined here rather than imported from commands.table so that this module
# can be imported before the command package (no import cycle)
INVALID_CURSOR = ReplyError("ERR invalid cursor")
SYNTAX_ERROR = ReplyError("ERR syntax error")
NOT_INTEGER = ReplyError("ERR value is not an integer or out of range")

_OFFSET = 1 << 63
_ULONG_MAX = (1 << 64) - 1
_CACHE_SIZE = 8

# id(container) -> (container, sorted distinct signed hashes, hash -> element or list of colliding ones)
_snapshots: OrderedDict[int, tuple[Any, list[int], dict[int, Any]]] = OrderedDict()


def parse_cursor(arg: bytes) -> int:
    """Parse a cursor like Redis' strtoul-based parseScanCursorOrReply.

    Accepts an optional sign ("-1" wraps to 2**64-1 as strtoul does) and an
    empty string (0); rejects spaces, junk and values above 2**64-1.
    """
    s = bytes(arg)
    if not s:
        return 0
    if s[:1].isspace():
        raise INVALID_CURSOR
    neg = False
    body = s
    if body[:1] in (b"+", b"-"):
        neg = body[:1] == b"-"
        body = body[1:]
    if not body:
        # strtoul parses nothing: eptr points at the sign, not at the end
        raise INVALID_CURSOR
    if not body.isdigit():
        raise INVALID_CURSOR
    v = int(body)
    if v > _ULONG_MAX:
        raise INVALID_CURSOR
    if neg and v:
        v = (-v) & _ULONG_MAX
    return v


@dataclass
class ScanOptions:
    """MATCH / COUNT / TYPE arguments of a SCAN-family command."""

    match: bytes | None = None
    count: int = 10
    type: bytes | None = None

    def matcher(self) -> Callable[[bytes], bool]:
        return matcher(self.match)


def parse_scan_options(argv: list[bytes], start: int, allow_type: bool = False) -> ScanOptions:
    """Parse ``[MATCH pattern] [COUNT count] [TYPE type]`` from ``argv[start:]``.

    COUNT must be an integer >= 1 (a smaller one is a syntax error, as in
    Redis); TYPE is only accepted for the keyspace SCAN.
    """
    opts = ScanOptions()
    i = start
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        more = n - i - 1
        if opt == b"count" and more >= 1:
            count = string2ll(argv[i + 1])
            if count is None:
                raise NOT_INTEGER
            if count < 1:
                raise SYNTAX_ERROR
            opts.count = count
            i += 2
        elif opt == b"match" and more >= 1:
            opts.match = argv[i + 1]
            i += 2
        elif opt == b"type" and allow_type and more >= 1:
            opts.type = argv[i + 1]
            i += 2
        else:
            raise SYNTAX_ERROR
    return opts


class _Collided(list):  # type: ignore[type-arg]
    """Several elements sharing one hash value (rare)."""


def _snapshot(container: Collection[Any], fresh: bool) -> tuple[list[int], dict[int, Any]]:
    key = id(container)
    entry = _snapshots.get(key)
    if entry is not None and entry[0] is container and not fresh:
        _snapshots.move_to_end(key)
        return entry[1], entry[2]
    # sorting plain ints and one dict build keep this mostly in C
    by_hash: dict[int, Any] = dict(zip(map(hash, container), container, strict=True))
    if len(by_hash) != len(container):
        by_hash = {}
        for e in container:
            h = hash(e)
            prev = by_hash.get(h)
            if prev is None:
                by_hash[h] = e
            elif type(prev) is _Collided:
                prev.append(e)
            else:
                by_hash[h] = _Collided((prev, e))
    hashes = sorted(by_hash)
    _snapshots[key] = (container, hashes, by_hash)
    _snapshots.move_to_end(key)
    while len(_snapshots) > _CACHE_SIZE:
        _snapshots.popitem(last=False)
    return hashes, by_hash


def forget(container: Any) -> None:
    """Drop a cached snapshot (optional: the cache is small and bounded anyway)."""
    entry = _snapshots.get(id(container))
    if entry is not None and entry[0] is container:
        del _snapshots[id(container)]


def scan(container: Collection[Any], cursor: int, count: int) -> tuple[int, list[Any]]:
    """One SCAN step over a dict (its keys) or set: (next cursor, elements).

    Returns about ``count`` elements still present in ``container`` whose hash
    position is >= ``cursor``; elements with equal positions (hash collisions)
    always come together so the next cursor never splits them.
    """
    if not container:
        return 0, []
    hashes, by_hash = _snapshot(container, cursor == 0)
    n = len(hashes)
    i = bisect_left(hashes, cursor - _OFFSET) if cursor else 0
    j = min(n, i + max(1, count))
    out: list[Any] = []
    for h in hashes[i:j]:
        e = by_hash[h]
        if type(e) is _Collided:
            out.extend(x for x in e if x in container)
        elif e in container:
            out.append(e)
    if j >= n:
        forget(container)
        return 0, out
    return hashes[j] + _OFFSET, out


def scan_all(container: Collection[Any]) -> tuple[int, list[Any]]:
    """The whole collection in one reply (Redis does this for small encodings)."""
    return 0, list(container)
