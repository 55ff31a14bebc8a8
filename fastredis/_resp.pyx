# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""RESP2/RESP3 request parser and reply encoder: the hot path.

The parser keeps one growing C buffer per connection, parses requests in place
and creates exactly one ``bytes`` object per argument.  The encoder appends
replies to a growing C buffer so a whole read batch goes out in one write.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE
from libc.string cimport memcpy, memmove, memchr, memcmp
from libc.stdint cimport int64_t, uint64_t
from libc.stdio cimport snprintf
from libc.math cimport isinf, isnan, fabs, copysign

cdef extern from "Python.h":
    Py_ssize_t PyList_GET_SIZE(object)
    Py_ssize_t PyTuple_GET_SIZE(object)

DEF PROTO_INLINE_MAX_SIZE = 65536
DEF PROTO_MBULK_BIG_ARG = 32768
DEF INITIAL_BUF = 16384
DEF INT_MAX = 2147483647
DEF PREALLOC_ARGS = 1024


class ProtocolError(Exception):
    """A request that breaks RESP: the reply is sent, then the client is closed."""


# ---------------------------------------------------------------------------
# Reply marker types.  Plain Python types map to the obvious RESP type:
# bytes/bytearray/str -> bulk, int -> integer, None -> null, list/tuple -> array,
# dict -> map, float -> double, bool -> boolean.
# ---------------------------------------------------------------------------

class Status(bytes):
    """A simple string reply (+OK)."""
    __slots__ = ()


class Raw(bytes):
    """Pre-encoded reply bytes, written as they are in both protocols."""
    __slots__ = ()


class SetReply(list):
    """An array that RESP3 sends as a set (~)."""
    __slots__ = ()


class Push(list):
    """An out-of-band message: RESP3 push (>), RESP2 array."""
    __slots__ = ()


class BigNumber(bytes):
    """RESP3 big number; RESP2 bulk string."""
    __slots__ = ()


class Verbatim(bytes):
    """RESP3 verbatim string (``=len\\r\\ntxt:...``); RESP2 bulk string."""
    __slots__ = ()


class Nil:
    """The null array: RESP2 ``*-1``, RESP3 ``_``."""
    __slots__ = ()

    def __repr__(self):
        return "NULL_ARRAY"


class ReplyError(Exception):
    """An error reply.  ``args[0]`` is the full text, e.g. ``"ERR syntax error"``."""

    def __init__(self, message):
        Exception.__init__(self, message)
        if isinstance(message, str):
            message = message.encode()
        self.message = message

    @property
    def code(self):
        """The error code, the first word (ERR, WRONGTYPE, ...)."""
        return self.message.split(b" ", 1)[0]


NULL_ARRAY = Nil()
OK = Raw(b"+OK\r\n")
QUEUED = Raw(b"+QUEUED\r\n")
PONG = Raw(b"+PONG\r\n")

cdef object _Status = Status
cdef object _Raw = Raw
cdef object _SetReply = SetReply
cdef object _Push = Push
cdef object _BigNumber = BigNumber
cdef object _Verbatim = Verbatim
cdef object _Nil = Nil
cdef object _ReplyError = ReplyError


# ---------------------------------------------------------------------------
# Number helpers
# ---------------------------------------------------------------------------

cdef int parse_ll(const char *s, Py_ssize_t n, long long *out) noexcept nogil:
    """Strict base-10 parse like Redis' string2ll: no spaces, no '+', no leading zeros."""
    cdef Py_ssize_t i = 0
    cdef unsigned long long v = 0
    cdef unsigned long long d
    cdef int neg = 0
    cdef unsigned long long limit
    if n <= 0 or n > 20:
        return 0
    if n == 1 and s[0] == b'0':
        out[0] = 0
        return 1
    if s[0] == b'-':
        neg = 1
        i = 1
        if n == 1:
            return 0
    if s[i] < b'1' or s[i] > b'9':
        return 0
    while i < n:
        if s[i] < b'0' or s[i] > b'9':
            return 0
        if v > 1844674407370955161ULL:
            return 0
        v = v * 10
        d = <unsigned long long>(<unsigned char>s[i] - 48)
        if v > 18446744073709551615ULL - d:
            return 0
        v += d
        i += 1
    if neg:
        if v > 9223372036854775808ULL:
            return 0
        out[0] = <long long>(0 - v)
    else:
        if v > 9223372036854775807ULL:
            return 0
        out[0] = <long long>v
    return 1


