# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The per-connection request loop in C: parse, dispatch, call the handler, encode the reply.

``Dispatcher.process`` replaces the Python loop that sent every request through
``executor.process_command`` and ``executor.call``.  While the client and the
server are in the common state (``executor.fast_path_client`` and
``fast_path_server``: authenticated, no MULTI, no RESP2 subscriptions, reply
mode ON, no MONITOR, no pause, not loading, no write gate, not a replica...) a
command accepted by ``executor.fast_path_command`` with a valid arity goes
straight to its handler: every check of ``process_command`` would pass, so
only what ``call`` does is left, and it is done here with C fields.

Statistics are counted in C: the per-command counters (read only by INFO and
CONFIG RESETSTAT, never fast-path commands) are added to the ``Command``
objects before the next command of any client takes the slow path;
``total_commands_processed``, the network counters and the client's
``last_cmd``/``last_interaction`` at the end of every batch.

Everything else (unknown names, arity errors, subcommands, MULTI, AUTH, pause,
...) runs through ``executor.process_command`` exactly as before, and the
state is re-read after it.  executor.py stays the single source of truth (see
"The fast path" there): change a check there and update the fast-path
functions next to it.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.ref cimport PyObject
from libc.string cimport memcmp, memset
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC, CLOCK_REALTIME

from ._native cimport NATIVE_FALLBACK, Keyspace, Pending, native_code, run_native
from ._resp cimport Parser, Writer

import os as _os
import sys as _sys

from ._resp import ReplyError
from .blocking import BLOCKED
from .context import REPLY_OFF, REPLY_ON, REPLY_SKIP, REPLY_SKIP_NEXT
from .observe import COUNTS_LEN, Histogram
from .executor import (
    FAST_OK,
    FAST_PROPAGATE,
    FAST_QUIET,
    FAST_WAITERS,
    account_counters,
    command_named,
    count_error,
    fast_path_client,
    fast_path_command,
    fast_path_server,
    internal_error,
    process_command,
    touch_keys,
)

cdef object _ReplyError = ReplyError
cdef object _touch_keys = touch_keys
cdef object _Histogram = Histogram
assert COUNTS_LEN == 3072  # Entry.hist in _dispatch.pxd
cdef object _BLOCKED = BLOCKED
cdef object _command_named = command_named
cdef object _count_error = count_error
cdef object _fast_path_client = fast_path_client
cdef object _fast_path_server = fast_path_server
cdef object _account_counters = account_counters
cdef long _FAST_OK = FAST_OK
cdef long _FAST_PROPAGATE = FAST_PROPAGATE
cdef long _FAST_WAITERS = FAST_WAITERS
cdef long _FAST_QUIET = FAST_QUIET
cdef object _fast_path_command = fast_path_command
cdef object _internal_error = internal_error
cdef object _process_command = process_command
cdef int _REPLY_ON = REPLY_ON
cdef int _REPLY_OFF = REPLY_OFF
cdef int _REPLY_SKIP = REPLY_SKIP
cdef int _REPLY_SKIP_NEXT = REPLY_SKIP_NEXT


cdef extern from *:
    int __builtin_clzll(unsigned long long x) nogil


cdef extern from "<sys/socket.h>" nogil:
    ssize_t send(int fd, const void *buf, size_t n, int flags)
    int MSG_NOSIGNAL
    int MSG_DONTWAIT


cdef inline long long _mono_ns() noexcept:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <long long>ts.tv_sec * 1000000000 + ts.tv_nsec


cdef inline double _wall() noexcept:
    cdef timespec ts
    clock_gettime(CLOCK_REALTIME, &ts)
    return <double>ts.tv_sec + <double>ts.tv_nsec * 1e-9


