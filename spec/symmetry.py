"""Node symmetry: permuted copies of a state get one canonical fingerprint.

Two nodes are interchangeable when their configurations differ only in their
names and nothing in the scenario names either of them (a pod pinned to
``node-1`` makes ``node-1`` special). Renaming interchangeable nodes maps a
state to a *permuted copy*: every string that names the node (``node-1``,
``kubelet/node-1``, ``kube-node-lease/node-1``) and every address in its pod
CIDR (``10.244.1.7``) follow the new name, and the UIDs the API server gave
the node's objects when the model started follow too, with the
resourceVersions they were created at (consecutive revisions, so no other
revision lies between them). Later revisions are not renamed: an event stays
where it is in the watch history and now speaks of the renamed node, so a
permuted copy is a consistent state.

The canonical fingerprint of a state is the smallest fingerprint of its
permuted copies. It is a sound reduction for invariant checking when the
transition relation commutes with renaming (``succ(pi(s)) = pi(succ(s))``)
and every property is blind to node names. The components are written that
way (the scheduler explores every tie instead of taking the first node by
name; per-node components are instances of one type), and
``tests/test_symmetry.py`` checks the commutation on reachable states of
each built-in scenario with more than one interchangeable node.

Pods are *not* interchangeable: Kubernetes breaks ties by name and UID (the
kubelet admits the oldest pod by ``(creationTimestamp, name)``; the
ReplicaSet controller's ``getPodsToDelete`` orders equal pods by UID), so two
pods that differ only in their generated names do not behave alike and
renaming them would merge states that differ.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar

import attrs

from spec.fingerprint import MEMO_LIMIT, digest16, field_names
from spec.frozen import FrozenMap
from spec.labels import Selector
from spec.state import State

R = TypeVar("R")
UID, REVISION = "uid", "resource_version"
"""the integer fields a renaming maps (the metadata of the objects each node started with)"""


class _IdentityMemo(Generic[R]):
    """Results memoised on an immutable value's identity (the value is kept beside its result, so the id stays its own).

    Model values are immutable and states share most of them with their
    predecessors, so a result computed once per object serves every state
    that holds it. Emptied when it grows past ``MEMO_LIMIT``.
    """

    def __init__(self) -> None:
        self.table: dict[int, tuple[Any, R]] = {}

    def get(self, value: Any) -> R | None:
        hit = self.table.get(id(value))
        return hit[1] if hit is not None and hit[0] is value else None

    def put(self, value: Any, result: R) -> R:
        if len(self.table) >= MEMO_LIMIT:
            self.table.clear()
        self.table[id(value)] = (value, result)
        return result


@attrs.frozen
class Renaming:
    """One permutation of interchangeable nodes, applied to strings and UIDs."""

    names: tuple[tuple[str, str], ...]
    """(old node name, new node name) for every node that moves"""
    prefixes: tuple[tuple[str, str], ...]
    """(old pod CIDR prefix, new prefix), such as ``10.244.1`` to ``10.244.2``"""
    uids: tuple[tuple[int, int], ...]
    """(old UID, new UID) of the objects the model started with for each moved node"""
    revisions: tuple[tuple[int, int], ...] = ()
    """(old, new) resourceVersion of those objects as the model started"""


def _token_pattern(tokens: Sequence[str]) -> re.Pattern[str]:
    """Whole-token matches of ``tokens`` (a node name is not part of a longer name)."""
    escaped = sorted((re.escape(t) for t in tokens), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(escaped) + r")(?![\w-])")


class _Touched:
    """Whether a value mentions anything some renaming moves; a value that does not is its own renamed copy.

    Shared by every renaming and memoised on the value's identity, so the
    renamed digest of a state reuses the plain digest of every part that
    names no interchangeable node (most of a state, and already digested).
    """

    def __init__(self, renamings: Sequence[Renaming]) -> None:
        self.regex = _token_pattern(sorted({a for r in renamings for a, _ in (*r.names, *r.prefixes)}))
        self.ints: dict[str, set[int]] = {UID: {a for r in renamings for a, _ in r.uids}, REVISION: {a for r in renamings for a, _ in r.revisions}}
        self.strings: dict[str, bool] = {}
        self.memo: _IdentityMemo[bool] = _IdentityMemo()

    def __call__(self, value: Any, field: str = "") -> bool:
        if value is None or isinstance(value, bool):
            return False
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, int):
            return value in self.ints.get(field, ())
        hit = self.memo.get(value)
        return hit if hit is not None else self.memo.put(value, self._composite(value))

    def _text(self, value: str) -> bool:
        out = self.strings.get(value)
        if out is None:
            out = self.regex.search(value) is not None
            if len(self.strings) < MEMO_LIMIT:
                self.strings[value] = out
        return out

    def _composite(self, value: Any) -> bool:
        if isinstance(value, FrozenMap):
            return any(self(k) or self(v) for k, v in value.items())
        if isinstance(value, (tuple, frozenset)):
            return any(self(v) for v in value)
        if isinstance(value, Selector):
            return self._text(str(value))
        if attrs.has(type(value)):
            return any(self(getattr(value, name), name) for name in field_names(type(value)))
        raise TypeError(f"no canonical form for {type(value).__name__}")


class Renamer:
    """Applies one :class:`Renaming`, memoising renamed strings and digests."""

    def __init__(self, renaming: Renaming, touched: _Touched) -> None:
        self.touched = touched
        self.map = dict((*renaming.names, *renaming.prefixes))
        self.ints = {UID: dict(renaming.uids), REVISION: dict(renaming.revisions)}
        self.regex = _token_pattern(list(self.map))
        self.strings: dict[str, str] = {}
        self.memo: _IdentityMemo[bytes] = _IdentityMemo()
        self.keys: _IdentityMemo[tuple[Any, ...]] = _IdentityMemo()

    def sort_key(self, value: Any) -> tuple[Any, ...]:
        """Where the renamed ``value`` sorts among the elements of a set, memoised on its identity."""
        hit = self.keys.get(value)
        return hit if hit is not None else self.keys.put(value, _sort_key(self.rename(value) if self.touched(value) else value))

    def text(self, value: str) -> str:
        out = self.strings.get(value)
        if out is None:
            out = self.regex.sub(lambda m: self.map[m.group(1)], value)
            if len(self.strings) < MEMO_LIMIT:
                self.strings[value] = out
        return out

    def scalar(self, value: Any, field: str) -> Any:
        if isinstance(value, str):
            return self.text(value)
        table = self.ints.get(field)
        if table and isinstance(value, int) and not isinstance(value, bool):
            return table.get(value, value)
        return value

    def digest(self, value: Any, field: str = "") -> bytes:
        """``digest16(rename(value))`` without building the renamed value."""
        if value is None or isinstance(value, (bool, int, str)):
            return digest16(self.scalar(value, field))
        if not self.touched(value):
            return digest16(value)
        hit = self.memo.get(value)
        return hit if hit is not None else self.memo.put(value, self._composite(value))

    def _composite(self, value: Any) -> bytes:
        if isinstance(value, FrozenMap):
            items = sorted((self.scalar(k, ""), self.digest(v)) for k, v in value.items())
            parts = [b"m", *(p for k, d in items for p in (digest16(k), d))]
        elif isinstance(value, tuple):
            if _is_sorted_set(value):
                ordered = sorted(value, key=self.sort_key)
                parts = [b"t", *(self.digest(v) for v in ordered)]
            else:
                parts = [b"t", *(self.digest(v) for v in value)]
        elif isinstance(value, Selector):
            parts = [b"l", digest16(self.text(str(value)))]
        elif isinstance(value, frozenset):
            parts = [b"f", *sorted(self.digest(v) for v in value)]
        elif attrs.has(type(value)):
            cls = type(value)
            parts = [b"a", digest16(cls.__name__), *(self.digest(getattr(value, name), name) for name in field_names(cls))]
        else:
            raise TypeError(f"no canonical form for {type(value).__name__}")
        return hashlib.blake2b(b"".join(parts), digest_size=16).digest()

    def rename(self, value: Any, field: str = "") -> Any:
        """The renamed value itself (for tests and for reading a canonical state)."""
        if value is None or isinstance(value, (bool, int, str)):
            return self.scalar(value, field)
        if isinstance(value, FrozenMap):
            return FrozenMap((self.scalar(k, ""), self.rename(v)) for k, v in value.items())
        if isinstance(value, tuple):
            renamed = tuple(self.rename(v) for v in value)
            return tuple(sorted(renamed, key=_sort_key)) if _is_sorted_set(value) else renamed
        if isinstance(value, frozenset):
            return frozenset(self.rename(v) for v in value)
        if isinstance(value, Selector):
            return value
        if attrs.has(type(value)):
            fields = attrs.fields(type(value))
            changes = {f.name: self.rename(getattr(value, f.name), f.name) for f in fields if f.init}
            return type(value)(**changes)
        raise TypeError(f"no canonical form for {type(value).__name__}")


def _sort_key(value: Any) -> tuple[Any, ...]:
    """A total order on model values: scalars by type then value, composites by their parts."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, tuple):
        return (4, tuple(_sort_key(v) for v in value))
    if isinstance(value, FrozenMap):
        return (5, tuple((k, _sort_key(v)) for k, v in value.items()))
    if attrs.has(type(value)):
        return (6, type(value).__name__, tuple(_sort_key(getattr(value, name)) for name in field_names(type(value))))
    return (7, str(value))


