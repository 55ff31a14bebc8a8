"""Scripting state of a server: the EVAL script cache, the function libraries, the running script.

One ``ScriptingState`` per server (``ServerContext.scripting``), created on first use so a server
that never runs Lua never starts a Lua state.  EVAL scripts live in their own Lua state (reset by
SCRIPT FLUSH, as Redis recreates its interpreter); function libraries in another one (reset by
FUNCTION FLUSH / RESTORE), like Redis' separate eval and function engines.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import executor as _executor
from .._resp import ReplyError, split_args, string2ll
from .lua import FLAG_EVAL_COMPAT, FLAG_NAMES, LuaEngine, RunCtx

if TYPE_CHECKING:
    from ..context import Client, ServerContext

NOSCRIPT = ReplyError("NOSCRIPT No matching script. Please use EVAL.")
NOT_INTEGER = ReplyError("ERR value is not an integer or out of range")


@dataclass
class Script:
    body: bytes
    fn: Any
    flags: int
    name: str = ""  # the sha, as error replies name the script


def parse_shebang(body: bytes, eval_mode: bool = True) -> tuple[int, int, str | None, dict[str, bytes]]:
    """``#!lua [name=x] [flags=a,b]``: (flags, shebang length, error, options) like evalExtractShebangFlags."""
    if not body.startswith(b"#!"):
        return FLAG_EVAL_COMPAT, 0, None, {}
    end = body.find(b"\n")
    if end < 0:
        return 0, 0, "Invalid script shebang", {}
    parts = split_args(body[:end])
    if not parts:
        return 0, 0, "Invalid engine in script shebang", {}
    if parts[0] != b"#!lua":
        if eval_mode:
            return 0, 0, "Unexpected engine in script shebang: %s" % parts[0].decode("utf-8", "replace"), {}
        return 0, 0, "Engine '%s' not found" % parts[0][2:].decode("utf-8", "replace"), {}
    flags = 0
    opts: dict[str, bytes] = {}
    for p in parts[1:]:
        if p.startswith(b"flags="):
            for f in p[6:].split(b","):
                bit = FLAG_NAMES.get(f.decode("utf-8", "replace"))
                if bit is None:
                    return 0, 0, "Unexpected flag in script shebang: %s" % f.decode("utf-8", "replace"), {}
                flags |= bit
        elif not eval_mode and p.startswith(b"name="):
            opts["name"] = p[5:]
        else:
            if eval_mode:
                return 0, 0, "Unknown lua shebang option: %s" % p.decode("utf-8", "replace"), {}
            return 0, 0, "Invalid metadata value given: %s" % p.decode("utf-8", "replace"), {}
    return flags, end, None, opts


