"""The public API for commands written in Python (``loadmodule mod.py``, ``MODULE LOAD mod.py``).

A module is a Python file::

    from fastredis.module import command, call

    NAME = "hello"        # optional: the file name otherwise
    VERSION = 1

    @command("hello.incr2", 2, "write denyoom", keys=(1, 1, 1), summary="Adds 2 to a counter.")
    def incr2(c, argv):
        return call(c, "INCRBY", argv[1], 2)

    def on_load(args):      # optional: the words after the path; raise to refuse loading
        ...

    def on_unload():        # optional
        ...

``command`` takes what the built-in table takes (``fastredis.commands.table.command``): the name,
the arity (negative: at least), Redis' command flags, key positions ``(first, last, step)`` or a
``key_finder``, and the documentation fields. Handlers get the client context (``c.db`` is the
selected database, see HACKING.md for its API) and argv as bytes, and return reply values as
built-in handlers do (``bytes``, ``int``, ``None``, lists, ``dict``, ``OK``, ``Status``,
``ReplyError``...).

What replicas and the AOF receive, like Redis' ``RM_Call``/``RM_Replicate``:

- writes made through ``call(c, ...)`` are propagated as themselves (wrapped in MULTI/EXEC when
  there are several), so replicas need not load the module;
- ``replicate(c, ...)`` adds a command of your choosing to what is propagated;
- a command that neither calls nor replicates but changes the dataset directly (``c.db.set``)
  and is flagged ``write`` is propagated verbatim: its replicas must load the module too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._resp import NULL_ARRAY, OK, BigNumber, Push, ReplyError, SetReply, Status, Verbatim

if TYPE_CHECKING:
    from .context import Client

__all__ = [
    "NULL_ARRAY", "OK", "BigNumber", "Declaration", "Push", "ReplyError", "SetReply", "Status",
    "Verbatim", "call", "command", "replicate",
]

Handler = Callable[["Client", list[bytes]], Any]


class Declaration:
    """One ``@command`` of a module file, registered in the command table when the file loads."""

    def __init__(self, name: str, handler: Handler, arity: int, flags: str, keys: tuple[int, int, int],
                 key_finder: Callable[[list[bytes]], list[int]] | None, summary: str, since: str,
                 complexity: str, acl: str) -> None:
        self.name = name.lower()
        self.handler = handler
        self.arity = arity
        self.flags = flags
        self.keys = keys
        self.key_finder = key_finder
        self.summary = summary
        self.since = since
        self.complexity = complexity
        self.acl = acl


# the declarations of the file being loaded (module_loader sets it around the file's execution)
collecting: list[Declaration] | None = None


def command(name: str, arity: int, flags: str = "", keys: tuple[int, int, int] = (0, 0, 0), *,
            key_finder: Callable[[list[bytes]], list[int]] | None = None, summary: str = "",
            since: str = "1.0.0", complexity: str = "", acl: str = "") -> Callable[[Handler], Handler]:
    """Declare a command of this module (same arguments as the built-in table's ``command``)."""
    if not isinstance(arity, int) or arity == 0:
        raise ValueError("arity must be a non-zero integer")
    if not name or " " in name or "|" in name:
        raise ValueError(f"invalid command name {name!r}")

    def deco(fn: Handler) -> Handler:
        if collecting is None:
            raise RuntimeError("fastredis.module.command is used in a module file loaded by the server "
                               "(loadmodule / MODULE LOAD)")
        collecting.append(Declaration(name, fn, arity, flags, keys, key_finder,
                                      summary or (fn.__doc__ or "").strip().split("\n")[0], since,
                                      complexity, acl))
        return fn

    return deco


def _arg(a: Any) -> bytes:
    if isinstance(a, bytes):
        return a
    if isinstance(a, (bytearray, memoryview)):
        return bytes(a)
    if isinstance(a, str):
        return a.encode()
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        return repr(a).encode() if isinstance(a, float) else str(a).encode()
    raise TypeError(f"command arguments are bytes, str or numbers, not {type(a).__name__}")


def call(c: Client, *args: Any) -> Any:
    """Run a command as the client ``c`` (like ``RM_Call``) and return its reply value.

    Raises ``ReplyError`` when the command answers an error. Blocking commands do not block
    (they answer as inside MULTI/EXEC)."""
    from . import module_loader

    return module_loader.call(c, [_arg(a) for a in args])


def replicate(c: Client, *args: Any) -> None:
    """Propagate this command to replicas and the AOF after the module command (``RM_Replicate``)."""
    from . import module_loader

    module_loader.replicate(c, [_arg(a) for a in args])
