"""Run one command for one client: lookup, checks, MULTI queueing, call, stats.

The replication link, EXEC and the AOF loader go through ``process_command``,
so every path sees the same checks, statistics, MONITOR feed and propagation.
Client connections run their requests in ``_dispatch.Dispatcher`` (Cython),
which takes a shortcut for plain commands in the common client state and
sends everything else here: see "The fast path" below before changing a check.
"""

from __future__ import annotations

import time
import traceback
from typing import TYPE_CHECKING, Any

from ._resp import QUEUED, ReplyError
from .acl import CTX_MULTI, CTX_TOPLEVEL, redacted
from .blocking import BLOCKED
from .commands.table import COMMANDS, Command, lookup, unknown_subcommand, wrong_arity
from .context import REPLY_OFF, REPLY_ON

if TYPE_CHECKING:
    from .context import Client

NOAUTH = ReplyError("NOAUTH Authentication required.")
READONLY = ReplyError("READONLY You can't write against a read only replica.")
OOM = ReplyError("OOM command not allowed when used memory > 'maxmemory'.")
OOM_MULTI_OK = frozenset(("exec", "discard", "quit", "reset"))
MASTERDOWN = ReplyError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
EXECABORT_FLAGS = frozenset(("exec", "discard", "multi", "watch", "quit", "reset"))
SUBSCRIBE_ALLOWED = frozenset((b"subscribe", b"ssubscribe", b"unsubscribe", b"sunsubscribe", b"psubscribe",
                               b"punsubscribe", b"ping", b"quit", b"reset"))

_perf = time.perf_counter_ns


def _cstr(a: bytes) -> bytes:
    """What C's ``%s`` prints of an argument: the bytes up to the first NUL."""
    i = a.find(b"\0")
    return a if i < 0 else a[:i]


def _arg_preview(argv: list[bytes]) -> bytes:
    """Redis' ``'%.*s' `` loop: arguments until 128 bytes, the last one cut to fit."""
    out = b""
    for a in argv[1:]:
        if len(out) >= 128:
            break
        out += b"'" + _cstr(a)[: 128 - len(out)] + b"' "
    return out


def count_error(c: Client, err: ReplyError) -> None:
    """Account an error reply in INFO errorstats."""
    stats = c.server.stats
    stats.total_error_replies += 1
    code = err.message.split(b" ", 1)[0].decode("utf-8", "replace")
    if not code or code.startswith("-"):
        code = "ERR"
    stats.errorstats[code] = stats.errorstats.get(code, 0) + 1


def reject(c: Client, cmd: Command | None, err: ReplyError) -> ReplyError:
    """A command refused before running: counts as rejected, flags MULTI as dirty."""
    if cmd is not None:
        cmd.rejected_calls += 1
    count_error(c, err)
    if c.in_multi:
        c.multi_error = True
    return err


# argv[0] as clients send it (any case) -> top-level command.  COMMANDS is keyed by
# lower-case names and filled at import time; this saves a lower() and a second
# lookup per request ("SET" from most clients).  Bounded against random-case names.
_by_name: dict[bytes, Command] = {}


# the names the server answers to: the table's, unless rename-command changed some
_live: dict[bytes, Command] = COMMANDS


def rename_commands(renames: list[tuple[bytes, bytes]]) -> None:
    """rename-command OLD NEW (NEW empty: the command is gone); ACL rules keep the table's names."""
    global _live
    live = dict(COMMANDS)
    for old, new in renames:
        cmd = live.pop(old.lower())
        if new:
            live[new.lower()] = cmd
    _live = live
    _by_name.clear()


def command_named(name: bytes) -> Command | None:
    """The top-level command for argv[0] as sent (any case); None when unknown."""
    cmd = _by_name.get(name)
    if cmd is None:
        cmd = _live.get(name)
        if cmd is None:
            cmd = _live.get(name.lower())
            if cmd is None:
                return None
        if len(_by_name) >= 4096:
            _by_name.clear()
        _by_name[name] = cmd
    return cmd


