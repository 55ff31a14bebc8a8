"""Replica side: the link to the master, the Redis 7.2 handshake, sync and the stream.

Handshake: PING, AUTH (masterauth/masteruser), REPLCONF listening-port,
REPLCONF capa eof capa psync2, then PSYNC with the cached master (partial) or
``? -1``.  A full sync payload is either ``$<len>\\r\\n<rdb>`` or diskless
``$EOF:<40-byte mark>\\r\\n<rdb><mark>``.  The stream that follows is applied
through the same executor clients use, with the offset counted byte-exactly.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Any

from .._resp import Parser, encode_command

if TYPE_CHECKING:
    from ..context import Client, ServerContext
    from .master import MasterRole


def _command_len(argv: list[bytes]) -> int:
    """Bytes a command takes in canonical RESP multibulk form (what masters send)."""
    n = len(b"*%d\r\n" % len(argv))
    for a in argv:
        n += len(b"$%d\r\n" % len(a)) + len(a) + 2
    return n


class MasterLink(asyncio.Protocol):
    """The connection to our master."""

    def __init__(self, repl: ReplicaRole) -> None:
        self.repl = repl
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.state = "connecting"
        self.steps: list[tuple[bytes, str]] = []
        self.transfer_size = -1
        self.eof_mark: bytes | None = None
        self.payload = bytearray()
        self.parser = Parser()
        self.closed = False
        self.last_io = time.time()
        self.dump_file: Any = None  # the temp file a disk-loaded payload goes to

    # -- asyncio ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.repl.ctx.log("notice", "MASTER <-> REPLICA sync started")
        self.repl.link_status = "connecting"
        cfg = self.repl.ctx.config
        steps: list[tuple[bytes, str]] = [(encode_command([b"PING"]), "ping")]
        if cfg["masterauth"]:
            args = [b"AUTH"]
            if cfg["masteruser"]:
                args.append(cfg["masteruser"].encode())
            args.append(cfg["masterauth"].encode())
            steps.append((encode_command(args), "auth"))
        port = cfg["replica-announce-port"] or cfg["port"]
        steps.append((encode_command([b"REPLCONF", b"listening-port", str(port).encode()]), "port"))
        if cfg["replica-announce-ip"]:
            steps.append((encode_command([b"REPLCONF", b"ip-address", cfg["replica-announce-ip"].encode()]), "ip"))
        steps.append((encode_command([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]), "capa"))
        replid, offset = self.repl.psync_target()
        steps.append((encode_command([b"PSYNC", replid.encode(), str(offset).encode()]), "psync"))
        self.steps = steps
        self._next_step()

    def _next_step(self) -> None:
        data, name = self.steps.pop(0)
        self.state = name
        assert self.transport is not None
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.last_io = time.time()
        try:
            if self.state == "streaming":
                self._stream(data)
                return
            self.buf += data
            if self.state != "loading":  # the stream waits in buf while the payload loads
                self._handshake()
        except Exception as e:  # a bad master stream must not kill the server
            self.repl.ctx.log("warning", "Error in the replication link: %r" % (e,))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.repl.link_lost(self)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True
        self.drop_dump_file()

    def drop_dump_file(self) -> None:
        f = self.dump_file
        self.dump_file = None
        if f is not None:
            f.close()
            try:
                os.unlink(f.name)
            except OSError:
                pass

    # -- handshake ----------------------------------------------------------------------

    def _line(self) -> bytes | None:
        i = self.buf.find(b"\n")
        if i < 0:
            return None
        line = bytes(self.buf[:i]).rstrip(b"\r")
        del self.buf[:i + 1]
        return line

    def _handshake(self) -> None:
        ctx = self.repl.ctx
        while self.state not in ("streaming", "transfer", "loading") and not self.closed:
            line = self._line()
            if line is None:
                return
            st = self.state
            if st == "ping":
                if line.startswith(b"-") and not line.startswith((b"-NOAUTH", b"-NOPERM", b"-ERR operation not permitted")):
                    ctx.log("warning", "Error reply to PING from master: '%s'" % line.decode("utf-8", "replace"))
                    self.close()
                    return
                ctx.log("notice", "Master replied to PING, replication can continue...")
                self._next_step()
            elif st == "auth":
                if line.startswith(b"-"):
                    ctx.log("warning", "Unable to AUTH to MASTER: %s" % line.decode("utf-8", "replace"))
                    self.close()
                    return
                self._next_step()
            elif st in ("port", "ip", "capa"):
                self._next_step()
            elif st == "psync":
                if line == b"":
                    continue  # keepalive newline before the reply
                self._psync_reply(line)
            elif st == "bulk":
                if line == b"":
                    continue  # keepalive newlines while the master prepares the RDB
                if not line.startswith(b"$"):
                    ctx.log("warning", "Bad protocol from MASTER, the first byte is not '$' (we received '%s'), "
                            "are you sure the host and port are right?" % line.decode("utf-8", "replace"))
                    self.close()
                    return
                if line.startswith(b"$EOF:"):
                    self.eof_mark = line[5:]
                    self.transfer_size = -1
                else:
                    self.transfer_size = int(line[1:])
                self.state = "transfer"
                self.repl.open_dump_file(self)
                if self.eof_mark is not None:
                    ctx.log("notice", "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF %s"
                            % ("to parser" if self.repl.diskless_load() else "to disk"))
                else:
                    ctx.log("notice", "MASTER <-> REPLICA sync: receiving %d bytes from master %s" % (
                        self.transfer_size, "to parser" if self.repl.diskless_load() else "to disk"))
        if self.state == "transfer":
            self._transfer()

    def _psync_reply(self, line: bytes) -> None:
        ctx = self.repl.ctx
        if line.startswith(b"+FULLRESYNC"):
            parts = line.split()
            self.repl.pending_full = (parts[1].decode(), int(parts[2]))
            ctx.log("notice", "Full resync from master: %s:%s" % (parts[1].decode(), parts[2].decode()))
            self.state = "bulk"
        elif line.startswith(b"+CONTINUE"):
            parts = line.split()
            newid = parts[1].decode() if len(parts) > 1 else None
            ctx.log("notice", "Successful partial resynchronization with master.")
            self.repl.partial_continue(newid)
            self.state = "streaming"
            rest = bytes(self.buf)
            self.buf.clear()
            self.repl.link_up(self)
            if rest:
                self._stream(rest)
        elif line.startswith(b"-NOMASTERLINK") or line.startswith(b"-LOADING"):
            ctx.log("notice", "Master is currently unable to PSYNC but should be in the future: %s"
                    % line.decode("utf-8", "replace"))
            self.close()
        else:
            ctx.log("warning", "Unexpected reply to PSYNC from master: %s" % line.decode("utf-8", "replace"))
            self.close()

    def _transfer(self) -> None:
        seen = len(self.payload)
        self.payload += self.buf
        if self.dump_file is not None:  # repl-diskless-load disabled: to disk as it arrives
            self.dump_file.write(self.buf)
        self.buf.clear()
        if self.eof_mark is not None:
            # the mark ends the payload; anything after it in the same read is already the stream
            mark = self.eof_mark
            at = self.payload.find(mark, max(0, seen - len(mark)))
            if at < 0:
                return
            rdb_bytes = bytes(self.payload[:at])
            rest = bytes(self.payload[at + len(mark):])
        else:
            if len(self.payload) < self.transfer_size:
                return
            rdb_bytes = bytes(self.payload[:self.transfer_size])
            rest = bytes(self.payload[self.transfer_size:])
        self.payload = bytearray()
        if self.dump_file is not None:
            self.dump_file.truncate(len(rdb_bytes))  # the mark or the stream that followed
        self.buf[:0] = rest  # the stream that followed the payload
        self.state = "loading"
        asyncio.get_event_loop().create_task(self._load(rdb_bytes))

    async def _load(self, rdb_bytes: bytes) -> None:
        """Load the payload off the event loop, then apply the stream that arrived meanwhile."""
        ok = await self.repl.load_full_sync(rdb_bytes)
        if self.closed or self.repl.link is not self:
            if ok:
                self.repl.cache_own_state()
            return
        if not ok:
            self.close()
            return
        self.state = "streaming"
        self.repl.link_up(self)
        rest = bytes(self.buf)
        self.buf.clear()
        try:
            if rest:
                self._stream(rest)
        except Exception as e:  # a bad master stream must not kill the server
            self.repl.ctx.log("warning", "Error in the replication link: %r" % (e,))
            self.close()

    # -- the command stream -----------------------------------------------------------

    def _stream(self, data: bytes) -> None:
        parser = self.parser
        parser.feed(data)
        cmds = parser.parse()
        if parser.error is not None:
            self.repl.ctx.log("warning", "Protocol error from master: %s" % parser.error)
            self.close()
            return
        for argv in cmds:
            self.repl.apply(argv, _command_len(argv))

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)


class ReplicaRole:
    """What a replica tracks about its master, and the link's life cycle."""

    def __init__(self, ctx: ServerContext, master: MasterRole, make_client: Any) -> None:
        self.ctx = ctx
        self.master_role = master
        self.make_client = make_client
        self.host: str | None = None
        self.port = 0
        self.link: MasterLink | None = None
        self.link_status = "down"
        self.master_client: Client | None = None
        self.pending_full: tuple[str, int] | None = None
        self.cached: tuple[str, int] | None = None  # (replid, offset) for PSYNC after a disconnect
        self.connect_task: asyncio.TimerHandle | None = None
        self.last_ack = 0.0
        self.sync_in_progress = False
        self.down_since = time.time()
        self.backoff = 0.1
        self.read_offset = 0

    # -- configuration --------------------------------------------------------------

    def set_master(self, host: str, port: int, at_startup: bool = False) -> None:
        """REPLICAOF / replicaof in the config.

        A master turned replica at run time offers its own history to the new master
        (replicationCacheMasterUsingMyself); at start-up only the replication info a loaded dump
        carried does, otherwise the first PSYNC is ``? -1`` as Redis sends it.
        """
        ctx = self.ctx
        self.host, self.port = host, port
        ctx.is_replica_of_master = True
        ctx.state_changed()
        ctx.extras["master_link_up"] = False
        if hasattr(ctx.log, "role"):
            ctx.log.role = "S"
        self.drop_link()
        # our own history becomes the cached master (replicationCacheMasterUsingMyself):
        # the new master may continue it partially (PSYNC2)
        m = self.master_role
        if at_startup:
            loaded = ctx.extras.pop("rdb_repl_info", None)
            if loaded is not None:
                m.replid, m.master_repl_offset = loaded
                self.cached = loaded
            else:
                self.cached = None
        else:
            self.cached = (m.replid, m.master_repl_offset)
        if m.backlog is None:
            m.create_backlog()
        self.backoff = 0.1
        self.schedule_connect(0)
        ctx.log("notice", "Connecting to MASTER %s:%d" % (host, port))

    def promote(self) -> None:
        """REPLICAOF NO ONE: keep the data, start a new history, remember the old one as replid2."""
        ctx = self.ctx
        m = self.master_role
        self.drop_link()
        self.host = None
        ctx.is_replica_of_master = False
        ctx.state_changed()
        ctx.extras["master_link_up"] = False
        if hasattr(ctx.log, "role"):
            ctx.log.role = "M"
        m.replid2 = m.replid
        m.second_offset = m.master_repl_offset + 1
        from .master import new_replid

        m.replid = new_replid()
        m.seldb = -1
        self.cached = None
        self.link_status = "down"
        ctx.log("notice", "MASTER MODE enabled (user request from 'id=?')")

    def drop_link(self) -> None:
        if self.connect_task is not None:
            self.connect_task.cancel()
            self.connect_task = None
        link = self.link
        self.link = None
        if link is not None:
            link.close()
        if self.master_client is not None:
            self.ctx.clients.pop(self.master_client.id, None)
            self.master_client = None
        self.link_status = "down"
        self.sync_in_progress = False

    def schedule_connect(self, delay: float) -> None:
        loop = asyncio.get_event_loop()
        if self.connect_task is not None:
            self.connect_task.cancel()
        self.connect_task = loop.call_later(delay, lambda: loop.create_task(self._connect()))

    async def _connect(self) -> None:
        self.connect_task = None
        if self.host is None:
            return
        loop = asyncio.get_running_loop()
        link = MasterLink(self)
        self.link = link
        self.sync_in_progress = True
        try:
            tls = None
            if self.ctx.config["tls-replication"]:
                from ..tls import TLSError, client_context

                try:
                    tls = client_context(self.ctx.config)
                except TLSError as e:
                    raise OSError(0, str(e)) from None
            await loop.create_connection(lambda: link, self.host, self.port, ssl=tls,
                                         server_hostname="" if tls is not None else None)
        except OSError as e:
            self.ctx.log("warning", "Error condition on socket for SYNC: %s" % (e.strerror or e))
            if self.link is link:
                self.link = None
                self.sync_in_progress = False
                self.backoff = min(self.backoff * 2, 1.0)
                self.schedule_connect(self.backoff)

    def psync_target(self) -> tuple[str, int]:
        if self.cached is not None:
            replid, offset = self.cached
            return replid, offset + 1
        return "?", -1

    # -- sync -----------------------------------------------------------------------

    def diskless_load(self) -> bool:
        """useDisklessLoad: parse straight from the socket's bytes (swapdb, or on-empty-db on empty dbs)."""
        mode = self.ctx.config["repl-diskless-load"]
        return mode == "swapdb" or (mode == "on-empty-db" and all(not db.data for db in self.ctx.dbs))

    async def load_full_sync(self, data: bytes) -> bool:
        """readSyncBulkPayload's load: the old data is served meanwhile (swapdb) or answered -LOADING.

        Parsing and freeing the old dataset run in a worker thread: the event loop keeps serving
        clients (and the stream from the master waits in the link's buffer).
        """
        import functools

        from ..persistence import rdb

        ctx = self.ctx
        loop = asyncio.get_running_loop()
        mode = ctx.config["repl-diskless-load"]
        swap = mode == "swapdb"
        link = self.link
        f = link.dump_file if link is not None else None
        if f is not None:
            # repl-diskless-load disabled: the payload, written as it arrived, becomes the dump file
            link.dump_file = None  # type: ignore[union-attr]
            snap = ctx.extras.get("rdb")
            try:
                await loop.run_in_executor(None, _finish_dump, f, snap.path() if snap is not None else None)
            except OSError as e:
                ctx.log("warning", "Failed trying to rename the temp DB into %s in MASTER <-> REPLICA "
                        "synchronization: %s" % (ctx.config["dbfilename"], e.strerror))
                return False
        old: list[tuple[dict, dict]] = []
        if swap:
            ctx.extras["async_loading"] = True
            ctx.log("notice", "MASTER <-> REPLICA sync: Loading DB in memory")
        else:
            ctx.log("notice", "MASTER <-> REPLICA sync: Flushing old data")
            old = self._detach_data()
            ctx.loading = True
            ctx.state_changed()
            ctx.log("notice", "MASTER <-> REPLICA sync: Loading DB in memory")
        try:
            res = await loop.run_in_executor(None, functools.partial(
                rdb.load, data, drop_expired=False, dbnum=len(ctx.dbs), zset_limits=rdb.zset_limits(ctx.config)))
        except Exception as e:
            ctx.log("warning", "Failed trying to load the MASTER synchronization DB from %s: %s"
                    % ("socket" if self.diskless_load() else "disk", e))
            if not swap:
                ctx.loading = False
                ctx.state_changed()
            ctx.extras["async_loading"] = False
            return False
        finally:
            if old:
                loop.run_in_executor(None, _free, old)
        for level, line in res.log:
            ctx.log(level, line)
        if swap:
            old = self._detach_data()
            loop.run_in_executor(None, _free, old)
        for db in ctx.dbs:
            db.data = res.data.get(db.id, {})
            db.expires = res.expires.get(db.id, {})
        ctx.loading = False
        ctx.extras["async_loading"] = False
        ctx.state_changed()
        if res.functions:
            restore = ctx.extras.get("functions_restore")
            if callable(restore):
                restore(res.functions)
        m = self.master_role
        assert self.pending_full is not None
        replid, offset = self.pending_full
        self.pending_full = None
        # sub-replicas must resync: our history changed
        for r in list(m.replicas):
            r.client.close()
        m.replid = replid
        m.replid2 = "0" * 40
        m.second_offset = -1
        m.master_repl_offset = offset
        m.backlog = None
        m.create_backlog()
        m.seldb = -1
        ctx.log("notice", "MASTER <-> REPLICA sync: Finished with success")
        return True

    def open_dump_file(self, link: MasterLink) -> None:
        """A disk-loaded payload (not diskless_load) goes to a temp file in the data dir as it arrives."""
        if self.diskless_load() or self.ctx.extras.get("rdb") is None:
            return
        path = os.path.join(self.ctx.config["dir"] or ".", "temp-%d.%d.rdb" % (int(time.time()), os.getpid()))
        try:
            link.dump_file = open(path, "w+b")  # noqa: SIM115 - renamed or removed when the sync ends
        except OSError as e:
            self.ctx.log("warning", "Opening the temp file needed for MASTER <-> REPLICA synchronization: %s"
                         % e.strerror)

    def _detach_data(self) -> list[tuple[dict, dict]]:
        """Empty every db now (clients see it at once); the old dicts are freed off the loop."""
        old = []
        for db in self.ctx.dbs:
            if db.data or db.expires:
                old.append((db.data, db.expires))
            db.clear()
        return old

    def cache_own_state(self) -> None:
        """The link went while the payload loaded: continue from what we loaded (PSYNC2)."""
        m = self.master_role
        self.cached = (m.replid, m.master_repl_offset)

    def partial_continue(self, newid: str | None) -> None:
        m = self.master_role
        if newid and newid != m.replid:
            m.replid2 = m.replid
            m.second_offset = m.master_repl_offset + 1
            m.replid = newid
            # sub-replicas continue too: they follow our stream
        if m.backlog is None:
            m.create_backlog()

    def link_up(self, link: MasterLink) -> None:
        ctx = self.ctx
        self.link_status = "up"
        self.sync_in_progress = False
        ctx.extras["master_link_up"] = True
        self.backoff = 0.1
        c = self.make_client()
        c.is_master = True
        c.authenticated = True
        c.acl_restricted = False  # like Redis' user-less master and AOF clients
        c.flags = "M"
        c.addr = "%s:%d" % (self.host, self.port)
        sock = link.transport.get_extra_info("sockname") if link.transport is not None else None
        if sock:
            c.laddr = "%s:%d" % (sock[0], sock[1])
        # the link is a client of type master: CLIENT LIST shows it, CLIENT KILL TYPE master closes it
        c.close = link.close  # type: ignore[method-assign]
        self.ctx.clients[c.id] = c
        self.master_client = c
        self.cached = None
        self.send_ack()
        ctx.log("notice", "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization."
                if False else "Replication link with master is up")

    def link_lost(self, link: MasterLink) -> None:
        if self.link is not link:
            return
        ctx = self.ctx
        m = self.master_role
        if self.link_status == "up":
            ctx.log("notice", "Connection with master lost.")
            ctx.log("notice", "Caching the disconnected master state.")
            self.cached = (m.replid, m.master_repl_offset)
            self.down_since = time.time()
        self.link = None
        self.link_status = "down"
        self.sync_in_progress = False
        ctx.extras["master_link_up"] = False
        if self.master_client is not None:
            c = self.master_client
            self.master_client = None
            ctx.clients.pop(c.id, None)
            c.killed = True
            c.select(0)
        if self.host is not None:
            self.backoff = min(self.backoff * 2, 1.0)
            self.schedule_connect(self.backoff)

    def apply(self, argv: list[bytes], nbytes: int) -> None:
        """Run one command from the master stream and advance the offset."""
        from ..executor import process_command

        c = self.master_client
        m = self.master_role
        if c is None:
            return
        name = argv[0].lower()
        if name == b"replconf" and len(argv) >= 2 and argv[1].lower() == b"getack":
            self.send_ack()
        elif name != b"ping" or len(argv) > 1:
            m.applying_master_stream = True
            try:
                process_command(c, argv)
            finally:
                m.applying_master_stream = False
        # proxy the exact stream to our own sub-replicas (same offsets as the master)
        m.feed(encode_command(argv))

    @property
    def offset(self) -> int:
        return self.master_role.master_repl_offset

    def send_ack(self) -> None:
        link = self.link
        if link is not None and self.link_status == "up":
            self.ctx.flush_writes()  # what the offset covers is in our AOF
            self.last_ack = time.time()
            link.send(encode_command([b"REPLCONF", b"ACK", str(self.offset).encode()]))

    def cron(self) -> None:
        if self.host is None:
            return
        now = time.time()
        if self.link_status == "up" and now - self.last_ack >= 1:
            self.send_ack()
        link = self.link
        if link is not None and now - link.last_io > self.ctx.config["repl-timeout"]:
            self.ctx.log("warning", "MASTER timeout: no data nor PING received...")
            link.close()


def _finish_dump(f: Any, path: str | None) -> None:
    """fsync the received payload's temp file and rename it over the dump file."""
    tmp = f.name
    try:
        f.flush()
        os.fsync(f.fileno())
        f.close()
        if path is not None:
            os.replace(tmp, path)
        else:
            os.unlink(tmp)
    except OSError:
        f.close()
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _free(old: list[tuple[dict, dict]]) -> None:
    """Drop a detached dataset in a worker thread, a key at a time, so the GIL is handed back often."""
    for data, expires in old:
        expires.clear()
        while data:
            data.popitem()
