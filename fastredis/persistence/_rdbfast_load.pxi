# Included by _rdbfast.pyx: the loader's fast path for the records that make up most dumps.
#
# ``load_records`` parses consecutive records (an optional EXPIRETIME_MS, then a string, hash, set,
# sorted set or quicklist value in one of the encodings Redis 7 writes) straight into the database
# dicts.  At anything else, and at anything wrong (a duplicate key, an empty or malformed value,
# a short read) it stops *before* that record and hands back its offset: the pure-Python loader in
# rdb.py then reads the record and reports what is wrong with Redis' own words.  So the Python
# loader stays complete and authoritative, and this only makes the common case fast
# (tests/test_rdbfast.py loads the same files both ways and compares).

from cpython.bytes cimport PyBytes_AS_STRING as _bytes_ptr
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF

cdef extern from "Python.h":
    int PyDict_SetItem(object p, object key, object val) except -1
    int PyDict_Contains(object p, object key) except -1
    int PySet_Add(object s, object key) except -1
    Py_ssize_t PySet_GET_SIZE(object s)
    Py_ssize_t PyDict_Size(object p) except -1


cdef class _Src:
    cdef const unsigned char *p
    cdef Py_ssize_t pos
    cdef Py_ssize_t end
    cdef bint bad       # short read or malformed: stop and let Python report it


cdef inline int _rd_byte(_Src s) noexcept:
    if s.pos >= s.end:
        s.bad = True
        return -1
    s.pos += 1
    return s.p[s.pos - 1]


cdef long long _rd_len(_Src s, bint *encoded) noexcept:
    """rdbLoadLenByRef; -1 (and s.bad) on a short read or an unknown encoding."""
    cdef int b = _rd_byte(s)
    cdef long long v = 0
    cdef int k
    encoded[0] = False
    if b < 0:
        return -1
    if (b >> 6) == 0:
        return b & 0x3F
    if (b >> 6) == 1:
        k = _rd_byte(s)
        if k < 0:
            return -1
        return ((b & 0x3F) << 8) | k
    if (b >> 6) == 3:
        encoded[0] = True
        return b & 0x3F
    if b == 0x80:
        if s.pos + 4 > s.end:
            s.bad = True
            return -1
        for k in range(4):
            v = (v << 8) | s.p[s.pos + k]
        s.pos += 4
        return v
    if b == 0x81:
        if s.pos + 8 > s.end:
            s.bad = True
            return -1
        for k in range(8):
            v = (v << 8) | s.p[s.pos + k]
        s.pos += 8
        if v < 0:
            s.bad = True
            return -1
        return v
    s.bad = True
    return -1


cdef long long _rd_plain_len(_Src s) noexcept:
    cdef bint enc
    cdef long long v = _rd_len(s, &enc)
    if enc:
        s.bad = True
        return -1
    return v


cdef object _rd_string(_Src s):
    """rdbGenericLoadStringObject: plain, int-encoded or LZF; None (and s.bad) when malformed."""
    cdef bint enc
    cdef long long v = _rd_len(s, &enc)
    cdef long long clen, ulen
    cdef char num[24]
    cdef int n
    cdef long long iv
    if s.bad:
        return None
    if not enc:
        if s.pos + v > s.end:
            s.bad = True
            return None
        s.pos += v
        return PyBytes_FromStringAndSize(<char *> s.p + s.pos - v, v)
    if v == 0:
        if s.pos + 1 > s.end:
            s.bad = True
            return None
        iv = <signed char> s.p[s.pos]
        s.pos += 1
    elif v == 1:
        if s.pos + 2 > s.end:
            s.bad = True
            return None
        iv = <short> (s.p[s.pos] | (s.p[s.pos + 1] << 8))
        s.pos += 2
    elif v == 2:
        if s.pos + 4 > s.end:
            s.bad = True
            return None
        iv = <int> (<unsigned int> s.p[s.pos] | (<unsigned int> s.p[s.pos + 1] << 8)
                    | (<unsigned int> s.p[s.pos + 2] << 16) | (<unsigned int> s.p[s.pos + 3] << 24))
        s.pos += 4
    elif v == 3:
        clen = _rd_plain_len(s)
        ulen = _rd_plain_len(s)
        if s.bad or s.pos + clen > s.end:
            s.bad = True
            return None
        out = PyBytes_FromStringAndSize(NULL, ulen)
        if _lzf_d(s.p + s.pos, clen, <uint8_t *> _bytes_ptr(out), ulen) != 0:
            s.bad = True
            return None
        s.pos += clen
        return out
    else:
        s.bad = True
        return None
    n = snprintf(num, 24, "%lld", iv)
    return PyBytes_FromStringAndSize(num, n)


cdef extern from "stdio.h":
    int snprintf(char *buf, size_t n, const char *fmt, ...)