_SORTED_SETS: _IdentityMemo[bool] = _IdentityMemo()


def _is_sorted_set(value: tuple[Any, ...]) -> bool:
    """A tuple of two or more distinct values in ascending order: the model's way of storing a set.

    Renaming can change the order of such a tuple (addresses sort by IP, and
    IPs are renamed), so the renamed copy is sorted again. A sequence whose
    order means something is never stored sorted by value and unchanged by it
    (watch events are ordered by revision, which renaming keeps). Memoised on
    the tuple's identity: states share most of their tuples with their
    predecessors, and every renaming asks about the same ones.
    """
    if len(value) < 2:
        return False
    hit = _SORTED_SETS.get(value)
    if hit is not None:
        return hit
    keys = [_sort_key(v) for v in value]
    return _SORTED_SETS.put(value, all(a < b for a, b in itertools.pairwise(keys)))


def interchangeable(scenario: Any) -> tuple[tuple[str, ...], ...]:
    """Groups of two or more nodes with equal configurations that the scenario never names."""
    from spec.canonical import canonical_json

    named = canonical_json((scenario.objects, scenario.user))
    groups: dict[str, list[str]] = {}
    for cfg in scenario.nodes:
        if _token_pattern([cfg.name]).search(named):
            continue
        groups.setdefault(canonical_json(attrs.evolve(cfg, name="")), []).append(cfg.name)
    return tuple(tuple(g) for _, g in sorted(groups.items()) if len(g) > 1)


