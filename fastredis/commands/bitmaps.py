"""Bitmap commands (Redis' bitops.c): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD(_RO).

Bitmaps are plain strings.  Writers turn the stored value into a ``bytearray`` so repeated
SETBIT/BITFIELD updates are O(1) amortised; GET still sees the same bytes.  Whole-string work
(popcount, bit search, AND/OR/XOR/NOT) runs in C through big integers and ``re`` searches,
never a Python loop per bit.  Argument order, error texts and edge cases (BITPOS with an
explicit end looking for 0, BIT/BYTE ranges, BITFIELD overflow rules) follow Redis 7.2.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .._resp import ReplyError, string2ll
from ..db import WRONGTYPE
from .table import SYNTAX_ERROR, command, parse_int

if TYPE_CHECKING:
    from ..context import Client

BIT_OFFSET_ERROR = ReplyError("ERR bit offset is not an integer or out of range")
BIT_VALUE_ERROR = ReplyError("ERR bit is not an integer or out of range")
BIT_ARG_ERROR = ReplyError("ERR The bit argument must be 1 or 0.")
BITFIELD_TYPE_ERROR = ReplyError(
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
OVERFLOW_TYPE_ERROR = ReplyError("ERR Invalid OVERFLOW type specified")
BITOP_NOT_ERROR = ReplyError("ERR BITOP NOT must be called with a single source key.")
BITFIELD_RO_ERROR = ReplyError("ERR BITFIELD_RO only supports the GET subcommand")

_M64 = (1 << 64) - 1
_FIRST_NONZERO = re.compile(rb"[^\x00]")
_FIRST_NONFF = re.compile(rb"[^\xff]")
_POPCOUNT_CHUNK = 1 << 20

STRING_TYPES = (bytes, bytearray)


def _wrap64(v: int) -> int:
    """Two's complement int64 wrap-around, as C arithmetic on long long does."""
    v &= _M64
    return v - (1 << 64) if v >> 63 else v


def _string_or_none(c: Client, key: bytes) -> bytes | bytearray | None:
    """lookupKeyRead + checkType(OBJ_STRING)."""
    v = c.db.get(key)
    if v is not None and not isinstance(v, STRING_TYPES):
        raise WRONGTYPE
    return v  # type: ignore[no-any-return]


def bit_offset(c: Client, arg: bytes, hash_bits: int = 0) -> int:
    """getBitOffsetFromArgument: non-negative, below proto-max-bulk-len bytes; ``#n`` = n*bits."""
    usehash = hash_bits > 0 and arg[:1] == b"#"
    v = string2ll(arg[1:] if usehash else arg)
    if v is None:
        raise BIT_OFFSET_ERROR
    if usehash:
        v = _wrap64(v * hash_bits)
    if v < 0 or (not c.is_master and (v >> 3) >= c.server.config["proto-max-bulk-len"]):
        raise BIT_OFFSET_ERROR
    return v


def _string_for_bit_write(c: Client, key: bytes, maxbit: int) -> tuple[bytearray, bool]:
    """lookupStringForBitCommand: create or zero-pad so ``maxbit`` is addressable.

    Returns the (mutable) value and whether it was created or grown.
    """
    db = c.db
    size = (maxbit >> 3) + 1
    v = db.get_for_write(key)
    if v is None:
        ba = bytearray(size)
        db.add(key, ba)
        return ba, True
    if not isinstance(v, STRING_TYPES):
        raise WRONGTYPE
    if type(v) is not bytearray:
        v = bytearray(v)
        db.set(key, v, keepttl=True)
    grown = len(v) < size
    if grown:
        v.extend(bytes(size - len(v)))
    return v, grown


# -- SETBIT / GETBIT -----------------------------------------------------------------


@command("setbit", 4, "write denyoom", keys=(1, 1, 1), group="bitmap", since="2.2.0",
         summary="Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.")
def setbit(c: Client, argv: list[bytes]) -> Any:
    offset = bit_offset(c, argv[2])
    on = parse_int(argv[3], BIT_VALUE_ERROR)
    if on & ~1:
        raise BIT_VALUE_ERROR
    key = argv[1]
    v, dirty = _string_for_bit_write(c, key, offset)
    byte = offset >> 3
    shift = 7 - (offset & 7)
    old = (v[byte] >> shift) & 1
    if dirty or old != on:
        if on:
            v[byte] |= 1 << shift
        else:
            v[byte] &= ~(1 << shift) & 0xFF
        c.db.changed(key, b"setbit", b"$")
    return old


@command("getbit", 3, "readonly fast", keys=(1, 1, 1), group="bitmap", since="2.2.0",
         summary="Returns a bit value by offset.")