def resolve(argv: list[bytes]) -> Command | ReplyError:
    """Find the command for argv and check its arity; an error reply when it can't run."""
    name = argv[0]
    cmd = command_named(name)
    if cmd is None:
        return ReplyError(
            b"ERR unknown command '%s', with args beginning with: %s"
            % (_cstr(name)[:128], _arg_preview(argv))
        )
    if cmd.subcommands:
        if len(argv) < 2:
            if cmd.handler is None:
                return wrong_arity(cmd.name)
            # a container that also runs alone (COMMAND)
        else:
            sub = cmd.subcommands.get(argv[1].lower())
            if sub is None:
                return unknown_subcommand(argv, cmd.name)
            cmd = sub
    arity = cmd.arity
    n = len(argv)
    if (arity > 0 and n != arity) or n < -arity:
        return wrong_arity(cmd.fullname)
    return cmd


def process_command(c: Client, argv: list[bytes]) -> Any:
    """Everything between a parsed request and its reply value."""
    # fast path: a known command without subcommands and with a valid arity
    # (the same outcome as resolve(), minus a call and a lower())
    cmd = _by_name.get(argv[0])
    if cmd is None or cmd.subcommands or (
        (cmd.arity > 0 and len(argv) != cmd.arity) or len(argv) < -cmd.arity
    ):
        found = resolve(argv)
        if isinstance(found, ReplyError):
            # an arity error is charged to the command (rejected_calls), like Redis
            known = lookup(argv) if found.message.startswith(b"ERR wrong number of arguments") else None
            return reject(c, known, found)
        cmd = found
    flags = cmd.flags
    if not c.authenticated and "no-auth" not in flags:
        return reject(c, cmd, NOAUTH)
    queue = c.in_multi and cmd.name not in EXECABORT_FLAGS
    if queue and "no-multi" in flags:
        return reject(c, cmd, ReplyError("ERR Command not allowed inside a transaction"))
    if c.acl_restricted:
        denied = c.server.acl.check_client(c, cmd, argv, CTX_MULTI if c.in_multi else CTX_TOPLEVEL)
        if denied is not None:
            return reject(c, cmd, denied)
    if c.resp == 2 and (c.channels or c.patterns or c.shard_channels) and (
        cmd.parent or cmd.name.encode() not in SUBSCRIBE_ALLOWED
    ):
        return reject(c, cmd, ReplyError(
            "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
            "allowed in this context" % cmd.fullname))
    server = c.server
    if server.is_replica_of_master and "stale" not in flags and not c.is_master and \
            not server.extras.get("master_link_up") and not server.config["replica-serve-stale-data"]:
        return reject(c, cmd, MASTERDOWN)
    if server.write_gates and "write" in flags and not c.is_master:
        for gate in server.write_gates:
            err = gate(c)
            if err is not None:
                return reject(c, cmd, err)
    if server.is_replica_of_master and "write" in flags and not c.is_master and server.config["replica-read-only"]:
        return reject(c, cmd, READONLY)
    mem = server.memory
    if mem.maxmemory and not c.is_master and not mem.perform_evictions() and (
            "denyoom" in flags or (c.in_multi and cmd.name not in OOM_MULTI_OK)):
        return reject(c, cmd, OOM)
    if server.loading and "loading" not in flags and not c.is_master:  # the AOF loader's client runs
        return reject(c, cmd, ReplyError("LOADING Redis is loading the dataset in memory"))
    if queue:
        # queued only after the checks above, as processCommand does: a refused command
        # (READONLY, MISCONF, OOM...) answers its error now and makes EXEC abort
        c.multi_queue.append((cmd, argv))
        return QUEUED
    return call(c, cmd, argv)


_fullnames: dict[Command, bytes] = {}  # Command.fullname as bytes (CLIENT LIST cmd=)


