"""The exhaustive explorer: every interleaving of a model up to a bound.

Works on the model interface (``spec.model.Model``): ``initial_states()`` and
``successors(state)``. Optional hooks a model may offer:

- ``fingerprint(state) -> int``: a stable 64-bit fingerprint (default:
  ``spec.fingerprint.fingerprint``, a Merkle digest of the canonical form);
  a model whose fingerprint is equal for symmetric copies of a state (a
  symmetry reduction, ``spec.symmetry``) says so with a non-``None``
  ``symmetry`` attribute, and then takes only eventual properties declared
  ``symmetric``;
- ``action_label(action) -> str`` and ``action_labels() -> list[str]``: the
  unit of action coverage, and every label the model can produce (so that
  one that never fires is flagged).

Visited states are kept as fingerprints in :class:`FingerprintTable`, an
open-addressing table of two 64-bit arrays (the fingerprint and its parent's,
from which a counterexample is rebuilt by re-executing the path), not a
Python set of objects. Breadth-first order (the default) finds a shortest
counterexample; depth-first order is available on request.

What the explorer checks is a :class:`Properties`: invariants of each
reachable state (given its successors, so that a model can tell quiescence
without recomputing them) and of every transition, also those into states
already visited. The search stops at the first violation.
A run that exhausted every reachable state within its bounds is *complete*;
otherwise it says which bound stopped it, and a complete run is still only
about this scenario's finite instance and bounds.
"""

from __future__ import annotations

import time
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs

from checker.fairness import fair_cycles, lasso
from checker.switches import fewest_switches as least_switching
from spec.fingerprint import fingerprint as default_fingerprint
from spec.invariants import Violation

BFS, DFS = "bfs", "dfs"
ORDERS = (BFS, DFS)
MAX_DEPTH = 0xFFFF
"""The deepest depth the table records (16 bits, with depth-first order)."""


class Properties(Protocol):
    """What the explorer checks; every method returns the violations found (empty if none)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The invariants checked."""
        ...

    def check_state(self, state: Any, successors: Sequence[tuple[Any, Any]]) -> list[Violation]:
        """Invariants of a reachable state, given its successors."""
        ...

    def check_edge(self, before: Any, action: Any, after: Any) -> list[Violation]:
        """Invariants of one transition."""
        ...


@attrs.frozen
class StatePredicates:
    """Properties from plain predicates ``state -> message or None``, for models outside Kubernetes."""

    predicates: tuple[tuple[str, Callable[[Any], str | None]], ...]
    edge_checks = False
    """no transition invariants: the explorer skips ``check_edge``"""

    @property
    def names(self) -> tuple[str, ...]:
        """The invariants' names."""
        return tuple(name for name, _ in self.predicates)

    def check_state(self, state: Any, successors: Sequence[tuple[Any, Any]]) -> list[Violation]:
        """Every predicate ``state`` breaks."""
        return [Violation(name, m) for name, check in self.predicates if (m := check(state)) is not None]

    def check_edge(self, before: Any, action: Any, after: Any) -> list[Violation]:
        """No transition invariants."""
        return []


@attrs.frozen
class Eventually:
    """An eventual property: from every reachable state, some state where ``good`` holds is still reachable.

    ``good(state, successors)`` is evaluated on each expanded state. Checked
    on the reachable graph once the search is over: a state from which no
    good state can be reached is a violation (the system is doomed there).
    States the search did not expand (beyond a bound) count as possibly good,
    so a bounded search never raises a false alarm, and says what it could
    not decide. Simplified: no fairness, so a cycle that could leave toward a
    good state but need not (a lasso) is not reported.

    ``symmetric`` declares that ``good`` gives the same answer on every
    symmetric copy of a state. Only then is the property judged on a
    symmetry-reduced graph: the reduced graph is a bisimulation quotient of
    the full one (successors commute with the symmetry), so a state of it
    reaches a good state exactly when every copy it stands for does.
    """

    name: str
    good: Callable[[Any, Sequence[tuple[Any, Any]]], bool]
    symmetric: bool = False