def getbit(c: Client, argv: list[bytes]) -> Any:
    offset = bit_offset(c, argv[2])
    v = _string_or_none(c, argv[1])
    if v is None:
        return 0
    byte = offset >> 3
    if byte >= len(v):
        return 0
    return (v[byte] >> (7 - (offset & 7))) & 1


# -- BITCOUNT / BITPOS ---------------------------------------------------------------------


def popcount(v: bytes | bytearray, start: int, end: int) -> int:
    """Set bits in v[start:end] (redisPopcount), in bounded chunks for huge strings."""
    mv = memoryview(v)
    total = 0
    for i in range(start, end, _POPCOUNT_CHUNK):
        total += int.from_bytes(mv[i:min(end, i + _POPCOUNT_CHUNK)], "little").bit_count()
    return total


def _bit_unit(arg: bytes) -> bool:
    unit = arg.lower()
    if unit == b"bit":
        return True
    if unit == b"byte":
        return False
    raise SYNTAX_ERROR


def _bit_range(start: int, end: int, totlen: int, isbit: bool) -> tuple[int, int, int, int]:
    """Normalise a BYTE/BIT range to bytes plus the edge masks of bits outside it."""
    if isbit:
        totlen <<= 3
    if start < 0:
        start += totlen
    if end < 0:
        end += totlen
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= totlen:
        end = totlen - 1
    first_mask = last_mask = 0
    if isbit and start <= end:
        first_mask = ~((1 << (8 - (start & 7))) - 1) & 0xFF
        last_mask = (1 << (7 - (end & 7))) - 1
        start >>= 3
        end >>= 3
    return start, end, first_mask, last_mask


@command("bitcount", -2, "readonly", keys=(1, 1, 1), group="bitmap", since="2.6.0",
         summary="Counts the number of set bits (population counting) in a string.")
def bitcount(c: Client, argv: list[bytes]) -> Any:
    argc = len(argv)
    first_mask = last_mask = 0
    if argc in (4, 5):
        start = parse_int(argv[2])
        end = parse_int(argv[3])
        isbit = _bit_unit(argv[4]) if argc == 5 else False
        v = _string_or_none(c, argv[1])
        if start < 0 and end < 0 and start > end:
            return 0
        start, end, first_mask, last_mask = _bit_range(start, end, len(v) if v is not None else 0, isbit)
    elif argc == 2:
        v = _string_or_none(c, argv[1])
        start = 0
        end = (len(v) if v is not None else 0) - 1
    else:
        raise SYNTAX_ERROR
    if v is None or start > end:
        return 0
    count = popcount(v, start, end + 1)
    if first_mask:
        count -= (v[start] & first_mask).bit_count()
    if last_mask:
        count -= (v[end] & last_mask).bit_count()
    return count


def bitpos_raw(v: bytes | bytearray, start: int, nbytes: int, bit: int) -> int:
    """redisBitpos over v[start:start+nbytes]: bit index relative to ``start``.

    Looking for 1 and finding none gives -1; looking for 0 and finding none gives
    nbytes*8 (the string is considered zero padded on the right).
    """
    m = (_FIRST_NONZERO if bit else _FIRST_NONFF).search(v, start, start + nbytes)
    if m is None:
        return -1 if bit else nbytes * 8
    b = v[m.start()]
    if not bit:
        b = ~b & 0xFF
    return (m.start() - start) * 8 + 8 - b.bit_length()


def _bitpos_byte(b: int, bit: int) -> int:
    return bitpos_raw(bytes((b & 0xFF,)), 0, 1, bit)


@command("bitpos", -3, "readonly", keys=(1, 1, 1), group="bitmap", since="2.8.7",
         summary="Finds the first set (1) or clear (0) bit in a string.")
def bitpos(c: Client, argv: list[bytes]) -> Any:
    argc = len(argv)
    bit = parse_int(argv[2])
    if bit not in (0, 1):
        raise BIT_ARG_ERROR
    end_given = False
    first_mask = last_mask = 0
    if argc in (4, 5, 6):
        start = parse_int(argv[3])
        isbit = _bit_unit(argv[5]) if argc == 6 else False
        end = 0
        if argc >= 5:
            end = parse_int(argv[4])
            end_given = True
        v = _string_or_none(c, argv[1])
        totlen = len(v) if v is not None else 0
        if argc < 5:
            end = (totlen << 3) + 7 if isbit else totlen - 1
        start, end, first_mask, last_mask = _bit_range(start, end, totlen, isbit)
    elif argc == 3:
        v = _string_or_none(c, argv[1])
        start = 0
        end = (len(v) if v is not None else 0) - 1
    else:
        raise SYNTAX_ERROR
    if v is None:
        return -1 if bit else 0
    if start > end:
        return -1
    pos, start, nbytes = _bitpos_range(v, start, end, end - start + 1, bit, first_mask, last_mask)
    if end_given and bit == 0 and pos == nbytes << 3:
        return -1
    if pos != -1:
        pos += start << 3
    return pos


