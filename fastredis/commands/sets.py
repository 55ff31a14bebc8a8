"""Sets (Redis' t_set.c): SADD/SREM, SPOP/SRANDMEMBER, SMOVE, the algebra (SINTER/SUNION/SDIFF,
their STORE variants, SINTERCARD) and SSCAN.

A set is a Python ``set`` of bytes; an emptied set is deleted.  SPOP is
propagated as SREM (or DEL when it empties the set), like Redis, so replicas
and the AOF never depend on the random choice.
"""

from __future__ import annotations

import random
from itertools import islice
from typing import TYPE_CHECKING, Any

from .._resp import ReplyError, SetReply, string2ll
from ..db import WRONGTYPE
from ..scan import parse_cursor, parse_scan_options, scan
from .table import SYNTAX_ERROR, command, parse_int

if TYPE_CHECKING:
    from ..context import Client

MUST_BE_POSITIVE = ReplyError("ERR value is out of range, must be positive")
RANGE_ERROR = ReplyError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
OUT_OF_RANGE_PLAIN = ReplyError("ERR value is out of range")
NUMKEYS_ERROR = ReplyError("ERR numkeys should be greater than 0")
TOO_MANY_KEYS = ReplyError("ERR Number of keys can't be greater than number of args")
LIMIT_NEGATIVE = ReplyError("ERR LIMIT can't be negative")
LONG_MAX = 2**63 - 1
SREM_BATCH = 1024
# a random-sample reply longer than this would only exhaust memory (Redis would try anyway)
MAX_RANDOM_REPLY = 50_000_000


def _get_set(c: Client, key: bytes, write: bool = False) -> set[bytes] | None:
    return c.db.get_typed(key, set, write)  # type: ignore[no-any-return]


def _random_member(s: set[bytes]) -> bytes:
    return next(islice(iter(s), random.randrange(len(s)), None))


def _small_set(c: Client, s: set[bytes]) -> bool:
    """Would Redis keep this set intset/listpack-encoded (SSCAN then returns it whole)?"""
    cfg = c.server.config
    n = len(s)
    if n <= cfg["set-max-intset-entries"] and all(_is_int(m) for m in s):
        return True
    if n > cfg["set-max-listpack-entries"]:
        return False
    limit = cfg["set-max-listpack-value"]
    return all(len(m) <= limit for m in s)


def _is_int(m: bytes) -> bool:
    return len(m) <= 20 and string2ll(m) is not None


def members_in_order(c: Client, s: set[bytes]) -> list[bytes]:
    """All members, in Redis' order where it is predictable.

    A set of integers small enough for an intset is walked in ascending
    numeric order by Redis; other sets come in hash-table order anyway.
    """
    if len(s) <= c.server.config["set-max-intset-entries"] and all(_is_int(m) for m in s):
        return sorted(s, key=int)
    return list(s)