@attrs.frozen
class EventualVerdict:
    """The outcome of one eventual property."""

    name: str
    doomed: int
    """reachable states from which no good state is reachable"""
    undecided: int
    """states not expanded (beyond a bound), taken as possibly good"""
    path: tuple[Any, ...] | None
    """the actions to the shallowest doomed state"""
    stalls: int = 0
    """cycles of expanded states with no good state (strongly connected components): runs that may stay forever
    without progress if nothing forces them out. With none and no doomed state, every run that stays within the
    explored graph reaches a good state, whatever the fairness."""
    lassos: int | None = None
    """of those cycles, the ones a weakly fair run can stay in forever (``checker.fairness``): violations, like doomed
    states. None when fairness was not judged (the model has no ``fair`` hook, or the search was symmetry-reduced)."""
    loop_start: int | None = None
    """when ``path`` is a lasso: the number of its actions before the loop, whose state the last action returns to"""


@attrs.frozen
class Limits:
    """Where a search stops (None: no bound)."""

    depth: int | None = None
    """states deeper than this are not expanded"""
    states: int | None = None
    """stop after this many distinct states"""
    seconds: float | None = None
    """stop after this much wall time"""


_M64 = (1 << 64) - 1


def table_key(fp: int) -> int:
    """The table's key for a 64-bit fingerprint: a bijective mix (splitmix64's finaliser), never 0.

    Mixing spreads structured fingerprints (a model whose states are small
    integers may use the state itself) over the table's slots; 0 marks an
    empty slot, so the one fingerprint that mixes to 0 is stored as 1.
    """
    z = fp & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return (z ^ (z >> 31)) or 1


class FingerprintTable:
    """Visited states as table keys (see :func:`table_key`) with their parents' keys (0: an initial state).

    Linear probing in two ``array('Q')``: 16 bytes a slot, grown (doubled)
    when three quarters full, so between 21 and 43 bytes a state. Depth-first
    order also keeps each state's depth (2 more bytes a slot) so that a state
    reached again by a shorter path is expanded again within the depth bound.
    """

    def __init__(self, capacity: int = 1 << 12, depths: bool = False) -> None:
        size = 1
        while size < capacity:
            size <<= 1
        self._init(size, depths)

    def _init(self, size: int, depths: bool) -> None:
        self._mask = size - 1
        self._keys = array("Q", bytes(8 * size))
        self._parents = array("Q", bytes(8 * size))
        self._depths: array[int] | None = array("H", bytes(2 * size)) if depths else None
        self.count = 0
        self._limit = size * 3 // 4

    def _slot(self, key: int) -> int:
        keys, mask = self._keys, self._mask
        i = key & mask
        while True:
            k = keys[i]
            if k == key or k == 0:
                return i
            i = (i + 1) & mask

    def add(self, key: int, parent: int, depth: int = 0) -> bool:
        """Record ``key`` if it is new (True), else leave it (False)."""
        i = self._slot(key)
        if self._keys[i] == key:
            return False
        self._keys[i] = key
        self._parents[i] = parent
        if self._depths is not None:
            self._depths[i] = min(depth, MAX_DEPTH)
        self.count += 1
        if self.count > self._limit:
            self._grow()
        return True

    def __contains__(self, key: int) -> bool:
        return self._keys[self._slot(key)] == key

    def parent(self, key: int) -> int:
        """The key ``key`` was first reached from (0 for an initial state)."""
        return self._parents[self._slot(key)]

    def depth(self, key: int) -> int:
        """The depth recorded for ``key`` (depth-first tables only)."""
        assert self._depths is not None
        return self._depths[self._slot(key)]

    def relink(self, key: int, parent: int, depth: int) -> None:
        """``key`` was reached again by a shorter path: remember that one."""
        assert self._depths is not None
        i = self._slot(key)
        self._parents[i] = parent
        self._depths[i] = min(depth, MAX_DEPTH)

    def _grow(self) -> None:
        keys, parents, depths = self._keys, self._parents, self._depths
        self._init(2 * len(keys), depths is not None)
        for i, key in enumerate(keys):
            if key:
                j = self._slot(key)
                self._keys[j] = key
                self._parents[j] = parents[i]
                if depths is not None and self._depths is not None:
                    self._depths[j] = depths[i]
                self.count += 1

    @property
    def nbytes(self) -> int:
        """Bytes held by the table's arrays."""
        extra = len(self._depths) * 2 if self._depths is not None else 0
        return len(self._keys) * 16 + extra


@attrs.frozen
class ActionCoverage:
    """How often one kind of action was enabled in an expanded state, and led to a new state."""

    label: str
    enabled: int
    new_states: int


