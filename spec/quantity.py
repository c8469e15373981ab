"""Kubernetes resource quantities (``500m``, ``1.5Gi``, ``1e3``), parsed exactly.

Follows ``ParseQuantity`` and the accessors of apimachinery
``pkg/api/resource/quantity.go`` and ``suffix.go``:

* the grammar: an optional sign, digits with an optional fraction (``1.``,
  ``.5`` and even ``.`` are numbers), then a suffix: decimal SI ``n u m "" k
  M G T P E``, binary SI ``Ki Mi Gi Ti Pi Ei``, or a decimal exponent ``e3``,
  ``E-2`` (``E`` alone is exa). ``K`` is not a suffix. The same scanner, so
  the same three errors: :data:`ERR_FORMAT`, :data:`ERR_SUFFIX` and
  :data:`ERR_NUMERIC`. A number part without a digit (``""``, ``.``, after an
  optional sign) is zero on ParseQuantity's int64 fast path (``m`` and
  ``.e-9`` are 0), and ErrNumeric where the scale is finer than 1n and
  ``inf.Dec.SetString`` reads it (``e-10``, ``.E-12``);
* a non-zero value finer than 1n is rounded away from zero to 1n; a binary-SI
  value is capped at 2^63-1 in magnitude;
* :func:`milli_value` is ``MilliValue`` (``ceil(q * 1000)``) and
  :func:`value` is ``Value`` (rounded up, away from zero). The scheduler and
  the kubelet read cpu requests and capacity as ``MilliValue`` and memory as
  ``Value``, so a cpu request of ``100u`` counts as 1m and ``1.5`` bytes of
  memory as 2 bytes. The API server accepts both (the latter with a warning,
  ``pkg/api/pod/warnings.go``); kspec does the same: it rounds up, it does
  not refuse.

Values are :class:`fractions.Fraction`, never floats. Two deliberate limits:
an exponent outside the int32 range is refused as a bad suffix (Go would wrap
it around), and a value of 10^100 or more is refused as too large (no
resource is that large; it keeps the arithmetic small).
"""

from __future__ import annotations

import math
from fractions import Fraction

SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT = f"quantities must match the regular expression '{SPLIT_RE}'"
"""ErrFormatWrong"""
ERR_NUMERIC = "unable to parse numeric part of quantity"
"""ErrNumeric"""
ERR_SUFFIX = "unable to parse quantity's suffix"
"""ErrSuffix"""

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_NANO = Fraction(1, 10**9)
MAX_INT64 = 2**63 - 1
_INT32 = (-(2**31), 2**31 - 1)
_LARGEST_EXPONENT = 100


class QuantityError(ValueError):
    """A string that is not a quantity; the message is apimachinery's error text."""


def _scan_digits(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _DIGITS:
        pos += 1
    return pos


def _split(text: str) -> tuple[bool, bool, str, str, str]:
    """parseQuantityString: (positive, whether there is any digit, integer digits, fraction digits, suffix)."""
    positive, pos = True, 0
    if text[:1] in ("-", "+"):
        positive, pos = text[0] != "-", 1
    end = _scan_digits(text, pos)
    digits = end > pos
    num = text[pos:end].lstrip("0") or "0"
    denom = ""
    if end < len(text) and text[end] == ".":
        stop = _scan_digits(text, end + 1)
        denom, end = text[end + 1 : stop], stop
    start = end
    while end < len(text) and text[end] in _SUFFIX_CHARS:
        end += 1
    if end < len(text) and text[end] in ("-", "+"):
        end += 1
    if _scan_digits(text, end) != len(text):
        raise QuantityError(ERR_FORMAT)
    return positive, digits or bool(denom), num, denom, text[start:]


def _interpret(suffix: str) -> tuple[int, int]:
    """suffixHandler.interpret: (base, exponent)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix]
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix]
    body = suffix[1:]
    digits = body[1:] if body.startswith(("+", "-")) else body
    if suffix[:1] in ("e", "E") and digits and set(digits) <= _DIGITS and _INT32[0] <= int(body) <= _INT32[1]:
        return 10, int(body)
    raise QuantityError(ERR_SUFFIX)


def parse_quantity(text: str) -> Fraction:
    """The exact value of a quantity string (ParseQuantity), after its rounding to 1n and its binary cap."""
    if not text:
        raise QuantityError(ERR_FORMAT)
    positive, digits, num, denom, suffix = _split(text)
    base, exponent = _interpret(suffix)
    if not digits and base == 10 and exponent < -9:  # past the int64 fast path, inf.Dec finds no digit to read
        raise QuantityError(ERR_NUMERIC)
    mantissa = int(num + denom)
    if mantissa == 0:
        return Fraction(0)
    if base == 10:
        magnitude = _decimal(mantissa, exponent - len(denom))
    else:
        binary = Fraction(mantissa * 2**exponent, 10 ** len(denom))
        magnitude = min(Fraction(math.ceil(binary * 10**9), 10**9), Fraction(MAX_INT64))
    return magnitude if positive else -magnitude


def _decimal(mantissa: int, exponent: int) -> Fraction:
    """mantissa * 10^exponent, rounded up to a multiple of 1n."""
    digits = len(str(mantissa))
    if exponent + digits > _LARGEST_EXPONENT:
        raise QuantityError(f"too large: kspec reads quantities below 1e{_LARGEST_EXPONENT}")
    if exponent >= -9:
        return Fraction(mantissa * 10 ** (exponent + 9), 10**9)
    if exponent + digits < -9:
        return _NANO
    return Fraction(math.ceil(Fraction(mantissa, 10 ** (-exponent - 9))), 10**9)


def from_json(raw: object) -> Fraction:
    """Quantity.UnmarshalJSON: a string, or a JSON number read as its text; null is zero.

    A YAML float arrives as a Python float; its shortest text (``repr``) is
    what the YAML-to-JSON conversion would send for the literals people
    write (``0.5``, ``1.5``). Anything else (a boolean, a list) gets the
    scanner's error, as Go's decoder gives.
    """
    if raw is None:
        return Fraction(0)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise QuantityError(ERR_FORMAT)
    if isinstance(raw, float) and not math.isfinite(raw):
        raise QuantityError(ERR_FORMAT)
    return parse_quantity(raw.strip() if isinstance(raw, str) else repr(raw))


def milli_value(q: Fraction) -> int:
    """MilliValue: ceil(q * 1000); how cpu is read (millicores)."""
    return math.ceil(q * 1000)


def value(q: Fraction) -> int:
    """Value: q rounded up, away from zero; how memory is read (bytes)."""
    return math.ceil(q) if q >= 0 else -math.ceil(-q)
