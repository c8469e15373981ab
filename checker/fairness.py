"""Weak fairness on the reachable graph: cycles a fair run can stay in forever without progress (lassos).

"Eventually good" under weak fairness (TLA+ ``WF``, per action instance)
fails where a run can go round a cycle of states that are not good forever
while every fair action that stays enabled all the time is also taken. On a
finite graph that is a question about strongly connected components of the
states that are not good: such a component holds a fair cycle exactly when
every fair action it enables in all of its states is taken on one of its
edges (a cycle through every state and edge of the component is then fair,
and a component that fails the test has no fair cycle: an action enabled in
all its states and never taken inside it is enabled along any cycle of it).
This is the textbook check for weak fairness (Clarke, Grumberg and Peled,
*Model Checking*, on fair SCCs); strong fairness would need the components
split again.

Which actions are fair is the model's choice (``fair(action) -> bool``):
kspec makes every cluster component and the clock fair, and leaves users and
faults free, so a fault that may strike forever does not count as progress
and is not required to stop either.

A counterexample is a lasso: a path to a state of the component, then a
cycle back to it that, for each fair action enabled somewhere on the
component, either takes it or passes a state where it is disabled. It is
built on the graph's fingerprints; the explorer re-executes it to real
actions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping

import networkx as nx

Edges = Mapping[tuple[int, int], frozenset[int]]
"""the fair actions (ids) that take one state to another"""


Loop = tuple[tuple[int, int, int | None], ...]
"""a lasso's loop as (from, to, the fair action id to take, or None for the unfair action between them)"""


def fair_cycles(graph: nx.DiGraph[int], bad: Iterable[int], enabled: Mapping[int, frozenset[int]], edges: Edges) -> list[frozenset[int]]:
    """The strongly connected components of ``bad`` states that hold a weakly fair cycle, in a stable order."""
    sub = graph.subgraph(bad)
    out = []
    for component in nx.strongly_connected_components(sub):
        if len(component) < 2:
            continue  # a state never steps to itself: a step that changes nothing is no transition
        always = frozenset.intersection(*(enabled[n] for n in component))
        taken = frozenset().union(*(edges.get((u, v), frozenset()) for u, v in sub.subgraph(component).edges))
        if always <= taken:
            out.append(frozenset(component))
    return sorted(out, key=min)


def lasso(graph: nx.DiGraph[int], component: frozenset[int], entry: int, enabled: Mapping[int, frozenset[int]], edges: Edges) -> Loop:
    """A fair loop from ``entry`` round ``component``: each fair action it enables is taken, or disabled somewhere on the loop."""
    sub = graph.subgraph(component)
    loop: list[tuple[int, int, int | None]] = []
    visited, taken = {entry}, set()
    here = entry
    for action in sorted(frozenset().union(*(enabled[n] for n in component))):
        if action in taken or any(action not in enabled[n] for n in visited):
            continue
        hop = _route(sub, here, _serves(action, enabled, edges))
        for u, v in hop:
            loop.append(_step(u, v, edges, action))
            visited.add(v)
            taken.add(loop[-1][2])
        here = hop[-1][1]
    if here != entry or not loop:
        loop += [_step(u, v, edges, None) for u, v in _route(sub, here, lambda _u, v: v == entry)]
    return tuple(loop)


def _serves(action: int, enabled: Mapping[int, frozenset[int]], edges: Edges) -> Callable[[int, int], bool]:
    """Whether an edge takes ``action`` or leads to a state where it is disabled."""
    return lambda u, v: action in edges.get((u, v), frozenset()) or action not in enabled[v]


def _step(u: int, v: int, edges: Edges, wanted: int | None) -> tuple[int, int, int | None]:
    """One edge of the loop with the fair action it takes: ``wanted`` if it can, else the least (None: an unfair action)."""
    fair = edges.get((u, v), frozenset())
    return u, v, wanted if wanted in fair else min(fair, default=None)


def _route(sub: nx.DiGraph[int], start: int, goal: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """The shortest path of edges from ``start`` whose last edge satisfies ``goal(u, v)`` (breadth-first, sorted successors)."""
    parent: dict[int, tuple[int, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for v in sorted(sub.successors(u)):
            if goal(u, v):
                path = [(u, v)]
                while (step := parent[path[-1][0]]) is not None:
                    path.append(step)
                return path[::-1]
            if v not in parent:
                parent[v] = (u, v)
                queue.append(v)
    raise ValueError("no route within the component")  # cannot happen: the component is strongly connected
