"""An example fastredis module: a fixed-window rate limiter and a few helpers, in Python.

Load it with ``fastredis-server --loadmodule examples/ratelimit.py 10`` (10 requests per window by
default), ``loadmodule /path/to/ratelimit.py 10`` in the config file, or at run time with
``MODULE LOAD /path/to/ratelimit.py 10`` (needs ``enable-module-command yes``).

    RL.HIT key [limit] [window-seconds]  ->  [allowed 1/0, hits in this window, ms until reset]
    RL.PEEK key                          ->  hits in the current window (0 when none)
    RL.RESET key [key ...]               ->  number of keys removed
    RL.CONFIG                            ->  the default limit and window

RL.HIT and RL.RESET make their writes through ``call()``: replicas and the AOF receive the
INCR / PEXPIRE / DEL they caused, so a replica does not need this module.
"""

from __future__ import annotations

from fastredis.module import ReplyError, call, command

NAME = "ratelimit"
VERSION = 1

DEFAULTS = {"limit": 10, "window": 60}


def on_load(args: list[bytes]) -> None:
    """``loadmodule ratelimit.py [limit] [window-seconds]``."""
    if len(args) > 2:
        raise ValueError("usage: ratelimit.py [limit] [window-seconds]")
    if args:
        DEFAULTS["limit"] = _positive(args[0])
    if len(args) > 1:
        DEFAULTS["window"] = _positive(args[1])


def _positive(arg: bytes) -> int:
    try:
        n = int(arg)
    except ValueError:
        raise ReplyError("ERR limit and window must be positive integers") from None
    if n <= 0:
        raise ReplyError("ERR limit and window must be positive integers")
    return n


@command("rl.hit", -2, "write denyoom", keys=(1, 1, 1), summary="Counts a hit and says if it is allowed.",
         since="1.0.0", complexity="O(1)")
def rl_hit(c, argv):
    if len(argv) > 4:
        raise ReplyError("ERR wrong number of arguments for 'rl.hit' command")
    key = argv[1]
    limit = _positive(argv[2]) if len(argv) > 2 else DEFAULTS["limit"]
    window = _positive(argv[3]) if len(argv) > 3 else DEFAULTS["window"]
    hits = call(c, "INCR", key)
    if hits == 1:
        call(c, "PEXPIRE", key, window * 1000)
    ttl = call(c, "PTTL", key)
    return [1 if hits <= limit else 0, hits, max(ttl, 0)]


@command("rl.peek", 2, "readonly fast", keys=(1, 1, 1), summary="Hits in the current window.")
def rl_peek(c, argv):
    value = c.db.get(argv[1])
    if value is None:
        return 0
    if not isinstance(value, (bytes, bytearray)):
        raise ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value")
    return int(value)


@command("rl.reset", -2, "write", keys=(1, -1, 1), summary="Forgets the windows of the given keys.")
def rl_reset(c, argv):
    return call(c, "DEL", *argv[1:])


@command("rl.config", 1, "readonly fast", summary="The default limit and window.")
def rl_config(c, argv):
    return {b"limit": DEFAULTS["limit"], b"window": DEFAULTS["window"]}
