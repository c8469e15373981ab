"""Canonical serialisation and stable digests of model values.

``to_data`` turns any state value (attrs classes, FrozenMaps, tuples,
selectors, scalars) into plain JSON data with a fixed field and key order;
``digest`` hashes its compact JSON with BLAKE2b. Neither depends on Python's
``hash()`` or on ``PYTHONHASHSEED``, so a digest written by one process is
checked by another (the trace format records one per step).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import attrs

from spec.frozen import FrozenMap
from spec.labels import Selector

JSON = Any


def to_data(value: Any) -> JSON:
    """Plain JSON data for ``value``, in a canonical order."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, FrozenMap):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [to_data(v) for v in value]
    if isinstance(value, Selector):
        return str(value)
    if attrs.has(type(value)):
        return {f.name: to_data(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, frozenset):
        return sorted(to_data(v) for v in value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys."""
    return json.dumps(to_data(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def digest(value: Any) -> str:
    """A 128-bit BLAKE2b hex digest of the canonical JSON of ``value``."""
    return hashlib.blake2b(canonical_json(value).encode(), digest_size=16).hexdigest()
