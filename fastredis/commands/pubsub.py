"""Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, (S)PUBLISH, PUBSUB *.

Subscription confirmations are pushed one per channel (RESP3 push, RESP2
array) ahead of anything that follows, so the command itself has no reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._resp import Push, Raw, ReplyError
from ..glob import compile_pattern
from .table import command, container, subcommand

if TYPE_CHECKING:
    from ..context import Client

NO_REPLY = Raw(b"")


@command("subscribe", -2, "pubsub noscript loading stale", group="pubsub", since="2.0.0",
         summary="Listens for messages published to channels.")
def subscribe(c: Client, argv: list[bytes]) -> Any:
    ps = c.server.pubsub
    for ch in argv[1:]:
        ps.subscribe(c, ch)
        c.send_push(Push([b"subscribe", ch, c.subscriptions]))
    return NO_REPLY


@command("ssubscribe", -2, "pubsub noscript loading stale", keys=(1, -1, 1), group="pubsub", since="7.0.0",
         summary="Listens for messages published to shard channels.")
def ssubscribe(c: Client, argv: list[bytes]) -> Any:
    ps = c.server.pubsub
    for ch in argv[1:]:
        ps.subscribe(c, ch, shard=True)
        c.send_push(Push([b"ssubscribe", ch, len(c.shard_channels)]))
    return NO_REPLY


@command("psubscribe", -2, "pubsub noscript loading stale", group="pubsub", since="2.0.0",
         summary="Listens for messages published to channels that match one or more patterns.")
def psubscribe(c: Client, argv: list[bytes]) -> Any:
    ps = c.server.pubsub
    for p in argv[1:]:
        ps.psubscribe(c, p)
        c.send_push(Push([b"psubscribe", p, c.subscriptions]))
    return NO_REPLY


@command("unsubscribe", -1, "pubsub noscript loading stale", group="pubsub", since="2.0.0",
         summary="Stops listening to messages posted to channels.")
def unsubscribe(c: Client, argv: list[bytes]) -> Any:
    ps = c.server.pubsub
    targets = argv[1:] or sorted(c.channels)
    if not targets:
        c.send_push(Push([b"unsubscribe", None, c.subscriptions]))
    for ch in targets:
        ps.unsubscribe(c, ch)
        c.send_push(Push([b"unsubscribe", ch, c.subscriptions]))
    return NO_REPLY


@command("sunsubscribe", -1, "pubsub noscript loading stale", keys=(1, -1, 1), group="pubsub",
         since="7.0.0", summary="Stops listening to messages posted to shard channels.")
def sunsubscribe(c: Client, argv: list[bytes]) -> Any:
    ps = c.server.pubsub
    targets = argv[1:] or sorted(c.shard_channels)
    if not targets:
        c.send_push(Push([b"sunsubscribe", None, len(c.shard_channels)]))
    for ch in targets:
        ps.unsubscribe(c, ch, shard=True)
        c.send_push(Push([b"sunsubscribe", ch, len(c.shard_channels)]))
    return NO_REPLY


@command("punsubscribe", -1, "pubsub noscript loading stale", group="pubsub", since="2.0.0",
         summary="Stops listening to messages published to channels that match one or more patterns.")
def punsubscribe(c: Client, argv: list[bytes]) -> Any:
    ps = c.server.pubsub
    targets = argv[1:] or sorted(c.patterns)
    if not targets:
        c.send_push(Push([b"punsubscribe", None, c.subscriptions]))
    for p in targets:
        ps.punsubscribe(c, p)
        c.send_push(Push([b"punsubscribe", p, c.subscriptions]))
    return NO_REPLY


@command("publish", 3, "pubsub loading stale fast may-replicate", group="pubsub", since="2.0.0",
         summary="Posts a message to a channel.")
def publish(c: Client, argv: list[bytes]) -> Any:
    n = c.server.pubsub.publish(argv[1], argv[2])
    # PUBLISH is replicated (a replica's subscribers see it too)
    c.server.propagate(c.db.id, argv)
    return n


@command("spublish", 3, "pubsub loading stale fast may-replicate", keys=(1, 1, 1), group="pubsub",
         since="7.0.0", summary="Post a message to a shard channel")
def spublish(c: Client, argv: list[bytes]) -> Any:
    n = c.server.pubsub.spublish(argv[1], argv[2])
    c.server.propagate(c.db.id, argv)
    return n


container("pubsub", -2, "", group="pubsub", since="2.8.0", summary="A container for Pub/Sub commands.")


def _channels(reg: dict[bytes, Any], argv: list[bytes]) -> list[bytes]:
    if len(argv) > 2:
        rx = compile_pattern(argv[2])
        return [ch for ch in reg if rx.match(ch) is not None]
    return list(reg)


@subcommand("pubsub", "channels", -2, "pubsub loading stale", since="2.8.0",
            summary="Returns the active channels.")
def pubsub_channels(c: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise ReplyError("ERR wrong number of arguments for 'pubsub|channels' command")
    return _channels(c.server.pubsub.channels, argv)


@subcommand("pubsub", "shardchannels", -2, "pubsub loading stale", since="7.0.0",
            summary="Returns the active shard channels.")
def pubsub_shardchannels(c: Client, argv: list[bytes]) -> Any:
    if len(argv) > 3:
        raise ReplyError("ERR wrong number of arguments for 'pubsub|shardchannels' command")
    return _channels(c.server.pubsub.shard_channels, argv)


@subcommand("pubsub", "numsub", -2, "pubsub loading stale", since="2.8.0",
            summary="Returns a count of subscribers to channels.")
def pubsub_numsub(c: Client, argv: list[bytes]) -> Any:
    return _counts_map(c, c.server.pubsub.channels, argv[2:])


def _counts_map(c: Client, reg: dict[bytes, Any], names: list[bytes]) -> Any:
    """addReplyArrayLen((argc-2)*2) + (name, count) per argument: a flat array in RESP3 too.

    Redis 7.2 (and 8) reply with an array, not a map; redis-py's RESP3 parser relies on it.
    """
    return [x for ch in names for x in (ch, len(reg.get(ch, ())))]


@subcommand("pubsub", "shardnumsub", -2, "pubsub loading stale", since="7.0.0",
            summary="Returns the count of subscribers of shard channels.")
def pubsub_shardnumsub(c: Client, argv: list[bytes]) -> Any:
    return _counts_map(c, c.server.pubsub.shard_channels, argv[2:])


@subcommand("pubsub", "numpat", 2, "pubsub loading stale", since="2.8.0",
            summary="Returns a count of unique pattern subscriptions.")
def pubsub_numpat(c: Client, argv: list[bytes]) -> Any:
    return len(c.server.pubsub.patterns)


@subcommand("pubsub", "help", 2, "loading stale", since="6.2.0", summary="Returns helpful text about the different subcommands.")
def pubsub_help(c: Client, argv: list[bytes]) -> Any:
    from ._help import help_lines

    return help_lines("PUBSUB", [
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ])
