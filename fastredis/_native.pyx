# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Native handlers: the common form of the hottest commands, run in C on the Python store.

The keyspace stays what ``db.Database`` holds (a dict of bytes / deque / dict /
set / ZSet values and a dict of expiry times); these functions only spare the
Python frames of ``commands/*.py -> Database -> ...`` for the shapes
redis-benchmark and real workloads send all the time (``GET k``, ``SET k v``,
``LPUSH k v``...).

The contract, which keeps the Python handler the one definition of a command:

* A native handler either does *all* the command does, exactly as the Python
  handler would, or returns ``NATIVE_FALLBACK`` before changing anything, and
  the dispatcher then calls the Python handler.  Anything unusual falls back:
  a key with a TTL (expiry must be checked), a wrong type, a bytearray value,
  an argument that does not parse, options, errors, overflow.
* The dispatcher runs natives only while nothing observes single writes: no
  keyspace notifications, no client blocked on a key, and (for writes,
  ``Keyspace.writable``) no WATCHed key in the client's database.  So a native
  write only stores the value and counts ``dirty``; a read counts hits/misses.
* Like call(), the dispatcher propagates (AOF, replicas) a command that moved
  ``dirty`` (``p.dirty``), with its argv as it is; a command whose propagated
  form differs (SPOP -> SREM...) must fall back when ``Keyspace.propagating``
  is set, or not be native.  NATIVE_READ / NATIVE_WROTE only document intent.

Every native command is also run through its Python handler by
tests/test_native.py (the same commands with notifications on, which disables
natives), so the two stay byte-identical.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Contains, PyDict_DelItem, PyDict_GetItem, PyDict_SetItem
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.ref cimport PyObject

from ._resp cimport Writer, ll_digits, parse_ll

cdef extern from *:
    """
    static int fr_add_overflow(long long a, long long b, long long *r) {
        return __builtin_saddll_overflow(a, b, r);
    }
    """
    int fr_add_overflow(long long a, long long b, long long *r) noexcept


cdef class Keyspace:
    """The client's database as the natives see it, re-read by the dispatcher every batch."""

    cdef int load(self, object db, int resp, bint propagating) except -1:
        self.db = db
        self.propagating = propagating
        self.data = db.data
        self.expires = db.expires
        self.writable = not db.watched
        self.resp = resp
        return 0


# ---------------------------------------------------------------------------
# codes
# ---------------------------------------------------------------------------

cdef enum:
    N_PING = 1
    N_ECHO
    N_GET
    N_SET
    N_INCR
    N_DECR
    N_INCRBY
    N_DECRBY
    N_MSET
    N_EXISTS
    # lists (_native_lists.pxi)
    N_LPUSH
    N_RPUSH
    N_LPOP
    N_RPOP
    N_LRANGE
    N_LLEN
    # sets, hashes, sorted sets (_native_sets.pxi, _native_hashes.pxi, _native_zsets.pxi)
    N_SADD
    N_SPOP
    N_SISMEMBER
    N_SCARD
    N_HSET
    N_HGET
    N_ZADD
    N_ZPOPMIN
    N_ZSCORE
    N_ZCARD

cdef dict _CODES = {
    "ping": N_PING, "echo": N_ECHO, "get": N_GET, "set": N_SET, "incr": N_INCR, "decr": N_DECR,
    "incrby": N_INCRBY, "decrby": N_DECRBY, "mset": N_MSET, "exists": N_EXISTS,
    "lpush": N_LPUSH, "rpush": N_RPUSH, "lpop": N_LPOP, "rpop": N_RPOP, "lrange": N_LRANGE, "llen": N_LLEN,
    "sadd": N_SADD, "spop": N_SPOP, "sismember": N_SISMEMBER, "scard": N_SCARD,
    "hset": N_HSET, "hget": N_HGET,
    "zadd": N_ZADD, "zpopmin": N_ZPOPMIN, "zscore": N_ZSCORE, "zcard": N_ZCARD,
}


cdef int native_code(object cmd) except -1:
    """The native code of a Command, 0 when it has none (subcommands never have one)."""
    if cmd.parent is not None:
        return 0
    return _CODES.get(cmd.name, 0)


# ---------------------------------------------------------------------------
# helpers shared by the natives
# ---------------------------------------------------------------------------

cdef inline object _arg(list argv, Py_ssize_t i):
    return <object>PyList_GET_ITEM(argv, i)


cdef inline bint _has_ttl(Keyspace ks, object key) except -1:
    """A key with a TTL: its expiry must be checked, which only the Python path does."""
    return len(ks.expires) != 0 and PyDict_Contains(ks.expires, key) == 1


cdef inline PyObject *_lookup(Keyspace ks, object key):
    """The stored value (borrowed), NULL when absent.  Call _has_ttl first."""
    return PyDict_GetItem(ks.data, key)


cdef inline int _null(Keyspace ks, Writer w) except -1:
    if ks.resp == 3:
        return w._put("_\r\n", 3)
    return w._put("$-1\r\n", 5)


cdef inline int _ok(Writer w) except -1:
    return w._put("+OK\r\n", 5)


cdef inline bint _int_arg(object a, long long *out) noexcept:
    return parse_ll(PyBytes_AS_STRING(a), PyBytes_GET_SIZE(a), out) == 1


cdef inline object _ll_bytes(long long v):
    """str(v).encode() without the str."""
    cdef char buf[24]
    cdef char *p = ll_digits(buf + 24, v)
    return PyBytes_FromStringAndSize(p, buf + 24 - p)


# ---------------------------------------------------------------------------
# connection and strings
# ---------------------------------------------------------------------------

cdef int _ping(Keyspace ks, list argv, Writer w) except -2:
    if PyList_GET_SIZE(argv) != 1:
        return NATIVE_FALLBACK
    w._put("+PONG\r\n", 7)
    return NATIVE_READ


cdef int _echo(Keyspace ks, list argv, Writer w) except -2:
    cdef object a = _arg(argv, 1)
    w._bulk(PyBytes_AS_STRING(a), PyBytes_GET_SIZE(a))
    return NATIVE_READ


cdef int _get(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef object key = _arg(argv, 1)
    cdef PyObject *v
    if _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v == NULL:
        p.misses += 1
        _null(ks, w)
        return NATIVE_READ
    if type(<object>v) is not bytes:
        return NATIVE_FALLBACK  # bytearray, or WRONGTYPE
    p.hits += 1
    w._bulk(PyBytes_AS_STRING(<object>v), PyBytes_GET_SIZE(<object>v))
    return NATIVE_READ


cdef inline bint _holds_container(dict data, object key):
    """An overwrite of a non-string goes through Database.set: lazyfree frees big values in slices."""
    cdef PyObject *old = PyDict_GetItem(data, key)
    return old is not NULL and type(<object>old) is not bytes


cdef int _set(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef object key
    if PyList_GET_SIZE(argv) != 3 or not ks.writable:
        return NATIVE_FALLBACK
    key = _arg(argv, 1)
    if _has_ttl(ks, key) or _holds_container(ks.data, key):
        return NATIVE_FALLBACK
    PyDict_SetItem(ks.data, key, _arg(argv, 2))
    p.dirty += 1
    _ok(w)
    return NATIVE_WROTE


cdef int _incr(Keyspace ks, list argv, Writer w, Pending *p, long long by) except -2:
    """INCR/DECR/INCRBY/DECRBY: int64 arithmetic on a bytes value; any error falls back."""
    cdef object key = _arg(argv, 1)
    cdef PyObject *v
    cdef long long old = 0
    cdef long long new
    if not ks.writable or _has_ttl(ks, key):
        return NATIVE_FALLBACK
    v = _lookup(ks, key)
    if v != NULL:
        if type(<object>v) is not bytes or not _int_arg(<object>v, &old):
            return NATIVE_FALLBACK
    if fr_add_overflow(old, by, &new):
        return NATIVE_FALLBACK
    PyDict_SetItem(ks.data, key, _ll_bytes(new))
    p.dirty += 1
    w._header(b':', new)
    return NATIVE_WROTE


cdef int _incrby(Keyspace ks, list argv, Writer w, Pending *p, bint negate) except -2:
    cdef long long by
    if not _int_arg(_arg(argv, 2), &by):
        return NATIVE_FALLBACK
    if negate:
        if by == -9223372036854775807LL - 1:
            return NATIVE_FALLBACK
        by = -by
    return _incr(ks, argv, w, p, by)


cdef int _mset(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    cdef Py_ssize_t n = PyList_GET_SIZE(argv)
    cdef Py_ssize_t j
    cdef dict expires = ks.expires
    cdef dict data = ks.data
    cdef object key
    if n % 2 == 0 or not ks.writable:
        return NATIVE_FALLBACK
    j = 1
    while j < n:
        if _holds_container(data, _arg(argv, j)):
            return NATIVE_FALLBACK
        j += 2
    j = 1
    while j < n:
        key = _arg(argv, j)
        # SET drops the TTL and stores: no expiry check, like Database.set
        if len(expires) != 0 and PyDict_Contains(expires, key) == 1:
            PyDict_DelItem(expires, key)
        PyDict_SetItem(data, key, _arg(argv, j + 1))
        j += 2
    p.dirty += (n - 1) // 2
    _ok(w)
    return NATIVE_WROTE


cdef int _exists(Keyspace ks, list argv, Writer w, Pending *p) except -2:
    """A read lookup per argument, like Redis' existsCommand: it counts keyspace hits/misses."""
    cdef Py_ssize_t n = PyList_GET_SIZE(argv)
    cdef Py_ssize_t j
    cdef long long count = 0
    cdef object key
    for j in range(1, n):
        key = _arg(argv, j)
        if _has_ttl(ks, key):
            return NATIVE_FALLBACK  # nothing counted yet: the Python handler counts every key
        if PyDict_Contains(ks.data, key) == 1:
            count += 1
    p.hits += count
    p.misses += n - 1 - count
    w._header(b':', count)
    return NATIVE_READ


include "_native_lists.pxi"
include "_native_sets.pxi"
include "_native_hashes.pxi"
include "_native_zsets.pxi"


# ---------------------------------------------------------------------------
# dispatch
# ---------------------------------------------------------------------------

cdef int run_native(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2:
    """Run command ``code`` natively (arity already checked); a NATIVE_* result."""
    if code == N_GET:
        return _get(ks, argv, w, p)
    if code == N_SET:
        return _set(ks, argv, w, p)
    if code == N_PING:
        return _ping(ks, argv, w)
    if code == N_INCR:
        return _incr(ks, argv, w, p, 1)
    if code == N_DECR:
        return _incr(ks, argv, w, p, -1)
    if code == N_INCRBY:
        return _incrby(ks, argv, w, p, False)
    if code == N_DECRBY:
        return _incrby(ks, argv, w, p, True)
    if code == N_MSET:
        return _mset(ks, argv, w, p)
    if code == N_ECHO:
        return _echo(ks, argv, w)
    if code == N_EXISTS:
        return _exists(ks, argv, w, p)
    if code <= N_LLEN:
        return run_list(code, ks, argv, w, p)
    if code <= N_SCARD:
        return run_set(code, ks, argv, w, p)
    if code <= N_HGET:
        return run_hash(code, ks, argv, w, p)
    return run_zset(code, ks, argv, w, p)
