# Included by _rdbfast.pyx: the keyspace walk that writes a database's records (rdbSaveDb).
#
# Why it is shaped so: a BGSAVE child shares the parent's pages copy-on-write, and CPython writes an
# object's reference count whenever Python code touches it, so a walk in Python copies nearly every
# page of the dataset.  This walk reads every key and value through *borrowed* pointers (PyDict_Next,
# _PySet_NextEntry, the deque's blocks, list/tuple items) and never converts them to Python objects,
# so the pages that hold the dataset stay shared.  Its output is byte for byte what
# ``rdb.RdbWriter.database`` + ``rdb.encode_value`` produce (tests/test_rdbfast.py checks that);
# values it does not know (streams) go through that Python encoder.

from libc.string cimport memcpy
from libc.stdlib cimport qsort, malloc, realloc, free
from libc.stdint cimport int64_t
from libc.math cimport copysign
from cpython.object cimport PyObject

cdef extern from *:
    """
    /* collections.deque's layout (Modules/_collectionsmodule.c, unchanged since 3.5) */
    #define FR_BLOCKLEN 64
    typedef struct FR_BLOCK {
        struct FR_BLOCK *leftlink;
        PyObject *data[FR_BLOCKLEN];
        struct FR_BLOCK *rightlink;
    } fr_block;
    typedef struct {
        PyObject_VAR_HEAD
        fr_block *leftblock;
        fr_block *rightblock;
        Py_ssize_t leftindex;
        Py_ssize_t rightindex;
    } fr_deque;
    static PyObject *fr_deque_item(PyObject *d, Py_ssize_t i) {
        fr_deque *q = (fr_deque *)d;
        Py_ssize_t j = q->leftindex + i;
        fr_block *b = q->leftblock;
        while (j >= FR_BLOCKLEN) { b = b->rightlink; j -= FR_BLOCKLEN; }
        return b->data[j];
    }
    #define fr_type(o) ((PyObject *)Py_TYPE(o))
    #define fr_size(o) Py_SIZE(o)
    #define fr_bytes_data(o) PyBytes_AS_STRING(o)
    #define fr_bytes_size(o) PyBytes_GET_SIZE(o)
    #define fr_ba_data(o) PyByteArray_AS_STRING(o)
    #define fr_ba_size(o) PyByteArray_GET_SIZE(o)
    #define fr_list_item(o, i) PyList_GET_ITEM(o, i)
    #define fr_list_size(o) PyList_GET_SIZE(o)
    #define fr_tuple_item(o, i) PyTuple_GET_ITEM(o, i)
    #define fr_dict_size(o) PyDict_GET_SIZE(o)
    #define fr_set_size(o) PySet_GET_SIZE(o)
    #define fr_float_value(o) PyFloat_AS_DOUBLE(o)
    #define fr_is_float(o) PyFloat_CheckExact(o)
    #define fr_is_bytes(o) PyBytes_CheckExact(o)
    """
    PyObject *fr_deque_item(PyObject *d, Py_ssize_t i)
    PyObject *fr_type(PyObject *o)
    Py_ssize_t fr_size(PyObject *o)
    char *fr_bytes_data(PyObject *o)
    Py_ssize_t fr_bytes_size(PyObject *o)
    char *fr_ba_data(PyObject *o)
    Py_ssize_t fr_ba_size(PyObject *o)
    PyObject *fr_list_item(PyObject *o, Py_ssize_t i)
    Py_ssize_t fr_list_size(PyObject *o)
    PyObject *fr_tuple_item(PyObject *o, Py_ssize_t i)
    Py_ssize_t fr_dict_size(PyObject *o)
    Py_ssize_t fr_set_size(PyObject *o)
    double fr_float_value(PyObject *o)
    bint fr_is_float(PyObject *o)
    bint fr_is_bytes(PyObject *o)

cdef extern from "Python.h":
    ctypedef Py_ssize_t Py_hash_t
    int PyDict_Next(PyObject *p, Py_ssize_t *ppos, PyObject **pkey, PyObject **pvalue)
    PyObject *PyDict_GetItem(PyObject *p, PyObject *key)
    int _PySet_NextEntry(PyObject *set, Py_ssize_t *pos, PyObject **key, Py_hash_t *hash)
    long long PyLong_AsLongLong(PyObject *o) except? -1
    double PyFloat_AsDouble(PyObject *o) except? -1.0
    PyObject *PyObject_GetAttr(PyObject *o, PyObject *name) except NULL
    void Py_DECREF(PyObject *o)
    object PyBytes_FromStringAndSize(char *v, Py_ssize_t len)


