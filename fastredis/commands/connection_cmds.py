"""Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import OK, PONG, ReplyError, Status
from ..version import REDIS_VERSION
from .table import DB_INDEX_OUT_OF_RANGE, SYNTAX_ERROR, command, parse_int, wrong_arity

if TYPE_CHECKING:
    from ..context import Client

WRONGPASS = ReplyError("WRONGPASS invalid username-password pair or user is disabled.")
NOPROTO = ReplyError("NOPROTO unsupported protocol version")


@command("ping", -1, "fast sentinel", group="connection", summary="Returns the server's liveliness response.")
def ping(c: Client, argv: list[bytes]) -> Any:
    if len(argv) > 2:
        raise wrong_arity("ping")
    if c.resp == 2 and (c.channels or c.patterns or c.shard_channels):
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    if len(argv) == 2:
        return argv[1]
    return PONG


@command("echo", 2, "fast", group="connection", summary="Returns the given string.")
def echo(c: Client, argv: list[bytes]) -> Any:
    return argv[1]


@command("auth", -2, "noscript loading stale fast no-auth sentinel allow-busy", group="connection",
         summary="Authenticates the connection.")
def auth(c: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise SYNTAX_ERROR
    acl = c.server.acl
    if len(argv) == 2:
        if acl.default.nopass:
            raise ReplyError("ERR AUTH <password> called without any password configured for the default user. "
                             "Are you sure your configuration is correct?")
        user, password = b"default", argv[1]
    else:
        user, password = argv[1], argv[2]
    if acl.authenticate(c, user, password, argv[0]):
        return OK
    raise WRONGPASS


def hello_map(c: Client) -> dict[bytes, Any]:
    role = b"replica" if c.server.is_replica_of_master else b"master"
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": c.resp,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": role,
        b"modules": [],
    }


@command("hello", -1, "noscript loading stale fast no-auth sentinel allow-busy", group="connection",
         since="6.0.0", summary="Handshakes with the Redis server.")
def hello(c: Client, argv: list[bytes]) -> Any:
    ver = 0
    j = 1
    if len(argv) >= 2:
        try:
            ver = parse_int(argv[1])
        except ReplyError:
            raise ReplyError("ERR Protocol version is not an integer or out of range") from None
        j = 2
        if ver < 2 or ver > 3:
            raise NOPROTO
    setname: bytes | None = None
    creds: tuple[bytes, bytes] | None = None
    while j < len(argv):
        opt = argv[j].lower()
        more = len(argv) - j - 1
        if opt == b"auth" and more >= 2:
            creds = (argv[j + 1], argv[j + 2])
            j += 3
        elif opt == b"setname" and more >= 1:
            setname = argv[j + 1]
            j += 2
        else:
            raise ReplyError("ERR Syntax error in HELLO option '%s'" % argv[j].decode("utf-8", "replace"))
    if creds is not None:
        if not c.server.acl.authenticate(c, creds[0], creds[1], argv[0]):
            raise WRONGPASS
    if not c.authenticated:
        raise ReplyError("NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                         "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
                         "select the RESP protocol version at the same time")
    if setname is not None:
        from .client_cmds import validate_name

        validate_name(setname)
        c.name = setname or None
    if ver:
        c.resp = ver
    return hello_map(c)


@command("select", 2, "loading stale fast", group="connection", summary="Changes the selected database.")
def select(c: Client, argv: list[bytes]) -> Any:
    dbid = parse_int(argv[1])
    if dbid < 0 or dbid >= len(c.server.dbs):
        raise DB_INDEX_OUT_OF_RANGE
    c.select(dbid)
    return OK


@command("quit", -1, "noscript loading stale fast no-auth allow-busy", group="connection",
         summary="Closes the connection.")
def quit_(c: Client, argv: list[bytes]) -> Any:
    c.close_after_reply = True
    return OK


def reset_client(c: Client) -> None:
    """RESET: leave MULTI, WATCH, pub/sub, MONITOR; back to db 0, RESP2, no name."""
    from .transactions import discard_transaction, unwatch_all

    discard_transaction(c)
    unwatch_all(c)
    c.server.pubsub.drop(c)
    if c in c.server.monitors:
        c.server.monitors.remove(c)
        c.server.state_changed()
    c.monitor = False
    c.select(0)
    c.resp = 2
    c.name = None
    c.reply_mode = 0
    c.no_evict = False
    c.no_touch = False
    acl = c.server.acl
    acl.attach(c, acl.default)
    c.authenticated = not acl.auth_required()


@command("reset", 1, "noscript loading stale fast no-auth allow-busy", group="connection", since="6.2.0",
         summary="Resets the connection.")
def reset(c: Client, argv: list[bytes]) -> Any:
    reset_client(c)
    return Status(b"RESET")
