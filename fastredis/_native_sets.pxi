# Native sets commands (SADD,SPOP,SISMEMBER,SCARD), included by _native.pyx: see its contract.


cdef int run_set(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2:
    return NATIVE_FALLBACK
