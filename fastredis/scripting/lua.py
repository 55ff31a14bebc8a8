"""Lua 5.1 runtime (lupa) shared by EVAL scripts and FUNCTION libraries.

Shaped like Redis' ``script_lua.c`` + ``script.c``: one Lua state per engine, a dedicated
client (``fd=-2``, shown as ``lua`` by MONITOR) that runs ``redis.call``/``pcall`` through
``executor.call()`` so commands from scripts get the same statistics, MONITOR feed, keyspace
events and propagation as clients; the checks of ``scriptCall`` (arity, ``noscript``, read-only
scripts, replica/MISCONF gates) before each call.  Replies are converted straight from handler
values (no RESP round trip) following Redis' rules for RESP2 and RESP3 (``redis.setresp``); Lua
return values go back the other way with ``luaReplyToRedisReply``'s rules.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import TYPE_CHECKING, Any

import lupa.lua51 as lupa51

from .. import acl as _acl
from .. import executor as _executor
from .._resp import (
    NULL_ARRAY,
    BigNumber,
    Nil,
    Push,
    Raw,
    ReplyError,
    SetReply,
    Status,
    Verbatim,
    format_double,
)
from ..version import REDIS_VERSION
from .boot import BOOT
from .libs import LibError, check_int, make_libs

if TYPE_CHECKING:
    from ..context import Client, ServerContext

INT64_MIN = -(2**63)
MAX_REPLY_DEPTH = 200  # nesting of a script's reply before "reached lua stack limit"
LOG_LEVELS = ("debug", "verbose", "notice", "warning")

# script flags (shebang / register_function)
FLAG_NO_WRITES = 1
FLAG_ALLOW_OOM = 2
FLAG_ALLOW_STALE = 4
FLAG_NO_CLUSTER = 8
FLAG_ALLOW_CROSS_SLOT = 16
FLAG_EVAL_COMPAT = 32
FLAG_NAMES = {"no-writes": FLAG_NO_WRITES, "allow-oom": FLAG_ALLOW_OOM, "allow-stale": FLAG_ALLOW_STALE,
              "no-cluster": FLAG_NO_CLUSTER, "allow-cross-slot-keys": FLAG_ALLOW_CROSS_SLOT}


def _version_num(v: str) -> int:
    parts = [int(x) for x in v.split(".")[:3]]
    return (parts[0] << 16) | (parts[1] << 8) | parts[2]


class RunCtx:
    """One script invocation (scriptRunCtx)."""

    __slots__ = ("caller", "funcname", "read_only", "write_dirty", "repl_flags", "start", "timed_out",
                 "killed", "eval_mode", "flags")

    def __init__(self, caller: Client, funcname: str, flags: int, read_only: bool, eval_mode: bool) -> None:
        self.caller = caller
        self.funcname = funcname
        self.flags = flags
        self.read_only = read_only
        self.write_dirty = False
        self.repl_flags = 3
        self.start = time.monotonic()
        self.timed_out = False
        self.killed = False
        self.eval_mode = eval_mode


class Lrand48:
    """redisLrand48/redisSrand48: the 48-bit LCG of rand.c (same sequence on every platform)."""

    __slots__ = ("x",)

    def __init__(self) -> None:
        self.x = 0x1234ABCD330E

    def seed(self, v: int) -> None:
        self.x = (((v & 0xFFFFFFFF) << 16) | 0x330E) & 0xFFFFFFFFFFFF

    def next(self) -> int:
        self.x = (0x5DEECE66D * self.x + 0xB) & 0xFFFFFFFFFFFF
        return self.x >> 17


class ScriptError(Exception):
    """Raised by a Python API function to raise a Lua error whose value is ``table`` (an error table)."""

    def __init__(self, table: Any) -> None:
        super().__init__("script error")
        self.table = table

    def __str__(self) -> str:
        try:
            return self.table[b"err"].decode("utf-8", "replace")
        except Exception:
            return "script error"


def server_allows_deny_script(server: ServerContext) -> bool:
    """DEBUG SET-DISABLE-DENY-SCRIPTS 1: scripts may run commands flagged noscript."""
    return bool(server.extras.get("script_disable_deny_script"))


def _unwrap(e: Any) -> Any:
    """What a Python exception raised into Lua carries: (error table, False) or (message, True)."""
    if isinstance(e, ScriptError):
        return e.table, False
    if isinstance(e, LibError):
        return str(e).encode(), True
    return None, False


# redisLrand48's state is a process-wide static in Redis: one sequence for every script
RAND: Lrand48


class LuaEngine:
    """A Lua state with Redis' sandbox and API, and the client its commands run as."""

    def __init__(self, server: ServerContext, functions: bool = False) -> None:
        from ..context import Client

        self.server = server
        self.ctx: RunCtx | None = None
        self.rand = RAND
        client = Client(server, addr="", fd=-2)
        client.authenticated = True
        client.in_exec = True  # blocking commands answer at once; ready keys are served after the script
        client.name = None
        self.client = client
        # set while a library is being loaded (FUNCTION LOAD): register_function's target
        self.loading_library: Any = None
        self.load_deadline = 0.0
        lua = lupa51.LuaRuntime(encoding=None, unpack_returned_tuples=True, register_eval=False,
                                register_builtins=False)
        self.lua = lua
        self.table_from = lua.table_from
        helpers: dict[bytes, Any] = {
            b"call": self._call_raise,
            b"pcall": self._call_noraise,
            b"unwrap": _unwrap,
            b"sha1hex": self._sha1hex,
            b"log": self._log,
            b"running": lambda: self.ctx is not None,
            b"setresp": self._setresp,
            b"setrepl": self._setrepl,
            b"acl_check": self._acl_check_raise,
            b"random": self._random,
            b"randomseed": self._randomseed,
            b"hook": self._hook,
            b"version": REDIS_VERSION.encode(),
            b"version_num": _version_num(REDIS_VERSION),
            b"libs": None,
        }
        if functions:
            helpers[b"register_function"] = self._register_function
        loadstring = lua.eval("loadstring")
        P = lua.table_from(helpers)
        P[b"libs"] = make_libs(lua)
        boot = loadstring(BOOT.encode(), b"=fastredis")
        if isinstance(boot, tuple):
            raise RuntimeError("Lua bootstrap failed: %r" % (boot,))
        api = boot(P)
        self.run_eval = api[b"run_eval"]
        self.run_function = api[b"run_function"]
        self.compile_chunk = api[b"compile"]
        self.classify = api[b"classify"]
        self.errinfo = api[b"errinfo"]
        self.err_table = api[b"err_table"]
        self.sethook = api[b"sethook"]
        self.clearhook = api[b"clearhook"]
        self.load_library = api[b"load_library"]
        self.mk = api[b"mk"]
        self.mk_verbatim = api[b"mk_verbatim"]
        self.mk_set = api[b"mk_set"]
        self.gc_count = api[b"gc_count"]
        self._lua_type = lupa51.lua_type
        # the count hook stays installed (setting it per call costs more than the hook): it
        # calls _hook every 100k instructions, which does nothing unless a script is too slow
        self.sethook(100000, b"Script killed by user with SCRIPT KILL...")

    def reset_hook(self) -> None:
        """Back to the count hook of running scripts (after a kill left a line hook that fails
        everything, or a FUNCTION LOAD set its own): the C sethook first, so no Lua line runs
        under the old hook."""
        self.clearhook()
        self.sethook(100000, b"Script killed by user with SCRIPT KILL...")

    # -- memory ----------------------------------------------------------------

    def used_memory(self) -> int:
        return int(self.gc_count() * 1024)

    # -- compile and run -------------------------------------------------------

    def compile(self, body: bytes, chunkname: bytes = b"@user_script") -> Any:
        """The compiled chunk, or the Lua error message (bytes) when it does not compile."""
        f = self.compile_chunk(body, chunkname)
        if isinstance(f, tuple):
            err = f[1]
            return err if isinstance(err, bytes) else str(err).encode()
        return f

    def run(self, c: Client, fn: Any, funcname: str, flags: int, read_only: bool, eval_mode: bool,
            argv: list[bytes], numkeys: int) -> Any:
        """Run a compiled script or function for ``c`` with keys and args from ``argv[3:]``;
        the reply value (or ReplyError)."""
        server = self.server
        state = server.scripting
        ctx = RunCtx(c, funcname, flags, read_only, eval_mode)
        lc = self.client
        lc.db = c.db
        lc.resp = 2
        lc.user = c.user
        self.ctx = ctx
        hook = server.propagate_hook
        collected: list[tuple[int, list[bytes]]] | None = None
        if hook is not None:
            collected = []
            server.propagate_hook = lambda dbid, argv: collected.append((dbid, argv))  # type: ignore
        state.running = self
        try:
            if eval_mode:
                res = self.run_eval(fn, numkeys, *argv[3:])
            else:
                res = self.run_function(fn, numkeys, *argv[3:])
        finally:
            state.running = None
            if hook is not None:
                server.propagate_hook = hook
            self.ctx = None
            lc.db = server.dbs[0]
            if ctx.timed_out:
                state.end_busy()
            if ctx.killed:
                self.reset_hook()
        if collected:
            self._propagate(c, ctx, collected, hook)
        if type(res) is not tuple:
            res = (res,)
        if res[0]:
            return self.to_reply(res[1] if len(res) > 1 else None, lc.resp, c.resp)
        return self._error_reply(res[1] if len(res) > 1 else None, funcname)

    def _propagate(self, c: Client, ctx: RunCtx, collected: list[tuple[int, list[bytes]]], hook: Any) -> None:
        if ctx.repl_flags == 0:
            return
        wrap = len(collected) > 1 and not c.in_exec
        if wrap:
            hook(collected[0][0], [b"MULTI"])
        for dbid, argv in collected:
            hook(dbid, argv)
        if wrap:
            hook(collected[-1][0], [b"EXEC"])

    def _error_reply(self, err: Any, funcname: str) -> ReplyError:
        info = self.errinfo(err)
        if not isinstance(info, tuple):
            info = (info, None, None, None)
        msg, source, line, ignore = (tuple(info) + (None, None, None))[:4]
        if msg is None:
            return ReplyError(b"ERR Error running script %s, execution failure" % funcname.encode())
        msg = _tobytes(msg)
        if line is not None and source is not None:
            msg += b" script: %s, on %s:%s." % (funcname.encode(), _tobytes(source), _tobytes(line))
        reply = ReplyError(_oneline(msg))
        if ignore:
            self.server.uncounted_error = reply
        return reply

    # -- redis.call / pcall ----------------------------------------------------

    def _call_raise(self, *args: Any) -> Any:
        failed, r = self._redis_call(args)
        if failed:
            raise ScriptError(r)
        return r

    def _call_noraise(self, *args: Any) -> Any:
        return self._redis_call(args)[1]

    def _acl_check_raise(self, *args: Any) -> Any:
        if self.ctx is None:
            raise ScriptError(self.err_table(b"redis.acl_check_cmd can only be called inside a script invocation"))
        failed, r = self._acl_check(*args)
        if failed:
            raise ScriptError(r)
        return r

    def _err(self, msg: bytes) -> tuple[bool, Any]:
        return True, self.err_table(msg)

    def _redis_call(self, args: tuple[Any, ...]) -> tuple[bool, Any]:
        ctx = self.ctx
        if ctx is None:
            return self._err(b"redis.call/pcall can only be called inside a script invocation")
        if not args:
            return self._err(b"Please specify at least one argument for this redis lib call")
        argv: list[bytes] = []
        for a in args:
            t = type(a)
            if t is bytes:
                argv.append(a)
            elif t is int or t is float:
                argv.append(b"%.17g" % a)
            else:
                return self._err(b"Lua redis lib command arguments must be strings or integers")
        lc = self.client
        cmd = _executor.command_named(argv[0])
        if cmd is not None and cmd.subcommands and len(argv) >= 2:
            cmd = cmd.subcommands.get(argv[1].lower())
        if cmd is None:
            return self._reject(None, b"Unknown Redis command called from script")
        n = len(argv)
        if (cmd.arity > 0 and n != cmd.arity) or n < -cmd.arity:
            return self._reject(cmd, b"Wrong number of args calling Redis command from script")
        flags = cmd.flags
        if "noscript" in flags and not server_allows_deny_script(self.server):
            return self._reject(cmd, b"This Redis command is not allowed from script")
        server = self.server
        caller = ctx.caller
        if server.is_replica_of_master and "stale" not in flags and not caller.is_master and \
                not server.extras.get("master_link_up") and not server.config["replica-serve-stale-data"] \
                and not ctx.flags & FLAG_ALLOW_STALE:
            return self._reject(cmd, b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data "
                                     b"is set to 'no'.")
        if caller.acl_restricted:
            denied = _acl.check_for(caller, cmd, argv)
            if denied is not None:
                return self._reject(cmd, b"ACL failure in script: " + denied)
        write = "write" in flags
        if ctx.read_only and (write or "may-replicate" in flags):
            return self._reject(cmd, b"Write commands are not allowed from read-only scripts.")
        if write and not ctx.write_dirty:
            if server.is_replica_of_master and server.config["replica-read-only"] and not caller.is_master:
                return self._reject(cmd, b"-READONLY You can't write against a read only replica.")
            if server.write_gates and not caller.is_master:
                for gate in server.write_gates:
                    err = gate(lc)
                    if err is not None:
                        _executor.reject(lc, cmd, err)
                        return True, self._counted_err(b"-" + err.message)
        if write:
            ctx.write_dirty = True
        reply = _executor.call(lc, cmd, argv)
        if type(reply) is ReplyError:
            return True, self._counted_err(b"-" + reply.message)
        return False, self.to_lua(reply, lc.resp)

    def _counted_err(self, msg: bytes) -> Any:
        """The error table of a command's error: already in errorstats, so the script's error
        reply that carries it is not counted again (ignore_error_stats_update)."""
        t = self.err_table(msg)
        t[b"ignore_error_stats_update"] = True
        return t

    def _reject(self, cmd: Any, msg: bytes) -> tuple[bool, Any]:
        t = self._counted_err(msg)
        _executor.reject(self.client, cmd, ReplyError(t[b"err"]))
        return True, t

    def _acl_check(self, *args: Any) -> tuple[bool, Any]:
        if not args:
            return self._err(b"Please specify at least one argument for this redis lib call")
        argv: list[bytes] = []
        for a in args:
            t = type(a)
            if t is bytes:
                argv.append(a)
            elif t is int or t is float:
                argv.append(b"%.17g" % a)
            else:
                return self._err(b"Lua redis lib command arguments must be strings or integers")
        from ..commands.table import lookup

        cmd = lookup(argv)
        if cmd is None or (cmd.subcommands and len(argv) >= 2):
            return self._err(b"Invalid command passed to redis.acl_check_cmd()")
        check = self.server.extras.get("acl_check_cmd")
        if check is None or self.ctx is None:
            return False, True
        return False, bool(check(self.ctx.caller, cmd, argv))

    def _raise(self, msg: bytes) -> Any:
        raise ScriptError(self.err_table(msg))

    def _sha1hex(self, *args: Any) -> bytes:
        if len(args) != 1:
            self._raise(b"wrong number of arguments")
        v = args[0]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = b"%.14g" % v
        return hashlib.sha1(v if isinstance(v, bytes) else b"").hexdigest().encode()

    def _log(self, *args: Any) -> None:
        if len(args) < 2:
            self._raise(b"redis.log() requires two arguments or more.")
        level = _tonumber(args[0])
        if level is None:
            raise ScriptError(self.err_table(b"First argument must be a number (log level)."))
        lvl = int(level) if math.isfinite(level) else -1
        if lvl < 0 or lvl > 3:
            self._raise(b"Invalid debug level.")
        parts = []
        for j, a in enumerate(args[1:], 1):
            if isinstance(a, (int, float)) and not isinstance(a, bool):
                a = b"%.14g" % a
            if isinstance(a, bytes):
                if j != 1:
                    parts.append(b" ")
                parts.append(a)
        self.server.log(LOG_LEVELS[lvl], b"".join(parts).decode("utf-8", "replace"))

    def _setresp(self, *args: Any) -> None:
        if self.ctx is None:
            self._raise(b"redis.setresp can only be called inside a script invocation")
        if len(args) != 1:
            self._raise(b"redis.setresp() requires one argument.")
        v = _tonumber(args[0])
        resp = int(v) if v is not None and math.isfinite(v) else 0
        if resp not in (2, 3):
            self._raise(b"RESP version must be 2 or 3.")
        self.client.resp = resp

    def _setrepl(self, *args: Any) -> None:
        ctx = self.ctx
        if ctx is None:
            raise ScriptError(self.err_table(b"redis.set_repl can only be called inside a script invocation"))
        if len(args) != 1:
            self._raise(b"redis.set_repl() requires two arguments.")
        v = _tonumber(args[0])
        flags = int(v) if v is not None and math.isfinite(v) else 0
        if flags & ~3:
            self._raise(b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
        ctx.repl_flags = flags

    def _random(self, *args: Any) -> float:
        if self.ctx is None:
            raise LibError("math.random can only be called inside a script invocation")
        r = (self.rand.next() % 2147483647) / 2147483647
        if not args:
            return r
        if len(args) == 1:
            u = check_int("random", args, 1)
            if u < 1:
                raise LibError("bad argument #1 to 'random' (interval is empty)")
            return math.floor(r * u) + 1
        if len(args) == 2:
            lo = check_int("random", args, 1)
            hi = check_int("random", args, 2)
            if lo > hi:
                raise LibError("bad argument #2 to 'random' (interval is empty)")
            return math.floor(r * (hi - lo + 1)) + lo
        raise LibError("wrong number of arguments")

    def _randomseed(self, *args: Any) -> None:
        if self.ctx is None:
            raise LibError("math.randomseed can only be called inside a script invocation")
        self.rand.seed(check_int("randomseed", args, 1))

    def _hook(self) -> bool:
        ctx = self.ctx
        if ctx is None or not self.server.config["busy-reply-threshold"]:
            if ctx is not None:
                return ctx.killed
            return bool(self.load_deadline) and time.monotonic() > self.load_deadline
        return scripting_state(self.server).interrupt(self, ctx)

    def _register_function(self, *args: Any) -> None:
        lib = self.loading_library
        if lib is None:
            raise ScriptError(self.err_table(b"redis.register_function can only be called on FUNCTION LOAD command"))
        from .functions import register_function

        err = register_function(self, lib, args)
        if err is not None:
            raise ScriptError(self.err_table(err))

    # -- conversions -----------------------------------------------------------

    def to_lua(self, v: Any, resp: int) -> Any:
        """A handler's reply value as the Lua value redis.call returns (redisProtocolToLuaType)."""
        t = type(v)
        if t is bytes or t is int:
            return v
        if v is None or t is Nil:
            return False if resp == 2 else None
        if t is list or t is tuple or t is Push:
            return self.table_from([self.to_lua(x, resp) for x in v])
        if t is Status:
            return self.mk(b"ok", bytes(v))
        if t is Raw:
            return self.to_lua(_parse_raw(bytes(v)), resp)
        if t is ReplyError:
            return self.err_table(b"-" + v.message)
        if t is bytearray or t is memoryview:
            return bytes(v)
        if t is str:
            return v.encode()
        if t is bool:
            if resp == 2:
                return 1 if v else 0
            return v
        if t is float:
            if resp == 2:
                return format_double(v)
            return self.mk(b"double", v)
        if t is dict:
            if resp == 2:
                flat: list[Any] = []
                for k, x in v.items():
                    flat.append(self.to_lua(k, resp))
                    flat.append(self.to_lua(x, resp))
                return self.table_from(flat)
            m = self.lua.table()
            for k, x in v.items():
                m[self.to_lua(k, resp)] = self.to_lua(x, resp)
            return self.mk(b"map", m)
        if t is SetReply:
            items = [self.to_lua(x, resp) for x in v]
            if resp == 2:
                return self.table_from(items)
            return self.mk_set(self.table_from(items))
        if t is Verbatim:
            if resp == 2:
                return bytes(v)
            return self.mk_verbatim(b"txt", bytes(v))
        if t is BigNumber:
            if resp == 2:
                return bytes(v)
            return self.mk(b"big_number", bytes(v))
        if isinstance(v, bytes):
            return bytes(v)
        if isinstance(v, int):
            return int(v)
        if isinstance(v, list):
            return self.table_from([self.to_lua(x, resp) for x in v])
        return False if resp == 2 else None

    def to_reply(self, v: Any, script_resp: int, client_resp: int, depth: int = 0) -> Any:
        """A Lua value as the reply sent to the client (luaReplyToRedisReply)."""
        t = type(v)
        if t is bytes:
            return v
        if t is int:
            return v if INT64_MIN <= v < 2**63 else INT64_MIN
        if t is float:
            if math.isfinite(v) and -9.223372036854776e18 <= v < 9.223372036854776e18:
                return int(v)
            return INT64_MIN
        if t is bool:
            if script_resp == 2:
                return 1 if v else None
            return v
        if self._lua_type(v) != "table":
            return None
        if depth >= MAX_REPLY_DEPTH:  # a table that contains itself: Redis runs out of Lua stack
            return ReplyError("ERR reached lua stack limit")
        depth += 1
        info = self.classify(v)
        kind = info[0]
        if kind == b"arr":
            return [self.to_reply(x, script_resp, client_resp, depth) for x in info[2:]]
        if kind == b"err":
            err = ReplyError(_oneline(info[1]))
            if info[2]:
                self.server.uncounted_error = err
            return err
        if kind == b"ok":
            return Status(info[1].replace(b"\r", b" ").replace(b"\n", b" "))
        if kind == b"double":
            return float(info[1])
        if kind == b"big":
            return BigNumber(info[1].replace(b"\r", b" ").replace(b"\n", b" "))
        if kind == b"verb":
            fmt, s = info[1], info[2]
            if client_resp == 2:
                return s
            if fmt == b"txt":
                return Verbatim(s)
            return Raw(b"=%d\r\n%s:%s\r\n" % (len(s) + 4, fmt[:3].ljust(3), s))
        if kind == b"map":
            out: dict[Any, Any] = {}
            for k, x in info[1].items():
                out[_hashable(self.to_reply(k, script_resp, client_resp, depth))] = \
                    self.to_reply(x, script_resp, client_resp, depth)
            return out
        if kind == b"set":
            return SetReply([self.to_reply(k, script_resp, client_resp, depth) for k in info[1].keys()])
        # a long array: element by element
        t_ = v
        return [self.to_reply(t_[i], script_resp, client_resp, depth) for i in range(1, info[1] + 1)]


RAND = Lrand48()


def _tonumber(v: Any) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, bytes):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple((k, _hashable(x)) for k, x in v.items())
    return v


