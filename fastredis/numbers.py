"""C number parsing as Redis does it (strtod, string2d), shared by every command module.

Redis reads doubles with ``strtod`` over the whole argument: hex floats and
``inf`` are accepted, NaN, spaces and overflow/underflow (ERANGE) are not.
"""

from __future__ import annotations

import math
import re

_STRTOD_RE = re.compile(
    rb"[ \t\n\v\f\r]*([+-]?)(?:"
    rb"(0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
    rb"|((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    rb"|([iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
    rb"|([nN][aA][nN](?:\([0-9A-Za-z_]*\))?))"
)
_DBL_MIN = 2.2250738585072014e-308
_SPACES = b" \t\n\v\f\r"


def strtod(s: bytes) -> tuple[float, int, bool]:
    """C ``strtod``: (value, characters consumed, errno == ERANGE)."""
    m = _STRTOD_RE.match(s)
    if m is None:
        return 0.0, 0, False
    neg = m.group(1) == b"-"
    hexa, dec, inf, _nan = m.group(2), m.group(3), m.group(4), m.group(5)
    erange = False
    if inf is not None:
        v = math.inf
    elif hexa is not None:
        try:
            v = float.fromhex(hexa.decode())
        except OverflowError:
            v = math.inf
            erange = True
        mant = hexa[2:].split(b"p")[0].split(b"P")[0]
        if (v == 0.0 and mant.strip(b"0.")) or 0.0 < v < _DBL_MIN:
            erange = True
    elif dec is not None:
        v = float(dec)
        if v == math.inf:
            erange = True
        else:
            mant = re.split(rb"[eE]", dec)[0]
            if (v == 0.0 and mant.strip(b"0.")) or 0.0 < v < _DBL_MIN:
                erange = True
    else:
        v = math.nan
    return (-v if neg else v), m.end(), erange


def string2d(s: bytes) -> float | None:
    """Redis' string2d (getDoubleFromObject): the whole string, no spaces, no overflow, no nan."""
    if not s or s[0] in _SPACES:
        return None
    v, n, erange = strtod(bytes(s))
    if n != len(s) or v != v:
        return None
    if erange and (v in (math.inf, -math.inf) or v == 0.0):
        return None
    return v


def _cstr(b: bytes) -> bytes:
    """What C sees of an sds through a char*: up to the first NUL."""
    i = b.find(b"\0")
    return bytes(b) if i < 0 else bytes(b[:i])


def strtod_full(b: bytes) -> tuple[float, bool, bool]:
    """strtod over a C string: (value, consumed everything, ERANGE)."""
    s = _cstr(b)
    v, n, erange = strtod(s)
    return v, n == len(s), erange
