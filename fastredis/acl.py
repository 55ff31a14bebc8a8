"""ACL users, rules, permission checks and the ACL log (Redis 7.2's model, src/acl.c).

A user is a list of selectors: the root one (rules given outside parentheses) and
the ``(...)`` ones; a command runs when any selector allows the command, every key
it names (with the access its key specs declare: read for ``access``, write for
``update``/``insert``/``delete``) and every channel.  Everything a check needs
comes from the command table: categories and key specs are Redis' own
(``commands/redis_meta.py``), so ``+@write`` or ``%R~`` mean what they mean in Redis.

Why shaped so:

* The request loop must not pay for ACLs in the usual setup.  A user whose root
  selector allows all commands, keys and channels is *unrestricted*; its clients
  have ``Client.acl_restricted`` False, ``executor.fast_path_client`` lets them
  take the fast path and ``process_command`` skips the check with one attribute
  test.  Any change to a user recomputes the flag of its clients and tells their
  connections (``Client.fast_path_changed``).
* Command rules are kept as given (7.2's ``command_rules``) so ACL LIST/GETUSER
  and ACL SAVE give back what was set, in the same order.
* ``Acl.check`` is the one entry point for a permission check (the executor, EXEC,
  ACL DRYRUN and scripts' ``redis.call`` use it); ``Acl.deny`` turns a refusal
  into the ACL LOG entry and the ``-NOPERM`` error.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._resp import ReplyError
from .glob import stringmatch

if TYPE_CHECKING:
    from .context import Client, ServerContext

CATEGORIES = ("keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
              "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
              "connection", "transaction", "scripting")
_CATEGORY_SET = frozenset(CATEGORIES)

READ, WRITE = 1, 2
ALL_PERMS = READ | WRITE

# ACLCheckAllUserCommandPerm results, ordered as Redis picks the error to report
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4
REASONS = {DENIED_CMD: b"command", DENIED_KEY: b"key", DENIED_AUTH: b"auth", DENIED_CHANNEL: b"channel"}

CTX_TOPLEVEL, CTX_MULTI, CTX_LUA, CTX_MODULE = b"toplevel", b"multi", b"lua", b"module"

LOG_GROUPING_MS = 60000

_CHANNEL_COMMANDS = {"publish": (1, 1, False), "spublish": (1, 1, False), "subscribe": (1, -1, False),
                     "ssubscribe": (1, -1, False), "psubscribe": (1, -1, True)}


class RuleError(Exception):
    """An ACL rule that can't be applied; the text is ACLSetUserStringError's."""


E_UNKNOWN = "Unknown command or category name in ACL"
E_SYNTAX = "Syntax error"
E_KEYS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
                    "any effect. Try 'resetkeys' to start with an empty list of patterns")
E_CHANNELS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does "
                        "not have any effect. Try 'resetchannels' to start with an empty list of channels")
E_NO_PASSWORD = "The password you are trying to remove from the user does not exist"
E_BAD_HASH = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
E_DUPLICATE = "Duplicate user found. A user can only be defined once in config files"
E_FIRSTARG_SUB = "Allowing first-arg of a subcommand is not supported"


def hash_password(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


def _valid_hash(h: bytes) -> bool:
    return len(h) == 64 and all(c in b"0123456789abcdef" for c in h)


def has_spaces(s: bytes) -> bool:
    """ACLStringHasSpaces: isspace() or NUL anywhere."""
    return any(c in b" \t\n\r\v\f\0" for c in s)


def every_command() -> Iterator[Command]:
    for cmd in COMMANDS.values():
        yield cmd
        yield from cmd.subcommands.values()


def lookup_command(name: str) -> Command | None:
    """ACLLookupCommand: ``get`` or ``config|get`` in the original table (any case)."""
    parts = name.lower().split("|")
    if len(parts) > 2:
        return None
    cmd = COMMANDS.get(parts[0].encode("latin-1"))
    if cmd is None or len(parts) == 1:
        return cmd
    return cmd.subcommands.get(parts[1].encode("latin-1"))


def _categories(cmd: Command) -> tuple[str, ...]:
    from .commands.command_cmds import acl_categories

    return tuple(acl_categories(cmd))


class Selector:
    """One set of permissions: commands (with first-args), key patterns, channel patterns."""

    __slots__ = ("root", "allkeys", "allchannels", "allcommands", "future", "allowed", "firstargs",
                 "patterns", "channels", "rules")

    def __init__(self, root: bool = False, allchannels: bool = False) -> None:
        self.root = root
        self.allkeys = False
        self.allchannels = allchannels
        self.allcommands = False
        self.future = False  # the reserved bit of +@all: future (module) commands allowed
        self.allowed: set[Command] = set()
        self.firstargs: dict[Command, list[bytes]] = {}
        self.patterns: list[list[Any]] = []  # [pattern, READ|WRITE]
        self.channels: list[bytes] = []
        self.rules: list[str] = []  # command rules as given (7.2's command_rules)

    def copy(self) -> Selector:
        s = Selector(self.root)
        s.allkeys, s.allchannels, s.allcommands, s.future = self.allkeys, self.allchannels, self.allcommands, \
            self.future
        s.allowed = set(self.allowed)
        s.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        s.patterns = [list(p) for p in self.patterns]
        s.channels = list(self.channels)
        s.rules = list(self.rules)
        return s

    @property
    def unrestricted(self) -> bool:
        return self.allcommands and self.allkeys and self.allchannels

    # -- rules ---------------------------------------------------------------

    def _change(self, cmd: Command, allow: bool) -> None:
        """ACLChangeSelectorPerm: the command and all its subcommands."""
        self._bit(cmd, allow)
        self.firstargs.pop(cmd, None)
        for sub in cmd.subcommands.values():
            self._bit(sub, allow)

    def _bit(self, cmd: Command, allow: bool) -> None:
        if allow:
            self.allowed.add(cmd)
        else:
            self.allowed.discard(cmd)
            self.allcommands = False

    def _category(self, cat: str, allow: bool) -> None:
        for top in COMMANDS.values():
            self._category_in(top, cat, allow)

    def _category_in(self, cmd: Command, cat: str, allow: bool) -> None:
        if cat in _categories(cmd):
            self._change(cmd, allow)
        for sub in cmd.subcommands.values():
            self._category_in(sub, cat, allow)

    def _update_rules(self, rule: str, allow: bool) -> None:
        """ACLUpdateCommandRules: drop the same rule (and its subcommand rules), append it."""
        rule = rule.lower()
        kept = []
        for r in self.rules:
            body = r[1:]
            if body == rule or (body.startswith(rule) and body[len(rule)] == "|"):
                continue
            kept.append(r)
        kept.append(("+" if allow else "-") + rule)
        self.rules = kept

    def apply(self, op: bytes) -> None:
        """ACLSetSelector: one rule; raises RuleError."""
        low = op.lower()
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.patterns = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low in (b"allcommands", b"+@all"):
            self.allowed = set(every_command())
            self.allcommands = self.future = True
            self.firstargs = {}
            self.rules = []
        elif low in (b"nocommands", b"-@all"):
            self.allowed = set()
            self.allcommands = self.future = False
            self.firstargs = {}
            self.rules = []
        elif op[:1] in (b"~", b"%"):
            self._key_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError(E_CHANNELS_AFTER_ALL)
            pat = op[1:]
            if has_spaces(pat):
                raise RuleError(E_SYNTAX)
            if pat not in self.channels:
                self.channels.append(pat)
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow(op[1:].decode("latin-1"))
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = lookup_command(op[1:].decode("latin-1"))
            if cmd is None:
                raise RuleError(E_UNKNOWN)
            self._change(cmd, False)
            self._update_rules(cmd.fullname, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            cat = op[2:].decode("latin-1").lower()
            if cat not in _CATEGORY_SET:
                raise RuleError(E_UNKNOWN)
            allow = op[:1] == b"+"
            self._category(cat, allow)
            self._update_rules("@" + cat, allow)
        else:
            raise RuleError(E_SYNTAX)

    def _key_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise RuleError(E_KEYS_AFTER_ALL)
        offset = 1
        if op[:1] == b"%":
            flags = 0
            n = len(op)
            while offset < n:
                ch = op[offset:offset + 1].upper()
                if ch == b"R" and not flags & READ:
                    flags |= READ
                elif ch == b"W" and not flags & WRITE:
                    flags |= WRITE
                elif ch == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(E_SYNTAX)
                offset += 1
        else:
            flags = ALL_PERMS
        pat = op[offset:]
        if has_spaces(pat):
            raise RuleError(E_SYNTAX)
        for p in self.patterns:
            if p[0] == pat:
                p[1] |= flags
                break
        else:
            self.patterns.append([pat, flags])
        self.allkeys = False

    def _allow(self, name: str) -> None:
        if "|" not in name:
            cmd = lookup_command(name)
            if cmd is None:
                raise RuleError(E_UNKNOWN)
            self._change(cmd, True)
            self._update_rules(cmd.fullname, True)
            return
        head, _, sub = name.rpartition("|")
        cmd = lookup_command(head)
        if cmd is None:
            raise RuleError(E_UNKNOWN)
        if cmd.parent is not None:
            raise RuleError(E_FIRSTARG_SUB)
        if not sub:
            raise RuleError(E_SYNTAX)
        if cmd.subcommands:
            found = lookup_command(name)
            if found is None:
                raise RuleError(E_UNKNOWN)
            self._change(found, True)
            self._update_rules(found.fullname, True)
        else:
            args = self.firstargs.setdefault(cmd, [])
            if sub.lower().encode("latin-1") not in [a.lower() for a in args]:
                args.append(sub.encode("latin-1"))
            self._update_rules(name, True)

    # -- description ---------------------------------------------------------

    def describe_commands(self) -> str:
        head = "+@all" if self.future else "-@all"
        return " ".join([head, *self.rules])

    def describe_keys(self) -> bytes:
        if self.allkeys:
            return b"~*"
        return b" ".join(_pattern_text(p) for p in self.patterns)

    def describe_channels(self) -> bytes:
        if self.allchannels:
            return b"&*"
        return b" ".join(b"&" + c for c in self.channels)

    def describe(self) -> bytes:
        """ACLDescribeSelector: keys, channels, command rules."""
        out = b""
        if self.allkeys:
            out += b"~* "
        else:
            for p in self.patterns:
                out += _pattern_text(p) + b" "
        if self.allchannels:
            out += b"&* "
        else:
            out += b"resetchannels "
            for ch in self.channels:
                out += b"&" + ch + b" "
        return out + self.describe_commands().encode("latin-1")

    # -- checks --------------------------------------------------------------

    def check(self, cmd: Command, argv: list[bytes], keys: list[Any]) -> tuple[int, int]:
        """ACLSelectorCheckCmd: (result, index of the refused key or channel)."""
        if not self.allcommands and "no-auth" not in cmd.flags and cmd not in self.allowed:
            args = self.firstargs.get(cmd)
            if not args or len(argv) < 2:
                return DENIED_CMD, 0
            at = 2 if cmd.parent is not None else 1
            arg = argv[at].lower() if len(argv) > at else b""
            if not any(arg == a.lower() for a in args):
                return DENIED_CMD, 0
        if not self.allkeys and has_keys(cmd):
            if not keys:
                keys.append(keys_with_flags(cmd, argv))
            for pos, flags in keys[0]:
                if not self.key_ok(argv[pos], _key_need(flags)):
                    return DENIED_KEY, pos
        if not self.allchannels:
            spec = _CHANNEL_COMMANDS.get(cmd.fullname)
            if spec is not None:
                start, count, literal = spec
                last = len(argv) if count < 0 else start + count
                for j in range(start, last):
                    if not _channel_ok(self.channels, argv[j], literal):
                        return DENIED_CHANNEL, j
        return OK, 0

    def key_ok(self, key: bytes, need: int) -> bool:
        if self.allkeys:
            return True
        for pat, flags in self.patterns:
            if flags & need == need and stringmatch(pat, key):
                return True
        return False


def _pattern_text(p: list[Any]) -> bytes:
    pat, flags = p
    if flags == ALL_PERMS:
        return b"~" + pat
    return (b"%R~" if flags == READ else b"%W~") + pat


def _key_need(flags: tuple[str, ...]) -> int:
    need = 0
    if "access" in flags:
        need |= READ
    if "insert" in flags or "delete" in flags or "update" in flags:
        need |= WRITE
    return need


def _channel_ok(channels: list[bytes], channel: bytes, literal: bool) -> bool:
    for pat in channels:
        if (literal and pat == channel) or (not literal and stringmatch(pat, channel)):
            return True
    return False


class User:
    """An ACL user: flags, password hashes and selectors (the root one first)."""

    __slots__ = ("name", "enabled", "nopass", "sanitize", "passwords", "selectors")

    def __init__(self, name: bytes, allchannels: bool = False) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        self.sanitize: bool | None = None  # sanitize-payload / skip-sanitize-payload / neither
        self.passwords: list[str] = []
        self.selectors = [Selector(root=True, allchannels=allchannels)]

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    @property
    def unrestricted(self) -> bool:
        return self.selectors[0].unrestricted

    def copy_from(self, other: User) -> None:
        """ACLCopyUser: same rules, own name."""
        self.enabled, self.nopass, self.sanitize = other.enabled, other.nopass, other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]

    def apply(self, op: bytes, allchannels_default: bool = False) -> None:
        """ACLSetUser: one rule; raises RuleError."""
        if not op:
            return
        low = op.lower()
        if low == b"on":
            self.enabled = True
        elif low == b"off":
            self.enabled = False
        elif low == b"skip-sanitize-payload":
            self.sanitize = False
        elif low == b"sanitize-payload":
            self.sanitize = True
        elif low == b"nopass":
            self.nopass = True
            self.passwords = []
        elif low == b"resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            if op[:1] == b">":
                h = hash_password(op[1:])
            else:
                if not _valid_hash(op[1:]):
                    raise RuleError(E_BAD_HASH)
                h = op[1:].decode()
            if h not in self.passwords:
                self.passwords.append(h)
            self.nopass = False
        elif op[:1] in (b"<", b"!"):
            if op[:1] == b"<":
                h = hash_password(op[1:])
            else:
                if not _valid_hash(op[1:]):
                    raise RuleError(E_BAD_HASH)
                h = op[1:].decode()
            if h not in self.passwords:
                raise RuleError(E_NO_PASSWORD)
            self.passwords.remove(h)
        elif op[:1] == b"(" and op[-1:] == b")":
            s = Selector(allchannels=allchannels_default)
            from ._resp import split_args

            for part in split_args(op[1:-1]) or []:
                s.apply(part)
            self.selectors.append(s)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            self.apply(b"resetpass")
            self.apply(b"resetkeys")
            self.apply(b"resetchannels")
            if allchannels_default:
                self.apply(b"allchannels")
            self.apply(b"off")
            self.apply(b"sanitize-payload")
            self.apply(b"clearselectors")
            self.apply(b"-@all")
        else:
            self.selectors[0].apply(op)

    def describe(self) -> bytes:
        """ACLDescribeUser: the rules that recreate the user (ACL LIST, ACL SAVE)."""
        out = b"on " if self.enabled else b"off "
        if self.nopass:
            out += b"nopass "
        if self.sanitize is False:
            out += b"skip-sanitize-payload "
        elif self.sanitize:
            out += b"sanitize-payload "
        for h in self.passwords:
            out += b"#" + h.encode() + b" "
        for s in self.selectors:
            d = s.describe()
            out += d if s.root else b" (" + d + b")"
        return out

    def check_password(self, password: bytes) -> bool:
        if not self.enabled:
            return False
        if self.nopass:
            return True
        h = hash_password(password)
        ok = False
        for p in self.passwords:
            ok |= hmac.compare_digest(h, p)
        return ok

    def check(self, cmd: Command, argv: list[bytes]) -> tuple[int, int]:
        """ACLCheckAllUserCommandPerm: OK if a selector allows it, else the most relevant refusal."""
        relevant, last = DENIED_CMD, 0
        keys: list[Any] = []
        for s in self.selectors:
            res, idx = s.check(cmd, argv, keys)
            if res == OK:
                return OK, 0
            if res > relevant or (res == relevant and idx > last):
                relevant, last = res, idx
        return relevant, last

    def channel_ok(self, channel: bytes, literal: bool) -> bool:
        for s in self.selectors:
            if s.allchannels or _channel_ok(s.channels, channel, literal):
                return True
        return False


def merge_selector_args(args: list[bytes]) -> tuple[list[bytes] | None, int]:
    """ACLMergeSelectorArguments: ``(`` ... ``)`` spread over arguments become one; (None, i) if unmatched."""
    out: list[bytes] = []
    current: bytes | None = None
    start = -1
    for j, op in enumerate(args):
        if current is None and op[:1] == b"(" and op[-1:] != b")":
            current, start = op, j
            continue
        if current is not None:
            current += b" " + op
            if op[-1:] == b")":
                out.append(current)
                current = None
            continue
        out.append(op)
    if current is not None:
        return None, start
    return out, -1


def error_message(result: int, user: User, cmd: Command, obj: bytes, verbose: bool) -> bytes:
    """getAclErrorMessage (without the NOPERM prefix)."""
    if result == DENIED_CMD:
        return b"User %s has no permissions to run the '%s' command" % (user.name, cmd.fullname.encode())
    if result == DENIED_KEY:
        if verbose:
            return b"User %s has no permissions to access the '%s' key" % (user.name, obj)
        return b"No permissions to access a key"
    if verbose:
        return b"User %s has no permissions to access the '%s' channel" % (user.name, obj)
    return b"No permissions to access a channel"


class Acl:
    """The users of one server, the default user, the ACL log and the denial counters."""

    def __init__(self, server: ServerContext) -> None:
        self.server = server
        self.users: dict[bytes, User] = {}
        self.default = self._make_default()
        self.users[b"default"] = self.default
        self.log: list[dict[str, Any]] = []
        self.next_entry_id = 0
        self.denied = {DENIED_CMD: 0, DENIED_KEY: 0, DENIED_CHANNEL: 0, DENIED_AUTH: 0}
        cfg = server.config
        if cfg["requirepass"]:
            self.set_default_password(cfg["requirepass"])
        cfg.on_change("requirepass", self.set_default_password)
        server.extras["acl_check_cmd"] = user_may_run  # scripting's redis.acl_check_cmd
        cfg.user_lines = self.config_lines

    @property
    def allchannels_default(self) -> bool:
        return bool(self.server.config["acl-pubsub-default"] == "allchannels")

    def _make_default(self) -> User:
        u = User(b"default")
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            u.apply(op)
        return u

    def new_user(self, name: bytes) -> User:
        return User(name, self.allchannels_default)

    def set_default_password(self, password: str) -> None:
        """requirepass: ACLUpdateDefaultUserPassword."""
        u = self.default
        u.apply(b"resetpass")
        if password:
            u.apply(b">" + password.encode("utf-8", "surrogateescape"))
        else:
            u.apply(b"nopass")
        self.user_changed(u)

    # -- clients -------------------------------------------------------------

    def auth_required(self) -> bool:
        """A new or RESET connection must AUTH first (authRequired for the default user)."""
        d = self.default
        return not d.nopass or not d.enabled

    def attach(self, c: Client, user: User) -> None:
        """Point the connection at ``user`` (authenticated)."""
        c.acl_user = user
        c.user = user.name
        c.acl_restricted = not user.unrestricted

    def clients_of(self, user: User) -> list[Client]:
        return [x for x in self.server.clients.values() if x.acl_user is user]

    def user_changed(self, user: User) -> None:
        """Rules of ``user`` changed: its clients re-read their fast-path state."""
        for x in self.clients_of(user):
            restricted = not user.unrestricted
            if x.acl_restricted != restricted:
                x.acl_restricted = restricted
                x.fast_path_changed()

    def drop_clients(self, user: User, current: Client | None) -> None:
        """ACLFreeUserAndKillClients: back to default, unauthenticated, and closed."""
        for x in self.clients_of(user):
            self.attach(x, self.default)
            x.authenticated = False
            if x is current:
                x.close_after_reply = True
            else:
                x.close()

    def authenticate(self, c: Client, username: bytes, password: bytes, argv0: bytes = b"AUTH") -> bool:
        """ACLAuthenticateUser: on success the connection becomes ``username``; a failure is logged."""
        u = self.users.get(username)
        if u is not None and u.check_password(password):
            self.attach(c, u)
            c.authenticated = True
            c.fast_path_changed()
            return True
        self.add_log(c, DENIED_AUTH, CTX_MULTI if c.in_multi else CTX_TOPLEVEL, username=username,
                     obj=argv0, current=argv0.decode("latin-1").lower())
        return False

    # -- checks --------------------------------------------------------------

    def check(self, user: User, cmd: Command, argv: list[bytes]) -> tuple[int, int]:
        """Can ``user`` run ``argv`` (resolved to ``cmd``)?  (OK, 0) or (DENIED_*, argv index)."""
        return user.check(cmd, argv)

    def deny(self, c: Client, cmd: Command, argv: list[bytes], result: int, pos: int,
             context: bytes = CTX_TOPLEVEL) -> ReplyError:
        """Log a refusal and build the ``-NOPERM`` error Redis answers for it."""
        obj = cmd.fullname.encode() if result == DENIED_CMD else argv[pos]
        self.add_log(c, result, context, obj=obj, current=cmd.fullname)
        user = c.acl_user or self.default
        return ReplyError(b"NOPERM " + error_message(result, user, cmd, argv[pos], False))

    def check_client(self, c: Client, cmd: Command, argv: list[bytes],
                     context: bytes = CTX_TOPLEVEL) -> ReplyError | None:
        """The check ``process_command`` runs for a restricted client: None or the NOPERM error."""
        user = c.acl_user or self.default
        result, pos = user.check(cmd, argv)
        if result == OK:
            return None
        return self.deny(c, cmd, argv, result, pos, context)

    # -- log -----------------------------------------------------------------

    def add_log(self, c: Client, reason: int, context: bytes, obj: bytes, username: bytes | None = None,
                current: str | None = None) -> None:
        """addACLLogEntry: a new entry, or a bump of a similar recent one (first 10, within 60 s)."""
        from .commands.client_cmds import client_line

        self.denied[reason] = self.denied.get(reason, 0) + 1
        now = int(time.time() * 1000)
        real = getattr(c, "script_caller", None) or c
        info = client_line(real, current=current).encode("utf-8", "surrogateescape")
        name = username if username is not None else (c.acl_user.name if c.acl_user else c.user)
        for i, e in enumerate(self.log[:10]):
            if e["reason"] == reason and e["context"] == context and abs(e["ctime"] - now) <= LOG_GROUPING_MS \
                    and e["object"] == obj and e["username"] == name:
                e["count"] += 1
                e["ctime"] = now
                e["cinfo"] = info
                self.log.insert(0, self.log.pop(i))
                return
        self.log.insert(0, {"count": 1, "reason": reason, "context": context, "object": obj, "username": name,
                            "ctime": now, "created": now, "cinfo": info, "id": self.next_entry_id})
        self.next_entry_id += 1
        limit = self.server.config["acllog-max-len"]
        del self.log[limit:]

    # -- files ---------------------------------------------------------------

    def config_lines(self) -> list[str]:
        """CONFIG REWRITE: ``user <name> <rules>`` for every user, as ACL LIST shows them."""
        return [(b"user " + u.name + b" " + u.describe()).decode("utf-8", "surrogateescape")
                for _n, u in sorted(self.users.items())]

    def load_users(self, lines: list[list[bytes]]) -> None:
        """``user`` lines of the config file (ACLLoadConfiguredUsers); raises RuleError with Redis' text."""
        seen: set[bytes] = set()
        for words in lines:
            name = words[0]
            if name in seen:
                raise RuleError(E_DUPLICATE)
            seen.add(name)
            if has_spaces(name):
                raise RuleError("Spaces not allowed in ACL usernames")
            args, bad = merge_selector_args(words[1:])
            if args is None:
                raise RuleError("Unmatched parenthesis in acl selector starting at '%s'."
                                % words[1 + bad].decode("utf-8", "replace"))
            u = self.users.get(name)
            if u is None:
                u = self.users[name] = self.new_user(name)
            else:
                u.apply(b"reset", self.allchannels_default)
            for op in args:
                try:
                    u.apply(op, self.allchannels_default)
                except RuleError as e:
                    raise RuleError("Error loading ACL rule '%s' for the user named '%s': %s"
                                    % (op.decode("utf-8", "replace"), name.decode("utf-8", "replace"), e)) from None
            self.user_changed(u)

    def load_file(self, filename: str, current: Client | None = None) -> str | None:
        """ACLLoadFromFile: all or nothing; None, or the error text of every bad line."""
        try:
            with open(filename, "rb") as f:
                text = f.read()
        except OSError as e:
            return "Error loading ACLs, opening file '%s': %s" % (filename, e.strerror)
        users: dict[bytes, User] = {}
        errors = ""
        for i, raw in enumerate(text.split(b"\n")):
            linenum = i + 1
            line = raw.strip(b" \t\r\n")
            if not line:
                continue
            words = [w for w in line.split(b" ") if w]
            if not words:
                continue
            if words[0] != b"user" or len(words) < 2:
                errors += "%s:%d should start with user keyword followed by the username. " % (filename, linenum)
                continue
            name = words[1]
            if has_spaces(name):
                errors += "'%s:%d: username '%s' contains invalid characters. " % (
                    filename, linenum, name.decode("utf-8", "replace"))
                continue
            if name in users:
                errors += "WARNING: Duplicate user '%s' found on line %d. " % (name.decode("utf-8", "replace"),
                                                                                linenum)
                continue
            u = users[name] = self.new_user(name)
            args, _bad = merge_selector_args(words[2:])
            if args is None:
                errors += "%s:%d: Unmatched parenthesis in selector definition." % (filename, linenum)
                continue
            for op in args:
                try:
                    u.apply(op.strip(b"\t\r\n"), self.allchannels_default)
                except RuleError as e:
                    errors += "%s:%d: %s. " % (filename, linenum, e)
        if errors:
            return errors + "WARNING: ACL errors detected, no change to the previously active ACL rules was " \
                            "performed"
        new_default = users.pop(b"default", None) or self._make_default()
        old = self.users
        self.users = {b"default": self.default}
        self.default.copy_from(new_default)
        self.users.update(users)
        for u in old.values():
            if u is not self.default:
                self.drop_clients(u, current)
        self.user_changed(self.default)
        return None

    def save_file(self, filename: str) -> bool:
        """ACLSaveToFile: every user in ``user <name> <rules>`` form, written atomically."""
        text = b"".join(b"user " + u.name + b" " + u.describe() + b"\n" for _n, u in sorted(self.users.items()))
        tmp = "%s.tmp-%d-%d" % (filename, os.getpid(), int(time.time() * 1000))
        try:
            with open(tmp, "wb") as f:
                f.write(text)
            os.replace(tmp, filename)
        except OSError as e:
            self.server.log("warning", "Writing ACL file for ACL SAVE: %s" % e.strerror)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False
        return True

    def kill_pubsub_clients(self, new: User, original: User) -> None:
        """ACLKillPubsubClientsIfNeeded: subscribers whose channels the new rules no longer allow."""
        if any(s.allchannels for s in new.selectors):
            return
        upcoming = [ch for s in new.selectors for ch in s.channels]
        if all(ch in upcoming for s in original.selectors for ch in s.channels) and \
                not any(s.allchannels for s in original.selectors):
            return
        for x in self.clients_of(original):
            if not (x.channels or x.patterns or x.shard_channels):
                continue
            kill = any(not _channel_ok(upcoming, p, True) for p in x.patterns) or \
                any(not _channel_ok(upcoming, ch, False) for ch in x.channels) or \
                any(not _channel_ok(upcoming, ch, False) for ch in x.shard_channels)
            if kill:
                x.close()


