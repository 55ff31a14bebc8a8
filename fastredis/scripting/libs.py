"""The C libraries Redis links into its Lua (cjson, cmsgpack, bit, struct), for stock Lua 5.1.

lupa's Lua ships none of them, so they are written here with the behaviour of the versions Redis
vendors (lua-cjson 2.1, lua-cmsgpack 0.4, LuaBitOp 1.0, Roberto's struct 0.2).  The byte work
is in Python; a thin Lua layer checks arguments and raises errors as the C code would (plain
messages, no position, as ``luaL_error`` from a C function).  Tables are walked with ``lua_next``
order (lupa's ``items()``), so object keys come out in the same order as from Redis.
"""

from __future__ import annotations

import math
import struct as _struct
from typing import Any

from lupa.lua51 import lua_type

LIBS_LUA = r"""
local PY = ...
local cjson = {null = PY.null, _NAME = 'cjson', _VERSION = '2.1.0'}
for _, k in ipairs({'encode', 'decode', 'encode_sparse_array', 'encode_max_depth', 'decode_max_depth',
                    'encode_number_precision', 'encode_keep_buffer', 'encode_invalid_numbers',
                    'decode_invalid_numbers'}) do
  cjson[k] = PY['cjson_' .. k]
end
local cmsgpack = {_NAME = 'cmsgpack', _VERSION = 'lua-cmsgpack 0.4.0',
                  _COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo',
                  _DESCRIPTION = 'MessagePack C implementation for Lua'}
for _, k in ipairs({'pack', 'unpack', 'unpack_one', 'unpack_limit'}) do cmsgpack[k] = PY['mp_' .. k] end
local bit = {}
for _, k in ipairs({'tobit', 'tohex', 'bnot', 'band', 'bor', 'bxor', 'lshift', 'rshift', 'arshift', 'rol', 'ror',
                    'bswap'}) do
  bit[k] = PY['bit_' .. k]
end
local struct = {pack = PY.st_pack, unpack = PY.st_unpack, size = PY.st_size}
return {cjson = cjson, cmsgpack = cmsgpack, bit = bit, struct = struct}
"""


class LibError(Exception):
    """An error a library function raises in Lua (its message, no position)."""


def tname(v: Any, present: bool = True) -> str:
    """Lua's type name of a converted value (``no value`` for a missing argument)."""
    if not present:
        return "no value"
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, bytes):
        return "string"
    return lua_type(v) or "userdata"


def check_number(fname: str, args: tuple[Any, ...], i: int) -> float:
    """luaL_checknumber: numbers and numeric strings; Lua's error text otherwise."""
    v = args[i - 1] if i <= len(args) else None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    if isinstance(v, bytes):
        try:
            return float(v.strip()) if not v.strip().lower().startswith((b"0x", b"-0x")) else float(int(v, 16))
        except ValueError:
            pass
    raise LibError("bad argument #%d to '%s' (number expected, got %s)" % (i, fname, tname(v, i <= len(args))))


def check_int(fname: str, args: tuple[Any, ...], i: int) -> int:
    v = check_number(fname, args, i)
    return int(v) if math.isfinite(v) else 0


def check_string(fname: str, args: tuple[Any, ...], i: int) -> bytes:
    v = args[i - 1] if i <= len(args) else None
    if isinstance(v, bytes):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return b"%.14g" % v
    raise LibError("bad argument #%d to '%s' (string expected, got %s)" % (i, fname, tname(v, i <= len(args))))


