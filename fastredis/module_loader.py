"""Loading and unloading Python modules of commands (``loadmodule``, ``MODULE LOAD/LOADEX/UNLOAD``).

A module's commands go into the one command table (``commands.table.COMMANDS``) as ordinary
``Command`` entries with group ``module`` and the module's name, so COMMAND INFO/DOCS/LIST, ACL
categories, INFO commandstats and the executor's checks treat them like built-in commands; they
never take the dispatcher's fast path (their group is not a data group), so loading or unloading
only has to clear the executor's name cache.

Propagation follows Redis' RM_Call: while a module command runs, what its ``call()``s propagate is
collected (the propagation hook is swapped for a collector) and sent afterwards as itself, wrapped
in MULTI/EXEC when there are several writes; only a command that wrote without ``call()`` is
propagated verbatim.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import module as api
from ._resp import ReplyError
from .commands.table import COMMANDS, Command

if TYPE_CHECKING:
    from .context import Client, ServerContext

LOAD_ERROR = ReplyError("ERR Error loading the extension. Please check the server logs.")
NATIVE_ERROR = ("fastredis cannot load native Redis modules (.so); it loads modules written in Python "
                "(.py files declaring commands with fastredis.module)")


class ModuleLoadError(Exception):
    """Why a module could not be loaded (logged as Redis does: 'Module X failed to load: why')."""


class LoadedModule:
    def __init__(self, name: str, version: int, path: str, args: list[bytes], namespace: Any,
                 commands: list[Command]) -> None:
        self.name = name
        self.version = version
        self.path = path
        self.args = args
        self.namespace = namespace
        self.commands = commands


MODULES: dict[str, LoadedModule] = {}
_serial = 0


def _forget_names() -> None:
    from . import executor

    executor._by_name.clear()


def is_native(path: str) -> bool:
    if path.endswith((".so", ".dylib", ".dll")):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def load(ctx: ServerContext, path: str, args: list[bytes], configs: dict[bytes, bytes] | None = None) -> LoadedModule:
    """Run the file, register its commands, call its ``on_load``; raises ModuleLoadError."""
    global _serial
    if is_native(path):
        raise ModuleLoadError(NATIVE_ERROR)
    if not os.path.isfile(path):
        raise ModuleLoadError(f"{path}: cannot open module file: No such file or directory")
    _serial += 1
    modname = f"fastredis_module_{_serial}"
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise ModuleLoadError(f"{path}: not a Python module file (expected a .py file)")
    namespace = importlib.util.module_from_spec(spec)
    declared: list[api.Declaration] = []
    api.collecting = declared
    try:
        spec.loader.exec_module(namespace)
    except BaseException as e:  # noqa: BLE001  (SystemExit in a module file must not stop the server)
        raise ModuleLoadError(_describe(e)) from None
    finally:
        api.collecting = None
    name = getattr(namespace, "NAME", None) or os.path.splitext(os.path.basename(path))[0]
    if not isinstance(name, str) or not name or any(ch.isspace() for ch in name):
        raise ModuleLoadError(f"invalid module name {name!r}")
    if name in MODULES:
        raise ModuleLoadError(f"a module named '{name}' is already loaded")
    version = getattr(namespace, "VERSION", 1)
    if not isinstance(version, int):
        raise ModuleLoadError("VERSION must be an integer")
    seen: set[str] = set()
    for d in declared:
        if d.name.encode() in COMMANDS or d.name in seen:
            raise ModuleLoadError(f"the command '{d.name}' already exists")
        seen.add(d.name)
    on_load = getattr(namespace, "on_load", None)
    if configs and (on_load is None or len(inspect.signature(on_load).parameters) < 2):
        raise ModuleLoadError("Module Configurations were not set, likely a missing LoadConfigs call. "
                              "Unloading the module.")
    if on_load is not None:
        try:
            ok = on_load(args, configs or {}) if configs else on_load(args)
        except BaseException as e:  # noqa: BLE001
            raise ModuleLoadError(_describe(e)) from None
        if ok is False:
            raise ModuleLoadError("on_load refused to load the module")
    commands = [_register(d, name) for d in declared]
    _forget_names()
    mod = LoadedModule(name, version, os.path.abspath(path), list(args), namespace, commands)
    MODULES[name] = mod
    sys.modules[modname] = namespace  # pickling/dataclasses in the file can find their module
    return mod


def _describe(e: BaseException) -> str:
    if isinstance(e, SyntaxError):
        return f"{type(e).__name__}: {e.msg} ({e.filename}, line {e.lineno})"
    frames = traceback.extract_tb(e.__traceback__)
    where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return f"{type(e).__name__}: {e}{where}"


def _register(d: api.Declaration, module_name: str) -> Command:
    cmd = Command(name=d.name, handler=_propagating(d.handler), arity=d.arity,
                  flags=frozenset(d.flags.split()), first_key=d.keys[0], last_key=d.keys[1], step=d.keys[2],
                  group="module", since=d.since, summary=d.summary, complexity=d.complexity,
                  acl=tuple(d.acl.split()), key_finder=d.key_finder, module=module_name)
    COMMANDS[d.name.encode()] = cmd
    return cmd


def unload(ctx: ServerContext, name: str) -> None:
    """Remove a module's commands (raises ModuleLoadError with Redis' reason)."""
    mod = MODULES.get(name)
    if mod is None:
        raise ModuleLoadError("no such module with that name")
    on_unload = getattr(mod.namespace, "on_unload", None)
    if on_unload is not None:
        try:
            if on_unload() is False:
                raise ModuleLoadError("the module refused to be unloaded")
        except ModuleLoadError:
            raise
        except Exception as e:
            raise ModuleLoadError(_describe(e)) from None
    for cmd in mod.commands:
        COMMANDS.pop(cmd.name.encode(), None)
    _forget_names()
    del MODULES[name]
    for key, value in list(sys.modules.items()):
        if value is mod.namespace:
            del sys.modules[key]


# -- running module commands -----------------------------------------------------------------

class _Frame:
    """The writes collected while one module command runs."""

    __slots__ = ("effects",)

    def __init__(self) -> None:
        self.effects: list[tuple[int, list[bytes]]] = []


_frames: list[_Frame] = []


def _propagating(handler: Callable[[Client, list[bytes]], Any]) -> Callable[[Client, list[bytes]], Any]:
    def run(c: Client, argv: list[bytes]) -> Any:
        server = c.server
        hook = server.propagate_hook
        if hook is None:  # no replica, no AOF: nothing to collect
            return handler(c, argv)
        frame = _Frame()
        _frames.append(frame)
        def collect(dbid: int, a: list[bytes]) -> None:
            frame.effects.append((dbid, a))

        server.propagate_hook = collect
        try:
            reply = handler(c, argv)
        finally:
            if server.propagate_hook is collect:  # not when the command itself turned the AOF on/off
                server.propagate_hook = hook
            _frames.pop()
        effects = frame.effects
        if effects:
            # nested in EXEC, a script (its client has fd -2) or another module command's call(),
            # the caller already wraps what it propagates
            wrap = len(effects) > 1 and not c.in_exec and not _frames and c.fd != -2
            if wrap:
                server.propagate(effects[0][0], [b"MULTI"])
            for dbid, a in effects:
                server.propagate(dbid, a)
            if wrap:
                server.propagate(effects[-1][0], [b"EXEC"])
            c.propagate_argv = []  # what call() would propagate verbatim was sent as its effects
        return reply

    run.__name__ = getattr(handler, "__name__", "module_command")
    run.__doc__ = handler.__doc__
    return run


def call(c: Client, argv: list[bytes]) -> Any:
    from .executor import call as run_command
    from .executor import resolve

    if not argv:
        raise ReplyError("ERR wrong number of arguments for 'call'")
    found = resolve(argv)
    if isinstance(found, ReplyError):
        raise found
    if found.name in ("multi", "exec", "discard", "watch", "subscribe", "psubscribe", "ssubscribe", "monitor"):
        raise ReplyError(f"ERR '{found.fullname}' cannot be called from a module command")
    was_exec = c.in_exec
    c.in_exec = True  # blocking commands answer at once, as inside EXEC
    try:
        reply = run_command(c, found, argv)
    finally:
        c.in_exec = was_exec
    if isinstance(reply, ReplyError):
        raise reply
    return reply


def replicate(c: Client, argv: list[bytes]) -> None:
    if _frames:
        _frames[-1].effects.append((c.db.id, argv))
    elif c.server.propagate_hook is not None:
        c.server.propagate(c.db.id, argv)


# -- INFO modules, MODULE LIST ---------------------------------------------------------------

def info_fields(ctx: ServerContext) -> list[tuple[str, Any]]:
    return [("module", f"name={m.name},ver={m.version},api=1,filters=0,usedby=[],using=[],options=[]")
            for m in MODULES.values()]


def load_queue(ctx: ServerContext, log: Callable[[str, str], None]) -> bool:
    """Load the config's ``loadmodule`` lines at start-up; False (logged) when one fails."""
    for words in getattr(ctx.config, "load_modules", []):
        path, args = words[0], [w.encode("utf-8", "surrogateescape") for w in words[1:]]
        try:
            mod = load(ctx, path, args)
        except ModuleLoadError as e:
            log("warning", f"Module {path} failed to load: {e}")
            log("warning", f"Can't load module from {path}: server aborting")
            return False
        log("notice", f"Module '{mod.name}' loaded from {path}")
    return True