cdef char *ll_digits(char *end, long long v) noexcept nogil:
    """Write ``v`` in decimal backwards so that it ends just before ``end`` (at most 20
    bytes); the first byte written."""
    cdef char *p = end
    cdef unsigned long long u = <unsigned long long>0 - <unsigned long long>v if v < 0 else <unsigned long long>v
    while True:
        p -= 1
        p[0] = <char>(48 + u % 10)
        u //= 10
        if u == 0:
            break
    if v < 0:
        p -= 1
        p[0] = b'-'
    return p


def string2ll(data):
    """Parse bytes as Redis parses an integer argument; None when it is not one."""
    cdef long long v
    cdef const unsigned char[:] view
    if type(data) is bytes:
        if parse_ll(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), &v):
            return v
        return None
    data = bytes(data)
    if parse_ll(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), &v):
        return v
    return None


# ---------------------------------------------------------------------------
# Inline command splitting (sdssplitargs)
# ---------------------------------------------------------------------------

cdef inline int is_hex(unsigned char c) noexcept:
    return (b'0' <= c <= b'9') or (b'a' <= c <= b'f') or (b'A' <= c <= b'F')

cdef inline int hex_val(unsigned char c) noexcept:
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    return c - 55

cdef inline int is_space(unsigned char c) noexcept:
    return c == b' ' or c == b'\n' or c == b'\r' or c == b'\t' or c == b'\v' or c == b'\f'


def split_args(line):
    """Split a line the way Redis' sdssplitargs does; None on unbalanced quotes.

    Blanks between arguments are C ``isspace``; an unquoted argument ends only at
    space, tab, CR or LF (so ``\v`` and ``\f`` stay in it); the string ends at a NUL.
    """
    cdef bytes data = bytes(line)
    return split_c(<const unsigned char *>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))


cdef object split_c(const unsigned char *p, Py_ssize_t n):
    """split_args on a buffer: a list of bytes, or None on unbalanced quotes."""
    cdef const unsigned char *nul = <const unsigned char *>memchr(p, 0, n)
    cdef unsigned char small[256]
    cdef unsigned char *out
    cdef list result = []
    if nul != NULL:
        n = nul - p
    if n <= 256:
        out = small
    else:
        out = <unsigned char *>PyMem_Malloc(n)  # an argument is never longer than the line
        if out == NULL:
            raise MemoryError()
    try:
        if not _split_into(p, n, out, result):
            return None
        return result
    finally:
        if out != small:
            PyMem_Free(out)