def make_libs(lua: Any) -> Any:
    """Build the four library tables inside ``lua``."""
    null = lua.eval("newproxy(false)")
    j = _Json(lua, null)
    m = _MsgPack(lua)
    helpers: dict[bytes, Any] = {b"null": null}

    def one_arg(fname: str, args: tuple[Any, ...]) -> Any:
        if len(args) != 1:
            raise LibError("bad argument #1 to '%s' (expected 1 argument)" % fname)
        return args[0]

    helpers[b"cjson_encode"] = lambda *a: j.encode(one_arg("encode", a))
    helpers[b"cjson_decode"] = lambda *a: j.decode(check_string("decode", (one_arg("decode", a),), 1))
    for name in ("encode_sparse_array", "encode_max_depth", "decode_max_depth", "encode_number_precision",
                 "encode_keep_buffer", "encode_invalid_numbers", "decode_invalid_numbers"):
        helpers[b"cjson_" + name.encode()] = (lambda n: lambda *a: j.config(n, *a))(name.encode())

    def mp_pack(*args: Any) -> bytes:
        if not args:
            raise LibError("bad argument #0 to 'pack' (MessagePack pack needs input.)")
        return m.pack(*args)

    helpers[b"mp_pack"] = mp_pack
    helpers[b"mp_unpack"] = lambda *a: m.unpack(check_string("unpack", a, 1), 0, 0, False)
    helpers[b"mp_unpack_one"] = lambda *a: m.unpack(
        check_string("unpack_one", a, 1), 1, check_int("unpack_one", a, 2) if len(a) > 1 and a[1] is not None
        else 0, True)
    helpers[b"mp_unpack_limit"] = lambda *a: m.unpack(
        check_string("unpack_limit", a, 1), check_int("unpack_limit", a, 2) if len(a) > 1 and a[1] is not None
        else 0, check_int("unpack_limit", a, 3) if len(a) > 2 and a[2] is not None else 0, True)
    for op in ("tobit", "bnot", "bswap", "band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "ror",
               "tohex"):
        helpers[b"bit_" + op.encode()] = (lambda o: lambda *a: _bitop(o, a))(op)
    helpers[b"st_pack"] = lambda *a: _st_pack((check_string("pack", a, 1), *a[1:]))
    helpers[b"st_unpack"] = lambda *a: _st_unpack(
        check_string("unpack", a, 1), check_string("unpack", a, 2),
        check_int("unpack", a, 3) if len(a) > 2 and a[2] is not None else 1)
    helpers[b"st_size"] = lambda *a: _st_size(check_string("size", a, 1))
    loadstring = lua.eval("loadstring")
    chunk = loadstring(LIBS_LUA.encode(), b"=fastredis")
    if isinstance(chunk, tuple):
        raise RuntimeError("Lua libraries failed to compile: %r" % (chunk,))
    return chunk(lua.table_from(helpers))


# -- cjson -------------------------------------------------------------------------

_ESC = {i: b"\\u%04x" % i for i in range(32)}
_ESC.update({8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r", 34: b'\\"', 92: b"\\\\", 47: b"\\/",
             127: b"\\u007f"})
_ESC_TABLE = [_ESC.get(i, bytes((i,))) for i in range(256)]


def _json_string(s: bytes) -> bytes:
    if not any(b < 32 or b in (34, 92, 47, 127) for b in s):
        return b'"' + s + b'"'
    return b'"' + b"".join(_ESC_TABLE[b] for b in s) + b'"'