cdef enum:
    RT_STRING = 0
    RT_SET = 2
    RT_HASH = 4
    RT_ZSET_2 = 5
    RT_SET_INTSET = 11
    RT_HASH_LISTPACK = 16
    RT_ZSET_LISTPACK = 17
    RT_LIST_QUICKLIST_2 = 18
    RT_SET_LISTPACK = 20
    OPC_EXPIRETIME_MS = 252
    FLUSH_AT = 1 << 20


cdef struct Buf:
    unsigned char *p
    Py_ssize_t n
    Py_ssize_t cap


cdef int _grow(Buf *b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t need = b.n + extra
    cdef Py_ssize_t cap
    cdef unsigned char *q
    if need <= b.cap:
        return 0
    cap = b.cap * 2 if b.cap else 4096
    while cap < need:
        cap *= 2
    q = <unsigned char *> realloc(b.p, cap)
    if q == NULL:
        raise MemoryError()
    b.p = q
    b.cap = cap
    return 0


cdef inline int _put(Buf *b, const void *src, Py_ssize_t n) except -1:
    if b.n + n > b.cap:
        _grow(b, n)
    memcpy(b.p + b.n, src, n)
    b.n += n
    return 0


cdef inline int _byte(Buf *b, unsigned char c) except -1:
    if b.n + 1 > b.cap:
        _grow(b, 1)
    b.p[b.n] = c
    b.n += 1
    return 0


cdef int _len(Buf *b, unsigned long long n) except -1:
    """rdbSaveLen."""
    cdef unsigned char t[9]
    cdef int k
    if n < 64:
        return _byte(b, <unsigned char> n)
    if n < 16384:
        t[0] = <unsigned char> ((n >> 8) | 0x40)
        t[1] = <unsigned char> (n & 0xFF)
        return _put(b, t, 2)
    if n <= 0xFFFFFFFFULL:
        t[0] = 0x80
        for k in range(4):
            t[1 + k] = <unsigned char> ((n >> (8 * (3 - k))) & 0xFF)
        return _put(b, t, 5)
    t[0] = 0x81
    for k in range(8):
        t[1 + k] = <unsigned char> ((n >> (8 * (7 - k))) & 0xFF)
    return _put(b, t, 9)


cdef bint _canon_int(const unsigned char *s, Py_ssize_t n, long long *out) noexcept:
    """encodings.canonical_int: decimal int64 without '+', leading zeros or '-0'."""
    cdef Py_ssize_t i = 0
    cdef bint neg = False
    cdef unsigned long long v = 0, lim
    if n == 0 or n > 20:
        return False
    if s[0] == 45:  # '-'
        if n == 1 or s[1] == 48:
            return False
        neg = True
        i = 1
    elif s[0] == 48 and n > 1:
        return False
    lim = 9223372036854775808ULL if neg else 9223372036854775807ULL
    while i < n:
        if s[i] < 48 or s[i] > 57:
            return False
        if v > (lim - (s[i] - 48)) // 10:
            return False
        v = v * 10 + (s[i] - 48)
        i += 1
    if neg:
        out[0] = <long long> (0 - v)
    else:
        out[0] = <long long> v
    return True


cdef class _Dumper:
    """Encoding state for one dump: options, output and scratch buffers, the LZF table."""

    cdef Buf out
    cdef Buf lp      # a listpack being built
    cdef Buf tmp     # LZF output
    cdef Py_ssize_t *htab
    cdef int64_t *ints
    cdef Py_ssize_t ints_cap
    cdef bint compress
    cdef long hash_entries, hash_value, intset_entries, set_entries, set_value
    cdef long zset_entries, zset_value, list_fill
    cdef object write
    cdef object fallback
    cdef object format_double
    cdef PyObject *deque_type
    cdef PyObject *zset_type
    cdef object sl_name
    cdef object lists_name
    cdef object dict_name

    def __cinit__(self):
        cdef Py_ssize_t k
        self.htab = <Py_ssize_t *> malloc(HSIZE * sizeof(Py_ssize_t))
        if self.htab == NULL:
            raise MemoryError()
        for k in range(HSIZE):
            self.htab[k] = -1

    def __dealloc__(self):
        free(self.out.p)
        free(self.lp.p)
        free(self.tmp.p)
        free(self.htab)
        free(self.ints)

    cdef int flush(self) except -1:
        if self.out.n:
            chunk = PyBytes_FromStringAndSize(<char *> self.out.p, self.out.n)
            self.out.n = 0
            self.write(chunk)
        return 0

    # -- strings ------------------------------------------------------------------

    cdef int string(self, Buf *b, const unsigned char *s, Py_ssize_t n) except -1:
        """rdb._string: int encoding for short numeric strings, LZF over 20 bytes."""
        cdef long long v
        cdef unsigned char t[5]
        cdef Py_ssize_t c
        if n <= 11:
            if n and _canon_int(s, n, &v) and -2147483648LL <= v <= 2147483647LL:
                if -128 <= v <= 127:
                    t[0] = 0xC0
                    t[1] = <unsigned char> (v & 0xFF)
                    return _put(b, t, 2)
                if -32768 <= v <= 32767:
                    t[0] = 0xC1
                    t[1] = <unsigned char> (v & 0xFF)
                    t[2] = <unsigned char> ((v >> 8) & 0xFF)
                    return _put(b, t, 3)
                t[0] = 0xC2
                t[1] = <unsigned char> (v & 0xFF)
                t[2] = <unsigned char> ((v >> 8) & 0xFF)
                t[3] = <unsigned char> ((v >> 16) & 0xFF)
                t[4] = <unsigned char> ((v >> 24) & 0xFF)
                return _put(b, t, 5)
            _byte(b, <unsigned char> n)
            return _put(b, s, n)
        if self.compress and n > 20:
            self.tmp.n = 0
            _grow(&self.tmp, n + 64)
            c = _lzf_c(s, n, self.tmp.p, n - 4, self.htab)
            if c > 0:
                _byte(b, 0xC3)
                _len(b, c)
                _len(b, n)
                return _put(b, self.tmp.p, c)
        _len(b, n)
        return _put(b, s, n)

    cdef int obj_string(self, Buf *b, PyObject *o) except -1:
        if fr_is_bytes(o):
            return self.string(b, <unsigned char *> fr_bytes_data(o), fr_bytes_size(o))
        if fr_type(o) == <PyObject *> bytearray:
            return self.string(b, <unsigned char *> fr_ba_data(o), fr_ba_size(o))
        raise TypeError("cannot serialize a non-bytes element")

    # -- listpack -------------------------------------------------------------------

    cdef int lp_backlen(self, Py_ssize_t n) except -1:
        cdef unsigned char t[5]
        if n <= 127:
            return _byte(&self.lp, <unsigned char> n)
        if n < 16383:
            t[0] = <unsigned char> (n >> 7)
            t[1] = <unsigned char> ((n & 127) | 128)
            return _put(&self.lp, t, 2)
        if n < 2097151:
            t[0] = <unsigned char> (n >> 14)
            t[1] = <unsigned char> (((n >> 7) & 127) | 128)
            t[2] = <unsigned char> ((n & 127) | 128)
            return _put(&self.lp, t, 3)
        if n < 268435455:
            t[0] = <unsigned char> (n >> 21)
            t[1] = <unsigned char> (((n >> 14) & 127) | 128)
            t[2] = <unsigned char> (((n >> 7) & 127) | 128)
            t[3] = <unsigned char> ((n & 127) | 128)
            return _put(&self.lp, t, 4)
        t[0] = <unsigned char> (n >> 28)
        t[1] = <unsigned char> (((n >> 21) & 127) | 128)
        t[2] = <unsigned char> (((n >> 14) & 127) | 128)
        t[3] = <unsigned char> (((n >> 7) & 127) | 128)
        t[4] = <unsigned char> ((n & 127) | 128)
        return _put(&self.lp, t, 5)

    cdef int lp_int(self, long long v) except -1:
        cdef unsigned char t[10]
        cdef int k
        cdef unsigned long long u
        if 0 <= v <= 127:
            t[0] = <unsigned char> v
            t[1] = 1
            return _put(&self.lp, t, 2)
        if -4096 <= v <= 4095:
            if v < 0:
                v += 1 << 13
            t[0] = <unsigned char> ((v >> 8) | 0xC0)
            t[1] = <unsigned char> (v & 0xFF)
            t[2] = 2
            return _put(&self.lp, t, 3)
        u = <unsigned long long> v
        if -32768 <= v <= 32767:
            t[0] = 0xF1
            for k in range(2):
                t[1 + k] = <unsigned char> ((u >> (8 * k)) & 0xFF)
            t[3] = 3
            return _put(&self.lp, t, 4)
        if -(1 << 23) <= v < (1 << 23):
            t[0] = 0xF2
            for k in range(3):
                t[1 + k] = <unsigned char> ((u >> (8 * k)) & 0xFF)
            t[4] = 4
            return _put(&self.lp, t, 5)
        if -2147483648LL <= v <= 2147483647LL:
            t[0] = 0xF3
            for k in range(4):
                t[1 + k] = <unsigned char> ((u >> (8 * k)) & 0xFF)
            t[5] = 5
            return _put(&self.lp, t, 6)
        t[0] = 0xF4
        for k in range(8):
            t[1 + k] = <unsigned char> ((u >> (8 * k)) & 0xFF)
        t[9] = 9
        return _put(&self.lp, t, 10)

    cdef int lp_str(self, const unsigned char *s, Py_ssize_t ln) except -1:
        """encodings._lp_encode of one string element."""
        cdef long long v
        cdef unsigned char t[5]
        if ln <= 20 and ln and _canon_int(s, ln, &v):
            return self.lp_int(v)
        if ln < 64:
            _byte(&self.lp, <unsigned char> (0x80 | ln))
            _put(&self.lp, s, ln)
            return _byte(&self.lp, <unsigned char> (ln + 1))
        if ln < 4096:
            t[0] = <unsigned char> (0xE0 | (ln >> 8))
            t[1] = <unsigned char> (ln & 0xFF)
            _put(&self.lp, t, 2)
            _put(&self.lp, s, ln)
            return self.lp_backlen(2 + ln)
        t[0] = 0xF0
        t[1] = <unsigned char> (ln & 0xFF)
        t[2] = <unsigned char> ((ln >> 8) & 0xFF)
        t[3] = <unsigned char> ((ln >> 16) & 0xFF)
        t[4] = <unsigned char> ((ln >> 24) & 0xFF)
        _put(&self.lp, t, 5)
        _put(&self.lp, s, ln)
        return self.lp_backlen(5 + ln)

    cdef int lp_obj(self, PyObject *o) except -1:
        if fr_is_bytes(o):
            return self.lp_str(<unsigned char *> fr_bytes_data(o), fr_bytes_size(o))
        if fr_type(o) == <PyObject *> bytearray:
            return self.lp_str(<unsigned char *> fr_ba_data(o), fr_ba_size(o))
        raise TypeError("cannot serialize a non-bytes element")

    cdef int lp_begin(self) except -1:
        self.lp.n = 0
        _grow(&self.lp, 6)
        self.lp.n = 6
        return 0

    cdef int lp_end(self, Buf *b, Py_ssize_t count) except -1:
        """Close the listpack (header, terminator) and write it to ``b`` as an RDB string."""
        cdef unsigned long total
        cdef int k
        _byte(&self.lp, 0xFF)
        total = <unsigned long> self.lp.n
        for k in range(4):
            self.lp.p[k] = <unsigned char> ((total >> (8 * k)) & 0xFF)
        if count >= 0xFFFF:
            count = 0xFFFF
        self.lp.p[4] = <unsigned char> (count & 0xFF)
        self.lp.p[5] = <unsigned char> ((count >> 8) & 0xFF)
        return self.string(b, self.lp.p, self.lp.n)

    cdef int lp_double(self, double d) except -1:
        """A zset score as format_double's text, stored as lpAppend would."""
        cdef long long ll
        if -4611686018427387904.0 <= d <= 4611686018427387904.0 and d == d:
            ll = <long long> d
            if <double> ll == d and not (ll == 0 and copysign(1.0, d) < 0):
                return self.lp_int(ll)
        text = self.format_double(d)
        return self.lp_str(<unsigned char *> fr_bytes_data(<PyObject *> text), fr_bytes_size(<PyObject *> text))

    # -- values -----------------------------------------------------------------------

    cdef int value(self, Buf *b, PyObject *v) except -1:
        """One value's payload into ``b``; returns its RDB type."""
        cdef PyObject *t = fr_type(v)
        if t == <PyObject *> bytes:
            self.string(b, <unsigned char *> fr_bytes_data(v), fr_bytes_size(v))
            return RT_STRING
        if t == <PyObject *> bytearray:
            self.string(b, <unsigned char *> fr_ba_data(v), fr_ba_size(v))
            return RT_STRING
        if t == <PyObject *> dict:
            return self.hash(b, v)
        if t == <PyObject *> set:
            return self.set_(b, v)
        if t == self.deque_type:
            return self.list_(b, v)
        if t == self.zset_type:
            return self.zset(b, v)
        rtype, payload = self.fallback(<object> v)
        _put(b, fr_bytes_data(<PyObject *> payload), fr_bytes_size(<PyObject *> payload))
        return rtype

    cdef int hash(self, Buf *b, PyObject *h) except -1:
        cdef Py_ssize_t pos = 0, n = fr_dict_size(h)
        cdef PyObject *k
        cdef PyObject *v
        cdef bint small = n <= self.hash_entries
        if small:
            while PyDict_Next(h, &pos, &k, &v):
                if _elen(k) > self.hash_value or _elen(v) > self.hash_value:
                    small = False
                    break
        pos = 0
        if small:
            self.lp_begin()
            while PyDict_Next(h, &pos, &k, &v):
                self.lp_obj(k)
                self.lp_obj(v)
            self.lp_end(b, 2 * n)
            return RT_HASH_LISTPACK
        _len(b, n)
        while PyDict_Next(h, &pos, &k, &v):
            self.obj_string(b, k)
            self.obj_string(b, v)
        return RT_HASH

    cdef int set_(self, Buf *b, PyObject *s) except -1:
        cdef Py_ssize_t pos = 0, n = fr_set_size(s), i = 0
        cdef PyObject *m
        cdef Py_hash_t hh
        cdef long long iv
        cdef bint ok
        cdef int enc
        cdef int64_t lo, hi
        cdef int k
        cdef unsigned char t[8]
        cdef unsigned long long u
        if n <= self.intset_entries:
            if n > self.ints_cap:
                free(self.ints)
                self.ints = <int64_t *> malloc((n + 16) * sizeof(int64_t))
                if self.ints == NULL:
                    self.ints_cap = 0
                    raise MemoryError()
                self.ints_cap = n + 16
            ok = True
            while _PySet_NextEntry(s, &pos, &m, &hh):
                if not fr_is_bytes(m) or not _canon_int(<unsigned char *> fr_bytes_data(m), fr_bytes_size(m), &iv):
                    ok = False
                    break
                self.ints[i] = iv
                i += 1
            if ok:
                qsort(self.ints, n, sizeof(int64_t), _cmp_i64)
                enc = 2
                if n:
                    lo = self.ints[0]
                    hi = self.ints[n - 1]
                    if lo < -(1LL << 31) or hi >= (1LL << 31):
                        enc = 8
                    elif lo < -(1 << 15) or hi >= (1 << 15):
                        enc = 4
                self.lp.n = 0
                t[0] = <unsigned char> enc
                t[1] = t[2] = t[3] = 0
                u = <unsigned long long> n
                for k in range(4):
                    t[4 + k] = <unsigned char> ((u >> (8 * k)) & 0xFF)
                _put(&self.lp, t, 8)
                for i in range(n):
                    u = <unsigned long long> self.ints[i]
                    for k in range(enc):
                        t[k] = <unsigned char> ((u >> (8 * k)) & 0xFF)
                    _put(&self.lp, t, enc)
                self.string(b, self.lp.p, self.lp.n)
                return RT_SET_INTSET
        pos = 0
        ok = n <= self.set_entries
        if ok:
            while _PySet_NextEntry(s, &pos, &m, &hh):
                if _elen(m) > self.set_value:
                    ok = False
                    break
        pos = 0
        if ok:
            self.lp_begin()
            while _PySet_NextEntry(s, &pos, &m, &hh):
                self.lp_obj(m)
            self.lp_end(b, n)
            return RT_SET_LISTPACK
        _len(b, n)
        while _PySet_NextEntry(s, &pos, &m, &hh):
            self.obj_string(b, m)
        return RT_SET

    cdef int list_(self, Buf *b, PyObject *d) except -1:
        """Quicklist nodes bounded as rdb._list_chunks bounds them, each a packed listpack."""
        cdef Py_ssize_t n = fr_size(d), i, start, size, ln, nodes = 0, cnt
        cdef Py_ssize_t max_bytes, max_count
        cdef long fill = self.list_fill
        cdef PyObject *item
        if fill < 0:
            if fill == -1:
                max_bytes = 4096
            elif fill == -3:
                max_bytes = 16384
            elif fill == -4:
                max_bytes = 32768
            elif fill == -5:
                max_bytes = 65536
            else:
                max_bytes = 8192
        else:
            max_bytes = 1LL << 62
        max_count = fill if fill > 0 else 1LL << 62
        for i in range(n):
            if _elen(fr_deque_item(d, i)) < 0:
                raise TypeError("cannot serialize a non-bytes element")
        # count the nodes first: the payload starts with their number
        cnt = 0
        size = 0
        for i in range(n):
            ln = _elen(fr_deque_item(d, i)) + 11
            if cnt and (cnt >= max_count or size + ln > max_bytes):
                nodes += 1
                cnt = 0
                size = 0
            cnt += 1
            size += ln
        if cnt:
            nodes += 1
        _len(b, nodes)
        cnt = 0
        size = 0
        self.lp_begin()
        for i in range(n):
            item = fr_deque_item(d, i)
            ln = _elen(item) + 11
            if cnt and (cnt >= max_count or size + ln > max_bytes):
                _len(b, 2)
                self.lp_end(b, cnt)
                self.lp_begin()
                cnt = 0
                size = 0
            self.lp_obj(item)
            cnt += 1
            size += ln
        if cnt:
            _len(b, 2)
            self.lp_end(b, cnt)
        return RT_LIST_QUICKLIST_2

    cdef int zset(self, Buf *b, PyObject *z) except -1:
        cdef PyObject *sl
        cdef PyObject *lists
        cdef PyObject *d
        cdef PyObject *sub
        cdef PyObject *tup
        cdef PyObject *k
        cdef PyObject *v
        cdef Py_ssize_t pos = 0, n, i, j, nl
        cdef bint small
        cdef double sc
        cdef unsigned char t[8]
        cdef unsigned long long u
        cdef int q
        d = PyObject_GetAttr(z, <PyObject *> self.dict_name)
        n = fr_dict_size(d)
        small = n <= self.zset_entries
        if small:
            while PyDict_Next(d, &pos, &k, &v):
                if _elen(k) > self.zset_value:
                    small = False
                    break
        Py_DECREF(d)
        sl = PyObject_GetAttr(z, <PyObject *> self.sl_name)
        try:
            lists = PyObject_GetAttr(sl, <PyObject *> self.lists_name)
        finally:
            Py_DECREF(sl)
        try:
            nl = fr_list_size(lists)
            if small:
                self.lp_begin()
                for i in range(nl):
                    sub = fr_list_item(lists, i)
                    for j in range(fr_list_size(sub)):
                        tup = fr_list_item(sub, j)
                        self.lp_obj(fr_tuple_item(tup, 1))
                        self.lp_double(_score(fr_tuple_item(tup, 0)))
                self.lp_end(b, 2 * n)
                return RT_ZSET_LISTPACK
            # rdbSaveObject writes skiplist zsets from the tail so loading inserts at the head
            _len(b, n)
            for i in range(nl - 1, -1, -1):
                sub = fr_list_item(lists, i)
                for j in range(fr_list_size(sub) - 1, -1, -1):
                    tup = fr_list_item(sub, j)
                    self.obj_string(b, fr_tuple_item(tup, 1))
                    sc = _score(fr_tuple_item(tup, 0))
                    memcpy(t, &sc, 8)
                    _put(b, t, 8)
            return RT_ZSET_2
        finally:
            Py_DECREF(lists)

    # -- the walk ----------------------------------------------------------------------

    cdef Py_ssize_t database(self, PyObject *data, PyObject *expires) except -1:
        cdef Py_ssize_t pos = 0, n = 0
        cdef PyObject *key
        cdef PyObject *val
        cdef PyObject *when
        cdef long long ms
        cdef unsigned long long u
        cdef unsigned char t[9]
        cdef int k
        cdef bint has_exp = fr_dict_size(expires) > 0
        cdef Buf *b = &self.out
        while PyDict_Next(data, &pos, &key, &val):
            if has_exp:
                when = PyDict_GetItem(expires, key)
                if when != NULL:
                    ms = PyLong_AsLongLong(when)
                    u = <unsigned long long> ms
                    t[0] = OPC_EXPIRETIME_MS
                    for k in range(8):
                        t[1 + k] = <unsigned char> ((u >> (8 * k)) & 0xFF)
                    _put(b, t, 9)
            self.record(b, key, val)
            n += 1
            if b.n >= FLUSH_AT:
                self.flush()
        return n

    cdef int record(self, Buf *b, PyObject *key, PyObject *val) except -1:
        """<type><key><payload>: the type byte is filled in once the value is encoded."""
        cdef Py_ssize_t at = b.n
        if not fr_is_bytes(key):
            raise TypeError("keys are bytes")
        _byte(b, 0)
        self.string(b, <unsigned char *> fr_bytes_data(key), fr_bytes_size(key))
        b.p[at] = <unsigned char> self.value(b, val)
        return 0


cdef object _dict_name = "dict"


cdef inline Py_ssize_t _elen(PyObject *o) noexcept:
    if fr_is_bytes(o):
        return fr_bytes_size(o)
    if fr_type(o) == <PyObject *> bytearray:
        return fr_ba_size(o)
    return -1


cdef inline double _score(PyObject *o) except? -1.0:
    if fr_is_float(o):
        return fr_float_value(o)
    return PyFloat_AsDouble(o)


cdef int _cmp_i64(const void *a, const void *b) noexcept nogil:
    cdef int64_t x = (<int64_t *> a)[0], y = (<int64_t *> b)[0]
    return (x > y) - (x < y)


def dump_database(data, expires, write, opts, fallback, format_double, deque_type, zset_type):
    """Write every key of one database as RDB records, through ``write(chunk)`` (1 MiB chunks).

    ``opts`` is an ``rdb.SaveOptions``; ``fallback(value) -> (rtype, payload)`` encodes values this
    walk does not know (streams).  Returns the number of keys written.
    """
    cdef _Dumper d = _Dumper()
    cdef Py_ssize_t n
    if type(data) is not dict or type(expires) is not dict:
        raise TypeError("data and expires must be dicts")
    d.compress = bool(opts.compress)
    d.hash_entries = opts.hash_max_listpack_entries
    d.hash_value = opts.hash_max_listpack_value
    d.intset_entries = opts.set_max_intset_entries
    d.set_entries = opts.set_max_listpack_entries
    d.set_value = opts.set_max_listpack_value
    d.zset_entries = opts.zset_max_listpack_entries
    d.zset_value = opts.zset_max_listpack_value
    d.list_fill = opts.list_max_listpack_size
    d.write = write
    d.fallback = fallback
    d.format_double = format_double
    d.deque_type = <PyObject *> deque_type
    d.zset_type = <PyObject *> zset_type
    d.dict_name = _dict_name
    d.sl_name = "sl"
    d.lists_name = "_lists"
    n = d.database(<PyObject *> data, <PyObject *> expires)
    d.flush()
    return n


def deque_layout_ok():
    """True when collections.deque has the block layout the walk reads (checked once at import)."""
    from collections import deque as _dq
    items = [object() for _ in range(200)]
    q = _dq(items[50:])
    for x in reversed(items[:50]):
        q.appendleft(x)
    cdef Py_ssize_t i
    if fr_size(<PyObject *> q) != 200:
        return False
    for i in range(200):
        if fr_deque_item(<PyObject *> q, i) != <PyObject *> items[i]:
            return False
    return True
