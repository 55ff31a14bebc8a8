"""Logging in Redis' format: ``pid:M 24 Nov 2026 10:00:00.123 * message``."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
MARKS = {"debug": ".", "verbose": "-", "notice": "*", "warning": "#"}


class Logger:
    """Writes log lines to stdout or a file, filtered by ``loglevel``."""

    def __init__(self, logfile: str = "", level: str = "notice", role: str = "M") -> None:
        self.level = LEVELS.get(level, 2)
        self.role = role
        self.logfile = logfile
        self.stream: TextIO = sys.stdout
        if logfile:
            self.stream = open(logfile, "a", buffering=1)  # noqa: SIM115

    def set_level(self, level: str) -> None:
        self.level = LEVELS.get(level, 2)

    def __call__(self, level: str, msg: str) -> None:
        if LEVELS.get(level, 2) < self.level:
            return
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % int((now % 1) * 1000)
        line = f"{os.getpid()}:{self.role} {stamp} {MARKS.get(level, '*')} {msg}\n"
        try:
            self.stream.write(line)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def raw(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass
