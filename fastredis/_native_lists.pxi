# Native lists commands (LPUSH,RPUSH,LPOP,RPOP,LRANGE,LLEN), included by _native.pyx: see its contract.
#
# The Python handlers are _push, _pop, llen and lrange in commands/lists.py; a list is a
# collections.deque of bytes.  Pushes and pops read the key with a write lookup (no keyspace
# hits/misses), LLEN and LRANGE with db.get (hits/misses counted).  A pop that empties the list
# deletes the key (elements_removed -> drop_if_empty): without waiters, notifications or WATCH
# that is only the removal from db.data (the key has no TTL: natives never touch those).
#
# The deque is driven through the C functions behind its methods (append, pop, __reversed__...),
# looked up once from the type's method descriptors: the Python method call machinery is the
# bulk of a push or pop otherwise.  Should the descriptors ever not be the expected METH_O /
# METH_NOARGS C functions, every list native falls back.

from collections import deque as _py_deque

from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject_GetIter

cdef extern from *:
    """
    static PyTypeObject *fr_dq_type = NULL;
    static PyCFunction fr_dq_fn[5];  /* append, appendleft, pop, popleft, __reversed__ */

    static int fr_dq_init(PyObject *tp) {
        static const char *names[5] = {"append", "appendleft", "pop", "popleft", "__reversed__"};
        static const int flags[5] = {METH_O, METH_O, METH_NOARGS, METH_NOARGS, METH_NOARGS};
        int i;
        if (!PyType_Check(tp))
            return 0;
        for (i = 0; i < 5; i++) {
            PyObject *d = PyDict_GetItemString(((PyTypeObject *)tp)->tp_dict, names[i]);
            PyMethodDef *m;
            if (d == NULL || Py_TYPE(d) != &PyMethodDescr_Type)
                return 0;
            m = ((PyMethodDescrObject *)d)->d_method;
            if ((m->ml_flags & ~METH_COEXIST) != flags[i])
                return 0;
            fr_dq_fn[i] = m->ml_meth;
        }
        fr_dq_type = (PyTypeObject *)tp;
        return 1;
    }

    static inline int fr_is_deque(PyObject *o) {
        return fr_dq_type != NULL && Py_TYPE(o) == fr_dq_type;
    }

    static inline int fr_dq_push(PyObject *dq, PyObject *v, int left) {
        PyObject *r = fr_dq_fn[left ? 1 : 0](dq, v);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        return 0;
    }

    static inline PyObject *fr_dq_pop(PyObject *dq, int left) {
        return fr_dq_fn[left ? 3 : 2](dq, NULL);
    }

    static inline PyObject *fr_dq_reversed(PyObject *dq) {
        return fr_dq_fn[4](dq, NULL);
    }

    /* "$<n>\\r\\n<s>\\r\\n" at dst (room for n + 26 bytes); the length written.  Writer._bulk
       without its calls: ranges write hundreds of short elements in a row. */
    static inline Py_ssize_t fr_bulk_into(char *dst, const char *s, Py_ssize_t n) {
        char *d = dst;
        *d++ = '$';
        if (n < 10) {
            *d++ = (char)('0' + n);
        } else if (n < 100) {
            d[0] = (char)('0' + n / 10);
            d[1] = (char)('0' + n % 10);
            d += 2;
        } else {
            char tmp[24];
            char *t = tmp + 24;
            size_t u = (size_t)n;
            do { *--t = (char)('0' + u % 10); u /= 10; } while (u);
            memcpy(d, t, (size_t)(tmp + 24 - t));
            d += tmp + 24 - t;
        }
        d[0] = '\\r';
        d[1] = '\\n';
        d += 2;
        if (n <= 16) {
            /* short elements: fixed-size moves instead of a memcpy call */
            if (n >= 8) {
                memcpy(d, s, 8);
                memcpy(d + n - 8, s + n - 8, 8);
            } else if (n >= 4) {
                memcpy(d, s, 4);
                memcpy(d + n - 4, s + n - 4, 4);
            } else {
                Py_ssize_t i;
                for (i = 0; i < n; i++)
                    d[i] = s[i];
            }
        } else {
            memcpy(d, s, (size_t)n);
        }
        d += n;
        d[0] = '\\r';
        d[1] = '\\n';
        return d + 2 - dst;
    }
    """
    int fr_dq_init(object tp) except -1
    bint fr_is_deque(PyObject *o) noexcept
    int fr_dq_push(object dq, object v, int left) except -1
    object fr_dq_pop(object dq, int left)
    object fr_dq_reversed(object dq)
    Py_ssize_t fr_bulk_into(char *dst, const char *s, Py_ssize_t n) noexcept


