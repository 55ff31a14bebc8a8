"""The sorted set value: a dict for member -> score plus a SortedList for rank order.

Rank and range operations are O(log n) through ``sortedcontainers.SortedList``
ordered by (score, member), which is Redis' skiplist order.
"""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedList

from ..db import register_type


class ZSet:
    """A Redis sorted set."""

    __slots__ = ("dict", "sl")

    def __init__(self) -> None:
        self.dict: dict[bytes, float] = {}
        self.sl: SortedList = SortedList()

    def __len__(self) -> int:
        return len(self.dict)

    def __contains__(self, member: bytes) -> bool:
        return member in self.dict

    def score(self, member: bytes) -> float | None:
        return self.dict.get(member)

    def add(self, member: bytes, score: float) -> bool:
        """Insert or update; True when the member is new."""
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

    def copy(self) -> ZSet:
        z = ZSet()
        z.dict = dict(self.dict)
        z.sl = SortedList(self.sl)
        return z

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ZSet) and self.dict == other.dict

    def __repr__(self) -> str:
        return f"ZSet({list(self.items())!r})"


register_type(ZSet, "zset")
