"""Sorted set commands (Redis' t_zset.c): ZADD ... ZSCAN, blocking pops, set algebra.

Values are ``types.zset.ZSet``.  Ranks and ranges bisect the SortedList, so
every range command is O(log n + m).  Number parsing follows Redis' C helpers
exactly (``string2d`` for scores and weights, bare ``strtod`` for range
bounds), see ``strtod`` below.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._resp import NULL_ARRAY, ReplyError, format_double
from ..blocking import parse_timeout
from ..db import WRONGTYPE
from ..numbers import _cstr, string2d, strtod, strtod_full  # noqa: F401
from ..scan import parse_cursor, parse_scan_options, scan
from ..types.zset import LexBound, ZSet
from .table import NOT_FLOAT, SYNTAX_ERROR, command, parse_int, wrong_arity

if TYPE_CHECKING:
    from ..context import Client

# ---------------------------------------------------------------------------
# C number parsing
# ---------------------------------------------------------------------------

def parse_double(arg: bytes, error: ReplyError = NOT_FLOAT) -> float:
    """getDoubleFromObjectOrReply."""
    v = string2d(arg)
    if v is None:
        raise error
    return v


MIN_MAX_NOT_FLOAT = ReplyError("ERR min or max is not a float")
MIN_MAX_NOT_STRING = ReplyError("ERR min or max not valid string range item")


def _parse_range_item(arg: bytes) -> tuple[float, bool]:
    ex = arg[:1] == b"("
    v, full, _erange = strtod_full(arg[1:] if ex else arg)
    if not full or v != v:
        raise MIN_MAX_NOT_FLOAT
    return v, ex


def parse_score_range(mn: bytes, mx: bytes) -> tuple[float, bool, float, bool]:
    """zslParseRange: ``(`` makes an end exclusive."""
    a, aex = _parse_range_item(mn)
    b, bex = _parse_range_item(mx)
    return a, aex, b, bex


def _parse_lex_item(arg: bytes) -> LexBound:
    c = _cstr(arg)
    if c[:1] == b"+":
        if len(c) != 1:
            raise MIN_MAX_NOT_STRING
        return LexBound(1)
    if c[:1] == b"-":
        if len(c) != 1:
            raise MIN_MAX_NOT_STRING
        return LexBound(-1)
    if arg[:1] == b"(":
        return LexBound(0, bytes(arg[1:]), True)
    if arg[:1] == b"[":
        return LexBound(0, bytes(arg[1:]), False)
    raise MIN_MAX_NOT_STRING


def parse_lex_range(mn: bytes, mx: bytes) -> tuple[LexBound, LexBound]:
    """zslParseLexRange: ``-``, ``+``, ``[inclusive`` or ``(exclusive``."""
    return _parse_lex_item(mn), _parse_lex_item(mx)


def _positive_long(arg: bytes, msg: str = "ERR value is out of range, must be positive") -> int:
    """getPositiveLongFromObjectOrReply (a custom message covers both failures)."""
    err = ReplyError(msg)
    v = parse_int(arg, err)
    if v < 0:
        raise err
    return v


def _range_long(arg: bytes, lo: int, msg: str) -> int:
    """getRangeLongFromObjectOrReply with a message (used for both failures)."""
    err = ReplyError(msg)
    v = parse_int(arg, err)
    if v < lo:
        raise err
    return v


# ---------------------------------------------------------------------------
# Helpers shared with geo.py and sort.py
# ---------------------------------------------------------------------------


def get_zset(c: Client, key: bytes, write: bool = False) -> ZSet | None:
    return c.db.get_typed(key, ZSet, write)  # type: ignore[no-any-return]


def listpack_limits(c: Client) -> tuple[int, int]:
    cfg = c.server.config
    return int(cfg["zset-max-listpack-entries"]), int(cfg["zset-max-listpack-value"])


def store_zset(c: Client, dst: bytes, z: ZSet, event: bytes, dirty: int = 1) -> None:
    """setKey a computed sorted set (non-empty), with its encoding, event and readiness."""
    db = c.db
    entries, value = listpack_limits(c)
    z.big = False
    z.convert_if_needed(entries, value)
    if not z.big:
        z.normalize_zeros()
    db.set(dst, z)
    db.changed(dst, event, b"z", dirty)
    db.signal_ready(dst)


def delete_dst(c: Client, dst: bytes) -> None:
    """An empty result removes the destination key (dbDelete + del event)."""
    db = c.db
    if db.delete(dst):
        db.changed(dst, b"del", b"g")


def with_scores(c: Client, pairs: Iterable[tuple[bytes, float]]) -> list[Any]:
    """Members and scores: flat in RESP2, [member, score] pairs in RESP3."""
    if c.resp > 2:
        return [[m, s] for m, s in pairs]
    out: list[Any] = []
    for m, s in pairs:
        out.append(m)
        out.append(s)
    return out


# ---------------------------------------------------------------------------
# ZADD / ZINCRBY / ZREM
# ---------------------------------------------------------------------------

_NAN_ERR = ReplyError("ERR resulting score is not a number (NaN)")


def _zadd_generic(c: Client, argv: list[bytes], incr: bool) -> Any:
    key = argv[1]
    nx = xx = gt = lt = ch = False
    idx = 2
    argc = len(argv)
    while idx < argc:
        opt = argv[idx].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt == b"ch":
            ch = True
        elif opt == b"incr":
            incr = True
        elif opt == b"gt":
            gt = True
        elif opt == b"lt":
            lt = True
        else:
            break
        idx += 1
    elements = argc - idx
    if elements % 2 or not elements:
        raise SYNTAX_ERROR
    elements //= 2
    if nx and xx:
        raise ReplyError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise ReplyError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and elements > 1:
        raise ReplyError("ERR INCR option supports a single increment-element pair")
    scores = [parse_double(argv[idx + 2 * j]) for j in range(elements)]
    db = c.db
    z = get_zset(c, key, write=True)
    added = updated = processed = 0
    score = 0.0
    error: ReplyError | None = None
    entries, maxval = listpack_limits(c)
    if z is None and not xx:
        z = ZSet()
        if entries == 0 or maxval < len(argv[idx + 1]):
            z.big = True
        db.add(key, z)
    if z is not None:
        d = z.dict
        for j in range(elements):
            score = scores[j]
            ele = argv[idx + 1 + 2 * j]
            cur = d.get(ele)
            if cur is not None:
                if nx:
                    continue
                if incr:
                    score += cur
                    if score != score:
                        error = _NAN_ERR
                        break
                if (lt and score >= cur) or (gt and score <= cur):
                    continue
                processed += 1
                if score != cur:
                    z.add(ele, score)
                    updated += 1
            elif not xx:
                ele = bytes(ele)
                if not z.big and (len(d) + 1 > entries or len(ele) > maxval):
                    z.big = True
                z.add(ele, score)
                added += 1
                processed += 1
        if not z:
            db.delete(key)  # only reachable when a NaN aborted the first add
    if added or updated:
        db.changed(key, b"zincr" if incr else b"zadd", b"z", added + updated)
        if added:
            db.signal_ready(key)
    if error is not None:
        raise error
    if incr:
        return score if processed else None
    return added + updated if ch else added


@command("zadd", -4, "write denyoom fast", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         acl="@write @sortedset @fast",
         summary="Add one or more members to a sorted set, or update its score if it already exists",
         complexity="O(log(N)) for each item added, where N is the number of elements in the sorted set.")
def zadd(c: Client, argv: list[bytes]) -> Any:
    return _zadd_generic(c, argv, False)


@command("zincrby", 4, "write denyoom fast", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         acl="@write @sortedset @fast", summary="Increment the score of a member in a sorted set",
         complexity="O(log(N)) where N is the number of elements in the sorted set.")
def zincrby(c: Client, argv: list[bytes]) -> Any:
    return _zadd_generic(c, argv, True)


@command("zrem", -3, "write fast", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         acl="@write @sortedset @fast", summary="Remove one or more members from a sorted set",
         complexity="O(M*log(N)) with N being the number of elements in the sorted set and M the number of "
                    "elements to be removed.")
def zrem(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    z = get_zset(c, key, write=True)
    if z is None:
        return 0
    db = c.db
    deleted = 0
    removed_key = False
    for m in argv[2:]:
        if z.remove(m):
            deleted += 1
        if not z:
            db.delete(key)
            removed_key = True
            break
    if deleted:
        db.changed(key, b"zrem", b"z", deleted)
        if removed_key:
            db.changed(key, b"del", b"g", 0)
    return deleted


# ---------------------------------------------------------------------------
# Reads: ZCARD ZSCORE ZMSCORE ZRANK ZCOUNT ZLEXCOUNT
# ---------------------------------------------------------------------------


@command("zcard", 2, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         acl="@read @sortedset @fast", summary="Get the number of members in a sorted set",
         complexity="O(1)")
def zcard(c: Client, argv: list[bytes]) -> Any:
    z = get_zset(c, argv[1])
    return 0 if z is None else len(z)


@command("zscore", 3, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         acl="@read @sortedset @fast",
         summary="Get the score associated with the given member in a sorted set", complexity="O(1)")
def zscore(c: Client, argv: list[bytes]) -> Any:
    z = get_zset(c, argv[1])
    if z is None:
        return None
    return z.dict.get(argv[2])


@command("zmscore", -3, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="6.2.0",
         acl="@read @sortedset @fast",
         summary="Get the score associated with the given members in a sorted set",
         complexity="O(N) where N is the number of members being requested.")
def zmscore(c: Client, argv: list[bytes]) -> Any:
    z = get_zset(c, argv[1])
    if z is None:
        return [None] * (len(argv) - 2)
    d = z.dict
    return [d.get(m) for m in argv[2:]]


def _zrank_generic(c: Client, argv: list[bytes], reverse: bool) -> Any:
    if len(argv) > 4:
        raise wrong_arity(argv[0].decode("utf-8", "replace").lower())
    withscore = False
    if len(argv) > 3:
        if argv[3].lower() != b"withscore":
            raise SYNTAX_ERROR
        withscore = True
    z = get_zset(c, argv[1])
    missing = NULL_ARRAY if withscore else None
    if z is None:
        return missing
    member = argv[2]
    rank = z.rank(member)
    if rank is None:
        return missing
    if reverse:
        rank = len(z) - 1 - rank
    if withscore:
        return [rank, z.dict[member]]
    return rank


@command("zrank", -3, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="2.0.0",
         acl="@read @sortedset @fast", summary="Determine the index of a member in a sorted set",
         complexity="O(log(N))")
def zrank(c: Client, argv: list[bytes]) -> Any:
    return _zrank_generic(c, argv, False)


@command("zrevrank", -3, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="2.0.0",
         acl="@read @sortedset @fast",
         summary="Determine the index of a member in a sorted set, with scores ordered from high to low",
         complexity="O(log(N))")
def zrevrank(c: Client, argv: list[bytes]) -> Any:
    return _zrank_generic(c, argv, True)


@command("zcount", 4, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="2.0.0",
         acl="@read @sortedset @fast",
         summary="Count the members in a sorted set with scores within the given values",
         complexity="O(log(N)) with N being the number of elements in the sorted set.")
def zcount(c: Client, argv: list[bytes]) -> Any:
    rng = parse_score_range(argv[2], argv[3])
    z = get_zset(c, argv[1])
    if z is None:
        return 0
    return z.count_in_score_range(*rng)


@command("zlexcount", 4, "readonly fast", keys=(1, 1, 1), group="sorted-set", since="2.8.9",
         acl="@read @sortedset @fast",
         summary="Count the number of members in a sorted set between a given lexicographical range",
         complexity="O(log(N)) with N being the number of elements in the sorted set.")
def zlexcount(c: Client, argv: list[bytes]) -> Any:
    mn, mx = parse_lex_range(argv[2], argv[3])
    z = get_zset(c, argv[1])
    if z is None:
        return 0
    lo, hi = z.lex_range(mn, mx)
    return hi - lo


# ---------------------------------------------------------------------------
# ZRANGE family
# ---------------------------------------------------------------------------

AUTO, RANK, SCORE, LEX = 0, 1, 2, 3
FORWARD, REVERSE = 1, 2


def _window(lo: int, hi: int, offset: int, limit: int) -> tuple[int, int] | None:
    """Apply LIMIT offset count to ranks [lo, hi) as Redis' walk does (count < 0: all)."""
    if lo >= hi or offset < 0:
        return None
    n = hi - lo
    if offset >= n:
        return None
    cnt = n - offset if limit < 0 else min(limit, n - offset)
    if cnt <= 0:
        return None
    return offset, cnt


def _lex_offset_walk(z: ZSet, mn: Any, mx: Any, reverse: bool, lo: int, hi: int, offset: int,
                     limit: int) -> list[tuple[bytes, float]]:
    """LIMIT on a lex range over mixed scores, as genericZrangebylexCommand walks it.

    Redis skips ``offset`` members from the first one in range without checking
    them, then emits while the member is <= max (>= min when reversed); with mixed
    scores the members in range are not contiguous, so this can differ from a window.
    """
    sl = z.sl
    out: list[tuple[bytes, float]] = []
    if not reverse:
        i, step = lo + offset, 1
    else:
        i, step = hi - 1 - offset, -1
    while 0 <= i < len(sl) and limit != 0:
        s, m = sl[i]
        c = mx.cmp(m) if not reverse else mn.cmp(m)
        if not reverse and not (c < 0 if mx.ex else c <= 0):
            break
        if reverse and not (c > 0 if mn.ex else c >= 0):
            break
        out.append((m, s))
        limit -= 1
        i += step
    return out


def zset_range(z: ZSet, rangetype: int, reverse: bool, args: tuple[Any, ...], offset: int = 0,
               limit: int = -1) -> list[tuple[bytes, float]]:
    """The (member, score) pairs selected by a ZRANGE-style query on ``z``."""
    llen = len(z)
    if rangetype == RANK:
        start, end = args
        if start < 0:
            start += llen
        if end < 0:
            end += llen
        if start < 0:
            start = 0
        if start > end or start >= llen:
            return []
        if end >= llen:
            end = llen - 1
        if reverse:
            it = z.slice(llen - 1 - end, llen - start, reverse=True)
        else:
            it = z.slice(start, end + 1)
        return [(m, s) for s, m in it]
    if rangetype == SCORE:
        if offset > 0 and offset >= llen:
            return []
        lo, hi = z.score_range(*args)
    else:
        lo, hi = z.lex_range(args[0], args[1], reverse)
        if offset > 0 and lo < hi and z.sl[0][0] != z.sl[-1][0]:
            return _lex_offset_walk(z, args[0], args[1], reverse, lo, hi, offset, limit)
    w = _window(lo, hi, offset, limit)
    if w is None:
        return []
    off, cnt = w
    if reverse:
        top = hi - off
        it = z.slice(top - cnt, top, reverse=True)
    else:
        it = z.slice(lo + off, lo + off + cnt)
    return [(m, s) for s, m in it]


def _zrange_generic(c: Client, argv: list[bytes], argc_start: int, store: bool, rangetype: int,
                    direction: int) -> Any:
    key = argv[argc_start]
    minidx, maxidx = argc_start + 1, argc_start + 2
    withscores = False
    offset = 0
    limit = -1
    argc = len(argv)
    j = argc_start + 3
    while j < argc:
        left = argc - j - 1
        opt = argv[j].lower()
        if not store and opt == b"withscores":
            withscores = True
        elif opt == b"limit" and left >= 2:
            offset = parse_int(argv[j + 1])
            limit = parse_int(argv[j + 2])
            j += 2
        elif direction == AUTO and opt == b"rev":
            direction = REVERSE
        elif rangetype == AUTO and opt == b"bylex":
            rangetype = LEX
        elif rangetype == AUTO and opt == b"byscore":
            rangetype = SCORE
        else:
            raise SYNTAX_ERROR
        j += 1
    if direction == AUTO:
        direction = FORWARD
    if rangetype == AUTO:
        rangetype = RANK
    if limit != -1 and rangetype == RANK:
        raise ReplyError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    if withscores and rangetype == LEX:
        raise ReplyError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    reverse = direction == REVERSE
    if reverse and rangetype in (SCORE, LEX):
        minidx, maxidx = maxidx, minidx
    args: tuple[Any, ...]
    if rangetype == RANK:
        args = (parse_int(argv[minidx]), parse_int(argv[maxidx]))
    elif rangetype == SCORE:
        args = parse_score_range(argv[minidx], argv[maxidx])
    else:
        args = parse_lex_range(argv[minidx], argv[maxidx])
    z = get_zset(c, key)
    if z is None:
        if store:
            delete_dst(c, argv[1])
            return 0
        return []
    pairs = zset_range(z, rangetype, reverse, args, offset, limit)
    if store:
        if not pairs:
            delete_dst(c, argv[1])
            return 0
        nz = ZSet()
        nz.big = True  # built like Redis' skiplist result; store_zset picks the encoding
        for m, s in pairs:
            nz.add(m, s)
        store_zset(c, argv[1], nz, b"zrangestore")
        return len(pairs)
    if withscores:
        return with_scores(c, pairs)
    return [m for m, _s in pairs]


@command("zrange", -4, "readonly", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         acl="@read @sortedset @slow", summary="Return a range of members in a sorted set",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements returned.")
def zrange(c: Client, argv: list[bytes]) -> Any:
    return _zrange_generic(c, argv, 1, False, AUTO, AUTO)


@command("zrangestore", -5, "write denyoom", keys=(1, 2, 1), group="sorted-set", since="6.2.0",
         acl="@write @sortedset @slow", summary="Store a range of members from sorted set into another key",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements stored into the destination key.")
def zrangestore(c: Client, argv: list[bytes]) -> Any:
    return _zrange_generic(c, argv, 2, True, AUTO, AUTO)


@command("zrevrange", -4, "readonly", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         acl="@read @sortedset @slow",
         summary="Return a range of members in a sorted set, by index, with scores ordered from high to low",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements returned.")
def zrevrange(c: Client, argv: list[bytes]) -> Any:
    return _zrange_generic(c, argv, 1, False, RANK, REVERSE)


@command("zrangebyscore", -4, "readonly", keys=(1, 1, 1), group="sorted-set", since="1.0.5",
         acl="@read @sortedset @slow", summary="Return a range of members in a sorted set, by score",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements being returned.")
def zrangebyscore(c: Client, argv: list[bytes]) -> Any:
    return _zrange_generic(c, argv, 1, False, SCORE, FORWARD)


@command("zrevrangebyscore", -4, "readonly", keys=(1, 1, 1), group="sorted-set", since="2.2.0",
         acl="@read @sortedset @slow",
         summary="Return a range of members in a sorted set, by score, with scores ordered from high to low",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements being returned.")
def zrevrangebyscore(c: Client, argv: list[bytes]) -> Any:
    return _zrange_generic(c, argv, 1, False, SCORE, REVERSE)


@command("zrangebylex", -4, "readonly", keys=(1, 1, 1), group="sorted-set", since="2.8.9",
         acl="@read @sortedset @slow",
         summary="Return a range of members in a sorted set, by lexicographical range",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements being returned.")
def zrangebylex(c: Client, argv: list[bytes]) -> Any:
    return _zrange_generic(c, argv, 1, False, LEX, FORWARD)


@command("zrevrangebylex", -4, "readonly", keys=(1, 1, 1), group="sorted-set", since="2.8.9",
         acl="@read @sortedset @slow",
         summary="Return a range of members in a sorted set, by lexicographical range, ordered from higher "
                 "to lower strings.",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements being returned.")
def zrevrangebylex(c: Client, argv: list[bytes]) -> Any:
    return _zrange_generic(c, argv, 1, False, LEX, REVERSE)


# ---------------------------------------------------------------------------
# ZREMRANGEBY*
# ---------------------------------------------------------------------------


def _zremrange_generic(c: Client, argv: list[bytes], rangetype: int) -> Any:
    key = argv[1]
    if rangetype == RANK:
        event = b"zremrangebyrank"
        start, end = parse_int(argv[2]), parse_int(argv[3])
    elif rangetype == SCORE:
        event = b"zremrangebyscore"
        srange = parse_score_range(argv[2], argv[3])
    else:
        event = b"zremrangebylex"
        lrange = parse_lex_range(argv[2], argv[3])
    z = get_zset(c, key, write=True)
    if z is None:
        return 0
    llen = len(z)
    if rangetype == RANK:
        if start < 0:
            start += llen
        if end < 0:
            end += llen
        if start < 0:
            start = 0
        if start > end or start >= llen:
            return 0
        if end >= llen:
            end = llen - 1
        lo, hi = start, end + 1
    elif rangetype == SCORE:
        lo, hi = z.score_range(*srange)
    else:
        lo, hi = z.lex_range(lrange[0], lrange[1])
    deleted = z.delete_slice(lo, hi)
    db = c.db
    if deleted:
        removed_key = not z
        if removed_key:
            db.delete(key)
        db.changed(key, event, b"z", deleted)
        if removed_key:
            db.changed(key, b"del", b"g", 0)
    return deleted


@command("zremrangebyrank", 4, "write", keys=(1, 1, 1), group="sorted-set", since="2.0.0",
         acl="@write @sortedset @slow", summary="Remove all members in a sorted set within the given indexes",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements removed by the operation.")
def zremrangebyrank(c: Client, argv: list[bytes]) -> Any:
    return _zremrange_generic(c, argv, RANK)


@command("zremrangebyscore", 4, "write", keys=(1, 1, 1), group="sorted-set", since="1.2.0",
         acl="@write @sortedset @slow", summary="Remove all members in a sorted set within the given scores",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements removed by the operation.")
def zremrangebyscore(c: Client, argv: list[bytes]) -> Any:
    return _zremrange_generic(c, argv, SCORE)


@command("zremrangebylex", 4, "write", keys=(1, 1, 1), group="sorted-set", since="2.8.9",
         acl="@write @sortedset @slow",
         summary="Remove all members in a sorted set between the given lexicographical range",
         complexity="O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
                    "elements removed by the operation.")
def zremrangebylex(c: Client, argv: list[bytes]) -> Any:
    return _zremrange_generic(c, argv, LEX)


# ---------------------------------------------------------------------------
# Pops: ZPOPMIN/MAX, BZPOPMIN/MAX, ZMPOP, BZMPOP
# ---------------------------------------------------------------------------

ZSET_MIN, ZSET_MAX = 0, 1
_POP_NAME = (b"ZPOPMIN", b"ZPOPMAX")
_POP_EVENT = (b"zpopmin", b"zpopmax")


def _pop_from(c: Client, key: bytes, z: ZSet, where: int, emitkey: bool, count: int,
              nested: bool) -> tuple[Any, int]:
    """genericZpopCommand on one non-empty zset: (reply, number popped)."""
    if count == 0:
        return [], 0
    n = 1 if count == -1 else count
    rangelen = min(n, len(z))
    idx = -1 if where == ZSET_MAX else 0
    popped = [z.pop_at(idx) for _ in range(rangelen)]
    db = c.db
    db.changed(key, _POP_EVENT[where], b"z", rangelen)
    db.drop_if_empty(key, z)
    if nested:
        items: list[Any] = [[m, s] for s, m in popped]
    else:
        items = []
        for s, m in popped:
            items.append(m)
            items.append(s)
    if emitkey:
        return ([key, items] if nested else [key, *items]), rangelen
    return items, rangelen


def _zpop_keys(c: Client, keys: list[bytes], where: int, emitkey: bool, count: int, nested: bool,
               nil_when_empty: bool) -> tuple[Any, list[bytes] | None]:
    """Pop from the first existing key: (reply, argv to propagate or None)."""
    for key in keys:
        z = get_zset(c, key, write=True)
        if z is None:
            continue
        reply, popped = _pop_from(c, key, z, where, emitkey, count, nested)
        if popped == 0:
            return reply, None
        return reply, [_POP_NAME[where], key, str(popped).encode()]
    return (NULL_ARRAY if nil_when_empty else []), None


def _zpop_minmax(c: Client, argv: list[bytes], where: int) -> Any:
    if len(argv) > 3:
        raise SYNTAX_ERROR
    count = -1
    if len(argv) == 3:
        count = _positive_long(argv[2])
    nested = c.resp > 2 and count != -1
    reply, _prop = _zpop_keys(c, [argv[1]], where, False, count, nested, False)
    return reply


@command("zpopmin", -2, "write fast", keys=(1, 1, 1), group="sorted-set", since="5.0.0",
         acl="@write @sortedset @fast",
         summary="Remove and return members with the lowest scores in a sorted set",
         complexity="O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
                    "number of elements popped.")
def zpopmin(c: Client, argv: list[bytes]) -> Any:
    return _zpop_minmax(c, argv, ZSET_MIN)


@command("zpopmax", -2, "write fast", keys=(1, 1, 1), group="sorted-set", since="5.0.0",
         acl="@write @sortedset @fast",
         summary="Remove and return members with the highest scores in a sorted set",
         complexity="O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
                    "number of elements popped.")
def zpopmax(c: Client, argv: list[bytes]) -> Any:
    return _zpop_minmax(c, argv, ZSET_MAX)


def _blocking_zpop(c: Client, keys: list[bytes], where: int, timeout_arg: bytes, count: int, nested: bool,
                   single: bool) -> Any:
    """blockingGenericZpopCommand: serve now or block; pops replicate as ZPOPMIN/ZPOPMAX."""
    timeout = parse_timeout(timeout_arg)

    def serve(cl: Client) -> tuple[Any, list[bytes] | None]:
        for key in keys:
            z = get_zset(cl, key, write=True)
            if z is None or not z:
                continue
            reply, popped = _pop_from(cl, key, z, where, True, count, nested)
            prop = [_POP_NAME[where], key] if single else [_POP_NAME[where], key, str(popped).encode()]
            return reply, prop
        return None, None

    reply, prop = serve(c)
    if reply is not None:
        c.propagate_argv = [prop] if prop is not None else None
        return reply

    def retry(cl: Client) -> Any:
        # like the list commands: re-run only when some key holds a non-empty sorted set (Redis
        # re-runs a blocked command only for a ready key of the type it waits on)
        peek = cl.db.peek
        if not any(type(v) is ZSet and v for v in map(peek, keys)):
            return None
        r, p = serve(cl)
        if r is not None and p is not None:
            cl.server.propagate(cl.db.id, p)
        return r

    return c.server.blocking.block(c, keys, timeout, retry, NULL_ARRAY)


@command("bzpopmin", -3, "write noscript blocking fast", keys=(1, -2, 1), group="sorted-set", since="5.0.0",
         acl="@write @sortedset @fast @blocking",
         summary="Remove and return the member with the lowest score from one or more sorted sets, or block "
                 "until one is available",
         complexity="O(log(N)) with N being the number of elements in the sorted set.")
def bzpopmin(c: Client, argv: list[bytes]) -> Any:
    return _blocking_zpop(c, argv[1:-1], ZSET_MIN, argv[-1], -1, False, True)


@command("bzpopmax", -3, "write noscript blocking fast", keys=(1, -2, 1), group="sorted-set", since="5.0.0",
         acl="@write @sortedset @fast @blocking",
         summary="Remove and return the member with the highest score from one or more sorted sets, or block "
                 "until one is available",
         complexity="O(log(N)) with N being the number of elements in the sorted set.")
def bzpopmax(c: Client, argv: list[bytes]) -> Any:
    return _blocking_zpop(c, argv[1:-1], ZSET_MAX, argv[-1], -1, False, True)


def _zmpop_generic(c: Client, argv: list[bytes], numkeys_idx: int, block: bool) -> Any:
    numkeys = _range_long(argv[numkeys_idx], 1, "ERR numkeys should be greater than 0")
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= len(argv):
        raise SYNTAX_ERROR
    w = argv[where_idx].lower()
    if w == b"min":
        where = ZSET_MIN
    elif w == b"max":
        where = ZSET_MAX
    else:
        raise SYNTAX_ERROR
    count = -1
    j = where_idx + 1
    while j < len(argv):
        more = len(argv) - 1 - j
        if count == -1 and argv[j].lower() == b"count" and more:
            j += 1
            count = _range_long(argv[j], 1, "ERR count should be greater than 0")
        else:
            raise SYNTAX_ERROR
        j += 1
    if count == -1:
        count = 1
    keys = argv[numkeys_idx + 1:numkeys_idx + 1 + numkeys]
    if block:
        return _blocking_zpop(c, keys, where, argv[1], count, True, False)
    reply, prop = _zpop_keys(c, keys, where, True, count, True, True)
    if prop is not None:
        c.propagate_argv = [prop]
    return reply


def _zmpop_keys(argv: list[bytes]) -> list[int]:
    try:
        n = int(argv[1])
    except (ValueError, IndexError):
        return []
    return list(range(2, min(2 + max(n, 0), len(argv))))


def _bzmpop_keys(argv: list[bytes]) -> list[int]:
    try:
        n = int(argv[2])
    except (ValueError, IndexError):
        return []
    return list(range(3, min(3 + max(n, 0), len(argv))))


@command("zmpop", -4, "write movablekeys", group="sorted-set", since="7.0.0", key_finder=_zmpop_keys,
         acl="@write @sortedset @slow", summary="Remove and return members with scores in a sorted set",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of "
                    "elements in the sorted set, and M being the number of elements popped.")
def zmpop(c: Client, argv: list[bytes]) -> Any:
    return _zmpop_generic(c, argv, 1, False)


@command("bzmpop", -5, "write blocking movablekeys", group="sorted-set", since="7.0.0", key_finder=_bzmpop_keys,
         acl="@write @sortedset @slow @blocking",
         summary="Remove and return members with scores in a sorted set or block until one is available",
         complexity="O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of "
                    "elements in the sorted set, and M being the number of elements popped.")
def bzmpop(c: Client, argv: list[bytes]) -> Any:
    return _zmpop_generic(c, argv, 2, True)


# ---------------------------------------------------------------------------
# ZRANDMEMBER
# ---------------------------------------------------------------------------

_LONG_MAX = 2**63 - 1


@command("zrandmember", -2, "readonly", keys=(1, 1, 1), group="sorted-set", since="6.2.0",
         acl="@read @sortedset @slow", summary="Get one or multiple random elements from a sorted set",
         complexity="O(N) where N is the number of elements returned")
def zrandmember(c: Client, argv: list[bytes]) -> Any:
    if len(argv) >= 3:
        n = parse_int(argv[2])
        if n < -_LONG_MAX:  # getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): LLONG_MIN is refused
            raise ReplyError("ERR value is out of range, value must between -9223372036854775807 and "
                             "9223372036854775807")
        withscores = False
        if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withscores"):
            raise SYNTAX_ERROR
        if len(argv) == 4:
            withscores = True
            if n < -(_LONG_MAX // 2) or n > _LONG_MAX // 2:
                raise ReplyError("ERR value is out of range")
        return _zrandmember_count(c, argv[1], n, withscores)
    z = get_zset(c, argv[1])
    if z is None:
        return None
    return z.sl[random.randrange(len(z))][1]


def _zrandmember_count(c: Client, key: bytes, n: int, withscores: bool) -> Any:
    z = get_zset(c, key)
    if z is None or n == 0:
        return []
    size = len(z)
    sl = z.sl
    if n < 0 or n == 1:
        picks = [sl[random.randrange(size)] for _ in range(abs(n))]
    elif n >= size:
        picks = list(reversed(sl))
    else:
        idxs = random.sample(range(size), n)
        picks = [sl[i] for i in idxs]
    if withscores:
        return with_scores(c, ((m, s) for s, m in picks))
    return [m for _s, m in picks]


# ---------------------------------------------------------------------------
# ZUNION / ZINTER / ZDIFF (+STORE), ZINTERCARD
# ---------------------------------------------------------------------------

OP_UNION, OP_INTER, OP_DIFF = 0, 1, 2
AGG_SUM, AGG_MIN, AGG_MAX = 0, 1, 2


class _Src:
    """One input of a set operation: a ZSet, a plain set (score 1) or nothing."""

    __slots__ = ("obj", "weight")

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.weight = 1.0

    def __len__(self) -> int:
        return 0 if self.obj is None else len(self.obj)

    def items(self) -> Iterable[tuple[bytes, float]]:
        o = self.obj
        if o is None:
            return ()
        if isinstance(o, ZSet):
            return ((m, s) for s, m in reversed(o.sl))
        return ((m, 1.0) for m in o)

    def find(self, member: bytes) -> float | None:
        o = self.obj
        if o is None:
            return None
        if isinstance(o, ZSet):
            return o.dict.get(member)
        return 1.0 if member in o else None


def _aggregate(target: float, val: float, agg: int) -> float:
    if agg == AGG_SUM:
        r = target + val
        return 0.0 if r != r else r
    if agg == AGG_MIN:
        return val if val < target else target
    return val if val > target else target


def _setop_generic(c: Client, argv: list[bytes], dstkey: bytes | None, numkeys_idx: int, op: int,
                   card_only: bool) -> Any:
    setnum = parse_int(argv[numkeys_idx])
    if setnum < 1:
        name = argv[0].decode("utf-8", "replace").lower()
        raise ReplyError(f"ERR at least 1 input key is needed for '{name}' command")
    argc = len(argv)
    if setnum > argc - (numkeys_idx + 1):
        raise SYNTAX_ERROR
    srcs: list[_Src] = []
    j = numkeys_idx + 1
    for _ in range(setnum):
        o = c.db.get(argv[j])
        if o is not None and not isinstance(o, (ZSet, set)):
            raise WRONGTYPE
        srcs.append(_Src(o))
        j += 1
    agg = AGG_SUM
    withscores = False
    limit = 0
    remaining = argc - j
    while remaining:
        opt = argv[j].lower()
        if op != OP_DIFF and not card_only and remaining >= setnum + 1 and opt == b"weights":
            j += 1
            remaining -= 1
            for src in srcs:
                src.weight = parse_double(argv[j], ReplyError("ERR weight value is not a float"))
                j += 1
                remaining -= 1
        elif op != OP_DIFF and not card_only and remaining >= 2 and opt == b"aggregate":
            j += 1
            remaining -= 1
            a = argv[j].lower()
            if a == b"sum":
                agg = AGG_SUM
            elif a == b"min":
                agg = AGG_MIN
            elif a == b"max":
                agg = AGG_MAX
            else:
                raise SYNTAX_ERROR
            j += 1
            remaining -= 1
        elif remaining >= 1 and dstkey is None and not card_only and opt == b"withscores":
            j += 1
            remaining -= 1
            withscores = True
        elif card_only and remaining >= 2 and opt == b"limit":
            j += 1
            remaining -= 1
            limit = _positive_long(argv[j], "ERR LIMIT can't be negative")
            j += 1
            remaining -= 1
        else:
            raise SYNTAX_ERROR
    if op != OP_DIFF:
        srcs.sort(key=len)
    result: dict[bytes, float] = {}
    cardinality = 0
    if op == OP_INTER:
        first = srcs[0]
        if len(first):
            rest = srcs[1:]
            for member, s0 in first.items():
                score = first.weight * s0
                if score != score:
                    score = 0.0
                ok = True
                for src in rest:
                    v = src.find(member)
                    if v is None:
                        ok = False
                        break
                    score = _aggregate(score, v * src.weight, agg)
                if not ok:
                    continue
                if card_only:
                    cardinality += 1
                    if limit and cardinality >= limit:
                        break
                else:
                    result[member] = score
    elif op == OP_UNION:
        for src in srcs:
            if not len(src):
                continue
            w = src.weight
            for member, s in src.items():
                score = w * s
                if score != score:
                    score = 0.0
                cur = result.get(member)
                if cur is None:
                    result[member] = score
                else:
                    result[member] = _aggregate(cur, score, agg)
    else:
        first = srcs[0]
        if len(first):
            rest = [s for s in srcs[1:] if s.obj is not None]
            same = any(s.obj is first.obj for s in rest)
            if not same:
                for member, s in first.items():
                    for src in rest:
                        if src.find(member) is not None:
                            break
                    else:
                        result[member] = s
    if card_only:
        return cardinality
    if dstkey is not None:
        if result:
            nz = ZSet()
            nz.big = True  # built like Redis' skiplist result; store_zset picks the encoding
            for m, s in result.items():
                nz.add(bytes(m), s)
            event = (b"zunionstore", b"zinterstore", b"zdiffstore")[op]
            store_zset(c, dstkey, nz, event)
            return len(nz)
        delete_dst(c, dstkey)
        return 0
    pairs = sorted((s, m) for m, s in result.items())
    if withscores:
        return with_scores(c, ((m, s) for s, m in pairs))
    return [m for _s, m in pairs]


def _numkeys_at(idx: int, first: list[int]) -> Any:
    def finder(argv: list[bytes]) -> list[int]:
        try:
            n = int(argv[idx])
        except (ValueError, IndexError):
            return list(first)
        return list(first) + list(range(idx + 1, min(idx + 1 + max(n, 0), len(argv))))
    return finder


_COMPLEX_UNION = ("O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
                  "the number of elements in the resulting sorted set.")
_COMPLEX_INTER = ("O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
                  "number of input sorted sets and M being the number of elements in the resulting sorted set.")
_COMPLEX_DIFF = ("O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is "
                 "the size of the first set, and K is the size of the result set.")


@command("zunion", -3, "readonly movablekeys", group="sorted-set", since="6.2.0",
         key_finder=_numkeys_at(1, []), acl="@read @sortedset @slow", summary="Add multiple sorted sets",
         complexity=_COMPLEX_UNION)
def zunion(c: Client, argv: list[bytes]) -> Any:
    return _setop_generic(c, argv, None, 1, OP_UNION, False)


@command("zinter", -3, "readonly movablekeys", group="sorted-set", since="6.2.0",
         key_finder=_numkeys_at(1, []), acl="@read @sortedset @slow", summary="Intersect multiple sorted sets",
         complexity=_COMPLEX_INTER)
def zinter(c: Client, argv: list[bytes]) -> Any:
    return _setop_generic(c, argv, None, 1, OP_INTER, False)


@command("zdiff", -3, "readonly movablekeys", group="sorted-set", since="6.2.0",
         key_finder=_numkeys_at(1, []), acl="@read @sortedset @slow", summary="Subtract multiple sorted sets",
         complexity=_COMPLEX_DIFF)
def zdiff(c: Client, argv: list[bytes]) -> Any:
    return _setop_generic(c, argv, None, 1, OP_DIFF, False)


@command("zunionstore", -4, "write denyoom movablekeys", keys=(1, 1, 1), group="sorted-set", since="2.0.0",
         key_finder=_numkeys_at(2, [1]), acl="@write @sortedset @slow",
         summary="Add multiple sorted sets and store the resulting sorted set in a new key",
         complexity=_COMPLEX_UNION)
def zunionstore(c: Client, argv: list[bytes]) -> Any:
    return _setop_generic(c, argv, argv[1], 2, OP_UNION, False)


@command("zinterstore", -4, "write denyoom movablekeys", keys=(1, 1, 1), group="sorted-set", since="2.0.0",
         key_finder=_numkeys_at(2, [1]), acl="@write @sortedset @slow",
         summary="Intersect multiple sorted sets and store the resulting sorted set in a new key",
         complexity=_COMPLEX_INTER)
def zinterstore(c: Client, argv: list[bytes]) -> Any:
    return _setop_generic(c, argv, argv[1], 2, OP_INTER, False)


@command("zdiffstore", -4, "write denyoom movablekeys", keys=(1, 1, 1), group="sorted-set", since="6.2.0",
         key_finder=_numkeys_at(2, [1]), acl="@write @sortedset @slow",
         summary="Subtract multiple sorted sets and store the resulting sorted set in a new key",
         complexity=_COMPLEX_DIFF)
def zdiffstore(c: Client, argv: list[bytes]) -> Any:
    return _setop_generic(c, argv, argv[1], 2, OP_DIFF, False)


@command("zintercard", -3, "readonly movablekeys", group="sorted-set", since="7.0.0",
         key_finder=_numkeys_at(1, []), acl="@read @sortedset @slow",
         summary="Intersect multiple sorted sets and return the cardinality of the result",
         complexity="O(N*K) worst case with N being the smallest input sorted set, K being the number of input "
                    "sorted sets.")
def zintercard(c: Client, argv: list[bytes]) -> Any:
    return _setop_generic(c, argv, None, 1, OP_INTER, True)


# ---------------------------------------------------------------------------
# ZSCAN
# ---------------------------------------------------------------------------


@command("zscan", -3, "readonly", keys=(1, 1, 1), group="sorted-set", since="2.8.0",
         acl="@read @sortedset @slow",
         summary="Incrementally iterate sorted sets elements and associated scores",
         complexity="O(1) for every call. O(N) for a complete iteration, including enough command calls for "
                    "the cursor to return back to 0. N is the number of elements inside the collection..")
def zscan(c: Client, argv: list[bytes]) -> Any:
    cursor = parse_cursor(argv[2])
    z = get_zset(c, argv[1])
    if z is None:
        return [b"0", []]
    opts = parse_scan_options(argv, 3)
    if not z.big:
        nxt = 0
        members = [m for _s, m in z.sl]
    else:
        nxt, members = scan(z.dict, cursor, opts.count)
    match = opts.matcher() if opts.match is not None and opts.match != b"*" else None
    d = z.dict
    out: list[bytes] = []
    for m in members:
        if match is not None and not match(m):
            continue
        s = d.get(m)
        if s is None:
            continue
        out.append(m)
        out.append(format_double(s))
    return [str(nxt).encode(), out]