cdef bint _split_into(const unsigned char *p, Py_ssize_t n, unsigned char *out, list result) except -1:
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t k, start
    cdef int inq, insq, done
    cdef unsigned char c
    while True:
        while i < n and is_space(p[i]):
            i += 1
        if i >= n:
            return True
        # the common case: an unquoted word, taken as it is
        start = i
        while i < n:
            c = p[i]
            if c == b' ' or c == b'\n' or c == b'\r' or c == b'\t' or c == b'"' or c == b"'":
                break
            i += 1
        if i >= n or p[i] != b'"' and p[i] != b"'":
            result.append(PyBytes_FromStringAndSize(<const char *>p + start, i - start))
            if i < n:
                i += 1
            continue
        # a quote inside the word: the general loop from the word's start
        i = start
        k = 0
        inq = 0
        insq = 0
        done = 0
        while not done:
            if inq:
                if i >= n:
                    return False
                if p[i] == b'\\' and i + 3 < n and p[i + 1] == b'x' and is_hex(p[i + 2]) and is_hex(p[i + 3]):
                    out[k] = hex_val(p[i + 2]) * 16 + hex_val(p[i + 3])
                    k += 1
                    i += 3
                elif p[i] == b'\\' and i + 1 < n:
                    i += 1
                    c = p[i]
                    if c == b'n':
                        c = b'\n'
                    elif c == b'r':
                        c = b'\r'
                    elif c == b't':
                        c = b'\t'
                    elif c == b'b':
                        c = b'\b'
                    elif c == b'a':
                        c = b'\a'
                    out[k] = c
                    k += 1
                elif p[i] == b'"':
                    # closing quote must be followed by a space or nothing
                    if i + 1 < n and not is_space(p[i + 1]):
                        return False
                    done = 1
                else:
                    out[k] = p[i]
                    k += 1
            elif insq:
                if i >= n:
                    return False
                if p[i] == b'\\' and i + 1 < n and p[i + 1] == b"'":
                    i += 1
                    out[k] = 39
                    k += 1
                elif p[i] == b"'":
                    if i + 1 < n and not is_space(p[i + 1]):
                        return False
                    done = 1
                else:
                    out[k] = p[i]
                    k += 1
            else:
                if i >= n:
                    done = 1
                    break
                c = p[i]
                if c == b' ' or c == b'\n' or c == b'\r' or c == b'\t':
                    done = 1
                elif c == b'"':
                    inq = 1
                elif c == b"'":
                    insq = 1
                else:
                    out[k] = c
                    k += 1
            if i < n:
                i += 1
        result.append(PyBytes_FromStringAndSize(<const char *>out, k))


# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------

cdef inline char *find_c(char *p, Py_ssize_t n, char c) noexcept:
    """``strchr`` on Redis' NUL-terminated query buffer: a NUL byte before ``c`` hides it.

    Redis looks for the end of inline lines and ``*``/``$`` headers with strchr,
    so a NUL in such a line makes it wait for more input (and eventually fail
    with a "too big" error).  Bulk payloads are read by length and may hold NULs.
    """
    cdef char *hit = <char *>memchr(p, c, n)
    if hit == NULL:
        return NULL
    if memchr(p, 0, hit - p) != NULL:
        return NULL
    return hit

cdef inline Py_ssize_t plain_header(const char *p, Py_ssize_t avail, long long *out) noexcept:
    """The common ``*<n>\r\n`` / ``$<n>\r\n`` header, read in one pass.

    ``p`` points at the ``*``/``$``.  When 1 to 18 plain digits (no sign, no
    leading zero but "0") are followed by ``\r`` and at least one more byte,
    returns the offset of the ``\r`` and stores the number: exactly what
    ``find_c`` + ``parse_ll`` give for such a header.  Anything else returns -1
    and the general path decides (wait, error, sign, big numbers).
    """
    cdef Py_ssize_t j = 1
    cdef long long v = 0
    cdef unsigned char ch
    while j < avail and j <= 18:
        ch = <unsigned char>p[j]
        if ch < 48 or ch > 57:
            break
        v = v * 10 + (ch - 48)
        j += 1
    if j == 1 or j > avail - 2 or p[j] != b'\r' or (p[1] == b'0' and j > 2):
        return -1
    out[0] = v
    return j


cdef inline object _same_bytes(bytes last, const char *p, Py_ssize_t n):
    """``last`` when it holds exactly these ``n`` bytes (to be shared), else None."""
    if last is not None and PyBytes_GET_SIZE(last) == n and memcmp(PyBytes_AS_STRING(last), p, n) == 0:
        return last
    return None


