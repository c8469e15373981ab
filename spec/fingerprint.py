"""Stable 64-bit fingerprints of model values, computed incrementally.

The exhaustive explorer keeps every visited state as a fingerprint, so a
fingerprint must be the same in every process (whatever ``PYTHONHASHSEED``
is, and in each worker process) and cheap to compute for a state that
differs from its predecessor in one small part.

A fingerprint is a Merkle digest of the canonical form that
``spec.canonical.to_data`` serialises: every value (scalar, tuple,
FrozenMap in key order, attrs instance in field order, frozenset in sorted
order) gets a 16-byte BLAKE2b digest of a type tag and its children's
digests, so equal values get equal digests and the digest does not depend on
Python's ``hash()``. Because model states share unchanged parts with their
predecessors (immutable values, copied on write), digests of composite parts
are memoised by object identity: a new state costs only the digests along
the path that changed. An int subclass that carries more than its value
(``checker.concolic.SymInt``, an int with a Z3 term) is digested from its
``fingerprint_text()``, so states whose numbers are equal only for one
assignment stay apart. The memo keeps the objects alive (an id is never
reused while memoised) and is emptied when it grows past ``MEMO_LIMIT``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import attrs

from spec.frozen import FrozenMap
from spec.labels import Selector

MEMO_LIMIT = 400_000
"""Composite values whose digest is remembered before the memo is emptied."""

_blake = hashlib.blake2b
_SCALARS: dict[Any, bytes] = {}
_MEMO: dict[int, tuple[Any, bytes]] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}


_PLAIN = frozenset({type(None), bool, int, str})


def _scalar(value: Any) -> bytes:
    if type(value) not in _PLAIN:
        # an int that carries more than its value (checker.concolic.SymInt and its Z3 term): its own text,
        # and never a lookup by value, which would compare it with other such ints
        return _blake(b"x" + value.fingerprint_text().encode(), digest_size=16).digest()
    d = _SCALARS.get((type(value), value))
    if d is None:
        if value is None:
            raw = b"n"
        elif isinstance(value, bool):
            raw = b"b1" if value else b"b0"
        elif isinstance(value, int):
            raw = b"i" + str(value).encode()
        else:
            raw = b"s" + value.encode()
        d = _blake(raw, digest_size=16).digest()
        if len(_SCALARS) < MEMO_LIMIT:
            _SCALARS[(type(value), value)] = d
    return d


def field_names(cls: type) -> tuple[str, ...]:
    """The attrs field names of ``cls``, in declaration order (cached: the digest's hot path)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in attrs.fields(cls))
    return names


def _composite(value: Any) -> bytes:
    if isinstance(value, FrozenMap):
        parts = [b"m"]
        for k, v in value.items():
            parts.append(_scalar(k))
            parts.append(digest16(v))
    elif isinstance(value, tuple):
        parts = [b"t", *(digest16(v) for v in value)]
    elif isinstance(value, Selector):
        parts = [b"l", _scalar(str(value))]
    elif isinstance(value, frozenset):
        parts = [b"f", *sorted(digest16(v) for v in value)]
    elif attrs.has(type(value)):
        cls = type(value)
        parts = [b"a", _scalar(cls.__name__), *(digest16(getattr(value, name)) for name in field_names(cls))]
    else:
        raise TypeError(f"no canonical form for {type(value).__name__}")
    return _blake(b"".join(parts), digest_size=16).digest()


def digest16(value: Any) -> bytes:
    """The 16-byte Merkle digest of ``value``'s canonical form."""
    if value is None or isinstance(value, (bool, int, str)):
        return _scalar(value)
    hit = _MEMO.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    d = _composite(value)
    if len(_MEMO) >= MEMO_LIMIT:
        _MEMO.clear()
    _MEMO[id(value)] = (value, d)
    return d


def fingerprint(value: Any) -> int:
    """A stable 64-bit fingerprint of ``value`` (equal values, equal fingerprints, in every process)."""
    return int.from_bytes(digest16(value)[:8], "little")
