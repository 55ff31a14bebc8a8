"""HyperLogLog with Redis' own string representation (port of hyperloglog.c).

An HLL is a plain string value: it is saved in RDB, replicated and readable
with GET, so after the same commands it must be byte-identical to what Redis
holds.  Layout: 16-byte header (``HYLL``, encoding byte, 3 unused bytes, 8-byte
little-endian cached cardinality whose top bit flags "stale"), then either

* dense: 16384 registers of 6 bits packed LSB first (12288 bytes), or
* sparse: run-length opcodes ZERO ``00xxxxxx``, XZERO ``01xxxxxx yyyyyyyy`` and
  VAL ``1vvvvvxx``.

The sparse update (``hllSparseSet``) is history dependent (VAL runs are only
merged locally), so it is ported literally, operating on a list of opcode
tokens with a parallel list of first-register indexes for O(log n) lookups.
Bulk register work (histograms, merges, dense<->raw) is vectorised with big
integers used as 4096 byte lanes.
"""

from __future__ import annotations

import math
import re
import struct
from bisect import bisect_right
from collections import Counter, OrderedDict
from itertools import accumulate

P = 14
REGISTERS = 1 << P
P_MASK = REGISTERS - 1
Q = 64 - P
BITS = 6
REGISTER_MAX = (1 << BITS) - 1
HDR_SIZE = 16
DENSE_BYTES = (REGISTERS * BITS + 7) // 8
DENSE_SIZE = HDR_SIZE + DENSE_BYTES
DENSE = 0
SPARSE = 1
MAX_ENCODING = 1
SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
SPARSE_XZERO_MAX_LEN = 16384
ALPHA_INF = 0.721347520444481703680
SEED = 0xADC83B19

LLROUND_OVERFLOW = 1 << 63  # what llroundl() of a too large estimate becomes on x86-64
INVALID = -1  # hllSparseSet result: corrupted representation
PROMOTE = 2  # hllSparseSet result: caller must convert to dense and retry

_M64 = (1 << 64) - 1
_MURMUR_M = 0xC6A4A7935BD1E995

# -- opcode tables -------------------------------------------------------------

_TOKEN_RE = re.compile(rb"[\x40-\x7f][\x00-\xff]|[\x00-\x3f\x80-\xff]")


def _val_token(value: int, runlen: int) -> bytes:
    return bytes((((value - 1) << 2) | (runlen - 1) | 0x80,))


def _zero_token(runlen: int) -> bytes:
    if runlen > SPARSE_ZERO_MAX_LEN:
        n = runlen - 1
        return bytes(((n >> 8) | 0x40, n & 0xFF))
    return bytes((runlen - 1,))


class _Spans(dict[bytes, int]):
    """Span (registers covered) of an opcode token, filled on first sight of each token (building
    all 16576 entries up front cost every server start-up ~10 ms)."""

    def __missing__(self, tok: bytes) -> int:
        b = tok[0]
        if b < 0x40:
            span = b + 1
        elif b >= 0x80:
            span = (b & 3) + 1
        else:
            span = (((b & 0x3F) << 8) | tok[1]) + 1
        self[tok] = span
        return span


_SPAN = _Spans()
# VAL token -> the bytes it expands to in a one-register-per-byte array
_VAL_FILL = {bytes((_b,)): bytes((((_b >> 2) & 0x1F) + 1,)) * ((_b & 3) + 1) for _b in range(0x80, 256)}
_VAL1 = [b""] + [_val_token(v, 1) for v in range(1, SPARSE_VAL_MAX_VALUE + 1)]

EMPTY_SPARSE = b"HYLL" + bytes((SPARSE,)) + bytes(11) + _zero_token(REGISTERS)

# byte-lane masks over 4096 lanes (one lane per register in a quarter of the registers)
_LANES = REGISTERS // 4


def _lane_mask(byte: int) -> int:
    return int.from_bytes(bytes((byte,)) * _LANES, "little")


