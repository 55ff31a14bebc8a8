"""What OBJECT ENCODING reports: Redis' internal encoding for a Python value.

fastredis stores plain Python containers, so the encoding is derived from the
value and the ``*-max-listpack-*`` / ``set-max-intset-entries`` thresholds
(Redis 7.2 rules: strings int/embstr/raw, lists listpack/quicklist, sets
intset/listpack/hashtable, hashes listpack/hashtable, zsets listpack/skiplist).
Values that track their own encoding (``types.zset.ZSet.encoding``) are asked.

Stateless limits: Redis only converts up (except lists), so a hash, set or zset
that grew past a threshold and shrank again stays ``hashtable``/``skiplist``
in Redis but is reported small here unless its type records the conversion; a
list shrinking between half and the full listpack limit stays ``quicklist`` in
Redis.  The list size check uses the exact listpack byte size, while Redis
checks the raw argument lengths before a push, so lists right at the size
limit may differ by an element.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ._resp import string2ll

OBJ_ENCODING_EMBSTR_SIZE_LIMIT = 44
# quicklist optimization_level: list-max-listpack-size -1..-5
_LIST_SIZE_LEVELS = (4096, 8192, 16384, 32768, 65536)
_SIZE_SAFETY_LIMIT = 8192
_LP_HEADER = 6 + 1  # total bytes + count header, end byte


def string_encoding(value: bytes | bytearray) -> str:
    """``int`` for canonical 64-bit integers (<= 20 chars), ``embstr`` up to 44 bytes, else ``raw``.

    A ``bytearray`` is what APPEND/SETRANGE leave: Redis' modified-in-place ``raw``.
    """
    if type(value) is bytearray:
        return "raw"
    n = len(value)
    if n <= 20 and string2ll(value) is not None:
        return "int"
    return "embstr" if n <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT else "raw"


def _backlen_size(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def lp_entry_size(elem: bytes) -> int:
    """Bytes one element takes in a listpack (integers are stored in 1..9 bytes)."""
    n = len(elem)
    v = string2ll(elem) if n <= 20 else None
    if v is not None:
        if 0 <= v <= 127:
            size = 1
        elif -4096 <= v <= 4095:
            size = 2
        elif -32768 <= v <= 32767:
            size = 3
        elif -8388608 <= v <= 8388607:
            size = 4
        elif -2147483648 <= v <= 2147483647:
            size = 5
        else:
            size = 9
    elif n < 64:
        size = 1 + n
    elif n < 4096:
        size = 2 + n
    else:
        size = 5 + n
    return size + _backlen_size(size)


def lp_bytes(elems: Any) -> int:
    """Total listpack size for these elements (header, entries, end byte)."""
    return _LP_HEADER + sum(lp_entry_size(e) for e in elems)


def list_fits_listpack(size_bytes: int, count: int, fill: int) -> bool:
    """quicklistNodeExceedsLimit negated, for ``list-max-listpack-size`` = ``fill``."""
    if fill < 0:
        level = min(-fill - 1, len(_LIST_SIZE_LEVELS) - 1)
        return size_bytes <= _LIST_SIZE_LEVELS[level]
    if size_bytes > _SIZE_SAFETY_LIMIT:
        return False
    return count <= (fill or 1)


def list_encoding(value: deque[bytes], config: Any) -> str:
    fill = config["list-max-listpack-size"]
    n = len(value)
    # cheap exits before sizing every element
    if fill >= 0 and n > (fill or 1):
        return "quicklist"
    if fill < 0 and n * 2 + _LP_HEADER > _LIST_SIZE_LEVELS[min(-fill - 1, 4)]:
        return "quicklist"
    return "listpack" if list_fits_listpack(lp_bytes(value), n, fill) else "quicklist"


def _is_int(member: bytes) -> bool:
    return len(member) <= 20 and string2ll(member) is not None


def set_encoding(value: set[bytes], config: Any) -> str:
    n = len(value)
    intset_max = min(config["set-max-intset-entries"], 1 << 30)
    if all(_is_int(m) for m in value):
        if n <= intset_max:
            return "intset"
        # an intset that outgrows set-max-intset-entries goes straight to hashtable
        return "hashtable"
    if n > config["set-max-listpack-entries"]:
        return "hashtable"
    limit = config["set-max-listpack-value"]
    return "listpack" if all(len(m) <= limit for m in value) else "hashtable"


def hash_encoding(value: dict[bytes, bytes], config: Any) -> str:
    if len(value) > config["hash-max-listpack-entries"]:
        return "hashtable"
    limit = config["hash-max-listpack-value"]
    for f, v in value.items():
        if len(f) > limit or len(v) > limit:
            return "hashtable"
    return "listpack"


def zset_encoding(value: Any, config: Any) -> str:
    own = getattr(value, "encoding", None)
    if isinstance(own, str):
        return own
    if len(value) > config["zset-max-listpack-entries"]:
        return "skiplist"
    limit = config["zset-max-listpack-value"]
    return "listpack" if all(len(m) <= limit for m in value) else "skiplist"


def encoding_of(value: Any, config: Any) -> str:
    """The OBJECT ENCODING name Redis would report for ``value`` under ``config``."""
    t = type(value)
    if t is bytes or t is bytearray:
        return string_encoding(value)
    if t is deque:
        return list_encoding(value, config)
    if t is set:
        return set_encoding(value, config)
    if t is dict:
        return hash_encoding(value, config)
    from .db import type_name

    name = type_name(value)
    if name == "zset":
        return zset_encoding(value, config)
    if name == "stream":
        return "stream"
    own = getattr(value, "encoding", None)
    return own if isinstance(own, str) else "raw"
