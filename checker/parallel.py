"""Breadth-first search over several worker processes, with the same result as one.

The search goes level by level. Every state of a level lives in the worker
that generated it (the initial states in worker 0): a worker expands the
states it is told to (computing successors, fingerprints and the invariants
of states and transitions) and sends back, per state, small data: the
violation if any, and per successor its action label, fingerprint key and
(when a graph is built) the action's text. The main process owns the visited-state table: it walks the
level in the order a single process would, records parents, counts
coverage, and assigns each new state to the worker that found it first, which
keeps that state for the next level (but see below).

A worker that generated more than its share of a level passes the surplus
to the others through the main process (multiprocessing's pipes serialise
them; nothing is written anywhere), so both cores stay busy even though
every state descends from worker 0's initial states.

Because the main process consumes the results in single-process order, the
distinct states, the transitions, the coverage and the first violation are
exactly those of one worker. The state and time bounds are checked between
levels (a single process checks them between states), so a search stopped by
them may have visited a few more states. Workers are forked (Linux) so that
they inherit the model and its properties; only the messages above are
serialised, through multiprocessing's pipes, between processes of this run.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from checker.explore import Found, Progress, _Search, fairness, table_key
from spec.fingerprint import fingerprint as default_fingerprint

StateResult = tuple[int, Any, int, list[tuple[str, int, str | None, bool]], tuple[bool, ...], bool, int]
"""(key, violation, index of the violating transition or -1, successors (label, key, action text, fair), good flags, has successors,
quiescent states the properties counted)"""


class _Worker:
    """One worker process: the model and properties it inherited, and the states of the current level it holds."""

    def __init__(self, model: Any, properties: Any, eventually: tuple[Any, ...], texts: bool) -> None:
        self.model = model
        self.properties = properties
        self.eventually = eventually
        self.texts = texts
        self.model_fp: Callable[[Any], int] = getattr(model, "fingerprint", default_fingerprint)
        self.label: Callable[[Any], str] = getattr(model, "action_label", str)
        self.edge_checks = bool(getattr(properties, "edge_checks", True))
        self.fair = fairness(model, eventually)
        self.held = {table_key(self.model_fp(s)): s for s in model.initial_states()}

    def serve(self, conn: Connection) -> None:
        """Hand over states the main process moves elsewhere, expand the ones it names, level after level."""
        while (message := conn.recv()) is not None:
            if message[0] == "give":
                conn.send([(key, self.held[key]) for key in message[1]])
                continue
            _, incoming, keys, expand = message
            self.held.update(incoming)
            generated: dict[int, Any] = {}
            conn.send([self.expand(key, expand, generated) for key in keys])
            self.held = generated

    def expand(self, key: int, expand: bool, generated: dict[int, Any]) -> StateResult:
        """One state's result; its successors are kept in ``generated`` for the next level."""
        state, properties = self.held[key], self.properties
        successors = self.model.successors(state)
        good = tuple(bool(prop.good(state, successors)) for prop in self.eventually)
        before = getattr(properties, "quiescent_states", 0)
        bad = properties.check_state(state, successors)
        counted = getattr(properties, "quiescent_states", 0) - before
        if bad or not expand:
            return (key, bad[0] if bad else None, -1, [], good, bool(successors), counted)
        out: list[tuple[str, int, str | None, bool]] = []
        for i, (action, nxt) in enumerate(successors):
            nkey = table_key(self.model_fp(nxt))
            out.append((self.label(action), nkey, str(action) if self.texts else None, self.fair is not None and self.fair(action)))
            generated.setdefault(nkey, nxt)
            edge = properties.check_edge(state, action, nxt) if self.edge_checks else []
            if edge:
                return (key, edge[0], i, out, good, True, counted)
        return (key, None, -1, out, good, True, counted)


def _worker(conn: Connection, model: Any, properties: Any, eventually: tuple[Any, ...], texts: bool) -> None:
    """A worker process's entry point."""
    _Worker(model, properties, eventually, texts).serve(conn)


def parallel_bfs(search: _Search, workers: int, progress: Callable[[Progress], None] | None, every: float) -> tuple[Found | None, str]:
    """Breadth-first search with ``workers`` processes: the first violation (if any) and the bound that stopped it ("" if none)."""
    context = multiprocessing.get_context("fork")
    pipes, procs = [], []
    for _ in range(workers):
        mine, theirs = context.Pipe()
        proc = context.Process(target=_worker, args=(theirs, search.model, search.properties, search.eventually, search.graph is not None))
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    search.label = str  # coverage is counted per label here
    try:
        return _levels(search, pipes, progress, every)
    finally:
        for pipe in pipes:
            pipe.send(None)
        for proc in procs:
            proc.join()


