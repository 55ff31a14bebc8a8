"""ACL and its subcommands (Redis' aclCommand): users, rules, the log, the ACL file.

The model and the checks live in ``fastredis/acl.py``; these handlers parse
arguments and shape the replies as Redis 7.2 does.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .. import acl as _acl  # a module reference: acl.py imports the command table (and so this)
from .._resp import OK, ReplyError, SetReply
from ._help import help_lines
from .table import COMMANDS, Command, container, parse_int, subcommand

if TYPE_CHECKING:
    from ..context import Client

container("acl", -2, "", group="server", since="6.0.0", summary="A container for Access List Control commands.")

_ADMIN = "admin noscript loading stale"


def _syntax_error(argv: list[bytes]) -> ReplyError:
    """addReplySubcommandSyntaxError."""
    return ReplyError(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try ACL HELP."
                      % argv[1].split(b"\0", 1)[0][:128])


@subcommand("acl", "setuser", -3, _ADMIN, since="6.0.0",
            summary="Creates and modifies an ACL user and its rules.")
def acl_setuser(c: Client, argv: list[bytes]) -> Any:
    acl = c.server.acl
    name = argv[2]
    if _acl.has_spaces(name):
        raise ReplyError("ERR Usernames can't contain spaces or null characters")
    args, bad = _acl.merge_selector_args(argv[3:])
    if args is None:
        raise ReplyError(b"ERR Unmatched parenthesis in acl selector starting at '%s'." % argv[3 + bad])
    existing = acl.users.get(name)
    temp = acl.new_user(name)
    if existing is not None:
        temp.copy_from(existing)
    for op in args:
        try:
            temp.apply(op, acl.allchannels_default)
        except _acl.RuleError as e:
            raise ReplyError(b"ERR Error in ACL SETUSER modifier '%s': %s" % (op, str(e).encode())) from None
    if existing is not None:
        acl.kill_pubsub_clients(temp, existing)
        was_enabled = existing.enabled
        existing.copy_from(temp)
        if was_enabled and not existing.enabled:
            acl.drop_clients(existing, c)
        acl.user_changed(existing)
    else:
        acl.users[name] = temp
    return OK


@subcommand("acl", "deluser", -3, _ADMIN, since="6.0.0", summary="Deletes ACL users, and terminates their connections.")
def acl_deluser(c: Client, argv: list[bytes]) -> Any:
    acl = c.server.acl
    if any(name == b"default" for name in argv[2:]):
        raise ReplyError("ERR The 'default' user cannot be removed")
    deleted = 0
    for name in argv[2:]:
        u = acl.users.pop(name, None)
        if u is not None:
            acl.drop_clients(u, c)
            deleted += 1
    return deleted


def _selector_map(s: _acl.Selector) -> dict[bytes, Any]:
    return {b"commands": s.describe_commands().encode("latin-1"), b"keys": s.describe_keys(),
            b"channels": s.describe_channels()}


def _user_flags(u: _acl.User) -> list[bytes]:
    flags = [b"on" if u.enabled else b"off"]
    if u.nopass:
        flags.append(b"nopass")
    if u.sanitize is False:
        flags.append(b"skip-sanitize-payload")
    elif u.sanitize:
        flags.append(b"sanitize-payload")
    return flags


@subcommand("acl", "getuser", 3, _ADMIN, since="6.0.0", summary="Lists the ACL rules of a user.")
def acl_getuser(c: Client, argv: list[bytes]) -> Any:
    u = c.server.acl.users.get(argv[2])
    if u is None:
        return None
    out: dict[bytes, Any] = {b"flags": SetReply(_user_flags(u)), b"passwords": [p.encode() for p in u.passwords]}
    out.update(_selector_map(u.root))
    out[b"selectors"] = [_selector_map(s) for s in u.selectors[1:]]
    return out


@subcommand("acl", "list", 2, _ADMIN, since="6.0.0", summary="Dumps the effective rules in ACL file format.")
def acl_list(c: Client, argv: list[bytes]) -> Any:
    return [b"user " + u.name + b" " + u.describe() for _n, u in sorted(c.server.acl.users.items())]


@subcommand("acl", "users", 2, _ADMIN, since="6.0.0", summary="Lists all ACL users.")
def acl_users(c: Client, argv: list[bytes]) -> Any:
    return sorted(c.server.acl.users)


@subcommand("acl", "whoami", 2, "noscript loading stale", since="6.0.0",
            summary="Returns the authenticated username of the current connection.")
def acl_whoami(c: Client, argv: list[bytes]) -> Any:
    return c.user


def _no_acl_file(c: Client) -> None:
    if not c.server.config["aclfile"]:
        raise ReplyError("ERR This Redis instance is not configured to use an ACL file. You may want to specify "
                         "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
                         "Redis configuration file set) in order to store users in the Redis configuration.")


@subcommand("acl", "load", 2, _ADMIN, since="6.0.0", summary="Reloads the rules from the configured ACL file.")
def acl_load(c: Client, argv: list[bytes]) -> Any:
    _no_acl_file(c)
    errors = c.server.acl.load_file(c.server.config["aclfile"], c)
    if errors is not None:
        raise ReplyError("ERR " + errors)
    return OK


@subcommand("acl", "save", 2, _ADMIN, since="6.0.0", summary="Saves the effective ACL rules in the configured ACL file.")
def acl_save(c: Client, argv: list[bytes]) -> Any:
    _no_acl_file(c)
    if not c.server.acl.save_file(c.server.config["aclfile"]):
        raise ReplyError("ERR There was an error trying to save the ACLs. Please check the server logs for more "
                         "information")
    return OK


def _category_commands(cat: str) -> list[bytes]:
    from .command_cmds import acl_categories

    out: list[bytes] = []

    def walk(cmd: Command) -> None:
        if cat in acl_categories(cmd):
            out.append(cmd.fullname.encode())
        for sub in cmd.subcommands.values():
            walk(sub)

    for cmd in COMMANDS.values():
        walk(cmd)
    return out


@subcommand("acl", "cat", -2, "noscript loading stale", since="6.0.0",
            summary="Lists the ACL categories, or the commands inside a category.")
def acl_cat(c: Client, argv: list[bytes]) -> Any:
    if len(argv) == 2:
        return [x.encode() for x in _acl.CATEGORIES]
    if len(argv) != 3:
        raise _syntax_error(argv)
    cat = argv[2].decode("latin-1").lower()
    if cat not in _acl.CATEGORIES:
        raise ReplyError(b"ERR Unknown category '%s'" % argv[2].split(b"\0", 1)[0][:128])
    return _category_commands(cat)


@subcommand("acl", "genpass", -2, "noscript loading stale", since="6.0.0",
            summary="Generates a pseudorandom, secure password that can be used to identify ACL users.")
def acl_genpass(c: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise _syntax_error(argv)
    bits = parse_int(argv[2]) if len(argv) == 3 else 256
    if bits <= 0 or bits > 4096:
        raise ReplyError("ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
                         "number up to 4096")
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@subcommand("acl", "log", -2, _ADMIN, since="6.0.0", summary="Lists recent security events generated due to ACL rules.")
def acl_log(c: Client, argv: list[bytes]) -> Any:
    import time

    acl = c.server.acl
    if len(argv) > 3:
        raise _syntax_error(argv)
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            acl.log.clear()
            return OK
        count = max(0, parse_int(argv[2]))
    now = int(time.time() * 1000)
    out = []
    for e in acl.log[:count]:
        out.append({
            b"count": e["count"],
            b"reason": _acl.REASONS[e["reason"]],
            b"context": e["context"],
            b"object": e["object"],
            b"username": e["username"],
            b"age-seconds": (now - e["ctime"]) / 1000,
            b"client-info": e["cinfo"],
            b"entry-id": e["id"],
            b"timestamp-created": e["created"],
            b"timestamp-last-updated": e["ctime"],
        })
    return out


@subcommand("acl", "dryrun", -4, _ADMIN, since="7.0.0",
            summary="Simulates the execution of a command by a user, without executing the command.")
def acl_dryrun(c: Client, argv: list[bytes]) -> Any:
    acl = c.server.acl
    u = acl.users.get(argv[2])
    if u is None:
        raise ReplyError(b"ERR User '%s' not found" % argv[2])
    target = argv[3:]
    from ..executor import command_named  # the live names (rename-command), as lookupCommand

    cmd = command_named(target[0])
    if cmd is not None and cmd.subcommands and len(target) > 1:
        cmd = cmd.subcommands.get(target[1].lower())
    if cmd is None:
        raise ReplyError(b"ERR Command '%s' not found" % argv[3])
    n = len(target)
    if (cmd.arity > 0 and n != cmd.arity) or n < -cmd.arity:
        raise ReplyError(b"ERR wrong number of arguments for '%s' command" % cmd.fullname.encode())
    result, pos = u.check(cmd, target)
    if result == _acl.OK:
        return OK
    return _acl.error_message(result, u, cmd, target[pos], True)


@subcommand("acl", "help", 2, "loading stale", since="6.0.0",
            summary="Returns helpful text about the different subcommands.")
def acl_help(c: Client, argv: list[bytes]) -> Any:
    return help_lines("ACL", [
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
    ])