cdef class Entry:
    """A command as the fast path needs it: typed fields and pending statistics."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.handler = cmd.handler
        self.fullname = cmd.fullname.encode()
        self.arity = cmd.arity
        self.fast = bool(_fast_path_command(cmd))
        self.write = "write" in cmd.flags
        self.native = native_code(cmd) if self.fast else 0
        self.calls = 0
        self.nsec = 0
        self.failed = 0
        self.listed = False
        memset(self.hist, 0, sizeof(self.hist))
        self.hist_listed = False


# argv[0] exactly as sent ("SET", "set", ...) -> Entry; one Entry per Command
cdef dict _by_name = {}
cdef dict _by_cmd = {}
# entries with statistics not yet added to their Command (any connection's)
cdef list _touched = []
# Counted in C by every connection and added to the server's stats and dirty counter by
# _sync_counters, which ServerContext.sync_stats runs (the cron, INFO) and the dispatcher runs
# before any slow-path command: nothing reads these figures in between.
cdef long long _pending_total = 0  # commands run
cdef long long _pending_in = 0  # bytes read
cdef long long _pending_reads = 0
cdef long long _pending_out = 0  # bytes written
cdef long long _pending_writes = 0
cdef Pending _pend  # keyspace hits/misses and dirty counted by the natives
_pend.hits = _pend.misses = _pend.dirty = 0
cdef object _server = None  # the ServerContext the counters belong to (one per process)
# entries whose latency histogram counts are not yet in their Command (observe.Observer.latency_sources)
cdef list _hist_touched = []
# observe.Observer's gate_ns and track, re-read with the server state (see _server_state): a command
# that takes gate_ns or longer is reported to the observer (slow log, latency monitor)
cdef long long _gate_ns = 1LL << 62
cdef bint _track = True
cdef bint _track_access = False  # server.memory.track: LRU/LFU bookkeeping (natives are off then)

# The server's fast-path state (executor.fast_path_server), computed once and kept until
# something may have changed it: any command run by a Python handler (all state changes
# made by commands: MONITOR, CLIENT PAUSE, CONFIG SET, blocking...), the cron, and every
# other place that changes it calls ServerContext.state_changed() (loading, replication
# role, write gates, propagation targets, notifications).  With FASTREDIS_CHECK_STATE=1
# (the tests) every batch also recomputes it and a stale value stops the server.
# The same events advance _epoch, which tells each connection to re-read its database
# (Keyspace.load: dicts replaced by FLUSHDB/SWAPDB/loading, WATCH, SELECT).
cdef long _state = 0
cdef bint _state_valid = False
cdef unsigned long long _epoch = 1
cdef bint _check_state = bool(_os.environ.get("FASTREDIS_CHECK_STATE"))


cdef inline void _invalidate() noexcept:
    global _state_valid, _epoch
    _state_valid = False
    _epoch += 1


def _state_changed():
    """Forget the cached server state (ServerContext.state_listeners)."""
    _invalidate()


cdef long _server_state(object server) except? -1:
    global _state, _state_valid
    cdef long fresh
    if _state_valid:
        if _check_state:
            fresh = _fast_path_server(server)
            if fresh != _state:
                _stale_state(_state, fresh)
        return _state
    _state = _fast_path_server(server)
    _state_valid = True
    _observer_changed(server)
    return _state


cdef int _observer_changed(object server) except -1:
    global _gate_ns, _track, _track_access
    obs = server.observer
    _gate_ns = obs.gate_ns
    _track = obs.track
    _track_access = server.memory.track
    return 0


def _flush_histograms():
    """Add the latency counts kept in C to each Command's histogram (Observer.latency_sources)."""
    cdef Entry e
    cdef Py_ssize_t i
    for e in _hist_touched:
        h = e.cmd.latency_histogram
        if h is None:
            h = e.cmd.latency_histogram = _Histogram()
        for i in range(3072):
            if e.hist[i]:
                h.add_index(i, e.hist[i])
                e.hist[i] = 0
        e.hist_listed = False
    del _hist_touched[:]


cdef int _check_keyspace(Keyspace ks, object db) except -1:
    """FASTREDIS_CHECK_STATE: the cached Keyspace must still be the client's database."""
    if ks.db is not db or ks.data is not db.data or ks.expires is not db.expires or (ks.writable and db.watched):
        _stale_state(-1, -1)
    return 0


def _stale_state(long cached, long fresh):
    """FASTREDIS_CHECK_STATE: a change of the server state did not call state_changed()."""
    import traceback
    _sys.stderr.write("BUG: stale fast-path server state (cached %d, actual %d)\n" % (cached, fresh))
    traceback.print_stack(file=_sys.stderr)
    _sys.stderr.flush()
    _os._exit(70)


