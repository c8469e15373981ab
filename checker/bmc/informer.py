"""Watches and informer caches, as Z3 (spec/informer.py).

A watch that loses no event delivers the history in revision order, so its
cache is the store as of the revision it has delivered up to (the store
itself when its cursor is NONE: nothing pending; else the store as of its
cursor), less the objects its selector does not select. The cache is therefore read off
the unrolling (``apiserver.value_at``) and needs no cells of its own. A
delivery moves the cursor to the revision before the kind's next event, or
to NONE.
"""

from __future__ import annotations

import z3

from checker.bmc.apiserver import cursor, selected, value_at
from checker.bmc.core import NONE, Encoded, Terms, Unrolling
from checker.bmc.layout import layout_of
from spec.component import Action


def cache_revision(u: Unrolling, t: int, instance: str, kind: str) -> z3.ArithRef:
    """The revision the instance's cache of ``kind`` is as of, in frame t."""
    c = u[t][cursor(instance, kind)]
    return z3.If(c == NONE, u[t]["rev"], c)


def cached(u: Unrolling, t: int, instance: str, kind: str, name: str) -> z3.ExprRef:
    """Cell ``name`` (of an object of ``kind``) as the instance's cache holds it in frame t: the store as of its cursor."""
    return value_at(u, t, cache_revision(u, t, instance, kind), name)


def event_at(u: Unrolling, t: int, revision: z3.ArithRef) -> tuple[z3.ArithRef, z3.ArithRef]:
    """The (kind code, slot code) of the event of ``revision`` (0, 0 if there is none in the history up to frame t)."""
    layout = layout_of(u)
    kind: z3.ArithRef = z3.IntVal(0)
    slot: z3.ArithRef = z3.IntVal(0)
    for rev, (k, key) in sorted(layout.initial_events.items()):
        code = layout.slot(k, key)
        kind, slot = z3.If(revision == rev, layout.kinds.get(k, 0), kind), z3.If(revision == rev, code, slot)
    for step in range(1, t + 1):
        f = u[step]
        here = z3.And(f["wrote"] != 0, f["rev"] == revision)
        kind, slot = z3.If(here, f["wrote"], kind), z3.If(here, f["wrote_slot"], slot)
    return kind, slot


def next_cursor(u: Unrolling, t: int, instance: str, kind: str, after: z3.ArithRef) -> z3.ArithRef:
    """The canonical cursor of the instance's watch of ``kind`` positioned at ``after``: the revision before its next selected event, else NONE.

    A filtered watch's selection of each event is a history cell (the
    initial history's, a constant of the layout).
    """
    layout = layout_of(u)
    code = layout.kinds[kind]
    name = selected(instance, kind)
    initial = layout.initial_selected.get(f"{instance}/{kind}")
    result: z3.ArithRef = z3.IntVal(NONE)
    for step in range(t, 0, -1):
        f = u[step]
        seen = f[name] if initial is not None else z3.BoolVal(True)
        result = z3.If(z3.And(f["wrote"] == code, f["rev"] > after, seen), f["rev"] - 1, result)
    for rev, (k, _) in sorted(layout.initial_events.items(), reverse=True):
        if k == kind and (initial is None or rev in initial):
            result = z3.If(after < rev, z3.IntVal(rev - 1), result)
    return result


def pending(u: Unrolling, t: int, instance: str, kind: str) -> z3.ArithRef:
    """How many deliveries the instance's watch of ``kind`` has yet to make in frame t: each takes the event after its cursor (its
    selected events of the kind after the cursor; none when the cursor is NONE)."""
    layout = layout_of(u)
    c = u[t][cursor(instance, kind)]
    code = layout.kinds[kind]
    name = selected(instance, kind)
    initial = layout.initial_selected.get(f"{instance}/{kind}")
    events: list[z3.ArithRef] = []
    for step in range(1, t + 1):
        f = u[step]
        seen = f[name] if initial is not None else z3.BoolVal(True)
        events.append(z3.If(z3.And(f["wrote"] == code, f["rev"] > c, seen), 1, 0))
    for rev, (k, _) in sorted(layout.initial_events.items()):
        if k == kind and (initial is None or rev in initial):
            events.append(z3.If(c < rev, 1, 0))
    return z3.If(c == NONE, 0, z3.Sum(events)) if events else z3.IntVal(0)


def deliver(u: Unrolling, t: int, instance: str, kind: str) -> tuple[z3.BoolRef, z3.ArithRef, dict[str, z3.ArithRef]]:
    """WatchDeliver: (enabled, the delivered event's revision, the new cursor cell)."""
    c = u[t][cursor(instance, kind)]
    revision = c + 1
    return c != NONE, revision, {cursor(instance, kind): next_cursor(u, t, instance, kind, revision)}


def cursor_only(instance: str, kind: str) -> Encoded:
    """WatchDeliver of a watch whose handler changes no cell (there is none, or it writes only memory nothing encoded reads): the cache is
    the store as of the new cursor."""

    def guard(u: Unrolling, t: int) -> z3.BoolRef:
        return deliver(u, t, instance, kind)[0]

    def effect(u: Unrolling, t: int) -> Terms:
        return deliver(u, t, instance, kind)[2]

    return Encoded(Action(instance, "WatchDeliver", (("kind", kind),)), guard, effect)
