"""Write fastredis/commands/redis_meta.py from a running redis-server's COMMAND reply.

Redis compiles src/commands/*.json into its command table; COMMAND reports, per
command and subcommand, the ACL categories, tips and key specs (flags,
begin_search, find_keys) taken from those files.  This script keeps that data
for the declarative command table, so ACL checks and COMMAND INFO/GETKEYSANDFLAGS
answer from Redis' own declarations.

    redis-server --port 7399 --save '' &
    python tools/gen_redis_meta.py 7399 > fastredis/commands/redis_meta.py
"""

from __future__ import annotations

import pprint
import socket
import sys
from typing import Any

import hiredis


def _pairs(v: Any) -> Any:
    """A RESP2 flat map (key, value, ...) as a dict with str keys, recursively."""
    if isinstance(v, list) and len(v) % 2 == 0 and v and all(isinstance(k, bytes) for k in v[::2]) and \
            v[0] in (b"flags", b"type", b"index", b"keyword", b"lastkey", b"keynumidx", b"notes",
                     b"begin_search", b"find_keys", b"spec", b"startfrom"):
        out = {}
        for k, x in zip(v[::2], v[1::2]):
            key = k.decode()
            if key == "flags":
                out[key] = [f.decode() for f in x]
            else:
                out[key] = _pairs(x)
        return out
    if isinstance(v, bytes):
        return v.decode()
    return v


def main() -> None:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"COMMAND\r\n")
    rd = hiredis.Reader()
    res: Any = False
    while res is False:
        rd.feed(s.recv(1 << 20))
        res = rd.gets()
    meta: dict[str, tuple[Any, ...]] = {}

    def add(info: list[Any]) -> None:
        name = info[0].decode()
        acl = tuple(c.decode().lstrip("@") for c in info[6])
        tips = tuple(t.decode() for t in info[7])
        specs = [_pairs(k) for k in info[8]]
        meta[name] = (acl, tips, specs)
        for sub in info[9]:
            add(sub)

    for info in res:
        add(info)
    print('"""ACL categories, tips and key specs of every Redis command (generated: tools/gen_redis_meta.py).')
    print()
    print("From Redis' src/commands/*.json as redis-server reports them in COMMAND.  Do not edit by hand.")
    print('"""')
    print()
    print("from typing import Any")
    print()
    print("# fullname -> (acl categories, tips, key specs)")
    print("META: dict[str, tuple[tuple[str, ...], tuple[str, ...], list[dict[str, Any]]]] = ", end="")
    print(pprint.pformat(dict(sorted(meta.items())), width=120, sort_dicts=False))


if __name__ == "__main__":
    main()
