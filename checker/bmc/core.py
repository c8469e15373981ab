"""Frames, cells and the unrolled run that the component encodings read and write.

A *cell* is one named Z3 integer or boolean of a state; a *frame* holds the
value of every cell in one state of a run. The component encodings describe
an action instance by its guard (a Z3 condition on the run up to frame t)
and its effect (the cells it changes, as terms over the run up to frame t);
:class:`Unrolling` turns them into the constraint that frame t+1 follows
frame t by the action chosen at step t.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import attrs
import z3

from spec.component import Action
from spec.frozen import EMPTY
from spec.invariants import INVARIANTS, TRANSITION
from spec.model import KubeModel
from spec.state import State

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
CellValue = int | bool
Terms = dict[str, z3.ExprRef]
"""cell name to its Z3 term in one frame"""

NONE = -1
"""an absent number: a watch without a cursor, a Service without a ClusterIP"""


class EncodingError(AssertionError):
    """Z3 and the executable spec disagree: a decoded run does not re-execute, or does not break what Z3 says it breaks."""


@attrs.frozen
class Cell:
    """One number or flag of the state: its name, whether it is a boolean, and whether it records history only.

    A *history* cell is not part of the state (the abstraction of a state
    does not give it): it says what the step that reached the frame did,
    such as the kind of object it wrote, so that later frames can read the
    watch history off the unrolling.
    """

    name: str
    boolean: bool = False
    history: bool = False

    def declare(self, frame: int) -> z3.ExprRef:
        """The cell's variable in frame ``frame``."""
        name = f"{self.name}@{frame}"
        return z3.Bool(name) if self.boolean else z3.Int(name)

    def literal(self, value: CellValue) -> z3.ExprRef:
        """A constant of the cell's sort."""
        return z3.BoolVal(bool(value)) if self.boolean else z3.IntVal(int(value))


Guard = Callable[["Unrolling", int], z3.BoolRef]
Effect = Callable[["Unrolling", int], Terms]
Relisted = Callable[["Unrolling", int, z3.ArithRef, z3.ArithRef], Terms]
"""a component's handlers of a relist, from its cache as of one revision to the store as of another (informer._diff_handlers)"""


@attrs.frozen
class Encoded:
    """One action instance of the catalogue as Z3 reads it: enabled where ``guard`` holds, changing the cells ``effect`` gives."""

    action: Action
    guard: Guard
    effect: Effect
    born: int = 0
    """the first frame in which the guard can hold (a pod slot's actions wait for the earliest step that can create it): before, not built"""
    unread: bool = False
    """a delivery whose changes (its watch's cursor, and memory only its component's impossible actions read) nothing reads but the
    quiescence condition, that watch's own WatchReset (which a lower cursor only enables more) and the component's restart (which resets
    them): the endpoints controller's pod deliveries where no Service exists, the node lifecycle and taint eviction controllers' where no
    Node is written, the garbage collector's where it can collect nothing, the ReplicaSet controller's where no ReplicaSet exists, the
    scheduler's Node deliveries where no pod is ever queued. A search that judges no quiescent invariant leaves it out,
    since a delivery breaks no invariant and a run without it takes the same other steps to the same objects."""
    free: str = ""
    """the name of a number parameter Z3 chooses at each step (``Unrolling.arg``), appended to ``action``'s parameters when decoded (such
    as WatchReset's revision); "" for none"""

    def decoded(self, arg: int) -> Action:
        """The catalogue action this instance takes with its free parameter at ``arg``."""
        return attrs.evolve(self.action, params=(*self.action.params, (self.free, arg))) if self.free else self.action


@attrs.frozen
class EncodedInvariant:
    """An invariant as Z3 reads it: ``bad(u, t)`` holds when frame t breaks it (a transition invariant: when the step into frame t does)."""

    name: str
    bad: Callable[[Unrolling, int], z3.BoolRef]


