# SPDX-License-Identifier: Apache-2.0
"""Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource).

parse() turns "1Gi", "500m", "1e3" into an exact Fraction; canonical()
re-formats a quantity string the way the real API server stores it
("1024Mi" -> "1Gi", "1000M" -> "1G", "0.5" -> "500m").
"""

import re
from fractions import Fraction

_RE = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]i?|Ki|)$")
_BIN = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DEC = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9,
        "T": 12, "P": 15, "E": 18}
_DEC_BY_EXP = {v: k for k, v in _DEC.items()}
_BIN_BY_EXP = {v: k for k, v in _BIN.items()}

ERROR = ("quantities must match the regular expression "
         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


class QuantityError(ValueError):
    pass


def _split(s):
    if not isinstance(s, str):
        if isinstance(s, bool) or not isinstance(s, (int, float)):
            raise QuantityError(ERROR)
        s = repr(s) if isinstance(s, float) else str(s)
    m = _RE.match(s.strip())
    if not m or m.group(1) in ("", ".", "+", "-") or m.group(1).count(".") > 1:
        raise QuantityError(ERROR)
    return m.group(1), m.group(2), s


def parse(s):
    """Return (Fraction value, format) with format BinarySI, DecimalSI or
    DecimalExponent. Raises QuantityError."""
    num, suf, _ = _split(s)
    v = Fraction(num)
    if suf in _BIN:
        return v * (2 ** _BIN[suf]), "BinarySI"
    if suf[:1] in ("e", "E"):
        return v * Fraction(10) ** int(suf[1:]), "DecimalExponent"
    return v * Fraction(10) ** _DEC[suf], "DecimalSI"


def value(s):
    return parse(s)[0]


def _round_up_milli(v):
    # Quantities keep at most nano precision; the API rounds up.
    scaled = v * 10 ** 9
    if scaled.denominator != 1:
        scaled = Fraction(-((-scaled.numerator) // scaled.denominator))
    return scaled / 10 ** 9


def canonical(s):
    """The canonical string of quantity s (as the API server stores it)."""
    v, fmt = parse(s)
    v = _round_up_milli(v)
    if v == 0:
        return "0"
    if fmt == "BinarySI":
        if -1024 < v < 1024 or v.denominator != 1:
            fmt = "DecimalSI"
        else:
            n, exp = int(v), 0
            while n % 1024 == 0 and exp < 60:
                n //= 1024
                exp += 10
            return "%d%s" % (n, _BIN_BY_EXP[exp])
    # Decimal: mantissa integer, exponent a multiple of 3.
    exp = 0
    while v.denominator != 1:
        v *= 1000
        exp -= 3
    n = int(v)
    while n != 0 and n % 1000 == 0 and exp < 18:
        n //= 1000
        exp += 3
    if exp < -9:
        exp = -9
    if fmt == "DecimalExponent":
        return "%d" % n if exp == 0 else "%de%d" % (n, exp)
    return "%d%s" % (n, _DEC_BY_EXP[exp])


def canonicalize_map(m, path, errors):
    """Canonicalize every value of a resource map in place."""
    if not isinstance(m, dict):
        return
    for k in list(m):
        try:
            m[k] = canonical(m[k])
        except QuantityError as e:
            errors.append(("%s[%s]" % (path, k), str(e)))
