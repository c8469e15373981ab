"""Breadth-first search of a guarded-command model a whole level at a time, with numpy.

For models written with ``checker.guarded`` (states are 64-bit integers,
commands are guard patterns and constant assignments, invariants are bad-state
patterns). Each level of the search is one array of states: a command's
successors are two bitwise operations over the states it is enabled in,
duplicates are dropped by one sort, and states already visited by a binary
search in the sorted array of visited states. This is how the explorer keeps
pace with Spin on TwoPhase (README, "Performance").

What is kept: the sorted visited states (8 bytes each) and, per level, its
states with each one's parent (an index into the level before) and the
command that first reached it (8 + 4 + 2 bytes), from which a counterexample
is rebuilt. Where several commands or parents reach a new state, the first in
command order, then parent order, is recorded: deterministic, though not
always the parent the state-by-state search records.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from checker.guarded import GuardedModel, Patterns
from spec.invariants import Violation

if TYPE_CHECKING:
    from checker.explore import ExploreResult, Limits, Progress

U64 = npt.NDArray[np.uint64]
_ALL = (1 << 64) - 1


@attrs.frozen
class Level:
    """The states first reached at one depth, each with its parent's index in the level before and the command that reached it."""

    states: U64
    parents: npt.NDArray[np.uint32]
    commands: npt.NDArray[np.uint16]

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return int(self.states.nbytes + self.parents.nbytes + self.commands.nbytes)


@attrs.define
class LevelSearch:
    """A level-synchronous search of ``model``: the visited states, the levels, and counters."""

    model: GuardedModel
    visited: U64
    levels: list[Level]
    enabled: list[int]
    """per command: expanded states where it was enabled and changed the state"""
    new: list[int]
    """per command: states it reached first"""
    transitions: int = 0
    expanded: int = 0
    peak: int = 0

    @property
    def nbytes(self) -> int:
        """Bytes of the visited array and the levels."""
        return int(self.visited.nbytes) + sum(level.nbytes for level in self.levels)

    @property
    def states(self) -> int:
        """Distinct states reached."""
        return int(self.visited.size)


def start(model: GuardedModel) -> LevelSearch:
    """The search before its first level is expanded: the distinct initial states at depth 0."""
    initial = np.unique(np.array(model.initial, dtype=np.uint64))
    level = Level(initial, np.zeros(initial.size, np.uint32), np.zeros(initial.size, np.uint16))
    n = len(model.commands)
    return LevelSearch(model, initial.copy(), [level], [0] * n, [0] * n, peak=int(initial.size))


def first_violation(properties: Patterns, states: U64) -> tuple[int, Violation] | None:
    """The first state of ``states`` (by index) that breaks an invariant, with the violation."""
    for name, message, patterns in properties.bad:
        bad = np.zeros(states.size, dtype=bool)
        for mask, value in patterns:
            bad |= (states & np.uint64(mask)) == np.uint64(value)
        if bad.any():
            return int(np.flatnonzero(bad)[0]), Violation(name, message)
    return None


def successors(search: LevelSearch, frontier: U64, count: bool = True) -> tuple[U64, npt.NDArray[np.intp], npt.NDArray[np.uint16]]:
    """Every transition out of ``frontier``: target states, source indices and commands, in command order.

    ``count``: add to each command's enabled count (not for a level the depth bound leaves unexpanded).
    """
    targets, sources, commands = [], [], []
    for index, command in enumerate(search.model.commands):
        enabled = np.zeros(frontier.size, dtype=bool)
        for mask, value in command.guards:
            enabled |= (frontier & np.uint64(mask)) == np.uint64(value)
        where = np.flatnonzero(enabled)
        before = frontier[where]
        after = (before & np.uint64(~command.clear & _ALL)) | np.uint64(command.set)
        moved = after != before
        n = int(np.count_nonzero(moved))
        search.enabled[index] += n if count else 0
        targets.append(after[moved])
        sources.append(where[moved])
        commands.append(np.full(n, index, dtype=np.uint16))
    return np.concatenate(targets), np.concatenate(sources), np.concatenate(commands)


