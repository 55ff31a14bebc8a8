"""Redis' compact blob encodings: listpack, ziplist, zipmap and intset.

Decoders are strict (every length and offset is bounds-checked, headers must
agree with the contents) because their input comes from files and RESTORE
payloads; any inconsistency raises ``EncodingError`` and the caller turns it
into Redis' "... integrity check failed." error.  Encoders produce the same
byte layout Redis does (listpack and intset, the two encodings we write).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I16 = struct.Struct("<h")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class EncodingError(ValueError):
    """A blob does not follow its encoding's rules."""


def int_bytes(v: int) -> bytes:
    return b"%d" % v


def canonical_int(s: bytes) -> int | None:
    """The int a string spells when it is canonical (Redis string2ll): no '+', no leading 0, int64."""
    n = len(s)
    if n == 0 or n > 20:
        return None
    c = s[0]
    if c == 45:  # '-'
        if n == 1 or s[1] == 48 or not s[1:].isdigit():  # "-0..." is not canonical
            return None
    elif not s.isdigit() or (c == 48 and n > 1):
        return None
    v = int(s)
    if v < INT64_MIN or v > INT64_MAX:
        return None
    return v


# -- listpack -----------------------------------------------------------------------

LP_HDR_SIZE = 6
LP_EOF = 0xFF


def _lp_backlen_size(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def listpack_entries(blob: bytes, raw: bool = False) -> list:
    """Decode a listpack into its elements.

    Elements are ``bytes``; integer-encoded ones become their decimal string, or stay
    ``int`` when ``raw`` (the stream decoder needs the numbers).
    """
    n = len(blob)
    if n < LP_HDR_SIZE + 1:
        raise EncodingError("listpack too short")
    total = _U32.unpack_from(blob, 0)[0]
    if total != n:
        raise EncodingError("listpack size mismatch")
    count = _U16.unpack_from(blob, 4)[0]
    if blob[n - 1] != LP_EOF:
        raise EncodingError("listpack without terminator")
    out: list = []
    append = out.append
    p = LP_HDR_SIZE
    end = n - 1
    while p < end:
        b = blob[p]
        if b < 0x80:  # 7 bit uint
            val: int | bytes = b
            enc = 1
        elif b < 0xC0:  # 6 bit string length
            ln = b & 0x3F
            enc = 1 + ln
            if p + enc > end:
                raise EncodingError("listpack string out of range")
            val = blob[p + 1:p + enc]
        elif b < 0xE0:  # 13 bit int
            if p + 2 > end:
                raise EncodingError("listpack entry out of range")
            v = ((b & 0x1F) << 8) | blob[p + 1]
            if v >= 1 << 12:
                v -= 1 << 13
            val = v
            enc = 2
        elif b < 0xF0:  # 12 bit string length
            if p + 2 > end:
                raise EncodingError("listpack entry out of range")
            ln = ((b & 0x0F) << 8) | blob[p + 1]
            enc = 2 + ln
            if p + enc > end:
                raise EncodingError("listpack string out of range")
            val = blob[p + 2:p + enc]
        elif b == 0xF0:  # 32 bit string length
            if p + 5 > end:
                raise EncodingError("listpack entry out of range")
            ln = _U32.unpack_from(blob, p + 1)[0]
            enc = 5 + ln
            if p + enc > end:
                raise EncodingError("listpack string out of range")
            val = blob[p + 5:p + enc]
        elif b == 0xF1:
            if p + 3 > end:
                raise EncodingError("listpack entry out of range")
            val = _I16.unpack_from(blob, p + 1)[0]
            enc = 3
        elif b == 0xF2:
            if p + 4 > end:
                raise EncodingError("listpack entry out of range")
            val = int.from_bytes(blob[p + 1:p + 4], "little", signed=True)
            enc = 4
        elif b == 0xF3:
            if p + 5 > end:
                raise EncodingError("listpack entry out of range")
            val = _I32.unpack_from(blob, p + 1)[0]
            enc = 5
        elif b == 0xF4:
            if p + 9 > end:
                raise EncodingError("listpack entry out of range")
            val = _I64.unpack_from(blob, p + 1)[0]
            enc = 9
        else:
            raise EncodingError("listpack bad encoding byte")
        bl = _lp_backlen_size(enc)
        if p + enc + bl > end:
            raise EncodingError("listpack backlen out of range")
        # the backlen's last byte holds the low 7 bits of the entry size
        if (blob[p + enc + bl - 1] & 0x7F) != (enc & 0x7F):
            raise EncodingError("listpack backlen mismatch")
        p += enc + bl
        if not raw and type(val) is int:
            val = b"%d" % val
        append(val)
    if p != end:
        raise EncodingError("listpack overflow")
    if count != 0xFFFF and count != len(out):
        raise EncodingError("listpack count mismatch")
    return out


def _lp_backlen(n: int) -> bytes:
    if n <= 127:
        return bytes((n,))
    if n < 16383:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097151:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435455:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128))
    return bytes((n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128,
                  (n & 127) | 128))