class _Json:
    def __init__(self, lua: Any, null: Any) -> None:
        self.lua = lua
        self.null = null
        self.rawequal = lua.eval("rawequal")
        self.sparse_convert = False
        self.sparse_ratio = 2
        self.sparse_safe = 10
        self.encode_depth = 1000
        self.decode_depth = 1000
        self.precision = 14
        self.encode_invalid = False
        self.decode_invalid = True

    def config(self, name: bytes, *args: Any) -> Any:
        n = name.decode()

        def as_bool(v: Any) -> bool:
            if isinstance(v, bool):
                return v
            if v in (b"on", b"true"):
                return True
            if v in (b"off", b"false"):
                return False
            if v == b"null":
                return False
            raise LibError("bad argument #1 to '%s' (invalid option '%s')" % (n, v))

        if n == "encode_sparse_array":
            if args and args[0] is not None:
                self.sparse_convert = as_bool(args[0])
            if len(args) > 1 and args[1] is not None:
                self.sparse_ratio = int(args[1])
            if len(args) > 2 and args[2] is not None:
                self.sparse_safe = int(args[2])
            return self.sparse_convert, self.sparse_ratio, self.sparse_safe
        if n in ("encode_max_depth", "decode_max_depth", "encode_number_precision"):
            attr = {"encode_max_depth": "encode_depth", "decode_max_depth": "decode_depth",
                    "encode_number_precision": "precision"}[n]
            if args and args[0] is not None:
                v = int(args[0])
                hi = 14 if n == "encode_number_precision" else 2**31 - 1
                if not 1 <= v <= hi:
                    raise LibError("bad argument #1 to '%s' (expected integer between 1 and %d)" % (n, hi))
                setattr(self, attr, v)
            return getattr(self, attr)
        if n == "encode_keep_buffer":
            return True
        if n in ("encode_invalid_numbers", "decode_invalid_numbers"):
            attr = "encode_invalid" if n.startswith("encode") else "decode_invalid"
            if args and args[0] is not None:
                setattr(self, attr, as_bool(args[0]))
            return getattr(self, attr)
        raise LibError("unknown option")

    def encode(self, v: Any) -> bytes:
        out: list[bytes] = []
        self._enc(v, out, 0)
        return b"".join(out)

    def _number(self, v: float, out: list[bytes]) -> None:
        if isinstance(v, float) and not math.isfinite(v):
            if not self.encode_invalid:
                raise LibError("Cannot serialise number: must not be NaN or Inf")
            out.append(b"nan" if v != v else (b"inf" if v > 0 else b"-inf"))
            return
        out.append(b"%.*g" % (self.precision, v))

    def _enc(self, v: Any, out: list[bytes], depth: int) -> None:
        t = type(v)
        if t is bytes:
            out.append(_json_string(v))
        elif t is bool:
            out.append(b"true" if v else b"false")
        elif t is int or t is float:
            self._number(v, out)
        elif v is None:
            out.append(b"null")
        else:
            lt = lua_type(v)
            if lt == "userdata" and self.rawequal(v, self.null):
                out.append(b"null")
                return
            if lt != "table":
                raise LibError("Cannot serialise %s: type not supported" % lt)
            depth += 1
            if depth > self.encode_depth:
                raise LibError("Cannot serialise, excessive nesting (%d)" % depth)
            items = list(v.items())
            n = self._array_len(items)
            if n > 0:
                out.append(b"[")
                for i in range(1, n + 1):
                    if i > 1:
                        out.append(b",")
                    self._enc(v[i], out, depth)
                out.append(b"]")
            else:
                out.append(b"{")
                first = True
                for k, x in items:
                    if not first:
                        out.append(b",")
                    first = False
                    kt = type(k)
                    if kt is bytes:
                        out.append(_json_string(k))
                    elif (kt is int or kt is float) and kt is not bool:
                        out.append(b'"')
                        self._number(k, out)
                        out.append(b'"')
                    else:
                        raise LibError("Cannot serialise table: table key must be a number or string")
                    out.append(b":")
                    self._enc(x, out, depth)
                out.append(b"}")

    def _array_len(self, items: list[tuple[Any, Any]]) -> int:
        mx = 0
        count = 0
        for k, _ in items:
            if (type(k) is int or type(k) is float) and k >= 1 and k == math.floor(k):
                if k > mx:
                    mx = int(k)
                count += 1
            else:
                return -1
        if self.sparse_ratio > 0 and mx > count * self.sparse_ratio and mx > self.sparse_safe:
            if not self.sparse_convert:
                raise LibError("Cannot serialise table: excessively sparse array")
            return -1
        return mx

    def decode(self, s: bytes) -> Any:
        p = _JsonParser(self, s)
        p.skip_ws()
        v = p.value(0)
        p.skip_ws()
        if p.pos < len(s):
            raise LibError("Expected the end but found %s at character %d" % (p.token_name(), p.pos + 1))
        return v


