"""x87 80-bit long double arithmetic, emulated exactly with Python integers.

Redis computes INCRBYFLOAT and HINCRBYFLOAT in ``long double`` and prints the
result with ``%.17Lf`` (trailing zeros stripped); doing the same arithmetic
bit for bit is the only way to reply with Redis' digits.  Values are
``(mantissa, exponent)`` pairs; ``INF`` stands for either infinity.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------------------

_MANT_BITS = 64
_EMIN = -16382                      # exponent of the smallest normal (2**-16382)
_EMAX = 16383                       # exponent of the largest finite binade
_ULP_MIN = _EMIN - (_MANT_BITS - 1)  # exponent of the smallest denormal
_INF = (1, 1 << 30)                 # sentinel for +/- infinity (sign does not matter to callers)
_MAX_LD_CHARS = 5 * 1024
_SPACES = b" \t\n\v\f\r"
_DEC_RE = re.compile(rb"([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?\Z")
_HEX_RE = re.compile(rb"([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))"
                     rb"(?:[pP]([+-]?\d+))?\Z")
_INF_RE = re.compile(rb"[+-]?(?:inf|infinity)\Z", re.IGNORECASE)
_CHUNK = 1000


def _digits_to_int(d: bytes) -> int:
    """int() of a digit string of any length (Python caps int(str) at 4300 digits)."""
    if len(d) <= _CHUNK:
        return int(d) if d else 0
    n = 0
    p = 10 ** _CHUNK
    for i in range(0, len(d), _CHUNK):
        part = d[i:i + _CHUNK]
        n = n * (p if len(part) == _CHUNK else 10 ** len(part)) + int(part)
    return n


def _int_to_digits(n: int) -> str:
    """str() of a non-negative int of any size (Python caps str(int) at 4300 digits)."""
    if n < 10 ** 4000:
        return str(n)
    hi, lo = divmod(n, 10 ** 4000)
    return _int_to_digits(hi) + str(lo).rjust(4000, "0")


def _exp_value(e: bytes | None) -> int | None:
    """A decimal exponent, or None when it is absurdly large (the value over/underflows)."""
    if not e:
        return 0
    sign = -1 if e[:1] == b"-" else 1
    digits = e.lstrip(b"+-").lstrip(b"0")
    if len(digits) > 12:
        return None if sign > 0 else -(10 ** 13)
    return sign * int(digits or b"0")


def _round_ld(num: int, den: int) -> tuple[int, int] | None:
    """Round num/den (> 0) to the nearest long double (ties to even): (mantissa, exp2) or None on overflow."""
    k = num.bit_length() - den.bit_length()  # floor(log2(num/den)) is k or k-1
    if (num << -k if k < 0 else num) < (den << k if k > 0 else den):
        k -= 1
    if k > _EMAX:
        return None
    shift = max(k, _EMIN) - (_MANT_BITS - 1)
    if shift >= 0:
        dd = den << shift
        q, r = divmod(num, dd)
    else:
        dd = den
        q, r = divmod(num << -shift, den)
    if 2 * r > dd or (2 * r == dd and q & 1):
        q += 1
    if q >> _MANT_BITS:
        q >>= 1
        shift += 1
    if shift + _MANT_BITS - 1 > _EMAX:
        return None
    return q, shift


def _to_ld(neg: bool, num: int, den: int) -> tuple[int, int] | None:
    """strtold's rounding of a positive rational; None on overflow or underflow to zero (ERANGE)."""
    r = _round_ld(num, den)
    if r is None:
        return None  # ERANGE overflow: string2ld rejects HUGE_VAL
    m, e = r
    if m == 0:
        return None
    return (-m if neg else m), e


def string2ld(s: bytes) -> tuple[int, int] | None:
    """Redis' string2ld (strtold plus its checks): (mantissa, exp2), ``_INF``, or None when invalid.

    A literal "inf"/"infinity" is accepted; overflow, underflow to zero and NaN are not.
    """
    if not s or len(s) >= _MAX_LD_CHARS:
        return None
    if s[0] in _SPACES or b"\0" in s:  # strtold must consume all slen bytes
        return None
    m = _DEC_RE.match(s)
    if m is not None:
        sign, ip, fp, fp_only, ex = m.groups()
        ip = ip or b""
        fp = fp_only if fp_only is not None else (fp or b"")
        digits = (ip + fp).lstrip(b"0")
        if not digits:
            return (0, 0)
        e10 = _exp_value(ex)
        if e10 is None:
            return None
        e10 -= len(fp)
        magnitude = len(digits) + e10  # 10**(magnitude-1) <= value < 10**magnitude
        if magnitude > 4934:
            return None
        if magnitude < -4952:
            return None
        d = _digits_to_int(digits)
        if e10 >= 0:
            return _to_ld(sign == b"-", d * 10 ** e10, 1)
        return _to_ld(sign == b"-", d, 10 ** -e10)
    m = _HEX_RE.match(s)
    if m is not None:
        sign, ip, fp, fp_only, ex = m.groups()
        ip = ip or b""
        fp = fp_only if fp_only is not None else (fp or b"")
        hexdigits = (ip + fp).lstrip(b"0")
        if not hexdigits:
            return (0, 0)
        e2 = _exp_value(ex)
        if e2 is None:
            return None
        e2 -= 4 * len(fp)
        mant = int(hexdigits, 16)
        top = mant.bit_length() + e2
        if top > _EMAX + 2:
            return None
        if top < _ULP_MIN - 2:
            return None
        if e2 >= 0:
            return _to_ld(sign == b"-", mant << e2, 1)
        return _to_ld(sign == b"-", mant, 1 << -e2)
    if _INF_RE.match(s):
        return _INF
    return None  # nan (rejected by string2ld) or not a number


def ld_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """a + b in long double with a single rounding; ``_INF`` on overflow."""
    ma, ea = a
    mb, eb = b
    if ma == 0:
        return b
    if mb == 0:
        return a
    e = min(ea, eb)
    s = (ma << (ea - e)) + (mb << (eb - e))
    if s == 0:
        return (0, 0)
    neg = s < 0
    s = -s if neg else s
    r = _round_ld(s << e, 1) if e >= 0 else _round_ld(s, 1 << -e)
    if r is None:
        return _INF
    return (-r[0] if neg else r[0]), r[1]


def ld2string_human(v: tuple[int, int]) -> bytes:
    """ld2string(LD_STR_HUMAN): ``%.17Lf`` (exact, ties to even), trailing zeros and '.' removed, -0 -> 0."""
    m, e = v
    neg = m < 0
    m = -m if neg else m
    scale = 10 ** 17
    if e >= 0:
        q = (m << e) * scale
    else:
        num = m * scale
        q = num >> -e
        r = num - (q << -e)
        half = 1 << (-e - 1)
        if r > half or (r == half and q & 1):
            q += 1
    ip, fp = divmod(q, scale)
    text = _int_to_digits(ip)
    frac = ("%017d" % fp).rstrip("0")
    if frac:
        text += "." + frac
    if neg and text != "0":
        text = "-" + text
    return text.encode()


INF = _INF
