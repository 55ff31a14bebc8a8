# Native zsets commands (ZADD,ZPOPMIN,ZSCORE,ZCARD), included by _native.pyx: see its contract.
#
# The values are types.zset.ZSet objects (pure Python); these natives call their
# methods and spare the handler layers of commands/zsets.py (option parsing,
# get_typed, Database.changed...).  Shapes: ZADD with plain ``score member``
# pairs (an option word or a score outside the plain decimal form falls back),
# ZPOPMIN without a count (propagated as it is, like the Python handler),
# ZSCORE, ZCARD.

from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_FromDouble

from .types.zset import ZSet

cdef object _ZSet = ZSet

cdef extern from *:
    """
    #include <errno.h>
    #include <math.h>
    #include <stdlib.h>
    /* A score written in the plain decimal form ([+-]digits[.digits][e[+-]digits]), read like
       numbers.string2d reads it: C strtod over the whole argument (both correctly rounded).
       0 for everything else, even where string2d would accept it (hex, inf, subnormals) or
       reject it (spaces, NaN, overflow/underflow): the Python path decides those. */
    static int fr_plain_score(const char *s, Py_ssize_t n, double *out) {
        Py_ssize_t i;
        char *end;
        double v;
        if (n == 0)
            return 0;
        for (i = 0; i < n; i++) {
            char ch = s[i];
            if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' || ch == 'E'))
                return 0;
        }
        errno = 0;
        v = strtod(s, &end);
        if (end != s + n || errno == ERANGE || isinf(v) || isnan(v))
            return 0;
        *out = v;
        return 1;
    }
    """
    int fr_plain_score(const char *s, Py_ssize_t n, double *out) noexcept


cdef inline bint _score_arg(object a, double *out) noexcept:
    return fr_plain_score(PyBytes_AS_STRING(a), PyBytes_GET_SIZE(a), out) == 1


cdef inline bint _is_zset(PyObject *v) noexcept:
    return type(<object>v) is _ZSet


cdef int _zadd(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    """ZADD key score member [score member ...]: _zadd_generic without options."""
    cdef Py_ssize_t n = PyList_GET_SIZE(argv)
    cdef Py_ssize_t j
    cdef object key, z, d, ele, sc, cfg
    cdef PyObject *v
    cdef PyObject *cur
    cdef double score
    cdef bint differ
    cdef long long added = 0
    cdef long long updated = 0
    cdef long long entries = -1
    cdef long long maxval = -1
    if n % 2 != 0 or not ks.writable:
        return NATIVE_FALLBACK  # a syntax error, or an option word with pairs after it
    key = _arg(argv, 1)
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v != NULL and not _is_zset(v):
        return NATIVE_FALLBACK
    j = 2
    while j < n:
        if not _score_arg(_arg(argv, j), &score):
            return NATIVE_FALLBACK  # an option, or a score only the Python path reads
        j += 2
    if v == NULL or not (<object>v).big:
        cfg = ks.db.server.config.values
        entries = int(cfg["zset-max-listpack-entries"])
        maxval = int(cfg["zset-max-listpack-value"])
    if v == NULL:
        z = _ZSet()
        if entries == 0 or maxval < PyBytes_GET_SIZE(_arg(argv, 3)):
            z.big = True
        PyDict_SetItem(ks.data, key, z)
    else:
        z = <object>v
    d = z.dict
    j = 2
    while j < n:
        _score_arg(_arg(argv, j), &score)
        ele = _arg(argv, j + 1)
        cur = PyDict_GetItem(d, ele)
        if cur != NULL:
            if type(<object>cur) is float:
                differ = PyFloat_AS_DOUBLE(<object>cur) != score
            else:
                differ = <object>cur != score
            if differ:
                z.add(ele, PyFloat_FromDouble(score))
                updated += 1
        else:
            if entries >= 0 and not z.big and (len(d) + 1 > entries or PyBytes_GET_SIZE(ele) > maxval):
                z.big = True
            z.add(ele, PyFloat_FromDouble(score))
            added += 1
        j += 2
    w._header(b':', added)
    if added or updated:
        p.dirty += added + updated
        return NATIVE_WROTE
    return NATIVE_READ


cdef int _zpopmin(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    """ZPOPMIN key (no count): pop the first member; the emptied key goes (drop_if_empty)."""
    cdef object key, z, pair, member
    cdef PyObject *v
    if PyList_GET_SIZE(argv) != 2 or not ks.writable:
        return NATIVE_FALLBACK
    key = _arg(argv, 1)
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        w._put("*0\r\n", 4)
        return NATIVE_READ
    if not _is_zset(v):
        return NATIVE_FALLBACK
    z = <object>v
    if len(z.dict) == 0:
        return NATIVE_FALLBACK
    pair = z.pop_at(0)
    p.dirty += 1
    if len(z.dict) == 0:
        PyDict_DelItem(ks.data, key)
    member = pair[1]
    w._put("*2\r\n", 4)
    if type(member) is bytes:
        w._bulk(PyBytes_AS_STRING(member), PyBytes_GET_SIZE(member))
    else:
        w.write(member)
    w.write(pair[0])
    return NATIVE_WROTE


cdef int _zscore(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef object key = _arg(argv, 1)
    cdef PyObject *v
    cdef PyObject *s
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        p.misses += 1
        _null(ks, w)
        return NATIVE_READ
    if not _is_zset(v):
        return NATIVE_FALLBACK
    p.hits += 1
    s = PyDict_GetItem((<object>v).dict, _arg(argv, 2))
    if s == NULL:
        _null(ks, w)
    else:
        w.write(<object>s)
    return NATIVE_READ


cdef int _zcard(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef object key = _arg(argv, 1)
    cdef PyObject *v
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        p.misses += 1
        w._put(":0\r\n", 4)
        return NATIVE_READ
    if not _is_zset(v):
        return NATIVE_FALLBACK
    p.hits += 1
    w._header(b':', len((<object>v).dict))
    return NATIVE_READ


cdef int run_zset(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2:
    if code == N_ZADD:
        return _zadd(ks, argv, w, p)
    if code == N_ZPOPMIN:
        return _zpopmin(ks, argv, w, p)
    if code == N_ZSCORE:
        return _zscore(ks, argv, w, p)
    if code == N_ZCARD:
        return _zcard(ks, argv, w, p)
    return NATIVE_FALLBACK