class _JsonParser:
    def __init__(self, cfg: _Json, s: bytes) -> None:
        self.cfg = cfg
        self.s = s
        self.pos = 0

    def skip_ws(self) -> None:
        s, p = self.s, self.pos
        while p < len(s) and s[p] in b" \t\r\n":
            p += 1
        self.pos = p

    def token_name(self) -> str:
        s, p = self.s, self.pos
        if p >= len(s):
            return "T_END"
        c = s[p:p + 1]
        names = {b"{": "T_OBJ_BEGIN", b"}": "T_OBJ_END", b"[": "T_ARR_BEGIN", b"]": "T_ARR_END", b",": "T_COMMA",
                 b":": "T_COLON", b'"': "T_STRING"}
        if c in names:
            return names[c]
        if c in b"-0123456789":
            return "T_NUMBER"
        if s.startswith(b"true", p) or s.startswith(b"false", p):
            return "T_BOOLEAN"
        if s.startswith(b"null", p):
            return "T_NULL"
        return "invalid token"

    def fail(self, expected: str) -> LibError:
        return LibError("Expected %s but found %s at character %d" % (expected, self.token_name(), self.pos + 1))

    def value(self, depth: int) -> Any:
        s, p = self.s, self.pos
        if p >= len(s):
            raise self.fail("value")
        c = s[p]
        if c == 0x7B:  # {
            return self.obj(depth + 1)
        if c == 0x5B:  # [
            return self.arr(depth + 1)
        if c == 0x22:
            return self.string()
        if s.startswith(b"true", p):
            self.pos += 4
            return True
        if s.startswith(b"false", p):
            self.pos += 5
            return False
        if s.startswith(b"null", p):
            self.pos += 4
            return self.cfg.null
        return self.number()

    def number(self) -> Any:
        s, p = self.s, self.pos
        q = p
        while q < len(s) and s[q] in b"+-0123456789.eExXabcdefABCDEFinfINFnN":
            q += 1
        tok = s[p:q]
        try:
            if tok[:1] in (b"-", b"+") and tok[1:3].lower() == b"0x" or tok[:2].lower() == b"0x":
                v: float = float(int(tok, 16))
            else:
                v = float(tok)
        except ValueError:
            raise self.fail("value") from None
        low = tok.lower()
        if (b"inf" in low or b"nan" in low) and not self.cfg.decode_invalid:
            raise self.fail("value")
        self.pos = q
        return int(v) if v == v and v not in (math.inf, -math.inf) and v == int(v) and abs(v) < 2**53 else v

    def string(self) -> bytes:
        s = self.s
        p = self.pos + 1
        out = bytearray()
        while True:
            if p >= len(s):
                self.pos = p
                raise LibError("Expected value but found invalid token at character %d" % (self.pos_start() + 1))
            c = s[p]
            if c == 0x22:
                break
            if c == 0x5C:
                p += 1
                if p >= len(s):
                    raise LibError("Expected value but found invalid token at character %d" % (self.pos + 1))
                e = s[p]
                simple = {0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 8, 0x66: 12, 0x6E: 10, 0x72: 13, 0x74: 9}
                if e in simple:
                    out.append(simple[e])
                    p += 1
                    continue
                if e == 0x75:
                    hexs = s[p + 1:p + 5]
                    try:
                        cp = int(hexs, 16)
                        if len(hexs) != 4:
                            raise ValueError
                    except ValueError:
                        raise LibError("Expected value but found invalid unicode escape code at character %d"
                                       % (self.pos + 1)) from None
                    p += 5
                    if 0xD800 <= cp < 0xDC00 and s[p:p + 2] == b"\\u":
                        try:
                            lo = int(s[p + 2:p + 6], 16)
                        except ValueError:
                            lo = 0
                        if 0xDC00 <= lo < 0xE000:
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                            p += 6
                    out += chr(cp).encode("utf-8", "surrogatepass")
                    continue
                raise LibError("Expected value but found invalid escape code at character %d" % (self.pos + 1))
            out.append(c)
            p += 1
        self.pos = p + 1
        return bytes(out)

    def pos_start(self) -> int:
        return self.pos

    def check_depth(self, depth: int) -> None:
        if depth > self.cfg.decode_depth:
            raise LibError("Found too many nested data structures (%d) at character %d" % (depth, self.pos + 1))

    def obj(self, depth: int) -> Any:
        self.check_depth(depth)
        t = self.cfg.lua.table()
        self.pos += 1
        self.skip_ws()
        if self.s[self.pos:self.pos + 1] == b"}":
            self.pos += 1
            return t
        while True:
            self.skip_ws()
            if self.s[self.pos:self.pos + 1] != b'"':
                raise self.fail("object key string")
            k = self.string()
            self.skip_ws()
            if self.s[self.pos:self.pos + 1] != b":":
                raise self.fail("colon")
            self.pos += 1
            self.skip_ws()
            t[k] = self.value(depth)
            self.skip_ws()
            c = self.s[self.pos:self.pos + 1]
            if c == b"}":
                self.pos += 1
                return t
            if c != b",":
                raise self.fail("comma or object end")
            self.pos += 1

    def arr(self, depth: int) -> Any:
        self.check_depth(depth)
        t = self.cfg.lua.table()
        self.pos += 1
        self.skip_ws()
        if self.s[self.pos:self.pos + 1] == b"]":
            self.pos += 1
            return t
        i = 1
        while True:
            self.skip_ws()
            t[i] = self.value(depth)
            i += 1
            self.skip_ws()
            c = self.s[self.pos:self.pos + 1]
            if c == b"]":
                self.pos += 1
                return t
            if c != b",":
                raise self.fail("comma or array end")
            self.pos += 1