cdef class Parser:
    """Incremental request parser for one connection.

    ``feed(data)`` appends bytes; ``parse()`` returns the list of complete
    commands (each a list of ``bytes``).  After a protocol error ``error`` holds
    the message (without the ``-ERR`` prefix) and no further input is parsed.
    """

    def __cinit__(self):
        self.buf = <char *>PyMem_Malloc(INITIAL_BUF)
        if self.buf == NULL:
            raise MemoryError()
        self.cap = INITIAL_BUF
        self.base = self.buf
        self.ext = None
        self.start = 0
        self.end = 0
        self.multibulklen = 0
        self.bulklen = -1
        self.reqtype = 0
        self.args = None
        self.argc = 0
        self.last_name = None
        self.last_key = None
        self.error = None
        self.max_bulk_len = 512 * 1024 * 1024
        self.max_query_len = 1024 * 1024 * 1024
        self.max_mbulk_len = INT_MAX
        self.inline_allowed = 1
        self.auth_required = 0

    def __dealloc__(self):
        if self.buf != NULL:
            PyMem_Free(self.buf)
            self.buf = NULL

    property buffered:
        """Bytes received but not yet parsed (the query buffer length)."""
        def __get__(self):
            return self.end - self.start

    property capacity:
        def __get__(self):
            return self.cap

    property pending_args:
        """True while a command is partially received."""
        def __get__(self):
            return self.multibulklen > 0 or self.end > self.start

    cdef int _reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t need
        cdef Py_ssize_t newcap
        cdef char *nb
        if self.start > 0 and (self.end + extra > self.cap):
            # compact first: move unparsed bytes to the front
            memmove(self.buf, self.buf + self.start, self.end - self.start)
            self.end -= self.start
            self.start = 0
        need = self.end + extra
        if need <= self.cap:
            return 0
        newcap = self.cap
        while newcap < need:
            newcap *= 2
        nb = <char *>PyMem_Realloc(self.buf, newcap)
        if nb == NULL:
            raise MemoryError()
        self.buf = nb
        self.base = nb
        self.cap = newcap
        return 0

    cdef int _own(self) except -1:
        """Stop parsing ``ext`` in place: keep its unparsed tail in our own buffer."""
        cdef Py_ssize_t n = self.end - self.start
        cdef object keep = self.ext  # ``tail`` points into it until the copy is done
        cdef const char *tail = self.base + self.start
        self.base = self.buf
        self.start = 0
        self.end = 0
        self.ext = None
        if n > 0:
            self._reserve(n)
            memcpy(self.buf, tail, n)
            self.end = n
            if self.bulklen >= PROTO_MBULK_BIG_ARG:
                # the room for a big argument that the in-buffer path reserves on its header
                self._reserve(min(self.bulklen + 2, 16 * 1024 * 1024))
        return 0

    cpdef feed(self, data):
        """Append received bytes to the query buffer.

        A ``bytes`` object that arrives while nothing is buffered is not copied:
        ``parse()`` reads it in place and copies only what it leaves unparsed (an
        incomplete request) into the buffer.  ``bytes`` is immutable, so holding a
        reference until then is safe; other buffer types are always copied.
        """
        cdef Py_buffer view
        if self.error is not None:
            return
        if self.ext is not None:
            self._own()
        if type(data) is bytes and self.start == self.end:
            self.ext = data
            self.base = PyBytes_AS_STRING(data)
            self.start = 0
            self.end = PyBytes_GET_SIZE(data)
            return
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            self._reserve(view.len)
            memcpy(self.buf + self.end, view.buf, view.len)
            self.end += view.len
        finally:
            PyBuffer_Release(&view)

    cdef inline void _shrink(self):
        if self.start == self.end:
            self.start = 0
            self.end = 0
            if self.cap > 1024 * 1024 and self.multibulklen == 0:
                # give back memory after a big request
                self.buf = <char *>PyMem_Realloc(self.buf, INITIAL_BUF)
                self.base = self.buf
                self.cap = INITIAL_BUF

    cpdef list parse(self):
        """Return every complete command in the buffer.

        While ``auth_required`` is set at most one command is returned, so the
        caller can run AUTH before the next request is checked against the
        unauthenticated limits (as Redis, which parses and runs one at a time).
        """
        cdef list out = []
        cdef object cmd
        if self.error is not None:
            if self.ext is not None:
                self._own()
            return out
        while self.start < self.end:
            if self.reqtype == 0:
                if self.base[self.start] == b'*':
                    self.reqtype = 2
                else:
                    self.reqtype = 1
            if self.reqtype == 1:
                cmd = self._parse_inline()
            else:
                cmd = self._parse_multibulk()
            if cmd is None:
                break
            self.reqtype = 0
            if cmd is not False:
                out.append(cmd)
                if self.auth_required:
                    break
            if self.error is not None:
                break
        if self.ext is not None:
            self._own()
        self._shrink()
        return out

    cdef object _parse_inline(self):
        cdef char *p = self.base + self.start
        cdef Py_ssize_t n = self.end - self.start
        cdef char *nl = find_c(p, n, b'\n')
        cdef Py_ssize_t linelen
        cdef object args
        if nl == NULL:
            if n > PROTO_INLINE_MAX_SIZE:
                self.error = "Protocol error: too big inline request"
            return None
        linelen = nl - p
        self.start += linelen + 1
        if linelen > 0 and p[linelen - 1] == b'\r':
            linelen -= 1
        args = split_c(<const unsigned char *>p, linelen)
        if args is None:
            self.error = "Protocol error: unbalanced quotes in request"
            return None
        if len(args) == 0:
            return False
        return args

    cdef object _parse_multibulk(self):
        cdef char *p
        cdef char *cr
        cdef Py_ssize_t avail
        cdef Py_ssize_t hlen
        cdef long long ll
        cdef list args
        cdef object arg
        if self.multibulklen == 0:
            p = self.base + self.start
            avail = self.end - self.start
            hlen = plain_header(p, avail, &ll)
            if hlen < 0:
                cr = find_c(p, avail, b'\r')
                if cr == NULL:
                    if avail > PROTO_INLINE_MAX_SIZE:
                        self.error = "Protocol error: too big mbulk count string"
                    return None
                # need the \n after the \r as well
                if (cr - p) > avail - 2:
                    return None
                if not parse_ll(p + 1, cr - (p + 1), &ll):
                    self.error = "Protocol error: invalid multibulk length"
                    return None
                hlen = cr - p
            if ll > self.max_mbulk_len:
                self.error = "Protocol error: invalid multibulk length"
                return None
            if ll > 10 and self.auth_required:
                self.error = "Protocol error: unauthenticated multibulk length"
                return None
            self.start += hlen + 2
            if ll <= 0:
                return False
            self.multibulklen = ll
            self.argc = ll
            # small commands get their list at full size (no append per argument)
            self.args = PyList_New(ll) if ll <= PREALLOC_ARGS else []
            self.bulklen = -1
        args = self.args
        while self.multibulklen > 0:
            if self.bulklen == -1:
                p = self.base + self.start
                avail = self.end - self.start
                if avail <= 0:
                    return None
                hlen = plain_header(p, avail, &ll) if p[0] == b'$' else -1
                if hlen < 0:
                    cr = find_c(p, avail, b'\r')
                    if cr == NULL:
                        if avail > PROTO_INLINE_MAX_SIZE:
                            self.error = "Protocol error: too big bulk count string"
                        return None
                    if (cr - p) > avail - 2:
                        return None
                    if p[0] != b'$':
                        self.error = "Protocol error: expected '$', got '%s'" % chr(<unsigned char>p[0])
                        return None
                    if not parse_ll(p + 1, cr - (p + 1), &ll) or ll < 0:
                        self.error = "Protocol error: invalid bulk length"
                        return None
                    hlen = cr - p
                if ll > self.max_bulk_len:
                    self.error = "Protocol error: invalid bulk length"
                    return None
                if ll > 16384 and self.auth_required:
                    self.error = "Protocol error: unauthenticated bulk length"
                    return None
                self.start += hlen + 2
                self.bulklen = ll
                if ll >= PROTO_MBULK_BIG_ARG and self.ext is None:
                    # make room for the argument at once (up to 16 MB: a bare header
                    # must not make us allocate proto-max-bulk-len bytes); when parsing
                    # in place, _own() does this if the argument is incomplete
                    self._reserve(min(ll + 2, 16 * 1024 * 1024))
            avail = self.end - self.start
            if avail < self.bulklen + 2:
                return None
            if self.multibulklen == self.argc:
                # the command name: pipelines repeat it, so the last one is reused when equal
                # (one allocation less; its hash is already computed for the command lookup)
                arg = _same_bytes(self.last_name, self.base + self.start, self.bulklen)
                if arg is None:
                    arg = PyBytes_FromStringAndSize(self.base + self.start, self.bulklen)
                    if self.bulklen <= 32:
                        self.last_name = arg
            elif self.multibulklen == self.argc - 1:
                # the first argument, usually the key: commands in a row often name the same
                # key (a queue, a counter, a hash being filled), so the previous one is reused
                # when equal: its hash is cached and the dict finds it by identity
                arg = _same_bytes(self.last_key, self.base + self.start, self.bulklen)
                if arg is None:
                    arg = PyBytes_FromStringAndSize(self.base + self.start, self.bulklen)
                    if self.bulklen <= 64:
                        self.last_key = arg
            else:
                arg = PyBytes_FromStringAndSize(self.base + self.start, self.bulklen)
            if self.argc <= PREALLOC_ARGS:
                Py_INCREF(arg)  # PyList_SET_ITEM steals it
                PyList_SET_ITEM(args, self.argc - self.multibulklen, arg)
            else:
                args.append(arg)
            self.start += self.bulklen + 2
            self.bulklen = -1
            self.multibulklen -= 1
        self.args = None
        return args


