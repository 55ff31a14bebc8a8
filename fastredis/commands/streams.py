"""Stream commands (Redis' t_stream.c): XADD, XRANGE, XREAD, consumer groups, XCLAIM, XINFO...

The value model lives in ``types.stream``; this module parses arguments,
enforces Redis' ID rules and error texts, keeps group read counters (for
``lag``) exactly as Redis 7.2 does, and blocks XREAD/XREADGROUP through the
shared blocking mechanism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import NULL_ARRAY, OK, ReplyError, string2ll
from ..blocking import parse_timeout
from ..db import WRONGTYPE, mstime
from ..types.stream import (
    INVALID_ENTRIES_READ,
    MAX_ID,
    ZERO_ID,
    ConsumerGroup,
    Stream,
    StreamID,
    format_id,
)
from .table import SYNTAX_ERROR, command, container, parse_int, subcommand, wrong_arity

if TYPE_CHECKING:
    from ..context import Client

U64 = 2**64 - 1
INVALID_ID = ReplyError("ERR Invalid stream ID specified as stream command argument")
XADD_SMALL = ReplyError("ERR The ID specified in XADD is equal or smaller than the target stream top item")
XADD_ZERO = ReplyError("ERR The ID specified in XADD must be greater than 0-0")
EXHAUSTED = ReplyError("ERR The stream has exhausted the last possible ID, unable to add more items")


# ---------------------------------------------------------------------------
# ID parsing
# ---------------------------------------------------------------------------

def _u64(text: bytes) -> int | None:
    if not text or not text.isdigit():
        return None
    v = int(text)
    return v if v <= U64 else None


def parse_stream_id(raw: bytes, missing_seq: int = 0, strict: bool = False,
                    allow_seq_star: bool = False) -> tuple[StreamID, bool]:
    """Parse ``ms-seq`` / ``ms`` / ``-`` / ``+`` (streamGenericParseIDOrReply).

    Returns (id, seq_given); ``ms-*`` gives seq_given False when allowed.
    """
    if not strict and len(raw) == 1:
        if raw == b"-":
            return ZERO_ID, True
        if raw == b"+":
            return MAX_ID, True
    ms_s, sep, seq_s = raw.partition(b"-")
    ms = _u64(ms_s)
    if ms is None:
        raise INVALID_ID
    if not sep:
        if strict:
            # strict IDs still accept a bare ms
            return (ms, missing_seq), True
        return (ms, missing_seq), True
    if allow_seq_star and seq_s == b"*":
        return (ms, 0), False
    seq = _u64(seq_s)
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


def entry_reply(sid: StreamID, fields: list[bytes] | None) -> list[Any]:
    return [format_id(sid), fields]


# ---------------------------------------------------------------------------
# Trimming (MAXLEN / MINID, exact or ~ approximate by whole nodes)
# ---------------------------------------------------------------------------

class TrimSpec:
    __slots__ = ("strategy", "approx", "maxlen", "minid", "limit", "limit_given")

    def __init__(self) -> None:
        self.strategy: str | None = None
        self.approx = False
        self.maxlen = 0
        self.minid: StreamID = ZERO_ID
        self.limit = -1
        self.limit_given = False


def parse_trim(argv: list[bytes], i: int, spec: TrimSpec, xadd: bool) -> int | None:
    """Parse one trim option at argv[i]; returns the next index, or None if not a trim option."""
    opt = argv[i].lower()
    more = len(argv) - i - 1
    if opt in (b"maxlen", b"minid") and more >= 1:
        if spec.strategy is not None:
            raise SYNTAX_ERROR
        spec.strategy = opt.decode()
        nxt = argv[i + 1]
        i += 1
        if nxt in (b"~", b"=") and more >= 2:
            spec.approx = nxt == b"~"
            i += 1
        if spec.strategy == "maxlen":
            n = parse_int(argv[i])
            if n < 0:
                raise ReplyError("ERR The MAXLEN argument must be >= 0.")
            spec.maxlen = n
        else:
            spec.minid, _ = parse_stream_id(argv[i], 0, strict=True)
        return i + 1
    if opt == b"limit" and more >= 1:
        n = parse_int(argv[i + 1])
        if n < 0:
            raise ReplyError("ERR The LIMIT argument must be >= 0.")
        spec.limit = n
        spec.limit_given = True
        return i + 2
    return None


def check_trim(c: Client, spec: TrimSpec) -> None:
    if spec.limit_given and not spec.approx:
        raise ReplyError("ERR syntax error, LIMIT cannot be used without the special ~ option")
    if spec.approx and not spec.limit_given:
        spec.limit = 100 * c.server.config["stream-node-max-entries"]


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


# node = [first_id, total (live + deleted), live, bytes, master fields]
def _node_for(s: Stream, fields: list[bytes], sid: StreamID, node_max_entries: int,
              node_max_bytes: int) -> None:
    """Account a new entry in Redis' node layout (streamAppendItem's new-node rule)."""
    nodes = _nodes(s, node_max_entries)
    names = tuple(fields[0::2])
    totelelen = sum(len(x) for x in fields)
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
            return
    master = 7 + _lp_int_size(1) + _lp_int_size(0) + _lp_int_size(len(names)) + \
        sum(_lp_size(f) for f in names) + _lp_int_size(0)
    entry = _lp_int_size(2) + _lp_int_size(0) * 2 + sum(_lp_size(v) for v in fields[1::2]) + \
        _lp_int_size(len(names) + 3)
    nodes.append([sid, 1, 1, master + entry, names])


def _nodes(s: Stream, node_max_entries: int) -> list[list]:
    if s.nodes is None:
        # unknown layout (e.g. loaded from RDB): assume full nodes of node_max_entries
        nodes: list[list] = []
        per = node_max_entries or 100
        for i, (sid, fields) in enumerate(s.entries.items()):
            if i % per == 0:
                nodes.append([sid, 0, 0, 0, tuple(fields[0::2])])
            nodes[-1][1] += 1
            nodes[-1][2] += 1
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
    limit = spec.limit if spec.approx else 0
    while nodes and entries:
        node = nodes[0]
        live = node[2]
        if limit and deleted + live > limit:
            break
        nxt_first = nodes[1][0] if len(nodes) > 1 else None
        if spec.strategy == "maxlen":
            remove_node = len(entries) - live >= spec.maxlen
        else:
            # the node's last ID is below MINID
            if nxt_first is not None:
                last_in_node = entries.keys()[live - 1] if live else node[0]
            else:
                last_in_node = entries.keys()[-1]
            remove_node = last_in_node < spec.minid
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
        if node[2] == 0:
            del nodes[0]
        break
    return deleted


# ---------------------------------------------------------------------------
# XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID
# ---------------------------------------------------------------------------

@command("xadd", -5, "write denyoom fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Appends a new message to a stream. Creates the key if it doesn't exist.")
def xadd(c: Client, argv: list[bytes]) -> Any:
    spec = TrimSpec()
    nomkstream = False
    i = 2
    while i < len(argv):
        a = argv[i]
        if a == b"*" or (a[:1].isdigit()):
            break
        low = a.lower()
        if low == b"nomkstream":
            nomkstream = True
            i += 1
            continue
        nxt = parse_trim(argv, i, spec, True)
        if nxt is None:
            break
        i = nxt
    if i >= len(argv):
        raise SYNTAX_ERROR
    id_arg = argv[i]
    fields = argv[i + 1:]
    if not fields or len(fields) % 2:
        raise wrong_arity("xadd")
    check_trim(c, spec)
    if id_arg == b"*":
        given: StreamID | None = None
        seq_given = False
    else:
        given, seq_given = parse_stream_id(id_arg, 0, strict=True, allow_seq_star=True)
        if seq_given and given == ZERO_ID:
            raise XADD_ZERO
    key = argv[1]
    s = _get_stream(c, key, write=True)
    if s is None:
        if nomkstream:
            return None
        s = Stream()
        created = True
    else:
        created = False
    last = s.last_id
    if given is None:
        now = mstime()
        if now > last[0]:
            sid: StreamID = (now, 0)
        else:
            nid = incr_id(last)
            if nid is None:
                raise EXHAUSTED
            sid = nid
    elif not seq_given:
        ms = given[0]
        if ms > last[0]:
            sid = (ms, 0)
        elif ms == last[0]:
            if last[1] == U64:
                raise XADD_SMALL
            sid = (ms, last[1] + 1)
        else:
            raise XADD_SMALL
    else:
        sid = given
        if sid <= last:
            raise XADD_SMALL
    if last == MAX_ID:
        raise EXHAUSTED
    if created:
        c.db.add(key, s)
    cfg = c.server.config
    _node_for(s, list(fields), sid, cfg["stream-node-max-entries"], cfg["stream-node-max-bytes"])
    s.add(sid, list(fields))
    db = c.db
    db.changed(key, b"xadd", b"t")
    removed = trim(c, s, spec)
    if removed:
        db.server.notify(b"t", b"xtrim", key, db.id)
    idb = format_id(sid)
    prop = list(argv)
    prop[i] = idb
    c.propagate_argv = [prop]
    db.signal_ready(key)
    return idb


@command("xlen", 2, "readonly fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Return the number of messages in a stream.")
def xlen(c: Client, argv: list[bytes]) -> Any:
    s = _get_stream(c, argv[1])
    return 0 if s is None else len(s.entries)


def _xrange(c: Client, argv: list[bytes], rev: bool) -> Any:
    key = argv[1]
    a, b = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start, start_ex = parse_range_id(a, 0)
    end, end_ex = parse_range_id(b, U64)
    if start_ex:
        n = incr_id(start)
        if n is None:
            raise ReplyError("ERR invalid start ID for the interval")
        start = n
    if end_ex:
        n = decr_id(end)
        if n is None:
            raise ReplyError("ERR invalid end ID for the interval")
        end = n
    count = -1
    j = 4
    while j < len(argv):
        if argv[j].lower() == b"count" and j + 1 < len(argv):
            count = parse_int(argv[j + 1])
            if count < 0:
                count = 0
            j += 2
        else:
            raise SYNTAX_ERROR
    s = _get_stream(c, key)
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    out = []
    if start > end:
        return out
    for sid, fields in s.range(start, end, reverse=rev):
        out.append([format_id(sid), fields])
        if count > 0 and len(out) >= count:
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
    ids = [parse_stream_id(a, 0, strict=True)[0] for a in argv[2:]]
    s = _get_stream(c, argv[1], write=True)
    if s is None:
        return 0
    n = 0
    node_max = c.server.config["stream-node-max-entries"]
    for sid in ids:
        if sid in s.entries:
            _node_delete(s, sid, node_max)
            s.delete(sid)
            n += 1
    if n:
        c.db.changed(argv[1], b"xdel", b"t")
    return n


@command("xtrim", -4, "write", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Deletes messages from the beginning of a stream.")
def xtrim(c: Client, argv: list[bytes]) -> Any:
    spec = TrimSpec()
    i = 2
    while i < len(argv):
        nxt = parse_trim(argv, i, spec, False)
        if nxt is None:
            raise SYNTAX_ERROR
        i = nxt
    if spec.strategy is None:
        raise SYNTAX_ERROR
    check_trim(c, spec)
    s = _get_stream(c, argv[1], write=True)
    if s is None:
        return 0
    n = trim(c, s, spec)
    if n:
        c.db.changed(argv[1], b"xtrim", b"t")
    return n


@command("xsetid", -3, "write denyoom fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="An internal command for replicating stream values.")
def xsetid(c: Client, argv: list[bytes]) -> Any:
    sid, _ = parse_stream_id(argv[2], 0, strict=True)
    entries_added = -1
    max_xdel: StreamID | None = None
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"entriesadded" and i + 1 < len(argv):
            entries_added = parse_int(argv[i + 1])
            if entries_added < 0:
                raise ReplyError("ERR entries_added must be positive")
            i += 2
        elif opt == b"maxdeletedid" and i + 1 < len(argv):
            max_xdel, _ = parse_stream_id(argv[i + 1], 0, strict=True)
            if sid < max_xdel:
                raise ReplyError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
            i += 2
        else:
            raise SYNTAX_ERROR
    s = _get_stream(c, argv[1], write=True)
    if s is None:
        raise ReplyError("ERR no such key")
    if entries_added != -1 and len(s.entries) > entries_added:
        raise ReplyError("ERR The entries_added specified in XSETID is smaller than the target stream length")
    if s.entries and sid < s.last_entry_id:
        raise ReplyError("ERR The ID specified in XSETID is smaller than the target stream top item")
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel is not None:
        s.max_deleted_entry_id = max_xdel
    c.db.changed(argv[1], b"xsetid", b"t")
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

def _parse_read_args(argv: list[bytes], group_mode: bool) -> dict[str, Any]:
    opts: dict[str, Any] = {"count": 0, "block": -1, "noack": False, "group": None, "consumer": None}
    i = 1
    streams_at = -1
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"block" and more >= 1:
            opts["block"] = parse_timeout(argv[i + 1], unit_seconds=False)
            i += 2
        elif opt == b"count" and more >= 1:
            n = parse_int(argv[i + 1])
            opts["count"] = max(0, n)
            i += 2
        elif opt == b"streams" and more >= 1:
            streams_at = i + 1
            break
        elif opt == b"group" and more >= 2 and group_mode:
            opts["group"] = argv[i + 1]
            opts["consumer"] = argv[i + 2]
            i += 3
        elif opt == b"noack" and group_mode:
            opts["noack"] = True
            i += 1
        else:
            raise SYNTAX_ERROR
    if streams_at < 0:
        raise SYNTAX_ERROR
    rest = argv[streams_at:]
    if len(rest) % 2:
        name = "xreadgroup" if group_mode else "xread"
        raise ReplyError(f"ERR Unbalanced {name.upper()} list of streams: for each stream key an ID or '$' "
                         "must be specified.")
    if group_mode and opts["group"] is None:
        raise ReplyError("ERR Missing GROUP option for XREADGROUP")
    half = len(rest) // 2
    opts["keys"] = rest[:half]
    opts["ids"] = rest[half:]
    return opts


def _xread_keys(argv: list[bytes]) -> list[int]:
    for i in range(1, len(argv)):
        if argv[i].lower() == b"streams":
            n = (len(argv) - i - 1) // 2
            return list(range(i + 1, i + 1 + n))
    return []


@command("xread", -4, "readonly blocking", group="stream", since="5.0.0", key_finder=_xread_keys,
         summary="Return never seen elements in multiple streams, with IDs greater than the ones reported by "
                 "the caller for each stream. Can block.")
def xread(c: Client, argv: list[bytes]) -> Any:
    opts = _parse_read_args(argv, False)
    keys: list[bytes] = opts["keys"]
    starts: list[StreamID | None] = []  # None = '+': the last entry
    for key, raw in zip(keys, opts["ids"]):
        s = _get_stream(c, key)
        if raw == b"$":
            starts.append(s.last_id if s is not None else ZERO_ID)
        elif raw == b"+":
            starts.append(None)
        else:
            starts.append(parse_stream_id(raw, 0, strict=True)[0])
    count = opts["count"]

    def serve(cl: Client) -> Any:
        result: list[Any] = []
        for key, start in zip(keys, starts):
            s = _get_stream(cl, key)
            if s is None or not s.entries:
                continue
            if start is None:
                sid, fields = s.entries.peekitem(-1)
                result.append([key, [[format_id(sid), fields]]])
                continue
            if s.last_id <= start and s.last_entry_id <= start:
                continue
            nxt = incr_id(start)
            if nxt is None:
                continue
            items = []
            for sid, fields in s.range(nxt, MAX_ID):
                items.append([format_id(sid), fields])
                if count and len(items) >= count:
                    break
            if items:
                result.append([key, items])
        if not result:
            return None
        if cl.resp == 3:
            return {k: v for k, v in result}
        return result

    reply = serve(c)
    if reply is not None:
        return reply
    if opts["block"] < 0:
        return NULL_ARRAY
    # '+' resolves to the next entry added while blocked
    starts = [st if st is not None else _last_or_zero(c, k) for k, st in zip(keys, starts)]
    return c.server.blocking.block(c, keys, opts["block"], serve, NULL_ARRAY)


def _last_or_zero(c: Client, key: bytes) -> StreamID:
    s = _get_stream(c, key)
    return s.last_id if s is not None else ZERO_ID


def _nogroup_read(key: bytes, group: bytes) -> ReplyError:
    return ReplyError("NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option"
                      % (key.decode("utf-8", "replace"), group.decode("utf-8", "replace")))


@command("xreadgroup", -7, "write blocking", group="stream", since="5.0.0", key_finder=_xread_keys,
         summary="Return new entries from a stream using a consumer group, or access the history of the "
                 "pending entries for a given consumer. Can block.")
def xreadgroup(c: Client, argv: list[bytes]) -> Any:
    opts = _parse_read_args(argv, True)
    keys: list[bytes] = opts["keys"]
    gname: bytes = opts["group"]
    cname: bytes = opts["consumer"]
    count = opts["count"]
    noack = opts["noack"]
    targets: list[tuple[bytes, StreamID | None]] = []  # None = '>'
    for key, raw in zip(keys, opts["ids"]):
        s = _get_stream(c, key, write=True)
        if s is None or gname not in s.groups:
            raise _nogroup_read(key, gname)
        if raw == b">":
            targets.append((key, None))
        elif raw == b"$":
            raise ReplyError("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
                             "history of this consumer by specifying a proper ID, or use the > ID to get new "
                             "messages. The $ ID would just return an empty result set.")
        else:
            targets.append((key, parse_stream_id(raw, 0, strict=True)[0]))

    def serve(cl: Client, first: bool = False) -> Any:
        result: list[Any] = []
        now = mstime()
        for key, start in targets:
            s = _get_stream(cl, key, write=True)
            if s is None:
                continue
            g = s.groups.get(gname)
            if g is None:
                continue
            consumer = g.consumers.get(cname)
            if consumer is None:
                consumer = g.add_consumer(cname, now)
                cl.db.server.notify(b"t", b"xgroup-createconsumer", key, cl.db.id)
            consumer.seen_time = now
            if start is None:
                items = []
                nxt = incr_id(g.last_id)
                if nxt is not None:
                    for sid, fields in s.range(nxt, MAX_ID):
                        items.append([format_id(sid), fields])
                        _advance_group(s, g, sid)
                        if not noack:
                            old = g.pel.get(sid)
                            if old is not None:
                                g.ack(sid)
                            g.add_pending(sid, consumer, now, 1)
                        if count and len(items) >= count:
                            break
                if items:
                    consumer.active_time = now
                    result.append([key, items])
                    cl.server.dirty += 1
                    cl.db.changed(key, b"xreadgroup", b"t", dirty=0)
            else:
                # history: this consumer's pending entries after the ID
                items = []
                nxt = incr_id(start)
                if nxt is not None:
                    for sid in list(consumer.pel.irange(nxt, MAX_ID)):
                        pe = consumer.pel[sid]
                        fields = s.entries.get(sid)
                        items.append([format_id(sid), fields])
                        pe.delivery_time = now
                        pe.delivery_count += 1
                        if count and len(items) >= count:
                            break
                result.append([key, items])
        if not result or (all(not r[1] for r in result) and all(t[1] is None for t in targets)):
            return None
        if cl.resp == 3:
            return {k: v for k, v in result}
        return result

    reply = serve(c, True)
    if reply is not None:
        return reply
    if opts["block"] < 0 or any(t[1] is not None for t in targets):
        return NULL_ARRAY
    return c.server.blocking.block(c, keys, opts["block"], serve, NULL_ARRAY)


# ---------------------------------------------------------------------------
# XACK, XPENDING, XCLAIM, XAUTOCLAIM
# ---------------------------------------------------------------------------

def _group(c: Client, key: bytes, gname: bytes, write: bool = True) -> tuple[Stream | None, ConsumerGroup | None]:
    s = _get_stream(c, key, write=write)
    if s is None:
        return None, None
    return s, s.groups.get(gname)


@command("xack", -4, "write fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Marks a pending message as correctly processed, effectively removing it from the pending "
                 "entries list of the consumer group.")
def xack(c: Client, argv: list[bytes]) -> Any:
    ids = [parse_stream_id(a, 0, strict=True)[0] for a in argv[3:]]
    s, g = _group(c, argv[1], argv[2])
    if g is None:
        return 0
    n = sum(1 for sid in ids if g.ack(sid))
    if n:
        c.server.dirty += n
    return n


@command("xpending", -3, "readonly", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Return information and entries from a stream consumer group pending entries list, that are "
                 "messages fetched but never acknowledged.")
def xpending(c: Client, argv: list[bytes]) -> Any:
    key, gname = argv[1], argv[2]
    min_idle = 0
    extended = len(argv) > 3
    i = 3
    if extended:
        if len(argv) not in (6, 7, 8, 9):
            raise SYNTAX_ERROR
        if argv[3].lower() == b"idle":
            if len(argv) < 8:
                raise SYNTAX_ERROR
            min_idle = parse_int(argv[4])
            if min_idle < 0:
                min_idle = 0
            i = 5
        start, start_ex = parse_range_id(argv[i], 0)
        end, end_ex = parse_range_id(argv[i + 1], U64)
        if start_ex:
            nstart = incr_id(start)
            if nstart is None:
                raise ReplyError("ERR invalid start ID for the interval")
            start = nstart
        if end_ex:
            nend = decr_id(end)
            if nend is None:
                raise ReplyError("ERR invalid end ID for the interval")
            end = nend
        count = parse_int(argv[i + 2])
        if count < 0:
            count = 0
        consumer_name = argv[i + 3] if len(argv) > i + 3 else None
        if len(argv) > i + 4:
            raise SYNTAX_ERROR
    s, g = _group(c, key, gname, write=False)
    if g is None:
        raise ReplyError("NOGROUP No such key '%s' or consumer group '%s'"
                         % (key.decode("utf-8", "replace"), gname.decode("utf-8", "replace")))
    if not extended:
        if not g.pel:
            return [0, None, None, NULL_ARRAY]
        first = g.pel.peekitem(0)[0]
        last = g.pel.peekitem(-1)[0]
        per: dict[bytes, int] = {}
        for cons in g.consumers.values():
            if cons.pel:
                per[cons.name] = len(cons.pel)
        return [len(g.pel), format_id(first), format_id(last),
                [[name, str(n).encode()] for name, n in per.items()]]
    now = mstime()
    pel = g.pel
    if consumer_name is not None:
        cons = g.consumers.get(consumer_name)
        if cons is None:
            return []
        pel = cons.pel
    out = []
    if count == 0 or start > end:
        return out
    for sid in pel.irange(start, end):
        pe = pel[sid]
        idle = now - pe.delivery_time
        if min_idle and idle < min_idle:
            continue
        out.append([format_id(sid), pe.consumer.name, max(0, idle), pe.delivery_count])
        if len(out) >= count:
            break
    return out


def _parse_min_idle(raw: bytes) -> int:
    try:
        v = parse_int(raw)
    except ReplyError:
        raise ReplyError("ERR Invalid min-idle-time argument for XCLAIM") from None
    return max(0, v)


@command("xclaim", -6, "write fast", keys=(1, 1, 1), group="stream", since="5.0.0",
         summary="Changes (or acquires) ownership of a message in a consumer group, as if the message was "
                 "delivered to the specified consumer.")
def xclaim(c: Client, argv: list[bytes]) -> Any:
    key, gname, cname = argv[1], argv[2], argv[3]
    min_idle = _parse_min_idle(argv[4])
    ids: list[StreamID] = []
    i = 5
    while i < len(argv):
        try:
            sid, _ = parse_stream_id(argv[i], 0, strict=True)
        except ReplyError:
            break
        ids.append(sid)
        i += 1
    now = mstime()
    deliverytime = -1
    retrycount = -1
    force = justid = False
    lastid: StreamID | None = None
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            i += 1
            deliverytime = now - parse_int(argv[i], ReplyError("ERR Invalid IDLE option argument for XCLAIM"))
        elif opt == b"time" and more:
            i += 1
            deliverytime = parse_int(argv[i], ReplyError("ERR Invalid TIME option argument for XCLAIM"))
        elif opt == b"retrycount" and more:
            i += 1
            retrycount = parse_int(argv[i], ReplyError("ERR Invalid RETRYCOUNT option argument for XCLAIM"))
        elif opt == b"lastid" and more:
            i += 1
            lastid, _ = parse_stream_id(argv[i], 0, strict=True)
        else:
            raise ReplyError("ERR Unrecognized XCLAIM option '%s'" % argv[i].decode("utf-8", "replace"))
        i += 1
    if deliverytime != -1:
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now
    s, g = _group(c, key, gname)
    if s is None or g is None:
        raise ReplyError("NOGROUP No such key '%s' or consumer group '%s'"
                         % (key.decode("utf-8", "replace"), gname.decode("utf-8", "replace")))
    if lastid is not None and lastid > g.last_id:
        g.last_id = lastid
    consumer = None
    out: list[Any] = []
    changed = False
    for sid in ids:
        pe = g.pel.get(sid)
        if pe is None:
            if not force or sid not in s.entries:
                continue
            if consumer is None:
                consumer = g.consumers.get(cname) or g.add_consumer(cname, now)
            pe = g.add_pending(sid, consumer, now, 0)
            changed = True
        else:
            if sid not in s.entries:
                # the entry was deleted: drop it from the PEL
                g.ack(sid)
                changed = True
                continue
        if min_idle and now - pe.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = g.consumers.get(cname) or g.add_consumer(cname, now)
        if pe.consumer is not consumer:
            pe.consumer.pel.pop(sid, None)
            pe.consumer = consumer
            consumer.pel[sid] = pe
        pe.delivery_time = deliverytime
        if retrycount >= 0:
            pe.delivery_count = retrycount
        elif not justid:
            pe.delivery_count += 1
        consumer.active_time = now
        changed = True
        if justid:
            out.append(format_id(sid))
        else:
            out.append([format_id(sid), s.entries.get(sid)])
    if consumer is not None:
        consumer.seen_time = now
    if changed:
        c.server.dirty += 1
    return out


@command("xautoclaim", -6, "write fast", keys=(1, 1, 1), group="stream", since="6.2.0",
         summary="Changes, or acquires, ownership of messages in a consumer group, as if the messages were "
                 "delivered to as consumer group member.")
def xautoclaim(c: Client, argv: list[bytes]) -> Any:
    key, gname, cname = argv[1], argv[2], argv[3]
    min_idle = _parse_min_idle(argv[4])
    start, start_ex = parse_range_id(argv[5], 0)
    if start_ex:
        n = incr_id(start)
        if n is None:
            raise ReplyError("ERR invalid start ID for the interval")
        start = n
    count = 100
    justid = False
    i = 6
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"count" and i + 1 < len(argv):
            count = parse_int(argv[i + 1])
            if count < 1 or count > 2**63 // 10 // 1:
                raise ReplyError("ERR COUNT must be > 0")
            i += 2
        elif opt == b"justid":
            justid = True
            i += 1
        else:
            raise SYNTAX_ERROR
    s, g = _group(c, key, gname)
    if s is None or g is None:
        raise ReplyError("NOGROUP No such key '%s' or consumer group '%s'"
                         % (key.decode("utf-8", "replace"), gname.decode("utf-8", "replace")))
    now = mstime()
    attempts = count * 10
    claimed: list[Any] = []
    deleted: list[bytes] = []
    consumer = g.consumers.get(cname)
    if consumer is None:
        consumer = g.add_consumer(cname, now)
    consumer.seen_time = now
    next_id: StreamID = ZERO_ID
    it = list(g.pel.irange(start, MAX_ID))
    idx = 0
    while idx < len(it) and attempts > 0 and len(claimed) < count:
        sid = it[idx]
        idx += 1
        attempts -= 1
        pe = g.pel[sid]
        if sid not in s.entries:
            g.ack(sid)
            deleted.append(format_id(sid))
            continue
        if min_idle and now - pe.delivery_time < min_idle:
            continue
        if pe.consumer is not consumer:
            pe.consumer.pel.pop(sid, None)
            pe.consumer = consumer
            consumer.pel[sid] = pe
        pe.delivery_time = now
        if not justid:
            pe.delivery_count += 1
        consumer.active_time = now
        claimed.append(format_id(sid) if justid else [format_id(sid), s.entries[sid]])
    if idx < len(it):
        next_id = it[idx]
    if claimed or deleted:
        c.server.dirty += 1
    return [format_id(next_id), claimed, deleted]


# ---------------------------------------------------------------------------
# XGROUP
# ---------------------------------------------------------------------------

container("xgroup", -2, "", group="stream", since="5.0.0", summary="A container for consumer groups commands.")


def _nogroup(key: bytes, gname: bytes) -> ReplyError:
    return ReplyError("NOGROUP No such consumer group '%s' for key name '%s'"
                      % (gname.decode("utf-8", "replace"), key.decode("utf-8", "replace")))


def _need_stream(c: Client, key: bytes) -> Stream:
    s = _get_stream(c, key, write=True)
    if s is None:
        raise ReplyError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
                         "to use the MKSTREAM option to create an empty stream automatically.")
    return s


def _parse_entries_read(argv: list[bytes], i: int) -> int:
    n = parse_int(argv[i])
    if n < 0 and n != INVALID_ENTRIES_READ:
        raise ReplyError("ERR value for ENTRIESREAD must be positive or -1")
    return n


@subcommand("xgroup", "create", -5, "write denyoom", keys=(2, 2, 1), since="5.0.0",
            summary="Create a consumer group.")
def xgroup_create(c: Client, argv: list[bytes]) -> Any:
    key, gname, raw = argv[2], argv[3], argv[4]
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 5
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"mkstream":
            mkstream = True
            i += 1
        elif opt == b"entriesread" and i + 1 < len(argv):
            entries_read = _parse_entries_read(argv, i + 1)
            i += 2
        else:
            raise SYNTAX_ERROR
    s = _get_stream(c, key, write=True)
    if raw == b"$":
        sid = s.last_id if s is not None else ZERO_ID
    else:
        sid, _ = parse_stream_id(raw, 0, strict=True)
    if s is None:
        if not mkstream:
            raise ReplyError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
                             "want to use the MKSTREAM option to create an empty stream automatically.")
        s = Stream()
        c.db.add(key, s)
    if s.create_group(gname, sid, entries_read) is None:
        raise ReplyError("BUSYGROUP Consumer Group name already exists")
    c.db.changed(key, b"xgroup-create", b"t")
    return OK


@subcommand("xgroup", "setid", -5, "write", keys=(2, 2, 1), since="5.0.0",
            summary="Set a consumer group to an arbitrary last delivered ID value.")
def xgroup_setid(c: Client, argv: list[bytes]) -> Any:
    key, gname, raw = argv[2], argv[3], argv[4]
    entries_read = INVALID_ENTRIES_READ
    i = 5
    while i < len(argv):
        if argv[i].lower() == b"entriesread" and i + 1 < len(argv):
            entries_read = _parse_entries_read(argv, i + 1)
            i += 2
        else:
            raise SYNTAX_ERROR
    s = _need_stream(c, key)
    g = s.groups.get(gname)
    if g is None:
        raise _nogroup(key, gname)
    sid = s.last_id if raw == b"$" else parse_stream_id(raw, 0, strict=True)[0]
    g.last_id = sid
    g.entries_read = entries_read
    c.db.changed(key, b"xgroup-setid", b"t")
    return OK


@subcommand("xgroup", "destroy", 4, "write", keys=(2, 2, 1), since="5.0.0", summary="Destroy a consumer group.")
def xgroup_destroy(c: Client, argv: list[bytes]) -> Any:
    s = _need_stream(c, argv[2])
    if s.groups.pop(argv[3], None) is None:
        return 0
    c.db.changed(argv[2], b"xgroup-destroy", b"t")
    return 1


@subcommand("xgroup", "createconsumer", 5, "write denyoom", keys=(2, 2, 1), since="6.2.0",
            summary="Create a consumer in a consumer group.")
def xgroup_createconsumer(c: Client, argv: list[bytes]) -> Any:
    s = _need_stream(c, argv[2])
    g = s.groups.get(argv[3])
    if g is None:
        raise _nogroup(argv[2], argv[3])
    if argv[4] in g.consumers:
        return 0
    g.add_consumer(argv[4], mstime())
    c.db.changed(argv[2], b"xgroup-createconsumer", b"t")
    return 1


@subcommand("xgroup", "delconsumer", 5, "write", keys=(2, 2, 1), since="5.0.0",
            summary="Delete a consumer from a consumer group.")
def xgroup_delconsumer(c: Client, argv: list[bytes]) -> Any:
    s = _need_stream(c, argv[2])
    g = s.groups.get(argv[3])
    if g is None:
        raise _nogroup(argv[2], argv[3])
    cons = g.consumers.pop(argv[4], None)
    if cons is None:
        return 0
    n = len(cons.pel)
    for sid in list(cons.pel):
        g.pel.pop(sid, None)
    c.db.changed(argv[2], b"xgroup-delconsumer", b"t")
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
    s = _get_stream(c, key)
    if s is None:
        raise ReplyError("ERR no such key")
    return s


def _opt_entry(s: Stream, last: bool) -> Any:
    if not s.entries:
        return None
    sid, fields = s.entries.peekitem(-1 if last else 0)
    return [format_id(sid), fields]


@subcommand("xinfo", "stream", -3, "readonly", keys=(2, 2, 1), since="5.0.0",
            summary="Get information about a stream.")
def xinfo_stream(c: Client, argv: list[bytes]) -> Any:
    full = False
    count = 10
    if len(argv) > 3:
        if argv[3].lower() != b"full":
            raise SYNTAX_ERROR
        full = True
        if len(argv) > 4:
            if len(argv) != 6 or argv[4].lower() != b"count":
                raise SYNTAX_ERROR
            count = parse_int(argv[5])
            if count < 0:
                count = 10
    s = _need_stream_ro(c, argv[2])
    nodes = max(1, -(-len(s.entries) // max(1, c.server.config["stream-node-max-entries"] or 100)))
    if not s.entries:
        nodes = 0
    info: dict[bytes, Any] = {
        b"length": len(s.entries),
        b"radix-tree-keys": nodes,
        b"radix-tree-nodes": nodes + 1 if nodes else 1,
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
        if count and len(entries) >= count:
            break
    info[b"entries"] = entries
    groups = []
    for g in s.groups.values():
        pel = []
        for sid, pe in g.pel.items():
            pel.append([format_id(sid), pe.consumer.name, pe.delivery_time, pe.delivery_count])
            if count and len(pel) >= count:
                break
        consumers = []
        for cons in g.consumers.values():
            cpel = []
            for sid, pe in cons.pel.items():
                cpel.append([format_id(sid), pe.delivery_time, pe.delivery_count])
                if count and len(cpel) >= count:
                    break
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
    out = []
    for g in s.groups.values():
        out.append({
            b"name": g.name,
            b"consumers": len(g.consumers),
            b"pending": len(g.pel),
            b"last-delivered-id": format_id(g.last_id),
            b"entries-read": None if g.entries_read == INVALID_ENTRIES_READ else g.entries_read,
            b"lag": group_lag(s, g),
        })
    return out


@subcommand("xinfo", "consumers", 4, "readonly", keys=(2, 2, 1), since="5.0.0",
            summary="Get a list of the consumers in a consumer group.")
def xinfo_consumers(c: Client, argv: list[bytes]) -> Any:
    s = _need_stream_ro(c, argv[2])
    g = s.groups.get(argv[3])
    if g is None:
        raise _nogroup(argv[2], argv[3])
    now = mstime()
    out = []
    for cons in g.consumers.values():
        out.append({
            b"name": cons.name,
            b"pending": len(cons.pel),
            b"idle": max(0, now - cons.seen_time),
            b"inactive": max(0, now - cons.active_time) if cons.active_time != -1 else -1,
        })
    return out


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
