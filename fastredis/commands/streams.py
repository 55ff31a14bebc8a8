"""Stream commands (Redis' t_stream.c): XADD, XRANGE, XREAD, consumer groups, XCLAIM, XINFO...

The value model lives in ``types.stream``; this module parses arguments in
Redis' order (so the same bad call gets the same error), keeps group read
counters (for ``lag``) exactly as Redis 7.2 does, blocks XREAD/XREADGROUP
through the shared blocking mechanism and propagates consumer-group changes
the way Redis does (XCLAIM ... FORCE JUSTID and XGROUP SETID), so a replica
or the AOF ends in the same stream state.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from .._resp import NULL_ARRAY, OK, Raw, ReplyError, encode, string2ll
from ..blocking import parse_timeout
from ..db import WRONGTYPE, mstime
from ..types.stream import (
    INVALID_ENTRIES_READ,
    MAX_ID,
    ZERO_ID,
    Consumer,
    ConsumerGroup,
    PendingEntry,
    Stream,
    StreamID,
    format_id,
)
from .table import SYNTAX_ERROR, command, container, parse_int, subcommand, wrong_arity

if TYPE_CHECKING:
    from ..context import Client

U64 = 2**64 - 1
LONG_MAX = 2**63 - 1
INVALID_ID = ReplyError("ERR Invalid stream ID specified as stream command argument")
XADD_SMALL = ReplyError("ERR The ID specified in XADD is equal or smaller than the target stream top item")
XADD_ZERO = ReplyError("ERR The ID specified in XADD must be greater than 0-0")
EXHAUSTED = ReplyError("ERR The stream has exhausted the last possible ID, unable to add more items")
TRIM_BOTH = ReplyError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
LIMIT_NO_STRATEGY = ReplyError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
LIMIT_NO_TILDE = ReplyError("ERR syntax error, LIMIT cannot be used without the special ~ option")
XTRIM_NO_STRATEGY = ReplyError("ERR syntax error, XTRIM must be called with a trimming strategy")
NO_SUCH_KEY = ReplyError("ERR no such key")
STREAM_LISTPACK_MAX_SIZE = 1 << 30


def _subcommand_syntax(argv: list[bytes]) -> ReplyError:
    """addReplySubcommandSyntaxError: the subcommand as typed, the container upper-cased."""
    return ReplyError(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP."
                      % (_cstr(argv[1])[:128], argv[0].upper()))


def _cstr(b: bytes) -> bytes:
    """What C's ``%s`` prints: the bytes up to the first NUL."""
    i = b.find(b"\0")
    return b if i < 0 else b[:i]


# ---------------------------------------------------------------------------
# ID parsing (streamGenericParseIDOrReply)
# ---------------------------------------------------------------------------

_C_SPACE = b" \t\n\v\f\r"


def _string2ull(text: bytes) -> int | None:
    """Redis' string2ull: string2ll when it works, else strtoull (spaces, sign, leading zeros)."""
    v = string2ll(text)
    if v is not None:
        return int(v) if v >= 0 else None
    t = text.lstrip(_C_SPACE)
    neg = t[:1] == b"-"
    if t[:1] in (b"+", b"-"):
        t = t[1:]
    if not t or not t.isdigit():
        return None
    n = int(t)
    if n > U64:
        return None  # ERANGE
    return (-n) & U64 if neg else n


def parse_stream_id(raw: bytes, missing_seq: int = 0, strict: bool = False,
                    allow_seq_star: bool = False) -> tuple[StreamID, bool]:
    """Parse ``ms-seq`` / ``ms`` / ``-`` / ``+`` like streamGenericParseIDOrReply.

    Returns (id, seq_given); ``ms-*`` gives seq_given False when allowed.
    The argument is a C string there: longer than 127 bytes is invalid, a NUL ends it.
    """
    if len(raw) > 127:
        raise INVALID_ID
    raw = _cstr(raw)
    if raw == b"-" or raw == b"+":
        if strict:
            raise INVALID_ID
        return (ZERO_ID if raw == b"-" else MAX_ID), True
    ms_s, sep, seq_s = raw.partition(b"-")
    ms = _string2ull(ms_s)
    if ms is None:
        raise INVALID_ID
    if not sep:
        return (ms, missing_seq), True
    if allow_seq_star and seq_s == b"*":
        return (ms, 0), False
    seq = _string2ull(seq_s)
    if seq is None:
        raise INVALID_ID
    return (ms, seq), True


def parse_range_id(raw: bytes, missing_seq: int) -> tuple[StreamID, bool]:
    """A range bound: optional ``(`` for exclusive. Returns (id, exclusive)."""
    if raw[:1] == b"(" and len(raw) > 1:
        sid, _ = parse_stream_id(raw[1:], missing_seq, strict=True)
        return sid, True
    sid, _ = parse_stream_id(raw, missing_seq)
    return sid, False


def parse_interval(start_arg: bytes, end_arg: bytes) -> tuple[StreamID, StreamID]:
    """Start (missing seq 0) and end (missing seq max) with ``(`` exclusions, in Redis' error order."""
    start, start_ex = parse_range_id(start_arg, 0)
    if start_ex:
        n = incr_id(start)
        if n is None:
            raise ReplyError("ERR invalid start ID for the interval")
        start = n
    end, end_ex = parse_range_id(end_arg, U64)
    if end_ex:
        n = decr_id(end)
        if n is None:
            raise ReplyError("ERR invalid end ID for the interval")
        end = n
    return start, end


def incr_id(sid: StreamID) -> StreamID | None:
    ms, seq = sid
    if seq == U64:
        if ms == U64:
            return None
        return (ms + 1, 0)
    return (ms, seq + 1)


def decr_id(sid: StreamID) -> StreamID | None:
    ms, seq = sid
    if seq == 0:
        if ms == 0:
            return None
        return (ms - 1, U64)
    return (ms, seq - 1)


def _get_stream(c: Client, key: bytes, write: bool = False) -> Stream | None:
    v = c.db.get_for_write(key) if write else c.db.get(key)
    if v is not None and type(v) is not Stream:
        raise WRONGTYPE
    return v


def _notify(c: Client, key: bytes, event: bytes, dirty: int = 1) -> None:
    """A consumer-group change: dirty counter and keyspace event, but no WATCH invalidation.

    Redis only calls signalModifiedKey for entry changes (XADD, XDEL, XTRIM, MKSTREAM);
    XGROUP/XSETID/XREADGROUP/XCLAIM leave WATCHed stream keys untouched.
    """
    server = c.server
    server.dirty += dirty
    if server.notify_flags:
        server.notify(b"t", event, key, c.db.id)


