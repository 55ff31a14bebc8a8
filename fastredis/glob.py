"""Redis' glob-style matcher (util.c stringmatchlen): ``* ? [a-z] [^a] \\x``.

Patterns are translated once to a compiled regular expression and cached, so
KEYS/SCAN over many keys costs one regex match per key.
"""

from __future__ import annotations

import re
from functools import lru_cache


def _translate(pattern: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x2A:  # *
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            out += b".*"
        elif c == 0x3F:  # ?
            out += b"."
        elif c == 0x5B:  # [
            i += 1
            negate = i < n and pattern[i] == 0x5E
            if negate:
                i += 1
            items: list[bytes] = []
            while i < n and pattern[i] != 0x5D:
                if pattern[i] == 0x5C and i + 1 < n:
                    i += 1
                    items.append(re.escape(bytes([pattern[i]])))
                elif i + 2 < n and pattern[i + 1] == 0x2D:
                    lo, hi = pattern[i], pattern[i + 2]
                    if lo > hi:
                        lo, hi = hi, lo
                    items.append(re.escape(bytes([lo])) + b"-" + re.escape(bytes([hi])))
                    i += 2
                else:
                    items.append(re.escape(bytes([pattern[i]])))
                i += 1
            # an unterminated class behaves as if closed at the end of the pattern
            body = b"".join(items)
            if not body:
                out += b"[^\\s\\S]" if not negate else b"[\\s\\S]"
            else:
                out += b"[" + (b"^" if negate else b"") + body + b"]"
        elif c == 0x5C and i + 1 < n:  # backslash escape
            i += 1
            out += re.escape(bytes([pattern[i]]))
        else:
            out += re.escape(bytes([c]))
        i += 1
    return bytes(out)


@lru_cache(maxsize=256)
def compile_pattern(pattern: bytes, nocase: bool = False) -> re.Pattern[bytes]:
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    return re.compile(_translate(pattern) + b"\\Z", flags)


def stringmatch(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """True when ``string`` matches the glob ``pattern`` as Redis matches it."""
    if pattern == b"*":
        return True
    return compile_pattern(pattern, nocase).match(string) is not None


def matcher(pattern: bytes | None, nocase: bool = False):  # type: ignore[no-untyped-def]
    """A predicate for a pattern; ``None`` or ``*`` match everything."""
    if pattern is None or pattern == b"*":
        return lambda s: True
    rx = compile_pattern(pattern, nocase)
    return lambda s: rx.match(s) is not None
