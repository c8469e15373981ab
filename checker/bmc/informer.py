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


def _events(u: Unrolling, t: int, instance: str, kind: str) -> list[tuple[z3.BoolRef, z3.ArithRef]]:
    """The history up to frame t as the instance's watch of ``kind`` sees it, in revision order: for each event that may be one of its
    events (the initial history's of the kind, then each step's), whether it is (of the kind and selected) and its revision.

    A filtered watch's selection of each event is a history cell (the
    initial history's, a constant of the layout).
    """
    layout = layout_of(u)
    code = layout.kinds[kind]
    name = selected(instance, kind)
    initial = layout.initial_selected.get(f"{instance}/{kind}")
    out: list[tuple[z3.BoolRef, z3.ArithRef]] = []
    for rev, (k, _) in sorted(layout.initial_events.items()):
        if k == kind and (initial is None or rev in initial):
            out.append((z3.BoolVal(True), z3.IntVal(rev)))
    for step in range(1, t + 1):
        f = u[step]
        out.append((z3.And(f["wrote"] == code, f[name]) if initial is not None else f["wrote"] == code, f["rev"]))
    return out


def _after(event: z3.BoolRef, rev: z3.ArithRef, cursor_at: z3.ArithRef) -> z3.BoolRef:
    """The watch's event of revision ``rev`` (where ``event`` holds) comes after ``cursor_at``."""
    return rev > cursor_at if z3.is_true(event) else z3.And(event, rev > cursor_at)


def next_cursor(u: Unrolling, t: int, instance: str, kind: str, after: z3.ArithRef) -> z3.ArithRef:
    """The canonical cursor of the instance's watch of ``kind`` positioned at ``after``: the revision before its next event, else NONE."""
    result: z3.ArithRef = z3.IntVal(NONE)
    for event, rev in reversed(_events(u, t, instance, kind)):
        result = z3.If(_after(event, rev, after), rev - 1, result)
    return result


def pending(u: Unrolling, t: int, instance: str, kind: str) -> z3.ArithRef:
    """How many deliveries the instance's watch of ``kind`` has yet to make in frame t: each takes the event after its cursor (its events
    after the cursor; none when the cursor is NONE)."""
    c = u[t][cursor(instance, kind)]
    events = [z3.If(_after(event, rev, c), 1, 0) for event, rev in _events(u, t, instance, kind)]
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