def _levels(search: _Search, pipes: list[Connection], progress: Callable[[Progress], None] | None, every: float) -> tuple[Found | None, str]:
    frontier = [(key, 0) for _, key in search.seed()]  # worker 0 holds the initial states
    depth, last = 0, time.perf_counter()
    while frontier:
        stop = search.out_of_budget()
        if stop:
            return None, stop
        search.max_depth = depth
        expand = search.limits.depth is None or depth < search.limits.depth
        balanced = _balance(frontier, len(pipes))
        incoming = _move_states(pipes, balanced)
        for w, pipe in enumerate(pipes):
            pipe.send(("expand", incoming[w], [key for key, (_, expander) in balanced if expander == w], expand))
        frontier = [(key, expander) for key, (_, expander) in balanced]
        results = [iter(pipe.recv()) for pipe in pipes]
        following: list[tuple[int, int]] = []
        for key, owner in frontier:
            result = next(results[owner])
            assert result[0] == key, "a worker answered out of order"
            found = _consume(search, result, owner, depth, expand, following)
            if found is not None:
                return found, ""
        frontier = following
        depth += 1
        search.peak_queue = max(search.peak_queue, len(frontier))
        if progress is not None and time.perf_counter() - last >= every:
            last = time.perf_counter()
            progress(search.snapshot(depth, len(frontier)))
    return None, ""


def _balance(frontier: list[tuple[int, int]], workers: int) -> list[tuple[int, tuple[int, int]]]:
    """Give each worker about the same number of states: (key, (holder, expander)), in frontier order.

    A state stays with the worker that generated it unless that worker holds
    more than its share; the surplus (its last states) goes to workers below
    theirs.
    """
    share = -(-len(frontier) // workers)
    counts = [0] * workers
    out: list[tuple[int, tuple[int, int]]] = []
    surplus: list[int] = []
    for i, (key, holder) in enumerate(frontier):
        if counts[holder] < share:
            counts[holder] += 1
            out.append((key, (holder, holder)))
        else:
            out.append((key, (holder, -1)))
            surplus.append(i)
    light = (w for w in range(workers) for _ in range(share - counts[w]))
    for i in surplus:
        key, (holder, _) = out[i]
        out[i] = (key, (holder, next(light)))
    return out


def _move_states(pipes: list[Connection], frontier: list[tuple[int, tuple[int, int]]]) -> list[list[tuple[int, Any]]]:
    """Fetch the states that change worker from their holders; what each worker receives."""
    moves: dict[int, list[tuple[int, int]]] = {}
    for key, (holder, expander) in frontier:
        if holder != expander:
            moves.setdefault(holder, []).append((key, expander))
    incoming: list[list[tuple[int, Any]]] = [[] for _ in pipes]
    for holder, items in sorted(moves.items()):
        pipes[holder].send(("give", [key for key, _ in items]))
        for (key, state), (_, expander) in zip(pipes[holder].recv(), items, strict=True):
            incoming[expander].append((key, state))
    return incoming


def _consume(search: _Search, result: StateResult, owner: int, depth: int, expand: bool, following: list[tuple[int, int]]) -> Found | None:
    """Take one state's result in single-process order: the table, coverage, graph and the next level."""
    key, violation, index, out, good, has_successors, counted = result
    search.expanded += 1
    if counted:
        props: Any = search.properties  # counted in the worker; added here in single-process order
        props.quiescent_states += counted
    for prop, ok in zip(search.eventually, good, strict=True):
        if ok:
            search.good[prop.name].add(key)
    if violation is not None and index < 0:
        return Found(violation, tuple(search.actions_to(key)))
    if not expand:
        search.truncated = search.truncated or has_successors
        return None
    if search.eventually:
        search.expanded_keys.add(key)
    fair = []
    for label, nkey, text, is_fair in out:
        new = search.table.add(nkey, key, depth + 1)
        search.enabled[label] = search.enabled.get(label, 0) + 1
        if new:
            search.new[label] = search.new.get(label, 0) + 1
            following.append((nkey, owner))
        if search.graph is not None:
            search.graph.add_edge(key, nkey, action=text)
        if is_fair and text is not None:
            fair.append((nkey, text))
    search.transitions += len(out)
    if search.fair is not None:
        search.record_fair(key, fair)
    if violation is not None:
        path, state = search.walk_to(key)
        return Found(violation, (*path, search.model.successors(state)[index][0]), on_edge=True)
    return None
