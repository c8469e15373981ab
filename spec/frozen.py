"""Immutable building blocks for the model state.

attrs' ``frozen`` does not protect a dict inside a field, so every mapping in
the state is a :class:`FrozenMap`: immutable, hashable, and iterated in sorted
key order, so that two equal maps serialise identically in every process
whatever ``PYTHONHASHSEED`` is.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar, overload

import attrs

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
_D = TypeVar("_D")


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """A persistent sorted mapping: ``set``/``remove`` return a new map.

    Keys must be mutually orderable (the model uses strings). Iteration is in
    ascending key order, which is the canonical order of the whole state.
    """

    __slots__ = ("_d", "_hash")

    _d: dict[K, V]
    _hash: int | None

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        d = dict(items)
        self._d = {k: d[k] for k in sorted(d)}  # type: ignore[type-var]
        self._hash = None

    @classmethod
    def _sorted(cls, d: dict[K, V]) -> FrozenMap[K, V]:
        m: FrozenMap[K, V] = cls.__new__(cls)
        m._d = d
        m._hash = None
        return m

    def __getitem__(self, key: K) -> V:
        return self._d[key]

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | _D, /) -> V | _D: ...
    def get(self, key: K, default: Any = None) -> Any:
        return self._d.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def keys(self) -> Any:
        """The keys, in sorted order (a dict view)."""
        return self._d.keys()

    def values(self) -> Any:
        """The values, in key order (a dict view)."""
        return self._d.values()

    def items(self) -> Any:
        """The (key, value) pairs, in key order (a dict view)."""
        return self._d.items()

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(self._d.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, FrozenMap):
            return self._d == other._d
        if isinstance(other, Mapping):
            return self._d == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"

    def set(self, key: K, value: V) -> FrozenMap[K, V]:
        """A copy with ``key`` bound to ``value``."""
        d = self._d
        if key in d:
            if d[key] is value:
                return self
            new = dict(d)
            new[key] = value
            return FrozenMap._sorted(new)
        keys: list[Any] = list(d)
        i = bisect.bisect_left(keys, key)
        items = list(d.items())
        items.insert(i, (key, value))
        return FrozenMap._sorted(dict(items))

    def remove(self, key: K) -> FrozenMap[K, V]:
        """A copy without ``key`` (the same map if it is absent)."""
        if key not in self._d:
            return self
        new = dict(self._d)
        del new[key]
        return FrozenMap._sorted(new)


EMPTY: FrozenMap[Any, Any] = FrozenMap()


def freeze_map(value: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None) -> FrozenMap[Any, Any]:
    """attrs converter: any mapping (or None) to a FrozenMap."""
    if isinstance(value, FrozenMap):
        return value
    if value is None:
        return EMPTY
    return FrozenMap(value)


def freeze_optional_map(value: Mapping[Any, Any] | None) -> FrozenMap[Any, Any] | None:
    """attrs converter for a mapping where None means something else than empty."""
    return None if value is None else freeze_map(value)


def freeze_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter: any iterable to a tuple (lists in a frozen class would be mutable)."""
    return value if isinstance(value, tuple) else tuple(value)


_FIELDS: dict[type, tuple[str, ...]] = {}


def replace(inst: T, **changes: Any) -> T:
    """``attrs.evolve`` for the model's frozen classes, several times faster.

    The model's successor generation copies state objects constantly; this
    calls the class's generated ``__init__`` positionally with the changed
    fields (every field of a model class is an ``__init__`` parameter).
    """
    cls = inst.__class__
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in attrs.fields(cls))  # type: ignore[arg-type]
    return cls(*[changes[n] if n in changes else getattr(inst, n) for n in names])