cdef inline int _bulk_fast(Writer w, object b) except -1:
    """w._bulk(b) for a bytes ``b``, inlined."""
    cdef Py_ssize_t n = PyBytes_GET_SIZE(b)
    if w.len + n + 26 > w.cap:
        w._reserve(n + 26)
    w.len += fr_bulk_into(w.buf + w.len, PyBytes_AS_STRING(b), n)
    return 0

cdef bint _DQ_OK = fr_dq_init(_py_deque) == 1


cdef inline int _null_array(Keyspace ks, Writer w) except -1:
    """NULL_ARRAY: ``*-1`` in RESP2, ``_`` in RESP3."""
    if ks.resp == 3:
        return w._put("_\r\n", 3)
    return w._put("*-1\r\n", 5)


cdef int _lpush(Keyspace ks, list argv, Writer w, Pending *p, bint left) except -2:
    """LPUSH/RPUSH key value [value ...] (_push without XX)."""
    cdef Py_ssize_t n = PyList_GET_SIZE(argv)
    cdef Py_ssize_t j
    cdef object key = _arg(argv, 1)
    cdef object lst
    cdef PyObject *v
    if not ks.writable or _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        lst = _py_deque()
        PyDict_SetItem(ks.data, key, lst)
    elif fr_is_deque(v):
        lst = <object>v
    else:
        return NATIVE_FALLBACK  # WRONGTYPE
    for j in range(2, n):
        fr_dq_push(lst, _arg(argv, j), left)
    p.dirty += n - 2
    w._header(b':', len(lst))
    return NATIVE_WROTE


cdef int _lpop(Keyspace ks, list argv, Writer w, Pending *p, bint left) except -2:
    """LPOP/RPOP key [count] (_pop): the key goes with its last element."""
    cdef Py_ssize_t n = PyList_GET_SIZE(argv)
    cdef long long count = -1
    cdef long long i
    cdef Py_ssize_t llen
    cdef object key
    cdef object lst
    cdef object item
    cdef PyObject *v
    if n > 3 or not ks.writable:
        return NATIVE_FALLBACK
    if n == 3 and (not _int_arg(_arg(argv, 2), &count) or count < 0):
        return NATIVE_FALLBACK  # "must be positive" error
    key = _arg(argv, 1)
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        if count < 0:
            _null(ks, w)
        else:
            _null_array(ks, w)
        return NATIVE_READ
    if not fr_is_deque(v):
        return NATIVE_FALLBACK  # WRONGTYPE
    lst = <object>v
    llen = len(lst)
    if llen == 0:
        return NATIVE_FALLBACK  # never stored, but the Python path is the one definition
    if count < 0:
        item = fr_dq_pop(lst, left)
        if type(item) is not bytes:
            fr_dq_push(lst, item, left)  # put it back where it was
            return NATIVE_FALLBACK
        w._bulk(PyBytes_AS_STRING(item), PyBytes_GET_SIZE(item))
        p.dirty += 1
        if llen == 1:
            PyDict_DelItem(ks.data, key)
        return NATIVE_WROTE
    if count == 0:
        w._put("*0\r\n", 4)
        return NATIVE_READ
    if count > llen:
        count = llen
    if not _all_bytes(lst, left, count):
        return NATIVE_FALLBACK
    w._header(b'*', count)
    for i in range(count):
        _bulk_fast(w, fr_dq_pop(lst, left))
    p.dirty += count
    if count == llen:
        PyDict_DelItem(ks.data, key)
    return NATIVE_WROTE