class ScriptingState:
    """EVAL cache + function libraries + the busy-script state of one server."""

    def __init__(self, server: ServerContext) -> None:
        self.server = server
        self._eval: LuaEngine | None = None
        self.scripts: dict[bytes, Script] = {}
        self.scripts_bytes = 0
        self.running: LuaEngine | None = None  # the engine whose script runs now (KILL, BUSY)
        self.timed_out_ctx: RunCtx | None = None
        from .functions import Functions

        self.functions = Functions(self)
        server.extras["functions_dump"] = self.functions.codes
        server.extras["functions_restore"] = self.functions.replace_all
        pending = server.extras.pop("rdb_functions", None)
        if pending:
            self.functions.replace_all(list(pending))

    # -- EVAL scripts ----------------------------------------------------------

    @property
    def eval_engine(self) -> LuaEngine:
        if self._eval is None:
            self._eval = LuaEngine(self.server)
        return self._eval

    def create(self, body: bytes) -> tuple[bytes, Script]:
        """Compile and cache ``body`` (luaCreateFunction); raises the compile error."""
        sha = hashlib.sha1(body).hexdigest().encode()
        script = self.scripts.get(sha)
        if script is not None:
            return sha, script
        flags, shebang_len, err, _ = parse_shebang(body)
        if err is not None:
            raise ReplyError("ERR " + err)
        code = body[shebang_len:] if shebang_len else body
        fn = self.eval_engine.compile(code)
        if isinstance(fn, bytes):
            raise ReplyError(b"ERR Error compiling script (new function): " + fn.replace(b"\n", b" "))
        script = Script(body, fn, flags, sha.decode())
        self.scripts[sha] = script
        self.scripts_bytes += len(body)
        return sha, script

    def flush(self) -> None:
        self.scripts = {}
        self.scripts_bytes = 0
        self._eval = None

    def eval(self, c: Client, argv: list[bytes], evalsha: bool, ro: bool) -> Any:
        if c.server.monitors:
            _executor.feed_monitors(c, argv)
        if evalsha and len(argv[1]) != 40:
            raise NOSCRIPT
        numkeys = string2ll(argv[2])
        if numkeys is None:
            raise NOT_INTEGER
        if numkeys > len(argv) - 3:
            raise ReplyError("ERR Number of keys can't be greater than number of args")
        if numkeys < 0:
            raise ReplyError("ERR Number of keys can't be negative")
        if evalsha:
            sha = argv[1]
            script = self.scripts.get(sha)
            if script is None:
                sha = sha.lower()
                script = self.scripts.get(sha)
                if script is None:
                    raise NOSCRIPT
        else:
            sha, script = self.create(argv[1])
        if not script.flags & FLAG_EVAL_COMPAT or c.server.is_replica_of_master:
            self.prepare(c, script.flags, ro)
        read_only = ro or (not script.flags & FLAG_EVAL_COMPAT and bool(script.flags & 1))
        return self.eval_engine.run(c, script.fn, script.name, script.flags, read_only, True, argv, numkeys)

    def prepare(self, c: Client, flags: int, ro: bool) -> None:
        """scriptPrepareForRun's checks: errors raised before the script starts."""
        server = c.server
        if not (server.is_replica_of_master or server.write_gates or (ro and not flags & 1)):
            return
        running_stale = server.is_replica_of_master and not server.extras.get("master_link_up") and \
            not server.config["replica-serve-stale-data"]
        if flags & FLAG_EVAL_COMPAT:
            if running_stale:
                raise ReplyError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
            return
        if running_stale and not flags & 4:
            raise ReplyError("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' "
                             "and 'allow-stale' flag is not set on the script.")
        if not flags & 1:
            if server.is_replica_of_master and server.config["replica-read-only"] and not c.is_master:
                raise ReplyError("READONLY Can not run script with write flag on readonly replica")
            if server.write_gates and not c.is_master:
                for gate in server.write_gates:
                    err = gate(c)
                    if err is not None:
                        raise err
            if ro:
                raise ReplyError("ERR Can not execute a script with write flag using *_ro command.")

    # -- long scripts ------------------------------------------------------------

    def interrupt(self, engine: LuaEngine, ctx: RunCtx) -> bool:
        """Called by the Lua count hook: True when the script must stop (SCRIPT/FUNCTION KILL)."""
        if ctx.killed:
            return True
        busy = self.server.extras.get("busy_hook")
        if not ctx.timed_out:
            elapsed = (time.monotonic() - ctx.start) * 1000
            if elapsed < self.server.config["busy-reply-threshold"]:
                return False
            self.server.log("warning", "Slow script detected: still in execution after %d milliseconds. "
                            "You can try killing the script using the %s command. Script name is: %s."
                            % (elapsed, "SCRIPT KILL" if ctx.eval_mode else "FUNCTION KILL", ctx.funcname))
            ctx.timed_out = True
            self.timed_out_ctx = ctx
        if busy is not None:
            busy(self, ctx)
        return ctx.killed

    def end_busy(self) -> None:
        self.timed_out_ctx = None
        done = self.server.extras.get("busy_done")
        if done is not None:
            done(self)

    def memory_lua(self) -> int:
        return self._eval.used_memory() if self._eval is not None else 0
