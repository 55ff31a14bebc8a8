"""The embedded server's child process (``embed.py`` starts it): argv is the parent's ``sys.path``
(one entry a line), the inherited listening socket's fd, the lifeline pipe's fd, then redis-server
arguments. Kept apart from ``embed.py`` so the child imports nothing it does not need.
"""

from __future__ import annotations

import socket
import sys

from .cli import _fatal, build_config
from .config import ConfigError


def main() -> None:
    listen_fd, lifeline = int(sys.argv[2]), int(sys.argv[3])
    try:
        config = build_config(sys.argv[4:])
    except ConfigError as e:
        _fatal(e)
        sys.exit(1)
    from . import supervise
    from .log import Logger
    from .server import Server, run

    supervisor = supervise.detect(config["supervised"], Logger(config["logfile"], config["loglevel"], role="C"))
    listener = socket.socket(fileno=listen_fd)

    def watch_parent(server: Server) -> None:
        """When the embedding process exits (even by SIGKILL) the pipe closes: shut down."""
        def parent_gone() -> None:
            assert server.loop is not None
            server.loop.remove_reader(lifeline)
            server.log("warning", "The embedding process exited, shutting down.")
            server.request_shutdown({})

        def start() -> None:
            assert server.loop is not None
            server.loop.add_reader(lifeline, parent_gone)

        server.startup_hooks.insert(0, start)

    sys.exit(run(config, supervisor, [listener], setup=watch_parent))