cdef bint _all_bytes(object lst, bint left, long long count) except -1:
    """The first (left) or last ``count`` elements are all bytes (always so, but the
    replies write them as such: anything else is the Python path's business)."""
    cdef object it = PyObject_GetIter(lst) if left else fr_dq_reversed(lst)
    cdef object item
    cdef long long i
    for i in range(count):
        item = next(it)
        if type(item) is not bytes:
            return False
    return True


cdef int _llen(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef object key = _arg(argv, 1)
    cdef PyObject *v
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        p.misses += 1
        w._put(":0\r\n", 4)
        return NATIVE_READ
    if not fr_is_deque(v):
        return NATIVE_FALLBACK  # WRONGTYPE (the Python path counts the hit)
    p.hits += 1
    w._header(b':', len(<object>v))
    return NATIVE_READ


cdef int _lrange(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    """LRANGE key start stop: bounds as _range_bounds, elements written straight from the deque,
    walking from the nearer end (list_range)."""
    cdef long long start, end, llen, count, skip, i
    cdef object key = _arg(argv, 1)
    cdef object lst
    cdef object it
    cdef object item
    cdef PyObject *v
    cdef PyObject **held
    cdef Py_ssize_t mark
    cdef bint ok
    if not _int_arg(_arg(argv, 2), &start) or not _int_arg(_arg(argv, 3), &end):
        return NATIVE_FALLBACK  # "not an integer" before the lookup, as the Python path
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        p.misses += 1
        w._put("*0\r\n", 4)
        return NATIVE_READ
    if not fr_is_deque(v):
        return NATIVE_FALLBACK  # WRONGTYPE
    lst = <object>v
    llen = len(lst)
    if start < 0:
        start += llen
    if end < 0:
        end += llen
    if start < 0:
        start = 0
    if start > end or start >= llen:
        p.hits += 1
        w._put("*0\r\n", 4)
        return NATIVE_READ
    if end >= llen:
        end = llen - 1
    count = end - start + 1
    mark = w.len
    w._header(b'*', count)
    if start <= llen - 1 - end:
        # from the left: skip ``start`` elements, write ``count``
        it = PyObject_GetIter(lst)
        for i in range(start):
            next(it)
        for i in range(count):
            item = next(it)
            if type(item) is not bytes:
                w.len = mark
                return NATIVE_FALLBACK
            _bulk_fast(w, item)
    else:
        # from the right: skip the elements after ``end``, hold ``count`` (in reverse), write them
        it = fr_dq_reversed(lst)
        skip = llen - 1 - end
        for i in range(skip):
            next(it)
        held = <PyObject **>PyMem_Malloc(count * sizeof(PyObject *))
        if held == NULL:
            raise MemoryError()
        ok = True
        try:
            # the deque keeps every element alive while no Python code runs: borrowed is enough
            for i in range(count):
                item = next(it)
                if type(item) is not bytes:
                    ok = False
                    break
                held[count - 1 - i] = <PyObject *>item
            if ok:
                for i in range(count):
                    _bulk_fast(w, <object>held[i])
        finally:
            PyMem_Free(held)
        if not ok:
            w.len = mark
            return NATIVE_FALLBACK
    p.hits += 1
    return NATIVE_READ


cdef int run_list(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2:
    if not _DQ_OK:
        return NATIVE_FALLBACK
    if code == N_LPUSH:
        return _lpush(ks, argv, w, p, True)
    if code == N_RPUSH:
        return _lpush(ks, argv, w, p, False)
    if code == N_LPOP:
        return _lpop(ks, argv, w, p, True)
    if code == N_RPOP:
        return _lpop(ks, argv, w, p, False)
    if code == N_LRANGE:
        return _lrange(ks, argv, w, p)
    if code == N_LLEN:
        return _llen(ks, argv, w, p)
    return NATIVE_FALLBACK

# Whether the list natives run at all (tests assert it: a silent fallback would go unnoticed).
LISTS_NATIVE = _DQ_OK