cdef object _lp_decode(const unsigned char *blob, Py_ssize_t n):
    """encodings.listpack_entries (integers as decimal strings); None when malformed."""
    cdef Py_ssize_t p = 6, end, enc, ln, bl
    cdef unsigned int b, count, total
    cdef long long v
    cdef char num[24]
    cdef list out
    if n < 7:
        return None
    total = blob[0] | (blob[1] << 8) | (blob[2] << 16) | (<unsigned int> blob[3] << 24)
    if total != n or blob[n - 1] != 0xFF:
        return None
    count = blob[4] | (blob[5] << 8)
    end = n - 1
    out = []
    while p < end:
        b = blob[p]
        if b < 0x80:
            out.append(PyBytes_FromStringAndSize(num, snprintf(num, 24, "%u", b)))
            enc = 1
        elif b < 0xC0:
            ln = b & 0x3F
            enc = 1 + ln
            if p + enc > end:
                return None
            out.append(PyBytes_FromStringAndSize(<char *> blob + p + 1, ln))
        elif b < 0xE0:
            if p + 2 > end:
                return None
            v = ((b & 0x1F) << 8) | blob[p + 1]
            if v >= 1 << 12:
                v -= 1 << 13
            out.append(PyBytes_FromStringAndSize(num, snprintf(num, 24, "%lld", v)))
            enc = 2
        elif b < 0xF0:
            if p + 2 > end:
                return None
            ln = ((b & 0x0F) << 8) | blob[p + 1]
            enc = 2 + ln
            if p + enc > end:
                return None
            out.append(PyBytes_FromStringAndSize(<char *> blob + p + 2, ln))
        elif b == 0xF0:
            if p + 5 > end:
                return None
            ln = blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16) | (<Py_ssize_t> blob[p + 4] << 24)
            enc = 5 + ln
            if p + enc > end:
                return None
            out.append(PyBytes_FromStringAndSize(<char *> blob + p + 5, ln))
        elif b == 0xF1:
            if p + 3 > end:
                return None
            v = <short> (blob[p + 1] | (blob[p + 2] << 8))
            out.append(PyBytes_FromStringAndSize(num, snprintf(num, 24, "%lld", v)))
            enc = 3
        elif b == 0xF2:
            if p + 4 > end:
                return None
            v = blob[p + 1] | (blob[p + 2] << 8) | (blob[p + 3] << 16)
            if v >= 1 << 23:
                v -= 1 << 24
            out.append(PyBytes_FromStringAndSize(num, snprintf(num, 24, "%lld", v)))
            enc = 4
        elif b == 0xF3:
            if p + 5 > end:
                return None
            v = <int> (<unsigned int> blob[p + 1] | (<unsigned int> blob[p + 2] << 8)
                       | (<unsigned int> blob[p + 3] << 16) | (<unsigned int> blob[p + 4] << 24))
            out.append(PyBytes_FromStringAndSize(num, snprintf(num, 24, "%lld", v)))
            enc = 5
        elif b == 0xF4:
            if p + 9 > end:
                return None
            memcpy(&v, blob + p + 1, 8)
            out.append(PyBytes_FromStringAndSize(num, snprintf(num, 24, "%lld", v)))
            enc = 9
        else:
            return None
        if enc <= 127:
            bl = 1
        elif enc < 16383:
            bl = 2
        elif enc < 2097151:
            bl = 3
        elif enc < 268435455:
            bl = 4
        else:
            bl = 5
        if p + enc + bl > end:
            return None
        if (blob[p + enc + bl - 1] & 0x7F) != (enc & 0x7F):
            return None
        p += enc + bl
    if p != end:
        return None
    if count != 0xFFFF and count != len(out):
        return None
    return out


def lp_entries(blob):
    """A listpack's elements (integers as decimal strings), or None when it is malformed."""
    return _lp_decode(<const unsigned char *> PyBytes_AS_STRING(blob), len(blob))


cdef object _intset_decode(const unsigned char *blob, Py_ssize_t n):
    """intset members as decimal strings (a set); None when malformed or not strictly ascending."""
    cdef unsigned int enc, count, i
    cdef long long v, prev = 0
    cdef short v16
    cdef int v32
    cdef char num[24]
    cdef set out
    if n < 8:
        return None
    enc = blob[0] | (blob[1] << 8) | (blob[2] << 16) | (<unsigned int> blob[3] << 24)
    count = blob[4] | (blob[5] << 8) | (blob[6] << 16) | (<unsigned int> blob[7] << 24)
    if enc != 2 and enc != 4 and enc != 8:
        return None
    if <unsigned long long> n != 8 + <unsigned long long> count * enc:
        return None
    out = set()
    for i in range(count):
        if enc == 2:
            memcpy(&v16, blob + 8 + 2 * i, 2)
            v = v16
        elif enc == 4:
            memcpy(&v32, blob + 8 + 4 * i, 4)
            v = v32
        else:
            memcpy(&v, blob + 8 + 8 * i, 8)
        if i and v <= prev:
            return None
        prev = v
        out.add(PyBytes_FromStringAndSize(num, snprintf(num, 24, "%lld", v)))
    return out