class Unrolling:
    """A run of the instance as Z3 frames: frame 0 is the initial state, frame t+1 follows frame t by the action ``choice[t]``."""

    def __init__(
        self,
        cells: Sequence[Cell],
        initial: Mapping[str, CellValue],
        actions: Sequence[Encoded],
        context: object,
        order: Mapping[int, int] = EMPTY,
        drained: frozenset[str] = frozenset(),
    ) -> None:
        self.cells = {c.name: c for c in cells}
        self.actions = tuple(actions)
        self.context = context
        """what the encodings need besides the frames (the instance)"""
        self.drained = drained
        """the watches (their cursor cells) whose deliveries the runs leave out and a run judged at quiescence takes at its end
        (``Instance.drained``): a frame can be quiescent with their events still pending"""
        self.order = dict(order)
        """a rank for each of some actions (by index) any two of which of different ranks are independent: two of them in adjacent steps
        come in rank order (``Instance.reduced``)"""
        ranked = sorted(self.order)
        ranks = [self.order[i] for i in ranked]
        assert not ranked or ranked == list(range(ranked[0], ranked[-1] + 1)), "the ranked actions are not one run of indices"
        assert ranks == sorted(ranks), "the ranked actions are not numbered by rank"
        self._blocks = (ranked[0], ranked[-1], [i for i in ranked[1:] if self.order[i] != self.order[i - 1]]) if ranked else None
        """the ranked actions' first and last index and where each block of one rank after the first begins"""
        self.frames: list[Terms] = [{name: cell.literal(initial.get(name, 0)) for name, cell in self.cells.items()}]
        self.choices: list[z3.ArithRef] = []
        self.fixed: dict[int, int] = {}
        """the free parameter of steps whose value is known (the differential test's)"""
        self._memo: dict[tuple[object, ...], object] = {}

    def memo(self, key: tuple[object, ...], build: Callable[[], T], *terms: z3.ExprRef) -> T:
        """``build()``, once per ``key`` (which names a frame) and ``terms``: what a guard and an effect, or several actions, read alike.

        The terms are told apart by their Z3 ids, and kept alive so that no id is reused.
        """
        full = (*key, *(term.get_id() for term in terms))
        if full not in self._memo:
            self._memo[full] = (build(), terms)
        return self._memo[full][0]  # type: ignore[index, no-any-return]

    def arg(self, t: int) -> z3.ArithRef:
        """The number the action of step t chooses for its free parameter (0 where it has none)."""
        return z3.IntVal(self.fixed[t]) if t in self.fixed else z3.Int(f"arg@{t}")

    def __getitem__(self, frame: int) -> Terms:
        return self.frames[frame]

    @property
    def depth(self) -> int:
        """Steps unrolled so far."""
        return len(self.choices)

    def step(self) -> list[z3.BoolRef]:
        """Unroll one more step; the constraints that tie the new frame to the one before."""
        t = self.depth
        choice = z3.Int(f"action@{t}")
        self.choices.append(choice)
        cur = self.frames[t]
        chosen = [choice == i for i in range(len(self.actions))]
        live = [i for i, enc in enumerate(self.actions) if enc.born <= t]
        # the choice is one of the built actions, and each implies its guard: a clause an action, where a disjunction of (choice, guard)
        # conjunctions would make the solver name each conjunction first (about twice as fast on outage, no slower elsewhere)
        domain = z3.Or([chosen[i] for i in live]) if live else z3.BoolVal(False)
        enabled = [z3.Implies(chosen[i], self.actions[i].guard(self, t)) for i in live]
        values: dict[str, z3.ExprRef] = {name: cell.literal(0) if cell.history else cur[name] for name, cell in self.cells.items()}
        for i in reversed(live):
            effect = self.actions[i].effect(self, t)
            unknown = set(effect) - set(self.cells)
            assert not unknown, f"{self.actions[i].action} writes cells that are not declared: {sorted(unknown)}"
            for name in sorted(effect):
                if not effect[name].eq(values[name]):
                    values[name] = z3.If(chosen[i], effect[name], values[name])
        # a cell no action of the step can change keeps its term (a constant stays one): no new variable, no equation
        kept = {name for name, value in values.items() if value.eq(cur[name]) or z3.is_int_value(value) or z3.is_true(value) or z3.is_false(value)}
        nxt = {name: values[name] if name in kept else cell.declare(t + 1) for name, cell in self.cells.items()}
        self.frames.append(nxt)
        state_cells = [name for name in sorted(self.cells) if not self.cells[name].history and not nxt[name].eq(cur[name])]
        changes = z3.Or([nxt[name] != cur[name] for name in state_cells] or [z3.BoolVal(False)])  # a step that changes nothing is a stutter
        ties = [nxt[name] == values[name] for name in sorted(self.cells) if name not in kept]
        free = [chosen[i] for i in live if self.actions[i].free]
        pinned = z3.Or(*free, self.arg(t) == 0) if free else self.arg(t) == 0  # a step without a free parameter leaves it 0: one model per run
        return [domain, *enabled, changes, pinned, *ties, *self._in_order(t)]

    def _in_order(self, t: int) -> list[z3.BoolRef]:
        """Where ``order`` ranks the actions of steps t-1 and t, the earlier one's rank is not above the later one's.

        The ranked actions are one run of indices whose ranks never fall
        (``Instance.reduced`` numbers them so), so that is a handful of linear
        atoms: no step's index lies in a later block than the next step's.
        """
        if self._blocks is None or t == 0:
            return []
        prev, now = self.choices[t - 1], self.choices[t]
        first, last, starts = self._blocks
        later = z3.Or([z3.And(now < start, start <= prev) for start in starts]) if starts else z3.BoolVal(False)
        return [z3.Not(z3.And(first <= now, prev <= last, later))]

    def known(self, choice: int, values: Mapping[str, CellValue], arg: int = 0) -> None:
        """Append a step whose choice (and free parameter) and next frame are known constants (how the differential test follows a run of the
        executable spec)."""
        self.fixed[self.depth] = arg
        self.choices.append(z3.IntVal(choice))
        self.frames.append({name: cell.literal(values.get(name, 0)) for name, cell in self.cells.items()})

    def successor(self, index: int, arg: int = 0) -> dict[str, CellValue] | None:
        """With every frame so far constant: the next frame action ``index`` leads to (with its free parameter at ``arg``), or None if it is
        not enabled (or would change nothing)."""
        t = self.depth
        enc = self.actions[index]
        self.fixed[t] = arg
        try:
            if enc.born > t or not z3.is_true(z3.simplify(enc.guard(self, t))):
                return None
            values = {name: _constant(self.frames[t][name]) if not cell.history else 0 for name, cell in self.cells.items()}
            values |= {name: _constant(term) for name, term in enc.effect(self, t).items()}
        finally:
            del self.fixed[t]
        changed = any(values[name] != _constant(self.frames[t][name]) for name, cell in self.cells.items() if not cell.history)
        return values if changed else None