_L01 = _lane_mask(0x01)
_L03 = _lane_mask(0x03)
_L0F = _lane_mask(0x0F)
_L3F = _lane_mask(0x3F)
_L80 = _lane_mask(0x80)


class HLLError(Exception):
    """The string holds a corrupted HLL (Redis answers -INVALIDOBJ)."""


# -- hashing -------------------------------------------------------------------


def murmurhash64a(key: bytes, seed: int = SEED) -> int:
    """MurmurHash64A as in Redis (endian neutral, little-endian blocks)."""
    m = _MURMUR_M
    n = len(key)
    h = (seed ^ (n * m)) & _M64
    nblocks = n >> 3
    if nblocks:
        for k in struct.unpack_from("<%dQ" % nblocks, key):
            k = (k * m) & _M64
            k ^= k >> 47
            k = (k * m) & _M64
            h ^= k
            h = (h * m) & _M64
    rem = n & 7
    if rem:
        h ^= int.from_bytes(key[n - rem:], "little")
        h = (h * m) & _M64
    h ^= h >> 47
    h = (h * m) & _M64
    h ^= h >> 47
    return h


def pat_len(ele: bytes) -> tuple[int, int]:
    """(register index, length of the 000..1 pattern) for an element (hllPatLen)."""
    h = murmurhash64a(ele)
    index = h & P_MASK
    h = (h >> P) | (1 << Q)
    return index, (h & -h).bit_length()


# -- header / validation ---------------------------------------------------------


def is_valid(v: bytes | bytearray) -> bool:
    """isHLLObjectOrReply's checks: size, magic, encoding, dense length."""
    if len(v) < HDR_SIZE or v[:4] != b"HYLL":
        return False
    enc = v[4]
    if enc > MAX_ENCODING:
        return False
    return not (enc == DENSE and len(v) != DENSE_SIZE)


def cached_card(v: bytes | bytearray) -> int | None:
    """The cached cardinality, or None when flagged stale."""
    if v[15] & 0x80:
        return None
    return int.from_bytes(v[8:16], "little")


def store_card(v: bytearray, card: int) -> None:
    v[8:16] = card.to_bytes(8, "little")


def invalidate_cache(v: bytearray) -> None:
    v[15] |= 0x80


# -- dense registers -------------------------------------------------------------


def dense_get(v: bytes | bytearray, index: int) -> int:
    pos = index * BITS
    byte = HDR_SIZE + (pos >> 3)
    fb = pos & 7
    b1 = v[byte + 1] if byte + 1 < len(v) else 0
    return ((v[byte] >> fb) | (b1 << (8 - fb))) & REGISTER_MAX


def dense_put(v: bytearray, index: int, val: int) -> None:
    pos = index * BITS
    byte = HDR_SIZE + (pos >> 3)
    fb = pos & 7
    fb8 = 8 - fb
    v[byte] = (v[byte] & ~(REGISTER_MAX << fb) | (val << fb)) & 0xFF
    if byte + 1 < len(v):
        v[byte + 1] = (v[byte + 1] & ~(REGISTER_MAX >> fb8) | (val >> fb8)) & 0xFF


def dense_set(v: bytearray, index: int, count: int) -> int:
    """hllDenseSet: 1 when the register grew."""
    if count > dense_get(v, index):
        dense_put(v, index, count)
        return 1
    return 0


# -- raw registers as 4 big-int lane vectors --------------------------------------
# Register 4k+j lives in lane k of vector j; every HLL uses the same split, so
# lane-wise operations line up register by register.

Lanes = list[int]


def dense_lanes(v: bytes | bytearray) -> Lanes:
    """Unpack the 6-bit dense registers (every 3 bytes hold 4 registers)."""
    x0 = int.from_bytes(v[HDR_SIZE:DENSE_SIZE:3], "little")
    x1 = int.from_bytes(v[HDR_SIZE + 1:DENSE_SIZE:3], "little")
    x2 = int.from_bytes(v[HDR_SIZE + 2:DENSE_SIZE:3], "little")
    return [
        x0 & _L3F,
        ((x0 >> 6) & _L03) | ((x1 & _L0F) << 2),
        ((x1 >> 4) & _L0F) | ((x2 & _L03) << 4),
        (x2 >> 2) & _L3F,
    ]


