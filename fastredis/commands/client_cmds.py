"""CLIENT subcommands and MONITOR."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import OK, ReplyError
from .table import container, subcommand

if TYPE_CHECKING:
    from ..context import Client

container("client", -2, "sentinel", group="connection", since="2.4.0", summary="A container for client connection commands.")


def validate_name(name: bytes) -> None:
    """Client names may not hold spaces, newlines or other special characters."""
    for b in name:
        if b < 33 or b > 126:
            raise ReplyError("ERR Client names cannot contain spaces, newlines or special characters.")


@subcommand("client", "id", 2, "noscript loading stale", since="5.0.0", summary="Returns the unique client ID of the connection.")
def client_id(c: Client, argv: list[bytes]) -> Any:
    return c.id


@subcommand("client", "setname", 3, "noscript loading stale", since="2.6.9", summary="Sets the connection name.")
def client_setname(c: Client, argv: list[bytes]) -> Any:
    validate_name(argv[2])
    c.name = argv[2] or None
    return OK


@subcommand("client", "getname", 2, "noscript loading stale", since="2.6.9", summary="Returns the name of the connection.")
def client_getname(c: Client, argv: list[bytes]) -> Any:
    return c.name
