"""RDB: the snapshot format (load versions 1..11, write version 11) and DUMP payloads.

Loading builds fresh per-db dicts and hands them back in a ``LoadResult``; the
caller swaps them into the keyspace only when the whole file parsed (nothing is
half-loaded).  Every malformed input ends in ``RdbError`` whose text follows
Redis' log lines, never in a stray Python exception.

Writing mirrors ``rdbSaveRio`` of Redis 7.2: aux fields, functions, per-db
SELECTDB/RESIZEDB, EXPIRETIME_MS, compact encodings (listpack/intset) for small
collections, LZF for strings over 20 bytes, CRC64 trailer.
"""

from __future__ import annotations

import functools
import math
import os
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sortedcontainers import SortedDict

from .._resp import format_double
from ..types.stream import (
    INVALID_ENTRIES_READ,
    Consumer,
    ConsumerGroup,
    PendingEntry,
    Stream,
)
from ..types.zset import ZSet
from . import lzf
from .crc64 import crc64
from .encodings import (
    EncodingError,
    canonical_int,
    intset_encode,
    intset_members,
    listpack_encode,
    listpack_entries,
    ziplist_entries,
    zipmap_pairs,
)

try:
    from ._rdbfast import deque_layout_ok as _deque_layout_ok
    from ._rdbfast import dump_database as _dump_database_fast
except ImportError:  # extension not built: the Python writer does everything
    _dump_database: Callable[..., int] | None = None
else:
    _dump_database = _dump_database_fast if _deque_layout_ok() else None
try:
    from ._rdbfast import load_records as _load_records
except ImportError:
    _load_records = None

# records the native loader takes per call: the loading thread lets others run between calls
_LOAD_BATCH = 4096

RDB_VERSION = 11
REDIS_VER_AUX = b"7.2.4"

# value types
T_STRING = 0
T_LIST = 1
T_SET = 2
T_ZSET = 3
T_HASH = 4
T_ZSET_2 = 5
T_MODULE_PRE_GA = 6
T_MODULE_2 = 7
T_HASH_ZIPMAP = 9
T_LIST_ZIPLIST = 10
T_SET_INTSET = 11
T_ZSET_ZIPLIST = 12
T_HASH_ZIPLIST = 13
T_LIST_QUICKLIST = 14
T_STREAM_LISTPACKS = 15
T_HASH_LISTPACK = 16
T_ZSET_LISTPACK = 17
T_LIST_QUICKLIST_2 = 18
T_STREAM_LISTPACKS_2 = 19
T_SET_LISTPACK = 20
T_STREAM_LISTPACKS_3 = 21

# opcodes
OP_SLOT_INFO = 244
OP_FUNCTION2 = 245
OP_FUNCTION_PRE_GA = 246
OP_MODULE_AUX = 247
OP_IDLE = 248
OP_FREQ = 249
OP_AUX = 250
OP_RESIZEDB = 251
OP_EXPIRETIME_MS = 252
OP_EXPIRETIME = 253
OP_SELECTDB = 254
OP_EOF = 255

_OBJECT_TYPES = frozenset(range(0, 8)) | frozenset(range(9, 22))

QUICKLIST_NODE_PLAIN = 1
QUICKLIST_NODE_PACKED = 2

STREAM_ITEM_FLAG_DELETED = 1
STREAM_ITEM_FLAG_SAMEFIELDS = 2

_U64 = 2**64

_ms_struct = struct.Struct("<q")
_id_struct = struct.Struct(">QQ")
_double_struct = struct.Struct("<d")


class RdbError(Exception):
    """The RDB data is corrupt or truncated.

    ``lines`` are the log lines Redis would print; ``str(err)`` is the last one.
    """

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[-1])
        self.lines = list(lines)


class _Corrupt(Exception):
    """Internal: a value failed its integrity checks (reason as in rdb.c)."""


class _ShortRead(Exception):
    """Internal: the input ended early."""


class _EmptyKey(Exception):
    """Internal: a collection with no elements (skipped, like Redis)."""