def _create_consumer(c: Client, key: bytes, g: ConsumerGroup, name: bytes, now: int) -> Consumer:
    """streamCreateConsumer with SCC_DEFAULT: dirty and an ``xgroup-createconsumer`` event."""
    cons = g.add_consumer(name, now)
    _notify(c, key, b"xgroup-createconsumer")
    return cons


def _xclaim_argv(key: bytes, gname: bytes, id_arg: bytes, g: ConsumerGroup, pe: PendingEntry) -> list[bytes]:
    """streamPropagateXCLAIM: an idempotent XCLAIM that recreates this PEL entry on a replica."""
    return [b"XCLAIM", key, gname, pe.consumer.name, b"0", id_arg, b"TIME", b"%d" % pe.delivery_time,
            b"RETRYCOUNT", b"%d" % pe.delivery_count, b"FORCE", b"JUSTID", b"LASTID", format_id(g.last_id)]


def _setid_argv(key: bytes, gname: bytes, g: ConsumerGroup) -> list[bytes]:
    """streamPropagateGroupID: the group's last ID and read counter."""
    return [b"XGROUP", b"SETID", key, gname, format_id(g.last_id), b"ENTRIESREAD", b"%d" % g.entries_read]


def _sorted_groups(s: Stream) -> list[ConsumerGroup]:
    """Groups in Redis' rax order (byte order of the names)."""
    return [s.groups[k] for k in sorted(s.groups)]


def _sorted_consumers(g: ConsumerGroup) -> list[Consumer]:
    """Consumers in Redis' rax order (byte order of the names)."""
    return [g.consumers[k] for k in sorted(g.consumers)]


# ---------------------------------------------------------------------------
# XADD / XTRIM options (streamParseAddOrTrimArgsOrReply)
# ---------------------------------------------------------------------------

class TrimSpec:
    """Parsed XADD/XTRIM options; ``limit`` 0 means no limit (as in Redis)."""

    __slots__ = ("strategy", "approx", "maxlen", "minid", "limit", "arg_idx", "nomkstream",
                 "id", "id_given", "seq_given")

    def __init__(self) -> None:
        self.strategy: str | None = None
        self.approx = False
        self.maxlen = 0
        self.minid: StreamID = ZERO_ID
        self.limit = 0
        self.arg_idx = 0
        self.nomkstream = False
        self.id: StreamID = ZERO_ID
        self.id_given = False
        self.seq_given = True


def parse_add_trim(c: Client, argv: list[bytes], xadd: bool) -> tuple[TrimSpec, int]:
    """Parse the options of XADD/XTRIM; returns the spec and the ID position (XADD)."""
    spec = TrimSpec()
    limit_given = False
    n = len(argv)
    i = 2
    while i < n:
        more = n - 1 - i
        opt = argv[i]
        low = opt.lower()
        if xadd and opt == b"*":
            break
        if (low == b"maxlen" or low == b"minid") and more:
            if spec.strategy is not None:
                raise TRIM_BOTH
            spec.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                spec.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            if low == b"maxlen":
                v = parse_int(argv[i + 1])
                if v < 0:
                    raise ReplyError("ERR The MAXLEN argument must be >= 0.")
                spec.maxlen = v
            else:
                spec.minid, _ = parse_stream_id(argv[i + 1], 0, strict=True)
            i += 1
            spec.strategy = low.decode()
            spec.arg_idx = i
        elif low == b"limit" and more:
            v = parse_int(argv[i + 1])
            if v < 0:
                raise ReplyError("ERR The LIMIT argument must be >= 0.")
            spec.limit = v
            limit_given = True
            i += 1
        elif xadd and low == b"nomkstream":
            spec.nomkstream = True
        elif xadd:
            spec.id, spec.seq_given = parse_stream_id(opt, 0, strict=True, allow_seq_star=True)
            spec.id_given = True
            break
        else:
            raise SYNTAX_ERROR
        i += 1
    if spec.limit and spec.strategy is None:
        raise LIMIT_NO_STRATEGY
    if not xadd and spec.strategy is None:
        raise XTRIM_NO_STRATEGY
    if c.is_master:
        # the master / AOF rewrote '~' as '=' with the resulting size: never limit here
        spec.limit = 0
    elif limit_given:
        if not spec.approx:
            raise LIMIT_NO_TILDE
    elif spec.approx:
        lim = 100 * c.server.config["stream-node-max-entries"]
        spec.limit = 10000 if lim <= 0 else min(lim, 1000000)
    else:
        spec.limit = 0
    return spec, i


def _rewrite_trim(s: Stream, spec: TrimSpec, prop: list[bytes], node_max: int) -> None:
    """streamRewriteApproxSpecifier + streamRewriteTrimArgument: ``~ N`` becomes ``= <result>``."""
    prop[spec.arg_idx - 1] = b"="
    if spec.strategy == "maxlen":
        prop[spec.arg_idx] = b"%d" % len(s.entries)
    else:
        nodes = _nodes(s, node_max)
        prop[spec.arg_idx] = format_id(nodes[0][0]) if nodes else format_id(MAX_ID)


def _with_backlen(n: int) -> int:
    if n <= 127:
        return n + 1
    if n < 16383:
        return n + 2
    if n < 2097151:
        return n + 3
    return n + 5


def _lp_int_size(v: int) -> int:
    if 0 <= v <= 127:
        enc = 1
    elif -4096 <= v <= 4095:
        enc = 2
    elif -32768 <= v <= 32767:
        enc = 3
    elif -(1 << 23) <= v < (1 << 23):
        enc = 4
    elif -(1 << 31) <= v < (1 << 31):
        enc = 5
    else:
        enc = 9
    return _with_backlen(enc)


def _lp_size(b: bytes) -> int:
    """Bytes one element takes in a listpack (integers are stored compactly)."""
    if len(b) <= 20:
        v = string2ll(b)
        if v is not None:
            return _lp_int_size(v)
    n = len(b)
    return _with_backlen((1 if n <= 63 else 2 if n <= 4095 else 5) + n)


# node = [first_id, total (live + deleted), live, bytes, master fields, last_id (tombstones too)]
def _node_for(s: Stream, fields: list[bytes], sid: StreamID, node_max_entries: int,
              node_max_bytes: int) -> None:
    """Account a new entry in Redis' node layout (streamAppendItem's new-node rule)."""
    nodes = _nodes(s, node_max_entries)
    names = tuple(fields[0::2])
    totelelen = sum(len(x) for x in fields)
    if node_max_bytes <= 0 or node_max_bytes > STREAM_LISTPACK_MAX_SIZE:
        node_max_bytes = STREAM_LISTPACK_MAX_SIZE
    if nodes:
        last = nodes[-1]
        if not (last[3] + totelelen >= node_max_bytes or (node_max_entries and last[1] >= node_max_entries)):
            same = names == last[4]
            size = _lp_int_size(0) * 3 + _lp_int_size(len(fields) + (3 if same else 4))
            if same:
                size += sum(_lp_size(v) for v in fields[1::2])
            else:
                size += _lp_int_size(len(names)) + sum(_lp_size(x) for x in fields)
            last[1] += 1
            last[2] += 1
            last[3] += size
            last[5] = sid
            return
    master = 7 + _lp_int_size(1) + _lp_int_size(0) + _lp_int_size(len(names)) + \
        sum(_lp_size(f) for f in names) + _lp_int_size(0)
    entry = _lp_int_size(2) + _lp_int_size(0) * 2 + sum(_lp_size(v) for v in fields[1::2]) + \
        _lp_int_size(len(names) + 3)
    nodes.append([sid, 1, 1, master + entry, names, sid])