def _tobytes(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, float):
        return (b"%.14g" % v)
    return str(v).encode()


def _oneline(msg: bytes) -> bytes:
    return msg.replace(b"\r\n", b"  ").replace(b"\n", b" ").replace(b"\r", b" ")


def _parse_raw(data: bytes) -> Any:
    """Decode a pre-encoded reply (``Raw``) into reply values (the few shapes handlers use)."""
    if not data:
        return None
    value, _ = _parse_at(data, 0)
    return value


def _parse_at(data: bytes, pos: int) -> tuple[Any, int]:
    end = data.index(b"\r\n", pos)
    kind = data[pos:pos + 1]
    line = data[pos + 1:end]
    nxt = end + 2
    if kind == b"+":
        return Status(line), nxt
    if kind == b"-":
        return ReplyError(line), nxt
    if kind == b":":
        return int(line), nxt
    if kind in (b"$", b"="):
        n = int(line)
        if n < 0:
            return None, nxt
        s = data[nxt:nxt + n]
        if kind == b"=":
            return Verbatim(s[4:]), nxt + n + 2
        return s, nxt + n + 2
    if kind == b"_":
        return None, nxt
    if kind == b",":
        return float(line), nxt
    if kind == b"#":
        return line == b"t", nxt
    if kind == b"(":
        return BigNumber(line), nxt
    if kind in (b"*", b"~", b">"):
        n = int(line)
        if n < 0:
            return NULL_ARRAY, nxt
        items = []
        for _ in range(n):
            v, nxt = _parse_at(data, nxt)
            items.append(v)
        return (SetReply(items) if kind == b"~" else items), nxt
    if kind == b"%":
        n = int(line)
        out: dict[Any, Any] = {}
        for _ in range(n):
            k, nxt = _parse_at(data, nxt)
            v, nxt = _parse_at(data, nxt)
            out[_hashable(k)] = v
        return out, nxt
    return None, nxt


def scripting_state(server: ServerContext) -> Any:
    """The server's scripting state (created on first use)."""
    st = server.scripting
    if st is None:
        from .scripts import ScriptingState

        st = server.scripting = ScriptingState(server)
    return st
