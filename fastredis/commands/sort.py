"""SORT and SORT_RO (Redis' sort.c) over lists, sets and sorted sets.

BY and GET patterns substitute the first ``*`` with the element and may end in
``->field`` to read a hash field; ``GET #`` is the element itself; a BY pattern
without ``*`` skips sorting.  Numeric sorting parses values with C ``strtod``
semantics; ties fall back to comparing the elements, as Redis does.
"""

from __future__ import annotations

from collections import deque
from functools import cmp_to_key
from typing import TYPE_CHECKING, Any

from .._resp import ReplyError
from ..db import WRONGTYPE
from ..numbers import strtod_full
from ..types.zset import ZSet
from .table import SYNTAX_ERROR, command, parse_int
from .zsets import delete_dst

if TYPE_CHECKING:
    from ..context import Client
    from ..db import Database

NOT_DOUBLE = ReplyError("ERR One or more scores can't be converted into double")


def lookup_by_pattern(db: Database, pattern: bytes, subst: bytes) -> bytes | None:
    """lookupKeyByPattern: the string (or hash field) a GET/BY pattern names for ``subst``."""
    if pattern == b"#":
        return subst
    p = pattern.find(b"*")
    if p < 0:
        return None
    f = pattern.find(b"->", p + 1)
    field: bytes | None = None
    if f >= 0 and f + 2 < len(pattern):
        field = pattern[f + 2:]
        key = pattern[:p] + subst + pattern[p + 1:f]
    else:
        key = pattern[:p] + subst + pattern[p + 1:]
    v = db.get(key)
    if v is None:
        return None
    if field is not None:
        if not isinstance(v, dict):
            return None
        return v.get(field)  # type: ignore[no-any-return]
    if not isinstance(v, (bytes, bytearray)):
        return None
    return bytes(v)


def _bytes_cmp(a: bytes, b: bytes) -> int:
    return (a > b) - (a < b)


def _sort_generic(c: Client, argv: list[bytes], readonly: bool) -> Any:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby: bytes | None = None
    storekey: bytes | None = None
    gets: list[bytes] = []
    argc = len(argv)
    j = 2
    while j < argc:
        left = argc - j - 1
        opt = argv[j].lower()
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and left >= 2:
            limit_start = parse_int(argv[j + 1])
            limit_count = parse_int(argv[j + 2])
            j += 2
        elif not readonly and opt == b"store" and left >= 1:
            storekey = argv[j + 1]
            j += 1
        elif opt == b"by" and left >= 1:
            sortby = argv[j + 1]
            if b"*" not in sortby:
                dontsort = True
            j += 1
        elif opt == b"get" and left >= 1:
            gets.append(argv[j + 1])
            j += 1
        else:
            raise SYNTAX_ERROR
        j += 1
    db = c.db
    val = db.get(argv[1])
    if val is not None and not isinstance(val, (deque, set, ZSet)):
        raise WRONGTYPE
    if val is None:
        val = deque()
    if dontsort and isinstance(val, set) and storekey is not None:
        dontsort = False
        alpha = True
        sortby = None
    if isinstance(val, ZSet):
        val.big = True  # SORT destructively converts a sorted set to skiplist, as Redis does
    vectorlen = len(val)
    start = 0 if limit_start < 0 else limit_start
    end = vectorlen - 1 if limit_count < 0 else start + limit_count - 1
    if start >= vectorlen:
        start = vectorlen - 1
        end = vectorlen - 2
    if end >= vectorlen:
        end = vectorlen - 1
    # load the elements
    if dontsort and isinstance(val, (deque, ZSet)):
        if isinstance(val, deque):
            seq = list(reversed(val)) if desc else list(val)
        else:
            seq = [m for _s, m in val.slice(0, vectorlen, reverse=desc)]
        elems = seq[start:end + 1] if end >= start else []
        end -= start
        start = 0
    elif isinstance(val, ZSet):
        elems = list(val.dict)
    else:
        elems = [bytes(e) for e in val]
    error = False
    if not dontsort:
        n = len(elems)
        scores = [0.0] * n
        cmpobjs: list[bytes | None] = [None] * n
        for i, e in enumerate(elems):
            if sortby is not None:
                byval = lookup_by_pattern(db, sortby, e)
                if byval is None:
                    continue
            else:
                byval = e
            if alpha:
                if sortby is not None:
                    cmpobjs[i] = byval
            else:
                v, full, erange = strtod_full(byval)
                if not full or erange or v != v:
                    error = True
                scores[i] = v

        if alpha and storekey is None:
            # without STORE Redis compares with strcoll() (C locale: strcmp), which stops at a NUL
            elems_c = [e.split(b"\0", 1)[0] for e in elems]
            cmpobjs = [None if o is None else o.split(b"\0", 1)[0] for o in cmpobjs]
        else:
            elems_c = elems

        def compare(a: int, b: int) -> int:
            if not alpha:
                sa, sb = scores[a], scores[b]
                if sa > sb:
                    r = 1
                elif sa < sb:
                    r = -1
                else:
                    r = _bytes_cmp(elems[a], elems[b])
            elif sortby is not None:
                ca, cb = cmpobjs[a], cmpobjs[b]
                if ca is None or cb is None:
                    r = 0 if ca is cb else (-1 if ca is None else 1)
                else:
                    r = _bytes_cmp(ca, cb)
            else:
                r = _bytes_cmp(elems_c[a], elems_c[b])
            return -r if desc else r

        order = sorted(range(n), key=cmp_to_key(compare))
        elems = [elems[i] for i in order]
    if error:
        raise NOT_DOUBLE
    window = elems[start:end + 1] if end >= start else []
    outputlen = len(gets) * len(window) if gets else len(window)
    if storekey is None:
        out: list[Any] = []
        for e in window:
            if not gets:
                out.append(e)
            for g in gets:
                out.append(lookup_by_pattern(db, g, e))
        return out
    result: deque[bytes] = deque()
    for e in window:
        if not gets:
            result.append(e)
        else:
            for g in gets:
                got = lookup_by_pattern(db, g, e)
                result.append(b"" if got is None else got)
    if outputlen:
        db.set(storekey, result)
        db.changed(storekey, b"sortstore", b"l", outputlen)
        db.signal_ready(storekey)
    else:
        delete_dst(c, storekey)
    return outputlen


def _sort_keys(argv: list[bytes]) -> list[int]:
    keys = [1]
    store = -1
    skip = {b"limit": 2, b"get": 1, b"by": 1}
    i = 2
    while i < len(argv):
        a = argv[i].lower()
        if a in skip:
            i += skip[a]
        elif a == b"store" and i + 1 < len(argv):
            store = i + 1
        i += 1
    if store > 0:
        keys.append(store)
    return keys


@command("sort", -2, "write denyoom movablekeys", keys=(1, 1, 1), group="generic", since="1.0.0",
         key_finder=_sort_keys, acl="@write @set @sortedset @list @slow @dangerous",
         summary="Sort the elements in a list, set or sorted set",
         complexity="O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the "
                    "number of returned elements. When the elements are not sorted, complexity is O(N).")
def sort(c: Client, argv: list[bytes]) -> Any:
    return _sort_generic(c, argv, False)


@command("sort_ro", -2, "readonly movablekeys", keys=(1, 1, 1), group="generic", since="7.0.0",
         key_finder=lambda argv: [1], acl="@read @set @sortedset @list @slow @dangerous",
         summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
         complexity="O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the "
                    "number of returned elements. When the elements are not sorted, complexity is O(N).")
def sort_ro(c: Client, argv: list[bytes]) -> Any:
    return _sort_generic(c, argv, True)