def lanes_to_dense_regs(lanes: Lanes) -> bytearray:
    """Pack lane vectors (values <= 63) back into 12288 dense register bytes."""
    r0, r1, r2, r3 = lanes
    out = bytearray(DENSE_BYTES)
    out[0::3] = (r0 | ((r1 & _L03) << 6)).to_bytes(_LANES, "little")
    out[1::3] = (((r1 >> 2) & _L0F) | ((r2 & _L0F) << 4)).to_bytes(_LANES, "little")
    out[2::3] = (((r2 >> 4) & _L03) | (r3 << 2)).to_bytes(_LANES, "little")
    return out


def raw_to_lanes(raw: bytes | bytearray) -> Lanes:
    return [int.from_bytes(raw[j::4], "little") for j in range(4)]


def lanes_to_raw(lanes: Lanes) -> bytearray:
    raw = bytearray(REGISTERS)
    for j in range(4):
        raw[j::4] = lanes[j].to_bytes(_LANES, "little")
    return raw


def lanes_max(a: Lanes, b: Lanes) -> Lanes:
    """Lane-wise max of register vectors (values <= 63) without a Python loop."""
    out = []
    for x, y in zip(a, b):
        if not y:
            out.append(x)
            continue
        if not x:
            out.append(y)
            continue
        ge = (((x | _L80) - y) >> 7) & _L01  # 1 in lanes where x >= y
        mask = ge * 0x3F
        out.append((x & mask) | (y & (mask ^ _L3F)))
    return out


def lanes_histogram(lanes: Lanes) -> list[int]:
    data = b"".join(x.to_bytes(_LANES, "little") for x in lanes)
    return bytes_histogram(data)


def bytes_histogram(data: bytes | bytearray) -> list[int]:
    """Histogram of one-register-per-byte values (hllRawRegHisto)."""
    hist = [0] * 64
    left = len(data)
    for val in range(64):
        n = data.count(val)
        if n:
            hist[val] = n
            left -= n
            if not left:
                break
    return hist


# -- sparse representation ---------------------------------------------------------


def sparse_tokens(v: bytes | bytearray) -> tuple[list[bytes], bool]:
    """Opcode tokens of a sparse HLL; a trailing half XZERO reads a 0 byte like C."""
    body = bytes(v[HDR_SIZE:])
    toks = _TOKEN_RE.findall(body)
    truncated = False
    if body and 0x40 <= body[-1] < 0x80 and sum(map(len, toks)) != len(body):
        toks.append(bytes((body[-1], 0)))
        truncated = True
    return toks, truncated


def sparse_histogram(v: bytes | bytearray) -> list[int]:
    """hllSparseRegHisto; raises HLLError unless the runs cover exactly 16384 registers."""
    toks, _ = sparse_tokens(v)
    hist = [0] * 64
    total = 0
    span = _SPAN
    for tok, n in Counter(toks).items():
        s = span[tok] * n
        total += s
        b = tok[0]
        if b & 0x80:
            hist[((b >> 2) & 0x1F) + 1] += s
        else:
            hist[0] += s
    if total != REGISTERS:
        raise HLLError
    return hist


def sparse_raw(v: bytes | bytearray) -> bytearray:
    """One register per byte from a sparse HLL (hllSparseToDense / hllMerge checks)."""
    toks, _ = sparse_tokens(v)
    raw = bytearray(REGISTERS)
    i = 0
    span = _SPAN
    fill = _VAL_FILL
    for tok in toks:
        f = fill.get(tok)
        if f is None:
            i += span[tok]
        else:
            n = len(f)
            if i + n > REGISTERS:
                raise HLLError
            raw[i:i + n] = f
            i += n
    if i != REGISTERS:
        raise HLLError
    return raw