def _bitpos_range(v: bytes | bytearray, start: int, end: int, nbytes: int, bit: int,
                  first_mask: int, last_mask: int) -> tuple[int, int, int]:
    """The search part of bitposCommand: (pos relative to start, start, bytes left)."""
    if first_mask:
        tmp = v[start] & ~first_mask if bit else v[start] | first_mask
        if last_mask and nbytes == 1:
            tmp = tmp & ~last_mask if bit else tmp | last_mask
        pos = _bitpos_byte(tmp, bit)
        if nbytes == 1 or (pos != -1 and pos != 8):
            return pos, start, nbytes
        start += 1
        nbytes -= 1
    curbytes = nbytes - (1 if last_mask else 0)
    if curbytes > 0:
        pos = bitpos_raw(v, start, curbytes, bit)
        if nbytes == curbytes or (pos != -1 and pos != curbytes << 3):
            return pos, start, nbytes
        start += curbytes
        nbytes -= curbytes
    tmp = v[end] & ~last_mask if bit else v[end] | last_mask
    return _bitpos_byte(tmp, bit), start, nbytes


# -- BITOP ---------------------------------------------------------------------------------


@command("bitop", -4, "write denyoom", keys=(2, -1, 1), group="bitmap", since="2.6.0",
         summary="Performs bitwise operations on multiple strings, and stores the result.")
