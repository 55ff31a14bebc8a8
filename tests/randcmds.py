"""Seeded random command sequences for differential testing against redis-server.

Every generator takes a ``random.Random`` and returns a list of ``Cmd``: the
arguments plus a comparison mode.  Most replies are compared byte for byte;
the modes cover replies whose order or content Redis leaves unspecified
(hash-table iteration, random picks, clock-derived TTLs).  The same seed
always yields the same sequence, so a failure reproduces from its seed.

Pools are deliberately tiny: keys of different families collide (WRONGTYPE
paths), members repeat (operations interact), and a share of commands get
their arguments mutated (wrong arity, odd numbers, empty and binary strings)
so error paths run too.

Known differences kept out or folded (redis-server 7.0 installed, 7.2 reference,
or state fastredis does not keep):
- double replies: 7.0 %.17g vs 7.2 shortest form (``same``, one-way);
- OBJECT ENCODING: no listpack lists/sets in 7.0; sets/hashes never convert back
  down in Redis (fastredis derives the encoding from the contents: hash compared
  one-way, sets not at all); INCRBYFLOAT leaves an integral result ``embstr``;
  OBJECT REFCOUNT of a COPY of a shared integer (not generated);
- 7.2-only argument checks: BITCOUNT/BITPOS parse the range before the key
  lookup, ZRANK/ZREVRANK take WITHSCORE, XREAD's "Unbalanced 'xread'" text,
  XSETID below max_deleted_entry_id, XREADGROUP creating its consumer without
  reading, a blocked XREADGROUP re-run (NOGROUP) where 7.0 says UNBLOCKED;
- unspecified order: hash-table sets/hashes, random picks, SCAN cursors,
  SORT BY nosort / ALPHA BY ties, lex ranges over mixed scores in a skiplist.
"""

from __future__ import annotations

import random
from collections.abc import Callable

# comparison modes
EXACT = ""
SORTED = "sorted"      # array/set reply: compare as a sorted multiset
PAIRS = "pairs"        # flat field/value array or map: compare as sorted pairs
SCAN = "scan"          # [cursor, items]: cursor exact, items as a multiset
SCANP = "scanp"        # [cursor, field/value items]: items as sorted pairs
SHAPE = "shape"        # only the reply type and, for aggregates, the length
TTL = "ttl"            # integers: positives equal within a clock tolerance
ENC = "enc"            # OBJECT ENCODING: 7.0 vs 7.2 list/set names folded
PEL = "pel"            # XPENDING extended form: the idle times dropped
BLOCK = "block"        # sent without waiting (a blocking command); ``__READ__`` collects its reply


class Cmd(tuple):
    """Command arguments (bytes) with a comparison mode."""

    mode: str
    client: int

    def __new__(cls, args, mode: str = EXACT, client: int = 0) -> Cmd:
        self = super().__new__(cls, tuple(_b(a) for a in args))
        self.mode = mode
        self.client = client
        return self

    def __repr__(self) -> str:
        s = "(" + ", ".join(repr(a) for a in self) + ")"
        if self.client:
            s = f"client{self.client}:{s}"
        return f"{s}[{self.mode}]" if self.mode else s


def _b(a) -> bytes:
    if isinstance(a, bytes):
        return a
    if isinstance(a, (int, float)):
        return str(a).encode()
    return str(a).encode()


# ---------------------------------------------------------------------------
# reply parsing and normalisation
# ---------------------------------------------------------------------------

def parse(buf: bytes, i: int = 0):
    """One RESP2/RESP3 reply as nested (type, payload) tuples, and the next offset."""
    t = buf[i:i + 1]
    j = buf.index(b"\r\n", i)
    head = buf[i + 1:j]
    i = j + 2
    if t in (b"+", b"-", b":", b",", b"_", b"#", b"("):
        return (t, head), i
    if t in (b"$", b"="):
        n = int(head)
        if n < 0:
            return (t, None), i
        return (t, buf[i:i + n]), i + n + 2
    if t in (b"*", b"~", b">"):
        n = int(head)
        if n < 0:
            return (t, None), i
        items = []
        for _ in range(n):
            node, i = parse(buf, i)
            items.append(node)
        return (t, tuple(items)), i
    if t in (b"%", b"|"):
        n = int(head)
        items = []
        for _ in range(n):
            k, i = parse(buf, i)
            v, i = parse(buf, i)
            items.append((k, v))
        return (t, tuple(items)), i
    raise AssertionError(f"bad reply {buf!r}")


def _sorted_items(items) -> tuple:
    return tuple(sorted(items, key=repr))


def _pairs(node):
    t, v = node
    if v is None:
        return node
    if t == b"%":
        return (t, _sorted_items(v))
    if t == b"*" and v and v[0][0] == b"*":  # RESP3-style [[f, v], ...]
        return (t, _sorted_items(v))
    return (t, _sorted_items(tuple(zip(v[0::2], v[1::2]))))


def _tol(node, slack: int):
    """A positive integer (TTL, expire time): ``same`` accepts it within ``slack``."""
    t, v = node
    if t == b":" and int(v) > 0:
        return (b":~", int(v), slack)
    return node


def normalise(mode: str, node, cmd: Cmd, fold_int: bool = False, ktype: bytes = b""):
    """The part of a parsed reply that must be equal between the servers.

    ``fold_int``: INCRBYFLOAT ran, and Redis keeps its result ``embstr`` even
    when it is integral, which fastredis (encoding derived from the value) cannot tell.
    ``ktype``: the key's type for OBJECT ENCODING.  Lists: 7.0 has no listpack lists.
    Sets: 7.0 has no listpack sets, and a set never converts back down in Redis
    while fastredis derives the encoding from the current members.
    """
    t, v = node
    if t == b"-" or not mode:
        return node
    if mode == SORTED:
        if t in (b"*", b"~") and v is not None:
            return (b"*", _sorted_items(v))
        return node
    if mode == PAIRS:
        return _pairs(node)
    if mode in (SCAN, SCANP):
        cursor, items = v
        inner = _pairs(items) if mode == SCANP else (items[0], _sorted_items(items[1]))
        return (t, (cursor, inner))
    if mode == SHAPE:
        if t in (b"*", b"~", b"%"):
            return (t, None if v is None else len(v))
        return (t, None if v is None else "x")
    if mode == TTL:
        name = cmd[0].lower()
        return _tol(node, 1500 if name.startswith(b"p") else 1)
    if mode == PEL:
        if t == b"*" and v is not None:
            return (t, tuple((e[0], e[1][:2] + ((b":", b"idle"),) + e[1][3:])
                             if e[0] == b"*" and e[1] is not None and len(e[1]) == 4 else e for e in v))
        return node
    if mode == ENC:
        if ktype == b"list" or ktype == b"set":
            return (t, b"*")
        if ktype == b"hash" and v in (b"listpack", b"hashtable"):
            # a hash never converts back in Redis; fastredis derives it from the current
            # contents: only (redis hashtable, fastredis listpack) is let through by ``same``
            return (b"enc~", v, b"hash")
        if ktype == b"?" and v not in (b"int", b"embstr", b"raw"):  # inside EXEC: type unknown
            return (t, b"*")
        if fold_int and v in (b"int", b"embstr"):
            return (t, b"int|embstr")
        return node
    raise AssertionError(mode)


def _float_text(v) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def same(a, b) -> bool:
    """Equal, or equal up to 7.0's %.17g exponent form of a double (7.2: shortest plain form).

    ``a`` is redis-server's side, ``b`` fastredis'.
    """
    if a == b:
        return True
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) == 3 and a[0] == b[0] == b":~":
        return abs(a[1] - b[1]) <= a[2]
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) == 3 and a[0] == b[0] == b"enc~":
        return a[1] == b"hashtable" and b[1] == b"listpack"  # a: redis, b: fastredis
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        if len(a) == 2 and isinstance(a[1], bytes) and isinstance(b[1], bytes):
            if a[0] != b[0]:
                return False
            digits = sum(ch in b"0123456789" for ch in a[1].split(b"e")[0])
            # 7.0's %.17g: an exponent, or 16-17 digits where 7.2 prints the (never longer) shortest form
            if not (b"e" in a[1] or b"e" in b[1] or (digits >= 16 and len(b[1]) <= len(a[1]))):
                return False
            fa, fb = _float_text(a[1]), _float_text(b[1])
            return fa is not None and fa == fb
        return all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return all(same(x, y) for x, y in zip(a, b))
    return False


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------

KEYS = [b"k1", b"k2", b"k3", b"k4"]
MEMBERS = [b"a", b"b", b"c", b"d", b"1", b"2", b"10", b"-3", b"", b"\x00\xff"]
LEX_MEMBERS = [b"a", b"b", b"c", b"d", b"e", b"aa", b"ab", b"1"]
WEIRD = [b"", b"-1", b"0", b"1", b"-0", b"+1", b"01", b" 1", b"1 ", b"abc", b"1.5", b"-2.5", b"1e3",
         b"inf", b"-inf", b"nan", b"0x10", b"\x00\xff",
         b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
         b"-9223372036854775809", b"18446744073709551616", b"99999999999999999999999"]
