"""Command modules, one per data type or group, in the spirit of Redis' src/t_*.c.

Importing this package registers every command: each module declares its
commands in the table with ``@command``; new modules are picked up by name.
"""

import importlib
import pkgutil

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _mod != "table" and not _mod.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod}")

from .table import apply_redis_meta  # noqa: E402

apply_redis_meta()