cdef object _value(_Src s, int rtype, object make_zset):
    """One value of the types this path knows; None for an empty or malformed one (s.bad set)."""
    cdef long long n, i, container
    cdef object blob, items, k, v
    cdef dict h
    cdef set st
    cdef list lst, pairs
    cdef double sc
    if rtype == 0:
        return _rd_string(s)
    if rtype == 16 or rtype == 20 or rtype == 17 or rtype == 11:
        blob = _rd_string(s)
        if blob is None:
            return None
        if rtype == 11:
            st = _intset_decode(<const unsigned char *> _bytes_ptr(blob), len(blob))
            if st is None or not st:
                s.bad = True
                return None
            return st
        items = _lp_decode(<const unsigned char *> _bytes_ptr(blob), len(blob))
        if items is None or not items:
            s.bad = True
            return None
        if rtype == 20:
            st = set(items)
            if len(st) != len(<list> items):
                s.bad = True
                return None
            return st
        if len(<list> items) % 2:
            s.bad = True
            return None
        if rtype == 16:
            h = dict(zip((<list> items)[0::2], (<list> items)[1::2]))
            if len(h) * 2 != len(<list> items):
                s.bad = True
                return None
            return h
        v = make_zset(items, True)
        if v is None:
            s.bad = True
        return v
    if rtype == 18:
        n = _rd_plain_len(s)
        if s.bad or n <= 0:
            s.bad = True
            return None
        lst = []
        for i in range(n):
            container = _rd_plain_len(s)
            if s.bad or (container != 1 and container != 2):
                s.bad = True
                return None
            blob = _rd_string(s)
            if blob is None:
                return None
            if container == 1:
                lst.append(blob)
            else:
                items = _lp_decode(<const unsigned char *> _bytes_ptr(blob), len(blob))
                if items is None:
                    s.bad = True
                    return None
                lst.extend(<list> items)
        if not lst:
            s.bad = True
            return None
        return lst
    if rtype == 4:
        n = _rd_plain_len(s)
        if s.bad or n <= 0:
            s.bad = True
            return None
        h = {}
        for i in range(n):
            k = _rd_string(s)
            v = _rd_string(s)
            if s.bad:
                return None
            h[k] = v
        if len(h) != n:
            s.bad = True
            return None
        return h
    if rtype == 2:
        n = _rd_plain_len(s)
        if s.bad or n <= 0:
            s.bad = True
            return None
        st = set()
        for i in range(n):
            k = _rd_string(s)
            if s.bad:
                return None
            st.add(k)
        if len(st) != n:
            s.bad = True
            return None
        return st
    if rtype == 5:
        n = _rd_plain_len(s)
        if s.bad or n <= 0:
            s.bad = True
            return None
        pairs = []
        for i in range(n):
            k = _rd_string(s)
            if s.bad or s.pos + 8 > s.end:
                s.bad = True
                return None
            memcpy(&sc, s.p + s.pos, 8)
            s.pos += 8
            pairs.append(k)
            pairs.append(sc)
        v = make_zset(pairs, False)
        if v is None:
            s.bad = True
        return v
    s.bad = True
    return None


def load_records(bytes data, Py_ssize_t pos, Py_ssize_t end, dict data_db, dict exp_db, long long now_ms,
                 bint drop_expired, object make_zset, Py_ssize_t limit):
    """Parse up to ``limit`` records from ``pos`` into ``data_db``/``exp_db``.

    Returns ``(pos, loaded, expired)``: ``pos`` is the start of the first record not taken (one of
    another kind, or one that is wrong in any way), for the Python loader to read.
    """
    cdef _Src s = _Src()
    cdef Py_ssize_t start
    cdef long long expire, loaded = 0, expired = 0, k
    cdef int rtype
    cdef object key, val
    s.p = <const unsigned char *> PyBytes_AS_STRING(data)
    s.pos = pos
    s.end = end
    while limit > 0 and s.pos < s.end:
        start = s.pos
        expire = -1
        rtype = s.p[s.pos]
        if rtype == 252:
            if s.pos + 10 > s.end:
                break
            memcpy(&expire, s.p + s.pos + 1, 8)
            s.pos += 9
            rtype = s.p[s.pos]
        if not (rtype == 0 or rtype == 2 or rtype == 4 or rtype == 5 or rtype == 11 or rtype == 16
                or rtype == 17 or rtype == 18 or rtype == 20):
            s.pos = start
            break
        s.pos += 1
        key = _rd_string(s)
        if s.bad:
            s.pos = start
            break
        val = _value(s, rtype, make_zset)
        if s.bad or val is None:
            s.pos = start
            break
        if drop_expired and expire != -1 and expire < now_ms:
            expired += 1
        else:
            if key in data_db:
                s.pos = start
                break
            if rtype == 18:
                val = _deque(val)
            data_db[key] = val
            if expire != -1:
                exp_db[key] = expire
            loaded += 1
        limit -= 1
    return s.pos, loaded, expired


from collections import deque as _deque