# -- cmsgpack ------------------------------------------------------------------------

class _MsgPack:
    MAX_NESTING = 16

    def __init__(self, lua: Any) -> None:
        self.lua = lua

    def pack(self, *args: Any) -> bytes:
        out = bytearray()
        for a in args:
            self._enc(a, out, 0)
        return bytes(out)

    def _int(self, n: int, out: bytearray) -> None:
        if n >= 0:
            if n <= 127:
                out.append(n)
            elif n <= 0xFF:
                out += b"\xcc" + bytes((n,))
            elif n <= 0xFFFF:
                out += b"\xcd" + _struct.pack(">H", n)
            elif n <= 0xFFFFFFFF:
                out += b"\xce" + _struct.pack(">I", n)
            else:
                out += b"\xcf" + _struct.pack(">Q", n & 0xFFFFFFFFFFFFFFFF)
        else:
            if n >= -32:
                out.append(n & 0xFF)
            elif n >= -128:
                out += b"\xd0" + _struct.pack(">b", n)
            elif n >= -32768:
                out += b"\xd1" + _struct.pack(">h", n)
            elif n >= -2147483648:
                out += b"\xd2" + _struct.pack(">i", n)
            else:
                out += b"\xd3" + _struct.pack(">q", max(n, -(2**63)))

    def _enc(self, v: Any, out: bytearray, level: int) -> None:
        t = type(v)
        if t is bytes:
            n = len(v)
            if n < 32:
                out.append(0xA0 | n)
            elif n <= 0xFF:
                out += b"\xd9" + bytes((n,))
            elif n <= 0xFFFF:
                out += b"\xda" + _struct.pack(">H", n)
            else:
                out += b"\xdb" + _struct.pack(">I", n)
            out += v
        elif t is bool:
            out.append(0xC3 if v else 0xC2)
        elif t is int:
            if -(2**63) <= v < 2**63:
                self._int(v, out)
            else:
                out += b"\xcb" + _struct.pack(">d", float(v))
        elif t is float:
            if math.isfinite(v) and v == int(v) and -(2**63) <= v < 2**63:
                self._int(int(v), out)
            else:
                try:
                    f = _struct.unpack(">f", _struct.pack(">f", v))[0]
                except OverflowError:
                    f = None
                if f == v or (v != v):
                    out += b"\xca" + _struct.pack(">f", v)
                else:
                    out += b"\xcb" + _struct.pack(">d", v)
        elif v is None:
            out.append(0xC0)
        elif lua_type(v) == "table" and level < self.MAX_NESTING:
            items = list(v.items())
            mx = 0
            is_array = True
            for k, _ in items:
                if (type(k) is int or type(k) is float) and k > 0 and k == math.floor(k):
                    mx = max(mx, int(k))
                else:
                    is_array = False
                    break
            if is_array and mx == len(items):
                n = len(v)
                if n < 16:
                    out.append(0x90 | n)
                elif n <= 0xFFFF:
                    out += b"\xdc" + _struct.pack(">H", n)
                else:
                    out += b"\xdd" + _struct.pack(">I", n)
                for i in range(1, n + 1):
                    self._enc(v[i], out, level + 1)
            else:
                n = len(items)
                if n < 16:
                    out.append(0x80 | n)
                elif n <= 0xFFFF:
                    out += b"\xde" + _struct.pack(">H", n)
                else:
                    out += b"\xdf" + _struct.pack(">I", n)
                for k, x in items:
                    self._enc(k, out, level + 1)
                    self._enc(x, out, level + 1)
        else:
            out.append(0xC0)

    def unpack(self, s: bytes, limit: int, offset: int, with_offset: bool) -> Any:
        pos = int(offset)
        if pos < 0 or pos > len(s):
            raise LibError("Start offset %d greater than input length %d." % (pos, len(s)))
        values: list[Any] = []
        limit = int(limit)
        while pos < len(s) and (limit <= 0 or len(values) < limit):
            v, pos = self._dec(s, pos)
            values.append(v)
        if with_offset:
            nxt = pos if pos < len(s) else -1
            return (nxt, *values)
        return tuple(values)

    def _need(self, s: bytes, pos: int, n: int) -> None:
        if pos + n > len(s):
            raise LibError("Missing bytes in input.")

    def _dec(self, s: bytes, pos: int) -> tuple[Any, int]:
        self._need(s, pos, 1)
        c = s[pos]
        pos += 1
        if c <= 0x7F:
            return c, pos
        if c >= 0xE0:
            return c - 256, pos
        if 0xA0 <= c <= 0xBF:
            n = c & 0x1F
            self._need(s, pos, n)
            return s[pos:pos + n], pos + n
        if 0x90 <= c <= 0x9F:
            return self._arr(s, pos, c & 0xF)
        if 0x80 <= c <= 0x8F:
            return self._map(s, pos, c & 0xF)
        if c == 0xC0:
            return None, pos
        if c == 0xC2:
            return False, pos
        if c == 0xC3:
            return True, pos
        fixed = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q",
                 0xCA: ">f", 0xCB: ">d"}
        if c in fixed:
            fmt = fixed[c]
            n = _struct.calcsize(fmt)
            self._need(s, pos, n)
            v = _struct.unpack_from(fmt, s, pos)[0]
            if c == 0xCF or c == 0xD3:
                v = float(v) if abs(v) >= 2**53 else v
            return v, pos + n
        lens = {0xD9: ">B", 0xDA: ">H", 0xDB: ">I"}
        if c in lens:
            fmt = lens[c]
            n = _struct.calcsize(fmt)
            self._need(s, pos, n)
            ln = _struct.unpack_from(fmt, s, pos)[0]
            pos += n
            self._need(s, pos, ln)
            return s[pos:pos + ln], pos + ln
        if c in (0xDC, 0xDD, 0xDE, 0xDF):
            fmt = ">H" if c in (0xDC, 0xDE) else ">I"
            n = _struct.calcsize(fmt)
            self._need(s, pos, n)
            ln = _struct.unpack_from(fmt, s, pos)[0]
            pos += n
            if c in (0xDC, 0xDD):
                return self._arr(s, pos, ln)
            return self._map(s, pos, ln)
        raise LibError("Bad data format in input.")

    def _arr(self, s: bytes, pos: int, n: int) -> tuple[Any, int]:
        t = self.lua.table()
        for i in range(1, n + 1):
            v, pos = self._dec(s, pos)
            if v is not None:
                t[i] = v
        return t, pos

    def _map(self, s: bytes, pos: int, n: int) -> tuple[Any, int]:
        t = self.lua.table()
        for _ in range(n):
            k, pos = self._dec(s, pos)
            v, pos = self._dec(s, pos)
            if k is not None:
                t[k] = v
        return t, pos