@attrs.frozen
class Progress:
    """A snapshot of a running search."""

    states: int
    transitions: int
    depth: int
    queue: int
    seconds: float

    @property
    def rate(self) -> float:
        """Distinct states per second so far."""
        return self.states / self.seconds if self.seconds > 0 else 0.0


@attrs.frozen
class Found:
    """A violation and the path that leads to it (the violating step is the last)."""

    violation: Violation
    actions: tuple[Any, ...]
    on_edge: bool = False
    """broken by the last transition (a transition invariant), not by the state it reached"""


@attrs.frozen
class ExploreResult:
    """What a search covered, whether it was complete, and the violation it found (if any)."""

    order: str
    complete: bool
    stopped: str
    """why an incomplete search stopped: "violation", "depth", "states" or "time" ("" if complete)"""
    states: int
    """distinct states reached"""
    expanded: int
    """states whose invariants were checked and successors computed"""
    transitions: int
    depth: int
    """the greatest depth expanded"""
    seconds: float
    table_bytes: int
    peak_queue: int
    coverage: tuple[ActionCoverage, ...]
    found: Found | None
    graph: Any = None
    """the reachable graph (networkx.DiGraph of fingerprints, edges labelled with actions), when asked for"""
    eventual: tuple[EventualVerdict, ...] = ()
    """the verdicts of the eventual properties, if any were asked for"""
    workers: int = 1
    """processes that searched"""
    vectorised: bool = False
    """searched a level at a time (``checker.vector``: a guarded-command model with pattern invariants)"""

    @property
    def bytes_per_state(self) -> float:
        """Bytes of the visited-state table per distinct state."""
        return self.table_bytes / self.states if self.states else 0.0

    @property
    def never_fired(self) -> tuple[str, ...]:
        """Action kinds that were never enabled in any expanded state."""
        return tuple(c.label for c in self.coverage if c.enabled == 0)


def coverage(labels: Sequence[str], label: Callable[[Any], str], enabled: dict[Any, int], new: dict[Any, int]) -> tuple[ActionCoverage, ...]:
    """Per label (every one in ``labels``, and any other met): how often its actions were enabled and led to a new state."""
    per_label = dict.fromkeys(labels, 0)
    new_per_label = dict.fromkeys(labels, 0)
    for action, n in enabled.items():
        name = label(action)
        per_label[name] = per_label.get(name, 0) + n
        new_per_label[name] = new_per_label.get(name, 0) + new.get(action, 0)
    return tuple(ActionCoverage(name, per_label[name], new_per_label[name]) for name in sorted(per_label))


def out_of_budget(limits: Limits, states: int, started: float) -> str:
    """The bound a search with ``states`` distinct states, started at ``started``, has reached ("" if none)."""
    if limits.states is not None and states >= limits.states:
        return "states"
    if limits.seconds is not None and time.perf_counter() - started >= limits.seconds:
        return "time"
    return ""


def fairness(model: Any, eventually: Sequence[Eventually]) -> Callable[[Any], bool] | None:
    """Which actions are weakly fair (the model's ``fair`` hook), if eventual properties are judged with fairness.

    Not under symmetry reduction: a fair cycle of the quotient graph need not
    be a fair cycle of the model, since renaming permutes action instances.
    """
    if not eventually or getattr(model, "symmetry", None) is not None:
        return None
    fair: Callable[[Any], bool] | None = getattr(model, "fair", None)
    return fair