def expand(search: LevelSearch, frontier: U64) -> Level:
    """The next level: the successors of ``frontier`` not visited before; records them as visited."""
    targets, sources, commands = successors(search, frontier)
    search.transitions += int(targets.size)
    order = np.argsort(targets, kind="stable")  # stable: the first transition to a state is the one recorded
    ordered = targets[order]
    head = np.ones(ordered.size, dtype=bool)
    head[1:] = ordered[1:] != ordered[:-1]
    distinct, first = ordered[head], order[head]
    at = np.minimum(np.searchsorted(search.visited, distinct), max(search.visited.size - 1, 0))
    fresh = search.visited[at] != distinct
    level = Level(distinct[fresh], sources[first[fresh]].astype(np.uint32), commands[first[fresh]])
    for index, n in zip(*np.unique(level.commands, return_counts=True), strict=True):
        search.new[int(index)] += int(n)
    merged = np.concatenate((search.visited, level.states))
    merged.sort()
    search.visited = merged
    return level


def path(search: LevelSearch, depth: int, index: int) -> list[tuple[str, int]]:
    """The actions from an initial state to state ``index`` of level ``depth``."""
    actions = []
    for d in range(depth, 0, -1):
        level = search.levels[d]
        actions.append(search.model.commands[int(level.commands[index])].action)
        index = int(level.parents[index])
    return actions[::-1]


Stop = Callable[[], str]
"""Returns the bound that stops the search now ("" to go on)."""


def run(
    search: LevelSearch, properties: Patterns, depth_bound: int | None, stop: Stop, progress: Callable[[int, int], None] | None
) -> tuple[tuple[list[Any], Violation] | None, str, bool, int]:
    """Expand level after level.

    Returns the first violation and its path, the bound that stopped the
    search (""), whether the depth bound cut it, and the deepest level checked.
    """
    depth = 0
    while search.levels[depth].states.size:
        frontier = search.levels[depth].states
        search.expanded += int(frontier.size)
        bad = first_violation(properties, frontier)
        if bad is not None:
            return (path(search, depth, bad[0]), bad[1]), "", False, depth
        if depth_bound is not None and depth >= depth_bound:
            return None, "", bool(successors(search, frontier, count=False)[0].size), depth
        if reason := stop():
            return None, reason, False, depth
        search.levels.append(expand(search, frontier))
        search.peak = max(search.peak, int(search.levels[-1].states.size))
        depth += 1
        if progress is not None:
            progress(depth, int(search.levels[depth].states.size))
    return None, "", False, depth - 1


def explore_levels(
    model: GuardedModel,
    properties: Patterns,
    limits: Limits,
    fewest_switches: bool,
    progress: Callable[[Progress], None] | None,
) -> ExploreResult:
    """A breadth-first ``checker.explore.explore`` of a guarded model, level at a time: the same states, counts and verdicts."""
    from checker.explore import ExploreResult, Found, Progress, coverage, out_of_budget, table_key
    from checker.switches import fewest_switches as least_switching

    started = time.perf_counter()
    search = start(model)

    def stop() -> str:
        return out_of_budget(limits, search.states, started)

    def report(depth: int, queue: int) -> None:
        if progress is not None:
            progress(Progress(search.states, search.transitions, depth, queue, time.perf_counter() - started))

    bad, stopped, cut, depth = run(search, properties, limits.depth, stop, report)
    found = None
    if bad is not None:
        actions, violation = bad
        found = Found(violation, tuple(actions))
        if fewest_switches:
            deadline = float("inf") if limits.seconds is None else started + limits.seconds
            better = least_switching(model, table_key, properties, violation.invariant, len(actions), False, search.states + 1000, deadline)
            found = found if better is None else Found(better[1], better[0])
        stopped = "violation"
    enabled = {c.action: n for c, n in zip(model.commands, search.enabled, strict=True)}
    new = {c.action: n for c, n in zip(model.commands, search.new, strict=True)}
    return ExploreResult(
        order="bfs",
        complete=not stopped and not cut,
        stopped=stopped or ("depth" if cut else ""),
        states=search.states,
        expanded=search.expanded,
        transitions=search.transitions,
        depth=depth,
        seconds=time.perf_counter() - started,
        table_bytes=search.nbytes,
        peak_queue=search.peak,
        coverage=coverage(model.action_labels(), model.action_label, enabled, new),
        found=found,
        vectorised=True,
    )
