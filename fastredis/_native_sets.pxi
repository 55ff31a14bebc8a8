# Native sets commands (SADD,SPOP,SISMEMBER,SCARD), included by _native.pyx: see its contract.
#
# A set is a Python ``set`` of bytes (commands/sets.py).  SADD and SPOP look the
# key up for writing (no keyspace hit/miss), SISMEMBER and SCARD for reading.

from cpython.set cimport PySet_Add, PySet_Contains, PySet_Discard, PySet_GET_SIZE, PySet_Pop

cdef object _set_random_member = None  # commands.sets._random_member, imported on first use


cdef inline int _member_reply(Writer w, object m) except -1:
    if type(m) is bytes:
        return w._bulk(PyBytes_AS_STRING(m), PyBytes_GET_SIZE(m))
    w.write(m)  # the encoder the Python path uses
    return 0


cdef int _sadd(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef Py_ssize_t n = PyList_GET_SIZE(argv)
    cdef Py_ssize_t j, before
    cdef object key = _arg(argv, 1)
    cdef PyObject *v
    cdef object s
    if not ks.writable or _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        s = set()
        PyDict_SetItem(ks.data, key, s)
    elif type(<object>v) is set:
        s = <object>v
    else:
        return NATIVE_FALLBACK  # WRONGTYPE
    before = PySet_GET_SIZE(s)
    for j in range(2, n):
        PySet_Add(s, _arg(argv, j))
    before = PySet_GET_SIZE(s) - before
    w._header(b':', before)
    if before == 0:
        return NATIVE_READ  # nothing changed: not dirty, not propagated
    p.dirty += before
    return NATIVE_WROTE


cdef int _spop(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    """SPOP key (the count form falls back); propagated as SREM, so only while nothing propagates."""
    global _set_random_member
    cdef object key
    cdef PyObject *v
    cdef object s, m
    if PyList_GET_SIZE(argv) != 2 or not ks.writable or ks.propagating:
        return NATIVE_FALLBACK
    key = _arg(argv, 1)
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        _null(ks, w)
        return NATIVE_READ
    if type(<object>v) is not set:
        return NATIVE_FALLBACK
    s = <object>v
    # the Python handler's choice: a uniformly random member of a small set, set.pop() for big ones
    if PySet_GET_SIZE(s) <= 1024:
        if _set_random_member is None:
            from .commands.sets import _random_member
            _set_random_member = _random_member
        m = _set_random_member(s)
        PySet_Discard(s, m)
    else:
        m = PySet_Pop(s)
    p.dirty += 1
    if PySet_GET_SIZE(s) == 0:
        PyDict_DelItem(ks.data, key)  # no TTL (checked above): the key is all there is
    _member_reply(w, m)
    return NATIVE_WROTE


cdef int _sismember(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef object key = _arg(argv, 1)
    cdef PyObject *v
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        p.misses += 1
        w._put(":0\r\n", 4)
        return NATIVE_READ
    if type(<object>v) is not set:
        return NATIVE_FALLBACK
    p.hits += 1
    if PySet_Contains(<object>v, _arg(argv, 2)) == 1:
        w._put(":1\r\n", 4)
    else:
        w._put(":0\r\n", 4)
    return NATIVE_READ


cdef int _scard(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef object key = _arg(argv, 1)
    cdef PyObject *v
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        p.misses += 1
        w._put(":0\r\n", 4)
        return NATIVE_READ
    if type(<object>v) is not set:
        return NATIVE_FALLBACK
    p.hits += 1
    w._header(b':', PySet_GET_SIZE(<object>v))
    return NATIVE_READ


cdef int run_set(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2:
    if code == N_SADD:
        return _sadd(ks, argv, w, p)
    if code == N_SPOP:
        return _spop(ks, argv, w, p)
    if code == N_SISMEMBER:
        return _sismember(ks, argv, w, p)
    if code == N_SCARD:
        return _scard(ks, argv, w, p)
    return NATIVE_FALLBACK
