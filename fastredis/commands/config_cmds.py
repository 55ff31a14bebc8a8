"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP over ``config.Config``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import info
from .._resp import OK, ReplyError
from ..config import ConfigError, SetError
from ._help import help_lines
from .table import SYNTAX_ERROR, container, subcommand

if TYPE_CHECKING:
    from ..context import Client

container("config", -2, "", group="server", since="2.0.0", summary="A container for server configuration commands.")


def protected_allowed(c: Client, option: str) -> bool:
    """allowProtectedAction: the option is 'yes', or 'local' and the client is on loopback/unix."""
    mode = c.server.config[option]
    if mode == "yes":
        return True
    if mode == "local":
        host = c.addr.rsplit(":", 1)[0]
        return host in ("127.0.0.1", "::1", "[::1]") or c.laddr.startswith("/")
    return False


@subcommand("config", "get", -3, "admin noscript loading stale", since="2.0.0",
            summary="Returns the effective values of configuration parameters.")
def config_get(c: Client, argv: list[bytes]) -> Any:
    cfg = c.server.config
    out: dict[bytes, bytes] = {}
    seen: set[str] = set()
    for pattern in argv[2:]:
        for name in cfg.matching(pattern, seen):
            out[name.encode("utf-8", "surrogateescape")] = cfg.render(name).encode("utf-8", "surrogateescape")
    return out


@subcommand("config", "set", -4, "admin noscript loading stale", since="2.0.0",
            summary="Sets configuration parameters in-flight.")
def config_set(c: Client, argv: list[bytes]) -> Any:
    if len(argv) % 2:
        raise SYNTAX_ERROR
    pairs = [(argv[i].decode("utf-8", "surrogateescape"), argv[i + 1].decode("utf-8", "surrogateescape"))
             for i in range(2, len(argv), 2)]
    try:
        c.server.config.set_many(pairs, allow_protected=protected_allowed(c, "enable-protected-configs"))
    except SetError as e:
        raise ReplyError(e.reply_text()) from None
    return OK


@subcommand("config", "resetstat", 2, "admin noscript loading stale", since="2.0.0",
            summary="Resets the server's statistics.")
def config_resetstat(c: Client, argv: list[bytes]) -> Any:
    info.reset_stats(c.server)
    return OK


@subcommand("config", "rewrite", 2, "admin noscript loading stale", since="2.8.0",
            summary="Persists the effective configuration to file.")
def config_rewrite(c: Client, argv: list[bytes]) -> Any:
    cfg = c.server.config
    if not cfg.config_file:
        raise ReplyError("ERR The server is running without a config file")
    try:
        cfg.rewrite()
    except (OSError, ConfigError) as e:
        msg = getattr(e, "strerror", None) or str(e)
        c.server.log("warning", "CONFIG REWRITE failed: %s" % msg)
        raise ReplyError("ERR Rewriting config file: %s" % msg) from None
    c.server.log("notice", "CONFIG REWRITE executed with success.")
    return OK


@subcommand("config", "help", 2, "loading stale", since="5.0.0", summary="Returns helpful text about the different subcommands.")
def config_help(c: Client, argv: list[bytes]) -> Any:
    return help_lines("CONFIG", [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    ])