class _Search:
    """The state of one search: the table, counters, coverage and the optional graph."""

    def __init__(self, model: Any, properties: Properties, order: str, limits: Limits, graph: bool, eventually: Sequence[Eventually]) -> None:
        if order not in ORDERS:
            raise ValueError(f"unknown search order {order!r}; expected one of {', '.join(ORDERS)}")
        self.eventually = tuple(eventually)
        self.good: dict[str, set[int]] = {e.name: set() for e in self.eventually}
        self.expanded_keys: set[int] = set()
        graph = graph or bool(self.eventually)
        self.model = model
        self.properties = properties
        self.order = order
        self.limits = limits
        self.model_fp: Callable[[Any], int] = getattr(model, "fingerprint", default_fingerprint)
        self.label: Callable[[Any], str] = getattr(model, "action_label", str)
        self.labels: list[str] = model.action_labels() if hasattr(model, "action_labels") else []
        self.edge_checks = bool(getattr(properties, "edge_checks", True))
        self.enabled: dict[Any, int] = {}
        """times each action was enabled in an expanded state (per action, summed per label at the end)"""
        self.new: dict[Any, int] = {}
        """times each action led to a new state"""
        self.table = FingerprintTable(depths=order == DFS)
        self.transitions = 0
        self.expanded = 0
        self.max_depth = 0
        self.peak_queue = 0
        self.truncated = False
        self.workers = 1
        self.fair = fairness(model, self.eventually)
        self.fair_ids: dict[str, int] = {}
        self.fair_enabled: dict[int, frozenset[int]] = {}
        """per expanded state: the fair actions (ids of their texts) it enables"""
        self.fair_edges: dict[tuple[int, int], frozenset[int]] = {}
        """per edge: the fair actions that take it"""
        self.started = time.perf_counter()
        self.graph: Any = None
        if graph:
            import networkx as nx

            self.graph = nx.DiGraph()

    def fp(self, state: Any) -> int:
        """The table key of ``state``."""
        return table_key(self.model_fp(state))

    def coverage(self) -> tuple[ActionCoverage, ...]:
        return coverage(self.labels, self.label, self.enabled, self.new)

    def out_of_budget(self) -> str:
        return out_of_budget(self.limits, self.table.count, self.started)

    def seed(self) -> list[tuple[Any, int]]:
        """Record the distinct initial states (depth 0): each with its key."""
        seeded = []
        for state in self.model.initial_states():
            key = self.fp(state)
            if self.table.add(key, 0, 0):
                if self.graph is not None:
                    self.graph.add_node(key)
                seeded.append((state, key))
        return seeded

    def snapshot(self, depth: int, queue: int) -> Progress:
        return Progress(self.table.count, self.transitions, depth, queue, time.perf_counter() - self.started)

    def path_to(self, fp: int) -> list[int]:
        """Fingerprints from an initial state to ``fp``, following the recorded parents."""
        path = [fp]
        while (parent := self.table.parent(path[-1])) != 0:
            path.append(parent)
        return path[::-1]

    def walk_to(self, fp: int) -> tuple[list[Any], Any]:
        """Re-execute the recorded path to ``fp``: its actions and the state it ends in."""
        path = self.path_to(fp)
        state = next(s for s in self.model.initial_states() if self.fp(s) == path[0])
        actions = []
        for target in path[1:]:
            action, state = next((a, t) for a, t in self.model.successors(state) if self.fp(t) == target)
            actions.append(action)
        return actions, state

    def actions_to(self, fp: int) -> list[Any]:
        """Re-execute the recorded path to ``fp`` and return its actions."""
        return self.walk_to(fp)[0]

    def result(self, complete: bool, stopped: str, found: Found | None) -> ExploreResult:
        return ExploreResult(
            order=self.order,
            complete=complete,
            stopped=stopped,
            states=self.table.count,
            expanded=self.expanded,
            transitions=self.transitions,
            depth=self.max_depth,
            seconds=time.perf_counter() - self.started,
            table_bytes=self.table.nbytes,
            peak_queue=self.peak_queue,
            coverage=self.coverage(),
            found=found,
            graph=self.graph,
            eventual=tuple(self.verdict(e) for e in self.eventually) if found is None else (),
            workers=self.workers,
        )

    def fair_id(self, text: str) -> int:
        """The id of a fair action, by its text (the same in every worker process)."""
        return self.fair_ids.setdefault(text, len(self.fair_ids))

    def record_fair(self, fp: int, fair: Sequence[tuple[int, str]]) -> None:
        """The fair actions ``fp`` enables, as (target, action text) pairs."""
        ids = []
        for target, text in fair:
            i = self.fair_id(text)
            ids.append(i)
            self.fair_edges[fp, target] = self.fair_edges.get((fp, target), frozenset()) | {i}
        self.fair_enabled[fp] = frozenset(ids)

    def verdict(self, prop: Eventually) -> EventualVerdict:
        """Which states cannot reach a good one, on the graph built during the search."""
        undecided = [n for n in self.graph.nodes if n not in self.expanded_keys]
        frontier = list(self.good[prop.name]) + undecided
        coreachable = set(frontier)
        while frontier:
            node = frontier.pop()
            for parent in self.graph.predecessors(node):
                if parent not in coreachable:
                    coreachable.add(parent)
                    frontier.append(parent)
        doomed = [n for n in self.graph.nodes if n not in coreachable]
        path, loop_start, lassos = None, None, None
        if doomed:
            shallowest = min(doomed, key=lambda n: (len(self.path_to(n)), n))
            path = tuple(self.actions_to(shallowest))
        if self.fair is not None:
            cycles = fair_cycles(self.graph, self.expanded_keys - self.good[prop.name], self.fair_enabled, self.fair_edges)
            lassos = len(cycles)
            if cycles and path is None:
                path, loop_start = self.lasso_actions(cycles)
        return EventualVerdict(prop.name, len(doomed), len(undecided), path, self.stalls(self.good[prop.name]), lassos, loop_start)

    def lasso_actions(self, cycles: Sequence[frozenset[int]]) -> tuple[tuple[Any, ...], int]:
        """The shortest path into a fair cycle, then a fair loop back to where it entered: its actions and the loop's start."""
        depth = {n: len(self.path_to(n)) for c in cycles for n in c}
        entry = min(depth, key=lambda n: (depth[n], n))
        loop_edges = lasso(self.graph, next(c for c in cycles if entry in c), entry, self.fair_enabled, self.fair_edges)
        prefix, state = self.walk_to(entry)
        texts = {i: t for t, i in self.fair_ids.items()}
        loop = []
        for _, target, fair in loop_edges:
            action, state = next((a, t) for a, t in self.model.successors(state) if self.fp(t) == target and (fair is None or str(a) == texts[fair]))
            loop.append(action)
        return (*prefix, *loop), len(prefix)

    def stalls(self, good: set[int]) -> int:
        """Cycles among expanded states that are not good (strongly connected components, networkx)."""
        import networkx as nx

        bad = self.graph.subgraph(n for n in self.graph.nodes if n in self.expanded_keys and n not in good)
        return sum(1 for component in nx.strongly_connected_components(bad) if len(component) > 1)