# ---------------------------------------------------------------------------
# Double formatting (Redis 7.2 d2string: shortest round-trip representation)
# ---------------------------------------------------------------------------

cdef bytes _emit_digits(str digits, int K, bint neg):
    """Lay out ``digits * 10**K`` like fpconv's emit_digits (Redis 7.2 util.c/fpconv_dtoa.c).

    Plain integers up to 7 trailing zeros, plain decimals when the exponent is
    small, otherwise ``d.ddde[+-]X`` with the exponent not zero-padded (``1e+20``,
    ``1.5e-7``).
    """
    cdef int ndigits = len(digits)
    cdef int exp = K + ndigits - 1
    cdef int offset
    cdef str out
    if exp < 0:
        exp = -exp
    if K >= 0 and exp < ndigits + 7:
        out = digits + "0" * K
    elif K < 0 and (K > -7 or exp < 4):
        offset = ndigits + K
        if offset <= 0:
            out = "0." + "0" * (-offset) + digits
        else:
            out = digits[:offset] + "." + digits[offset:]
    else:
        if ndigits > 18 - neg:
            ndigits = 18 - neg
        out = digits[0]
        if ndigits > 1:
            out += "." + digits[1:ndigits]
        out += ("e-" if K + ndigits - 1 < 0 else "e+") + str(exp)
    if neg:
        out = "-" + out
    return out.encode()


