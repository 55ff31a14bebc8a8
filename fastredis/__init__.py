"""fastredis: a Redis-compatible server on uvloop with a Cython RESP core."""

from .version import FASTREDIS_VERSION as __version__

__all__ = ["__version__"]
