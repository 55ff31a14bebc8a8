"""CLIENT subcommands and MONITOR.

CLIENT LIST/INFO print Redis 7.2's line format; memory figures (qbuf, obl,
tot-mem) come from the parser's and the transport's buffers, so they are real
but not byte-identical to Redis' allocator view.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError, SetReply, Verbatim
from ..blocking import TIMEOUT_NEGATIVE, TIMEOUT_NOT_INT
from ..context import REPLY_OFF, REPLY_ON, REPLY_SKIP_NEXT
from ._help import help_lines
from .table import SYNTAX_ERROR, command, container, parse_int, subcommand

if TYPE_CHECKING:
    from ..context import Client, ServerContext

container("client", -2, "sentinel", group="connection", since="2.4.0", summary="A container for client connection commands.")

CLIENT_TYPES = {b"normal": "normal", b"master": "master", b"replica": "replica", b"slave": "replica",
                b"pubsub": "pubsub"}


def validate_name(name: bytes, what: str = "Client names") -> None:
    """Client names (and lib-name/lib-ver) may not hold spaces, newlines or other special characters."""
    for b in name:
        if b < 33 or b > 126:
            raise ReplyError(f"ERR {what} cannot contain spaces, newlines or special characters.")


def subcommand_syntax_error(argv: list[bytes]) -> ReplyError:
    """addReplySubcommandSyntaxError: the subcommand exists but its arguments don't fit."""
    sub = argv[1].decode("utf-8", "replace")[:128]
    return ReplyError(f"ERR unknown subcommand or wrong number of arguments for '{sub}'. Try CLIENT HELP.")


def client_type(c: Client) -> str:
    """getClientType: master, replica (not MONITOR), pubsub, normal."""
    if c.is_master:
        return "master"
    if c.is_replica and not c.monitor:
        return "replica"
    if c.channels or c.patterns or c.shard_channels:
        return "pubsub"
    return "normal"


def _flags(c: Client) -> str:
    out = ""
    if c.is_replica or c.monitor:
        out += "O" if c.monitor else "S"
    if c.is_master:
        out += "M"
    if c.channels or c.patterns or c.shard_channels:
        out += "P"
    if c.in_multi:
        out += "x"
    if c.blocked is not None:
        out += "b"
    if c.dirty_cas:
        out += "d"
    if c.close_after_reply:
        out += "c"
    if c.laddr.startswith("/"):
        out += "U"
    if c.no_evict:
        out += "e"
    if c.no_touch:
        out += "T"
    for ch in c.flags:
        if ch not in out:
            out += ch
    return out or "N"


def client_line(c: Client, now: float | None = None, current: str | None = None) -> str:
    """One CLIENT LIST line (without the trailing newline), Redis 7.2's field order."""
    now = time.time() if now is None else now
    qbuf = c.query_buffer_len()
    obl = c.output_buffer_len()
    multi = len(c.multi_queue) if c.in_multi else -1
    multi_mem = sum(sum(len(a) for a in argv) for _cmd, argv in c.multi_queue) if c.in_multi else 0
    name = (c.name or b"").decode("utf-8", "replace")
    tot = qbuf + obl + multi_mem + 1024 + 1928
    return (
        f"id={c.id} addr={c.addr} laddr={c.laddr} fd={c.fd} name={name} "
        f"age={int(now - c.ctime)} idle={int(now - c.last_interaction)} flags={_flags(c)} db={c.db.id} "
        f"sub={len(c.channels)} psub={len(c.patterns)} ssub={len(c.shard_channels)} multi={multi} "
        f"qbuf={qbuf} qbuf-free={max(0, 20474 - qbuf) if qbuf else 0} argv-mem=0 multi-mem={multi_mem} "
        f"rbs=1024 rbp=0 obl={obl} oll=0 omem=0 tot-mem={tot} events={'rw' if obl else 'r'} "
        f"cmd={current or c.last_cmd.decode('utf-8', 'replace')} user={c.user.decode('utf-8', 'replace')} redir=-1 "
        f"resp={c.resp} lib-name={c.lib_name.decode('utf-8', 'replace')} "
        f"lib-ver={c.lib_ver.decode('utf-8', 'replace')}"
    )


@subcommand("client", "id", 2, "noscript loading stale", since="5.0.0", summary="Returns the unique client ID of the connection.")
def client_id(c: Client, argv: list[bytes]) -> Any:
    return c.id


@subcommand("client", "setname", 3, "noscript loading stale", since="2.6.9", summary="Sets the connection name.")
def client_setname(c: Client, argv: list[bytes]) -> Any:
    validate_name(argv[2])
    c.name = argv[2] or None
    return OK