def format_double(double d):
    """Format a double as Redis 7.2's d2string: ``1.5``, ``3``, ``1e+20``, ``-inf``, ``nan``.

    Integral values within +-2**62 print as integers (double2ll); everything else
    takes the shortest round-trip digits (Python's repr, like grisu2 in fpconv)
    laid out by fpconv's rules.
    """
    cdef char buf[32]
    cdef int n
    cdef long long ll
    cdef str s, mant, e, intpart, frac, digits
    cdef int K
    if isnan(d):
        return b"nan"
    if isinf(d):
        return b"inf" if d > 0 else b"-inf"
    if d == 0:
        return b"-0" if copysign(1.0, d) < 0 else b"0"
    if -4611686018427387904.0 <= d <= 4611686018427387904.0:
        ll = <long long>d
        if <double>ll == d:
            n = snprintf(buf, 32, "%lld", ll)
            return PyBytes_FromStringAndSize(buf, n)
    s = repr(fabs(d))
    mant, _, e = s.partition("e")
    intpart, _, frac = mant.partition(".")
    digits = (intpart + frac).lstrip("0")
    K = (int(e) if e else 0) - len(frac)
    n = len(digits)
    while n > 1 and digits[n - 1] == "0":
        n -= 1
        K += 1
    return _emit_digits(digits[:n], K, d < 0)