@attrs.frozen
class Footprint:
    """The cells an action instance's guard and effect read (in any frame: a watch reads the history) and the cells it writes."""

    reads: frozenset[str]
    writes: frozenset[str]


def footprints(u: Unrolling, t: int) -> tuple[Footprint, ...]:
    """Each action's footprint at step ``t`` of a :func:`symbolic` unrolling, read off its terms over frames whose every cell is a variable
    (so that no constant hides a read); an action not yet born at ``t`` reads and writes nothing."""
    actions, names = u.actions, _Names()
    out = []
    for enc in actions:
        if enc.born > t:
            out.append(Footprint(frozenset(), frozenset()))
            continue
        effect = enc.effect(u, t)
        writes = frozenset(name for name, term in effect.items() if not term.eq(u[t][name]))
        out.append(Footprint(names.of([enc.guard(u, t), *effect.values()]), writes))
    return tuple(out)


def symbolic(cells: Sequence[Cell], actions: Sequence[Encoded], context: object, t: int) -> Unrolling:
    """An unrolling of ``t`` steps whose every cell of every frame, and every step's choice, is a variable (declared when first read)."""
    u = Unrolling(cells, {}, actions, context)
    u.frames = [_Variables(u.cells, k) for k in range(t + 1)]
    u.choices = [z3.Int(f"action@{k}") for k in range(t)]
    return u


class _Variables(dict[str, z3.ExprRef]):
    """A frame whose cells are variables, each declared when first read (an instance has thousands of cells, a term reads a few)."""

    def __init__(self, cells: Mapping[str, Cell], frame: int) -> None:
        super().__init__()
        self.cells, self.frame = cells, frame

    def __missing__(self, name: str) -> z3.ExprRef:
        self[name] = term = self.cells[name].declare(self.frame)
        return term


class _Names:
    """The variables terms mention, by name less the frame (``cell@3`` is ``cell``; ``action@2`` is ``action``), with what each shared
    subterm mentions kept by its id (the terms of one unrolling share most of their subterms). Z3's C API walks the terms: its Python
    wrappers cost ten times as much."""

    def __init__(self) -> None:
        self.ctx = z3.main_ctx().ref()
        self.memo: dict[int, frozenset[str]] = {}
        self.alive: list[z3.ExprRef] = []
        """the terms walked, kept so that no id in ``memo`` is reused"""

    def of(self, terms: Sequence[z3.ExprRef]) -> frozenset[str]:
        out: set[str] = set()
        self.alive.extend(terms)
        for term in terms:
            out |= self._walk(term.as_ast())
        return frozenset(out)

    def _walk(self, root: Any) -> frozenset[str]:
        ctx, memo = self.ctx, self.memo
        stack = [(root, False)]
        while stack:
            ast, done = stack.pop()
            key = z3.Z3_get_ast_id(ctx, ast)
            if key in memo:
                continue
            if z3.Z3_get_ast_kind(ctx, ast) != z3.Z3_APP_AST:
                memo[key] = frozenset()
                continue
            app = z3.Z3_to_app(ctx, ast)
            args = [z3.Z3_get_app_arg(ctx, app, k) for k in range(z3.Z3_get_app_num_args(ctx, app))]
            if not args:
                decl = z3.Z3_get_app_decl(ctx, app)
                uninterpreted = z3.Z3_get_decl_kind(ctx, decl) == z3.Z3_OP_UNINTERPRETED
                name = z3.Z3_get_symbol_string(ctx, z3.Z3_get_decl_name(ctx, decl)).rsplit("@", 1)[0]
                memo[key] = frozenset([name]) if uninterpreted else frozenset()
            elif done:
                memo[key] = frozenset().union(*(memo[z3.Z3_get_ast_id(ctx, a)] for a in args))
            else:
                stack.append((ast, True))
                stack.extend((a, False) for a in args)
        return memo[z3.Z3_get_ast_id(ctx, root)]


