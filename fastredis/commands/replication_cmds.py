"""Replication commands: REPLICAOF/SLAVEOF, REPLCONF, PSYNC, SYNC, WAIT, ROLE.

They reach the replication machinery through ``server.extras["replication"]``,
which the server attaches at start-up; handlers never import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError, Status
from .table import command, parse_int

if TYPE_CHECKING:
    from ..context import Client


def _repl(c: Client) -> Any:
    repl = c.server.extras.get("replication")
    if repl is None:
        raise ReplyError("ERR replication is not available")
    return repl


def _replicaof(c: Client, argv: list[bytes]) -> Any:
    repl = _repl(c)
    host, port_raw = argv[1], argv[2]
    if host.lower() == b"no" and port_raw.lower() == b"one":
        if repl.replica.host is not None:
            c.server.config.values["replicaof"] = None
            repl.replica.promote()
            c.server.log("notice", "MASTER MODE enabled (user request from 'id=%d addr=%s')" % (c.id, c.addr))
        return OK
    if c.is_replica:
        raise ReplyError("ERR Command is not valid when client is a replica.")
    try:
        port = parse_int(port_raw)
    except ReplyError:
        raise ReplyError("ERR Invalid master port") from None
    if port < 0 or port > 65535:
        raise ReplyError("ERR Invalid master port")
    h = host.decode("utf-8", "replace")
    if repl.replica.host == h and repl.replica.port == port:
        c.server.log("notice", "REPLICAOF would result into synchronization with the master we are already "
                     "connected with. No operation performed.")
        return Status(b"OK Already connected to specified master")
    c.server.config.values["replicaof"] = (h, port)
    repl.replica.set_master(h, port)
    c.server.log("notice", "REPLICAOF %s:%d enabled (user request from 'id=%d addr=%s')" % (h, port, c.id, c.addr))
    return OK


@command("replicaof", 3, "admin noscript stale no-async-loading", group="server", since="5.0.0",
         summary="Configures a server as replica of another, or promotes it to a master.")
def replicaof(c: Client, argv: list[bytes]) -> Any:
    return _replicaof(c, argv)


@command("slaveof", 3, "admin noscript stale no-async-loading", group="server", since="1.0.0",
         summary="Sets a Redis server as a replica of another, or promotes it to being a master.")
def slaveof(c: Client, argv: list[bytes]) -> Any:
    return _replicaof(c, argv)


@command("replconf", -1, "admin noscript loading stale allow-busy", group="server", since="3.0.0",
         summary="An internal command for configuring the replication stream.")
def replconf(c: Client, argv: list[bytes]) -> Any:
    return _repl(c).master.replconf(c, argv)


@command("psync", -3, "admin noscript no-async-loading no-multi", group="server", since="2.8.0",
         summary="An internal command used in replication.")
def psync(c: Client, argv: list[bytes]) -> Any:
    if c.in_multi or c.in_exec:
        raise ReplyError("ERR Command not allowed inside a transaction")
    return _repl(c).master.psync(c, argv[1], argv[2])


@command("sync", 1, "admin noscript no-async-loading no-multi", group="server", since="1.0.0",
         summary="An internal command used in replication.")
def sync(c: Client, argv: list[bytes]) -> Any:
    return _repl(c).master.psync(c, b"?", b"-1", sync_only=True)


@command("wait", 3, "noscript", group="generic", since="3.0.0",
         summary="Blocks until the asynchronous replication of all preceding write commands sent by the "
                 "connection is completed.")
def wait(c: Client, argv: list[bytes]) -> Any:
    if c.server.is_replica_of_master:
        raise ReplyError("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
                         "if a replica is configured to be writable (which is not the default) writes to "
                         "replicas are just local and are not propagated.")
    numreplicas = parse_int(argv[1])
    timeout = parse_int(argv[2], ReplyError("ERR timeout is not an integer or out of range"))
    if timeout < 0:
        raise ReplyError("ERR timeout is negative")
    return _repl(c).master.wait(c, numreplicas, timeout)


@command("role", 1, "noscript loading stale fast", group="server", since="2.8.12",
         summary="Returns the replication role.")
def role(c: Client, argv: list[bytes]) -> Any:
    return _repl(c).role_reply()
