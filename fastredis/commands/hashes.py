"""Hashes (Redis' t_hash.c): HSET family, HINCRBY/HINCRBYFLOAT, HRANDFIELD, HSCAN.

A hash is a ``dict`` of bytes -> bytes (insertion ordered, like a small
listpack-encoded hash in Redis); an emptied hash is deleted.

HINCRBYFLOAT works in x87 80-bit ``long double`` like Redis (so ``10.5`` +
``0.1`` is ``10.6``, not ``10.59999...``), with the emulation in ``longdouble``
that INCRBYFLOAT shares.
"""

from __future__ import annotations

import random
from itertools import islice
from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError, string2ll
from ..longdouble import INF as LD_INF
from ..longdouble import ld2string_human, ld_add, string2ld
from ..scan import parse_cursor, parse_scan_options, scan, scan_all
from .table import INT64_MAX, INT64_MIN, OVERFLOW, SYNTAX_ERROR, command, parse_int, wrong_arity

if TYPE_CHECKING:
    from ..context import Client

NOT_INT_HASH = ReplyError("ERR hash value is not an integer")
NOT_FLOAT_HASH = ReplyError("ERR hash value is not a float")
NOT_VALID_FLOAT = ReplyError("ERR value is not a valid float")
NAN_OR_INF = ReplyError("ERR value is NaN or Infinity")
WOULD_BE_NAN = ReplyError("ERR increment would produce NaN or Infinity")
OUT_OF_RANGE_PLAIN = ReplyError("ERR value is out of range")
RANGE_ERROR = ReplyError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
LONG_MAX = 2**63 - 1
# a random-sample reply longer than this would only exhaust memory (Redis would try anyway)
MAX_RANDOM_REPLY = 50_000_000


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _get_hash(c: Client, key: bytes, write: bool = False) -> dict[bytes, bytes] | None:
    return c.db.get_typed(key, dict, write)  # type: ignore[no-any-return]


def _hash_for_write(c: Client, key: bytes) -> dict[bytes, bytes]:
    """hashTypeLookupWriteOrCreate: the hash at ``key``, created when missing."""
    h = _get_hash(c, key, write=True)
    if h is None:
        h = {}
        c.db.add(key, h)
    return h


def _small_hash(c: Client, h: dict[bytes, bytes]) -> bool:
    """Would Redis keep this hash listpack-encoded (HSCAN then returns it whole)?"""
    cfg = c.server.config
    if len(h) > cfg["hash-max-listpack-entries"]:
        return False
    limit = cfg["hash-max-listpack-value"]
    for k, v in h.items():
        if len(k) > limit or len(v) > limit:
            return False
    return True


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------