def _lp_encode_int(v: int) -> bytes:
    if 0 <= v <= 127:
        return bytes((v, 1))
    if -4096 <= v <= 4095:
        if v < 0:
            v += 1 << 13
        return bytes(((v >> 8) | 0xC0, v & 0xFF, 2))
    if -32768 <= v <= 32767:
        return b"\xf1" + _I16.pack(v) + b"\x03"
    if -(1 << 23) <= v < (1 << 23):
        return b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little") + b"\x04"
    if -(1 << 31) <= v < (1 << 31):
        return b"\xf3" + _I32.pack(v) + b"\x05"
    return b"\xf4" + _I64.pack(v) + b"\x09"


_INT_START = frozenset(b"-0123456789")
_LP_STR6 = [bytes((0x80 | i,)) for i in range(64)]
_LP_BACKLEN1 = [bytes((i,)) for i in range(128)]


def _lp_encode(item: bytes | int) -> bytes:
    if type(item) is int:
        return _lp_encode_int(item)
    s = bytes(item)  # type: ignore[arg-type]
    ln = len(s)
    if ln <= 20 and ln and s[0] in _INT_START:
        v = canonical_int(s)
        if v is not None:
            return _lp_encode_int(v)
    if ln < 64:
        return _LP_STR6[ln] + s + _LP_BACKLEN1[ln + 1]
    if ln < 4096:
        hdr = bytes((0xE0 | (ln >> 8), ln & 0xFF))
    else:
        hdr = b"\xf0" + _U32.pack(ln)
    enc = len(hdr) + ln
    return hdr + s + _lp_backlen(enc)


def listpack_encode(items: Iterable[bytes | int]) -> bytes:
    """Build a listpack; canonical integer strings are stored as integers, like lpAppend."""
    parts = [_lp_encode(x) for x in items]
    body = b"".join(parts)
    total = LP_HDR_SIZE + len(body) + 1
    count = len(parts) if len(parts) < 0xFFFF else 0xFFFF
    return _U32.pack(total) + _U16.pack(count) + body + b"\xff"


# -- ziplist (RDB < 10 and some v10 types) ------------------------------------------

ZL_HDR_SIZE = 10


def ziplist_entries(blob: bytes) -> list[bytes]:
    """Decode a ziplist; integers come back as their decimal string."""
    n = len(blob)
    if n < ZL_HDR_SIZE + 1:
        raise EncodingError("ziplist too short")
    zlbytes = _U32.unpack_from(blob, 0)[0]
    zltail = _U32.unpack_from(blob, 4)[0]
    zllen = _U16.unpack_from(blob, 8)[0]
    if zlbytes != n or blob[n - 1] != 0xFF:
        raise EncodingError("ziplist header mismatch")
    end = n - 1
    out: list[bytes] = []
    p = ZL_HDR_SIZE
    prev_size = 0
    last = ZL_HDR_SIZE
    while p < end:
        start = p
        b = blob[p]
        if b < 0xFE:
            prevlen = b
            p += 1
        elif b == 0xFE:
            if p + 5 > end:
                raise EncodingError("ziplist entry out of range")
            prevlen = _U32.unpack_from(blob, p + 1)[0]
            p += 5
        else:
            raise EncodingError("ziplist unexpected end")
        if prevlen != prev_size:
            raise EncodingError("ziplist prevlen mismatch")
        if p >= end:
            raise EncodingError("ziplist entry out of range")
        e = blob[p]
        kind = e >> 6
        if kind == 0:
            ln = e & 0x3F
            p += 1
        elif kind == 1:
            if p + 2 > end:
                raise EncodingError("ziplist entry out of range")
            ln = ((e & 0x3F) << 8) | blob[p + 1]
            p += 2
        elif kind == 2:
            if e != 0x80 or p + 5 > end:
                raise EncodingError("ziplist bad string encoding")
            ln = int.from_bytes(blob[p + 1:p + 5], "big")
            p += 5
        else:
            p += 1
            if e == 0xC0:
                ln, v = 2, None
            elif e == 0xD0:
                ln, v = 4, None
            elif e == 0xE0:
                ln, v = 8, None
            elif e == 0xF0:
                ln, v = 3, None
            elif e == 0xFE:
                ln, v = 1, None
            elif 0xF1 <= e <= 0xFD:
                ln, v = 0, (e & 0x0F) - 1
            else:
                raise EncodingError("ziplist bad encoding byte")
            if p + ln > end:
                raise EncodingError("ziplist entry out of range")
            if v is None:
                v = int.from_bytes(blob[p:p + ln], "little", signed=True)
            out.append(b"%d" % v)
            p += ln
            prev_size = p - start
            last = start
            continue
        if p + ln > end:
            raise EncodingError("ziplist string out of range")
        out.append(blob[p:p + ln])
        p += ln
        prev_size = p - start
        last = start
    if p != end:
        raise EncodingError("ziplist overflow")
    if zltail != last:
        raise EncodingError("ziplist tail mismatch")
    if zllen != 0xFFFF and zllen != len(out):
        raise EncodingError("ziplist count mismatch")
    return out