TIMED = {b"SET", b"GETEX", b"SETEX", b"PSETEX", b"EXPIRE", b"PEXPIRE"}
FAR = 4102444800  # 2100-01-01, absolute expiry far in the future


def _sort_unordered(args: list) -> bool:
    up = [a.upper() if isinstance(a, bytes) else a for a in args]
    if b"BY" not in up[2:]:
        return False
    i = up.index(b"BY", 2)
    by = args[i + 1] if i + 1 < len(args) else b"*"
    return b"*" not in by or b"ALPHA" in up


CHAOS_COMMANDS = [c.encode() for c in """
SET GET GETEX GETDEL GETSET SETNX SETEX PSETEX MSET MSETNX MGET STRLEN APPEND SETRANGE GETRANGE SUBSTR INCR DECR
INCRBY DECRBY INCRBYFLOAT LCS LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS
LMOVE RPOPLPUSH LMPOP HSET HSETNX HGET HMGET HMSET HDEL HLEN HEXISTS HSTRLEN HINCRBY HINCRBYFLOAT HKEYS HVALS
HGETALL SADD SREM SISMEMBER SMISMEMBER SCARD SMEMBERS SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE
SINTERCARD SMOVE ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE ZRANGEBYSCORE
ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE ZPOPMIN ZPOPMAX ZMPOP ZREMRANGEBYRANK ZREMRANGEBYSCORE
ZREMRANGEBYLEX ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD SETBIT GETBIT
BITOP BITFIELD BITFIELD_RO DEL UNLINK EXISTS TYPE RENAME RENAMENX COPY MOVE EXPIRE PEXPIRE EXPIREAT PEXPIREAT
PERSIST TTL PTTL EXPIRETIME PEXPIRETIME TOUCH SORT SORT_RO XADD XLEN XRANGE XREVRANGE XDEL XTRIM
PFADD PFCOUNT PFMERGE OBJECT
""".split()]
CHAOS_NUMBERS = [b"0", b"1", b"2", b"3", b"-1", b"-2", b"5", b"10", b"100", b"1.5", b"-0.5", b"inf", b"-inf",
                 b"+inf", b"nan", b"abc", b"", b"9223372036854775807", b"-9223372036854775808",
                 b"9223372036854775808", b"0x10", b"1e2", b" 1"]
CHAOS_WORDS = [w.encode() for w in """
NX XX GT LT CH INCR EX PX EXAT PXAT KEEPTTL GET PERSIST LIMIT WITHSCORES WITHSCORE BYSCORE BYLEX REV COUNT MATCH
TYPE LEFT RIGHT BEFORE AFTER MIN MAX WEIGHTS AGGREGATE SUM STORE ALPHA DESC ASC BY IDX LEN MINMATCHLEN
WITHMATCHLEN MAXLEN MINID NOMKSTREAM STREAMS REPLACE DB RANK BIT BYTE AND OR XOR NOT OVERFLOW WRAP SAT FAIL u8
i8 i64 u63 u64 #1 ENCODING FREQ = ~ nx withscores
""".split()]
CHAOS_MODES = {b"SMEMBERS": SORTED, b"SINTER": SORTED, b"SUNION": SORTED, b"SDIFF": SORTED, b"HKEYS": SORTED,
               b"HVALS": SORTED, b"HGETALL": PAIRS, b"OBJECT": ENC}


def string_is_safe_time(a: bytes) -> bool:
    """Not a small positive number: an expiry that could pass during the run."""
    try:
        v = float(a)
    except ValueError:
        return True
    return not (0 < v < 100000) or a in (b"inf", b"nan", b"+inf")