REDACTED = b"(redacted)"


def redacted(argv: list[bytes]) -> list[bytes]:
    """argv as MONITOR and SLOWLOG show it: secrets replaced (redactClientCommandArgument).

    AUTH's arguments, HELLO's AUTH username and password, MIGRATE's AUTH/AUTH2 credentials,
    every ACL SETUSER rule and the value of a sensitive config in CONFIG SET.
    """
    if len(argv) < 2:
        return argv
    name = argv[0].lower()
    hide: list[int] = []
    if name == b"auth":
        if len(argv) <= 3:
            hide = list(range(1, len(argv)))
    elif name == b"hello":
        j = 2
        while j < len(argv):
            opt = argv[j].lower()
            if opt == b"auth" and j + 2 < len(argv):
                hide += [j + 1, j + 2]
                j += 3
            elif opt == b"setname" and j + 1 < len(argv):
                j += 2
            else:
                break
    elif name == b"migrate":
        j = 6
        while j < len(argv):
            opt = argv[j].lower()
            if opt == b"auth" and j + 1 < len(argv):
                hide.append(j + 1)
                j += 1
            elif opt == b"auth2" and j + 2 < len(argv):
                hide += [j + 1, j + 2]
                j += 2
            elif opt == b"keys":
                break
            j += 1
    elif name == b"acl" and argv[1].lower() == b"setuser":
        hide = list(range(2, len(argv)))
    elif name == b"config" and argv[1].lower() == b"set":
        from .config import BY_NAME

        for j in range(2, len(argv) - 1, 2):
            p = BY_NAME.get(argv[j].decode("latin-1").lower())
            if p is not None and p.sensitive:
                hide.append(j + 1)
    if not hide:
        return argv
    out = list(argv)
    for j in hide:
        out[j] = REDACTED
    return out