# -- bit (LuaBitOp) --------------------------------------------------------------------

def _tobit(x: float) -> int:
    if isinstance(x, float):
        if not math.isfinite(x):
            return 0
        x = round(x)
    v = int(x) & 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def _bitop(op: str, raw: tuple[Any, ...]) -> Any:
    nargs = {"tobit": 1, "bnot": 1, "bswap": 1, "lshift": 2, "rshift": 2, "arshift": 2, "rol": 2, "ror": 2,
             "tohex": 1}.get(op, max(len(raw), 1))
    args = [check_number(op, raw, i) for i in range(1, nargs + 1)]
    if op == "tohex":
        args.append(check_number(op, raw, 2) if len(raw) > 1 and raw[1] is not None else 8)
    if op == "tobit":
        return _tobit(args[0])
    if op == "bnot":
        return _s32(~_tobit(args[0]))
    if op == "bswap":
        v = _tobit(args[0]) & 0xFFFFFFFF
        return _s32(int.from_bytes(v.to_bytes(4, "little"), "big"))
    if op in ("band", "bor", "bxor"):
        acc = _tobit(args[0])
        for a in args[1:]:
            b = _tobit(a)
            if op == "band":
                acc &= b
            elif op == "bor":
                acc |= b
            else:
                acc ^= b
        return _s32(acc)
    if op == "tohex":
        v = _tobit(args[0]) & 0xFFFFFFFF
        n = _tobit(args[1])
        upper = n < 0
        n = min(abs(n), 8)
        s = b"%08x" % v
        s = s[8 - n:] if n else b""
        return s.upper() if upper else s
    x = _tobit(args[0]) & 0xFFFFFFFF
    n = _tobit(args[1]) & 31
    if op == "lshift":
        return _s32(x << n)
    if op == "rshift":
        return _s32(x >> n)
    if op == "arshift":
        return _s32(_s32(x) >> n)
    if op == "rol":
        return _s32((x << n) | (x >> (32 - n)))
    if op == "ror":
        return _s32((x >> n) | (x << (32 - n)))
    return 0