class Gen:
    """One seeded sequence builder; ``family(name)`` appends commands of one family."""

    def __init__(self, seed: int, mutate: float = 0.08) -> None:
        self.r = random.Random(seed)
        self.mutate = mutate
        self.out: list[Cmd] = []

    # -- helpers -----------------------------------------------------------
    def key(self) -> bytes:
        return self.r.choice(KEYS)

    def keys(self, lo: int = 1, hi: int = 3) -> list[bytes]:
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def member(self) -> bytes:
        return self.r.choice(MEMBERS)

    def members(self, lo: int = 1, hi: int = 4) -> list[bytes]:
        return [self.member() for _ in range(self.r.randint(lo, hi))]

    def small(self, lo: int = -5, hi: int = 5) -> int:
        return self.r.randint(lo, hi)

    def value(self) -> bytes:
        c = self.r.random()
        if c < 0.3:
            return str(self.r.randint(-20, 100)).encode()
        if c < 0.5:
            return self.r.choice([b"hello", b"world", b"hel", b"ohell", b"abcdefgh", b"x" * 50])
        if c < 0.6:
            return self.r.choice([b"9223372036854775806", b"-9223372036854775807", b"1.5", b"-0.25", b"3.0"])
        if c < 0.7:
            return self.r.choice([b"y" * 44, b"y" * 45, b"12345678901234567890", b"-1234567890123456789",
                                  b"-0", b"00", b"0", b"1e5", b"0x1f", b"18446744073709551615", b" 7"])
        return self.r.choice(MEMBERS)

    def score(self) -> bytes:
        c = self.r.random()
        if c < 0.6:
            return str(self.r.randint(-4, 6)).encode()
        if c < 0.85:
            return self.r.choice([b"1.5", b"-0.5", b"2.25", b"0.75", b"-2.5"])
        return self.r.choice([b"inf", b"-inf", b"+inf", b"0", b"-0", b"1e300", b"0x10", b"1e3", b"nan", b"1.5e1"])

    def emit(self, args, mode: str = EXACT, mutable: bool = True) -> None:
        args = list(args)
        if mutable and len(args) > 1 and self.r.random() < self.mutate:
            args = self._mutate(args)
            if args[0] in (b"SORT", b"SORT_RO") and _sort_unordered(args):
                mode = SHAPE  # a mutation made the order unspecified (BY constant / ALPHA BY)
        self.out.append(Cmd(args, mode))

    def _mutate(self, args: list) -> list:
        kind = self.r.random()
        if kind < 0.2:
            return args[:-1]
        if kind < 0.35 and args[0] not in (b"ZRANK", b"ZREVRANK"):  # 7.2 added WITHSCORE: 7.0 says arity
            return args + [self.r.choice([b"junk", b"1", b"NX", b"COUNT"])]
        i = self.r.randrange(1, len(args))
        args[i] = self.r.choice(WEIRD)
        if args[i] == b"1" and args[0] in TIMED:
            args[i] = b"0"  # a 1 ms / 1 s expiry would race the comparison
        return args

    # -- families ------------------------------------------------------------
    def strings(self) -> None:
        r, k = self.r, self.key()
        op = r.randrange(24)
        if op < 4:
            args: list = [b"SET", k, self.value()]
            opts = [[b"EX", r.choice([100, 1000, 0, -1])], [b"PX", r.choice([100000, 5000000])],
                    [b"EXAT", FAR], [b"PXAT", FAR * 1000], [b"KEEPTTL"], [b"NX"], [b"XX"], [b"GET"]]
            for _ in range(r.randint(0, 2)):
                args += r.choice(opts)
            self.emit(args)
        elif op == 4:
            self.emit([b"GET", k])
        elif op == 5:
            args = [b"GETEX", k]
            if r.random() < 0.7:
                args += r.choice([[b"EX", 500], [b"PX", 700000], [b"EXAT", FAR], [b"PXAT", FAR * 1000],
                                  [b"PERSIST"], [b"EX", 0], [b"EX", 5, b"PERSIST"]])
            self.emit(args)
        elif op == 6:
            self.emit([b"GETDEL", k])
        elif op == 7:
            self.emit([b"GETSET", k, self.value()])
        elif op == 8:
            self.emit([r.choice([b"INCR", b"DECR"]), k])
        elif op == 9:
            self.emit([r.choice([b"INCRBY", b"DECRBY"]), k,
                       r.choice([b"5", b"-7", b"100", b"9223372036854775807", b"-9223372036854775808", b"0"])])
        elif op == 10:
            self.emit([b"INCRBYFLOAT", k, r.choice([b"1.5", b"-0.25", b"10", b"1e3", b"3.0e-1", b"-5", b"0", b"0.1",
                                                    b"1e-5", b"-1e-5", b"1.23456789012345678", b"3e17", b"1e20",
                                                    b"1e300", b"-1e300", b"5.0e3", b"0x10", b"1e4000", b".5", b"5."])])
        elif op == 11:
            self.emit([b"APPEND", k, self.value()])
        elif op == 12:
            self.emit([b"SETRANGE", k, r.randint(0, 12), r.choice([b"XY", b"", b"zzz", b"1"])])
        elif op == 13:
            self.emit([r.choice([b"GETRANGE", b"SUBSTR"]), k, self.small(-8, 8), self.small(-8, 12)])
        elif op == 14:
            self.emit([b"STRLEN", k])
        elif op == 15:
            args = [r.choice([b"MSET", b"MSETNX"])]
            for _ in range(r.randint(1, 3)):
                args += [self.key(), self.value()]
            self.emit(args)
        elif op == 16:
            self.emit([b"MGET"] + self.keys(1, 4))
        elif op == 17:
            args = [b"LCS", self.key(), self.key()]
            for opt in r.sample([[b"LEN"], [b"IDX"], [b"MINMATCHLEN", r.randint(0, 3)], [b"WITHMATCHLEN"]],
                                r.randint(0, 3)):
                args += opt
            self.emit(args)
        elif op == 18:
            self.emit([b"SETNX", k, self.value()])
        elif op == 19:
            self.emit([r.choice([b"SETEX", b"PSETEX"]), k, r.choice([1000000, 0, -5]), self.value()])
        elif op == 20:
            self.emit([b"SET", k, r.choice([b"hello world", b"ohello", b"hellohello", b"12", b"abc"])])
        else:
            self.generic_read(k)

    def generic_read(self, k: bytes) -> None:
        r = self.r
        op = r.randrange(6)
        if op == 0:
            self.emit([b"TYPE", k])
        elif op == 1:
            self.emit([b"EXISTS"] + self.keys(1, 3))
        elif op == 2:
            self.emit([b"OBJECT", b"ENCODING", k], ENC)
        elif op == 3:
            self.emit([r.choice([b"TTL", b"PTTL", b"EXPIRETIME", b"PEXPIRETIME"]), k], TTL)
        elif op == 4:
            self.emit([b"DBSIZE"], mutable=False)
        else:
            self.emit([b"KEYS", r.choice([b"*", b"k[12]", b"k?", b"x*"])], SORTED)

    def lists(self) -> None:
        r, k = self.r, self.key()
        op = r.randrange(30)
        if op < 5:
            self.emit([r.choice([b"LPUSH", b"RPUSH", b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"]), k] + self.members(1, 4))
        elif op == 5:
            args = [r.choice([b"LPOP", b"RPOP"]), k]
            if r.random() < 0.5:
                args.append(r.choice([0, 1, 2, 5, -1]))
            self.emit(args)
        elif op == 6:
            self.emit([b"LLEN", k])
        elif op in (7, 8):
            self.emit([b"LRANGE", k, self.small(-6, 4), self.small(-6, 8)])
        elif op == 9:
            self.emit([b"LINDEX", k, self.small(-5, 5)])
        elif op == 10:
            self.emit([b"LSET", k, self.small(-4, 4), self.member()])
        elif op == 11:
            self.emit([b"LINSERT", k, r.choice([b"BEFORE", b"AFTER", b"after"]), self.member(), self.member()])
        elif op == 12:
            self.emit([b"LREM", k, self.small(-3, 3), self.member()])
        elif op == 13:
            self.emit([b"LTRIM", k, self.small(-5, 3), self.small(-5, 6)])
        elif op in (14, 15):
            args = [b"LPOS", k, self.member()]
            for opt in r.sample([[b"RANK", r.choice([1, 2, -1, -2, 0, 5])], [b"COUNT", r.choice([0, 1, 2, -1])],
                                 [b"MAXLEN", r.choice([0, 1, 3, -1])]], r.randint(0, 3)):
                args += opt
            if args[-1] == b"-9223372036854775808":
                args[-1] = b"1"
            self.out.append(Cmd(args))  # never mutated: RANK LONG_MIN differs between 7.0 and 7.2
        elif op == 16:
            self.emit([b"LMOVE", k, self.key(), r.choice([b"LEFT", b"RIGHT"]), r.choice([b"LEFT", b"RIGHT"])])
        elif op == 17:
            self.emit([b"RPOPLPUSH", k, self.key()])
        elif op == 18:
            ks = self.keys(1, 3)
            args = [b"LMPOP", len(ks)] + ks + [r.choice([b"LEFT", b"RIGHT"])]
            if r.random() < 0.5:
                args += [b"COUNT", r.choice([1, 2, 10, 0])]
            self.emit(args)
        elif op == 19:
            self.blocking_list()
        else:
            self.generic_read(k)

    def blocking_list(self) -> None:
        """Blocking pops with a tiny timeout: served at once, or nil after 10 ms."""
        r, t = self.r, b"0.01"
        op = r.randrange(5)
        if op == 0:
            cmd = [r.choice([b"BLPOP", b"BRPOP"])] + self.keys(1, 2) + [t]
        elif op == 1:
            cmd = [b"BLMOVE", self.key(), self.key(), r.choice([b"LEFT", b"RIGHT"]), r.choice([b"LEFT", b"RIGHT"]), t]
        elif op == 2:
            cmd = [b"BRPOPLPUSH", self.key(), self.key(), t]
        else:
            ks = self.keys(1, 2)
            cmd = [b"BLMPOP", t, len(ks)] + ks + [r.choice([b"LEFT", b"RIGHT"]), b"COUNT", r.choice([1, 3])]
        self.emit(cmd, mutable=False)

    def hashes(self) -> None:
        r, k = self.r, self.key()
        op = r.randrange(24)
        if op < 5:
            args = [r.choice([b"HSET", b"HSET", b"HMSET"]), k]
            for _ in range(r.randint(1, 3)):
                args += [self.member(), self.value()]
            self.emit(args)
        elif op == 5:
            self.emit([b"HSETNX", k, self.member(), self.value()])
        elif op == 6:
            self.emit([b"HGET", k, self.member()])
        elif op == 7:
            self.emit([b"HMGET", k] + self.members(1, 3))
        elif op == 8:
            self.emit([b"HDEL", k] + self.members(1, 3))
        elif op == 9:
            self.emit([r.choice([b"HLEN", b"HEXISTS", b"HSTRLEN"]), k] + ([] if r.random() < 0.3 else [self.member()]))
        elif op == 10:
            self.emit([b"HINCRBY", k, self.member(), r.choice([1, -3, 100, b"9223372036854775807"])])
        elif op == 11:
            self.emit([b"HINCRBYFLOAT", k, self.member(), r.choice([b"1.5", b"-0.25", b"2", b"1e2", b"0.1", b"1e20",
                                                                    b"-1e-5", b"1e300", b"7.0e-3"])])
        elif op == 12:
            self.emit([b"HGETALL", k], PAIRS)
        elif op == 13:
            self.emit([r.choice([b"HKEYS", b"HVALS"]), k], SORTED)
        elif op == 14:
            args = [b"HRANDFIELD", k]
            c = r.random()
            if c < 0.3:
                self.emit(args, SHAPE, mutable=False)
            elif c < 0.6:
                self.emit(args + [r.choice([-1, -3, 0])], SHAPE, mutable=False)
            else:
                wv = [b"WITHVALUES"] if r.random() < 0.5 else []
                self.emit(args + [1000] + wv, PAIRS if wv else SORTED, mutable=False)
        elif op == 15:
            args = [b"HSCAN", k, 0, b"COUNT", 1000]
            if r.random() < 0.4:
                args += [b"MATCH", r.choice([b"*", b"[ab]", b"1*", b"?"])]
            self.emit(args, SCANP, mutable=False)  # a small COUNT on a hashtable: unspecified
        else:
            self.generic_read(k)

    def sets(self) -> None:
        r, k = self.r, self.key()
        op = r.randrange(26)
        if op < 5:
            self.emit([b"SADD", k] + self.members(1, 4))
        elif op == 5:
            self.emit([b"SREM", k] + self.members(1, 3))
        elif op == 6:
            self.emit([b"SISMEMBER", k, self.member()])
        elif op == 7:
            self.emit([b"SMISMEMBER", k] + self.members(1, 3))
        elif op == 8:
            self.emit([b"SCARD", k])
        elif op == 9:
            self.emit([b"SMEMBERS", k], SORTED)
        elif op in (10, 11):
            self.emit([r.choice([b"SINTER", b"SUNION", b"SDIFF"])] + self.keys(1, 3), SORTED)
        elif op in (12, 13):
            self.emit([r.choice([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"]), self.key()] + self.keys(1, 3))
        elif op == 14:
            ks = self.keys(1, 3)
            args = [b"SINTERCARD", len(ks)] + ks
            if r.random() < 0.5:
                args += [b"LIMIT", r.choice([0, 1, 2, -1])]
            self.emit(args)
        elif op == 15:
            self.emit([b"SMOVE", k, self.key(), self.member()])
        elif op == 16:
            c = r.random()
            if c < 0.4:
                self.emit([b"SPOP", k, 1000], SORTED, mutable=False)
            elif c < 0.7:
                self.emit([b"SRANDMEMBER", k, r.choice([1000, 0])], SORTED, mutable=False)
            else:
                self.emit([b"SRANDMEMBER", k] + r.choice([[], [-2], [-5]]), SHAPE, mutable=False)
        elif op == 17:
            args = [b"SSCAN", k, 0, b"COUNT", 1000]
            if r.random() < 0.4:
                args += [b"MATCH", r.choice([b"*", b"[ab]", b"1*", b"?"])]
            # a non-zero cursor into a 7.0 hashtable set is not a listpack scan in 7.2
            self.emit(args, SCAN, mutable=False)
        else:
            self.generic_read(k)

    def _range_score(self) -> bytes:
        r = self.r
        s = r.choice([b"-inf", b"+inf", b"inf"]) if r.random() < 0.2 else self.score()
        if r.random() < 0.3:
            s = b"(" + s
        return s

    def _range_lex(self) -> bytes:
        r = self.r
        c = r.random()
        if c < 0.2:
            return r.choice([b"-", b"+"])
        return r.choice([b"[", b"(", b"[", b"("]) + r.choice(LEX_MEMBERS)

    def zsets(self) -> None:
        r, k = self.r, self.key()
        op = r.randrange(40)
        zm = LEX_MEMBERS
        if op < 6:
            args = [b"ZADD", k]
            for flag in (r.choice([None, None, b"NX", b"XX"]), r.choice([None, None, b"GT", b"LT"]),
                         r.choice([None, b"CH"]), r.choice([None, None, None, b"INCR"])):
                if flag:
                    args.append(flag)
            for _ in range(r.randint(1, 3) if b"INCR" not in args else 1):
                args += [self.score(), r.choice(zm)]
            self.emit(args)
        elif op == 6:
            self.emit([b"ZINCRBY", k, self.score(), r.choice(zm)])
        elif op == 7:
            self.emit([b"ZREM", k] + [r.choice(zm) for _ in range(r.randint(1, 3))])
        elif op == 8:
            self.emit([r.choice([b"ZCARD", b"ZSCORE", b"ZRANK", b"ZREVRANK"]), k, r.choice(zm)])
        elif op == 9:
            self.emit([b"ZMSCORE", k] + [r.choice(zm) for _ in range(r.randint(1, 3))])
        elif op == 10:
            self.emit([b"ZCOUNT", k, self._range_score(), self._range_score()])
        elif op == 11:
            self.emit([b"ZLEXCOUNT", k, self._range_lex(), self._range_lex()])
        elif op in (12, 13, 14):
            self.emit(self._zrange_args(b"ZRANGE", [k]))
        elif op == 15:
            self.emit(self._zrange_args(b"ZRANGESTORE", [self.key(), k]))
        elif op == 16:
            name = r.choice([b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE"])
            args = [name, k, self._range_score(), self._range_score()]
            if r.random() < 0.5:
                args.append(b"WITHSCORES")
            if r.random() < 0.4:
                args += [b"LIMIT", self.small(-1, 3), self.small(-1, 3)]
            self.emit(args)
        elif op == 17:
            name = r.choice([b"ZRANGEBYLEX", b"ZREVRANGEBYLEX"])
            args = [name, k, self._range_lex(), self._range_lex()]
            if r.random() < 0.4:
                args += [b"LIMIT", self.small(-1, 3), self.small(-1, 3)]
            self.emit(args)
        elif op == 18:
            self.emit([b"ZREVRANGE", k, self.small(-4, 3), self.small(-4, 5)] +
                      ([b"WITHSCORES"] if r.random() < 0.5 else []))
        elif op == 19:
            self.emit([r.choice([b"ZPOPMIN", b"ZPOPMAX"]), k] + ([] if r.random() < 0.4 else [r.choice([0, 1, 2, 10, -1])]))
        elif op == 20:
            ks = self.keys(1, 3)
            args = [b"ZMPOP", len(ks)] + ks + [r.choice([b"MIN", b"MAX"])]
            if r.random() < 0.5:
                args += [b"COUNT", r.choice([1, 2, 10, 0])]
            self.emit(args)
        elif op == 21:
            t = b"0.01"
            if r.random() < 0.5:
                self.emit([r.choice([b"BZPOPMIN", b"BZPOPMAX"])] + self.keys(1, 2) + [t], mutable=False)
            else:
                ks = self.keys(1, 2)
                self.emit([b"BZMPOP", t, len(ks)] + ks + [r.choice([b"MIN", b"MAX"]), b"COUNT", 2], mutable=False)
        elif op == 22:
            self.emit([b"ZREMRANGEBYRANK", k, self.small(-4, 3), self.small(-4, 4)])
        elif op == 23:
            self.emit([b"ZREMRANGEBYSCORE", k, self._range_score(), self._range_score()])
        elif op == 24:
            self.emit([b"ZREMRANGEBYLEX", k, self._range_lex(), self._range_lex()])
        elif op in (25, 26, 27):
            self.emit(self._zsetop())
        elif op == 28:
            ks = self.keys(1, 3)
            args = [b"ZINTERCARD", len(ks)] + ks
            if r.random() < 0.5:
                args += [b"LIMIT", r.choice([0, 1, 2])]
            self.emit(args)
        elif op == 29:
            c = r.random()
            if c < 0.5:
                wv = [b"WITHSCORES"] if r.random() < 0.5 else []
                self.emit([b"ZRANDMEMBER", k, 1000] + wv, PAIRS if wv else SORTED, mutable=False)
            else:
                self.emit([b"ZRANDMEMBER", k] + r.choice([[], [-2], [-3, b"WITHSCORES"]]), SHAPE, mutable=False)
        elif op == 30:
            self.emit([b"ZSCAN", k, 0, b"COUNT", 1000], SCANP, mutable=False)
        elif op == 31:
            # equal scores for lex ranges
            args = [b"ZADD", k]
            for m in r.sample(zm, r.randint(1, 4)):
                args += [b"0", m]
            self.emit(args)
        else:
            self.generic_read(k)

    def _zrange_args(self, name: bytes, keys: list) -> list:
        r = self.r
        kind = r.choice([None, b"BYSCORE", b"BYLEX"])
        if kind == b"BYSCORE":
            lo, hi = self._range_score(), self._range_score()
        elif kind == b"BYLEX":
            lo, hi = self._range_lex(), self._range_lex()
        else:
            lo, hi = self.small(-4, 3), self.small(-4, 5)
        args = [name] + keys + [lo, hi]
        if kind:
            args.append(kind)
        if r.random() < 0.3:
            args.append(b"REV")
        if r.random() < 0.3:
            args += [b"LIMIT", self.small(-1, 3), self.small(-1, 3)]
        if name == b"ZRANGE" and r.random() < 0.5:
            args.append(b"WITHSCORES")
        return args

    def _zsetop(self) -> list:
        r = self.r
        name = r.choice([b"ZUNION", b"ZINTER", b"ZDIFF", b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE"])
        ks = self.keys(1, 3)
        args = [name] + ([self.key()] if name.endswith(b"STORE") else []) + [len(ks)] + ks
        if not name.startswith(b"ZDIFF"):
            if r.random() < 0.5:
                args += [b"WEIGHTS"] + [r.choice([b"1", b"2", b"0", b"-1", b"0.5", b"inf"]) for _ in ks]
            if r.random() < 0.5:
                args += [b"AGGREGATE", r.choice([b"SUM", b"MIN", b"MAX", b"max"])]
        if not name.endswith(b"STORE") and r.random() < 0.5:
            args.append(b"WITHSCORES")
        return args

    def bitmaps(self) -> None:
        r, k = self.r, self.key()
        op = r.randrange(16)
        if op < 3:
            self.emit([b"SETBIT", k, r.randint(0, 70), r.choice([0, 1, 1])])
        elif op == 3:
            self.emit([b"GETBIT", k, r.randint(0, 80)])
        elif op in (4, 5):
            args = [b"BITCOUNT", k]
            if r.random() < 0.7:
                args += [self.small(-10, 8), self.small(-10, 70)]
                if r.random() < 0.5:
                    args.append(r.choice([b"BYTE", b"BIT"]))
            # 7.0 answers 0 for a missing key before parsing the range, 7.2 parses first
            self.emit(args, mutable=False)
        elif op in (6, 7):
            args = [b"BITPOS", k, r.choice([0, 1])]
            n = r.randint(0, 2)
            if n:
                args.append(self.small(-10, 8))
            if n > 1:
                args.append(self.small(-10, 70))
                if r.random() < 0.5:
                    args.append(r.choice([b"BYTE", b"BIT"]))
            self.emit(args, mutable=False)
        elif op == 8:
            opn = r.choice([b"AND", b"OR", b"XOR", b"NOT"])
            src = [self.key()] if opn == b"NOT" else self.keys(1, 3)
            self.emit([b"BITOP", opn, self.key()] + src)
        elif op in (9, 10, 11):
            self.emit(self._bitfield(r.random() < 0.2))
        elif op == 12:
            self.emit([b"SET", k, r.choice([b"\xff\xf0\x00", b"foobar", b"\x00\x00\x01", b"1"])])
        else:
            self.generic_read(k)

    def _bitfield(self, ro: bool) -> list:
        r = self.r
        args = [b"BITFIELD_RO" if ro else b"BITFIELD", self.key()]
        for _ in range(r.randint(1, 3)):
            t = r.choice([b"u1", b"u4", b"i4", b"u8", b"i8", b"i16", b"u63", b"i64", b"u32"])
            off = r.choice([b"0", b"3", b"#1", b"13", b"#0", b"40"])
            kind = 0 if ro else r.randrange(4)
            if kind == 0:
                args += [b"GET", t, off]
            elif kind == 1:
                args += [b"SET", t, off, r.choice([b"0", b"1", b"-1", b"255", b"127", b"-128", b"9223372036854775807"])]
            elif kind == 2:
                args += [b"INCRBY", t, off, r.choice([b"1", b"-1", b"100", b"-200", b"9223372036854775807"])]
            else:
                args += [b"OVERFLOW", r.choice([b"WRAP", b"SAT", b"FAIL"])]
        return args

    def generic(self) -> None:
        r, k = self.r, self.key()
        op = r.randrange(24)
        if op == 0:
            self.emit([r.choice([b"DEL", b"UNLINK"])] + self.keys(1, 2))
        elif op == 1:
            self.emit([b"EXISTS"] + self.keys(1, 4))
        elif op == 2:
            self.emit([r.choice([b"RENAME", b"RENAMENX"]), k, self.key()])
        elif op == 3:
            args = [b"COPY", k, self.key()]
            if r.random() < 0.3:
                args += [b"DB", r.choice([9, 10])]
            if r.random() < 0.5:
                args.append(b"REPLACE")
            self.emit(args)
        elif op == 4:
            self.emit([b"MOVE", k, r.choice([10, 10, 9, 16])])
        elif op in (5, 6, 7):
            name = r.choice([b"EXPIRE", b"PEXPIRE", b"EXPIREAT", b"PEXPIREAT"])
            if name == b"EXPIRE":
                t = r.choice([1000, 2000, 100000, 0, -1])
            elif name == b"PEXPIRE":
                t = r.choice([1000000, 2000000, 0])
            elif name == b"EXPIREAT":
                t = r.choice([FAR, FAR + 100, 1, FAR - 100])
            else:
                t = r.choice([FAR * 1000, FAR * 1000 + 5, 1000])
            args = [name, k, t]
            if r.random() < 0.5:
                args.append(r.choice([b"NX", b"XX", b"GT", b"LT", b"nx"]))
            if r.random() < 0.1:
                args.append(r.choice([b"NX", b"XX", b"GT", b"LT"]))
            self.emit(args)
        elif op == 8:
            self.emit([b"PERSIST", k])
        elif op == 9:
            self.emit([b"TOUCH"] + self.keys(1, 3))
        elif op == 10:
            self.emit([b"RANDOMKEY"], SHAPE, mutable=False)
        elif op == 11:
            self.emit([b"SET", k, self.value()])
        elif op == 12:
            self.emit([b"RPUSH", k] + self.members(1, 2))
        elif op == 13:
            self.emit([b"SADD", k] + self.members(1, 2))
        elif op == 14:
            self.emit([b"ZADD", k, self.score(), self.r.choice(LEX_MEMBERS)])
        elif op == 15:
            self.emit([b"HSET", k, self.member(), self.value()])
        elif op == 16:
            # not REFCOUNT: COPY of a shared integer has refcount 1 in Redis (per-object state)
            self.emit([b"OBJECT", r.choice([b"ENCODING", b"FREQ", b"IDLETIMEX"]), k], ENC)
        elif op == 17:
            self.emit([b"SCAN", 0, b"COUNT", 1000] + r.choice([[], [b"MATCH", b"k[12]"], [b"TYPE", b"string"],
                                                              [b"TYPE", b"list"], [b"TYPE", b"nosuch"]]),
                      SCAN, mutable=False)
        elif op == 18:
            self.emit([r.choice([b"RENAME", b"RENAMENX", b"COPY", b"MOVE"]), k, r.choice([k, b"9"])])
        elif op == 19 and r.random() < 0.3:
            self.emit(r.choice([[b"SWAPDB", 9, 10], [b"SWAPDB", 10, 9], [b"FLUSHDB"], [b"SWAPDB", 9, 9],
                                [b"SWAPDB", 9, 99], [b"SWAPDB", b"x", 9]]), mutable=False)
        else:
            self.generic_read(k)

    def streams(self) -> None:
        r, k = self.r, self.key()
        op = r.randrange(19)

        def sid() -> bytes:
            return r.choice([b"1-1", b"1-2", b"2-0", b"3", b"3-1", b"5-0", b"0-1", b"0-0", b"10-5", b"4-18446744073709551615"])

        if op < 5:
            args = [b"XADD", k]
            if r.random() < 0.15:
                args.append(b"NOMKSTREAM")
            if r.random() < 0.2:
                args += [r.choice([b"MAXLEN", b"MINID"]), b"=", r.choice([b"2", b"3-0", b"0"])]
            args.append(sid())
            for _ in range(r.randint(1, 2)):
                args += [self.member(), self.value()]
            self.emit(args)
        elif op == 5:
            self.emit([b"XLEN", k])
        elif op in (6, 7):
            name = r.choice([b"XRANGE", b"XREVRANGE"])
            bounds = [r.choice([b"-", b"+", b"1", b"(1-1", b"2-0", b"(3-1", b"5"]) for _ in range(2)]
            args = [name, k] + bounds
            if r.random() < 0.4:
                args += [b"COUNT", r.choice([0, 1, 2, -1])]
            self.emit(args)
        elif op == 8:
            self.emit([b"XDEL", k] + [sid() for _ in range(r.randint(1, 2))])
        elif op == 9:
            self.emit([b"XTRIM", k, r.choice([b"MAXLEN", b"MINID"]), r.choice([b"=", b"2", b"3-0"]),
                       r.choice([b"1", b"2-0", b"0"])])
        elif op == 10:
            ks = self.keys(1, 2)
            args = [b"XREAD"]
            if r.random() < 0.5:
                args += [b"COUNT", r.choice([1, 2])]
            args += [b"STREAMS"] + ks + [r.choice([b"0", b"1-1", b"2", b"0-0"]) for _ in ks]
            # unbalanced: 7.0 says "Unbalanced XREAD list", 7.2 "Unbalanced 'xread' list"
            self.emit(args, mutable=False)
        elif op == 11:
            self.emit([b"XGROUP", r.choice([b"CREATE", b"CREATE", b"SETID"]), k, r.choice([b"g1", b"g2"]),
                       r.choice([b"0", b"$", b"1-1", b"2"])] + ([b"MKSTREAM"] if r.random() < 0.3 else []) +
                      ([b"ENTRIESREAD", r.choice([0, 1, 5])] if r.random() < 0.2 else []))
        elif op == 12:
            ks = self.keys(1, 2)
            args = [b"XREADGROUP", b"GROUP", r.choice([b"g1", b"g2"]), r.choice([b"c1", b"c2"])]
            if r.random() < 0.5:
                args += [b"COUNT", r.choice([1, 2])]
            if r.random() < 0.2:
                args.append(b"NOACK")
            args += [b"STREAMS"] + ks + [r.choice([b">", b">", b"0", b"1-1"]) for _ in ks]
            self.emit(args, mutable=False)
        elif op == 13:
            c = r.random()
            g = r.choice([b"g1", b"g2"])
            if c < 0.3:
                self.emit([b"XACK", k, g] + [sid() for _ in range(r.randint(1, 3))])
            elif c < 0.5:
                self.emit([b"XPENDING", k, g])
            elif c < 0.6:
                # not c1/c2 for CREATECONSUMER: 7.2's XREADGROUP creates the consumer even when it
                # reads nothing, 7.0's does not
                self.emit([b"XGROUP", b"CREATECONSUMER", k, g, b"c3"] if r.random() < 0.5 else
                          [b"XGROUP", b"DELCONSUMER", k, g, r.choice([b"c1", b"c3"])])
            elif c < 0.7:
                self.emit([b"XGROUP", b"DESTROY", k, g])
            elif c < 0.8:
                self.emit([b"XCLAIM", k, g, b"c2", b"0"] + [sid() for _ in range(r.randint(1, 2))] + [b"JUSTID"])
            elif c < 0.9:
                self.emit([b"XAUTOCLAIM", k, g, b"c1", b"0", r.choice([b"0", b"1-1", b"(2"])] +
                          r.choice([[], [b"COUNT", 1]]) + [b"JUSTID"])
            else:
                self.emit([b"XPENDING", k, g, b"-", b"+", 10], PEL)
        elif op == 14:
            # only IDs at or above every generated one: 7.2 refuses one below max_deleted_entry_id, 7.0 not
            self.emit([b"XSETID", k, r.choice([b"10-5", b"20-0"])] +
                      r.choice([[], [b"ENTRIESADDED", 10, b"MAXDELETEDID", b"0-1"], [b"ENTRIESADDED", 1]]),
                      mutable=False)
        elif op == 15 and r.random() < 0.5:
            self.emit([b"XINFO", b"STREAM", k])
        else:
            self.generic_read(k)

    def sort(self) -> None:
        r, k = self.r, self.key()
        op = r.randrange(10)
        if op < 2:
            w = r.choice([b"1", b"2", b"10", b"a", b"b", b"-3", b"c"])
            self.emit([b"SET", b"w_" + w, r.choice([b"5", b"1", b"-2", b"1.5", b"x", b"3"])], mutable=False)
        elif op == 2:
            h = r.choice([b"1", b"2", b"10", b"a"])
            self.emit([b"HSET", b"h_" + h, b"f", r.choice([b"4", b"0", b"7.5", b"zz"]), b"g", self.value()], mutable=False)
        elif op == 3:
            self.emit([r.choice([b"RPUSH", b"SADD"]), k] + [r.choice([b"1", b"2", b"10", b"-3", b"a", b"b", b"c"])
                                                           for _ in range(r.randint(1, 4))])
        elif op == 4:
            self.emit([b"ZADD", k, self.score(), r.choice([b"1", b"2", b"10", b"a"])])
        else:
            name = r.choice([b"SORT", b"SORT", b"SORT_RO"])
            args = [name, k]
            mode = EXACT
            if r.random() < 0.4:
                args += [b"BY", r.choice([b"w_*", b"h_*->f", b"nosort", b"nokey_*", b"w_*->f"])]
            alpha = r.random() < 0.4
            if b"nosort" in args or (alpha and b"BY" in args):
                # unsorted set order is hash-table order (7.0) / insertion order (7.2), and
                # ALPHA BY ties (missing weights) keep load order: compare as multisets, no LIMIT
                mode = SORTED
            elif r.random() < 0.3:
                args += [b"LIMIT", self.small(-1, 3), self.small(-1, 4)]
            for _ in range(r.choice([0, 0, 1, 2])):
                args += [b"GET", r.choice([b"#", b"w_*", b"h_*->g", b"h_*->f", b"nokey"])]
            if r.random() < 0.3:
                args.append(r.choice([b"ASC", b"DESC"]))
            if alpha:
                args.append(b"ALPHA")
            if name == b"SORT" and mode == EXACT and r.random() < 0.25:
                args += [b"STORE", self.key()]
            self.emit(args, mode)

    def transaction(self) -> None:
        r = self.r
        if r.random() < 0.3:
            self.emit([b"WATCH"] + self.keys(1, 2), mutable=False)
        self.emit([b"MULTI"], mutable=False)
        fams = [self.strings, self.lists, self.hashes, self.sets, self.zsets, self.generic]
        for _ in range(r.randint(0, 5)):
            c = r.random()
            if c < 0.08:
                self.emit([b"NOSUCHCMD", b"x"], mutable=False)
            elif c < 0.12:
                self.emit([r.choice([b"MULTI", b"WATCH", b"SELECT"])] + ([self.key()] if r.random() < 0.5 else []),
                          mutable=False)
            else:
                r.choice(fams)()
        self.emit([r.choice([b"EXEC", b"EXEC", b"EXEC", b"DISCARD"])], mutable=False)
        if r.random() < 0.2:
            self.emit([r.choice([b"EXEC", b"DISCARD", b"UNWATCH"])], mutable=False)

    def big(self) -> None:
        """Collections around the listpack limits (128 entries, 64-byte values): encoding conversions."""
        r, k = self.r, self.key()
        op = r.randrange(20)
        n = r.choice([3, 60, 127, 128, 129, 140])
        if op < 3:
            args = [b"HSET", k]
            for i in range(n):
                args += [b"f%d" % i, b"v" * r.choice([1, 1, 64, 65]) if i == n - 1 else b"%d" % i]
            self.emit(args, mutable=False)
        elif op < 6:
            args = [b"ZADD", k]
            for i in range(n):
                args += [b"%d" % (i % 7), b"m%d" % i if i < n - 1 or r.random() < 0.7 else b"m" * 65]
            self.emit(args, mutable=False)
        elif op == 6:
            self.emit([b"HDEL", k] + [b"f%d" % i for i in range(r.randint(1, 140))], mutable=False)
        elif op == 7:
            self.emit([b"ZREM", k] + [b"m%d" % i for i in range(r.randint(1, 140))], mutable=False)
        elif op == 8:
            self.emit([b"ZREMRANGEBYRANK", k, r.choice([0, 5, -20]), r.choice([-1, 10, -5, 100])])
        elif op == 9:
            self.emit(self._zsetop())
        elif op == 10:
            self.emit(self._zrange_args(b"ZRANGESTORE", [self.key(), k]))
        elif op == 11:
            self.emit([b"ZRANGE", k, r.choice([0, 100, -3]), r.choice([-1, 5, 127])] +
                      ([b"WITHSCORES"] if r.random() < 0.5 else []))
        elif op == 12:
            self.emit([b"HGETALL", k], PAIRS)
        elif op == 13:
            self.emit([b"HRANDFIELD", k, 1000, b"WITHVALUES"], PAIRS, mutable=False)
        elif op == 14:
            self.emit([b"ZPOPMIN", k, r.choice([1, 10, 100])])
        elif op == 15:
            self.emit([b"COPY", k, self.key(), b"REPLACE"])
        elif op == 16:
            self.emit([b"OBJECT", b"ENCODING", k], ENC)
        elif op == 17:
            self.emit([r.choice([b"HLEN", b"ZCARD"]), k])
        else:
            self.emit([b"SCAN", 0, b"COUNT", 1000] + r.choice([[], [b"MATCH", b"k[12]"], [b"TYPE", b"zset"],
                                                              [b"TYPE", b"hash"]]), SCAN, mutable=False)

    def chaos(self) -> None:
        """Any data command with random tokens: exercises the order of Redis' argument checks."""
        r = self.r
        name = r.choice(CHAOS_COMMANDS)
        args = [name]
        for _ in range(r.choice([0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8])):
            c = r.random()
            if c < 0.3:
                args.append(self.key())
            elif c < 0.55:
                args.append(r.choice(CHAOS_NUMBERS))
            elif c < 0.8:
                args.append(r.choice(CHAOS_WORDS))
            else:
                args.append(r.choice(MEMBERS + LEX_MEMBERS + [b"(1", b"[a", b"-", b"+", b"(a", b"1-1", b"0-1", b"*"]))
        if name in TIMED or name in (b"SET", b"GETEX"):
            args = [a if string_is_safe_time(a) else b"1000000" for a in args]
        if name == b"LPOS":
            args = [b"1" if a == b"-9223372036854775808" else a for a in args]
        mode = CHAOS_MODES.get(name, EXACT)
        if name in (b"SORT", b"SORT_RO") and _sort_unordered(args):
            mode = SHAPE
        self.out.append(Cmd(args, mode))

    def text(self) -> None:
        """Longer strings from a small alphabet: LCS, SETRANGE/GETRANGE, APPEND, bit commands."""
        r = self.r

        def word() -> bytes:
            return bytes(r.choice(b"abc\x00\xff") for _ in range(r.randint(0, 40)))

        k = self.key()
        op = r.randrange(10)
        if op < 2:
            self.emit([b"SET", k, word()], mutable=False)
        elif op < 5:
            args = [b"LCS", self.key(), self.key()]
            for opt in r.sample([[b"LEN"], [b"IDX"], [b"MINMATCHLEN", r.choice([0, 1, 2, 4, -1])],
                                 [b"WITHMATCHLEN"]], r.randint(0, 3)):
                args += opt
            self.emit(args)
        elif op == 5:
            self.emit([b"SETRANGE", k, r.randint(0, 50), word()])
        elif op == 6:
            self.emit([b"GETRANGE", k, r.randint(-60, 60), r.randint(-60, 60)])
        elif op == 7:
            self.emit([b"APPEND", k, word()])
        elif op == 8:
            n = r.randint(0, 3)
            args = [b"BITPOS", k, r.choice([0, 1])] + [r.randint(-50, 50) for _ in range(min(n, 2))]
            if n == 3:
                args.append(r.choice([b"BIT", b"BYTE"]))
            self.emit(args, mutable=False)
        else:
            args = [b"BITCOUNT", k]
            if r.random() < 0.7:
                args += [r.randint(-330, 330), r.randint(-330, 330)] + ([r.choice([b"BIT", b"BYTE"])]
                                                                       if r.random() < 0.5 else [])
            self.emit(args, mutable=False)

    def numeric(self) -> None:
        """Arbitrary doubles through scores and float increments (7.0's %.17g folded by ``same``)."""
        r = self.r

        def dbl() -> bytes:
            c = r.random()
            if c < 0.4:
                return repr(r.uniform(-1000, 1000)).encode()
            if c < 0.6:
                return repr(r.choice([0.1, 0.2, 0.3, 1e-7, 3.14159, 2.5e15, 1 / 3, 1e16, 123456789.123])).encode()
            if c < 0.8:
                return b"%d" % r.randint(-10**6, 10**6)
            return r.choice([b"1e-300", b"1.7976931348623157e308", b"5e-324", b"-0.0", b"4.5", b"1e22"])

        k = self.key()
        op = r.randrange(10)
        if op < 3:
            args = [b"ZADD", k] + ([b"INCR"] if r.random() < 0.2 else [])
            for _ in range(1 if b"INCR" in args else r.randint(1, 3)):
                args += [dbl(), r.choice(LEX_MEMBERS)]
            self.emit(args)
        elif op == 3:
            self.emit([b"ZINCRBY", k, dbl(), r.choice(LEX_MEMBERS)])
        elif op == 4:
            self.emit([b"ZRANGE", k, 0, -1, b"WITHSCORES"])
        elif op == 5:
            self.emit([b"ZRANGEBYSCORE", k, dbl(), r.choice([dbl(), b"+inf"]), b"WITHSCORES"])
        elif op == 6:
            self.emit([r.choice([b"INCRBYFLOAT", b"INCRBYFLOAT", b"SET"]), k, dbl()])
        elif op == 7:
            self.emit([b"HINCRBYFLOAT", k, b"f", dbl()])
        elif op == 8:
            ks = self.keys(1, 2)
            self.emit([b"ZUNIONSTORE", self.key(), len(ks)] + ks + [b"WEIGHTS"] + [dbl() for _ in ks])
        else:
            self.emit([r.choice([b"ZSCORE", b"ZMSCORE"]), k, r.choice(LEX_MEMBERS)])

    def xfer(self) -> None:
        """Values of every type and encoding built on both, then DUMPed by redis-server and RESTOREd."""
        r = self.r
        c = r.random()
        if c < 0.35:
            fam = r.choice([self.strings, self.lists, self.hashes, self.sets, self.zsets, self.big, self.streams])
            fam()
        elif c < 0.45:
            k = self.key()
            n = r.choice([5, 200, 600])
            self.emit([r.choice([b"SADD", b"RPUSH"]), k] + [b"%d" % i if r.random() < 0.9 else b"m%d" % i
                                                           for i in range(n)], mutable=False)
        else:
            self.emit([b"__XFER__", self.key(), self.key()] + r.choice([[b"REPLACE"], [b"REPLACE"], [],
                                                                       [b"REPLACE", b"ABSTTL"]]), mutable=False)

    def _other(self, fn: Callable[[], None]) -> None:
        """Run a generator, sending what it emits from the second connection."""
        n = len(self.out)
        fn()
        self.out[n:] = [Cmd(c, c.mode, 1) for c in self.out[n:]]

    def watch(self) -> None:
        """WATCH on one connection, writes (and no-op writes) from both, then MULTI/EXEC."""
        r = self.r
        watched = self.keys(1, 2)
        if r.random() < 0.5:
            self._other(lambda: self.emit([b"SET", watched[0], self.value()], mutable=False))
        self.emit([b"WATCH"] + watched, mutable=False)
        for _ in range(r.randint(0, 3)):
            c = r.random()
            if c < 0.45:
                self._other(lambda: self.emit(self._touch(r.choice(watched)), mutable=False))
            elif c < 0.7:
                fam = r.choice([self.strings, self.lists, self.hashes, self.sets, self.zsets, self.generic])
                self._other(fam)
            elif c < 0.85:
                self.emit(self._touch(r.choice(watched)), mutable=False)  # the watcher itself
            else:
                self.emit([r.choice([b"GET", b"EXISTS", b"TYPE"]), r.choice(watched)], mutable=False)
        if r.random() < 0.1:
            self.emit([b"UNWATCH"], mutable=False)
        self.emit([b"MULTI"], mutable=False)
        for _ in range(r.randint(1, 3)):
            self.emit([r.choice([b"INCR", b"GET", b"EXISTS"]), r.choice(watched)], mutable=False)
        self.emit([b"EXEC"], mutable=False)

    def _touch(self, k: bytes) -> list:
        """A command on ``k`` that modifies it or, as often, is a no-op (and must not break WATCH)."""
        r = self.r
        return r.choice([
            [b"SET", k, b"v"], [b"SREM", k, b"nosuch"], [b"HDEL", k, b"nosuch"], [b"ZREM", k, b"nosuch"],
            [b"LREM", k, 0, b"nosuch"], [b"DEL", k], [b"PERSIST", k], [b"EXPIRE", k, 1000], [b"SETRANGE", k, 0, b""],
            [b"APPEND", k, b""], [b"LTRIM", k, 0, -1], [b"SADD", k, b"a"], [b"HSET", k, b"f", b"v"],
            [b"ZADD", k, b"1", b"a"], [b"ZADD", k, b"XX", b"1", b"a"], [b"LPUSHX", k, b"x"], [b"INCRBY", k, 0],
            [b"SETBIT", k, 3, 0], [b"GETEX", k], [b"GETEX", k, b"PERSIST"], [b"RENAME", k, k],
            [b"COPY", self.key(), k], [b"SINTERSTORE", k, b"nokey"], [b"SORT", b"nokey", b"STORE", k],
            [b"BITOP", b"AND", k, b"nokey"], [b"FLUSHDB"], [b"SWAPDB", 9, 10], [b"MOVE", k, 10],
            [b"EXPIRE", k, 0], [b"EXPIRE", k, 1000, b"NX"], [b"LPOP", k, 0], [b"ZPOPMIN", k, 0],
            [b"SPOP", k, 0], [b"SMOVE", k, k, b"a"], [b"LMOVE", k, k, b"LEFT", b"LEFT"],
            [b"HINCRBY", k, b"f", 0], [b"GETDEL", k], [b"LSET", k, 0, b"x"], [b"SETNX", k, b"v"],
            [b"HSETNX", k, b"f", b"v"], [b"ZINCRBY", k, 0, b"a"], [b"PFADD", k], [b"XADD", k, b"NOMKSTREAM", b"*", b"f", b"v"],
            [b"ZREMRANGEBYSCORE", k, b"(1", b"(1"], [b"ZUNIONSTORE", k, 1, b"nokey"], [b"ZRANGESTORE", k, b"nokey", 0, -1],
        ])

    def blocking(self) -> None:
        """A blocking command on the first connection, then commands from the second that may serve it."""
        r = self.r
        k = self.key()
        if r.random() < 0.3:
            self._other(lambda: self.emit([r.choice([b"RPUSH", b"ZADD", b"SET"]), self.key()] +
                                          ([b"1"] if r.random() < 0.5 else []) + [b"x"], mutable=False))
        t = b"0.2"
        op = r.randrange(8)
        if op == 0:
            cmd = [r.choice([b"BLPOP", b"BRPOP"]), k] + ([self.key()] if r.random() < 0.3 else []) + [t]
        elif op == 1:
            cmd = [b"BLMOVE", k, self.key(), r.choice([b"LEFT", b"RIGHT"]), r.choice([b"LEFT", b"RIGHT"]), t]
        elif op == 2:
            cmd = [b"BLMPOP", t, 1, k, r.choice([b"LEFT", b"RIGHT"]), b"COUNT", r.choice([1, 2, 5])]
        elif op == 3:
            cmd = [r.choice([b"BZPOPMIN", b"BZPOPMAX"]), k, t]
        elif op == 4:
            cmd = [b"BZMPOP", t, 1, k, r.choice([b"MIN", b"MAX"]), b"COUNT", r.choice([1, 3])]
        elif op == 5:
            cmd = [b"BRPOPLPUSH", k, self.key(), t]
        elif op == 6:
            cmd = [b"XREAD", b"BLOCK", b"200", b"STREAMS", k, r.choice([b"$", b"0-0", b"5-0"])]
        else:
            cmd = [b"XREADGROUP", b"GROUP", b"g", b"c", b"BLOCK", b"200", b"STREAMS", k, b">"]
            self._other(lambda: self.emit([b"XGROUP", b"CREATE", k, b"g", b"$", b"MKSTREAM"], mutable=False))
        self.out.append(Cmd(cmd, BLOCK))
        for _ in range(r.randint(1, 3)):
            self._other(lambda: self.emit(self._feed(k), mutable=False))
        self.out.append(Cmd([b"__READ__"], BLOCK))

    def _feed(self, k: bytes) -> list:
        """A write from the other connection that may (or may not) serve a client blocked on ``k``."""
        r = self.r
        o = self.key()
        return r.choice([
            [b"RPUSH", k, b"a", b"b", b"c"], [b"LPUSH", k, b"x"], [b"RPUSH", o, b"y"], [b"ZADD", k, b"1", b"m", b"2", b"n"],
            [b"ZADD", k, b"5", b"z"], [b"SET", k, b"str"], [b"DEL", k], [b"XADD", k, b"7-1", b"f", b"v"],
            [b"XADD", k, b"9-1", b"f", b"w"], [b"RENAME", o, k], [b"COPY", o, k, b"REPLACE"], [b"MOVE", k, 10],
            [b"SWAPDB", 9, 10], [b"LMOVE", o, k, b"LEFT", b"RIGHT"], [b"ZUNIONSTORE", k, 1, o],
            [b"ZRANGESTORE", k, o, 0, -1], [b"SORT", o, b"STORE", k], [b"SADD", k, b"s"], [b"HSET", k, b"f", b"v"],
            [b"LPUSHX", k, b"px"], [b"ZINCRBY", k, 1, b"m"], [b"EXPIRE", k, 0], [b"LPOS", k, b"a"], [b"LLEN", k],
            [b"XGROUP", b"DESTROY", k, b"g"], [b"XTRIM", k, b"MAXLEN", 0], [b"SINTERSTORE", k, o],
        ])

    FAMILIES: dict[str, str] = {}

    def family(self, name: str) -> Callable[[], None]:
        return getattr(self, name)


FAMILY_NAMES = ["strings", "lists", "hashes", "sets", "zsets", "bitmaps", "generic", "streams", "sort",
                "transaction", "big", "chaos", "watch", "text", "numeric", "xfer", "blocking"]


def sequence(family: str, seed: int, length: int = 60) -> list[Cmd]:
    """A deterministic command sequence of one family (``mixed`` draws from all)."""
    g = Gen(seed, mutate=(0.05, 0.1, 0.25)[seed % 3])
    # "mixed" leaves out the blocking family: its timeouts make it slow
    names = [f for f in FAMILY_NAMES if f != "blocking"] if family == "mixed" else [family]
    while len(g.out) < length:
        fam = g.r.choice(names)
        # a foreign-type write now and then so WRONGTYPE paths run
        if family != "mixed" and g.r.random() < 0.04:
            fam = g.r.choice(["strings", "lists", "hashes", "sets", "zsets"])
        g.family(fam)()
    return g.out


# ---------------------------------------------------------------------------
# running a sequence on two servers
# ---------------------------------------------------------------------------

def dump(call: Callable[..., bytes], fold_int: bool = False) -> list:
    """Type, value and expiry of every key in dbs 9 and 10, in a comparable form."""
    out = []
    for db in (b"9", b"10"):
        call(b"SELECT", db)
        keys = sorted(k for _, k in parse(call(b"KEYS", b"*"))[0][1])
        for k in keys:
            t = parse(call(b"TYPE", k))[0][1]
            if t == b"string":
                v = parse(call(b"GET", k))[0]
            elif t == b"list":
                v = parse(call(b"LRANGE", k, b"0", b"-1"))[0]
            elif t == b"hash":
                v = _pairs(parse(call(b"HGETALL", k))[0])
            elif t == b"set":
                v = normalise(SORTED, parse(call(b"SMEMBERS", k))[0], Cmd([]))
            elif t == b"zset":
                v = parse(call(b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"))[0]
            elif t == b"stream":
                v = (parse(call(b"XRANGE", k, b"-", b"+"))[0], parse(call(b"XLEN", k))[0])
            else:
                v = None
            ttl = _tol(parse(call(b"PEXPIRETIME", k))[0], 1500)
            enc = parse(call(b"OBJECT", b"ENCODING", k))[0] if t in (b"string", b"hash", b"zset") else None
            if enc is not None:
                enc = normalise(ENC, enc, Cmd([]), fold_int, t)
            out.append((db, k, t, v, ttl, enc))
    call(b"SELECT", b"9")
    return out


def io_of(client) -> tuple:
    """(send, read, has_reply) over a conftest.RawClient, for BLOCK commands."""
    import select

    def send(*args: bytes) -> None:
        client.sock.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))

    def has_reply() -> bool:
        return bool(select.select([client.sock], [], [], 0)[0])

    return send, client.read_reply, has_reply


def _wait_blocked(call: Callable[..., bytes], has_reply: Callable[[], bool], timeout: float = 15.0) -> None:
    """Until INFO (on the other connection) counts a blocked client, or the reply is already there."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if has_reply() or b"blocked_clients:0\r\n" not in call(b"INFO", b"clients"):
            return
        time.sleep(0.001)


def _short(x, limit: int = 400) -> str:
    s = repr(x)
    return s if len(s) <= limit else s[:limit // 2] + " ... " + s[-limit // 2:]


def run_pair(a_call: Callable[..., bytes], b_call: Callable[..., bytes], cmds: list[Cmd],
             a_call2: Callable[..., bytes] | None = None, b_call2: Callable[..., bytes] | None = None,
             a_io: tuple | None = None, b_io: tuple | None = None) -> str | None:
    """Run ``cmds`` on both (a = reference); the first difference as text, or None.

    Commands with ``client == 1`` go to the second connection of each server
    (``a_call2``/``b_call2``); MULTI state is tracked for the first one only.
    ``BLOCK`` commands are sent on the first connection with ``a_io``/``b_io`` =
    (send, read, has_reply) and answered at the next ``__READ__``; before going
    on, the server must report the client blocked (or have answered already).
    """
    for cl in (a_call, b_call, a_call2, b_call2):
        if cl is not None:
            cl(b"UNWATCH")
            cl(b"SELECT", b"9")
    for cl in (a_call, b_call):
        cl(b"SELECT", b"10")
        cl(b"FLUSHDB")
        cl(b"SELECT", b"9")
        cl(b"FLUSHDB")
    queued: list[Cmd] | None = None
    fold = False
    pending = 0
    for i, cmd in enumerate(cmds):
        name = cmd[0].upper()
        if cmd.client == 1:
            assert a_call2 is not None and b_call2 is not None
            ra, rb = a_call2(*cmd), b_call2(*cmd)
            if ra != rb and not same(normalise(cmd.mode, parse(ra)[0], cmd, fold, b"?"),
                                     normalise(cmd.mode, parse(rb)[0], cmd, fold, b"?")):
                return f"command #{i} {_short(cmd)}:\n  redis     {_short(ra)}\n  fastredis {_short(rb)}"
            fold = fold or name == b"INCRBYFLOAT"
            continue
        if cmd.mode == BLOCK:
            assert a_io is not None and b_io is not None and a_call2 is not None and b_call2 is not None
            if name != b"__READ__":
                for io, c2 in ((a_io, a_call2), (b_io, b_call2)):
                    io[0](*cmd)
                    _wait_blocked(c2, io[2])
                pending += 1
                continue
            if not pending:
                continue
            pending -= 1
            ra, rb = a_io[1](), b_io[1]()
            if ra.startswith((b"-UNBLOCKED the stream key no longer exists", b"-NOGROUP the consumer group this")) \
                    and rb.startswith((b"-NOGROUP", b"-WRONGTYPE")):
                continue  # 7.2 re-runs a blocked XREADGROUP whose key or group went away; 7.0 has own texts
            if ra != rb:
                return f"blocked command before #{i}:\n  redis     {_short(ra)}\n  fastredis {_short(rb)}"
            continue
        if name == b"__XFER__":
            # DUMP on redis-server, RESTORE of that payload on both: fastredis loads 7.0's encodings
            node = parse(a_call(b"DUMP", cmd[1]))[0]
            if node[1] is None or node[0] != b"$":
                continue
            cmd = Cmd([b"RESTORE", cmd[2], b"0", node[1]] + list(cmd[3:]), cmd.mode)
        ra, rb = a_call(*cmd), b_call(*cmd)
        fold = fold or name == b"INCRBYFLOAT"
        if queued is not None and ra == b"+QUEUED\r\n":
            queued.append(cmd)
        if ra == rb:
            if name == b"MULTI" and ra == b"+OK\r\n":
                queued = []
            elif name in (b"EXEC", b"DISCARD"):
                queued = None
            continue
        pa, pb = parse(ra)[0], parse(rb)[0]
        if name == b"EXEC" and queued is not None and pa[0] == pb[0] == b"*" and pa[1] and pb[1] \
                and len(pa[1]) == len(pb[1]) == len(queued):
            na = [normalise(q.mode, x, q, fold, b"?") for q, x in zip(queued, pa[1])]
            nb = [normalise(q.mode, x, q, fold, b"?") for q, x in zip(queued, pb[1])]
        else:
            kt = parse(a_call(b"TYPE", cmd[2]))[0][1] if cmd.mode == ENC and len(cmd) == 3 else b""
            na, nb = normalise(cmd.mode, pa, cmd, fold, kt), normalise(cmd.mode, pb, cmd, fold, kt)
        if name in (b"EXEC", b"DISCARD"):
            queued = None
        if not same(na, nb):
            return f"command #{i} {_short(cmd)}:\n  redis     {_short(ra)}\n  fastredis {_short(rb)}"
    for _ in range(pending):  # a blocked command whose reply was never collected
        if a_io is not None and b_io is not None:
            a_io[1](), b_io[1]()
    if queued is not None:  # a MULTI left open would swallow the dump
        a_call(b"DISCARD")
        b_call(b"DISCARD")
    da, db = dump(a_call, fold), dump(b_call, fold)
    if not same(da, db):
        for x, y in zip(da, db):
            if not same(x, y):
                return f"dataset differs after the sequence:\n  redis     {_short(x)}\n  fastredis {_short(y)}"
        return f"dataset differs after the sequence:\n  redis     {_short(da)}\n  fastredis {_short(db)}"
    return None
