"""The server: listeners, the client registry, the cron and shutdown.

It owns the ``ServerContext`` and plugs network-level behaviour into it.
Persistence and replication attach through ``Server.hooks`` lists so this module
stays the top of the dependency graph.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from . import (
    busy,
    commands,  # noqa: F401  (registers every command)
    info,
)
from .config import Config
from .connection import Connection
from .context import ServerContext
from .log import Logger
from .supervise import Supervisor
from .version import REDIS_VERSION


class _ListenError(Exception):
    """Binding failed: the warning lines to log; ``optional``: a ``-`` address."""

    def __init__(self, lines: list[str], optional: bool = False) -> None:
        super().__init__(lines)
        self.lines = lines
        self.optional = optional


class Server:
    """A running fastredis server."""

    def __init__(self, config: Config, supervisor: Supervisor | None = None,
                 listen_sockets: list[socket.socket] | None = None) -> None:
        self.config = config
        self.supervisor = supervisor or Supervisor()
        self.inherited_sockets = list(listen_sockets or ())
        self.logger = Logger(config["logfile"], config["loglevel"])
        self.ctx = ServerContext(config)
        self.ctx.log = self.logger
        self.ctx.shutdown_asap = self.request_shutdown
        self.ctx.extras["restart"] = self.restart
        self.ctx.extras["server"] = self
        self._load_acl()
        if config.renames:
            from .executor import rename_commands

            rename_commands(config.renames)
        self.ctx.extras["executable"] = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
        self.connections: set[Connection] = set()
        self.listeners: list[asyncio.AbstractServer] = []
        self.tls_listeners: list[asyncio.AbstractServer] = []
        # plain TCP listeners by (bind entry, port); sockets bound but not yet served; inherited ones
        self._tcp: dict[tuple[str, int], list[asyncio.AbstractServer]] = {}
        self._pending: dict[tuple[str, int], list[socket.socket]] = {}
        self._inherited: list[asyncio.AbstractServer] = []
        busy.install(self)  # scripts past busy-reply-threshold serve the other clients
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopped: asyncio.Future[int] | None = None
        self.cron_handle: asyncio.TimerHandle | None = None
        self.cronloops = 0
        self._fast_expire_scheduled = False
        self.exit_code = 0
        # extension points for persistence / replication
        self.cron_hooks: list[Callable[[], None]] = []
        self.shutdown_hooks: list[Callable[[dict[str, Any]], bool]] = []
        self.startup_hooks: list[Callable[[], Any]] = []  # may return an awaitable
        # persistence first: data is loaded before a replica connects to its master
        from .persistence.aof import attach as attach_aof
        from .persistence.snapshot import attach as attach_rdb
        from .replication import attach as attach_replication

        self.aof = attach_aof(self)
        self.rdb = attach_rdb(self)
        self.replication = attach_replication(self)
        config.on_change("loglevel", self.logger.set_level)
        config.on_change("proto-max-bulk-len", self._limits_changed)
        config.on_change("client-query-buffer-limit", self._limits_changed)
        config.on_change("port", lambda v: self._rebind_tcp("port"))
        config.on_change("bind", lambda v: self._rebind_tcp("bind"))
        # TLS: the server context (tls-port listeners), rebuilt whole when a tls-* config changes
        self.tls_context: Any = None
        self._tls_rebind_pending = False
        from .tls import TLS_CONFIGS

        for name in TLS_CONFIGS + ("tls-port", "tls-replication"):
            config.on_change(name, self._tls_changed)
        # like Redis' closeChildUnusedResourceAfterFork: a BGSAVE / BGREWRITEAOF child must not keep
        # the listening sockets, or a restart on the same port fails while an orphaned child (its
        # parent killed) still writes
        os.register_at_fork(after_in_child=self._close_listeners_in_child)

    def _load_acl(self) -> None:
        """ACLLoadUsersAtStartup: ``user`` lines or the aclfile, never both."""
        from .acl import RuleError

        acl = self.ctx.acl
        cfg = self.config
        if cfg["aclfile"] and cfg.acl_users:
            self.log("warning", "Configuring Redis with users defined in redis.conf and at the same setting an ACL "
                     "file path is invalid. This setup is very likely to lead to configuration errors and security "
                     "holes, please define either an ACL file or declare users directly in your redis.conf, but "
                     "not both.")
            raise SystemExit(1)
        try:
            acl.load_users(cfg.acl_users)
        except RuleError as e:
            self.log("warning", str(e))
            self.log("warning", "Critical error while loading ACLs. Exiting.")
            raise SystemExit(1) from None
        if cfg["aclfile"]:
            errors = acl.load_file(cfg["aclfile"])
            if errors is not None:
                self.log("warning", "Aborting Redis startup because of ACL errors: %s" % errors)
                raise SystemExit(1)

    def _close_listeners_in_child(self) -> None:
        for srv in self.listeners + self.tls_listeners:
            for sock in getattr(srv, "sockets", None) or ():  # asyncio.Server (AbstractServer has none)
                try:
                    os.close(sock.fileno())
                except OSError:
                    pass

    # -- start-up -------------------------------------------------------------

    def log(self, level: str, msg: str) -> None:
        self.logger(level, msg)

    def _limits_changed(self, _value: Any) -> None:
        for conn in self.connections:
            conn.parser.max_bulk_len = self.config["proto-max-bulk-len"]
            conn.parser.max_query_len = self.config["client-query-buffer-limit"]

    def _factory(self) -> Connection:
        conn = Connection(self.ctx, self.connections.discard)
        self.connections.add(conn)
        return conn

    def _configure_tls(self) -> None:
        """tlsConfigure: (re)build the server context when TLS is in use; raises TLSError."""
        from .tls import server_context

        cfg = self.config
        if cfg["tls-port"] or cfg["tls-replication"]:
            self.tls_context = server_context(cfg)
        else:
            self.tls_context = None

    def _tls_changed(self, _value: Any) -> None:
        """CONFIG SET tls-*: a new context for new connections (the TLS listeners re-open)."""
        from .config import ConfigError
        from .tls import TLSError

        try:
            self._configure_tls()
        except TLSError as e:
            self.log("warning", str(e))
            raise ConfigError("Unable to update TLS configuration. Check server logs.") from None
        # one CONFIG SET may change several tls-* configs: re-open the listeners once, after all
        if self.loop is not None and not self._tls_rebind_pending:
            self._tls_rebind_pending = True

            def rebind() -> None:
                self._tls_rebind_pending = False
                self._rebind(tls_only=True)

            self.loop.call_soon(rebind)

    async def _listen(self, tls_only: bool = False) -> None:
        loop = asyncio.get_running_loop()
        # TLS first: once the plain port answers, the TLS one does too
        if self.config["tls-port"] and self.tls_context is not None:
            try:
                bound = self._bind_all(self.config["tls-port"], self.config["bind"] or ["*", "-::*"])
            except _ListenError as e:
                if tls_only:  # CONFIG SET tls-*: the server keeps running without the TLS port
                    for line in e.lines:
                        self.log("warning", line)
                else:
                    self._listen_failed(e, self.config["tls-port"], "TLS")
            else:
                for socks in bound.values():
                    for sock in socks:
                        self.tls_listeners.append(await loop.create_server(
                            self._factory, sock=sock, backlog=self.config["tcp-backlog"], ssl=self.tls_context))
        if tls_only:
            return
        if self.inherited_sockets:
            inherited, self.inherited_sockets = self.inherited_sockets, []  # a later rebind binds anew
            for sock in inherited:
                srv = await loop.create_server(self._factory, sock=sock, backlog=self.config["tcp-backlog"])
                self.listeners.append(srv)
                self._inherited.append(srv)
        elif self.config["port"]:
            try:
                self._bind_tcp()
            except _ListenError as e:
                self._listen_failed(e, self.config["port"], "TCP")
        await self._serve_pending()
        unixsocket = self.config["unixsocket"]
        if unixsocket:
            try:
                os.unlink(unixsocket)
            except FileNotFoundError:
                pass
            srv = await loop.create_unix_server(self._factory, path=unixsocket)
            if self.config["unixsocketperm"]:
                os.chmod(unixsocket, int(str(self.config["unixsocketperm"]), 8))
            self.listeners.append(srv)

    def _listen_failed(self, e: _ListenError, port: int, kind: str) -> None:
        for line in e.lines:
            self.log("warning", line)
        self.log("warning", "Failed listening on port %d (%s), aborting." % (port, kind))
        raise SystemExit(1) from None

    def _bind_one(self, addr: str, port: int) -> list[socket.socket]:
        """Bind one ``bind`` entry (listenToPort); [] when an optional (``-``) address is unavailable."""
        optional = addr.startswith("-")
        host = addr[1:] if optional else addr
        if host == "*":
            host = "0.0.0.0"
        elif host == "::*":
            host = "::"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        socks: list[socket.socket] = []
        try:
            for fam, kind, proto, _name, sa in socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0,
                                                                  socket.AI_PASSIVE):
                sock = socket.socket(fam, kind, proto)
                socks.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if fam == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(sa)
                sock.listen(self.config["tcp-backlog"])
                sock.setblocking(False)
        except OSError as e:
            for sock in socks:
                sock.close()
            if optional and e.errno in (97, 99, 22):  # EAFNOSUPPORT, EADDRNOTAVAIL, EINVAL
                return []
            reason = os.strerror(e.errno) if e.errno and e.errno > 0 else (e.strerror or str(e))
            raise _ListenError([f"Warning: Could not create server TCP listening socket {addr.lstrip('-')}:{port}: "
                                f"bind: {reason}"], optional) from None
        return socks

    def _bind_all(self, port: int, binds: list[str]) -> dict[str, list[socket.socket]]:
        """Bind every address or none: a required address that fails closes what was bound."""
        bound: dict[str, list[socket.socket]] = {}
        skipped: list[str] = []
        for addr in binds:
            try:
                bound[addr] = self._bind_one(addr, port)
            except _ListenError as e:
                if e.optional:
                    skipped += e.lines
                    continue
                for socks in bound.values():
                    for sock in socks:
                        sock.close()
                raise _ListenError(skipped + e.lines) from None
        return bound

    def _bind_tcp(self) -> None:
        """Bind the addresses of ``port``/``bind`` not bound yet, release the others (changeListener).

        The binding is synchronous so that CONFIG SET can answer an error and roll back; an address
        kept from before keeps its listener, so a rollback to the old values finds it still open.
        """
        port = self.config["port"]
        binds = self.config["bind"] or ["*", "-::*"]
        want = {(addr, port) for addr in binds} if port else set()
        missing = [addr for addr, p in want if (addr, p) not in self._tcp]
        bound = self._bind_all(port, missing) if missing else {}
        for key in [k for k in self._tcp if k not in want]:
            for srv in self._tcp.pop(key):
                srv.close()
                self.listeners.remove(srv)
            for sock in self._pending.pop(key, ()):
                sock.close()
        for srv in self._inherited:
            srv.close()
            self.listeners.remove(srv)
        self._inherited = []
        for addr, socks in bound.items():
            self._tcp[(addr, port)] = []
            self._pending[(addr, port)] = socks

    async def _serve_pending(self) -> None:
        """Hand the sockets bound by ``_bind_tcp`` to the event loop."""
        loop = asyncio.get_running_loop()
        while self._pending:
            key, socks = self._pending.popitem()
            for sock in socks:
                srv = await loop.create_server(self._factory, sock=sock, backlog=self.config["tcp-backlog"])
                self._tcp[key].append(srv)
                self.listeners.append(srv)

    def _rebind_tcp(self, what: str) -> None:
        """CONFIG SET port/bind: an address that cannot be bound fails the CONFIG SET (it rolls back)."""
        from .config import ConfigError

        if self.loop is None:
            return
        try:
            self._bind_tcp()
        except _ListenError as e:
            for line in e.lines:
                self.log("warning", line)
            if what == "bind":
                self.log("warning", "Failed to bind")
            self.log("warning", "Failed applying new configuration. Possibly related to new %s setting. "
                     "Restoring previous settings." % what)
            raise ConfigError("Failed to bind to specified addresses." if what == "bind"
                              else "Unable to listen on this port. Check server logs.") from None
        if self._pending:
            self.loop.create_task(self._serve_pending())

    def _rebind(self, tls_only: bool = False) -> None:
        """A TLS change: re-open the TLS listeners."""
        async def rebind() -> None:
            old = self.tls_listeners
            self.tls_listeners = []
            for srv in old:
                srv.close()
            await self._listen(tls_only=True)

        if self.loop is not None:
            self.loop.create_task(rebind())

    async def serve(self) -> int:
        self.loop = asyncio.get_running_loop()
        self.stopped = self.loop.create_future()
        cfg = self.config
        self.log("notice", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
        self.log("notice", "Redis version=%s, bits=64, commit=00000000, modified=0, pid=%d, just started"
                 % (REDIS_VERSION, os.getpid()))
        if cfg.config_file:
            self.log("notice", "Configuration loaded")
        else:
            self.log("warning", "Warning: no config file specified, using the default config. In order to "
                     "specify a config file use fastredis-server /path/to/redis.conf")
        self.log("notice", "Running mode=standalone, port=%d." % cfg["port"])
        from .tls import TLSError

        try:
            self._configure_tls()
        except TLSError as e:
            self.log("warning", str(e))
            self.log("warning", "Failed to configure TLS. Check logs for more info.")
            raise SystemExit(1) from None
        await self._listen()
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self._on_signal, sig)
        self.log("notice", "Server initialized")
        if cfg.load_modules:
            from .module_loader import load_queue

            if not load_queue(self.ctx, self.log):
                raise SystemExit(1)
        info.memory_state(self.ctx)  # used_memory_startup: the footprint before any data is loaded
        for hook in self.startup_hooks:
            result = hook()
            if inspect.isawaitable(result):
                await result
        if cfg["port"]:
            self.log("notice", "Ready to accept connections tcp")
        if cfg["tls-port"]:
            self.log("notice", "Ready to accept connections tls")
        self.supervisor.ready(replica=bool(cfg["replicaof"]))
        self._schedule_cron()
        code = await self.stopped
        return code

    # -- cron -------------------------------------------------------------------

    def _schedule_cron(self) -> None:
        hz = max(1, min(500, self.config["hz"] or 10))
        assert self.loop is not None
        self.cron_handle = self.loop.call_later(1.0 / hz, self._cron)

    def _cron(self) -> None:
        try:
            self.cronloops += 1
            ex = self.ctx.extras
            ex["eventloop_cycles"] = ex.get("eventloop_cycles", 0) + 1
            t0 = time.perf_counter()
            if ex.get("pause_cron"):  # DEBUG PAUSE-CRON 1
                if self.stopped is not None and not self.stopped.done():
                    self._schedule_cron()
                return
            self.ctx.sync_stats()  # save points and the ops/sec samples read the counters
            self.ctx.state_changed()  # a bound on how long a missed change could go unseen
            if ex.get("active_expire_enabled", True):
                self._active_expire()
            info.track_metrics(self.ctx)
            self.ctx.memory.cron()
            if self.cronloops % max(1, self.config["hz"]) == 0:
                self._client_timeouts()
            self.ctx.lazyfree.cron()
            for hook in self.cron_hooks:
                hook()
            ex["eventloop_duration_usec"] = ex.get("eventloop_duration_usec", 0) + int(
                (time.perf_counter() - t0) * 1_000_000)
        except Exception as e:  # the cron must never stop
            self.log("warning", "cron error: %r" % (e,))
        if self.stopped is not None and not self.stopped.done():
            self._schedule_cron()

    def _active_expire(self, fast: bool = False) -> None:
        """activeExpireCycle: sample keys with a TTL in every db, bounded in time.

        The slow cycle (every cron tick) may use 25% of a tick (hz 10: 25 ms); when it had to stop
        on its time limit, fast cycles of 1 ms follow, at most one per 2 ms, until a cycle ends
        with few stale keys left, as Redis runs them from beforeSleep.
        """
        ctx = self.ctx
        if ctx.is_replica_of_master or ctx.paused_expiry:  # replicas wait for DEL; CLIENT PAUSE stops expiry
            return
        hz = max(1, self.config["hz"])
        effort = self.config["active-expire-effort"] - 1
        t0 = time.perf_counter()
        if fast:
            budget = (1000 + 1000 * effort / 4) / 1_000_000  # ACTIVE_EXPIRE_CYCLE_FAST_DURATION
        else:
            budget = (25 + 2 * effort) / 100 / hz  # ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC
        deadline = t0 + budget
        acceptable = 10 - effort  # ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE
        from .db import mstime

        now = mstime()
        per_loop = 20 + 5 * effort
        timed_out = False
        for db in ctx.dbs:
            if not db.expires:
                continue
            while True:
                expired = db.active_expire(now, per_loop)
                # keep going while more than the acceptable share of the sample was stale
                if expired * 100 <= per_loop * acceptable:
                    break
                if time.perf_counter() > deadline:
                    timed_out = True
                    ctx.stats.expired_time_cap_reached_count += 1
                    break
            if time.perf_counter() > deadline:
                timed_out = True
                break
        ctx.stats.expire_cycle_cpu_milliseconds += int((time.perf_counter() - t0) * 1000)
        if ctx.blocking.ready:
            ctx.blocking.handle_ready()
        if timed_out and self.loop is not None and not self._fast_expire_scheduled:
            self._fast_expire_scheduled = True
            self.loop.call_later(2 * 0.001, self._fast_expire)

    def _fast_expire(self) -> None:
        self._fast_expire_scheduled = False
        if self.ctx.extras.get("active_expire_enabled", True) and (self.stopped is None or not self.stopped.done()):
            try:
                self._active_expire(fast=True)
            except Exception as e:  # like the cron: expiry must never stop
                self.log("warning", "expire cycle error: %r" % (e,))

    def _client_timeouts(self) -> None:
        timeout = self.config["timeout"]
        if not timeout:
            return
        now = time.time()
        for conn in list(self.connections):
            c = conn.client
            if c is None or c.is_master or c.is_replica or c.blocked is not None:
                continue
            if c.channels or c.patterns or c.shard_channels:
                continue
            if now - c.last_interaction > timeout:
                self.log("verbose", "Closing idle client")
                conn.close()

    # -- shutdown -------------------------------------------------------------

    def _on_signal(self, sig: int) -> None:
        name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
        self.log("warning", "Received %s scheduling shutdown..." % name)
        self.request_shutdown({})

    def request_shutdown(self, opts: dict[str, Any]) -> bool:
        """Run the shutdown hooks (save, AOF flush); False when one refuses.

        The final save runs in a child (``async_save``): meanwhile writes are held, as by CLIENT
        PAUSE WRITE, and reads are answered; the hooks after it run once it ended well.
        """
        self.log("warning", "User requested shutdown...")
        if self.loop is not None and self.loop.is_running():
            opts = dict(opts, async_save=True)
        return self._shutdown_from(opts, 0)

    def _shutdown_from(self, opts: dict[str, Any], start: int) -> bool:
        for i in range(start, len(self.shutdown_hooks)):
            res = self.shutdown_hooks[i](opts)
            if callable(res):  # a save in a child: wait for it without stopping the loop
                self._shutdown_wait(res, opts, i + 1)
                return True
            if not res and not opts.get("force"):
                self.log("warning", "Errors trying to shut down the server. Check the logs for more information.")
                return False
        assert self.loop is not None
        self.loop.call_soon(self._stop)
        return True

    def _shutdown_wait(self, poll: Callable[[], bool | None], opts: dict[str, Any], next_hook: int) -> None:
        ctx = self.ctx
        before = (ctx.pause_until, ctx.pause_writes_only)
        ctx.pause_until = time.time() + 86400.0
        ctx.pause_writes_only = not before[0] or before[1]
        ctx.state_changed()
        c = opts.get("client")
        waiter = None
        if c is not None:
            ctx.blocking.block(c, [], 0, lambda cl: None, None)
            waiter = c.blocked
        assert self.loop is not None

        def check() -> None:
            done = poll()
            if done is None:
                self.loop.call_later(0.005, check)  # type: ignore[union-attr]
                return
            if done and self._shutdown_from(opts, next_hook):
                return
            if done:
                pass  # a later hook refused and logged why
            else:
                self.log("warning", "Errors trying to shut down the server. Check the logs for more information.")
            from .commands.client_cmds import unpause

            unpause(ctx)
            if before[0] > time.time():
                ctx.pause_until, ctx.pause_writes_only = before
                ctx.state_changed()
            if waiter is not None and c is not None and c.blocked is waiter:
                from ._resp import ReplyError

                ctx.blocking.finish(waiter, ReplyError("ERR Errors trying to SHUTDOWN. Check logs."))

        self.loop.call_later(0.005, check)

    def restart(self, graceful: bool, delay_ms: int) -> bool:
        """DEBUG RESTART / CRASH-AND-RECOVER (restartServer): exec this server again with the same
        command line; gracefully: rewrite the config file, run the shutdown hooks (save, AOF) first."""
        if graceful:
            if self.config.config_file:
                try:
                    self.config.rewrite()
                except Exception as e:
                    self.log("warning", "Could not rewrite config file: %s" % (e,))
                    return False
            for hook in self.shutdown_hooks:
                if not hook({}):
                    return False
        for srv in self.listeners:
            srv.close()
        if delay_ms:
            time.sleep(delay_ms / 1000)
        args = [sys.executable] + list(getattr(sys, "orig_argv", sys.argv))[1:]
        try:
            os.execv(sys.executable, args)
        except OSError as e:
            self.log("warning", "Can't restart: %s" % (e,))
        os._exit(1)

    def _stop(self) -> None:
        for srv in self.listeners + self.tls_listeners:
            srv.close()
        for conn in list(self.connections):
            conn.close()
        unixsocket = self.config["unixsocket"]
        if unixsocket:
            try:
                os.unlink(unixsocket)
            except OSError:
                pass
        pidfile = self.config["pidfile"]
        if pidfile:
            try:
                os.unlink(pidfile)
            except OSError:
                pass
        self.log("warning", "Redis is now ready to exit, bye bye...")
        self.supervisor.stopping()
        if self.stopped is not None and not self.stopped.done():
            self.stopped.set_result(self.exit_code)


def run(config: Config, supervisor: Supervisor | None = None,
        listen_sockets: list[socket.socket] | None = None,
        setup: Callable[[Server], None] | None = None) -> int:
    """Run a server until it shuts down; returns the process exit code.

    ``listen_sockets``: already bound listening sockets to serve instead of binding ``bind``/``port``
    (the embedded server's parent binds the port, so picking a free one has no race); ``setup`` is
    called with the server before it starts (the embedded server adds its hooks there)."""
    import uvloop

    server = Server(config, supervisor, listen_sockets)
    if setup is not None:
        setup(server)
    if config["daemonize"] and not config["pidfile"] and server.supervisor.mode == "no":
        config.set_text("pidfile", "/var/run/redis.pid", startup=True)  # redis-server's default
    pidfile = config["pidfile"]
    if pidfile:
        try:
            with open(pidfile, "w") as f:
                f.write(f"{os.getpid()}\n")
        except OSError as e:
            server.log("warning", "Failed to write PID file: %s" % e.strerror)
            pidfile = ""
    try:
        return uvloop.run(server.serve())
    finally:
        if pidfile:  # a start-up that failed (bind error, bad module) leaves no stale pid file
            try:
                with open(pidfile) as f:
                    mine = f.read().strip() == str(os.getpid())
                if mine:
                    os.unlink(pidfile)
            except OSError:
                pass