def registers_lanes(v: bytes | bytearray) -> Lanes:
    """Lane vectors of any valid HLL (raises HLLError for a corrupted sparse one)."""
    if v[4] == DENSE:
        return dense_lanes(v)
    return raw_to_lanes(sparse_raw(v))


def sparse_to_dense(v: bytes | bytearray) -> bytearray:
    """hllSparseToDense: same header (cached cardinality kept), dense registers."""
    lanes = raw_to_lanes(sparse_raw(v))
    out = bytearray(v[:HDR_SIZE])
    out[4] = DENSE
    out += lanes_to_dense_regs(lanes)
    return out


def decode_sparse(v: bytes | bytearray) -> bytes:
    """PFDEBUG DECODE text: ``z:n`` ZERO, ``Z:n`` XZERO, ``v:val,len`` VAL."""
    toks, _ = sparse_tokens(v)
    parts = []
    for tok in toks:
        b = tok[0]
        if b < 0x40:
            parts.append("z:%d" % (b + 1))
        elif b < 0x80:
            parts.append("Z:%d" % _SPAN[tok])
        else:
            parts.append("v:%d,%d" % (((b >> 2) & 0x1F) + 1, (b & 3) + 1))
    return " ".join(parts).encode()


class SparseEditor:
    """A sparse HLL being updated: literal hllSparseSet over opcode tokens."""

    __slots__ = ("hdr", "toks", "spans", "starts", "total", "nbytes", "truncated")

    def __init__(self, v: bytes | bytearray) -> None:
        self.hdr = bytearray(v[:HDR_SIZE])
        self.toks, self.truncated = sparse_tokens(v)
        self.spans = list(map(_SPAN.__getitem__, self.toks))
        starts = list(accumulate(self.spans, initial=0))
        self.total = starts.pop()
        self.starts = starts
        self.nbytes = len(v) + (1 if self.truncated else 0)

    def value(self) -> bytearray:
        out = self.hdr + b"".join(self.toks)
        if self.truncated:
            del out[-1]
        return out

    def to_dense(self) -> bytearray:
        return sparse_to_dense(self.hdr + b"".join(self.toks))

    def set(self, index: int, count: int, max_bytes: int) -> int:
        """1 updated, 0 unchanged, INVALID, or PROMOTE (nothing changed then)."""
        if count > SPARSE_VAL_MAX_VALUE:
            return PROMOTE
        toks = self.toks
        if not toks or index >= self.total:
            return INVALID
        spans = self.spans
        starts = self.starts
        i = bisect_right(starts, index) - 1
        tok = toks[i]
        b = tok[0]
        first = starts[i]
        span = spans[i]
        is_val = b & 0x80
        if is_val:
            curval = ((b >> 2) & 0x1F) + 1
            if curval >= count:
                return 0  # case A
            if span == 1:  # case B
                toks[i] = _VAL1[count]
                self._merge(i)
                return 1
        elif b < 0x40 and span == 1:  # case C
            toks[i] = _VAL1[count]
            self._merge(i)
            return 1
        # case D: split the opcode
        last = first + span - 1
        new_toks: list[bytes] = []
        new_spans: list[int] = []
        new_starts: list[int] = []
        if not is_val:
            if index != first:
                new_toks.append(_zero_token(index - first))
                new_spans.append(index - first)
                new_starts.append(first)
            new_toks.append(_VAL1[count])
            new_spans.append(1)
            new_starts.append(index)
            if index != last:
                new_toks.append(_zero_token(last - index))
                new_spans.append(last - index)
                new_starts.append(index + 1)
        else:
            if index != first:
                new_toks.append(_val_token(curval, index - first))
                new_spans.append(index - first)
                new_starts.append(first)
            new_toks.append(_VAL1[count])
            new_spans.append(1)
            new_starts.append(index)
            if index != last:
                new_toks.append(_val_token(curval, last - index))
                new_spans.append(last - index)
                new_starts.append(index + 1)
        deltalen = sum(map(len, new_toks)) - len(tok)
        if deltalen > 0 and self.nbytes + deltalen > max_bytes:
            return PROMOTE
        toks[i:i + 1] = new_toks
        spans[i:i + 1] = new_spans
        starts[i:i + 1] = new_starts
        self.nbytes += deltalen
        self._merge(i)
        return 1

    def _merge(self, i: int) -> None:
        """Step 4: merge adjacent equal VALs, scanning up to 5 opcodes from prev."""
        toks = self.toks
        spans = self.spans
        p = i - 1 if i > 0 else 0
        scan = 5
        while p < len(toks) and scan:
            scan -= 1
            b = toks[p][0]
            if not b & 0x80:
                p += 1
                continue
            if p + 1 < len(toks):
                b2 = toks[p + 1][0]
                if b2 & 0x80 and (b >> 2) & 0x1F == (b2 >> 2) & 0x1F:
                    n = spans[p] + spans[p + 1]
                    if n <= SPARSE_VAL_MAX_LEN:
                        toks[p + 1] = _val_token(((b >> 2) & 0x1F) + 1, n)
                        spans[p + 1] = n
                        self.starts[p + 1] = self.starts[p]
                        del toks[p], spans[p], self.starts[p]
                        self.nbytes -= 1
                        continue
            p += 1
        self.hdr[15] |= 0x80


