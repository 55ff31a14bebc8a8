# Native zsets commands (ZADD,ZPOPMIN,ZSCORE,ZCARD), included by _native.pyx: see its contract.


cdef int run_zset(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2:
    return NATIVE_FALLBACK
