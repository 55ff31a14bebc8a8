"""The replication backlog: the last ``repl-backlog-size`` bytes of the stream.

Offsets follow Redis: ``master_repl_offset`` counts every byte ever fed, and the
first byte held has offset ``first_offset`` (1-based), so a replica asking for
offset ``N`` (the next byte it needs) can continue when
``first_offset <= N <= master_repl_offset + 1``.
"""

from __future__ import annotations


class Backlog:
    """A bounded byte history of the replication stream."""

    def __init__(self, size: int, start_offset: int) -> None:
        self.size = max(16 * 1024, size)
        self.buf = bytearray()
        # offset of buf[0]; the backlog is empty and continues after start_offset
        self.first_offset = start_offset + 1

    @property
    def histlen(self) -> int:
        return len(self.buf)

    def append(self, data: bytes) -> None:
        self.buf += data
        excess = len(self.buf) - self.size
        if excess > self.size // 4:
            # trim in chunks so the memmove cost is amortised
            del self.buf[:excess]
            self.first_offset += excess

    def resize(self, size: int) -> None:
        self.size = max(16 * 1024, size)
        excess = len(self.buf) - self.size
        if excess > 0:
            del self.buf[:excess]
            self.first_offset += excess

    def can_serve(self, offset: int) -> bool:
        end = self.first_offset + len(self.buf)
        return self.first_offset <= offset <= end

    def since(self, offset: int) -> bytes:
        """Bytes from ``offset`` (1-based) to the end."""
        return bytes(self.buf[offset - self.first_offset:])
