"""One asyncio Protocol per client: feed bytes, run commands, write replies.

The Protocol stays thin: the request loop (parse, dispatch, encode, write)
is ``_dispatch.Dispatcher`` in Cython, the command logic in ``executor``.
Replies of one read batch are written with a single ``transport.write``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._dispatch import Dispatcher
from ._resp import Parser, ReplyError, Writer
from .context import Client
from .executor import count_error

if TYPE_CHECKING:
    from .context import ServerContext

MAX_CLIENTS_ERROR = b"-ERR max number of clients reached\r\n"


class Connection(asyncio.Protocol):
    """A client connection."""

    def __init__(self, server: ServerContext, on_close: Callable[[Connection], None] | None = None) -> None:
        self.server = server
        self.parser = Parser()
        self.writer = Writer()
        # the request loop and the output; it also holds transport, closed and waiting
        self.dispatcher = d = Dispatcher(self, server, self.parser, self.writer)
        # uvloop looks data_received up once, when the transport is made: reads go straight to C
        self.data_received = d.data_received  # type: ignore[method-assign]
        self.client: Client | None = None
        self.paused_reading = False
        self.write_paused = False
        self.on_close = on_close
        self.resume_handle: asyncio.TimerHandle | None = None

    # state kept in the dispatcher (C fields), shared with it
    @property
    def transport(self) -> asyncio.Transport | None:
        return self.dispatcher.transport  # type: ignore[no-any-return]

    @transport.setter
    def transport(self, t: asyncio.Transport | None) -> None:
        self.dispatcher.transport = t

    @property
    def closed(self) -> bool:
        return self.dispatcher.closed

    @closed.setter
    def closed(self, v: bool) -> None:
        self.dispatcher.closed = v

    @property
    def waiting(self) -> bool:
        """Blocked or paused: input is buffered, not run."""
        return self.dispatcher.waiting

    @waiting.setter
    def waiting(self, v: bool) -> None:
        self.dispatcher.waiting = v

    # -- asyncio callbacks ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        server = self.server
        sock = transport.get_extra_info("socket")
        addr = laddr = ""
        peer_host: str | None = None  # None: a unix socket (always local)
        fd = -1
        if sock is not None:
            fd = sock.fileno()
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
                peer = transport.get_extra_info("peername")
                local = transport.get_extra_info("sockname")
                peer_host = peer[0] if peer else ""
                addr = _fmt_addr(peer)
                laddr = _fmt_addr(local)
            else:
                addr = f"{transport.get_extra_info('sockname') or ''}:0"
                laddr = addr
        c = Client(server, addr, laddr, fd)
        self.client = c
        self.dispatcher.client = c
        server.stats.total_connections_received += 1
        if len(server.clients) >= server.config["maxclients"]:
            server.stats.rejected_connections += 1
            transport.write(MAX_CLIENTS_ERROR)  # type: ignore[attr-defined]
            transport.close()
            self.closed = True
            return
        from .acl import PROTECTED_MODE_DENIED, protected_mode_refuses

        if protected_mode_refuses(server, peer_host):
            server.stats.rejected_connections += 1
            transport.write(PROTECTED_MODE_DENIED)  # type: ignore[attr-defined]
            transport.close()
            self.closed = True
            return
        server.clients[c.id] = c
        d = self.dispatcher
        c.send_push = d.send_push
        c.write_raw = d.write_raw
        c.send_reply = d.send_reply
        c.close = self.close
        c.fast_path_changed = d.client_changed
        c.resume = self.resume
        c.query_buffer_len = lambda: self.parser.buffered
        c.output_buffer_len = self._output_len
        self.parser.max_bulk_len = server.config["proto-max-bulk-len"]
        self.parser.max_query_len = server.config["client-query-buffer-limit"]
        self.parser.auth_required = not c.authenticated

    def _output_len(self) -> int:
        t = self.transport
        return t.get_write_buffer_size() if t is not None else 0

    def data_received(self, data: bytes) -> None:
        self.dispatcher.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._teardown()
        # the last callback uvloop makes: break the Connection/Dispatcher/transport cycle so the
        # whole connection is freed now by reference counting, not by a later full collection
        self.dispatcher.release()
        self.__dict__.pop("data_received", None)
        self.resume_handle = None
        self.on_close = None

    def pause_writing(self) -> None:
        # the peer is not reading: stop reading its requests until it catches up
        self.write_paused = True
        if self.transport is not None and not self.paused_reading:
            self.paused_reading = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.transport is not None and self.paused_reading:
            self.paused_reading = False
            self.transport.resume_reading()

    # -- command processing ---------------------------------------------------

    def process(self) -> None:
        """Run every complete request buffered, then flush the replies."""
        self.dispatcher.process()

    def _paused_for(self, argv: list[bytes]) -> bool:
        """CLIENT PAUSE: hold this client until the pause ends."""
        server = self.server
        now = time.time()
        if now >= server.pause_until:
            server.pause_until = 0.0
            server.state_changed()
            return False
        c = self.client
        assert c is not None
        if c.is_master or c.is_replica:
            return False
        if server.pause_writes_only:
            from .commands.table import lookup

            cmd = lookup(argv)
            if cmd is None or not ({"write", "may-replicate"} & cmd.flags):
                return False
        self.waiting = True
        paused = server.extras.setdefault("paused_connections", set())
        paused.add(self)
        loop = asyncio.get_event_loop()
        self.resume_handle = loop.call_later(max(0.0, server.pause_until - now) + 0.001, self.resume)
        return True

    def resume(self) -> None:
        """Continue after being blocked or paused."""
        if self.closed:
            return
        if self.resume_handle is not None:
            self.resume_handle.cancel()
            self.resume_handle = None
        self.waiting = False
        self.dispatcher.client_changed()  # unblocked by another client: re-read its state
        self.server.extras.get("paused_connections", set()).discard(self)
        loop = asyncio.get_event_loop()
        loop.call_soon(self._resume_now)

    def _resume_now(self) -> None:
        if not self.closed and not self.waiting:
            self.process()

    def _protocol_error(self, message: str) -> None:
        c = self.client
        assert c is not None
        if message == "query buffer limit":
            self.server.stats.client_query_buffer_limit_disconnections += 1
            self.server.log("warning", "Closing client that reached max query buffer length: id=%d addr=%s"
                            % (c.id, c.addr))
            self.flush()
            self.close()
            return
        # the parser quotes the offending byte as chr(byte): send that byte back raw, like Redis
        err = ReplyError(("ERR " + message).encode("latin-1", "replace"))
        count_error(c, err)
        self.server.log("verbose", "Protocol error (%s) from client: id=%d addr=%s" % (message, c.id, c.addr))
        self.writer.write(err)
        self.flush()
        self.close()

    # -- output ---------------------------------------------------------------

    def flush(self) -> None:
        self.dispatcher.flush()

    def _check_output_limit(self) -> None:
        c = self.client
        t = self.transport
        if c is None or t is None:
            return
        size = t.get_write_buffer_size()
        if not size:
            return
        cls = "pubsub" if (c.channels or c.patterns or c.shard_channels) else (
            "replica" if c.is_replica else "normal")
        hard, soft, secs = self.server.config["client-output-buffer-limit"].get(cls, (0, 0, 0))
        over = hard and size >= hard
        if not over and soft and size >= soft:
            since = getattr(c, "obuf_soft_since", None)
            now = time.time()
            if since is None:
                c.obuf_soft_since = now  # type: ignore[attr-defined]
            elif now - since >= secs:
                over = True
        elif soft:
            c.obuf_soft_since = None  # type: ignore[attr-defined]
        if over:
            self.server.stats.client_output_buffer_limit_disconnections += 1
            self.server.log("warning", "Client id=%d addr=%s scheduled to be closed ASAP for overcoming of "
                            "output buffer limits." % (c.id, c.addr))
            t.abort()

    def send_reply(self, reply: Any) -> None:
        """Write a reply outside the request loop (unblocked client)."""
        self.dispatcher.send_reply(reply)

    def write_raw(self, data: bytes) -> None:
        """Send bytes as they are, after anything already queued (replication stream)."""
        self.dispatcher.write_raw(data)

    def send_push(self, msg: Any) -> None:
        """Deliver an out-of-band message (pub/sub, MONITOR, invalidation)."""
        self.dispatcher.send_push(msg)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.flush()
            self.transport.close()
        self._teardown()

    def _teardown(self) -> None:
        if self.closed and self.client is None:
            return
        self.closed = True
        c = self.client
        if c is not None:
            server = self.server
            server.clients.pop(c.id, None)
            server.blocking.drop(c)
            server.pubsub.drop(c)
            if c in server.monitors:
                server.monitors.remove(c)
                server.state_changed()
            for db, key in c.watched:
                s = db.watched.get(key)
                if s is not None:
                    s.discard(c)
                    if not s:
                        del db.watched[key]
            c.watched = []
            on_gone = server.extras.get("client_gone")
            if on_gone is not None:
                on_gone(c)
            c.killed = True
            # whatever still holds the Client (a CLIENT LIST in progress, a slow log entry...)
            # must not keep the connection, its buffers and its transport alive through the hooks
            c.detach()
        if self.resume_handle is not None:
            self.resume_handle.cancel()
        paused = self.server.extras.get("paused_connections")
        if paused:
            paused.discard(self)
        if self.on_close is not None:
            self.on_close(self)
        self.client = None
        self.dispatcher.client = None


def _fmt_addr(a: Any) -> str:
    if not a:
        return ""
    host, port = a[0], a[1]
    if ":" in host:
        return f"{host}:{port}" if host.startswith("[") else f"{host}:{port}"
    return f"{host}:{port}"
