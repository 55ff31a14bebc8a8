# Native lists commands (LPUSH,RPUSH,LPOP,RPOP,LRANGE,LLEN), included by _native.pyx: see its contract.


cdef int run_list(int code, Keyspace ks, list argv, Writer w, Pending *p) except -2:
    return NATIVE_FALLBACK