# -- struct -------------------------------------------------------------------------------

_MAXINTSIZE = 32
_MAXALIGN = 8


_ST_FN = ["pack"]


def _st_options(fmt: bytes) -> list[tuple[str, int, str]]:
    """Parse a struct format into (option, size, endianness) with alignment pads."""
    out: list[tuple[str, int, str]] = []
    endian = "<"
    align = 1
    i = 0
    total = 0
    while i < len(fmt):
        ch = chr(fmt[i])
        i += 1
        num = None
        j = i
        while j < len(fmt) and 48 <= fmt[j] <= 57:
            j += 1
        if j > i:
            num = int(fmt[i:j])
        if ch in " ":
            continue
        if ch in "<>=":
            endian = {"<": "<", ">": ">", "=": "<"}[ch]
            continue
        if ch == "!":
            i = j
            a = num if num is not None else _MAXALIGN
            if a & (a - 1):
                raise LibError("bad argument #1 to '%s' (format asks for alignment not power of 2)" % _ST_FN[0])
            align = a
            continue
        sizes = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1, "s": 0}
        if ch in sizes:
            size = sizes[ch]
        elif ch in "iI":
            i = j
            size = num if num is not None else 4
            if size > _MAXINTSIZE:
                raise LibError("integral size %d is larger than limit of %d" % (size, _MAXINTSIZE))
        elif ch == "c":
            i = j
            size = num if num is not None else 1
        else:
            raise LibError("bad argument #1 to '%s' (invalid format option '%s')" % (_ST_FN[0], ch))
        if ch not in "csx" and size:
            a = min(size, align)
            if a & (a - 1):
                raise LibError("alignment not power of 2")
            pad = (a - (total & (a - 1))) & (a - 1)
            if pad:
                out.append(("x", pad, endian))
                total += pad
        out.append((ch, size, endian))
        total += size
    return out


