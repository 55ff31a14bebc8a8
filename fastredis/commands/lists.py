"""Lists (Redis' t_list.c): pushes, pops, ranges, LPOS, LMOVE, LMPOP and the blocking pops.

A list is a ``collections.deque`` of bytes; an emptied list is deleted.  Pushes
signal the key as ready so blocked clients (BLPOP, BLMOVE, ...) are served
after the command, in the order they blocked.  Blocking pops are propagated
as the plain command (BLPOP -> LPOP key, BLMPOP -> LPOP key count, BLMOVE ->
LMOVE, BRPOPLPUSH -> RPOPLPUSH), whether served at once or later.
"""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import Callable
from itertools import islice
from typing import TYPE_CHECKING, Any

from .._resp import NULL_ARRAY, OK, ReplyError
from ..blocking import BLOCKED, parse_timeout
from ..db import WRONGTYPE
from .table import NO_SUCH_KEY, OUT_OF_RANGE, SYNTAX_ERROR, command, parse_int, wrong_arity

if TYPE_CHECKING:
    from ..context import Client

LEFT, RIGHT = 0, 1
LONG_MAX = 2**63 - 1

MUST_BE_POSITIVE = ReplyError("ERR value is out of range, must be positive")
RANGE_ERROR = ReplyError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
RANK_ZERO = ReplyError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                       "or use negative to start from the end of the list")
COUNT_NEGATIVE = ReplyError("ERR COUNT can't be negative")
MAXLEN_NEGATIVE = ReplyError("ERR MAXLEN can't be negative")
NUMKEYS_ERROR = ReplyError("ERR numkeys should be greater than 0")
MPOP_COUNT_ERROR = ReplyError("ERR count should be greater than 0")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def parse_positive(arg: bytes, error: ReplyError = MUST_BE_POSITIVE) -> int:
    """getPositiveLongFromObjectOrReply: an integer >= 0, else ``error`` (also when not a number)."""
    v = parse_int(arg, error)
    if v < 0:
        raise error
    return v


def _parse_long_no_min(arg: bytes) -> int:
    """getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): LONG_MIN is refused."""
    v = parse_int(arg)
    if v < -LONG_MAX:
        raise RANGE_ERROR
    return v


def parse_where(arg: bytes) -> int:
    low = arg.lower()
    if low == b"left":
        return LEFT
    if low == b"right":
        return RIGHT
    raise SYNTAX_ERROR


def _get_list(c: Client, key: bytes, write: bool = False) -> deque[bytes] | None:
    return c.db.get_typed(key, deque, write)  # type: ignore[no-any-return]


def elements_removed(c: Client, key: bytes, lst: deque[bytes], where: int, n: int) -> None:
    """listElementsRemoved: pop event, delete an emptied list (del event), dirty += n."""
    db = c.db
    db.changed(key, b"lpop" if where == LEFT else b"rpop", b"l", n)
    db.drop_if_empty(key, lst)


def pop_range(lst: deque[bytes], where: int, count: int) -> list[bytes]:
    """Pop up to ``count`` elements from one end, in pop order."""
    n = min(count, len(lst))
    if n == len(lst):
        out = list(lst) if where == LEFT else list(reversed(lst))
        lst.clear()
        return out
    if where == LEFT:
        pl = lst.popleft
    else:
        pl = lst.pop
    return [pl() for _ in range(n)]


def push_into(c: Client, key: bytes, lst: deque[bytes] | None, value: bytes, where: int) -> None:
    """lmoveHandlePush: create the destination if needed, push, event, wake waiters."""
    db = c.db
    if lst is None:
        lst = deque()
        db.add(key, lst)
    if where == LEFT:
        lst.appendleft(value)
    else:
        lst.append(value)
    db.changed(key, b"lpush" if where == LEFT else b"rpush", b"l", 0)
    db.signal_ready(key)


def _has_data(c: Client, keys: list[bytes]) -> bool:
    """Some key holds a non-empty list (a blocked client may be served)."""
    peek = c.db.peek
    for k in keys:
        v = peek(k)
        if type(v) is deque and v:
            return True
    return False


def _safe_retry(fn: Callable[[Client], Any], name: str) -> Callable[[Client], Any]:
    """Run a blocked client's retry without ever letting a Python error escape."""

    def retry(cl: Client) -> Any:
        try:
            return fn(cl)
        except ReplyError:
            raise
        except Exception:
            cl.server.log("warning", "Internal error serving blocked '%s': %s" % (name, traceback.format_exc()))
            return ReplyError("ERR internal error while running '%s'" % name)

    return retry