class Reader:
    """A cursor over an in-memory RDB image."""

    __slots__ = ("buf", "pos", "end", "zset_limits")

    def __init__(self, buf: bytes, pos: int = 0, end: int | None = None,
                 zset_limits: tuple[int, int] = (128, 64)) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end
        # zset-max-listpack-entries/value: a loaded zset takes the encoding Redis would convert it to
        self.zset_limits = zset_limits

    def read(self, n: int) -> bytes:
        p = self.pos
        q = p + n
        if q > self.end or n < 0:
            raise _ShortRead()
        self.pos = q
        return self.buf[p:q]

    def byte(self) -> int:
        p = self.pos
        if p >= self.end:
            raise _ShortRead()
        self.pos = p + 1
        return self.buf[p]

    def length_enc(self) -> tuple[int, bool]:
        """(value, is_encoded): an RDB length, or a special string encoding."""
        b = self.byte()
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, False
        if kind == 1:
            return ((b & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return b & 0x3F, True
        if b == 0x80:
            return int.from_bytes(self.read(4), "big"), False
        if b == 0x81:
            return int.from_bytes(self.read(8), "big"), False
        raise _Corrupt("Unknown length encoding %d in rdbLoadLen()" % kind)

    def length(self) -> int:
        v, enc = self.length_enc()
        if enc:
            raise _Corrupt("Unexpected encoded length")
        return v

    def string(self) -> bytes:
        # fast path: a plain string with a 6-bit length (most keys and small values)
        p = self.pos
        if p < self.end:
            b = self.buf[p]
            if b < 0x40:
                q = p + 1 + b
                if q <= self.end:
                    self.pos = q
                    return self.buf[p + 1:q]
        v, enc = self.length_enc()
        if not enc:
            return self.read(v)
        if v == 0:
            return b"%d" % int.from_bytes(self.read(1), "little", signed=True)
        if v == 1:
            return b"%d" % int.from_bytes(self.read(2), "little", signed=True)
        if v == 2:
            return b"%d" % int.from_bytes(self.read(4), "little", signed=True)
        if v == 3:
            clen = self.length()
            ulen = self.length()
            data = self.read(clen)
            try:
                return lzf.decompress(data, ulen)
            except lzf.LZFError:
                raise _Corrupt("Invalid LZF compressed string") from None
        raise _Corrupt("Unknown RDB string encoding type %d" % v)

    def ms_time(self) -> int:
        return _ms_struct.unpack(self.read(8))[0]  # type: ignore[no-any-return]

    def double_ascii(self) -> float:
        n = self.byte()
        if n == 253:
            return math.nan
        if n == 254:
            return math.inf
        if n == 255:
            return -math.inf
        raw = self.read(n)
        try:
            return float(raw)
        except ValueError:
            raise _Corrupt("Invalid double value") from None

    def double_binary(self) -> float:
        return _double_struct.unpack(self.read(8))[0]  # type: ignore[no-any-return]


# -- value loading ------------------------------------------------------------------

def _pairs_to_dict(items: list[bytes]) -> dict[bytes, bytes]:
    if len(items) % 2:
        raise EncodingError("odd number of elements")
    d = dict(zip(items[0::2], items[1::2]))
    if len(d) * 2 != len(items):
        raise EncodingError("duplicate field")
    return d


def _pairs_to_zset(items: list[bytes]) -> ZSet:
    if len(items) % 2:
        raise EncodingError("odd number of elements")
    z = ZSet()
    for i in range(0, len(items), 2):
        try:
            score = float(items[i + 1])
        except ValueError:
            raise EncodingError("bad score") from None
        if math.isnan(score) or not z.add(items[i], score):
            raise EncodingError("duplicate member")
    return z


def _check(fn: Callable[[], Any], reason: str) -> Any:
    try:
        return fn()
    except EncodingError:
        raise _Corrupt(reason) from None


def _lp_int(v: Any) -> int:
    if type(v) is int:
        return v  # type: ignore[no-any-return]
    iv = canonical_int(v)
    if iv is None:
        raise EncodingError("expected an integer")
    return iv


def _as_bytes(v: Any) -> bytes:
    return b"%d" % v if type(v) is int else v  # type: ignore[no-any-return]


def _decode_stream_node(items: list, master: tuple[int, int], out: SortedDict) -> None:
    """Walk one stream listpack node (t_stream.c layout) into ``out``."""
    n = len(items)
    count = _lp_int(items[0])
    deleted = _lp_int(items[1])
    nmf = _lp_int(items[2])
    if count < 0 or deleted < 0 or nmf < 0 or 4 + nmf > n:
        raise EncodingError("bad master entry")
    master_fields = [_as_bytes(x) for x in items[3:3 + nmf]]
    if _lp_int(items[3 + nmf]) != 0:
        raise EncodingError("bad master terminator")
    p = 4 + nmf
    mms, mseq = master
    live = 0
    for _ in range(count + deleted):
        if p + 3 > n:
            raise EncodingError("entry out of range")
        flags = _lp_int(items[p])
        ms = mms + _lp_int(items[p + 1])
        seq = mseq + _lp_int(items[p + 2])
        p += 3
        if flags & STREAM_ITEM_FLAG_SAMEFIELDS:
            if p + nmf > n:
                raise EncodingError("entry out of range")
            fv: list[bytes] = []
            for f, v in zip(master_fields, items[p:p + nmf]):
                fv.append(f)
                fv.append(_as_bytes(v))
            p += nmf
        else:
            if p >= n:
                raise EncodingError("entry out of range")
            nf = _lp_int(items[p])
            p += 1
            if nf < 0 or p + 2 * nf > n:
                raise EncodingError("entry out of range")
            fv = [_as_bytes(x) for x in items[p:p + 2 * nf]]
            p += 2 * nf
        if p >= n:
            raise EncodingError("entry out of range")
        p += 1  # lp-count
        if not flags & STREAM_ITEM_FLAG_DELETED:
            if not (0 <= ms < _U64 and 0 <= seq < _U64):
                raise EncodingError("bad entry ID")
            out[(ms, seq)] = fv
            live += 1
    if p != n:
        raise EncodingError("trailing elements")
    if live != count:
        raise EncodingError("entry count mismatch")


def _estimate_entries_read(s: Stream, sid: tuple[int, int]) -> int:
    """streamEstimateDistanceFromFirstEverEntry, for groups from RDB < 10 streams."""
    if not s.entries_added:
        return 0
    if not s.entries and sid <= s.last_id:
        return s.entries_added
    if sid == s.last_id:
        return s.entries_added
    if sid > s.last_id:
        return INVALID_ENTRIES_READ
    first = s.first_id
    maxdel = s.max_deleted_entry_id
    if maxdel == (0, 0) or maxdel < first:
        if sid < first:
            return s.entries_added - len(s.entries)
        if sid == first:
            return s.entries_added - len(s.entries) + 1
    return INVALID_ENTRIES_READ


def _load_stream(r: Reader, rtype: int) -> Stream:
    s = Stream()
    entries = s.entries
    nodes = r.length()
    seen: set[bytes] = set()
    for _ in range(nodes):
        nodekey = r.string()
        if len(nodekey) != 16:
            raise _Corrupt("Stream node key entry is not the size of a stream ID")
        lp = r.string()
        items = _check(functools.partial(listpack_entries, lp, raw=True), "Stream listpack integrity check failed.")
        if not items:
            raise _Corrupt("Empty listpack inside stream")
        if nodekey in seen:
            raise _Corrupt("Listpack re-added with existing key")
        seen.add(nodekey)
        master = _id_struct.unpack(nodekey)
        _check(functools.partial(_decode_stream_node, items, master, entries),
               "Stream listpack integrity check failed.")
    length = r.length()
    s.last_id = (r.length(), r.length())
    if rtype >= T_STREAM_LISTPACKS_2:
        r.length()
        r.length()  # first ID: derived from the entries
        s.max_deleted_entry_id = (r.length(), r.length())
        s.entries_added = r.length()
    else:
        s.entries_added = length
    if length != len(entries):
        raise _Corrupt("Stream length inconsistent with its entries")
    ngroups = r.length()
    for _ in range(ngroups):
        name = r.string()
        gid = (r.length(), r.length())
        if rtype >= T_STREAM_LISTPACKS_2:
            er = r.length()
            if er >= 2**63:
                er -= _U64
        else:
            er = _estimate_entries_read(s, gid)
        if name in s.groups:
            raise _Corrupt("Duplicated consumer group name %s" % name.decode("utf-8", "replace"))
        g = ConsumerGroup(name, gid, er)
        s.groups[name] = g
        pel_size = r.length()
        pending: dict[tuple[int, int], list[int]] = {}
        for _ in range(pel_size):
            rawid = _id_struct.unpack(r.read(16))
            dtime = r.ms_time()
            dcount = r.length()
            if rawid in pending:
                raise _Corrupt("Duplicated global PEL entry loading stream consumer group")
            pending[rawid] = [dtime, dcount]
        nconsumers = r.length()
        for _ in range(nconsumers):
            cname = r.string()
            if cname in g.consumers:
                raise _Corrupt("Duplicate stream consumer detected.")
            seen_time = r.ms_time()
            active_time = r.ms_time() if rtype >= T_STREAM_LISTPACKS_3 else seen_time
            c = Consumer(cname, seen_time, active_time)
            g.consumers[cname] = c
            for _ in range(r.length()):
                rawid = _id_struct.unpack(r.read(16))
                nack = pending.get(rawid)
                if nack is None:
                    raise _Corrupt("Consumer entry not found in group global PEL")
                if rawid in g.pel:
                    raise _Corrupt("Duplicated consumer PEL entry  loading a stream consumer group")
                pe = PendingEntry(c, nack[0], nack[1])
                g.pel[rawid] = pe
                c.pel[rawid] = pe
        if len(g.pel) != len(pending):
            raise _Corrupt("Stream CG PEL entry without consumer")
    return s


def _module_name(moduleid: int) -> str:
    cset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    mid = moduleid >> 10
    chars = []
    for _ in range(9):
        chars.append(cset[mid & 63])
        mid >>= 6
    return "".join(reversed(chars))


def _skip_module_value(r: Reader) -> None:
    """Walk a module-serialized value (opcodes until EOF) without a module (rdbLoadCheckModuleValue)."""
    while True:
        op = r.length()
        if op == 0:
            return
        if op in (1, 2):
            r.length()
        elif op == 3:
            r.read(4)
        elif op == 4:
            r.read(8)
        elif op == 5:
            r.string()
        else:
            raise _Corrupt("Unknown module opcode %d" % op)


def load_object(r: Reader, rtype: int) -> Any:
    """Load one value; a zset gets the encoding Redis converts it to after loading."""
    value = _load_object(r, rtype)
    if type(value) is ZSet:
        value.convert_if_needed(*r.zset_limits)
    return value


def _load_object(r: Reader, rtype: int) -> Any:
    """Read one value of RDB type ``rtype`` (rdbLoadObject).

    Raises _EmptyKey for empty collections, _Corrupt / _ShortRead on bad input.
    """
    if rtype == T_STRING:
        return r.string()
    if rtype == T_LIST:
        n = r.length()
        if n == 0:
            raise _EmptyKey()
        return deque(r.string() for _ in range(n))
    if rtype == T_SET:
        n = r.length()
        if n == 0:
            raise _EmptyKey()
        st: set[bytes] = set()
        for _ in range(n):
            m = r.string()
            if m in st:
                raise _Corrupt("Duplicate set members detected")
            st.add(m)
        return st
    if rtype in (T_ZSET, T_ZSET_2):
        n = r.length()
        if n == 0:
            raise _EmptyKey()
        z = ZSet()
        for _ in range(n):
            m = r.string()
            score = r.double_binary() if rtype == T_ZSET_2 else r.double_ascii()
            if math.isnan(score):
                raise _Corrupt("Zset with NAN score detected")
            if m in z.dict:
                raise _Corrupt("Duplicate zset fields detected")
            z.add(m, score)
        return z
    if rtype == T_HASH:
        n = r.length()
        if n == 0:
            raise _EmptyKey()
        h: dict[bytes, bytes] = {}
        for _ in range(n):
            f = r.string()
            v = r.string()
            if f in h:
                raise _Corrupt("Duplicate hash fields detected")
            h[f] = v
        return h
    if rtype == T_LIST_QUICKLIST or rtype == T_LIST_QUICKLIST_2:
        n = r.length()
        lst: deque[bytes] = deque()
        for _ in range(n):
            container = QUICKLIST_NODE_PACKED
            if rtype == T_LIST_QUICKLIST_2:
                container = r.length()
                if container not in (QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN):
                    raise _Corrupt("Quicklist integrity check failed.")
            blob = r.string()
            if container == QUICKLIST_NODE_PLAIN:
                lst.append(blob)
            elif rtype == T_LIST_QUICKLIST_2:
                lst.extend(_check(functools.partial(listpack_entries, blob), "Listpack integrity check failed."))
            else:
                lst.extend(_check(functools.partial(ziplist_entries, blob), "Ziplist integrity check failed."))
        if not lst:
            raise _EmptyKey()
        return lst
    if rtype in (T_HASH_ZIPMAP, T_LIST_ZIPLIST, T_SET_INTSET, T_ZSET_ZIPLIST, T_HASH_ZIPLIST,
                 T_HASH_LISTPACK, T_ZSET_LISTPACK, T_SET_LISTPACK):
        blob = r.string()
        value: Any
        if rtype == T_HASH_ZIPMAP:
            def zipmap() -> dict[bytes, bytes]:
                pairs = zipmap_pairs(blob)
                d = dict(pairs)
                if len(d) != len(pairs):
                    raise EncodingError("dup")
                return d
            value = _check(zipmap, "Zipmap integrity check failed.")
        elif rtype == T_LIST_ZIPLIST:
            value = deque(_check(lambda: ziplist_entries(blob), "List ziplist integrity check failed."))
        elif rtype == T_SET_INTSET:
            value = {b"%d" % v for v in _check(lambda: intset_members(blob), "Intset integrity check failed.")}
        elif rtype == T_ZSET_ZIPLIST:
            value = _check(lambda: _pairs_to_zset(ziplist_entries(blob)), "Zset ziplist integrity check failed.")
        elif rtype == T_HASH_ZIPLIST:
            value = _check(lambda: _pairs_to_dict(ziplist_entries(blob)), "Hash ziplist integrity check failed.")
        elif rtype == T_HASH_LISTPACK:
            value = _check(lambda: _pairs_to_dict(listpack_entries(blob)), "Hash listpack integrity check failed.")
        elif rtype == T_ZSET_LISTPACK:
            value = _check(lambda: _pairs_to_zset(listpack_entries(blob)), "Zset listpack integrity check failed.")
        else:
            def lpset() -> set[bytes]:
                items = listpack_entries(blob)
                st = set(items)
                if len(st) != len(items):
                    raise EncodingError("dup")
                return st
            value = _check(lpset, "Set listpack integrity check failed.")
        if not value:
            raise _EmptyKey()
        return value
    if rtype in (T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3):
        return _load_stream(r, rtype)
    if rtype in (T_MODULE_PRE_GA, T_MODULE_2):
        moduleid = r.length()
        raise _Corrupt("The RDB file contains module data I can't load: no matching module type '%s'"
                       % _module_name(moduleid))
    raise _Corrupt("Unknown RDB encoding type %d" % rtype)


# -- file loading ---------------------------------------------------------------------

@dataclass
class LoadResult:
    """What an RDB image held; ``data``/``expires`` are keyed by db number."""

    version: int = 0
    data: dict[int, dict[bytes, Any]] = field(default_factory=dict)
    expires: dict[int, dict[bytes, int]] = field(default_factory=dict)
    functions: list[bytes] = field(default_factory=list)  # library source code
    aux: dict[bytes, bytes] = field(default_factory=dict)
    keys_loaded: int = 0
    keys_expired: int = 0
    empty_keys_skipped: int = 0
    end_offset: int = 0  # first byte after the RDB (the AOF tail of a preamble)
    log: list[tuple[str, str]] = field(default_factory=list)  # (level, line) Redis would log


def _function_pre_ga(r: Reader) -> bytes:
    """7.0-rc1/rc2 FUNCTION opcode: rebuild the library text as rdbFunctionLoad does."""
    name = r.string()
    engine = r.string()
    if r.length():
        r.string()  # description, dropped like Redis
    blob = r.string()
    return b"#!" + engine + b" name=" + name + b"\n" + blob


def _zset_maker(limits: tuple[int, int]) -> Callable[[list, bool], ZSet | None]:
    """For the native loader: a ZSet from a listpack's flat items or ZSET_2's (member, score) list."""
    def make(items: list, listpack: bool) -> ZSet | None:
        members = items[0::2]
        if listpack:
            try:
                scores = [float(x) for x in items[1::2]]
            except ValueError:
                return None
        else:
            scores = items[1::2]
        z = ZSet.from_pairs(members, scores)
        if z is not None:
            z.convert_if_needed(*limits)
        return z
    return make


def load(data: bytes, *, now_ms: int | None = None, drop_expired: bool = True, dbnum: int = 16,
         verify_checksum: bool = True, preamble: bool = False,
         zset_limits: tuple[int, int] = (128, 64), progress: dict[str, Any] | None = None,
         native: bool = True) -> LoadResult:
    """Parse a whole RDB image (rdbLoadRio).

    ``drop_expired``: skip keys whose expiry is already past (a master does, a replica
    and an AOF preamble do not).  Raises ``RdbError`` for anything malformed.
    ``native``: let ``_rdbfast.load_records`` take the common records (the Python loader
    reads everything else, and every record that is wrong in any way).
    """
    res = LoadResult()
    if type(data) is not bytes:
        data = bytes(data)
    fast = _load_records if native else None
    make_zset = _zset_maker(zset_limits)
    r = Reader(data, zset_limits=zset_limits)
    if progress is not None:
        progress["reader"] = r  # lets another thread report how far loading got
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    if preamble:
        drop_expired = False
    try:
        sig = r.read(9)
    except _ShortRead:
        raise RdbError("Short read or OOM loading DB. Unrecoverable error, aborting now.",
                       "Internal error in RDB reading offset 0, function at rdb.c:0 -> "
                       "Unexpected EOF reading RDB file") from None
    if sig[:5] != b"REDIS":
        raise RdbError("Wrong signature trying to load DB from file")
    try:
        ver = int(sig[5:9])
    except ValueError:
        ver = 0
    if ver < 1 or ver > RDB_VERSION:
        raise RdbError("Can't handle RDB format version %d" % ver)
    res.version = ver
    dbid = 0
    data_db: dict[bytes, Any] = res.data.setdefault(0, {})
    exp_db: dict[bytes, int] = res.expires.setdefault(0, {})
    expiretime = -1
    log = res.log
    try:
        while True:
            if fast is not None and expiretime == -1:
                r.pos, nl, ne = fast(data, r.pos, r.end, data_db, exp_db, now_ms, drop_expired, make_zset,
                                     _LOAD_BATCH)
                res.keys_loaded += nl
                res.keys_expired += ne
            rtype = r.byte()
            if rtype == OP_EXPIRETIME:
                expiretime = int.from_bytes(r.read(4), "little", signed=True) * 1000
                continue
            if rtype == OP_EXPIRETIME_MS:
                expiretime = r.ms_time()
                continue
            if rtype == OP_FREQ:
                r.byte()
                continue
            if rtype == OP_IDLE:
                r.length()
                continue
            if rtype == OP_EOF:
                break
            if rtype == OP_SELECTDB:
                dbid = r.length()
                if dbid >= dbnum:
                    raise RdbError("FATAL: Data file was created with a Redis server configured to handle "
                                   "more than %d databases. Exiting\n" % dbnum)
                data_db = res.data.setdefault(dbid, {})
                exp_db = res.expires.setdefault(dbid, {})
                continue
            if rtype == OP_RESIZEDB:
                r.length()
                r.length()
                continue
            if rtype == OP_AUX:
                k = r.string()
                v = r.string()
                res.aux[k] = v
                lk = k.lower()
                if k.startswith(b"%"):
                    log.append(("notice", "RDB '%s': %s" % (k.decode("latin-1"), v.decode("latin-1"))))
                elif lk == b"redis-ver":
                    log.append(("notice", "Loading RDB produced by version %s" % v.decode("latin-1")))
                elif lk == b"ctime":
                    try:
                        age = max(0, int(time.time()) - int(v))
                    except ValueError:
                        age = 0
                    log.append(("notice", "RDB age %d seconds" % age))
                elif lk == b"used-mem":
                    try:
                        mb = int(v) / (1024 * 1024)
                    except ValueError:
                        mb = 0.0
                    log.append(("notice", "RDB memory usage when created %.2f Mb" % mb))
                elif lk == b"aof-preamble" and v not in (b"0", b""):
                    log.append(("notice", "RDB has an AOF tail"))
                elif lk == b"aof-base" and v not in (b"0", b""):
                    log.append(("notice", "RDB is base AOF"))
                continue
            if rtype == OP_MODULE_AUX:
                moduleid = r.length()
                when_opcode = r.length()
                r.length()
                if when_opcode != 2:
                    raise _Corrupt("bad when_opcode")
                log.append(("warning", "Skipping AUX module data of module '%s' (no such module)"
                            % _module_name(moduleid)))
                _skip_module_value(r)
                continue
            if rtype == OP_FUNCTION2:
                res.functions.append(r.string())
                continue
            if rtype == OP_FUNCTION_PRE_GA:
                res.functions.append(_function_pre_ga(r))
                continue
            if rtype == OP_SLOT_INFO:
                r.length()
                r.length()
                r.length()
                continue
            if rtype not in _OBJECT_TYPES:
                raise _Corrupt("Unknown RDB encoding type %d" % rtype)
            key = r.string()
            try:
                val = load_object(r, rtype)
            except _EmptyKey:
                if res.empty_keys_skipped < 10:
                    log.append(("warning", "rdbLoadObject skipping empty key: %s" % key.decode("latin-1")))
                res.empty_keys_skipped += 1
                expiretime = -1
                continue
            if drop_expired and expiretime != -1 and expiretime < now_ms:
                res.keys_expired += 1
            else:
                if key in data_db:
                    raise RdbError("RDB has duplicated key '%s' in DB %d" % (key.decode("latin-1"), dbid),
                                   "Duplicated key found in RDB file")
                data_db[key] = val
                if expiretime != -1:
                    exp_db[key] = expiretime
                res.keys_loaded += 1
            expiretime = -1
        if ver >= 5:
            end = r.pos
            stored = int.from_bytes(r.read(8), "little")
            if verify_checksum:
                if stored == 0:
                    log.append(("warning", "RDB file was saved with checksum disabled: no check performed."))
                else:
                    expected = crc64(0, memoryview(data)[:end])
                    if stored != expected:
                        raise RdbError("Wrong RDB checksum expected: (%x) but got (%x). Aborting now." % (expected, stored),
                                       "Internal error in RDB reading offset %d, function at rdb.c:0 -> RDB CRC error"
                                       % r.pos)
    except _ShortRead:
        raise RdbError("Short read or OOM loading DB. Unrecoverable error, aborting now.",
                       "Internal error in RDB reading offset %d, function at rdb.c:0 -> "
                       "Unexpected EOF reading RDB file" % r.pos) from None
    except _Corrupt as e:
        raise RdbError("Internal error in RDB reading offset %d, function at rdb.c:0 -> %s" % (r.pos, e)) from None
    except RecursionError:
        raise RdbError("Internal error in RDB reading offset %d, function at rdb.c:0 -> nesting too deep" % r.pos) from None
    res.end_offset = r.pos
    if res.empty_keys_skipped:
        log.append(("warning", "Done loading RDB, keys loaded: %d, keys expired: %d, empty keys skipped: %d."
                    % (res.keys_loaded, res.keys_expired, res.empty_keys_skipped)))
    else:
        log.append(("notice", "Done loading RDB, keys loaded: %d, keys expired: %d."
                    % (res.keys_loaded, res.keys_expired)))
    # drop dbs that ended up empty so callers can iterate only populated ones
    for d in [d for d, kv in res.data.items() if not kv]:
        del res.data[d]
        res.expires.pop(d, None)
    return res


def load_file(path: str, **kw: Any) -> LoadResult:
    """Read and parse an RDB file (see ``load``)."""
    with open(path, "rb") as f:
        data = f.read()
    return load(data, **kw)


# -- writing --------------------------------------------------------------------------------

def _len(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes(((n >> 8) | 0x40, n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def _enc_int(v: int) -> bytes | None:
    if -128 <= v <= 127:
        return b"\xc0" + v.to_bytes(1, "little", signed=True)
    if -32768 <= v <= 32767:
        return b"\xc1" + v.to_bytes(2, "little", signed=True)
    if -(2**31) <= v <= 2**31 - 1:
        return b"\xc2" + v.to_bytes(4, "little", signed=True)
    return None


_SHORT_LEN = [bytes((i,)) for i in range(64)]
_INT_START = frozenset(b"-0123456789")


def _string(s: bytes | bytearray | memoryview, compress: bool) -> bytes:
    """rdbSaveRawString: int encoding for short numeric strings, LZF over 20 bytes."""
    n = len(s)
    if n <= 11:
        if n and s[0] in _INT_START:
            v = canonical_int(bytes(s))
            if v is not None:
                e = _enc_int(v)
                if e is not None:
                    return e
        return _SHORT_LEN[n] + s
    if compress and n > 20:
        c = lzf.compress(s, n - 4)
        if c:
            return b"\xc3" + _len(len(c)) + _len(n) + c
    return _len(n) + bytes(s)


@dataclass
class SaveOptions:
    """Encoding thresholds (the *-max-listpack-* configs) and compression."""

    compress: bool = True
    hash_max_listpack_entries: int = 128
    hash_max_listpack_value: int = 64
    set_max_intset_entries: int = 512
    set_max_listpack_entries: int = 128
    set_max_listpack_value: int = 64
    zset_max_listpack_entries: int = 128
    zset_max_listpack_value: int = 64
    list_max_listpack_size: int = -2
    stream_node_max_entries: int = 100
    stream_node_max_bytes: int = 4096

    @classmethod
    def from_config(cls, config: Any) -> SaveOptions:
        def get(name: str, default: Any) -> Any:
            try:
                return config[name]
            except Exception:
                return default

        return cls(
            compress=bool(get("rdbcompression", True)),
            hash_max_listpack_entries=get("hash-max-listpack-entries", 128),
            hash_max_listpack_value=get("hash-max-listpack-value", 64),
            set_max_intset_entries=get("set-max-intset-entries", 512),
            set_max_listpack_entries=get("set-max-listpack-entries", 128),
            set_max_listpack_value=get("set-max-listpack-value", 64),
            zset_max_listpack_entries=get("zset-max-listpack-entries", 128),
            zset_max_listpack_value=get("zset-max-listpack-value", 64),
            list_max_listpack_size=get("list-max-listpack-size", -2),
            stream_node_max_entries=get("stream-node-max-entries", 100),
            stream_node_max_bytes=get("stream-node-max-bytes", 4096),
        )


_DEFAULT_OPTS = SaveOptions()


def _list_chunks(lst: Iterable[bytes], opts: SaveOptions) -> Iterator[list[bytes]]:
    """Split a list into quicklist nodes the way list-max-listpack-size bounds them."""
    fill = opts.list_max_listpack_size
    max_bytes = {-1: 4096, -2: 8192, -3: 16384, -4: 32768, -5: 65536}.get(fill, 8192) if fill < 0 else 1 << 62
    max_count = fill if fill > 0 else 1 << 62
    chunk: list[bytes] = []
    size = 0
    for item in lst:
        ln = len(item) + 11
        if chunk and (len(chunk) >= max_count or size + ln > max_bytes):
            yield chunk
            chunk = []
            size = 0
        chunk.append(item)
        size += ln
    if chunk:
        yield chunk


def _stream_bytes(s: Stream, opts: SaveOptions) -> bytes:
    comp = opts.compress
    out: list[bytes] = []
    nodes: list[bytes] = []
    items = list(s.entries.items())
    max_entries = opts.stream_node_max_entries or 1 << 62
    max_bytes = opts.stream_node_max_bytes or 1 << 62
    i = 0
    while i < len(items):
        master_id, master_fv = items[i]
        mfields = master_fv[0::2]
        nmf = len(mfields)
        elems: list[bytes | int] = [0, 0, nmf, *mfields, 0]
        count = 0
        size = 0
        while i < len(items) and count < max_entries and (count == 0 or size < max_bytes):
            sid, fv = items[i]
            fields = fv[0::2]
            values = fv[1::2]
            elems.append(0)  # flags placeholder index
            flag_pos = len(elems) - 1
            elems.append(sid[0] - master_id[0])
            elems.append(sid[1] - master_id[1])
            if fields == mfields:
                elems[flag_pos] = STREAM_ITEM_FLAG_SAMEFIELDS
                elems.extend(values)
                elems.append(nmf + 3)
            else:
                elems.append(len(fields))
                elems.extend(fv)
                elems.append(2 * len(fields) + 4)
            size += sum(len(x) for x in fv) + 8
            count += 1
            i += 1
        elems[0] = count
        nodes.append(_string(_id_struct.pack(*master_id), comp) + _string(listpack_encode(elems), comp))
    out.append(_len(len(nodes)))
    out.extend(nodes)
    out.append(_len(len(s.entries)))
    out.append(_len(s.last_id[0]) + _len(s.last_id[1]))
    first = s.first_id
    out.append(_len(first[0]) + _len(first[1]))
    out.append(_len(s.max_deleted_entry_id[0]) + _len(s.max_deleted_entry_id[1]))
    out.append(_len(s.entries_added))
    out.append(_len(len(s.groups)))
    for g in s.groups.values():
        out.append(_string(g.name, comp))
        out.append(_len(g.last_id[0]) + _len(g.last_id[1]))
        out.append(_len(g.entries_read % _U64))
        out.append(_len(len(g.pel)))
        for sid, pe in g.pel.items():
            out.append(_id_struct.pack(*sid) + _ms_struct.pack(pe.delivery_time) + _len(pe.delivery_count))
        out.append(_len(len(g.consumers)))
        for c in g.consumers.values():
            out.append(_string(c.name, comp))
            out.append(_ms_struct.pack(c.seen_time) + _ms_struct.pack(c.active_time))
            out.append(_len(len(c.pel)))
            out.extend(_id_struct.pack(*sid) for sid in c.pel)
    return b"".join(out)


def encode_value(value: Any, opts: SaveOptions = _DEFAULT_OPTS) -> tuple[int, bytes]:
    """Serialize a keyspace value: (RDB type, payload), as rdbSaveObjectType + rdbSaveObject."""
    comp = opts.compress
    t = type(value)
    if t is bytes or t is bytearray:
        return T_STRING, _string(value, comp)
    if t is deque:
        nodes = [_len(QUICKLIST_NODE_PACKED) + _string(listpack_encode(chunk), comp)
                 for chunk in _list_chunks(value, opts)]
        return T_LIST_QUICKLIST_2, _len(len(nodes)) + b"".join(nodes)
    if t is dict:
        if len(value) <= opts.hash_max_listpack_entries and all(
                len(k) <= opts.hash_max_listpack_value and len(v) <= opts.hash_max_listpack_value
                for k, v in value.items()):
            flat: list[bytes] = []
            for k, v in value.items():
                flat.append(k)
                flat.append(v)
            return T_HASH_LISTPACK, _string(listpack_encode(flat), comp)
        parts = [_len(len(value))]
        for k, v in value.items():
            parts.append(_string(k, comp))
            parts.append(_string(v, comp))
        return T_HASH, b"".join(parts)
    if t is set:
        if len(value) <= opts.set_max_intset_entries:
            ints = []
            for m in value:
                iv = canonical_int(m) if len(m) <= 20 else None
                if iv is None:
                    break
                ints.append(iv)
            else:
                return T_SET_INTSET, _string(intset_encode(ints), comp)
        if len(value) <= opts.set_max_listpack_entries and all(
                len(m) <= opts.set_max_listpack_value for m in value):
            return T_SET_LISTPACK, _string(listpack_encode(value), comp)
        return T_SET, _len(len(value)) + b"".join(_string(m, comp) for m in value)
    if isinstance(value, ZSet):
        if len(value) <= opts.zset_max_listpack_entries and all(
                len(m) <= opts.zset_max_listpack_value for m in value.dict):
            flat = []
            for m, sc in value.items():
                flat.append(m)
                flat.append(format_double(sc))
            return T_ZSET_LISTPACK, _string(listpack_encode(flat), comp)
        # rdbSaveObject writes skiplist zsets from the tail so loading inserts at the head
        parts = [_len(len(value))]
        for sc, m in reversed(value.sl):
            parts.append(_string(m, comp))
            parts.append(_double_struct.pack(sc))
        return T_ZSET_2, b"".join(parts)
    if isinstance(value, Stream):
        return T_STREAM_LISTPACKS_3, _stream_bytes(value, opts)
    raise TypeError("cannot serialize %r" % t)


class RdbWriter:
    """Streams an RDB image to a binary file object, keeping the running CRC64."""

    def __init__(self, fp: IO[bytes], checksum: bool = True, opts: SaveOptions = _DEFAULT_OPTS,
                 progress: Callable[[int], None] | None = None, native: bool = True) -> None:
        self.fp = fp
        self.native = native  # the C keyspace walk (_rdbfast.dump_database) when it is built
        self.checksum = checksum
        self.crc = 0
        self.opts = opts
        self.buf: list[bytes] = []
        self.buffered = 0
        self.written = 0
        self.progress = progress

    def write(self, b: bytes) -> None:
        self.buf.append(b)
        self.buffered += len(b)
        if self.buffered >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        if not self.buf:
            return
        data = b"".join(self.buf)
        self.buf = []
        self.buffered = 0
        if self.checksum:
            self.crc = crc64(self.crc, data)
        self.fp.write(data)
        self.written += len(data)
        if self.progress is not None:
            self.progress(self.written)

    def aux(self, key: bytes, value: bytes | int) -> None:
        if isinstance(value, int):
            value = b"%d" % value
        self.write(bytes((OP_AUX,)) + _string(key, False) + _string(value, False))

    def header(self, aux: dict[bytes, bytes | int]) -> None:
        self.write(b"REDIS%04d" % RDB_VERSION)
        for k, v in aux.items():
            self.aux(k, v)

    def functions(self, libraries: Iterable[bytes]) -> None:
        for code in libraries:
            self.write(bytes((OP_FUNCTION2,)) + _string(code, self.opts.compress))

    def database(self, dbid: int, data: dict[bytes, Any], expires: dict[bytes, int],
                 per_key: Callable[[], None] | None = None) -> int:
        """SELECTDB + RESIZEDB + every key; returns the number of keys written."""
        if not data:
            return 0
        self.write(bytes((OP_SELECTDB,)) + _len(dbid))
        self.write(bytes((OP_RESIZEDB,)) + _len(len(data)) + _len(len(expires)))
        opts = self.opts
        if _dump_database is not None and per_key is None and self.native:
            self.flush()
            return _dump_database(data, expires, self.write, opts, functools.partial(encode_value, opts=opts),
                                  format_double, deque, ZSet)
        return self.database_py(data, expires, per_key)

    def database_py(self, data: dict[bytes, Any], expires: dict[bytes, int],
                    per_key: Callable[[], None] | None = None) -> int:
        """The records of one database in Python (the reference the native walk is tested against)."""
        opts = self.opts
        comp = opts.compress
        n = 0
        for key, value in data.items():
            when = expires.get(key)
            rtype, payload = encode_value(value, opts)
            head = bytes((rtype,)) if when is None else \
                bytes((OP_EXPIRETIME_MS,)) + _ms_struct.pack(when) + bytes((rtype,))
            self.write(head + _string(key, comp) + payload)
            n += 1
            if per_key is not None:
                per_key()
        return n

    def finish(self) -> None:
        self.write(bytes((OP_EOF,)))
        self.flush()
        self.fp.write(struct.pack("<Q", self.crc if self.checksum else 0))
        self.written += 8


def default_aux(ctime: int | None = None, used_mem: int = 0, repl_stream_db: int = 0,
                repl_id: str | None = None, repl_offset: int = 0, aof_base: bool = False) -> dict[bytes, bytes | int]:
    """The aux fields Redis 7.2 writes at the top of every RDB."""
    return {
        b"redis-ver": REDIS_VER_AUX,
        b"redis-bits": 64,
        b"ctime": int(time.time()) if ctime is None else ctime,
        b"used-mem": used_mem,
        b"repl-stream-db": repl_stream_db,
        b"repl-id": (repl_id or os.urandom(20).hex()).encode(),
        b"repl-offset": repl_offset,
        b"aof-base": 1 if aof_base else 0,
    }


def dump_rdb(fp: IO[bytes], dbs: Iterable[tuple[int, dict[bytes, Any], dict[bytes, int]]], *,
             checksum: bool = True, opts: SaveOptions = _DEFAULT_OPTS,
             aux: dict[bytes, bytes | int] | None = None, functions: Iterable[bytes] = ()) -> int:
    """Write a complete RDB image; returns the number of keys written."""
    w = RdbWriter(fp, checksum=checksum, opts=opts)
    w.header(default_aux() if aux is None else aux)
    w.functions(functions)
    n = 0
    for dbid, data, expires in dbs:
        n += w.database(dbid, data, expires)
    w.finish()
    return n


def dump_bytes(dbs: Iterable[tuple[int, dict[bytes, Any], dict[bytes, int]]], **kw: Any) -> bytes:
    """``dump_rdb`` into memory (replication, AOF preamble, tests)."""
    import io

    buf = io.BytesIO()
    dump_rdb(buf, dbs, **kw)
    return buf.getvalue()


# -- DUMP / RESTORE payloads --------------------------------------------------------------

class PayloadError(Exception):
    """RESTORE payload problem; ``str`` is the reply text without the ERR prefix."""


def dump_payload(value: Any, opts: SaveOptions = _DEFAULT_OPTS) -> bytes:
    """DUMP: type byte, value, RDB version (2 bytes LE), CRC64 (8 bytes LE)."""
    rtype, payload = encode_value(value, opts)
    body = bytes((rtype,)) + payload + struct.pack("<H", RDB_VERSION)
    return body + struct.pack("<Q", crc64(0, body))


def verify_payload(payload: bytes, skip_checksum: bool = False) -> bool:
    """verifyDumpPayload: footer present, version known, checksum right (unless DEBUG
    SET-SKIP-CHECKSUM-VALIDATION 1)."""
    if len(payload) < 10:
        return False
    ver = struct.unpack_from("<H", payload, len(payload) - 10)[0]
    if ver > RDB_VERSION:
        return False
    if skip_checksum:
        return True
    crc = struct.unpack_from("<Q", payload, len(payload) - 8)[0]
    return crc64(0, memoryview(payload)[:-8]) == crc


def zset_limits(config: Any) -> tuple[int, int]:
    """The zset listpack thresholds from a Config."""
    return (config["zset-max-listpack-entries"], config["zset-max-listpack-value"])


def restore_payload(payload: bytes, zset_limits: tuple[int, int] = (128, 64)) -> Any:
    """Decode a verified DUMP payload into a keyspace value; PayloadError("Bad data format") otherwise.

    The decoder checks every element whatever ``sanitize-dump-payload`` says (a Python value
    cannot keep an unchecked blob); the error's ``detail`` is rdb.c's reason, for the log.
    """
    r = Reader(payload, 0, len(payload) - 10, zset_limits)
    try:
        rtype = r.byte()
        if rtype not in _OBJECT_TYPES:
            raise PayloadError("Bad data format")
        return load_object(r, rtype)
    except _Corrupt as e:
        raise _payload_error(str(e) or "Bad data format") from None
    except _ShortRead:
        raise _payload_error("Unexpected EOF reading RDB file") from None
    except (_EmptyKey, RecursionError):
        raise _payload_error("") from None


def _payload_error(detail: str) -> PayloadError:
    err = PayloadError("Bad data format")
    err.detail = detail  # type: ignore[attr-defined]
    return err
