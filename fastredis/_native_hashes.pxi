# Native hashes commands (HSET,HGET), included by _native.pyx: see its contract.


cdef int run_hash(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2:
    return NATIVE_FALLBACK