def _permutations(groups: Sequence[Sequence[str]]) -> Iterator[dict[str, str]]:
    per_group = [[dict(zip(g, p, strict=True)) for p in itertools.permutations(g)] for g in groups]
    for combo in itertools.product(*per_group):
        mapping: dict[str, str] = {}
        for part in combo:
            mapping.update(part)
        if any(a != b for a, b in mapping.items()):
            yield mapping


def _node_objects(initial: State, name: str) -> list[Any]:
    """The objects the model started with that belong to node ``name``: its Node and Lease."""
    objs = initial.api.objects
    return [o for o in (objs.nodes.get(name), objs.leases.get(f"kube-node-lease/{name}")) if o is not None]


class NodeSymmetry:
    """Canonical fingerprints under renaming of interchangeable nodes."""

    def __init__(self, scenario: Any, initial: State) -> None:
        self.groups = interchangeable(scenario)
        index = {cfg.name: i for i, cfg in enumerate(scenario.nodes, start=1)}
        self.renamings: list[Renaming] = []
        for mapping in _permutations(self.groups):
            moved = sorted((a, b) for a, b in mapping.items() if a != b)
            prefixes = tuple((f"10.244.{index[a]}", f"10.244.{index[b]}") for a, b in moved)
            pairs = [(o, p) for a, b in moved for o, p in zip(_node_objects(initial, a), _node_objects(initial, b), strict=True)]
            uids = tuple((o.meta.uid, p.meta.uid) for o, p in pairs)
            revisions = tuple((o.meta.resource_version, p.meta.resource_version) for o, p in pairs)
            self.renamings.append(Renaming(tuple(moved), prefixes, uids, revisions))
        touched = _Touched(self.renamings)
        self.renamers = [Renamer(r, touched) for r in self.renamings]
        """one per renaming: ``digest(state)`` is the renamed copy's digest, ``rename(state)`` the copy itself"""

    @property
    def order(self) -> int:
        """How many permuted copies a state has (the group's size)."""
        return len(self.renamings) + 1

    def fingerprint(self, state: Any) -> int:
        """The smallest fingerprint among the permuted copies of ``state``."""
        best = digest16(state)
        for r in self.renamers:
            d = r.digest(state)
            if d < best:
                best = d
        return int.from_bytes(best[:8], "little")
