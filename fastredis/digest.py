"""DEBUG DIGEST / DIGEST-VALUE: Redis' dataset digest (debug.c), equal to Redis' for the same data.

Unordered things (keys, set members, hash fields, zset members) are combined with
XOR of SHA1s, ordered things (list elements, stream entries) with ``mix`` (SHA1 of
the running digest XOR the element's SHA1), exactly as xorDigest/mixDigest do, so
test suites can compare a fastredis dataset with a Redis one.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ._resp import format_double

if TYPE_CHECKING:
    from .db import Database

_sha1 = hashlib.sha1
ZERO = bytes(20)

# OBJ_STRING .. OBJ_STREAM as htonl(type)
_TYPE_BYTES = {"string": b"\0\0\0\0", "list": b"\0\0\0\1", "set": b"\0\0\0\2", "zset": b"\0\0\0\3",
               "hash": b"\0\0\0\4", "stream": b"\0\0\0\6"}


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(20, "big")


def xor_digest(digest: bytes, data: bytes) -> bytes:
    return _xor(digest, _sha1(data).digest())


def mix_digest(digest: bytes, data: bytes) -> bytes:
    return _sha1(xor_digest(digest, data)).digest()


def object_digest(db: Database, key: bytes, value: Any, digest: bytes = ZERO) -> bytes:
    """xorObjectDigest: the value's digest mixed into ``digest``."""
    from .db import type_name

    t = type_name(value)
    digest = mix_digest(digest, _TYPE_BYTES[t])
    if t == "string":
        digest = mix_digest(digest, bytes(value))
    elif t == "list":
        for ele in value:
            digest = mix_digest(digest, bytes(ele))
    elif t == "set":
        acc = 0
        for ele in value:
            acc ^= int.from_bytes(_sha1(ele).digest(), "big")
        digest = _xor(digest, acc.to_bytes(20, "big"))
    elif t == "zset":
        acc = 0
        for member, score in value.items():
            ele = mix_digest(mix_digest(ZERO, member), format_double(score))
            acc ^= int.from_bytes(_sha1(ele).digest(), "big")
        digest = _xor(digest, acc.to_bytes(20, "big"))
    elif t == "hash":
        acc = 0
        for field, val in value.items():
            ele = mix_digest(mix_digest(ZERO, field), bytes(val))
            acc ^= int.from_bytes(_sha1(ele).digest(), "big")
        digest = _xor(digest, acc.to_bytes(20, "big"))
    elif t == "stream":
        for sid, fields in value.entries.items():
            digest = mix_digest(digest, b"%d.%d" % (sid[0], sid[1]))
            for item in fields:
                digest = mix_digest(digest, bytes(item))
    if key in db.expires:
        digest = xor_digest(digest, b"!!expire!!")
    return digest


def dataset_digest(dbs: list[Database]) -> bytes:
    """computeDatasetDigest over every database (logically expired keys included, as Redis)."""
    final = ZERO
    for db in dbs:
        if not db.data:
            continue
        final = mix_digest(final, db.id.to_bytes(4, "big"))
        acc = 0
        for key, value in db.data.items():
            d = object_digest(db, key, value, mix_digest(ZERO, key))
            acc ^= int.from_bytes(_sha1(d).digest(), "big")
        final = _xor(final, acc.to_bytes(20, "big"))
    return final

