"""Among the shortest counterexamples, the one with the fewest switches between components.

A reviewer reads a trace more easily when each component's steps stay
together. Once breadth-first search has found a violation at depth d, every
shortest counterexample of the same invariant has length d and passes,
at step k, through a state whose distance from the initial states is exactly
k. So the breadth-first layers up to d are explored again, keeping for each
(state, component of the last step) the fewest switches with which it can be
reached; among the violating end points the fewest switches win (ties: the
first reached, so the result is deterministic).

The cost is one more breadth-first search to depth d, with the violated
invariant checked only in the last layer (on its transitions or on its
states, whichever kind it is); it is abandoned, keeping the counterexample
first found, beyond a budget of states or time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

Record = tuple[int, Any, Any, Any]
"""(switches, previous state key, previous last component, action)"""


def _component(model: Any) -> Callable[[Any], Any]:
    if hasattr(model, "action_component"):
        return model.action_component  # type: ignore[no-any-return]
    return model.action_label if hasattr(model, "action_label") else str


def _extend(best: dict[Any, Record], into: dict[Any, Record], key: int, action: Any, comp: Any) -> None:
    """Offer the step ``action`` (by ``comp``) from every record of a state to a successor's records."""
    for last, (switches, *_rest) in best.items():
        candidate = switches + (last is not None and last != comp)
        current = into.get(comp)
        if current is None or candidate < current[0]:
            into[comp] = (candidate, key, last, action)


def fewest_switches(
    model: Any,
    key_of: Callable[[Any], int],
    properties: Any,
    invariant: str,
    depth: int,
    on_edge: bool,
    budget: int,
    deadline: float = float("inf"),
) -> tuple[tuple[Any, ...], Any] | None:
    """The actions of a shortest violation of ``invariant`` (length ``depth``) with the fewest component switches, and that violation.

    ``on_edge``: the violation is of a transition invariant (checked on the
    transitions into the last layer), else of a state one (checked on the
    last layer's states). None if there is none at that depth, or if more
    than ``budget`` states would have to be generated or ``deadline``
    (``time.perf_counter()``) passes (the caller keeps the counterexample it
    had).
    """
    component = _component(model)
    layer: dict[int, Any] = {}
    for s in model.initial_states():
        layer.setdefault(key_of(s), s)
    seen = set(layer)
    history: list[dict[int, dict[Any, Record]]] = [{k: {None: (0, None, None, None)} for k in layer}]
    ends: list[tuple[int, int, Any, Any]] = []  # (switches, order, end point, violation)
    if depth == 0:
        return None
    for k in range(depth):
        best = history[-1]
        records: dict[int, dict[Any, Record]] = {}
        following: dict[int, Any] = {}
        for key, s in layer.items():
            if time.perf_counter() > deadline:
                return None
            for action, t in model.successors(s):
                tk = key_of(t)
                if tk in seen and tk not in following:
                    continue  # nearer the initial states: not on a shortest path
                comp = component(action)
                bad = [v for v in properties.check_edge(s, action, t) if v.invariant == invariant] if on_edge and k == depth - 1 else []
                if bad:
                    edge: dict[Any, Record] = {}
                    _extend(best[key], edge, key, action, comp)
                    ends.append((edge[comp][0], len(ends), ("edge", edge[comp]), bad[0]))
                _extend(best[key], records.setdefault(tk, {}), key, action, comp)
                if tk not in seen:
                    seen.add(tk)
                    following[tk] = t
                    if len(seen) > budget:
                        return None
        history.append(records)
        layer = following
    for key, s in layer.items() if not on_edge else ():
        bad = [v for v in properties.check_state(s, model.successors(s)) if v.invariant == invariant]
        for last, record in history[-1][key].items() if bad else ():
            ends.append((record[0], len(ends), ("state", (key, last)), bad[0]))
    if not ends:
        return None
    _, _, (kind, end), violation = min(ends, key=lambda e: (e[0], e[1]))
    return _walk_back(history, kind, end), violation


def _walk_back(history: Sequence[dict[int, dict[Any, Record]]], kind: str, end: Any) -> tuple[Any, ...]:
    actions: list[Any] = []
    if kind == "edge":
        _, key, last, action = end
        actions.append(action)
        level = len(history) - 2
    else:
        key, last = end
        level = len(history) - 1
    while level > 0:
        _, prev_key, prev_last, action = history[level][key][last]
        actions.append(action)
        key, last, level = prev_key, prev_last, level - 1
    return tuple(reversed(actions))
