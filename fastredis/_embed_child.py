"""The embedded server's child process (``embed.py`` starts it): argv is the parent's ``sys.path``
(one entry a line), the inherited listening socket's fd, the lifeline pipe's fd, the handle's private
folder (removed here when the embedding process died without stopping the server), then
redis-server arguments. Kept apart from ``embed.py`` so the child imports nothing it does not need.
"""

from __future__ import annotations

import shutil
import socket
import sys

from .cli import _fatal, build_config
from .config import ConfigError


def main() -> None:
    listen_fd, lifeline, workdir = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    try:
        config = build_config(sys.argv[5:])
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
            orphaned.append(True)
            assert server.loop is not None
            server.loop.remove_reader(lifeline)
            server.log("warning", "The embedding process exited, shutting down.")
            server.request_shutdown({})

        def start() -> None:
            assert server.loop is not None
            server.loop.add_reader(lifeline, parent_gone)

        server.startup_hooks.insert(0, start)

    orphaned: list[bool] = []
    code = run(config, supervisor, [listener], setup=watch_parent)
    if orphaned:  # nobody is left to call stop(): free the handle's folder (log, socket, data)
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(code)