@command("sadd", -3, "write denyoom fast", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Adds one or more members to a set. Creates the key if it doesn't exist.")
def sadd(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    s = _get_set(c, key, write=True)
    if s is None:
        s = set()
        c.db.add(key, s)
    before = len(s)
    s.update(argv[2:])
    added = len(s) - before
    if added:
        c.db.changed(key, b"sadd", b"s", added)
    return added


@command("srem", -3, "write fast", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Removes one or more members from a set. Deletes the set if the last member was removed.")
def srem(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    s = _get_set(c, key, write=True)
    if s is None:
        return 0
    removed = 0
    for m in argv[2:]:
        if m in s:
            s.discard(m)
            removed += 1
            if not s:
                break
    if removed:
        c.db.changed(key, b"srem", b"s", removed)
        c.db.drop_if_empty(key, s)
    return removed


@command("smembers", 2, "readonly", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Returns all members of a set.")
def smembers(c: Client, argv: list[bytes]) -> Any:
    s = _get_set(c, argv[1])
    return SetReply([] if s is None else members_in_order(c, s))


@command("sismember", 3, "readonly fast", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Determines whether a member belongs to a set.")
def sismember(c: Client, argv: list[bytes]) -> Any:
    s = _get_set(c, argv[1])
    return 1 if s is not None and argv[2] in s else 0


@command("smismember", -3, "readonly fast", keys=(1, 1, 1), group="set", since="6.2.0",
         summary="Determines whether multiple members belong to a set.")
def smismember(c: Client, argv: list[bytes]) -> Any:
    s = _get_set(c, argv[1])
    if s is None:
        return [0] * (len(argv) - 2)
    return [1 if m in s else 0 for m in argv[2:]]


@command("scard", 2, "readonly fast", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Returns the number of members in a set.")
def scard(c: Client, argv: list[bytes]) -> Any:
    s = _get_set(c, argv[1])
    return 0 if s is None else len(s)


def _spop_count(c: Client, key: bytes, count: int) -> Any:
    s = _get_set(c, key, write=True)
    if s is None or count == 0:
        return SetReply([])
    db = c.db
    size = len(s)
    if count >= size:
        out = members_in_order(c, s)
        db.changed(key, b"spop", b"s", 0)
        db.delete(key)
        db.changed(key, b"del", b"g", size)
        lazy = c.server.config["lazyfree-lazy-server-del"]
        c.propagate_argv = [[b"UNLINK" if lazy else b"DEL", key]]
        return SetReply(out)
    out = random.sample(list(s), count)
    s.difference_update(out)
    db.changed(key, b"spop", b"s", count)
    c.propagate_argv = [[b"SREM", key, *out[i:i + SREM_BATCH]] for i in range(0, len(out), SREM_BATCH)]
    return SetReply(out)


@command("spop", -2, "write fast", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Returns one or more random members from a set after removing them. Deletes the set if the "
                 "last member was popped.")
def spop(c: Client, argv: list[bytes]) -> Any:
    if len(argv) == 3:
        count = parse_int(argv[2], MUST_BE_POSITIVE)
        if count < 0:
            raise MUST_BE_POSITIVE
        return _spop_count(c, argv[1], count)
    if len(argv) > 3:
        raise SYNTAX_ERROR
    key = argv[1]
    s = _get_set(c, key, write=True)
    if s is None:
        return None
    # small sets: a uniformly random member; big ones: the hash order Python pops in
    # (already unpredictable, and O(1) where a random index is O(n))
    if len(s) <= 1024:
        m = _random_member(s)
        s.discard(m)
    else:
        m = s.pop()
    c.db.changed(key, b"spop", b"s")
    c.propagate_argv = [[b"SREM", key, m]]
    c.db.drop_if_empty(key, s)
    return m


@command("srandmember", -2, "readonly", keys=(1, 1, 1), group="set", since="1.0.0",
         summary="Get one or multiple random members from a set")
def srandmember(c: Client, argv: list[bytes]) -> Any:
    if len(argv) == 3:
        count = parse_int(argv[2])
        if count < -LONG_MAX:
            raise RANGE_ERROR
        s = _get_set(c, argv[1])
        if s is None or count == 0:
            return []
        if count < 0:
            n = -count
            if n > MAX_RANDOM_REPLY:
                raise OUT_OF_RANGE_PLAIN
            return random.choices(list(s), k=n)
        if count >= len(s):
            return members_in_order(c, s)
        return random.sample(list(s), count)
    if len(argv) > 3:
        raise SYNTAX_ERROR
    s = _get_set(c, argv[1])
    if s is None:
        return None
    return _random_member(s)


@command("smove", 4, "write fast", keys=(1, 2, 1), group="set", since="1.0.0",
         summary="Moves a member from one set to another.")
def smove(c: Client, argv: list[bytes]) -> Any:
    src, dst, m = argv[1], argv[2], argv[3]
    db = c.db
    ss = db.get_for_write(src)
    ds = db.get_for_write(dst)
    if ss is None:
        return 0
    if type(ss) is not set or (ds is not None and type(ds) is not set):
        raise WRONGTYPE
    if ss is ds:
        return 1 if m in ss else 0
    if m not in ss:
        return 0
    ss.discard(m)
    db.changed(src, b"srem", b"s")
    c.db.drop_if_empty(src, ss)
    if ds is None:
        ds = set()
        db.add(dst, ds)
    if m not in ds:
        ds.add(m)
        db.changed(dst, b"sadd", b"s")
    return 1


# ---------------------------------------------------------------------------
# set algebra
# ---------------------------------------------------------------------------

def _load_sets(c: Client, keys: list[bytes], write: bool) -> list[set[bytes] | None]:
    """Every key looked up and type-checked (WRONGTYPE even after a missing key)."""
    out: list[set[bytes] | None] = []
    db = c.db
    for k in keys:
        v = db.get_for_write(k) if write else db.get(k)
        if v is not None and type(v) is not set:
            raise WRONGTYPE
        out.append(v)
    return out


def _inter(sets: list[set[bytes] | None], limit: int = 0) -> set[bytes]:
    present = [s for s in sets if s is not None]
    if len(present) != len(sets):
        return set()
    present.sort(key=len)
    first, rest = present[0], present[1:]
    if not limit:
        return first.intersection(*rest)
    out: set[bytes] = set()
    for m in first:
        if all(m in s for s in rest):
            out.add(m)
            if len(out) >= limit:
                break
    return out


def _union(sets: list[set[bytes] | None]) -> set[bytes]:
    out: set[bytes] = set()
    for s in sets:
        if s:
            out |= s
    return out


def _diff(sets: list[set[bytes] | None]) -> set[bytes]:
    first = sets[0]
    if not first:
        return set()
    out = set(first)
    for s in sets[1:]:
        if s:
            out -= s
            if not out:
                break
    return out


def _store(c: Client, dst: bytes, result: set[bytes], event: bytes) -> int:
    """Store the result at ``dst`` (or delete it when empty) with Redis' events."""
    db = c.db
    if result:
        db.set(dst, result)
        db.changed(dst, event, b"s")
        return len(result)
    if db.delete(dst):
        db.changed(dst, b"del", b"g")
    return 0


@command("sinter", -2, "readonly", keys=(1, -1, 1), group="set", since="1.0.0",
         summary="Returns the intersect of multiple sets.")
def sinter(c: Client, argv: list[bytes]) -> Any:
    return SetReply(list(_inter(_load_sets(c, argv[1:], False))))


@command("sinterstore", -3, "write denyoom", keys=(1, -1, 1), group="set", since="1.0.0",
         summary="Stores the intersect of multiple sets in a key.")
def sinterstore(c: Client, argv: list[bytes]) -> Any:
    result = _inter(_load_sets(c, argv[2:], False))
    return _store(c, argv[1], result, b"sinterstore")


def _sintercard_keys(argv: list[bytes]) -> list[int]:
    try:
        n = int(argv[1])
    except (ValueError, IndexError):
        return []
    if n < 1:
        return []
    return list(range(2, min(2 + n, len(argv))))


@command("sintercard", -3, "readonly", group="set", since="7.0.0", key_finder=_sintercard_keys,
         summary="Returns the number of members of the intersect of multiple sets.")
def sintercard(c: Client, argv: list[bytes]) -> Any:
    numkeys = parse_int(argv[1], NUMKEYS_ERROR)
    if numkeys < 1:
        raise NUMKEYS_ERROR
    if numkeys > len(argv) - 2:
        raise TOO_MANY_KEYS
    limit = 0
    j = 2 + numkeys
    n = len(argv)
    while j < n:
        if argv[j].lower() == b"limit" and n - 1 - j > 0:
            limit = parse_int(argv[j + 1], LIMIT_NEGATIVE)
            if limit < 0:
                raise LIMIT_NEGATIVE
            j += 2
        else:
            raise SYNTAX_ERROR
    return len(_inter(_load_sets(c, argv[2:2 + numkeys], False), limit))


@command("sunion", -2, "readonly", keys=(1, -1, 1), group="set", since="1.0.0",
         summary="Returns the union of multiple sets.")
def sunion(c: Client, argv: list[bytes]) -> Any:
    return SetReply(list(_union(_load_sets(c, argv[1:], False))))


@command("sunionstore", -3, "write denyoom", keys=(1, -1, 1), group="set", since="1.0.0",
         summary="Stores the union of multiple sets in a key.")
def sunionstore(c: Client, argv: list[bytes]) -> Any:
    result = _union(_load_sets(c, argv[2:], False))
    return _store(c, argv[1], result, b"sunionstore")


@command("sdiff", -2, "readonly", keys=(1, -1, 1), group="set", since="1.0.0",
         summary="Returns the difference of multiple sets.")
def sdiff(c: Client, argv: list[bytes]) -> Any:
    return SetReply(list(_diff(_load_sets(c, argv[1:], False))))


@command("sdiffstore", -3, "write denyoom", keys=(1, -1, 1), group="set", since="1.0.0",
         summary="Stores the difference of multiple sets in a key.")
def sdiffstore(c: Client, argv: list[bytes]) -> Any:
    result = _diff(_load_sets(c, argv[2:], False))
    return _store(c, argv[1], result, b"sdiffstore")


@command("sscan", -3, "readonly", keys=(1, 1, 1), group="set", since="2.8.0",
         summary="Iterates over members of a set.")
def sscan(c: Client, argv: list[bytes]) -> Any:
    cursor = parse_cursor(argv[2])
    s = _get_set(c, argv[1])
    if s is None:
        return [b"0", []]
    opts = parse_scan_options(argv, 3)
    if _small_set(c, s):
        nxt, members = 0, members_in_order(c, s)
    else:
        nxt, members = scan(s, cursor, opts.count)
    if opts.match is not None:
        match = opts.matcher()
        members = [m for m in members if match(m)]
    return [str(nxt).encode(), members]