PROTECTED_MODE_DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for "
    b"the default user. In this mode connections are only accepted from the loopback interface. If you want to "
    b"connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable "
    b"protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting "
    b"to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from "
    b"internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    b"disable the protected mode by editing the Redis configuration file, and setting the protected mode option "
    b"to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart "
    b"it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: "
    b"You only need to do one of the above things in order for the server to start accepting connections from "
    b"the outside.\r\n")


def is_loopback(host: str | None) -> bool:
    """connIsLocal: a unix socket (no host), 127.0.0.0/8 or ::1 (also IPv4-mapped)."""
    if not host:
        return True
    if host.startswith("::ffff:"):
        host = host[7:]
    return host.startswith("127.") or host == "::1"


def protected_mode_refuses(server: ServerContext, peer_host: str | None) -> bool:
    """clientAcceptHandler: protected mode and a password-less default user accept loopback peers only."""
    return bool(server.config["protected-mode"]) and server.acl.default.nopass and not is_loopback(peer_host)


def check_for(c: Client, cmd: Command, argv: list[bytes], context: bytes = CTX_LUA) -> bytes | None:
    """The ACL check for a command a script (``redis.call``) or module runs on behalf of ``c``.

    None when the user of ``c`` may run ``argv``; otherwise the refusal is logged in ACL LOG with
    ``context`` (and ``c``'s client info) and getAclErrorMessage's text is returned: scripts answer
    ``ERR ACL failure in script: <text>`` (scriptVerifyACL).
    """
    if not c.acl_restricted:
        return None
    acl = c.server.acl
    user = c.acl_user or acl.default
    result, pos = user.check(cmd, argv)
    if result == OK:
        return None
    acl.add_log(c, result, context, obj=cmd.fullname.encode() if result == DENIED_CMD else argv[pos],
                current=cmd.fullname)
    return error_message(result, user, cmd, argv[pos], False)


def user_may_run(c: Client, cmd: Command, argv: list[bytes]) -> bool:
    """redis.acl_check_cmd: may the user of ``c`` run ``argv`` (nothing is logged)?"""
    if not c.acl_restricted:
        return True
    user = c.acl_user or c.server.acl.default
    return user.check(cmd, argv)[0] == OK


# Last: importing the command table imports every command module, and some of them (the
# executor through scripting, ACL's own commands) take names from this module while it loads.
from .commands.table import COMMANDS, Command, has_keys, keys_with_flags  # noqa: E402