def _sync_counters():
    """Add the counters kept in C to the server's stats and dirty (ServerContext.stats_sources)."""
    global _pending_total, _pending_in, _pending_reads, _pending_out, _pending_writes
    if _pending_in or _pending_out or _pending_total or _pend.dirty:
        _account_counters(_server, _pending_in, _pending_reads, _pending_out, _pending_writes, _pending_total,
                          _pend.hits, _pend.misses, _pend.dirty)
        _pending_in = _pending_reads = _pending_out = _pending_writes = _pending_total = 0
        _pend.hits = _pend.misses = _pend.dirty = 0


cdef int _flush_entries() except -1:
    """Add every connection's pending per-command counters to the Commands."""
    cdef Entry e
    for e in _touched:
        cmd = e.cmd
        if e.calls:
            cmd.calls += e.calls
            e.calls = 0
        if e.nsec >= 1000:
            cmd.usec += e.nsec // 1000
            e.nsec %= 1000
        if e.failed:
            cmd.failed_calls += e.failed
            e.failed = 0
        e.listed = False
    del _touched[:]
    return 0


cdef Entry _entry_for(object name):
    cdef PyObject *p = PyDict_GetItem(_by_name, name)
    if p != NULL:
        return <Entry>p
    cmd = _command_named(name)
    if cmd is None:
        return None  # unknown: the slow path answers the error (not cached: random names)
    e = _by_cmd.get(cmd)
    if e is None:
        e = Entry(cmd)
        _by_cmd[cmd] = e
    if len(_by_name) >= 4096:
        _by_name.clear()
    _by_name[name] = e
    return e