def per_frame(fn: F) -> F:
    """Memoise ``fn(u, t, *names)`` on the unrolling: a read of frame t that several guards and effects share is built once."""

    @functools.wraps(fn)
    def once(u: Unrolling, t: int, *names: str) -> Any:
        return u.memo((fn.__qualname__, t, *names), lambda: fn(u, t, *names))

    return cast(F, once)


def _constant(term: z3.ExprRef) -> CellValue:
    value = z3.simplify(term)
    if z3.is_true(value) or z3.is_false(value):
        return bool(z3.is_true(value))
    assert isinstance(value, z3.IntNumRef), f"not a constant: {value}"
    return int(value.as_long())


@attrs.frozen
class Instance:
    """A scenario and variant as the encoding sees them: the cells, the encoded actions and invariants, and what is left out."""

    model: KubeModel
    initial: State
    cells: tuple[Cell, ...]
    actions: tuple[Encoded, ...]
    invariants: tuple[EncodedInvariant, ...]
    abstract: Callable[[State], dict[str, CellValue]]
    """a state's cell values (the abstraction the differential test compares frames with)"""
    not_encoded: tuple[str, ...]
    """the catalogue's actions (``component Action [params]``) this scenario can take that the encoding leaves out, in catalogue order"""
    data: object
    """the component encodings' own constants (slots, codes, the initial history)"""
    order: Mapping[int, int] = EMPTY
    """the local actions (by index) and their ranks, in a reduced instance (:meth:`reduced`); empty otherwise"""
    drained: frozenset[str] = frozenset()
    """the cursor cells of the watches whose deliveries are left out of the runs (:meth:`without_unread`)"""

    def unrolling(self) -> Unrolling:
        """Frame 0 of a run from the scenario's initial state (in a reduced instance, one whose adjacent local steps come in rank order)."""
        return Unrolling(self.cells, self.abstract(self.initial), self.actions, self.data, self.order, self.drained)

    def without_unread(self, cursors: Callable[[Encoded], str]) -> Instance:
        """The instance whose runs leave out the unread deliveries (``Encoded.unread``), each watch's cursor cell (``cursors``) drained.

        Such a delivery moves its watch's cursor, which nothing reads but the
        quiescence condition, the API server's writes (which set a cursor
        with nothing pending to the new event, the same whether its earlier
        events were delivered or not), the history's trimming (which keeps
        an undelivered event longer, so that a relist may only be served
        from more revisions) and the watch's own WatchReset and its
        component's restart (which set the cursor afresh, so a delivery
        before them changes nothing after them). So in any run it can be
        dropped (before such a reset or restart) or moved to the end, to a
        run as long or shorter that ends in the same frame but for the
        cursor. A run judged at quiescence therefore takes them at its end:
        a frame is quiescent but for their pending events, and the run is
        that much longer (``invariants.drain``).
        """
        unread = [e for e in self.actions if e.unread]
        kept = tuple(e for e in self.actions if not e.unread)
        return attrs.evolve(self, actions=kept, drained=self.drained | frozenset(cursors(e) for e in unread))

    def reduced(self, steps: int) -> Instance:
        """The instance whose runs take two *local* actions of different components in adjacent steps in the catalogue's order of their
        components (:meth:`local_ranks`), with its local actions last, by rank, so that the order is a few linear atoms a step.

        Such a pair is independent: neither writes a cell the other reads
        (in any frame) or writes, so either order is enabled and ends in the
        same frame, and the frame between differs only in cells no transition
        invariant's verdict on the step reads. Any run can be sorted so by
        swapping such pairs, to a run of the same length that ends in the same
        frame, with the same writes in the same order; a state invariant, a
        transition invariant and the quiescence of the last frame are judged
        alike in both. The search then tries one order of a burst of
        deliveries and other local steps instead of every one.
        """
        ranks = self.local_ranks(steps)
        order = sorted(range(len(self.actions)), key=lambda i: (i in ranks, ranks.get(i, 0), i))
        actions = tuple(self.actions[i] for i in order)
        return attrs.evolve(self, actions=actions, order={new: ranks[old] for new, old in enumerate(order) if old in ranks})

    def local_ranks(self, steps: int) -> dict[int, int]:
        """The actions (by index) that are local in runs of up to ``steps`` steps, each with its component's rank in the catalogue.

        An action is local when it is a cluster component's, writes neither
        the store's revision nor a history cell (so it is no API write) and
        reads no free parameter, and no local action of another component
        reads or writes a cell it writes, or writes a cell it reads; the
        conflicting ones are left out together until none remain. Its
        footprint is read off its terms (:func:`footprints`), so a change to
        an encoding cannot make two dependent actions look independent. Where
        a transition invariant reads a cell a local action writes, or the
        action chosen, that action is left out too.

        The footprints are read at the run's last step, or the first at which
        every action is built if that comes sooner: a step reads the history
        of the frames before it, so a later one reads all an earlier one does.
        """
        ctx = self.model.ctx
        t = self.footprint_step(steps)
        u = symbolic(self.cells, self.actions, self.data, t)
        prints = footprints(u, t)
        api_write = {c.name for c in self.cells if c.history} | {"rev"}
        local = {
            i: (e.action.component, fp)
            for i, (e, fp) in enumerate(zip(self.actions, prints, strict=True))
            if e.born <= t and not ctx.type_of(e.action.component).environment and not (fp.writes & api_write or fp.reads & {"action", "arg"})
        }
        judged = self._judged_after(u, {i: fp for i, (_, fp) in local.items()}, t)
        if judged is None:
            return {}
        local = {i: v for i, v in local.items() if not v[1].writes & judged}
        while True:
            reads: dict[str, set[str]] = {}
            writes: dict[str, set[str]] = {}
            for component, fp in local.values():
                reads.setdefault(component, set()).update(fp.reads)
                writes.setdefault(component, set()).update(fp.writes)
            clash = {
                i for i, (c, fp) in local.items() if any(fp.writes & (reads[d] | writes[d]) or fp.reads & writes[d] for d in sorted(writes) if d != c)
            }
            if not clash:
                break
            local = {i: v for i, v in local.items() if i not in clash}
        ranks = {name: r for r, (name, _) in enumerate(ctx.components)}
        return {i: ranks[component] for i, (component, _) in sorted(local.items())}

    def footprint_step(self, steps: int) -> int:
        """The step at which :meth:`local_ranks` reads the footprints of runs of up to ``steps`` steps: the last, or the first at which every
        action is built if that comes sooner (and at least 1, so that a transition has a frame before it)."""
        return max(1, min(steps - 1, max((e.born for e in self.actions), default=0) + 1))

    def _judged_after(self, u: Unrolling, local: Mapping[int, Footprint], t: int) -> frozenset[str] | None:
        """The cells the transition invariants read of a step that takes one of the ``local`` actions, or None where their verdict on such a
        step depends on which one it takes.

        Each invariant is read where frame t is frame t-1 but for the cells
        a local action writes (and the history cells, which a step that is no
        API write leaves at 0) and with each local action in the step's
        place; where those readings are one term (False, for an invariant
        about API writes, such as ``rs-no-overshoot``, which asks whether the
        step is a ReplicaSetWrite, or ``no-eviction-storm``, which asks
        whether it adds a taint), the pair's order cannot change the verdict.
        """
        written = frozenset().union(*(fp.writes for fp in local.values()))
        stutter = [(u[t][c.name], c.literal(0) if c.history else u[t - 1][c.name]) for c in self.cells if c.history or c.name not in written]
        names = _Names()
        out: set[str] = set()
        for inv in self.invariants:
            if INVARIANTS[inv.name].kind != TRANSITION:
                continue
            bad = z3.substitute(inv.bad(u, t), *stutter)
            chosen = [(u.choices[t - 1], z3.IntVal(i)) for i in sorted(local)] if "action" in names.of([bad]) else []
            readings = [z3.simplify(z3.substitute(bad, c)) for c in chosen] or [z3.simplify(bad)]
            if any(not r.eq(readings[0]) for r in readings) or "action" in (read := names.of(readings[:1])):
                return None
            out |= read
        return frozenset(out)