def call(c: Client, cmd: Command, argv: list[bytes]) -> Any:
    """Run the handler with stats, MONITOR feed and propagation."""
    server = c.server
    dirty_before = server.dirty
    c.propagate_argv = None
    # MONITOR sees a command once it ran (call()), so EXEC follows the commands of its transaction
    # and SELECT shows the new db; the arguments as received (a handler may rewrite its argv)
    shown = argv[:] if server.monitors and "admin" not in cmd.flags and "skip-monitor" not in cmd.flags else None
    t0 = _perf()
    try:
        reply = cmd.handler(c, argv)  # type: ignore[misc]
    except ReplyError as e:
        # shared error constants (SYNTAX_ERROR, NOT_INTEGER...) are raised again and again:
        # each raise would extend the traceback kept on the instance (frames, argv and all)
        e.__traceback__ = None
        reply = e
    except Exception as e:  # a bug must never kill the server or reach the client as a traceback
        reply = internal_error(c, cmd, e)
    ns = _perf() - t0
    if shown is not None:
        feed_monitors(c, shown)
    cmd.usec += ns // 1000
    cmd.calls += 1
    obs = server.observer
    if reply is not BLOCKED:  # a blocked command is timed when it runs for good (not yet recorded)
        if obs.track:
            obs.record(cmd, ns)
        if ns >= obs.gate_ns:  # a script's commands too (Redis logs them with the address ?:0)
            obs.command_done(c, cmd, argv, ns)
    server.stats.total_commands_processed += 1
    last = _fullnames.get(cmd)
    if last is None:
        last = _fullnames[cmd] = cmd.fullname.encode()
    c.last_cmd = last
    if type(reply) is ReplyError:
        cmd.failed_calls += 1
        if reply is server.uncounted_error:  # a script's error already counted by the command it ran
            server.uncounted_error = None
        else:
            count_error(c, reply)
    if server.memory.track:
        touch_keys(c, cmd, argv)
    if server.dirty != dirty_before and server.propagate_hook is not None and "write" in cmd.flags:
        alt = c.propagate_argv
        if alt is None:
            server.propagate(c.db.id, argv)
        else:
            for a in alt:
                server.propagate(c.db.id, a)
    if server.blocking.ready and reply is not BLOCKED and not c.in_exec:
        # inside EXEC, keys made ready are served once the whole transaction ran
        server.blocking.handle_ready()
    return reply


def touch_keys(c: Client, cmd: Command, argv: list[bytes]) -> None:
    """The LRU/LFU access bookkeeping for the keys a command names (lookupKey's updateLFU/LRU)."""
    if (cmd.first_key <= 0 and cmd.key_finder is None) or (cmd.parent is not None and cmd.parent.name == "object"):
        return  # OBJECT looks without touching (LOOKUP_NOTOUCH)
    if c.no_touch and cmd.name != "touch":
        return
    mem = c.server.memory
    db = c.db
    try:
        for key in cmd.keys(argv):
            mem.touch(db, key)
    except (IndexError, ValueError):
        pass


def internal_error(c: Client, cmd: Command, exc: BaseException) -> ReplyError:
    """Log a handler's unexpected exception; the generic error the client gets instead."""
    c.server.log("warning", "Internal error running '%s': %s"
                 % (cmd.fullname, "".join(traceback.format_exception(exc))))
    return ReplyError("ERR internal error while running '%s'" % cmd.fullname)


# -- The fast path -------------------------------------------------------------
#
# _dispatch.Dispatcher (the client connection loop, in Cython) runs a command
# without process_command() and call() when ALL of these hold:
#
# * fast_path_client(c).  While it holds (and fast_path_server does), every check
#   in process_command passes for a known command with a valid arity (NOAUTH, ACL,
#   MULTI queueing, RESP2 subscribed mode, MASTERDOWN, write gates, READONLY, LOADING),
#   call() has no EXEC, and the connection loop's reply mode is ON.  Only the
#   client's own slow-path commands (AUTH, HELLO, RESET, MULTI, EXEC, SUBSCRIBE,
#   CLIENT REPLY, QUIT, SYNC...) change these attributes, so the dispatcher reads
#   them when the client connects, after each of its slow-path commands and when
#   it resumes after blocking or a pause.  Code that changes one of them for
#   another client must call that connection's ``dispatcher.client_changed()``.
# * fast_path_server(server) & FAST_OK, read at the start of every batch (other
#   clients and timers change these: MONITOR, CLIENT PAUSE, MISCONF/NOREPLICAS
#   gates, REPLICAOF, loading) and after each slow-path command.  Within a batch
#   only propagation can change one (a failed AOF write arms the MISCONF gate):
#   the dispatcher checks write_gates after propagating.
# * fast_path_command(cmd): a plain data command (no subcommands).  It cannot
#   change anything the two functions above read (the commands that do are all
#   refused below), and it does not read the statistics the dispatcher adds later:
#   per-command calls/usec/failed_calls before the next slow-path command of any
#   client (INFO, CONFIG RESETSTAT); total_commands_processed, the network
#   counters, keyspace hits/misses counted by natives and the natives' dirty
#   before any slow-path command and whenever ServerContext.sync_stats runs (the
#   cron, INFO); CLIENT LIST cmd=/idle= at the end of each batch.
# * FAST_QUIET (no keyspace notifications) and no FAST_WAITERS: the commands with a
#   native handler (_native.pyx) may run it instead of the Python one.
#
# The dispatcher then does what call() does: handler, ReplyError/internal error,
# calls/usec/failed_calls and errorstats, propagation when dirty changed and a
# propagation hook is set, and serving keys made ready for blocked clients.
# A new check in process_command/call() must either be covered by these functions
# or be mirrored in Dispatcher._call.

