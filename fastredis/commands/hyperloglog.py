"""HyperLogLog commands (Redis' hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.

The HLL is an ordinary string value in Redis' exact format (see ``fastredis.hll``), stored as
a ``bytearray`` because PFADD/PFCOUNT update it in place.  PFCOUNT on one key caches the
cardinality in the header like Redis (a write to the string, counted as dirty).
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from .. import hll
from .._resp import OK, ReplyError, Status
from ..db import WRONGTYPE
from .table import command

if TYPE_CHECKING:
    from ..context import Client

NOT_HLL = ReplyError("WRONGTYPE Key is not a valid HyperLogLog string value.")
INVALID_HLL = ReplyError("INVALIDOBJ Corrupted HLL object detected")


def _check_hll(v: Any) -> None:
    """isHLLObjectOrReply: a string with a valid header, else WRONGTYPE."""
    if not isinstance(v, (bytes, bytearray)):
        raise WRONGTYPE
    if not hll.is_valid(v):
        raise NOT_HLL


def _writable(c: Client, key: bytes, v: bytes | bytearray) -> bytearray:
    """dbUnshareStringValue: make the stored value a mutable bytearray."""
    if type(v) is bytearray:
        return v
    ba = bytearray(v)
    c.db.set(key, ba, keepttl=True)
    return ba


def _add_elements(v: bytearray, elements: list[bytes], max_bytes: int) -> tuple[bytearray, int, bool]:
    """hllAdd for each element: (new value, registers updated, ok).

    ``ok`` is False when the sparse data turned out corrupted; like Redis the
    updates done before that point are kept.
    """
    updated = 0
    if v[4] == hll.DENSE:
        for ele in elements:
            index, count = hll.pat_len(ele)
            updated += hll.dense_set(v, index, count)
        return v, updated, True
    editor: hll.SparseEditor | None = hll.sparse_editor(v)
    for ele in elements:
        index, count = hll.pat_len(ele)
        if editor is None:
            updated += hll.dense_set(v, index, count)
            continue
        res = editor.set(index, count, max_bytes)
        if res == hll.PROMOTE:
            try:
                v = editor.to_dense()
            except hll.HLLError:
                return editor.value(), updated, False
            editor = None
            hll.dense_set(v, index, count)
            updated += 1
        elif res == hll.INVALID:
            return editor.value(), updated, False
        else:
            updated += res
    if editor is not None:
        v = editor.value()
        hll.remember_editor(v, editor)
    return v, updated, True


@command("pfadd", -2, "write denyoom fast", keys=(1, 1, 1), group="hyperloglog", since="2.8.9",
         summary="Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.")
def pfadd(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    db = c.db
    v = db.get_for_write(key)
    updated = 0
    if v is None:
        v = bytearray(hll.EMPTY_SPARSE)
        db.add(key, v)
        updated = 1
    else:
        _check_hll(v)
        v = _writable(c, key, v)
    new, n, ok = _add_elements(v, argv[2:], c.server.config["hll-sparse-max-bytes"])
    if new is not v:
        db.set(key, new, keepttl=True)
    if not ok:
        raise INVALID_HLL
    updated += n
    if updated:
        hll.invalidate_cache(new)
        db.changed(key, b"pfadd", b"$", updated)
        return 1
    return 0


def _merged_lanes(c: Client, keys: list[bytes]) -> tuple[hll.Lanes, bool]:
    """Register-wise max of the HLLs at ``keys`` (missing = empty) and whether one was dense."""
    acc: hll.Lanes = [0, 0, 0, 0]
    use_dense = False
    for key in keys:
        v = c.db.get(key)
        if v is None:
            continue
        _check_hll(v)
        if v[4] == hll.DENSE:
            use_dense = True
        try:
            acc = hll.lanes_max(acc, hll.registers_lanes(v))
        except hll.HLLError:
            raise INVALID_HLL from None
    return acc, use_dense


@command("pfcount", -2, "readonly may-replicate", keys=(1, -1, 1), group="hyperloglog", since="2.8.9",
         summary="Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).")
def pfcount(c: Client, argv: list[bytes]) -> Any:
    if len(argv) > 2:
        lanes, _ = _merged_lanes(c, argv[1:])
        return hll.as_reply(hll.count_from_histogram(hll.lanes_histogram(lanes)))
    key = argv[1]
    db = c.db
    v = db.get(key)
    if v is None:
        return 0
    _check_hll(v)
    v = _writable(c, key, v)
    card = hll.cached_card(v)
    if card is not None:
        return card
    try:
        card = hll.count(v)
    except hll.HLLError:
        raise INVALID_HLL from None
    hll.store_card(v, card)
    # A read-only command that still modifies the string: WATCH, dirty and propagation like
    # Redis, so replicas and the AOF hold the same bytes (the executor only propagates
    # "write" commands; PUBLISH propagates itself the same way).  A replica only relays its
    # master's stream.
    db.signal_modified(key)
    server = c.server
    server.dirty += 1
    if not server.is_replica_of_master:
        server.propagate(c.db.id, argv)
    return hll.as_reply(card)


@command("pfmerge", -2, "write denyoom", keys=(1, -1, 1), group="hyperloglog", since="2.8.9",
         summary="Merges one or more HyperLogLog values into a single key.")
def pfmerge(c: Client, argv: list[bytes]) -> Any:
    key = argv[1]
    db = c.db
    lanes, use_dense = _merged_lanes(c, argv[1:])
    v = db.get_for_write(key)
    if v is None:
        v = bytearray(hll.EMPTY_SPARSE)
        db.add(key, v)
    else:
        v = _writable(c, key, v)
    if use_dense:
        if v[4] == hll.SPARSE:
            try:
                v = hll.sparse_to_dense(v)
            except hll.HLLError:
                raise INVALID_HLL from None
        # the max already includes the destination: its registers become the max
        v[hll.HDR_SIZE:] = hll.lanes_to_dense_regs(lanes)
    else:
        v = _sparse_merge(v, lanes, c.server.config["hll-sparse-max-bytes"])
    hll.invalidate_cache(v)
    db.set(key, v, keepttl=True)
    db.changed(key, b"pfadd", b"$")
    return OK


def _sparse_merge(v: bytearray, lanes: hll.Lanes, max_bytes: int) -> bytearray:
    """hllSparseSet for every non-zero register in index order (may promote midway)."""
    raw = hll.lanes_to_raw(lanes)
    editor: hll.SparseEditor | None = hll.SparseEditor(v)
    out = v
    for index in (i for i, r in enumerate(raw) if r):
        count = raw[index]
        if editor is None:
            hll.dense_set(out, index, count)
            continue
        if editor.set(index, count, max_bytes) == hll.PROMOTE:
            out = editor.to_dense()
            editor = None
            hll.dense_set(out, index, count)
    if editor is not None:
        out = editor.value()
    return out


# -- debugging -------------------------------------------------------------------------


@command("pfdebug", 3, "write denyoom admin", keys=(2, 2, 1), group="hyperloglog", since="2.8.9",
         summary="Internal commands for debugging HyperLogLog values.")
def pfdebug(c: Client, argv: list[bytes]) -> Any:
    sub = argv[1].lower()
    key = argv[2]
    db = c.db
    v = db.get_for_write(key)
    if v is None:
        raise ReplyError("ERR The specified key does not exist")
    _check_hll(v)
    v = _writable(c, key, v)
    if sub in (b"getreg", b"todense"):
        converted = False
        if v[4] == hll.SPARSE:
            try:
                v = hll.sparse_to_dense(v)
            except hll.HLLError:
                raise INVALID_HLL from None
            db.set(key, v, keepttl=True)
            db.signal_modified(key)
            c.server.dirty += 1  # force propagation of the encoding change
            converted = True
        if sub == b"todense":
            return 1 if converted else 0
        return list(hll.lanes_to_raw(hll.dense_lanes(v)))
    if sub == b"decode":
        if v[4] != hll.SPARSE:
            raise ReplyError("ERR HLL encoding is not sparse")
        return hll.decode_sparse(v)
    if sub == b"encoding":
        return Status(b"dense" if v[4] == hll.DENSE else b"sparse")
    raise ReplyError(b"ERR Unknown PFDEBUG subcommand '%s'" % argv[1].split(b"\0", 1)[0])


@command("pfselftest", 1, "admin", group="hyperloglog", since="2.8.9",
         summary="An internal command for testing HyperLogLog values.")
def pfselftest(c: Client, argv: list[bytes]) -> Any:
    """A scaled-down PFSELFTEST: register access, dense/sparse agreement and error bounds."""
    regs = bytearray(hll.DENSE_SIZE)
    for _ in range(2):
        values = [random.getrandbits(6) for _ in range(hll.REGISTERS)]
        for i, val in enumerate(values):
            hll.dense_put(regs, i, val)
        for i, val in enumerate(values):
            got = hll.dense_get(regs, i)
            if got != val:
                return ReplyError("TESTFAILED Register %d should be %d but is %d" % (i, val, got))
        if list(hll.lanes_to_raw(hll.dense_lanes(regs))) != values:
            return ReplyError("TESTFAILED Register unpacking disagrees")
    dense = bytearray(hll.DENSE_SIZE)
    dense[:4] = b"HYLL"
    sparse = bytearray(hll.EMPTY_SPARSE)
    max_bytes = c.server.config["hll-sparse-max-bytes"]
    relerr = 1.04 / hll.REGISTERS ** 0.5
    seed = random.getrandbits(64)
    checkpoint = 1
    for j in range(1, 20001):
        ele = (j ^ seed).to_bytes(8, "little")
        index, count = hll.pat_len(ele)
        hll.dense_set(dense, index, count)
        sparse, _, _ = _add_elements(sparse, [ele], max_bytes)
        if j == checkpoint:
            if j < max_bytes // 2 and sparse[4] != hll.SPARSE:
                return ReplyError("TESTFAILED sparse encoding not used")
            card = hll.count(dense)
            if card != hll.count(sparse):
                return ReplyError("TESTFAILED dense/sparse disagree")
            maxerr = 1 if j == 10 else math.ceil(relerr * 6 * checkpoint)
            if abs(checkpoint - card) > maxerr:
                return ReplyError("TESTFAILED Too big error. card:%d abserr:%d" % (checkpoint, abs(checkpoint - card)))
            checkpoint *= 10
    return OK
