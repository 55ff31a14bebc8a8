# Native hashes commands (HSET,HGET), included by _native.pyx: see its contract.
#
# A hash is a Python ``dict`` bytes -> bytes (commands/hashes.py).  HSET looks
# the key up for writing (no keyspace hit/miss), HGET for reading.


cdef int _hset(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef Py_ssize_t n = PyList_GET_SIZE(argv)
    cdef Py_ssize_t j
    cdef long long created = 0
    cdef object key
    cdef PyObject *v
    cdef object h, f
    if n % 2 == 1 or not ks.writable:
        return NATIVE_FALLBACK  # an odd field/value count is the Python handler's arity error
    key = _arg(argv, 1)
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        h = {}
        PyDict_SetItem(ks.data, key, h)
    elif type(<object>v) is dict:
        h = <object>v
    else:
        return NATIVE_FALLBACK  # WRONGTYPE
    j = 2
    while j < n:
        f = _arg(argv, j)
        if PyDict_Contains(h, f) == 0:
            created += 1
        PyDict_SetItem(h, f, _arg(argv, j + 1))
        j += 2
    p.dirty += (n - 2) // 2  # every pair counts, new field or not (like the Python handler)
    w._header(b':', created)
    return NATIVE_WROTE


cdef int _hget(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef object key = _arg(argv, 1)
    cdef PyObject *v
    cdef PyObject *f
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        p.misses += 1
        _null(ks, w)
        return NATIVE_READ
    if type(<object>v) is not dict:
        return NATIVE_FALLBACK
    f = PyDict_GetItem(<object>v, _arg(argv, 2))
    if f != NULL and type(<object>f) is not bytes:
        return NATIVE_FALLBACK
    p.hits += 1
    if f == NULL:
        _null(ks, w)
    else:
        w._bulk(PyBytes_AS_STRING(<object>f), PyBytes_GET_SIZE(<object>f))
    return NATIVE_READ


cdef int run_hash(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2:
    if code == N_HSET:
        return _hset(ks, argv, w, p)
    if code == N_HGET:
        return _hget(ks, argv, w, p)
    return NATIVE_FALLBACK
