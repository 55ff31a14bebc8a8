"""CRC-64/Jones as Redis computes it (reflected, poly 0xad93d23594c935a9, init 0, no xorout).

It guards RDB files and DUMP payloads.  The pure-Python table version is the
reference; ``_rdbfast`` (Cython) replaces it when built.
"""

from __future__ import annotations

_POLY_REFLECTED = 0x95AC9329AC4BC9B5


def _make_table() -> list[int]:
    table = []
    for b in range(256):
        crc = b
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


def _crc64_py(crc: int, data: bytes | bytearray | memoryview) -> int:
    """Continue ``crc`` over ``data``."""
    table = _TABLE
    for b in bytes(data):
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


try:
    from ._rdbfast import crc64 as _crc64_fast
except ImportError:  # extension not built: stay correct, just slower
    _crc64_fast = None

crc64 = _crc64_fast if _crc64_fast is not None else _crc64_py
