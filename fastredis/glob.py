"""Redis' glob-style matcher (util.c stringmatchlen): ``* ? [a-z] [^a] \\x``.

A pattern is parsed once, token by token, exactly as ``stringmatchlen`` walks it,
and compiled to a regular expression that is cached; KEYS/SCAN over many keys
then cost one regex match per key.  The parse reproduces Redis' quirks:

* a ``[...]`` class becomes a 256-entry byte table built with C's rules: ``\\x``
  escapes (compared case-sensitively even in nocase mode), ``a-z`` ranges
  compared as *signed* chars (so ``[a-\\xff]`` is the range -1..97), reversed
  ranges swapped, ``]`` closing the class only where the C loop looks for it (a
  range like ``a-]`` swallows the bracket and the class goes on), and an
  unterminated class ending with the pattern;
* a non-empty pattern never matches the empty string (the C loop never runs,
  so even ``*`` fails on ``""``; KEYS/SCAN special-case a bare ``*`` themselves);
* more than 1000 ``*`` groups that are followed by something hit the recursion
  guard (``nesting > 1000``) and the pattern matches nothing;
* nocase folds ASCII letters only (``tolower`` in the C locale), range ends
  are folded after being swapped.

The regex never backtracks badly: text between two ``*`` is a fixed-length
segment matched leftmost inside an atomic group, which is enough to decide a
glob match (an earlier placement of a segment never hurts the segments after
it), so matching is O(len(pattern) * len(string)) like Redis' own pruning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_STAR = None  # token marking a '*' group


def _signed(b: int) -> int:
    return b - 256 if b >= 128 else b


def _lower(v: int) -> int:
    return v + 32 if 65 <= v <= 90 else v


def _class(pattern: bytes, i: int, nocase: bool) -> tuple[frozenset[int], int]:
    """Parse a ``[...]`` class starting after the ``[``; returns (bytes matched, next index)."""
    n = len(pattern)
    negate = i < n and pattern[i] == 0x5E  # ^
    if negate:
        i += 1
    members: set[int] = set()
    while True:
        if i < n and pattern[i] == 0x5C and n - i >= 2:  # backslash escape
            i += 1
            members.add(pattern[i])
        elif i < n and pattern[i] == 0x5D:  # ]
            break
        elif i >= n:  # unterminated: the class ends with the pattern
            i -= 1
            break
        elif n - i >= 3 and pattern[i + 1] == 0x2D:  # a-z
            start, end = _signed(pattern[i]), _signed(pattern[i + 2])
            if start > end:
                start, end = end, start
            if nocase:
                start, end = _lower(start), _lower(end)
                members.update(b for b in range(256) if start <= _lower(_signed(b)) <= end)
            else:
                members.update(b for b in range(256) if start <= _signed(b) <= end)
            i += 2
        else:
            ch = pattern[i]
            if nocase:
                low = _lower(_signed(ch))
                members.update(b for b in range(256) if _lower(_signed(b)) == low)
            else:
                members.add(ch)
        i += 1
    if negate:
        members = set(range(256)) - members
    return frozenset(members), i + 1


def tokenize(pattern: bytes, nocase: bool = False) -> list[frozenset[int] | None]:
    """The pattern as a list of single-byte matchers (byte sets) and ``None`` for ``*`` groups."""
    tokens: list[frozenset[int] | None] = []
    i, n = 0, len(pattern)
    anybyte = frozenset(range(256))
    while i < n:
        c = pattern[i]
        if c == 0x2A:  # *
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            tokens.append(_STAR)
            i += 1
        elif c == 0x3F:  # ?
            tokens.append(anybyte)
            i += 1
        elif c == 0x5B:  # [
            members, i = _class(pattern, i + 1, nocase)
            tokens.append(members)
        else:
            if c == 0x5C and n - i >= 2:  # backslash escape
                i += 1
                c = pattern[i]
            if nocase:
                low = _lower(_signed(c))
                tokens.append(frozenset(b for b in range(256) if _lower(_signed(b)) == low))
            else:
                tokens.append(frozenset((c,)))
            i += 1
    return tokens


def _byte_regex(members: frozenset[int]) -> bytes:
    if len(members) == 256:
        return b"."
    if not members:
        return b"(?!)"
    if len(members) == 1:
        return re.escape(bytes(members))
    out = bytearray(b"[")
    ordered = sorted(members)
    start = prev = ordered[0]
    for b in [*ordered[1:], -2]:
        if b == prev + 1:
            prev = b
            continue
        out += b"\\x%02x" % start
        if prev != start:
            out += b"-\\x%02x" % prev
        start = prev = b
    out += b"]"
    return bytes(out)


def _translate(pattern: bytes, nocase: bool) -> bytes:
    if not pattern:
        return b"\\Z"
    tokens = tokenize(pattern, nocase)
    # split into fixed-length segments around '*' groups
    segments: list[bytes] = [b""]
    for t in tokens:
        if t is _STAR:
            segments.append(b"")
        else:
            segments[-1] += _byte_regex(t)
    stars = len(segments) - 1
    if stars - (1 if tokens[-1] is _STAR else 0) > 1000:
        return b"(?!)"  # stringmatchlen's recursion guard: nesting > 1000 never matches
    out = b"(?=.)" + segments[0]  # a non-empty pattern never matches ""
    if stars:
        for seg in segments[1:-1]:
            out += b"(?>.*?" + seg + b")"
        out += b".*" + segments[-1]
    return out + b"\\Z"


@lru_cache(maxsize=256)
def compile_pattern(pattern: bytes, nocase: bool = False) -> re.Pattern[bytes]:
    """A compiled regex whose ``.match(s)`` succeeds exactly when Redis' stringmatchlen would."""
    return re.compile(_translate(bytes(pattern), nocase), re.DOTALL)


def stringmatch(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """True when ``string`` matches the glob ``pattern`` as Redis matches it."""
    return compile_pattern(pattern, nocase).match(string) is not None


def matcher(pattern: bytes | None, nocase: bool = False) -> Callable[[bytes], bool]:
    """A predicate for KEYS/SCAN MATCH: ``None`` or a bare ``*`` match everything.

    (KEYS and SCAN skip the matcher for ``*``, so there ``*`` also matches the empty key.)
    """
    if pattern is None or pattern == b"*":
        return lambda s: True
    rx = compile_pattern(pattern, nocase)
    return lambda s: rx.match(s) is not None
