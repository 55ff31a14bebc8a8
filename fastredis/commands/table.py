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
    tips: tuple[str, ...] = ()
    # key-spec flags resolved per call (SET GET, BITFIELD, SORT STORE...: Redis' getkeys procs)
    key_flags_finder: Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]] | None = None
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


def apply_redis_meta() -> None:
    """Give every declared command Redis' ACL categories, tips and key specs (``redis_meta``).

    Run once all command modules are imported.  A command Redis does not know keeps what its
    declaration says (``acl=``); categories are stored without the ``@``.
    """
    from .redis_meta import META

    for top in list(COMMANDS.values()):
        for cmd in (top, *top.subcommands.values()):
            meta = META.get(cmd.fullname)
            if meta is None:
                continue
            acl, tips, specs = meta
            cmd.acl = acl
            if not cmd.tips:
                cmd.tips = tips
            if not cmd.key_specs:
                cmd.key_specs = specs
    for name, finder in _FLAG_FINDERS.items():
        found = COMMANDS.get(name)
        if found is not None:
            found.key_flags_finder = finder(found)


# key-spec flags in the order Redis replies them (addReplyFlagsForKeyArgs)
KEY_FLAG_ORDER = ("RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete",
                  "variable_flags")


def _spec_keys(spec: dict[str, Any], argv: list[bytes]) -> list[int] | None:
    """Positions one key spec finds in argv (getKeysUsingKeySpecs); None when it can't tell."""
    argc = len(argv)
    bs, fk = spec["begin_search"], spec["find_keys"]
    if bs["type"] == "index":
        first = bs["spec"]["index"]
    elif bs["type"] == "keyword":
        kw = bs["spec"]["keyword"].encode().lower()
        start = bs["spec"]["startfrom"]
        if start >= 0:
            rng = range(start, argc)
        else:
            rng = range(argc + start, 0, -1)
        first = 0
        for i in rng:
            if 0 < i < argc and argv[i].lower() == kw:
                first = i + 1
                break
        if not first:
            return []
    else:
        return None
    if first >= argc:
        return []
    if fk["type"] == "range":
        lastkey, step, limit = fk["spec"]["lastkey"], fk["spec"]["keystep"], fk["spec"]["limit"]
        if lastkey >= 0:
            last = first + lastkey
        elif not limit:
            last = argc + lastkey
        else:
            last = first + ((argc - first) // limit + lastkey)
    elif fk["type"] == "keynum":
        from .._resp import string2ll

        idx = first + fk["spec"]["keynumidx"]
        if idx >= argc:
            return []
        n = string2ll(argv[idx])
        if n is None or n <= 0:
            return []
        first += fk["spec"]["firstkey"]
        step = fk["spec"]["keystep"]
        last = first + (int(n) - 1) * step
    else:
        return None
    return [i for i in range(first, min(last, argc - 1) + 1, step or 1)]


_RW_ACCESS_UPDATE = ("RW", "access", "update")


def _set_flags(cmd: Command) -> Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]]:
    """setGetKeys: SET ... GET reads the old value."""
    def finder(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
        if any(a.lower() == b"get" for a in argv[3:]):
            return [(1, _RW_ACCESS_UPDATE)]
        return [(1, ("OW", "update"))]
    return finder


def _bitfield_flags(cmd: Command) -> Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]]:
    """bitfieldGetKeys: only GET (and OVERFLOW) subcommands make it read-only."""
    def finder(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
        i, n = 2, len(argv)
        while i < n:
            op, rem = argv[i].lower(), n - i - 1
            if op == b"get" and rem >= 2:
                i += 3
            elif op == b"overflow" and rem >= 1:
                i += 2
            else:
                return [(1, _RW_ACCESS_UPDATE)]
        return [(1, ("RO", "access"))]
    return finder


def _sort_flags(cmd: Command) -> Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]]:
    """sortGetKeys: the sorted key is read, a STORE destination overwritten."""
    def finder(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
        return [(i, ("RO", "access") if i == 1 else ("OW", "update")) for i in cmd.key_positions(argv)]
    return finder


def _migrate_flags(cmd: Command) -> Callable[[list[bytes]], list[tuple[int, tuple[str, ...]]]]:
    """migrateGetKeys: every migrated key is read and deleted."""
    def finder(argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
        return [(i, ("RW", "access", "delete")) for i in cmd.key_positions(argv)]
    return finder


_FLAG_FINDERS = {b"set": _set_flags, b"bitfield": _bitfield_flags, b"sort": _sort_flags, b"sort_ro": _sort_flags,
                 b"migrate": _migrate_flags}


def keys_with_flags(cmd: Command, argv: list[bytes]) -> list[tuple[int, tuple[str, ...]]]:
    """(position, key-spec flags) of every key in argv, as getKeysFromCommandWithSpecs finds them.

    Key specs first; a command whose flags depend on its arguments, or whose specs are
    incomplete, answers through ``key_flags_finder`` (Redis' getkeys procs) or, lacking one,
    its ``key_finder`` with the first spec's flags.
    """
    specs = cmd.key_specs
    if cmd.key_flags_finder is not None:
        return cmd.key_flags_finder(argv)
    out: list[tuple[int, tuple[str, ...]]] = []
    complete = True
    for spec in specs:
        flags = spec["flags"]
        if "not_key" in flags:
            continue
        if "incomplete" in flags or "variable_flags" in flags:
            complete = False
            break
        found = _spec_keys(spec, argv)
        if found is None:
            complete = False
            break
        f = tuple(flags)
        out.extend((i, f) for i in found)
    if complete and specs:
        return out
    if not specs and cmd.key_finder is None and cmd.first_key <= 0:
        return []
    try:
        positions = cmd.key_positions(argv)
    except (ReplyError, ValueError, IndexError, TypeError):
        positions = []
    default = tuple(specs[0]["flags"]) if specs else (("RW", "update") if cmd.is_write else ("RO", "access"))
    default = tuple(x for x in default if x not in ("incomplete", "variable_flags"))
    return [(i, default) for i in positions if 0 < i < len(argv)]


def has_keys(cmd: Command) -> bool:
    """doesCommandHaveKeys: a key spec that names keys, or a key finder."""
    return (cmd.key_finder is not None or cmd.key_flags_finder is not None or cmd.first_key > 0
            or any("not_key" not in s["flags"] for s in cmd.key_specs))


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
