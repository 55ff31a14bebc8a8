"""The declarative command table.

Every command is declared once with ``@command(...)``: name, arity (negative =
at least), flags, key positions (first, last, step), group and summary.  Arity
errors, COMMAND INFO/DOCS/GETKEYS, and key extraction for WATCH, replication
and blocking all read this table.  Container commands (CONFIG, CLIENT, OBJECT...)
declare their subcommands with ``@subcommand(...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._resp import ReplyError

if TYPE_CHECKING:
    from ..context import Client

Handler = Callable[["Client", list[bytes]], Any]


@dataclass(eq=False)
class Command:
    """One command (or subcommand) declaration plus its run-time statistics."""

    name: str
    handler: Handler | None
    arity: int
    flags: frozenset[str]
    first_key: int = 0
    last_key: int = 0
    step: int = 0
    group: str = "generic"
    since: str = "1.0.0"
    summary: str = ""
    complexity: str = ""
    acl: tuple[str, ...] = ()
    parent: Command | None = None
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    key_finder: Callable[[list[bytes]], list[int]] | None = None
    key_specs: list[dict[str, Any]] = field(default_factory=list)
    arguments: list[dict[str, Any]] = field(default_factory=list)
    module: str = ""  # the name of the Python module that declared it (module_loader), else ""
    # statistics (INFO commandstats)
    calls: int = 0
    usec: int = 0
    rejected_calls: int = 0
    failed_calls: int = 0
    latency_histogram: Any = None  # observe.Histogram once the command ran with latency-tracking on

    @property
    def fullname(self) -> str:
        return f"{self.parent.name}|{self.name}" if self.parent else self.name

    @property
    def is_write(self) -> bool:
        return "write" in self.flags

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of key arguments in ``argv`` (getkeys)."""
        if self.key_finder is not None:
            return self.key_finder(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key
        if last < 0:
            last = len(argv) + last
        step = self.step or 1
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, step))

    def keys(self, argv: list[bytes]) -> list[bytes]:
        return [argv[i] for i in self.key_positions(argv)]


COMMANDS: dict[bytes, Command] = {}


def _flags(flags: str) -> frozenset[str]:
    return frozenset(flags.split())


def command(
    name: str,
    arity: int,
    flags: str = "",
    keys: tuple[int, int, int] = (0, 0, 0),
    group: str = "generic",
    since: str = "1.0.0",
    summary: str = "",
    complexity: str = "",
    acl: str = "",
    key_finder: Callable[[list[bytes]], list[int]] | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a top-level command handled by the decorated function."""

    def deco(fn: Handler) -> Handler:
        cmd = Command(
            name=name.lower(), handler=fn, arity=arity, flags=_flags(flags),
            first_key=keys[0], last_key=keys[1], step=keys[2], group=group, since=since,
            summary=summary or (fn.__doc__ or "").strip().split("\n")[0], complexity=complexity,
            acl=tuple(acl.split()), key_finder=key_finder,
        )
        COMMANDS[name.lower().encode()] = cmd
        return fn

    return deco


def container(name: str, arity: int = -2, flags: str = "", group: str = "generic",
              since: str = "1.0.0", summary: str = "") -> Command:
    """Declare a command whose first argument selects a subcommand."""
    cmd = Command(name=name.lower(), handler=None, arity=arity, flags=_flags(flags), group=group,
                  since=since, summary=summary)
    COMMANDS[name.lower().encode()] = cmd
    return cmd


def subcommand(
    parent: str,
    name: str,
    arity: int,
    flags: str = "",
    keys: tuple[int, int, int] = (0, 0, 0),
    since: str = "1.0.0",
    summary: str = "",
    complexity: str = "",
    key_finder: Callable[[list[bytes]], list[int]] | None = None,
) -> Callable[[Handler], Handler]:
    """Declare ``PARENT NAME`` (e.g. ``config get``) handled by the decorated function."""

    def deco(fn: Handler) -> Handler:
        p = COMMANDS[parent.lower().encode()]
        cmd = Command(
            name=name.lower(), handler=fn, arity=arity, flags=_flags(flags), first_key=keys[0],
            last_key=keys[1], step=keys[2], group=p.group, since=since,
            summary=summary or (fn.__doc__ or "").strip().split("\n")[0], complexity=complexity,
            parent=p, key_finder=key_finder,
        )
        p.subcommands[name.lower().encode()] = cmd
        return fn

    return deco


def lookup(argv: list[bytes]) -> Command | None:
    """Find the command (or subcommand) for ``argv``; None when unknown."""
    name = argv[0]
    cmd = COMMANDS.get(name)
    if cmd is None:
        cmd = COMMANDS.get(name.lower())
        if cmd is None:
            return None
    if cmd.subcommands and len(argv) > 1:
        sub = cmd.subcommands.get(argv[1].lower())
        if sub is not None:
            return sub
    return cmd


def all_commands() -> list[Command]:
    return list(COMMANDS.values())


# ---------------------------------------------------------------------------
# Shared errors and argument helpers used by every command module
# ---------------------------------------------------------------------------

SYNTAX_ERROR = ReplyError("ERR syntax error")
NOT_INTEGER = ReplyError("ERR value is not an integer or out of range")
NOT_FLOAT = ReplyError("ERR value is not a valid float")
OUT_OF_RANGE = ReplyError("ERR index out of range")
NO_SUCH_KEY = ReplyError("ERR no such key")
DB_INDEX_OUT_OF_RANGE = ReplyError("ERR DB index is out of range")
OVERFLOW = ReplyError("ERR increment or decrement would overflow")

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def parse_int(arg: bytes, error: ReplyError = NOT_INTEGER) -> int:
    """Parse a signed 64-bit integer as Redis' string2ll does, or raise ``error``."""
    from .._resp import string2ll

    v = string2ll(arg)
    if v is None:
        raise error
    return int(v)


def parse_float(arg: bytes, error: ReplyError = NOT_FLOAT) -> float:
    """Parse a double as Redis' getDoubleFromObject (string2d): hex and inf ok; NaN, spaces, ERANGE not."""
    from ..numbers import string2d

    v = string2d(arg)
    if v is None:
        raise error
    return v


def wrong_arity(name: str) -> ReplyError:
    return ReplyError(f"ERR wrong number of arguments for '{name}' command")


def unknown_subcommand(argv: list[bytes], parent: str) -> ReplyError:
    # '%.128s' of a C string: raw bytes, cut at a NUL and after 128 bytes
    sub = argv[1].split(b"\0", 1)[0][:128] if len(argv) > 1 else b""
    return ReplyError(b"ERR unknown subcommand '%s'. Try %s HELP." % (sub, parent.upper().encode()))