def _hset_generic(c: Client, argv: list[bytes]) -> int:
    if len(argv) % 2 == 1:
        raise wrong_arity(argv[0].decode("utf-8", "replace").lower())
    key = argv[1]
    h = _hash_for_write(c, key)
    created = 0
    for i in range(2, len(argv), 2):
        f = argv[i]
        if f not in h:
            created += 1
        h[f] = argv[i + 1]
    c.db.changed(key, b"hset", b"h", (len(argv) - 2) // 2)
    return created


@command("hset", -4, "write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Creates or modifies the value of a field in a hash.")
def hset(c: Client, argv: list[bytes]) -> Any:
    return _hset_generic(c, argv)


@command("hmset", -4, "write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Sets the values of multiple fields.")
def hmset(c: Client, argv: list[bytes]) -> Any:
    _hset_generic(c, argv)
    return OK


@command("hsetnx", 4, "write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Sets the value of a field in a hash only when the field doesn't exist.")
def hsetnx(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    h = _get_hash(c, key, write=True)
    if h is not None and argv[2] in h:
        return 0
    if h is None:
        h = {}
        c.db.add(key, h)
    h[argv[2]] = argv[3]
    c.db.changed(key, b"hset", b"h")
    return 1


@command("hget", 3, "readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Returns the value of a field in a hash.")
def hget(c: Client, argv: list[bytes]) -> Any:
    h = _get_hash(c, argv[1])
    if h is None:
        return None
    return h.get(argv[2])


@command("hmget", -3, "readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Returns the values of all fields in a hash.")
def hmget(c: Client, argv: list[bytes]) -> Any:
    h = _get_hash(c, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    get = h.get
    return [get(f) for f in argv[2:]]


@command("hdel", -3, "write fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Deletes one or more fields and their values from a hash. Deletes the hash if no fields "
                 "remain.")
def hdel(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    h = _get_hash(c, key, write=True)
    if h is None:
        return 0
    deleted = 0
    for f in argv[2:]:
        if h.pop(f, None) is not None:
            deleted += 1
            if not h:
                break
    if deleted:
        db = c.db
        db.changed(key, b"hdel", b"h", deleted)
        db.drop_if_empty(key, h)
    return deleted


@command("hlen", 2, "readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Returns the number of fields in a hash.")
def hlen(c: Client, argv: list[bytes]) -> Any:
    h = _get_hash(c, argv[1])
    return 0 if h is None else len(h)


@command("hstrlen", 3, "readonly fast", keys=(1, 1, 1), group="hash", since="3.2.0",
         summary="Returns the length of the value of a field.")
def hstrlen(c: Client, argv: list[bytes]) -> Any:
    h = _get_hash(c, argv[1])
    if h is None:
        return 0
    v = h.get(argv[2])
    return 0 if v is None else len(v)


@command("hexists", 3, "readonly fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Determines whether a field exists in a hash.")
def hexists(c: Client, argv: list[bytes]) -> Any:
    h = _get_hash(c, argv[1])
    return 1 if h is not None and argv[2] in h else 0


@command("hkeys", 2, "readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Returns all fields in a hash.")
def hkeys(c: Client, argv: list[bytes]) -> Any:
    h = _get_hash(c, argv[1])
    return [] if h is None else list(h)


@command("hvals", 2, "readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Returns all values in a hash.")
def hvals(c: Client, argv: list[bytes]) -> Any:
    h = _get_hash(c, argv[1])
    return [] if h is None else list(h.values())


@command("hgetall", 2, "readonly", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Returns all fields and values in a hash.")
def hgetall(c: Client, argv: list[bytes]) -> Any:
    h = _get_hash(c, argv[1])
    return {} if h is None else dict(h)


@command("hincrby", 4, "write denyoom fast", keys=(1, 1, 1), group="hash", since="2.0.0",
         summary="Increments the integer value of a field in a hash by a number. Uses 0 as initial value if "
                 "the field doesn't exist.")
def hincrby(c: Client, argv: list[bytes]) -> Any:
    incr = parse_int(argv[3])
    key = argv[1]
    h = _hash_for_write(c, key)
    cur = h.get(argv[2])
    if cur is None:
        value = 0
    else:
        v = string2ll(cur)
        if v is None:
            raise NOT_INT_HASH
        value = int(v)
    new = value + incr
    if new < INT64_MIN or new > INT64_MAX:
        raise OVERFLOW
    h[argv[2]] = str(new).encode()
    c.db.changed(key, b"hincrby", b"h")
    return new


@command("hincrbyfloat", 4, "write denyoom fast", keys=(1, 1, 1), group="hash", since="2.6.0",
         summary="Increments the floating point value of a field by a number. Uses 0 as initial value if the "
                 "field doesn't exist.")
def hincrbyfloat(c: Client, argv: list[bytes]) -> Any:
    inc = string2ld(argv[3])
    if inc is None:
        raise NOT_VALID_FLOAT
    if inc is LD_INF:
        raise NAN_OR_INF
    key = argv[1]
    h = _hash_for_write(c, key)
    current = h.get(argv[2])
    base = (0, 0) if current is None else string2ld(current)
    if base is None or base is LD_INF:
        if not h:
            c.db.delete(key)
        raise NOT_FLOAT_HASH if base is None else WOULD_BE_NAN
    total = ld_add(base, inc)
    if total is LD_INF:
        if not h:
            c.db.delete(key)
        raise WOULD_BE_NAN
    text = ld2string_human(total)
    h[argv[2]] = text
    c.db.changed(key, b"hincrbyfloat", b"h")
    c.propagate_argv = [[b"HSET", key, argv[2], text]]
    return text


def _random_fields(h: dict[bytes, bytes], n: int) -> list[bytes]:
    """``n`` distinct random fields (n <= len(h))."""
    return random.sample(list(h), n)


@command("hrandfield", -2, "readonly", keys=(1, 1, 1), group="hash", since="6.2.0",
         summary="Returns one or more random fields from a hash.")
def hrandfield(c: Client, argv: list[bytes]) -> Any:
    if len(argv) >= 3:
        count = parse_int(argv[2])
        if count < -LONG_MAX:
            raise RANGE_ERROR
        withvalues = False
        if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withvalues"):
            raise SYNTAX_ERROR
        if len(argv) == 4:
            withvalues = True
            if count < -LONG_MAX // 2 or count > LONG_MAX // 2:
                raise OUT_OF_RANGE_PLAIN
        h = _get_hash(c, argv[1])
        if h is None or count == 0:
            return []
        resp3 = c.resp >= 3
        if count < 0:
            n = -count
            if n > MAX_RANDOM_REPLY:
                raise OUT_OF_RANGE_PLAIN
            fields = random.choices(list(h), k=n)
        elif count >= len(h):
            fields = list(h)
        else:
            fields = _random_fields(h, count)
        if not withvalues:
            return fields
        if resp3:
            return [[f, h[f]] for f in fields]
        out: list[bytes] = []
        for f in fields:
            out.append(f)
            out.append(h[f])
        return out
    h = _get_hash(c, argv[1])
    if h is None:
        return None
    return next(islice(iter(h), random.randrange(len(h)), None))


@command("hscan", -3, "readonly", keys=(1, 1, 1), group="hash", since="2.8.0",
         summary="Iterates over fields and values of a hash.")
def hscan(c: Client, argv: list[bytes]) -> Any:
    cursor = parse_cursor(argv[2])
    h = _get_hash(c, argv[1])
    if h is None:
        return [b"0", []]
    opts = parse_scan_options(argv, 3)
    if _small_hash(c, h):
        nxt, fields = scan_all(h)
    else:
        nxt, fields = scan(h, cursor, opts.count)
    match = opts.matcher() if opts.match is not None else None
    out: list[bytes] = []
    for f in fields:
        if match is not None and not match(f):
            continue
        v = h.get(f)
        if v is None:
            continue
        out.append(f)
        out.append(v)
    return [str(nxt).encode(), out]
