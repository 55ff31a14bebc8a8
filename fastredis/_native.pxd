from ._resp cimport Writer

# What a native handler returns (see _native.pyx).
cdef enum:
    NATIVE_FALLBACK = -1  # not handled and nothing changed: run the Python handler
    NATIVE_READ = 0       # handled, the keyspace is unchanged
    NATIVE_WROTE = 1      # handled, the keyspace changed: propagate argv as it is


cdef struct Pending:
    # statistics counted in C, added to the server's by executor.account_batch
    long long hits
    long long misses
    long long dirty


cdef class Keyspace:
    cdef object db         # the client's Database
    cdef dict data         # db.data
    cdef dict expires      # db.expires
    cdef bint writable     # writes may run natively (no WATCHed key in this db)
    cdef int resp          # the client's protocol (2 or 3)
    cdef bint propagating  # writes are propagated (AOF, replicas): natives whose propagated form
                           # is not their argv (SPOP -> SREM) must fall back

    cdef int load(self, object db, int resp, bint propagating) except -1


cdef int native_code(object cmd) except -1
cdef int run_native(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2
