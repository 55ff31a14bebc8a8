"""fastredis: a Redis-compatible server on uvloop with a Cython RESP core.

``fastredis.embedded(port=0, **config)`` starts a server in a child process for tests and
notebooks (see ``fastredis.embed``); it is imported on first use so that ``import fastredis``
stays cheap for the server itself.
"""

from __future__ import annotations

from typing import Any

from .version import FASTREDIS_VERSION as __version__

__all__ = ["EmbeddedServer", "EmbeddedServerError", "__version__", "embedded"]


def __getattr__(name: str) -> Any:
    if name in ("embedded", "EmbeddedServer", "EmbeddedServerError"):
        from . import embed

        return getattr(embed, name)
    raise AttributeError(f"module 'fastredis' has no attribute {name!r}")