def _nodes(s: Stream, node_max_entries: int) -> list[list]:
    if s.nodes is None:
        # unknown layout (e.g. loaded from RDB): assume full nodes of node_max_entries
        nodes: list[list] = []
        per = node_max_entries or 100
        for i, (sid, fields) in enumerate(s.entries.items()):
            if i % per == 0:
                nodes.append([sid, 0, 0, 0, tuple(fields[0::2]), sid])
            nodes[-1][1] += 1
            nodes[-1][2] += 1
            nodes[-1][5] = sid
        s.nodes = nodes
    return s.nodes


def _node_delete(s: Stream, sid: StreamID, node_max_entries: int) -> None:
    nodes = _nodes(s, node_max_entries)
    lo, hi = 0, len(nodes)
    while lo < hi:
        mid = (lo + hi) // 2
        if nodes[mid][0] <= sid:
            lo = mid + 1
        else:
            hi = mid
    i = lo - 1
    if i < 0:
        return
    nodes[i][2] -= 1
    if nodes[i][2] <= 0:
        del nodes[i]


def trim(c: Client, s: Stream, spec: TrimSpec) -> int:
    """streamTrim: whole nodes first; with ~ stop at the first node that can't go whole."""
    if spec.strategy is None or not s.entries:
        return 0
    entries = s.entries
    if spec.strategy == "maxlen" and len(entries) <= spec.maxlen:
        return 0
    node_max = c.server.config["stream-node-max-entries"]
    nodes = _nodes(s, node_max)
    deleted = 0
    limit = spec.limit
    while nodes and entries:
        if spec.strategy == "maxlen" and len(entries) <= spec.maxlen:
            break
        node = nodes[0]
        live = node[2]
        if limit and deleted + live > limit:
            break
        if spec.strategy == "maxlen":
            remove_node = len(entries) - live >= spec.maxlen
        else:
            # the node's last ID (deleted entries count, as lpGetEdgeStreamID reads them) is below MINID
            remove_node = node[5] < spec.minid
        if remove_node:
            for _ in range(live):
                entries.popitem(0)
            del nodes[0]
            deleted += live
            continue
        if spec.approx:
            break
        # exact: delete entries from inside this node
        while entries and node[2] > 0:
            if spec.strategy == "maxlen":
                if len(entries) <= spec.maxlen:
                    break
            elif entries.keys()[0] >= spec.minid:
                break
            entries.popitem(0)
            node[2] -= 1
            deleted += 1
        break  # a node emptied by exact trimming stays until a later trim removes it, as in Redis
    return deleted




# ---------------------------------------------------------------------------
# XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID
# ---------------------------------------------------------------------------

@command("xadd", -5, "write denyoom fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Appends a new message to a stream. Creates the key if it doesn't exist.")
def xadd(c: Client, argv: list[bytes]) -> Any:
    spec, idpos = parse_add_trim(c, argv, True)
    nfields = len(argv) - idpos - 1
    if nfields < 2 or nfields % 2:
        raise wrong_arity("xadd")
    if spec.id_given and spec.seq_given and spec.id == ZERO_ID:
        raise XADD_ZERO
    key = argv[1]
    db = c.db
    s = _get_stream(c, key, write=True)
    if s is None:
        if spec.nomkstream:
            return None
        s = Stream()
        db.add(key, s)
    last = s.last_id
    if last == MAX_ID:
        raise EXHAUSTED
    sid: StreamID
    if not spec.id_given:
        now = mstime()
        sid = (now, 0) if now > last[0] else incr_id(last)  # type: ignore[assignment]
    elif not spec.seq_given:
        ms = spec.id[0]
        if ms == last[0]:
            if last[1] == U64:
                raise XADD_SMALL
            sid = (ms, last[1] + 1)
        else:
            sid = (ms, 0)
        if sid <= last:
            raise XADD_SMALL
    else:
        sid = spec.id
        if sid <= last:
            raise XADD_SMALL
    fields = list(argv[idpos + 1:])
    cfg = c.server.config
    node_max = cfg["stream-node-max-entries"]
    _node_for(s, fields, sid, node_max, cfg["stream-node-max-bytes"])
    s.add(sid, fields)
    idb = format_id(sid)
    db.changed(key, b"xadd", b"t")
    prop = list(argv)
    if spec.strategy is not None:
        if trim(c, s, spec) and c.server.notify_flags:
            c.server.notify(b"t", b"xtrim", key, db.id)
        if spec.approx:
            _rewrite_trim(s, spec, prop, node_max)
    if not spec.id_given or not spec.seq_given:
        prop[idpos] = idb
    c.propagate_argv = [prop]
    db.signal_ready(key)
    return idb


@command("xlen", 2, "readonly fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Return the number of messages in a stream.")
def xlen(c: Client, argv: list[bytes]) -> Any:
    s = _get_stream(c, argv[1])
    return 0 if s is None else len(s.entries)


def _xrange(c: Client, argv: list[bytes], rev: bool) -> Any:
    start, end = parse_interval(argv[3], argv[2]) if rev else parse_interval(argv[2], argv[3])
    count = -1
    j = 4
    while j < len(argv):
        if argv[j].lower() == b"count" and j + 1 < len(argv):
            count = max(0, parse_int(argv[j + 1]))
            j += 2
        else:
            raise SYNTAX_ERROR
    s = _get_stream(c, argv[1])
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    out: list[Any] = []
    if start > end:
        return out
    for sid, fields in s.range(start, end, reverse=rev):
        out.append([format_id(sid), fields])
        if len(out) == count:
            break
    return out