@subcommand("client", "getname", 2, "noscript loading stale", since="2.6.9", summary="Returns the name of the connection.")
def client_getname(c: Client, argv: list[bytes]) -> Any:
    return c.name


@subcommand("client", "setinfo", 4, "noscript loading stale", since="7.2.0",
            summary="Sets information specific to the client or connection.")
def client_setinfo(c: Client, argv: list[bytes]) -> Any:
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise ReplyError("ERR Unrecognized option '%s'" % argv[2].decode("utf-8", "replace"))
    validate_name(argv[3], argv[2].decode("utf-8", "replace"))
    if attr == b"lib-name":
        c.lib_name = argv[3]
    else:
        c.lib_ver = argv[3]
    return OK


@subcommand("client", "info", 2, "noscript loading stale", since="6.2.0",
            summary="Returns information about the connection.")
def client_info(c: Client, argv: list[bytes]) -> Any:
    return Verbatim((client_line(c, current="client|info") + "\n").encode())


@subcommand("client", "list", -2, "admin noscript loading stale", since="2.4.0",
            summary="Lists open connections.")
def client_list(c: Client, argv: list[bytes]) -> Any:
    server = c.server
    clients = list(server.clients.values())
    if len(argv) == 4 and argv[2].lower() == b"type":
        kind = CLIENT_TYPES.get(argv[3].lower())
        if kind is None:
            raise ReplyError("ERR Unknown client type '%s'" % argv[3].decode("utf-8", "replace"))
        clients = [x for x in clients if client_type(x) == kind]
    elif len(argv) > 3 and argv[2].lower() == b"id":
        ids = []
        for a in argv[3:]:
            try:
                v = parse_int(a)
            except ReplyError:
                v = 0
            if v <= 0:
                raise ReplyError("ERR Invalid client ID")
            ids.append(v)
        clients = [server.clients[i] for i in dict.fromkeys(ids) if i in server.clients]
    elif len(argv) != 2:
        raise SYNTAX_ERROR
    now = time.time()
    return Verbatim("".join(client_line(x, now, "client|list" if x is c else None) + "\n"
                            for x in clients).encode())


def _kill(c: Client, target: Client) -> None:
    if target is c:
        c.close_after_reply = True
    else:
        target.close()


@subcommand("client", "kill", -3, "admin noscript loading stale", since="2.4.0",
            summary="Terminates open connections.")
def client_kill(c: Client, argv: list[bytes]) -> Any:
    server = c.server
    if len(argv) == 3:
        addr = argv[2].decode("utf-8", "replace")
        for x in list(server.clients.values()):
            if x.addr == addr:
                _kill(c, x)
                return OK
        raise ReplyError("ERR No such client")
    if len(argv) % 2:
        raise SYNTAX_ERROR
    want_id: int | None = None
    want_type: str | None = None
    want_addr: str | None = None
    want_laddr: str | None = None
    want_user: bytes | None = None
    max_age: int | None = None
    skipme = True
    for i in range(2, len(argv), 2):
        opt, val = argv[i].lower(), argv[i + 1]
        if opt == b"id":
            try:
                v = parse_int(val)
            except ReplyError:
                v = 0
            if v <= 0:
                raise ReplyError("ERR client-id should be greater than 0")
            want_id = v
        elif opt == b"type":
            kind = CLIENT_TYPES.get(val.lower())
            if kind is None:
                raise ReplyError("ERR Unknown client type '%s'" % val.decode("utf-8", "replace"))
            want_type = kind
        elif opt == b"addr":
            want_addr = val.decode("utf-8", "replace")
        elif opt == b"laddr":
            want_laddr = val.decode("utf-8", "replace")
        elif opt == b"user":
            if val not in server.acl.users:
                raise ReplyError("ERR No such user '%s'" % val.decode("utf-8", "replace"))
            want_user = val
        elif opt == b"skipme":
            if val.lower() == b"yes":
                skipme = True
            elif val.lower() == b"no":
                skipme = False
            else:
                raise SYNTAX_ERROR
        elif opt == b"maxage":
            max_age = parse_int(val)
        else:
            raise SYNTAX_ERROR
    now = time.time()
    killed = 0
    for x in list(server.clients.values()):
        if want_id is not None and x.id != want_id:
            continue
        if want_type is not None and client_type(x) != want_type:
            continue
        if want_addr is not None and x.addr != want_addr:
            continue
        if want_laddr is not None and x.laddr != want_laddr:
            continue
        if want_user is not None and x.user != want_user:
            continue
        if max_age is not None and now - x.ctime < max_age:
            continue
        if skipme and x is c:
            continue
        _kill(c, x)
        killed += 1
    return killed