def bitop(c: Client, argv: list[bytes]) -> Any:
    op = argv[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise SYNTAX_ERROR
    if op == b"not" and len(argv) != 4:
        raise BITOP_NOT_ERROR
    target = argv[2]
    values: list[bytes | bytearray] = []
    for key in argv[3:]:
        v = _string_or_none(c, key)
        values.append(b"" if v is None else v)
    maxlen = max(map(len, values))
    db = c.db
    if not maxlen:
        if db.delete(target):
            db.changed(target, b"del", b"g")
        return 0
    # strings as big-endian integers left-aligned on maxlen bytes (missing bytes are 0)
    nums = [int.from_bytes(v, "big") << ((maxlen - len(v)) << 3) for v in values]
    if op == b"not":
        res = nums[0] ^ ((1 << (maxlen << 3)) - 1)
    else:
        res = nums[0]
        if op == b"and":
            for n in nums[1:]:
                res &= n
        elif op == b"or":
            for n in nums[1:]:
                res |= n
        else:
            for n in nums[1:]:
                res ^= n
    db.set(target, bytearray(res.to_bytes(maxlen, "big")))  # Redis' createObject: raw encoding
    db.changed(target, b"set", b"$")
    return maxlen


# -- BITFIELD ----------------------------------------------------------------------------

_GET, _SET, _INCRBY = 0, 1, 2
_WRAP, _SAT, _FAIL = 0, 1, 2


def _bitfield_type(arg: bytes) -> tuple[bool, int]:
    """getBitfieldTypeFromArgument: (signed, bits) for i1..i64 / u1..u63."""
    sign = arg[:1]
    if sign not in (b"i", b"u"):
        raise BITFIELD_TYPE_ERROR
    digits = arg[1:].split(b"\0", 1)[0]  # Redis parses a C string
    bits = string2ll(digits)
    signed = sign == b"i"
    if bits is None or bits < 1 or bits > (64 if signed else 63):
        raise BITFIELD_TYPE_ERROR
    return signed, bits


def get_unsigned(v: bytes | bytearray, offset: int, bits: int) -> int:
    """The ``bits``-wide big-endian field at bit ``offset`` (zero past the end)."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    n = last - first + 1
    chunk = v[first:last + 1]
    value = int.from_bytes(chunk, "big") << ((n - len(chunk)) << 3)
    return (value >> ((n << 3) - (offset & 7) - bits)) & ((1 << bits) - 1)


def set_unsigned(v: bytearray, offset: int, bits: int, value: int) -> None:
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    n = last - first + 1
    shift = (n << 3) - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    chunk = int.from_bytes(v[first:last + 1], "big")
    chunk = (chunk & ~mask) | ((value << shift) & mask)
    v[first:last + 1] = chunk.to_bytes(n, "big")


def _to_signed(u: int, bits: int) -> int:
    return u - (1 << bits) if u >> (bits - 1) else u


def _unsigned_overflow(value: int, incr: int, bits: int, owtype: int) -> tuple[int, int]:
    """checkUnsignedBitfieldOverflow: (0 / 1 / -1, limit)."""
    mx = (1 << bits) - 1
    maxincr = _wrap64(mx - value)
    minincr = _wrap64(-value)
    if value > mx or (incr > 0 and incr > maxincr):
        if owtype == _WRAP:
            return 1, (value + incr) & mx
        return 1, mx
    if incr < 0 and incr < minincr:
        if owtype == _WRAP:
            return -1, (value + incr) & mx
        return -1, 0
    return 0, 0


def _signed_overflow(value: int, incr: int, bits: int, owtype: int) -> tuple[int, int]:
    """checkSignedBitfieldOverflow: (0 / 1 / -1, limit), with C's int64 wrap-arounds."""
    mx = (1 << (bits - 1)) - 1
    mn = -mx - 1
    maxincr = _wrap64(mx - value)
    minincr = _wrap64(mn - value)
    if value > mx or (bits != 64 and incr > maxincr) or (value >= 0 and incr > 0 and incr > maxincr):
        if owtype == _WRAP:
            return 1, _to_signed((value + incr) & ((1 << bits) - 1), bits)
        return 1, mx
    if value < mn or (bits != 64 and incr < minincr) or (value < 0 and incr < 0 and incr < minincr):
        if owtype == _WRAP:
            return -1, _to_signed((value + incr) & ((1 << bits) - 1), bits)
        return -1, mn
    return 0, 0


def _bitfield(c: Client, argv: list[bytes], readonly_cmd: bool) -> Any:
    argc = len(argv)
    ops: list[tuple[int, int, int, int, bool, int]] = []  # opcode, offset, bits, arg, signed, owtype
    owtype = _WRAP
    readonly = True
    highest = 0
    j = 2
    while j < argc:
        remargs = argc - j - 1
        sub = argv[j].lower()
        if sub == b"get" and remargs >= 2:
            opcode = _GET
        elif sub == b"set" and remargs >= 3:
            opcode = _SET
        elif sub == b"incrby" and remargs >= 3:
            opcode = _INCRBY
        elif sub == b"overflow" and remargs >= 1:
            kind = argv[j + 1].lower()
            if kind == b"wrap":
                owtype = _WRAP
            elif kind == b"sat":
                owtype = _SAT
            elif kind == b"fail":
                owtype = _FAIL
            else:
                raise OVERFLOW_TYPE_ERROR
            j += 2
            continue
        else:
            raise SYNTAX_ERROR
        signed, bits = _bitfield_type(argv[j + 1])
        offset = bit_offset(c, argv[j + 2], bits)
        arg = 0
        if opcode != _GET:
            readonly = False
            highest = max(highest, offset + bits - 1)
            arg = parse_int(argv[j + 3])
        ops.append((opcode, offset, bits, arg, signed, owtype))
        j += 3 if opcode == _GET else 4

    key = argv[1]
    v: bytes | bytearray | None
    dirty = False
    if readonly:
        v = _string_or_none(c, key)
    else:
        if readonly_cmd:
            raise BITFIELD_RO_ERROR
        v, dirty = _string_for_bit_write(c, key, highest)

    reply: list[Any] = []
    changes = 0
    for opcode, offset, bits, arg, signed, ow in ops:
        if opcode == _GET:
            if v is None:
                reply.append(0)
                continue
            u = get_unsigned(v, offset, bits)
            reply.append(_to_signed(u, bits) if signed else u)
            continue
        assert isinstance(v, bytearray)
        u_old = get_unsigned(v, offset, bits)
        if signed:
            old = _to_signed(u_old, bits)
            if opcode == _INCRBY:
                overflow, wrapped = _signed_overflow(old, arg, bits, ow)
                new = wrapped if overflow else old + arg
                ret = new
            else:
                overflow, wrapped = _signed_overflow(arg, 0, bits, ow)
                new = wrapped if overflow else arg
                ret = old
        else:
            old = u_old
            if opcode == _INCRBY:
                overflow, wrapped = _unsigned_overflow(old, arg, bits, ow)
                new = wrapped if overflow else (old + arg) & _M64
                ret = new
            else:
                new = arg & _M64  # C stores the int64 argument in a uint64
                overflow, wrapped = _unsigned_overflow(new, 0, bits, ow)
                if overflow:
                    new = wrapped
                ret = old
        if overflow and ow == _FAIL:
            reply.append(None)
            continue
        reply.append(ret)
        set_unsigned(v, offset, bits, new & ((1 << bits) - 1))
        if dirty or old != new:
            changes += 1
    if changes:
        c.db.changed(key, b"setbit", b"$", changes)
    return reply


@command("bitfield", -2, "write denyoom", keys=(1, 1, 1), group="bitmap", since="3.2.0",
         summary="Performs arbitrary bitfield integer operations on strings.")
def bitfield(c: Client, argv: list[bytes]) -> Any:
    return _bitfield(c, argv, False)


@command("bitfield_ro", -2, "readonly fast", keys=(1, 1, 1), group="bitmap", since="6.0.0",
         summary="Performs arbitrary read-only bitfield integer operations on strings.")
def bitfield_ro(c: Client, argv: list[bytes]) -> Any:
    return _bitfield(c, argv, True)
