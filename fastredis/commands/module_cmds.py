"""MODULE LOAD/LOADEX/UNLOAD/LIST/HELP over Python modules of commands (see ``module_loader``).

LOAD, LOADEX and UNLOAD need ``enable-module-command`` (``yes``, or ``local`` from a loopback or
unix socket client) like Redis; a failed load answers Redis' generic error and logs the reason,
except a native ``.so`` module, whose refusal says why in the reply too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError
from ..module_loader import LOAD_ERROR, MODULES, NATIVE_ERROR, ModuleLoadError, is_native, load, unload
from ._help import help_lines
from .table import container, subcommand

if TYPE_CHECKING:
    from ..context import Client

NOT_ALLOWED = ReplyError(
    'ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run '
    "it from a local connection, otherwise you need to set this option in the configuration file, and "
    "then restart the server.")

container("module", -2, group="server", since="4.0.0", summary="A container for module commands.")


def _check_allowed(c: Client) -> None:
    from .config_cmds import protected_allowed

    if not protected_allowed(c, "enable-module-command"):
        raise NOT_ALLOWED


def _load(c: Client, path: bytes, args: list[bytes], configs: dict[bytes, bytes] | None = None) -> Any:
    spath = path.decode("utf-8", "surrogateescape")
    try:
        mod = load(c.server, spath, args, configs)
    except ModuleLoadError as e:
        c.server.log("warning", f"Module {spath} failed to load: {e}")
        if is_native(spath):
            return ReplyError(f"ERR Error loading the extension. {NATIVE_ERROR}")
        return LOAD_ERROR
    c.server.log("notice", f"Module '{mod.name}' loaded from {spath}")
    return OK


@subcommand("module", "load", -3, "admin noscript no-async-loading", since="4.0.0",
            summary="Loads a module.", complexity="O(1)")
def module_load(c: Client, argv: list[bytes]) -> Any:
    _check_allowed(c)
    return _load(c, argv[2], argv[3:])


@subcommand("module", "loadex", -3, "admin noscript no-async-loading", since="7.0.0",
            summary="Loads a module using extended parameters.", complexity="O(1)")
def module_loadex(c: Client, argv: list[bytes]) -> Any:
    _check_allowed(c)
    configs: dict[bytes, bytes] = {}
    args: list[bytes] = []
    i = 3
    while i < len(argv):
        word = argv[i].lower()
        if word == b"config" and i + 2 < len(argv):
            configs[argv[i + 1]] = argv[i + 2]
            i += 3
        elif word == b"args":
            args = argv[i + 1:]
            break
        else:
            c.server.log("warning", "Module Load Arguments parse error")
            return LOAD_ERROR
    return _load(c, argv[2], args, configs)


@subcommand("module", "unload", 3, "admin noscript no-async-loading", since="4.0.0",
            summary="Unloads a module.", complexity="O(1)")
def module_unload(c: Client, argv: list[bytes]) -> Any:
    _check_allowed(c)
    name = argv[2].decode("utf-8", "surrogateescape")
    try:
        unload(c.server, name)
    except ModuleLoadError as e:
        raise ReplyError(f"ERR Error unloading module: {e}") from None
    c.server.log("notice", f"Module {name} unloaded")
    return OK


@subcommand("module", "list", 2, "admin noscript", since="4.0.0", summary="Returns all loaded modules.",
            complexity="O(N) where N is the number of loaded modules.")
def module_list(c: Client, argv: list[bytes]) -> Any:
    return [{b"name": m.name.encode(), b"ver": m.version, b"path": m.path.encode(), b"args": list(m.args)}
            for m in MODULES.values()]


@subcommand("module", "help", 2, "loading stale", since="5.0.0", summary="Returns helpful text about the different subcommands.",
            complexity="O(1)")
def module_help(c: Client, argv: list[bytes]) -> Any:
    return help_lines("MODULE", [
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
    ])


def _tips() -> None:
    from .command_cmds import TIPS

    TIPS["module|list"] = ("nondeterministic_output_order",)


_tips()