# ---------------------------------------------------------------------------
# Encoder
# ---------------------------------------------------------------------------

cdef class Writer:
    """Accumulates encoded replies for one connection.

    ``resp`` (2 or 3) selects how maps, sets, nulls, doubles and booleans are
    written.  ``take()`` returns everything written since the last call.
    """

    def __cinit__(self):
        self.buf = <char *>PyMem_Malloc(INITIAL_BUF)
        if self.buf == NULL:
            raise MemoryError()
        self.cap = INITIAL_BUF
        self.len = 0
        self.resp = 2

    def __dealloc__(self):
        if self.buf != NULL:
            PyMem_Free(self.buf)
            self.buf = NULL

    def __len__(self):
        return self.len

    cdef int _reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t need = self.len + extra
        cdef Py_ssize_t newcap
        cdef char *nb
        if need <= self.cap:
            return 0
        newcap = self.cap
        while newcap < need:
            newcap *= 2
        nb = <char *>PyMem_Realloc(self.buf, newcap)
        if nb == NULL:
            raise MemoryError()
        self.buf = nb
        self.cap = newcap
        return 0

    cdef inline int _put(self, const char *data, Py_ssize_t n) except -1:
        if self.len + n > self.cap:
            self._reserve(n)
        memcpy(self.buf + self.len, data, n)
        self.len += n
        return 0

    cdef int _header(self, char prefix, long long n) except -1:
        """``<prefix><n>\\r\\n`` (digits written backwards: no snprintf on the hot path)."""
        cdef char tmp[32]
        cdef char *end = tmp + 32
        cdef char *p = ll_digits(end - 2, n)
        end[-2] = b'\r'
        end[-1] = b'\n'
        p -= 1
        p[0] = prefix
        return self._put(p, end - p)

    cdef int _bulk(self, const char *data, Py_ssize_t n) except -1:
        self._reserve(n + 24)
        self._header(b'$', n)
        memcpy(self.buf + self.len, data, n)
        self.len += n
        self.buf[self.len] = b'\r'
        self.buf[self.len + 1] = b'\n'
        self.len += 2
        return 0

    cpdef write_raw(self, bytes data):
        """Append pre-encoded bytes."""
        self._put(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))

    cpdef write_bulk(self, bytes data):
        self._bulk(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))

    cpdef write_int(self, long long v):
        self._header(b':', v)

    cpdef write_array_header(self, Py_ssize_t n):
        self._header(b'*', n)

    cpdef write_error(self, msg):
        """Write an error reply like addReplyErrorFormat: CR/LF trimmed at both ends, spaces inside."""
        cdef bytes b
        if isinstance(msg, str):
            b = (<str>msg).encode()
        else:
            b = bytes(msg)
        if b"\r" in b or b"\n" in b:
            b = b.strip(b"\r\n").replace(b"\r", b" ").replace(b"\n", b" ")
        self._put("-", 1)
        self._put(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
        self._put("\r\n", 2)

    cpdef write(self, object o):
        """Encode one reply value (see the marker types above)."""
        cdef type t = type(o)
        cdef long long v
        cdef bytes b
        cdef Py_ssize_t n
        if t is bytes:
            self._bulk(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o))
        elif t is _Raw:
            self._put(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o))
        elif t is int:
            try:
                v = o
            except OverflowError:
                # out of int64: only ever a big number
                b = str(o).encode()
                if self.resp == 3:
                    self._put("(", 1)
                    self._put(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
                    self._put("\r\n", 2)
                else:
                    self._bulk(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
                return
            self._header(b':', v)
        elif o is None:
            if self.resp == 3:
                self._put("_\r\n", 3)
            else:
                self._put("$-1\r\n", 5)
        elif t is list or t is tuple:
            n = len(o)
            self._header(b'*', n)
            for item in o:
                self.write(item)
        elif t is _Status:
            self._put("+", 1)
            self._put(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o))
            self._put("\r\n", 2)
        elif t is bytearray:
            self._bulk(PyByteArray_AS_STRING(o), PyByteArray_GET_SIZE(o))
        elif t is dict:
            n = len(o)
            if self.resp == 3:
                self._header(b'%', n)
            else:
                self._header(b'*', n * 2)
            for k, val in (<dict>o).items():
                self.write(k)
                self.write(val)
        elif t is bool:
            if self.resp == 3:
                self._put("#t\r\n" if o else "#f\r\n", 4)
            else:
                self._put(":1\r\n" if o else ":0\r\n", 4)
        elif t is float:
            b = format_double(o)
            if self.resp == 3:
                self._put(",", 1)
                self._put(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
                self._put("\r\n", 2)
            else:
                self._bulk(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
        elif t is str:
            b = (<str>o).encode()
            self._bulk(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
        elif t is _Nil:
            if self.resp == 3:
                self._put("_\r\n", 3)
            else:
                self._put("*-1\r\n", 5)
        elif t is _SetReply:
            self._header(b'~' if self.resp == 3 else b'*', len(o))
            for item in o:
                self.write(item)
        elif t is _Push:
            self._header(b'>' if self.resp == 3 else b'*', len(o))
            for item in o:
                self.write(item)
        elif t is _BigNumber:
            if self.resp == 3:
                self._put("(", 1)
                self._put(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o))
                self._put("\r\n", 2)
            else:
                self._bulk(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o))
        elif t is _Verbatim:
            if self.resp == 3:
                self._header(b'=', PyBytes_GET_SIZE(o) + 4)
                self._put("txt:", 4)
                self._put(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o))
                self._put("\r\n", 2)
            else:
                self._bulk(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o))
        elif isinstance(o, BaseException):
            if isinstance(o, _ReplyError):
                self.write_error((<object>o).message)
            else:
                self.write_error(b"ERR " + str(o).encode())
        elif isinstance(o, bytes):
            self._bulk(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o))
        elif isinstance(o, int):
            self._header(b':', o)
        elif isinstance(o, (list, tuple)):
            self._header(b'*', len(o))
            for item in o:
                self.write(item)
        elif isinstance(o, (set, frozenset)):
            self._header(b'~' if self.resp == 3 else b'*', len(o))
            for item in o:
                self.write(item)
        elif isinstance(o, (memoryview, bytearray)):
            b = bytes(o)
            self._bulk(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
        else:
            raise TypeError("cannot encode reply of type %r" % (t,))

    cpdef bytes take(self):
        """Return the encoded bytes and empty the buffer."""
        cdef bytes out = PyBytes_FromStringAndSize(self.buf, self.len)
        self.len = 0
        if self.cap > 1024 * 1024:
            self.buf = <char *>PyMem_Realloc(self.buf, INITIAL_BUF)
            self.cap = INITIAL_BUF
        return out


def encode(o, int resp=2):
    """Encode one reply value to bytes (convenience for tests and tools)."""
    cdef Writer w = Writer()
    w.resp = resp
    w.write(o)
    return w.take()


def encode_command(args):
    """Encode a command as a RESP multibulk (used for propagation and AOF)."""
    cdef Writer w = Writer()
    cdef object a
    w._header(b'*', len(args))
    for a in args:
        if type(a) is bytes:
            w._bulk(PyBytes_AS_STRING(a), PyBytes_GET_SIZE(a))
        elif isinstance(a, str):
            b = (<str>a).encode()
            w._bulk(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
        elif isinstance(a, int):
            b = str(a).encode()
            w._bulk(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
        else:
            b = bytes(a)
            w._bulk(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
    return w.take()