def explore(
    model: Any,
    properties: Properties,
    *,
    order: str = BFS,
    limits: Limits = Limits(),
    graph: bool = False,
    eventually: Sequence[Eventually] = (),
    fewest_switches: bool = True,
    workers: int = 1,
    progress: Callable[[Progress], None] | None = None,
    progress_every: float = 2.0,
    vectorise: bool = True,
) -> ExploreResult:
    """Visit every state of ``model`` reachable within ``limits``, checking ``properties``; stop at the first violation.

    A state's invariants are checked when it is expanded (its successors are
    computed once, for both), a transition's when it is generated; in
    breadth-first order both come in order of depth, so the first violation
    found is at the least depth. ``eventually`` properties are judged on the
    reachable graph (built for them) when no safety violation was found.
    With ``fewest_switches`` (breadth-first only), the counterexample is,
    among the shortest, one with the fewest switches between components
    (``checker.switches``). ``workers`` > 1 spreads a breadth-first search
    over that many processes (``checker.parallel``), with the same result.
    A breadth-first search of a guarded-command model (``checker.guarded``)
    with pattern invariants and neither graph nor eventual properties goes a
    level at a time (``checker.vector``), in one process, unless
    ``vectorise`` is False.
    """
    if workers > 1 and order != BFS:
        raise ValueError("several workers search breadth-first only")
    if getattr(model, "symmetry", None) is not None and not all(e.symmetric for e in eventually):
        raise ValueError("a symmetry-reduced search judges only eventual properties declared symmetric")
    if order == BFS and vectorise and not graph and not eventually:
        from checker.guarded import GuardedModel, Patterns
        from checker.vector import explore_levels

        if isinstance(model, GuardedModel) and isinstance(properties, Patterns) and model.symmetry is None:
            return explore_levels(model, properties, limits, fewest_switches, progress)
    search = _Search(model, properties, order, limits, graph, eventually)
    search.workers = workers
    if workers > 1:
        from checker.parallel import parallel_bfs

        found, stop = parallel_bfs(search, workers, progress, progress_every)
    elif order == BFS:
        found, stop = _bfs(search, progress, progress_every)
    else:
        found, stop = _dfs(search, progress, progress_every)
    if found is not None:
        polish = fewest_switches and order == BFS
        return search.result(False, "violation", _fewest_switches(search, found) if polish else found)
    if stop:
        return search.result(False, stop, None)
    return search.result(not search.truncated, "depth" if search.truncated else "", None)


