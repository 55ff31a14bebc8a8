"""Strings (Redis' t_string.c): SET family, GET family, counters, ranges, LCS.

A string value is ``bytes``; APPEND and SETRANGE on an existing key turn it
into a ``bytearray`` (Redis' ``raw`` encoding) so repeated appends are
amortised O(1).  Replies never hand out the mutable ``bytearray`` itself
(a queued EXEC reply must not change when a later command appends).

Relative expiries are propagated as absolute ones like Redis 7.2 does
(``SET k v PXAT ms``, ``PEXPIREAT k ms``), INCRBYFLOAT as ``SET k v KEEPTTL``.

INCRBYFLOAT computes in x87 80-bit ``long double`` (64-bit mantissa) like
Redis on x86-64: the operands are parsed as ``strtold`` would, added with one
rounding, and printed with ``%.17Lf`` minus trailing zeros.  Python ints do
the exact arithmetic, so ``10.5 + 0.1`` is ``10.6`` as in Redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError, string2ll
from ..db import WRONGTYPE, mstime
from ..longdouble import INF as _INF
from ..longdouble import ld2string_human, ld_add, string2ld
from .table import (
    INT64_MAX,
    INT64_MIN,
    NOT_INTEGER,
    OVERFLOW,
    SYNTAX_ERROR,
    command,
    parse_int,
    wrong_arity,
)

if TYPE_CHECKING:
    from ..context import Client

NOT_VALID_FLOAT = ReplyError("ERR value is not a valid float")
NAN_OR_INFINITY = ReplyError("ERR increment would produce NaN or Infinity")
DECR_OVERFLOW = ReplyError("ERR decrement would overflow")
OFFSET_RANGE = ReplyError("ERR offset is out of range")
TOO_BIG = ReplyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
LCS_TYPES = ReplyError("ERR The specified keys must contain string values")
LCS_LEN_AND_IDX = ReplyError("ERR If you want both the length and indexes, please just use IDX.")
LCS_MEMORY = ReplyError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")

# SET/GETEX option flags (OBJ_* in server.h)
_NX, _XX, _GET, _KEEPTTL, _PERSIST, _EX, _PX, _EXAT, _PXAT = (1 << i for i in range(9))
_EXPIRES = _EX | _PX | _EXAT | _PXAT
_SET, _GETEX = 0, 1


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _out(v: bytes | bytearray) -> bytes:
    """A reply-safe copy of a stored string (a bytearray may be mutated later)."""
    return v if type(v) is bytes else bytes(v)


def _lookup_read(c: Client, key: bytes) -> bytes | bytearray | None:
    """lookupKeyRead + checkType(OBJ_STRING)."""
    v = c.db.get(key)
    if v is not None and type(v) is not bytes and type(v) is not bytearray:
        raise WRONGTYPE
    return v


def _lookup_write(c: Client, key: bytes) -> bytes | bytearray | None:
    """lookupKeyWrite + checkType(OBJ_STRING)."""
    v = c.db.get_for_write(key)
    if v is not None and type(v) is not bytes and type(v) is not bytearray:
        raise WRONGTYPE
    return v


def _check_string_length(c: Client, size: int, append: int) -> None:
    """checkStringLength: the result must fit proto-max-bulk-len (the master is trusted)."""
    if c.is_master:
        return
    if size + append > c.server.config["proto-max-bulk-len"]:
        raise TOO_BIG


def _expire_error(name: str) -> ReplyError:
    return ReplyError(f"ERR invalid expire time in '{name}' command")


def _parse_extended(argv: list[bytes], kind: int) -> tuple[int, bytes | None]:
    """parseExtendedStringArgumentsOrReply: option flags and the expire argument.

    Repeating the same option is allowed (the last expire wins), any conflicting
    combination is a syntax error, exactly as in Redis.
    """
    flags = 0
    expire: bytes | None = None
    n = len(argv)
    j = 2 if kind == _GETEX else 3
    is_set = kind == _SET
    while j < n:
        opt = argv[j].upper()
        has_next = j < n - 1
        if opt == b"NX" and is_set and not flags & _XX:
            flags |= _NX
        elif opt == b"XX" and is_set and not flags & _NX:
            flags |= _XX
        elif opt == b"GET" and is_set:
            flags |= _GET
        elif opt == b"KEEPTTL" and is_set and not flags & (_PERSIST | _EXPIRES):
            flags |= _KEEPTTL
        elif opt == b"PERSIST" and not is_set and not flags & (_EXPIRES | _KEEPTTL):
            flags |= _PERSIST
        elif opt == b"EX" and has_next and not flags & (_KEEPTTL | _PERSIST | _EXAT | _PX | _PXAT):
            flags |= _EX
            j += 1
            expire = argv[j]
        elif opt == b"PX" and has_next and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PXAT):
            flags |= _PX
            j += 1
            expire = argv[j]
        elif opt == b"EXAT" and has_next and not flags & (_KEEPTTL | _PERSIST | _EX | _PX | _PXAT):
            flags |= _EXAT
            j += 1
            expire = argv[j]
        elif opt == b"PXAT" and has_next and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PX):
            flags |= _PXAT
            j += 1
            expire = argv[j]
        else:
            raise SYNTAX_ERROR
        j += 1
    return flags, expire


def _expire_ms(name: str, expire: bytes, flags: int) -> int:
    """getExpireMillisecondsOrReply: the absolute unix time in ms, with Redis' overflow checks."""
    ms = parse_int(expire)
    seconds = bool(flags & (_EX | _EXAT))
    if ms <= 0 or (seconds and ms > INT64_MAX // 1000):
        raise _expire_error(name)
    if seconds:
        ms *= 1000
    if flags & (_EX | _PX):
        ms += mstime()
        if ms > INT64_MAX:  # wraps negative in C
            raise _expire_error(name)
    return ms


def _set_generic(c: Client, argv: list[bytes], name: str, flags: int, key: bytes, val: bytes,
                 expire: bytes | None, ok_reply: Any = OK, abort_reply: Any = None) -> Any:
    """setGenericCommand: SET, SETNX, SETEX and PSETEX (``name`` is used in the expire error)."""
    when = _expire_ms(name, expire, flags) if expire is not None else 0
    old: Any = None
    if flags & _GET:
        old = _lookup_read(c, key)
        old = None if old is None else _out(old)
    db = c.db
    found = db.get_for_write(key) is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        return old if flags & _GET else abort_reply
    db.set(key, val, keepttl=bool(flags & _KEEPTTL) or expire is not None)
    db.changed(key, b"set", b"$")
    if expire is not None:
        db.set_expire(key, when)
        if not flags & _PXAT:
            c.propagate_argv = [[b"SET", key, val, b"PXAT", str(when).encode()]]
        db.changed(key, b"expire", b"g", dirty=0)
    if flags & _GET:
        if expire is None:
            c.propagate_argv = [argv[:3] + [a for a in argv[3:] if a.upper() != b"GET"]]
        return old
    return ok_reply


# ---------------------------------------------------------------------------
# SET family
# ---------------------------------------------------------------------------

@command("set", -3, "write denyoom", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(1)",
         summary="Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.")
def set_(c: Client, argv: list[bytes]) -> Any:
    if len(argv) == 3:  # the common case, without options
        db = c.db
        db.set(argv[1], argv[2])
        db.changed(argv[1], b"set", b"$")
        return OK
    flags, expire = _parse_extended(argv, _SET)
    return _set_generic(c, argv, "set", flags, argv[1], argv[2], expire)


@command("setnx", 3, "write denyoom fast", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(1)", summary="Set the string value of a key only when the key doesn't exist.")
def setnx(c: Client, argv: list[bytes]) -> Any:
    return _set_generic(c, argv, "setnx", _NX, argv[1], argv[2], None, 1, 0)


@command("setex", 4, "write denyoom", keys=(1, 1, 1), group="string", since="2.0.0",
         complexity="O(1)",
         summary="Sets the string value and expiration time of a key. Creates the key if it doesn't exist.")
def setex(c: Client, argv: list[bytes]) -> Any:
    return _set_generic(c, argv, "setex", _EX, argv[1], argv[3], argv[2])


@command("psetex", 4, "write denyoom", keys=(1, 1, 1), group="string", since="2.6.0",
         complexity="O(1)",
         summary="Sets both string value and expiration time in milliseconds of a key. "
                 "The key is created if it doesn't exist.")
def psetex(c: Client, argv: list[bytes]) -> Any:
    return _set_generic(c, argv, "psetex", _PX, argv[1], argv[3], argv[2])


@command("mset", -3, "write denyoom", keys=(1, -1, 2), group="string", since="1.0.1",
         complexity="O(N) where N is the number of keys to set.",
         summary="Atomically creates or modifies the string values of one or more keys.")
def mset(c: Client, argv: list[bytes]) -> Any:
    return _mset_generic(c, argv, False)


@command("msetnx", -3, "write denyoom", keys=(1, -1, 2), group="string", since="1.0.1",
         complexity="O(N) where N is the number of keys to set.",
         summary="Atomically modifies the string values of one or more keys only when all keys don't exist.")
def msetnx(c: Client, argv: list[bytes]) -> Any:
    return _mset_generic(c, argv, True)


def _mset_generic(c: Client, argv: list[bytes], nx: bool) -> Any:
    n = len(argv)
    if n % 2 == 0:
        raise wrong_arity(argv[0].decode("utf-8", "replace").lower())
    db = c.db
    if nx:
        for j in range(1, n, 2):
            if db.get_for_write(argv[j]) is not None:
                return 0
    for j in range(1, n, 2):
        key = argv[j]
        db.set(key, argv[j + 1])
        db.changed(key, b"set", b"$")
    return 1 if nx else OK


# ---------------------------------------------------------------------------
# GET family
# ---------------------------------------------------------------------------

@command("get", 2, "readonly fast", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(1)", summary="Returns the string value of a key.")
def get(c: Client, argv: list[bytes]) -> Any:
    v = _lookup_read(c, argv[1])
    return None if v is None else _out(v)


@command("getex", -2, "write fast", keys=(1, 1, 1), group="string", since="6.2.0",
         complexity="O(1)", summary="Returns the string value of a key after setting its expiration time.")
def getex(c: Client, argv: list[bytes]) -> Any:
    flags, expire = _parse_extended(argv, _GETEX)
    key = argv[1]
    v = _lookup_read(c, key)
    if v is None:
        return None
    when = _expire_ms("getex", expire, flags) if expire is not None else 0
    reply = _out(v)
    db = c.db
    server = c.server
    if flags & (_PXAT | _EXAT) and when <= mstime() and not server.loading and not server.is_replica_of_master:
        lazy = server.config["lazyfree-lazy-expire"]
        db.delete(key, lazy)
        c.propagate_argv = [[b"UNLINK" if lazy else b"DEL", key]]
        db.changed(key, b"del", b"g")
    elif expire is not None:
        db.set_expire(key, when)
        c.propagate_argv = [[b"PEXPIREAT", key, str(when).encode()]]
        db.changed(key, b"expire", b"g")
    elif flags & _PERSIST:
        if db.persist(key):
            c.propagate_argv = [[b"PERSIST", key]]
            db.changed(key, b"persist", b"g")
    return reply


@command("getdel", 2, "write fast", keys=(1, 1, 1), group="string", since="6.2.0",
         complexity="O(1)", summary="Returns the string value of a key after deleting the key.")
def getdel(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    v = _lookup_read(c, key)
    if v is None:
        return None
    reply = _out(v)
    if c.db.delete(key):
        c.propagate_argv = [[b"DEL", key]]
        c.db.changed(key, b"del", b"g")
    return reply


@command("getset", 3, "write denyoom fast", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(1)", summary="Returns the previous string value of a key after setting it to a new value.")
def getset(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    v = _lookup_read(c, key)
    reply = None if v is None else _out(v)
    c.db.set(key, argv[2])
    c.db.changed(key, b"set", b"$")
    c.propagate_argv = [[b"SET", key, argv[2]]]
    return reply


@command("mget", -2, "readonly fast", keys=(1, -1, 1), group="string", since="1.0.0",
         complexity="O(N) where N is the number of keys to retrieve.",
         summary="Atomically returns the string values of one or more keys.")
def mget(c: Client, argv: list[bytes]) -> Any:
    db = c.db
    out: list[Any] = []
    for key in argv[1:]:
        v = db.get(key)
        t = type(v)
        if t is bytes:
            out.append(v)
        elif t is bytearray:
            out.append(bytes(v))
        else:
            out.append(None)
    return out


@command("strlen", 2, "readonly fast", keys=(1, 1, 1), group="string", since="2.2.0",
         complexity="O(1)", summary="Returns the length of a string value.")
def strlen(c: Client, argv: list[bytes]) -> Any:
    v = _lookup_read(c, argv[1])
    return 0 if v is None else len(v)


def _getrange(c: Client, argv: list[bytes]) -> Any:
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    v = _lookup_read(c, argv[1])
    if v is None:
        return b""
    n = len(v)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        return b""
    return bytes(v[start:end + 1])


@command("getrange", 4, "readonly", keys=(1, 1, 1), group="string", since="2.4.0",
         complexity="O(N) where N is the length of the returned string.",
         summary="Returns a substring of the string stored at a key.")
def getrange(c: Client, argv: list[bytes]) -> Any:
    return _getrange(c, argv)


@command("substr", 4, "readonly", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(N) where N is the length of the returned string.",
         summary="Returns a substring from a string value.")
def substr(c: Client, argv: list[bytes]) -> Any:
    return _getrange(c, argv)


# ---------------------------------------------------------------------------
# in-place edits
# ---------------------------------------------------------------------------

@command("append", 3, "write denyoom fast", keys=(1, 1, 1), group="string", since="2.0.0",
         complexity="O(1)", summary="Appends a string to the value of a key. Creates the key if it doesn't exist.")
def append(c: Client, argv: list[bytes]) -> Any:
    key, extra = argv[1], argv[2]
    db = c.db
    v = _lookup_write(c, key)
    if v is None:
        db.add(key, extra)
        total = len(extra)
    else:
        _check_string_length(c, len(v), len(extra))
        if type(v) is bytes:
            v = bytearray(v)
            db.set(key, v, keepttl=True)
        v += extra
        total = len(v)
    db.changed(key, b"append", b"$")
    return total


@command("setrange", 4, "write denyoom", keys=(1, 1, 1), group="string", since="2.2.0",
         complexity="O(1), not counting the time taken to copy the new string in place.",
         summary="Overwrites a part of a string value with another by an offset. "
                 "Creates the key if it doesn't exist.")
def setrange(c: Client, argv: list[bytes]) -> Any:
    key, value = argv[1], argv[3]
    offset = parse_int(argv[2])
    if offset < 0:
        raise OFFSET_RANGE
    vlen = len(value)
    db = c.db
    v = _lookup_write(c, key)
    if v is None:
        if vlen == 0:
            return 0
        _check_string_length(c, offset, vlen)
        v = bytearray(offset)
        v += value
        db.add(key, v)
    else:
        if vlen == 0:
            return len(v)
        _check_string_length(c, offset, vlen)
        if type(v) is not bytearray:
            v = bytearray(v)
            db.set(key, v, keepttl=True)
        assert isinstance(v, bytearray)
        if len(v) < offset:
            v.extend(bytes(offset - len(v)))
        v[offset:offset + vlen] = value
    db.changed(key, b"setrange", b"$")
    return len(v)


# ---------------------------------------------------------------------------
# counters
# ---------------------------------------------------------------------------

def _incr_decr(c: Client, key: bytes, incr: int) -> int:
    """incrDecrCommand: 64-bit signed arithmetic with Redis' overflow check; the TTL stays."""
    v = _lookup_write(c, key)
    if v is None:
        old = 0
    else:
        n = string2ll(v)
        if n is None:
            raise NOT_INTEGER
        old = int(n)
    new = old + incr
    if new > INT64_MAX or new < INT64_MIN:
        raise OVERFLOW
    db = c.db
    db.set(key, str(new).encode(), keepttl=True)
    db.changed(key, b"incrby", b"$")
    return new


@command("incr", 2, "write denyoom fast", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(1)",
         summary="Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.")
def incr(c: Client, argv: list[bytes]) -> Any:
    return _incr_decr(c, argv[1], 1)


@command("decr", 2, "write denyoom fast", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(1)",
         summary="Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.")
def decr(c: Client, argv: list[bytes]) -> Any:
    return _incr_decr(c, argv[1], -1)


@command("incrby", 3, "write denyoom fast", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(1)",
         summary="Increments the integer value of a key by a number. Uses 0 as initial value if the key "
                 "doesn't exist.")
def incrby(c: Client, argv: list[bytes]) -> Any:
    return _incr_decr(c, argv[1], parse_int(argv[2]))


@command("decrby", 3, "write denyoom fast", keys=(1, 1, 1), group="string", since="1.0.0",
         complexity="O(1)",
         summary="Decrements a number from the integer value of a key. Uses 0 as initial value if the key "
                 "doesn't exist.")
def decrby(c: Client, argv: list[bytes]) -> Any:
    n = parse_int(argv[2])
    if n == INT64_MIN:
        raise DECR_OVERFLOW
    return _incr_decr(c, argv[1], -n)


@command("incrbyfloat", 3, "write denyoom fast", keys=(1, 1, 1), group="string", since="2.6.0",
         complexity="O(1)",
         summary="Increment the floating point value of a key by a number. Uses 0 as initial value if the key "
                 "doesn't exist.")
def incrbyfloat(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    v = _lookup_write(c, key)
    base = (0, 0) if v is None else string2ld(bytes(v))
    if base is None:
        raise NOT_VALID_FLOAT
    inc = string2ld(argv[2])
    if inc is None:
        raise NOT_VALID_FLOAT
    if base is _INF or inc is _INF:
        raise NAN_OR_INFINITY
    total = ld_add(base, inc)
    if total is _INF:
        raise NAN_OR_INFINITY
    text = ld2string_human(total)
    db = c.db
    db.set(key, text, keepttl=True)
    db.changed(key, b"incrbyfloat", b"$")
    c.propagate_argv = [[b"SET", key, text, b"KEEPTTL"]]
    return text


# ---------------------------------------------------------------------------
# long double (x87 80-bit: 64-bit mantissa, 15-bit exponent) emulation
# ---------------------------------------------------------------------------
# LCS
# ---------------------------------------------------------------------------

def _lcs_rows(a: bytes, b: bytes) -> list[int]:
    """Bit-parallel LCS rows (Hyyro): a zero at bit j of row i means LCS(i, j+1) = LCS(i, j) + 1."""
    blen = len(b)
    full = (1 << blen) - 1
    positions: dict[int, int] = {}
    rb = b[::-1]  # bit j (from the right) is b[j]
    for ch in set(a):
        if ch in b:
            table = bytes(0x31 if x == ch else 0x30 for x in range(256))
            positions[ch] = int(rb.translate(table), 2)  # linear time for base 2
    rows = [full]
    v = full
    for ch in a:
        u = v & positions.get(ch, 0)
        v = ((v + u) | (v - u)) & full
        rows.append(v)
    return rows


@command("lcs", -3, "readonly", keys=(1, 2, 1), group="string", since="7.0.0",
         complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
         summary="Finds the longest common substring.")
def lcs(c: Client, argv: list[bytes]) -> Any:
    va = c.db.get(argv[1])
    vb = c.db.get(argv[2])
    for v in (va, vb):
        if v is not None and type(v) is not bytes and type(v) is not bytearray:
            raise LCS_TYPES
    a = b"" if va is None else bytes(va)
    b = b"" if vb is None else bytes(vb)
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].upper()
        if opt == b"IDX":
            getidx = True
        elif opt == b"LEN":
            getlen = True
        elif opt == b"WITHMATCHLEN":
            withmatchlen = True
        elif opt == b"MINMATCHLEN" and j < n - 1:
            minmatchlen = max(parse_int(argv[j + 1]), 0)
            j += 1
        else:
            raise SYNTAX_ERROR
        j += 1
    if getidx and getlen:
        raise LCS_LEN_AND_IDX
    alen, blen = len(a), len(b)
    if (alen + 1) * (blen + 1) * 4 > c.server.config["proto-max-bulk-len"]:
        raise LCS_MEMORY
    rows = _lcs_rows(a, b)
    total = blen - rows[alen].bit_count()
    if getlen and not getidx:
        return total

    def lcs_at(i: int, jj: int) -> int:
        return jj - (rows[i] & ((1 << jj) - 1)).bit_count()

    result = bytearray(total)
    idx = total
    matches: list[Any] = []
    a_start = alen  # alen: no range in progress
    a_end = b_start = b_end = 0
    i, jj = alen, blen
    cur = total
    while i > 0 and jj > 0:
        emit = False
        if a[i - 1] == b[jj - 1]:
            result[idx - 1] = a[i - 1]
            if a_start == alen:
                a_start = a_end = i - 1
                b_start = b_end = jj - 1
            elif a_start == i and b_start == jj:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx -= 1
            i -= 1
            jj -= 1
            cur -= 1
        else:
            up = lcs_at(i - 1, jj)
            left = cur - (0 if (rows[i] >> (jj - 1)) & 1 else 1)
            if up > left:
                i -= 1
                cur = up
            else:
                jj -= 1
                cur = left
            if a_start != alen:
                emit = True
        if emit:
            match_len = a_end - a_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                m: list[Any] = [[a_start, a_end], [b_start, b_end]]
                if withmatchlen:
                    m.append(match_len)
                matches.append(m)
            a_start = alen
    if getidx:
        return {b"matches": matches, b"len": total}
    return bytes(result)
