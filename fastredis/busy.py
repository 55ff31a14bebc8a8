"""Serving clients while a script runs past busy-reply-threshold (Redis' processEventsWhileBlocked).

A Lua script runs inside a command handler, so the event loop cannot turn while it runs.  Past
``busy-reply-threshold`` the Lua count hook calls ``serve_while_busy`` (every 100k instructions),
which polls the client sockets and listeners itself: requests are parsed with each connection's own
parser and answered at once, ``-BUSY`` for every command without the ``allow-busy`` flag (SCRIPT KILL,
FUNCTION KILL, FUNCTION STATS, SHUTDOWN NOSAVE, MULTI/WATCH... run).  The client running the
script is left alone, as Redis protects it.  Connections accepted meanwhile are served the same
way and handed to the event loop when the script ends.  The server plugs this in with ``install``
(``ServerContext.extras["busy_hook"]``); the scripting package never imports the server.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
from typing import TYPE_CHECKING, Any

from ._resp import Parser, ReplyError, encode
from .blocking import BLOCKED

if TYPE_CHECKING:
    from .server import Server

BUSY_EVAL = ReplyError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
BUSY_FUNCTION = ReplyError("BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                           "SHUTDOWN NOSAVE.")


class _RawClient:
    """A connection accepted while busy: served here until the event loop takes it over."""

    def __init__(self, server: Server, sock: socket.socket, addr: str, laddr: str) -> None:
        from .context import Client

        self.sock = sock
        self.parser = Parser()
        self.client = Client(server.ctx, addr, laddr, sock.fileno())
        server.ctx.clients[self.client.id] = self.client
        self.closed = False

    def send(self, reply: Any) -> None:
        data = encode(reply, self.client.resp)
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True


def install(server: Server) -> None:
    """Let scripts past busy-reply-threshold serve the other clients."""
    raw: list[_RawClient] = []

    def hook(state: Any, runctx: Any) -> None:
        serve_while_busy(server, runctx, raw)

    def done(state: Any) -> None:
        hand_over(server, raw)

    server.ctx.extras["busy_hook"] = hook
    server.ctx.extras["busy_done"] = done


def _fmt(a: Any) -> str:
    if isinstance(a, tuple) and len(a) >= 2:
        return "%s:%s" % (a[0], a[1])
    return "%s:0" % (a or "")


def serve_while_busy(server: Server, runctx: Any, raw: list[_RawClient]) -> None:
    """One poll of every client socket and listener, answering what arrived."""
    poller = select.poll()
    conns: dict[int, Any] = {}
    for conn in list(server.connections):
        c = conn.client
        if c is None or conn.closed or c is runctx.caller or c.is_master or c.is_replica or \
                c.blocked is not None or conn.waiting or c.fd < 0:
            continue
        t = conn.transport
        if t is None or t.get_extra_info("ssl_object") is not None:
            continue  # TLS: the bytes on the socket are not requests (served once the script ends)
        conns[c.fd] = conn
        poller.register(c.fd, select.POLLIN)
    listeners: dict[int, Any] = {}
    tls_port = server.ctx.config["tls-port"]
    for srv in server.listeners:
        for s in getattr(srv, "sockets", None) or ():
            try:
                if tls_port and s.family != socket.AF_UNIX and s.getsockname()[1] == tls_port:
                    continue
                fd = s.fileno()
            except OSError:
                continue
            listeners[fd] = s
            poller.register(fd, select.POLLIN)
    raws: dict[int, _RawClient] = {}
    for rc in raw:
        if not rc.closed:
            raws[rc.sock.fileno()] = rc
            poller.register(rc.sock.fileno(), select.POLLIN)
    try:
        events = poller.poll(0)
    except OSError:
        return
    for fd, _ in events:
        if fd in conns:
            conn = conns[fd]
            try:
                data = os.read(fd, 65536)
            except OSError:
                continue
            if not data:
                continue
            conn.parser.feed(data)
            for argv in _requests(conn.parser):
                reply = _run(server, conn.client, argv, runctx)
                if reply is not BLOCKED and conn.client is not None:
                    conn.send_reply(reply)
        elif fd in listeners:
            _accept(server, listeners[fd], raw)
        elif fd in raws:
            rc = raws[fd]
            try:
                data = rc.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                rc.closed = True
                server.ctx.clients.pop(rc.client.id, None)
                rc.sock.close()
                continue
            rc.parser.feed(data)
            for argv in _requests(rc.parser):
                reply = _run(server, rc.client, argv, runctx)
                if reply is not BLOCKED:
                    rc.send(reply)


def _requests(parser: Parser) -> list[list[bytes]]:
    try:
        return parser.parse()
    except Exception:
        return []


def _accept(server: Server, lsock: Any, raw: list[_RawClient]) -> None:
    dup = socket.socket(fileno=os.dup(lsock.fileno()))
    try:
        dup.setblocking(False)
        try:
            sock, peer = dup.accept()
        except OSError:
            return
    finally:
        dup.close()
    sock.setblocking(False)
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        addr, laddr = _fmt(peer), _fmt(sock.getsockname())
    else:
        addr = laddr = "%s:0" % (sock.getsockname() or "")
    raw.append(_RawClient(server, sock, addr, laddr))


def _run(server: Server, c: Any, argv: list[bytes], runctx: Any) -> Any:
    """processCommand while busy: errors first, then BUSY unless the command may run."""
    from .executor import process_command, reject, resolve

    found = resolve(argv)
    if isinstance(found, ReplyError):
        return process_command(c, argv)
    if "allow-busy" not in found.flags:
        return reject(c, found, BUSY_EVAL if runctx.eval_mode else BUSY_FUNCTION)
    if found.name == "shutdown":
        if not any(a.lower() == b"nosave" for a in argv[1:]):
            return BUSY_EVAL if runctx.eval_mode else BUSY_FUNCTION
        reply = process_command(c, argv)
        if reply is BLOCKED:
            runctx.killed = True  # the script stops; the event loop then runs the shutdown
        return reply
    return process_command(c, argv)


def hand_over(server: Server, raw: list[_RawClient]) -> None:
    """After the script: connections accepted meanwhile join the event loop."""
    if not raw:
        return
    loop = server.loop
    pending = list(raw)
    raw.clear()
    for rc in pending:
        server.ctx.clients.pop(rc.client.id, None)
        if rc.closed or loop is None:
            if not rc.closed:
                rc.sock.close()
            continue
        loop.create_task(_adopt(loop, server, rc.sock))


async def _adopt(loop: asyncio.AbstractEventLoop, server: Server, sock: socket.socket) -> None:
    try:
        await loop.connect_accepted_socket(server._factory, sock)  # noqa: SLF001
    except OSError:
        sock.close()