def _st_int(v: Any, size: int, endian: str, signed: bool) -> bytes:
    n = int(math.floor(v)) if isinstance(v, float) and math.isfinite(v) else int(v)
    n &= (1 << (8 * size)) - 1
    return n.to_bytes(size, "big" if endian == ">" else "little")


def _st_pack(args: tuple[Any, ...]) -> bytes:
    _ST_FN[0] = "pack"
    fmt = args[0]
    vals = list(args[1:])
    out = bytearray()
    k = 0

    def arg(kind: str) -> Any:
        nonlocal k
        if k >= len(vals):
            raise LibError("bad argument #%d to 'pack' (%s expected, got no value)" % (k + 2, kind))
        v = vals[k]
        k += 1
        return v

    for ch, size, endian in _st_options(fmt):
        if ch == "x":
            out += b"\0" * size
        elif ch in "bBhHlLTiI":
            v = arg("number")
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise LibError("bad argument #%d to 'pack' (number expected, got %s)" % (k + 1, _tname(v)))
            out += _st_int(v, size, endian, ch.islower())
        elif ch in "fd":
            v = arg("number")
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise LibError("bad argument #%d to 'pack' (number expected, got %s)" % (k + 1, _tname(v)))
            out += _struct.pack(endian + ch, float(v))
        elif ch == "c":
            v = arg("string")
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                v = (b"%.14g" % v)
            if not isinstance(v, bytes):
                raise LibError("bad argument #%d to 'pack' (string expected, got %s)" % (k + 1, _tname(v)))
            n = size if size else len(v)
            if len(v) < n:
                raise LibError("bad argument #%d to 'pack' (string too short)" % (k + 1))
            out += v[:n]
        elif ch == "s":
            v = arg("string")
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                v = (b"%.14g" % v)
            if not isinstance(v, bytes):
                raise LibError("bad argument #%d to 'pack' (string expected, got %s)" % (k + 1, _tname(v)))
            out += v + b"\0"
    return bytes(out)


def _tname(v: Any) -> str:
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, bytes):
        return "string"
    return lua_type(v) or "userdata"


def _st_unpack(fmt: bytes, data: bytes, pos: Any) -> tuple[Any, ...]:
    _ST_FN[0] = "unpack"
    p = int(pos) - 1
    if p < 0:
        raise LibError("bad argument #3 to 'unpack' (offset must be 1 or greater)")
    res: list[Any] = []
    last_num: Any = None
    for ch, size, endian in _st_options(fmt):
        if ch != "s" and p + size > len(data):
            raise LibError("bad argument #2 to 'unpack' (data string too short)")
        if ch == "x":
            p += size
        elif ch in "bBhHlLTiI":
            n = int.from_bytes(data[p:p + size], "big" if endian == ">" else "little", signed=ch.islower())
            val: Any = n if abs(n) < 2**53 else float(n)
            res.append(val)
            last_num = val
            p += size
        elif ch in "fd":
            v = _struct.unpack_from(endian + ch, data, p)[0]
            res.append(v)
            last_num = v
            p += size
        elif ch == "c":
            n = size
            if n == 0:
                if not res or not isinstance(last_num, (int, float)):
                    raise LibError("format 'c0' needs a previous size")
                n = int(res.pop())
                if p + n > len(data):
                    raise LibError("bad argument #2 to 'unpack' (data string too short)")
            res.append(data[p:p + n])
            p += n
        elif ch == "s":
            e = data.find(b"\0", p)
            if e < 0:
                raise LibError("unfinished string in data")
            res.append(data[p:e])
            p = e + 1
    res.append(p + 1)
    return tuple(res)


def _st_size(fmt: bytes) -> int:
    _ST_FN[0] = "size"
    total = 0
    for ch, size, _ in _st_options(fmt):
        if ch == "s" or (ch == "c" and size == 0):
            raise LibError("options 'c0' - 's' have undefined sizes")
        total += size
    return total