def _range_bounds(start: int, end: int, llen: int) -> tuple[int, int] | None:
    """Normalise LRANGE/LTRIM indexes; None when the range is empty."""
    if start < 0:
        start += llen
    if end < 0:
        end += llen
    if start < 0:
        start = 0
    if start > end or start >= llen:
        return None
    if end >= llen:
        end = llen - 1
    return start, end


def list_range(lst: deque[bytes], start: int, end: int) -> list[bytes]:
    """Elements start..end (inclusive, already normalised), walking from the nearer end."""
    llen = len(lst)
    if start > llen // 2:
        out = list(islice(reversed(lst), llen - 1 - end, llen - start))
        out.reverse()
        return out
    return list(islice(lst, start, end + 1))


# ---------------------------------------------------------------------------
# push / pop
# ---------------------------------------------------------------------------

def _push(c: Client, argv: list[bytes], where: int, xx: bool) -> Any:
    key = argv[1]
    db = c.db
    lst = _get_list(c, key, write=True)
    if lst is None:
        if xx:
            return 0
        lst = deque()
        db.add(key, lst)
    values = argv[2:]
    if where == LEFT:
        lst.extendleft(values)
    else:
        lst.extend(values)
    db.changed(key, b"lpush" if where == LEFT else b"rpush", b"l", len(values))
    db.signal_ready(key)
    return len(lst)


