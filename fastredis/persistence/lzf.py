"""LZF (liblzf) compression as used by RDB strings.

``decompress`` follows lzf_d.c exactly, including its bounds checks; ``compress``
produces valid LZF (any compressor's output decodes the same; ours is a greedy
3-byte-hash matcher like lzf_c.c).  ``_rdbfast`` (Cython) replaces both when built.
"""

from __future__ import annotations


class LZFError(ValueError):
    """Compressed data is malformed or does not expand to the announced size."""


def _decompress_py(data: bytes | bytearray | memoryview, out_len: int) -> bytes:
    """Expand ``data``; the result must be exactly ``out_len`` bytes."""
    src = bytes(data)
    n = len(src)
    out = bytearray()
    ip = 0
    while ip < n:
        ctrl = src[ip]
        ip += 1
        if ctrl < 32:
            ctrl += 1
            if len(out) + ctrl > out_len:
                raise LZFError("output overflow")
            if ip + ctrl > n:
                raise LZFError("input overflow")
            out += src[ip:ip + ctrl]
            ip += ctrl
        else:
            ln = ctrl >> 5
            ref = len(out) - ((ctrl & 0x1F) << 8) - 1
            if ip >= n:
                raise LZFError("input overflow")
            if ln == 7:
                ln += src[ip]
                ip += 1
                if ip >= n:
                    raise LZFError("input overflow")
            ref -= src[ip]
            ip += 1
            ln += 2
            if len(out) + ln > out_len:
                raise LZFError("output overflow")
            if ref < 0:
                raise LZFError("back reference out of range")
            dist = len(out) - ref
            if dist >= ln:
                out += out[ref:ref + ln]
            else:  # overlapping copy repeats the last ``dist`` bytes
                chunk = out[ref:]
                reps, rest = divmod(ln, dist)
                out += chunk * reps + chunk[:rest]
    if len(out) != out_len:
        raise LZFError("length mismatch")
    return bytes(out)


_MAX_OFF = 1 << 13
_MAX_REF = (1 << 8) + (1 << 3)  # 264


def _compress_py(data: bytes | bytearray | memoryview, max_out: int) -> bytes | None:
    """Compress ``data``; None when the result would exceed ``max_out`` bytes."""
    src = bytes(data)
    n = len(src)
    out = bytearray()
    htab: dict[bytes, int] = {}
    lit = 0
    i = 0
    limit = n - 2
    while i < limit:
        key = src[i:i + 3]
        ref = htab.get(key)
        htab[key] = i
        if ref is not None and i - ref <= _MAX_OFF:
            maxlen = min(_MAX_REF, n - i)
            ln = 3
            # extend the match 8 bytes at a time, then byte by byte
            while ln + 8 <= maxlen and src[ref + ln:ref + ln + 8] == src[i + ln:i + ln + 8]:
                ln += 8
            while ln < maxlen and src[ref + ln] == src[i + ln]:
                ln += 1
            while lit < i:
                k = min(32, i - lit)
                out.append(k - 1)
                out += src[lit:lit + k]
                lit += k
            off = i - ref - 1
            ml = ln - 2
            if ml < 7:
                out.append((ml << 5) | (off >> 8))
            else:
                out.append((7 << 5) | (off >> 8))
                out.append(ml - 7)
            out.append(off & 0xFF)
            if len(out) > max_out:
                return None
            i += ln
            lit = i
        else:
            i += 1
    while lit < n:
        k = min(32, n - lit)
        out.append(k - 1)
        out += src[lit:lit + k]
        lit += k
    if len(out) > max_out:
        return None
    return bytes(out)


try:
    from ._rdbfast import lzf_compress as _compress_fast
    from ._rdbfast import lzf_decompress as _decompress_fast
except ImportError:  # extension not built
    _compress_fast = _decompress_fast = None


def decompress(data: bytes | bytearray | memoryview, out_len: int) -> bytes:
    if _decompress_fast is not None:
        try:
            return _decompress_fast(data, out_len)  # type: ignore[no-any-return]
        except ValueError as e:
            raise LZFError(str(e)) from None
    return _decompress_py(data, out_len)


def compress(data: bytes | bytearray | memoryview, max_out: int) -> bytes | None:
    if _compress_fast is not None:
        return _compress_fast(data, max_out)  # type: ignore[no-any-return]
    return _compress_py(data, max_out)