# Decoding a sparse HLL costs O(opcodes) in Python; PFADD on the same key reuses the editor
# that produced the stored value as long as the opcode bytes are untouched (SETRANGE or
# APPEND on the key change them and force a fresh decode).
_EDITORS: OrderedDict[int, tuple[bytearray, SparseEditor, bytes]] = OrderedDict()
_EDITORS_MAX = 32


def sparse_editor(v: bytes | bytearray) -> SparseEditor:
    """An editor for the sparse HLL ``v`` (cached state when still valid)."""
    entry = _EDITORS.pop(id(v), None)
    if entry is not None and entry[0] is v and entry[2] == v[HDR_SIZE:]:
        editor = entry[1]
        editor.hdr = bytearray(v[:HDR_SIZE])
        return editor
    return SparseEditor(v)


def remember_editor(v: bytearray, editor: SparseEditor) -> None:
    """Keep ``editor`` for the next update of ``v`` (which it just produced)."""
    _EDITORS[id(v)] = (v, editor, bytes(v[HDR_SIZE:]))
    while len(_EDITORS) > _EDITORS_MAX:
        _EDITORS.popitem(last=False)


# -- estimator ---------------------------------------------------------------------


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        zp = z
        z += x * y
        y += y
        if zp == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        zp = z
        y *= 0.5
        z -= math.pow(1 - x, 2.0) * y
        if zp == z:
            return z / 3


def count_from_histogram(hist: list[int]) -> int:
    """hllCount's estimator (Ertl, arXiv:1702.01284) with Redis' exact float steps.

    The result is Redis' uint64; see ``as_reply`` for how it reaches the client.
    """
    m = float(REGISTERS)
    z = m * _tau((m - hist[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    if z == 0.0:  # C divides by zero: +inf
        return LLROUND_OVERFLOW
    e = ALPHA_INF * m * m / z
    if e >= 9223372036854775808.0:  # llroundl out of range: x86 gives LLONG_MIN
        return LLROUND_OVERFLOW
    f = math.floor(e)
    if e - f >= 0.5:  # llroundl: halves away from zero (e >= 0)
        f += 1
    return int(f)


def as_reply(card: int) -> int:
    """Redis replies with addReplyLongLong: the uint64 is read as a signed long long."""
    return card - (1 << 64) if card >> 63 else card


def histogram(v: bytes | bytearray) -> list[int]:
    """Register histogram of a valid HLL string (HLLError for a corrupted sparse one)."""
    if v[4] == DENSE:
        return lanes_histogram(dense_lanes(v))
    return sparse_histogram(v)


def count(v: bytes | bytearray) -> int:
    return count_from_histogram(histogram(v))