@command("lpush", -3, "write denyoom fast", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Prepends one or more elements to a list. Creates the key if it doesn't exist.")
def lpush(c: Client, argv: list[bytes]) -> Any:
    return _push(c, argv, LEFT, False)


@command("rpush", -3, "write denyoom fast", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Appends one or more elements to a list. Creates the key if it doesn't exist.")
def rpush(c: Client, argv: list[bytes]) -> Any:
    return _push(c, argv, RIGHT, False)


@command("lpushx", -3, "write denyoom fast", keys=(1, 1, 1), group="list", since="2.2.0",
         summary="Prepends one or more elements to a list only when the list exists.")
def lpushx(c: Client, argv: list[bytes]) -> Any:
    return _push(c, argv, LEFT, True)


@command("rpushx", -3, "write denyoom fast", keys=(1, 1, 1), group="list", since="2.2.0",
         summary="Appends an element to a list only when the list exists.")
def rpushx(c: Client, argv: list[bytes]) -> Any:
    return _push(c, argv, RIGHT, True)


def _pop(c: Client, argv: list[bytes], where: int) -> Any:
    if len(argv) > 3:
        raise wrong_arity(argv[0].decode("utf-8", "replace").lower())
    count = parse_positive(argv[2]) if len(argv) == 3 else None
    key = argv[1]
    lst = _get_list(c, key, write=True)
    if lst is None:
        return None if count is None else NULL_ARRAY
    if count is None:
        v = lst.popleft() if where == LEFT else lst.pop()
        elements_removed(c, key, lst, where, 1)
        return v
    if count == 0:
        return []
    out = pop_range(lst, where, count)
    elements_removed(c, key, lst, where, len(out))
    return out


@command("lpop", -2, "write fast", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Returns the first elements in a list after removing it. Deletes the list if the last element "
                 "was popped.")
def lpop(c: Client, argv: list[bytes]) -> Any:
    return _pop(c, argv, LEFT)


@command("rpop", -2, "write fast", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Returns and removes the last elements of a list. Deletes the list if the last element was "
                 "popped.")
def rpop(c: Client, argv: list[bytes]) -> Any:
    return _pop(c, argv, RIGHT)


# ---------------------------------------------------------------------------
# reads and in-place edits
# ---------------------------------------------------------------------------

@command("llen", 2, "readonly fast", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Returns the length of a list.")
def llen(c: Client, argv: list[bytes]) -> Any:
    lst = _get_list(c, argv[1])
    return 0 if lst is None else len(lst)


@command("lindex", 3, "readonly", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Returns an element from a list by its index.")
def lindex(c: Client, argv: list[bytes]) -> Any:
    lst = _get_list(c, argv[1])
    if lst is None:
        return None
    index = parse_int(argv[2])
    n = len(lst)
    if index < 0:
        index += n
    if index < 0 or index >= n:
        return None
    return lst[index]


@command("lrange", 4, "readonly", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Returns a range of elements from a list.")
def lrange(c: Client, argv: list[bytes]) -> Any:
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    lst = _get_list(c, argv[1])
    if lst is None:
        return []
    b = _range_bounds(start, end, len(lst))
    if b is None:
        return []
    return list_range(lst, b[0], b[1])


@command("lset", 4, "write denyoom", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Sets the value of an element in a list by its index.")
def lset(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    lst = _get_list(c, key, write=True)
    if lst is None:
        raise NO_SUCH_KEY
    index = parse_int(argv[2])
    n = len(lst)
    if index < 0:
        index += n
    if index < 0 or index >= n:
        raise OUT_OF_RANGE
    lst[index] = argv[3]
    c.db.changed(key, b"lset", b"l")
    return OK


@command("linsert", 5, "write denyoom", keys=(1, 1, 1), group="list", since="2.2.0",
         summary="Inserts an element before or after another element in a list.")
def linsert(c: Client, argv: list[bytes]) -> Any:
    where = argv[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise SYNTAX_ERROR
    key = argv[1]
    lst = _get_list(c, key, write=True)
    if lst is None:
        return 0
    try:
        i = lst.index(argv[3])
    except ValueError:
        return -1
    lst.insert(i + 1 if after else i, argv[4])
    c.db.changed(key, b"linsert", b"l")
    return len(lst)


@command("lrem", 4, "write", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Removes elements from a list. Deletes the list if the last element was removed.")
def lrem(c: Client, argv: list[bytes]) -> Any:
    toremove = parse_int(argv[2])
    if toremove == -LONG_MAX - 1:
        # Redis 7.2 negates LONG_MIN into itself: the removal limit is never reached
        toremove = 0
    key = argv[1]
    lst = _get_list(c, key, write=True)
    if lst is None:
        return 0
    ele = argv[3]
    if toremove == 0:
        n = lst.count(ele)
        if n:
            kept = [x for x in lst if x != ele]
            lst.clear()
            lst.extend(kept)
    elif toremove == 1:
        try:
            lst.remove(ele)
            n = 1
        except ValueError:
            n = 0
    else:
        limit = abs(toremove)
        n = 0
        items = list(lst) if toremove > 0 else list(reversed(lst))
        kept = []
        for x in items:
            if n < limit and x == ele:
                n += 1
            else:
                kept.append(x)
        if n:
            if toremove < 0:
                kept.reverse()
            lst.clear()
            lst.extend(kept)
    if n:
        db = c.db
        db.changed(key, b"lrem", b"l", n)
        db.drop_if_empty(key, lst)
    return n


@command("ltrim", 4, "write", keys=(1, 1, 1), group="list", since="1.0.0",
         summary="Removes elements from both ends a list. Deletes the list if all elements were trimmed.")
def ltrim(c: Client, argv: list[bytes]) -> Any:
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    key = argv[1]
    lst = _get_list(c, key, write=True)
    if lst is None:
        return OK
    llen_ = len(lst)
    b = _range_bounds(start, end, llen_)
    if b is None:
        removed = llen_
        lst.clear()
    else:
        s, e = b
        removed = s + (llen_ - 1 - e)
        if removed:
            if s + (llen_ - 1 - e) < (e - s + 1):
                for _ in range(s):
                    lst.popleft()
                for _ in range(llen_ - 1 - e):
                    lst.pop()
            else:
                kept = list_range(lst, s, e)
                lst.clear()
                lst.extend(kept)
    db = c.db
    db.changed(key, b"ltrim", b"l", removed)
    db.drop_if_empty(key, lst)
    return OK


@command("lpos", -3, "readonly", keys=(1, 1, 1), group="list", since="6.0.6",
         summary="Returns the index of matching elements in a list.")
def lpos(c: Client, argv: list[bytes]) -> Any:
    ele = argv[2]
    rank = 1
    count = -1
    maxlen = 0
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        more = n - 1 - j
        if opt == b"rank" and more:
            j += 1
            rank = _parse_long_no_min(argv[j])
            if rank == 0:
                raise RANK_ZERO
        elif opt == b"count" and more:
            j += 1
            count = parse_positive(argv[j], COUNT_NEGATIVE)
        elif opt == b"maxlen" and more:
            j += 1
            maxlen = parse_positive(argv[j], MAXLEN_NEGATIVE)
        else:
            raise SYNTAX_ERROR
        j += 1
    lst = _get_list(c, argv[1])
    if lst is None:
        return [] if count != -1 else None
    llen_ = len(lst)
    forward = rank > 0
    rank = abs(rank)
    it = iter(lst) if forward else reversed(lst)
    if maxlen:
        it = islice(it, maxlen)
    matches = 0
    out: list[int] = []
    for index, x in enumerate(it):
        if x == ele:
            matches += 1
            if matches >= rank:
                pos = index if forward else llen_ - index - 1
                if count == -1:
                    return pos
                out.append(pos)
                if count and matches - rank + 1 >= count:
                    break
    return out if count != -1 else None


# ---------------------------------------------------------------------------
# LMOVE / RPOPLPUSH / LMPOP
# ---------------------------------------------------------------------------

def lmove_generic(c: Client, src: bytes, dst: bytes, wfrom: int, wto: int) -> bytes | None:
    """Pop from ``src`` and push to ``dst``; None when ``src`` is empty."""
    sl = _get_list(c, src, write=True)
    if sl is None:
        return None
    dl = c.db.get_for_write(dst)
    if dl is not None and type(dl) is not deque:
        raise WRONGTYPE
    v = sl.popleft() if wfrom == LEFT else sl.pop()
    push_into(c, dst, dl, v, wto)
    elements_removed(c, src, sl, wfrom, 1)
    return v


@command("lmove", 5, "write denyoom", keys=(1, 2, 1), group="list", since="6.2.0",
         summary="Returns an element after popping it from one list and pushing it to another. Deletes the "
                 "list if the last element was moved.")
def lmove(c: Client, argv: list[bytes]) -> Any:
    wfrom = parse_where(argv[3])
    wto = parse_where(argv[4])
    return lmove_generic(c, argv[1], argv[2], wfrom, wto)


@command("rpoplpush", 3, "write denyoom", keys=(1, 2, 1), group="list", since="1.2.0",
         summary="Returns the last element of a list after removing and pushing it to another list. Deletes "
                 "the list if the last element was popped.")
def rpoplpush(c: Client, argv: list[bytes]) -> Any:
    return lmove_generic(c, argv[1], argv[2], RIGHT, LEFT)


def parse_mpop(argv: list[bytes], idx: int) -> tuple[list[bytes], int, int]:
    """``numkeys key [key ...] LEFT|RIGHT [COUNT count]`` starting at ``argv[idx]``."""
    numkeys = parse_int(argv[idx], NUMKEYS_ERROR)
    if numkeys < 1:
        raise NUMKEYS_ERROR
    where_idx = idx + numkeys + 1
    n = len(argv)
    if where_idx >= n:
        raise SYNTAX_ERROR
    where = parse_where(argv[where_idx])
    count = -1
    j = where_idx + 1
    while j < n:
        if count == -1 and argv[j].lower() == b"count" and n - 1 - j > 0:
            count = parse_int(argv[j + 1], MPOP_COUNT_ERROR)
            if count < 1:
                raise MPOP_COUNT_ERROR
            j += 2
        else:
            raise SYNTAX_ERROR
    if count == -1:
        count = 1
    return argv[idx + 1:where_idx], where, count


def mpop_keys(idx: int) -> Callable[[list[bytes]], list[int]]:
    """key_finder for LMPOP/BLMPOP-style ``numkeys`` at ``argv[idx]``."""

    def finder(argv: list[bytes]) -> list[int]:
        if len(argv) <= idx:
            return []
        try:
            numkeys = int(argv[idx])
        except ValueError:
            return []
        if numkeys < 1:
            return []
        return list(range(idx + 1, min(idx + 1 + numkeys, len(argv))))

    return finder


def _serve_mpop(c: Client, keys: list[bytes], where: int, count: int) -> tuple[list[Any], list[bytes]] | None:
    """Pop from the first non-empty list: (reply, propagated argv) or None."""
    for key in keys:
        lst = _get_list(c, key, write=True)
        if not lst:
            continue
        out = pop_range(lst, where, count)
        elements_removed(c, key, lst, where, len(out))
        return [key, out], [b"LPOP" if where == LEFT else b"RPOP", key, str(len(out)).encode()]
    return None


@command("lmpop", -4, "write", group="list", since="7.0.0", key_finder=mpop_keys(1),
         summary="Returns multiple elements from a list after removing them. Deletes the list if the last "
                 "element was popped.")
def lmpop(c: Client, argv: list[bytes]) -> Any:
    keys, where, count = parse_mpop(argv, 1)
    r = _serve_mpop(c, keys, where, count)
    if r is None:
        return NULL_ARRAY
    c.propagate_argv = [r[1]]
    return r[0]


# ---------------------------------------------------------------------------
# Blocking variants
# ---------------------------------------------------------------------------

def _block_pop(c: Client, keys: list[bytes], where: int, timeout_ms: int, count: int, name: str) -> Any:
    """BLPOP/BRPOP (count -1: [key, element]) and BLMPOP (count >= 1: [key, [elements]])."""

    def serve(cl: Client) -> tuple[list[Any], list[bytes]] | None:
        if count != -1:
            return _serve_mpop(cl, keys, where, count)
        for key in keys:
            lst = _get_list(cl, key, write=True)
            if not lst:
                continue
            v = lst.popleft() if where == LEFT else lst.pop()
            elements_removed(cl, key, lst, where, 1)
            return [key, v], [b"LPOP" if where == LEFT else b"RPOP", key]
        return None

    r = serve(c)
    if r is not None:
        c.propagate_argv = [r[1]]
        return r[0]

    def retry(cl: Client) -> Any:
        if not _has_data(cl, keys):
            return None
        r = serve(cl)
        if r is None:
            return None
        cl.server.propagate(cl.db.id, r[1])
        return r[0]

    return c.server.blocking.block(c, keys, timeout_ms, _safe_retry(retry, name), NULL_ARRAY)


@command("blpop", -3, "write blocking", keys=(1, -2, 1), group="list", since="2.0.0",
         summary="Removes and returns the first element in a list. Blocks until an element is available "
                 "otherwise. Deletes the list if the last element was popped.")
def blpop(c: Client, argv: list[bytes]) -> Any:
    timeout = parse_timeout(argv[-1])
    return _block_pop(c, argv[1:-1], LEFT, timeout, -1, "blpop")


@command("brpop", -3, "write blocking", keys=(1, -2, 1), group="list", since="2.0.0",
         summary="Removes and returns the last element in a list. Blocks until an element is available "
                 "otherwise. Deletes the list if the last element was popped.")
def brpop(c: Client, argv: list[bytes]) -> Any:
    timeout = parse_timeout(argv[-1])
    return _block_pop(c, argv[1:-1], RIGHT, timeout, -1, "brpop")


@command("blmpop", -5, "write blocking", group="list", since="7.0.0", key_finder=mpop_keys(2),
         summary="Pops the first element from one of multiple lists. Blocks until an element is available "
                 "otherwise. Deletes the list if the last element was popped.")
def blmpop(c: Client, argv: list[bytes]) -> Any:
    keys, where, count = parse_mpop(argv, 2)
    timeout = parse_timeout(argv[1])
    return _block_pop(c, keys, where, timeout, count, "blmpop")


def _block_move(c: Client, src: bytes, dst: bytes, wfrom: int, wto: int, timeout_ms: int,
                prop: list[bytes], name: str) -> Any:
    sl = _get_list(c, src, write=True)
    if sl is not None:
        v = lmove_generic(c, src, dst, wfrom, wto)
        c.propagate_argv = [prop]
        return v
    def retry(cl: Client) -> Any:
        if not _has_data(cl, [src]):
            return None
        v = lmove_generic(cl, src, dst, wfrom, wto)
        if v is None:
            return None
        cl.server.propagate(cl.db.id, prop)
        return v

    res = c.server.blocking.block(c, [src], timeout_ms, _safe_retry(retry, name), NULL_ARRAY)
    if res is not BLOCKED:
        # not allowed to block (MULTI, scripts, master link): a null bulk, not the timeout's null array
        return None
    return res


@command("blmove", 6, "write denyoom blocking", keys=(1, 2, 1), group="list", since="6.2.0",
         summary="Pops an element from a list, pushes it to another list and returns it. Blocks until an "
                 "element is available otherwise. Deletes the list if the last element was moved.")
def blmove(c: Client, argv: list[bytes]) -> Any:
    wfrom = parse_where(argv[3])
    wto = parse_where(argv[4])
    timeout = parse_timeout(argv[5])
    return _block_move(c, argv[1], argv[2], wfrom, wto, timeout,
                       [b"LMOVE", argv[1], argv[2], argv[3], argv[4]], "blmove")


@command("brpoplpush", 4, "write denyoom blocking", keys=(1, 2, 1), group="list", since="2.2.0",
         summary="Pops an element from a list, pushes it to another list and returns it. Block until an "
                 "element is available otherwise. Deletes the list if the last element was popped.")
def brpoplpush(c: Client, argv: list[bytes]) -> Any:
    timeout = parse_timeout(argv[3])
    return _block_move(c, argv[1], argv[2], RIGHT, LEFT, timeout, [b"RPOPLPUSH", argv[1], argv[2]], "brpoplpush")