@command("xrange", -4, "readonly", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Return a range of elements in a stream, with IDs matching the specified IDs interval.")
def xrange(c: Client, argv: list[bytes]) -> Any:
    return _xrange(c, argv, False)


@command("xrevrange", -4, "readonly", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Return a range of elements in a stream, with IDs matching the specified IDs interval, "
                 "in reverse order.")
def xrevrange(c: Client, argv: list[bytes]) -> Any:
    return _xrange(c, argv, True)


@command("xdel", -3, "write fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Removes the specified entries from the stream.")
def xdel(c: Client, argv: list[bytes]) -> Any:
    s = _get_stream(c, argv[1], write=True)
    if s is None:
        return 0
    ids = [parse_stream_id(a, 0, strict=True)[0] for a in argv[2:]]
    n = 0
    node_max = c.server.config["stream-node-max-entries"]
    for sid in ids:
        if sid in s.entries:
            _node_delete(s, sid, node_max)
            s.delete(sid)
            n += 1
    if n:
        c.db.changed(argv[1], b"xdel", b"t", dirty=n)
    return n


@command("xtrim", -4, "write", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Deletes messages from the beginning of a stream.")
def xtrim(c: Client, argv: list[bytes]) -> Any:
    spec, _ = parse_add_trim(c, argv, False)
    s = _get_stream(c, argv[1], write=True)
    if s is None:
        return 0
    n = trim(c, s, spec)
    if n:
        c.db.changed(argv[1], b"xtrim", b"t", dirty=n)
        if spec.approx:
            prop = list(argv)
            _rewrite_trim(s, spec, prop, c.server.config["stream-node-max-entries"])
            c.propagate_argv = [prop]
    return n


@command("xsetid", -3, "write denyoom fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="An internal command for replicating stream values.")
def xsetid(c: Client, argv: list[bytes]) -> Any:
    sid, _ = parse_stream_id(argv[2], 0, strict=True)
    entries_added = -1
    max_xdel = ZERO_ID
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - 1 - i
        if opt == b"entriesadded" and more:
            entries_added = parse_int(argv[i + 1])
            if entries_added < 0:
                raise ReplyError("ERR entries_added must be positive")
            i += 2
        elif opt == b"maxdeletedid" and more:
            max_xdel, _ = parse_stream_id(argv[i + 1], 0, strict=True)
            if sid < max_xdel:
                raise ReplyError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
            i += 2
        else:
            raise SYNTAX_ERROR
    s = _get_stream(c, argv[1], write=True)
    if s is None:
        raise NO_SUCH_KEY
    if sid < s.max_deleted_entry_id:
        raise ReplyError("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
    if s.entries:
        if sid < s.last_entry_id:
            raise ReplyError("ERR The ID specified in XSETID is smaller than the target stream top item")
        if entries_added != -1 and len(s.entries) > entries_added:
            raise ReplyError("ERR The entries_added specified in XSETID is smaller than the target stream length")
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel != ZERO_ID:
        s.max_deleted_entry_id = max_xdel
    _notify(c, argv[1], b"xsetid")
    return OK


# ---------------------------------------------------------------------------
# Group counters (lag / entries-read), shared by XREADGROUP and XINFO
# ---------------------------------------------------------------------------

def range_has_tombstones(s: Stream, start: StreamID | None, end: StreamID | None) -> bool:
    mdel = s.max_deleted_entry_id
    if not s.entries or mdel == ZERO_ID:
        return False
    if s.first_id > mdel:
        return False
    lo = start if start is not None else ZERO_ID
    hi = end if end is not None else MAX_ID
    return lo <= mdel <= hi


def estimate_distance(s: Stream, sid: StreamID) -> int:
    """streamEstimateDistanceFromFirstEverEntry."""
    if not s.entries_added:
        return 0
    if not s.entries and sid <= s.last_id:
        return s.entries_added
    if sid == s.last_id:
        return s.entries_added
    if sid > s.last_id:
        return INVALID_ENTRIES_READ
    first = s.first_id
    if s.max_deleted_entry_id == ZERO_ID or s.max_deleted_entry_id < first:
        if sid < first:
            return s.entries_added - len(s.entries)
        if sid == first:
            return s.entries_added - len(s.entries) + 1
    return INVALID_ENTRIES_READ


def group_lag(s: Stream, g: ConsumerGroup) -> int | None:
    if not s.entries_added:
        return 0
    if g.entries_read != INVALID_ENTRIES_READ and not range_has_tombstones(s, g.last_id, None):
        return s.entries_added - g.entries_read
    er = estimate_distance(s, g.last_id)
    if er != INVALID_ENTRIES_READ:
        return s.entries_added - er
    return None


def _advance_group(s: Stream, g: ConsumerGroup, sid: StreamID) -> None:
    if sid > g.last_id:
        if g.entries_read != INVALID_ENTRIES_READ and not range_has_tombstones(s, sid, None):
            g.entries_read += 1
        elif s.entries_added:
            g.entries_read = estimate_distance(s, sid)
        g.last_id = sid


# ---------------------------------------------------------------------------
# XREAD / XREADGROUP
# ---------------------------------------------------------------------------

class ReadArgs:
    """Parsed XREAD/XREADGROUP options."""

    __slots__ = ("block", "count", "noack", "group", "consumer", "keys", "ids")

    def __init__(self) -> None:
        self.block = -1
        self.count = 0
        self.noack = False
        self.group: bytes | None = None
        self.consumer: bytes = b""
        self.keys: list[bytes] = []
        self.ids: list[bytes] = []


def _parse_read_args(argv: list[bytes], group_mode: bool) -> ReadArgs:
    """xreadCommand's option loop, with its errors in its order."""
    a = ReadArgs()
    n = len(argv)
    streams_at = 0
    i = 1
    while i < n:
        more = n - i - 1
        opt = argv[i].lower()
        if opt == b"block" and more:
            i += 1
            a.block = parse_timeout(argv[i], unit_seconds=False)
        elif opt == b"count" and more:
            i += 1
            a.count = max(0, parse_int(argv[i]))
        elif opt == b"streams" and more:
            streams_at = i + 1
            if (n - streams_at) % 2:
                raise ReplyError("ERR Unbalanced '%s' list of streams: for each stream key an ID or '%s' must be "
                                 "specified." % (("xreadgroup", ">") if group_mode else ("xread", "$")))
            break
        elif opt == b"group" and more >= 2:
            if not group_mode:
                raise ReplyError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
            a.group = argv[i + 1]
            a.consumer = argv[i + 2]
            i += 2
        elif opt == b"noack":
            if not group_mode:
                raise ReplyError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
            a.noack = True
        else:
            raise SYNTAX_ERROR
        i += 1
    if not streams_at:
        raise SYNTAX_ERROR
    if group_mode and a.group is None:
        raise ReplyError("ERR Missing GROUP option for XREADGROUP")
    half = (n - streams_at) // 2
    a.keys = argv[streams_at:streams_at + half]
    a.ids = argv[streams_at + half:]
    return a


def _xread_keys(argv: list[bytes]) -> list[int]:
    for i in range(1, len(argv)):
        if argv[i].lower() == b"streams":
            n = (len(argv) - i - 1) // 2
            return list(range(i + 1, i + 1 + n))
    return []


def _incr_wrap(sid: StreamID) -> StreamID:
    """streamIncrID as xreadCommand uses it: the maximal ID wraps to 0-0 (the error is ignored)."""
    n = incr_id(sid)
    return ZERO_ID if n is None else n


def _stream_or_wrongtype(c: Client, key: bytes) -> Stream | None:
    v = c.db.get(key)
    if v is not None and type(v) is not Stream:
        raise WRONGTYPE
    return v


def _read_reply(cl: Client, result: list[tuple[bytes, list[Any]]]) -> Any:
    if cl.resp == 3:
        if len({k for k, _ in result}) == len(result):
            return dict(result)
        # a key named twice (STREAMS k k ...): Redis writes a map with the key repeated
        return Raw(b"%%%d\r\n" % len(result) + b"".join(encode(k, 3) + encode(v, 3) for k, v in result))
    return [[k, items] for k, items in result]


GT_ERROR = ReplyError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                      "<consumer> option.")
DOLLAR_IN_GROUP = ReplyError(
    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by "
    "specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")


@command("xread", -4, "readonly blocking", group="stream", since="5.0.0", key_finder=_xread_keys,
         summary="Return never seen elements in multiple streams, with IDs greater than the ones reported by "
                 "the caller for each stream. Can block.")
def xread(c: Client, argv: list[bytes]) -> Any:
    a = _parse_read_args(argv, False)
    keys = a.keys
    starts: list[StreamID | None] = []  # None = '+': the last entry (Redis 7.4's extension)
    for key, raw in zip(keys, a.ids):
        s = _stream_or_wrongtype(c, key)
        if raw == b"$":
            starts.append(s.last_id if s is not None else ZERO_ID)
        elif raw == b"+":
            starts.append(None)
        elif raw == b">":
            raise GT_ERROR
        else:
            starts.append(parse_stream_id(raw, 0, strict=True)[0])
    count = a.count

    def serve(cl: Client) -> Any:
        result: list[tuple[bytes, list[Any]]] = []
        for key, start in zip(keys, starts):
            s = cl.db.get(key)
            if type(s) is not Stream or not s.entries:
                continue
            if start is None:
                sid, fields = s.entries.peekitem(-1)
                result.append((key, [[format_id(sid), fields]]))
                continue
            if s.last_entry_id <= start:
                continue
            items = []
            for sid, fields in s.range(_incr_wrap(start), MAX_ID):
                items.append([format_id(sid), fields])
                if len(items) == count:
                    break
            result.append((key, items))
        return _read_reply(cl, result) if result else None

    reply = serve(c)
    if reply is not None:
        return reply
    if a.block < 0:
        return NULL_ARRAY
    # '$' and '+' now mean the last ID at blocking time (Redis rewrites the argument the same way)
    for i, key in enumerate(keys):
        if starts[i] is None:
            s = c.db.peek(key)
            starts[i] = s.last_id if type(s) is Stream else ZERO_ID

    def retry(cl: Client) -> Any:
        # XREAD is only woken by a stream that has something past its ID (a key that is
        # deleted or changes type leaves it blocked); then the command runs again as a whole
        peek = cl.db.peek
        if not any(type(s) is Stream and s.entries and s.last_entry_id > st  # type: ignore[operator]
                   for s, st in ((peek(k), st) for k, st in zip(keys, starts))):
            return None
        for key in keys:
            v = peek(key)
            if v is not None and type(v) is not Stream:
                return WRONGTYPE
        return serve(cl)

    return c.server.blocking.block(c, keys, a.block, retry, NULL_ARRAY)


def _nogroup_read(key: bytes, group: bytes) -> ReplyError:
    return ReplyError(b"NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option"
                      % (_cstr(key), _cstr(group)))


@command("xreadgroup", -7, "write blocking", group="stream", since="5.0.0", key_finder=_xread_keys,
         summary="Return new entries from a stream using a consumer group, or access the history of the "
                 "pending entries for a given consumer. Can block.")
def xreadgroup(c: Client, argv: list[bytes]) -> Any:
    a = _parse_read_args(argv, True)
    keys = a.keys
    gname: bytes = a.group  # type: ignore[assignment]
    cname = a.consumer
    count = a.count
    noack = a.noack
    targets: list[tuple[bytes, StreamID | None]] = []  # None = '>'
    for key, raw in zip(keys, a.ids):
        s = _stream_or_wrongtype(c, key)
        if s is None or gname not in s.groups:
            raise _nogroup_read(key, gname)
        if raw == b"$":
            raise DOLLAR_IN_GROUP
        if raw == b">":
            targets.append((key, None))
        else:
            sid = parse_stream_id(raw, 0, strict=True)[0]
            # Redis encodes '>' as the maximal ID, so that ID given explicitly reads new entries too
            targets.append((key, None if sid == MAX_ID else sid))

    def serve(cl: Client, props: list[list[bytes]]) -> Any:
        """The synchronous part of xreadCommand: consumers are created (and seen) even when
        nothing is served; delivered entries are propagated as XCLAIM + XGROUP SETID."""
        result: list[tuple[bytes, list[Any]]] = []
        now = mstime()
        server = cl.server
        for key, start in targets:
            s: Stream = cl.db.get(key)
            g = s.groups[gname]
            history = start is not None
            gt = start
            if not history and s.entries and s.last_entry_id > g.last_id:
                gt = g.last_id
            consumer = g.consumers.get(cname)
            if consumer is None:
                consumer = _create_consumer(cl, key, g, cname, now)
                if noack:
                    props.append([b"XGROUP", b"CREATECONSUMER", key, gname, cname])
            consumer.seen_time = now
            if gt is None:
                continue
            begin = _incr_wrap(gt)
            items: list[Any] = []
            if history:
                # the consumer's own PEL; entries deleted meanwhile come back with null fields
                for sid in list(consumer.pel.irange(begin, None)):
                    if count and len(items) >= count:
                        break
                    fields = s.entries.get(sid)
                    if fields is None:
                        items.append([format_id(sid), NULL_ARRAY])
                        continue
                    pe = consumer.pel[sid]
                    pe.delivery_time = now
                    pe.delivery_count += 1
                    items.append([format_id(sid), fields])
            else:
                moved = False
                for sid, fields in s.range(begin, MAX_ID):
                    if sid > g.last_id:
                        _advance_group(s, g, sid)
                        moved = True
                    items.append([format_id(sid), fields])
                    if not noack:
                        pe = g.pel.get(sid)
                        if pe is None:
                            pe = g.add_pending(sid, consumer, now, 1)
                        else:
                            # already pending (the group ID was set back): it moves to this consumer
                            pe.consumer.pel.pop(sid, None)
                            pe.consumer = consumer
                            pe.delivery_time = now
                            pe.delivery_count = 1
                            consumer.pel[sid] = pe
                        consumer.active_time = now
                        props.append(_xclaim_argv(key, gname, format_id(sid), g, pe))
                    if len(items) == count:
                        break
                if moved:
                    props.append(_setid_argv(key, gname, g))
            result.append((key, items))
            server.dirty += 1
        return _read_reply(cl, result) if result else None

    props: list[list[bytes]] = []
    reply = serve(c, props)
    # XREADGROUP itself is never propagated, only what it changed
    c.propagate_argv = props
    if reply is not None:
        return reply
    if a.block < 0:
        return NULL_ARRAY

    def retry(cl: Client) -> Any:
        # Redis 7.2 runs the command again: a key that went away (or lost the group) answers
        # NOGROUP, a key that changed type WRONGTYPE, new entries are served
        for key in keys:
            v = cl.db.peek(key)
            if v is not None and type(v) is not Stream:
                return WRONGTYPE
            if v is None or gname not in v.groups:
                return _nogroup_read(key, gname)
        more: list[list[bytes]] = []
        r = serve(cl, more)
        for p in more:
            cl.server.propagate(cl.db.id, p)
        return r

    return c.server.blocking.block(c, keys, a.block, retry, NULL_ARRAY)


# ---------------------------------------------------------------------------
# XACK, XPENDING, XCLAIM, XAUTOCLAIM
# ---------------------------------------------------------------------------

def _read_group(c: Client, key: bytes, gname: bytes) -> tuple[Stream | None, ConsumerGroup | None]:
    """lookupKeyRead + checkType + streamLookupCG."""
    s = _stream_or_wrongtype(c, key)
    if s is None:
        return None, None
    return s, s.groups.get(gname)


def _nogroup_key(key: bytes, gname: bytes) -> ReplyError:
    return ReplyError(b"NOGROUP No such key '%s' or consumer group '%s'" % (_cstr(key), _cstr(gname)))


@command("xack", -4, "write fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Marks a pending message as correctly processed, effectively removing it from the pending "
                 "entries list of the consumer group.")
def xack(c: Client, argv: list[bytes]) -> Any:
    _, g = _read_group(c, argv[1], argv[2])
    if g is None:
        return 0
    ids = [parse_stream_id(a, 0, strict=True)[0] for a in argv[3:]]
    n = 0
    for sid in ids:
        if g.ack(sid):
            n += 1
    c.server.dirty += n
    return n


@command("xpending", -3, "readonly", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Return information and entries from a stream consumer group pending entries list, that are "
                 "messages fetched but never acknowledged.")
def xpending(c: Client, argv: list[bytes]) -> Any:
    key, gname = argv[1], argv[2]
    n = len(argv)
    if n != 3 and (n < 6 or n > 9):
        raise SYNTAX_ERROR
    min_idle = 0
    count = 0
    start, end = ZERO_ID, MAX_ID
    consumer_name = None
    if n >= 6:
        i = 3
        if argv[3].lower() == b"idle":
            min_idle = parse_int(argv[4])
            if n < 8:
                raise SYNTAX_ERROR
            i = 5
        count = max(0, parse_int(argv[i + 2]))
        start, end = parse_interval(argv[i], argv[i + 1])
        if i + 3 < n:
            consumer_name = argv[i + 3]
    _, g = _read_group(c, key, gname)
    if g is None:
        raise _nogroup_key(key, gname)
    if n == 3:
        if not g.pel:
            return [0, None, None, NULL_ARRAY]
        return [len(g.pel), format_id(g.pel.peekitem(0)[0]), format_id(g.pel.peekitem(-1)[0]),
                [[cons.name, b"%d" % len(cons.pel)] for cons in _sorted_consumers(g) if cons.pel]]
    pel = g.pel
    if consumer_name is not None:
        cons = g.consumers.get(consumer_name)
        if cons is None:
            return []
        pel = cons.pel
    now = mstime()
    out: list[Any] = []
    if not count:
        return out
    for sid in pel.irange(start, end):
        pe = pel[sid]
        idle = now - pe.delivery_time
        if min_idle and idle < min_idle:
            continue
        out.append([format_id(sid), pe.consumer.name, max(0, idle), pe.delivery_count])
        if len(out) == count:
            break
    return out


def _claim_to(pe: PendingEntry, sid: StreamID, consumer: Consumer, fresh: bool = False) -> None:
    """Move a pending entry to ``consumer``'s PEL (a FORCE-created one has no owner yet)."""
    if fresh or pe.consumer is not consumer:
        if not fresh:
            pe.consumer.pel.pop(sid, None)
        pe.consumer = consumer
        consumer.pel[sid] = pe


@command("xclaim", -6, "write fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Changes (or acquires) ownership of a message in a consumer group, as if the message was "
                 "delivered to the specified consumer.")
def xclaim(c: Client, argv: list[bytes]) -> Any:
    key, gname, cname = argv[1], argv[2], argv[3]
    s, g = _read_group(c, key, gname)
    if s is None or g is None:
        raise _nogroup_key(key, gname)
    min_idle = max(0, parse_int(argv[4], ReplyError("ERR Invalid min-idle-time argument for XCLAIM")))
    ids: list[StreamID] = []
    j = 5
    while j < len(argv):
        try:
            ids.append(parse_stream_id(argv[j], 0, strict=True)[0])
        except ReplyError:
            break
        j += 1
    now = mstime()
    deliverytime = -1
    retrycount = -1
    force = justid = False
    lastid = ZERO_ID
    while j < len(argv):
        opt = argv[j].lower()
        more = len(argv) - 1 - j
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            deliverytime = now - parse_int(argv[j], ReplyError("ERR Invalid IDLE option argument for XCLAIM"))
        elif opt == b"time" and more:
            j += 1
            deliverytime = parse_int(argv[j], ReplyError("ERR Invalid TIME option argument for XCLAIM"))
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = parse_int(argv[j], ReplyError("ERR Invalid RETRYCOUNT option argument for XCLAIM"))
        elif opt == b"lastid" and more:
            j += 1
            lastid, _ = parse_stream_id(argv[j], 0, strict=True)
        else:
            raise ReplyError(b"ERR Unrecognized XCLAIM option '%s'" % _cstr(argv[j]))
        j += 1
    server = c.server
    props: list[list[bytes]] = []
    propagate_last = False
    if lastid > g.last_id:
        g.last_id = lastid
        propagate_last = True
    if deliverytime == -1 or deliverytime < 0 or deliverytime > now:
        deliverytime = now
    consumer = g.consumers.get(cname)
    if consumer is None:
        consumer = _create_consumer(c, key, g, cname, now)
    consumer.seen_time = now
    out: list[Any] = []
    for k, sid in enumerate(ids):
        id_arg = argv[5 + k]
        pe = g.pel.get(sid)
        fields = s.entries.get(sid)
        if fields is None:
            # the entry was deleted: its PEL entry goes (and the replica is told so)
            if pe is not None:
                props.append(_xclaim_argv(key, gname, id_arg, g, pe))
                propagate_last = False
                server.dirty += 1
                g.ack(sid)
            continue
        fresh = False
        if pe is None:
            if not force:
                continue
            pe = PendingEntry(consumer, now, 1)
            g.pel[sid] = pe
            fresh = True
        elif min_idle and now - pe.delivery_time < min_idle:
            continue
        _claim_to(pe, sid, consumer, fresh)
        pe.delivery_time = deliverytime
        if retrycount >= 0:
            pe.delivery_count = retrycount
        elif not justid:
            pe.delivery_count += 1
        out.append(format_id(sid) if justid else [format_id(sid), fields])
        consumer.active_time = now
        props.append(_xclaim_argv(key, gname, id_arg, g, pe))
        propagate_last = False
        server.dirty += 1
    if propagate_last:
        props.append(_setid_argv(key, gname, g))
        server.dirty += 1
    c.propagate_argv = props
    return out


@command("xautoclaim", -6, "write fast", keys=(1, 1, 1), group="stream", since="6.2.0",
         summary="Changes, or acquires, ownership of messages in a consumer group, as if the messages were "
                 "delivered to as consumer group member.")
def xautoclaim(c: Client, argv: list[bytes]) -> Any:
    key, gname, cname = argv[1], argv[2], argv[3]
    min_idle = max(0, parse_int(argv[4], ReplyError("ERR Invalid min-idle-time argument for XAUTOCLAIM")))
    start, start_ex = parse_range_id(argv[5], 0)
    if start_ex:
        n = incr_id(start)
        if n is None:
            raise ReplyError("ERR invalid start ID for the interval")
        start = n
    count = 100
    justid = False
    j = 6
    while j < len(argv):
        opt = argv[j].lower()
        more = len(argv) - 1 - j
        if opt == b"count" and more:
            bad = ReplyError("ERR COUNT must be > 0")
            count = parse_int(argv[j + 1], bad)
            if count < 1 or count > LONG_MAX // 16:
                raise bad
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise SYNTAX_ERROR
        j += 1
    s, g = _read_group(c, key, gname)
    if s is None or g is None:
        raise _nogroup_key(key, gname)
    now = mstime()
    server = c.server
    consumer = g.consumers.get(cname)
    if consumer is None:
        consumer = _create_consumer(c, key, g, cname, now)
    consumer.seen_time = now
    attempts = count * 10
    props: list[list[bytes]] = []
    claimed: list[Any] = []
    deleted: list[bytes] = []
    pending = list(islice(g.pel.irange(start, None), attempts + 1))
    idx = 0
    while attempts and count and idx < len(pending):
        attempts -= 1
        sid = pending[idx]
        idx += 1
        pe = g.pel[sid]
        fields = s.entries.get(sid)
        if fields is None:
            props.append(_xclaim_argv(key, gname, format_id(sid), g, pe))
            server.dirty += 1
            g.ack(sid)
            deleted.append(format_id(sid))
            count -= 1
            continue
        if min_idle and now - pe.delivery_time < min_idle:
            continue
        _claim_to(pe, sid, consumer)
        pe.delivery_time = now
        if not justid:
            pe.delivery_count += 1
        claimed.append(format_id(sid) if justid else [format_id(sid), fields])
        count -= 1
        consumer.active_time = now
        props.append(_xclaim_argv(key, gname, format_id(sid), g, pe))
        server.dirty += 1
    cursor = pending[idx] if idx < len(pending) else ZERO_ID
    c.propagate_argv = props
    return [format_id(cursor), claimed, deleted]


# ---------------------------------------------------------------------------
# XGROUP
# ---------------------------------------------------------------------------

container("xgroup", -2, "", group="stream", since="5.0.0", summary="A container for consumer groups commands.")

KEY_REQUIRED = ReplyError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
                          "to use the MKSTREAM option to create an empty stream automatically.")


def _nogroup(key: bytes, gname: bytes) -> ReplyError:
    return ReplyError(b"NOGROUP No such consumer group '%s' for key name '%s'" % (_cstr(gname), _cstr(key)))


def _xgroup_prepare(c: Client, argv: list[bytes]) -> tuple[Stream | None, ConsumerGroup | None, bool, int]:
    """The common head of xgroupCommand: options, key lookup, key/group existence, in Redis' order."""
    sub = argv[1].lower()
    create = sub == b"create"
    setid = sub == b"setid"
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    n = len(argv)
    i = 5
    while i < n:
        opt = argv[i].lower()
        if create and opt == b"mkstream":
            mkstream = True
            i += 1
        elif (create or setid) and opt == b"entriesread" and i + 1 < n:
            entries_read = parse_int(argv[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                raise ReplyError("ERR value for ENTRIESREAD must be positive or -1")
            i += 2
        else:
            raise _subcommand_syntax(argv)
    key = argv[2]
    s = _get_stream(c, key, write=True)
    g = None
    if not mkstream:
        if s is None:
            raise KEY_REQUIRED
        g = s.groups.get(argv[3])
        if g is None and sub in (b"setid", b"createconsumer", b"delconsumer"):
            raise _nogroup(key, argv[3])
    return s, g, mkstream, entries_read


@subcommand("xgroup", "create", -5, "write denyoom", keys=(2, 2, 1), since="5.0.0",
            summary="Create a consumer group.")
def xgroup_create(c: Client, argv: list[bytes]) -> Any:
    s, _, mkstream, entries_read = _xgroup_prepare(c, argv)
    if len(argv) > 8:
        raise _subcommand_syntax(argv)
    key, gname = argv[2], argv[3]
    if argv[4] == b"$":
        sid = s.last_id if s is not None else ZERO_ID
    else:
        sid, _ = parse_stream_id(argv[4], 0, strict=True)
    db = c.db
    if s is None:
        s = Stream()
        db.add(key, s)
        db.signal_modified(key)
    if s.create_group(gname, sid, entries_read) is None:
        raise ReplyError("BUSYGROUP Consumer Group name already exists")
    _notify(c, key, b"xgroup-create")
    return OK


@subcommand("xgroup", "setid", -5, "write", keys=(2, 2, 1), since="5.0.0",
            summary="Set a consumer group to an arbitrary last delivered ID value.")
def xgroup_setid(c: Client, argv: list[bytes]) -> Any:
    s, g, _, entries_read = _xgroup_prepare(c, argv)
    if len(argv) not in (5, 7):
        raise _subcommand_syntax(argv)
    assert s is not None and g is not None
    g.last_id = s.last_id if argv[4] == b"$" else parse_stream_id(argv[4], 0)[0]
    g.entries_read = entries_read
    _notify(c, argv[2], b"xgroup-setid")
    return OK


@subcommand("xgroup", "destroy", 4, "write", keys=(2, 2, 1), since="5.0.0", summary="Destroy a consumer group.")
def xgroup_destroy(c: Client, argv: list[bytes]) -> Any:
    s, g, _, _ = _xgroup_prepare(c, argv)
    if s is None or g is None:
        return 0
    del s.groups[argv[3]]
    _notify(c, argv[2], b"xgroup-destroy")
    # clients blocked in XREADGROUP on this group get -NOGROUP
    c.db.signal_ready(argv[2])
    return 1


@subcommand("xgroup", "createconsumer", 5, "write denyoom", keys=(2, 2, 1), since="6.2.0",
            summary="Create a consumer in a consumer group.")
def xgroup_createconsumer(c: Client, argv: list[bytes]) -> Any:
    _, g, _, _ = _xgroup_prepare(c, argv)
    assert g is not None
    if argv[4] in g.consumers:
        return 0
    _create_consumer(c, argv[2], g, argv[4], mstime())
    return 1


@subcommand("xgroup", "delconsumer", 5, "write", keys=(2, 2, 1), since="5.0.0",
            summary="Delete a consumer from a consumer group.")
def xgroup_delconsumer(c: Client, argv: list[bytes]) -> Any:
    _, g, _, _ = _xgroup_prepare(c, argv)
    assert g is not None
    cons = g.consumers.pop(argv[4], None)
    if cons is None:
        return 0
    n = len(cons.pel)
    for sid in cons.pel:
        g.pel.pop(sid, None)
    _notify(c, argv[2], b"xgroup-delconsumer")
    return n


@subcommand("xgroup", "help", 2, "loading stale", since="5.0.0", summary="Returns helpful text about the different subcommands.")
def xgroup_help(c: Client, argv: list[bytes]) -> Any:
    from ._help import help_lines

    return help_lines("XGROUP", [
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
    ])


# ---------------------------------------------------------------------------
# XINFO
# ---------------------------------------------------------------------------

container("xinfo", -2, "", group="stream", since="5.0.0", summary="A container for stream introspection commands.")


def _need_stream_ro(c: Client, key: bytes) -> Stream:
    s = _stream_or_wrongtype(c, key)
    if s is None:
        raise NO_SUCH_KEY
    return s


def _opt_entry(s: Stream, last: bool) -> Any:
    if not s.entries:
        return None
    sid, fields = s.entries.peekitem(-1 if last else 0)
    return [format_id(sid), fields]


@subcommand("xinfo", "stream", -3, "readonly", keys=(2, 2, 1), since="5.0.0",
            summary="Get information about a stream.")
def xinfo_stream(c: Client, argv: list[bytes]) -> Any:
    s = _need_stream_ro(c, argv[2])
    full = len(argv) > 3
    count = 10
    if full:
        if len(argv) not in (4, 6) or argv[3].lower() != b"full":
            raise _subcommand_syntax(argv)
        if len(argv) == 6:
            if argv[4].lower() != b"count":
                raise _subcommand_syntax(argv)
            count = parse_int(argv[5])
            if count < 0:
                count = 10
    nkeys = len(_nodes(s, c.server.config["stream-node-max-entries"]))
    info: dict[bytes, Any] = {
        b"length": len(s.entries),
        b"radix-tree-keys": nkeys,
        # rax node count: not modelled exactly (one inner node per listpack plus the root)
        b"radix-tree-nodes": nkeys + 1,
        b"last-generated-id": format_id(s.last_id),
        b"max-deleted-entry-id": format_id(s.max_deleted_entry_id),
        b"entries-added": s.entries_added,
        b"recorded-first-entry-id": format_id(s.first_id),
    }
    if not full:
        info[b"groups"] = len(s.groups)
        info[b"first-entry"] = _opt_entry(s, False)
        info[b"last-entry"] = _opt_entry(s, True)
        return info
    entries = []
    for sid, fields in s.range():
        entries.append([format_id(sid), fields])
        if len(entries) == count:
            break
    info[b"entries"] = entries
    groups = []
    for g in _sorted_groups(s):
        pel: list[Any] = []
        for sid, pe in g.pel.items():
            if count and len(pel) >= count:
                break
            pel.append([format_id(sid), pe.consumer.name, pe.delivery_time, pe.delivery_count])
        consumers = []
        for cons in _sorted_consumers(g):
            cpel: list[Any] = []
            for sid, pe in cons.pel.items():
                if count and len(cpel) >= count:
                    break
                cpel.append([format_id(sid), pe.delivery_time, pe.delivery_count])
            consumers.append({
                b"name": cons.name,
                b"seen-time": cons.seen_time,
                b"active-time": cons.active_time,
                b"pel-count": len(cons.pel),
                b"pending": cpel,
            })
        groups.append({
            b"name": g.name,
            b"last-delivered-id": format_id(g.last_id),
            b"entries-read": None if g.entries_read == INVALID_ENTRIES_READ else g.entries_read,
            b"lag": group_lag(s, g),
            b"pel-count": len(g.pel),
            b"pending": pel,
            b"consumers": consumers,
        })
    info[b"groups"] = groups
    return info


@subcommand("xinfo", "groups", 3, "readonly", keys=(2, 2, 1), since="5.0.0",
            summary="Get a list of consumer groups of a stream.")
def xinfo_groups(c: Client, argv: list[bytes]) -> Any:
    s = _need_stream_ro(c, argv[2])
    return [{
        b"name": g.name,
        b"consumers": len(g.consumers),
        b"pending": len(g.pel),
        b"last-delivered-id": format_id(g.last_id),
        b"entries-read": None if g.entries_read == INVALID_ENTRIES_READ else g.entries_read,
        b"lag": group_lag(s, g),
    } for g in _sorted_groups(s)]


@subcommand("xinfo", "consumers", 4, "readonly", keys=(2, 2, 1), since="5.0.0",
            summary="Get a list of the consumers in a consumer group.")
def xinfo_consumers(c: Client, argv: list[bytes]) -> Any:
    s = _need_stream_ro(c, argv[2])
    g = s.groups.get(argv[3])
    if g is None:
        raise _nogroup(argv[2], argv[3])
    now = mstime()
    return [{
        b"name": cons.name,
        b"pending": len(cons.pel),
        b"idle": max(0, now - cons.seen_time),
        b"inactive": now - cons.active_time if cons.active_time != -1 else -1,
    } for cons in _sorted_consumers(g)]


@subcommand("xinfo", "help", 2, "loading stale", since="5.0.0", summary="Returns helpful text about the different subcommands.")
def xinfo_help(c: Client, argv: list[bytes]) -> Any:
    from ._help import help_lines

    return help_lines("XINFO", [
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
    ])