cdef class Dispatcher:
    """Runs one connection's requests; owns its parser, writer and output."""

    def __init__(self, conn, server, Parser parser, Writer writer):
        global _server
        if _server is not server:
            if _server is not None:
                _sync_counters()
            _server = server
            if _sync_counters not in server.stats_sources:
                server.stats_sources.append(_sync_counters)
            if _state_changed not in server.state_listeners:
                server.state_listeners.append(_state_changed)
            if _flush_histograms not in server.observer.latency_sources:
                server.observer.latency_sources.append(_flush_histograms)
            _state_changed()
        self.conn = conn
        self.server = server
        self.stats = server.stats
        self.blocking = server.blocking
        self.parser = parser
        self.writer = writer
        self.client = None
        self.transport = None
        self.closed = False
        self.waiting = False
        self.pending = None
        self.client_ok = False
        self.client_resp = 2
        self.fast = False
        self.last = None
        self.last_flushed = None
        self.cached_name = None
        self.cached_entry = None
        self.read_at = 0.0
        self.native = False
        self.ks = Keyspace()

    property client:
        """The Client (None once the connection is gone)."""

        def __get__(self):
            return self._client

        def __set__(self, c):
            self._client = c
            self.client_changed()

    property transport:
        def __get__(self):
            return self._transport

        def __set__(self, t):
            self._transport = t
            self.t_write = t.write if t is not None else None
            self.t_buffered = t.get_write_buffer_size if t is not None else None
            self.fd = -1
            self.direct = False
            if t is not None and t.get_extra_info("sslcontext") is None:  # TLS: only the transport writes
                sock = t.get_extra_info("socket")
                if sock is not None:
                    self.fd = sock.fileno()

    def release(self):
        """The connection is gone (connection_lost): drop every reference it shared with us.

        Connection, Dispatcher, transport and Client point at each other; without this the
        cycle waits for a full garbage collection, and under connection churn closed clients
        pile up (and fragment the heap) between two of those.
        """
        self.closed = True
        self.conn = None
        self.transport = None
        self._client = None
        self.cdict = None
        self.client_ok = False
        self.pending = None
        self.last = None
        self.last_flushed = None
        self.cached_name = None
        self.cached_entry = None
        self.ks = Keyspace()

    cpdef client_changed(self):
        """Re-read the client's fast-path attributes (see executor.fast_path_client)."""
        c = self._client
        self.ks_epoch = 0
        if c is None:
            self.client_ok = False
            self.cdict = None
        else:
            self.client_ok = bool(_fast_path_client(c))
            self.client_resp = c.resp
            self.cdict = c.__dict__  # Client has no slots or descriptors for db/last_cmd/last_interaction

    # -- input ----------------------------------------------------------------

    def data_received(self, data):
        """asyncio's data_received: buffer the bytes, run what is complete."""
        global _pending_in, _pending_reads
        cdef Parser parser = self.parser
        if self._client is None or self.closed:
            return
        self.read_at = _wall()
        _pending_in += len(data)
        _pending_reads += 1
        parser.feed(data)
        if parser.end - parser.start > parser.max_query_len:
            # like Redis: checked on every read, before parsing it
            self._account(0)
            self.conn._protocol_error("query buffer limit")
            return
        if self.waiting:
            self._account(0)
            return
        self.process()

    # -- the loop ---------------------------------------------------------------

    cdef int _refresh(self) except -1:
        """Re-read the server's fast-path state (every batch and after a slow command)."""
        cdef long state = _server_state(self.server)
        self.fast = self.client_ok and (state & _FAST_OK) != 0
        self.prop = (state & _FAST_PROPAGATE) != 0
        self.waiters = (state & _FAST_WAITERS) != 0
        self.native = self.fast and not self.waiters and (state & _FAST_QUIET) != 0
        if self.native:
            ks = self.ks
            if self.ks_epoch != _epoch:
                ks.load(self._client.db, self.client_resp, self.prop)
                self.ks_epoch = _epoch
            else:
                ks.resp = self.client_resp
                ks.propagating = self.prop
                if _check_state:
                    _check_keyspace(ks, self._client.db)
        self.writer.resp = self.client_resp
        self.t_prev = _mono_ns()
        return 0

    cdef object _call(self, Entry e, list argv):
        """executor.call() for a client in the fast-path state (no MONITOR, no EXEC)."""
        cdef object c = self._client
        cdef object server = self.server
        cdef object reply
        cdef object dirty_before = None
        cdef long long t
        cdef bint propagating = self.prop and e.write
        if propagating:
            dirty_before = server.dirty
            c.propagate_argv = None
        try:
            _invalidate()  # a Python handler may change the server state (see _server_state)
            reply = e.handler(c, argv)
        except _ReplyError as exc:
            # shared error constants are raised again and again: drop the traceback (see call())
            exc.__traceback__ = None
            reply = exc
        except Exception as exc:
            reply = _internal_error(c, e.cmd, exc)
        _invalidate()
        if _track_access:
            _touch_keys(c, e.cmd, argv)
        self._count(e, argv if reply is not _BLOCKED else None)
        if type(reply) is _ReplyError:
            e.failed += 1
            _count_error(c, reply)
        if propagating and server.dirty != dirty_before:
            alt = c.propagate_argv
            dbid = c.db.id
            if alt is None:
                server.propagate(dbid, argv)
            else:
                for a in alt:
                    server.propagate(dbid, a)
            if server.write_gates:
                # the AOF write failed just now (MISCONF gate armed): the next writes of this
                # batch must meet the gate in process_command, as they did before
                self.fast = False
        if self.waiters and reply is not _BLOCKED and self.blocking.ready:
            self.blocking.handle_ready()
        return reply

    cdef inline int _count(self, Entry e, list argv) except -1:
        """A command ran (Python or native handler): its time, calls, the total, CLIENT LIST cmd=;
        its latency histogram and, when it took gate_ns or more, the slow log / latency monitor
        (``argv`` None: it blocked, timed when it runs for good)."""
        global _pending_total
        cdef long long t = _mono_ns()
        cdef long long d = t - self.t_prev
        cdef unsigned long long v
        cdef int b
        e.nsec += d
        self.t_prev = t
        if argv is not None:
            if _track:
                # hdr counts_index (observe.counts_index), clamped to [1, 1e9] ns
                v = <unsigned long long>d if d > 1 else 1
                if v > 1000000000:
                    v = 1000000000
                b = 56 - __builtin_clzll(v | 255)
                e.hist[((b + 1) << 7) + <int>(v >> b) - 128] += 1
                if not e.hist_listed:
                    e.hist_listed = True
                    _hist_touched.append(e)
            if d >= _gate_ns:
                self.server.observer.command_done(self._client, e.cmd, argv, d)
        e.calls += 1
        if not e.listed:
            e.listed = True
            _touched.append(e)
        _pending_total += 1
        self.last = e
        return 0

    cdef int _native_done(self, Entry e, list argv, bint dirtied) except -1:
        """What _call does after the handler, for a command a native handler ran; like call(),
        a command is propagated when it moved the dirty counter."""
        self._count(e, argv)
        if dirtied and self.prop:
            server = self.server
            server.propagate(self.ks.db.id, argv)
            if server.write_gates:
                self.fast = self.native = False  # see _call
        return 0

    cdef int _account(self, Py_ssize_t nout) except -1:
        """End of a batch: count the bytes sent; the client's CLIENT LIST idle= and cmd=."""
        global _pending_out, _pending_writes
        cdef bytes name
        cdef object c = self._client
        if nout:
            _pending_out += nout
            _pending_writes += 1
        if c is None:
            self.last = None
            return 0
        if self.last is not None:
            name = self.last.fullname
            self.last = None
            # a slow-path command in between sets last_cmd itself and clears last_flushed
            if name is not self.last_flushed:
                self.last_flushed = name
                PyDict_SetItem(self.cdict, "last_cmd", name)  # c.last_cmd, minus the descriptor lookup
        if self.read_at:
            PyDict_SetItem(self.cdict, "last_interaction", self.read_at)
            self.read_at = 0.0
        return 0

    cpdef flush_stats(self):
        """Add every statistic counted in C to the Commands, INFO and CLIENT LIST (cmd=)."""
        if _touched:
            _flush_entries()
        self._account(0)
        _sync_counters()

    cdef Entry _lookup(self, object name):
        """The Entry for argv[0]: pipelines repeat names, so the last one is compared first."""
        cdef bytes cached = self.cached_name
        cdef Entry e
        if name is cached:  # the parser hands out the same object for a repeated name
            return self.cached_entry
        if cached is not None and type(name) is bytes and PyBytes_GET_SIZE(name) == PyBytes_GET_SIZE(cached) \
                and memcmp(PyBytes_AS_STRING(name), PyBytes_AS_STRING(cached), PyBytes_GET_SIZE(cached)) == 0:
            return self.cached_entry
        e = _entry_for(name)
        if e is not None:
            self.cached_name = name
            self.cached_entry = e
        return e

    cpdef process(self):
        """Run every complete request buffered, then flush the replies."""
        cdef object c = self._client
        cdef Parser parser = self.parser
        cdef Writer writer = self.writer
        cdef object server = self.server
        cdef object conn = self.conn
        cdef list cmds
        cdef list argv
        cdef Py_ssize_t i, n, argc, arity
        cdef Entry e
        cdef object reply
        cdef int mode
        cdef int r
        cdef long long dirty
        if conn is None or c is None:
            return  # released: the connection is gone
        try:
            self._refresh()
            while True:
                if self.pending:
                    cmds = self.pending
                else:
                    cmds = parser.parse()
                self.pending = None
                n = len(cmds)
                if n == 0:
                    break
                i = 0
                while i < n:
                    argv = cmds[i]
                    if self.fast:
                        e = self._lookup(argv[0])
                        if e is not None and e.fast:
                            argc = len(argv)
                            arity = e.arity
                            if not ((arity > 0 and argc != arity) or argc < -arity):
                                if e.native and self.native:
                                    dirty = _pend.dirty
                                    r = run_native(e.native, self.ks, argv, writer, &_pend)
                                    if r != NATIVE_FALLBACK:
                                        self._native_done(e, argv, _pend.dirty != dirty)
                                        i += 1
                                        continue
                                reply = self._call(e, argv)
                                if reply is _BLOCKED:
                                    self.waiting = True
                                    self.pending = cmds[i + 1:]
                                    break
                                writer.write(reply)
                                i += 1
                                continue
                    # everything else: the Python path, one command at a time, as before
                    self.flush_stats()
                    self.last_flushed = None  # call() sets last_cmd
                    if server.pause_until and conn._paused_for(argv):
                        self.pending = cmds[i:]
                        break
                    _invalidate()  # see _server_state
                    reply = _process_command(c, argv)
                    _invalidate()
                    self.client_changed()
                    if reply is _BLOCKED:
                        self.waiting = True
                        self.pending = cmds[i + 1:]
                        break
                    mode = c.reply_mode
                    if mode == _REPLY_ON:
                        writer.resp = c.resp
                        writer.write(reply)
                    elif mode == _REPLY_SKIP:
                        c.reply_mode = _REPLY_ON
                        self.client_changed()
                    elif mode == _REPLY_SKIP_NEXT:
                        c.reply_mode = _REPLY_SKIP
                        self.client_changed()
                    if c.close_after_reply:
                        break
                    self._refresh()
                    i += 1
                # unauthenticated clients get stricter protocol limits (one command per parse);
                # client_ok implies authenticated and not close_after_reply (it is re-read after
                # every slow-path command, the only ones that change them)
                parser.auth_required = not (self.client_ok or c.authenticated)
                if self.waiting or self.pending or (not self.client_ok and c.close_after_reply):
                    break
                if parser.error is not None or parser.end == parser.start:
                    break
                self.t_prev = _mono_ns()
        except BaseException:
            self._account(0)
            raise
        if parser.error is not None and not self.pending and not self.waiting:
            self._account(0)
            conn._protocol_error(parser.error)
            return
        self._account(self._send())
        if not self.client_ok and c.close_after_reply:
            conn.close()

    # -- output ---------------------------------------------------------------

    cdef Py_ssize_t _send(self) except -1:
        """Send what the writer holds; the byte count (accounted by the caller).

        While uvloop's transport has nothing queued, the bytes go to the socket with one
        non-blocking send() (what transport.write would try first, minus its Python-level
        layers); whatever the kernel does not take, and any error, is handed to
        transport.write, which queues it or reports the error as usual, and the next sends go
        through the transport until its buffer is empty again, so the order is kept.
        """
        cdef Writer w = self.writer
        cdef Py_ssize_t n = w.len
        cdef Py_ssize_t sent
        if n == 0 or self._transport is None or self.closed:
            return 0
        if (not _state_valid or _state & _FAST_PROPAGATE) and self.server.unflushed_writes:
            # appendfsync always: the writes are on disk before their replies are sent
            self.server.flush_writes()
        if not self.direct and self.fd >= 0 and w.cap <= 1024 * 1024 and not self.t_buffered():
            self.direct = True
        if self.direct:
            sent = send(self.fd, w.buf, n, MSG_NOSIGNAL | MSG_DONTWAIT)
            if sent == n:
                w.len = 0
                return n
            self.direct = False
            if sent < 0:
                sent = 0  # EAGAIN: queued; an error: the transport meets it too and closes
            data = PyBytes_FromStringAndSize(w.buf + sent, n - sent)
            w.len = 0
        else:
            data = w.take()
        self.t_write(data)
        if self.t_buffered():
            # only a client that does not keep up leaves bytes queued: check its class limits
            self.conn._check_output_limit()
        return n

    cpdef flush(self):
        """Send the replies written so far."""
        global _pending_out, _pending_writes
        cdef Py_ssize_t n = self._send()
        if n:
            _pending_out += n
            _pending_writes += 1

    def send_reply(self, reply):
        """Write a reply outside the request loop (unblocked client)."""
        c = self._client
        if c is None or self.closed:
            return
        mode = c.reply_mode
        if mode == _REPLY_ON:
            self.writer.resp = c.resp
            self.writer.write(reply)
            self.flush()
        elif mode == _REPLY_SKIP:
            c.reply_mode = _REPLY_ON
            self.client_changed()

    def send_push(self, msg):
        """Deliver an out-of-band message (pub/sub, MONITOR, invalidation).

        Sent whatever CLIENT REPLY says, as Redis sends what it pushes (CLIENT_PUSHING): a
        subscriber with replies off still gets its messages; MONITOR skips such clients itself.
        """
        cdef Writer w = self.writer
        cdef bint building
        c = self._client
        if c is None or self.closed:
            return
        building = w.len > 0
        w.resp = c.resp
        w.write(msg)
        if not building:
            # no reply is being built for this client right now (else it goes out with it, in order)
            self.flush()

    def write_raw(self, bytes data):
        """Send bytes as they are, after anything already queued (replication stream)."""
        if self.closed or self._transport is None:
            return
        self.flush()
        self.direct = False  # the transport may queue these: later replies must follow them
        self.stats.total_net_output_bytes += len(data)
        self._transport.write(data)
