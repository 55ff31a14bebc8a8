from ._native cimport Keyspace
from ._resp cimport Parser, Writer


cdef class Entry:
    cdef readonly object cmd
    cdef object handler
    cdef bytes fullname
    cdef Py_ssize_t arity
    cdef bint fast
    cdef bint write
    cdef int native  # _native code, 0 when the command has no native handler
    # statistics not yet added to the Command (see Dispatcher.flush_stats)
    cdef long long calls
    cdef long long nsec
    cdef long long failed
    cdef bint listed
    # latency-tracking: hdr counts not yet added to cmd.latency_histogram (observe.COUNTS_LEN)
    cdef unsigned long long hist[3072]
    cdef bint hist_listed


cdef class Dispatcher:
    cdef readonly Parser parser
    cdef readonly Writer writer
    cdef object conn
    cdef object server
    cdef object stats
    cdef object blocking
    cdef object _client
    cdef object _transport
    cdef object t_write
    cdef object t_buffered
    cdef int fd             # the socket, written directly while uvloop holds nothing (see _send)
    cdef bint direct
    cdef public bint closed
    cdef public bint waiting
    cdef list pending
    cdef bint client_ok
    cdef object client_resp
    cdef bint fast
    cdef bint prop
    cdef bint waiters
    cdef bint native  # natives may run this batch (see _native.pyx)
    cdef Keyspace ks
    cdef unsigned long long ks_epoch  # ks was loaded at this _epoch (see _refresh)
    cdef dict cdict                   # the client's __dict__
    cdef Entry last
    cdef bytes last_flushed
    cdef bytes cached_name
    cdef Entry cached_entry
    cdef long long t_prev
    cdef double read_at

    cdef int _refresh(self) except -1
    cpdef client_changed(self)
    cdef Entry _lookup(self, object name)
    cdef int _account(self, Py_ssize_t nout) except -1
    cdef Py_ssize_t _send(self) except -1
    cdef object _call(self, Entry e, list argv)
    cdef int _count(self, Entry e, list argv) except -1
    cdef int _native_done(self, Entry e, list argv, bint dirtied) except -1
    cpdef flush_stats(self)
    cpdef process(self)
    cpdef flush(self)