FAST_PATH_GROUPS = frozenset(("string", "list", "hash", "set", "sorted-set", "hyperloglog", "geo", "bitmap",
                              "stream", "generic"))
FAST_PATH_NAMES = frozenset(("ping", "echo"))
_SLOW_FLAGS = frozenset(("admin", "noscript", "pubsub", "no-multi"))


def fast_path_command(cmd: Command) -> bool:
    """True when the dispatcher may run ``cmd`` without process_command (see above)."""
    return (cmd.handler is not None and not cmd.subcommands and cmd.parent is None
            and (cmd.group in FAST_PATH_GROUPS or cmd.name in FAST_PATH_NAMES)
            and not (cmd.flags & _SLOW_FLAGS))


def fast_path_client(c: Client) -> bool:
    """The client's part of 'process_command would let any valid fast-path command through'."""
    return bool(
        c.authenticated and not c.acl_restricted and not c.in_multi and not c.in_exec and not c.is_master and not c.is_replica
        and c.reply_mode == REPLY_ON and not c.close_after_reply and c.blocked is None
        and not (c.resp == 2 and (c.channels or c.patterns or c.shard_channels))
    )


FAST_OK, FAST_PROPAGATE, FAST_WAITERS, FAST_QUIET = 1, 2, 4, 8


def fast_path_server(server: Any) -> int:
    """The server's part, plus what call() needs to know, in one call per batch (bits above)."""
    state = 0
    if not (server.monitors or server.pause_until or server.loading or server.write_gates
            or server.is_replica_of_master or server.memory.maxmemory):
        state = FAST_OK  # (with maxmemory every command meets the OOM check in process_command)
    if server.propagate_hook is not None:
        state |= FAST_PROPAGATE
    if server.blocking.has_waiters:
        state |= FAST_WAITERS
    if not server.notify_flags and not server.memory.track:
        state |= FAST_QUIET  # no keyspace notifications nor LRU/LFU bookkeeping: _native handlers may run
    return state


def account_counters(server: Any, nin: int, nreads: int, nout: int, nwrites: int, ncmds: int,
                     hits: int, misses: int, dirty: int) -> None:
    """Add the counters the dispatcher keeps in C to the server's (see ServerContext.sync_stats)."""
    stats = server.stats
    stats.total_net_input_bytes += nin
    stats.total_reads_processed += nreads
    stats.total_net_output_bytes += nout
    stats.total_writes_processed += nwrites
    stats.total_commands_processed += ncmds
    stats.keyspace_hits += hits
    stats.keyspace_misses += misses
    server.dirty += dirty


def _repr_arg(a: bytes) -> str:
    out = ['"']
    for b in a:
        ch = chr(b)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append("\\x%02x" % b)
    out.append('"')
    return "".join(out)


def feed_monitors(c: Client, argv: list[bytes]) -> None:
    """Send ``+<time> [db addr] "arg" ...`` to every MONITOR client."""
    now = time.time()
    if c.is_master:
        who = "master"
    elif c.fd == -2:
        who = "lua"
    else:
        who = c.addr
    line = "%d.%06d [%d %s] %s" % (int(now), int((now % 1) * 1_000_000), c.db.id, who,
                                   " ".join(_repr_arg(a) for a in redacted(argv)))
    from ._resp import Status

    msg = Status(line.encode())
    for m in list(c.server.monitors):
        if m is not c and m.reply_mode != REPLY_OFF:  # a MONITOR line is a reply, not a push
            m.send_push(msg)
