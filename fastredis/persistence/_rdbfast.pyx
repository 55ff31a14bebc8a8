# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""C speed for the byte loops of RDB files: CRC-64/Jones and LZF.

The pure-Python versions in ``crc64.py`` / ``lzf.py`` are the reference (and the
fallback when this module is not built); these do the same 50-500x faster, which
matters for multi-megabyte dumps (CRC over every byte, LZF over every long string).
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free, PyMem_Malloc

cdef uint64_t _table[256]


cdef void _init_table():
    cdef uint64_t crc
    cdef int b, k
    for b in range(256):
        crc = b
        for k in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5ULL
            else:
                crc >>= 1
        _table[b] = crc


_init_table()


def crc64(uint64_t crc, data):
    """Continue Redis' CRC-64 over ``data`` (any buffer)."""
    cdef const uint8_t[::1] view = memoryview(data).cast("B")
    cdef Py_ssize_t i, n = view.shape[0]
    with nogil:
        for i in range(n):
            crc = _table[(crc ^ view[i]) & 0xFF] ^ (crc >> 8)
    return crc


cdef int _lzf_d(const uint8_t *src, Py_ssize_t n, uint8_t *op, Py_ssize_t out_len) noexcept nogil:
    """lzf_d.c into ``op`` (exactly out_len bytes): 0, or 1 output overflow, 2 input overflow,
    3 back reference out of range, 4 length mismatch."""
    cdef Py_ssize_t ip = 0, o = 0, ln, ref, k
    cdef unsigned int ctrl
    while ip < n:
        ctrl = src[ip]
        ip += 1
        if ctrl < 32:
            ln = ctrl + 1
            if o + ln > out_len:
                return 1
            if ip + ln > n:
                return 2
            for k in range(ln):
                op[o + k] = src[ip + k]
            o += ln
            ip += ln
        else:
            ln = ctrl >> 5
            ref = o - ((ctrl & 0x1F) << 8) - 1
            if ip >= n:
                return 2
            if ln == 7:
                ln += src[ip]
                ip += 1
                if ip >= n:
                    return 2
            ref -= src[ip]
            ip += 1
            ln += 2
            if o + ln > out_len:
                return 1
            if ref < 0:
                return 3
            for k in range(ln):
                op[o + k] = op[ref + k]
            o += ln
    if o != out_len:
        return 4
    return 0


def lzf_decompress(data, Py_ssize_t out_len):
    """Expand LZF ``data`` to exactly ``out_len`` bytes (lzf_d.c); ValueError when malformed."""
    cdef const uint8_t[::1] src = memoryview(data).cast("B")
    cdef Py_ssize_t n = src.shape[0]
    if out_len < 0:
        raise ValueError("bad length")
    out = PyBytes_FromStringAndSize(NULL, out_len)
    cdef uint8_t *op = <uint8_t *> PyBytes_AS_STRING(out)
    cdef int err
    with nogil:
        err = _lzf_d(&src[0] if n else NULL, n, op, out_len)
    if err == 1:
        raise ValueError("output overflow")
    if err == 2:
        raise ValueError("input overflow")
    if err == 3:
        raise ValueError("back reference out of range")
    if err == 4:
        raise ValueError("length mismatch")
    return out


cdef enum:
    HLOG = 16
    HSIZE = 1 << 16
    MAX_LIT = 32
    MAX_OFF = 1 << 13
    MAX_REF = (1 << 8) + (1 << 3)


cdef Py_ssize_t _lzf_c(const uint8_t *src, Py_ssize_t n, uint8_t *out, Py_ssize_t max_out,
                       Py_ssize_t *htab) noexcept nogil:
    """lzf_c.c's greedy matcher into ``out`` (max_out bytes); the length, or -1 when it does not fit.

    ``htab`` must hold -1 everywhere on entry and does again on return (only the slots this input
    hashed to are reset), so one table serves many small strings without a 64K-entry memset each.
    """
    cdef Py_ssize_t i = 0, lit = 0, o = 0, ref, ln, maxlen, off, k, kk
    cdef uint32_t h
    cdef int overflow = 0
    if True:
        while i + 2 < n:
            h = ((<uint32_t> src[i] << 16) | (<uint32_t> src[i + 1] << 8) | src[i + 2])
            h = ((h * 2654435761U) >> (32 - HLOG)) & (HSIZE - 1)
            ref = htab[h]
            htab[h] = i
            if ref >= 0 and i - ref <= MAX_OFF and src[ref] == src[i] and src[ref + 1] == src[i + 1] \
                    and src[ref + 2] == src[i + 2]:
                maxlen = n - i
                if maxlen > MAX_REF:
                    maxlen = MAX_REF
                ln = 3
                while ln < maxlen and src[ref + ln] == src[i + ln]:
                    ln += 1
                # flush pending literals
                while lit < i:
                    kk = i - lit
                    if kk > MAX_LIT:
                        kk = MAX_LIT
                    if o + 1 + kk > max_out:
                        overflow = 1
                        break
                    out[o] = <uint8_t> (kk - 1)
                    o += 1
                    for k in range(kk):
                        out[o + k] = src[lit + k]
                    o += kk
                    lit += kk
                if overflow:
                    break
                off = i - ref - 1
                ln -= 2
                if o + 3 > max_out:
                    overflow = 1
                    break
                if ln < 7:
                    out[o] = <uint8_t> ((ln << 5) | (off >> 8))
                    o += 1
                else:
                    out[o] = <uint8_t> ((7 << 5) | (off >> 8))
                    out[o + 1] = <uint8_t> (ln - 7)
                    o += 2
                out[o] = <uint8_t> (off & 0xFF)
                o += 1
                i += ln + 2
                lit = i
            else:
                i += 1
        if not overflow:
            while lit < n:
                kk = n - lit
                if kk > MAX_LIT:
                    kk = MAX_LIT
                if o + 1 + kk > max_out:
                    overflow = 1
                    break
                out[o] = <uint8_t> (kk - 1)
                o += 1
                for k in range(kk):
                    out[o + k] = src[lit + k]
                o += kk
                lit += kk
    k = 0
    while k + 2 < n:
        h = ((<uint32_t> src[k] << 16) | (<uint32_t> src[k + 1] << 8) | src[k + 2])
        htab[((h * 2654435761U) >> (32 - HLOG)) & (HSIZE - 1)] = -1
        k += 1
    if overflow:
        return -1
    return o


def lzf_compress(data, Py_ssize_t max_out):
    """LZF-compress ``data``; None when the result would exceed ``max_out`` bytes."""
    cdef const uint8_t[::1] src = memoryview(data).cast("B")
    cdef Py_ssize_t n = src.shape[0]
    if max_out <= 0 or n == 0:
        return None if n else b""
    cdef uint8_t *out = <uint8_t *> PyMem_Malloc(max_out + 64)
    cdef Py_ssize_t *htab = <Py_ssize_t *> PyMem_Malloc(HSIZE * sizeof(Py_ssize_t))
    if out == NULL or htab == NULL:
        PyMem_Free(out)
        PyMem_Free(htab)
        raise MemoryError()
    cdef Py_ssize_t o, k
    for k in range(HSIZE):
        htab[k] = -1
    with nogil:
        o = _lzf_c(&src[0], n, out, max_out, htab)
    PyMem_Free(htab)
    if o < 0:
        PyMem_Free(out)
        return None
    result = PyBytes_FromStringAndSize(<char *> out, o)
    PyMem_Free(out)
    return result


include "_rdbfast_dump.pxi"
include "_rdbfast_load.pxi"