# -- zipmap (RDB < 4 hashes) -------------------------------------------------------------

def zipmap_pairs(blob: bytes) -> list[tuple[bytes, bytes]]:
    """Decode a zipmap into (field, value) pairs."""
    n = len(blob)
    if n < 2:
        raise EncodingError("zipmap too short")
    zmlen = blob[0]
    p = 1
    out: list[tuple[bytes, bytes]] = []

    def read_len() -> int:
        nonlocal p
        if p >= n:
            raise EncodingError("zipmap out of range")
        b = blob[p]
        if b < 254:
            p += 1
            return b
        if b == 254:
            if p + 5 > n:
                raise EncodingError("zipmap out of range")
            v = _U32.unpack_from(blob, p + 1)[0]
            p += 5
            return v
        raise EncodingError("zipmap bad length")

    while True:
        if p >= n:
            raise EncodingError("zipmap without terminator")
        if blob[p] == 0xFF:
            p += 1
            break
        klen = read_len()
        if p + klen > n:
            raise EncodingError("zipmap key out of range")
        key = blob[p:p + klen]
        p += klen
        vlen = read_len()
        if p >= n:
            raise EncodingError("zipmap out of range")
        free = blob[p]
        p += 1
        if p + vlen + free > n:
            raise EncodingError("zipmap value out of range")
        out.append((key, blob[p:p + vlen]))
        p += vlen + free
    if p != n:
        raise EncodingError("zipmap trailing bytes")
    if zmlen < 254 and zmlen != len(out):
        raise EncodingError("zipmap count mismatch")
    return out


# -- intset ------------------------------------------------------------------------------

_INTSET_FMT = {2: "h", 4: "i", 8: "q"}


def intset_members(blob: bytes) -> list[int]:
    """Decode an intset (ascending, unique)."""
    if len(blob) < 8:
        raise EncodingError("intset too short")
    enc, count = struct.unpack_from("<II", blob, 0)
    fmt = _INTSET_FMT.get(enc)
    if fmt is None:
        raise EncodingError("intset bad encoding")
    if len(blob) != 8 + count * enc:
        raise EncodingError("intset size mismatch")
    vals = list(struct.unpack_from("<%d%s" % (count, fmt), blob, 8))
    for i in range(1, count):
        if vals[i] <= vals[i - 1]:
            raise EncodingError("intset not sorted")
    return vals


def intset_encode(values: Iterable[int]) -> bytes:
    """Build an intset with the smallest encoding that fits every value."""
    vals = sorted(values)
    enc = 2
    if vals:
        lo, hi = vals[0], vals[-1]
        if lo < -(1 << 31) or hi >= (1 << 31):
            enc = 8
        elif lo < -(1 << 15) or hi >= (1 << 15):
            enc = 4
    return struct.pack("<II", enc, len(vals)) + struct.pack("<%d%s" % (len(vals), _INTSET_FMT[enc]), *vals)