def _parse_pause_timeout(arg: bytes) -> int:
    try:
        ms = parse_int(arg)
    except ReplyError:
        raise TIMEOUT_NOT_INT from None
    if ms < 0:
        raise TIMEOUT_NEGATIVE
    return ms


@subcommand("client", "pause", -3, "admin noscript loading stale", since="3.0.0",
            summary="Suspends commands processing.")
def client_pause(c: Client, argv: list[bytes]) -> Any:
    ms = _parse_pause_timeout(argv[2])
    writes_only = False
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"write":
            writes_only = True
        elif mode != b"all":
            raise ReplyError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    elif len(argv) > 4:
        raise subcommand_syntax_error(argv)
    server = c.server
    end = time.time() + ms / 1000.0
    now = time.time()
    if server.pause_until and server.pause_until > now:
        # an ongoing pause: keep the later end and the stricter mode (ALL beats WRITE)
        writes_only = writes_only and server.pause_writes_only
        end = max(end, server.pause_until)
    server.pause_until = end
    server.state_changed()
    server.pause_writes_only = writes_only
    return OK


def unpause(server: ServerContext) -> None:
    """End a CLIENT PAUSE and let every held connection run its queued commands."""
    server.pause_until = 0.0
    server.state_changed()
    server.pause_writes_only = False
    for conn in list(server.extras.get("paused_connections", ())):
        conn.resume()


@subcommand("client", "unpause", 2, "admin noscript loading stale", since="6.2.0",
            summary="Resumes processing of clients that were paused.")
def client_unpause(c: Client, argv: list[bytes]) -> Any:
    unpause(c.server)
    return OK


@subcommand("client", "reply", 3, "noscript loading stale", since="3.2.0",
            summary="Instructs the server whether to reply to commands.")
def client_reply(c: Client, argv: list[bytes]) -> Any:
    mode = argv[2].lower()
    if mode == b"on":
        c.reply_mode = REPLY_ON
    elif mode == b"off":
        c.reply_mode = REPLY_OFF
    elif mode == b"skip":
        if c.reply_mode != REPLY_OFF:
            c.reply_mode = REPLY_SKIP_NEXT
    else:
        raise SYNTAX_ERROR
    return OK


def _on_off(arg: bytes) -> bool:
    v = arg.lower()
    if v == b"on":
        return True
    if v == b"off":
        return False
    raise SYNTAX_ERROR


@subcommand("client", "no-evict", 3, "admin noscript loading stale", since="7.0.0",
            summary="Sets the client eviction mode of the connection.")
def client_no_evict(c: Client, argv: list[bytes]) -> Any:
    c.no_evict = _on_off(argv[2])
    return OK


@subcommand("client", "no-touch", 3, "noscript loading stale", since="7.2.0",
            summary="Controls whether commands sent by the client affect the LRU/LFU of accessed keys.")
def client_no_touch(c: Client, argv: list[bytes]) -> Any:
    c.no_touch = _on_off(argv[2])
    return OK


@subcommand("client", "unblock", -3, "admin noscript loading stale", since="5.0.0",
            summary="Unblocks a client blocked by a blocking command from a different connection.")
def client_unblock(c: Client, argv: list[bytes]) -> Any:
    cid = parse_int(argv[2])
    error = False
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"error":
            error = True
        elif mode != b"timeout":
            raise ReplyError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    elif len(argv) > 4:
        raise subcommand_syntax_error(argv)
    target = c.server.clients.get(cid)
    if target is None or target.blocked is None:
        return 0
    return 1 if c.server.blocking.unblock(target, error=error) else 0


@subcommand("client", "getredir", 2, "noscript loading stale", since="6.0.0",
            summary="Returns the client ID to which the connection's tracking notifications are redirected.")
def client_getredir(c: Client, argv: list[bytes]) -> Any:
    return -1


@subcommand("client", "trackinginfo", 2, "noscript loading stale", since="6.2.0",
            summary="Returns information about server-assisted client-side caching for the connection.")
def client_trackinginfo(c: Client, argv: list[bytes]) -> Any:
    return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}


@subcommand("client", "help", 2, "loading stale", since="5.0.0", summary="Returns helpful text about the different subcommands.")
def client_help(c: Client, argv: list[bytes]) -> Any:
    return help_lines("CLIENT", [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "    * MAXAGE <maxage>",
        "      Kill connections older than the specified age.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
    ])


@command("monitor", 1, "admin noscript loading stale", group="server", since="1.0.0",
         summary="Listens for all requests received by the server in real-time.")
def monitor(c: Client, argv: list[bytes]) -> Any:
    if c.in_exec:
        raise ReplyError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if c.is_replica or c.monitor:
        return None if c.is_replica else OK
    c.monitor = True
    c.server.monitors.append(c)
    c.server.state_changed()
    return OK
