cdef char *ll_digits(char *end, long long v) noexcept nogil
cdef int parse_ll(const char *s, Py_ssize_t n, long long *out) noexcept nogil


cdef class Parser:
    cdef char *buf
    cdef char *base  # what start/end index: buf, or the bytes of ext while parsing it in place
    cdef object ext
    cdef Py_ssize_t cap
    cdef Py_ssize_t start
    cdef Py_ssize_t end
    cdef long long multibulklen
    cdef long long bulklen
    cdef int reqtype
    cdef list args
    cdef long long argc
    cdef bytes last_name
    cdef bytes last_key
    cdef public object error
    cdef public long long max_bulk_len
    cdef public long long max_query_len
    cdef public long long max_mbulk_len
    cdef public int inline_allowed
    cdef public int auth_required

    cdef int _reserve(self, Py_ssize_t extra) except -1
    cdef int _own(self) except -1
    cdef inline void _shrink(self)
    cpdef feed(self, data)
    cpdef list parse(self)
    cdef object _parse_inline(self)
    cdef object _parse_multibulk(self)


cdef class Writer:
    cdef char *buf
    cdef Py_ssize_t cap
    cdef Py_ssize_t len
    cdef public int resp

    cdef int _reserve(self, Py_ssize_t extra) except -1
    cdef inline int _put(self, const char *data, Py_ssize_t n) except -1
    cdef int _header(self, char prefix, long long n) except -1
    cdef int _bulk(self, const char *data, Py_ssize_t n) except -1
    cpdef write_raw(self, bytes data)
    cpdef write_bulk(self, bytes data)
    cpdef write_int(self, long long v)
    cpdef write_array_header(self, Py_ssize_t n)
    cpdef write_error(self, msg)
    cpdef write(self, object o)
    cpdef bytes take(self)
