"""The sorted set value: a dict for member -> score plus a SortedList for rank order.

Rank and range operations are O(log n) through ``sortedcontainers.SortedList``
ordered by (score, member), which is Redis' skiplist order.  Score ranges are
found by bisecting with one-element tuples: ``(s,)`` sorts before every
``(s, member)``, so ``bisect_left((s,))`` is the first rank with score >= s.

``big`` records Redis' encoding (listpack while small, skiplist once it grew
past ``zset-max-listpack-*``; like Redis it never converts back by itself).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from sortedcontainers import SortedList

from ..db import register_type

_INF = math.inf


def _next_up(x: float) -> float:
    return math.nextafter(x, _INF)


class _Ranks(SortedList):
    """The (score, member) order.  Sublists of 300-600 instead of 1000-2000: every insert and
    every pop from an end moves the tail of one sublist, and ZADD/ZPOPMIN on a big set spend
    most of their instructions there (a pop from the front costs 2.5x less, an insert a bit
    less), while bisecting and ranking only grow by a level of the positional index."""

    DEFAULT_LOAD_FACTOR = 300


class LexBound:
    """One end of a lex range: ``-`` (kind -1), ``+`` (kind 1) or ``[v`` / ``(v`` (kind 0)."""

    __slots__ = ("kind", "value", "ex")

    def __init__(self, kind: int, value: bytes = b"", ex: bool = True) -> None:
        self.kind = kind
        self.value = value
        self.ex = ex

    def cmp(self, member: bytes) -> int:
        """sdscmplex(member, bound): <0, 0, >0."""
        if self.kind < 0:
            return 1
        if self.kind > 0:
            return -1
        v = self.value
        return (member > v) - (member < v)


def lex_bound_cmp(a: LexBound, b: LexBound) -> int:
    """sdscmplex(min, max) between two bounds."""
    if a.kind == b.kind and a.kind != 0:
        return 0
    if a.kind < 0 or b.kind > 0:
        return -1
    if a.kind > 0 or b.kind < 0:
        return 1
    return (a.value > b.value) - (a.value < b.value)


class ZSet:
    """A Redis sorted set."""

    __slots__ = ("dict", "sl", "big")

    def __init__(self) -> None:
        self.dict: dict[bytes, float] = {}
        self.sl: SortedList = _Ranks()
        self.big = False

    def __len__(self) -> int:
        return len(self.dict)

    @classmethod
    def from_pairs(cls, members: list[bytes], scores: list[float]) -> ZSet | None:
        """A set built in one go (loading): None when a member repeats or a score is NaN.

        Zero scores are stored as 0.0, as ``add`` stores them while the set is a listpack.
        """
        if any(s != s for s in scores):
            return None
        if 0.0 in scores:
            scores = [0.0 if s == 0.0 else s for s in scores]
        d = dict(zip(members, scores))
        if len(d) != len(members):
            return None
        z = cls()
        z.dict = d
        z.sl = _Ranks(zip(scores, members))
        return z

    def __contains__(self, member: bytes) -> bool:
        return member in self.dict

    @property
    def encoding(self) -> str:
        """OBJECT ENCODING name, as Redis would report it."""
        return "skiplist" if self.big else "listpack"

    def convert_if_needed(self, max_entries: int, max_value: int, longest: int = -1) -> None:
        """Switch to the skiplist encoding once the set is too big (zsetAdd's check).

        ``longest`` is the longest member added since the last check (-1: scan all).
        """
        if self.big:
            return
        if len(self.dict) > max_entries:
            self.big = True
            return
        if longest < 0:
            longest = max((len(m) for m in self.dict), default=0)
        if longest > max_value:
            self.big = True

    def normalize_zeros(self) -> None:
        """After converting to listpack: -0 scores become 0, as zzlInsertAt stores them."""
        lo, hi = self.score_range(0.0, False, 0.0, False)
        neg = [m for s, m in self.sl.islice(lo, hi) if math.copysign(1.0, s) < 0]
        for m in neg:
            self.sl.remove((0.0, m))
            self.sl.add((0.0, m))
            self.dict[m] = 0.0

    def score(self, member: bytes) -> float | None:
        return self.dict.get(member)

    def add(self, member: bytes, score: float) -> bool:
        """Insert or update; True when the member is new.

        A listpack stores integral scores as integers, so -0 reads back as 0 there.
        """
        if score == 0.0 and not self.big:
            score = 0.0
        old = self.dict.get(member)
        if old is not None:
            if old == score:
                return False
            self.sl.remove((old, member))
            self.sl.add((score, member))
            self.dict[member] = score
            return False
        self.dict[member] = score
        self.sl.add((score, member))
        return True

    def remove(self, member: bytes) -> bool:
        old = self.dict.pop(member, None)
        if old is None:
            return False
        self.sl.remove((old, member))
        return True

    def pop_at(self, index: int) -> tuple[float, bytes]:
        """Remove and return (score, member) at rank ``index`` (negative from the end)."""
        score, member = self.sl.pop(index)
        del self.dict[member]
        return score, member

    def delete_slice(self, lo: int, hi: int) -> int:
        """Remove ranks [lo, hi); returns how many went."""
        if hi <= lo:
            return 0
        sl = self.sl
        d = self.dict
        for _score, member in sl.islice(lo, hi):
            del d[member]
        del sl[lo:hi]
        return hi - lo

    def rank(self, member: bytes) -> int | None:
        """0-based rank in ascending order."""
        s = self.dict.get(member)
        if s is None:
            return None
        return int(self.sl.index((s, member)))

    def items(self) -> Iterator[tuple[bytes, float]]:
        """(member, score) in rank order."""
        for score, member in self.sl:
            yield member, score

    def __iter__(self) -> Iterator[bytes]:
        for _score, member in self.sl:
            yield member

    def slice(self, lo: int, hi: int, reverse: bool = False) -> Iterator[tuple[float, bytes]]:
        """(score, member) for ranks [lo, hi), descending when ``reverse``."""
        if hi <= lo:
            return iter(())
        return self.sl.islice(lo, hi, reverse=reverse)

    # -- ranges ---------------------------------------------------------------

    def score_range(self, mn: float, minex: bool, mx: float, maxex: bool) -> tuple[int, int]:
        """Ranks [lo, hi) of the members with min <(=) score <(=) max."""
        if mn > mx or (mn == mx and (minex or maxex)):
            return 0, 0
        sl = self.sl
        n = len(sl)
        if minex:
            lo = n if mn == _INF else sl.bisect_left((_next_up(mn),))
        else:
            lo = sl.bisect_left((mn,))
        if maxex:
            hi = sl.bisect_left((mx,))
        else:
            hi = n if mx == _INF else sl.bisect_left((_next_up(mx),))
        return lo, max(lo, hi)

    def count_in_score_range(self, mn: float, minex: bool, mx: float, maxex: bool) -> int:
        lo, hi = self.score_range(mn, minex, mx, maxex)
        return hi - lo

    def lex_range(self, mn: LexBound, mx: LexBound, reverse: bool = False) -> tuple[int, int]:
        """Ranks [lo, hi) of the members inside a lex range.

        With one common score (the only case Redis defines) this bisects.
        With mixed scores it walks like Redis' listpack code: from the first
        member >= min forward while <= max (or from the last member <= max
        backwards while >= min when ``reverse``).
        """
        cmp = lex_bound_cmp(mn, mx)
        if cmp > 0 or (cmp == 0 and (mn.ex or mx.ex)):
            return 0, 0
        sl = self.sl
        n = len(sl)
        if n == 0:
            return 0, 0
        first_score = sl[0][0]
        if first_score == sl[-1][0]:
            s = first_score
            if mn.kind < 0:
                lo = 0
            elif mn.kind > 0:
                lo = n
            elif mn.ex:
                lo = sl.bisect_right((s, mn.value))
            else:
                lo = sl.bisect_left((s, mn.value))
            if mx.kind > 0:
                hi = n
            elif mx.kind < 0:
                hi = 0
            elif mx.ex:
                hi = sl.bisect_left((s, mx.value))
            else:
                hi = sl.bisect_right((s, mx.value))
            return lo, max(lo, hi)
        return self._lex_walk(mn, mx, reverse)

    def _lex_walk(self, mn: LexBound, mx: LexBound, reverse: bool) -> tuple[int, int]:
        sl = self.sl
        n = len(sl)

        def gte_min(m: bytes) -> bool:
            c = mn.cmp(m)
            return c > 0 if mn.ex else c >= 0

        def lte_max(m: bytes) -> bool:
            c = mx.cmp(m)
            return c < 0 if mx.ex else c <= 0

        # zzlIsInLexRange: the tail must be >= min and the head <= max
        if not gte_min(sl[-1][1]) or not lte_max(sl[0][1]):
            return 0, 0
        if not reverse:
            i = 0
            while i < n and not gte_min(sl[i][1]):
                i += 1
            if i == n or not lte_max(sl[i][1]):
                return 0, 0
            j = i
            while j < n and lte_max(sl[j][1]):
                j += 1
            return i, j
        i = n - 1
        while i >= 0 and not lte_max(sl[i][1]):
            i -= 1
        if i < 0 or not gte_min(sl[i][1]):
            return 0, 0
        j = i
        while j >= 0 and gte_min(sl[j][1]):
            j -= 1
        return j + 1, i + 1

    # -- copies ---------------------------------------------------------------

    def copy(self) -> ZSet:
        z = ZSet()
        z.dict = dict(self.dict)
        z.sl = _Ranks(self.sl)
        z.big = self.big
        return z

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ZSet) and self.dict == other.dict

    def __repr__(self) -> str:
        return f"ZSet({list(self.items())!r})"


register_type(ZSet, "zset")
