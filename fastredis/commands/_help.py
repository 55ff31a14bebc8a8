"""The HELP reply every container command gives (addReplyHelp)."""

from __future__ import annotations

from .._resp import Status


def help_lines(name: str, lines: list[str]) -> list[Status]:
    """``<NAME> <subcommand> [<arg> ...]. Subcommands are:`` + lines + the HELP entry."""
    head = f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    tail = ["HELP", "    Print this help."]
    return [Status(x.encode()) for x in [head, *lines, *tail]]