def _expand(search: _Search, state: Any, fp: int, depth: int) -> tuple[list[tuple[Any, int, bool]], Found | None]:
    """Check one state and its transitions; return its successors (state, fingerprint, new) or a violation."""
    successors = search.model.successors(state)
    search.expanded += 1
    bad = search.properties.check_state(state, successors)
    if bad:
        return [], Found(bad[0], tuple(search.actions_to(fp)))
    for prop in search.eventually:
        if prop.good(state, successors):
            search.good[prop.name].add(fp)
    bound = search.limits.depth
    if bound is not None and depth >= bound:
        search.truncated = search.truncated or bool(successors)
        return [], None
    if search.eventually:
        search.expanded_keys.add(fp)  # every edge out of it is in the graph
    fair: list[tuple[int, str]] | None = [] if search.fair is not None else None
    out: list[tuple[Any, int, bool]] = []
    model_fp, add, enabled, new_by_action = search.model_fp, search.table.add, search.enabled, search.new
    for action, nxt in successors:
        nfp = table_key(model_fp(nxt))
        new = add(nfp, fp, depth + 1)
        enabled[action] = enabled.get(action, 0) + 1
        if new:
            new_by_action[action] = new_by_action.get(action, 0) + 1
        if search.graph is not None:
            text = str(action)
            search.graph.add_edge(fp, nfp, action=text)
            if fair is not None and search.fair is not None and search.fair(action):
                fair.append((nfp, text))
        if search.edge_checks:
            bad = search.properties.check_edge(state, action, nxt)
            if bad:
                search.transitions += len(out) + 1
                return [], Found(bad[0], (*search.actions_to(fp), action), on_edge=True)
        out.append((nxt, nfp, new))
    search.transitions += len(out)
    if fair is not None:
        search.record_fair(fp, fair)
    return out, None


Outcome = tuple[Found | None, str]
"""A search's first violation (if any) and the bound that stopped it ("" if none)."""


def _bfs(search: _Search, progress: Callable[[Progress], None] | None, every: float) -> Outcome:
    queue: deque[tuple[Any, int, int]] = deque((state, key, 0) for state, key in search.seed())
    last = time.perf_counter()
    while queue:
        stop = search.out_of_budget()
        if stop:
            return None, stop
        state, fp, depth = queue.popleft()
        search.max_depth = max(search.max_depth, depth)
        out, found = _expand(search, state, fp, depth)
        if found is not None:
            return found, ""
        queue.extend((nxt, nfp, depth + 1) for nxt, nfp, new in out if new)
        search.peak_queue = max(search.peak_queue, len(queue))
        if progress is not None and time.perf_counter() - last >= every:
            last = time.perf_counter()
            progress(search.snapshot(depth, len(queue)))
    return None, ""


def _fewest_switches(search: _Search, found: Found) -> Found:
    """Among the shortest counterexamples of the same invariant, the one with the fewest component switches."""
    budget = search.table.count + 1000  # about as many states again as the search visited: deterministic, unlike a time budget
    deadline = float("inf") if search.limits.seconds is None else search.started + search.limits.seconds
    invariant, depth = found.violation.invariant, len(found.actions)
    better = least_switching(search.model, search.fp, search.properties, invariant, depth, found.on_edge, budget, deadline)
    return found if better is None else Found(better[1], better[0], found.on_edge)


def _dfs(search: _Search, progress: Callable[[Progress], None] | None, every: float) -> Outcome:
    stack: list[tuple[Any, int, int]] = [(state, key, 0) for state, key in reversed(search.seed())]
    last = time.perf_counter()
    bound = search.limits.depth
    while stack:
        stop = search.out_of_budget()
        if stop:
            return None, stop
        state, fp, depth = stack.pop()
        if depth > search.table.depth(fp):
            continue  # reached again by a shorter path since it was pushed; that copy is expanded instead
        search.max_depth = max(search.max_depth, depth)
        out, found = _expand(search, state, fp, depth)
        if found is not None:
            return found, ""
        for nxt, nfp, new in reversed(out):
            if new:
                stack.append((nxt, nfp, depth + 1))
            elif bound is not None and depth + 1 < search.table.depth(nfp):
                search.table.relink(nfp, fp, depth + 1)  # a shorter path: expand it again within the bound
                stack.append((nxt, nfp, depth + 1))
        search.peak_queue = max(search.peak_queue, len(stack))
        if progress is not None and time.perf_counter() - last >= every:
            last = time.perf_counter()
            progress(search.snapshot(depth, len(stack)))
    return None, ""
